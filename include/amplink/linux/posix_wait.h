/* Sleep-until-woken for POSIX ports: the `wait`/`wake` half of the port
 * contract (port.h) with pthreads, shared by every Linux-side link (the
 * two-process link, the remoteproc host, the process-backend firmware). */
#ifndef AMPLINK_POSIX_WAIT_H
#define AMPLINK_POSIX_WAIT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct al_posix_waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	uint64_t gen;	   /* bumped by every wake */
};

/** Set up / tear down. Thread context. */
void al_posix_waiter_init(struct al_posix_waiter *w);
void al_posix_waiter_destroy(struct al_posix_waiter *w);

/** Sleep until al_posix_waiter_wake() or `ms` milliseconds pass. Callers
 *  re-check their condition after every return (spurious returns happen,
 *  and a wake that came before the call is not remembered: keep `ms`
 *  small when that matters). Thread context. */
void al_posix_waiter_wait(struct al_posix_waiter *w, uint32_t ms);

/** Wake every sleeper. Any thread; never blocks for long. */
void al_posix_waiter_wake(struct al_posix_waiter *w);

/** The CLOCK_MONOTONIC time `ms` milliseconds from now: the deadline for
 *  pthread_cond_timedwait() on a condition variable set up with
 *  pthread_condattr_setclock(CLOCK_MONOTONIC). Any thread. */
struct timespec al_posix_deadline(uint32_t ms);

/** Monotonic milliseconds (the port's time_ms). */
uint64_t al_posix_now_ms(void);

#ifdef __cplusplus
}
#endif
#endif
