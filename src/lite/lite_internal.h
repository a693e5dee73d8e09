/* What the RPMsg-Lite façade's sources share: error and timeout mapping onto
 * the core's conventions; not installed. */
#ifndef AL_LITE_INTERNAL_H
#define AL_LITE_INTERNAL_H

#include <stddef.h>

#include "amplink/rpmsg_lite.h"

/* The instance behind a core device. */
static inline struct rpmsg_lite_instance *al_lite_of(struct rpmsg_device *rdev)
{
	return al_container_of(al_virtio_from_rdev(rdev), struct rpmsg_lite_instance, rvdev);
}

/* A throw-away core endpoint naming the device, for the core calls that
 * take one where RPMsg-Lite has none (the name-service announce). Not for
 * hot paths: it zeroes a whole endpoint; the buffer calls go by device
 * (al_dev_*). */
#define AL_LITE_DEV_EPT(rl) (&(struct rpmsg_endpoint){.rdev = &(rl)->rvdev.rdev})

/* RPMsg-Lite timeout (ms, RL_BLOCK = all ones) to a core timeout. */
static inline uint32_t al_lite_tmo(uintptr_t timeout)
{
	return timeout >= AL_WAIT_FOREVER ? AL_WAIT_FOREVER : (uint32_t)timeout;
}

/* Mark an object as made by a dynamic variant (or not); a no-op without
 * malloc, where the field does not exist. */
#if AMPLINK_NO_MALLOC
#define AL_LITE_MARK(obj, v) ((void)(obj))
#else
#define AL_LITE_MARK(obj, v) ((obj)->allocated = (v))
#endif

#if RL_PLATFORM_LAYER
/* RPMsg-Lite's platform layer as a port (rpmsg_platform_layer.c): register
 * it for a link, and tell it when an instance starts and stops there. */
extern const struct al_port_ops al_lite_pl_ops;
void al_lite_pl_attach(uint32_t link_id, void *shmem_addr);
void al_lite_pl_started(struct rpmsg_lite_instance *rl, uint32_t link_id);
void al_lite_pl_stopped(struct rpmsg_lite_instance *rl);
#endif

/* A core result (>= 0 success, AL_E* error) as an RPMsg-Lite status. */
int32_t al_lite_err(int rc);

#endif
