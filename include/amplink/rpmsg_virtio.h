/* rpmsg over VirtIO: one link between a driver (host) and a device
 * (remote) through two split virtqueues in a shared region.
 *
 *   vring0: device -> driver. The driver fills it with empty receive
 *           buffers up front; the device takes one, writes a message into
 *           it and returns it on the used ring.
 *   vring1: driver -> device. The driver takes a buffer from its pool (or
 *           reclaims one from vring1's used ring), writes a message and
 *           adds it to the avail ring; the device returns it when done.
 *
 * The driver owns every buffer (the shared pool). Both sides keep private
 * shadows of each descriptor they handle (offset, length, owner) and never
 * read their own bookkeeping back from shared memory; every index, id,
 * address and length the peer wrote is read once and checked. A violation
 * marks the link broken for good, reports why (error callback and
 * al_virtio_broken_reason()) and stops all ring access.
 *
 * Setup, in order: fill a struct virtio_device, give rpmsg_init_vdev() the
 * shared region, (driver) a buffer pool and the shadow storage; then call
 * al_virtio_notified() from the doorbell handler.
 */
#ifndef AMPLINK_RPMSG_VIRTIO_H
#define AMPLINK_RPMSG_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amplink/config.h"
#include "amplink/port.h"
#include "amplink/rpmsg.h"
#include "amplink/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RPMSG_BUFFER_SIZE 512u /* default buffer size: 496 B of payload */
#define AL_BUF_SIZE_MIN	  64u
#define AL_BUF_SIZE_MAX	  65536u

/** One virtqueue as seen by this side. Private. */
struct al_vq {
	uint8_t *desc;
	uint8_t *avail;
	uint8_t *used;
	struct al_desc_shadow *shadow;
	uint16_t num;
	uint16_t last_idx;   /* next entry to consume from the peer's ring */
	uint16_t pub_idx;    /* our published index (private shadow) */
	uint16_t kicked_idx; /* pub_idx when we last decided about a kick */
	uint16_t free_head;  /* our free descriptor list (tx buffers given back) */
	uint16_t ahead;	     /* entries the peer published past last_idx when we last
			      * read its index: consumed before the index is read again */
	uint32_t notifyid;
#if !AL_CFG_COHERENT
	uint32_t bytes; /* vring_size(): for cache maintenance */
#endif
	uint8_t fault; /* why the last operation found the ring corrupt (fault.h) */
};

/** The driver's shared buffer pool (OpenAMP's name and behaviour: a bump
 *  allocator over a region inside the shared memory). */
struct rpmsg_virtio_shm_pool {
	uint8_t *base;
	size_t size;
	size_t used;
};

/** Link configuration (OpenAMP's names). Buffer sizes are whole buffers,
 *  header included, AL_BUF_SIZE_MIN..AL_BUF_SIZE_MAX. */
struct rpmsg_virtio_config {
	uint32_t h2r_buf_size; /* driver -> device buffers */
	uint32_t r2h_buf_size; /* device -> driver buffers */
	bool split_shpool;     /* accepted for OpenAMP compatibility; unused */
};

enum al_link_state {
	AL_LINK_DOWN = 0, /* device: waiting for the driver's DRIVER_OK */
	AL_LINK_UP = 1,
	AL_LINK_BROKEN = 2, /* the peer corrupted the rings; see the reason */
	AL_LINK_LOST = 3,   /* the port saw the peer go (process died, reset) */
};

struct rpmsg_virtio_device;
/** OpenAMP's wait hook for a sender that found no free buffer: wait for
 *  the peer's doorbell on notify id `id` and return RPMSG_SUCCESS, or
 *  return RPMSG_EOPNOTSUPP to let the port's wait sleep instead. Thread
 *  context, lock not held. */
typedef int (*rpmsg_virtio_notify_wait_cb)(struct rpmsg_device *rdev, uint32_t id);
/** Called once when the link breaks, in the context that found the fault,
 *  with AL_EBROKEN and a sentence naming the violation. */
typedef void (*al_link_error_cb)(struct rpmsg_virtio_device *rvdev, int err, const char *why);

/* How many received messages one lock round delivers (the receive loop
 * takes them, drops the lock, runs their callbacks, takes it again). More
 * than one needs the endpoint reference counts (not with
 * AL_CFG_NO_BUS_EXTRAS) and a little code (not with AL_CFG_SMALL_CODE). */
#if !AL_CFG_SMALL_CODE && !AL_CFG_NO_BUS_EXTRAS
#define AL_RX_BATCH 8
#else
#define AL_RX_BATCH 1
#endif
struct al_rx_batch; /* the receive batch being delivered (private) */

