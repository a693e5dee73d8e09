/* Tests the rpmsg bus: addresses, dispatch, binding, sizes, buffer waits, link-up, configs. */
#include <stdlib.h>

#include "test_util.h"

static struct tu_link L;

static int other(int side)
{
	return side == TU_DRV ? TU_DEV : TU_DRV;
}

/* ---- addresses --------------------------------------------------------- */

static void addr_any_allocates_from_1024_skipping_taken(void **state)
{
	(void)state;
	static struct rpmsg_endpoint e[8];
	tu_up(&L, NULL, NULL, NULL);
	struct rpmsg_device *rd = tu_rdev(&L, TU_DEV);
	assert_int_equal(tu_ept(&e[0], rd, NULL, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(e[0].addr, 1024);
	assert_int_equal(tu_ept(&e[1], rd, NULL, 1025, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(tu_ept(&e[2], rd, NULL, 1027, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(tu_ept(&e[3], rd, NULL, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(e[3].addr, 1026); /* 1025 taken */
	assert_int_equal(tu_ept(&e[4], rd, NULL, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(e[4].addr, 1028); /* 1027 taken */
	/* the other device allocates independently */
	assert_int_equal(
	    tu_ept(&e[5], tu_rdev(&L, TU_DRV), NULL, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(e[5].addr, 1024);
	/* allocated addresses are never reserved ones, never duplicates */
	for (int i = 0; i < 5; i++) {
		assert_true(e[i].addr >= RPMSG_RESERVED_ADDRESSES);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(e[i].addr, e[j].addr);
	}
	tu_check(&L);
}

static void addr_explicit_taken_is_eaddr(void **state)
{
	(void)state;
	static struct rpmsg_endpoint e[4], x;
	tu_up(&L, NULL, NULL, NULL);
	struct rpmsg_device *rd = tu_rdev(&L, TU_DRV);
	assert_int_equal(tu_ept(&e[0], rd, NULL, 0x500, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(tu_ept(&e[1], rd, NULL, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(tu_ept(&x, rd, NULL, 0x500, RPMSG_ADDR_ANY, NULL), AL_EADDR);
	assert_int_equal(tu_ept(&x, rd, NULL, e[1].addr, RPMSG_ADDR_ANY, NULL), AL_EADDR);
	/* the name service owns 53 once it is negotiated */
	assert_int_equal(tu_ept(&x, rd, NULL, RPMSG_NS_EPT_ADDR, RPMSG_ADDR_ANY, NULL), AL_EADDR);
	/* bad arguments */
	assert_int_equal(rpmsg_create_ept(&x, rd, NULL, 0x600, RPMSG_ADDR_ANY, NULL, NULL),
			 AL_EINVAL);
	assert_int_equal(rpmsg_create_ept(NULL, rd, NULL, 0x600, RPMSG_ADDR_ANY, tu_rx_cb, NULL),
			 AL_EINVAL);
	assert_int_equal(rpmsg_create_ept(&x, NULL, NULL, 0x600, RPMSG_ADDR_ANY, tu_rx_cb, NULL),
			 AL_EINVAL);
	/* a destroyed endpoint's address is free again */
	rpmsg_destroy_ept(&e[0]);
	assert_null(e[0].rdev);
	assert_int_equal(tu_ept(&x, rd, NULL, 0x500, RPMSG_ADDR_ANY, NULL), 0);
	rpmsg_destroy_ept(NULL); /* ignored */
	tu_check(&L);
}

/* ---- dispatch ---------------------------------------------------------- */

static void dispatch_by_dst_many_endpoints(void **state)
{
	(void)state;
	enum { N = 4 };
	static struct rpmsg_endpoint ed[N], ev[N];
	static struct tu_rec rd[N], rv[N];
	tu_up(&L, NULL, NULL, NULL);
	memset(rd, 0, sizeof(rd));
	memset(rv, 0, sizeof(rv));
	for (int i = 0; i < N; i++) {
		/* driver i talks to device i by default */
		assert_int_equal(tu_ept(&ev[i], tu_rdev(&L, TU_DEV), NULL, 0x800 + (uint32_t)i,
					RPMSG_ADDR_ANY, &rv[i]),
				 0);
		assert_int_equal(
		    tu_ept(&ed[i], tu_rdev(&L, TU_DRV), NULL, RPMSG_ADDR_ANY, ev[i].addr, &rd[i]),
		    0);
	}
	/* every driver endpoint sends to every device endpoint, interleaved,
	 * and each device endpoint answers every sender */
	uint8_t buf[16];
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				int before = rv[j].n;
				buf[0] = (uint8_t)i;
				buf[1] = (uint8_t)j;
				buf[2] = (uint8_t)k;
				assert_int_equal(rpmsg_trysendto(&ed[i], buf, 3, ev[j].addr), 3);
				assert_int_equal(tu_pump(&L), 1);
				assert_int_equal(rv[j].n, before + 1);
				assert_int_equal(rv[j].src, ed[i].addr);
				assert_int_equal(rv[j].len, 3);
				assert_memory_equal(rv[j].data, buf, 3);
				before = rd[i].n;
				assert_int_equal(rpmsg_trysendto(&ev[j], buf, 2, ed[i].addr), 2);
				assert_int_equal(tu_pump(&L), 1);
				assert_int_equal(rd[i].n, before + 1);
				assert_int_equal(rd[i].src, ev[j].addr);
			}
	for (int i = 0; i < N; i++) {
		assert_int_equal(rv[i].n, 3 * N);
		assert_int_equal(rd[i].n, 3 * N);
		assert_int_equal(ev[i].rx_msgs, 3 * N);
		assert_int_equal(ed[i].tx_msgs, 3 * N);
		/* device endpoints bound to the first sender, driver 0 */
		assert_int_equal(ev[i].dest_addr, ed[0].addr);
	}
	/* many in flight at once, to different endpoints, in one pump */
	for (int i = 0; i < N; i++) {
		buf[0] = (uint8_t)(0x40 + i);
		assert_int_equal(rpmsg_send(&ed[i], buf, 1), 1);
	}
	assert_int_equal(tu_pump(&L), N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(rv[i].data[0], 0x40 + i);
		assert_int_equal(rv[i].src, ed[i].addr);
	}
	/* an explicit source address (offchannel) is what the receiver sees */
	assert_int_equal(rpmsg_send_offchannel(&ed[0], 0x1234, ev[1].addr, "oc", 2), 2);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(rv[1].src, 0x1234);
	assert_int_equal(rpmsg_trysend_offchannel(&ev[2], 0x4321, ed[3].addr, "oc", 2), 2);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(rd[3].src, 0x4321);
	tu_check(&L);
}

static void ept_with_dest_any_binds_to_first_sender(void **state)
{
	(void)state;
	static struct rpmsg_endpoint a, b, c;
	static struct tu_rec ra, rb, rc;
	tu_up(&L, NULL, NULL, NULL);
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(tu_ept(&a, tu_rdev(&L, TU_DEV), NULL, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, &ra),
			 0);
	assert_int_equal(tu_ept(&b, tu_rdev(&L, TU_DRV), NULL, 0x2000, a.addr, &rb), 0);
	assert_int_equal(tu_ept(&c, tu_rdev(&L, TU_DRV), NULL, 0x3000, a.addr, &rc), 0);
	assert_false(is_rpmsg_ept_ready(&a));
	assert_true(is_rpmsg_ept_ready(&b));
	/* an unbound endpoint cannot send to its default destination
	 * (OpenAMP's RPMSG_ERR_PARAM) */
	assert_int_equal(rpmsg_trysend(&a, "x", 1), AL_EINVAL);
	assert_int_equal(rpmsg_send(&a, "x", 1), AL_EINVAL);
	assert_int_equal(rpmsg_trysend(&b, "hi", 2), 2);
	assert_int_equal(tu_pump(&L), 1);
	assert_true(is_rpmsg_ept_ready(&a));
	assert_int_equal(a.dest_addr, 0x2000);
	/* a second sender does not rebind */
	assert_int_equal(rpmsg_trysend(&c, "yo", 2), 2);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(ra.src, 0x3000);
	assert_int_equal(a.dest_addr, 0x2000);
	/* the reply goes to the first sender */
	assert_int_equal(rpmsg_send(&a, "back", 4), 4);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(rb.n, 1);
	assert_int_equal(rc.n, 0);
	assert_memory_equal(rb.data, "back", 4);
	assert_int_equal(rb.src, a.addr);
	tu_check(&L);
}

static void unknown_dst_dropped_and_counted(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev;
	static struct tu_rec rd, rv;
	tu_up(&L, NULL, NULL, NULL);
	memset(&rd, 0, sizeof(rd));
	memset(&rv, 0, sizeof(rv));
	assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, &rd), 0);
	assert_int_equal(tu_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, &rv), 0);
	for (int side = 0; side < 2; side++) {
		struct rpmsg_endpoint *tx = side == TU_DRV ? &ed : &ev;
		struct rpmsg_stats s0, s1, p0, p1;
		al_get_stats(tu_rdev(&L, other(side)), &s0);
		al_get_stats(tu_rdev(&L, side), &p0);
		/* more than the ring holds: the blocked sender lets the peer
		 * run, which must give the dropped messages' buffers back */
		L.lb.pump_in_wait = true;
		for (int i = 0; i < 40; i++)
			assert_int_equal(rpmsg_sendto(tx, "lost", 4, 0x7777 + (uint32_t)(i % 3)),
					 4);
		L.lb.pump_in_wait = false;
		assert_true(tu_pump(&L) >= 0);
		al_get_stats(tu_rdev(&L, other(side)), &s1);
		al_get_stats(tu_rdev(&L, side), &p1);
		assert_int_equal(s1.rx_unknown_dst - s0.rx_unknown_dst, 40);
		assert_int_equal(s1.rx_msgs, s0.rx_msgs);
		assert_int_equal(p1.tx_msgs - p0.tx_msgs, 40);
		assert_int_equal(rd.n + rv.n, 0);
		assert_int_equal(al_virtio_free_tx_buffers(tu_rv(&L, side)), 16);
	}
	/* the known endpoint still works */
	assert_int_equal(rpmsg_send(&ed, "ok", 2), 2);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(rv.n, 1);
	tu_check(&L);
}

/* ---- payload sizes ------------------------------------------------------- */

static void payload_too_large_is_emsgsize(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev;
	static struct tu_rec rd, rv;
	static uint8_t big[600];
	tu_up(&L, NULL, NULL, NULL);
	memset(&rd, 0, sizeof(rd));
	memset(&rv, 0, sizeof(rv));
	assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, &rd), 0);
	assert_int_equal(tu_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, &rv), 0);
	tu_pattern(big, sizeof(big), 7);
	for (int side = 0; side < 2; side++) {
		struct rpmsg_endpoint *tx = side == TU_DRV ? &ed : &ev;
		struct tu_rec *rx = side == TU_DRV ? &rv : &rd;
		int max = rpmsg_get_tx_buffer_size(tx);
		assert_int_equal(max, 496);
		assert_int_equal(rpmsg_get_rx_buffer_size(tx), 496);
		struct rpmsg_stats s0, s1;
		al_get_stats(tu_rdev(&L, side), &s0);
		int free0 = al_virtio_free_tx_buffers(tu_rv(&L, side));
		assert_int_equal(rpmsg_trysend(tx, big, max + 1), AL_EMSGSIZE);
		assert_int_equal(rpmsg_send(tx, big, max + 1), AL_EMSGSIZE);
		assert_int_equal(rpmsg_sendto(tx, big, 0x7FFFFFFF, tx->dest_addr), AL_EMSGSIZE);
		assert_int_equal(al_send_timeout(tx, tx->addr, tx->dest_addr, big, 600, 0),
				 AL_EMSGSIZE);
		assert_int_equal(rpmsg_trysend(tx, big, -1), AL_EINVAL);
		assert_int_equal(rpmsg_trysend(tx, NULL, 4), AL_EINVAL);
		assert_int_equal(rpmsg_trysend(NULL, big, 4), AL_EINVAL);
		al_get_stats(tu_rdev(&L, side), &s1);
		assert_int_equal(s1.tx_msgs, s0.tx_msgs);
		assert_int_equal(al_virtio_free_tx_buffers(tu_rv(&L, side)), free0);
		assert_int_equal(tu_pump(&L), 0);
		assert_int_equal(rx->n, 0);
		/* exactly the maximum and zero bytes both go through */
		assert_int_equal(rpmsg_trysend(tx, big, max), max);
		assert_int_equal(tu_pump(&L), 1);
		assert_int_equal(rx->len, (size_t)max);
		assert_memory_equal(rx->data, big, (size_t)max);
		assert_int_equal(rpmsg_trysend(tx, NULL, 0), AL_EINVAL); /* as OpenAMP */
		assert_int_equal(rpmsg_trysend(tx, "", 0), 0);
		assert_int_equal(tu_pump(&L), 1);
		assert_int_equal(rx->n, 2);
		assert_int_equal(rx->len, 0);
	}
	tu_check(&L);
}

/* ---- waiting for buffers --------------------------------------------------- */

static void fill_ring(struct rpmsg_endpoint *tx)
{
	int i = 0;
	while (rpmsg_trysend(tx, "fill", 4) == 4)
		i++;
	assert_int_equal(i, 16);
}

static void send_waits_for_timeout_then_enobufs(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev;
	static struct tu_rec rd, rv;
	for (int side = 0; side < 2; side++) {
		tu_up(&L, NULL, NULL, NULL);
		memset(&rd, 0, sizeof(rd));
		memset(&rv, 0, sizeof(rv));
		assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, &rd), 0);
		assert_int_equal(tu_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, &rv), 0);
		struct rpmsg_endpoint *tx = side == TU_DRV ? &ed : &ev;
		fill_ring(tx);
		struct rpmsg_stats s0, s1;
		al_get_stats(tu_rdev(&L, side), &s0);
		/* trysend does not wait at all */
		uint64_t t0 = L.lb.now_ms;
		assert_int_equal(rpmsg_trysend(tx, "x", 1), AL_ENOBUFS);
		assert_int_equal(L.lb.now_ms, t0);
		/* send waits its timeout out (the peer never runs) */
		al_set_send_timeout(tu_rdev(&L, side), 100);
		assert_int_equal(rpmsg_send(tx, "x", 1), AL_ENOBUFS);
		assert_true(L.lb.now_ms - t0 >= 100);
		assert_true(L.lb.now_ms - t0 < 120);
		t0 = L.lb.now_ms;
		assert_int_equal(rpmsg_sendto(tx, "x", 1, tx->dest_addr), AL_ENOBUFS);
		assert_true(L.lb.now_ms - t0 >= 100);
		/* an explicit timeout overrides the device's */
		t0 = L.lb.now_ms;
		assert_int_equal(al_send_timeout(tx, tx->addr, tx->dest_addr, "x", 1, 35),
				 AL_ENOBUFS);
		assert_true(L.lb.now_ms - t0 >= 35 && L.lb.now_ms - t0 < 50);
		uint32_t len;
		int err = 0;
		t0 = L.lb.now_ms;
		assert_null(al_get_tx_buffer_timeout(tx, &len, 20, &err));
		assert_int_equal(err, AL_ENOBUFS);
		assert_true(L.lb.now_ms - t0 >= 20);
		/* a zero timeout makes send a trysend */
		al_set_send_timeout(tu_rdev(&L, side), 0);
		t0 = L.lb.now_ms;
		assert_int_equal(rpmsg_send(tx, "x", 1), AL_ENOBUFS);
		assert_int_equal(L.lb.now_ms, t0);
		al_get_stats(tu_rdev(&L, side), &s1);
		assert_int_equal(s1.tx_msgs, s0.tx_msgs);
		assert_int_equal(s1.tx_no_buf - s0.tx_no_buf, 6);
		/* nothing extra went out; the 16 queued arrive, and waiting
		 * left the sender's notifications consistent */
		assert_int_equal(tu_pump(&L), 16);
		assert_int_equal(rd.n + rv.n, 16);
		assert_int_equal(L.lb.drv.rvdev.tx_waiters + L.lb.dev.rvdev.tx_waiters, 0);
		assert_int_equal(rpmsg_trysend(tx, "ok", 2), 2);
		assert_int_equal(tu_pump(&L), 1);
		tu_check(&L);
	}
}

static void send_succeeds_when_peer_frees_buffers(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev;
	static struct tu_rec rd, rv;
	for (int side = 0; side < 2; side++) {
		for (int forever = 0; forever < 2; forever++) {
			tu_up(&L, NULL, NULL, NULL);
			memset(&rd, 0, sizeof(rd));
			memset(&rv, 0, sizeof(rv));
			assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, &rd),
					 0);
			assert_int_equal(tu_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, &rv),
					 0);
			struct rpmsg_endpoint *tx = side == TU_DRV ? &ed : &ev;
			struct tu_rec *rx = side == TU_DRV ? &rv : &rd;
			fill_ring(tx);
			L.lb.pump_in_wait = true;
			al_set_send_timeout(tu_rdev(&L, side), forever ? AL_WAIT_FOREVER : 1000);
			uint64_t t0 = L.lb.now_ms;
			assert_int_equal(rpmsg_send(tx, "late", 4), 4);
			assert_true(L.lb.now_ms - t0 < 1000);
			/* the peer ran inside the wait and took all 16 */
			assert_int_equal(rx->n, 16);
			assert_int_equal(L.lb.drv.rvdev.tx_waiters + L.lb.dev.rvdev.tx_waiters, 0);
			L.lb.pump_in_wait = false;
			assert_true(tu_pump(&L) >= 1);
			assert_int_equal(rx->n, 17);
			assert_memory_equal(rx->data, "late", 4);
			/* and the zero-copy reservation waits the same way */
			fill_ring(tx);
			L.lb.pump_in_wait = true;
			uint32_t len = 0;
			void *p = rpmsg_get_tx_payload_buffer(tx, &len, true);
			assert_non_null(p);
			assert_int_equal(len, 496);
			memcpy(p, "zc", 2);
			assert_int_equal(rpmsg_send_nocopy(tx, p, 2), 2);
			L.lb.pump_in_wait = false;
			assert_true(tu_pump(&L) >= 1);
			assert_memory_equal(rx->data, "zc", 2);
			tu_check(&L);
		}
	}
}

/* A blocked sender asks for a doorbell when buffers come back and its
 * doorbell handler wakes it (the port's wake hook). The wait hook here
 * plays both threads: the peer runs, then this side's doorbell handler. */
static int woken;

static void doorbell_wait(struct tu_link *t, int side, uint32_t timeout_ms)
{
	struct al_loopback_side *self = tu_side(t, side), *peer = tu_side(t, other(side));
	if (peer->pending) {
		peer->pending = 0;
		assert_true(al_virtio_notified(&peer->rvdev) >= 0);
	}
	if (self->pending) {
		int w = t->wakes[side];
		self->pending = 0;
		assert_true(al_virtio_notified(&self->rvdev) >= 0);
		woken += t->wakes[side] - w;
		return;
	}
	t->lb.now_ms += timeout_ms > 10 ? 10 : timeout_ms;
}

static void blocked_sender_is_rung_and_woken(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev;
	static struct tu_rec rd, rv;
	for (int ev_idx = 0; ev_idx < 2; ev_idx++)
		for (int side = 0; side < 2; side++) {
			struct al_layout_cfg cfg = tu_cfg(16, 512, ev_idx ? TU_F_EVIDX : 0);
			tu_up(&L, &cfg, NULL, NULL);
			memset(&rd, 0, sizeof(rd));
			memset(&rv, 0, sizeof(rv));
			assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, &rd),
					 0);
			assert_int_equal(tu_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, &rv),
					 0);
			struct rpmsg_endpoint *tx = side == TU_DRV ? &ed : &ev;
			fill_ring(tx);
			uint32_t rung0 = tu_side(&L, side)->rung;
			woken = 0;
			L.on_wait = doorbell_wait;
			al_set_send_timeout(tu_rdev(&L, side), 1000);
			assert_int_equal(rpmsg_send(tx, "woken", 5), 5);
			L.on_wait = NULL;
			/* returning the buffers rang the waiting sender, and its
			 * doorbell handler woke it */
			assert_true(tu_side(&L, side)->rung > rung0);
			assert_true(woken >= 1);
			assert_int_equal(L.lb.drv.rvdev.tx_waiters + L.lb.dev.rvdev.tx_waiters, 0);
			/* no longer waiting: completions ring it no more */
			assert_true(tu_pump(&L) >= 1);
			uint32_t rung1 = tu_side(&L, side)->rung;
			for (int i = 0; i < 8; i++)
				assert_int_equal(rpmsg_trysend(tx, "q", 1), 1);
			assert_int_equal(tu_pump(&L), 8);
			assert_int_equal(tu_side(&L, side)->rung, rung1);
			tu_check(&L);
		}
}

