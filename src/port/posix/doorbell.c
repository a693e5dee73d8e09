/* Doorbells between two processes (see doorbell.h and posix.h).
 *
 * The counter kinds use a Dekker-style handshake so that a sender only
 * makes a syscall when the receiver really sleeps: the receiver announces
 * `sleeping` then re-reads the counter; the sender bumps the counter then
 * reads `sleeping`. With sequentially consistent accesses on both sides, at
 * least one of them sees the other, so no doorbell is lost.
 */
#define _GNU_SOURCE
#include "doorbell.h"

#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	/* shared mapping between processes: no FUTEX_PRIVATE_FLAG */
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

void al_db_ring(struct al_doorbell *db)
{
	if (db->kind == AL_DB_SOCKET) {
		ssize_t n = send(db->efd_out, "k", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)n; /* a full socket buffer already holds kicks: one is enough */
		return;
	}
	if (db->kind == AL_DB_EVENTFD) {
		uint64_t one = 1;
		ssize_t n = write(db->efd_out, &one, sizeof(one));
		(void)n; /* EAGAIN only if the counter is saturated: still rung */
		return;
	}
	unsigned peer = 1u - db->me;
	__atomic_fetch_add(&db->ctl->db[peer], 1u, __ATOMIC_SEQ_CST);
	if (db->kind != AL_DB_POLL && __atomic_load_n(&db->ctl->sleeping[peer], __ATOMIC_SEQ_CST))
		futex(&db->ctl->db[peer], FUTEX_WAKE, 1, NULL);
}

void al_db_kick_self(struct al_doorbell *db)
{
	if (db->kind == AL_DB_SOCKET) {
		/* poll() returns at once; the sending half stays open, so that
		 * what the link sends while it closes (NS DESTROY of its
		 * endpoints) still rings the peer's doorbell */
		shutdown(db->efd_in, SHUT_RD);
		return;
	}
	if (db->kind == AL_DB_EVENTFD) {
		uint64_t one = 1;
		ssize_t n = write(db->efd_in, &one, sizeof(one));
		(void)n;
		return;
	}
	__atomic_fetch_add(&db->ctl->db[db->me], 1u, __ATOMIC_SEQ_CST);
	futex(&db->ctl->db[db->me], FUTEX_WAKE, 1, NULL);
}

static bool fd_ready(int fd, int timeout_ms)
{
	if (fd < 0)
		return false;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, timeout_ms) > 0;
}

static int wait_eventfd(struct al_doorbell *db, int watch_fd, int timeout_ms, bool *watch_ready)
{
	struct pollfd p[2] = {{.fd = db->efd_in, .events = POLLIN},
			      {.fd = watch_fd, .events = POLLIN}};
	int n = poll(p, watch_fd >= 0 ? 2 : 1, timeout_ms);
	if (n <= 0)
		return 0;
	if (watch_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
		*watch_ready = true;
	if (p[0].revents & POLLIN) {
		uint64_t v;
		ssize_t r = read(db->efd_in, &v, sizeof(v));
		return r == (ssize_t)sizeof(v);
	}
	return 0;
}

/* Socket kind: kicks are bytes; drain them all, one notification. */
static int wait_socket(struct al_doorbell *db, int timeout_ms, bool *watch_ready)
{
	struct pollfd p = {.fd = db->efd_in, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	char buf[256];
	int rang = 0;
	for (;;) {
		ssize_t n = recv(db->efd_in, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			rang = 1;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			*watch_ready = true; /* closed: let the caller find out */
		return rang;
	}
}

int al_db_wait(struct al_doorbell *db, int watch_fd, int timeout_ms, bool *watch_ready)
{
	*watch_ready = false;
	if (db->kind == AL_DB_SOCKET)
		return wait_socket(db, timeout_ms, watch_ready);
	if (db->kind == AL_DB_EVENTFD)
		return wait_eventfd(db, watch_fd, timeout_ms, watch_ready);

	uint32_t *ctr = &db->ctl->db[db->me];
	uint32_t *sleeping = &db->ctl->sleeping[db->me];
	uint64_t start = now_ns();
	uint64_t spin_ns = db->kind == AL_DB_POLL	? (uint64_t)timeout_ms * 1000000u
			   : db->kind == AL_DB_ADAPTIVE ? (uint64_t)db->spin_us * 1000u
							: 0;
	/* Spin phase: a doorbell seen here costs no syscall at all. */
	for (unsigned i = 0;; i++) {
		uint32_t v = __atomic_load_n(ctr, __ATOMIC_ACQUIRE);
		if (v != db->seen) {
			db->seen = v;
			return 1;
		}
		if ((i & 63u) == 0 && now_ns() - start >= spin_ns)
			break;
		/* Spin politely: on a machine with fewer cores than busy threads
		 * (this 2-core VM: sender, two receivers) a spinner that never
		 * yields holds the core the sender needs for its whole window. */
		if ((i & 15u) == 15u)
			sched_yield();
		else
			cpu_relax();
	}
	if (db->kind == AL_DB_POLL) {
		*watch_ready = fd_ready(watch_fd, 0);
		return 0;
	}
	/* Sleep phase. */
	__atomic_store_n(sleeping, 1u, __ATOMIC_SEQ_CST);
	uint32_t v = __atomic_load_n(ctr, __ATOMIC_SEQ_CST);
	if (v == db->seen) {
		struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
		long r = futex(ctr, FUTEX_WAIT, db->seen, &ts);
		if (r != 0 && errno == ETIMEDOUT)
			*watch_ready = fd_ready(watch_fd, 0);
		v = __atomic_load_n(ctr, __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(sleeping, 0u, __ATOMIC_SEQ_CST);
	if (v != db->seen) {
		db->seen = v;
		return 1;
	}
	if (!*watch_ready)
		*watch_ready = fd_ready(watch_fd, 0);
	return 0;
}
