/* amplink vhost-user remote: an rpmsg DEVICE served over a vhost-user
 * socket to a driver in another process (a User-Mode Linux kernel's
 * virtio_rpmsg_bus through virtio_uml, a VMM's vhost-user-device).
 *
 * It puts the rpmsg core's device role (amplink/rpmsg_virtio.h, a device
 * without a resource table) on top of the vhost-user back-end
 * (amplink/linux/vhost_user.h). One front-end at a time; per connection:
 *
 *   - once both vrings are ready and the driver kicked vring 0 (it has
 *     posted its receive buffers; the device never sees DRIVER_OK), a
 *     session starts: the link is set up on the front-end's memory (region
 *     0 as the link's first region, the others added), the application's
 *     session_start creates its endpoints, and the device comes up on the
 *     driver's rings, announcing every named endpoint;
 *   - every kick runs the core's receive handler (al_virtio_notified()) in
 *     the serving thread; the application's receive callbacks run there;
 *   - the device signals the driver on the vring's call fd, from any thread;
 *   - when a vring stops, the memory table goes or the front-end leaves,
 *     the link is marked lost (no ring or buffer is touched again), the
 *     application's session_end runs, every endpoint is destroyed and the
 *     server waits for the next front-end (the socket stays listening).
 *
 * What the front-end writes is untrusted: the vhost-user layer checks its
 * messages, the core checks the rings and every descriptor (a violation
 * marks that link broken; the session ends when the front-end goes), this
 * layer checks what it takes from the memory table and the vrings before
 * handing them on. Failures are reported through al_diagf()
 * (amplink/linux/diag.h) as one sentence starting with a fault name
 * ("vhost-user remote: <fault>: ..."), and counted in the stats.
 *
 * Threads: al_vhu_remote_run() (or the thread of al_vhu_remote_start())
 * is the only context that handles the socket, the kicks and the receive
 * path. Sends may come from any thread while a session is up.
 */
#ifndef AMPLINK_LINUX_VHOST_USER_REMOTE_H
#define AMPLINK_LINUX_VHOST_USER_REMOTE_H

#include <stdint.h>

#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Why something failed or a session ended (al_vhu_remote_fault_name()). */
enum al_vhu_remote_fault {
	AL_VHUR_OK = 0,
	AL_VHUR_F_SOCKET,	/* listening or accepting failed */
	AL_VHUR_F_MESSAGE,	/* the front-end sent a malformed message: dropped */
	AL_VHUR_F_NO_MEMORY,	/* rings ready but no memory table */
	AL_VHUR_F_TOO_MANY_REG, /* more memory regions than the link takes */
	AL_VHUR_F_REGION,	/* a region the core refused (overlap, empty) */
	AL_VHUR_F_RING_SIZE,	/* a vring size the core cannot take (> 32768) */
	AL_VHUR_F_ALLOC,	/* out of memory for the shadows */
	AL_VHUR_F_INIT,		/* rpmsg_init_vdev_with_config refused */
	AL_VHUR_F_APP,		/* the application's session_start failed */
	AL_VHUR_F_RINGS,	/* al_virtio_device_start refused the driver's rings */
	AL_VHUR_F_BROKEN,	/* the driver corrupted the rings during the session */
	AL_VHUR_F_CALL,		/* signalling the driver failed (it is gone) */
	AL_VHUR_F_KICK_POLLING, /* the front-end asked for polled kicks (not served) */
	AL_VHUR_F_THREAD,	/* the serving thread could not start */
	AL_VHUR_F_COUNT
};

/* Why a session ended (passed to session_end). */
enum al_vhu_remote_end {
	/* the front-end closed the connection; while its vrings run, the
	 * transport stops them first, and the session ends with
	 * AL_VHUR_END_VRING_STOPPED instead */
	AL_VHUR_END_GONE,
	AL_VHUR_END_VRING_STOPPED,  /* a vring was stopped or reset */
	AL_VHUR_END_MEM_INVALIDATE, /* the memory table is being replaced */
	AL_VHUR_END_SHUTDOWN,	    /* al_vhu_remote_destroy() */
};