/* ---- the port saw the peer go ----------------------------------------- */

static uint8_t snap[TU_SHM_SIZE];

static void lost_wait(struct tu_link *t, int side, uint32_t timeout_ms)
{
	(void)timeout_ms;
	al_virtio_peer_lost(tu_rv(t, side));
}

static void peer_lost_fails_calls_with_enolink(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev;
	for (int side = 0; side < 2; side++) {
		tu_up(&L, NULL, NULL, NULL);
		assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, NULL), 0);
		assert_int_equal(tu_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, NULL), 0);
		struct rpmsg_endpoint *e = side == TU_DRV ? &ed : &ev;
		struct rpmsg_virtio_device *rv = tu_rv(&L, side);
		int wakes = L.wakes[side];
		al_virtio_peer_lost(rv);
		al_virtio_peer_lost(NULL); /* ignored */
		assert_int_equal(al_virtio_link_state(rv), AL_LINK_LOST);
		assert_true(L.wakes[side] > wakes);
		memcpy(snap, L.lb.shm.va, L.lb.shm.size);
		uint64_t t0 = L.lb.now_ms;
		al_set_send_timeout(tu_rdev(&L, side), 1000);
		assert_int_equal(rpmsg_trysend(e, "x", 1), AL_ENOLINK);
		assert_int_equal(rpmsg_send(e, "x", 1), AL_ENOLINK);
		uint32_t len;
		int err = 0;
		assert_null(al_get_tx_buffer_timeout(e, &len, 100, &err));
		assert_int_equal(err, AL_ENOLINK);
		assert_int_equal(al_virtio_free_tx_buffers(rv), AL_ENOLINK);
		assert_int_equal(al_virtio_wait_link_up(rv, 100), AL_ENOLINK);
		assert_int_equal(al_virtio_notified(rv), AL_ENOLINK);
		assert_int_equal(L.lb.now_ms, t0);
		assert_memory_equal(snap, L.lb.shm.va, L.lb.shm.size); /* rings left alone */
		/* not a protocol violation: no reason, no error callback */
		assert_int_equal(L.errs[side].calls, 0);
		assert_int_equal(al_virtio_link_state(tu_rv(&L, other(side))), AL_LINK_UP);
		tu_check(&L);

		/* a sender blocked for a buffer returns as soon as it is told */
		tu_up(&L, NULL, NULL, NULL);
		assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, NULL), 0);
		assert_int_equal(tu_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, NULL), 0);
		fill_ring(e);
		L.on_wait = lost_wait;
		al_set_send_timeout(tu_rdev(&L, side), AL_WAIT_FOREVER);
		assert_int_equal(rpmsg_send(e, "x", 1), AL_ENOLINK);
		L.on_wait = NULL;
		assert_int_equal(tu_rv(&L, side)->tx_waiters, 0);
		tu_check(&L);
	}
}

