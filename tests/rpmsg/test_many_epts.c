/* 4,096 endpoints on each side: allocation, dispatch through the address
 * hash (and without it), destruction, unknown destinations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/port_loopback.h"

#define N 4096

static struct al_loopback lb;
static _Alignas(64) uint8_t mem[64 * 1024];
static struct rpmsg_endpoint *dev_epts, *host_epts;
static struct rpmsg_endpoint *dev_buckets[1024], *host_buckets[1024];
static uint32_t hits[N];
static uint32_t wrong;

static int cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src;
	uint32_t idx = (uint32_t)(uintptr_t)priv, v;
	if (len != 4)
		return wrong++, 0;
	memcpy(&v, data, 4);
	if (v != idx || ept != &dev_epts[idx])
		wrong++;
	else
		hits[idx]++;
	return RPMSG_SUCCESS;
}

static void run(bool hash)
{
	dev_epts = calloc(N, sizeof(*dev_epts));
	host_epts = calloc(N, sizeof(*host_epts));
	memset(hits, 0, sizeof(hits));
	wrong = 0;
	assert_int_equal(al_loopback_init(&lb, mem, sizeof(mem), NULL), 0);
	assert_int_equal(al_loopback_start(&lb, NULL, NULL), 0);
	struct rpmsg_device *dev = &lb.dev.rvdev.rdev, *host = &lb.drv.rvdev.rdev;
	if (hash) {
		assert_int_equal(al_set_addr_hash(dev, dev_buckets, 1024), 0);
		assert_int_equal(al_set_addr_hash(host, host_buckets, 1024), 0);
		assert_int_equal(al_set_addr_hash(host, host_buckets, 1000), AL_EINVAL);
	}
	al_loopback_pump(&lb, 0);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(rpmsg_create_ept(&dev_epts[i], dev, NULL, RPMSG_ADDR_ANY,
						  RPMSG_ADDR_ANY, cb, NULL),
				 0);
		dev_epts[i].priv = (void *)(uintptr_t)i;
		assert_int_equal(dev_epts[i].addr, 1024 + i); /* ANY allocates from 1024 up */
		assert_int_equal(rpmsg_create_ept(&host_epts[i], host, NULL, RPMSG_ADDR_ANY,
						  dev_epts[i].addr, cb, NULL),
				 0);
	}
	/* an explicit address that is taken */
	struct rpmsg_endpoint extra;
	assert_int_equal(rpmsg_create_ept(&extra, dev, NULL, 1024 + 77, RPMSG_ADDR_ANY, cb, NULL),
			 AL_EADDR);
	for (int round = 0; round < 2; round++)
		for (uint32_t i = 0; i < N; i++) {
			assert_int_equal(rpmsg_trysend(&host_epts[i], &i, 4), 4);
			if ((i & 7) == 7)
				al_loopback_pump(&lb, 0);
		}
	al_loopback_pump(&lb, 0);
	assert_int_equal(wrong, 0);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(hits[i], 2);
	/* destroy every other endpoint: their traffic is dropped and counted */
	for (uint32_t i = 0; i < N; i += 2)
		rpmsg_destroy_ept(&dev_epts[i]);
	struct rpmsg_stats before, after;
	al_get_stats(dev, &before);
	for (uint32_t i = 0; i < 64; i++) {
		assert_int_equal(rpmsg_trysend(&host_epts[i], &i, 4), 4);
		al_loopback_pump(&lb, 0);
	}
	al_loopback_pump(&lb, 0);
	al_get_stats(dev, &after);
	assert_int_equal(after.rx_unknown_dst - before.rx_unknown_dst, 32);
	assert_int_equal(wrong, 0);
	/* a freed address is allocated again */
	assert_int_equal(rpmsg_create_ept(&extra, dev, NULL, 1024 + 2, RPMSG_ADDR_ANY, cb, NULL),
			 0);
	rpmsg_destroy_ept(&extra);
	free(dev_epts);
	free(host_epts);
}

static void with_hash(void **s)
{
	(void)s;
	run(true);
}

static void with_list(void **s)
{
	(void)s;
	run(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(with_hash),
					   cmocka_unit_test(with_list)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
