/* Remoteproc resource table wire format (ELF section `.resource_table`), as
 * Linux remoteproc, OpenAMP and RPMsg-Lite lay it out, little-endian:
 *
 *   resource_table { u32 ver = 1; u32 num; u32 reserved[2]; u32 offset[num]; }
 *   then entries, each starting with u32 type:
 *     CARVEOUT (0) / DEVMEM (1): da, pa, len, flags, reserved, name[32]
 *     TRACE (2):                  da, len, reserved, name[32]
 *     VDEV (3):                   id, notifyid, dfeatures, gfeatures,
 *                                 config_len, u8 status, u8 num_of_vrings,
 *                                 u8 reserved[2], vring[] {da, align, num,
 *                                 notifyid, pa}, then config_len bytes
 *
 * Firmware declares its table as a C object built from these structs (see
 * AL_RSC_TABLE_RPMSG_INIT); hosts and the core read it through byte offsets
 * and validate every field.
 */
#ifndef AMPLINK_RSC_TABLE_H
#define AMPLINK_RSC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RSC_CARVEOUT	 0u
#define RSC_DEVMEM	 1u
#define RSC_TRACE	 2u
#define RSC_VDEV	 3u
#define RSC_LAST	 4u
#define RSC_VENDOR_START 128u
#define RSC_VENDOR_END	 512u

#define FW_RSC_ADDR_ANY	 0xFFFFFFFFu
#define AL_RSC_NAME_SIZE 32u

struct resource_table {
	uint32_t ver;
	uint32_t num;
	uint32_t reserved[2];
	uint32_t offset[];
};

struct fw_rsc_carveout {
	uint32_t type;
	uint32_t da;
	uint32_t pa;
	uint32_t len;
	uint32_t flags;
	uint32_t reserved;
	uint8_t name[AL_RSC_NAME_SIZE];
};

struct fw_rsc_trace {
	uint32_t type;
	uint32_t da;
	uint32_t len;
	uint32_t reserved;
	uint8_t name[AL_RSC_NAME_SIZE];
};

struct fw_rsc_vdev_vring {
	uint32_t da;
	uint32_t align;
	uint32_t num;
	uint32_t notifyid;
	uint32_t pa;
};

struct fw_rsc_vdev {
	uint32_t type;
	uint32_t id;
	uint32_t notifyid;
	uint32_t dfeatures;
	uint32_t gfeatures;
	uint32_t config_len;
	uint8_t status;
	uint8_t num_of_vrings;
	uint8_t reserved[2];
	/* followed by num_of_vrings x struct fw_rsc_vdev_vring, then
	 * config_len bytes of device config */
};

/* Byte offsets inside a VDEV entry, for code that reads shared memory. */
#define AL_RSC_VDEV_ID	       4u
#define AL_RSC_VDEV_NOTIFYID   8u
#define AL_RSC_VDEV_DFEATURES  12u
#define AL_RSC_VDEV_GFEATURES  16u
#define AL_RSC_VDEV_CONFIG_LEN 20u
#define AL_RSC_VDEV_STATUS     24u
#define AL_RSC_VDEV_NUM_VRINGS 25u
#define AL_RSC_VDEV_VRING0     28u
#define AL_RSC_VRING_SIZE      20u
#define AL_RSC_VRING_DA	       0u
#define AL_RSC_VRING_ALIGN     4u
#define AL_RSC_VRING_NUM       8u
#define AL_RSC_VRING_NOTIFYID  12u
#define AL_RSC_VRING_PA	       16u

/** The table every RPMsg firmware needs: one VDEV entry with two vrings
 *  (vring0: device -> driver, vring1: driver -> device). */
struct al_rsc_table_rpmsg {
	uint32_t ver;
	uint32_t num;
	uint32_t reserved[2];
	uint32_t offset[1];
	struct fw_rsc_vdev vdev;
	struct fw_rsc_vdev_vring vring[2];
};

/** Static initialiser for struct al_rsc_table_rpmsg. `da0`/`da1` may be
 *  FW_RSC_ADDR_ANY for the host to allocate; `feat` is the dfeatures word
 *  (e.g. 1u << VIRTIO_RPMSG_F_NS). Notify ids are 0 (vring0), 1 (vring1)
 *  and 2 (vdev). */
#define AL_RSC_TABLE_RPMSG_INIT(da0, da1, vnum, valign, feat)                                      \
	{                                                                                          \
		.ver = 1, .num = 1, .reserved = {0, 0},                                            \
		.offset = {offsetof(struct al_rsc_table_rpmsg, vdev)},                             \
		.vdev = {.type = RSC_VDEV,                                                         \
			 .id = VIRTIO_ID_RPMSG,                                                    \
			 .notifyid = 2,                                                            \
			 .dfeatures = (feat),                                                      \
			 .gfeatures = 0,                                                           \
			 .config_len = 0,                                                          \
			 .status = 0,                                                              \
			 .num_of_vrings = 2,                                                       \
			 .reserved = {0, 0}},                                                      \
		.vring = {                                                                         \
			{(da0), (valign), (vnum), 0, 0},                                           \
			{(da1), (valign), (vnum), 1, 0}                                            \
		}                                                                                  \
	}

/** Validate the resource table at [table, table+len) (untrusted: written by
 *  the remote) and find its rpmsg VDEV entry: version 1, the entry count
 *  and every offset inside the table, each entry's fixed part inside it,
 *  a VDEV entry's vrings and config inside it. On success stores the
 *  entry's offset from `table` in *vdev_off. Pure function, any context.
 *  Returns 0, AL_EINIT (malformed; *why names the problem) or AL_EADDR (no
 *  rpmsg VDEV entry). */
int al_rsc_find_vdev(const void *table, size_t len, size_t *vdev_off, const char **why);

#ifdef __cplusplus
}
#endif
#endif
