/* Fuzz target: the rpmsg receive path (virtqueues both roles, rpmsg-virtio,
 * the bus, the name service, fragment reassembly) over a loopback link.
 *
 * The input is a small program. Its first two bytes choose the link (ring
 * size 1..64, alignment, buffer sizes per direction, features, whether
 * blocked senders run the peer, whether receive callbacks may scribble);
 * the rest is a list of operations: overwrite bytes of the shared region
 * (anywhere, or aimed at ring indices, avail slots, used elements,
 * descriptors, event fields, message headers, name-service messages and
 * fragment headers), send from either side (copy, zero-copy, fragmented,
 * blocking), deliver doorbells, hold and release buffers, create and
 * destroy named endpoints, restart a side, report the peer lost. Both
 * sides are ours, so every write plays a hostile driver and a hostile
 * device at once, interleaved with honest traffic.
 *
 * What must hold whatever the bytes: no access outside the region (it sits
 * between guard areas, poisoned under AddressSanitizer and canaried
 * otherwise), no hang, the lock never taken twice nor held across a
 * callback or a wait, callbacks only see payloads inside the region and no
 * larger than a receive buffer, every call returns one of its documented
 * codes, a broken link has a reason and is reported once.
 *
 * Built with libFuzzer by `make fuzz`, or with fuzz/replay_main.c into a
 * plain program that replays files (the fuzz_replay_link CTest).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "amplink/frag.h"
#include "amplink/port_loopback.h"
#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/rsc_table.h"
#include "amplink/virtio_ring.h"
#include "fuzz_common.h"

#define GUARD	   4096u
#define MAX_REGION (160u * 1024u)
#define NBOUND	   4
#define NHELD	   8
#define MAX_OPS	   300
#define FRAG_CAP   2048u

/* the region, then at least GUARD bytes of guard after it */
static _Alignas(64) uint8_t arena[GUARD + MAX_REGION + GUARD];
static struct al_loopback lb;
static size_t region_size;
static struct rpmsg_virtio_config link_cfg;
static bool poke_in_cb;
static struct fz_in *cur_in;

enum { DRV = 0, DEV = 1 };

struct side_state {
	struct rpmsg_endpoint plain; /* fixed address, bound to the peer's */
	struct rpmsg_endpoint chan;  /* named, announced */
	struct rpmsg_endpoint frag;  /* fragment reassembly */
	struct rpmsg_endpoint named; /* created and destroyed on demand */
	bool named_live;
	struct rpmsg_endpoint bound[NBOUND]; /* created by the ns_bind callback */
	int nbound;
	void *held[NHELD];
	int nheld;
	void *reserved[NHELD];
	uint32_t reserved_cap[NHELD];
	int nres;
	struct al_frag_rx frx;
	uint8_t fbuf[FRAG_CAP];
	struct al_frag_tx ftx;
	int lock_depth;
	int err_calls;
	bool broke_in_init; /* broke before the error callback was installed */
	bool hold_next, echo;
	uint32_t sink;
};
static struct side_state S[2];

static struct al_loopback_side *lside(int s)
{
	return s == DRV ? &lb.drv : &lb.dev;
}
static struct rpmsg_virtio_device *rv_of(int s)
{
	return &lside(s)->rvdev;
}
static int side_of_ctx(void *ctx)
{
	return ctx == (void *)&lb.drv ? DRV : DEV;
}
static int side_of_rdev(struct rpmsg_device *rdev)
{
	return rdev == &lb.drv.rvdev.rdev ? DRV : DEV;
}

static bool in_region(const void *p, size_t len)
{
	const uint8_t *b = lb.shm.va, *q = p;
	return q >= b && (size_t)(q - b) <= region_size && len <= region_size - (size_t)(q - b);
}

/* ---- port hooks: the loopback's, plus checks ------------------------------ */

