/* The remoteproc host's watch thread: it plays the remote's interrupt
 * handler (doorbells in, endpoint callbacks) and its watchdog. It notices
 * a crash (the backend says the remote died, the doorbell closed, the
 * rings were corrupted, the heartbeat went unanswered), tears the boot
 * down and, with `restart`, boots again after a back-off. */
#define _GNU_SOURCE
#include "rproc_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RESTART_BACKOFF_MS 500u

/* ---- heartbeat ------------------------------------------------------------------ */

/* An answer to a ping (receive context). */
static int heartbeat_answer(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src,
			    void *priv)
{
	(void)src, (void)priv;
	struct al_rproc *rp = rproc_of(ept->rdev);
	uint32_t m[2];
	if (len == sizeof(m)) {
		memcpy(m, data, sizeof(m));
		if (m[0] == AL_RPROC_HB_MAGIC) {
			pthread_mutex_lock(&rp->mu);
			rp->last_pong = al_posix_now_ms();
			rp->pong_seen = true;
			pthread_mutex_unlock(&rp->mu);
		}
	}
	return RPMSG_SUCCESS;
}

int rproc_heartbeat_attach(struct al_rproc *rp)
{
	return rpmsg_create_ept(&rp->hb, &rp->rvdev.rdev, NULL, AL_RPROC_HB_ADDR, AL_RPROC_HB_ADDR,
				heartbeat_answer, NULL);
}

void rproc_heartbeat_reset(struct al_rproc *rp, uint64_t t0)
{
	/* the first answer is due within boot_timeout */
	rp->last_pong = t0 + rp->cfg.boot_timeout_ms;
	rp->pong_seen = false;
	rp->next_ping = t0;
	rp->last_progress = rp->last_check = 0;
	rp->hb_seen_rx = rp->hb_seen_tx = 0;
	rp->ping_blocked = false;
}

/* ---- crash and restart ------------------------------------------------------- */

/* The remote died or hung: record it, fail senders, unbind, tear down, and
 * plan a restart. Watch thread. */
static void crashed(struct al_rproc *rp, const char *why)
{
	al_virtio_peer_lost(&rp->rvdev); /* senders fail now and wake */
	pthread_mutex_lock(&rp->mu);
	rp->state = AL_RPROC_CRASHED;
	rp->crashes++;
	snprintf(rp->last_crash, sizeof(rp->last_crash), "%s", why);
	if (rp->trace_off >= 0 && rp->crash_trace) {
		size_t l =
		    rp->trace_len < rp->crash_trace_len ? rp->trace_len : rp->crash_trace_len;
		memcpy(rp->crash_trace, rp->mem + rp->trace_off, l);
		rp->crash_trace[l < rp->crash_trace_len ? l : rp->crash_trace_len - 1] = '\0';
	}
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	rproc_event(rp, AL_RPROC_EV_CRASHED, NULL, why);
	rproc_check_bindings(rp, true);
	rproc_boot_epts_down(rp);
	pthread_rwlock_wrlock(&rp->rw);
	rproc_teardown(rp);
	pthread_rwlock_unlock(&rp->rw);
	rp->next_restart = al_posix_now_ms();
}

/* With `restart`, once the back-off has passed: boot again. A failed
 * restart is recorded in last_crash and tried again later. Watch thread. */
static void try_restart(struct al_rproc *rp)
{
	if (!rp->cfg.restart || (rp->cfg.max_restarts && rp->recoveries >= rp->cfg.max_restarts) ||
	    al_posix_now_ms() < rp->next_restart)
		return;
	char why[256] = "";
	pthread_rwlock_wrlock(&rp->rw);
	int rc = rproc_boot(rp, why, sizeof(why));
	pthread_rwlock_unlock(&rp->rw);
	if (rc) {
		pthread_mutex_lock(&rp->mu);
		snprintf(rp->last_crash, sizeof(rp->last_crash), "restart failed: %.140s", why);
		pthread_mutex_unlock(&rp->mu);
		rp->next_restart = al_posix_now_ms() + RESTART_BACKOFF_MS;
		return;
	}
	pthread_mutex_lock(&rp->mu);
	rp->recoveries++;
	pthread_mutex_unlock(&rp->mu);
	snprintf(why, sizeof(why), "boot %u, restart %u", rp->boots, rp->recoveries);
	rproc_event(rp, AL_RPROC_EV_RUNNING, NULL, why);
}

/* ---- the watch thread ------------------------------------------------------------ */

/* Signs of life besides an answered ping, for a remote under a flood: it
 * sent us messages (the index it publishes in our receive ring moved: its
 * answer may have found no free buffer), or it took our messages while
 * our last ping found no free buffer to go out in. Taking our pings alone
 * is no sign: a remote that takes them but never answers is what the
 * heartbeat exists to catch. */
static void hb_progress(struct al_rproc *rp, uint64_t now)
{
	uint16_t rx, tx; /* what the remote published in our two rings */
	if (al_virtio_progress(&rp->rvdev, &rx, &tx) != 0)
		return; /* the link is not up */
	/* it moved after the last check: count that time, not now, so that an
	 * answered ping seen late (it moves the index too) adds no delay */
	if (rx != rp->hb_seen_rx || (tx != rp->hb_seen_tx && rp->ping_blocked))
		rp->last_progress = rp->last_check;
	rp->hb_seen_rx = rx;
	rp->hb_seen_tx = tx;
	rp->last_check = now;
}

