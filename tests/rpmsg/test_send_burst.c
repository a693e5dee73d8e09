/* Tests al_send_burst(): a burst arrives as separate messages in order,
 * published with one ring-index store and rung once; it stops at a full
 * ring without waiting for the rest; a bad message anywhere refuses the
 * whole burst; a peer that breaks the protocol in the middle of a burst
 * leaves none of it visible. Both roles. */
#include "test_util.h"

static struct tu_link L;
static struct rpmsg_endpoint E[2];
static struct tu_rec R[2];

/* Every payload a side received, in order: FNV sums and lengths. */
static struct {
	int n;
	uint32_t sum[64];
	size_t len[64];
} got[2];

static int log_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	int side = ept == &E[TU_DRV] ? TU_DRV : TU_DEV;
	if (got[side].n < 64) {
		got[side].sum[got[side].n] = tu_sum(data, len);
		got[side].len[got[side].n] = len;
	}
	got[side].n++;
	return tu_rx_cb(ept, data, len, src, priv);
}

static void setup(void)
{
	tu_up_pair(&L, E, R);
	memset(got, 0, sizeof(got));
	E[TU_DRV].cb = log_cb;
	E[TU_DEV].cb = log_cb;
}

static uint64_t kicks(int side)
{
	struct rpmsg_stats s;
	al_get_stats(tu_rdev(&L, side), &s);
	return s.kicks_tx;
}

/* The ring a side sends on (the driver sends on vring1) and the index it
 * publishes there. */
static uint16_t pub_idx(int side)
{
	return side == TU_DRV ? tu_avail_idx(&L, 1) : tu_used_idx(&L, 0);
}

static int free_tx(int side)
{
	return al_virtio_free_tx_buffers(tu_rv(&L, side));
}

static uint8_t payload[20][496];

/* n messages of lengths 0, 37, 74, ... (mod 497), each a distinct pattern */
static void make(struct al_msg *m, int n, uint32_t seed)
{
	for (int i = 0; i < n; i++) {
		size_t len = (size_t)(i * 37) % 497;
		tu_pattern(payload[i], len, seed + (uint32_t)i);
		m[i] = (struct al_msg){payload[i], (uint32_t)len};
	}
}

static void burst_arrives_in_order_rung_once(void **state)
{
	(void)state;
	for (int side = 0; side < 2; side++) {
		setup();
		int peer = tu_other(side);
		struct al_msg m[10];
		make(m, 10, 100u * (uint32_t)side);
		uint64_t k0 = kicks(side);
		uint16_t i0 = pub_idx(side);
		assert_int_equal(al_send_burst(&E[side], E[side].addr, E[side].dest_addr, m, 10, 0),
				 10);
		assert_int_equal((uint16_t)(pub_idx(side) - i0), 10);
		assert_int_equal(kicks(side), k0 + 1); /* one doorbell for the lot */
		assert_int_equal(tu_pump(&L), 10);
		assert_int_equal(got[peer].n, 10);
		for (int i = 0; i < 10; i++) {
			assert_int_equal(got[peer].len[i], m[i].len);
			assert_int_equal(got[peer].sum[i], tu_sum(m[i].data, m[i].len));
		}
		assert_int_equal(R[peer].src, E[side].addr);
		struct rpmsg_stats s;
		al_get_stats(tu_rdev(&L, side), &s);
		assert_int_equal(s.tx_msgs, 10);
		assert_int_equal(E[side].tx_msgs, 10);
		/* a burst of one is a send */
		assert_int_equal(al_send_burst(&E[side], 0x4242, E[side].dest_addr, m + 1, 1, 0),
				 1);
		assert_int_equal(tu_pump(&L), 1);
		assert_int_equal(R[peer].src, 0x4242);
		assert_int_equal(free_tx(side), 16);
		tu_check(&L);
	}
}

static void burst_stops_at_a_full_ring(void **state)
{
	(void)state;
	for (int side = 0; side < 2; side++) {
		setup();
		int peer = tu_other(side);
		struct al_msg m[20];
		make(m, 20, 7);
		assert_int_equal(al_send_burst(&E[side], E[side].addr, E[side].dest_addr, m, 20, 0),
				 16);
		assert_int_equal(free_tx(side), 0);
		/* nothing free: the rest waits for the peer, with an error */
		assert_int_equal(
		    al_send_burst(&E[side], E[side].addr, E[side].dest_addr, m + 16, 4, 0),
		    AL_ENOBUFS);
		assert_int_equal(tu_pump(&L), 16);
		assert_int_equal(
		    al_send_burst(&E[side], E[side].addr, E[side].dest_addr, m + 16, 4, 0), 4);
		assert_int_equal(tu_pump(&L), 4);
		assert_int_equal(got[peer].n, 20);
		for (int i = 0; i < 20; i++)
			assert_int_equal(got[peer].sum[i], tu_sum(m[i].data, m[i].len));
		assert_int_equal(free_tx(side), 16);
		tu_check(&L);
	}
}

