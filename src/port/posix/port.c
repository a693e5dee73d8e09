/* The POSIX port (include/amplink/linux/posix_port.h): the core's port
 * hooks with pthreads, the sleep-until-woken primitive under them, the
 * monotonic clock, and ringing a peer through a file descriptor. */
#define _GNU_SOURCE
#include "amplink/linux/posix_port.h"

#include <errno.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

uint32_t al_posix_process_ms(void)
{
	static uint64_t t0; /* the first reading: the remote's "boot" */
	uint64_t now = al_posix_now_ms();
	uint64_t z = 0;
	__atomic_compare_exchange_n(&t0, &z, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	return (uint32_t)(now - __atomic_load_n(&t0, __ATOMIC_RELAXED));
}

uint32_t al_posix_left_ms(uint64_t start, uint32_t timeout_ms)
{
	if (timeout_ms == AL_WAIT_FOREVER)
		return AL_WAIT_FOREVER;
	uint64_t el = al_posix_now_ms() - start;
	return el >= timeout_ms ? 0 : (uint32_t)(timeout_ms - el);
}

/* ---- the port hooks --------------------------------------------------------- */

static void port_notify(void *ctx, uint32_t notifyid)
{
	struct al_posix_port *p = ctx;
	p->ring(p, notifyid);
}
static void port_lock(void *ctx)
{
	pthread_mutex_lock(&((struct al_posix_port *)ctx)->lock);
}
static void port_unlock(void *ctx)
{
	pthread_mutex_unlock(&((struct al_posix_port *)ctx)->lock);
}
static uint64_t port_time(void *ctx)
{
	(void)ctx;
	return al_posix_now_ms();
}
static void port_wait(void *ctx, uint32_t ms)
{
	/* capped: a wake that raced ahead of the wait costs at most 2 ms */
	al_posix_waiter_wait(&((struct al_posix_port *)ctx)->w, ms > 2 ? 2 : ms);
}
static void port_wake(void *ctx)
{
	al_posix_waiter_wake(&((struct al_posix_port *)ctx)->w);
}

const struct al_port_ops al_posix_port_ops = {
    .notify = port_notify,
    .lock = port_lock,
    .unlock = port_unlock,
    .time_ms = port_time,
    .wait = port_wait,
    .wake = port_wake,
};

void al_posix_port_init(struct al_posix_port *port,
			void (*ring)(struct al_posix_port *port, uint32_t notifyid))
{
	pthread_mutex_init(&port->lock, NULL);
	al_posix_waiter_init(&port->w);
	port->ring = ring;
}

void al_posix_port_destroy(struct al_posix_port *port)
{
	pthread_mutex_destroy(&port->lock);
	al_posix_waiter_destroy(&port->w);
}

void al_posix_kick_fd(int fd, bool byte_stream)
{
	uint64_t one = 1;
	ssize_t n = byte_stream ? send(fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL)
				: write(fd, &one, sizeof(one));
	(void)n; /* a full eventfd or socket: the peer has kicks to read already */
}
