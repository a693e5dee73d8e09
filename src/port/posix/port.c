/* The POSIX port (include/amplink/linux/posix_port.h): the core's port
 * hooks with pthreads, the sleep-until-woken primitive under them, the
 * monotonic clock, and ringing a peer through a file descriptor. */
#define _GNU_SOURCE
#include "amplink/linux/posix_port.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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
/* The core's lock, taken once per message on each side: a futex word (0
 * free, 1 held, 2 held and someone may sleep), as in Drepper's "Futexes
 * are tricky". The uncontended round is one compare-and-swap and one
 * exchange, inline here, where pthread_mutex_lock/unlock cost two calls
 * through the PLT and their type checks (~60 instructions a round, in
 * callgrind). A contender spins briefly (critical sections are short: a
 * ring entry, a header) before it sleeps. */
static void futex_op(uint32_t *w, int op, uint32_t val)
{
	(void)syscall(SYS_futex, w, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}
static void port_lock(void *ctx)
{
	uint32_t *w = &((struct al_posix_port *)ctx)->lock;
	uint32_t c = 0;
	if (__atomic_compare_exchange_n(w, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	for (int spin = 0; spin < 100 && c == 1; spin++) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
		c = 0;
		if (__atomic_compare_exchange_n(w, &c, 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
	}
	if (c != 2)
		c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		futex_op(w, FUTEX_WAIT, 2);
		c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
	}
}
static void port_unlock(void *ctx)
{
	uint32_t *w = &((struct al_posix_port *)ctx)->lock;
	if (__atomic_exchange_n(w, 0, __ATOMIC_RELEASE) == 2)
		futex_op(w, FUTEX_WAKE, 1);
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
	port->lock = 0;
	al_posix_waiter_init(&port->w);
	port->ring = ring;
}

void al_posix_port_destroy(struct al_posix_port *port)
{
	al_posix_waiter_destroy(&port->w);
}

void al_posix_kick_fd(int fd, bool byte_stream)
{
	uint64_t one = 1;
	ssize_t n = byte_stream ? send(fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL)
				: write(fd, &one, sizeof(one));
	(void)n; /* a full eventfd or socket: the peer has kicks to read already */
}
