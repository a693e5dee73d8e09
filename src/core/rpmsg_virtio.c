/* rpmsg over VirtIO: link set-up and handshake for both roles, buffer
 * ownership, the send paths (copy and zero-copy) and receive dispatch.
 *
 * Who owns a buffer, by role (the classic "messages go one way" bug comes
 * from mixing these up):
 *   driver  send  : svq = vring1. Reclaim from vring1's used ring or take a
 *                   never-used descriptor (buffer from the pool), post it.
 *   driver  recv  : rvq = vring0. Used entries carry messages; re-post.
 *   device  send  : svq = vring0. Take an avail buffer, fill, put on used.
 *   device  recv  : rvq = vring1. Avail entries carry messages; put used.
 */
#include <string.h>

#include "amplink/rsc_table.h"
#include "amplink/virtio_ring.h"
#include "fault.h"
#include "rpmsg_internal.h"
#include "shm_access.h"
#include "virtqueue.h"

#define HDR RPMSG_HDR_SIZE
#ifdef AL_CFG_NO_EVENT_IDX
#define AL_FEATURES_SUPPORTED (~(1u << VIRTIO_RING_F_EVENT_IDX))
#else
#define AL_FEATURES_SUPPORTED (~0u)
#endif
#define HDR_RESERVED 8u /* offset of the header's reserved word: our id hint */

/* AL_CFG_DEVICE_ONLY (a remote-only firmware): the role is a constant, so
 * every driver-side path, and what only it calls, drops out of the image. */
static inline bool is_driver(const struct rpmsg_virtio_device *rv)
{
#ifdef AL_CFG_DEVICE_ONLY
	(void)rv;
	return false;
#else
	return rv->role == VIRTIO_DEV_DRIVER;
#endif
}
static inline bool event_idx(const struct rpmsg_virtio_device *rv)
{
#ifdef AL_CFG_NO_EVENT_IDX
	(void)rv;
	return false; /* never negotiated: see device_link_up() */
#else
	return (rv->features >> VIRTIO_RING_F_EVENT_IDX) & 1u;
#endif
}
static inline uint8_t *buf_va(const struct rpmsg_virtio_device *rv, const struct al_desc_shadow *s)
{
	return (uint8_t *)rv->shm.va + s->off;
}
static inline uint32_t tx_buf_size(const struct rpmsg_virtio_device *rv)
{
	return is_driver(rv) ? rv->h2r_buf_size : rv->r2h_buf_size;
}
#ifdef AL_CFG_COHERENT
#define cache_flush(rv, p, n)	   ((void)(rv))
#define cache_invalidate(rv, p, n) ((void)(rv))
#define VQ_BYTES(vq)		   0u
#else
#define VQ_BYTES(vq) ((vq)->bytes)
AL_HOT void cache_flush(struct rpmsg_virtio_device *rv, const void *p, size_t n)
{
	if (rv->ops->cache_flush)
		rv->ops->cache_flush(rv->port_ctx, p, n);
}
AL_HOT void cache_invalidate(struct rpmsg_virtio_device *rv, const void *p, size_t n)
{
	if (rv->ops->cache_invalidate)
		rv->ops->cache_invalidate(rv->port_ctx, p, n);
}
#endif

static int link_err(const struct rpmsg_virtio_device *rv)
{
	return rv->state == AL_LINK_BROKEN ? AL_EBROKEN
	       : rv->state == AL_LINK_LOST ? AL_ENOLINK
					   : AL_ESTATE;
}

/* The peer broke the protocol: stop touching the rings, remember why.
 * May run with the lock held; the application hears of it through
 * report_broken(), called by whoever returns AL_EBROKEN, lock released. */
static int break_link(struct rpmsg_virtio_device *rv, uint8_t why)
{
	if (rv->state != AL_LINK_BROKEN) {
		rv->state = AL_LINK_BROKEN;
		rv->fault = why;
	}
	return AL_EBROKEN;
}

/* Tell the application once (error callback) and wake blocked callers.
 * Lock not held. Returns `rc` for tail calls. */
static int report_broken(struct rpmsg_virtio_device *rv, int rc)
{
	if (rv->state == AL_LINK_BROKEN &&
	    !__atomic_exchange_n(&rv->broken_reported, true, __ATOMIC_ACQ_REL)) {
		if (rv->error_cb)
			rv->error_cb(rv, AL_EBROKEN, rv->why ? rv->why(rv) : NULL);
		if (rv->ops->wake)
			rv->ops->wake(rv->port_ctx);
	}
	return rc;
}

static void kick_now(struct rpmsg_virtio_device *rv, struct al_vq *vq)
{
	cache_flush(rv, vq->desc, VQ_BYTES(vq)); /* what we published, before the doorbell */
	if (al_vq_need_kick(vq, is_driver(rv), event_idx(rv))) {
		AL_COUNT(rv->rdev.stats.kicks_tx);
		rv->ops->notify(rv->port_ctx, vq->notifyid);
	}
}

/* Lock held. While doorbells are held, only note which ring has news:
 * al_vq_need_kick() later judges everything published since the last
 * doorbell at once. */
AL_HOT void kick_if_needed(struct rpmsg_virtio_device *rv, struct al_vq *vq)
{
	if (rv->kick_hold)
		rv->kick_pending |= vq == &rv->svq ? 1u : 2u;
	else
		kick_now(rv, vq);
}

