/* Reliable channel over an rpmsg endpoint: sequence numbers, cumulative
 * and selective acknowledgements, CRC-32, retransmission by timer and
 * after a peer restart, duplicate suppression and in-order delivery
 * through a bounded reorder buffer. See include/amplink/reliable.h for the
 * API and docs/reliable.md for the wire format.
 *
 * State: the send window holds [tx_base, tx_next), message `seq` in slot
 * seq % window; the reorder buffer holds messages rx_next+1 ..
 * rx_next+window-1, same indexing. Sequence numbers are 32-bit and wrap;
 * they are compared by signed difference.
 */
#include "amplink/reliable.h"

#include <string.h>

#include "amplink/crc32.h"
#include "amplink/rpmsg_virtio.h"

#define HDR AL_REL_HDR_SIZE
/* header offsets */
#define O_MAGIC	  0
#define O_VER	  2
#define O_FLAGS	  3
#define O_CRC	  4
#define O_SESSION 8
#define O_PEER	  12
#define O_SEQ	  16
#define O_BASE	  20
#define O_ACK	  24
#define O_SACK	  28

#define MAX_BACKOFF_SHIFT 3u

static inline void lock(struct al_rel *r)
{
	if (r->cfg.lock)
		r->cfg.lock(r->cfg.lock_ctx);
}
static inline void unlock(struct al_rel *r)
{
	if (r->cfg.unlock)
		r->cfg.unlock(r->cfg.lock_ctx);
}
static inline int32_t diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}
static inline uint32_t mask(const struct al_rel *r)
{
	return (uint32_t)r->cfg.window - 1u;
}
static inline uint8_t *tx_buf(struct al_rel *r, uint32_t seq)
{
	return r->tx_data + (seq & mask(r)) * r->stride;
}
static inline uint8_t *rx_buf(struct al_rel *r, uint32_t seq)
{
	return r->rx_data + (seq & mask(r)) * r->stride;
}
/* Byte-wise little-endian access to our own copies and buffers. */
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t now_ms(struct al_rel *r)
{
	if (!r->ept || !r->ept->rdev)
		return 0;
	struct rpmsg_virtio_device *rv = al_virtio_from_rdev(r->ept->rdev);
	return rv->ops && rv->ops->time_ms ? (uint32_t)rv->ops->time_ms(rv->port_ctx) : 0;
}

static uint32_t crc_of(const uint8_t *hdr, const uint8_t *data, size_t n)
{
	uint32_t c = al_crc32(0, hdr, O_CRC);
	c = al_crc32(c, hdr + O_SESSION, HDR - O_SESSION);
	return al_crc32(c, data, n);
}

/* Which of rx_next+1 .. rx_next+32 the reorder buffer holds. */
static uint32_t sack_bits(struct al_rel *r)
{
	uint32_t bits = 0;
	for (uint32_t i = 0; i + 1u < r->cfg.window; i++) {
		uint32_t seq = r->rx_next + 1u + i;
		struct al_rel_slot *s = &r->rx[seq & mask(r)];
		if (s->used && s->seq == seq)
			bits |= 1u << i;
	}
	return bits;
}

/* Send one frame (lock held): a data message `seq` from the send window,
 * or (data false) an acknowledgement alone. Never waits. */
static int xmit(struct al_rel *r, bool data, uint32_t seq)
{
	struct rpmsg_endpoint *e = r->ept;
	if (!e || !e->rdev || e->dest_addr == RPMSG_ADDR_ANY)
		return AL_ESTATE;
	uint32_t cap = 0;
	int err = 0;
	uint8_t *b = al_get_tx_buffer_timeout(e, &cap, 0, &err);
	if (!b) {
		r->stats.tx_fail++;
		return err;
	}
	size_t n = data ? r->tx[seq & mask(r)].len : 0;
	bool ack = r->peer_session != 0;
	uint8_t h[HDR];
	h[O_MAGIC] = (uint8_t)AL_REL_MAGIC;
	h[O_MAGIC + 1] = (uint8_t)(AL_REL_MAGIC >> 8);
	h[O_VER] = AL_REL_VERSION;
	h[O_FLAGS] = (uint8_t)((data ? AL_REL_F_DATA : 0u) | (ack ? AL_REL_F_ACK : 0u));
	put32(h + O_SESSION, r->cfg.session);
	put32(h + O_PEER, r->peer_session);
	put32(h + O_SEQ, data ? seq : r->tx_next);
	put32(h + O_BASE, r->tx_base);
	put32(h + O_ACK, ack ? r->rx_next : 0);
	put32(h + O_SACK, ack ? sack_bits(r) : 0);
	const uint8_t *payload = data ? tx_buf(r, seq) : NULL;
	put32(h + O_CRC, crc_of(h, payload, n));
	memcpy(b, h, HDR);
	if (n)
		memcpy(b + HDR, payload, n);
	int rc = rpmsg_sendto_nocopy(e, b, (int)(HDR + n), e->dest_addr);
	if (rc < 0) {
		(void)rpmsg_release_tx_buffer(e, b);
		r->stats.tx_fail++;
		return rc;
	}
	if (ack)
		r->ack_pending = false;
	return 0;
}

