/* Compile-time configuration of the core, for microcontroller images that
 * must be small. Every option only removes a feature a given firmware does
 * not need; none removes a check of what the peer wrote (DESIGN §3): the
 * validation code is the same in every configuration.
 *
 * Options are macros given to the compiler for the core, the ports and
 * every file that includes amplink headers (the struct layouts below depend
 * on some of them; the CMake targets set them PUBLIC so that they agree):
 *
 *   AL_CFG_DEVICE_ONLY   the remote (virtio device) role only: every
 *                        driver-side path drops out.
 *   AL_CFG_NO_EVENT_IDX  never negotiate VIRTIO_RING_F_EVENT_IDX: doorbells
 *                        are suppressed with the ring flags only.
 *   AL_CFG_NO_STATS      no counters: rpmsg_get_stats() reports zeros, and
 *                        the counter fields are not in the structs.
 *   AL_CFG_NO_ADDR_HASH  no address hash: rpmsg_set_addr_hash() returns
 *                        AL_EINVAL and dispatch walks the endpoint list
 *                        (the few endpoints of a microcontroller).
 *   AL_CFG_COHERENT      the shared region is cache-coherent (Cortex-M4 has
 *                        no data cache): the cache hooks are never called.
 *   AL_CFG_ALWAYS_NOTIFY this side never asks the peer to hold back its
 *                        doorbells (the ring flags stay 0): no suppression
 *                        bookkeeping, a send that waits for a buffer just
 *                        sleeps until the next doorbell. Costs the peer a
 *                        few more doorbells, nothing else.
 *   AL_CFG_DA32          device addresses are 32 bits (a 32-bit remote core):
 *                        range checks are done in 32-bit arithmetic; a
 *                        descriptor whose 64-bit address has a non-zero
 *                        upper half is rejected as outside the region, and
 *                        init refuses a region that does not end below 4 GiB.
 *   AL_CFG_SMALL_CODE    leave it to the compiler whether the few helpers
 *                        on the per-message path are inlined (at -Os: not),
 *                        instead of forcing them inline: some 200 bytes
 *                        smaller, some calls and returns more per message
 *                        (which an emulated core pays dearly: see
 *                        docs/performance.md).
 *
 *   AL_CFG_MIN           the minimal remote profile: all of the above. What
 *                        the size figures of `make size` are measured with.
 */
#ifndef AMPLINK_CONFIG_H
#define AMPLINK_CONFIG_H

#ifdef AL_CFG_MIN
#ifndef AL_CFG_DEVICE_ONLY
#define AL_CFG_DEVICE_ONLY 1
#endif
#ifndef AL_CFG_NO_EVENT_IDX
#define AL_CFG_NO_EVENT_IDX 1
#endif
#ifndef AL_CFG_NO_STATS
#define AL_CFG_NO_STATS 1
#endif
#ifndef AL_CFG_NO_ADDR_HASH
#define AL_CFG_NO_ADDR_HASH 1
#endif
#ifndef AL_CFG_COHERENT
#define AL_CFG_COHERENT 1
#endif
#ifndef AL_CFG_ALWAYS_NOTIFY
#define AL_CFG_ALWAYS_NOTIFY 1
#endif
#ifndef AL_CFG_DA32
#define AL_CFG_DA32 1
#endif
#ifndef AL_CFG_SMALL_CODE
#define AL_CFG_SMALL_CODE 1
#endif
#endif

#endif