static void fz_notify(void *ctx, uint32_t id)
{
	al_loopback_ops.notify(ctx, id);
}
static void fz_lock(void *ctx)
{
	struct side_state *s = &S[side_of_ctx(ctx)];
	FZ_CHECK(s->lock_depth == 0);
	s->lock_depth++;
}
static void fz_unlock(void *ctx)
{
	struct side_state *s = &S[side_of_ctx(ctx)];
	FZ_CHECK(s->lock_depth == 1);
	s->lock_depth--;
}
static uint64_t fz_time(void *ctx)
{
	return al_loopback_ops.time_ms(ctx);
}
static void fz_wait(void *ctx, uint32_t t)
{
	FZ_CHECK(S[side_of_ctx(ctx)].lock_depth == 0);
	al_loopback_ops.wait(ctx, t);
}
static void fz_wake(void *ctx)
{
	(void)ctx;
}
static const struct al_port_ops fz_ops = {
    .notify = fz_notify,
    .lock = fz_lock,
    .unlock = fz_unlock,
    .time_ms = fz_time,
    .wait = fz_wait,
    .wake = fz_wake,
};

static void fz_err(struct rpmsg_virtio_device *rv, int err, const char *why)
{
	(void)why;
	int s = rv == rv_of(DRV) ? DRV : DEV;
	FZ_CHECK(err == AL_EBROKEN);
	FZ_CHECK(S[s].lock_depth == 0);
	S[s].err_calls++;
}

/* ---- writes into the shared region (the hostile peer) --------------------- */

static uint8_t *ring_base(int r)
{
	return al_shm_da_to_va(&lb.shm, lb.layout.vring_da[r],
			       vring_size(lb.cfg.num, lb.cfg.align));
}

static uint64_t interesting(struct fz_in *in, unsigned width)
{
	const uint64_t num = lb.cfg.num;
	const uint64_t v[] = {0,
			      1,
			      num - 1,
			      num,
			      num + 1,
			      0x7FFF,
			      0x8000,
			      0xFFFF,
			      0xFFFFFFFFu,
			      lb.shm.da,
			      lb.shm.da + region_size,
			      lb.shm.da + region_size - 16,
			      lb.layout.pool_da,
			      lb.layout.vring_da[0],
			      lb.layout.vring_da[1],
			      lb.layout.rsc_da,
			      RPMSG_HDR_SIZE,
			      link_cfg.h2r_buf_size,
			      link_cfg.r2h_buf_size,
			      RPMSG_NS_EPT_ADDR,
			      0xFFFFFFFFFFFFFFF0ull};
	uint64_t x = v[fz_u8(in) % (sizeof(v) / sizeof(v[0]))];
	return width == 8 ? x : x & ((1ull << (8 * width)) - 1);
}

/* Write `width` bytes at p: a value from the input, the current value
 * moved a little or by the ring size, or an interesting constant. */
static void poke_value(struct fz_in *in, uint8_t *p, unsigned width)
{
	uint64_t cur = fz_rd(p, width), v;
	switch (fz_u8(in) & 3u) {
	case 0: v = width == 8 ? fz_u64(in) : width == 4 ? fz_u32(in) : fz_u16(in); break;
	case 1: v = cur + (uint64_t)(int64_t)(int8_t)fz_u8(in); break;
	case 2: v = cur + lb.cfg.num * (uint64_t)(int64_t)(int8_t)fz_u8(in); break;
	default: v = interesting(in, width); break;
	}
	fz_wr(p, v, width);
}