/* Ring what a hold kept back (lock held). */
static void kick_held(struct rpmsg_virtio_device *rv)
{
	uint8_t p = rv->kick_pending;
	rv->kick_pending = 0;
	if (p == 0 || rv->state != AL_LINK_UP)
		return;
	if (p & 1u)
		kick_now(rv, &rv->svq);
	if (p & 2u)
		kick_now(rv, &rv->rvq);
}

int rpmsg_virtio_kick_hold(struct rpmsg_virtio_device *rvdev)
{
	if (!rvdev || !rvdev->ops)
		return AL_EINVAL;
	int rc = AL_OK;
	al_lock(rvdev);
	if (rvdev->kick_hold == UINT8_MAX)
		rc = AL_ESTATE;
	else
		rvdev->kick_hold++;
	al_unlock(rvdev);
	return rc;
}

int rpmsg_virtio_kick_release(struct rpmsg_virtio_device *rvdev)
{
	if (!rvdev || !rvdev->ops)
		return AL_EINVAL;
	int rc = AL_OK;
	al_lock(rvdev);
	if (rvdev->kick_hold == 0)
		rc = AL_ESTATE;
	else if (--rvdev->kick_hold == 0)
		kick_held(rvdev);
	al_unlock(rvdev);
	return rc;
}

void rpmsg_virtio_init_shm_pool(struct rpmsg_virtio_shm_pool *shpool, void *shbuf, size_t size)
{
	if (!shpool)
		return;
	shpool->base = shbuf;
	shpool->size = shbuf ? size : 0;
	shpool->used = 0;
}

#ifdef AL_CFG_DEVICE_ONLY
#define RV_POOL(rv) ((struct rpmsg_virtio_shm_pool *)NULL)
#else
#define RV_POOL(rv) ((rv)->shpool)
#endif
static void *pool_get(struct rpmsg_virtio_shm_pool *pool, size_t size)
{
	if (!pool || size > pool->size - pool->used)
		return NULL;
	void *p = pool->base + pool->used;
	pool->used += size;
	return p;
}

/* Read both vring entries of the VDEV resource and point rvq/svq at them.
 * One pass per ring: al_vq_setup() checks its geometry and our shadow
 * storage (the only place num is validated); then no two of the rings and
 * the VDEV entry may overlap. Everything is validated before anything is
 * zeroed: a bad table must not get a ring wiped over the firmware's data. */
static int setup_rings(struct rpmsg_virtio_device *rv, bool zero)
{
	const uint8_t *r = rv->vdev_rsc;
	if (al_rd8(r + AL_RSC_VDEV_NUM_VRINGS) < 2) {
		rv->fault = AL_F_VDEV_VRINGS;
		return AL_EINIT;
	}
	/* vring0 is the device's send ring, vring1 the driver's */
	struct al_vq *vq[2] = {is_driver(rv) ? &rv->rvq : &rv->svq,
			       is_driver(rv) ? &rv->svq : &rv->rvq};
	/* [lo, hi) of vring0, vring1 and the VDEV entry with both vring entries */
	al_da_t lo[3], hi[3];
	uint32_t used = 0;
	for (unsigned i = 0; i < 2; i++) {
		const uint8_t *v = r + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_SIZE * i;
		uint32_t num = al_rd32(v + AL_RSC_VRING_NUM),
			 align = al_rd32(v + AL_RSC_VRING_ALIGN);
		lo[i] = al_rd32(v + AL_RSC_VRING_DA);
		int rc = al_vq_setup(vq[i], &rv->shm, lo[i], num, align,
				     al_rd32(v + AL_RSC_VRING_NOTIFYID), rv->shadows + used,
				     (uint32_t)rv->num_shadows - used, false);
		if (rc) {
			rv->fault = vq[i]->fault;
			return rc;
		}
		used += num; /* <= num_shadows: checked by al_vq_setup */
		/* inside the region, so no wrap (32 bits included, AL_CFG_DA32) */
		hi[i] = lo[i] + (al_da_t)vring_size(num, align);
	}
	lo[2] = (al_da_t)rv->shm.da + (al_da_t)(r - (const uint8_t *)rv->shm.va);
	hi[2] = lo[2] + AL_RSC_VDEV_VRING0 + 2u * AL_RSC_VRING_SIZE;
	for (unsigned i = 1; i < 3; i++)
		for (unsigned j = 0; j < i; j++)
			if (lo[i] < hi[j] && lo[j] < hi[i]) {
				rv->fault = AL_F_VRING_OVERLAP;
				return AL_EINIT;
			}
	if (zero)
		for (unsigned i = 0; i < 2; i++)
			memset(vq[i]->desc, 0, (size_t)(hi[i] - lo[i]));
	return 0;
}

static void ns_setup(struct rpmsg_virtio_device *rv)
{
	rv->rdev.support_ns = (rv->features >> VIRTIO_RPMSG_F_NS) & 1u;
	if (rv->rdev.support_ns && !al_ept_by_addr(&rv->rdev, RPMSG_NS_EPT_ADDR))
		al_ept_link(&rv->rdev, &rv->rdev.ns_ept, "NS", RPMSG_NS_EPT_ADDR, RPMSG_NS_EPT_ADDR,
			    al_ns_rx, NULL);
}

