/* rpmsg over VirtIO, what both roles share: link initialisation and
 * state, the send paths (copy and zero-copy), buffer hold and release,
 * and receive dispatch. The role-specific halves are
 * rpmsg_virtio_driver.c (host) and rpmsg_virtio_device.c (remote).
 *
 * Who owns a buffer, by role (the classic "messages go one way" bug comes
 * from mixing these up):
 *   driver  send  : svq = vring1. Reclaim from vring1's used ring or take a
 *                   never-used descriptor (buffer from the pool), post it.
 *   driver  recv  : rvq = vring0. Used entries carry messages; re-post.
 *   device  send  : svq = vring0. Take an avail buffer, fill, put on used.
 *   device  recv  : rvq = vring1. Avail entries carry messages; put used.
 */
#include "rpmsg_virtio_internal.h"

#if AL_CFG_SMALL_CODE
void al_lock(struct rpmsg_virtio_device *rv)
{
	if (rv->ops->lock)
		rv->ops->lock(rv->port_ctx);
}

void al_unlock(struct rpmsg_virtio_device *rv)
{
	if (rv->ops->unlock)
		rv->ops->unlock(rv->port_ctx);
}
#endif

int al_rv_link_err(const struct rpmsg_virtio_device *rv)
{
	/* By link state: down (or up, for a caller that raced a link-up)
	 * AL_ESTATE, broken AL_EBROKEN, lost AL_ENOLINK. A table of offsets
	 * from AL_ERR_BASE: half the bytes of the branches on a Cortex-M. */
	static const int8_t err[4] = {
	    [AL_LINK_DOWN] = AL_ESTATE - AL_ERR_BASE,
	    [AL_LINK_UP] = AL_ESTATE - AL_ERR_BASE,
	    [AL_LINK_BROKEN] = AL_EBROKEN - AL_ERR_BASE,
	    [AL_LINK_LOST] = AL_ENOLINK - AL_ERR_BASE,
	};
	return AL_ERR_BASE + err[rv->state]; /* ours, in local memory: always one of the four */
}

/* The peer broke the protocol: stop touching the rings, remember why.
 * May run with the lock held; the application hears of it through
 * al_rv_report_broken(), called by whoever returns AL_EBROKEN, lock
 * released. */
int al_rv_break(struct rpmsg_virtio_device *rv, uint8_t why)
{
	if (rv->state != AL_LINK_BROKEN) {
		rv->state = AL_LINK_BROKEN;
		rv->fault = why;
	}
	return AL_EBROKEN;
}

/* Tell the application once (error callback) and wake blocked callers.
 * Lock not held. Returns `rc` for tail calls. */
int al_rv_report_broken(struct rpmsg_virtio_device *rv, int rc)
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

int al_virtio_kick_hold(struct rpmsg_virtio_device *rvdev)
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

int al_virtio_kick_release(struct rpmsg_virtio_device *rvdev)
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

#if AL_CFG_MAX_REGIONS > 1
/* The board's further regions: each non-empty, not wrapping, below 4 GiB
 * with AL_CFG_DA32, and no two overlapping (compared by last byte, so
 * nothing overflows). AL_EINIT if one is not. */
static int add_regions(struct rpmsg_virtio_device *rv, const struct virtio_device *vdev)
{
	struct al_mem *m = &rv->mem;
	if (vdev->num_regions > AL_CFG_MAX_REGIONS - 1u || (vdev->num_regions && !vdev->regions))
		return AL_EINIT;
	for (uint32_t k = 0; k < vdev->num_regions; k++) {
		const struct al_shm *r = &vdev->regions[k];
		if (!r->va || r->size == 0 || r->size - 1u > UINT64_MAX - r->da)
			return AL_EINIT;
#if AL_CFG_DA32
		if (r->da > 0xFFFFFFFFu || r->size > 0xFFFFFFFFu - r->da)
			return AL_EINIT;
#endif
		for (uint32_t i = 0; i < m->n; i++)
			if (r->da <= m->r[i].da + (m->r[i].size - 1u) &&
			    m->r[i].da <= r->da + (r->size - 1u))
				return AL_EINIT;
		m->r[m->n++] = *r;
	}
	return 0;
}
#endif

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
	if (!rvdev || !vdev || !shm_io || !shm_io->va || !config || !vdev->ops ||
	    !vdev->ops->notify || !vdev->shadows)
		return AL_EINVAL;
