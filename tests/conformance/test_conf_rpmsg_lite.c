/* Conformance of the RPMsg-Lite façade with RPMsg-Lite's documented
 * behaviour, call by call: before init, after deinit, bad arguments,
 * timeouts, address allocation, link up, queue size, configuration. Both
 * cores in one process (tests/lite/lite_harness.h); each case names the
 * RPMsg-Lite behaviour it checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "../lite/lite_harness.h"
#include "rpmsg_env.h"
#include "rpmsg_lite.h" /* RPMsg-Lite's include names (src/lite/compat) */
#include "rpmsg_ns.h"
#include "rpmsg_queue.h"

static _Alignas(64) unsigned char shm[AL_LITE_SHMEM_SIZE + 2 * RL_VRING_ALIGN];
static struct lh H;
static struct rpmsg_lite_instance mctx, rctx;

static int32_t rx_cb(void *payload, uint32_t len, uint32_t src, void *priv)
{
	(void)payload, (void)len, (void)src;
	if (priv)
		(*(int *)priv)++;
	return RL_RELEASE;
}

static void ns_cb(uint32_t new_ept, const char *name, uint32_t flags, void *user_data)
{
	(void)new_ept, (void)name, (void)flags, (void)user_data;
}

/* Remote at `off` bytes into shm, then the master, both up. */
static void link_at(size_t off, struct rpmsg_lite_instance **m, struct rpmsg_lite_instance **r)
{
	memset(shm, 0, sizeof(shm));
	assert_int_equal(lh_init(&H), RL_SUCCESS);
	/* the device address of shm + off, as the platform layer knows it */
	for (uint32_t link = 0; link < 2; link++)
		assert_int_equal(rpmsg_lite_set_platform(link, &lh_ops, &H.side[link], LH_DA + off),
				 RL_SUCCESS);
	*r = rpmsg_lite_remote_init_static(shm + off, 1, RL_NO_FLAGS, &rctx);
	assert_non_null(*r);
	H.side[1].rl = *r;
	*m = rpmsg_lite_master_init_static(shm + off, sizeof(shm) - off, 0, RL_NO_FLAGS, &mctx);
	assert_non_null(*m);
	H.side[0].rl = *m;
	lh_pump(&H);
	assert_int_equal(rpmsg_lite_is_link_up(*m), RL_TRUE);
	assert_int_equal(rpmsg_lite_is_link_up(*r), RL_TRUE);
}

/* ---- before init ------------------------------------------------------------- */

/* An instance never initialised: alloc_tx_buffer sets *size = 0 and
 * returns RL_NULL, sends return RL_NOT_READY, deinit RL_ERR_PARAM; nothing
 * dereferences the missing port. */
