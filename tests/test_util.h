/* Shared helpers for the core unit tests: a canaried loopback link, ring accessors, recorders. */
#ifndef AMPLINK_TEST_UTIL_H
#define AMPLINK_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/port_loopback.h"
#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/rsc_table.h"
#include "amplink/virtio_ring.h"

/* ---- a loopback link whose shared region sits between two canaries ------ */

#define TU_CANARY   256u
#define TU_SHM_SIZE (64u * 1024u)
#define TU_DRV	    0
#define TU_DEV	    1

/* What the error callback saw, per side. */
struct tu_err {
	int calls;
	int err;
	const char *why;
};

/* `lb` must stay the first member: port callbacks find the link from it. */
struct tu_link {
	struct al_loopback lb;
	int lock_depth[2];  /* per side, from the checking lock hooks */
	int max_lock_depth; /* deepest nesting seen (1 = never recursive) */
	int lock_calls;
	struct tu_err errs[2];
	int wakes[2]; /* wake hook calls, per side */
	/* optional test hooks: run when a side takes its lock (after), and
	 * instead of the loopback's wait */
	void (*on_lock)(struct tu_link *t, int side);
	void (*on_wait)(struct tu_link *t, int side, uint32_t timeout_ms);
	_Alignas(64) uint8_t mem[TU_CANARY + TU_SHM_SIZE + TU_CANARY];
};

static inline uint8_t tu_canary_byte(size_t i)
{
	return (uint8_t)(0xA5u ^ (i * 7u));
}

static inline struct tu_link *tu_of_side(void *ctx)
{
	struct al_loopback_side *s = ctx;
	return (struct tu_link *)(void *)s->lb;
}

static inline int tu_side_index(void *ctx)
{
	struct al_loopback_side *s = ctx;
	return s == &s->lb->drv ? TU_DRV : TU_DEV;
}

/* Port hooks: the loopback's own, plus a lock that checks it is never taken
 * twice and a wait that checks it is called without the lock. */
static inline void tu_lock(void *ctx)
{
	struct tu_link *t = tu_of_side(ctx);
	int d = ++t->lock_depth[tu_side_index(ctx)];
	t->lock_calls++;
	if (d > t->max_lock_depth)
		t->max_lock_depth = d;
	if (t->on_lock)
		t->on_lock(t, tu_side_index(ctx));
}

static inline void tu_unlock(void *ctx)
{
	struct tu_link *t = tu_of_side(ctx);
	t->lock_depth[tu_side_index(ctx)]--;
}

static inline void tu_notify(void *ctx, uint32_t notifyid)
{
	al_loopback_ops.notify(ctx, notifyid);
}

static inline uint64_t tu_time(void *ctx)
{
	return al_loopback_ops.time_ms(ctx);
}

static inline void tu_wait(void *ctx, uint32_t timeout_ms)
{
	struct tu_link *t = tu_of_side(ctx);
	assert_int_equal(t->lock_depth[tu_side_index(ctx)], 0);
	if (t->on_wait)
		t->on_wait(t, tu_side_index(ctx), timeout_ms);
	else
		al_loopback_ops.wait(ctx, timeout_ms);
}

static inline void tu_wake(void *ctx)
{
	tu_of_side(ctx)->wakes[tu_side_index(ctx)]++;
}

static inline const struct al_port_ops *tu_ops(void)
{
	static const struct al_port_ops ops = {
	    .notify = tu_notify,
	    .lock = tu_lock,
	    .unlock = tu_unlock,
	    .time_ms = tu_time,
	    .wait = tu_wait,
	    .wake = tu_wake,
	};
	return &ops;
}

static inline void tu_error_cb(struct rpmsg_virtio_device *rvdev, int err, const char *why)
{
	struct al_loopback_side *s = (struct al_loopback_side *)(void *)rvdev; /* first member */
	struct tu_link *t = tu_of_side(s);
	struct tu_err *e = &t->errs[tu_side_index(s)];
	assert_int_equal(t->lock_depth[tu_side_index(s)], 0); /* never under the lock */
	e->calls++;
	e->err = err;
	e->why = why;
}

static inline struct al_shm *tu_shm(struct tu_link *t)
{
	return &t->lb.shm;
}

