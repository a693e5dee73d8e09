/* Fault-injection rounds against the host, with two real processes over
 * the POSIX port: a chaos remote that misbehaves in one way per
 * round, and the host (this test) streaming a reliable channel to it.
 *
 * The binary plays both parts: `it_chaos ROUNDS` is the host; it starts
 * `it_chaos --remote LINK MEMFILE SESSION FAULT SEED` for each round. The
 * faults (a remote is a process that owns the region and may write any
 * byte of it):
 *   scribble-rings  random bytes over both vrings (descriptors, indices,
 *                   ring slots, used elements, event fields)
 *   scribble-bufs   random bytes over the message buffers
 *   rewind-index    the used index of vring0 moved back
 *   jump-index      the used index of vring0 moved forward past the ring
 *   doorbell-storm  200,000 spurious doorbells
 *   stall           the receive path stops for 1 s
 *   exit-mid        the process exits inside a delivery, before it counts
 *   corrupt-rx      a bit flipped in 1 of 20 received messages (in the
 *                   shared buffer, before the channel reads it)
 *   dup-rx          1 of 10 received messages handed over twice
 *   drop-rx         1 of 10 received messages dropped
 * The host must stay up, say what it saw (link broken with the violation,
 * peer lost, no progress), restart the remote (as remoteproc would) and
 * lose nothing on the reliable channel: the remote's application commits
 * what it saw with its channel position into memory that survives its
 * process (MEMFILE, as in it_reliable.c), and the host checks at the end
 * that every message arrived exactly once, in order, and that every
 * injected CRC error was caught. A table per fault is printed (the source
 * of docs/robustness.md).
 *
 * Usage: it_chaos [rounds [messages-per-round]]   (default 50 200)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "amplink/crc32.h"
#include "amplink/linux/posix.h"
#include "amplink/reliable.h"
#include "amplink/rpmsg.h"
#include "amplink/virtio_ring.h"
#include "it_common.h"

#define MAXP	    464u
#define WIN	    32u
#define REMOTE_ADDR 0x500u
#define HOST_ADDR   0x501u

enum fault {
	F_SCRIBBLE_RINGS,
	F_SCRIBBLE_BUFS,
	F_REWIND,
	F_JUMP,
	F_STORM,
	F_STALL,
	F_EXIT_MID,
	F_CORRUPT_RX,
	F_DUP_RX,
	F_DROP_RX,
	F_COUNT,
	F_NONE = F_COUNT,
};
static const char *const fault_name[F_COUNT + 1] = {
    "scribble-rings", "scribble-bufs", "rewind-index", "jump-index",
    "doorbell-storm", "stall",	       "exit-mid",     "corrupt-rx",
    "dup-rx",	      "drop-rx",       "none"};

static size_t make_msg(uint32_t i, uint8_t *b)
{
	return it_rel_msg(i, b, MAXP);
}

static pthread_mutex_t rel_mu = PTHREAD_MUTEX_INITIALIZER;

static struct al_rel rel;
static _Alignas(8) uint8_t rel_mem[AL_REL_MEM_SIZE(WIN, MAXP)];
static struct rpmsg_endpoint ept;
static struct it_retained *ret;

/* ---- the chaos remote ------------------------------------------------------ */

static enum fault fault;
static volatile int trigger_left; /* deliveries before the one-shot fault */
static volatile bool fire;	  /* main loop: do the one-shot fault now */

static void remote_deliver(struct al_rel *r, const void *data, size_t len, void *priv)
{
	(void)priv;
	if (fault == F_EXIT_MID && trigger_left == 0)
		_exit(3); /* inside a delivery, before it counted */
	if (fault == F_STALL && trigger_left == 0) {
		usleep(1000000);
		__atomic_fetch_add(&ret->fired, 1u, __ATOMIC_RELEASE);
	}
	if (trigger_left > 0 && --trigger_left == 0)
		fire = true;
	else if (trigger_left == 0)
		trigger_left = -1; /* one-shot */
	struct it_rec cur = ret->r[ret->gen & 1u], nx = cur;
	uint32_t idx = 0;
	uint8_t want[MAXP];
	if (len >= 4)
		memcpy(&idx, data, 4);
	if (!nx.bad &&
	    (idx != cur.count || make_msg(idx, want) != len || memcmp(want, data, len) != 0))
		nx.bad = cur.count + 1u;
	nx.count = cur.count + 1u;
	nx.hash = al_crc32(cur.hash, data, len);
	al_rel_rx_position(r, &nx.session, &nx.next);
	ret->r[(ret->gen + 1u) & 1u] = nx;
	__atomic_store_n(&ret->gen, ret->gen + 1u, __ATOMIC_RELEASE);
}