static void poke_ring(struct fz_in *in)
{
	const uint32_t num = lb.cfg.num;
	uint8_t sel = fz_u8(in);
	uint8_t *base = ring_base(sel & 1u);
	FZ_CHECK(base != NULL);
	uint8_t *avail = base + AL_VRING_DESC_SIZE * num;
	uint8_t *used = base + vring_used_offset(num, lb.cfg.align);
	uint32_t k = fz_u8(in) % num;
	uint8_t *p;
	unsigned w;
	switch ((sel >> 1) % 13u) {
	case 0: p = avail + AL_VRING_AVAIL_IDX, w = 2; break;
	case 1: p = avail + AL_VRING_AVAIL_RING + 2u * k, w = 2; break;
	case 2: p = avail + AL_VRING_AVAIL_FLAGS, w = 2; break;
	case 3: p = avail + AL_VRING_AVAIL_RING + 2u * num, w = 2; break; /* used_event */
	case 4: p = used + AL_VRING_USED_IDX, w = 2; break;
	case 5: p = used + AL_VRING_USED_RING + AL_VRING_USED_ELEM_SIZE * k, w = 4; break;
	case 6: p = used + AL_VRING_USED_RING + AL_VRING_USED_ELEM_SIZE * k + 4, w = 4; break;
	case 7: p = used + AL_VRING_USED_FLAGS, w = 2; break;
	case 8: p = used + AL_VRING_USED_RING + AL_VRING_USED_ELEM_SIZE * num, w = 2; break;
	case 9: p = base + AL_VRING_DESC_SIZE * k, w = 8; break;       /* addr */
	case 10: p = base + AL_VRING_DESC_SIZE * k + 8, w = 4; break;  /* len */
	case 11: p = base + AL_VRING_DESC_SIZE * k + 12, w = 2; break; /* flags */
	default: p = base + AL_VRING_DESC_SIZE * k + 14, w = 2; break; /* next */
	}
	poke_value(in, p, w);
}

/* A message header, a name-service message or a fragment header in one of
 * the pool's buffers (where descriptors normally point). */
static void poke_buffer(struct fz_in *in)
{
	size_t nbuf = lb.layout.pool_size / lb.cfg.buf_size;
	uint8_t *b = al_shm_da_to_va(&lb.shm, lb.layout.pool_da, lb.layout.pool_size);
	FZ_CHECK(b != NULL && nbuf > 0);
	b += (fz_u8(in) % nbuf) * lb.cfg.buf_size;
	uint8_t *pl = b + RPMSG_HDR_SIZE;
	size_t cap = lb.cfg.buf_size - RPMSG_HDR_SIZE;
	switch (fz_u8(in) % 9u) {
	case 0: poke_value(in, b, 4); break;	  /* src */
	case 1: poke_value(in, b + 4, 4); break;  /* dst */
	case 2: poke_value(in, b + 8, 4); break;  /* reserved: our id hint */
	case 3: poke_value(in, b + 12, 2); break; /* len */
	case 4: poke_value(in, b + 14, 2); break; /* flags */
	case 5: {				  /* a whole name-service message */
		fz_wr(b + 4, RPMSG_NS_EPT_ADDR, 4);
		fz_wr(b + 12, RPMSG_NS_MSG_SIZE, 2);
		uint8_t n = fz_u8(in) % 33u;
		for (unsigned i = 0; i < 32; i++)
			pl[i] = i < n ? (uint8_t)('a' + fz_u8(in) % 26u) : 0;
		fz_wr(pl + 32, fz_u32(in), 4);
		fz_wr(pl + 36, fz_u8(in) % 3u, 4);
		break;
	}
	case 6: pl[fz_u16(in) % cap] = fz_u8(in); break;
	case 7: { /* a fragment header */
		if (cap < AL_FRAG_HDR_SIZE)
			break;
		poke_value(in, pl, 4);
		poke_value(in, pl + 4, 4);
		poke_value(in, pl + 8, 2);
		pl[10] = fz_u8(in) & 3u;
		pl[11] = fz_u8(in) & 1u ? AL_FRAG_VERSION : fz_u8(in);
		break;
	}
	default: pl[0] = fz_u8(in); break;
	}
}

static void poke(struct fz_in *in)
{
	uint8_t *r = lb.shm.va;
	switch (fz_u8(in) % 4u) {
	case 0: r[fz_u32(in) % region_size] = fz_u8(in); break;
	case 1: { /* a run of input bytes anywhere */
		size_t off = fz_u32(in) % region_size, n = fz_u8(in) % 17u;
		for (size_t i = 0; i < n && off + i < region_size; i++)
			r[off + i] = fz_u8(in);
		break;
	}
	case 2: poke_ring(in); break;
	default: poke_buffer(in); break;
	}
}