/* ---- before the link is up ----------------------------------------------- */

static void sends_before_device_link_up(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev;
	static struct tu_rec rd, rv;
	tu_init(&L, NULL);
	struct al_loopback *lb = &L.lb;
	/* the device alone: link down until the driver sets DRIVER_OK */
	assert_int_equal(rpmsg_init_vdev(&lb->dev.rvdev, &lb->dev.vdev, NULL, &lb->shm, NULL), 0);
	al_virtio_set_error_cb(&lb->dev.rvdev, tu_error_cb);
	assert_int_equal(al_virtio_link_state(&lb->dev.rvdev), AL_LINK_DOWN);
	memset(&rd, 0, sizeof(rd));
	memset(&rv, 0, sizeof(rv));
	assert_int_equal(tu_ept(&ev, &lb->dev.rvdev.rdev, NULL, 0x401, 0x400, &rv), 0);
	al_set_send_timeout(&lb->dev.rvdev.rdev, 1000);
	uint64_t t0 = lb->now_ms;
	assert_int_equal(rpmsg_trysend(&ev, "x", 1), AL_ESTATE);
	assert_int_equal(rpmsg_send(&ev, "x", 1), AL_ESTATE);
	assert_int_equal(lb->now_ms, t0);
	uint32_t len;
	int err = 0;
	assert_null(al_get_tx_buffer_timeout(&ev, &len, 0, &err));
	assert_int_equal(err, AL_ESTATE);
	assert_int_equal(al_virtio_free_tx_buffers(&lb->dev.rvdev), AL_ESTATE);
	assert_int_equal(al_virtio_notified(&lb->dev.rvdev), AL_ESTATE);
	assert_int_equal(al_virtio_wait_link_up(&lb->dev.rvdev, 50), AL_ETIMEDOUT);
	assert_true(lb->now_ms - t0 >= 50);
	struct rpmsg_stats s;
	al_get_stats(&lb->dev.rvdev.rdev, &s);
	assert_int_equal(s.tx_msgs, 0);

	/* the driver comes up and sends at once; the device is still down */
	assert_int_equal(rpmsg_init_vdev(&lb->drv.rvdev, &lb->drv.vdev, NULL, &lb->shm, &lb->pool),
			 0);
	al_virtio_set_error_cb(&lb->drv.rvdev, tu_error_cb);
	assert_int_equal(al_virtio_link_state(&lb->drv.rvdev), AL_LINK_UP);
	assert_int_equal(tu_ept(&ed, &lb->drv.rvdev.rdev, NULL, 0x400, 0x401, &rd), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rpmsg_trysend(&ed, "early", 5), 5);
	assert_int_equal(al_virtio_link_state(&lb->dev.rvdev), AL_LINK_DOWN);
	assert_int_equal(rpmsg_trysend(&ev, "x", 1), AL_ESTATE);
	/* wait_link_up sees DRIVER_OK without a doorbell */
	assert_int_equal(al_virtio_wait_link_up(&lb->dev.rvdev, 10), 0);
	assert_int_equal(al_virtio_link_state(&lb->dev.rvdev), AL_LINK_UP);
	assert_int_equal(tu_pump(&L), 3);
	assert_int_equal(rv.n, 3);
	assert_memory_equal(rv.data, "early", 5);
	assert_int_equal(rpmsg_trysend(&ev, "now", 3), 3);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(rd.n, 1);
	assert_int_equal(L.errs[TU_DRV].calls + L.errs[TU_DEV].calls, 0);
	tu_check(&L);
}

