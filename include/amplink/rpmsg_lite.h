/* The RPMsg-Lite-style API: NXP RPMsg-Lite's names, argument order, return
 * codes and semantics, as a thin layer over the amplink core (every message,
 * buffer and ring operation is the core's; see docs/rpmsg-lite.md for the
 * function-by-function mapping and the differences).
 *
 * Roles: the master (RL_MASTER) is the VirtIO driver and owns the buffers;
 * the remote (RL_REMOTE) is the VirtIO device. The shared region given to
 * the init functions is laid out as in amplink/layout.h: a resource table
 * with one VDEV entry at its start (written by the remote's init, as
 * firmware does), vring0, vring1, then the buffer pool. Initialise the
 * remote first; the master reads the table the remote wrote.
 *
 * The platform (doorbell, lock, clock, wait) is an amplink port
 * (amplink/port.h) registered per link id with rpmsg_lite_set_platform().
 * The port's doorbell handler calls rpmsg_lite_isr() (or
 * al_virtio_notified() on rpmsg_lite_rvdev()).
 *
 * Contexts. "Receive context" is wherever rpmsg_lite_isr() runs (an ISR on
 * an MCU, a doorbell thread on Linux). Receive callbacks run there and must
 * not block. "Blocking" below means: may wait through the port's wait hook
 * (thread context only); a timeout of RL_DONT_BLOCK (0) never waits and is
 * allowed in any context; RL_BLOCK waits without a time limit (while the
 * link is up).
 */
#ifndef AMPLINK_RPMSG_LITE_H
#define AMPLINK_RPMSG_LITE_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/port.h"
#include "amplink/rpmsg_lite_config.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/rsc_table.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RL_VERSION "amplink"

#define RL_SUCCESS    0
#define RL_NULL	      ((void *)0)
#define RL_REMOTE     0
#define RL_MASTER     1
#define RL_TRUE	      1UL
#define RL_FALSE      0UL
#define RL_ADDR_ANY   0xFFFFFFFFU
#define RL_RELEASE    0
#define RL_HOLD	      1
#define RL_DONT_BLOCK 0
#define RL_BLOCK      (~0UL)
#define RL_NO_FLAGS   0U

#define RL_WORD_SIZE (sizeof(uint32_t))
#define RL_WORD_ALIGN_UP(a)                                                                        \
	(((uintptr_t)(a) + (RL_WORD_SIZE - 1U)) & ~(uintptr_t)(RL_WORD_SIZE - 1U))
#define RL_WORD_ALIGN_DOWN(a) ((uintptr_t)(a) & ~(uintptr_t)(RL_WORD_SIZE - 1U))

/* Error codes (RPMsg-Lite's values). */
#define RL_ERRORS_BASE	 (-5000)
#define RL_ERR_NO_MEM	 (RL_ERRORS_BASE - 1) /* no free buffer in time, or no memory */
#define RL_ERR_BUFF_SIZE (RL_ERRORS_BASE - 2) /* payload larger than a buffer */
#define RL_ERR_PARAM	 (RL_ERRORS_BASE - 3) /* bad argument, destroyed endpoint */
#define RL_ERR_DEV_ID	 (RL_ERRORS_BASE - 4)
#define RL_ERR_MAX_VQ	 (RL_ERRORS_BASE - 5)
#define RL_ERR_NO_BUFF	 (RL_ERRORS_BASE - 6) /* queue: nothing received in time */
#define RL_NOT_READY	 (RL_ERRORS_BASE - 7) /* link not up (or broken, or peer gone) */
#define RL_ALREADY_DONE	 (RL_ERRORS_BASE - 8)

#define AL_LITE_ALIGN_UP(x, a) ((((x) + (a)-1U) / (a)) * (a))
/** Bytes of one vring of RL_BUFFER_COUNT entries, rounded up to RL_VRING_ALIGN. */
#define AL_LITE_VRING_BYTES                                                                        \
	AL_LITE_ALIGN_UP(AL_LITE_ALIGN_UP(16U * RL_BUFFER_COUNT + 2U * (3U + RL_BUFFER_COUNT),     \
					  RL_VRING_ALIGN) +                                        \
			     6U + 8U * RL_BUFFER_COUNT,                                            \
			 RL_VRING_ALIGN)
/** Size of the shared region one link needs (resource table, two vrings,
 *  2 * RL_BUFFER_COUNT buffers): the smallest valid `shmem_length` for
 *  rpmsg_lite_master_init(), and what rpmsg_lite_remote_init() uses. */
