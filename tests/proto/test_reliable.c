/* Tests the reliable channel (reliable.h) over the loopback port, with a
 * fault injector between each rpmsg endpoint and its channel: loss,
 * duplication, corruption (every injected CRC error must be caught and
 * counted) and reordering, sequence-number wrap-around, and restarts of
 * the remote (everything delivered exactly once, in order, across them). */
#include <stdlib.h>

#include "amplink/crc32.h"
#include "amplink/reliable.h"
#include "test_util.h"

#define W    16u
#define MAXP (512u - RPMSG_HDR_SIZE - AL_REL_HDR_SIZE) /* 464 */

struct faults {
	unsigned loss, dup, corrupt, reorder; /* per mille of received messages */
};

struct peer {
	struct al_rel rel;
	_Alignas(8) uint8_t mem[AL_REL_MEM_SIZE(AL_REL_MAX_WINDOW, MAXP)];
	struct rpmsg_endpoint ept;
	struct faults f;
	uint64_t rng;
	uint32_t inj_loss, inj_dup, inj_corrupt, inj_reorder;
	uint8_t held[512];
	size_t held_len;
	int held_age; /* loop iterations the held message waited; -1: none */
	/* the receiving application */
	uint32_t next_expected;
	uint32_t delivered;
	uint32_t first_bad; /* index of the first out-of-order or wrong message + 1 */
	/* position saved with each delivery (memory that survives a restart) */
	uint32_t saved_session, saved_next;
	bool tolerate_replay; /* at-least-once: a replayed prefix is counted, not an error */
	uint32_t replayed;
};

static struct tu_link L;
static struct peer P[2];
static uint8_t msgbuf[MAXP];

/* Message i of a stream: its index, then a pattern; length varies. */
static size_t make_msg(uint32_t i, uint8_t *b)
{
	size_t len = 4u + (i * 37u) % (MAXP - 4u);
	tu_wr32(b, i);
	tu_pattern(b + 4, len - 4, i);
	return len;
}

static void deliver(struct al_rel *rel, const void *data, size_t len, void *priv)
{
	struct peer *p = priv;
	(void)rel;
	uint8_t want[MAXP];
	uint32_t i = len >= 4 ? tu_rd32(data) : 0xFFFFFFFFu;
	if (p->tolerate_replay && i < p->next_expected) {
		p->replayed++;
		p->delivered++;
		return;
	}
	if (!p->first_bad &&
	    (i != p->next_expected || make_msg(i, want) != len || memcmp(want, data, len) != 0))
		p->first_bad = p->next_expected + 1u;
	p->next_expected++;
	p->delivered++;
	al_rel_rx_position(&p->rel, &p->saved_session, &p->saved_next);
}

static bool chance(struct peer *p, unsigned per_mille)
{
	return per_mille && tu_rand(&p->rng) % 1000u < per_mille;
}

static void feed(struct peer *p, const uint8_t *b, size_t len)
{
	int rc = al_rel_input(&p->rel, b, len);
	assert_true(rc >= 0);
}

/* The endpoint callback: the faulty wire between rpmsg and the channel. */
static int inj_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept;
	(void)src;
	struct peer *p = priv;
	uint8_t b[512];
	assert_true(len <= sizeof(b));
	memcpy(b, data, len);
	if (chance(p, p->f.loss)) {
		p->inj_loss++;
		return RPMSG_SUCCESS;
	}
	if (len > 4 && chance(p, p->f.corrupt)) {
		/* anything past magic/version/flags: only the CRC can tell */
		size_t at = 4u + tu_rand(&p->rng) % (len - 4u);
		b[at] ^= (uint8_t)(1u << tu_rand(&p->rng) % 8u);
		p->inj_corrupt++;
		assert_int_equal(al_rel_input(&p->rel, b, len), AL_EPROTO);
		return RPMSG_SUCCESS;
	}
	if (p->held_age < 0 && chance(p, p->f.reorder)) {
		memcpy(p->held, b, len);
		p->held_len = len;
		p->held_age = 0;
		p->inj_reorder++;
		return RPMSG_SUCCESS;
	}
	feed(p, b, len);
	if (chance(p, p->f.dup)) {
		p->inj_dup++;
		feed(p, b, len);
	}
	if (p->held_age > 0) { /* the held one overtaken: now it arrives */
		p->held_age = -1;
		feed(p, p->held, p->held_len);
	}
	return RPMSG_SUCCESS;
}