/* The device comes up from the doorbell handler alone, and messages the
 * driver queued before are delivered in the same call. */
static void device_link_up_from_doorbell(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev;
	static struct tu_rec rd, rv;
	tu_start(&L, NULL, NULL, NULL);
	memset(&rd, 0, sizeof(rd));
	memset(&rv, 0, sizeof(rv));
	assert_int_equal(tu_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, &rv), 0);
	assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, &rd), 0);
	assert_int_equal(rpmsg_trysend(&ed, "q", 1), 1);
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DEV)), AL_LINK_DOWN);
	assert_true(L.lb.dev.pending > 0);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DEV)), AL_LINK_UP);
	assert_int_equal(rv.n, 1);
	tu_check(&L);
}

/* ---- configurable buffer sizes -------------------------------------------- */

/* Start both sides with explicit configs (device first). */
static void start_with_config(struct tu_link *t, const struct rpmsg_virtio_config *dc,
			      const struct rpmsg_virtio_config *hc)
{
	struct al_loopback *lb = &t->lb;
	assert_int_equal(
	    rpmsg_init_vdev_with_config(&lb->dev.rvdev, &lb->dev.vdev, NULL, &lb->shm, NULL, dc),
	    0);
	assert_int_equal(rpmsg_init_vdev_with_config(&lb->drv.rvdev, &lb->drv.vdev, NULL, &lb->shm,
						     &lb->pool, hc),
			 0);
	tu_set_error_cbs(t);
	assert_true(tu_pump(t) >= 0);
}