static void a_bad_message_refuses_the_whole_burst(void **state)
{
	(void)state;
	for (int side = 0; side < 2; side++) {
		setup();
		struct rpmsg_endpoint *e = &E[side];
		struct al_msg m[8];
		make(m, 8, 3);
		uint64_t k0 = kicks(side);
		uint16_t i0 = pub_idx(side);
		m[5].len = 497; /* one byte over the buffer */
		assert_int_equal(al_send_burst(e, e->addr, e->dest_addr, m, 8, 0), AL_EMSGSIZE);
		m[5].len = 0x80000000u;
		assert_int_equal(al_send_burst(e, e->addr, e->dest_addr, m, 8, 0), AL_EMSGSIZE);
		m[5].len = 3;
		m[3].data = NULL;
		assert_int_equal(al_send_burst(e, e->addr, e->dest_addr, m, 8, 0), AL_EINVAL);
		m[3].data = payload[3];
		assert_int_equal(al_send_burst(e, e->addr, RPMSG_ADDR_ANY, m, 8, 0), AL_EINVAL);
		assert_int_equal(al_send_burst(e, e->addr, e->dest_addr, NULL, 8, 0), AL_EINVAL);
		assert_int_equal(al_send_burst(e, e->addr, e->dest_addr, m, 0, 0), AL_EINVAL);
		assert_int_equal(al_send_burst(NULL, 1, 2, m, 8, 0), AL_EINVAL);
		/* nothing of any of them left our side */
		assert_int_equal(kicks(side), k0);
		assert_int_equal(pub_idx(side), i0);
		assert_int_equal(free_tx(side), 16);
		assert_int_equal(tu_pump(&L), 0);
		/* the corrected burst goes */
		assert_int_equal(al_send_burst(e, e->addr, e->dest_addr, m, 8, 0), 8);
		assert_int_equal(tu_pump(&L), 8);
		tu_check(&L);
	}
}

static void link_not_up_is_refused(void **state)
{
	(void)state;
	setup();
	struct al_msg m[2];
	make(m, 2, 1);
	struct rpmsg_endpoint *e = &E[TU_DRV];
	tu_rv(&L, TU_DRV)->state = AL_LINK_DOWN;
	assert_int_equal(al_send_burst(e, e->addr, e->dest_addr, m, 2, 0), AL_ESTATE);
	al_virtio_peer_lost(tu_rv(&L, TU_DRV));
	assert_int_equal(al_send_burst(e, e->addr, e->dest_addr, m, 2, 0), AL_ENOLINK);
	assert_int_equal(tu_pump(&L), 0);
}

/* The driver takes its buffers back from the used ring only when its free
 * list runs dry: a burst that gets there and finds a used entry naming a
 * descriptor the ring does not have stops; the link is broken and none of
 * the messages already filled becomes visible. */
static void peer_breaking_the_ring_mid_burst_publishes_nothing(void **state)
{
	(void)state;
	setup();
	struct rpmsg_endpoint *e = &E[TU_DRV];
	struct al_msg m[3];
	make(m, 3, 9);
	for (int i = 0; i < 16; i++)
		assert_int_equal(rpmsg_trysend(e, "x", 1), 1);
	assert_int_equal(tu_pump(&L), 16); /* all 16 returned, none reclaimed yet */
	for (int i = 0; i < 15; i++)	   /* reclaims the 16, one left on the free list */
		assert_int_equal(rpmsg_trysend(e, "y", 1), 1);
	assert_int_equal(tu_pump(&L), 15);
	tu_wr32(tu_used_slot(&L, 1, 16), 999); /* the first entry not reclaimed yet */
	uint16_t i0 = pub_idx(TU_DRV);
	assert_int_equal(al_send_burst(e, e->addr, e->dest_addr, m, 3, 0), AL_EBROKEN);
	assert_int_equal(pub_idx(TU_DRV), i0);
	assert_int_equal(tu_rv(&L, TU_DRV)->state, AL_LINK_BROKEN);
	assert_int_equal(al_send_burst(e, e->addr, e->dest_addr, m, 3, 0), AL_EBROKEN);
	assert_int_equal(tu_pump(&L), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(burst_arrives_in_order_rung_once),
	    cmocka_unit_test(burst_stops_at_a_full_ring),
	    cmocka_unit_test(a_bad_message_refuses_the_whole_burst),
	    cmocka_unit_test(link_not_up_is_refused),
	    cmocka_unit_test(peer_breaking_the_ring_mid_burst_publishes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