static inline struct rpmsg_virtio_device *tu_rv(struct tu_link *t, int side)
{
	return side == TU_DRV ? &t->lb.drv.rvdev : &t->lb.dev.rvdev;
}

static inline struct rpmsg_device *tu_rdev(struct tu_link *t, int side)
{
	return rpmsg_virtio_get_rpmsg_device(tu_rv(t, side));
}

static inline struct al_loopback_side *tu_side(struct tu_link *t, int side)
{
	return side == TU_DRV ? &t->lb.drv : &t->lb.dev;
}

/** Lay out the link over `size` bytes at `region` (cfg NULL: loopback
 *  defaults), fill the canaries and install the checking port hooks,
 *  without starting either side. */
static inline void tu_init_region(struct tu_link *t, void *region, size_t size,
				  const struct al_layout_cfg *cfg)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < TU_CANARY; i++) {
		t->mem[i] = tu_canary_byte(i);
		t->mem[TU_CANARY + TU_SHM_SIZE + i] = tu_canary_byte(i + 1000u);
	}
	assert_int_equal(al_loopback_init(&t->lb, region ? region : t->mem + TU_CANARY,
					  region ? size : TU_SHM_SIZE, cfg),
			 0);
	t->lb.drv.vdev.ops = tu_ops();
	t->lb.dev.vdev.ops = tu_ops();
}

/** The same over the canaried region inside `t`. */
static inline void tu_init(struct tu_link *t, const struct al_layout_cfg *cfg)
{
	tu_init_region(t, NULL, 0, cfg);
}

static inline void tu_set_error_cbs(struct tu_link *t)
{
	al_virtio_set_error_cb(&t->lb.drv.rvdev, tu_error_cb);
	al_virtio_set_error_cb(&t->lb.dev.rvdev, tu_error_cb);
}

/** tu_init, then start both sides (device first) and install the error
 *  callbacks; the device's link is still down (it comes up at the next
 *  pump). */
static inline void tu_start(struct tu_link *t, const struct al_layout_cfg *cfg,
			    rpmsg_ns_bind_cb drv_bind, rpmsg_ns_bind_cb dev_bind)
{
	tu_init(t, cfg);
	assert_int_equal(al_loopback_start(&t->lb, drv_bind, dev_bind), 0);
	tu_set_error_cbs(t);
}

/** Start both sides (device first) with buffers of the layout's buf_size
 *  both ways (al_loopback_start always uses 512), install the error
 *  callbacks. Returns the first init error. */
static inline int tu_start_sized(struct tu_link *t, rpmsg_ns_bind_cb drv_bind,
				 rpmsg_ns_bind_cb dev_bind)
{
	struct al_loopback *lb = &t->lb;
	struct rpmsg_virtio_config c = {lb->cfg.buf_size, lb->cfg.buf_size, false};
	int rc = rpmsg_init_vdev_with_config(&lb->dev.rvdev, &lb->dev.vdev, dev_bind, &lb->shm,
					     NULL, &c);
	if (rc == 0)
		rc = rpmsg_init_vdev_with_config(&lb->drv.rvdev, &lb->drv.vdev, drv_bind, &lb->shm,
						 &lb->pool, &c);
	tu_set_error_cbs(t);
	return rc;
}

static inline int tu_pump(struct tu_link *t)
{
	return al_loopback_pump(&t->lb, 0);
}

/** tu_start and one pump: both links up. */
static inline void tu_up(struct tu_link *t, const struct al_layout_cfg *cfg,
			 rpmsg_ns_bind_cb drv_bind, rpmsg_ns_bind_cb dev_bind)
{
	tu_start(t, cfg, drv_bind, dev_bind);
	assert_true(tu_pump(t) >= 0);
	assert_int_equal(al_virtio_link_state(&t->lb.drv.rvdev), AL_LINK_UP);
	assert_int_equal(al_virtio_link_state(&t->lb.dev.rvdev), AL_LINK_UP);
}

static inline bool tu_canaries_ok(const struct tu_link *t)
{
	for (size_t i = 0; i < TU_CANARY; i++)
		if (t->mem[i] != tu_canary_byte(i) ||
		    t->mem[TU_CANARY + TU_SHM_SIZE + i] != tu_canary_byte(i + 1000u))
			return false;
	return true;
}

