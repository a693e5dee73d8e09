/* Tests zero-copy ownership: reserve, send, release tx buffers; hold and release rx buffers. */
#include "test_util.h"

static struct tu_link L;
static struct rpmsg_endpoint E[2];
static struct tu_rec R[2];

/* Link up with one endpoint per side, bound to each other. */
static void setup(void)
{
	tu_up_pair(&L, E, R);
}

static int free_tx(int side)
{
	return al_virtio_free_tx_buffers(tu_rv(&L, side));
}

static bool in_shm(const void *p, size_t n)
{
	return tu_in_region(&E[TU_DRV], p, n);
}

/* ---- transmit buffers --------------------------------------------------- */

static void nocopy_send_both_roles(void **state)
{
	(void)state;
	setup();
	for (int side = 0; side < 2; side++) {
		struct rpmsg_endpoint *tx = &E[side];
		struct tu_rec *rx = &R[tu_other(side)];
		for (int i = 0; i < 40; i++) { /* more than the ring: buffers recycle */
			uint32_t len = 0;
			uint8_t *p = rpmsg_get_tx_payload_buffer(tx, &len, false);
			assert_non_null(p);
			assert_int_equal(len, 496);
			assert_true(in_shm(p - 16, 512));
			assert_int_equal(free_tx(side), 15);
			int n = 1 + (i * 37) % 496;
			tu_pattern(p, (size_t)n, (uint32_t)(side * 1000 + i));
			struct rpmsg_stats s0, s1;
			al_get_stats(tu_rdev(&L, side), &s0);
			assert_int_equal(rpmsg_send_nocopy(tx, p, n), n);
			al_get_stats(tu_rdev(&L, side), &s1);
			assert_int_equal(s1.tx_msgs, s0.tx_msgs + 1);
			/* sent: no longer ours */
			assert_int_equal(rpmsg_send_nocopy(tx, p, n), AL_EPERM);
			assert_int_equal(rpmsg_release_tx_buffer(tx, p), AL_EPERM);
			assert_int_equal(tu_pump(&L), 1);
			assert_int_equal(rx->n, i + 1);
			assert_int_equal(rx->len, (size_t)n);
			assert_ptr_equal(rx->ptr, p); /* the very same buffer */
			uint8_t want[496];
			tu_pattern(want, (size_t)n, (uint32_t)(side * 1000 + i));
			assert_memory_equal(rx->data, want, (size_t)n);
			assert_int_equal(rx->src, tx->addr);
		}
		/* sendto / offchannel variants */
		uint32_t len;
		uint8_t *p = rpmsg_get_tx_payload_buffer(tx, &len, true);
		assert_non_null(p);
		memcpy(p, "to", 2);
		assert_int_equal(rpmsg_sendto_nocopy(tx, p, 2, tx->dest_addr), 2);
		p = rpmsg_get_tx_payload_buffer(tx, &len, true);
		assert_non_null(p);
		memcpy(p, "oc", 2);
		assert_int_equal(rpmsg_send_offchannel_nocopy(tx, 0x4242, tx->dest_addr, p, 2), 2);
		assert_int_equal(tu_pump(&L), 2);
		assert_int_equal(rx->src, 0x4242);
		assert_memory_equal(rx->data, "oc", 2);
	}
	tu_check(&L);
}