#if AL_CFG_DEVICE_ONLY
	(void)shpool;
	if (vdev->role != VIRTIO_DEV_DEVICE)
		return AL_EINVAL; /* built for the remote side only */
#else
	if (vdev->role > VIRTIO_DEV_DEVICE || (vdev->role == VIRTIO_DEV_DRIVER && !shpool))
		return AL_EINVAL;
#endif
#if AL_CFG_DA32
	if (shm_io->da > 0xFFFFFFFFu || shm_io->size > 0xFFFFFFFFu - shm_io->da)
		return AL_EINVAL; /* the region must end below 4 GiB */
#endif
	memset(rvdev, 0, sizeof(*rvdev));
	rvdev->mem.r[0] = *shm_io;
#if AL_CFG_MAX_REGIONS > 1
	rvdev->mem.n = 1;
	if (add_regions(rvdev, vdev))
		return AL_EINIT;
#endif
	rvdev->ops = vdev->ops;
	rvdev->port_ctx = vdev->port_ctx;
#if !AL_CFG_DEVICE_ONLY
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
		uint32_t b = i ? rvdev->h2r_buf_size : rvdev->r2h_buf_size;
		if (b < AL_BUF_SIZE_MIN || b > AL_BUF_SIZE_MAX)
			return AL_EINIT;
	}
#if !AL_CFG_RSC_TABLE_ONLY
	if (vdev->vdev_da == AL_VDEV_DA_NONE && !is_driver(rvdev))
		return 0; /* no table: the transport calls al_virtio_device_start() */
#endif
#if AL_CFG_DA32
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
		return al_drv_start(rvdev);
	int rc = al_dev_link_up(rvdev);
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
	/* Inside a region with room for the header before it, compared as
	 * integers (no pointer arithmetic across objects); then its offset
	 * can only match a shadow's if it is one of our buffers. */
	if (!payload)
		return -1;
	uint32_t r = 0;
	uintptr_t d = (uintptr_t)payload - (uintptr_t)rv->mem.r[0].va;
#if AL_CFG_MAX_REGIONS > 1
	while (d < HDR || d > rv->mem.r[r].size) {
		if (++r >= rv->mem.n)
			return -1;
		d = (uintptr_t)payload - (uintptr_t)rv->mem.r[r].va;
	}
#endif
	if (d < HDR || d > rv->mem.r[r].size || d - HDR > UINT32_MAX)
		return -1;
	uint32_t off = (uint32_t)(d - HDR);
	uint32_t hint = al_rd32((const uint8_t *)rv->mem.r[r].va + off + HDR_RESERVED);
	if (hint < vq->num && vq->shadow[hint].state == state && vq->shadow[hint].off == off &&
	    AL_REGION(vq->shadow[hint].region) == r)
		return (int)hint;
	for (uint32_t i = 0; i < vq->num; i++)
		if (vq->shadow[i].state == state && vq->shadow[i].off == off &&
		    AL_REGION(vq->shadow[i].region) == r)
			return (int)i;
	return -1;
}

