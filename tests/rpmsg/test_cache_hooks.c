/* Non-coherent memory: the core cleans what it published before every
 * doorbell and invalidates the ring before reading what the peer wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/port_loopback.h"

static struct al_loopback lb;
static _Alignas(64) uint8_t mem[64 * 1024];
static struct rpmsg_endpoint host_ept, dev_ept;
static int flushes, invalidates, notifies_after_flush, notifies, got;
static int flushed_since_notify, ring_invalidates;

/* Does [va, va+len) cover the start of either vring (descriptors, then the
 * avail and used rings with their indices)? */
static int covers_ring(const void *va, size_t len)
{
	for (int i = 0; i < 2; i++) {
		const uint8_t *r = al_shm_da_to_va(&lb.shm, lb.layout.vring_da[i], 1);
		if ((const uint8_t *)va <= r && r < (const uint8_t *)va + len)
			return 1;
	}
	return 0;
}

static void c_flush(void *ctx, const void *va, size_t len)
{
	(void)ctx;
	assert_true((const uint8_t *)va >= mem && (const uint8_t *)va + len <= mem + sizeof(mem));
	flushes++;
	if (covers_ring(va, len))
		flushed_since_notify = 1;
}
static void c_invalidate(void *ctx, const void *va, size_t len)
{
	(void)ctx;
	assert_true((const uint8_t *)va >= mem && (const uint8_t *)va + len <= mem + sizeof(mem));
	invalidates++;
	ring_invalidates += covers_ring(va, len);
}
static void c_notify(void *ctx, uint32_t id)
{
	notifies++;
	notifies_after_flush += flushed_since_notify;
	flushed_since_notify = 0;
	al_loopback_ops.notify(ctx, id);
}
static int cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)data, (void)len, (void)src, (void)priv;
	got++;
	return RPMSG_SUCCESS;
}

static void hooks_called(void **s)
{
	(void)s;
	static struct al_port_ops ops;
	ops = al_loopback_ops;
	ops.notify = c_notify;
	ops.cache_flush = c_flush;
	ops.cache_invalidate = c_invalidate;
	assert_int_equal(al_loopback_init(&lb, mem, sizeof(mem), NULL), 0);
	lb.drv.vdev.ops = lb.dev.vdev.ops = &ops;
	assert_int_equal(al_loopback_start(&lb, NULL, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&dev_ept, &lb.dev.rvdev.rdev, NULL, 0x500, 0x600, cb, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&host_ept, &lb.drv.rvdev.rdev, NULL, 0x600, 0x500, cb, NULL), 0);
	al_loopback_pump(&lb, 0);
	int inv0 = ring_invalidates;
	for (int i = 0; i < 50; i++) {
		assert_int_equal(rpmsg_trysend(&host_ept, "ping", 4), 4);
		assert_int_equal(rpmsg_trysend(&dev_ept, "pong", 4), 4);
		al_loopback_pump(&lb, 0);
	}
	assert_int_equal(got, 100);
	assert_true(flushes > 0);
	assert_true(invalidates - inv0 >= 100);		  /* at least once per message read */
	assert_int_equal(notifies_after_flush, notifies); /* never a doorbell before a clean */
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(hooks_called)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
