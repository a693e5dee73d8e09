/* RPMsg-Lite-style API between a façade master and a façade remote: link-up,
 * the seed flow (announce, bind, echo), zero-copy, queues, name service,
 * and the documented errors and timeouts (simulated clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "amplink/layout.h"
#include "amplink/rpmsg_lite.h"
#include "amplink/rpmsg_ns.h"
#include "amplink/rpmsg_queue.h"
#include "lite_harness.h"

_Static_assert(RL_BUFFER_COUNT >= 2, "the tests exhaust and refill rings of at least 2");

static _Alignas(64) unsigned char shm[AL_LITE_SHMEM_SIZE];

static struct {
	struct lh h;
	struct rpmsg_lite_instance mctx, rctx;
	struct rpmsg_lite_instance *m, *r;
} F;

/* ---- helpers ---------------------------------------------------------------- */

struct rec {
	int n;
	uint32_t src, len;
	char data[RL_BUFFER_PAYLOAD_SIZE];
	int32_t ret; /* what the callback returns */
	void *held[2 * RL_BUFFER_COUNT];
	int nheld;
};

static int32_t rec_cb(void *payload, uint32_t len, uint32_t src, void *priv)
{
	struct rec *r = priv;
	r->n++;
	r->src = src;
	r->len = len;
	memcpy(r->data, payload, len);
	if (r->ret == RL_HOLD)
		r->held[r->nheld++] = payload;
	return r->ret;
}

struct echo {
	struct rpmsg_lite_instance *rl;
	struct rpmsg_lite_endpoint *ept;
	int n;
	int32_t rc;
};

static int32_t echo_cb(void *payload, uint32_t len, uint32_t src, void *priv)
{
	struct echo *e = priv;
	e->n++;
	e->rc = rpmsg_lite_send(e->rl, e->ept, src, payload, len, RL_DONT_BLOCK);
	return RL_RELEASE;
}

struct nsrec {
	int n;
	uint32_t addr, flags;
	char name[RL_NS_NAME_SIZE];
};

static void ns_cb(uint32_t new_ept, const char *name, uint32_t flags, void *user_data)
{
	struct nsrec *r = user_data;
	r->n++;
	r->addr = new_ept;
	r->flags = flags;
	snprintf(r->name, sizeof(r->name), "%s", name);
}

static struct rpmsg_stats stats_of(struct rpmsg_lite_instance *rl)
{
	struct rpmsg_stats st;
	al_get_stats(rpmsg_virtio_get_rpmsg_device(rpmsg_lite_rvdev(rl)), &st);
	return st;
}

static void start_remote(void)
{
	memset(shm, 0, sizeof(shm));
	assert_int_equal(lh_init(&F.h), RL_SUCCESS);
	F.r = rpmsg_lite_remote_init_static(shm, 1, RL_NO_FLAGS, &F.rctx);
	assert_ptr_equal(F.r, &F.rctx);
	F.h.side[1].rl = F.r;
	F.m = NULL;
}

static void start_master(void)
{
	F.m = rpmsg_lite_master_init_static(shm, sizeof(shm), 0, RL_NO_FLAGS, &F.mctx);
	assert_ptr_equal(F.m, &F.mctx);
	F.h.side[0].rl = F.m;
	lh_pump(&F.h);
	assert_int_equal(rpmsg_lite_is_link_up(F.m), RL_TRUE);
	assert_int_equal(rpmsg_lite_is_link_up(F.r), RL_TRUE);
}

static int setup_link(void **state)
{
	(void)state;
	start_remote();
	start_master();
	return 0;
}

static int teardown_link(void **state)
{
	(void)state;
	if (F.m)
		rpmsg_lite_deinit(F.m);
	if (F.r)
		rpmsg_lite_deinit(F.r);
	F.m = F.r = NULL;
	return 0;
}

/* ---- link-up and init --------------------------------------------------------- */

static void link_up(void **state)
{
	(void)state;
	start_remote();
	/* the remote returns at once, link down */
	assert_int_equal(rpmsg_lite_is_link_up(F.r), RL_FALSE);
	uint32_t waits = F.h.side[1].waits;
	uint64_t t0 = F.h.now;
	assert_int_equal(rpmsg_lite_wait_for_link_up(F.r, RL_DONT_BLOCK), RL_FALSE);
	assert_int_equal(F.h.side[1].waits, waits); /* 0: looked, never waited */
	assert_true(F.h.now == t0);
	assert_int_equal(rpmsg_lite_wait_for_link_up(F.r, 5), RL_FALSE);
	assert_true(F.h.now - t0 >= 5 && F.h.now - t0 < 15);

	/* the master is up on return and rings the remote ... */
	F.m = rpmsg_lite_master_init_static(shm, sizeof(shm), 0, RL_NO_FLAGS, &F.mctx);
	assert_non_null(F.m);
	F.h.side[0].rl = F.m;
	assert_int_equal(rpmsg_lite_is_link_up(F.m), RL_TRUE);
	assert_int_equal(rpmsg_lite_is_link_up(F.r), RL_FALSE);
	assert_true(F.h.side[1].pending > 0);
	/* ... whose doorbell handler brings it up */
	lh_pump(&F.h);
	assert_int_equal(rpmsg_lite_is_link_up(F.r), RL_TRUE);
	assert_int_equal(rpmsg_lite_wait_for_link_up(F.r, RL_BLOCK), RL_TRUE);
	teardown_link(NULL);

	/* a remote that missed the doorbell: wait_for_link_up polls the status */
	start_remote();
	F.m = rpmsg_lite_master_init_static(shm, sizeof(shm), 0, RL_NO_FLAGS, &F.mctx);
	assert_non_null(F.m);
	F.h.side[1].pending = 0;
	assert_int_equal(rpmsg_lite_is_link_up(F.r), RL_FALSE);
	assert_int_equal(rpmsg_lite_wait_for_link_up(F.r, RL_BLOCK), RL_TRUE);
	assert_int_equal(rpmsg_lite_is_link_up(F.r), RL_TRUE);
	assert_int_equal(rpmsg_lite_is_link_up(NULL), RL_FALSE);
	assert_int_equal(rpmsg_lite_wait_for_link_up(NULL, 0), RL_FALSE);
	teardown_link(NULL);
}

