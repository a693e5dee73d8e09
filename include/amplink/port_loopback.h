/* The loopback port: a driver and a device in one process over one memory
 * buffer, with doorbells delivered as flags that al_loopback_pump() turns
 * into al_virtio_notified() calls, and a simulated clock. For unit
 * tests, fuzzing and the in-process demo; single-threaded.
 *
 * The region's device address is deliberately not its local address
 * (`da` of your choice, 0x21000000 by default), so translation is always
 * exercised.
 */
#ifndef AMPLINK_PORT_LOOPBACK_H
#define AMPLINK_PORT_LOOPBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/layout.h"
#include "amplink/rpmsg_virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AL_LOOPBACK_DA	    0x21000000u
#define AL_LOOPBACK_MAX_NUM 256u

struct al_loopback;

struct al_loopback_side {
	struct rpmsg_virtio_device rvdev;
	struct virtio_device vdev;
	struct al_loopback *lb;
	int pending;   /* doorbells rung at this side, not yet handled */
	uint32_t rung; /* doorbells this side received in total */
	int last_rc;   /* last al_virtio_notified() result */
	struct al_desc_shadow shadows[2 * AL_LOOPBACK_MAX_NUM];
};

struct al_loopback {
	struct al_shm shm;
	struct al_layout layout;
	struct al_layout_cfg cfg;
	struct rpmsg_virtio_shm_pool pool;
	struct al_loopback_side drv; /* host: virtio driver */
	struct al_loopback_side dev; /* remote: virtio device */
	uint64_t now_ms;	     /* simulated clock */
	bool pump_in_wait;	     /* let a blocked sender run the peer */
};

/** Lay out `mem` (size bytes, 16-byte aligned, caller-owned) for a link of
 *  cfg (NULL: 16 entries, 512-byte buffers, align 16, NS + EVENT_IDX),
 *  write the resource table, and set up both sides without starting them.
 *  Returns 0, AL_EINVAL or AL_ENOMEM (region too small). */
int al_loopback_init(struct al_loopback *lb, void *mem, size_t size,
		     const struct al_layout_cfg *cfg);

/** Start the device (its link stays down) then the driver (link up), as
 *  firmware and host would; the device comes up at the next pump.
 *  Returns 0 or the first rpmsg_init_vdev() error. */
int al_loopback_start(struct al_loopback *lb, rpmsg_ns_bind_cb drv_bind, rpmsg_ns_bind_cb dev_bind);

/** Deliver pending doorbells on both sides until none is left (at most
 *  `max_rounds` rounds; 0 means 1000). Returns the number of messages
 *  delivered, or the first negative notified() result. */
int al_loopback_pump(struct al_loopback *lb, int max_rounds);

/** The port ops the loopback uses (exposed for tests that wrap them). */
extern const struct al_port_ops al_loopback_ops;

#ifdef __cplusplus
}
#endif
#endif
