/* A ready-made layout for one rpmsg link in one shared region: the
 * resource table (one VDEV entry) at the start, then vring0, vring1 and
 * the driver's buffer pool. Useful to ports and tests that do not take the
 * layout from a firmware ELF (see docs/architecture.md).
 */
#ifndef AMPLINK_LAYOUT_H
#define AMPLINK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/port.h"

#ifdef __cplusplus
extern "C" {
#endif

struct al_layout_cfg {
	uint32_t num;	   /* entries per vring, power of two */
	uint32_t align;	   /* vring alignment, power of two >= 16 */
	uint32_t buf_size; /* bytes per buffer, header included */
	uint32_t features; /* dfeatures offered by the device */
};

struct al_layout {
	uint64_t rsc_da;  /* resource table */
	uint64_t vdev_da; /* its VDEV entry (for struct virtio_device) */
	uint64_t vring_da[2];
	uint64_t pool_da; /* driver's buffer pool: 2 * num buffers */
	size_t pool_size;
	size_t total; /* bytes used from the region's start */
};

/** Plan the layout for a region starting at device address `base_da`.
 *  Pure function, any context. Returns 0, AL_EINVAL (bad cfg) or
 *  AL_ENOMEM (needs more than `size` bytes; out->total says how many). */
int al_layout_plan(const struct al_layout_cfg *cfg, uint64_t base_da, size_t size,
		   struct al_layout *out);

/** Write the resource table of a plan into the region (what a firmware's
 *  `.resource_table` section holds on a board). Device side, before
 *  rpmsg_init_vdev(). Returns 0 or AL_EINVAL. */
int al_layout_write_rsc(const struct al_shm *shm, const struct al_layout *l,
			const struct al_layout_cfg *cfg);

#ifdef __cplusplus
}
#endif
#endif
