/* Fuzz target: the reliable channel (reliable.h). Two channels, A on the
 * driver and B on the device of a loopback link, talk for real while the
 * input adds hostile frames: forged headers with a correct CRC (sessions
 * old, new and current; sequence numbers, bases, acknowledgements and
 * selective-acknowledgement bitmaps near and far from the live values),
 * damaged copies, dropped and duplicated messages, restarts of B with and
 * without a restored position, time jumps.
 *
 * What must hold: no crash or out-of-bounds access; the send window never
 * holds more than `window` messages nor runs backwards; the channel's lock
 * hooks are never taken twice nor held across the delivery callback
 * (which sends, to exercise re-entry); every frame a channel puts on the
 * wire has the magic, the version, a correct CRC and fits the buffer;
 * delivered messages fit max_payload.
 *
 * Built with libFuzzer by `make fuzz`, or with fuzz/replay_main.c into the
 * fuzz_replay_rel CTest.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "amplink/crc32.h"
#include "amplink/port_loopback.h"
#include "amplink/reliable.h"
#include "amplink/rpmsg.h"
#include "fuzz_common.h"

#define MAXP 200u
#define WIN  8u

static _Alignas(64) uint8_t region[64 * 1024];
static struct al_loopback lb;

struct chan {
	struct al_rel rel;
	_Alignas(8) uint8_t mem[AL_REL_MEM_SIZE(WIN, MAXP)];
	struct rpmsg_endpoint ept;
	int lock_depth;
	bool in_deliver;
	bool echo;
	int drop_next, dup_next;
	uint32_t last_base, last_next;
	uint32_t delivered;
};
static struct chan C[2]; /* 0: A on the driver, 1: B on the device */
static uint32_t b_session = 0x5000;

static void ch_lock(void *ctx)
{
	struct chan *c = ctx;
	FZ_CHECK(c->lock_depth == 0);
	c->lock_depth++;
}
static void ch_unlock(void *ctx)
{
	struct chan *c = ctx;
	FZ_CHECK(c->lock_depth == 1);
	c->lock_depth--;
}

static void deliver(struct al_rel *rel, const void *data, size_t len, void *priv)
{
	struct chan *c = priv;
	FZ_CHECK(c->lock_depth == 0);
	FZ_CHECK(len <= MAXP);
	const uint8_t *d = data;
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + d[i]);
	c->delivered++;
	if (c->echo) { /* re-entry: send from the delivery callback */
		int rc = al_rel_send(rel, data, len);
		FZ_CHECK(rc == (int)len || rc == AL_EAGAIN);
	}
	(void)sum;
}

/* Every frame a channel sends is well-formed. */
static void check_frame(const uint8_t *p, size_t len)
{
	FZ_CHECK(len >= AL_REL_HDR_SIZE && len <= AL_REL_HDR_SIZE + MAXP);
	FZ_CHECK(fz_rd(p, 2) == AL_REL_MAGIC && p[2] == AL_REL_VERSION);
	FZ_CHECK(p[3] && !(p[3] & ~(AL_REL_F_DATA | AL_REL_F_ACK)));
	uint32_t crc = al_crc32(al_crc32(0, p, 4), p + 8, len - 8);
	FZ_CHECK(crc == fz_rd(p + 4, 4));
}

static int ept_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept;
	(void)src;
	struct chan *c = priv;
	check_frame(data, len);
	if (c->drop_next > 0) {
		c->drop_next--;
		return RPMSG_SUCCESS;
	}
	int n = c->dup_next > 0 ? 2 : 1;
	if (c->dup_next > 0)
		c->dup_next--;
	for (int i = 0; i < n; i++) {
		int rc = al_rel_input(&c->rel, data, len);
		FZ_CHECK(rc >= 0 || rc == AL_EPROTO);
	}
	return RPMSG_SUCCESS;
}

static void chan_init(int s, uint32_t session)
{
	struct chan *c = &C[s];
	memset(&c->rel, 0, sizeof(c->rel));
	c->lock_depth = 0;
	c->drop_next = c->dup_next = 0;
	c->last_base = c->last_next = 0;
	struct al_rel_cfg cfg = {.window = WIN,
				 .max_payload = MAXP,
				 .rto_ms = 10,
				 .session = session,
				 .deliver = deliver,
				 .priv = c,
				 .lock = ch_lock,
				 .unlock = ch_unlock,
				 .lock_ctx = c};
	FZ_CHECK(al_rel_init(&c->rel, &cfg, c->mem, sizeof(c->mem)) == 0);
}

static void attach(int s)
{
	struct al_loopback_side *side = s ? &lb.dev : &lb.drv;
	uint32_t me = 0x400u + (uint32_t)s, peer = 0x401u - (uint32_t)s;
	FZ_CHECK(rpmsg_create_ept(&C[s].ept, &side->rvdev.rdev, NULL, me, peer, ept_cb, NULL) == 0);
	C[s].ept.priv = &C[s];
	FZ_CHECK(al_rel_attach(&C[s].rel, &C[s].ept) == 0);
}

static void link_up(void)
{
	uint64_t now = lb.now_ms;
	FZ_CHECK(al_loopback_init(&lb, region, sizeof(region), NULL) == 0);
	lb.now_ms = now;
	FZ_CHECK(al_loopback_start(&lb, NULL, NULL) == 0);
	FZ_CHECK(al_loopback_pump(&lb, 0) >= 0);
	attach(0);
	attach(1);
}

