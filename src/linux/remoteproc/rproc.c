/* The remoteproc host (include/amplink/linux/rproc.h): the state machine
 * and the public API. al_rproc_start() allocates what lives across boots,
 * boots once (rproc_boot.c) and starts the watch thread (rproc_watch.c),
 * which notices crashes and restarts; al_rproc_stop() ends both and tears
 * the boot down. Sending, status and the trace buffer are here; the
 * endpoint and service API is in rproc_services.c.
 *
 * States: OFFLINE -> RUNNING (a boot succeeded) -> CRASHED (the watch
 * thread saw it die or hang) -> RUNNING (restarted) ...; STOPPED after
 * al_rproc_stop(). */
#define _GNU_SOURCE
#include "rproc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "amplink/linux/diag.h"

const char *al_rproc_state_name(int s)
{
	switch (s) {
	case AL_RPROC_OFFLINE: return "offline";
	case AL_RPROC_RUNNING: return "running";
	case AL_RPROC_CRASHED: return "crashed";
	case AL_RPROC_STOPPED: return "stopped";
	default: return "?";
	}
}

/* ---- the driver side's doorbell ---------------------------------------------- */

/* Ring the remote (the port's notify hook). */
static void rproc_ring(struct al_posix_port *port, uint32_t notifyid)
{
	(void)notifyid; /* one doorbell per direction */
	struct al_rproc *rp = al_container_of(port, struct al_rproc, port);
	/* the backend's byte-stream doorbell rings both ways on one socket */
	al_posix_kick_fd(rp->byte_kick ? rp->kick_in : rp->kick_out, rp->byte_kick);
}

/* ---- public API ------------------------------------------------------------------ */

/* al_rproc_start() failed: tell the application why (diagnostics hook). */
static int start_failed(const char *firmware, int rc, const char *why)
{
	al_diagf(AL_DIAG_ERR, "cannot start %s: %s", firmware, why[0] ? why : al_strerror(rc));
	return rc;
}

int al_rproc_start(const struct al_rproc_cfg *cfg, struct al_rproc **out)
{
	if (!cfg || !cfg->firmware || !out)
		return start_failed("a remote", AL_EINVAL, "no firmware given");
	*out = NULL;
	struct al_rproc *rp = calloc(1, sizeof(*rp));
	if (!rp)
		return start_failed(cfg->firmware, AL_ENOMEM, "");
	rp->cfg = *cfg;
	snprintf(rp->name, sizeof(rp->name), "%s", cfg->name ? cfg->name : "rproc0");
	snprintf(rp->firmware, sizeof(rp->firmware), "%s", cfg->firmware);
	rp->cfg.name = rp->name;
	rp->cfg.firmware = rp->firmware;
	if (!rp->cfg.heartbeat_ms)
		rp->cfg.heartbeat_ms = 500;
	if (!rp->cfg.boot_timeout_ms)
		rp->cfg.boot_timeout_ms = 3000;
	if (!rp->cfg.region_size)
		rp->cfg.region_size = 1u << 20;
	if (!rp->cfg.buf_size)
		rp->cfg.buf_size = RPMSG_BUFFER_SIZE;
	if (rp->cfg.log_fd == 0)
		rp->cfg.log_fd = -1;
	rp->size = (rp->cfg.region_size + 4095u) & ~(size_t)4095u;
	rp->be = cfg->backend ? cfg->backend : &al_rproc_process_backend;
	rp->memfd = rp->kick_in = rp->kick_out = rp->ctl_efd = -1;
	rp->trace_off = -1;
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&rp->rw, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&rp->mu, NULL);
	al_posix_port_init(&rp->port, rproc_ring);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rp->cv, &ca);
	pthread_condattr_destroy(&ca);
	rp->t_start = al_posix_now_ms();
	rp->shadows = calloc(RPROC_SHADOWS, sizeof(*rp->shadows));
	rp->crash_trace_len = RPROC_TRACE_MAX;
	rp->crash_trace = calloc(1, RPROC_TRACE_MAX);
	rp->bctx = rp->be->create ? rp->be->create() : NULL;
	rp->ctl_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rp->cfg.buf_size < AL_BUF_SIZE_MIN || rp->cfg.buf_size > AL_BUF_SIZE_MAX ||
	    rp->size < 4 * AL_RPROC_CTL_PAGE || rp->size > 0xFFFFFFFFu) {
		al_rproc_close(rp);
		return start_failed(cfg->firmware, AL_EINVAL, "bad buffer size or region size");
	}
	if (!rp->shadows || !rp->crash_trace || (rp->be->create && !rp->bctx) || rp->ctl_efd < 0) {
		al_rproc_close(rp);
		return start_failed(cfg->firmware, AL_ENOMEM, "out of memory");
	}
	char why[256] = "";
	int rc = rproc_boot(rp, why, sizeof(why));
	if (rc) {
		al_rproc_close(rp);
		return start_failed(cfg->firmware, rc, why);
	}
	if (rproc_watch_start(rp) != 0) {
		al_rproc_close(rp);
		return start_failed(cfg->firmware, AL_ENOMEM, "cannot start the watch thread");
	}
	rproc_event(rp, AL_RPROC_EV_RUNNING, NULL, "boot 1");
	*out = rp;
	return 0;
}