/* Take a transmit buffer (lock held). 0 and *id, AL_ENOBUFS, AL_EBROKEN. */
static int tx_take(struct rpmsg_virtio_device *rv, uint16_t *id)
{
	struct al_vq *vq = &rv->svq;
	cache_invalidate(rv, vq->desc, VQ_BYTES(vq)); /* non-coherent memory: see the peer */
	/* The driver reclaims only when its free list is empty or would hand
	 * out a descriptor without a buffer yet: then in one go, everything
	 * the device returned meanwhile. The device's used index, a line it
	 * writes, is not pulled over once per message; returned buffers go
	 * out again before the pool grows and the most recently freed first,
	 * so the working set stays as small (cache-warm) as the traffic
	 * allows. Big buffers are reclaimed on every send: next to copying
	 * kilobytes the index read is noise, and sending again the buffer
	 * just returned (still in our cache) is what keeps the copy fast. */
	if (is_driver(rv) &&
	    (vq->free_head == AL_DS_NONE || vq->shadow[vq->free_head].off == AL_OFF_NONE ||
	     rv->h2r_buf_size > AL_RECLAIM_EAGER_SIZE)) {
		int r = al_drv_tx_reclaim(rv);
		if (r)
			return r;
	}
	/* Our free list: the driver's spare descriptors, or a buffer the
	 * application took as a zero-copy buffer and released unused. */
	if (vq->free_head != AL_DS_NONE) {
		uint16_t i = vq->free_head;
		struct al_desc_shadow *s = &vq->shadow[i];
		if (is_driver(rv) && s->off == AL_OFF_NONE) { /* first use of this descriptor */
			int r = al_drv_tx_buffer(rv, s);
			if (r)
				return r;
		}
		vq->free_head = s->next;
		*id = i;
#if AL_PREFETCH && !AL_CFG_SMALL_CODE
		/* the next send's buffer: its header line was last read by the
		 * peer; fetching it for writing now overlaps that transfer with
		 * this message instead of stalling the next one on it */
		if (vq->free_head != AL_DS_NONE && vq->shadow[vq->free_head].off != AL_OFF_NONE)
			al_prefetch_w(buf_va(rv, &vq->shadow[vq->free_head]));
#endif
		return 0;
	}
	if (is_driver(rv))
		return AL_ENOBUFS;
	int r = al_dev_tx_take(rv, id);
#if AL_PREFETCH && !AL_CFG_SMALL_CODE
	const void *next = r == 0 ? al_vq_next_buf(vq, &rv->mem, false) : NULL;
	if (next) /* as above, the buffer the driver offers next */
		al_prefetch_w(next);
#endif
	return r;
}

void al_virtio_peer_lost(struct rpmsg_virtio_device *rvdev)
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

/* Publish the received buffers given back so far (lock held). A drain
 * gives them back in bursts (AL_RX_PUBLISH_BATCH); whatever makes the peer
 * act on our ring indices (a send, a sleep) first makes the pending ones
 * visible (rx_publish_pending), so the peer never waits for, or runs out
 * of, a buffer we have already returned. */
static void rx_publish(struct rpmsg_virtio_device *rv)
{
	al_vq_publish(&rv->rvq, is_driver(rv));
#if !AL_CFG_SMALL_CODE
	rv->rx_unpublished = 0;
#endif
}

static inline void rx_publish_pending(struct rpmsg_virtio_device *rv)
{
#if AL_CFG_SMALL_CODE
	(void)rv; /* each buffer is published as it is given back */
#else
	if (rv->rx_unpublished)
		rx_publish(rv);
#endif
}

/* Take a transmit buffer, waiting up to `timeout` ms for one. On success
 * returns 0 with the lock HELD (the caller fills and submits or reserves
 * it, then unlocks): one lock round per message.
 *
 * A sender that finds no buffer asks the peer for a doorbell when buffers
 * come back (the driver: when 3/4 of what is in flight did, so a full ring
 * refills in batches) and sleeps in the port's wait. With
 * AL_CFG_ALWAYS_NOTIFY the peer rings whenever it offers buffers anyway:
 * no waiter bookkeeping, just sleep until the next doorbell. */