/* ---- endpoints ------------------------------------------------------------ */

static bool send_rc_ok(int rc, int len, int s)
{
	if (rc == len || rc == AL_ENOBUFS || rc == AL_EBROKEN || rc == AL_ENOLINK)
		return true;
	return rc == AL_ESTATE && al_virtio_link_state(rv_of(s)) == AL_LINK_DOWN;
}

static int fz_rx(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	int s = side_of_rdev(ept->rdev);
	struct side_state *st = &S[s];
	FZ_CHECK(st->lock_depth == 0);
	FZ_CHECK(in_region(data, len));
	FZ_CHECK(len <= (size_t)rpmsg_get_rx_buffer_size(ept));
	const uint8_t *d = data;
	for (size_t i = 0; i < len; i++) /* every byte is readable */
		st->sink += d[i];
	if (priv == &st->frx) {
		long r = al_frag_rx_feed(&st->frx, data, len);
		FZ_CHECK(r == 0 || r == AL_EMSGSIZE || r == AL_EPROTO || (r > 0 && r <= FRAG_CAP));
		for (long i = 0; i < r; i++)
			st->sink += st->frx.buf[i];
	}
	if (st->hold_next && st->nheld < NHELD) {
		st->hold_next = false;
		FZ_CHECK(al_rpmsg_hold_rx_buffer(ept, data) == 0);
		st->held[st->nheld++] = data;
	}
	if (st->echo) {
		int rc = rpmsg_trysendto(ept, data, (int)len, src);
		/* a peer-chosen source of RPMSG_ADDR_ANY is a bad destination
		 * (AL_EINVAL, OpenAMP's RPMSG_ERR_PARAM) */
		FZ_CHECK(send_rc_ok(rc, (int)len, s) || rc == AL_EADDR || rc == AL_EMSGSIZE ||
			 (rc == AL_EINVAL && src == RPMSG_ADDR_ANY));
	}
	/* the peer writes while we drain the ring */
	if (poke_in_cb && cur_in && fz_u8(cur_in) < 48)
		poke(cur_in);
	return RPMSG_SUCCESS;
}

static void fz_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	int s = side_of_rdev(rdev);
	FZ_CHECK(name && memchr(name, '\0', RPMSG_NAME_SIZE) != NULL && name[0]);
	FZ_CHECK(dest != RPMSG_ADDR_ANY);
	FZ_CHECK(S[s].lock_depth == 0);
	if (S[s].nbound < NBOUND && rpmsg_create_ept(&S[s].bound[S[s].nbound], rdev, name,
						     RPMSG_ADDR_ANY, dest, fz_rx, NULL) == 0)
		S[s].nbound++;
}

/* (Re)start one side with fresh endpoints. */
static void start_side(int s)
{
	struct side_state *st = &S[s];
	struct al_loopback_side *ls = lside(s);
	memset(st, 0, sizeof(*st));
	ls->vdev.ops = &fz_ops;
	if (s == DRV)
		rpmsg_virtio_init_shm_pool(
		    &lb.pool, al_shm_da_to_va(&lb.shm, lb.layout.pool_da, lb.layout.pool_size),
		    lb.layout.pool_size);
	int rc = rpmsg_init_vdev_with_config(&ls->rvdev, &ls->vdev, fz_bind, &lb.shm,
					     s == DRV ? &lb.pool : NULL, &link_cfg);
	FZ_CHECK(rc == 0 || rc == AL_EINIT || rc == AL_ENOMEM);
	st->broke_in_init = al_virtio_link_state(&ls->rvdev) == AL_LINK_BROKEN;
	al_virtio_set_error_cb(&ls->rvdev, fz_err);
	struct rpmsg_device *rd = &ls->rvdev.rdev;
	al_set_send_timeout(rd, 20);
	uint32_t me = 0x700u + (uint32_t)s, peer = 0x701u - (uint32_t)s;
	FZ_CHECK(rpmsg_create_ept(&st->plain, rd, NULL, me, peer, fz_rx, NULL) == 0);
	al_frag_rx_init(&st->frx, st->fbuf, sizeof(st->fbuf));
	FZ_CHECK(rpmsg_create_ept(&st->frag, rd, NULL, me + 0x100u, peer + 0x100u, fz_rx, NULL) ==
		 0);
	st->frag.priv = &st->frx;
	(void)rpmsg_create_ept(&st->chan, rd, "fz-chan", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, fz_rx,
			       NULL);
}