#define AL_LITE_SHMEM_SIZE                                                                         \
	(AL_LITE_ALIGN_UP(sizeof(struct al_rsc_table_rpmsg), RL_VRING_ALIGN) +                     \
	 2U * AL_LITE_VRING_BYTES + 2U * RL_BUFFER_COUNT * AL_LITE_BUF_SIZE)

/** Receive callback: `payload`/`payload_len` is the message, `src` the
 *  sender's address, `priv` the rx_cb_data given at creation. Runs in
 *  receive context. Return RL_RELEASE to give the buffer back when the
 *  callback returns, or RL_HOLD to keep it (zero-copy) until
 *  rpmsg_lite_release_rx_buffer(). */
typedef int32_t (*rl_ept_rx_cb_t)(void *payload, uint32_t payload_len, uint32_t src, void *priv);

/** An endpoint. `addr`, `rx_cb` and `rx_cb_data` are RPMsg-Lite's fields
 *  (read-only for the application); `ept` is the core endpoint behind it
 *  (private). */
struct rpmsg_lite_endpoint {
	uint32_t addr;
	rl_ept_rx_cb_t rx_cb;
	void *rx_cb_data;
	struct rpmsg_endpoint ept;
#if !AMPLINK_NO_MALLOC
	uint8_t allocated; /* made by a dynamic variant: free it */
#endif
};

/** Caller storage for one endpoint (rpmsg_lite_create_ept_static()). */
struct rpmsg_lite_ept_static_context {
	struct rpmsg_lite_endpoint ept;
};

struct rpmsg_ns_context;

/** One RPMsg-Lite instance (one link). Caller storage for the static
 *  variants; all fields private. */
struct rpmsg_lite_instance {
	struct rpmsg_virtio_device rvdev; /* first: the core link */
#if !AL_CFG_DEVICE_ONLY
	struct rpmsg_virtio_shm_pool pool; /* master: the buffer pool */
#endif
	struct al_desc_shadow shadows[2U * RL_BUFFER_COUNT];
	struct rpmsg_ns_context *ns; /* bound name-service listener */
#if !AMPLINK_NO_MALLOC
	uint8_t allocated; /* made by a dynamic variant: free it */
#endif
};

/* ---- platform ------------------------------------------------------------ */

#if RL_PLATFORM_STATIC
/** One link of the constant platform table (RL_PLATFORM_STATIC=1). */
struct rl_platform_link {
	const struct al_port_ops *ops; /* port hooks (notify required) */
	void *ctx;		       /* their context */
	uint64_t shm_da;	       /* device address of the region's first byte */
	size_t shm_size;	       /* bytes of the region holding the rings */
	/* Remote: the VDEV entry of the firmware's resource table, inside the
	 * region (the table typically in a .resource_table section at its
	 * start, as the host loaded it): read, never written by the remote. */
	const struct fw_rsc_vdev *vdev;
#if AL_CFG_MAX_REGIONS > 1
	/* Further regions where the master may put buffers (a buffer
	 * carveout apart from the rings, as Linux's vdev0buffer): NULL/0 if
	 * none (struct virtio_device.regions). */
	const struct al_shm *regions;
	uint32_t num_regions;
#endif
};
/** Defined by the firmware, one entry per link id; the init functions
 *  refuse a link whose entry has no ops or (remote) no table. */
extern const struct rl_platform_link rl_platform[RL_PLATFORM_HIGHEST_LINK_ID + 1U];
#else
/** Register the port of link `link_id` (what RPMsg-Lite's platform layer
 *  hard-codes): `ops`/`ctx` are the port hooks and their context (ops->notify
 *  required), `shm_da` the device address at which both sides see the
 *  shared region's first byte (pass (uintptr_t)shmem_addr where addresses
 *  are physical). Takes effect for the next init on that link; `ops` NULL
 *  clears the slot. Thread context, before the init functions.
 *  Returns RL_SUCCESS, or RL_ERR_PARAM (link_id above
 *  RL_PLATFORM_HIGHEST_LINK_ID, ops without notify). */
int32_t rpmsg_lite_set_platform(uint32_t link_id, const struct al_port_ops *ops, void *ctx,
				uint64_t shm_da);
#endif

/** The doorbell handler of an instance: brings the remote's link up once the
 *  master is ready, delivers every waiting message to its endpoint's
 *  callback and returns buffers. Call it from the port's doorbell ISR or
 *  thread, one context at a time. Returns the number of messages
 *  delivered, RL_NOT_READY (link still down, broken or lost) or
 *  RL_ERR_PARAM. */
int32_t rpmsg_lite_isr(struct rpmsg_lite_instance *rpmsg_lite_dev);

