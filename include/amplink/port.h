/* The port contract: everything the portable core needs from an OS or a board.
 *
 * The core never calls the OS directly. A port fills one `struct al_port_ops`
 * table and hands it, with an opaque context pointer, to the virtio device at
 * init. Every hook except `notify` may be NULL, meaning "not needed here":
 *   - lock/unlock NULL: single-threaded use (bare metal with sends only from
 *     one context, or a port that masks interrupts itself);
 *   - time_ms/wait NULL: no blocking at all; every timeout behaves as 0;
 *   - cache_* NULL: the shared region is cache-coherent.
 *
 * Shared memory is described by `struct al_shm` regions: a local virtual
 * address, the device address (da) at which the peer sees it, and a size.
 * A link has one region holding its rings (and the resource table, if
 * there is one) and may declare more where the peer is allowed to put
 * buffers (struct al_mem). Descriptor addresses on the wire are device
 * addresses; the core translates them through the regions and rejects
 * anything not wholly inside one of them.
 */
#ifndef AMPLINK_PORT_H
#define AMPLINK_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A shared-memory region: `size` bytes at local address `va`, seen by the
 *  peer at device address `da`. */
struct al_shm {
	void *va;
	uint64_t da;
	size_t size;
};

/** The regions of one link: r[0] first, then further ones (at most
 *  AL_CFG_MAX_REGIONS). No two may overlap, in device addresses. */
struct al_mem {
	struct al_shm r[AL_CFG_MAX_REGIONS];
#if AL_CFG_MAX_REGIONS > 1
	uint32_t n; /* regions in use, 1..AL_CFG_MAX_REGIONS */
#endif
};

/** Wait forever (for hooks and APIs that take a timeout in milliseconds). */
#define AL_WAIT_FOREVER 0xFFFFFFFFu

struct al_port_ops {
	/** Ring the peer's doorbell for the virtqueue whose notify id is
	 *  `notifyid`. Called from any context, possibly with the port lock
	 *  held: must not block and must not call back into the core.
	 *  Required. */
	void (*notify)(void *ctx, uint32_t notifyid);

	/** Take / drop the device lock that serialises senders and endpoint
	 *  bookkeeping. Never taken around receive callbacks. Not recursive:
	 *  the core never takes it twice. May be NULL (single-threaded). */
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);

	/** Monotonic milliseconds. May be NULL (no blocking). */
	uint64_t (*time_ms)(void *ctx);

	/** Sleep until `wake` is called or `timeout_ms` passes, whichever is
	 *  first. Spurious returns are fine: the core re-checks its condition.
	 *  On a polling port this is where the port polls its doorbell and
	 *  calls al_virtio_notified(). Called without the lock held, never
	 *  from a receive callback. May be NULL (no blocking). */
	void (*wait)(void *ctx, uint32_t timeout_ms);

	/** Wake whoever sleeps in `wait` (buffers came back, link state
	 *  changed). Called from receive context. May be NULL. */
	void (*wake)(void *ctx);

	/** Make CPU writes to [va, va+len) visible to the peer (clean), and
	 *  drop stale cached copies before reading what the peer wrote
	 *  (invalidate). NULL on coherent memory. */
	void (*cache_flush)(void *ctx, const void *va, size_t len);
	void (*cache_invalidate)(void *ctx, const void *va, size_t len);
};

/** Translate a device address range to a local pointer, or NULL if any byte
 *  of [da, da+len) falls outside the region (overflow-safe). Any context. */
void *al_shm_da_to_va(const struct al_shm *shm, uint64_t da, size_t len);

/** Translate a local pointer range back to a device address. Returns 0 and
 *  stores the address in *da, or AL_EADDR if [va, va+len) is not inside the
 *  region. Any context. */
int al_shm_va_to_da(const struct al_shm *shm, const void *va, size_t len, uint64_t *da);

#ifdef __cplusplus
}
#endif
#endif