static void init_errors(void **state)
{
	(void)state;
	memset(shm, 0, sizeof(shm));
	assert_int_equal(lh_init(&F.h), RL_SUCCESS);
	struct al_port_ops no_notify = {0};
	assert_int_equal(
	    rpmsg_lite_set_platform(RL_PLATFORM_HIGHEST_LINK_ID + 1, &lh_ops, NULL, LH_DA),
	    RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_set_platform(0, &no_notify, NULL, LH_DA), RL_ERR_PARAM);

	/* the master reads the table the remote writes: none yet */
	assert_null(rpmsg_lite_master_init_static(shm, sizeof(shm), 0, RL_NO_FLAGS, &F.mctx));
	/* unknown or unregistered link, NULL address or storage */
	assert_null(
	    rpmsg_lite_remote_init_static(shm, RL_PLATFORM_HIGHEST_LINK_ID + 1, 0, &F.rctx));
	assert_int_equal(rpmsg_lite_set_platform(1, NULL, NULL, 0), RL_SUCCESS);
	assert_null(rpmsg_lite_remote_init_static(shm, 1, 0, &F.rctx));
	assert_int_equal(lh_init(&F.h), RL_SUCCESS);
	assert_null(rpmsg_lite_remote_init_static(NULL, 1, 0, &F.rctx));
	assert_null(rpmsg_lite_remote_init_static(shm, 1, 0, NULL));
	assert_null(rpmsg_lite_master_init_static(NULL, sizeof(shm), 0, 0, &F.mctx));

	F.r = rpmsg_lite_remote_init_static(shm, 1, 0, &F.rctx);
	assert_non_null(F.r);
	/* region too small; device address not aligned to RL_VRING_ALIGN */
	assert_null(rpmsg_lite_master_init_static(shm, AL_LITE_SHMEM_SIZE - 1, 0, 0, &F.mctx));
	assert_int_equal(rpmsg_lite_set_platform(0, &lh_ops, &F.h.side[0], LH_DA + 8), RL_SUCCESS);
	assert_null(rpmsg_lite_master_init_static(shm, sizeof(shm), 0, 0, &F.mctx));

	/* AL_LITE_SHMEM_SIZE is what the layout plan needs */
	struct al_layout_cfg cfg = {RL_BUFFER_COUNT, RL_VRING_ALIGN, RL_BUFFER_SIZE,
				    RL_VDEV_FEATURES};
	struct al_layout lay;
	assert_int_equal(al_layout_plan(&cfg, LH_DA, SIZE_MAX, &lay), 0);
	assert_int_equal(lay.total, AL_LITE_SHMEM_SIZE);

	assert_int_equal(rpmsg_lite_deinit(F.r), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(NULL), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_isr(NULL), RL_ERR_PARAM);
	F.r = NULL;
}

/* ---- the seed flow ---------------------------------------------------------------- */

static void seed_flow_copy(void **state)
{
	(void)state;
	static struct rpmsg_lite_ept_static_context rctx, mctx;
	static rpmsg_ns_static_context nsc;
	struct nsrec ns = {0};
	struct echo e = {.rl = F.r};
	struct rec rec = {.ret = RL_RELEASE};

	assert_non_null(rpmsg_ns_bind_static(F.m, ns_cb, &ns, &nsc));
	e.ept = rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, echo_cb, &e, &rctx);
	assert_non_null(e.ept);
	assert_true(e.ept->addr >= 1 && e.ept->addr != RL_NS_EPT_ADDR &&
		    e.ept->addr != RL_ADDR_ANY);
	assert_int_equal(rpmsg_ns_announce(F.r, e.ept, "rpmsg-lite-seed", RL_NS_CREATE),
			 RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(ns.n, 1);
	assert_int_equal(ns.addr, e.ept->addr);
	assert_int_equal(ns.flags, RL_NS_CREATE);
	assert_string_equal(ns.name, "rpmsg-lite-seed");

	struct rpmsg_lite_endpoint *me =
	    rpmsg_lite_create_ept_static(F.m, RL_ADDR_ANY, rec_cb, &rec, &mctx);
	assert_non_null(me);
	for (int i = 0; i < 4 * (int)RL_BUFFER_COUNT; i++) {
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "hello there %d!", i);
		assert_int_equal(
		    rpmsg_lite_send(F.m, me, ns.addr, msg, (uint32_t)len + 1, RL_BLOCK),
		    RL_SUCCESS);
		lh_pump(&F.h);
		assert_int_equal(e.rc, RL_SUCCESS);
		assert_int_equal(rec.n, i + 1);
		assert_int_equal(rec.src, e.ept->addr);
		assert_int_equal(rec.len, (uint32_t)len + 1);
		assert_string_equal(rec.data, msg);
	}
	/* a full payload of RL_BUFFER_PAYLOAD_SIZE bytes fits */
	char big[RL_BUFFER_PAYLOAD_SIZE];
	memset(big, 0x5A, sizeof(big));
	assert_int_equal(rpmsg_lite_send(F.m, me, ns.addr, big, sizeof(big), RL_DONT_BLOCK),
			 RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(rec.len, sizeof(big));
	assert_memory_equal(rec.data, big, sizeof(big));

	assert_int_equal(rpmsg_lite_destroy_ept(F.r, e.ept), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_destroy_ept(F.m, me), RL_SUCCESS);
}

