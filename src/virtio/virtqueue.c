/* Split virtqueue: both roles, hardened against a peer that writes anything
 * into the ring. See virtqueue.h for the contract. */
#include "virtqueue.h"

#include <string.h>

#include "amplink/error.h"
#include "amplink/virtio_ring.h"
#include "fault.h"
#include "shm_access.h"

#define AVAIL_RING(vq, i) ((vq)->avail + AL_VRING_AVAIL_RING + 2u * (i))
#define USED_ELEM(vq, i)  ((vq)->used + AL_VRING_USED_RING + AL_VRING_USED_ELEM_SIZE * (i))
#define USED_EVENT(vq)	  AVAIL_RING(vq, (vq)->num) /* in avail */
#define AVAIL_EVENT(vq)	  ((vq)->used + AL_VRING_USED_RING + AL_VRING_USED_ELEM_SIZE * (vq)->num)

/* Compile-time roles and features (include/amplink/config.h): a parameter
 * that can only have one value is folded away. */
#if AL_CFG_DEVICE_ONLY
#define ROLE_DRIVER(d) ((void)(d), false)
#else
#define ROLE_DRIVER(d) (d)
#endif
#if AL_CFG_NO_EVENT_IDX
#define HAS_EVENT_IDX(e) ((void)(e), false)
#else
#define HAS_EVENT_IDX(e) (e)
#endif

static int fault(struct al_vq *vq, uint8_t why)
{
	vq->fault = why;
	return AL_EBROKEN;
}

/* The ring size: a power of two we have shadows for. 0, or AL_EINIT /
 * AL_ENOMEM with vq->fault. */
static inline int check_num(struct al_vq *vq, uint32_t num, uint32_t nshadow)
{
	memset(vq, 0, sizeof(*vq));
	if (num == 0 || num > AL_VRING_MAX_NUM || (num & (num - 1)) != 0) {
		vq->fault = AL_F_VRING_NUM;
		return AL_EINIT;
	}
	/* After the geometry: a malformed num is a bad layout, whatever the
	 * storage; a valid one we cannot shadow is our shortage. */
	if (num > nshadow) {
		vq->fault = AL_F_SHADOWS;
		return AL_ENOMEM;
	}
	return 0;
}

/* Point `vq` at its three parts and reset its shadows. */
static inline void vq_init(struct al_vq *vq, uint8_t *desc, uint8_t *avail, uint8_t *used,
			   uint32_t num, uint32_t notifyid, struct al_desc_shadow *shadow)
{
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->shadow = shadow;
	vq->num = (uint16_t)num; /* 32768 fits: (uint16_t)(num - 1) is the mask */
	vq->notifyid = notifyid;
	vq->free_head = AL_DS_NONE;
	for (uint32_t i = 0; i < num; i++) {
		shadow[i].off = AL_OFF_NONE;
		shadow[i].len = 0;
		shadow[i].state = AL_DS_FREE;
		shadow[i].next = AL_DS_NONE;
		shadow[i].region = 0;
	}
}

int al_vq_setup(struct al_vq *vq, const struct al_mem *mem, al_da_t da, uint32_t num,
		uint32_t align, uint32_t notifyid, struct al_desc_shadow *shadow, uint32_t nshadow,
		bool zero)
{
	int rc = check_num(vq, num, nshadow);
	if (rc)
		return rc;
	if (align < 16 || align > 0x10000 || (align & (align - 1)) != 0 || (da & 15u) != 0) {
		vq->fault = AL_F_VRING_ALIGN;
		return AL_EINIT;
	}
	/* at most 16*32768 + 2*32771 + 65535 + 6 + 8*32768 bytes: fits 32 bits */
	uint32_t size = (uint32_t)vring_size(num, align);
	uint8_t region; /* rings may be in any region */
	uint8_t *base = al_mem_ptr(mem, da, size, &region);
	if (!base) {
		vq->fault = AL_F_VRING_OUTSIDE;
		return AL_EINIT;
	}
	if (zero)
		memset(base, 0, size);
	vq_init(vq, base, base + 16u * num, base + vring_used_offset(num, align), num, notifyid,
		shadow);
#if !AL_CFG_COHERENT
	vq->bytes = size;
#endif
	return 0;
}

#if !AL_CFG_RSC_TABLE_ONLY
int al_vq_setup_parts(struct al_vq *vq, const struct al_mem *mem, const al_da_t part[3],
		      uint32_t num, uint32_t notifyid, struct al_desc_shadow *shadow,
		      uint32_t nshadow)
{
	int rc = check_num(vq, num, nshadow);
	if (rc)
		return rc;
	/* VirtIO 1.x 2.7: descriptor table 16-aligned, avail ring 2, used 4 */
	const uint32_t size[3] = {16u * num, 6u + 2u * num, 6u + 8u * num};
	const uint32_t align[3] = {16, 2, 4};
	uint8_t *p[3];
	for (unsigned i = 0; i < 3; i++) {
		uint8_t region;
		if (part[i] & (align[i] - 1u)) {
			vq->fault = AL_F_VRING_ALIGN;
			return AL_EINIT;
		}
		p[i] = al_mem_ptr(mem, part[i], size[i], &region);
		if (!p[i]) {
			vq->fault = AL_F_VRING_OUTSIDE;
			return AL_EINIT;
		}
	}
	vq_init(vq, p[0], p[1], p[2], num, notifyid, shadow);
#if !AL_CFG_COHERENT
	vq->bytes = 0; /* parts anywhere: the port's cache hooks see each access */
#endif
	return 0;
}
#endif

