/* The rproc relay (include/amplink/linux/rproc_relay.h): a remote's services,
 * booted by al_rproc, served on a POSIX link for the host tools.
 *
 * Threads and what they do:
 *   - the rproc's watch thread: announcements (svc_cb -> a pair and its
 *     firmware-side endpoint), firmware messages (fw_cb: straight to the
 *     host when possible, else queued), service ends (fw_unbind);
 *   - the POSIX link's receive thread: host messages (host_cb: straight to
 *     the firmware when possible, else queued);
 *   - `serve`: offers the link, creates and destroys the host-side twins,
 *     sends queued firmware -> host messages, ends a session when the host
 *     leaves or the firmware goes down;
 *   - `fw_worker`: sends queued host -> firmware messages.
 * One mutex (mu) guards the pairs, the queues and the counters. Lock order:
 * mu, then the rproc's locks (al_rproc_send); the rproc never calls us with
 * its locks held. A pair slot is reused only when neither side has an
 * endpoint in it and no queued message points at it. */
#define _GNU_SOURCE
#include "amplink/linux/rproc_relay.h"
#include "amplink/linux/posix_port.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PAIRS     32
#define FW_CB_WAIT_MS 20u  /* the watch thread waits this long for queue room */
#define SLICE_MS      100u /* blocking sends are retried in slices (stop stays quick) */
#define OFFER_MS      200u /* the link is offered in slices while no host comes */

enum { P_FREE = 0, P_USED = 1 };

struct pair {
	struct al_rproc_relay *r;
	int state;
	char name[RPMSG_NAME_SIZE];
	uint32_t fw_addr;
	struct rpmsg_endpoint fw_ept;	/* on the firmware's link (al_rproc_ept_bind) */
	bool fw_att;			/* fw_ept is attached (until fw_unbind) */
	bool fw_live;			/* ... and offered to hosts */
	struct rpmsg_endpoint host_ept; /* its twin on the POSIX link */
	bool host_made;
	uint32_t host_addr; /* the host endpoint that last wrote; ANY: none */
	unsigned refs;	    /* queued messages that point here */
};

struct msg {
	struct pair *p;
	uint32_t dst;
	uint32_t len;
	uint8_t *data;
};

struct queue {
	struct msg *q;
	unsigned head, count, cap;
	bool inflight; /* the worker holds one popped message */
};

struct al_rproc_relay {
	struct al_rproc_relay_cfg cfg;
	char link_name[64];
	struct al_rproc *rp;
	al_rproc_event_cb prev_cb;
	void *prev_user;
	pthread_mutex_t mu;
	pthread_cond_t cv_serve, cv_fw, cv_space;
	struct pair pairs[MAX_PAIRS];
	struct queue to_host, to_fw;
	struct al_posix_link *link; /* the current session, NULL if none */
	bool host_lost, end_session, stop;
	pthread_t serve_t, fw_t;
	bool serve_started, fw_started;
	struct al_rproc_relay_stats st;
};

static void note(struct al_rproc_relay *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct al_rproc_relay *r, const char *fmt, ...)
{
	if (!r->cfg.note)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->cfg.note(r->cfg.note_user, line);
}

/* ---- queues (caller holds mu) ------------------------------------------------ */

/* Queue a copy of a message, waiting up to wait_ms for room. Returns 0, or
 * AL_ENOBUFS (still full, or no memory). The wait releases mu. */
static int enqueue(struct al_rproc_relay *r, struct queue *q, pthread_cond_t *wake, struct pair *p,
		   uint32_t dst, const void *data, size_t len, uint32_t wait_ms)
{
	if (q->count == q->cap && wait_ms) {
		struct timespec dl = al_posix_deadline(wait_ms);
		while (q->count == q->cap && !r->stop)
			if (pthread_cond_timedwait(&r->cv_space, &r->mu, &dl) == ETIMEDOUT)
				break;
	}
	if (q->count == q->cap || r->stop)
		return AL_ENOBUFS;
	uint8_t *copy = malloc(len ? len : 1u);
	if (!copy)
		return AL_ENOBUFS;
	memcpy(copy, data, len);
	q->q[(q->head + q->count++) % q->cap] = (struct msg){p, dst, (uint32_t)len, copy};
	p->refs++;
	r->st.queued++;
	if (q->count > r->st.queue_max)
		r->st.queue_max = q->count;
	pthread_cond_signal(wake);
	return 0;
}