static int remote_ept_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)e;
	(void)src;
	(void)priv;
	int copies = 1;
	if (fault == F_DROP_RX && chaos_rnd() % 10u == 0)
		return RPMSG_SUCCESS;
	if (fault == F_DUP_RX && chaos_rnd() % 10u == 0)
		copies = 2;
	if (fault == F_CORRUPT_RX && len > 4 && chaos_rnd() % 20u == 0) {
		/* past magic/version/flags: a CRC error, nothing else; caught
		 * means refused with AL_EPROTO and counted once in rx_crc */
		uint8_t *b = data;
		b[4 + chaos_rnd() % (len - 4)] ^= (uint8_t)(1u << (chaos_rnd() % 8u));
		struct al_rel_stats s0, s1;
		al_rel_get_stats(&rel, &s0);
		int rc = al_rel_input(&rel, data, len);
		al_rel_get_stats(&rel, &s1);
		uint64_t c = ret->crc + (1ull << 32);
		if (rc == AL_EPROTO && s1.rx_crc == s0.rx_crc + 1u)
			c++;
		__atomic_store_n(&ret->crc, c, __ATOMIC_RELEASE);
		return RPMSG_SUCCESS;
	}
	for (int i = 0; i < copies; i++)
		(void)al_rel_input(&rel, data, len);
	return RPMSG_SUCCESS;
}

/* One-shot faults that write into the region (from the main thread, while
 * the receive threads of both sides run). */
static void do_fault(struct rpmsg_virtio_device *rv)
{
	uint8_t *base = rv->mem.r[0].va;
	struct al_vq *v0 = &rv->svq, *v1 = &rv->rvq; /* device: vring0 sends */
	size_t r0, ring_end0, r1, ring_end1;
	chaos_ring_span(rv, v0, &r0, &ring_end0);
	chaos_ring_span(rv, v1, &r1, &ring_end1);
	size_t bufs = ring_end0 > ring_end1 ? ring_end0 : ring_end1;
	switch (fault) {
	case F_SCRIBBLE_RINGS:
		chaos_scribble(base + r0, ring_end0 - r0, 24);
		chaos_scribble(base + r1, ring_end1 - r1, 24);
		break;
	case F_SCRIBBLE_BUFS: /* the first bytes of buffers the rings point at */
		for (int i = 0; i < 16; i++) {
			struct al_vq *v = (i & 1) ? v0 : v1;
			const uint8_t *d = v->desc + AL_VRING_DESC_SIZE * (chaos_rnd() % v->num);
			uint64_t da =
			    (uint64_t)(d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24);
			uint8_t *b = al_shm_da_to_va(&rv->mem.r[0], da, 64);
			if (b)
				chaos_scribble(b, 64, 4);
			else
				chaos_scribble(base + bufs, rv->mem.r[0].size - bufs, 4);
		}
		break;
	case F_REWIND:
	case F_JUMP: { /* under the device lock: the receive thread publishes too */
		if (rv->ops->lock)
			rv->ops->lock(rv->port_ctx);
		uint8_t *idx = v0->used + AL_VRING_USED_IDX;
		uint16_t cur = (uint16_t)(idx[0] | idx[1] << 8);
		uint16_t nv = fault == F_REWIND
				  ? (uint16_t)(cur - 1u - chaos_rnd() % 8u)
				  : (uint16_t)(cur + v0->num + 1u + chaos_rnd() % 100u);
		__atomic_store_n((uint16_t *)(void *)idx, nv, __ATOMIC_RELEASE);
		/* a buggy firmware: its own idea of the index is wrong too, so
		 * the next message does not repair it */
		v0->pub_idx = nv;
		if (rv->ops->unlock)
			rv->ops->unlock(rv->port_ctx);
		fprintf(stderr, "it_chaos: remote: used index %u -> %u\n", cur, nv);
		break;
	}
	case F_STORM:
		for (int i = 0; i < 200000; i++)
			rv->ops->notify(rv->port_ctx, v0->notifyid);
		break;
	default: break;
	}
}

