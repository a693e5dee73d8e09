/* What the rpmsg bus, the name service and the virtio transport share
 * inside the core; not installed. */
#ifndef AL_RPMSG_INTERNAL_H
#define AL_RPMSG_INTERNAL_H

#include "amplink/config.h"
#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"

/* For the few helpers on the per-message path: -Os would outline them,
 * and a call and return cost more than their bodies (most on an emulated
 * core, where every return is a translation-block lookup). The minimal
 * profile keeps them outlinable: bytes count more there (config.h). */
#if AL_CFG_SMALL_CODE
#define AL_HOT static inline
#else
#define AL_HOT static inline __attribute__((always_inline))
#endif

/* The 16-byte header in front of every message (little-endian on the
 * wire; read and written only through shm_access.h, never through this
 * struct: it gives the offsets). */
struct al_rpmsg_hdr {
	uint32_t src;
	uint32_t dst;
	uint32_t reserved;
	uint16_t len;
	uint16_t flags;
};
_Static_assert(sizeof(struct al_rpmsg_hdr) == RPMSG_HDR_SIZE, "rpmsg header is 16 bytes");

static inline struct rpmsg_virtio_device *al_rvdev(struct rpmsg_device *rdev)
{
	return al_virtio_from_rdev(rdev);
}
#if AL_CFG_SMALL_CODE
/* one copy for the whole core (rpmsg_virtio.c), not one per file */
void al_lock(struct rpmsg_virtio_device *rv);
void al_unlock(struct rpmsg_virtio_device *rv);
#else
AL_HOT void al_lock(struct rpmsg_virtio_device *rv)
{
	if (rv->ops->lock)
		rv->ops->lock(rv->port_ctx);
}
AL_HOT void al_unlock(struct rpmsg_virtio_device *rv)
{
	if (rv->ops->unlock)
		rv->ops->unlock(rv->port_ctx);
}
#endif

/* A counter of struct rpmsg_stats (or an endpoint's): gone with
 * AL_CFG_NO_STATS, where the fields do not exist (the argument is never
 * expanded). */
#if AL_CFG_NO_STATS
#define AL_COUNT(counter)	 ((void)0)
#define AL_COUNT_ADD(counter, n) ((void)0)
#else
#define AL_COUNT(counter)	 ((void)(counter)++)
#define AL_COUNT_ADD(counter, n) ((void)((counter) += (n)))
#endif

/* bus (rpmsg_bus.c); caller holds the lock */
struct rpmsg_endpoint *al_ept_by_addr(struct rpmsg_device *rdev, uint32_t addr);
/* the first endpoint named `name` bound to `dest` (or, if `unbound`, not
 * bound yet) */
struct rpmsg_endpoint *al_ept_by_name(struct rpmsg_device *rdev, const char *name, uint32_t dest,
				      bool unbound);
void al_ept_link(struct rpmsg_device *rdev, struct rpmsg_endpoint *ept, const char *name,
		 uint32_t src, uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb unbind);
#if !AL_CFG_NO_BUS_EXTRAS
/* drop a reference: true if it was the last and release_cb is to run
 * (after the lock is released) */
bool al_ept_put(struct rpmsg_endpoint *ept);
#endif
#if AL_RX_BATCH > 1
/* lock held: a destroyed endpoint gets no more callbacks from the receive
 * batch being delivered (rpmsg_virtio.c) */
void al_rx_batch_forget(struct rpmsg_virtio_device *rv, struct rpmsg_endpoint *ept);
#endif
#if AL_CFG_NS_DIR
void al_ns_dir_add(struct rpmsg_device *rdev, const char *name, uint32_t addr);
uint32_t al_ns_dir_take(struct rpmsg_device *rdev, const char *name, uint32_t addr);
#endif
/* link just came up: announce every endpoint that asked to be (no lock) */
void al_bus_link_up(struct rpmsg_device *rdev);

/* name service (rpmsg_ns.c). al_ns_rx returns AL_EINVAL for a malformed
 * message (dropped), RPMSG_SUCCESS otherwise. */
int al_ns_rx(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv);
int al_ns_announce(struct rpmsg_endpoint *ept, uint32_t flags, bool wait);

#endif