/* ---- zero copy ---------------------------------------------------------------------- */

static void zero_copy(void **state)
{
	(void)state;
	static struct rpmsg_lite_ept_static_context rctx, mctx;
	struct rec held = {.ret = RL_HOLD}, got = {.ret = RL_RELEASE};
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, rec_cb, &held, &rctx);
	struct rpmsg_lite_endpoint *me =
	    rpmsg_lite_create_ept_static(F.m, RL_ADDR_ANY, rec_cb, &got, &mctx);
	assert_non_null(re);
	assert_non_null(me);
	uint32_t size;

	/* RL_HOLD keeps every receive buffer: the master runs dry */
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), RL_BUFFER_COUNT);
	for (unsigned i = 0; i < RL_BUFFER_COUNT; i++) {
		assert_int_equal(rpmsg_lite_send(F.m, me, re->addr, "held", 5, RL_DONT_BLOCK),
				 RL_SUCCESS);
		lh_pump(&F.h);
	}
	assert_int_equal(held.nheld, RL_BUFFER_COUNT);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), 0);
	assert_int_equal(rpmsg_lite_send(F.m, me, re->addr, "x", 1, RL_DONT_BLOCK), RL_ERR_NO_MEM);
	size = 123;
	assert_null(rpmsg_lite_alloc_tx_buffer(F.m, &size, RL_DONT_BLOCK));
	assert_int_equal(size, 0);

	/* releasing gives them back, once each */
	assert_string_equal((char *)held.held[0], "held");
	assert_int_equal(rpmsg_lite_release_rx_buffer(F.r, held.held[0]), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_release_rx_buffer(F.r, held.held[0]), RL_ERR_PARAM);
	lh_pump(&F.h);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), 1);
	for (unsigned i = 1; i < RL_BUFFER_COUNT; i++)
		assert_int_equal(rpmsg_lite_release_rx_buffer(F.r, held.held[i]), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), RL_BUFFER_COUNT);
	char local[8];
	assert_int_equal(rpmsg_lite_release_rx_buffer(F.r, local), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_release_rx_buffer(F.r, NULL), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_release_rx_buffer(NULL, held.held[0]), RL_ERR_PARAM);

	/* zero-copy send from the remote, a full payload */
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.r), RL_BUFFER_COUNT);
	char *tx = rpmsg_lite_alloc_tx_buffer(F.r, &size, RL_DONT_BLOCK);
	assert_non_null(tx);
	assert_int_equal(size, RL_BUFFER_PAYLOAD_SIZE);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.r), RL_BUFFER_COUNT - 1);
	for (uint32_t i = 0; i < size; i++)
		tx[i] = (char)(i * 7u);
	assert_int_equal(rpmsg_lite_send_nocopy(F.r, re, me->addr, tx, size + 1), RL_ERR_BUFF_SIZE);
	assert_int_equal(rpmsg_lite_send_nocopy(F.r, re, me->addr, tx, size), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.src, re->addr);
	assert_int_equal(got.len, RL_BUFFER_PAYLOAD_SIZE);
	assert_memory_equal(got.data, tx, size);
	/* gone: not the caller's any more */
	assert_int_equal(rpmsg_lite_send_nocopy(F.r, re, me->addr, tx, 4), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_send_nocopy(F.r, re, me->addr, local, 4), RL_ERR_PARAM);
	assert_int_equal(got.n, 1);

	/* the amplink extension gives an unsent buffer back */
	tx = rpmsg_lite_alloc_tx_buffer(F.r, &size, RL_BLOCK);
	assert_non_null(tx);
	assert_int_equal(rpmsg_lite_release_tx_buffer(F.r, tx), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_release_tx_buffer(F.r, tx), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.r), RL_BUFFER_COUNT);
	assert_null(rpmsg_lite_alloc_tx_buffer(F.r, NULL, RL_DONT_BLOCK));
	assert_null(rpmsg_lite_alloc_tx_buffer(NULL, &size, RL_DONT_BLOCK));
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(NULL), RL_ERR_PARAM);
}

/* ---- bad input ----------------------------------------------------------------------- */