/* Device: the driver set DRIVER_OK; validate its rings and come up. */
static int device_link_up(struct rpmsg_virtio_device *rv)
{
	uint8_t status = al_rd8(rv->vdev_rsc + AL_RSC_VDEV_STATUS);
	if (!(status & VIRTIO_CONFIG_STATUS_DRIVER_OK))
		return AL_ESTATE;
	al_mb(); /* status before anything the driver wrote before it */
	uint32_t g = al_rd32(rv->vdev_rsc + AL_RSC_VDEV_GFEATURES);
	uint32_t d = al_rd32(rv->vdev_rsc + AL_RSC_VDEV_DFEATURES);
	al_lock(rv);
	if (rv->state != AL_LINK_DOWN) { /* another context brought it up first */
		al_unlock(rv);
		return rv->state == AL_LINK_UP ? 0 : link_err(rv);
	}
	rv->features = g & d & rv->my_features & AL_FEATURES_SUPPORTED;
	int rc = setup_rings(rv, false);
	if (rc == 0) {
#ifdef AL_CFG_ALWAYS_NOTIFY
		/* doorbells wanted for both rings, whatever an earlier boot left */
		al_wr16(rv->svq.used + AL_VRING_USED_FLAGS, 0);
		al_wr16(rv->rvq.used + AL_VRING_USED_FLAGS, 0);
#else
		al_vq_notify_disable(&rv->svq, false, event_idx(rv));
		al_vq_notify_enable(&rv->rvq, false, event_idx(rv));
		rv->rx_armed = true;
#endif
		ns_setup(rv);
		rv->state = AL_LINK_UP;
	}
	al_unlock(rv);
	if (rc)
		return report_broken(rv, break_link(rv, rv->fault));
	if (rv->ops->wake)
		rv->ops->wake(rv->port_ctx);
	al_bus_link_up(&rv->rdev);
	return 0;
}

static int driver_start(struct rpmsg_virtio_device *rv)
{
	uint8_t *r = rv->vdev_rsc;
	uint32_t d = al_rd32(r + AL_RSC_VDEV_DFEATURES);
	rv->features = d & rv->my_features & AL_FEATURES_SUPPORTED;
	al_wr32(r + AL_RSC_VDEV_GFEATURES, rv->features);
	al_wr8(r + AL_RSC_VDEV_STATUS, VIRTIO_CONFIG_STATUS_ACK | VIRTIO_CONFIG_STATUS_DRIVER);
	int rc = setup_rings(rv, true);
	if (rc)
		return rc;
	/* One empty receive buffer per vring0 entry, descriptor i <-> buffer i. */
	for (uint16_t i = 0; i < rv->rvq.num; i++) {
		uint8_t *b = pool_get(RV_POOL(rv), rv->r2h_buf_size);
		if (!b) {
			rv->fault = AL_F_POOL;
			return AL_ENOMEM;
		}
		rv->rvq.shadow[i].off = (uint32_t)(b - (uint8_t *)rv->shm.va);
		rv->rvq.shadow[i].len = rv->r2h_buf_size;
		al_vq_post(&rv->rvq, &rv->shm, i, rv->r2h_buf_size, true);
	}
	/* Every send descriptor starts spare, without a buffer (taken lazily). */
	for (uint16_t i = rv->svq.num; i-- > 0;) {
		rv->svq.shadow[i].state = AL_DS_SPARE;
		rv->svq.shadow[i].next = rv->svq.free_head;
		rv->svq.free_head = i;
	}
#ifndef AL_CFG_ALWAYS_NOTIFY
	al_vq_notify_disable(&rv->svq, true, event_idx(rv));
	al_vq_notify_enable(&rv->rvq, true, event_idx(rv));
	rv->rx_armed = true;
#endif
	cache_flush(rv, rv->shm.va, rv->shm.size);
	al_mb();
	al_wr8(r + AL_RSC_VDEV_STATUS, VIRTIO_CONFIG_STATUS_ACK | VIRTIO_CONFIG_STATUS_DRIVER |
					   VIRTIO_CONFIG_STATUS_FEATURES_OK |
					   VIRTIO_CONFIG_STATUS_DRIVER_OK);
	cache_flush(rv, r, AL_RSC_VDEV_VRING0);
	ns_setup(rv);
	rv->state = AL_LINK_UP;
	rv->ops->notify(rv->port_ctx, rv->rvq.notifyid); /* wake a waiting device */
	return 0;
}

int rpmsg_init_vdev(struct rpmsg_virtio_device *rvdev, struct virtio_device *vdev,
		    rpmsg_ns_bind_cb ns_bind_cb, const struct al_shm *shm_io,
		    struct rpmsg_virtio_shm_pool *shpool)
{
	static const struct rpmsg_virtio_config cfg = {RPMSG_BUFFER_SIZE, RPMSG_BUFFER_SIZE, false};
	return rpmsg_init_vdev_with_config(rvdev, vdev, ns_bind_cb, shm_io, shpool, &cfg);
}