static void release_tx_buffer_returns_it(void **state)
{
	(void)state;
	setup();
	uint8_t local[64];
	for (int side = 0; side < 2; side++) {
		struct rpmsg_endpoint *tx = &E[side];
		uint32_t len;
		assert_int_equal(free_tx(side), 16);
		uint8_t *p = rpmsg_get_tx_payload_buffer(tx, &len, false);
		assert_non_null(p);
		assert_int_equal(free_tx(side), 15);
		assert_int_equal(rpmsg_release_tx_buffer(tx, p), RPMSG_SUCCESS);
		assert_int_equal(free_tx(side), 16);
		/* twice, or anything that is not a reserved buffer */
		assert_int_equal(rpmsg_release_tx_buffer(tx, p), AL_EPERM);
		assert_int_equal(rpmsg_release_tx_buffer(tx, local + 16), AL_EPERM);
		assert_int_equal(rpmsg_release_tx_buffer(tx, p + 1), AL_EPERM);
		assert_int_equal(rpmsg_release_tx_buffer(tx, p + 512), AL_EPERM);
		assert_int_equal(rpmsg_release_tx_buffer(tx, (uint8_t *)L.lb.shm.va + 4), AL_EPERM);
		assert_int_equal(rpmsg_release_tx_buffer(tx, NULL), AL_EINVAL);
		assert_int_equal(rpmsg_release_tx_buffer(NULL, p), AL_EINVAL);
		assert_int_equal(free_tx(side), 16);
		/* it can be taken again: the same buffer comes back first */
		uint8_t *q = rpmsg_get_tx_payload_buffer(tx, &len, false);
		assert_ptr_equal(q, p);
		/* a reserved buffer of the other side is foreign here */
		uint8_t *o = rpmsg_get_tx_payload_buffer(&E[tu_other(side)], &len, false);
		assert_non_null(o);
		assert_int_equal(rpmsg_release_tx_buffer(tx, o), AL_EPERM);
		assert_int_equal(rpmsg_send_nocopy(tx, o, 1), AL_EPERM);
		assert_int_equal(rpmsg_release_tx_buffer(&E[tu_other(side)], o), RPMSG_SUCCESS);
		/* the reserved buffer still sends fine */
		memcpy(q, "again", 5);
		assert_int_equal(rpmsg_send_nocopy(tx, q, 5), 5);
		assert_int_equal(tu_pump(&L), 1);
		assert_memory_equal(R[tu_other(side)].data, "again", 5);
		assert_int_equal(free_tx(side), 16);
	}
	tu_check(&L);
}

static void nocopy_of_unreserved_pointer_is_eperm(void **state)
{
	(void)state;
	setup();
	static uint8_t local[600];
	for (int side = 0; side < 2; side++) {
		struct rpmsg_endpoint *tx = &E[side];
		struct rpmsg_stats s0, s1;
		al_get_stats(tu_rdev(&L, side), &s0);
		assert_int_equal(rpmsg_send_nocopy(tx, local + 16, 4), AL_EPERM);
		/* a pointer into the region that was never reserved */
		uint32_t len;
		uint8_t *p = rpmsg_get_tx_payload_buffer(tx, &len, false);
		assert_non_null(p);
		assert_int_equal(rpmsg_release_tx_buffer(tx, p), 0);
		assert_int_equal(rpmsg_send_nocopy(tx, p, 4), AL_EPERM); /* released */
		assert_int_equal(rpmsg_send_nocopy(tx, (uint8_t *)L.lb.shm.va + 16, 4), AL_EPERM);
		p = rpmsg_get_tx_payload_buffer(tx, &len, false);
		assert_non_null(p);
		assert_int_equal(rpmsg_send_nocopy(tx, p + 4, 4), AL_EPERM);
		/* too long: refused, and the buffer stays reserved */
		assert_int_equal(rpmsg_send_nocopy(tx, p, 497), AL_EMSGSIZE);
		assert_int_equal(rpmsg_send_nocopy(tx, p, -1), AL_EINVAL);
		assert_int_equal(rpmsg_sendto_nocopy(tx, p, 4, RPMSG_ADDR_ANY), AL_EINVAL);
		al_get_stats(tu_rdev(&L, side), &s1);
		assert_int_equal(s1.tx_msgs, s0.tx_msgs);
		assert_int_equal(tu_pump(&L), 0);
		memcpy(p, "late", 4);
		assert_int_equal(rpmsg_send_nocopy(tx, p, 4), 4);
		assert_int_equal(tu_pump(&L), 1);
		assert_memory_equal(R[tu_other(side)].data, "late", 4);
	}
	tu_check(&L);
}