static void bad_send(void **state)
{
	(void)state;
	static struct rpmsg_lite_ept_static_context rctx, mctx;
	struct rec got = {.ret = RL_RELEASE};
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, rec_cb, &got, &rctx);
	struct rpmsg_lite_endpoint *me =
	    rpmsg_lite_create_ept_static(F.m, RL_ADDR_ANY, rec_cb, &got, &mctx);
	char big[RL_BUFFER_PAYLOAD_SIZE + 1] = "too big";
	struct rpmsg_stats before = stats_of(F.r);
	uint32_t rung = F.h.side[0].rung;

	/* over the buffer size: RL_ERR_BUFF_SIZE, even with RL_BLOCK, nothing sent */
	assert_int_equal(rpmsg_lite_send(F.r, re, me->addr, big, sizeof(big), RL_BLOCK),
			 RL_ERR_BUFF_SIZE);
	assert_int_equal(rpmsg_lite_send(F.r, re, me->addr, big, 0xFFFFFFFFu, RL_BLOCK),
			 RL_ERR_BUFF_SIZE);
	/* bad arguments */
	assert_int_equal(rpmsg_lite_send(NULL, re, me->addr, big, 1, 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_send(F.r, NULL, me->addr, big, 1, 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_send(F.r, re, me->addr, NULL, 1, 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_send(F.r, re, RL_ADDR_ANY, big, 1, 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_send(F.m, re, me->addr, big, 1, 0),
			 RL_ERR_PARAM); /* other link */
	assert_int_equal(rpmsg_lite_send_nocopy(F.r, NULL, me->addr, big, 1), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_send_nocopy(F.r, re, me->addr, NULL, 1), RL_ERR_PARAM);
	/* a destroyed endpoint */
	assert_int_equal(rpmsg_lite_destroy_ept(F.r, re), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_send(F.r, re, me->addr, big, 1, RL_BLOCK), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_destroy_ept(F.r, re), RL_ERR_PARAM);
	uint32_t size;
	char *tx = rpmsg_lite_alloc_tx_buffer(F.r, &size, RL_DONT_BLOCK);
	assert_non_null(tx);
	assert_int_equal(rpmsg_lite_send_nocopy(F.r, re, me->addr, tx, 1), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_release_tx_buffer(F.r, tx), RL_SUCCESS);

	/* none of it reached the ring or rang the master */
	struct rpmsg_stats after = stats_of(F.r);
	assert_int_equal(after.tx_msgs, before.tx_msgs);
	assert_int_equal(F.h.side[0].rung, rung);
	lh_pump(&F.h);
	assert_int_equal(got.n, 0);
	assert_int_equal(rpmsg_lite_destroy_ept(F.m, me), RL_SUCCESS);
}

static void send_before_link_up(void **state)
{
	(void)state;
	static struct rpmsg_lite_ept_static_context rctx;
	start_remote();
	/* endpoints can be created before the link is up ... */
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, echo_cb, NULL, &rctx);
	assert_non_null(re);
	/* ... but nothing can be sent */
	assert_int_equal(rpmsg_lite_send(F.r, re, 1024, "early", 6, RL_DONT_BLOCK), RL_NOT_READY);
	assert_int_equal(rpmsg_lite_send(F.r, re, 1024, "early", 6, 100), RL_NOT_READY);
	uint32_t size = 7;
	assert_null(rpmsg_lite_alloc_tx_buffer(F.r, &size, RL_DONT_BLOCK));
	assert_int_equal(size, 0);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.r), RL_NOT_READY);
	assert_int_equal(rpmsg_ns_announce(F.r, re, "early", RL_NS_CREATE), RL_NOT_READY);
	assert_int_equal(rpmsg_lite_isr(F.r), RL_NOT_READY);
	assert_int_equal(stats_of(F.r).tx_msgs, 0);
	assert_int_equal(F.h.side[0].rung, 0);
	assert_true(F.h.now == 0); /* RL_NOT_READY at once, no waiting */

	start_master();
	assert_int_equal(stats_of(F.m).rx_msgs, 0); /* nothing was queued early */
	assert_int_equal(rpmsg_lite_send(F.r, re, 1024, "late", 5, RL_DONT_BLOCK), RL_SUCCESS);
	teardown_link(NULL);
}

static void endpoints(void **state)
{
	(void)state;
	static struct rpmsg_lite_ept_static_context c[5];
	struct rec got = {.ret = RL_RELEASE};
	struct rpmsg_lite_endpoint *a = rpmsg_lite_create_ept_static(F.r, 30, rec_cb, &got, &c[0]);
	assert_non_null(a);
	assert_int_equal(a->addr, 30);
	assert_ptr_equal(a, &c[0].ept);
	assert_ptr_equal(a->rx_cb_data, &got);
	assert_null(rpmsg_lite_create_ept_static(F.r, 30, rec_cb, &got, &c[1])); /* taken */
	assert_null(rpmsg_lite_create_ept_static(F.r, RL_NS_EPT_ADDR, rec_cb, &got, &c[1]));
	assert_null(rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, NULL, &got, &c[1]));
	assert_null(rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, rec_cb, &got, NULL));
	assert_null(rpmsg_lite_create_ept_static(NULL, RL_ADDR_ANY, rec_cb, &got, &c[1]));
	struct rpmsg_lite_endpoint *b =
	    rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, rec_cb, &got, &c[1]);
	struct rpmsg_lite_endpoint *d =
	    rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, rec_cb, &got, &c[2]);
	assert_int_equal(b->addr, 1); /* RPMsg-Lite's lowest free address */
	assert_int_equal(d->addr, 2);
	assert_int_equal(rpmsg_lite_destroy_ept(F.m, b), RL_ERR_PARAM); /* not the master's */
	assert_int_equal(rpmsg_lite_destroy_ept(F.r, NULL), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_destroy_ept(F.r, b), RL_SUCCESS);

	/* messages to a destroyed endpoint are dropped and counted */
	struct rpmsg_lite_endpoint *me =
	    rpmsg_lite_create_ept_static(F.m, RL_ADDR_ANY, rec_cb, &got, &c[3]);
	uint32_t unknown = stats_of(F.r).rx_unknown_dst;
	assert_int_equal(rpmsg_lite_send(F.m, me, 1024, "gone", 5, RL_DONT_BLOCK), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_send(F.m, me, 30, "here", 5, RL_DONT_BLOCK), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(stats_of(F.r).rx_unknown_dst, unknown + 1);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.data, "here");
	assert_int_equal(got.src, me->addr);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), RL_BUFFER_COUNT);

	/* storage can be reused after destroy */
	struct rpmsg_lite_endpoint *b2 = rpmsg_lite_create_ept_static(F.r, 77, rec_cb, &got, &c[1]);
	assert_ptr_equal(b2, &c[1].ept);
	assert_int_equal(b2->addr, 77);
	rpmsg_lite_destroy_ept(F.r, a);
	rpmsg_lite_destroy_ept(F.r, b2);
	rpmsg_lite_destroy_ept(F.r, d);
	rpmsg_lite_destroy_ept(F.m, me);
}

