/* rpmsg-virtio, the device (remote) role: coming up when the driver has
 * set DRIVER_OK, and taking the buffers the driver offers for sending.
 *
 * The device owns no buffer: it sends in a buffer the driver put on
 * vring0's avail ring and returns it filled on the used ring, and hands
 * each buffer of vring1 back on the used ring once its message was
 * delivered. Every descriptor the driver offers is checked by the
 * virtqueue (id, address, length) before its buffer is touched.
 */
#include "rpmsg_virtio_internal.h"

/* Device: the driver set DRIVER_OK; validate its rings and come up. */
int al_dev_link_up(struct rpmsg_virtio_device *rv)
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
		return rv->state == AL_LINK_UP ? 0 : al_rv_link_err(rv);
	}
	rv->features = g & d & rv->my_features & AL_FEATURES_SUPPORTED;
	int rc = al_rv_setup_rings(rv, false);
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

int al_dev_tx_take(struct rpmsg_virtio_device *rv, uint16_t *id)
{
	int r = al_vq_get_avail(&rv->svq, &rv->shm, id);
	if (r < 0)
		return al_rv_break(rv, rv->svq.fault);
	if (r == 0)
		return AL_ENOBUFS;
	if (rv->svq.shadow[*id].len < rv->r2h_buf_size)
		return al_rv_break(rv, AL_F_TX_BUF_SMALL);
	return 0;
}