/** Canaries intact and no lock left held or ever taken twice. */
static inline void tu_check(const struct tu_link *t)
{
	assert_true(tu_canaries_ok(t));
	assert_int_equal(t->lock_depth[TU_DRV], 0);
	assert_int_equal(t->lock_depth[TU_DEV], 0);
	assert_true(t->max_lock_depth <= 1);
}

/* Layout configurations. */
#define TU_F_NS	   (1u << VIRTIO_RPMSG_F_NS)
#define TU_F_EVIDX (1u << VIRTIO_RING_F_EVENT_IDX)

static inline struct al_layout_cfg tu_cfg(uint32_t num, uint32_t buf_size, uint32_t features)
{
	struct al_layout_cfg c = {num, 16, buf_size, features};
	return c;
}

/* ---- little-endian access to shared memory (what a hostile peer writes) -- */

static inline uint16_t tu_rd16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t tu_rd32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
	       ((uint32_t)b[3] << 24);
}
static inline uint64_t tu_rd64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)tu_rd32(b) | ((uint64_t)tu_rd32(b + 4) << 32);
}
static inline void tu_wr16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}
static inline void tu_wr32(void *p, uint32_t v)
{
	uint8_t *b = p;
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}
static inline void tu_wr64(void *p, uint64_t v)
{
	uint8_t *b = p;
	tu_wr32(b, (uint32_t)v);
	tu_wr32(b + 4, (uint32_t)(v >> 32));
}

/* ---- the two vrings ------------------------------------------------------ */

static inline uint32_t tu_num(const struct tu_link *t)
{
	return t->lb.cfg.num;
}

static inline uint8_t *tu_ring(struct tu_link *t, int ring)
{
	uint8_t *p = al_shm_da_to_va(&t->lb.shm, t->lb.layout.vring_da[ring],
				     vring_size(t->lb.cfg.num, t->lb.cfg.align));
	assert_non_null(p);
	return p;
}
static inline uint8_t *tu_desc(struct tu_link *t, int ring, uint32_t id)
{
	return tu_ring(t, ring) + AL_VRING_DESC_SIZE * id;
}
static inline uint8_t *tu_avail(struct tu_link *t, int ring)
{
	return tu_ring(t, ring) + AL_VRING_DESC_SIZE * tu_num(t);
}
static inline uint8_t *tu_used(struct tu_link *t, int ring)
{
	return tu_ring(t, ring) + vring_used_offset(tu_num(t), t->lb.cfg.align);
}
static inline uint16_t tu_avail_idx(struct tu_link *t, int ring)
{
	return tu_rd16(tu_avail(t, ring) + AL_VRING_AVAIL_IDX);
}
static inline uint16_t tu_used_idx(struct tu_link *t, int ring)
{
	return tu_rd16(tu_used(t, ring) + AL_VRING_USED_IDX);
}
static inline uint8_t *tu_avail_slot(struct tu_link *t, int ring, uint16_t idx)
{
	return tu_avail(t, ring) + AL_VRING_AVAIL_RING + 2u * (idx & (tu_num(t) - 1u));
}
static inline uint8_t *tu_used_slot(struct tu_link *t, int ring, uint16_t idx)
{
	return tu_used(t, ring) + AL_VRING_USED_RING +
	       AL_VRING_USED_ELEM_SIZE * (idx & (tu_num(t) - 1u));
}

/** A hostile device returns {id, len} on `ring`'s used ring. */
static inline void tu_inject_used(struct tu_link *t, int ring, uint32_t id, uint32_t len)
{
	uint16_t idx = tu_used_idx(t, ring);
	uint8_t *e = tu_used_slot(t, ring, idx);
	tu_wr32(e, id);
	tu_wr32(e + 4, len);
	tu_wr16(tu_used(t, ring) + AL_VRING_USED_IDX, (uint16_t)(idx + 1u));
}

/** A hostile driver offers descriptor `id` on `ring`'s avail ring. */
static inline void tu_inject_avail(struct tu_link *t, int ring, uint16_t id)
{
	uint16_t idx = tu_avail_idx(t, ring);
	tu_wr16(tu_avail_slot(t, ring, idx), id);
	tu_wr16(tu_avail(t, ring) + AL_VRING_AVAIL_IDX, (uint16_t)(idx + 1u));
}

