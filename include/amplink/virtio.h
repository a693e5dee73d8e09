/* VirtIO device description shared by both roles: ids, status bits, feature
 * bits, and `struct virtio_device`, amplink's (simpler) counterpart of
 * OpenAMP's virtio_device: which role this side plays, where the shared
 * region is, where the vdev resource entry lives in it, and the port.
 */
#ifndef AMPLINK_VIRTIO_H
#define AMPLINK_VIRTIO_H

#include <stdint.h>

#include "amplink/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIRTIO_ID_RPMSG 7u

/* Device status byte (VirtIO 1.x section 2.1). */
#define VIRTIO_CONFIG_STATUS_RESET	 0x00u
#define VIRTIO_CONFIG_STATUS_ACK	 0x01u
#define VIRTIO_CONFIG_STATUS_DRIVER	 0x02u
#define VIRTIO_CONFIG_STATUS_DRIVER_OK	 0x04u
#define VIRTIO_CONFIG_STATUS_FEATURES_OK 0x08u
#define VIRTIO_CONFIG_STATUS_NEEDS_RESET 0x40u
#define VIRTIO_CONFIG_STATUS_FAILED	 0x80u

/* Feature bits. */
#define VIRTIO_RPMSG_F_NS	0u  /* name service announcements */
#define VIRTIO_RING_F_EVENT_IDX 29u /* used_event / avail_event suppression */

/* Roles, with OpenAMP's names. The driver (host, "master") owns every
 * buffer; the device (remote) borrows them. */
#define VIRTIO_DEV_DRIVER 0u
#define VIRTIO_DEV_DEVICE 1u
#define RPMSG_HOST	  VIRTIO_DEV_DRIVER
#define RPMSG_REMOTE	  VIRTIO_DEV_DEVICE

/** Private per-descriptor shadow, kept in local memory. Applications only
 *  provide storage for them: AL_VDEV_SHADOWS(num0, num1) entries for rings
 *  of num0 and num1 entries. */
struct al_desc_shadow {
	uint32_t off; /* buffer offset from its region's base */
	uint32_t len; /* buffer length */
	uint16_t next;
	uint8_t state;
	uint8_t region; /* which of the link's regions (struct al_mem) */
};
#define AL_VDEV_SHADOWS(num0, num1) ((size_t)(num0) + (size_t)(num1))

/** What a side brings to a link. Filled by the caller before
 *  rpmsg_init_vdev(); the core only reads it. */
struct virtio_device {
	/** VIRTIO_DEV_DRIVER or VIRTIO_DEV_DEVICE. */
	unsigned int role;
	/** Device address of the resource table's VDEV entry (struct
	 *  fw_rsc_vdev) inside `shm`: status byte, features and vring
	 *  addresses live there, as in Linux remoteproc. */
	uint64_t vdev_da;
	/** Feature bits this side supports: the device offers them in
	 *  dfeatures, the driver accepts (dfeatures & features). */
	uint32_t features;
	/** Local (never shared) storage for the descriptor shadows of both
	 *  rings: at least AL_VDEV_SHADOWS(vring0 num, vring1 num) entries. */
	struct al_desc_shadow *shadows;
	size_t num_shadows;
	/** Port hooks and their context. */
	const struct al_port_ops *ops;
	void *port_ctx;
	/** Further regions besides the one given to rpmsg_init_vdev(), where
	 *  the peer may place rings and buffers: a buffer carveout apart from
	 *  the rings, a second bank of RAM, the memory table of a vhost-user
	 *  front-end. Declared by the port or board; copied at init. The
	 *  driver's buffer pool may lie in any region. NULL/0: none. At most
	 *  AL_CFG_MAX_REGIONS - 1; not there in a one-region build (the
	 *  minimal profile), so that a firmware built so cannot declare any. */
#if AL_CFG_MAX_REGIONS > 1
	const struct al_shm *regions;
	uint32_t num_regions;
#endif
};

#ifdef __cplusplus
}
#endif
#endif
