/* Compile-time configuration of the core, for microcontroller images that
 * must be small. Every option only removes a feature a given firmware does
 * not need; none removes a check of what the peer wrote: the validation
 * code is the same in every configuration.
 *
 * Every option is 0 (off, the default) or 1 (on) and is tested by value
 * (`#if AL_CFG_NO_STATS`), so `-DAL_CFG_NO_STATS=0` means off. The core is
 * built with -Wundef: a file that tests an option without including this
 * header does not compile. Give the options to the compiler for the core,
 * the ports and every file that includes amplink headers (some struct
 * layouts depend on them; the CMake targets set them PUBLIC so that they
 * agree).
 *
 * | option               | when 1                                                  |
 * |----------------------|---------------------------------------------------------|
 * | AL_CFG_DEVICE_ONLY   | the remote (virtio device) role only: the driver role   |
 * |                      | (src/rpmsg/rpmsg_virtio_driver.c) is not built at all.  |
 * | AL_CFG_NO_EVENT_IDX  | never negotiate VIRTIO_RING_F_EVENT_IDX: doorbells are  |
 * |                      | suppressed with the ring flags only.                    |
 * | AL_CFG_NO_STATS      | no counters: al_get_stats() reports zeros and the       |
 * |                      | counter fields are not in the structs.                  |
 * | AL_CFG_NO_ADDR_HASH  | no address hash: al_set_addr_hash() returns AL_EINVAL   |
 * |                      | and dispatch walks the endpoint list.                   |
 * | AL_CFG_COHERENT      | the shared region is cache-coherent (a Cortex-M4 has no |
 * |                      | data cache): the cache hooks are never called.          |
 * | AL_CFG_ALWAYS_NOTIFY | never ask the peer to hold back its doorbells: no       |
 * |                      | suppression bookkeeping; a sender waiting for a buffer  |
 * |                      | sleeps until the next doorbell.                         |
 * | AL_CFG_DA32          | 32-bit device addresses (a 32-bit remote core): range   |
 * |                      | checks in 32-bit arithmetic; a descriptor address with  |
 * |                      | a non-zero upper half is outside the region; init       |
 * |                      | refuses a region that does not end below 4 GiB.         |
 * | AL_CFG_SMALL_CODE    | let the compiler decide whether the few helpers on the  |
 * |                      | per-message path are inlined (at -Os: not), and give    |
 * |                      | received buffers back one index store each, not in      |
 * |                      | bursts: ~250 bytes smaller, more calls per message.     |
 * | AL_CFG_RSC_TABLE_ONLY| the device always comes up from a resource table (a     |
 * |                      | firmware on a remoteproc platform): no                  |
 * |                      | al_virtio_device_start() for transports without one     |
 * |                      | (vhost-user).                                           |
 * | AL_CFG_MAX_REGIONS   | a count, not a switch: how many shared-memory regions a |
 * |                      | link may have (default 8, 1 in the minimal profile):    |
 * |                      | region 0 holds the rings' resource table, the others    |
 * |                      | are further windows where the peer may put buffers or   |
 * |                      | rings (a buffer carveout, a vhost-user memory table).   |
 * | AL_CFG_NO_BUS_EXTRAS | none of the OpenAMP bus extras a small remote does not  |
 * |                      | use: the directory of services the peer announced       |
 * |                      | before a local endpoint asked for them, the endpoint    |
 * |                      | reference count and release_cb, the device's            |
 * |                      | ns_unbind_cb, rpmsg_virtio_set_wait_cb().               |
 * | AL_CFG_NS_DIR        | a count: entries of that directory (default 8; 0 with   |
 * |                      | AL_CFG_NO_BUS_EXTRAS).                                  |
 * | AL_CFG_MIN           | the minimal remote profile: all of the above (an option |
 * |                      | given explicitly, even as 0, wins). What `make size`    |
 * |                      | measures.                                               |
 */
#ifndef AMPLINK_CONFIG_H
#define AMPLINK_CONFIG_H

#include <stddef.h>

#ifndef AL_CFG_MIN
#define AL_CFG_MIN 0
#endif

/* Each option defaults to the profile: 1 in the minimal profile, else 0. */
#ifndef AL_CFG_DEVICE_ONLY
#define AL_CFG_DEVICE_ONLY AL_CFG_MIN
#endif
#ifndef AL_CFG_NO_EVENT_IDX
#define AL_CFG_NO_EVENT_IDX AL_CFG_MIN
#endif
#ifndef AL_CFG_NO_STATS
#define AL_CFG_NO_STATS AL_CFG_MIN
#endif
#ifndef AL_CFG_NO_ADDR_HASH
#define AL_CFG_NO_ADDR_HASH AL_CFG_MIN
#endif
#ifndef AL_CFG_COHERENT
#define AL_CFG_COHERENT AL_CFG_MIN
#endif
#ifndef AL_CFG_ALWAYS_NOTIFY
#define AL_CFG_ALWAYS_NOTIFY AL_CFG_MIN
#endif
#ifndef AL_CFG_DA32
#define AL_CFG_DA32 AL_CFG_MIN
#endif
#ifndef AL_CFG_SMALL_CODE
#define AL_CFG_SMALL_CODE AL_CFG_MIN
#endif
#ifndef AL_CFG_RSC_TABLE_ONLY
#define AL_CFG_RSC_TABLE_ONLY AL_CFG_MIN
#endif
#ifndef AL_CFG_MAX_REGIONS
#define AL_CFG_MAX_REGIONS (AL_CFG_MIN ? 1 : 8)
#endif
#ifndef AL_CFG_NO_BUS_EXTRAS
#define AL_CFG_NO_BUS_EXTRAS AL_CFG_MIN
#endif
#ifndef AL_CFG_NS_DIR
#define AL_CFG_NS_DIR (AL_CFG_NO_BUS_EXTRAS ? 0 : 8)
#endif
#if AL_CFG_NS_DIR < 0 || AL_CFG_NS_DIR > 255 || (AL_CFG_NS_DIR && AL_CFG_NO_BUS_EXTRAS)
#error "AL_CFG_NS_DIR must be 0..255, and 0 with AL_CFG_NO_BUS_EXTRAS"
#endif
#if AL_CFG_MAX_REGIONS < 1 || AL_CFG_MAX_REGIONS > 255
#error "AL_CFG_MAX_REGIONS must be 1..255"
#endif

/* The struct of type `type` whose member `member` is at `ptr` (a NULL
 * `ptr` gives NULL). Used where one object embeds another, instead of
 * casting a pointer to the first member. */
#define al_container_of(ptr, type, member)                                                         \
	((ptr) ? (type *)(void *)((char *)(ptr)-offsetof(type, member)) : (type *)NULL)

#endif
