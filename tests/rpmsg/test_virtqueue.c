/* Tests the split virtqueue: index wrap-around, full rings, notification suppression, geometry. */
#include "test_util.h"
#include "virtqueue.h"

static struct tu_link L;

/* ---- helpers ---------------------------------------------------------- */

/* A message carries its sequence number and a pattern derived from it, in a
 * length that varies with the number. */
static int make_msg(uint8_t *buf, uint32_t seq, int max)
{
	int len = 4 + (int)(seq % 37u);
	if (len > max)
		len = max;
	tu_wr32(buf, seq);
	tu_pattern(buf + 4, (size_t)len - 4, seq);
	return len;
}

struct seq_rx {
	uint32_t next; /* sequence number expected next */
	uint32_t bad;  /* messages out of order or corrupted */
	uint32_t from; /* expected source */
};

static int seq_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct seq_rx *s = priv;
	uint8_t want[64];
	assert_true(tu_in_region(ept, data, len));
	if (len < 4 || len > sizeof(want) || src != s->from) {
		s->bad++;
		return RPMSG_SUCCESS;
	}
	int wl = make_msg(want, s->next, (int)sizeof(want));
	if ((size_t)wl != len || memcmp(want, data, len) != 0)
		s->bad++;
	s->next++;
	return RPMSG_SUCCESS;
}

/* Stream `count` sequenced messages from side `from` to the other side
 * through trysend, pumping only when the ring is full. */
static void stream(struct tu_link *t, int from, uint32_t count, struct rpmsg_endpoint *tx,
		   struct seq_rx *rx)
{
	uint8_t buf[64];
	uint32_t full = 0;
	for (uint32_t i = 0; i < count; i++) {
		int len = make_msg(buf, i, (int)sizeof(buf));
		int rc = rpmsg_trysend(tx, buf, len);
		if (rc == AL_ENOBUFS) {
			full++;
			assert_true(tu_pump(t) >= 0);
			rc = rpmsg_trysend(tx, buf, len);
		}
		assert_int_equal(rc, len);
	}
	assert_true(tu_pump(t) >= 0);
	assert_int_equal(rx->bad, 0);
	assert_int_equal(rx->next, count);
	/* the ring really filled up between pumps, about every num messages */
	assert_true(full >= count / tu_num(t) - 1u);
	(void)from;
}

static void wrap_case(uint32_t num, uint32_t features, int from)
{
	const uint32_t count = 70000; /* > 65536: every index wraps at least once */
	struct al_layout_cfg cfg = tu_cfg(num, 512, features);
	static struct rpmsg_endpoint e_drv, e_dev;
	static struct seq_rx rx;
	tu_up(&L, &cfg, NULL, NULL);
	int to = from == TU_DRV ? TU_DEV : TU_DRV;
	struct rpmsg_endpoint *tx = from == TU_DRV ? &e_drv : &e_dev;
	struct rpmsg_endpoint *rxe = from == TU_DRV ? &e_dev : &e_drv;
	assert_int_equal(
	    rpmsg_create_ept(&e_drv, tu_rdev(&L, TU_DRV), NULL, 1024, 2048, seq_cb, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&e_dev, tu_rdev(&L, TU_DEV), NULL, 2048, 1024, seq_cb, NULL), 0);
	memset(&rx, 0, sizeof(rx));
	rx.from = tx->addr;
	rxe->priv = &rx;

	stream(&L, from, count, tx, &rx);

	struct rpmsg_stats st_tx, st_rx;
	al_get_stats(tu_rdev(&L, from), &st_tx);
	al_get_stats(tu_rdev(&L, to), &st_rx);
	assert_int_equal(st_tx.tx_msgs, count);
	assert_int_equal(st_rx.rx_msgs, count);
	assert_int_equal(tx->tx_msgs, count);
	assert_int_equal(rxe->rx_msgs, count);
	/* The shared indices wrapped: they hold the count modulo 65536. */
	int ring = from == TU_DRV ? 1 : 0; /* vring1 carries driver -> device */
	assert_int_equal(tu_used_idx(&L, ring), (uint16_t)count);
	if (from == TU_DRV)
		assert_int_equal(tu_avail_idx(&L, 1), (uint16_t)count);
	else /* the driver posted num buffers up front and re-posted each */
		assert_int_equal(tu_avail_idx(&L, 0), (uint16_t)(count + num));
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DRV)), AL_LINK_UP);
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DEV)), AL_LINK_UP);
	/* Every buffer came home. */
	assert_int_equal(al_virtio_free_tx_buffers(tu_rv(&L, from)), (int)num);
	tu_check(&L);
}

/* ---- index wrap-around ------------------------------------------------ */

static void wrap_h2r_num4_event_idx(void **state)
{
	(void)state;
	wrap_case(4, TU_F_NS | TU_F_EVIDX, TU_DRV);
}

static void wrap_r2h_num4_event_idx(void **state)
{
	(void)state;
	wrap_case(4, TU_F_NS | TU_F_EVIDX, TU_DEV);
}

static void wrap_h2r_num16_flags(void **state)
{
	(void)state;
	wrap_case(16, TU_F_NS, TU_DRV);
}

