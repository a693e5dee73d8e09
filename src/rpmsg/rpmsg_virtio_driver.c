/* rpmsg-virtio, the driver (host) role: the handshake that lays out both
 * rings and sets DRIVER_OK, the buffer pool, and reclaiming the send
 * buffers the device returned.
 *
 * The driver owns every buffer: vring0 (the device's send ring, our
 * receive ring) gets one empty buffer per entry at link-up, descriptor i
 * bound to buffer i for the link's life; a send descriptor of vring1 gets
 * a pool buffer on first use and keeps it. Not built for a remote-only
 * image (rpmsg_virtio_internal.h).
 */
#include "rpmsg_virtio_internal.h"

void rpmsg_virtio_init_shm_pool(struct rpmsg_virtio_shm_pool *shpool, void *shbuf, size_t size)
{
	if (!shpool)
		return;
	shpool->base = shbuf;
	shpool->size = shbuf ? size : 0;
	shpool->used = 0;
}

static void *pool_get(struct rpmsg_virtio_shm_pool *pool, size_t size)
{
	if (!pool || size > pool->size - pool->used)
		return NULL;
	void *p = pool->base + pool->used;
	pool->used += size;
	return p;
}

int al_drv_start(struct rpmsg_virtio_device *rv)
{
	uint8_t *r = rv->vdev_rsc;
	uint32_t d = al_rd32(r + AL_RSC_VDEV_DFEATURES);
	rv->features = d & rv->my_features & AL_FEATURES_SUPPORTED;
	al_wr32(r + AL_RSC_VDEV_GFEATURES, rv->features);
	al_wr8(r + AL_RSC_VDEV_STATUS, VIRTIO_CONFIG_STATUS_ACK | VIRTIO_CONFIG_STATUS_DRIVER);
	int rc = al_rv_setup_rings(rv, true);
	if (rc)
		return rc;
	/* The pool may lie in any region: its buffers' descriptors carry that
	 * region's device addresses. */
	int pr = al_mem_region_of(&rv->mem, rv->shpool->base, rv->shpool->size);
	if (pr < 0) {
		rv->fault = AL_F_POOL_OUTSIDE;
		return AL_EINIT;
	}
	rv->pool_region = (uint8_t)pr;
	/* One empty receive buffer per vring0 entry, descriptor i <-> buffer i. */
	for (uint16_t i = 0; i < rv->rvq.num; i++) {
		uint8_t *b = pool_get(rv->shpool, rv->r2h_buf_size);
		if (!b) {
			rv->fault = AL_F_POOL;
			return AL_ENOMEM;
		}
		rv->rvq.shadow[i].off = (uint32_t)(b - (uint8_t *)rv->mem.r[pr].va);
		rv->rvq.shadow[i].region = (uint8_t)pr;
		rv->rvq.shadow[i].len = rv->r2h_buf_size;
		al_vq_post_entry(&rv->rvq, &rv->mem, i, rv->r2h_buf_size, true);
	}
	al_vq_publish(&rv->rvq, true);
	/* Every send descriptor starts spare, without a buffer (taken lazily). */
	for (uint16_t i = rv->svq.num; i-- > 0;) {
		rv->svq.shadow[i].state = AL_DS_SPARE;
		rv->svq.shadow[i].next = rv->svq.free_head;
		rv->svq.free_head = i;
	}
#if !AL_CFG_ALWAYS_NOTIFY
	al_vq_notify_disable(&rv->svq, true, event_idx(rv));
	al_vq_notify_enable(&rv->rvq, true, event_idx(rv));
	rv->rx_armed = true;
#endif
	cache_flush(rv, rv->mem.r[0].va, rv->mem.r[0].size);
	al_mb();
	al_wr8(r + AL_RSC_VDEV_STATUS, VIRTIO_CONFIG_STATUS_ACK | VIRTIO_CONFIG_STATUS_DRIVER |
					   VIRTIO_CONFIG_STATUS_FEATURES_OK |
					   VIRTIO_CONFIG_STATUS_DRIVER_OK);
	cache_flush(rv, r, AL_RSC_VDEV_VRING0);
	al_rv_ns_setup(rv);
	rv->state = AL_LINK_UP;
	rv->ops->notify(rv->port_ctx, rv->rvq.notifyid); /* wake a waiting device */
	return 0;
}

int al_drv_tx_reclaim(struct rpmsg_virtio_device *rv)
{
	struct al_vq *vq = &rv->svq;
	uint16_t i;
	uint32_t len;
	int r;
	while ((r = al_vq_get_used(vq, &i, &len)) > 0) {
		vq->shadow[i].state = AL_DS_SPARE;
		vq->shadow[i].next = vq->free_head;
		vq->free_head = i;
	}
	return r < 0 ? al_rv_break(rv, vq->fault) : 0;
}

int al_drv_tx_buffer(struct rpmsg_virtio_device *rv, struct al_desc_shadow *s)
{
	uint8_t *b = pool_get(rv->shpool, rv->h2r_buf_size);
	if (!b)
		return AL_ENOBUFS;
	s->off = (uint32_t)(b - (uint8_t *)rv->mem.r[rv->pool_region].va);
	s->region = rv->pool_region;
	s->len = rv->h2r_buf_size;
	return 0;
}
