/* VirtIO split virtqueue wire format (VirtIO 1.x section 2.7), little-endian.
 *
 * Layout of one vring from its base address, for `num` entries (a power of
 * two) and alignment `align`:
 *
 *   +0                      vring_desc[num]      16 B each: le64 addr, le32 len,
 *                                                le16 flags, le16 next
 *   +16*num                 vring_avail          le16 flags, le16 idx,
 *                                                le16 ring[num], le16 used_event
 *   align_up(.., align)     vring_used           le16 flags, le16 idx,
 *                                                {le32 id, le32 len}[num],
 *                                                le16 avail_event
 *
 * The structs below document the layout and are pinned by _Static_assert;
 * the core never reads shared memory through them but through byte offsets
 * and little-endian helpers, reading each peer-written field exactly once.
 */
#ifndef AMPLINK_VIRTIO_RING_H
#define AMPLINK_VIRTIO_RING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VRING_DESC_F_NEXT	   1u
#define VRING_DESC_F_WRITE	   2u
#define VRING_DESC_F_INDIRECT	   4u
#define VRING_AVAIL_F_NO_INTERRUPT 1u
#define VRING_USED_F_NO_NOTIFY	   1u

/* Largest ring amplink accepts: the VirtIO limit for split rings. */
#define AL_VRING_MAX_NUM 32768u

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Byte offsets inside the parts of a ring. */
#define AL_VRING_DESC_SIZE	16u
#define AL_VRING_AVAIL_FLAGS	0u
#define AL_VRING_AVAIL_IDX	2u
#define AL_VRING_AVAIL_RING	4u
#define AL_VRING_USED_FLAGS	0u
#define AL_VRING_USED_IDX	2u
#define AL_VRING_USED_RING	4u
#define AL_VRING_USED_ELEM_SIZE 8u

/** Offset of the used ring from the ring base. Pure function, any context. */
static inline size_t vring_used_offset(unsigned int num, unsigned long align)
{
	size_t a = 16u * (size_t)num + 2u * (3u + (size_t)num);
	return (a + align - 1u) & ~((size_t)align - 1u);
}

/** Bytes occupied by a vring of `num` entries at alignment `align` (a power
 *  of two): align_up(16*num + 2*(3+num), align) + 2*3 + 8*num.
 *  Pure function, any context. */
static inline size_t vring_size(unsigned int num, unsigned long align)
{
	return vring_used_offset(num, align) + 2u * 3u + 8u * (size_t)num;
}

/** The VirtIO event-index test: should a side that moved its index from
 *  `old_idx` to `new_idx` notify a peer that asked to be told at
 *  `event_idx`? Works across 16-bit wrap-around. */
static inline int vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1u) < (uint16_t)(new_idx - old_idx);
}

#ifdef __cplusplus
}
#endif
#endif