/* ---- queues ---------------------------------------------------------------------------- */

static void queue_recv(void **state)
{
	(void)state;
	static rpmsg_static_queue_ctxt qc;
	uint8_t storage[RL_ENV_QUEUE_STATIC_STORAGE_SIZE + 1];
	static struct rpmsg_lite_ept_static_context rctx, mctx;
	/* any alignment of the storage */
	rpmsg_queue_handle q = rpmsg_queue_create_static(F.r, storage + 1, &qc);
	assert_non_null(q);
	assert_int_equal(rpmsg_queue_get_current_size(q), 0);
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, rpmsg_queue_rx_cb, q, &rctx);
	struct rec got = {.ret = RL_RELEASE};
	struct rpmsg_lite_endpoint *me =
	    rpmsg_lite_create_ept_static(F.m, RL_ADDR_ANY, rec_cb, &got, &mctx);

	assert_int_equal(rpmsg_lite_send(F.m, me, re->addr, "one", 4, 0), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_send(F.m, me, re->addr, "two-two", 8, 0), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(rpmsg_queue_get_current_size(q), 2);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), 0); /* held in the queue */

	char buf[8];
	uint32_t src = 0, len = 0;
	assert_int_equal(rpmsg_queue_recv(F.r, q, &src, buf, sizeof(buf), &len, RL_DONT_BLOCK),
			 RL_SUCCESS);
	assert_string_equal(buf, "one");
	assert_int_equal(len, 4);
	assert_int_equal(src, me->addr);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), 1); /* released */
	/* too small a buffer: nothing copied, length told, message consumed */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(rpmsg_queue_recv(F.r, q, NULL, buf, 3, &len, RL_DONT_BLOCK),
			 RL_ERR_BUFF_SIZE);
	assert_int_equal(len, 8);
	assert_int_equal(buf[0], 0);
	assert_int_equal(rpmsg_queue_get_current_size(q), 0);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), 2);

	/* zero copy: a pointer into the shared buffer, held until freed */
	assert_int_equal(rpmsg_lite_send(F.m, me, re->addr, "zc", 3, 0), RL_SUCCESS);
	lh_pump(&F.h);
	char *data = NULL;
	assert_int_equal(rpmsg_queue_recv_nocopy(F.r, q, &src, &data, &len, RL_DONT_BLOCK),
			 RL_SUCCESS);
	assert_true((unsigned char *)data > shm && (unsigned char *)data < shm + sizeof(shm));
	assert_string_equal(data, "zc");
	assert_int_equal(len, 3);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), 1);
	assert_int_equal(rpmsg_queue_nocopy_free(F.r, data), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), 2);
	assert_int_equal(rpmsg_queue_nocopy_free(F.r, data), RL_ERR_PARAM); /* twice */
	assert_int_equal(rpmsg_queue_nocopy_free(F.r, NULL), RL_ERR_PARAM);

	/* bad arguments */
	assert_int_equal(rpmsg_queue_recv(F.r, q, NULL, NULL, 8, NULL, 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_queue_recv(F.r, NULL, NULL, buf, 8, NULL, 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_queue_recv(F.m, q, NULL, buf, 8, NULL, 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_queue_recv_nocopy(F.r, q, NULL, NULL, NULL, 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_queue_get_current_size(NULL), RL_ERR_PARAM);
	assert_null(rpmsg_queue_create_static(F.r, NULL, &qc));
	assert_null(rpmsg_queue_create_static(NULL, storage, &qc));

	/* destroying a queue gives back what it still holds */
	assert_int_equal(rpmsg_lite_send(F.m, me, re->addr, "left", 5, 0), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), 1);
	assert_int_equal(rpmsg_lite_destroy_ept(F.r, re), RL_SUCCESS);
	assert_int_equal(rpmsg_queue_destroy(F.r, q), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), 2);
	assert_int_equal(rpmsg_queue_destroy(F.r, NULL), RL_ERR_PARAM);
	rpmsg_lite_destroy_ept(F.m, me);
}

static void queue_full_drops(void **state)
{
	(void)state;
	static rpmsg_static_queue_ctxt qc;
	uint8_t storage[sizeof(rpmsg_queue_rx_cb_data_t)];
	static struct rpmsg_lite_ept_static_context rctx, mctx;
	assert_null(al_rpmsg_queue_create_sized(F.r, storage, 0, &qc));
	rpmsg_queue_handle q = al_rpmsg_queue_create_sized(F.r, storage, 1, &qc);
	assert_non_null(q);
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, rpmsg_queue_rx_cb, q, &rctx);
	struct rec got = {.ret = RL_RELEASE};
	struct rpmsg_lite_endpoint *me =
	    rpmsg_lite_create_ept_static(F.m, RL_ADDR_ANY, rec_cb, &got, &mctx);

	assert_int_equal(rpmsg_lite_send(F.m, me, re->addr, "first", 6, 0), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_send(F.m, me, re->addr, "second", 7, 0), RL_SUCCESS);
	lh_pump(&F.h);
	/* the second found the queue full: dropped, counted, its buffer returned */
	assert_int_equal(rpmsg_queue_get_current_size(q), 1);
	assert_int_equal(al_rpmsg_queue_dropped(q), 1);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), RL_BUFFER_COUNT - 1);
	/* the queued one was not overwritten */
	char buf[16];
	assert_int_equal(rpmsg_queue_recv(F.r, q, NULL, buf, sizeof(buf), NULL, 0), RL_SUCCESS);
	assert_string_equal(buf, "first");
	assert_int_equal(rpmsg_queue_recv(F.r, q, NULL, buf, sizeof(buf), NULL, 0), RL_ERR_NO_BUFF);
	assert_int_equal(al_rpmsg_queue_dropped(q), 1);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), RL_BUFFER_COUNT);
	/* and the queue works on */
	assert_int_equal(rpmsg_lite_send(F.m, me, re->addr, "third", 6, 0), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(rpmsg_queue_recv(F.r, q, NULL, buf, sizeof(buf), NULL, 0), RL_SUCCESS);
	assert_string_equal(buf, "third");
	assert_int_equal(al_rpmsg_queue_dropped(NULL), 0);
	assert_int_equal(rpmsg_queue_rx_cb(buf, 1, 1, NULL), RL_RELEASE);
	rpmsg_lite_destroy_ept(F.r, re);
	rpmsg_queue_destroy(F.r, q);
	rpmsg_lite_destroy_ept(F.m, me);
}