static void config_sizes_case(uint32_t h2r, uint32_t r2h, uint32_t num)
{
	static struct rpmsg_endpoint ed, ev;
	static struct tu_rec rd, rv;
	static uint8_t big[70000];
	struct al_layout_cfg cfg = tu_cfg(num, h2r > r2h ? h2r : r2h, TU_F_NS | TU_F_EVIDX);
	struct rpmsg_virtio_config rc = {h2r, r2h, false};
	tu_init(&L, &cfg);
	start_with_config(&L, &rc, &rc);
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DEV)), AL_LINK_UP);
	memset(&rd, 0, sizeof(rd));
	memset(&rv, 0, sizeof(rv));
	assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, &rd), 0);
	assert_int_equal(tu_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, &rv), 0);
	assert_int_equal(rpmsg_get_tx_buffer_size(&ed), (int)h2r - 16);
	assert_int_equal(rpmsg_get_rx_buffer_size(&ed), (int)r2h - 16);
	assert_int_equal(rpmsg_get_tx_buffer_size(&ev), (int)r2h - 16);
	assert_int_equal(rpmsg_get_rx_buffer_size(&ev), (int)h2r - 16);
	tu_pattern(big, sizeof(big), h2r ^ r2h);
	int hmax = (int)h2r - 16, rmax = (int)r2h - 16;
	for (uint32_t i = 0; i < 2 * num + 1; i++) { /* every buffer, both ways */
		assert_int_equal(rpmsg_trysend(&ed, big, hmax + 1), AL_EMSGSIZE);
		assert_int_equal(rpmsg_trysend(&ed, big + i, hmax), hmax);
		assert_int_equal(tu_pump(&L), 1);
		assert_int_equal(rv.len, (size_t)hmax);
		assert_memory_equal(rv.data, big + i,
				    (size_t)(hmax < (int)TU_REC_MAX ? hmax : (int)TU_REC_MAX));
		assert_int_equal(rpmsg_trysend(&ev, big, rmax + 1), AL_EMSGSIZE);
		assert_int_equal(rpmsg_trysend(&ev, big + i, rmax), rmax);
		assert_int_equal(tu_pump(&L), 1);
		assert_int_equal(rd.len, (size_t)rmax);
		assert_memory_equal(rd.data, big + i,
				    (size_t)(rmax < (int)TU_REC_MAX ? rmax : (int)TU_REC_MAX));
	}
	tu_check(&L);
}