static uint32_t rto_of(const struct al_rel *r, const struct al_rel_slot *s)
{
	uint32_t shift = s->tries > 1u ? s->tries - 1u : 0u;
	return r->cfg.rto_ms << (shift > MAX_BACKOFF_SHIFT ? MAX_BACKOFF_SHIFT : shift);
}

/* Send whatever is due (lock held); `all`: every unacknowledged message. */
static int flush(struct al_rel *r, bool all)
{
	if (!r->ept)
		return 0;
	uint32_t now = now_ms(r);
	int sent = 0;
	for (uint32_t seq = r->tx_base; diff(seq, r->tx_next) < 0; seq++) {
		struct al_rel_slot *s = &r->tx[seq & mask(r)];
		if (s->sacked && !all)
			continue;
		if (!all && !s->due && s->tries && now - s->sent_ms < rto_of(r, s))
			continue;
		if (xmit(r, true, seq))
			break; /* no buffer or link down: the next poll tries again */
		if (s->tries)
			r->stats.tx_retx++;
		else
			r->stats.tx_data++;
		s->tries++;
		s->due = 0;
		s->sent_ms = now;
		sent++;
	}
	if (r->ack_pending && xmit(r, false, 0) == 0) {
		r->stats.tx_acks++;
		sent++;
	}
	return sent;
}

int al_rel_init(struct al_rel *rel, const struct al_rel_cfg *cfg, void *mem, size_t size)
{
	if (!rel || !cfg || !mem || !cfg->deliver || cfg->session == 0 || cfg->window == 0 ||
	    cfg->window > AL_REL_MAX_WINDOW || (cfg->window & (cfg->window - 1u)) ||
	    !cfg->lock != !cfg->unlock || ((uintptr_t)mem & 7u))
		return AL_EINVAL;
	if (size < AL_REL_MEM_SIZE(cfg->window, cfg->max_payload))
		return AL_ENOMEM;
	memset(rel, 0, sizeof(*rel));
	rel->cfg = *cfg;
	if (!rel->cfg.rto_ms)
		rel->cfg.rto_ms = 20;
	size_t w = cfg->window;
	rel->stride = ((size_t)cfg->max_payload + 7u) & ~(size_t)7u;
	rel->tx = mem;
	rel->rx = rel->tx + w;
	rel->tx_data = (uint8_t *)(rel->rx + w);
	rel->rx_data = rel->tx_data + w * rel->stride;
	memset(mem, 0, 2u * w * sizeof(struct al_rel_slot));
	return 0;
}

int al_rel_attach(struct al_rel *rel, struct rpmsg_endpoint *ept)
{
	if (!rel)
		return AL_EINVAL;
	if (ept &&
	    (!ept->rdev || rpmsg_get_tx_buffer_size(ept) < (int)(HDR + rel->cfg.max_payload)))
		return AL_EMSGSIZE;
	lock(rel);
	rel->ept = ept;
	(void)flush(rel, true);
	unlock(rel);
	return 0;
}

int al_rel_send(struct al_rel *rel, const void *data, size_t len)
{
	if (!rel || (!data && len))
		return AL_EINVAL;
	if (len > rel->cfg.max_payload)
		return AL_EMSGSIZE;
	lock(rel);
	if ((uint32_t)(rel->tx_next - rel->tx_base) >= rel->cfg.window) {
		unlock(rel);
		return AL_EAGAIN;
	}
	uint32_t seq = rel->tx_next++;
	struct al_rel_slot *s = &rel->tx[seq & mask(rel)];
	s->seq = seq;
	s->len = (uint16_t)len;
	s->used = 1;
	s->sacked = 0;
	s->due = 0;
	s->tries = 0;
	if (len)
		memcpy(tx_buf(rel, seq), data, len);
	if (xmit(rel, true, seq) == 0) {
		s->tries = 1;
		s->sent_ms = now_ms(rel);
		rel->stats.tx_data++;
	}
	unlock(rel);
	return (int)len;
}