static int tx_acquire_locked(struct rpmsg_virtio_device *rv, uint32_t timeout, uint16_t *id)
{
	struct al_wait w;
	al_wait_start(&w, rv->ops, timeout);
	bool waiting = false;
	for (;;) {
		bool pending = false;
		al_lock(rv);
		int rc = rv->state == AL_LINK_UP ? tx_take(rv, id) : al_rv_link_err(rv);
		if (rc == 0) {
#if !AL_CFG_ALWAYS_NOTIFY
			if (waiting && --rv->tx_waiters == 0)
				al_vq_notify_disable(&rv->svq, is_driver(rv), event_idx(rv));
#endif
			rv->svq.shadow[*id].state = AL_DS_BUSY;
			return 0;
		}
		if (rc == AL_ENOBUFS && !waiting)
			AL_COUNT(rv->rdev.stats.tx_no_buf);
		/* the clock is read only when there is no buffer */
		uint32_t left = rc == AL_ENOBUFS ? al_wait_left(&w, rv->ops, rv->port_ctx) : 0;
#if !AL_CFG_ALWAYS_NOTIFY
		if (left && !waiting) {
			uint16_t skip =
			    is_driver(rv)
				? (uint16_t)((uint16_t)(rv->svq.pub_idx - rv->svq.last_idx) / 4u *
					     3u)
				: 0;
			if (rv->tx_waiters++ == 0)
				pending = al_vq_notify_enable_after(&rv->svq, is_driver(rv),
								    event_idx(rv), skip);
		}
		if (!left && waiting && --rv->tx_waiters == 0 && rv->state == AL_LINK_UP)
			al_vq_notify_disable(&rv->svq, is_driver(rv), event_idx(rv));
#endif
		if (left) {
			/* Never sleep on buffers with doorbells held back, nor with
			 * received buffers a drain gave back but has not published
			 * yet (our caller may be its callback, echoing): the peer
			 * may be waiting for those to send what frees ours. */
			rx_publish_pending(rv);
#if !AL_CFG_SMALL_CODE
			kick_if_needed(rv, &rv->rvq);
#endif
			kick_held(rv);
		}
		al_unlock(rv);
		if (!left)
			return al_rv_report_broken(rv, rc);
		waiting = true;
#if AL_CFG_NO_BUS_EXTRAS
		if (!pending)
			rv->ops->wait(rv->port_ctx, left);
#else
		if (!pending && !(rv->notify_wait_cb &&
				  rv->notify_wait_cb(&rv->rdev, rv->svq.notifyid) == RPMSG_SUCCESS))
			rv->ops->wait(rv->port_ctx, left);
#endif
	}
}

/* Write a filled buffer's header and ring entry, and count the message
 * for the device and the sending endpoint (lock held): not visible to the
 * peer until tx_publish(). */
AL_HOT void tx_fill(struct rpmsg_virtio_device *rv, struct rpmsg_endpoint *ept, uint16_t id,
		    uint32_t src, uint32_t dst, uint32_t len)
{
	struct al_desc_shadow *s = &rv->svq.shadow[id];
	uint8_t *b = buf_va(rv, s);
	al_wr32(b + HDR_SRC, src);
	al_wr32(b + HDR_DST, dst);
	al_wr32(b + HDR_RESERVED, 0);
	al_wr16(b + HDR_LEN, (uint16_t)len);
	al_wr16(b + HDR_FLAGS, 0);
	cache_flush(rv, b, HDR + len);
	if (is_driver(rv))
		al_vq_post_entry(&rv->svq, &rv->mem, id, HDR + len, false);
	else
		al_vq_put_entry(&rv->svq, id, HDR + len);
	AL_COUNT(rv->rdev.stats.tx_msgs);
	AL_COUNT_ADD(rv->rdev.stats.tx_bytes, len);
	AL_COUNT(ept->tx_msgs);
	AL_COUNT_ADD(ept->tx_bytes, len);
	(void)ept;
}

/* Make everything tx_fill() wrote since the last call visible with one
 * index store, and ring if the peer asked (lock held). */
AL_HOT void tx_publish(struct rpmsg_virtio_device *rv)
{
	al_vq_publish(&rv->svq, is_driver(rv));
	kick_if_needed(rv, &rv->svq);
}

/* Hand a filled buffer to the peer (lock held). */
AL_HOT void tx_submit(struct rpmsg_virtio_device *rv, struct rpmsg_endpoint *ept, uint16_t id,
		      uint32_t src, uint32_t dst, uint32_t len)
{
	/* an echo from a receive callback: the buffer it answers is returned
	 * before the answer shows (a peer that sends again on the answer,
	 * without waiting, finds it) */
	rx_publish_pending(rv);
	tx_fill(rv, ept, id, src, dst, len);
	tx_publish(rv);
}

/* OpenAMP's order: every argument (RPMSG_ERR_PARAM), then the size. */
AL_HOT int check_send(struct rpmsg_endpoint *ept, uint32_t dst, int len)
{
	if (!ept || !ept->rdev || len < 0 || dst == RPMSG_ADDR_ANY)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(ept->rdev);
	if ((uint32_t)len > tx_buf_size(rv) - HDR)
		return AL_EMSGSIZE;
	return rv->state == AL_LINK_UP ? 0 : al_rv_link_err(rv);
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
	int rc = data ? check_send(ept, dst, len) : AL_EINVAL; /* NULL even with len 0 */
	if (rc)
		return rc;
	struct rpmsg_virtio_device *rv = al_rvdev(ept->rdev);
	uint16_t id;
	rc = tx_acquire_locked(rv, timeout_ms, &id);
	if (rc)
		return rc;
	/* memmove: `data` may be a received payload (an echo), and a hostile
	 * driver can make the device's send buffer overlap it. */
	if (len)
		memmove(buf_va(rv, &rv->svq.shadow[id]) + HDR, data, (size_t)len);
	tx_submit(rv, ept, id, src, dst, (uint32_t)len);
	al_unlock(rv);
	return len;
}

