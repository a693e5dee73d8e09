/* Firmware side: build a resource table in C and place it in the
 * `.resource_table` ELF section, where Linux remoteproc and the amplink
 * remoteproc host (rproc.h) look for it. Wire format in rsc_table.h.
 *
 *   struct my_table {
 *           AL_RSC_TABLE_HEADER(3);
 *           struct fw_rsc_vdev vdev;
 *           struct fw_rsc_vdev_vring vring[2];
 *           struct fw_rsc_trace trace;
 *           struct fw_rsc_carveout data;
 *   };
 *   AL_RSC_SECTION const struct my_table resource_table = {
 *           .ver = 1, .num = 3,
 *           .offset = {offsetof(struct my_table, vdev),
 *                      offsetof(struct my_table, trace),
 *                      offsetof(struct my_table, data)},
 *           .vdev = AL_RSC_VDEV_RPMSG(1u << VIRTIO_RPMSG_F_NS, 2),
 *           .vring = {AL_RSC_VRING(FW_RSC_ADDR_ANY, 4096, 256, 0),
 *                     AL_RSC_VRING(FW_RSC_ADDR_ANY, 4096, 256, 1)},
 *           .trace = AL_RSC_TRACE(FW_RSC_ADDR_ANY, 4096, "trace0"),
 *           .data  = AL_RSC_CARVEOUT(FW_RSC_ADDR_ANY, 65536, 0, "sensor-data"),
 *   };
 *
 * or, for the common case, `struct al_rsc_table_rpmsg_trace` with
 * AL_RSC_TABLE_RPMSG_TRACE_INIT(). Header only; any compiler context.
 */
#ifndef AMPLINK_RSC_BUILD_H
#define AMPLINK_RSC_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/rsc_table.h"
#include "amplink/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Put an object into the `.resource_table` section and keep it even if
 *  nothing references it (GCC and Clang). */
#define AL_RSC_SECTION __attribute__((used, section(".resource_table"), aligned(8)))

/** The header fields of a table with `n` entries, for a struct definition. */
#define AL_RSC_TABLE_HEADER(n)                                                                     \
	uint32_t ver;                                                                              \
	uint32_t num;                                                                              \
	uint32_t reserved[2];                                                                      \
	uint32_t offset[n]

/** Initialisers of the entries (designated-initialiser values). */
#define AL_RSC_CARVEOUT(da_, len_, flags_, name_)                                                  \
	{                                                                                          \
		.type = RSC_CARVEOUT, .da = (da_), .pa = (da_), .len = (len_), .flags = (flags_),  \
		.reserved = 0, .name = name_                                                       \
	}
#define AL_RSC_DEVMEM(da_, pa_, len_, name_)                                                       \
	{                                                                                          \
		.type = RSC_DEVMEM, .da = (da_), .pa = (pa_), .len = (len_), .flags = 0,           \
		.reserved = 0, .name = name_                                                       \
	}
#define AL_RSC_TRACE(da_, len_, name_)                                                             \
	{                                                                                          \
		.type = RSC_TRACE, .da = (da_), .len = (len_), .reserved = 0, .name = name_        \
	}
/** An rpmsg VDEV entry offering `feat_` (dfeatures), followed in the struct
 *  by `nvrings_` struct fw_rsc_vdev_vring. Notify id of the vdev: 2. */
#define AL_RSC_VDEV_RPMSG(feat_, nvrings_)                                                         \
	{                                                                                          \
		.type = RSC_VDEV, .id = VIRTIO_ID_RPMSG, .notifyid = 2, .dfeatures = (feat_),      \
		.gfeatures = 0, .config_len = 0, .status = 0, .num_of_vrings = (nvrings_),         \
		.reserved = {                                                                      \
			0,                                                                         \
			0                                                                          \
		}                                                                                  \
	}
#define AL_RSC_VRING(da_, align_, num_, notifyid_)                                                 \
	{                                                                                          \
		.da = (da_), .align = (align_), .num = (num_), .notifyid = (notifyid_), .pa = 0    \
	}

/** The usual firmware table: one rpmsg VDEV entry with two vrings and a
 *  trace buffer (the remote's log, read by `amplink rproc trace`). */
struct al_rsc_table_rpmsg_trace {
	AL_RSC_TABLE_HEADER(2);
	struct fw_rsc_vdev vdev;
	struct fw_rsc_vdev_vring vring[2];
	struct fw_rsc_trace trace;
};

/** Initialiser: vrings of `vnum` entries aligned to `valign` at addresses
 *  the host chooses (FW_RSC_ADDR_ANY), features `feat`, a `trace_len`-byte
 *  trace buffer named "trace0" also placed by the host. */
#define AL_RSC_TABLE_RPMSG_TRACE_INIT(vnum, valign, feat, trace_len)                               \
	{                                                                                          \
		.ver = 1, .num = 2, .reserved = {0, 0},                                            \
		.offset = {offsetof(struct al_rsc_table_rpmsg_trace, vdev),                        \
			   offsetof(struct al_rsc_table_rpmsg_trace, trace)},                      \
		.vdev = AL_RSC_VDEV_RPMSG((feat), 2),                                              \
		.vring = {AL_RSC_VRING(FW_RSC_ADDR_ANY, (valign), (vnum), 0),                      \
			  AL_RSC_VRING(FW_RSC_ADDR_ANY, (valign), (vnum), 1)},                     \
		.trace = AL_RSC_TRACE(FW_RSC_ADDR_ANY, (trace_len), "trace0")                      \
	}

#ifdef __cplusplus
}
#endif
#endif