/* ---- endpoints that record what they receive ----------------------------- */

#define TU_REC_MAX 1024u

struct tu_rec {
	int n;
	uint32_t src;
	size_t len;
	void *ptr;
	uint32_t sum; /* tu_sum() of the whole payload */
	uint8_t data[TU_REC_MAX];
	/* hold the next buffer(s) received: rpmsg_hold_rx_buffer result */
	int hold;
	int hold_rc;
	/* echo every payload back to its sender with trysend */
	bool echo;
	int echo_rc;
	/* count the messages equal to want[0..want_len) */
	const void *want;
	size_t want_len;
	int matched;
};

/** FNV-1a of a byte string. */
static inline uint32_t tu_sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/** Is [p, p+len) inside the endpoint's shared region? */
static inline bool tu_in_region(struct rpmsg_endpoint *ept, const void *p, size_t len)
{
	struct rpmsg_virtio_device *rv = al_virtio_from_rdev(ept->rdev);
	const uint8_t *b = rv->mem.r[0].va;
	const uint8_t *q = p;
	return q >= b && (size_t)(q - b) <= rv->mem.r[0].size &&
	       len <= rv->mem.r[0].size - (size_t)(q - b);
}

/** Receive callback: checks what every callback may rely on (no lock held,
 *  payload inside the region and within the receive buffer size), records
 *  the message in the struct tu_rec at ept->priv, optionally holds or
 *  echoes it. */
static inline int tu_rx_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src,
			   void *priv)
{
	struct tu_rec *r = priv;
	struct rpmsg_virtio_device *rv = al_virtio_from_rdev(ept->rdev);
	struct tu_link *t = tu_of_side(rv);
	assert_int_equal(t->lock_depth[tu_side_index(rv)], 0);
	assert_true(tu_in_region(ept, data, len));
	assert_true(len <= (size_t)rpmsg_get_rx_buffer_size(ept));
	if (!r)
		return RPMSG_SUCCESS;
	r->n++;
	r->src = src;
	r->len = len;
	r->ptr = data;
	r->sum = tu_sum(data, len);
	memcpy(r->data, data, len < TU_REC_MAX ? len : TU_REC_MAX);
	if (r->want && len == r->want_len && memcmp(data, r->want, len) == 0)
		r->matched++;
	if (r->hold > 0) {
		r->hold--;
		r->hold_rc = al_rpmsg_hold_rx_buffer(ept, data);
	}
	if (r->echo)
		r->echo_rc = rpmsg_trysendto(ept, data, (int)len, src);
	return RPMSG_SUCCESS;
}

/** Create an endpoint with tu_rx_cb recording into `rec`. */
static inline int tu_ept(struct rpmsg_endpoint *ept, struct rpmsg_device *rdev, const char *name,
			 uint32_t src, uint32_t dest, struct tu_rec *rec)
{
	int rc = rpmsg_create_ept(ept, rdev, name, src, dest, tu_rx_cb, NULL);
	if (rc == 0)
		ept->priv = rec;
	return rc;
}

/** The other side of the link. */
static inline int tu_other(int side)
{
	return side == TU_DRV ? TU_DEV : TU_DRV;
}

/** tu_up (default layout) with one endpoint per side bound to the other:
 *  driver 0x400 <-> device 0x401, each recording into its tu_rec (zeroed). */
static inline void tu_up_pair(struct tu_link *t, struct rpmsg_endpoint ept[2], struct tu_rec rec[2])
{
	tu_up(t, NULL, NULL, NULL);
	memset(rec, 0, 2 * sizeof(*rec));
	assert_int_equal(tu_ept(&ept[TU_DRV], tu_rdev(t, TU_DRV), NULL, 0x400, 0x401, &rec[TU_DRV]),
			 0);
	assert_int_equal(tu_ept(&ept[TU_DEV], tu_rdev(t, TU_DEV), NULL, 0x401, 0x400, &rec[TU_DEV]),
			 0);
}

/* ---- a deterministic PRNG (xorshift64*) ---------------------------------- */

static inline uint64_t tu_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/** Fill `n` bytes with a pattern derived from `seed`. */
static inline void tu_pattern(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31u + i * 17u + (seed >> 8));
}

#endif
