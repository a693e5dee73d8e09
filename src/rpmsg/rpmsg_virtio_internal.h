/* What the three files of rpmsg-virtio share: rpmsg_virtio.c (both roles:
 * link state, sends, buffers, receive dispatch), rpmsg_virtio_driver.c
 * (the host: handshake, buffer pool, reclaiming sent buffers) and
 * rpmsg_virtio_device.c (the remote: coming up on DRIVER_OK, taking the
 * driver's buffers). Not installed.
 *
 * A remote-only build (AL_CFG_DEVICE_ONLY) does not compile the driver
 * file: is_driver() is then the constant false, so every call into it is
 * dead code the compiler drops, as the kernel leaves out a driver with
 * obj-$(CONFIG_...).
 */
#ifndef AL_RPMSG_VIRTIO_INTERNAL_H
#define AL_RPMSG_VIRTIO_INTERNAL_H

#include <stddef.h>
#include <string.h>

#include "amplink/config.h"
#include "amplink/rsc_table.h"
#include "amplink/virtio_ring.h"
#include "fault.h"
#include "rpmsg_internal.h"
#include "shm_access.h"
#include "virtqueue.h"
#include "wait.h"

#define HDR	     RPMSG_HDR_SIZE
#define HDR_SRC	     offsetof(struct al_rpmsg_hdr, src)
#define HDR_DST	     offsetof(struct al_rpmsg_hdr, dst)
#define HDR_RESERVED offsetof(struct al_rpmsg_hdr, reserved) /* our id hint */
#define HDR_LEN	     offsetof(struct al_rpmsg_hdr, len)
#define HDR_FLAGS    offsetof(struct al_rpmsg_hdr, flags)

/* A receiver publishes the buffers it gives back at the end of a drain,
 * and after every this many within a long one (with AL_CFG_SMALL_CODE:
 * each at once, as the code is smaller). */
#define AL_RX_PUBLISH_BATCH 16u
/* One message of a receive batch (drain): taken and checked under the
 * lock, delivered without it. A destroy during the callbacks clears `ept`
 * (no release_cb: the endpoint is the application's again) or sets `gone`
 * (still referenced until the batch is done): see al_rx_batch_forget(). */
struct al_rx_msg {
	struct rpmsg_endpoint *ept; /* NULL: for no endpoint, or forgotten */
	uint8_t *data;
	uint32_t len, src;
	uint16_t id;
	bool held; /* the callback held the buffer */
#if AL_RX_BATCH > 1
	bool gone; /* its endpoint was destroyed: no callback */
#endif
#if !AL_CFG_NO_STATS
	bool delivered; /* its callback ran (for the counters) */
#endif
};

/* The messages one pass of the receive loop took, while their callbacks
 * run. A callback may run the receive loop itself (a send that waits for
 * buffers through a wait hook that polls the ring): that inner pass first
 * delivers what is left of this batch, in order, then takes its own. */
struct al_rx_batch {
	struct al_rx_msg *m;
	uint8_t n;    /* taken */
	uint8_t next; /* the next to deliver; those before it are done */
#if AL_RX_BATCH > 1
	struct al_rx_batch *outer; /* the pass this one runs inside, or NULL */
#endif
};

/* Buffers larger than this are reclaimed by the driver on every send
 * (tx_take) and given back by a receiver one at a time (drain): next to
 * their copy the index accesses are noise, and the buffer just returned is
 * still in the sender's cache. Smaller ones go in bursts. */
#define AL_RECLAIM_EAGER_SIZE 4096u

#if AL_CFG_NO_EVENT_IDX
#define AL_FEATURES_SUPPORTED (~(1u << VIRTIO_RING_F_EVENT_IDX))
#else
#define AL_FEATURES_SUPPORTED (~0u)
#endif

/* A literal in a remote-only build: `if (is_driver(rv))` then compiles to
 * nothing, at every optimisation level, and needs no driver code. */
#if AL_CFG_DEVICE_ONLY
#define is_driver(rv) false
#else
#define is_driver(rv) ((rv)->role == VIRTIO_DEV_DRIVER)
#endif