static void wrap_r2h_num16_flags(void **state)
{
	(void)state;
	wrap_case(16, TU_F_NS, TU_DEV);
}

static void wrap_h2r_num1(void **state)
{
	(void)state;
	wrap_case(1, TU_F_EVIDX, TU_DRV);
}

static void wrap_r2h_num1(void **state)
{
	(void)state;
	wrap_case(1, 0, TU_DEV);
}

/* Echo through a 4-entry ring past the wrap in both directions at once. */
static void wrap_echo_both_directions(void **state)
{
	(void)state;
	struct al_layout_cfg cfg = tu_cfg(4, 512, TU_F_EVIDX);
	static struct rpmsg_endpoint e_drv, e_dev;
	static struct tu_rec r_drv, r_dev;
	tu_up(&L, &cfg, NULL, NULL);
	memset(&r_drv, 0, sizeof(r_drv));
	memset(&r_dev, 0, sizeof(r_dev));
	r_dev.echo = true;
	assert_int_equal(tu_ept(&e_drv, tu_rdev(&L, TU_DRV), NULL, 1024, 1024, &r_drv), 0);
	assert_int_equal(tu_ept(&e_dev, tu_rdev(&L, TU_DEV), NULL, 1024, RPMSG_ADDR_ANY, &r_dev),
			 0);
	uint8_t buf[64];
	for (uint32_t i = 0; i < 66000; i++) {
		int len = make_msg(buf, i, (int)sizeof(buf));
		assert_int_equal(rpmsg_trysend(&e_drv, buf, len), len);
		assert_int_equal(tu_pump(&L), 2);
		assert_int_equal(r_dev.echo_rc, len);
		assert_int_equal(r_drv.n, (int)i + 1);
		assert_int_equal(r_drv.len, (size_t)len);
		assert_memory_equal(r_drv.data, buf, (size_t)len);
	}
	assert_int_equal(tu_used_idx(&L, 0), (uint16_t)66000);
	assert_int_equal(tu_used_idx(&L, 1), (uint16_t)66000);
	tu_check(&L);
}

/* ---- full rings ------------------------------------------------------- */

static void full_ring_case(int from)
{
	static struct rpmsg_endpoint e_drv, e_dev;
	static struct tu_rec r_drv, r_dev;
	tu_up(&L, NULL, NULL, NULL);
	memset(&r_drv, 0, sizeof(r_drv));
	memset(&r_dev, 0, sizeof(r_dev));
	assert_int_equal(tu_ept(&e_drv, tu_rdev(&L, TU_DRV), NULL, 1024, 1025, &r_drv), 0);
	assert_int_equal(tu_ept(&e_dev, tu_rdev(&L, TU_DEV), NULL, 1025, 1024, &r_dev), 0);
	struct rpmsg_endpoint *tx = from == TU_DRV ? &e_drv : &e_dev;
	struct tu_rec *rx = from == TU_DRV ? &r_dev : &r_drv;
	struct rpmsg_virtio_device *rv = tu_rv(&L, from);
	const int num = (int)tu_num(&L);
	uint64_t t0 = L.lb.now_ms;
	uint8_t buf[32];

	for (int round = 0; round < 3; round++) {
		assert_int_equal(al_virtio_free_tx_buffers(rv), num);
		for (int i = 0; i < num; i++) {
			tu_pattern(buf, sizeof(buf), (uint32_t)(round * 100 + i));
			assert_int_equal(rpmsg_trysend(tx, buf, (int)sizeof(buf)),
					 (int)sizeof(buf));
		}
		struct rpmsg_stats st0, st1;
		al_get_stats(tu_rdev(&L, from), &st0);
		assert_int_equal(al_virtio_free_tx_buffers(rv), 0);
		assert_int_equal(rpmsg_trysend(tx, buf, 1), AL_ENOBUFS);
		assert_int_equal(rpmsg_trysend(tx, buf, 1), AL_ENOBUFS);
		uint32_t zlen;
		int err = 0;
		assert_null(al_get_tx_buffer_timeout(tx, &zlen, 0, &err));
		assert_int_equal(err, AL_ENOBUFS);
		al_get_stats(tu_rdev(&L, from), &st1);
		assert_int_equal(st1.tx_msgs, st0.tx_msgs);
		assert_int_equal(st1.tx_no_buf, st0.tx_no_buf + 3);
		assert_int_equal(L.lb.now_ms, t0);    /* trysend never waits */
		assert_int_equal(rx->n, round * num); /* nothing delivered without a pump */
		assert_int_equal(tu_pump(&L), num);
		assert_int_equal(rx->n, (round + 1) * num);
		tu_pattern(buf, sizeof(buf), (uint32_t)(round * 100 + num - 1));
		assert_memory_equal(rx->data, buf, sizeof(buf));
	}
	tu_check(&L);
}

static void full_ring_h2r(void **state)
{
	(void)state;
	full_ring_case(TU_DRV);
}

static void full_ring_r2h(void **state)
{
	(void)state;
	full_ring_case(TU_DEV);
}

/* ---- notification suppression ------------------------------------------- */

/* A burst of `n` sends from `from` while the peer sleeps: how many doorbells
 * does the peer get? Then pump and check everything arrived. */
