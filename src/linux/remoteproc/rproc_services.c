/* The remoteproc host's endpoints and the remote's services: endpoints the
 * application registered by name (al_rproc_ept_add: created again on
 * every boot, bound when the remote announces the name), the services the
 * remote announced that nobody waited for (al_rproc_services, svc_cb),
 * and the endpoints bound to those for one boot (al_rproc_ept_bind). Who
 * hears a binding change and when. */
#define _GNU_SOURCE
#include "rproc_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- announcements (receive context: the watch thread) ---------------------- */

void rproc_ns_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	struct al_rproc *rp = rproc_of(rdev);
	pthread_mutex_lock(&rp->mu);
	if (rp->nannounced < RPROC_MAX_ANNOUNCED) {
		snprintf(rp->announced[rp->nannounced].name, RPMSG_NAME_SIZE, "%s", name);
		rp->announced[rp->nannounced++].addr = dest;
	}
	pthread_mutex_unlock(&rp->mu);
	if (rp->cfg.ns_bind_cb)
		rp->cfg.ns_bind_cb(rdev, name, dest);
	if (rp->cfg.svc_cb)
		rp->cfg.svc_cb(rp, name, dest, rp->cfg.svc_user);
}

/* Forget an announced service (destroyed by the remote). Caller holds mu. */
static void announced_forget(struct al_rproc *rp, const char *name)
{
	for (int i = 0; i < rp->nannounced; i++)
		if (strncmp(rp->announced[i].name, name, RPMSG_NAME_SIZE) == 0) {
			rp->announced[i] = rp->announced[--rp->nannounced];
			return;
		}
}

/* The remote destroyed the service of an al_rproc_ept_bind() endpoint
 * (receive context, watch thread): detach the endpoint under the write
 * lock, so no sender is inside it, then tell its owner. */
static void boot_ept_unbound(struct rpmsg_endpoint *ept)
{
	struct al_rproc *rp = rproc_of(ept->rdev);
	rpmsg_ns_unbind_cb cb = NULL;
	bool found = false;
	pthread_rwlock_wrlock(&rp->rw);
	pthread_mutex_lock(&rp->mu);
	for (int i = 0; i < RPROC_MAX_BOOT_EPTS; i++)
		if (rp->boot_epts[i].ept == ept) {
			cb = rp->boot_epts[i].unbind;
			rp->boot_epts[i].ept = NULL;
			found = true;
		}
	announced_forget(rp, ept->name);
	pthread_mutex_unlock(&rp->mu);
	if (found)
		rpmsg_destroy_ept(ept); /* bound: nothing is announced */
	pthread_rwlock_unlock(&rp->rw);
	if (cb)
		cb(ept);
}

/* Watch thread (or the stopper after it ended); rproc_teardown() then
 * detaches the endpoints. */
void rproc_boot_epts_down(struct al_rproc *rp)
{
	for (int i = 0; i < RPROC_MAX_BOOT_EPTS; i++) {
		pthread_mutex_lock(&rp->mu);
		struct rproc_boot_ept d = rp->boot_epts[i];
		pthread_mutex_unlock(&rp->mu);
		if (d.ept && d.unbind)
			d.unbind(d.ept);
	}
}

void rproc_check_bindings(struct al_rproc *rp, bool force_unbind)
{
	for (int i = 0; i < RPROC_MAX_REGISTERED; i++) {
		pthread_mutex_lock(&rp->mu);
		struct rproc_registered *r = &rp->registered[i];
		bool now =
		    !force_unbind && r->ept && r->ept->rdev && r->ept->dest_addr != RPMSG_ADDR_ANY;
		bool changed = r->ept && now != r->bound;
		struct rpmsg_endpoint *e = r->ept;
		if (changed)
			r->bound = now;
		if (changed)
			pthread_cond_broadcast(&rp->cv);
		pthread_mutex_unlock(&rp->mu);
		if (changed)
			rproc_event(rp, now ? AL_RPROC_EV_EPT_BOUND : AL_RPROC_EV_EPT_UNBOUND, e,
				    r->name);
	}
}

/* ---- a boot's link comes and goes (the write lock held) ---------------------- */

void rproc_services_forget(struct al_rproc *rp)
{
	pthread_mutex_lock(&rp->mu);
	rp->nannounced = 0;
	pthread_mutex_unlock(&rp->mu);
}

int rproc_services_attach(struct al_rproc *rp)
{
	int rc = 0;
	pthread_mutex_lock(&rp->mu);
	for (int i = 0; i < RPROC_MAX_REGISTERED && rc == 0; i++) {
		struct rproc_registered *r = &rp->registered[i];
		if (!r->ept)
			continue;
		r->bound = false;
		rc = rpmsg_create_ept(r->ept, &rp->rvdev.rdev, r->name, RPMSG_ADDR_ANY,
				      RPMSG_ADDR_ANY, r->cb, NULL);
		r->ept->priv = r->priv;
	}
	pthread_mutex_unlock(&rp->mu);
	return rc;
}

void rproc_services_detach(struct al_rproc *rp)
{
	for (int i = 0; i < RPROC_MAX_REGISTERED; i++)
		if (rp->registered[i].ept)
			rp->registered[i].ept->rdev = NULL;
	pthread_mutex_lock(&rp->mu);
	for (int i = 0; i < RPROC_MAX_BOOT_EPTS; i++) {
		if (rp->boot_epts[i].ept)
			rp->boot_epts[i].ept->rdev = NULL;
		rp->boot_epts[i].ept = NULL;
	}
	pthread_mutex_unlock(&rp->mu);
}