static struct msg dequeue(struct queue *q)
{
	struct msg m = q->q[q->head];
	q->head = (q->head + 1u) % q->cap;
	q->count--;
	return m;
}

/* A message popped (or flushed) is done with: the pair may be reused. */
static void msg_done(struct al_rproc_relay *r, struct msg *m)
{
	free(m->data);
	m->data = NULL;
	m->p->refs--;
	pthread_cond_broadcast(&r->cv_space);
	pthread_cond_signal(&r->cv_serve);
}

/* Count a failed forward by its reason. */
static void count_drop(struct al_rproc_relay *r, int rc)
{
	if (rc == AL_EMSGSIZE)
		r->st.drop_too_big++;
	else if (rc == AL_ENOBUFS || rc == AL_ETIMEDOUT)
		r->st.drop_no_buf++;
	else
		r->st.drop_down++;
}

/* ---- firmware side (the rproc's watch thread) ---------------------------------- */

static int fw_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src, (void)priv;
	struct pair *p = al_container_of(ept, struct pair, fw_ept);
	struct al_rproc_relay *r = p->r;
	pthread_mutex_lock(&r->mu);
	if (!r->link || !p->host_made || p->host_addr == RPMSG_ADDR_ANY) {
		r->st.drop_no_host++;
	} else {
		int rc = AL_ENOBUFS;
		if (!r->to_host.count && !r->to_host.inflight)
			rc = rpmsg_trysendto(&p->host_ept, data, (int)len, p->host_addr);
		if (rc >= 0)
			r->st.to_host++;
		else if (rc != AL_ENOBUFS)
			count_drop(r, rc);
		else if (enqueue(r, &r->to_host, &r->cv_serve, p, p->host_addr, data, len,
				 FW_CB_WAIT_MS))
			r->st.drop_no_buf++;
	}
	pthread_mutex_unlock(&r->mu);
	return RPMSG_SUCCESS;
}

/* The firmware destroyed the service, crashed or was stopped. */
static void fw_unbind(struct rpmsg_endpoint *ept)
{
	struct pair *p = al_container_of(ept, struct pair, fw_ept);
	struct al_rproc_relay *r = p->r;
	pthread_mutex_lock(&r->mu);
	if (p->fw_live)
		r->st.services--;
	p->fw_live = p->fw_att = false;
	pthread_cond_signal(&r->cv_serve);
	pthread_mutex_unlock(&r->mu);
}

static void svc_cb(struct al_rproc *rp, const char *name, uint32_t addr, void *user)
{
	struct al_rproc_relay *r = user;
	struct pair *p = NULL;
	bool dup = false;
	pthread_mutex_lock(&r->mu);
	if (!r->rp)
		r->rp = rp;
	for (int i = 0; i < MAX_PAIRS; i++)
		if (r->pairs[i].state == P_USED && r->pairs[i].fw_live &&
		    !strncmp(r->pairs[i].name, name, RPMSG_NAME_SIZE))
			dup = true;
	for (int i = 0; i < MAX_PAIRS && !p && !dup; i++) {
		struct pair *c = &r->pairs[i];
		if (c->state == P_FREE && !c->refs && !c->host_made && !c->fw_att)
			p = c;
	}
	if (p) {
		p->state = P_USED;
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->fw_addr = addr;
		p->fw_live = false;
		p->host_addr = RPMSG_ADDR_ANY;
	}
	pthread_mutex_unlock(&r->mu);
	if (!p) {
		note(r, "service '%s' at 0x%x not relayed (%s)", name, (unsigned)addr,
		     dup ? "announced twice" : "too many services");
		return;
	}
	int rc = al_rproc_ept_bind(rp, &p->fw_ept, name, addr, fw_cb, fw_unbind, p);
	pthread_mutex_lock(&r->mu);
	if (rc) {
		p->state = P_FREE;
	} else {
		p->fw_live = p->fw_att = true;
		r->st.services++;
	}
	pthread_cond_signal(&r->cv_serve);
	pthread_mutex_unlock(&r->mu);
	if (rc)
		note(r, "service '%s' not relayed: %s", name, al_strerror(rc));
}