static uint32_t burst(int from, struct rpmsg_endpoint *tx, struct tu_rec *rx, int n)
{
	struct al_loopback_side *peer = tu_side(&L, from == TU_DRV ? TU_DEV : TU_DRV);
	struct al_loopback_side *self = tu_side(&L, from);
	uint32_t rung0 = peer->rung;
	int n0 = rx->n;
	uint8_t buf[24];
	for (int i = 0; i < n; i++) {
		tu_pattern(buf, sizeof(buf), (uint32_t)(n0 + i));
		assert_int_equal(rpmsg_trysend(tx, buf, (int)sizeof(buf)), (int)sizeof(buf));
	}
	uint32_t rung = peer->rung - rung0;
	uint32_t self_rung0 = self->rung;
	assert_int_equal(tu_pump(&L), n);
	assert_int_equal(rx->n, n0 + n);
	tu_pattern(buf, sizeof(buf), (uint32_t)(n0 + n - 1));
	assert_memory_equal(rx->data, buf, sizeof(buf));
	/* Returning the buffers never rang the sender: it did not ask. */
	assert_int_equal(self->rung, self_rung0);
	return rung;
}

static void suppression_case(bool evidx)
{
	static struct rpmsg_endpoint e_drv, e_dev;
	static struct tu_rec r_drv, r_dev;
	struct al_layout_cfg cfg = tu_cfg(16, 512, TU_F_NS | (evidx ? TU_F_EVIDX : 0));
	tu_up(&L, &cfg, NULL, NULL);
	/* negotiated as configured, on both sides and in gfeatures */
	assert_int_equal((L.lb.drv.rvdev.features >> VIRTIO_RING_F_EVENT_IDX) & 1u, evidx);
	assert_int_equal((L.lb.dev.rvdev.features >> VIRTIO_RING_F_EVENT_IDX) & 1u, evidx);
	memset(&r_drv, 0, sizeof(r_drv));
	memset(&r_dev, 0, sizeof(r_dev));
	assert_int_equal(tu_ept(&e_drv, tu_rdev(&L, TU_DRV), NULL, 1024, 1025, &r_drv), 0);
	assert_int_equal(tu_ept(&e_dev, tu_rdev(&L, TU_DEV), NULL, 1025, 1024, &r_dev), 0);
	struct rpmsg_stats sd0, sv0;
	al_get_stats(tu_rdev(&L, TU_DRV), &sd0);
	al_get_stats(tu_rdev(&L, TU_DEV), &sv0);
	uint32_t drv_rung0 = L.lb.drv.rung, dev_rung0 = L.lb.dev.rung;

	for (int rep = 0; rep < 3; rep++) {
		/* With event indices the peer asked to hear about the first
		 * new entry only; with flags it asked for every one. */
		uint32_t h2r = burst(TU_DRV, &e_drv, &r_dev, 16);
		uint32_t r2h = burst(TU_DEV, &e_dev, &r_drv, 16);
		if (evidx) {
			assert_int_equal(h2r, 1);
			assert_int_equal(r2h, 1);
		} else {
			assert_int_equal(h2r, 16);
			assert_int_equal(r2h, 16);
		}
		/* a short burst after the ring went idle again still rings */
		assert_int_equal(burst(TU_DRV, &e_drv, &r_dev, 3), evidx ? 1 : 3);
		assert_int_equal(burst(TU_DEV, &e_dev, &r_drv, 1), 1);
	}
	/* kicks the core counted are exactly the doorbells delivered */
	struct rpmsg_stats sd, sv;
	al_get_stats(tu_rdev(&L, TU_DRV), &sd);
	al_get_stats(tu_rdev(&L, TU_DEV), &sv);
	assert_int_equal(sd.kicks_tx - sd0.kicks_tx, L.lb.dev.rung - dev_rung0);
	assert_int_equal(sv.kicks_tx - sv0.kicks_tx, L.lb.drv.rung - drv_rung0);
	/* the loopback coalesces doorbells rung before a pump */
	assert_true(sd.kicks_rx - sd0.kicks_rx <= L.lb.drv.rung - drv_rung0);
	assert_true(sv.kicks_rx - sv0.kicks_rx <= L.lb.dev.rung - dev_rung0);
	tu_check(&L);
}

static void suppression_event_idx(void **state)
{
	(void)state;
	suppression_case(true);
}

static void suppression_flags(void **state)
{
	(void)state;
	suppression_case(false);
}

/* Sends made while the peer is draining its ring (from inside its receive
 * callback) need no doorbell in either mode, and are all delivered by the
 * same drain. */
struct inject {
	struct rpmsg_endpoint *tx; /* the other side's endpoint */
	int more;		   /* messages to send from the first callback */
	int got;
	int sent_rc_bad;
	uint32_t rung_during;
	uint32_t *rung;
};

static int inject_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)src;
	struct inject *in = priv;
	assert_int_equal(len, 4);
	assert_int_equal(tu_rd32(data), (uint32_t)in->got);
	in->got++;
	if (in->more) {
		uint32_t r0 = *in->rung;
		for (int i = 1; i <= in->more; i++) {
			uint8_t b[4];
			tu_wr32(b, (uint32_t)i);
			if (rpmsg_trysend(in->tx, b, 4) != 4)
				in->sent_rc_bad++;
		}
		in->rung_during = *in->rung - r0;
		in->more = 0;
	}
	return RPMSG_SUCCESS;
}

