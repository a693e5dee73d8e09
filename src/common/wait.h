/* One way to wait for a condition with a deadline, for every blocking path
 * of the core (a send waiting for a buffer, a device waiting for the link),
 * in the manner of the kernel's wait_event_timeout(): the caller loops
 *
 *	al_wait_start(&w, ops, timeout_ms);
 *	while (!condition) {
 *		uint32_t left = al_wait_left(&w, ops, ctx);
 *		if (!left)
 *			return AL_ETIMEDOUT;
 *		ops->wait(ctx, left);  // the port's sleep, ended by its wake
 *	}
 *
 * Time is the port's monotonic clock in 32-bit milliseconds (differences
 * stay right across the wrap, 49 days); the clock is read only once the
 * condition was found false, so a call that never waits never reads it.
 * A port without time_ms or wait cannot block: every timeout acts as 0.
 * Internal to the core.
 */
#ifndef AL_WAIT_H
#define AL_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/port.h"

struct al_wait {
	uint32_t timeout; /* ms, AL_WAIT_FOREVER, or 0: do not wait */
	uint32_t start;
	bool started;
};

static inline void al_wait_start(struct al_wait *w, const struct al_port_ops *ops,
				 uint32_t timeout_ms)
{
	w->timeout = ops->time_ms && ops->wait ? timeout_ms : 0;
	w->start = 0; /* set by the first al_wait_left() */
	w->started = false;
}

/* Milliseconds left (AL_WAIT_FOREVER for no deadline), 0 when over. */
static inline uint32_t al_wait_left(struct al_wait *w, const struct al_port_ops *ops, void *ctx)
{
	if (w->timeout == 0)
		return 0;
	uint32_t now = (uint32_t)ops->time_ms(ctx);
	if (!w->started) {
		w->start = now;
		w->started = true;
	}
	if (w->timeout == AL_WAIT_FOREVER)
		return AL_WAIT_FOREVER;
	uint32_t waited = now - w->start;
	return waited >= w->timeout ? 0 : w->timeout - waited;
}

#endif