void al_rproc_stop(struct al_rproc *rp)
{
	if (!rp || rp->state == AL_RPROC_STOPPED)
		return;
	rp->stopping = 1;
	rproc_watch_stop(rp);
	if (rp->vdev_up)
		al_virtio_peer_lost(&rp->rvdev);
	pthread_mutex_lock(&rp->mu);
	rp->state = AL_RPROC_STOPPED;
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	rproc_check_bindings(rp, true);
	rproc_boot_epts_down(rp);
	pthread_rwlock_wrlock(&rp->rw);
	if (rp->bctx)
		rp->be->stop(rp->bctx, 1000);
	rproc_teardown(rp);
	pthread_rwlock_unlock(&rp->rw);
	if (rp->boots)
		rproc_event(rp, AL_RPROC_EV_STOPPED, NULL, "stopped");
}

void al_rproc_close(struct al_rproc *rp)
{
	if (!rp)
		return;
	al_rproc_stop(rp);
	if (rp->bctx && rp->be->destroy)
		rp->be->destroy(rp->bctx);
	if (rp->ctl_efd >= 0)
		close(rp->ctl_efd);
	free(rp->shadows);
	free(rp->crash_trace);
	pthread_rwlock_destroy(&rp->rw);
	pthread_mutex_destroy(&rp->mu);
	al_posix_port_destroy(&rp->port);
	pthread_cond_destroy(&rp->cv);
	free(rp);
}

int al_rproc_send(struct al_rproc *rp, struct rpmsg_endpoint *ept, const void *data, int len,
		  uint32_t timeout_ms)
{
	if (!rp || !ept)
		return AL_EINVAL;
	if (rp->state != AL_RPROC_RUNNING)
		return AL_ENOLINK; /* fast path during an outage: no lock */
	pthread_rwlock_rdlock(&rp->rw);
	int rc;
	if (rp->state != AL_RPROC_RUNNING || !ept->rdev || ept->dest_addr == RPMSG_ADDR_ANY)
		rc = AL_ENOLINK;
	else
		rc = al_send_timeout(ept, ept->addr, ept->dest_addr, data, len, timeout_ms);
	pthread_rwlock_unlock(&rp->rw);
	return rc;
}

void al_rproc_get_status(struct al_rproc *rp, struct al_rproc_status *st)
{
	if (!rp || !st)
		return;
	memset(st, 0, sizeof(*st));
	uint64_t now = al_posix_now_ms();
	pthread_mutex_lock(&rp->mu);
	st->state = rp->state;
	st->boots = rp->boots;
	st->crashes = rp->crashes;
	st->recoveries = rp->recoveries;
	st->uptime_s = (double)(now - rp->t_start) / 1000.0;
	st->boot_uptime_s = rp->state == AL_RPROC_RUNNING ? (double)(now - rp->t_boot) / 1000.0 : 0;
	st->last_pong_ms_ago = rp->pong_seen && rp->state == AL_RPROC_RUNNING
				   ? (double)(int64_t)(now - rp->last_pong)
				   : -1;
	st->heartbeat_ms = rp->cfg.heartbeat_ms;
	snprintf(st->last_crash, sizeof(st->last_crash), "%s", rp->last_crash);
	snprintf(st->firmware, sizeof(st->firmware), "%s", rp->firmware);
	snprintf(st->backend, sizeof(st->backend), "%s", rp->be->name ? rp->be->name : "?");
	pthread_mutex_unlock(&rp->mu);
	pthread_rwlock_rdlock(&rp->rw);
	st->id =
	    rp->state == AL_RPROC_RUNNING && rp->bctx && rp->be->id ? rp->be->id(rp->bctx) : -1;
	pthread_rwlock_unlock(&rp->rw);
}

/* The remote's text as printable characters; its length. */
static long copy_text(char *buf, size_t len, const uint8_t *src, size_t n)
{
	if (!buf || !len)
		return AL_EINVAL;
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < len; i++) {
		uint8_t c = __atomic_load_n(&src[i], __ATOMIC_RELAXED); /* the remote writes on */
		if (!c)
			break;
		buf[k++] = (c >= 32 && c < 127) || c == '\n' || c == '\t' ? (char)c : '.';
	}
	buf[k] = '\0';
	return (long)k;
}

long al_rproc_read_trace(struct al_rproc *rp, bool last_crash, char *buf, size_t len)
{
	if (!rp)
		return AL_EINVAL;
	if (last_crash) {
		pthread_mutex_lock(&rp->mu);
		long n = rp->crashes ? copy_text(buf, len, (const uint8_t *)rp->crash_trace,
						 rp->crash_trace_len)
				     : AL_EADDR;
		pthread_mutex_unlock(&rp->mu);
		return n;
	}
	pthread_rwlock_rdlock(&rp->rw);
	long n = rp->mem && rp->trace_off >= 0
		     ? copy_text(buf, len, rp->mem + rp->trace_off, rp->trace_len)
		     : AL_EADDR;
	pthread_rwlock_unlock(&rp->rw);
	return n;
}
