/* Split virtqueue operations for both roles, over a ring in shared memory.
 *
 * Driver side: post buffers (al_vq_post) and take them back from the used
 * ring (al_vq_get_used). Device side: take buffers from the avail ring
 * (al_vq_get_avail) and return them (al_vq_put_used). Each side's private
 * descriptor shadows say which descriptors it may see next; anything the
 * peer writes that contradicts them is a fault: the call returns AL_EBROKEN
 * and leaves a sentence in vq->fault. Callers serialise access per ring.
 */
#ifndef AL_VIRTQUEUE_H
#define AL_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/port.h"
#include "amplink/rpmsg_virtio.h"
#include "shm_access.h"

/* Shadow states. */
enum {
	AL_DS_FREE = 0, /* ours, idle (driver: not posted; device: not taken) */
	AL_DS_POSTED,	/* driver: on the avail ring, owned by the device */
	AL_DS_BUSY,	/* ours, being processed (taken from the peer) */
	AL_DS_HELD,	/* ours, a received buffer the application holds */
	AL_DS_RESERVED, /* ours, a transmit buffer the application fills */
	AL_DS_SPARE,	/* ours, idle, on our free list */
};
#define AL_DS_NONE  0xFFFFu	/* end of the free list */
#define AL_OFF_NONE 0xFFFFFFFFu /* driver tx descriptor without a buffer yet */

/** Check a ring's geometry and point `vq` at it, with the `nshadow`
 *  shadows at `shadow` (num must not exceed it). `zero` clears the ring
 *  (driver at link-up). Returns 0, AL_EINIT (bad geometry) or AL_ENOMEM
 *  (too few shadows), with vq->fault set. */
int al_vq_setup(struct al_vq *vq, const struct al_mem *mem, al_da_t da, uint32_t num,
		uint32_t align, uint32_t notifyid, struct al_desc_shadow *shadow, uint32_t nshadow,
		bool zero);

/** As al_vq_setup() for a ring whose three parts the driver placed
 *  anywhere (a vhost-user front-end, a VirtIO 1.x transport): `part` holds
 *  the device addresses of the descriptor table, the avail ring and the
 *  used ring; each must be aligned as VirtIO requires (16, 2, 4) and lie
 *  wholly inside one of the regions. Not zeroed: the driver owns them.
 *  Not in a build with AL_CFG_RSC_TABLE_ONLY. */
int al_vq_setup_parts(struct al_vq *vq, const struct al_mem *mem, const al_da_t part[3],
		      uint32_t num, uint32_t notifyid, struct al_desc_shadow *shadow,
		      uint32_t nshadow);

/* ---- publishing ----
 * Entries are written first (al_vq_post_entry, al_vq_put_entry) and made
 * visible to the peer by al_vq_publish(), which stores our ring index once
 * (store-release) for everything written since: a receiver that returns a
 * burst of buffers updates the index, a line the peer reads, once per
 * burst. al_vq_post() and al_vq_put_used() do both for one entry. Decide
 * about a doorbell (al_vq_need_kick) only after publishing. */
/** Our ring index (driver: avail idx; device: used idx) := pub_idx. */
void al_vq_publish(struct al_vq *vq, bool driver);

/* ---- driver ---- */
/** Write descriptor `id` (buffer at shadow[id].off) with `len` bytes and
 *  its avail slot; not visible until al_vq_publish(). */
void al_vq_post_entry(struct al_vq *vq, const struct al_mem *mem, uint16_t id, uint32_t len,
		      bool device_writes);
/** Post and publish descriptor `id`. */
static inline void al_vq_post(struct al_vq *vq, const struct al_mem *mem, uint16_t id, uint32_t len,
			      bool device_writes)
{
	al_vq_post_entry(vq, mem, id, len, device_writes);
	al_vq_publish(vq, true);
}
/** Take the next used entry: 1 (with *id, *len), 0 if none, AL_EBROKEN.
 *  Reads the device's index only when the entries known from its last
 *  read are consumed. */
int al_vq_get_used(struct al_vq *vq, uint16_t *id, uint32_t *len);

/* ---- device ---- */
/** Take the next avail entry: 1 (with *id), 0 if none, AL_EBROKEN. Reads
 *  the driver's index only when the entries known from its last read are
 *  consumed. */
int al_vq_get_avail(struct al_vq *vq, const struct al_mem *mem, uint16_t *id);
/** Write used entry (id, len); not visible until al_vq_publish(). */
void al_vq_put_entry(struct al_vq *vq, uint16_t id, uint32_t len);
/** Return and publish used entry (id, len). */
static inline void al_vq_put_used(struct al_vq *vq, uint16_t id, uint32_t len)
{
	al_vq_put_entry(vq, id, len);
	al_vq_publish(vq, false);
}

#if AL_PREFETCH && !AL_CFG_SMALL_CODE
/** The local address of the buffer the peer's next published entry names
 *  (driver: used ring; device: avail ring), by our own shadow of that
 *  descriptor, or NULL when the peer has published nothing more or the
 *  descriptor has no buffer yet. A prefetch hint only: the entry is read
 *  again and checked when it is taken, and a lying peer can at most make
 *  us prefetch another of our own buffers. */
const void *al_vq_next_buf(const struct al_vq *vq, const struct al_mem *mem, bool driver);
#endif

/** Put back the entry just taken (id, by al_vq_get_used/al_vq_get_avail,
 *  nothing taken since): the next take returns it again, read and checked
 *  anew. */
static inline void al_vq_untake(struct al_vq *vq, uint16_t id, bool driver)
{
	vq->shadow[id].state = driver ? AL_DS_POSTED : AL_DS_FREE;
	vq->last_idx--;
	vq->ahead++;
}

/* ---- notifications ---- */
/** After publishing: must the peer be told? (flags or event index). */
bool al_vq_need_kick(struct al_vq *vq, bool driver, bool event_idx);
/** Ask (enable) or stop asking (disable) the peer to notify us about this
 *  ring. enable returns true if entries are already pending (recheck). */
bool al_vq_notify_enable(struct al_vq *vq, bool driver, bool event_idx);
void al_vq_notify_disable(struct al_vq *vq, bool driver, bool event_idx);
/** As al_vq_notify_enable, but with the event index, ask to be told only
 *  after `skip` more entries (batches completions; flags cannot delay). */
bool al_vq_notify_enable_after(struct al_vq *vq, bool driver, bool event_idx, uint16_t skip);
/** Peer-produced entries waiting? (driver: used ring; device: avail). */
bool al_vq_pending(const struct al_vq *vq, bool driver);

#endif