/** A link. Caller-allocated (static is fine); all fields private. */
struct rpmsg_virtio_device {
	struct rpmsg_device rdev;
	struct al_mem mem; /* the regions: rings in r[0], buffers in any */
	const struct al_port_ops *ops;
	void *port_ctx;
	uint8_t *vdev_rsc; /* the VDEV entry inside shm */
	struct al_vq rvq;  /* receive ring: vring0 for the driver, vring1 for the device */
	struct al_vq svq;  /* send ring: vring1 for the driver, vring0 for the device */
#if !AL_CFG_DEVICE_ONLY
	struct rpmsg_virtio_shm_pool *shpool;
	uint8_t pool_region; /* the region the pool lies in */
#endif
	struct al_desc_shadow *shadows;
	size_t num_shadows;
	uint32_t h2r_buf_size;
	uint32_t r2h_buf_size;
	uint32_t my_features; /* what this side supports */
	uint32_t features;    /* negotiated */
#if !AL_CFG_DEVICE_ONLY
	unsigned int role;
#endif
	volatile int state; /* enum al_link_state */
#if !AL_CFG_ALWAYS_NOTIFY
	volatile int tx_waiters;
#endif
	al_link_error_cb error_cb;
#if !AL_CFG_NO_BUS_EXTRAS
	rpmsg_virtio_notify_wait_cb notify_wait_cb;
#endif
	const char *(*why)(const struct rpmsg_virtio_device *rvdev);
	uint8_t fault; /* why set-up failed or the link broke: see the reason below */
	bool broken_reported;
#if !AL_CFG_ALWAYS_NOTIFY
	bool rx_armed; /* our receive ring asks the peer for doorbells */
#endif
	/* receive context: the buffer being delivered, for rpmsg_hold_rx_buffer */
	uint8_t *rx_cur_payload;
	uint16_t rx_cur_id;
	bool rx_cur_held;
#if !AL_CFG_SMALL_CODE
	uint16_t rx_unpublished; /* received buffers given back, not yet published */
#endif
#if AL_RX_BATCH > 1
	/* the batch whose callbacks run (lock dropped), innermost first, for a
	 * destroy meanwhile to take its endpoint out of it */
	struct al_rx_batch *rx_batch;
#elif !AL_CFG_NO_BUS_EXTRAS
	/* the endpoint whose callback runs, NULL once it was destroyed without
	 * a release_cb meanwhile (then it is the application's again) */
	struct rpmsg_endpoint *rx_cur_ept;
#endif
	uint8_t kick_hold;    /* al_virtio_kick_hold() depth */
	uint8_t kick_pending; /* rings published while held: 1 send, 2 receive */
};

/** vdev->vdev_da of a device without a resource table (a vhost-user
 *  back-end): rpmsg_init_vdev() leaves the link down and the transport
 *  brings it up with al_virtio_device_start() once the driver has set up
 *  its rings. */
#define AL_VDEV_DA_NONE UINT64_MAX

/** One vring as the driver placed it, for al_virtio_device_start(). */
struct al_vring_cfg {
	uint64_t desc, avail, used; /* device addresses of the three parts */
	uint32_t num;		    /* entries, a power of two */
	uint32_t notifyid;	    /* handed to the port's notify for this ring */
	uint16_t avail_base;	    /* first avail entry to take (0 on a new ring) */
};

/** Bring a device without a resource table (vdev->vdev_da was
 *  AL_VDEV_DA_NONE) up on the rings the driver set: ring[0] is vring0 (the
 *  device's send ring), ring[1] vring1. `features` are those the driver
 *  accepted (ANDed with the device's own). Validates every part of both
 *  rings (alignment, inside a region, no overlap), then announces the
 *  named endpoints like a link-up on DRIVER_OK. For coherent memory only
 *  (the port has no cache hooks). Thread context. Errors: AL_EINVAL (bad
 *  argument, a device with a table, cache hooks), AL_ESTATE (not down),
 *  AL_EINIT with the reason in al_virtio_broken_reason() (bad rings), and
 *  AL_ENOMEM (shadow storage too small). Not in a build with
 *  AL_CFG_RSC_TABLE_ONLY. */
int al_virtio_device_start(struct rpmsg_virtio_device *rvdev, const struct al_vring_cfg ring[2],
			   uint32_t features);

/** Set up a buffer pool over `size` bytes at `shbuf` (inside the shared
 *  region). Driver side only. Any context. */
void rpmsg_virtio_init_shm_pool(struct rpmsg_virtio_shm_pool *shpool, void *shbuf, size_t size);