static void drain_case(bool evidx, int from)
{
	static struct rpmsg_endpoint e_drv, e_dev;
	static struct inject in;
	struct al_layout_cfg cfg = tu_cfg(16, 512, evidx ? TU_F_EVIDX : 0);
	tu_up(&L, &cfg, NULL, NULL);
	assert_int_equal(
	    rpmsg_create_ept(&e_drv, tu_rdev(&L, TU_DRV), NULL, 1024, 1025, inject_cb, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&e_dev, tu_rdev(&L, TU_DEV), NULL, 1025, 1024, inject_cb, NULL), 0);
	struct rpmsg_endpoint *tx = from == TU_DRV ? &e_drv : &e_dev;
	struct rpmsg_endpoint *rx = from == TU_DRV ? &e_dev : &e_drv;
	struct al_loopback_side *peer = tu_side(&L, from == TU_DRV ? TU_DEV : TU_DRV);
	memset(&in, 0, sizeof(in));
	in.tx = tx;
	in.more = 10;
	in.rung = &peer->rung;
	rx->priv = &in;
	uint8_t b[4];
	tu_wr32(b, 0);
	uint32_t r0 = peer->rung;
	assert_int_equal(rpmsg_trysend(tx, b, 4), 4);
	assert_int_equal(peer->rung - r0, 1);
	assert_int_equal(tu_pump(&L), 11);
	assert_int_equal(in.sent_rc_bad, 0);
	assert_int_equal(in.got, 11);
	assert_int_equal(in.rung_during, 0);  /* the draining peer asked for none */
	assert_int_equal(peer->rung - r0, 1); /* only the first message rang */
	tu_check(&L);
}

static void suppression_while_draining_event_idx(void **state)
{
	(void)state;
	drain_case(true, TU_DRV);
	drain_case(true, TU_DEV);
}

static void suppression_while_draining_flags(void **state)
{
	(void)state;
	drain_case(false, TU_DRV);
	drain_case(false, TU_DEV);
}

/* A message published while the receiver drains is never stranded: the
 * sender (seeing the doorbell disabled) does not ring, so the receiver
 * must find it itself. The peer's lock hook publishes the message at each
 * lock the receiver takes in turn, one position per run. (The window
 * between the last empty look and re-enabling the doorbell, inside one
 * lock hold, is covered by vq_enable_rechecks_the_ring.) */
static int race_rx;		/* receiving side */
static int race_at, race_locks; /* inject at lock number race_at (1-based) */
static struct rpmsg_endpoint *race_tx;

static void race_on_lock(struct tu_link *t, int side)
{
	(void)t;
	if (side != race_rx || ++race_locks != race_at)
		return;
	assert_int_equal(rpmsg_trysend(race_tx, "late", 4), 4);
}

static void race_case(bool evidx, int rx_side)
{
	static struct rpmsg_endpoint e[2];
	static struct tu_rec r[2];
	struct al_layout_cfg cfg = tu_cfg(16, 512, evidx ? TU_F_EVIDX : 0);
	int nlocks = -1;
	for (int at = 0; nlocks < 0 || at <= nlocks; at++) {
		tu_up(&L, &cfg, NULL, NULL);
		memset(r, 0, sizeof(r));
		assert_int_equal(
		    tu_ept(&e[TU_DRV], tu_rdev(&L, TU_DRV), NULL, 1024, 1025, &r[TU_DRV]), 0);
		assert_int_equal(
		    tu_ept(&e[TU_DEV], tu_rdev(&L, TU_DEV), NULL, 1025, 1024, &r[TU_DEV]), 0);
		race_rx = rx_side;
		race_tx = &e[rx_side == TU_DRV ? TU_DEV : TU_DRV];
		assert_int_equal(rpmsg_trysend(race_tx, "first", 5), 5);
		race_at = at;
		race_locks = 0;
		L.on_lock = race_on_lock;
		/* one doorbell-handler call must deliver both */
		int n = al_virtio_notified(tu_rv(&L, rx_side));
		L.on_lock = NULL;
		if (at == 0) { /* reference run: how many locks one message takes */
			assert_int_equal(n, 1);
			nlocks = race_locks;
			assert_true(nlocks >= 2);
			continue;
		}
		if (n != 2 || r[rx_side].n != 2)
			fail_msg("message published at lock %d of %d (%s, rx %s) not delivered", at,
				 nlocks, evidx ? "event idx" : "flags",
				 rx_side ? "device" : "driver");
		assert_memory_equal(r[rx_side].data, "late", 4);
		tu_check(&L);
	}
}

static void no_message_stranded_while_draining(void **state)
{
	(void)state;
	for (int ev = 0; ev < 2; ev++)
		for (int side = 0; side < 2; side++)
			race_case(ev, side);
}

/* The device offers EVENT_IDX but the driver does not support it: neither
 * side uses it, and the driver wrote the intersection into gfeatures. */