static int remote_main(const char *link_name, const char *memfile, uint32_t session, enum fault f,
		       uint32_t seed)
{
	ret = it_map_retained(memfile, false);
	__atomic_fetch_add(&ret->incarnations, 1u, __ATOMIC_RELAXED);
	fault = f;
	chaos_seed(0x9E3779B97F4A7C15ull * (seed + 1u));
	trigger_left = 20 + (int)(chaos_rnd() % 100u);
	struct al_rel_cfg cfg = {.window = WIN,
				 .max_payload = MAXP,
				 .rto_ms = 50,
				 .session = session,
				 .deliver = remote_deliver,
				 .lock = it_mu_lock,
				 .unlock = it_mu_unlock,
				 .lock_ctx = &rel_mu};
	if (al_rel_init(&rel, &cfg, rel_mem, sizeof(rel_mem)))
		return 2;
	struct it_rec saved = ret->r[__atomic_load_n(&ret->gen, __ATOMIC_ACQUIRE) & 1u];
	if (saved.session)
		al_rel_rx_restore(&rel, saved.session, saved.next);
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DEVICE, "it_chaos");
	if (rpmsg_create_ept(&ept, al_posix_rdev(l), NULL, REMOTE_ADDR, HOST_ADDR, remote_ept_cb,
			     NULL) ||
	    al_rel_attach(&rel, &ept))
		return 2;
	while (al_posix_wait_down(l, 2) == AL_ETIMEDOUT) {
		if (fire) {
			fire = false;
			do_fault(al_posix_rvdev(l));
			if (fault != F_STALL && fault != F_EXIT_MID)
				__atomic_fetch_add(&ret->fired, 1u, __ATOMIC_RELEASE);
		}
		al_rel_poll(&rel);
	}
	return 0;
}

/* ---- the host -------------------------------------------------------------- */

static const char *self;
static char link_name[64], memfile[128];

struct tally {
	unsigned rounds, broken, lost, hung, unharmed;
	char reasons[4][96];
	unsigned nreasons;
	uint64_t ms;
};
static struct tally T[F_COUNT + 1];

static void host_deliver(struct al_rel *r, const void *data, size_t len, void *priv)
{
	(void)r;
	(void)data;
	(void)len;
	(void)priv;
}
static int host_ept_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)e;
	(void)src;
	(void)priv;
	(void)al_rel_input(&rel, data, len);
	return RPMSG_SUCCESS;
}