static void rproc_event(struct al_rproc *rp, int e, struct rpmsg_endpoint *ept, const char *why,
			void *user)
{
	struct al_rproc_relay *r = user;
	if (e == AL_RPROC_EV_CRASHED || e == AL_RPROC_EV_STOPPED) {
		/* the host's session ends with the firmware's boot */
		pthread_mutex_lock(&r->mu);
		if (r->link)
			r->end_session = true;
		pthread_cond_signal(&r->cv_serve);
		pthread_mutex_unlock(&r->mu);
	}
	if (r->prev_cb)
		r->prev_cb(rp, e, ept, why, r->prev_user);
}

/* Host -> firmware messages that had to wait. */
static void *fw_worker(void *arg)
{
	struct al_rproc_relay *r = arg;
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		if (!r->to_fw.count) {
			pthread_cond_wait(&r->cv_fw, &r->mu);
			continue;
		}
		struct msg m = dequeue(&r->to_fw);
		r->to_fw.inflight = true;
		pthread_mutex_unlock(&r->mu);
		uint64_t end = al_posix_now_ms() + r->cfg.retry_ms;
		int rc;
		do
			rc = al_rproc_send(r->rp, &m.p->fw_ept, m.data, (int)m.len, SLICE_MS);
		while ((rc == AL_ENOBUFS || rc == AL_ETIMEDOUT) && al_posix_now_ms() < end &&
		       !r->stop);
		pthread_mutex_lock(&r->mu);
		r->to_fw.inflight = false;
		if (rc >= 0)
			r->st.to_fw++;
		else
			count_drop(r, rc);
		msg_done(r, &m);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- host side (the POSIX link) -------------------------------------------------- */

static int host_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	struct pair *p = al_container_of(ept, struct pair, host_ept);
	struct al_rproc_relay *r = p->r;
	pthread_mutex_lock(&r->mu);
	p->host_addr = src;
	if (!p->fw_live || !r->rp) {
		r->st.drop_down++;
	} else {
		int rc = AL_ENOBUFS;
		if (!r->to_fw.count && !r->to_fw.inflight)
			rc = al_rproc_send(r->rp, &p->fw_ept, data, (int)len, 0);
		if (rc >= 0)
			r->st.to_fw++;
		else if (rc != AL_ENOBUFS)
			count_drop(r, rc);
		else if (enqueue(r, &r->to_fw, &r->cv_fw, p, 0, data, len, r->cfg.retry_ms))
			r->st.drop_no_buf++; /* the host keeps sending faster than the firmware
						takes */
	}
	pthread_mutex_unlock(&r->mu);
	return RPMSG_SUCCESS;
}

static void link_event(struct al_posix_link *link, int event, const char *why, void *user)
{
	(void)link, (void)why;
	struct al_rproc_relay *r = user;
	if (event != AL_EV_PEER_LOST && event != AL_EV_BROKEN)
		return;
	pthread_mutex_lock(&r->mu);
	r->host_lost = true;
	pthread_cond_signal(&r->cv_serve);
	pthread_mutex_unlock(&r->mu);
}

/* Free the slots nobody uses any more. Caller holds mu. */
static void reap_pairs(struct al_rproc_relay *r)
{
	for (int i = 0; i < MAX_PAIRS; i++) {
		struct pair *p = &r->pairs[i];
		if (p->state == P_USED && !p->fw_att && !p->host_made && !p->refs)
			p->state = P_FREE;
	}
}

/* One step of a session: create or destroy one twin, or send one queued
 * message. Called with mu held; may release it. Returns false if there
 * was nothing to do. */