static void features_are_negotiated(void **state)
{
	(void)state;
	static struct rpmsg_endpoint e_drv, e_dev;
	static struct tu_rec r_drv, r_dev;
	tu_init(&L, NULL); /* device offers NS + EVENT_IDX */
	L.lb.drv.vdev.features = TU_F_NS;
	assert_int_equal(al_loopback_start(&L.lb, NULL, NULL), 0);
	assert_true(tu_pump(&L) >= 0);
	uint8_t *vdev = al_shm_da_to_va(&L.lb.shm, L.lb.layout.vdev_da, 28);
	assert_int_equal(tu_rd32(vdev + AL_RSC_VDEV_DFEATURES), TU_F_NS | TU_F_EVIDX);
	assert_int_equal(tu_rd32(vdev + AL_RSC_VDEV_GFEATURES), TU_F_NS);
	assert_int_equal(L.lb.drv.rvdev.features, TU_F_NS);
	assert_int_equal(L.lb.dev.rvdev.features, TU_F_NS);
	memset(&r_drv, 0, sizeof(r_drv));
	memset(&r_dev, 0, sizeof(r_dev));
	assert_int_equal(tu_ept(&e_drv, tu_rdev(&L, TU_DRV), NULL, 1024, 1025, &r_drv), 0);
	assert_int_equal(tu_ept(&e_dev, tu_rdev(&L, TU_DEV), NULL, 1025, 1024, &r_dev), 0);
	/* flags mode: every message of a burst rings */
	uint32_t r0 = L.lb.dev.rung;
	for (int i = 0; i < 5; i++)
		assert_int_equal(rpmsg_trysend(&e_drv, "x", 1), 1);
	assert_int_equal(L.lb.dev.rung - r0, 5);
	assert_int_equal(tu_pump(&L), 5);
	assert_int_equal(r_dev.n, 5);
	tu_check(&L);
}

/* ---- the virtqueue layer on its own ------------------------------------- */

/* Device-address translation: bounds on both ends, overflow-safe. */
static void shm_translation_bounds(void **state)
{
	(void)state;
	static uint8_t buf[4096 + 64];
	uint8_t *mem = buf + 32; /* pointers just outside the region stay in buf */
	for (int k = 0; k < 2; k++) {
		uint64_t base = k ? 0 : 0x80000000ull; /* 0: a region at device address 0 */
		struct al_shm shm = {mem, base, 4096};
		assert_ptr_equal(al_shm_da_to_va(&shm, base, 4096), mem);
		assert_ptr_equal(al_shm_da_to_va(&shm, base + 4095, 1), mem + 4095);
		assert_ptr_equal(al_shm_da_to_va(&shm, base + 100, 0), mem + 100);
		assert_null(al_shm_da_to_va(&shm, base + 4095, 2));
		assert_null(al_shm_da_to_va(&shm, base, 4097));
		assert_null(al_shm_da_to_va(&shm, base + 4097, 0));
		assert_null(al_shm_da_to_va(&shm, base + 1, SIZE_MAX));
		assert_null(
		    al_shm_da_to_va(&shm, 0xFFFFFFFFFFFFFFF0ull, 0x20)); /* da + len wraps */
		assert_null(al_shm_da_to_va(&shm, 0xFFFFFFFFFFFFFFFFull, 1));
		if (base)
			assert_null(al_shm_da_to_va(&shm, base - 1, 2));
		assert_null(al_shm_da_to_va(NULL, base, 1));
		uint64_t da = 0;
		assert_int_equal(al_shm_va_to_da(&shm, mem + 10, 20, &da), 0);
		assert_int_equal(da, base + 10);
		assert_int_equal(al_shm_va_to_da(&shm, mem, 4096, &da), 0);
		assert_int_equal(al_shm_va_to_da(&shm, mem + 4090, 7, &da), AL_EADDR);
		assert_int_equal(al_shm_va_to_da(&shm, mem + 1, SIZE_MAX, &da), AL_EADDR);
		assert_int_equal(al_shm_va_to_da(&shm, mem - 1, 1, &da), AL_EADDR);
		assert_int_equal(al_shm_va_to_da(&shm, mem + 4097, 0, &da), AL_EADDR);
		assert_int_equal(al_shm_va_to_da(&shm, NULL, 1, &da), AL_EADDR);
	}
}