/* ---- invariants ------------------------------------------------------------ */

#define CANARY 0xA5
static uint8_t canary_ref[GUARD]; /* GUARD bytes of CANARY, for memcmp */

static void check_all(void)
{
	for (int s = 0; s < 2; s++) {
		struct rpmsg_virtio_device *rv = rv_of(s);
		FZ_CHECK(S[s].lock_depth == 0);
		int st = al_virtio_link_state(rv);
		FZ_CHECK(st >= AL_LINK_DOWN && st <= AL_LINK_LOST);
		if (st == AL_LINK_BROKEN) {
			FZ_CHECK(al_virtio_broken_reason(rv) != NULL);
			FZ_CHECK(S[s].err_calls == (S[s].broke_in_init ? 0 : 1));
		} else {
			FZ_CHECK(S[s].err_calls == 0);
		}
		int n = al_virtio_free_tx_buffers(rv);
		/* (the ring size a side uses is what the table said when it
		 * started: table pokes and a restart can change it) */
		FZ_CHECK(st == AL_LINK_UP ? n >= 0 && n <= (int)rv->svq.num : n < 0);
	}
#ifndef FZ_ASAN /* under ASan the guards are poisoned: touching them is the check */
	FZ_CHECK(memcmp(arena, canary_ref, GUARD) == 0);
	FZ_CHECK(memcmp(arena + GUARD + region_size, canary_ref, GUARD) == 0);
#endif
}

/* ---- operations ------------------------------------------------------------ */

static struct rpmsg_endpoint *pick_ept(int s, uint8_t b)
{
	struct side_state *st = &S[s];
	switch (b % 4u) {
	case 0: return &st->plain;
	case 1: return &st->chan;
	case 2: return st->nbound ? &st->bound[b / 4u % (unsigned)st->nbound] : &st->plain;
	default: return &st->frag;
	}
}

static void op_send(struct fz_in *in, int s, bool blocking)
{
	struct rpmsg_endpoint *e = pick_ept(s, fz_u8(in));
	if (!e->rdev)
		return;
	static uint8_t msg[1024];
	int cap = rpmsg_get_tx_buffer_size(e);
	FZ_CHECK(cap > 0 && cap <= (int)sizeof(msg));
	int len = (int)(fz_u16(in) % (uint32_t)(cap + 1));
	memset(msg, fz_u8(in), (size_t)len);
	uint32_t dst = e->dest_addr;
	if (dst == RPMSG_ADDR_ANY)
		dst = 0x701u - (uint32_t)s;
	lb.pump_in_wait = fz_u8(in) & 1u;
	int rc = blocking ? al_send_timeout(e, e->addr, dst, msg, len, fz_u8(in) % 40u)
			  : rpmsg_trysendto(e, msg, len, dst);
	FZ_CHECK(send_rc_ok(rc, len, s));
}