/* ---- timeouts ---------------------------------------------------------------------------- */

static struct rec *held_by_master;
static void release_one_held(struct lh *h)
{
	(void)h;
	if (held_by_master->nheld > 0)
		assert_int_equal(rpmsg_lite_release_rx_buffer(
				     F.m, held_by_master->held[--held_by_master->nheld]),
				 RL_SUCCESS);
}

static void timeouts(void **state)
{
	(void)state;
	static rpmsg_static_queue_ctxt qc;
	uint8_t storage[RL_ENV_QUEUE_STATIC_STORAGE_SIZE];
	static struct rpmsg_lite_ept_static_context rctx, mctx;
	rpmsg_queue_handle q = rpmsg_queue_create_static(F.r, storage, &qc);
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, rpmsg_queue_rx_cb, q, &rctx);
	struct rec held = {.ret = RL_HOLD};
	struct rpmsg_lite_endpoint *me =
	    rpmsg_lite_create_ept_static(F.m, RL_ADDR_ANY, rec_cb, &held, &mctx);
	char buf[16];
	char *data;

	/* queue, timeout 0: never waits */
	uint32_t waits = F.h.side[1].waits;
	uint64_t t0 = F.h.now;
	assert_int_equal(rpmsg_queue_recv(F.r, q, NULL, buf, sizeof(buf), NULL, RL_DONT_BLOCK),
			 RL_ERR_NO_BUFF);
	assert_int_equal(rpmsg_queue_recv_nocopy(F.r, q, NULL, &data, NULL, RL_DONT_BLOCK),
			 RL_ERR_NO_BUFF);
	assert_int_equal(F.h.side[1].waits, waits);
	assert_true(F.h.now == t0);
	/* a finite timeout: gives up once it has passed (simulated ms) */
	assert_int_equal(rpmsg_queue_recv(F.r, q, NULL, buf, sizeof(buf), NULL, 50),
			 RL_ERR_NO_BUFF);
	assert_true(F.h.now - t0 >= 50 && F.h.now - t0 < 60);
	assert_true(F.h.side[1].waits > waits);
	/* RL_BLOCK: waits until a message comes (here: the doorbell the wait runs) */
	assert_int_equal(rpmsg_lite_send(F.m, me, re->addr, "late", 5, RL_DONT_BLOCK), RL_SUCCESS);
	assert_true(F.h.side[1].pending > 0);
	F.h.pump_in_wait = true;
	uint32_t wakes = F.h.side[1].wakes;
	assert_int_equal(rpmsg_queue_recv(F.r, q, NULL, buf, sizeof(buf), NULL, RL_BLOCK),
			 RL_SUCCESS);
	assert_string_equal(buf, "late");
	assert_true(F.h.side[1].wakes > wakes); /* the queue woke its reader */
	F.h.pump_in_wait = false;

	/* send: the master holds every buffer the remote could send in */
	for (unsigned i = 0; i < RL_BUFFER_COUNT; i++)
		assert_int_equal(rpmsg_lite_send(F.r, re, me->addr, "fill", 5, RL_DONT_BLOCK),
				 RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(held.nheld, RL_BUFFER_COUNT);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.r), 0);
	waits = F.h.side[1].waits;
	t0 = F.h.now;
	assert_int_equal(rpmsg_lite_send(F.r, re, me->addr, "x", 2, RL_DONT_BLOCK), RL_ERR_NO_MEM);
	uint32_t size;
	assert_null(rpmsg_lite_alloc_tx_buffer(F.r, &size, RL_DONT_BLOCK));
	assert_int_equal(F.h.side[1].waits, waits);
	assert_true(F.h.now == t0);
	assert_int_equal(rpmsg_lite_send(F.r, re, me->addr, "x", 2, 30), RL_ERR_NO_MEM);
	assert_true(F.h.now - t0 >= 30 && F.h.now - t0 < 40);
	t0 = F.h.now;
	assert_null(rpmsg_lite_alloc_tx_buffer(F.r, &size, 20));
	assert_true(F.h.now - t0 >= 20 && F.h.now - t0 < 30);
	/* RL_BLOCK: waits until the master gives a buffer back */
	held_by_master = &held;
	F.h.on_wait = release_one_held;
	F.h.pump_in_wait = true;
	assert_int_equal(rpmsg_lite_send(F.r, re, me->addr, "y", 2, RL_BLOCK), RL_SUCCESS);
	F.h.on_wait = NULL;
	F.h.pump_in_wait = false;
	lh_pump(&F.h);
	assert_string_equal(held.data, "y");

	while (held.nheld > 0)
		release_one_held(&F.h);
	rpmsg_lite_destroy_ept(F.r, re);
	rpmsg_queue_destroy(F.r, q);
	rpmsg_lite_destroy_ept(F.m, me);
}