int rpmsg_init_vdev_with_config(struct rpmsg_virtio_device *rvdev, struct virtio_device *vdev,
				rpmsg_ns_bind_cb ns_bind_cb, const struct al_shm *shm_io,
				struct rpmsg_virtio_shm_pool *shpool,
				const struct rpmsg_virtio_config *config)
{
#ifdef AL_CFG_DEVICE_ONLY
	if (vdev && vdev->role == VIRTIO_DEV_DRIVER)
		return AL_EINVAL; /* built for the remote side only */
#endif
	if (!rvdev || !vdev || !shm_io || !shm_io->va || !config || !vdev->ops ||
	    !vdev->ops->notify || !vdev->shadows || vdev->role > VIRTIO_DEV_DEVICE ||
	    (vdev->role == VIRTIO_DEV_DRIVER && !shpool))
		return AL_EINVAL;
#ifdef AL_CFG_DA32
	if (shm_io->da > 0xFFFFFFFFu || shm_io->size > 0xFFFFFFFFu - shm_io->da)
		return AL_EINVAL; /* the region must end below 4 GiB */
#endif
	memset(rvdev, 0, sizeof(*rvdev));
	rvdev->shm = *shm_io;
	rvdev->ops = vdev->ops;
	rvdev->port_ctx = vdev->port_ctx;
#ifndef AL_CFG_DEVICE_ONLY
	rvdev->role = vdev->role;
	rvdev->shpool = shpool;
#endif
	rvdev->shadows = vdev->shadows;
	rvdev->num_shadows = vdev->num_shadows;
	rvdev->my_features = vdev->features;
	rvdev->h2r_buf_size = config->h2r_buf_size;
	rvdev->r2h_buf_size = config->r2h_buf_size;
	rvdev->rdev.ns_bind_cb = ns_bind_cb;
	rvdev->rdev.next_any_addr = RPMSG_RESERVED_ADDRESSES;
	rvdev->rdev.send_timeout_ms = RPMSG_SEND_TIMEOUT_MS_DEFAULT;
	rvdev->state = AL_LINK_DOWN;
	for (int i = 0; i < 2; i++) {
		uint32_t b = i ? config->h2r_buf_size : config->r2h_buf_size;
		if (b < AL_BUF_SIZE_MIN || b > AL_BUF_SIZE_MAX)
			return AL_EINIT;
	}
#ifdef AL_CFG_DA32
	if (vdev->vdev_da > 0xFFFFFFFFu)
		rvdev->vdev_rsc = NULL;
	else
#endif
		rvdev->vdev_rsc = al_shm_ptr(shm_io, (al_da_t)vdev->vdev_da,
					     AL_RSC_VDEV_VRING0 + 2u * AL_RSC_VRING_SIZE);
	if (!rvdev->vdev_rsc || ((uintptr_t)rvdev->vdev_rsc & 3u)) {
		rvdev->fault = AL_F_VDEV_OUTSIDE;
		return AL_EINIT;
	}
	cache_invalidate(rvdev, rvdev->vdev_rsc, AL_RSC_VDEV_VRING0 + 2u * AL_RSC_VRING_SIZE);
	if (al_rd32(rvdev->vdev_rsc + AL_RSC_VDEV_ID) != VIRTIO_ID_RPMSG) {
		rvdev->fault = AL_F_VDEV_ID;
		return AL_EINIT;
	}
	if (is_driver(rvdev))
		return driver_start(rvdev);
	int rc = device_link_up(rvdev);
	return rc == AL_ESTATE ? 0 : rc == AL_EBROKEN ? AL_EINIT : rc;
}

void rpmsg_deinit_vdev(struct rpmsg_virtio_device *rvdev)
{
	if (!rvdev || !rvdev->ops)
		return;
	struct rpmsg_endpoint *e;
	while ((e = rvdev->rdev.endpoints) != NULL) {
		if (e == &rvdev->rdev.ns_ept) {
			rvdev->rdev.endpoints = e->next;
			continue;
		}
		rpmsg_destroy_ept(e);
	}
	if (is_driver(rvdev) && rvdev->vdev_rsc) {
		al_wr8(rvdev->vdev_rsc + AL_RSC_VDEV_STATUS, VIRTIO_CONFIG_STATUS_RESET);
		cache_flush(rvdev, rvdev->vdev_rsc + AL_RSC_VDEV_STATUS, 1);
	}
	if (rvdev->state == AL_LINK_UP)
		rvdev->state = AL_LINK_DOWN;
}

/* ---- buffers ------------------------------------------------------------ */

/* Find the descriptor of a buffer the application hands back, by its
 * payload pointer: first the id hint we left in the header's reserved word,
 * verified against our shadow; else a scan. -1 if it is none of ours in
 * `state`. */
AL_HOT int id_of(struct rpmsg_virtio_device *rv, struct al_vq *vq, const void *payload,
		 uint8_t state)
{
	/* Inside the region with room for the header before it, compared as
	 * integers (no pointer arithmetic across objects); then its offset
	 * can only match a shadow's if it is one of our buffers. */
	uintptr_t d = (uintptr_t)payload - (uintptr_t)rv->shm.va;
	if (!payload || d < HDR || d > rv->shm.size || d - HDR > UINT32_MAX)
		return -1;
	uint32_t off = (uint32_t)(d - HDR);
	uint32_t hint = al_rd32((const uint8_t *)rv->shm.va + off + HDR_RESERVED);
	if (hint < vq->num && vq->shadow[hint].state == state && vq->shadow[hint].off == off)
		return (int)hint;
	for (uint32_t i = 0; i < vq->num; i++)
		if (vq->shadow[i].state == state && vq->shadow[i].off == off)
			return (int)i;
	return -1;
}

