/* Compile-time configuration of the RPMsg-Lite-style API (rpmsg_lite.h):
 * defaults for every option, each overridable with -D or, as RPMsg-Lite
 * does, from an "rpmsg_config.h" of the application (define
 * RL_USE_CUSTOM_CONFIG=1 to include it). The library and every file that
 * includes rpmsg_lite.h must be built with the same values: they size the
 * instance structure and the shared-memory layout.
 *
 * Both sides of a link must agree on RL_BUFFER_COUNT, RL_BUFFER_PAYLOAD_SIZE
 * and RL_VRING_ALIGN (the remote writes them into the resource table, the
 * master checks them there).
 */
#ifndef AMPLINK_RPMSG_LITE_CONFIG_H
#define AMPLINK_RPMSG_LITE_CONFIG_H

#if defined(RL_USE_CUSTOM_CONFIG) && (RL_USE_CUSTOM_CONFIG == 1)
#include "rpmsg_config.h"
#endif

/** Build without any heap use: only the caller-storage (static) variants
 *  exist, and RL_USE_STATIC_API must be 1. Set by the CMake option
 *  AMPLINK_NO_MALLOC. */
#ifndef AMPLINK_NO_MALLOC
#define AMPLINK_NO_MALLOC 0
#endif

/** 1: the RPMsg-Lite names rpmsg_lite_master_init, rpmsg_lite_remote_init,
 *  rpmsg_lite_create_ept, rpmsg_queue_create and rpmsg_ns_bind take the
 *  extra caller-storage argument, as in RPMsg-Lite (they become macros for
 *  the *_static functions). Affects only the file that includes the header,
 *  never the library's ABI. */
#ifndef RL_USE_STATIC_API
#if AMPLINK_NO_MALLOC
#define RL_USE_STATIC_API 1
#else
#define RL_USE_STATIC_API 0
#endif
#endif

/** Buffers per direction = entries per vring; a power of two. */
#ifndef RL_BUFFER_COUNT
#define RL_BUFFER_COUNT 2U
#endif

/** Payload bytes per buffer: any size from 1 to 65520, as RPMsg-Lite. */
#ifndef RL_BUFFER_PAYLOAD_SIZE
#define RL_BUFFER_PAYLOAD_SIZE 496U
#endif

/** Alignment of each vring in the shared region (RPMsg-Lite's platform
 *  VRING_ALIGN); a power of two, at least 16. The region's device address
 *  must be aligned to it. */
#ifndef RL_VRING_ALIGN
#if defined(VRING_ALIGN)
#define RL_VRING_ALIGN VRING_ALIGN
#else
#define RL_VRING_ALIGN 16U
#endif
#endif

/** Highest link id accepted by rpmsg_lite_set_platform() and the init
 *  functions (RPMsg-Lite's platform macro); one registry slot (16 B) per
 *  id. The host CMake build sets 1 (master and remote in one process). */
#ifndef RL_PLATFORM_HIGHEST_LINK_ID
#define RL_PLATFORM_HIGHEST_LINK_ID 0U
#endif

/** 1: the platform is a constant table the firmware defines,
 *  rl_platform[] (struct rl_platform_link in rpmsg_lite.h), instead of the
 *  rpmsg_lite_set_platform() registry: what RPMsg-Lite's platform layer and
 *  an SDK's rsc_table.c hard-code. The registry's RAM and code go, and the
 *  remote init uses the firmware's own resource table (linker-placed, or
 *  written by the firmware before the init)
 *  instead of writing one, so the layout planner (layout.c) is not linked
 *  into a remote-only image. The core validates that table at link-up like
 *  any other (it sits in shared memory the master may have rewritten). */
#ifndef RL_PLATFORM_STATIC
#define RL_PLATFORM_STATIC 0
#endif

/** 1: links that rpmsg_lite_set_platform() did not register use the
 *  board's RPMsg-Lite platform layer (platform_notify,
 *  platform_init_interrupt, platform_interrupt_enable/disable,
 *  platform_time_delay, platform_vatopa, platform_init/deinit), and the
 *  board's doorbell interrupt calls env_isr(vector): an RPMsg-Lite board
 *  port links unchanged (src/lite/rpmsg_platform_layer.c). */
#ifndef RL_PLATFORM_LAYER
#define RL_PLATFORM_LAYER 0
#endif

/** VirtIO features the remote offers (dfeatures) and the master accepts:
 *  bit 0 name service, bit 29 event-index doorbell suppression. */
#ifndef RL_VDEV_FEATURES
#define RL_VDEV_FEATURES ((1UL << 0) | (1UL << 29))
#endif

/** Zero-copy API and rpmsg_queue: always available in amplink. */
#ifndef RL_API_HAS_ZEROCOPY
#define RL_API_HAS_ZEROCOPY 1
#endif

/* Whole buffer: payload plus the 16-byte rpmsg header (RPMsg-Lite's). */
#define RL_BUFFER_SIZE (RL_BUFFER_PAYLOAD_SIZE + 16U)

/* The buffer amplink lays out for it: RL_BUFFER_SIZE rounded up to 8 bytes
 * (every header stays aligned), and at least the core's 64. The façade
 * still refuses payloads over RL_BUFFER_PAYLOAD_SIZE. */
#define AL_LITE_BUF_SIZE (RL_BUFFER_SIZE < 64U ? 64U : ((RL_BUFFER_SIZE + 7U) & ~7U))

#if AMPLINK_NO_MALLOC && !RL_USE_STATIC_API
#error "AMPLINK_NO_MALLOC needs RL_USE_STATIC_API=1: only the static variants exist"
#endif
#if (RL_BUFFER_COUNT == 0) || (RL_BUFFER_COUNT & (RL_BUFFER_COUNT - 1)) || (RL_BUFFER_COUNT > 32768)
#error "RL_BUFFER_COUNT must be a power of two (2, 4, ...) and at most 32768"
#endif
#if (RL_BUFFER_PAYLOAD_SIZE < 1) || (RL_BUFFER_PAYLOAD_SIZE > 65520)
#error "RL_BUFFER_PAYLOAD_SIZE must be 1..65520"
#endif
#if (RL_VRING_ALIGN < 16) || (RL_VRING_ALIGN & (RL_VRING_ALIGN - 1))
#error "RL_VRING_ALIGN must be a power of two, at least 16"
#endif
#if RL_PLATFORM_LAYER && RL_PLATFORM_STATIC
#error "RL_PLATFORM_LAYER and RL_PLATFORM_STATIC exclude each other"
#endif
#if RL_PLATFORM_HIGHEST_LINK_ID > 0x7FFF
#error "RL_PLATFORM_HIGHEST_LINK_ID must be at most 0x7FFF"
#endif

#endif