struct al_vhu_remote;

struct al_vhu_remote_config {
	/* A session starts: create the application's endpoints on rdev (they
	 * are announced when the device comes up right after). Serving
	 * thread. Return 0, or a negative code to refuse the session (the
	 * rings are left alone until the front-end goes). */
	int (*session_start)(void *arg, struct rpmsg_device *rdev);
	/* The session ends: the link is already down (sends fail with
	 * AL_ENOLINK, blocked senders woke). Stop every thread that sends
	 * on rdev and release every held receive buffer before returning:
	 * the front-end's memory is unmapped right after. The endpoints are
	 * destroyed after it returns. Serving thread; may wait briefly.
	 * May be NULL. */
	void (*session_end)(void *arg, struct rpmsg_device *rdev, enum al_vhu_remote_end why);
	void *arg;
	/* Feature bits of the rpmsg device besides VIRTIO_RPMSG_F_NS (always
	 * offered). 0 is fine. */
	uint32_t features;
	/* Buffer sizes: 0 = 512 B both ways (what Linux allocates). */
	struct rpmsg_virtio_config buf;
};

struct al_vhu_remote_stats {
	uint32_t connections; /* front-ends accepted */
	uint32_t sessions;    /* sessions started (device came up) */
	uint32_t sessions_ended;
	uint32_t refused;  /* sessions that could not start */
	uint32_t broken;   /* sessions the driver broke */
	uint64_t kicks;	   /* kicks handled */
	uint64_t messages; /* messages delivered to endpoints */
	uint32_t faults[AL_VHUR_F_COUNT];
};

/** Create a server (no socket yet). Returns NULL when out of memory or when
 *  cfg or its session_start is NULL. Thread context. */
struct al_vhu_remote *al_vhu_remote_create(const struct al_vhu_remote_config *cfg);

/** Listen on a UNIX socket at path (bound, listening and renamed into place
 *  before it returns: a front-end may be started right after). Returns 0,
 *  AL_EINVAL or AL_EINIT (reason reported). */
int al_vhu_remote_listen(struct al_vhu_remote *r, const char *path);

/** One round of the serving loop for a caller's own loop: waits up to
 *  timeout_ms (-1: forever) for the socket, a kick or al_vhu_remote_wake(),
 *  then handles what came. Returns 1 when something was handled, 0 on
 *  timeout, a negative code when a step failed (reported; the server stays
 *  usable). Never call it from two threads or while the thread of
 *  al_vhu_remote_start() runs. */
int al_vhu_remote_run(struct al_vhu_remote *r, int timeout_ms);

/** Serve in a thread of its own (al_vhu_remote_run() in a loop). Returns 0,
 *  AL_ESTATE (already running) or AL_EINIT (thread creation failed). */
int al_vhu_remote_start(struct al_vhu_remote *r);

/** Stop that thread (wakes it, joins it). The session, if any, stays up
 *  until al_vhu_remote_destroy(). Thread context, not the serving thread. */
void al_vhu_remote_stop(struct al_vhu_remote *r);

/** Wake al_vhu_remote_run() early. Any thread. */
void al_vhu_remote_wake(struct al_vhu_remote *r);

/** Stop the thread, end the session (session_end with
 *  AL_VHUR_END_SHUTDOWN), close the connection and the socket (its path is
 *  removed), free. NULL is accepted. */
void al_vhu_remote_destroy(struct al_vhu_remote *r);

/** Counters so far (a consistent copy). Any thread. */
void al_vhu_remote_get_stats(struct al_vhu_remote *r, struct al_vhu_remote_stats *out);

/** The link of the current session (NULL when none); for diagnostics in
 *  the serving thread or in the session callbacks. */
struct rpmsg_virtio_device *al_vhu_remote_rvdev(struct al_vhu_remote *r);

/** Name of a fault ("rings-refused"). */
const char *al_vhu_remote_fault_name(enum al_vhu_remote_fault f);

/** Name of an end reason ("gone"). */
const char *al_vhu_remote_end_name(enum al_vhu_remote_end why);

#ifdef __cplusplus
}
#endif
#endif