#if !AL_CFG_SMALL_CODE
int al_send_burst(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const struct al_msg *msgs,
		  unsigned n, uint32_t timeout_ms)
{
	if (!msgs || n == 0)
		return AL_EINVAL;
	/* every message checked before any is sent: a burst that cannot go
	 * whole for a reason of its own goes not at all */
	for (unsigned k = 0; k < n; k++) {
		int rc = !msgs[k].data		   ? AL_EINVAL
			 : msgs[k].len > INT32_MAX ? AL_EMSGSIZE
						   : check_send(ept, dst, (int)msgs[k].len);
		if (rc)
			return rc;
	}
	struct rpmsg_virtio_device *rv = al_rvdev(ept->rdev);
	uint16_t id;
	int rc = tx_acquire_locked(rv, timeout_ms, &id);
	if (rc)
		return rc;
	rx_publish_pending(rv); /* as in tx_submit */
	unsigned k = 0;
	for (;;) {
		uint32_t len = msgs[k].len;
		if (len) /* memmove: see al_send_timeout() */
			memmove(buf_va(rv, &rv->svq.shadow[id]) + HDR, msgs[k].data, len);
		tx_fill(rv, ept, id, src, dst, len);
		/* the rest only with buffers free now: never wait holding
		 * messages the peer cannot see yet */
		if (++k == n || tx_take(rv, &id) != 0)
			break;
		rv->svq.shadow[id].state = AL_DS_BUSY;
	}
	/* A peer that broke the protocol while we took buffers: the ring is
	 * not touched again, nothing of the burst counts as sent. */
	if (rv->state != AL_LINK_UP) {
		al_unlock(rv);
		return al_rv_report_broken(rv, al_rv_link_err(rv));
	}
	tx_publish(rv);
	al_unlock(rv);
	return (int)k;
}
#endif

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
		rc = al_rv_link_err(rv);
	} else {
		rv->svq.shadow[id].state = AL_DS_BUSY;
		tx_submit(rv, ept, (uint16_t)id, src, dst, (uint32_t)len);
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

/* Give a received buffer back to the peer (lock held): its ring entry is
 * written; the caller publishes (al_vq_publish), after one or a burst. */
static void rx_return(struct rpmsg_virtio_device *rv, uint16_t id)
{
	struct al_desc_shadow *s = &rv->rvq.shadow[id];
	if (is_driver(rv))
		al_vq_post_entry(&rv->rvq, &rv->mem, id, s->len, true);
	else
		al_vq_put_entry(&rv->rvq, id, s->len);
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
		rx_publish(rv);
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

int al_virtio_free_tx_buffers(struct rpmsg_virtio_device *rvdev)
{
	struct rpmsg_virtio_device *rv = rvdev;
	if (!rv)
		return AL_EINVAL;
	if (rv->state != AL_LINK_UP)
		return al_rv_link_err(rv);
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

int al_virtio_progress(const struct rpmsg_virtio_device *rvdev, uint16_t *rx, uint16_t *tx)
{
	if (!rvdev || !rx || !tx)
		return AL_EINVAL;
	if (rvdev->state != AL_LINK_UP)
		return al_rv_link_err(rvdev);
	/* the peer's half of each ring: used (we are the driver) or avail */
	if (is_driver(rvdev)) {
		*rx = al_rd16(rvdev->rvq.used + AL_VRING_USED_IDX);
		*tx = al_rd16(rvdev->svq.used + AL_VRING_USED_IDX);
	} else {
		*rx = al_rd16(rvdev->rvq.avail + AL_VRING_AVAIL_IDX);
		*tx = al_rd16(rvdev->svq.avail + AL_VRING_AVAIL_IDX);
	}
	return 0;
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
		return al_rv_break(rv, AL_F_MSG_SHORT);
	cache_invalidate(rv, b, limit);
	*src = al_rd32(b + HDR_SRC);
	uint32_t dst = al_rd32(b + HDR_DST);
	*len = al_rd16(b + HDR_LEN); /* read once; only this copy is used */
	if (*len > limit - HDR)
		return al_rv_break(rv, AL_F_MSG_LEN);
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
		r = al_vq_get_avail(&rv->rvq, &rv->mem, id);
		*len = 0;
	}
#if AL_PREFETCH && !AL_CFG_SMALL_CODE
	/* the next message's header, if already published: its line comes
	 * over from the sender's cache while this one is delivered */
	const void *next = r > 0 ? al_vq_next_buf(&rv->rvq, &rv->mem, is_driver(rv)) : NULL;
	if (next)
		al_prefetch_r(next);
#endif
	return r < 0 ? al_rv_break(rv, rv->rvq.fault) : r;
}

/* Take the next messages for delivery (lock held): up to AL_RX_BATCH,
 * each checked and its endpoint looked up and referenced. A message for
 * no endpoint ends a batch: if it is not the first it is put back, to be
 * looked up again once the callbacks before it have run (one of them may
 * create its endpoint). Returns how many were taken; *rc is AL_EBROKEN if
 * the peer broke the protocol (those taken before are still delivered, as
 * they would have been one by one). */
static unsigned rx_collect(struct rpmsg_virtio_device *rv, struct al_rx_msg *m, int *rc)
{
	unsigned k = 0;
	while (k < AL_RX_BATCH) {
		uint16_t id;
		uint32_t used_len;
		int r = rx_take(rv, &id, &used_len);
		if (r == 0)
			break;
		struct al_rx_msg *e = &m[k];
		if (r < 0 || check_msg(rv, id, used_len, &e->ept, &e->data, &e->len, &e->src) < 0) {
			*rc = AL_EBROKEN;
			break;
		}
#if AL_RX_BATCH > 1
		if (!e->ept && k > 0) {
			al_vq_untake(&rv->rvq, id, is_driver(rv));
			break;
		}
#endif
		e->id = id;
		e->held = false;
#if AL_RX_BATCH > 1
		e->gone = false;
#endif
#if !AL_CFG_NO_STATS
		e->delivered = false;
#endif
		k++;
		if (!e->ept)
			break;
#if !AL_CFG_NO_BUS_EXTRAS
		e->ept->refcnt++; /* a destroy meanwhile releases it when we are done */
#endif
	}
	return k;
}

#if AL_RX_BATCH > 1
void al_rx_batch_forget(struct rpmsg_virtio_device *rv, struct rpmsg_endpoint *ept)
{
	for (struct al_rx_batch *b = rv->rx_batch; b; b = b->outer)
		for (unsigned i = 0; i < b->n; i++) {
			struct al_rx_msg *e = &b->m[i];
			if (e->ept != ept)
				continue;
			if (ept->release_cb)
				__atomic_store_n(&e->gone, true, __ATOMIC_RELAXED);
			else
				__atomic_store_n(&e->ept, NULL, __ATOMIC_RELAXED);
		}
}
#endif

/* Run the callbacks of a batch not run yet, lock NOT held. An endpoint
 * destroyed by an earlier callback (rpmsg_destroy_ept clears it from the
 * batch, see al_rx_batch_forget) gets no more. Stops if the link goes
 * down meanwhile (unless `live` is false): b->next says how far it got. */
static void rx_deliver(struct rpmsg_virtio_device *rv, struct al_rx_batch *b, bool live)
{
#if AL_RX_BATCH > 1
	/* an inner pass (see struct al_rx_batch) leaves the outer callback's
	 * buffer as it found it, for a hold after it returns */
	uint8_t *cur_payload = rv->rx_cur_payload;
	uint16_t cur_id = rv->rx_cur_id;
	bool cur_held = rv->rx_cur_held;
#endif
	while (b->next < b->n) {
		struct al_rx_msg *e = &b->m[b->next];
		/* (a batch of one was taken with the link up: nothing to check) */
		if (AL_RX_BATCH > 1 && live &&
		    __atomic_load_n(&rv->state, __ATOMIC_RELAXED) != AL_LINK_UP)
			break;
		b->next++;
		struct rpmsg_endpoint *ept = __atomic_load_n(&e->ept, __ATOMIC_RELAXED);
		if (!ept)
			continue;
#if AL_RX_BATCH > 1
		if (__atomic_load_n(&e->gone, __ATOMIC_RELAXED))
			continue;
#endif
		rv->rx_cur_payload = e->data;
		rv->rx_cur_id = e->id;
		rv->rx_cur_held = false;
#if !AL_CFG_NO_STATS
		e->delivered = true;
#endif
		ept->cb(ept, e->data, e->len, e->src, ept->priv);
		e->held = rv->rx_cur_held;
		rv->rx_cur_payload = NULL;
	}
#if AL_RX_BATCH > 1
	rv->rx_cur_payload = cur_payload;
	rv->rx_cur_id = cur_id;
	rv->rx_cur_held = cur_held;
#endif
}

/* Deliver what waits. `arm`: ask for a doorbell again when the ring runs
 * dry (interrupt-driven); otherwise leave doorbells off (a polling caller
 * will look again soon, and the peer need not kick at all).
 *
 * Messages are taken in batches (rx_collect), so that one lock round
 * serves up to AL_RX_BATCH callbacks: the lock is held while we touch the
 * rings and the endpoint table and dropped around the callbacks. */
static int drain(struct rpmsg_virtio_device *rv, bool arm)
{
	if (!rv || !rv->ops)
		return AL_EINVAL;
	if (arm)
		AL_COUNT(rv->rdev.stats.kicks_rx);
	if (rv->state == AL_LINK_DOWN && !is_driver(rv)) {
		int rc = al_dev_link_up(rv);
		if (rc)
			return rc;
	}
#if !AL_CFG_ALWAYS_NOTIFY
	bool drv = is_driver(rv), ev = event_idx(rv);
#endif
	int n = 0, rc = 0;
#if !AL_CFG_SMALL_CODE
	/* big buffers one by one: their sender reuses the one just returned
	 * while it is still in its cache (as the driver reclaims them, tx_take) */
	uint32_t rx_size = is_driver(rv) ? rv->r2h_buf_size : rv->h2r_buf_size;
	uint16_t batch = rx_size > AL_RECLAIM_EAGER_SIZE ? 1u : AL_RX_PUBLISH_BATCH;
#endif
	struct al_rx_msg m[AL_RX_BATCH];
#if AL_RX_BATCH > 1
	if (rv->rx_batch) /* inside a callback of an outer pass: its rest first */
		rx_deliver(rv, rv->rx_batch, true);
#endif
	al_lock(rv);
	if (rv->state != AL_LINK_UP) {
		al_unlock(rv);
		return al_rv_link_err(rv);
	}
#if !AL_CFG_ALWAYS_NOTIFY
	if (rv->rx_armed) { /* no doorbells while we drain; written only on change */
		al_vq_notify_disable(&rv->rvq, drv, ev);
		rv->rx_armed = false;
	}
#endif
	for (;;) {
		unsigned k = rx_collect(rv, m, &rc);
		if (k == 0 && rc == 0) {
			rx_publish_pending(rv); /* the burst's buffers, in one index store */
#if !AL_CFG_ALWAYS_NOTIFY
			if (arm)
				rv->rx_armed = true;
			if (arm && al_vq_notify_enable(&rv->rvq, drv, ev))
				continue; /* something arrived while we re-enabled */
#endif
			kick_if_needed(rv, &rv->rvq); /* for the buffers we gave back */
			break;
		}
		struct al_rx_batch b = {.m = m, .n = (uint8_t)k};
#if AL_RX_BATCH > 1
		b.outer = rv->rx_batch;
		rv->rx_batch = &b;
#elif !AL_CFG_NO_BUS_EXTRAS
		rv->rx_cur_ept = m[0].ept;
#endif
		al_unlock(rv);
		rx_deliver(rv, &b, rc == 0);
		al_lock(rv);
		unsigned done = AL_RX_BATCH > 1 ? b.next : k; /* a batch of one always runs */
#if AL_RX_BATCH > 1
		rv->rx_batch = b.outer;
#elif !AL_CFG_NO_BUS_EXTRAS
		m[0].ept = rv->rx_cur_ept; /* NULL if destroyed meanwhile */
		rv->rx_cur_ept = NULL;
#endif
		/* a link that went down meanwhile: its ring is not touched again */
		bool up = rv->state == AL_LINK_UP;
		for (unsigned i = 0; i < k; i++) {
			/* A destroy during the callbacks handed an endpoint without a
			 * release_cb back to the application (who may have freed it):
			 * then it is not touched again (it was cleared from the batch). */
			struct rpmsg_endpoint *ept = m[i].ept;
			(void)ept; /* unused without counters and reference counts */
#if !AL_CFG_NO_STATS
			if (i < done && !m[i].delivered) {
				AL_COUNT(rv->rdev.stats.rx_unknown_dst); /* delivered to nobody */
			} else if (i < done) {
				AL_COUNT(rv->rdev.stats.rx_msgs);
				AL_COUNT_ADD(rv->rdev.stats.rx_bytes, m[i].len);
				if (ept) { /* not if destroyed since, without a release_cb */
					AL_COUNT(ept->rx_msgs);
					AL_COUNT_ADD(ept->rx_bytes, m[i].len);
				}
			}
#endif
#if !AL_CFG_NO_BUS_EXTRAS
			if (ept && al_ept_put(ept)) {
				al_unlock(rv);
				ept->release_cb(ept);
				al_lock(rv);
			}
#endif
			if (!up || i >= done || m[i].held) /* held: marked by the hold call */
				continue;
			rx_return(rv, m[i].id);
#if AL_CFG_SMALL_CODE
			rx_publish(rv); /* one at a time: fewer bytes */
#else
			/* published in bursts, but often enough that a peer short of
			 * buffers gets some back while we drain a long queue */
			if (++rv->rx_unpublished >= batch)
				rx_publish(rv);
#endif
		}
		n += (int)done;
		if (rc)
			break;
		if (rv->state != AL_LINK_UP) { /* it went down meanwhile: leave the ring */
			rc = al_rv_link_err(rv);
			break;
		}
	}
#if AL_CFG_ALWAYS_NOTIFY
	bool waiters = arm; /* a sender may sleep for what this doorbell brought */
#else
	bool waiters = arm && rv->tx_waiters != 0; /* read under the lock */
#endif
	al_unlock(rv);
	if (waiters && rv->ops->wake)
		rv->ops->wake(rv->port_ctx);
	return rc ? al_rv_report_broken(rv, rc) : n;
}

int al_virtio_notified(struct rpmsg_virtio_device *rvdev)
{
	return drain(rvdev, true);
}

int al_virtio_poll(struct rpmsg_virtio_device *rvdev)
{
	return drain(rvdev, false);
}

int al_virtio_wait_link_up(struct rpmsg_virtio_device *rvdev, uint32_t timeout_ms)
{
	struct rpmsg_virtio_device *rv = rvdev;
	if (!rv || !rv->ops)
		return AL_EINVAL;
	struct al_wait w;
	al_wait_start(&w, rv->ops, timeout_ms);
	for (;;) {
		if (rv->state == AL_LINK_DOWN && !is_driver(rv))
			(void)al_dev_link_up(rv);
		if (rv->state == AL_LINK_UP)
			return AL_OK;
		if (rv->state != AL_LINK_DOWN)
			return al_rv_link_err(rv);
		if (!al_wait_left(&w, rv->ops, rv->port_ctx))
			return AL_ETIMEDOUT;
		/* the driver may not ring after DRIVER_OK: look again every ms */
		rv->ops->wait(rv->port_ctx, 1);
	}
}

/* ---- OpenAMP's getters ------------------------------------------------------ */

unsigned int rpmsg_virtio_get_role(struct rpmsg_virtio_device *rvdev)
{
	return rvdev && is_driver(rvdev) ? RPMSG_HOST : RPMSG_REMOTE;
}

int rpmsg_virtio_get_tx_buffer_size(struct rpmsg_device *rdev)
{
	return rdev ? (int)(tx_buf_size(al_rvdev(rdev)) - HDR) : AL_EINVAL;
}

int rpmsg_virtio_get_rx_buffer_size(struct rpmsg_device *rdev)
{
	if (!rdev)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(rdev);
	return (int)((is_driver(rv) ? rv->r2h_buf_size : rv->h2r_buf_size) - HDR);
}

int rpmsg_virtio_get_buffer_size(struct rpmsg_device *rdev)
{
	return rpmsg_virtio_get_tx_buffer_size(rdev);
}