/* Take a transmit buffer (lock held). 0 and *id, AL_ENOBUFS, AL_EBROKEN. */
static int tx_take(struct rpmsg_virtio_device *rv, uint16_t *id)
{
	struct al_vq *vq = &rv->svq;
	cache_invalidate(rv, vq->desc, VQ_BYTES(vq)); /* non-coherent memory: see the peer */
	uint16_t i;
	uint32_t len;
	int r;
	if (is_driver(rv)) {
		while ((r = al_vq_get_used(vq, &i, &len)) > 0) {
			vq->shadow[i].state = AL_DS_SPARE;
			vq->shadow[i].next = vq->free_head;
			vq->free_head = i;
		}
		if (r < 0)
			return break_link(rv, vq->fault);
	}
	if (vq->free_head != AL_DS_NONE) {
		i = vq->free_head;
		struct al_desc_shadow *s = &vq->shadow[i];
		if (s->off == AL_OFF_NONE) { /* driver: first use of this descriptor */
			uint8_t *b = pool_get(RV_POOL(rv), rv->h2r_buf_size);
			if (!b)
				return AL_ENOBUFS;
			s->off = (uint32_t)(b - (uint8_t *)rv->shm.va);
			s->len = rv->h2r_buf_size;
		}
		vq->free_head = s->next;
		*id = i;
		return 0;
	}
	if (is_driver(rv))
		return AL_ENOBUFS;
	r = al_vq_get_avail(vq, &rv->shm, id);
	if (r < 0)
		return break_link(rv, vq->fault);
	if (r == 0)
		return AL_ENOBUFS;
	if (vq->shadow[*id].len < rv->r2h_buf_size)
		return break_link(rv, AL_F_TX_BUF_SMALL);
	return 0;
}

void rpmsg_virtio_peer_lost(struct rpmsg_virtio_device *rvdev)
{
	if (!rvdev || !rvdev->ops)
		return;
	al_lock(rvdev);
	if (rvdev->state != AL_LINK_BROKEN)
		rvdev->state = AL_LINK_LOST;
	al_unlock(rvdev);
	if (rvdev->ops->wake)
		rvdev->ops->wake(rvdev->port_ctx);
}

/* Take a transmit buffer, waiting up to `timeout` ms for one. On success
 * returns 0 with the lock HELD (the caller fills and submits or reserves
 * it, then unlocks): one lock round per message. Time in 32-bit
 * milliseconds: differences stay right across the wrap (49 days). */
#ifdef AL_CFG_ALWAYS_NOTIFY
/* The peer rings whenever it offers buffers: a waiting sender just sleeps
 * until the next doorbell and looks again; no waiter bookkeeping. */
static int tx_acquire_locked(struct rpmsg_virtio_device *rv, uint32_t timeout, uint16_t *id)
{
	const struct al_port_ops *ops = rv->ops;
	if (!ops->wait || !ops->time_ms)
		timeout = 0;
	uint32_t start = 0;
	for (bool waiting = false;; waiting = true) {
		al_lock(rv);
		int rc = rv->state == AL_LINK_UP ? tx_take(rv, id) : link_err(rv);
		if (rc == 0) {
			rv->svq.shadow[*id].state = AL_DS_BUSY;
			return 0;
		}
		if (rc == AL_ENOBUFS && timeout != 0)
			kick_held(rv); /* never sleep on buffers with doorbells held back */
		al_unlock(rv);
		if (rc != AL_ENOBUFS || timeout == 0)
			return report_broken(rv, rc);
		/* the clock is read only when there is no buffer */
		uint32_t now = (uint32_t)ops->time_ms(rv->port_ctx);
		if (!waiting)
			start = now;
		uint32_t waited = now - start;
		if (timeout != AL_WAIT_FOREVER && waited >= timeout)
			return report_broken(rv, rc);
		ops->wait(rv->port_ctx,
			  timeout == AL_WAIT_FOREVER ? AL_WAIT_FOREVER : timeout - waited);
	}
}
#else
static int tx_acquire_locked(struct rpmsg_virtio_device *rv, uint32_t timeout, uint16_t *id)
{
	const struct al_port_ops *ops = rv->ops;
	if (!ops->wait || !ops->time_ms)
		timeout = 0;
	uint32_t start = 0, waited = 0;
	bool waiting = false;
	for (;;) {
		bool pending = false;
		al_lock(rv);
		int rc = rv->state == AL_LINK_UP ? tx_take(rv, id) : link_err(rv);
		if (rc == 0) {
			if (waiting && --rv->tx_waiters == 0)
				al_vq_notify_disable(&rv->svq, is_driver(rv), event_idx(rv));
			rv->svq.shadow[*id].state = AL_DS_BUSY;
			return 0;
		}
		if (rc == AL_ENOBUFS && !waiting)
			AL_COUNT(rv->rdev.stats.tx_no_buf);
		bool give_up = rc != AL_ENOBUFS || timeout == 0;
		if (!give_up) { /* the clock is read only when there is no buffer */
			uint32_t now = (uint32_t)ops->time_ms(rv->port_ctx);
			if (!waiting)
				start = now;
			waited = now - start;
			give_up = timeout != AL_WAIT_FOREVER && waited >= timeout;
		}
		if (!give_up && !waiting) {
			waiting = true;
			/* Driver: wake when 3/4 of what is in flight came back, not at
			 * the first buffer, so a full ring refills in batches. */
			uint16_t skip =
			    is_driver(rv)
				? (uint16_t)((uint16_t)(rv->svq.pub_idx - rv->svq.last_idx) / 4u *
					     3u)
				: 0;
			if (rv->tx_waiters++ == 0)
				pending = al_vq_notify_enable_after(&rv->svq, is_driver(rv),
								    event_idx(rv), skip);
		}
		if (give_up && waiting && --rv->tx_waiters == 0 && rv->state == AL_LINK_UP)
			al_vq_notify_disable(&rv->svq, is_driver(rv), event_idx(rv));
		if (!give_up)
			kick_held(rv); /* never sleep on buffers with doorbells held back */
		al_unlock(rv);
		if (give_up)
			return report_broken(rv, rc);
		if (!pending)
			ops->wait(rv->port_ctx,
				  timeout == AL_WAIT_FOREVER ? AL_WAIT_FOREVER : timeout - waited);
	}
}
#endif