static void before_init(void **state)
{
	(void)state;
	static struct rpmsg_lite_instance never; /* zeroed, as static storage is */
	static struct rpmsg_lite_endpoint ept;
	uint32_t size = 123;
	assert_null(rpmsg_lite_alloc_tx_buffer(&never, &size, RL_BLOCK));
	assert_int_equal(size, 0);
	assert_int_equal(rpmsg_lite_send(&never, &ept, 1024, "x", 1, RL_BLOCK), RL_NOT_READY);
	assert_int_equal(rpmsg_lite_send_nocopy(&never, &ept, 1024, "x", 1), RL_NOT_READY);
	assert_int_equal(rpmsg_lite_is_link_up(&never), RL_FALSE);
	assert_int_equal(rpmsg_lite_wait_for_link_up(&never, 5), RL_FALSE);
	assert_int_equal(rpmsg_lite_isr(&never), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_release_rx_buffer(&never, "x"), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(&never), RL_NOT_READY);
	static struct rpmsg_lite_ept_static_context c;
	assert_null(rpmsg_lite_create_ept_static(&never, RL_ADDR_ANY, rx_cb, NULL, &c));
	static rpmsg_ns_static_context nsc;
	assert_null(rpmsg_ns_bind_static(&never, ns_cb, NULL, &nsc));
	assert_int_equal(rpmsg_lite_deinit(&never), RL_ERR_PARAM);
	/* NULL: RL_ERR_PARAM / RL_NULL */
	assert_int_equal(rpmsg_lite_send(NULL, &ept, 1024, "x", 1, 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_deinit(NULL), RL_ERR_PARAM);
}

/* ---- after deinit ------------------------------------------------------------- */

static void after_deinit(void **state)
{
	(void)state;
	struct rpmsg_lite_instance *m, *r;
	link_at(0, &m, &r);
	static struct rpmsg_lite_ept_static_context c;
	struct rpmsg_lite_endpoint *e =
	    rpmsg_lite_create_ept_static(r, RL_ADDR_ANY, rx_cb, NULL, &c);
	assert_non_null(e);
	assert_int_equal(rpmsg_lite_deinit(r), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(r), RL_ERR_PARAM); /* a second deinit */
	assert_int_equal(rpmsg_lite_is_link_up(r), RL_FALSE);
	assert_int_equal(rpmsg_lite_send(r, e, 1024, "x", 1, 0), RL_NOT_READY);
	uint32_t size = 1;
	assert_null(rpmsg_lite_alloc_tx_buffer(r, &size, 0));
	assert_int_equal(size, 0);
	assert_int_equal(rpmsg_lite_isr(r), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_deinit(m), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(m), RL_ERR_PARAM);
}

/* ---- bad arguments -------------------------------------------------------------- */

static void bad_arguments(void **state)
{
	(void)state;
	struct rpmsg_lite_instance *m, *r;
	link_at(0, &m, &r);
	static struct rpmsg_lite_ept_static_context c;
	struct rpmsg_lite_endpoint *e =
	    rpmsg_lite_create_ept_static(r, RL_ADDR_ANY, rx_cb, NULL, &c);
	char big[RL_BUFFER_PAYLOAD_SIZE + 1] = {0};
	/* RPMsg-Lite's order: endpoint, size, link, the rest */
	assert_int_equal(rpmsg_lite_send(r, NULL, 1024, big, 1, 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_send(r, e, 1024, big, sizeof(big), 0), RL_ERR_BUFF_SIZE);
	assert_int_equal(rpmsg_lite_send(r, e, 1024, NULL, 1, 0), RL_ERR_PARAM);
	assert_null(rpmsg_lite_create_ept_static(r, RL_ADDR_ANY, NULL, NULL, &c));
	assert_null(rpmsg_lite_alloc_tx_buffer(r, NULL, 0));
	assert_int_equal(rpmsg_lite_deinit(m), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(r), RL_SUCCESS);
}

/* ---- address allocation ---------------------------------------------------------- */

/* RL_ADDR_ANY: the lowest free address from 1 (53, the name service's,
 * skipped); a taken address is refused before the caller's storage is
 * written. */
static void lowest_free_address(void **state)
{
	(void)state;
	struct rpmsg_lite_instance *m, *r;
	link_at(0, &m, &r);
	static struct rpmsg_lite_ept_static_context c[4], dup;
	struct rpmsg_lite_endpoint *e[4];
	for (int i = 0; i < 3; i++) {
		e[i] = rpmsg_lite_create_ept_static(r, RL_ADDR_ANY, rx_cb, NULL, &c[i]);
		assert_non_null(e[i]);
		assert_int_equal(e[i]->addr, 1u + (uint32_t)i);
	}
	assert_int_equal(rpmsg_lite_destroy_ept(r, e[1]), RL_SUCCESS);
	e[3] = rpmsg_lite_create_ept_static(r, RL_ADDR_ANY, rx_cb, NULL, &c[3]);
	assert_int_equal(e[3]->addr, 2u); /* the freed one, not 4 */
	memset(&dup, 0xA5, sizeof(dup));
	assert_null(rpmsg_lite_create_ept_static(r, 3, rx_cb, NULL, &dup));
	for (size_t i = 0; i < sizeof(dup); i++)
		assert_int_equal(((unsigned char *)&dup)[i], 0xA5);
	assert_int_equal(rpmsg_lite_deinit(m), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(r), RL_SUCCESS);
}

/* ---- link up / down --------------------------------------------------------------- */

/* A remote that looks only after the master started and stopped still
 * comes up (RPMsg-Lite's remote goes up on the master's doorbell and stays
 * up), and a waiting remote with a timeout gives up in time. */
static void link_up_after_master_stopped(void **state)
{
	(void)state;
	memset(shm, 0, sizeof(shm));
	assert_int_equal(lh_init(&H), RL_SUCCESS);
	struct rpmsg_lite_instance *r = rpmsg_lite_remote_init_static(shm, 1, RL_NO_FLAGS, &rctx);
	assert_non_null(r);
	uint64_t t0 = H.now;
	assert_int_equal(rpmsg_lite_wait_for_link_up(r, 20), RL_FALSE);
	assert_true(H.now - t0 >= 20);
	struct rpmsg_lite_instance *m =
	    rpmsg_lite_master_init_static(shm, sizeof(shm), 0, RL_NO_FLAGS, &mctx);
	assert_non_null(m);
	assert_int_equal(rpmsg_lite_deinit(m), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_wait_for_link_up(r, RL_BLOCK), RL_TRUE);
	assert_int_equal(rpmsg_lite_is_link_up(r), RL_TRUE);
	assert_int_equal(rpmsg_lite_deinit(r), RL_SUCCESS);
}

/* ---- configuration ------------------------------------------------------------------ */

/* A region that is not word-aligned is rounded up, as RPMsg-Lite does (to
 * the vring alignment: amplink's layout starts with vring-aligned parts). */
static void unaligned_region_rounded_up(void **state)
{
	(void)state;
	struct rpmsg_lite_instance *m, *r;
	link_at(1, &m, &r);
	static struct rpmsg_lite_ept_static_context rc, mc;
	int got = 0;
	struct rpmsg_lite_endpoint *re = rpmsg_lite_create_ept_static(r, 30, rx_cb, &got, &rc);
	struct rpmsg_lite_endpoint *me = rpmsg_lite_create_ept_static(m, 40, rx_cb, NULL, &mc);
	assert_int_equal(rpmsg_lite_send(m, me, re->addr, "hi", 2, RL_DONT_BLOCK), RL_SUCCESS);
	lh_pump(&H);
	assert_int_equal(got, 1);
	assert_int_equal(rpmsg_lite_deinit(m), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(r), RL_SUCCESS);
}

/* The queue holds two entries per ring entry, as RPMsg-Lite's; a receive
 * with a timeout returns RL_ERR_NO_BUFF when nothing came. */
static void queue_size_and_timeout(void **state)
{
	(void)state;
	_Static_assert(RL_ENV_QUEUE_STATIC_STORAGE_SIZE ==
			   2U * RL_BUFFER_COUNT * sizeof(rpmsg_queue_rx_cb_data_t),
		       "2 x ring entries");
	struct rpmsg_lite_instance *m, *r;
	link_at(0, &m, &r);
	static uint8_t storage[RL_ENV_QUEUE_STATIC_STORAGE_SIZE];
	static rpmsg_static_queue_ctxt qc;
	rpmsg_queue_handle q = rpmsg_queue_create_static(r, storage, &qc);
	assert_non_null(q);
	assert_int_equal(((struct rpmsg_queue *)q)->capacity, 2U * RL_BUFFER_COUNT);
	char buf[8];
	uint32_t src, len;
	uint64_t t0 = H.now;
	assert_int_equal(rpmsg_queue_recv(r, q, &src, buf, sizeof(buf), &len, 30), RL_ERR_NO_BUFF);
	assert_true(H.now - t0 >= 30);
	assert_int_equal(rpmsg_queue_destroy(r, q), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(m), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(r), RL_SUCCESS);
}

/* RPMsg-Lite's environment queue: fixed-size elements, FIFO, full and
 * empty answered with 0; an rpmsg_queue is one. */
static void env_queue(void **state)
{
	(void)state;
	void *q = NULL;
	assert_int_equal(env_create_queue(&q, 3, 8), 0);
	assert_non_null(q);
	assert_int_equal(env_create_queue(&q, 0, 8), -1);
	char in[8] = "elem-0", out[8];
	for (int i = 0; i < 3; i++) {
		in[5] = (char)('0' + i);
		assert_int_equal(env_put_queue(q, in, RL_DONT_BLOCK), 1);
	}
	assert_int_equal(env_put_queue(q, in, RL_DONT_BLOCK), 0); /* full */
	assert_int_equal(env_get_current_queue_size(q), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(env_get_queue(q, out, RL_DONT_BLOCK), 1);
		assert_int_equal(out[5], '0' + i);
	}
	assert_int_equal(env_get_queue(q, out, 10), 0); /* empty (no clock here) */
	env_delete_queue(q);
	static uint8_t storage[4 * 4];
	static rpmsg_static_queue_ctxt ctx;
	assert_int_equal(al_env_create_queue_static(&q, 4, 4, storage, &ctx), 0);
	uint32_t v = 7, w = 0;
	assert_int_equal(env_put_queue(q, &v, 0), 1);
	assert_int_equal(env_get_queue(q, &w, 0), 1);
	assert_int_equal(w, 7);
	env_delete_queue(q);

	/* an rpmsg_queue read as an environment queue */
	struct rpmsg_lite_instance *m, *r;
	link_at(0, &m, &r);
	static uint8_t qs[RL_ENV_QUEUE_STATIC_STORAGE_SIZE];
	static rpmsg_static_queue_ctxt qc;
	static struct rpmsg_lite_ept_static_context rc, mc;
	rpmsg_queue_handle rq = rpmsg_queue_create_static(r, qs, &qc);
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(r, 30, rpmsg_queue_rx_cb, rq, &rc);
	struct rpmsg_lite_endpoint *me = rpmsg_lite_create_ept_static(m, 40, rx_cb, NULL, &mc);
	assert_int_equal(rpmsg_lite_send(m, me, re->addr, "hi", 3, RL_DONT_BLOCK), RL_SUCCESS);
	lh_pump(&H);
	assert_int_equal(env_get_current_queue_size(rq), 1);
	rpmsg_queue_rx_cb_data_t msg;
	assert_int_equal(env_get_queue(rq, &msg, RL_DONT_BLOCK), 1);
	assert_int_equal(msg.src, 40);
	assert_int_equal(msg.len, 3);
	assert_string_equal((char *)msg.data, "hi");
	assert_int_equal(rpmsg_queue_nocopy_free(r, msg.data), RL_SUCCESS);
	assert_int_equal(rpmsg_queue_destroy(r, rq), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(m), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(r), RL_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(before_init),
	    cmocka_unit_test(after_deinit),
	    cmocka_unit_test(bad_arguments),
	    cmocka_unit_test(lowest_free_address),
	    cmocka_unit_test(link_up_after_master_stopped),
	    cmocka_unit_test(unaligned_region_rounded_up),
	    cmocka_unit_test(queue_size_and_timeout),
	    cmocka_unit_test(env_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
