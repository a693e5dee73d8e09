/* rpmsg-virtio, the device (remote) role: coming up when the driver has
 * set DRIVER_OK in the resource table, or, without a table (vhost-user),
 * on the rings the transport reports; taking the buffers the driver
 * offers for sending.
 *
 * The device owns no buffer: it sends in a buffer the driver put on
 * vring0's avail ring and returns it filled on the used ring, and hands
 * each buffer of vring1 back on the used ring once its message was
 * delivered. Every descriptor the driver offers is checked by the
 * virtqueue (id, address, length) before its buffer is touched.
 */
#include "rpmsg_virtio_internal.h"

/* The rings are set up (lock held, `rc` 0) or not: come up, or report. */
static int come_up(struct rpmsg_virtio_device *rv, int rc)
{
	if (rc == 0) {
#if AL_CFG_ALWAYS_NOTIFY
		/* doorbells wanted for both rings, whatever an earlier boot left */
		al_wr16(rv->svq.used + AL_VRING_USED_FLAGS, 0);
		al_wr16(rv->rvq.used + AL_VRING_USED_FLAGS, 0);
#else
		al_vq_notify_disable(&rv->svq, false, event_idx(rv));
		al_vq_notify_enable(&rv->rvq, false, event_idx(rv));
		rv->rx_armed = true;
#endif
		al_rv_ns_setup(rv);
		rv->state = AL_LINK_UP;
	}
	al_unlock(rv);
	if (rc)
		return al_rv_report_broken(rv, al_rv_break(rv, rv->fault));
	if (rv->ops->wake)
		rv->ops->wake(rv->port_ctx);
	al_bus_link_up(&rv->rdev);
	return 0;
}

/* Device: the driver set DRIVER_OK; validate its rings and come up. */
int al_dev_link_up(struct rpmsg_virtio_device *rv)
{
#if !AL_CFG_RSC_TABLE_ONLY
	if (!rv->vdev_rsc) /* no table: al_virtio_device_start() brings it up */
		return AL_ESTATE;
#endif
	uint8_t status = al_rd8(rv->vdev_rsc + AL_RSC_VDEV_STATUS);
	if (!(status & VIRTIO_CONFIG_STATUS_DRIVER_OK))
		return AL_ESTATE;
	al_mb(); /* status before anything the driver wrote before it */
	uint32_t g = al_rd32(rv->vdev_rsc + AL_RSC_VDEV_GFEATURES);
	uint32_t d = al_rd32(rv->vdev_rsc + AL_RSC_VDEV_DFEATURES);
	al_lock(rv);
	if (rv->state != AL_LINK_DOWN) { /* another context brought it up first */
		al_unlock(rv);
		return rv->state == AL_LINK_UP ? 0 : al_rv_link_err(rv);
	}
	rv->features = g & d & rv->my_features & AL_FEATURES_SUPPORTED;
	return come_up(rv, al_rv_setup_rings(rv, false));
}

#if !AL_CFG_RSC_TABLE_ONLY
/* Both rings' six parts, set up and checked (lock held): 0 or an error
 * with rv->fault set. */
static int setup_parts(struct rpmsg_virtio_device *rv, const struct al_vring_cfg ring[2])
{
	struct al_vq *vq[2] = {&rv->svq, &rv->rvq}; /* vring0 is the device's send ring */
	al_da_t lo[6], hi[6];
	uint32_t used = 0;
	for (unsigned i = 0; i < 2; i++) {
		const al_da_t part[3] = {(al_da_t)ring[i].desc, (al_da_t)ring[i].avail,
					 (al_da_t)ring[i].used};
#if AL_CFG_DA32
		if (ring[i].desc > 0xFFFFFFFFu || ring[i].avail > 0xFFFFFFFFu ||
		    ring[i].used > 0xFFFFFFFFu) {
			rv->fault = AL_F_VRING_OUTSIDE;
			return AL_EINIT;
		}
#endif
		int rc = al_vq_setup_parts(vq[i], &rv->mem, part, ring[i].num, ring[i].notifyid,
					   rv->shadows + used, (uint32_t)rv->num_shadows - used);
		if (rc) {
			rv->fault = vq[i]->fault;
			return rc;
		}
		used += ring[i].num; /* <= num_shadows: checked by al_vq_setup_parts */
		const uint32_t n = ring[i].num;
		const uint32_t size[3] = {16u * n, 6u + 2u * n, 6u + 8u * n};
		for (unsigned k = 0; k < 3; k++) { /* inside a region: no wrap */
			lo[3 * i + k] = part[k];
			hi[3 * i + k] = part[k] + size[k];
		}
		vq[i]->last_idx = vq[i]->pub_idx = vq[i]->kicked_idx = ring[i].avail_base;
	}
	/* A part that overlaps another would let the driver see our used
	 * entries as its descriptors, or ours change under our reads. */
	for (unsigned i = 1; i < 6; i++)
		for (unsigned j = 0; j < i; j++)
			if (lo[i] < hi[j] && lo[j] < hi[i]) {
				rv->fault = AL_F_VRING_OVERLAP;
				return AL_EINIT;
			}
	return 0;
}

int al_virtio_device_start(struct rpmsg_virtio_device *rvdev, const struct al_vring_cfg ring[2],
			   uint32_t features)
{
	struct rpmsg_virtio_device *rv = rvdev;
	if (!rv || !rv->ops || !ring || is_driver(rv) || rv->vdev_rsc || rv->ops->cache_flush ||
	    rv->ops->cache_invalidate)
		return AL_EINVAL;
	al_lock(rv);
	if (rv->state != AL_LINK_DOWN) {
		al_unlock(rv);
		return rv->state == AL_LINK_UP ? AL_ESTATE : al_rv_link_err(rv);
	}
	rv->features = features & rv->my_features & AL_FEATURES_SUPPORTED;
	int rc = setup_parts(rv, ring);
	if (rc == AL_ENOMEM) { /* our shortage, not the driver's fault: no break */
		al_unlock(rv);
		return rc;
	}
	rc = come_up(rv, rc);
	return rc == AL_EBROKEN ? AL_EINIT : rc;
}
#endif

int al_dev_tx_take(struct rpmsg_virtio_device *rv, uint16_t *id)
{
	int r = al_vq_get_avail(&rv->svq, &rv->mem, id);
	if (r < 0)
		return al_rv_break(rv, rv->svq.fault);
	if (r == 0)
		return AL_ENOBUFS;
	if (rv->svq.shadow[*id].len < rv->r2h_buf_size)
		return al_rv_break(rv, AL_F_TX_BUF_SMALL);
	return 0;
}