/* Hand a filled buffer to the peer (lock held). */
AL_HOT void tx_submit(struct rpmsg_virtio_device *rv, uint16_t id, uint32_t src, uint32_t dst,
		      uint32_t len)
{
	struct al_desc_shadow *s = &rv->svq.shadow[id];
	uint8_t *b = buf_va(rv, s);
	al_wr32(b, src);
	al_wr32(b + 4, dst);
	al_wr32(b + HDR_RESERVED, 0);
	al_wr16(b + 12, (uint16_t)len);
	al_wr16(b + 14, 0);
	cache_flush(rv, b, HDR + len);
	if (is_driver(rv))
		al_vq_post(&rv->svq, &rv->shm, id, HDR + len, false);
	else
		al_vq_put_used(&rv->svq, id, HDR + len);
	AL_COUNT(rv->rdev.stats.tx_msgs);
	kick_if_needed(rv, &rv->svq);
}

AL_HOT int check_send(struct rpmsg_endpoint *ept, uint32_t dst, int len)
{
	if (!ept || !ept->rdev || len < 0)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(ept->rdev);
	if ((uint32_t)len > tx_buf_size(rv) - HDR)
		return AL_EMSGSIZE;
	if (dst == RPMSG_ADDR_ANY)
		return AL_EADDR;
	return rv->state == AL_LINK_UP ? 0 : link_err(rv);
}

static uint32_t wait_ms(struct rpmsg_endpoint *ept, int wait)
{
	return wait && ept && ept->rdev ? ept->rdev->send_timeout_ms : 0;
}

int rpmsg_send_offchannel_raw(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst,
			      const void *data, int len, int wait)
{
	return al_send_timeout(ept, src, dst, data, len, wait_ms(ept, wait));
}

int al_send_timeout(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data,
		    int len, uint32_t timeout_ms)
{
	int rc = check_send(ept, dst, len);
	if (rc)
		return rc;
	if (!data && len)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(ept->rdev);
	uint16_t id;
	rc = tx_acquire_locked(rv, timeout_ms, &id);
	if (rc)
		return rc;
	/* memmove: `data` may be a received payload (an echo), and a hostile
	 * driver can make the device's send buffer overlap it. */
	if (len)
		memmove(buf_va(rv, &rv->svq.shadow[id]) + HDR, data, (size_t)len);
	tx_submit(rv, id, src, dst, (uint32_t)len);
	AL_COUNT(ept->tx_msgs);
	al_unlock(rv);
	return len;
}

void *rpmsg_get_tx_payload_buffer(struct rpmsg_endpoint *ept, uint32_t *len, int wait)
{
	return al_get_tx_buffer_timeout(ept, len, wait_ms(ept, wait), NULL);
}

void *al_get_tx_buffer_timeout(struct rpmsg_endpoint *ept, uint32_t *len, uint32_t timeout_ms,
			       int *err)
{
	return al_dev_get_tx_buffer(ept ? ept->rdev : NULL, len, timeout_ms, err);
}

void *al_dev_get_tx_buffer(struct rpmsg_device *rdev, uint32_t *len, uint32_t timeout_ms, int *err)
{
	int rc = rdev && len ? 0 : AL_EINVAL;
	struct rpmsg_virtio_device *rv = rc ? NULL : al_rvdev(rdev);
	uint16_t id;
	if (rc == 0)
		rc = tx_acquire_locked(rv, timeout_ms, &id);
	if (err)
		*err = rc;
	if (rc)
		return NULL;
	struct al_desc_shadow *s = &rv->svq.shadow[id];
	uint8_t *b = buf_va(rv, s);
	s->state = AL_DS_RESERVED;
	al_unlock(rv);
	al_wr32(b + HDR_RESERVED, id);
	*len = tx_buf_size(rv) - HDR;
	return b + HDR;
}

int rpmsg_send_offchannel_nocopy(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst,
				 const void *data, int len)
{
	int rc = check_send(ept, dst, len);
	if (rc)
		return rc;
	struct rpmsg_virtio_device *rv = al_rvdev(ept->rdev);
	al_lock(rv);
	int id = id_of(rv, &rv->svq, data, AL_DS_RESERVED);
	if (id < 0) {
		rc = AL_EPERM;
	} else if (rv->state != AL_LINK_UP) {
		rc = link_err(rv);
	} else {
		rv->svq.shadow[id].state = AL_DS_BUSY;
		tx_submit(rv, (uint16_t)id, src, dst, (uint32_t)len);
		AL_COUNT(ept->tx_msgs);
	}
	al_unlock(rv);
	return rc ? rc : len;
}

int rpmsg_release_tx_buffer(struct rpmsg_endpoint *ept, void *txbuf)
{
	return ept ? al_dev_release_tx_buffer(ept->rdev, txbuf) : AL_EINVAL;
}

int al_dev_release_tx_buffer(struct rpmsg_device *rdev, void *txbuf)
{
	if (!rdev || !txbuf)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(rdev);
	al_lock(rv);
	int id = id_of(rv, &rv->svq, txbuf, AL_DS_RESERVED);
	if (id >= 0) { /* back on our free list: a device cannot un-take it */
		rv->svq.shadow[id].state = AL_DS_SPARE;
		rv->svq.shadow[id].next = rv->svq.free_head;
		rv->svq.free_head = (uint16_t)id;
	}
	al_unlock(rv);
	return id >= 0 ? AL_OK : AL_EPERM;
}

