/* What a monitor reads from a link without disturbing it: a copy of each
 * local endpoint's name and counters, and how full the rings are. Called
 * on a scrape (seconds apart), never on the message path, so it may take
 * the device lock and walk the endpoint list. */
#include <string.h>

#include "rpmsg_virtio_internal.h"

int al_foreach_ept(struct rpmsg_device *rdev, uint32_t max,
		   void (*fn)(const struct al_ept_info *info, void *arg), void *arg)
{
	if (!rdev || !fn)
		return AL_EINVAL;
	struct rpmsg_virtio_device *rv = al_rvdev(rdev);
	int n = 0;
	al_lock(rv);
	for (struct rpmsg_endpoint *e = rdev->endpoints; e; e = e->next, n++) {
		if ((uint32_t)n >= max)
			continue; /* counted, not reported */
		struct al_ept_info info = {.addr = e->addr, .dest_addr = e->dest_addr};
		memcpy(info.name, e->name, RPMSG_NAME_SIZE);
		info.name[RPMSG_NAME_SIZE - 1] = '\0';
#if !AL_CFG_NO_STATS
		info.rx_msgs = e->rx_msgs;
		info.tx_msgs = e->tx_msgs;
		info.rx_bytes = e->rx_bytes;
		info.tx_bytes = e->tx_bytes;
#endif
		fn(&info, arg);
	}
	al_unlock(rv);
	return n;
}

/* Entries the peer published past `last`, read once; a peer that shows
 * more than the ring holds is reported as a full ring (the receive path
 * breaks the link for it on its own). */
static uint16_t ahead(const uint8_t *idxp, uint16_t last, uint16_t num)
{
	uint16_t d = (uint16_t)(al_rd16_acquire(idxp) - last);
	return d > num ? num : d;
}

int al_virtio_ring_usage(struct rpmsg_virtio_device *rvdev, struct al_ring_usage *u)
{
	if (!rvdev || !u)
		return AL_EINVAL;
	memset(u, 0, sizeof(*u));
	al_lock(rvdev);
	int rc = rvdev->state == AL_LINK_UP ? 0 : AL_ESTATE;
	if (rc == 0) {
		bool drv = is_driver(rvdev);
		struct al_vq *r = &rvdev->rvq, *s = &rvdev->svq;
		u->num = r->num;
		/* our receive ring: the peer's used (driver) or avail (device) index */
		u->rx_backlog =
		    ahead(drv ? r->used + AL_VRING_USED_IDX : r->avail + AL_VRING_AVAIL_IDX,
			  r->last_idx, r->num);
		/* the driver's sends the device has not taken: our avail index
		 * less the device's used index */
		if (drv)
			u->tx_in_flight =
			    (uint16_t)(s->num - ahead(s->used + AL_VRING_USED_IDX,
						      (uint16_t)(s->pub_idx - s->num), s->num));
	}
	al_unlock(rvdev);
	return rc;
}