static bool session_step(struct al_rproc_relay *r, struct rpmsg_device *rdev)
{
	for (int i = 0; i < MAX_PAIRS; i++) {
		struct pair *p = &r->pairs[i];
		if (p->state == P_USED && p->fw_live && !p->host_made) {
			p->host_made = true; /* nothing is sent on it before the host wrote */
			p->host_addr = RPMSG_ADDR_ANY;
			char name[RPMSG_NAME_SIZE];
			memcpy(name, p->name, sizeof(name));
			uint32_t want =
			    p->fw_addr >= RPMSG_RESERVED_ADDRESSES ? p->fw_addr : RPMSG_ADDR_ANY;
			pthread_mutex_unlock(&r->mu);
			int rc = rpmsg_create_ept(&p->host_ept, rdev, name, want, RPMSG_ADDR_ANY,
						  host_cb, NULL);
			if (rc == AL_EADDR)
				rc = rpmsg_create_ept(&p->host_ept, rdev, name, RPMSG_ADDR_ANY,
						      RPMSG_ADDR_ANY, host_cb, NULL);
			pthread_mutex_lock(&r->mu);
			if (rc) {
				p->host_made = false;
				p->fw_live = false; /* not offered in this boot any more */
				r->st.services--;
				pthread_mutex_unlock(&r->mu);
				note(r, "cannot offer '%s' to the host: %s", name, al_strerror(rc));
				pthread_mutex_lock(&r->mu);
			}
			return true;
		}
		if (p->host_made && !p->fw_live) {
			p->host_made = false; /* the firmware's fast path stops here */
			p->host_addr = RPMSG_ADDR_ANY;
			pthread_mutex_unlock(&r->mu);
			rpmsg_destroy_ept(&p->host_ept); /* NS DESTROY to the host */
			pthread_mutex_lock(&r->mu);
			return true;
		}
	}
	if (!r->to_host.count)
		return false;
	struct msg m = dequeue(&r->to_host);
	if (!m.p->host_made) { /* its twin went meanwhile */
		r->st.drop_down++;
		msg_done(r, &m);
		return true;
	}
	r->to_host.inflight = true;
	pthread_mutex_unlock(&r->mu);
	uint64_t end = al_posix_now_ms() + r->cfg.retry_ms;
	int rc;
	do
		rc = al_send_timeout(&m.p->host_ept, m.p->host_ept.addr, m.dst, m.data, (int)m.len,
				     SLICE_MS);
	while (rc == AL_ENOBUFS && al_posix_now_ms() < end && !r->stop && !r->host_lost);
	pthread_mutex_lock(&r->mu);
	r->to_host.inflight = false;
	if (rc >= 0)
		r->st.to_host++;
	else
		count_drop(r, rc);
	msg_done(r, &m);
	return true;
}

static void session(struct al_rproc_relay *r, struct al_posix_link *link)
{
	struct rpmsg_device *rdev = al_posix_rdev(link);
	pthread_mutex_lock(&r->mu);
	r->link = link;
	r->host_lost = r->end_session = false;
	r->st.host_attached = true;
	unsigned n = ++r->st.sessions;
	pthread_mutex_unlock(&r->mu);
	note(r, "host %u attached to link '%s'", n, r->link_name);
	pthread_mutex_lock(&r->mu);
	while (!r->stop && !r->host_lost && !r->end_session) {
		if (session_step(r, rdev))
			continue;
		struct timespec dl = al_posix_deadline(SLICE_MS);
		pthread_cond_timedwait(&r->cv_serve, &r->mu, &dl);
	}
	bool lost = r->host_lost;
	/* no more fast-path sends on this link; what waits for this host goes */
	r->link = NULL;
	r->st.host_attached = false;
	while (r->to_host.count) {
		struct msg m = dequeue(&r->to_host);
		r->st.drop_down++;
		msg_done(r, &m);
	}
	for (int i = 0; i < MAX_PAIRS; i++)
		r->pairs[i].host_addr = RPMSG_ADDR_ANY;
	pthread_mutex_unlock(&r->mu);
	al_posix_close(link); /* destroys the twins */
	pthread_mutex_lock(&r->mu);
	for (int i = 0; i < MAX_PAIRS; i++)
		r->pairs[i].host_made = false;
	reap_pairs(r);
	pthread_mutex_unlock(&r->mu);
	note(r, "host %u %s", n,
	     lost      ? "left"
	     : r->stop ? "detached (relay stopping)"
		       : "detached (the remote went down)");
}