static void op_zerocopy(struct fz_in *in, int s)
{
	struct side_state *st = &S[s];
	struct rpmsg_endpoint *e = &st->plain;
	if (!e->rdev)
		return;
	uint8_t b = fz_u8(in);
	if ((b & 3u) == 0 || st->nres == 0) { /* reserve */
		if (st->nres == NHELD)
			return;
		uint32_t cap = 0;
		int err = 0;
		uint8_t *p = al_get_tx_buffer_timeout(e, &cap, 0, &err);
		if (!p) {
			FZ_CHECK(err == AL_ENOBUFS || err == AL_EBROKEN || err == AL_ENOLINK ||
				 err == AL_ESTATE);
			return;
		}
		FZ_CHECK(err == 0 && cap == (uint32_t)rpmsg_get_tx_buffer_size(e));
		FZ_CHECK(in_region(p, cap));
		memset(p, b, cap);
		st->reserved[st->nres] = p;
		st->reserved_cap[st->nres++] = cap;
		return;
	}
	int i = (int)(b >> 2) % st->nres;
	void *p = st->reserved[i];
	int len = (int)(fz_u16(in) % (st->reserved_cap[i] + 1u));
	int rc;
	if (b & 1u) {
		rc = rpmsg_send_nocopy(e, p, len);
		/* a buffer the peer meddled with may be refused (AL_EPERM) */
		FZ_CHECK(send_rc_ok(rc, len, s) || rc == AL_EPERM);
		if (rc != len && (b & 2u) == 0)
			return; /* still ours */
		if (rc != len)
			(void)rpmsg_release_tx_buffer(e, p);
	} else {
		rc = rpmsg_release_tx_buffer(e, p);
		FZ_CHECK(rc == 0 || rc == AL_EPERM);
	}
	st->reserved[i] = st->reserved[--st->nres];
	st->reserved_cap[i] = st->reserved_cap[st->nres];
}

static void op_release_held(struct fz_in *in, int s)
{
	struct side_state *st = &S[s];
	if (!st->nheld)
		return;
	int i = fz_u8(in) % st->nheld;
	int rc = al_rpmsg_release_rx_buffer(&st->plain, st->held[i]);
	/* a buffer aliased by a hostile peer is held twice at one address */
	FZ_CHECK(rc == 0 || rc == AL_EPERM);
	st->held[i] = st->held[--st->nheld];
}

static void op_named(struct fz_in *in, int s)
{
	struct side_state *st = &S[s];
	if (st->named_live) {
		rpmsg_destroy_ept(&st->named);
		st->named_live = false;
		return;
	}
	char name[RPMSG_NAME_SIZE] = "fz-x";
	name[3] = (char)('a' + fz_u8(in) % 4u);
	int rc = rpmsg_create_ept(&st->named, &rv_of(s)->rdev, name, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				  fz_rx, NULL);
	FZ_CHECK(rc == 0 || rc < 0);
	st->named_live = rc == 0;
}

static void op_frag(struct fz_in *in, int s)
{
	static uint8_t big[3000];
	struct side_state *st = &S[s];
	if (!st->frag.rdev)
		return;
	size_t len = 1u + fz_u16(in) % sizeof(big);
	memset(big, fz_u8(in), len);
	long rc = al_frag_send(&st->ftx, &st->frag, st->frag.dest_addr, big, len, 0);
	FZ_CHECK(rc == (long)len || rc == AL_ENOBUFS || rc == AL_EBROKEN || rc == AL_ENOLINK ||
		 rc == AL_EMSGSIZE || rc == AL_ESTATE);
}

static void op_restart(int s)
{
	rpmsg_deinit_vdev(rv_of(s));
	check_all();
	start_side(s);
}

