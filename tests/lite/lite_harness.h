/* Test port for the RPMsg-Lite façade tests: both sides of one link in one
 * process (side 0 = master/host, side 1 = remote), doorbells as pending
 * counters, a simulated clock advanced by the wait hook, which can also run
 * the pending doorbells (as the other core and the ISR would) and a
 * test-supplied action. Single-threaded. */
#ifndef LITE_HARNESS_H
#define LITE_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amplink/rpmsg_lite.h"

#define LH_DA	      0x21000000u /* device address of the region: deliberately not its va */
#define LH_TIME_LIMIT 10000000u

_Static_assert(RL_PLATFORM_HIGHEST_LINK_ID >= 1, "the harness uses links 0 and 1");

struct lh;

struct lh_side {
	struct lh *h;
	struct rpmsg_lite_instance *rl; /* a façade side ... */
	struct rpmsg_virtio_device *rv; /* ... or a core side */
	int pending;			/* doorbells rung at this side, not handled */
	uint32_t rung;
	uint32_t waits;
	uint32_t wakes;
	int last_rc;
};

struct lh {
	struct lh_side side[2];
	uint64_t now;
	bool pump_in_wait;	       /* wait runs pending doorbells first */
	void (*on_wait)(struct lh *h); /* called on every wait, if set */
};

static inline struct lh_side *lh_peer(struct lh_side *s)
{
	return s == &s->h->side[0] ? &s->h->side[1] : &s->h->side[0];
}

/* Deliver pending doorbells until none is left; returns messages handled. */
static inline int lh_pump(struct lh *h)
{
	int n = 0;
	for (int round = 0; round < 1000 && (h->side[0].pending || h->side[1].pending); round++)
		for (int i = 1; i >= 0; i--) {
			struct lh_side *s = &h->side[i];
			if (!s->pending)
				continue;
			s->pending = 0;
			s->last_rc = s->rl   ? rpmsg_lite_isr(s->rl)
				     : s->rv ? al_virtio_notified(s->rv)
					     : 0;
			if (s->last_rc > 0)
				n += s->last_rc;
		}
	return n;
}

static inline void lh_notify(void *ctx, uint32_t notifyid)
{
	(void)notifyid;
	struct lh_side *peer = lh_peer(ctx);
	peer->pending++;
	peer->rung++;
}

static inline uint64_t lh_time(void *ctx)
{
	return ((struct lh_side *)ctx)->h->now;
}

static inline void lh_wait(void *ctx, uint32_t timeout_ms)
{
	struct lh_side *s = ctx;
	struct lh *h = s->h;
	s->waits++;
	if (h->on_wait)
		h->on_wait(h);
	if (h->pump_in_wait && (h->side[0].pending || h->side[1].pending)) {
		lh_pump(h);
		return;
	}
	h->now += timeout_ms > 10 ? 10 : timeout_ms;
	if (h->now > LH_TIME_LIMIT) { /* a wait that never ends: stop the test */
		fprintf(stderr, "lite_harness: simulated time ran away (endless wait)\n");
		abort();
	}
}

static inline void lh_wake(void *ctx)
{
	((struct lh_side *)ctx)->wakes++;
}

static const struct al_port_ops lh_ops = {
    .notify = lh_notify,
    .time_ms = lh_time,
    .wait = lh_wait,
    .wake = lh_wake,
};

/* Reset the harness and register it as the platform of links 0 and 1. */
static inline int lh_init(struct lh *h)
{
	memset(h, 0, sizeof(*h));
	h->side[0].h = h;
	h->side[1].h = h;
	int rc = rpmsg_lite_set_platform(0, &lh_ops, &h->side[0], LH_DA);
	return rc ? rc : rpmsg_lite_set_platform(1, &lh_ops, &h->side[1], LH_DA);
}

#endif