/** The core link behind an instance, for ports and for code that mixes in
 *  the OpenAMP-style API (rpmsg.h) on the same link. Any context. */
static inline struct rpmsg_virtio_device *rpmsg_lite_rvdev(struct rpmsg_lite_instance *rl)
{
	return rl ? &rl->rvdev : NULL;
}

/* ---- init / deinit --------------------------------------------------------- */

/** Master (VirtIO driver) init on `shmem_length` bytes at `shmem_addr`: reads
 *  and checks the resource table the remote wrote there, zeroes both vrings,
 *  posts the receive buffers, sets DRIVER_OK and rings the remote: the link
 *  is up on return. `init_flags` is ignored (RL_NO_FLAGS). Thread context.
 *  Returns the instance, or RL_NULL: unknown or unregistered link_id, NULL
 *  address, region smaller than AL_LITE_SHMEM_SIZE, no valid resource
 *  table (remote not initialised yet, other configuration), no memory. */
struct rpmsg_lite_instance *
rpmsg_lite_master_init_static(void *shmem_addr, size_t shmem_length, uint32_t link_id,
			      uint32_t init_flags, struct rpmsg_lite_instance *static_context);

/** Remote (VirtIO device) init at `shmem_addr` (AL_LITE_SHMEM_SIZE bytes):
 *  writes the resource table there and returns at once with the link down;
 *  the link comes up when the master has started (rpmsg_lite_isr() or
 *  rpmsg_lite_wait_for_link_up() sees it). Thread context. Returns the
 *  instance or RL_NULL (unknown or unregistered link_id, NULL address, bad
 *  alignment, no memory). */
struct rpmsg_lite_instance *
rpmsg_lite_remote_init_static(void *shmem_addr, uint32_t link_id, uint32_t init_flags,
			      struct rpmsg_lite_instance *static_context);

#if !AMPLINK_NO_MALLOC
/** As the _static variants, with the instance allocated by malloc. */
struct rpmsg_lite_instance *rpmsg_lite_master_init(void *shmem_addr, size_t shmem_length,
						   uint32_t link_id, uint32_t init_flags);
struct rpmsg_lite_instance *rpmsg_lite_remote_init(void *shmem_addr, uint32_t link_id,
						   uint32_t init_flags);
#endif

/** Tear the instance down: destroys every endpoint (their storage stays the
 *  caller's; sends on them then fail with RL_ERR_PARAM), resets the link
 *  (master: the remote sees DRIVER_OK go) and frees the instance if it was
 *  allocated. Unbind the name-service listener and destroy queues and
 *  allocated endpoints first (they are not freed here, as in RPMsg-Lite);
 *  the port must not call rpmsg_lite_isr() any more. Thread context.
 *  Returns RL_SUCCESS or RL_ERR_PARAM (NULL). */
int32_t rpmsg_lite_deinit(struct rpmsg_lite_instance *rpmsg_lite_dev);

/** RL_TRUE while the link is up, else RL_FALSE (also for NULL). A plain
 *  read: on the remote it turns true when rpmsg_lite_isr() (the master's
 *  doorbell) or rpmsg_lite_wait_for_link_up() saw the master start. Any
 *  context. */
uint32_t rpmsg_lite_is_link_up(struct rpmsg_lite_instance *rpmsg_lite_dev);

/** Wait up to `timeout` ms (RL_BLOCK: no limit, 0: just look) for the link
 *  to come up, looking at the master's status byte every millisecond.
 *  Blocking (thread context). Returns RL_TRUE when up, RL_FALSE on timeout,
 *  broken link or NULL. (`timeout` is uintptr_t, not RPMsg-Lite's uint32_t,
 *  so that RL_BLOCK passes without a narrowing warning on 64-bit hosts.) */
uint32_t rpmsg_lite_wait_for_link_up(struct rpmsg_lite_instance *rpmsg_lite_dev, uintptr_t timeout);

/* ---- endpoints -------------------------------------------------------------- */

/** Create an endpoint at `addr` (RL_ADDR_ANY: the lowest free address from
 *  1024 up) whose callback `rx_cb` gets every message sent to it, with
 *  `rx_cb_data` as priv. Nothing is announced (see rpmsg_ns_announce()).
 *  Thread context, or a receive callback. Returns the endpoint, or RL_NULL
 *  (NULL instance/callback/storage, address taken). */
struct rpmsg_lite_endpoint *
rpmsg_lite_create_ept_static(struct rpmsg_lite_instance *rpmsg_lite_dev, uint32_t addr,
			     rl_ept_rx_cb_t rx_cb, void *rx_cb_data,
			     struct rpmsg_lite_ept_static_context *ept_context);