/* ---- public API ---------------------------------------------------------------- */

int al_rproc_ept_add(struct al_rproc *rp, struct rpmsg_endpoint *ept, const char *name,
		     rpmsg_ept_cb cb, void *priv)
{
	if (!rp || !ept || !name || !*name || strlen(name) >= RPMSG_NAME_SIZE || !cb)
		return AL_EINVAL;
	pthread_rwlock_wrlock(&rp->rw);
	pthread_mutex_lock(&rp->mu);
	struct rproc_registered *r = NULL;
	for (int i = 0; i < RPROC_MAX_REGISTERED && !r; i++)
		if (!rp->registered[i].ept)
			r = &rp->registered[i];
	int rc = r ? 0 : AL_ENOMEM;
	if (r) {
		*r = (struct rproc_registered){.ept = ept, .cb = cb, .priv = priv};
		snprintf(r->name, sizeof(r->name), "%s", name);
		memset(ept, 0, sizeof(*ept));
	}
	pthread_mutex_unlock(&rp->mu);
	if (r && rp->state == AL_RPROC_RUNNING) {
		rc = rpmsg_create_ept(ept, &rp->rvdev.rdev, name, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				      cb, NULL);
		ept->priv = priv;
		if (rc) {
			pthread_mutex_lock(&rp->mu);
			r->ept = NULL;
			pthread_mutex_unlock(&rp->mu);
		}
	}
	pthread_rwlock_unlock(&rp->rw);
	return rc;
}

void al_rproc_ept_remove(struct al_rproc *rp, struct rpmsg_endpoint *ept)
{
	if (!rp || !ept)
		return;
	pthread_rwlock_wrlock(&rp->rw);
	if (ept->rdev)
		rpmsg_destroy_ept(ept);
	pthread_mutex_lock(&rp->mu);
	for (int i = 0; i < RPROC_MAX_REGISTERED; i++)
		if (rp->registered[i].ept == ept)
			rp->registered[i].ept = NULL;
	pthread_mutex_unlock(&rp->mu);
	pthread_rwlock_unlock(&rp->rw);
}

int al_rproc_ept_bind(struct al_rproc *rp, struct rpmsg_endpoint *ept, const char *name,
		      uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb unbind, void *priv)
{
	if (!rp || !ept || !name || strlen(name) >= RPMSG_NAME_SIZE || !cb ||
	    dest == RPMSG_ADDR_ANY)
		return AL_EINVAL;
	if (rp->state != AL_RPROC_RUNNING || !rp->vdev_up)
		return AL_ENOLINK;
	pthread_mutex_lock(&rp->mu);
	struct rproc_boot_ept *d = NULL;
	for (int i = 0; i < RPROC_MAX_BOOT_EPTS && !d; i++)
		if (!rp->boot_epts[i].ept)
			d = &rp->boot_epts[i];
	if (d)
		*d = (struct rproc_boot_ept){.ept = ept, .unbind = unbind};
	pthread_mutex_unlock(&rp->mu);
	if (!d)
		return AL_ENOMEM;
	/* the watch thread is the only one that tears the link down: no lock
	 * needed against that here */
	int rc = rpmsg_create_ept(ept, &rp->rvdev.rdev, name, RPMSG_ADDR_ANY, dest, cb,
				  boot_ept_unbound);
	pthread_mutex_lock(&rp->mu);
	if (rc)
		d->ept = NULL;
	else
		ept->priv = priv;
	pthread_mutex_unlock(&rp->mu);
	return rc;
}

int al_rproc_wait_bound(struct al_rproc *rp, struct rpmsg_endpoint *ept, uint32_t timeout_ms)
{
	if (!rp || !ept)
		return AL_EINVAL;
	struct timespec ts = al_posix_deadline(timeout_ms);
	pthread_mutex_lock(&rp->mu);
	int rc = AL_EINVAL;
	for (;;) {
		struct rproc_registered *r = NULL;
		for (int i = 0; i < RPROC_MAX_REGISTERED; i++)
			if (rp->registered[i].ept == ept)
				r = &rp->registered[i];
		if (!r)
			break;
		if (r->bound && rp->state == AL_RPROC_RUNNING) {
			rc = 0;
			break;
		}
		if (pthread_cond_timedwait(&rp->cv, &rp->mu, &ts) == ETIMEDOUT) {
			rc = AL_ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&rp->mu);
	return rc;
}

int al_rproc_services(struct al_rproc *rp, void (*fn)(const char *name, uint32_t addr, void *arg),
		      void *arg)
{
	int n = 0;
	pthread_mutex_lock(&rp->mu);
	for (int i = 0; i < RPROC_MAX_REGISTERED; i++)
		if (rp->registered[i].ept && rp->registered[i].bound)
			fn(rp->registered[i].name, rp->registered[i].ept->dest_addr, arg), n++;
	for (int i = 0; i < rp->nannounced; i++)
		fn(rp->announced[i].name, rp->announced[i].addr, arg), n++;
	pthread_mutex_unlock(&rp->mu);
	return n;
}