static void configurable_buffer_sizes(void **state)
{
	(void)state;
	config_sizes_case(1024, 256, 8);
	config_sizes_case(256, 1024, 8);
	config_sizes_case(64, 64, 16);
	config_sizes_case(512, 2048, 4);
}

/* The largest buffers (64 KiB) need a larger region than the canaried one. */
static void largest_buffer_size(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev;
	static struct tu_rec rd, rv;
	static uint8_t big[65536];
	struct al_layout_cfg cfg = tu_cfg(2, 65536, 0);
	size_t size = 5u * 65536u;
	uint8_t *mem = aligned_alloc(64, size);
	assert_non_null(mem);
	tu_init_region(&L, mem, size, &cfg);
	struct rpmsg_virtio_config rc = {65536, 65536, false};
	start_with_config(&L, &rc, &rc);
	memset(&rd, 0, sizeof(rd));
	memset(&rv, 0, sizeof(rv));
	assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, &rd), 0);
	assert_int_equal(tu_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, &rv), 0);
	/* the 16-bit header length field still holds the largest payload */
	assert_int_equal(rpmsg_get_tx_buffer_size(&ed), 65520);
	assert_int_equal(rpmsg_get_tx_buffer_size(&ev), 65520);
	tu_pattern(big, sizeof(big), 3);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rpmsg_trysend(&ed, big + i, 65521), AL_EMSGSIZE);
		assert_int_equal(rpmsg_trysend(&ed, big + i, 65520), 65520);
		assert_int_equal(rpmsg_trysend(&ev, big + 16 - i, 65520), 65520);
		assert_int_equal(tu_pump(&L), 2);
		assert_int_equal(rv.len, 65520);
		assert_int_equal(rv.sum, tu_sum(big + i, 65520));
		assert_int_equal(rd.len, 65520);
		assert_int_equal(rd.sum, tu_sum(big + 16 - i, 65520));
	}
	tu_check(&L);
	rpmsg_deinit_vdev(tu_rv(&L, TU_DRV));
	rpmsg_deinit_vdev(tu_rv(&L, TU_DEV));
	free(mem);
}