/** Initialise a link with default buffer sizes (512 B both ways).
 *  `shm_io` is the shared region holding the VDEV entry (vdev->vdev_da),
 *  both vrings and the pool. Same as rpmsg_init_vdev_with_config() with a
 *  config of 512-byte buffers. OpenAMP's signature. */
int rpmsg_init_vdev(struct rpmsg_virtio_device *rvdev, struct virtio_device *vdev,
		    rpmsg_ns_bind_cb ns_bind_cb, const struct al_shm *shm_io,
		    struct rpmsg_virtio_shm_pool *shpool);

/** Initialise a link.
 *  Driver: validates the VDEV entry and vrings the device published,
 *  negotiates features (gfeatures = dfeatures & vdev->features), zeroes
 *  both rings, posts one receive buffer per vring0 entry from `shpool` and
 *  sets DRIVER_OK: the link is up on return.
 *  Device: publishes dfeatures and returns with the link down; it comes up
 *  (rings validated, named endpoints announced) once the driver has set
 *  DRIVER_OK, discovered by al_virtio_notified() or
 *  al_virtio_wait_link_up().
 *  Thread context, before the doorbell handler runs. Errors: AL_EINVAL (NULL
 *  argument, bad role), AL_EINIT (bad VDEV entry or vring layout: not id 7,
 *  fewer than 2 vrings, num not a power of two, ring outside the region,
 *  misaligned, rings overlapping, bad buffer size; a further region that
 *  is empty, wraps, overlaps another, or more of them than
 *  AL_CFG_MAX_REGIONS allows; a driver's pool outside every region),
 *  AL_ENOMEM (pool or shadow storage too small). */
int rpmsg_init_vdev_with_config(struct rpmsg_virtio_device *rvdev, struct virtio_device *vdev,
				rpmsg_ns_bind_cb ns_bind_cb, const struct al_shm *shm_io,
				struct rpmsg_virtio_shm_pool *shpool,
				const struct rpmsg_virtio_config *config);

/** Tear a link down: destroy every endpoint (announcing NS DESTROY while
 *  the link is up) and, on the driver, reset the status byte so the device
 *  sees the link go. Thread context, after the doorbell handler stopped. */
void rpmsg_deinit_vdev(struct rpmsg_virtio_device *rvdev);

/** The rpmsg device of a link, for rpmsg_create_ept(). Any context. */
static inline struct rpmsg_device *rpmsg_virtio_get_rpmsg_device(struct rpmsg_virtio_device *rvdev)
{
	return rvdev ? &rvdev->rdev : NULL;
}
/** The link of an rpmsg device (inverse of the above). */
static inline struct rpmsg_virtio_device *al_virtio_from_rdev(struct rpmsg_device *rdev)
{
	return al_container_of(rdev, struct rpmsg_virtio_device, rdev);
}

/** The doorbell handler: bring the link up if the driver became ready
 *  (device), deliver every waiting message to its endpoint's callback,
 *  return buffers, wake blocked senders. Receive context (ISR or doorbell
 *  thread); never call it from two contexts at once. Returns the number
 *  of messages handled, AL_ESTATE if the link is still down, or AL_EBROKEN. */
int al_virtio_notified(struct rpmsg_virtio_device *rvdev);

/** Polling variant of al_virtio_notified() for a receive loop that
 *  spins: delivers what waits but leaves this side's doorbells switched off,
 *  so the peer does not ring while we look anyway. Call
 *  al_virtio_notified() before going to sleep: it switches them back on
 *  and re-checks the ring. Same context rules and returns. */
int al_virtio_poll(struct rpmsg_virtio_device *rvdev);

/** Hold this side's doorbells while sending a burst: every send and
 *  buffer return is published in the rings at once, as always, but the
 *  peer is rung only when the hold ends, once per ring and only if it asked
 *  for a doorbell meanwhile (event index or flags, over the whole burst).
 *  Saves the per-message notification check and doorbell on a core where
 *  a doorbell or its check is dear. Holds nest (up to 255). A sender about
 *  to block for a buffer rings what is held first, so a hold never stalls
 *  the peer. Keep a hold short and in one context: it holds back the
 *  doorbells of every context sending on this link, the receive handler's
 *  buffer returns included. Any context. Returns 0, AL_EINVAL (NULL),
 *  AL_ESTATE (too deep; release: no hold). */
int al_virtio_kick_hold(struct rpmsg_virtio_device *rvdev);
int al_virtio_kick_release(struct rpmsg_virtio_device *rvdev);