static void peer_init(struct peer *p, int side, uint32_t session, uint16_t window, struct faults f,
		      uint64_t seed)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->rng = seed | 1u;
	p->held_age = -1;
	struct al_rel_cfg cfg = {.window = window,
				 .max_payload = (uint16_t)MAXP,
				 .rto_ms = 20,
				 .session = session,
				 .deliver = deliver,
				 .priv = p};
	assert_int_equal(al_rel_init(&p->rel, &cfg, p->mem, sizeof(p->mem)), 0);
	(void)side;
}

/* The rpmsg side: link up, one endpoint per side, channels attached. */
static void link_up(void)
{
	uint64_t now = L.lb.now_ms; /* time goes on across a restart */
	tu_up(&L, NULL, NULL, NULL);
	L.lb.now_ms = now;
	assert_int_equal(
	    rpmsg_create_ept(&P[TU_DRV].ept, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, inj_cb, NULL),
	    0);
	assert_int_equal(
	    rpmsg_create_ept(&P[TU_DEV].ept, tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, inj_cb, NULL),
	    0);
	for (int s = 0; s < 2; s++) {
		P[s].ept.priv = &P[s];
		assert_int_equal(al_rel_attach(&P[s].rel, &P[s].ept), 0);
	}
}

/* Release a message held back for reordering once it waited long enough
 * (nothing overtook it). */
static void age_held(struct peer *p)
{
	if (p->held_age >= 0 && ++p->held_age > 3) {
		p->held_age = -1;
		feed(p, p->held, p->held_len);
	}
}

/* Both sides send their own stream (n[s] messages, counting from sent[s])
 * until everything arrived and was acknowledged, or `max_iter` rounds. */
static int run(const uint32_t n[2], uint32_t sent[2], int max_iter)
{
	for (int it = 0; it < max_iter; it++) {
		for (int s = 0; s < 2; s++)
			while (sent[s] < n[s]) {
				size_t len = make_msg(sent[s], msgbuf);
				int rc = al_rel_send(&P[s].rel, msgbuf, len);
				if (rc == AL_EAGAIN)
					break;
				assert_int_equal(rc, (int)len);
				sent[s]++;
			}
		assert_true(tu_pump(&L) >= 0);
		L.lb.now_ms += 2;
		for (int s = 0; s < 2; s++) {
			age_held(&P[s]);
			assert_true(al_rel_poll(&P[s].rel) >= 0);
		}
		bool done = true;
		for (int s = 0; s < 2; s++)
			done = done && sent[s] == n[s] && P[1 - s].next_expected == n[s] &&
			       al_rel_unacked(&P[s].rel) == 0;
		if (done)
			return it;
	}
	return -1;
}

static void check_stream(int rx, uint32_t n)
{
	struct peer *p = &P[rx];
	if (p->first_bad)
		fail_msg("side %d: message %u arrived out of order or damaged", rx,
			 p->first_bad - 1);
	assert_int_equal(p->delivered, n);
	assert_int_equal(p->next_expected, n);
	struct al_rel_stats st;
	al_rel_get_stats(&p->rel, &st);
	/* every injected corruption was caught by the CRC, nothing else was */
	assert_int_equal(st.rx_crc, p->inj_corrupt);
	assert_int_equal(st.rx_malformed, 0);
	assert_int_equal(st.rx_delivered, n);
	tu_check(&L);
}

static void both_ways(struct faults f, uint16_t window, uint32_t n, uint64_t seed)
{
	peer_init(&P[TU_DRV], TU_DRV, 0x1111, window, f, seed);
	peer_init(&P[TU_DEV], TU_DEV, 0x2222, window, f, seed * 7u + 3u);
	link_up();
	uint32_t count[2] = {n, n}, sent[2] = {0, 0};
	int it = run(count, sent, 200000);
	if (it < 0)
		fail_msg("not done: sent %u/%u, delivered %u/%u, unacked %u/%u", sent[0], sent[1],
			 P[1].delivered, P[0].delivered, al_rel_unacked(&P[0].rel),
			 al_rel_unacked(&P[1].rel));
	check_stream(TU_DEV, n);
	check_stream(TU_DRV, n);
}