static void *serve(void *arg)
{
	struct al_rproc_relay *r = arg;
	struct al_posix_cfg pc = r->cfg.link;
	pc.name = r->link_name;
	pc.role = VIRTIO_DEV_DEVICE;
	pc.connect_timeout_ms = OFFER_MS;
	pc.ns_bind_cb = NULL;
	pc.event_cb = link_event;
	pc.user = r;
	bool warned = false;
	while (!r->stop) {
		struct al_posix_link *link = NULL;
		int rc = al_posix_open(&pc, &link);
		if (rc == 0) {
			warned = false;
			session(r, link);
			continue;
		}
		pthread_mutex_lock(&r->mu);
		reap_pairs(r);
		pthread_mutex_unlock(&r->mu);
		if (rc != AL_ETIMEDOUT) {
			if (!warned)
				note(r, "cannot serve link '%s': %s (retrying)", r->link_name,
				     al_strerror(rc));
			warned = true;
			struct timespec d = {0, (long)OFFER_MS * 1000000L};
			nanosleep(&d, NULL);
		}
	}
	return NULL;
}

/* ---- public API ----------------------------------------------------------------- */

int al_rproc_relay_create(const struct al_rproc_relay_cfg *cfg, struct al_rproc_relay **out)
{
	if (!cfg || !out || !cfg->link.name || !*cfg->link.name)
		return AL_EINVAL;
	*out = NULL;
	struct al_rproc_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return AL_ENOMEM;
	r->cfg = *cfg;
	snprintf(r->link_name, sizeof(r->link_name), "%s", cfg->link.name);
	if (!r->cfg.retry_ms)
		r->cfg.retry_ms = 1000;
	if (!r->cfg.queue_len)
		r->cfg.queue_len = 1024;
	r->to_host.cap = r->to_fw.cap = r->cfg.queue_len;
	r->to_host.q = calloc(r->cfg.queue_len, sizeof(struct msg));
	r->to_fw.q = calloc(r->cfg.queue_len, sizeof(struct msg));
	if (!r->to_host.q || !r->to_fw.q) {
		free(r->to_host.q);
		free(r->to_fw.q);
		free(r);
		return AL_ENOMEM;
	}
	for (int i = 0; i < MAX_PAIRS; i++) {
		r->pairs[i].r = r;
		r->pairs[i].host_addr = RPMSG_ADDR_ANY;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv_serve, &ca);
	pthread_cond_init(&r->cv_fw, &ca);
	pthread_cond_init(&r->cv_space, &ca);
	pthread_condattr_destroy(&ca);
	*out = r;
	return 0;
}

void al_rproc_relay_attach(struct al_rproc_relay *r, struct al_rproc_cfg *rcfg)
{
	if (!r || !rcfg)
		return;
	r->prev_cb = rcfg->event_cb;
	r->prev_user = rcfg->user;
	rcfg->event_cb = rproc_event;
	rcfg->user = r;
	rcfg->svc_cb = svc_cb;
	rcfg->svc_user = r;
}

int al_rproc_relay_start(struct al_rproc_relay *r, struct al_rproc *rp)
{
	if (!r || !rp || r->serve_started)
		return AL_EINVAL;
	pthread_mutex_lock(&r->mu);
	r->rp = rp;
	pthread_mutex_unlock(&r->mu);
	if (pthread_create(&r->fw_t, NULL, fw_worker, r) != 0)
		return AL_ENOMEM;
	r->fw_started = true;
	if (pthread_create(&r->serve_t, NULL, serve, r) != 0)
		return AL_ENOMEM;
	r->serve_started = true;
	return 0;
}

void al_rproc_relay_close(struct al_rproc_relay *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->cv_serve);
	pthread_cond_broadcast(&r->cv_fw);
	pthread_cond_broadcast(&r->cv_space);
	pthread_mutex_unlock(&r->mu);
	if (r->serve_started)
		pthread_join(r->serve_t, NULL);
	if (r->fw_started)
		pthread_join(r->fw_t, NULL);
	struct queue *qs[2] = {&r->to_host, &r->to_fw};
	for (int k = 0; k < 2; k++) {
		while (qs[k]->count) {
			struct msg m = dequeue(qs[k]);
			free(m.data);
		}
		free(qs[k]->q);
	}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv_serve);
	pthread_cond_destroy(&r->cv_fw);
	pthread_cond_destroy(&r->cv_space);
	free(r);
}

void al_rproc_relay_get_stats(struct al_rproc_relay *r, struct al_rproc_relay_stats *st)
{
	if (!r || !st)
		return;
	pthread_mutex_lock(&r->mu);
	*st = r->st;
	pthread_mutex_unlock(&r->mu);
}