/* Give a received buffer back to the peer (lock held). */
static void rx_return(struct rpmsg_virtio_device *rv, uint16_t id)
{
	struct al_desc_shadow *s = &rv->rvq.shadow[id];
	if (is_driver(rv))
		al_vq_post(&rv->rvq, &rv->shm, id, s->len, true);
	else
		al_vq_put_used(&rv->rvq, id, s->len);
}

int al_rpmsg_hold_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	return ept ? al_dev_hold_rx_buffer(ept->rdev, rxbuf) : AL_EINVAL;
}

int al_dev_hold_rx_buffer(struct rpmsg_device *rdev, void *rxbuf)
{
	if (!rdev || !rxbuf)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(rdev);
	if (rxbuf != rv->rx_cur_payload)
		return AL_EPERM;
	if (rv->rx_cur_held) /* held already (and maybe released since): once only */
		return AL_OK;
	/* Held from now on, not when the callback returns: another thread may
	 * be handed the buffer at once and release it before that. */
	al_lock(rv);
	rv->rx_cur_held = true;
	rv->rvq.shadow[rv->rx_cur_id].state = AL_DS_HELD;
	al_wr32((uint8_t *)rxbuf - HDR + HDR_RESERVED, rv->rx_cur_id);
	al_unlock(rv);
	return AL_OK;
}

int al_rpmsg_release_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	return ept ? al_dev_release_rx_buffer(ept->rdev, rxbuf) : AL_EINVAL;
}

int al_dev_release_rx_buffer(struct rpmsg_device *rdev, void *rxbuf)
{
	if (!rdev || !rxbuf)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(rdev);
	int rc = AL_OK;
	al_lock(rv);
	int id = id_of(rv, &rv->rvq, rxbuf, AL_DS_HELD);
	if (id < 0) {
		rc = AL_EPERM;
	} else if (rv->state != AL_LINK_UP) {
		rv->rvq.shadow[id].state = AL_DS_BUSY; /* the ring is gone: just forget it */
	} else {
		rx_return(rv, (uint16_t)id);
		kick_if_needed(rv, &rv->rvq);
	}
	al_unlock(rv);
	return rc;
}

void rpmsg_hold_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	(void)al_rpmsg_hold_rx_buffer(ept, rxbuf);
}

void rpmsg_release_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	(void)al_rpmsg_release_rx_buffer(ept, rxbuf);
}

int rpmsg_get_tx_buffer_size(struct rpmsg_endpoint *ept)
{
	if (!ept || !ept->rdev)
		return AL_EINVAL;
	return (int)(tx_buf_size(al_rvdev(ept->rdev)) - HDR);
}

int rpmsg_get_rx_buffer_size(struct rpmsg_endpoint *ept)
{
	if (!ept || !ept->rdev)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(ept->rdev);
	return (int)((is_driver(rv) ? rv->r2h_buf_size : rv->h2r_buf_size) - HDR);
}

int rpmsg_virtio_get_free_tx_buffers(struct rpmsg_virtio_device *rvdev)
{
	struct rpmsg_virtio_device *rv = rvdev;
	if (!rv)
		return AL_EINVAL;
	if (rv->state != AL_LINK_UP)
		return link_err(rv);
	int n = 0;
	al_lock(rv);
	struct al_vq *vq = &rv->svq;
	for (uint16_t i = vq->free_head; i != AL_DS_NONE && n <= vq->num; i = vq->shadow[i].next)
		n++;
	if (is_driver(rv)) /* sent and already returned by the device */
		n += (uint16_t)(al_rd16_acquire(vq->used + AL_VRING_USED_IDX) - vq->last_idx);
	else /* offered by the driver, not yet taken */
		n += (uint16_t)(al_rd16_acquire(vq->avail + AL_VRING_AVAIL_IDX) - vq->last_idx);
	al_unlock(rv);
	return n > vq->num ? vq->num : n; /* a lying peer cannot inflate it */
}

/* ---- receive -------------------------------------------------------------- */

/* Validate one received message (lock held) and find its endpoint. Returns
 * 0 with *ept (NULL: nobody there), *data, *len, *src, or AL_EBROKEN. */
static int check_msg(struct rpmsg_virtio_device *rv, uint16_t id, uint32_t used_len,
		     struct rpmsg_endpoint **ept, uint8_t **data, uint32_t *len, uint32_t *src)
{
	struct al_desc_shadow *s = &rv->rvq.shadow[id];
	/* driver: the device said how much it wrote; device: the descriptor,
	 * but never more than this link's buffers hold (the application was
	 * told rpmsg_get_rx_buffer_size()) */
	uint32_t limit = is_driver(rv) ? used_len : s->len;
	if (!is_driver(rv) && limit > rv->h2r_buf_size)
		limit = rv->h2r_buf_size;
	uint8_t *b = buf_va(rv, s);
	if (limit < HDR)
		return break_link(rv, AL_F_MSG_SHORT);
	cache_invalidate(rv, b, limit);
	*src = al_rd32(b);
	uint32_t dst = al_rd32(b + 4);
	*len = al_rd16(b + 12); /* read once; only this copy is used */
	if (*len > limit - HDR)
		return break_link(rv, AL_F_MSG_LEN);
	*data = b + HDR;
	*ept = al_ept_by_addr(&rv->rdev, dst);
	if (*ept && (*ept)->dest_addr == RPMSG_ADDR_ANY)
		(*ept)->dest_addr = *src; /* bind to the first sender */
	return 0;
}