/* The peer acknowledged everything below `ack` and the messages flagged in
 * `sack` (lock held). */
static void take_ack(struct al_rel *r, uint32_t ack, uint32_t sack)
{
	/* Only an ack inside [tx_base, tx_next] moves the window. Measured as
	 * unsigned offsets from tx_base, not by signed difference: an ack
	 * exactly 2^31 away from an empty window compares "behind" tx_next and
	 * "ahead of" tx_base at once, and walking tx_base up to it would take
	 * 2^31 steps and leave a window of 2^31 messages (found by fuzz_rel). */
	uint32_t off = ack - r->tx_base, in_flight = r->tx_next - r->tx_base;
	if (off > in_flight) {
		if (diff(ack, r->tx_base) >= 0) { /* beyond anything we sent */
			r->stats.rx_bad_ack++;
			return;
		}
		off = 0; /* an old ack, overtaken by a newer one: nothing to take */
	}
	for (; off; off--) {
		r->tx[r->tx_base & mask(r)].used = 0;
		r->tx_base++;
	}
	for (uint32_t i = 0; i < 32u && sack; i++, sack >>= 1) {
		uint32_t seq = ack + 1u + i;
		if ((sack & 1u) && diff(seq, r->tx_base) >= 0 && diff(seq, r->tx_next) < 0)
			r->tx[seq & mask(r)].sacked = 1;
	}
}

/* A new incarnation of the peer (or the first one): start receiving at the
 * sender's base; what it had of ours is gone (lock held). */
static void new_peer(struct al_rel *r, uint32_t session, uint32_t base)
{
	bool restart = r->peer_session != 0;
	if (restart)
		r->stats.peer_restarts++;
	r->prev_peer_session = r->peer_session;
	r->peer_session = session;
	r->rx_next = base;
	for (uint32_t i = 0; i < r->cfg.window; i++) {
		r->rx[i].used = 0;
		r->tx[i].sacked = 0;
	}
	/* a restarted peer lost whatever was in flight: send it all again now
	 * (at first contact, what is in flight is on its way) */
	for (uint32_t seq = r->tx_base; restart && diff(seq, r->tx_next) < 0; seq++)
		r->tx[seq & mask(r)].due = 1;
}