/* Reservations use up the ring like sends do, and come back on release. */
static void reservations_exhaust_the_ring(void **state)
{
	(void)state;
	setup();
	for (int side = 0; side < 2; side++) {
		struct rpmsg_endpoint *tx = &E[side];
		uint8_t *p[16];
		uint32_t len;
		for (int i = 0; i < 16; i++) {
			p[i] = rpmsg_get_tx_payload_buffer(tx, &len, false);
			assert_non_null(p[i]);
			for (int j = 0; j < i; j++)
				assert_ptr_not_equal(p[i], p[j]);
		}
		int err = 0;
		assert_null(al_get_tx_buffer_timeout(tx, &len, 0, &err));
		assert_int_equal(err, AL_ENOBUFS);
		assert_int_equal(rpmsg_trysend(tx, "x", 1), AL_ENOBUFS);
		assert_null(rpmsg_get_tx_payload_buffer(tx, NULL, false)); /* bad args */
		assert_int_equal(rpmsg_release_tx_buffer(tx, p[7]), 0);
		assert_int_equal(rpmsg_trysend(tx, "y", 1), 1);
		for (int i = 0; i < 16; i++)
			if (i != 7)
				assert_int_equal(rpmsg_send_nocopy(tx, p[i], 1), 1);
		assert_int_equal(tu_pump(&L), 16);
		assert_int_equal(free_tx(side), 16);
	}
	tu_check(&L);
}

/* ---- holding received buffers ---------------------------------------------- */

static void hold_rx_buffer_case(int rx_side)
{
	int tx_side = tu_other(rx_side);
	struct rpmsg_endpoint *tx = &E[tx_side], *rxe = &E[rx_side];
	struct tu_rec *rx = &R[rx_side];
	assert_int_equal(free_tx(tx_side), 16);
	rx->hold = 1;
	assert_int_equal(rpmsg_trysend(tx, "keep me", 7), 7);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(rx->hold_rc, 0);
	uint8_t *held = rx->ptr;
	/* the sender sees one buffer fewer until it is released */
	assert_int_equal(free_tx(tx_side), 15);
	/* traffic goes on around the held buffer, which stays intact */
	for (int i = 0; i < 40; i++) {
		assert_int_equal(rpmsg_trysend(tx, "other traffic", 13), 13);
		assert_int_equal(tu_pump(&L), 1);
		assert_ptr_not_equal(rx->ptr, held);
		assert_int_equal(free_tx(tx_side), 15);
	}
	assert_memory_equal(held, "keep me", 7);
	/* outside a callback nothing can be held */
	assert_int_equal(al_rpmsg_hold_rx_buffer(rxe, rx->ptr), AL_EPERM);
	assert_int_equal(al_rpmsg_hold_rx_buffer(rxe, held), AL_EPERM);
	/* only the held buffer can be released, once */
	assert_int_equal(al_rpmsg_release_rx_buffer(rxe, rx->ptr), AL_EPERM);
	assert_int_equal(al_rpmsg_release_rx_buffer(rxe, held + 1), AL_EPERM);
	assert_int_equal(al_rpmsg_release_rx_buffer(rxe, held), 0);
	assert_int_equal(free_tx(tx_side), 16);
	assert_int_equal(al_rpmsg_release_rx_buffer(rxe, held), AL_EPERM);
	assert_int_equal(al_rpmsg_release_rx_buffer(rxe, NULL), AL_EINVAL);
	assert_int_equal(al_rpmsg_hold_rx_buffer(NULL, held), AL_EINVAL);
	assert_true(tu_pump(&L) >= 0);
	assert_int_equal(free_tx(tx_side), 16);
	/* without holding, every buffer comes straight back */
	assert_int_equal(rpmsg_trysend(tx, "a", 1), 1);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(free_tx(tx_side), 16);
	tu_check(&L);
}

static void hold_rx_buffer_on_device(void **state)
{
	(void)state;
	setup();
	hold_rx_buffer_case(TU_DEV);
}

static void hold_rx_buffer_on_driver(void **state)
{
	(void)state;
	setup();
	hold_rx_buffer_case(TU_DRV);
}

/* Holding every buffer stops the sender (backpressure) until one is
 * released; OpenAMP's void hold/release do the holding here. */
static struct rpmsg_endpoint *hold_ept;
static void *held_bufs[32];
static int n_held;