static inline uint16_t mask(const struct al_vq *vq)
{
	return (uint16_t)(vq->num - 1u);
}

void al_vq_post_entry(struct al_vq *vq, const struct al_mem *mem, uint16_t id, uint32_t len,
		      bool device_writes)
{
	struct al_desc_shadow *s = &vq->shadow[id];
	uint8_t *d = vq->desc + AL_VRING_DESC_SIZE * id;
	uint64_t addr = mem->r[AL_REGION(s->region)].da + s->off;
	uint16_t flags = device_writes ? VRING_DESC_F_WRITE : 0;
	/* Store only what differs (a re-posted buffer's descriptor, a ring
	 * slot that held this id a lap ago): a line we do not write stays in
	 * the device's cache. The read decides nothing else: the device gets
	 * exactly these values either way. */
	if (al_rd64(d) != addr)
		al_wr64(d, addr);
	if (al_rd32(d + 8) != len)
		al_wr32(d + 8, len);
	if (al_rd16(d + 12) != flags)
		al_wr16(d + 12, flags);
	if (al_rd16(d + 14) != 0)
		al_wr16(d + 14, 0);
	s->state = AL_DS_POSTED;
	uint8_t *slot = AVAIL_RING(vq, vq->pub_idx & mask(vq));
	if (al_rd16(slot) != id)
		al_wr16(slot, id);
	vq->pub_idx++;
}

void al_vq_publish(struct al_vq *vq, bool driver)
{
	driver = ROLE_DRIVER(driver);
	/* Release: the descriptors and ring entries are visible before the index. */
	al_wr16_release(driver ? vq->avail + AL_VRING_AVAIL_IDX : vq->used + AL_VRING_USED_IDX,
			vq->pub_idx);
}

/* How many entries the peer has published past last_idx: the cached count
 * while it lasts, else one acquire read of its index (a line the peer
 * writes: not read again while entries we already know of remain, so a
 * busy producer's line stays in its cache). 0..num, or -1 if the index
 * claims more than the ring holds. */
static inline int peer_ready(struct al_vq *vq, const uint8_t *idxp)
{
	if (vq->ahead)
		return vq->ahead;
	uint16_t ready = (uint16_t)(al_rd16_acquire(idxp) - vq->last_idx);
	if (ready > vq->num)
		return -1;
	vq->ahead = ready;
	return ready;
}

int al_vq_get_used(struct al_vq *vq, uint16_t *id, uint32_t *len)
{
	int ready = peer_ready(vq, vq->used + AL_VRING_USED_IDX);
	if (ready == 0)
		return 0;
	if (ready < 0)
		return fault(vq, AL_F_USED_IDX);
	const uint8_t *e = USED_ELEM(vq, vq->last_idx & mask(vq));
	uint32_t uid = al_rd32(e);
	uint32_t ulen = al_rd32(e + 4);
	if (uid >= vq->num)
		return fault(vq, AL_F_USED_ID);
	struct al_desc_shadow *s = &vq->shadow[uid];
	if (s->state != AL_DS_POSTED)
		return fault(vq, AL_F_USED_NOT_OWNED);
	if (ulen > s->len)
		return fault(vq, AL_F_USED_LEN);
	s->state = AL_DS_BUSY;
	vq->last_idx++;
	vq->ahead--;
	*id = (uint16_t)uid;
	*len = ulen;
	return 1;
}

int al_vq_get_avail(struct al_vq *vq, const struct al_mem *mem, uint16_t *id)
{
	int ready = peer_ready(vq, vq->avail + AL_VRING_AVAIL_IDX);
	if (ready == 0)
		return 0;
	if (ready < 0)
		return fault(vq, AL_F_AVAIL_IDX);
	uint16_t head = al_rd16(AVAIL_RING(vq, vq->last_idx & mask(vq)));
	if (head >= vq->num)
		return fault(vq, AL_F_AVAIL_ID);
	struct al_desc_shadow *s = &vq->shadow[head];
	if (s->state != AL_DS_FREE)
		return fault(vq, AL_F_DESC_REOFFERED);
	const uint8_t *d = vq->desc + AL_VRING_DESC_SIZE * head;
#if AL_CFG_DA32
	/* the upper half read once too: non-zero is outside a region below 4 GiB */
	uint32_t addr = al_rd32(d), addr_hi = al_rd32(d + 4);
#else
	uint64_t addr = al_rd64(d);
	const uint32_t addr_hi = 0;
#endif
	uint32_t dlen = al_rd32(d + 8);
	uint16_t flags = al_rd16(d + 12);
	if (flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT))
		return fault(vq, AL_F_DESC_CHAINED);
	if (dlen < 16u || dlen > AL_BUF_SIZE_MAX)
		return fault(vq, AL_F_DESC_LEN);
	uint8_t region = 0;
	uint8_t *va = addr_hi ? NULL : al_mem_ptr(mem, addr, dlen, &region);
	if (!va)
		return fault(vq, AL_F_DESC_ADDR);
	s->off = (uint32_t)(va - (uint8_t *)mem->r[region].va);
	s->region = region;
	s->len = dlen;
	s->state = AL_DS_BUSY;
	vq->last_idx++;
	vq->ahead--;
	*id = head;
	return 1;
}