static void run_op(struct fz_in *in)
{
	uint8_t op = fz_u8(in);
	int s = op & 1;
	switch ((op >> 1) % 16u) {
	case 0:
	case 1:
	case 2: poke(in); break;
	case 3:
	case 4: op_send(in, s, false); break;
	case 5: op_send(in, s, true); break;
	case 6: op_zerocopy(in, s); break;
	case 7:
	case 8: {
		int rc = al_virtio_notified(rv_of(s));
		FZ_CHECK(rc >= 0 || rc == AL_EBROKEN || rc == AL_ESTATE || rc == AL_ENOLINK);
		break;
	}
	case 9: {
		int rc = al_loopback_pump(&lb, 1 + fz_u8(in) % 8);
		FZ_CHECK(rc >= 0 || rc == AL_EBROKEN || rc == AL_ENOLINK);
		break;
	}
	case 10: op_release_held(in, s); break;
	case 11: {
		uint8_t b = fz_u8(in);
		S[s].hold_next = b & 1u;
		S[s].echo = b & 2u;
		break;
	}
	case 12: op_named(in, s); break;
	case 13: op_frag(in, s); break;
	case 14: {
		int rc = al_virtio_wait_link_up(rv_of(s), fz_u8(in) % 4u);
		FZ_CHECK(rc == 0 || rc == AL_ETIMEDOUT || rc == AL_EBROKEN || rc == AL_ENOLINK);
		break;
	}
	default:
		if (fz_u8(in) & 1u)
			op_restart(s);
		else
			al_virtio_peer_lost(rv_of(s));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	uint8_t c0 = fz_u8(&in), c1 = fz_u8(&in);
	static const uint32_t bufsz[4] = {64, 128, 512, 1024};
	struct al_layout_cfg cfg = {1u << (c0 % 7u), (c0 & 0x80u) ? 64u : 16u, bufsz[c1 & 3u],
				    ((c1 & 4u) ? 1u << VIRTIO_RPMSG_F_NS : 0u) |
					((c1 & 8u) ? 1u << VIRTIO_RING_F_EVENT_IDX : 0u)};
	link_cfg.h2r_buf_size = (c1 & 16u) && cfg.buf_size > 64 ? cfg.buf_size / 2 : cfg.buf_size;
	link_cfg.r2h_buf_size = (c1 & 32u) && cfg.buf_size > 64 ? cfg.buf_size / 2 : cfg.buf_size;
	link_cfg.split_shpool = false;
	poke_in_cb = c1 & 64u;

	struct al_layout plan;
	FZ_CHECK(al_layout_plan(&cfg, AL_LOOPBACK_DA, MAX_REGION, &plan) == 0);
	region_size = plan.total;
	FZ_UNPOISON(arena, sizeof(arena));
	memset(canary_ref, CANARY, GUARD);
	memset(arena, CANARY, GUARD);
	memset(arena + GUARD + region_size, CANARY, GUARD);
	FZ_CHECK(al_loopback_init(&lb, arena + GUARD, region_size, &cfg) == 0);
	FZ_POISON(arena, GUARD);
	FZ_POISON(arena + GUARD + region_size, sizeof(arena) - GUARD - region_size);

	start_side(DEV); /* firmware first, as on a board */
	start_side(DRV);
	check_all();
	cur_in = &in;
	for (int i = 0; i < MAX_OPS && in.n; i++) {
		run_op(&in);
		check_all();
	}
	/* wind down: deliver what is pending, give back what we hold */
	poke_in_cb = false;
	(void)al_loopback_pump(&lb, 8);
	for (int s = 0; s < 2; s++) {
		while (S[s].nheld)
			op_release_held(&in, s);
		while (S[s].nres) {
			struct side_state *st = &S[s];
			int rc = rpmsg_release_tx_buffer(&st->plain, st->reserved[--st->nres]);
			FZ_CHECK(rc == 0 || rc == AL_EPERM);
		}
	}
	check_all();
	if (getenv("FZ_VERBOSE")) { /* what an input did (replay driver) */
		for (int s = 0; s < 2; s++) {
			struct rpmsg_stats st;
			al_get_stats(&rv_of(s)->rdev, &st);
			fprintf(
			    stderr, "%s: state %d tx %u rx %u unknown %u ns_bad %u bound %d %s\n",
			    s ? "dev" : "drv", al_virtio_link_state(rv_of(s)), st.tx_msgs,
			    st.rx_msgs, st.rx_unknown_dst, st.ns_malformed, S[s].nbound,
			    al_virtio_broken_reason(rv_of(s)) ? al_virtio_broken_reason(rv_of(s))
							      : "");
		}
	}
	rpmsg_deinit_vdev(rv_of(DRV));
	rpmsg_deinit_vdev(rv_of(DEV));
	check_all();
	cur_in = NULL;
	FZ_UNPOISON(arena, sizeof(arena));
	return 0;
}