static void bad_buffer_sizes_rejected(void **state)
{
	(void)state;
	const uint32_t bad[][2] = {{63, 512}, {512, 63}, {65537, 512}, {512, 65537}, {0, 0}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rpmsg_virtio_config rc = {bad[i][0], bad[i][1], false};
		tu_init(&L, NULL);
		assert_int_equal(rpmsg_init_vdev_with_config(&L.lb.dev.rvdev, &L.lb.dev.vdev, NULL,
							     &L.lb.shm, NULL, &rc),
				 AL_EINIT);
		assert_int_equal(rpmsg_init_vdev_with_config(&L.lb.drv.rvdev, &L.lb.drv.vdev, NULL,
							     &L.lb.shm, &L.lb.pool, &rc),
				 AL_EINIT);
		assert_int_not_equal(al_virtio_link_state(tu_rv(&L, TU_DRV)), AL_LINK_UP);
		tu_check(&L);
	}
	/* NULL arguments */
	tu_init(&L, NULL);
	struct rpmsg_virtio_config ok = {512, 512, false};
	assert_int_equal(
	    rpmsg_init_vdev_with_config(NULL, &L.lb.drv.vdev, NULL, &L.lb.shm, &L.lb.pool, &ok),
	    AL_EINVAL);
	assert_int_equal(rpmsg_init_vdev_with_config(&L.lb.drv.rvdev, &L.lb.drv.vdev, NULL,
						     &L.lb.shm, NULL, &ok),
			 AL_EINVAL); /* a driver needs a pool */
	assert_int_equal(rpmsg_init_vdev_with_config(&L.lb.drv.rvdev, &L.lb.drv.vdev, NULL,
						     &L.lb.shm, &L.lb.pool, NULL),
			 AL_EINVAL);
	/* a pool too small for the receive ring */
	struct rpmsg_virtio_shm_pool small;
	rpmsg_virtio_init_shm_pool(&small, L.lb.pool.base, 512u * 15u);
	assert_int_equal(rpmsg_init_vdev(&L.lb.drv.rvdev, &L.lb.drv.vdev, NULL, &L.lb.shm, &small),
			 AL_ENOMEM);
	tu_check(&L);
}

