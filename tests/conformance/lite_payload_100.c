/* The RPMsg-Lite façade built with a payload size that is not 2^n - 16
 * (RPMsg-Lite accepts any size) and with the application's own allocator
 * hooks (RPMsg-Lite's env_allocate_memory / env_free_memory) instead of
 * amplink's defaults: both as an RPMsg-Lite port has them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "../lite/lite_harness.h"
#include "rpmsg_env.h"
#include "rpmsg_lite.h"

_Static_assert(RL_BUFFER_PAYLOAD_SIZE == 100U, "built with a payload of 100 bytes");

static int allocated, freed;

void *env_allocate_memory(uint32_t size)
{
	allocated++;
	return malloc(size);
}

void env_free_memory(void *ptr)
{
	if (ptr)
		freed++;
	free(ptr);
}

static _Alignas(64) unsigned char shm[AL_LITE_SHMEM_SIZE];
static struct lh H;

struct got {
	int n;
	uint32_t len;
};

static int32_t rx_cb(void *payload, uint32_t len, uint32_t src, void *priv)
{
	(void)payload, (void)src;
	struct got *g = priv;
	g->n++;
	g->len = len;
	return RL_RELEASE;
}

static void any_payload_size_and_env_allocator(void **state)
{
	(void)state;
	assert_int_equal(lh_init(&H), RL_SUCCESS);
	struct rpmsg_lite_instance *r = rpmsg_lite_remote_init(shm, 1, RL_NO_FLAGS);
	assert_non_null(r);
	H.side[1].rl = r;
	struct rpmsg_lite_instance *m = rpmsg_lite_master_init(shm, sizeof(shm), 0, RL_NO_FLAGS);
	assert_non_null(m);
	H.side[0].rl = m;
	lh_pump(&H);
	assert_int_equal(allocated, 2); /* both instances through the hook */
	struct got g = {0};
	struct rpmsg_lite_endpoint *re = rpmsg_lite_create_ept(r, 30, rx_cb, &g);
	struct rpmsg_lite_endpoint *me = rpmsg_lite_create_ept(m, 40, rx_cb, NULL);
	assert_non_null(re);
	assert_non_null(me);
	assert_int_equal(allocated, 4);
	char big[101] = {0};
	assert_int_equal(rpmsg_lite_send(m, me, 30, big, 100, RL_DONT_BLOCK), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_send(m, me, 30, big, 101, RL_DONT_BLOCK), RL_ERR_BUFF_SIZE);
	lh_pump(&H);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len, 100);
	uint32_t size = 0;
	void *b = rpmsg_lite_alloc_tx_buffer(m, &size, RL_DONT_BLOCK);
	assert_non_null(b);
	assert_int_equal(size, 100); /* what RPMsg-Lite reports, whatever the layout rounds */
	assert_int_equal(rpmsg_lite_send_nocopy(m, me, 30, b, size), RL_SUCCESS);
	lh_pump(&H);
	assert_int_equal(g.n, 2);
	assert_int_equal(rpmsg_lite_destroy_ept(r, re), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_destroy_ept(m, me), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(m), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(r), RL_SUCCESS);
	assert_int_equal(freed, allocated);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(any_payload_size_and_env_allocator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