static pid_t spawn_remote(uint32_t session, enum fault f, uint32_t seed)
{
	char s[16], fs[8], sd[16];
	snprintf(s, sizeof(s), "%u", session);
	snprintf(fs, sizeof(fs), "%d", (int)f);
	snprintf(sd, sizeof(sd), "%u", seed);
	pid_t pid = fork();
	if (pid == 0) {
		execl(self, self, "--remote", link_name, memfile, s, fs, sd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static struct al_posix_link *host_attach(void)
{
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DRIVER, "it_chaos");
	if (rpmsg_create_ept(&ept, al_posix_rdev(l), NULL, HOST_ADDR, REMOTE_ADDR, host_ept_cb,
			     NULL) ||
	    al_rel_attach(&rel, &ept)) {
		fprintf(stderr, "it_chaos: host endpoint\n");
		exit(2);
	}
	return l;
}

static void note_reason(struct tally *t, const char *why)
{
	for (unsigned i = 0; i < t->nreasons; i++)
		if (strcmp(t->reasons[i], why) == 0)
			return;
	if (t->nreasons < 4)
		snprintf(t->reasons[t->nreasons++], sizeof(t->reasons[0]), "%s", why);
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc == 7 && strcmp(argv[1], "--remote") == 0)
		return remote_main(argv[2], argv[3], (uint32_t)strtoul(argv[4], NULL, 0),
				   (enum fault)atoi(argv[5]), (uint32_t)strtoul(argv[6], NULL, 0));
	signal(SIGPIPE, SIG_IGN);
	unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 50u;
	uint32_t per_round = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 200u;
	snprintf(link_name, sizeof(link_name), "it-chaos-%d", (int)getpid());
	snprintf(memfile, sizeof(memfile), "/tmp/it-chaos-%d.mem", (int)getpid());
	struct it_retained *r = it_map_retained(memfile, true);
	struct al_rel_cfg cfg = {.window = WIN,
				 .max_payload = MAXP,
				 .rto_ms = 50,
				 .session = (uint32_t)getpid() | 0x40000000u,
				 .deliver = host_deliver,
				 .lock = it_mu_lock,
				 .unlock = it_mu_unlock,
				 .lock_ctx = &rel_mu};
	if (al_rel_init(&rel, &cfg, rel_mem, sizeof(rel_mem)))
		return 2;
	uint8_t msg[MAXP];
	uint32_t sent = 0, hash = 0, session = 1000;
	uint64_t t_start = it_now_ms();
	for (unsigned round = 0; round <= rounds; round++) {
		/* the last round has no fault: finish the stream */
		enum fault f = round == rounds ? F_NONE : (enum fault)(round % F_COUNT);
		struct tally *t = &T[f];
		uint64_t t0 = it_now_ms();
		pid_t pid = spawn_remote(++session, f, round);
		struct al_posix_link *l = host_attach();
		struct rpmsg_virtio_device *rv = al_posix_rvdev(l);
		uint32_t goal = sent + per_round;
		uint32_t fired0 = __atomic_load_n(&r->fired, __ATOMIC_ACQUIRE);
		bool probed = false;
		uint32_t last_done = sent - al_rel_unacked(&rel);
		uint64_t last_progress = it_now_ms();
		const char *outcome = "unharmed";
		for (;;) {
			while (sent < goal) {
				size_t len = make_msg(sent, msg);
				if (al_rel_send(&rel, msg, len) != (int)len)
					break;
				hash = al_crc32(hash, msg, len);
				sent++;
			}
			al_rel_poll(&rel);
			int st = al_virtio_link_state(rv);
			if (st == AL_LINK_BROKEN) {
				const char *why = al_virtio_broken_reason(rv);
				printf("it_chaos: round %u %s: link broken: %s\n", round,
				       fault_name[f], why ? why : "?");
				note_reason(t, why ? why : "?");
				t->broken++;
				outcome = "broken";
				break;
			}
			if (st == AL_LINK_LOST) {
				printf("it_chaos: round %u %s: peer lost\n", round, fault_name[f]);
				t->lost++;
				outcome = "lost";
				break;
			}
			unsigned u = al_rel_unacked(&rel);
			if (sent == goal && u == 0) {
				/* once the fault happened, 64 more messages go through
				 * the rings it touched */
				bool fired = __atomic_load_n(&r->fired, __ATOMIC_ACQUIRE) != fired0;
				if (f == F_NONE || probed)
					break;
				if (fired) {
					probed = true;
					goal += 64;
				} else if (it_now_ms() - last_progress > 2500) {
					goal += 32; /* the trigger needs more deliveries */
					last_progress = it_now_ms();
				}
			}
			if (sent - u != last_done) { /* something was acknowledged */
				last_done = sent - u;
				last_progress = it_now_ms();
			}
			if (it_now_ms() - last_progress > 2500) { /* watchdog */
				printf(
				    "it_chaos: round %u %s: no progress for 2.5 s, restarting the "
				    "remote\n",
				    round, fault_name[f]);
				t->hung++;
				outcome = "hung";
				break;
			}
			usleep(300);
		}
		if (strcmp(outcome, "unharmed") == 0)
			t->unharmed++;
		t->rounds++;
		/* restart the remote (what remoteproc does), whatever happened */
		al_rel_attach(&rel, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		al_posix_close(l);
		t->ms += it_now_ms() - t0;
		if (f == F_NONE)
			break;
	}
	struct it_rec fin = r->r[__atomic_load_n(&r->gen, __ATOMIC_ACQUIRE) & 1u];
	struct al_rel_stats hs;
	al_rel_get_stats(&rel, &hs);
	printf("\n| fault | rounds | link broken | peer lost | no progress (watchdog) | unharmed | "
	       "what the host saw |\n|---|---|---|---|---|---|---|\n");
	for (int f = 0; f <= F_COUNT; f++) {
		struct tally *t = &T[f];
		if (!t->rounds)
			continue;
		printf("| %s | %u | %u | %u | %u | %u | ", fault_name[f], t->rounds, t->broken,
		       t->lost, t->hung, t->unharmed);
		for (unsigned i = 0; i < t->nreasons; i++)
			printf("%s\"%s\"", i ? ", " : "", t->reasons[i]);
		printf(" |\n");
	}
	printf("\nit_chaos: %u rounds in %llu ms, %u messages sent, remote saw %u (first bad %u), "
	       "hash %s; CRC errors injected %u, caught %u; host resent %u, peer restarts %u\n",
	       rounds, (unsigned long long)(it_now_ms() - t_start), sent, fin.count, fin.bad,
	       fin.hash == hash ? "ok" : "MISMATCH", (unsigned)(r->crc >> 32), (unsigned)r->crc,
	       hs.tx_retx, hs.peer_restarts);
	unlink(memfile);
	if (fin.count != sent || fin.bad || fin.hash != hash) {
		printf("it_chaos: FAIL: messages lost, repeated or out of order\n");
		return 1;
	}
	if ((r->crc >> 32) != (uint32_t)r->crc) {
		printf("it_chaos: FAIL: injected CRC errors not all caught\n");
		return 1;
	}
	printf("PASS\n");
	return 0;
}
