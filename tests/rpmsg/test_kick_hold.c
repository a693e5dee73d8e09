/* Tests al_virtio_kick_hold()/_release(): messages are published at once
 * but the peer is rung only when the hold ends (once for a whole burst),
 * holds nest, unbalanced calls are refused, and a sender about to block for
 * a buffer rings what was held first. The loopback delivers only to a side
 * that was rung, so "rung" is observable as "delivered by a pump". */
#include "test_util.h"

static struct tu_link L;
static struct rpmsg_endpoint E[2];
static struct tu_rec R[2];

static void setup(void)
{
	tu_up_pair(&L, E, R);
}

static uint64_t kicks(int side)
{
	struct rpmsg_stats s;
	al_get_stats(tu_rdev(&L, side), &s);
	return s.kicks_tx;
}

static void send_n(int side, int n, int first)
{
	for (int i = 0; i < n; i++) {
		uint8_t m[8];
		tu_pattern(m, sizeof(m), (uint32_t)(first + i));
		assert_int_equal(rpmsg_trysend(&E[side], m, sizeof(m)), (int)sizeof(m));
	}
}

static void burst_rings_once_at_release(void **state)
{
	(void)state;
	for (int side = 0; side < 2; side++) {
		setup();
		int peer = tu_other(side);
		uint64_t k0 = kicks(side);
		assert_int_equal(al_virtio_kick_hold(tu_rv(&L, side)), 0);
		send_n(side, 10, 0);
		assert_int_equal(kicks(side), k0); /* nothing rung while held */
		assert_int_equal(tu_pump(&L), 0);  /* so the peer did not look */
		assert_int_equal(R[peer].n, 0);
		assert_int_equal(al_virtio_kick_release(tu_rv(&L, side)), 0);
		assert_int_equal(kicks(side), k0 + 1); /* one doorbell for the burst */
		assert_int_equal(tu_pump(&L), 10);     /* all of it was in the ring */
		assert_int_equal(R[peer].n, 10);
		uint8_t want[8];
		tu_pattern(want, sizeof(want), 9);
		assert_memory_equal(R[peer].data, want, sizeof(want));
		/* without a hold, sending rings again as usual */
		send_n(side, 1, 10);
		assert_int_equal(kicks(side), k0 + 2);
		assert_int_equal(tu_pump(&L), 1);
		tu_check(&L);
	}
}

static void holds_nest_and_unbalanced_calls_fail(void **state)
{
	(void)state;
	setup();
	struct rpmsg_virtio_device *rv = tu_rv(&L, TU_DEV);
	assert_int_equal(al_virtio_kick_hold(NULL), AL_EINVAL);
	assert_int_equal(al_virtio_kick_release(NULL), AL_EINVAL);
	assert_int_equal(al_virtio_kick_release(rv), AL_ESTATE); /* no hold */
	uint64_t k0 = kicks(TU_DEV);
	assert_int_equal(al_virtio_kick_hold(rv), 0);
	assert_int_equal(al_virtio_kick_hold(rv), 0);
	send_n(TU_DEV, 3, 0);
	assert_int_equal(al_virtio_kick_release(rv), 0); /* still held once */
	assert_int_equal(kicks(TU_DEV), k0);
	assert_int_equal(tu_pump(&L), 0);
	assert_int_equal(al_virtio_kick_release(rv), 0);
	assert_int_equal(kicks(TU_DEV), k0 + 1);
	assert_int_equal(tu_pump(&L), 3);
	assert_int_equal(al_virtio_kick_release(rv), AL_ESTATE);
	/* a hold with nothing sent rings nothing */
	assert_int_equal(al_virtio_kick_hold(rv), 0);
	assert_int_equal(al_virtio_kick_release(rv), 0);
	assert_int_equal(kicks(TU_DEV), k0 + 1);
	/* 255 deep, not more */
	for (int i = 0; i < 255; i++)
		assert_int_equal(al_virtio_kick_hold(rv), 0);
	assert_int_equal(al_virtio_kick_hold(rv), AL_ESTATE);
	for (int i = 0; i < 255; i++)
		assert_int_equal(al_virtio_kick_release(rv), 0);
	assert_int_equal(al_virtio_kick_release(rv), AL_ESTATE);
	tu_check(&L);
}

/* The blocked sender's wait hook: by now the held doorbell must have rung
 * (else the peer would never return a buffer); let the peer run. */
static uint64_t kicks_at_wait;
static int waits;
static void wait_pumps_peer(struct tu_link *t, int side, uint32_t timeout_ms)
{
	(void)timeout_ms;
	waits++;
	kicks_at_wait = kicks(side);
	assert_true(tu_pump(t) > 0);
}

static void blocked_sender_rings_held_doorbells_first(void **state)
{
	(void)state;
	setup();
	struct rpmsg_virtio_device *rv = tu_rv(&L, TU_DEV);
	uint64_t k0 = kicks(TU_DEV);
	assert_int_equal(al_virtio_kick_hold(rv), 0);
	int n = al_virtio_free_tx_buffers(rv);
	assert_true(n > 0);
	send_n(TU_DEV, n, 0); /* the ring is full now */
	uint8_t m[8] = {1};
	assert_int_equal(rpmsg_trysend(&E[TU_DEV], m, sizeof(m)), AL_ENOBUFS);
	assert_int_equal(kicks(TU_DEV), k0); /* a failed try does not ring */
	L.on_wait = wait_pumps_peer;
	waits = 0;
	assert_int_equal(al_send_timeout(&E[TU_DEV], E[TU_DEV].addr, 0x400, m, sizeof(m), 1000),
			 (int)sizeof(m));
	L.on_wait = NULL;
	assert_true(waits >= 1);
	assert_int_equal(kicks_at_wait, k0 + 1);
	assert_int_equal(R[TU_DRV].n, n);
	/* the message sent after the wait is held again until release */
	assert_int_equal(tu_pump(&L), 0);
	assert_int_equal(al_virtio_kick_release(rv), 0);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(R[TU_DRV].n, n + 1);
	tu_check(&L);
}

/* The receive side's buffer returns are held too, and come out at release. */
static void receiver_buffer_returns_are_held(void **state)
{
	(void)state;
	setup();
	struct rpmsg_virtio_device *rv = tu_rv(&L, TU_DEV);
	int n = al_virtio_free_tx_buffers(tu_rv(&L, TU_DRV));
	assert_int_equal(al_virtio_kick_hold(rv), 0);
	send_n(TU_DRV, n, 0);		  /* the driver uses up every buffer it has */
	assert_int_equal(tu_pump(&L), n); /* the device drains; returns held */
	assert_int_equal(R[TU_DEV].n, n);
	assert_int_equal(al_virtio_kick_release(rv), 0);
	/* all buffers came back to the driver */
	assert_int_equal(tu_pump(&L), 0);
	assert_int_equal(al_virtio_free_tx_buffers(tu_rv(&L, TU_DRV)), n);
	send_n(TU_DRV, n, 100);
	assert_int_equal(tu_pump(&L), n);
	tu_check(&L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(burst_rings_once_at_release),
	    cmocka_unit_test(holds_nest_and_unbalanced_calls_fail),
	    cmocka_unit_test(blocked_sender_rings_held_doorbells_first),
	    cmocka_unit_test(receiver_buffer_returns_are_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