static void check_chan(struct chan *c)
{
	const struct al_rel *r = &c->rel;
	FZ_CHECK(c->lock_depth == 0);
	FZ_CHECK(al_rel_unacked(r) <= WIN);
	FZ_CHECK((int32_t)(r->tx_base - c->last_base) >= 0); /* never backwards */
	FZ_CHECK((int32_t)(r->tx_next - c->last_next) >= 0);
	c->last_base = r->tx_base;
	c->last_next = r->tx_next;
}

/* A forged frame with a correct CRC (mostly), fields near the live values. */
static void inject(struct fz_in *in, int s)
{
	struct chan *c = &C[s], *o = &C[1 - s];
	uint8_t f[AL_REL_HDR_SIZE + MAXP + 8];
	uint8_t sel = fz_u8(in);
	size_t n = fz_u8(in) % (MAXP + 9u);
	fz_wr(f, AL_REL_MAGIC, 2);
	f[2] = AL_REL_VERSION;
	f[3] = fz_u8(in) & 3u;
	static const uint32_t sessions[4] = {0, 0x5000, 0xdead};
	uint32_t sess = (sel & 3u) == 3 ? o->rel.cfg.session : sessions[sel & 3u];
	if (!sess)
		sess = fz_u32(in);
	fz_wr(f + 8, sess, 4);
	fz_wr(f + 12, (sel & 4u) ? c->rel.cfg.session : fz_u32(in), 4);
	int8_t d1 = (int8_t)fz_u8(in), d2 = (int8_t)fz_u8(in), d3 = (int8_t)fz_u8(in);
	fz_wr(f + 16, (sel & 8u) ? c->rel.rx_next + (uint32_t)(int32_t)d1 : fz_u32(in), 4);
	fz_wr(f + 20, (sel & 16u) ? c->rel.rx_next + (uint32_t)(int32_t)d2 : fz_u32(in), 4);
	fz_wr(f + 24, (sel & 32u) ? c->rel.tx_base + (uint32_t)(int32_t)d3 : fz_u32(in), 4);
	fz_wr(f + 28, fz_u32(in), 4);
	for (size_t i = 0; i < n; i++)
		f[AL_REL_HDR_SIZE + i] = fz_u8(in);
	size_t len = AL_REL_HDR_SIZE + n;
	fz_wr(f + 4, al_crc32(al_crc32(0, f, 4), f + 8, len - 8), 4);
	if (sel & 64u) /* damage one byte after the CRC was computed */
		f[fz_u8(in) % len] ^= (uint8_t)(1u + fz_u8(in) % 255u);
	if (sel & 128u) /* a truncated frame */
		len = fz_u8(in) % (len + 1);
	int rc = al_rel_input(&c->rel, f, len);
	FZ_CHECK(rc >= 0 || rc == AL_EPROTO);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	lb.now_ms = 0;
	b_session = 0x5000;
	chan_init(0, 0x1111);
	chan_init(1, b_session);
	link_up();
	static uint8_t msg[MAXP];
	for (int ops = 0; ops < 400 && in.n; ops++) {
		uint8_t op = fz_u8(&in);
		int s = op & 1;
		switch ((op >> 1) % 9u) {
		case 0:
		case 1: {
			size_t len = fz_u8(&in) % (MAXP + 1u);
			memset(msg, fz_u8(&in), len);
			int rc = al_rel_send(&C[s].rel, msg, len);
			FZ_CHECK(rc == (int)len || rc == AL_EAGAIN);
			break;
		}
		case 2: FZ_CHECK(al_loopback_pump(&lb, 1 + fz_u8(&in) % 8) >= 0); break;
		case 3:
			lb.now_ms += fz_u8(&in);
			FZ_CHECK(al_rel_poll(&C[0].rel) >= 0);
			FZ_CHECK(al_rel_poll(&C[1].rel) >= 0);
			(void)al_rel_next_timeout_ms(&C[s].rel);
			break;
		case 4:
		case 5: inject(&in, s); break;
		case 6: {
			uint8_t b = fz_u8(&in);
			C[s].drop_next = b & 3u;
			C[s].dup_next = (b >> 2) & 3u;
			C[s].echo = b & 16u;
			break;
		}
		case 7: { /* B restarts, the host re-initialises the link */
			uint32_t ps, next;
			al_rel_rx_position(&C[1].rel, &ps, &next);
			FZ_CHECK(al_rel_attach(&C[0].rel, NULL) == 0);
			chan_init(1, ++b_session);
			if ((fz_u8(&in) & 1u) && ps)
				FZ_CHECK(al_rel_rx_restore(&C[1].rel, ps, next) == 0);
			link_up();
			break;
		}
		default: { /* a position restored from anywhere */
			uint32_t ps = fz_u32(&in), next = fz_u32(&in);
			FZ_CHECK(al_rel_rx_restore(&C[s].rel, ps, next) == (ps ? 0 : AL_EINVAL));
			break;
		}
		}
		check_chan(&C[0]);
		check_chan(&C[1]);
	}
	/* let it settle: whatever is left must not break anything */
	for (int i = 0; i < 20; i++) {
		FZ_CHECK(al_loopback_pump(&lb, 8) >= 0);
		lb.now_ms += 25;
		FZ_CHECK(al_rel_poll(&C[0].rel) >= 0);
		FZ_CHECK(al_rel_poll(&C[1].rel) >= 0);
		check_chan(&C[0]);
		check_chan(&C[1]);
	}
	return 0;
}