/* Device and driver disagree: the driver's receive buffers are smaller than
 * the device's messages. The device refuses the first small buffer and the
 * link breaks instead of overrunning it. */
static void mismatched_buffer_config_breaks_link(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ev;
	struct rpmsg_virtio_config dc = {512, 512, false}, hc = {512, 256, false};
	tu_init(&L, NULL);
	start_with_config(&L, &dc, &hc);
	assert_int_equal(
	    rpmsg_create_ept(&ev, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, tu_rx_cb, NULL), 0);
	assert_int_equal(rpmsg_trysend(&ev, "x", 1), AL_EBROKEN);
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DEV)), AL_LINK_BROKEN);
	assert_non_null(al_virtio_broken_reason(tu_rv(&L, TU_DEV)));
	assert_int_equal(L.errs[TU_DEV].calls, 1);
	tu_check(&L);
}

/* ---- odds and ends --------------------------------------------------------- */

static void find_ept_by_name_and_null_args(void **state)
{
	(void)state;
	static struct rpmsg_endpoint a, b;
	tu_up(&L, NULL, NULL, NULL);
	struct rpmsg_device *rd = tu_rdev(&L, TU_DRV);
	assert_int_equal(tu_ept(&a, rd, "alpha", RPMSG_ADDR_ANY, 0x999, NULL), 0);
	assert_int_equal(tu_ept(&b, rd, "beta", RPMSG_ADDR_ANY, 0x999, NULL), 0);
	assert_ptr_equal(al_find_ept_by_name(rd, "beta"), &b);
	assert_ptr_equal(al_find_ept_by_name(rd, "alpha"), &a);
	assert_null(al_find_ept_by_name(rd, "gamma"));
	assert_null(al_find_ept_by_name(rd, NULL));
	assert_null(al_find_ept_by_name(NULL, "alpha"));
	assert_null(al_find_ept_by_name(tu_rdev(&L, TU_DEV), "alpha"));
	rpmsg_destroy_ept(&b);
	assert_null(al_find_ept_by_name(rd, "beta"));
	/* a destroyed endpoint is unattached */
	assert_int_equal(rpmsg_get_tx_buffer_size(&b), AL_EINVAL);
	assert_int_equal(rpmsg_get_rx_buffer_size(&b), AL_EINVAL);
	assert_int_equal(rpmsg_trysend(&b, "x", 1), AL_EINVAL);
	assert_int_equal(rpmsg_get_tx_buffer_size(NULL), AL_EINVAL);
	assert_int_equal(al_virtio_notified(NULL), AL_EINVAL);
	assert_int_equal(al_virtio_free_tx_buffers(NULL), AL_EINVAL);
	assert_int_equal(al_virtio_wait_link_up(NULL, 0), AL_EINVAL);
	al_get_stats(NULL, NULL);
	al_set_send_timeout(NULL, 5);
	struct rpmsg_stats s;
	al_get_stats(rd, &s);
	assert_int_equal(s.tx_msgs, 1); /* the NS DESTROY of "beta" (named, address >= 1024) */
	assert_int_equal(rd->send_timeout_ms, RPMSG_SEND_TIMEOUT_MS_DEFAULT);
	tu_check(&L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(addr_any_allocates_from_1024_skipping_taken),
	    cmocka_unit_test(addr_explicit_taken_is_eaddr),
	    cmocka_unit_test(dispatch_by_dst_many_endpoints),
	    cmocka_unit_test(ept_with_dest_any_binds_to_first_sender),
	    cmocka_unit_test(unknown_dst_dropped_and_counted),
	    cmocka_unit_test(payload_too_large_is_emsgsize),
	    cmocka_unit_test(send_waits_for_timeout_then_enobufs),
	    cmocka_unit_test(send_succeeds_when_peer_frees_buffers),
	    cmocka_unit_test(blocked_sender_is_rung_and_woken),
	    cmocka_unit_test(peer_lost_fails_calls_with_enolink),
	    cmocka_unit_test(sends_before_device_link_up),
	    cmocka_unit_test(device_link_up_from_doorbell),
	    cmocka_unit_test(configurable_buffer_sizes),
	    cmocka_unit_test(largest_buffer_size),
	    cmocka_unit_test(bad_buffer_sizes_rejected),
	    cmocka_unit_test(mismatched_buffer_config_breaks_link),
	    cmocka_unit_test(find_ept_by_name_and_null_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