static inline bool event_idx(const struct rpmsg_virtio_device *rv)
{
#if AL_CFG_NO_EVENT_IDX
	(void)rv;
	return false; /* never negotiated */
#else
	return (rv->features >> VIRTIO_RING_F_EVENT_IDX) & 1u;
#endif
}
static inline uint8_t *buf_va(const struct rpmsg_virtio_device *rv, const struct al_desc_shadow *s)
{
	return (uint8_t *)rv->mem.r[AL_REGION(s->region)].va + s->off;
}
static inline uint32_t tx_buf_size(const struct rpmsg_virtio_device *rv)
{
	return is_driver(rv) ? rv->h2r_buf_size : rv->r2h_buf_size;
}

#if AL_CFG_COHERENT
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

/* ---- rpmsg_virtio.c: link state and set-up shared by both roles ---- */

/* The error a call gets on a link that is not up. */
int al_rv_link_err(const struct rpmsg_virtio_device *rv);
/* The peer broke the protocol: mark the link broken (sticky) with fault
 * code `why`. Any context, lock held or not. Returns AL_EBROKEN. */
int al_rv_break(struct rpmsg_virtio_device *rv, uint8_t why);
/* Tell the application once that the link broke (error callback) and
 * wake blocked callers. Lock not held. Returns `rc`. */
int al_rv_report_broken(struct rpmsg_virtio_device *rv, int rc);

/* ---- link-up steps of both roles, each called once per link-up by the
 * role's file (inline: a remote-only image has one caller of each) ---- */

/* Read both vring entries of the VDEV resource and point rvq/svq at them.
 * One pass per ring: al_vq_setup() checks its geometry and our shadow
 * storage (the only place num is validated); then no two of the rings and
 * the VDEV entry may overlap. Everything is validated before anything is
 * zeroed: a bad table must not get a ring wiped over the firmware's data. */
static inline int al_rv_setup_rings(struct rpmsg_virtio_device *rv, bool zero)
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
		int rc = al_vq_setup(vq[i], &rv->mem, lo[i], num, align,
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
	lo[2] = (al_da_t)rv->mem.r[0].da + (al_da_t)(r - (const uint8_t *)rv->mem.r[0].va);
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

static inline void al_rv_ns_setup(struct rpmsg_virtio_device *rv)
{
	rv->rdev.support_ns = (rv->features >> VIRTIO_RPMSG_F_NS) & 1u;
	if (rv->rdev.support_ns && !al_ept_by_addr(&rv->rdev, RPMSG_NS_EPT_ADDR))
		/* unnamed: no announcement can name it (an empty name is malformed) */
		al_ept_link(&rv->rdev, &rv->rdev.ns_ept, NULL, RPMSG_NS_EPT_ADDR, RPMSG_NS_EPT_ADDR,
			    al_ns_rx, NULL);
}

/* ---- rpmsg_virtio_driver.c: the driver (host) role ---- */

/* Negotiate, lay out both rings, post the receive buffers, DRIVER_OK. */
int al_drv_start(struct rpmsg_virtio_device *rv);
/* Take back what the device returned on the send ring (lock held). 0 or
 * AL_EBROKEN. */
int al_drv_tx_reclaim(struct rpmsg_virtio_device *rv);
/* Give send descriptor `s` its buffer from the pool on first use (lock
 * held). 0 or AL_ENOBUFS. */
int al_drv_tx_buffer(struct rpmsg_virtio_device *rv, struct al_desc_shadow *s);

/* ---- rpmsg_virtio_device.c: the device (remote) role ---- */

/* Take a buffer the driver offered on the send ring (lock held). 0 and
 * *id, AL_ENOBUFS, AL_EBROKEN. */
int al_dev_tx_take(struct rpmsg_virtio_device *rv, uint16_t *id);

/* Come up if the driver set DRIVER_OK: validate its rings, announce.
 * 0, AL_ESTATE (not yet), or an error with the link broken. */
int al_dev_link_up(struct rpmsg_virtio_device *rv);

#endif