/** Wait until the link is up (device side: the driver set DRIVER_OK).
 *  Thread context, uses the port's wait hook. Returns 0, AL_ETIMEDOUT or
 *  AL_EBROKEN. */
int al_virtio_wait_link_up(struct rpmsg_virtio_device *rvdev, uint32_t timeout_ms);

/** How many transmit buffers a send could take right now without waiting
 *  (never more than the ring size, whatever the peer wrote). Any context.
 *  Returns the count, AL_ESTATE (link down) or AL_EBROKEN. Driver side:
 *  counts descriptors not yet given a pool buffer as free, so it can
 *  overstate by the pool's shortfall. */
int al_virtio_free_tx_buffers(struct rpmsg_virtio_device *rvdev);

/** How far the peer has moved the rings, for a watchdog that wants to
 *  know whether a busy peer is still alive (not for the message path):
 *  *rx is the index the peer publishes in our receive ring (it moves when
 *  the peer hands us a message), *tx the one it publishes in our send ring
 *  (it moves as the peer finishes with the messages we sent). Both are
 *  free-running 16-bit counters read once and not checked: compare them
 *  with an earlier reading, never use them as ring positions (on
 *  non-coherent memory they are as fresh as the last receive pass left
 *  them). Any context.
 *  Returns 0, AL_EINVAL (NULL), or, while the link is not up (the rings
 *  may be gone), AL_ESTATE, AL_EBROKEN or AL_ENOLINK without reading. */
int al_virtio_progress(const struct rpmsg_virtio_device *rvdev, uint16_t *rx, uint16_t *tx);

/** The port learned that the peer is gone (its process died, its socket
 *  closed, its heartbeat stopped): sends fail with AL_ENOLINK from now on,
 *  blocked senders wake, the rings are left alone. A new peer means a new
 *  rpmsg_init_vdev(). Any context. */
void al_virtio_peer_lost(struct rpmsg_virtio_device *rvdev);

/* ---- OpenAMP's rpmsg_virtio getters and hooks ---------------------------- */

/** This side's role: RPMSG_HOST (the driver) or RPMSG_REMOTE. Any context. */
unsigned int rpmsg_virtio_get_role(struct rpmsg_virtio_device *rvdev);
/** Payload bytes of a transmit (and receive) buffer of the link behind
 *  `rdev` (buffer size minus the 16-byte header), or AL_EINVAL for NULL.
 *  rpmsg_virtio_get_buffer_size() is the transmit size (OpenAMP's older
 *  name). Any context. */
int rpmsg_virtio_get_tx_buffer_size(struct rpmsg_device *rdev);
int rpmsg_virtio_get_rx_buffer_size(struct rpmsg_device *rdev);
int rpmsg_virtio_get_buffer_size(struct rpmsg_device *rdev);
#if !AL_CFG_NO_BUS_EXTRAS
/** Install the hook a sender calls instead of the port's wait when no
 *  buffer is free (NULL: the port's wait). Thread context, before traffic. */
static inline void rpmsg_virtio_set_wait_cb(struct rpmsg_virtio_device *rvdev,
					    rpmsg_virtio_notify_wait_cb wait_cb)
{
	if (rvdev)
		rvdev->notify_wait_cb = wait_cb;
}
#endif

/** Current enum al_link_state. Any context. */
static inline int al_virtio_link_state(const struct rpmsg_virtio_device *rvdev)
{
	return rvdev->state;
}

/** How full the rings are (al_virtio_ring_usage()). */
struct al_ring_usage {
	uint16_t num;	       /* entries per ring */
	uint16_t rx_backlog;   /* messages the peer published that we have not taken yet */
	uint16_t tx_in_flight; /* driver: messages sent that the device has not taken
				* yet; device: 0 (the driver's progress is not visible) */
};

/** Fill *u from the rings' indices (the peer's read once, clamped to the
 *  ring size). For monitoring: takes the device lock. Thread context.
 *  Returns 0, AL_EINVAL (NULL argument) or AL_ESTATE (link not up: *u is
 *  zeroed). */
int al_virtio_ring_usage(struct rpmsg_virtio_device *rvdev, struct al_ring_usage *u);

/** Why the link broke, or why rpmsg_init_vdev() refused the layout, as a
 *  sentence; NULL while there is nothing to say. Any context. */
const char *al_virtio_broken_reason(const struct rpmsg_virtio_device *rvdev);

/** Install the callback told when the link breaks (once, with AL_EBROKEN and
 *  the reason). Thread context. */
void al_virtio_set_error_cb(struct rpmsg_virtio_device *rvdev, al_link_error_cb cb);

#ifdef __cplusplus
}
#endif
#endif