static int hold_all_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)len, (void)src, (void)priv;
	rpmsg_hold_rx_buffer(ept, data);
	rpmsg_hold_rx_buffer(ept, (uint8_t *)data + 1); /* ignored: not the buffer */
	assert_true(n_held < 32);
	held_bufs[n_held++] = data;
	return RPMSG_SUCCESS;
}

static void hold_every_buffer_backpressure(void **state)
{
	(void)state;
	for (int rx_side = 0; rx_side < 2; rx_side++) {
		setup();
		int tx_side = tu_other(rx_side);
		hold_ept = &E[rx_side];
		hold_ept->cb = hold_all_cb;
		n_held = 0;
		for (int i = 0; i < 16; i++)
			assert_int_equal(rpmsg_trysend(&E[tx_side], "h", 1), 1);
		assert_int_equal(tu_pump(&L), 16);
		assert_int_equal(n_held, 16);
		assert_int_equal(free_tx(tx_side), 0);
		assert_int_equal(rpmsg_trysend(&E[tx_side], "x", 1), AL_ENOBUFS);
		rpmsg_release_rx_buffer(hold_ept, held_bufs[5]);
		assert_int_equal(free_tx(tx_side), 1);
		rpmsg_release_rx_buffer(hold_ept, held_bufs[5]); /* ignored */
		assert_int_equal(free_tx(tx_side), 1);
		assert_int_equal(rpmsg_trysend(&E[tx_side], "y", 1), 1);
		assert_int_equal(tu_pump(&L), 1);
		assert_int_equal(n_held, 17);
		assert_ptr_equal(held_bufs[16], held_bufs[5]);
		for (int i = 0; i < 17; i++)
			if (i != 5)
				assert_int_equal(al_rpmsg_release_rx_buffer(hold_ept, held_bufs[i]),
						 0);
		assert_int_equal(free_tx(tx_side), 16);
		tu_check(&L);
	}
}

/* Holding and releasing inside the same callback (another thread may be
 * handed the buffer and release it before the callback returns) gives the
 * buffer back exactly once: a second return would be a protocol violation
 * the peer catches. */
static int hold_release_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src,
			   void *priv)
{
	(void)len, (void)src;
	int *rcs = priv;
	rcs[0] = al_rpmsg_hold_rx_buffer(ept, data);
	rcs[1] = al_rpmsg_release_rx_buffer(ept, data);
	rcs[2] = al_rpmsg_release_rx_buffer(ept, data);
	rcs[3] = al_rpmsg_hold_rx_buffer(ept, data); /* once only: not held again */
	return RPMSG_SUCCESS;
}

static void hold_and_release_inside_callback(void **state)
{
	(void)state;
	static int rcs[4];
	for (int rx_side = 0; rx_side < 2; rx_side++) {
		setup();
		int tx_side = tu_other(rx_side);
		E[rx_side].cb = hold_release_cb;
		E[rx_side].priv = rcs;
		for (int i = 0; i < 40; i++) {
			memset(rcs, 0x55, sizeof(rcs));
			assert_int_equal(rpmsg_trysend(&E[tx_side], "hr", 2), 2);
			assert_int_equal(tu_pump(&L), 1);
			assert_int_equal(rcs[0], 0);
			assert_int_equal(rcs[1], 0);
			assert_int_equal(rcs[2], AL_EPERM);
			assert_int_equal(free_tx(tx_side), 16);
		}
		assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DRV)), AL_LINK_UP);
		assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DEV)), AL_LINK_UP);
		tu_check(&L);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nocopy_send_both_roles),
	    cmocka_unit_test(release_tx_buffer_returns_it),
	    cmocka_unit_test(nocopy_of_unreserved_pointer_is_eperm),
	    cmocka_unit_test(reservations_exhaust_the_ring),
	    cmocka_unit_test(hold_rx_buffer_on_device),
	    cmocka_unit_test(hold_rx_buffer_on_driver),
	    cmocka_unit_test(hold_every_buffer_backpressure),
	    cmocka_unit_test(hold_and_release_inside_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