/* ---- name service -------------------------------------------------------------------------- */

/* A 40-byte name-service message written by hand. */
static void ns_raw(char *msg, const char *name, uint32_t addr, uint32_t flags)
{
	memset(msg, 0, 40);
	memcpy(msg, name, strlen(name) < 32 ? strlen(name) : 32);
	memcpy(msg + 32, &addr, 4); /* little-endian host */
	memcpy(msg + 36, &flags, 4);
}

static void name_service(void **state)
{
	(void)state;
	static rpmsg_ns_static_context rns, mns, other;
	struct nsrec at_remote = {0}, at_master = {0};
	static struct rpmsg_lite_ept_static_context rctx, mctx;
	/* the remote binds before the link is up ... */
	start_remote();
	assert_non_null(rpmsg_ns_bind_static(F.r, ns_cb, &at_remote, &rns));
	assert_null(rpmsg_ns_bind_static(F.r, ns_cb, &at_remote, &other)); /* one per instance */
	assert_null(rpmsg_ns_bind_static(F.r, NULL, &at_remote, &other));
	assert_null(rpmsg_ns_bind_static(F.r, ns_cb, &at_remote, NULL));
	start_master();
	/* ... the master after */
	assert_non_null(rpmsg_ns_bind_static(F.m, ns_cb, &at_master, &mns));
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, echo_cb, NULL, &rctx);
	struct rpmsg_lite_endpoint *me =
	    rpmsg_lite_create_ept_static(F.m, RL_ADDR_ANY, echo_cb, NULL, &mctx);

	/* create and destroy reach the listener, both ways */
	assert_int_equal(rpmsg_ns_announce(F.m, me, "from-master", RL_NS_CREATE), RL_SUCCESS);
	assert_int_equal(rpmsg_ns_announce(F.r, re, "from-remote", RL_NS_CREATE), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(at_remote.n, 1);
	assert_int_equal(at_remote.addr, me->addr);
	assert_int_equal(at_remote.flags, RL_NS_CREATE);
	assert_string_equal(at_remote.name, "from-master");
	assert_int_equal(at_master.n, 1);
	assert_int_equal(at_master.addr, re->addr);
	assert_string_equal(at_master.name, "from-remote");
	assert_int_equal(rpmsg_ns_announce(F.m, me, "from-master", RL_NS_DESTROY), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(at_remote.n, 2);
	assert_int_equal(at_remote.flags, RL_NS_DESTROY);
	assert_int_equal(at_remote.addr, me->addr);
	/* names are cut at 31 characters */
	assert_int_equal(rpmsg_ns_announce(F.m, me, "0123456789abcdef0123456789ABCDEFxyz", 0),
			 RL_SUCCESS);
	lh_pump(&F.h);
	assert_string_equal(at_remote.name, "0123456789abcdef0123456789ABCDE");
	assert_int_equal(rpmsg_ns_announce(NULL, me, "x", 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_ns_announce(F.m, NULL, "x", 0), RL_ERR_PARAM);
	assert_int_equal(rpmsg_ns_announce(F.m, me, NULL, 0), RL_ERR_PARAM);

	/* malformed messages to address 53 are dropped and counted, never passed on */
	char msg[40];
	int calls = at_remote.n;
	uint32_t malformed = stats_of(F.r).ns_malformed;
	ns_raw(msg, "bad-flags", me->addr, 7);
	assert_int_equal(rpmsg_lite_send(F.m, me, RL_NS_EPT_ADDR, msg, 40, 0), RL_SUCCESS);
	lh_pump(&F.h);
	memset(msg, 'A', 32); /* no NUL in the name */
	assert_int_equal(rpmsg_lite_send(F.m, me, RL_NS_EPT_ADDR, msg, 40, 0), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(rpmsg_lite_send(F.m, me, RL_NS_EPT_ADDR, "short", 6, 0), RL_SUCCESS);
	lh_pump(&F.h);
	ns_raw(msg, "", me->addr, 0); /* empty name */
	assert_int_equal(rpmsg_lite_send(F.m, me, RL_NS_EPT_ADDR, msg, 40, 0), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(at_remote.n, calls);
	assert_int_equal(stats_of(F.r).ns_malformed, malformed + 4);
	/* a well-formed one written by hand is fine */
	ns_raw(msg, "by-hand", 0x4321, RL_NS_CREATE);
	assert_int_equal(rpmsg_lite_send(F.m, me, RL_NS_EPT_ADDR, msg, 40, 0), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(at_remote.n, calls + 1);
	assert_int_equal(at_remote.addr, 0x4321);
	assert_string_equal(at_remote.name, "by-hand");

	/* unbind: no more calls; once only; rebind works */
	assert_int_equal(rpmsg_ns_unbind(F.r, &rns), RL_SUCCESS);
	assert_int_equal(rpmsg_ns_unbind(F.r, &rns), RL_ERR_PARAM);
	assert_int_equal(rpmsg_ns_unbind(F.m, &rns), RL_ERR_PARAM);
	assert_int_equal(rpmsg_ns_unbind(F.m, &mns), RL_SUCCESS);
	calls = at_remote.n;
	assert_int_equal(rpmsg_ns_announce(F.m, me, "unheard", RL_NS_CREATE), RL_SUCCESS);
	assert_int_equal(rpmsg_ns_announce(F.r, re, "unheard", RL_NS_CREATE), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(at_remote.n, calls);
	assert_int_equal(at_master.n, 1);
	assert_non_null(rpmsg_ns_bind_static(F.m, ns_cb, &at_master, &mns));
	assert_int_equal(rpmsg_ns_announce(F.r, re, "heard", RL_NS_DESTROY), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(at_master.n, 2);
	assert_int_equal(at_master.flags, RL_NS_DESTROY);
	assert_int_equal(rpmsg_ns_unbind(F.m, &mns), RL_SUCCESS);
	teardown_link(NULL);
}

static void deinit_destroys(void **state)
{
	(void)state;
	static struct rpmsg_lite_ept_static_context rctx;
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(F.r, RL_ADDR_ANY, echo_cb, NULL, &rctx);
	assert_non_null(re);
	assert_int_equal(rpmsg_lite_deinit(F.r), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_is_link_up(F.r), RL_FALSE);
	assert_int_equal(rpmsg_lite_send(F.r, re, 1024, "x", 2, 0), RL_NOT_READY);
	assert_int_equal(rpmsg_lite_destroy_ept(F.r, re), RL_ERR_PARAM);
	assert_int_equal(rpmsg_lite_deinit(F.r), RL_ERR_PARAM); /* once only */
	F.r = NULL;
	/* the master's deinit tells the remote nothing (as RPMsg-Lite's): a
	 * remote that has not looked yet still finds DRIVER_OK */
	assert_int_equal(rpmsg_lite_deinit(F.m), RL_SUCCESS);
	assert_true(
	    ((struct fw_rsc_vdev *)(void *)(shm + offsetof(struct al_rsc_table_rpmsg, vdev)))
		->status &
	    VIRTIO_CONFIG_STATUS_DRIVER_OK);
	assert_int_equal(rpmsg_lite_deinit(F.m), RL_ERR_PARAM);
	F.m = NULL;
}

#if !AMPLINK_NO_MALLOC
/* The allocating variants (run under ASan/LSan: nothing may leak). */
static void dynamic_api(void **state)
{
	(void)state;
	memset(shm, 0, sizeof(shm));
	assert_int_equal(lh_init(&F.h), RL_SUCCESS);
	F.r = rpmsg_lite_remote_init(shm, 1, RL_NO_FLAGS);
	assert_non_null(F.r);
	F.h.side[1].rl = F.r;
	assert_null(rpmsg_lite_master_init(shm, 16, 0, RL_NO_FLAGS));
	F.m = rpmsg_lite_master_init(shm, sizeof(shm), 0, RL_NO_FLAGS);
	assert_non_null(F.m);
	F.h.side[0].rl = F.m;
	lh_pump(&F.h);
	assert_int_equal(rpmsg_lite_is_link_up(F.r), RL_TRUE);

	struct nsrec ns = {0};
	rpmsg_ns_handle nsh = rpmsg_ns_bind(F.m, ns_cb, &ns);
	assert_non_null(nsh);
	assert_null(rpmsg_ns_bind(F.m, ns_cb, &ns));
	rpmsg_queue_handle q = rpmsg_queue_create(F.r);
	assert_non_null(q);
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept(F.r, RL_ADDR_ANY, rpmsg_queue_rx_cb, q);
	assert_non_null(re);
	assert_null(rpmsg_lite_create_ept(F.r, re->addr, rpmsg_queue_rx_cb, q));
	assert_int_equal(rpmsg_ns_announce(F.r, re, "dynamic", RL_NS_CREATE), RL_SUCCESS);
	lh_pump(&F.h);
	assert_int_equal(ns.addr, re->addr);

	struct rec got = {.ret = RL_RELEASE};
	struct rpmsg_lite_endpoint *me = rpmsg_lite_create_ept(F.m, RL_ADDR_ANY, rec_cb, &got);
	assert_non_null(me);
	assert_int_equal(rpmsg_lite_send(F.m, me, ns.addr, "ping", 5, RL_BLOCK), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_send(F.m, me, ns.addr, "left", 5, RL_BLOCK), RL_SUCCESS);
	lh_pump(&F.h);
	char buf[8];
	uint32_t src;
	assert_int_equal(rpmsg_queue_recv(F.r, q, &src, buf, sizeof(buf), NULL, RL_BLOCK),
			 RL_SUCCESS);
	assert_int_equal(rpmsg_lite_send(F.r, re, src, "pong", 5, RL_BLOCK), RL_SUCCESS);
	lh_pump(&F.h);
	assert_string_equal(got.data, "pong");

	/* "left" is still queued: destroy releases it */
	assert_int_equal(rpmsg_lite_destroy_ept(F.r, re), RL_SUCCESS);
	assert_int_equal(rpmsg_queue_destroy(F.r, q), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(F.m), RL_BUFFER_COUNT);
	assert_int_equal(rpmsg_lite_destroy_ept(F.m, me), RL_SUCCESS);
	assert_int_equal(rpmsg_ns_unbind(F.m, nsh), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(F.m), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(F.r), RL_SUCCESS);
	F.m = F.r = NULL;
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(link_up),
		cmocka_unit_test(init_errors),
		cmocka_unit_test_setup_teardown(seed_flow_copy, setup_link, teardown_link),
		cmocka_unit_test_setup_teardown(zero_copy, setup_link, teardown_link),
		cmocka_unit_test_setup_teardown(bad_send, setup_link, teardown_link),
		cmocka_unit_test(send_before_link_up),
		cmocka_unit_test_setup_teardown(endpoints, setup_link, teardown_link),
		cmocka_unit_test_setup_teardown(queue_recv, setup_link, teardown_link),
		cmocka_unit_test_setup_teardown(queue_full_drops, setup_link, teardown_link),
		cmocka_unit_test_setup_teardown(timeouts, setup_link, teardown_link),
		cmocka_unit_test(name_service),
		cmocka_unit_test_setup_teardown(deinit_destroys, setup_link, teardown_link),
#if !AMPLINK_NO_MALLOC
		cmocka_unit_test(dynamic_api),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