static void vq_setup_rejects_bad_geometry(void **state)
{
	(void)state;
	static uint8_t mem[8192];
	static struct al_desc_shadow sh[64];
	struct al_mem shm = {.r = {{mem, 0x1000, sizeof(mem)}}, .n = 1};
	struct al_vq vq;
	const uint32_t bad_num[] = {0, 3, 6, 100, 65536, 0x80000000u, 0xFFFFFFFFu};
	for (size_t i = 0; i < sizeof(bad_num) / sizeof(bad_num[0]); i++) {
		assert_int_equal(al_vq_setup(&vq, &shm, 0x1000, bad_num[i], 16, 0, sh, 64, false),
				 AL_EINIT);
		assert_true(vq.fault);
	}
	const uint32_t bad_align[] = {0, 1, 8, 24, 0x20000};
	for (size_t i = 0; i < sizeof(bad_align) / sizeof(bad_align[0]); i++) {
		assert_int_equal(al_vq_setup(&vq, &shm, 0x1000, 4, bad_align[i], 0, sh, 64, false),
				 AL_EINIT);
		assert_true(vq.fault);
	}
	/* a valid num larger than the shadow storage: ours to fix, not a bad layout */
	assert_int_equal(al_vq_setup(&vq, &shm, 0x1000, 8, 16, 0, sh, 4, false), AL_ENOMEM);
	assert_true(vq.fault);
	assert_int_equal(al_vq_setup(&vq, &shm, 0x1000, 3, 16, 0, sh, 2, false), AL_EINIT);
	/* misaligned, outside, straddling the end, before the start */
	assert_int_equal(al_vq_setup(&vq, &shm, 0x1004, 4, 16, 0, sh, 64, false), AL_EINIT);
	assert_int_equal(al_vq_setup(&vq, &shm, 0x1000 + sizeof(mem), 4, 16, 0, sh, 64, false),
			 AL_EINIT);
	assert_int_equal(al_vq_setup(&vq, &shm, 0x1000 + sizeof(mem) - 32, 4, 16, 0, sh, 64, false),
			 AL_EINIT);
	assert_int_equal(al_vq_setup(&vq, &shm, 0x0ff0, 4, 16, 0, sh, 64, false), AL_EINIT);
	assert_int_equal(al_vq_setup(&vq, &shm, 0xFFFFFFFFFFFFFFF0ull, 4, 16, 0, sh, 64, false),
			 AL_EINIT);
	/* a ring that fits is zeroed, and nothing after it */
	memset(mem, 0x5A, sizeof(mem));
	assert_int_equal(al_vq_setup(&vq, &shm, 0x1000, 64, 16, 0, sh, 64, true), 0);
	for (size_t i = 0; i < vring_size(64, 16); i++)
		assert_int_equal(mem[i], 0);
	assert_int_equal(mem[vring_size(64, 16)], 0x5A);
}

/* A driver and a device virtqueue over one ring, started just before the
 * 16-bit wrap: post / take / return / reclaim across it. */
static void vq_pair_across_wrap(void **state)
{
	(void)state;
	static uint8_t mem[4096];
	static struct al_desc_shadow sd[4], sv[4];
	struct al_mem shm = {.r = {{mem, 0x40000000, sizeof(mem)}}, .n = 1};
	struct al_vq drv, dev;
	assert_int_equal(al_vq_setup(&drv, &shm, 0x40000000, 4, 16, 0, sd, 4, true), 0);
	assert_int_equal(al_vq_setup(&dev, &shm, 0x40000000, 4, 16, 0, sv, 4, false), 0);
	const uint16_t start = 0xFFF0;
	drv.pub_idx = drv.last_idx = drv.kicked_idx = start;
	dev.pub_idx = dev.last_idx = dev.kicked_idx = start;
	tu_wr16(mem + 16 * 4 + AL_VRING_AVAIL_IDX, start);
	tu_wr16(mem + vring_used_offset(4, 16) + AL_VRING_USED_IDX, start);
	for (uint16_t i = 0; i < 4; i++) {
		sd[i].off = 1024u + 64u * i;
		sd[i].len = 64;
	}
	uint16_t id;
	uint32_t len;
	for (uint32_t n = 0; n < 64; n++) {
		uint16_t want = (uint16_t)(n % 4u);
		al_vq_post(&drv, &shm, want, (uint32_t)(16 + n % 48u), false);
		assert_int_equal(al_vq_get_avail(&dev, &shm, &id), 1);
		assert_int_equal(id, want);
		assert_int_equal(sv[id].off, sd[id].off);
		assert_int_equal(sv[id].len, 16 + n % 48u);
		assert_int_equal(al_vq_get_avail(&dev, &shm, &id), 0);
		al_vq_put_used(&dev, id, 5);
		assert_int_equal(al_vq_get_used(&drv, &id, &len), 1);
		assert_int_equal(id, want);
		assert_int_equal(len, 5);
		assert_int_equal(al_vq_get_used(&drv, &id, &len), 0);
		sd[id].state = AL_DS_FREE;
	}
	assert_int_equal(drv.pub_idx, (uint16_t)(start + 64u));
	assert_int_equal(tu_rd16(mem + 16 * 4 + AL_VRING_AVAIL_IDX), (uint16_t)(start + 64u));
	assert_false(drv.fault);
	assert_false(dev.fault);
}

/* The prefetch hint names the buffer of the peer's next published entry
 * by our own shadow, and nothing when the entry's id is out of range or
 * its descriptor has no buffer yet: a lying peer gets no read outside the
 * shadows. Taking that entry still faults as before. */
