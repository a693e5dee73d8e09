/* Resource table validation on the host side: the table is written by the
 * remote's firmware, so every count and offset is checked before use. */
#include <stddef.h>

#include "amplink/error.h"
#include "amplink/rsc_table.h"
#include "shm_access.h"

static int bad(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return AL_EINIT;
}

int al_rsc_find_vdev(const void *table, size_t len, size_t *vdev_off, const char **why)
{
	const uint8_t *t = table;
	if (!t || len < 16)
		return bad(why, "resource table shorter than its header");
	if (al_rd32(t) != 1)
		return bad(why, "resource table version is not 1");
	uint32_t num = al_rd32(t + 4);
	if (num > (len - 16) / 4)
		return bad(why, "resource table entry count exceeds the table");
	for (uint32_t i = 0; i < num; i++) {
		uint32_t off = al_rd32(t + 16 + 4u * i);
		if (off < 16 + 4u * num || off > len || len - off < 4 || (off & 3u))
			return bad(why, "resource entry offset outside the table or misaligned");
		uint32_t type = al_rd32(t + off);
		size_t need = type == RSC_VDEV ? AL_RSC_VDEV_VRING0
			      : type <= RSC_TRACE ? (type == RSC_TRACE ? 48u : 56u)
						  : 4u;
		if (len - off < need)
			return bad(why, "resource entry runs past the end of the table");
		if (type != RSC_VDEV)
			continue;
		uint32_t nvr = al_rd8(t + off + AL_RSC_VDEV_NUM_VRINGS);
		uint32_t cfg = al_rd32(t + off + AL_RSC_VDEV_CONFIG_LEN);
		if (cfg > len || (len - off - AL_RSC_VDEV_VRING0) / AL_RSC_VRING_SIZE < nvr ||
		    len - off - AL_RSC_VDEV_VRING0 - (size_t)nvr * AL_RSC_VRING_SIZE < cfg)
			return bad(why, "VDEV entry's vrings or config run past the table");
		if (al_rd32(t + off + AL_RSC_VDEV_ID) != VIRTIO_ID_RPMSG)
			continue;
		if (nvr < 2)
			return bad(why, "rpmsg VDEV entry has fewer than two vrings");
		if (vdev_off)
			*vdev_off = off;
		return 0;
	}
	if (why)
		*why = "no rpmsg VDEV entry in the resource table";
	return AL_EADDR;
}