#if !AMPLINK_NO_MALLOC
/** As rpmsg_lite_create_ept_static(), with the endpoint allocated. */
struct rpmsg_lite_endpoint *rpmsg_lite_create_ept(struct rpmsg_lite_instance *rpmsg_lite_dev,
						  uint32_t addr, rl_ept_rx_cb_t rx_cb,
						  void *rx_cb_data);
#endif

/** Remove an endpoint: later messages to its address are dropped (and
 *  counted by the core). Frees it if allocated; static storage stays and
 *  sends on it fail with RL_ERR_PARAM. Thread context, not from its own
 *  callback. Returns RL_SUCCESS or RL_ERR_PARAM (NULL, not an endpoint of
 *  this instance, already destroyed). */
int32_t rpmsg_lite_destroy_ept(struct rpmsg_lite_instance *rpmsg_lite_dev,
			       struct rpmsg_lite_endpoint *rl_ept);

/* ---- sending ----------------------------------------------------------------- */

/** Copy `size` bytes from `data` into a buffer and send it from ept->addr to
 *  `dst`, waiting up to `timeout` ms for a free buffer (RL_DONT_BLOCK: any
 *  context; otherwise blocking). Returns RL_SUCCESS, or, with nothing sent:
 *  RL_ERR_PARAM (NULL argument, destroyed endpoint, dst RL_ADDR_ANY),
 *  RL_ERR_BUFF_SIZE (size > RL_BUFFER_PAYLOAD_SIZE), RL_NOT_READY (link not
 *  up), RL_ERR_NO_MEM (no free buffer within the timeout). */
int32_t rpmsg_lite_send(struct rpmsg_lite_instance *rpmsg_lite_dev, struct rpmsg_lite_endpoint *ept,
			uint32_t dst, char *data, uint32_t size, uintptr_t timeout);

/** Reserve a transmit buffer, waiting up to `timeout` ms (as
 *  rpmsg_lite_send()); *size receives its payload capacity. Returns the
 *  payload pointer, which belongs to the caller until
 *  rpmsg_lite_send_nocopy(), or RL_NULL with *size = 0 (link down, no
 *  buffer in time; RL_NULL alone if `size` is NULL). */
void *rpmsg_lite_alloc_tx_buffer(struct rpmsg_lite_instance *rpmsg_lite_dev, uint32_t *size,
				 uintptr_t timeout);

/** Send `size` bytes already written into a buffer from
 *  rpmsg_lite_alloc_tx_buffer(), without copying. On success the buffer is
 *  gone; on error it is still the caller's. Any context. Returns RL_SUCCESS,
 *  RL_ERR_PARAM (NULL, destroyed endpoint, `data` not a reserved buffer,
 *  dst RL_ADDR_ANY), RL_ERR_BUFF_SIZE, RL_NOT_READY. */
int32_t rpmsg_lite_send_nocopy(struct rpmsg_lite_instance *rpmsg_lite_dev,
			       struct rpmsg_lite_endpoint *ept, uint32_t dst, void *data,
			       uint32_t size);

/** amplink extension: give back a buffer from rpmsg_lite_alloc_tx_buffer()
 *  unsent (RPMsg-Lite has no way to). Any context. Returns RL_SUCCESS or
 *  RL_ERR_PARAM. */
int32_t rpmsg_lite_release_tx_buffer(struct rpmsg_lite_instance *rpmsg_lite_dev, void *txbuf);

/** Give back a receive buffer a callback kept with RL_HOLD. Any context.
 *  Returns RL_SUCCESS, or RL_ERR_PARAM (NULL, not a held buffer). */
int32_t rpmsg_lite_release_rx_buffer(struct rpmsg_lite_instance *rpmsg_lite_dev, void *rxbuf);

/** How many transmit buffers a send could take now without waiting. Any
 *  context. Returns the count, RL_NOT_READY (link not up) or RL_ERR_PARAM. */
int32_t rpmsg_lite_get_number_of_free_buffers(struct rpmsg_lite_instance *rpmsg_lite_dev);

/* RPMsg-Lite's RL_USE_STATIC_API: the same names take the storage argument. */
#if RL_USE_STATIC_API && !defined(AMPLINK_LITE_BUILD)
#define rpmsg_lite_master_init rpmsg_lite_master_init_static
#define rpmsg_lite_remote_init rpmsg_lite_remote_init_static
#define rpmsg_lite_create_ept  rpmsg_lite_create_ept_static
#endif

#ifdef __cplusplus
}
#endif
#endif