static void vq_next_buf_is_only_our_own_buffer(void **state)
{
	(void)state;
	uint32_t len_unused;
	static uint8_t mem[4096];
	static struct al_desc_shadow sd[4], sv[4];
	struct al_mem shm = {.r = {{mem, 0x40000000, sizeof(mem)}}, .n = 1};
	struct al_vq drv, dev;
	assert_int_equal(al_vq_setup(&drv, &shm, 0x40000000, 4, 16, 0, sd, 4, true), 0);
	assert_int_equal(al_vq_setup(&dev, &shm, 0x40000000, 4, 16, 0, sv, 4, false), 0);
	for (uint16_t i = 0; i < 4; i++) {
		sd[i].off = 1024u + 64u * i;
		sd[i].len = 64;
	}
	uint16_t id;
	assert_null(al_vq_next_buf(&dev, &shm, false)); /* nothing published */
	al_vq_post(&drv, &shm, 0, 64, false);
	al_vq_post(&drv, &shm, 1, 64, false);
	assert_int_equal(al_vq_get_avail(&dev, &shm, &id), 1);
	assert_null(al_vq_next_buf(&dev, &shm, false)); /* id 1 never taken: no buffer known */
	assert_int_equal(al_vq_get_avail(&dev, &shm, &id), 1);
	al_vq_put_used(&dev, 0, 16);
	al_vq_put_used(&dev, 1, 16);
	assert_int_equal(al_vq_get_used(&drv, &id, &len_unused), 1);
	assert_ptr_equal(al_vq_next_buf(&drv, &shm, true), mem + sd[1].off);
	/* the device's next used entry claims descriptor 0xFFFF */
	tu_wr32(mem + vring_used_offset(4, 16) + AL_VRING_USED_RING + 8u * 1u, 0xFFFFu);
	assert_null(al_vq_next_buf(&drv, &shm, true));
	assert_int_equal(al_vq_get_used(&drv, &id, &len_unused), AL_EBROKEN);
}

/* Posting and returning store only what differs from the ring (a re-posted
 * descriptor, a slot or used element that holds the same values a lap
 * later): whatever the peer scribbled over those words in between is
 * still replaced by what we mean. */
static void vq_repost_restores_what_the_peer_changed(void **state)
{
	(void)state;
	static uint8_t mem[4096];
	static struct al_desc_shadow sd[4], sv[4];
	struct al_mem shm = {.r = {{mem, 0x40000000, sizeof(mem)}}, .n = 1};
	struct al_vq drv, dev;
	assert_int_equal(al_vq_setup(&drv, &shm, 0x40000000, 4, 16, 0, sd, 4, true), 0);
	assert_int_equal(al_vq_setup(&dev, &shm, 0x40000000, 4, 16, 0, sv, 4, false), 0);
	for (uint16_t i = 0; i < 4; i++) {
		sd[i].off = 1024u + 64u * i;
		sd[i].len = 64;
	}
	uint8_t *avail = mem + 16 * 4, *used = mem + vring_used_offset(4, 16);
	uint16_t id;
	uint32_t len;
	for (uint32_t n = 0; n < 32; n++) {
		uint16_t want = (uint16_t)(n % 2u); /* the same ids a lap later */
		uint8_t *d = mem + 16u * want;
		if (n % 3u == 2u) { /* the peer writes over what we wrote last lap */
			tu_wr32(d, 0xdeadbeef);
			tu_wr32(d + 4, 1);
			tu_wr32(d + 8, 0x7fffffff);
			tu_wr16(d + 12, VRING_DESC_F_NEXT);
			tu_wr16(d + 14, 3);
			tu_wr16(avail + AL_VRING_AVAIL_RING + 2u * (drv.pub_idx & 3u), 3);
			tu_wr32(used + AL_VRING_USED_RING + 8u * (dev.pub_idx & 3u), 2);
			tu_wr32(used + AL_VRING_USED_RING + 8u * (dev.pub_idx & 3u) + 4, 60);
		}
		al_vq_post(&drv, &shm, want, 32, n % 4u == 1u);
		assert_int_equal(tu_rd32(d), 0x40000000u + sd[want].off);
		assert_int_equal(tu_rd32(d + 4), 0);
		assert_int_equal(tu_rd32(d + 8), 32);
		assert_int_equal(tu_rd16(d + 12), n % 4u == 1u ? VRING_DESC_F_WRITE : 0);
		assert_int_equal(tu_rd16(d + 14), 0);
		assert_int_equal(al_vq_get_avail(&dev, &shm, &id), 1);
		assert_int_equal(id, want);
		assert_int_equal(sv[id].off, sd[id].off);
		assert_int_equal(sv[id].len, 32);
		al_vq_put_used(&dev, id, 5);
		assert_int_equal(al_vq_get_used(&drv, &id, &len), 1);
		assert_int_equal(id, want);
		assert_int_equal(len, 5);
		sd[id].state = AL_DS_FREE;
	}
	assert_false(drv.fault);
	assert_false(dev.fault);
}

/* Re-enabling notifications re-checks the ring: entries published while
 * they were disabled (no doorbell came) are reported, in both modes and
 * for both roles' rings. */