int al_rel_input(struct al_rel *rel, const void *payload, size_t len)
{
	if (!rel || (!payload && len))
		return AL_EINVAL;
	const uint8_t *p = payload;
	uint8_t h[HDR];
	lock(rel);
	if (len < HDR) {
		rel->stats.rx_malformed++;
		unlock(rel);
		return AL_EPROTO;
	}
	memcpy(h, p, HDR); /* one copy of the header; only the copy is used */
	size_t n = len - HDR;
	uint8_t flags = h[O_FLAGS];
	uint32_t session = get32(h + O_SESSION);
	if ((unsigned)(h[O_MAGIC] | h[O_MAGIC + 1] << 8) != AL_REL_MAGIC ||
	    h[O_VER] != AL_REL_VERSION || !flags || (flags & ~(AL_REL_F_DATA | AL_REL_F_ACK)) ||
	    session == 0 || (!(flags & AL_REL_F_DATA) && n) || n > rel->cfg.max_payload) {
		rel->stats.rx_malformed++;
		unlock(rel);
		return AL_EPROTO;
	}
	if (crc_of(h, p + HDR, n) != get32(h + O_CRC)) {
		rel->stats.rx_crc++;
		unlock(rel);
		return AL_EPROTO;
	}
	uint32_t base = get32(h + O_BASE);
	if (session != rel->peer_session) {
		if (session == rel->prev_peer_session) {
			rel->stats.rx_stale++;
			unlock(rel);
			return 0;
		}
		new_peer(rel, session, base);
	}
	if ((flags & AL_REL_F_ACK) && get32(h + O_PEER) == rel->cfg.session)
		take_ack(rel, get32(h + O_ACK), get32(h + O_SACK));
	bool deliver_now = false;
	if (flags & AL_REL_F_DATA) {
		uint32_t seq = get32(h + O_SEQ);
		if (diff(base, rel->rx_next) > 0) {
			/* acknowledged to the sender before (by an earlier
			 * incarnation of us, or a position restored too old) */
			rel->stats.rx_skipped += (uint32_t)diff(base, rel->rx_next);
			rel->rx_next = base;
			for (uint32_t i = 0; i < rel->cfg.window; i++)
				if (rel->rx[i].used && diff(rel->rx[i].seq, base) < 0)
					rel->rx[i].used = 0;
		}
		int32_t d = diff(seq, rel->rx_next);
		rel->ack_pending = true; /* every data message is answered */
		if (d < 0) {
			rel->stats.rx_dup++;
		} else if ((uint32_t)d >= rel->cfg.window) {
			rel->stats.rx_window++;
		} else if (d == 0) {
			deliver_now = true;
		} else {
			struct al_rel_slot *s = &rel->rx[seq & mask(rel)];
			if (s->used && s->seq == seq) {
				rel->stats.rx_dup++;
			} else {
				s->used = 1;
				s->seq = seq;
				s->len = (uint16_t)n;
				if (n)
					memcpy(rx_buf(rel, seq), p + HDR, n);
				rel->stats.rx_reordered++;
			}
		}
	}
	int delivered = 0;
	if (deliver_now) {
		rel->delivering = true;
		unlock(rel);
		rel->cfg.deliver(rel, p + HDR, n, rel->cfg.priv);
		lock(rel);
		rel->delivering = false;
		rel->rx_next++;
		rel->stats.rx_delivered++;
		delivered++;
		/* and whatever waited for it; the reorder buffer is written by
		 * this function only, so its slot stays put while unlocked */
		for (;;) {
			struct al_rel_slot *s = &rel->rx[rel->rx_next & mask(rel)];
			if (!s->used || s->seq != rel->rx_next)
				break;
			rel->delivering = true;
			unlock(rel);
			rel->cfg.deliver(rel, rx_buf(rel, s->seq), s->len, rel->cfg.priv);
			lock(rel);
			rel->delivering = false;
			s->used = 0;
			rel->rx_next++;
			rel->stats.rx_delivered++;
			delivered++;
		}
	}
	if (rel->ack_pending && rel->ept && xmit(rel, false, 0) == 0)
		rel->stats.tx_acks++;
	unlock(rel);
	return delivered;
}

int al_rel_poll(struct al_rel *rel)
{
	if (!rel)
		return AL_EINVAL;
	lock(rel);
	int n = flush(rel, false);
	unlock(rel);
	return n;
}

unsigned al_rel_unacked(const struct al_rel *rel)
{
	return rel ? (unsigned)(rel->tx_next - rel->tx_base) : 0u;
}

uint32_t al_rel_next_timeout_ms(struct al_rel *rel)
{
	if (!rel)
		return 0xFFFFFFFFu;
	lock(rel);
	uint32_t now = now_ms(rel), best = rel->ack_pending ? 0u : 0xFFFFFFFFu;
	for (uint32_t seq = rel->tx_base; diff(seq, rel->tx_next) < 0 && best; seq++) {
		const struct al_rel_slot *s = &rel->tx[seq & mask(rel)];
		if (s->sacked)
			continue;
		uint32_t rto = rto_of(rel, s), age = now - s->sent_ms;
		uint32_t left = !s->tries || age >= rto ? 0u : rto - age;
		if (left < best)
			best = left;
	}
	unlock(rel);
	return best;
}

void al_rel_get_stats(const struct al_rel *rel, struct al_rel_stats *out)
{
	if (!rel || !out)
		return;
	struct al_rel *r = (struct al_rel *)(uintptr_t)rel; /* the lock hooks are not const */
	lock(r);
	*out = rel->stats;
	unlock(r);
}

void al_rel_rx_position(const struct al_rel *rel, uint32_t *peer_session, uint32_t *next_seq)
{
	if (!rel)
		return;
	struct al_rel *r = (struct al_rel *)(uintptr_t)rel;
	lock(r);
	if (peer_session)
		*peer_session = rel->peer_session;
	if (next_seq) /* inside the delivery callback, the message being delivered counts */
		*next_seq = rel->rx_next + (rel->delivering ? 1u : 0u);
	unlock(r);
}

int al_rel_rx_restore(struct al_rel *rel, uint32_t peer_session, uint32_t next_seq)
{
	if (!rel || peer_session == 0)
		return AL_EINVAL;
	lock(rel);
	rel->peer_session = peer_session;
	rel->prev_peer_session = 0;
	rel->rx_next = next_seq;
	for (uint32_t i = 0; i < rel->cfg.window; i++)
		rel->rx[i].used = 0;
	unlock(rel);
	return 0;
}
