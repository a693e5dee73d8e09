/* Sleep-until-woken for POSIX ports (see include/amplink/linux/posix_wait.h). */
#define _GNU_SOURCE
#include "amplink/linux/posix_wait.h"

#include <errno.h>
#include <time.h>

void al_posix_waiter_init(struct al_posix_waiter *w)
{
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->gen = 0;
}

void al_posix_waiter_destroy(struct al_posix_waiter *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}

struct timespec al_posix_deadline(uint32_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000u;
	ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

void al_posix_waiter_wait(struct al_posix_waiter *w, uint32_t ms)
{
	struct timespec ts = al_posix_deadline(ms);
	pthread_mutex_lock(&w->mu);
	uint64_t g = w->gen;
	while (w->gen == g)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&w->mu);
}

void al_posix_waiter_wake(struct al_posix_waiter *w)
{
	pthread_mutex_lock(&w->mu);
	w->gen++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

uint64_t al_posix_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