static void vq_enable_rechecks_the_ring(void **state)
{
	(void)state;
	static uint8_t mem[4096];
	static struct al_desc_shadow sd[4], sv[4];
	struct al_mem shm = {.r = {{mem, 0x1000, sizeof(mem)}}, .n = 1};
	for (int ev = 0; ev < 2; ev++) {
		struct al_vq drv, dev;
		assert_int_equal(al_vq_setup(&drv, &shm, 0x1000, 4, 16, 0, sd, 4, true), 0);
		assert_int_equal(al_vq_setup(&dev, &shm, 0x1000, 4, 16, 0, sv, 4, false), 0);
		for (uint16_t i = 0; i < 4; i++) {
			sd[i].off = 1024u + 64u * i;
			sd[i].len = 64;
		}
		uint16_t id;
		uint32_t len;
		/* device side (avail ring) */
		al_vq_notify_disable(&dev, false, ev);
		assert_int_equal(al_vq_get_avail(&dev, &shm, &id), 0);
		assert_false(al_vq_notify_enable(&dev, false, ev)); /* nothing yet */
		al_vq_notify_disable(&dev, false, ev);
		al_vq_post(&drv, &shm, 0, 16, false);	       /* arrives while disabled */
		assert_false(al_vq_need_kick(&drv, true, ev)); /* so: no doorbell */
		assert_true(al_vq_notify_enable(&dev, false, ev));
		assert_int_equal(al_vq_get_avail(&dev, &shm, &id), 1);
		assert_int_equal(id, 0);
		/* driver side (used ring) */
		al_vq_notify_disable(&drv, true, ev);
		assert_int_equal(al_vq_get_used(&drv, &id, &len), 0);
		assert_false(al_vq_notify_enable(&drv, true, ev));
		al_vq_notify_disable(&drv, true, ev);
		al_vq_put_used(&dev, 0, 16);
		assert_false(al_vq_need_kick(&dev, false, ev));
		assert_true(al_vq_notify_enable(&drv, true, ev));
		assert_int_equal(al_vq_get_used(&drv, &id, &len), 1);
		/* drained and re-enabled: the next entry rings */
		assert_false(al_vq_notify_enable(&dev, false, ev));
		assert_false(al_vq_notify_enable(&drv, true, ev));
		al_vq_post(&drv, &shm, 1, 16, false);
		assert_true(al_vq_need_kick(&drv, true, ev));
		assert_int_equal(al_vq_get_avail(&dev, &shm, &id), 1);
		al_vq_put_used(&dev, 1, 16);
		assert_true(al_vq_need_kick(&dev, false, ev));
	}
}

/* Event-index kicks across the wrap: the peer asks at index 0xFFFF, the
 * producer moves from 0xFFFE past 0 in one step. */
static void vq_event_idx_kick_across_wrap(void **state)
{
	(void)state;
	static uint8_t mem[4096];
	static struct al_desc_shadow sd[4], sv[4];
	struct al_mem shm = {.r = {{mem, 0x1000, sizeof(mem)}}, .n = 1};
	struct al_vq drv, dev;
	assert_int_equal(al_vq_setup(&drv, &shm, 0x1000, 4, 16, 0, sd, 4, true), 0);
	assert_int_equal(al_vq_setup(&dev, &shm, 0x1000, 4, 16, 0, sv, 4, false), 0);
	for (uint16_t i = 0; i < 4; i++) {
		sd[i].off = 1024u + 64u * i;
		sd[i].len = 64;
	}
	drv.pub_idx = drv.kicked_idx = 0xFFFE;
	dev.last_idx = 0xFFFE;
	tu_wr16(mem + 16 * 4 + AL_VRING_AVAIL_IDX, 0xFFFE);
	/* device wants to hear when entry 0xFFFE is published */
	assert_false(al_vq_notify_enable(&dev, false, true));
	al_vq_post(&drv, &shm, 0, 16, false);
	al_vq_post(&drv, &shm, 1, 16, false);
	al_vq_post(&drv, &shm, 2, 16, false); /* pub_idx 0xFFFE -> 1 */
	assert_true(al_vq_need_kick(&drv, true, true));
	assert_false(al_vq_need_kick(&drv, true, true)); /* nothing new */
	al_vq_notify_disable(&dev, false, true);
	al_vq_post(&drv, &shm, 3, 16, false);
	assert_false(al_vq_need_kick(&drv, true, true));
	/* flags mode */
	al_vq_notify_disable(&dev, false, false);
	assert_int_equal(al_vq_get_avail(&dev, &shm, &(uint16_t){0}), 1);
	assert_true(al_vq_pending(&dev, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vq_next_buf_is_only_our_own_buffer),
	    cmocka_unit_test(wrap_h2r_num4_event_idx),
	    cmocka_unit_test(wrap_r2h_num4_event_idx),
	    cmocka_unit_test(wrap_h2r_num16_flags),
	    cmocka_unit_test(wrap_r2h_num16_flags),
	    cmocka_unit_test(wrap_h2r_num1),
	    cmocka_unit_test(wrap_r2h_num1),
	    cmocka_unit_test(wrap_echo_both_directions),
	    cmocka_unit_test(full_ring_h2r),
	    cmocka_unit_test(full_ring_r2h),
	    cmocka_unit_test(suppression_event_idx),
	    cmocka_unit_test(suppression_flags),
	    cmocka_unit_test(suppression_while_draining_event_idx),
	    cmocka_unit_test(suppression_while_draining_flags),
	    cmocka_unit_test(no_message_stranded_while_draining),
	    cmocka_unit_test(features_are_negotiated),
	    cmocka_unit_test(shm_translation_bounds),
	    cmocka_unit_test(vq_setup_rejects_bad_geometry),
	    cmocka_unit_test(vq_pair_across_wrap),
	    cmocka_unit_test(vq_repost_restores_what_the_peer_changed),
	    cmocka_unit_test(vq_enable_rechecks_the_ring),
	    cmocka_unit_test(vq_event_idx_kick_across_wrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