static void *watch_main(void *arg)
{
	struct al_rproc *rp = arg;
	bool hb = rp->cfg.heartbeat_ms != AL_WAIT_FOREVER;
	uint32_t half = hb ? (rp->cfg.heartbeat_ms + 1) / 2 : 100;
	uint64_t next_check = al_posix_now_ms() + half;
	while (!rp->stopping) {
		bool running = rp->state == AL_RPROC_RUNNING;
		uint64_t now = al_posix_now_ms();
		int timeout = next_check > now ? (int)(next_check - now) : 0;
		if (!running && rp->cfg.restart)
			timeout = timeout < 50 ? timeout : 50;
		struct pollfd p[3] = {{.fd = rp->ctl_efd, .events = POLLIN},
				      {.fd = running ? rp->kick_in : -1, .events = POLLIN},
				      {.fd = running && rp->bctx ? rp->be->watch_fd(rp->bctx) : -1,
				       .events = POLLIN}};
		int r = poll(p, 3, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (rp->stopping)
			break;
		if (p[0].revents) {
			uint64_t v;
			ssize_t k = read(rp->ctl_efd, &v, sizeof(v));
			(void)k;
		}
		if (running && p[1].revents) {
			uint8_t v[256];
			ssize_t k =
			    read(rp->kick_in, v, rp->byte_kick ? sizeof(v) : sizeof(uint64_t));
			if (k == 0 && rp->byte_kick) {
				/* the doorbell's other end closed: the remote is going
				 * away; let the backend say how */
				char w[160] = "the remote closed its doorbell";
				int wfd = rp->bctx ? rp->be->watch_fd(rp->bctx) : -1;
				if (wfd >= 0) {
					struct pollfd d = {.fd = wfd, .events = POLLIN};
					(void)poll(&d, 1, 500);
				}
				if (rp->bctx && !rp->be->is_alive(rp->bctx, w, sizeof(w)))
					crashed(rp, w);
				else
					crashed(rp, "the remote closed its doorbell");
				continue;
			}
			if (al_virtio_notified(&rp->rvdev) == AL_EBROKEN) {
				char w[200];
				snprintf(w, sizeof(w), "remote corrupted the rings: %s",
					 al_virtio_broken_reason(&rp->rvdev));
				crashed(rp, w);
				continue;
			}
			rproc_check_bindings(rp, false);
		}
		char w[160];
		bool look = p[2].fd >= 0 ? p[2].revents != 0 : al_posix_now_ms() >= next_check;
		if (running && look && rp->bctx && !rp->be->is_alive(rp->bctx, w, sizeof(w))) {
			crashed(rp, w);
			continue;
		}
		now = al_posix_now_ms();
		if (now < next_check)
			continue;
		next_check = now + half;
		if (!running) {
			try_restart(rp);
			continue;
		}
		if (!hb)
			continue;
		pthread_mutex_lock(&rp->mu);
		uint64_t last = rp->last_pong;
		bool seen = rp->pong_seen;
		pthread_mutex_unlock(&rp->mu);
		/* Under a flood a ping or its answer can find no free buffer:
		 * then the rings' progress counts as life (hb_progress), so a
		 * busy core is not declared dead. A frozen one moves nothing. */
		hb_progress(rp, now);
		uint64_t answered = last;
		if (seen && rp->last_progress > last)
			last = rp->last_progress;
		uint64_t limit = seen ? (uint64_t)rp->cfg.heartbeat_ms * 9u / 4u : 0;
		if (now > last + limit) {
			if (seen && last == answered)
				snprintf(
				    w, sizeof(w),
				    "firmware stopped answering the heartbeat (%llu ms without an "
				    "answer, interval %u ms)",
				    (unsigned long long)(now - last), rp->cfg.heartbeat_ms);
			else if (seen)
				snprintf(
				    w, sizeof(w),
				    "firmware stopped answering the heartbeat (%llu ms without "
				    "an answer, %llu ms without ring progress, interval %u ms)",
				    (unsigned long long)(now - answered),
				    (unsigned long long)(now - last), rp->cfg.heartbeat_ms);
			else
				snprintf(w, sizeof(w),
					 "firmware did not answer its first heartbeat "
					 "within %u ms of booting",
					 rp->cfg.boot_timeout_ms);
			crashed(rp, w);
			continue;
		}
		if (now >= rp->next_ping) {
			uint32_t m[2] = {AL_RPROC_HB_MAGIC, rp->hb_seq + 1};
			int rc = rpmsg_trysendto(&rp->hb, m, sizeof(m), AL_RPROC_HB_ADDR);
			rp->ping_blocked = rc == AL_ENOBUFS;
			if (!rp->ping_blocked) { /* else: again at the next check */
				rp->hb_seq++;
				rp->next_ping = now + rp->cfg.heartbeat_ms;
			}
		}
	}
	return NULL;
}

/* The thread: doorbells, liveness, heartbeat pings and restarts until
 * al_rproc_stop(). */
int rproc_watch_start(struct al_rproc *rp)
{
	if (pthread_create(&rp->thread, NULL, watch_main, rp) != 0)
		return AL_ENOMEM;
	rp->thread_started = true;
	return 0;
}

/* End the watch thread (the caller set rp->stopping) and wait for it. */
void rproc_watch_stop(struct al_rproc *rp)
{
	if (!rp->thread_started)
		return;
	uint64_t one = 1;
	ssize_t k = write(rp->ctl_efd, &one, sizeof(one));
	(void)k;
	pthread_join(rp->thread, NULL);
	rp->thread_started = false;
}
