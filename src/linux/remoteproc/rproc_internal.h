/* What the files of the remoteproc host (include/amplink/linux/rproc.h)
 * share: struct al_rproc and the calls one part makes into another.
 * Private to src/linux/remoteproc.
 *
 *   rproc.c          the state machine and the public API: start, stop,
 *                    close, send, status, trace
 *   rproc_boot.c     one boot: firmware, resource table, region, link,
 *                    remote started; its undo (rproc_teardown)
 *   rproc_watch.c    the watch thread: doorbells, crash detection,
 *                    heartbeat, restart
 *   rproc_services.c registered endpoints, announced services and the
 *                    endpoints bound to them for one boot
 *
 * Locks: `rw` is taken for reading by senders and for writing by whatever
 * builds or tears down a boot (boot, crash, stop); `mu` guards the state,
 * the counters, the endpoint tables and the waits. Order: rw, then mu.
 */
#ifndef AL_RPROC_INTERNAL_H
#define AL_RPROC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amplink/linux/posix_port.h"
#include "amplink/linux/rproc.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/virtio_ring.h"

#define RPROC_MAX_REGISTERED 16 /* al_rproc_ept_add() endpoints */
#define RPROC_MAX_ANNOUNCED  32 /* services announced that no endpoint waited for */
#define RPROC_MAX_BOOT_EPTS  32 /* al_rproc_ept_bind() endpoints */
#define RPROC_SHADOWS	     (2u * AL_VRING_MAX_NUM)
#define RPROC_TRACE_MAX	     65536u /* the copy of the trace buffer kept at a crash */

/* An endpoint of al_rproc_ept_add(): created again on every boot's link. */
struct rproc_registered {
	struct rpmsg_endpoint *ept; /* NULL: free slot */
	char name[RPMSG_NAME_SIZE];
	rpmsg_ept_cb cb;
	void *priv;
	bool bound; /* as last reported (AL_RPROC_EV_EPT_BOUND / _UNBOUND) */
};

/* A service the remote announced in this boot that no endpoint waited for. */
struct rproc_announced {
	char name[RPMSG_NAME_SIZE];
	uint32_t addr;
};

/* An endpoint of al_rproc_ept_bind(): this boot only. */
struct rproc_boot_ept {
	struct rpmsg_endpoint *ept; /* NULL: free slot */
	rpmsg_ns_unbind_cb unbind;
};

struct al_rproc {
	struct rpmsg_virtio_device rvdev;
	struct al_rproc_cfg cfg;
	char name[64];
	char firmware[256];
	const struct al_rproc_backend_ops *be;
	void *bctx;
	/* per boot */
	uint8_t *mem;
	size_t size;
	uint64_t da;	/* device address of mem[0]: 0, or the backend's (qemu) */
	bool byte_kick; /* kick_in is the backend's byte-stream doorbell (both ways) */
	int memfd, kick_in, kick_out; /* kick_in: we wait on it (remote rings) */
	struct virtio_device vdev;
	struct rpmsg_virtio_shm_pool pool;
	struct rpmsg_endpoint hb;
	bool vdev_up;
	long trace_off; /* in mem, -1 if none */
	uint32_t trace_len;
	/* across boots */
	struct al_desc_shadow *shadows;
	char *crash_trace;
	size_t crash_trace_len;
	struct rproc_registered registered[RPROC_MAX_REGISTERED];
	struct rproc_announced announced[RPROC_MAX_ANNOUNCED];
	int nannounced;
	struct rproc_boot_ept boot_epts[RPROC_MAX_BOOT_EPTS];
	/* threads and locks */
	pthread_t thread;
	bool thread_started;
	int ctl_efd;
	pthread_rwlock_t rw; /* read: senders; write: crash teardown and boot */
	pthread_mutex_t mu;  /* state, counters, endpoint tables, waits */
	pthread_cond_t cv;
	struct al_posix_port port; /* lock, wait/wake, doorbell of the rpmsg device */
	volatile int state;
	volatile int stopping;
	/* counters */
	unsigned boots, crashes, recoveries;
	uint64_t t_start, t_boot, last_pong, next_ping, next_restart;
	uint32_t hb_seq;
	/* The rings' progress as a sign of life (rproc_watch.c): the indices
	 * the remote publishes (al_virtio_progress) at the last check; when
	 * they last counted as life; whether the last ping found no free
	 * buffer. */
	uint16_t hb_seen_rx, hb_seen_tx;
	uint64_t last_progress, last_check;
	bool ping_blocked;
	bool pong_seen;
	char last_crash[160];
};

/* The remote an rpmsg device (an endpoint's ept->rdev) belongs to. */
static inline struct al_rproc *rproc_of(struct rpmsg_device *rdev)
{
	return al_container_of(rdev, struct al_rproc, rvdev.rdev);
}

/* Tell the application (struct al_rproc_cfg.event_cb). */
static inline void rproc_event(struct al_rproc *rp, int e, struct rpmsg_endpoint *ept,
			       const char *why)
{
	if (rp->cfg.event_cb)
		rp->cfg.event_cb(rp, e, ept, why, rp->cfg.user);
}

/* ---- rproc_boot.c ---- */

/* Boot the remote once: on success state RUNNING; on failure everything
 * this boot made is undone and why[why_len] says what went wrong. Caller
 * holds the write lock (or is the only thread). */
int rproc_boot(struct al_rproc *rp, char *why, size_t why_len);
/* Undo a boot: the remote forced down first, then the link, then the
 * region. Caller holds the write lock (or is the only thread). */
void rproc_teardown(struct al_rproc *rp);

/* ---- rproc_watch.c ---- */

/* Start / end the watch thread. */
int rproc_watch_start(struct al_rproc *rp);
void rproc_watch_stop(struct al_rproc *rp);
/* The heartbeat endpoint on this boot's link; rpmsg_create_ept()'s result. */
int rproc_heartbeat_attach(struct al_rproc *rp);
/* A boot started at t0: the first answer is due within boot_timeout.
 * Caller holds mu. */
void rproc_heartbeat_reset(struct al_rproc *rp, uint64_t t0);

/* ---- rproc_services.c ---- */

/* The name-service hook of the link (rpmsg_init_vdev's ns_bind_cb). */
void rproc_ns_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest);
/* A new boot: forget the last boot's announcements. */
void rproc_services_forget(struct al_rproc *rp);
/* Create the registered endpoints on this boot's link. Returns 0 or
 * rpmsg_create_ept()'s error. */
int rproc_services_attach(struct al_rproc *rp);
/* The link is gone: no endpoint points to it any more, and the endpoints
 * of al_rproc_ept_bind() are free again. */
void rproc_services_detach(struct al_rproc *rp);
/* Report the registered endpoints whose binding changed since the last
 * look (force_unbind: the remote is down, all are unbound). */
void rproc_check_bindings(struct al_rproc *rp, bool force_unbind);
/* The remote is going down: the owners of al_rproc_ept_bind() endpoints
 * hear it while their endpoints are still attached. */
void rproc_boot_epts_down(struct al_rproc *rp);

#endif