/* Next received message (lock held): 1 (with id and len), 0 if none,
 * AL_EBROKEN. */
static int rx_take(struct rpmsg_virtio_device *rv, uint16_t *id, uint32_t *len)
{
	int r;
	cache_invalidate(rv, rv->rvq.desc, VQ_BYTES(&rv->rvq));
	if (is_driver(rv)) {
		r = al_vq_get_used(&rv->rvq, id, len);
	} else {
		r = al_vq_get_avail(&rv->rvq, &rv->shm, id);
		*len = 0;
	}
	return r < 0 ? break_link(rv, rv->rvq.fault) : r;
}

/* Deliver what waits. `arm`: ask for a doorbell again when the ring runs
 * dry (interrupt-driven); otherwise leave doorbells off (a polling caller
 * will look again soon, and the peer need not kick at all). */
static int drain(struct rpmsg_virtio_device *rv, bool arm)
{
	if (!rv || !rv->ops)
		return AL_EINVAL;
	if (arm)
		AL_COUNT(rv->rdev.stats.kicks_rx);
	if (rv->state == AL_LINK_DOWN && !is_driver(rv)) {
		int rc = device_link_up(rv);
		if (rc)
			return rc;
	}
#ifndef AL_CFG_ALWAYS_NOTIFY
	bool drv = is_driver(rv), ev = event_idx(rv);
#endif
	int n = 0, rc = 0;
	/* One lock round per message: taken while we touch the rings and the
	 * endpoint table, dropped only around the application's callback. */
	al_lock(rv);
	if (rv->state != AL_LINK_UP) {
		al_unlock(rv);
		return link_err(rv);
	}
#ifndef AL_CFG_ALWAYS_NOTIFY
	if (rv->rx_armed) { /* no doorbells while we drain; written only on change */
		al_vq_notify_disable(&rv->rvq, drv, ev);
		rv->rx_armed = false;
	}
#endif
	for (;;) {
		uint16_t id;
		uint32_t used_len, len, src;
		struct rpmsg_endpoint *ept;
		uint8_t *data;
		int r = rx_take(rv, &id, &used_len);
		if (r == 0) {
#ifndef AL_CFG_ALWAYS_NOTIFY
			if (arm)
				rv->rx_armed = true;
			if (arm && al_vq_notify_enable(&rv->rvq, drv, ev))
				continue; /* something arrived while we re-enabled */
#endif
			kick_if_needed(rv, &rv->rvq); /* for the buffers we gave back */
			break;
		}
		if (r < 0 || check_msg(rv, id, used_len, &ept, &data, &len, &src) < 0) {
			rc = AL_EBROKEN;
			break;
		}
		if (!ept) {
			AL_COUNT(rv->rdev.stats.rx_unknown_dst);
		} else {
			AL_COUNT(rv->rdev.stats.rx_msgs);
			AL_COUNT(ept->rx_msgs);
			rv->rx_cur_payload = data;
			rv->rx_cur_id = id;
			rv->rx_cur_held = false;
			al_unlock(rv);
			ept->cb(ept, data, len, src, ept->priv);
			al_lock(rv);
			rv->rx_cur_payload = NULL;
			if (rv->state != AL_LINK_UP) { /* it went down meanwhile: leave the ring */
				rc = link_err(rv);
				break;
			}
		}
		if (!ept || !rv->rx_cur_held) /* held ones were marked by the hold call */
			rx_return(rv, id);
		n++;
	}
#ifdef AL_CFG_ALWAYS_NOTIFY
	bool waiters = arm; /* a sender may sleep for what this doorbell brought */
#else
	bool waiters = arm && rv->tx_waiters != 0; /* read under the lock */
#endif
	al_unlock(rv);
	if (waiters && rv->ops->wake)
		rv->ops->wake(rv->port_ctx);
	return rc ? report_broken(rv, rc) : n;
}

int rpmsg_virtio_notified(struct rpmsg_virtio_device *rvdev)
{
	return drain(rvdev, true);
}

int rpmsg_virtio_poll(struct rpmsg_virtio_device *rvdev)
{
	return drain(rvdev, false);
}

int rpmsg_virtio_wait_link_up(struct rpmsg_virtio_device *rvdev, uint32_t timeout_ms)
{
	struct rpmsg_virtio_device *rv = rvdev;
	if (!rv || !rv->ops)
		return AL_EINVAL;
	uint32_t start = rv->ops->time_ms ? (uint32_t)rv->ops->time_ms(rv->port_ctx) : 0;
	for (;;) {
		if (rv->state == AL_LINK_DOWN && !is_driver(rv))
			(void)device_link_up(rv);
		if (rv->state == AL_LINK_UP)
			return AL_OK;
		if (rv->state != AL_LINK_DOWN)
			return link_err(rv);
		if (!rv->ops->time_ms || !rv->ops->wait)
			return AL_ETIMEDOUT;
		uint32_t waited = (uint32_t)rv->ops->time_ms(rv->port_ctx) - start;
		if (timeout_ms != AL_WAIT_FOREVER && waited >= timeout_ms)
			return AL_ETIMEDOUT;
		/* the driver may not ring after DRIVER_OK: look again every ms */
		rv->ops->wait(rv->port_ctx, 1);
	}
}