static void stats_of(int s, struct al_rel_stats *st)
{
	al_rel_get_stats(&P[s].rel, st);
}

/* ---- tests ---------------------------------------------------------------- */

static void crc32_known_values(void **state)
{
	(void)state;
	assert_int_equal(al_crc32(0, "123456789", 9), 0xCBF43926u);
	assert_int_equal(al_crc32(0, NULL, 0), 0);
	assert_int_equal(al_crc32(al_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
	uint8_t z[32] = {0};
	assert_int_equal(al_crc32(0, z, sizeof(z)), 0x190A55ADu);
}

static void init_and_send_errors(void **state)
{
	(void)state;
	static _Alignas(8) uint8_t mem[AL_REL_MEM_SIZE(8, 100)];
	struct al_rel r;
	struct al_rel_cfg c = {.window = 8, .max_payload = 100, .session = 5, .deliver = deliver};
	assert_int_equal(al_rel_init(&r, &c, mem, sizeof(mem) - 1), AL_ENOMEM);
	const uint16_t bad_windows[] = {0, 3, 6, 64};
	for (size_t i = 0; i < sizeof(bad_windows) / sizeof(bad_windows[0]); i++) {
		struct al_rel_cfg b = c;
		b.window = bad_windows[i];
		assert_int_equal(al_rel_init(&r, &b, mem, sizeof(mem)), AL_EINVAL);
	}
	struct al_rel_cfg b = c;
	b.session = 0;
	assert_int_equal(al_rel_init(&r, &b, mem, sizeof(mem)), AL_EINVAL);
	b = c;
	b.deliver = NULL;
	assert_int_equal(al_rel_init(&r, &b, mem, sizeof(mem)), AL_EINVAL);
	assert_int_equal(al_rel_init(&r, &c, mem + 1, sizeof(mem) - 8), AL_EINVAL);
	assert_int_equal(al_rel_init(&r, &c, mem, sizeof(mem)), 0);
	/* detached: messages queue until the window is full */
	assert_int_equal(al_rel_send(&r, msgbuf, 101), AL_EMSGSIZE);
	for (int i = 0; i < 8; i++)
		assert_int_equal(al_rel_send(&r, msgbuf, 10), 10);
	assert_int_equal(al_rel_send(&r, msgbuf, 10), AL_EAGAIN);
	assert_int_equal(al_rel_unacked(&r), 8);
	assert_int_equal(al_rel_poll(&r), 0);
	/* an endpoint whose buffers cannot hold header + max_payload */
	tu_up(&L, NULL, NULL, NULL);
	struct rpmsg_endpoint e;
	assert_int_equal(
	    rpmsg_create_ept(&e, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, inj_cb, NULL), 0);
	c.max_payload = 470;
	static _Alignas(8) uint8_t big[AL_REL_MEM_SIZE(8, 470)];
	assert_int_equal(al_rel_init(&r, &c, big, sizeof(big)), 0);
	assert_int_equal(al_rel_attach(&r, &e), AL_EMSGSIZE);
	assert_int_equal(al_rel_input(&r, NULL, 5), AL_EINVAL);
}

/* Messages that are not the channel's are dropped and counted, never
 * delivered: short ones, another protocol's, a damaged header. */
static void malformed_input_is_counted(void **state)
{
	(void)state;
	struct faults none = {0};
	peer_init(&P[0], 0, 0x77, W, none, 1);
	uint8_t b[64] = {0};
	assert_int_equal(al_rel_input(&P[0].rel, b, 10), AL_EPROTO);
	assert_int_equal(al_rel_input(&P[0].rel, "hello there, plain rpmsg peer!!!!", 33),
			 AL_EPROTO);
	/* a well-formed frame, then each header field broken */
	peer_init(&P[1], 1, 0x88, W, none, 2);
	link_up();
	uint32_t n[2] = {1, 0}, sent[2] = {0, 0};
	assert_true(run(n, sent, 100) >= 0);
	struct al_rel_stats st;
	stats_of(TU_DEV, &st);
	assert_int_equal(st.rx_delivered, 1);
	uint8_t good[AL_REL_HDR_SIZE + 8];
	memset(good, 0, sizeof(good));
	tu_wr16(good, AL_REL_MAGIC);
	good[2] = AL_REL_VERSION;
	good[3] = AL_REL_F_DATA;
	tu_wr32(good + 8, 0x99);
	uint32_t crc = al_crc32(al_crc32(0, good, 4), good + 8, sizeof(good) - 8);
	tu_wr32(good + 4, crc);
	struct {
		size_t at;
		uint8_t val;
	} bad[] = {{0, 0x00}, {2, 2}, {3, 0}, {3, 0x84}, {3, AL_REL_F_ACK}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t f[sizeof(good)];
		memcpy(f, good, sizeof(f));
		f[bad[i].at] = bad[i].val;
		assert_int_equal(al_rel_input(&P[TU_DEV].rel, f, sizeof(f)), AL_EPROTO);
	}
	/* session 0 */
	uint8_t z[sizeof(good)];
	memcpy(z, good, sizeof(z));
	tu_wr32(z + 8, 0);
	assert_int_equal(al_rel_input(&P[TU_DEV].rel, z, sizeof(z)), AL_EPROTO);
	stats_of(TU_DEV, &st);
	assert_int_equal(st.rx_malformed, 6);
	assert_int_equal(st.rx_crc, 0);
	assert_int_equal(st.rx_delivered, 1);
	/* larger than max_payload */
	uint8_t huge[AL_REL_HDR_SIZE + MAXP + 1];
	memset(huge, 0, sizeof(huge));
	memcpy(huge, good, AL_REL_HDR_SIZE);
	assert_int_equal(al_rel_input(&P[TU_DEV].rel, huge, sizeof(huge)), AL_EPROTO);
	/* an acknowledgement of something never sent is ignored */
	uint8_t ack[AL_REL_HDR_SIZE];
	memcpy(ack, good, sizeof(ack));
	ack[3] = AL_REL_F_ACK;
	tu_wr32(ack + 8, 0x1111); /* from the driver's session... */
	tu_wr32(ack + 12, 0x88);  /* ...about ours */
	tu_wr32(ack + 20, 1);	  /* its base */
	tu_wr32(ack + 24, 1000);  /* we sent nothing */
	tu_wr32(ack + 4, al_crc32(al_crc32(0, ack, 4), ack + 8, sizeof(ack) - 8));
	assert_int_equal(al_rel_input(&P[TU_DEV].rel, ack, sizeof(ack)), 0);
	stats_of(TU_DEV, &st);
	assert_int_equal(st.rx_bad_ack, 1);
	/* acknowledgements half the sequence space away from an empty window:
	 * the window stays empty (an ack 2^31 ahead once walked tx_base 2^31
	 * steps: fuzz/regress/rel/ack-2pow31-empty-window) */
	const uint32_t far[] = {0x80000000u, 0x7FFFFFFFu, 0x80000001u, 0xFFFFFFFFu};
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		tu_wr32(ack + 24, far[i]);
		tu_wr32(ack + 4, al_crc32(al_crc32(0, ack, 4), ack + 8, sizeof(ack) - 8));
		assert_int_equal(al_rel_input(&P[TU_DEV].rel, ack, sizeof(ack)), 0);
		assert_int_equal(al_rel_unacked(&P[TU_DEV].rel), 0);
	}
	stats_of(TU_DEV, &st);
	assert_int_equal(st.rx_bad_ack, 2); /* 0x7FFFFFFF is ahead; the rest old */
	tu_check(&L);
}

static void clean_link(void **state)
{
	(void)state;
	struct faults none = {0};
	both_ways(none, W, 3000, 11);
	struct al_rel_stats a, b;
	stats_of(TU_DRV, &a);
	stats_of(TU_DEV, &b);
	assert_int_equal(a.tx_retx + b.tx_retx, 0);
	assert_int_equal(a.rx_dup + b.rx_dup + a.rx_reordered + b.rx_reordered, 0);
	assert_int_equal(a.tx_data, 3000);
	assert_int_equal(a.peer_restarts + b.peer_restarts, 0);
}

static void loss(void **state)
{
	(void)state;
	struct faults f = {.loss = 100};
	both_ways(f, W, 3000, 12);
	struct al_rel_stats a, b;
	stats_of(TU_DRV, &a);
	stats_of(TU_DEV, &b);
	assert_true(P[0].inj_loss > 100 && P[1].inj_loss > 100);
	assert_true(a.tx_retx > 0 && b.tx_retx > 0);
}

static void duplication(void **state)
{
	(void)state;
	struct faults f = {.dup = 100};
	both_ways(f, W, 3000, 13);
	struct al_rel_stats a, b;
	stats_of(TU_DRV, &a);
	stats_of(TU_DEV, &b);
	assert_true(P[0].inj_dup > 100 && P[1].inj_dup > 100);
	assert_true(a.rx_dup > 0 && b.rx_dup > 0);
}

static void corruption(void **state)
{
	(void)state;
	struct faults f = {.corrupt = 50};
	both_ways(f, W, 3000, 14);
	assert_true(P[0].inj_corrupt > 50 && P[1].inj_corrupt > 50); /* and each was caught */
}

static void reordering(void **state)
{
	(void)state;
	struct faults f = {.reorder = 100};
	both_ways(f, W, 3000, 15);
	struct al_rel_stats a, b;
	stats_of(TU_DRV, &a);
	stats_of(TU_DEV, &b);
	assert_true(P[0].inj_reorder > 100 && P[1].inj_reorder > 100);
	assert_true(a.rx_reordered > 0 && b.rx_reordered > 0);
}

static void everything_at_once_any_window(void **state)
{
	(void)state;
	struct faults f = {.loss = 50, .dup = 50, .corrupt = 50, .reorder = 50};
	const uint16_t windows[] = {1, 2, 4, 16, 32};
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
		both_ways(f, windows[i], 1500, 20 + i);
}

/* Sequence numbers wrap past 2^32 without a hiccup. */
static void sequence_wraps(void **state)
{
	(void)state;
	struct faults f = {.loss = 50, .reorder = 50};
	peer_init(&P[TU_DRV], TU_DRV, 0x1111, W, f, 31);
	peer_init(&P[TU_DEV], TU_DEV, 0x2222, W, f, 32);
	P[TU_DRV].rel.tx_base = P[TU_DRV].rel.tx_next = 0xFFFFFF00u; /* private: test only */
	link_up();
	uint32_t n[2] = {600, 0}, sent[2] = {0, 0};
	assert_true(run(n, sent, 100000) >= 0);
	check_stream(TU_DEV, 600);
	assert_true(P[TU_DRV].rel.tx_next < 0x1000u); /* it did wrap */
}

/* The remote is killed and restarted while the host streams to it: the
 * host's channel survives and retransmits what the dead remote never
 * acknowledged; the new remote starts from the position its predecessor
 * saved with each delivery (restore), or, without it, from what the host
 * says. */
static void remote_restarts(bool restore, uint32_t n, int restarts, struct faults f)
{
	peer_init(&P[TU_DRV], TU_DRV, 0x1111, W, f, 41);
	peer_init(&P[TU_DEV], TU_DEV, 0x5000, W, f, 42);
	link_up();
	uint32_t count[2] = {n, 0}, sent[2] = {0, 0};
	uint32_t delivered = 0;
	for (int r = 0; r < restarts; r++) {
		uint32_t stop[2] = {n * (uint32_t)(r + 1) / (uint32_t)(restarts + 1), 0};
		(void)run(stop, sent, 300); /* then kill it mid-stream */
		assert_int_equal(P[TU_DEV].first_bad, 0);
		delivered += P[TU_DEV].delivered;
		struct peer old = P[TU_DEV];
		/* the host notices, drops its endpoint, re-initialises the link */
		assert_int_equal(al_rel_attach(&P[TU_DRV].rel, NULL), 0);
		rpmsg_deinit_vdev(tu_rv(&L, TU_DRV));
		/* a new remote: new session, state lost but the saved position */
		peer_init(&P[TU_DEV], TU_DEV, 0x5001u + (uint32_t)r, W, f, 43u + (uint64_t)r);
		if (restore && old.saved_session) {
			assert_int_equal(
			    al_rel_rx_restore(&P[TU_DEV].rel, old.saved_session, old.saved_next),
			    0);
			P[TU_DEV].next_expected = old.saved_next;
		} else {
			P[TU_DEV].next_expected = old.next_expected;
		}
		P[TU_DEV].tolerate_replay = !restore;
		P[TU_DEV].saved_session = old.saved_session;
		P[TU_DEV].saved_next = old.saved_next;
		link_up();
	}
	int it = run(count, sent, 200000);
	if (it < 0)
		fail_msg("not done after restarts: sent %u, expected next %u, unacked %u", sent[0],
			 P[TU_DEV].next_expected, al_rel_unacked(&P[TU_DRV].rel));
	delivered += P[TU_DEV].delivered;
	if (P[TU_DEV].first_bad)
		fail_msg("message %u arrived out of order or damaged", P[TU_DEV].first_bad - 1);
	assert_int_equal(P[TU_DEV].next_expected, n);
	struct al_rel_stats h;
	stats_of(TU_DRV, &h);
	assert_int_equal(h.peer_restarts, (uint32_t)restarts);
	if (restore)
		assert_int_equal(delivered, n); /* exactly once across the restarts */
	else
		assert_true(delivered >= n);
	tu_check(&L);
}

static void remote_restart_exactly_once(void **state)
{
	(void)state;
	struct faults f = {.loss = 30, .dup = 30, .corrupt = 30, .reorder = 30};
	remote_restarts(true, 4000, 10, f);
}

static void remote_restart_without_saved_position(void **state)
{
	(void)state;
	struct faults f = {.loss = 30, .dup = 30, .corrupt = 30, .reorder = 30};
	remote_restarts(false, 2000, 5, f);
}

/* A message from the peer's previous incarnation arriving after the new
 * one spoke is dropped, not taken for yet another restart. */
static void stale_session_dropped(void **state)
{
	(void)state;
	struct faults none = {0};
	peer_init(&P[TU_DRV], TU_DRV, 0x1111, W, none, 51);
	peer_init(&P[TU_DEV], TU_DEV, 0x2222, W, none, 52);
	link_up();
	uint32_t n[2] = {3, 3}, sent[2] = {0, 0};
	assert_true(run(n, sent, 1000) >= 0);
	/* capture a frame of the old remote: rebuild one by hand */
	uint8_t old[AL_REL_HDR_SIZE + 4];
	memset(old, 0, sizeof(old));
	tu_wr16(old, AL_REL_MAGIC);
	old[2] = AL_REL_VERSION;
	old[3] = AL_REL_F_DATA;
	tu_wr32(old + 8, 0x2222);
	tu_wr32(old + 16, 3);
	tu_wr32(old + 20, 3);
	tu_wr32(old + 4, al_crc32(al_crc32(0, old, 4), old + 8, sizeof(old) - 8));
	/* the remote restarts with session 0x3333 and speaks */
	peer_init(&P[TU_DEV], TU_DEV, 0x3333, W, none, 53);
	P[TU_DEV].next_expected = 3;
	link_up();
	uint32_t n2[2] = {3, 5}, sent2[2] = {3, 3};
	assert_true(run(n2, sent2, 1000) >= 0);
	assert_int_equal(al_rel_input(&P[TU_DRV].rel, old, sizeof(old)), 0);
	struct al_rel_stats st;
	stats_of(TU_DRV, &st);
	assert_int_equal(st.rx_stale, 1);
	assert_int_equal(st.peer_restarts, 1);
	assert_int_equal(P[TU_DRV].delivered, 5); /* 3 from the first, 2 from the second */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(crc32_known_values),
	    cmocka_unit_test(init_and_send_errors),
	    cmocka_unit_test(malformed_input_is_counted),
	    cmocka_unit_test(clean_link),
	    cmocka_unit_test(loss),
	    cmocka_unit_test(duplication),
	    cmocka_unit_test(corruption),
	    cmocka_unit_test(reordering),
	    cmocka_unit_test(everything_at_once_any_window),
	    cmocka_unit_test(sequence_wraps),
	    cmocka_unit_test(remote_restart_exactly_once),
	    cmocka_unit_test(remote_restart_without_saved_position),
	    cmocka_unit_test(stale_session_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
