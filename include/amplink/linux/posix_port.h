/* The POSIX port: the port contract (amplink/port.h) with pthreads and
 * CLOCK_MONOTONIC, one implementation shared by every Linux-side link:
 * the two-process link (src/port/posix/link.c), the remoteproc host and
 * the process-backend firmware runtime (src/linux/remoteproc/). A link
 * embeds a struct al_posix_port, gives the core al_posix_port_ops with the
 * port as context, and supplies only what differs between links: how its
 * doorbell rings the peer.
 *
 * Also the sleep-until-woken primitive under the port's wait/wake, and
 * the monotonic clock and deadline helpers every POSIX wait uses. */
#ifndef AMPLINK_POSIX_PORT_H
#define AMPLINK_POSIX_PORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "amplink/port.h"

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

/** Milliseconds since the first call in this process: the clock of a
 *  remote run as a process (log and telemetry timestamps). Any thread. */
uint32_t al_posix_process_ms(void);

/** What is left of a wait that began at `start` (an al_posix_now_ms()
 *  reading) with `timeout_ms`: milliseconds, AL_WAIT_FOREVER when it has no
 *  end, 0 when it is over. The POSIX side's counterpart of the core's wait
 *  primitive: every Linux loop that waits for a condition re-checks it,
 *  then sleeps at most this long. Any thread. */
uint32_t al_posix_left_ms(uint64_t start, uint32_t timeout_ms);

/** A link's port: the lock the core serialises senders with, the sleep of
 *  blocked senders, and the link's doorbell. */
struct al_posix_port {
	/** The core's lock: 0 free, 1 held, 2 held with sleepers (a futex;
	 *  port.c). */
	uint32_t lock;
	struct al_posix_waiter w;
	/** Ring the peer (the core's notify): any thread, possibly with the
	 *  lock held; must not block. Recover the link with al_container_of. */
	void (*ring)(struct al_posix_port *port, uint32_t notifyid);
};

/** The port hooks for the core; their context is the struct al_posix_port.
 *  A blocked sender sleeps at most 2 ms per wait (the core re-checks), which
 *  bounds the cost of a wake that raced ahead of the wait. */
extern const struct al_port_ops al_posix_port_ops;

/** Set up / tear down a port with its doorbell. Thread context. */
void al_posix_port_init(struct al_posix_port *port,
			void (*ring)(struct al_posix_port *port, uint32_t notifyid));
void al_posix_port_destroy(struct al_posix_port *port);

/** Ring a peer through a file descriptor: an eventfd (8-byte counter
 *  write) or, with `byte_stream`, one byte on a stream socket (a full
 *  buffer means kicks are pending already: nothing is lost). Never blocks;
 *  never raises SIGPIPE. Any thread. */
void al_posix_kick_fd(int fd, bool byte_stream);

/** Wait for the next connection on the listening socket `lfd` until
 *  `stop_fd` (an eventfd) becomes readable. Returns the connected
 *  descriptor (close-on-exec), or -1 once stopped (or if poll fails for
 *  good); a failed accept is retried. For the accept loop of a serving
 *  thread. Thread context. */
int al_posix_accept_or_stop(int lfd, int stop_fd);

/** Who may be on the other end of a local socket besides our own user:
 *  these uids, and processes whose primary or supplementary groups include
 *  one of these gids. Zero-initialised: our own uid only. */
struct al_peer_policy {
	const uint32_t *uids;
	unsigned n_uids;
	const uint32_t *gids;
	unsigned n_gids;
};

/** Check the process on the other end of a connected UNIX socket
 *  (SO_PEERCRED, SO_PEERGROUPS) against `p` (NULL: our own uid only).
 *  Returns 0 if admitted, AL_EPERM if not; on a refusal `who` (if not
 *  NULL) gets "uid U (name), gid G, pid P" for the sentence that says who
 *  was refused (an admitted peer gets "": no user-name lookup). */
int al_posix_peer_check(int fd, const struct al_peer_policy *p, char *who, size_t n);

/** A shared region a peer cannot resize: a memfd of `size` bytes sealed
 *  against shrinking, growing and further sealing (what a region's creator
 *  hands out). Returns the descriptor (close-on-exec) or -errno. */
int al_posix_sealed_memfd(const char *name, size_t size);

/** Whether a region received from a peer is sealed against shrinking and
 *  growing: an unsealed one may be cut short under our mapping, and any
 *  access past its new end would kill the process (SIGBUS). */
bool al_posix_region_sealed(int fd);

/** Guard a shared mapping of a file that cannot be sealed (a named file
 *  another process opened too): if the file is cut short, an access past
 *  its end no longer kills the process; the whole mapping turns into
 *  private zero pages instead and al_posix_guard_hit() says so, so the
 *  owner can call the link lost. Returns a slot (>= 0) or -errno; remove
 *  the guard before unmapping. Any thread. */
int al_posix_guard_add(void *base, size_t len);
bool al_posix_guard_hit(int slot);
void al_posix_guard_remove(int slot);

#ifdef __cplusplus
}
#endif
#endif