#if AL_PREFETCH && !AL_CFG_SMALL_CODE
const void *al_vq_next_buf(const struct al_vq *vq, const struct al_mem *mem, bool driver)
{
	if (vq->ahead == 0)
		return NULL;
	uint16_t slot = vq->last_idx & mask(vq);
	uint32_t id =
	    ROLE_DRIVER(driver) ? al_rd32(USED_ELEM(vq, slot)) : al_rd16(AVAIL_RING(vq, slot));
	if (id >= vq->num || vq->shadow[id].off == AL_OFF_NONE)
		return NULL;
	return (const uint8_t *)mem->r[AL_REGION(vq->shadow[id].region)].va + vq->shadow[id].off;
}
#endif

void al_vq_put_entry(struct al_vq *vq, uint16_t id, uint32_t len)
{
	uint8_t *e = USED_ELEM(vq, vq->pub_idx & mask(vq));
	if (al_rd32(e) != id) /* as in al_vq_post: store only what differs */
		al_wr32(e, id);
	if (al_rd32(e + 4) != len)
		al_wr32(e + 4, len);
	vq->shadow[id].state = AL_DS_FREE;
	vq->pub_idx++;
}

bool al_vq_need_kick(struct al_vq *vq, bool driver, bool event_idx)
{
	driver = ROLE_DRIVER(driver);
	event_idx = HAS_EVENT_IDX(event_idx);
	uint16_t old = vq->kicked_idx, now = vq->pub_idx;
	vq->kicked_idx = now;
	if (old == now)
		return false;
	al_mb(); /* our index store before the peer's event/flags load */
	if (event_idx)
		return vring_need_event(al_rd16(driver ? AVAIL_EVENT(vq) : USED_EVENT(vq)), now,
					old);
	if (driver)
		return !(al_rd16(vq->used + AL_VRING_USED_FLAGS) & VRING_USED_F_NO_NOTIFY);
	return !(al_rd16(vq->avail + AL_VRING_AVAIL_FLAGS) & VRING_AVAIL_F_NO_INTERRUPT);
}

bool al_vq_pending(const struct al_vq *vq, bool driver)
{
	driver = ROLE_DRIVER(driver);
	const uint8_t *idxp =
	    driver ? vq->used + AL_VRING_USED_IDX : vq->avail + AL_VRING_AVAIL_IDX;
	return al_rd16_acquire(idxp) != vq->last_idx;
}

/* The driver's knobs sit in the avail ring (flags, used_event); the
 * device's in the used ring (flags, avail_event). */
bool al_vq_notify_enable(struct al_vq *vq, bool driver, bool event_idx)
{
	return al_vq_notify_enable_after(vq, driver, event_idx, 0);
}

bool al_vq_notify_enable_after(struct al_vq *vq, bool driver, bool event_idx, uint16_t skip)
{
	driver = ROLE_DRIVER(driver);
	event_idx = HAS_EVENT_IDX(event_idx);
	if (event_idx)
		al_wr16(driver ? USED_EVENT(vq) : AVAIL_EVENT(vq), (uint16_t)(vq->last_idx + skip));
	else
		al_wr16(driver ? vq->avail + AL_VRING_AVAIL_FLAGS : vq->used + AL_VRING_USED_FLAGS,
			0);
	al_mb(); /* publish the request before re-checking the ring */
	return al_vq_pending(vq, driver);
}

void al_vq_notify_disable(struct al_vq *vq, bool driver, bool event_idx)
{
	driver = ROLE_DRIVER(driver);
	event_idx = HAS_EVENT_IDX(event_idx);
	if (event_idx)
		al_wr16(driver ? USED_EVENT(vq) : AVAIL_EVENT(vq),
			(uint16_t)(vq->last_idx + 0x8000u));
	else
		al_wr16(driver ? vq->avail + AL_VRING_AVAIL_FLAGS : vq->used + AL_VRING_USED_FLAGS,
			driver ? VRING_AVAIL_F_NO_INTERRUPT : VRING_USED_F_NO_NOTIFY);
}
