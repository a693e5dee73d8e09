/* A hostile host against a real `amplink remote` process (the
 * mirror of it_chaos): each round a host process attaches, echoes a few
 * messages, then misbehaves in one way and leaves; then a healthy host
 * attaches and must get correct echoes. The remote must stay up through
 * every round, say what it saw ("link broken: <reason>" where the rings
 * were corrupt) and neither leak descriptors nor grow.
 *
 * The faults (the host is the virtio driver: it owns the descriptor tables
 * and the available rings, and may write any byte of the region):
 *   scribble-rings  random bytes over both vrings
 *   scribble-bufs   random bytes over buffers the descriptors point at
 *   rewind-avail    the avail index of the host's send ring moved back
 *   jump-avail      the avail index moved forward past the ring
 *   bad-desc        a descriptor pointing outside the region, posted
 *   ns-garbage      random and crafted messages to the name service (53)
 *   unknown-dst     messages to addresses nobody bound
 *   doorbell-storm  200,000 doorbells
 *   stall           sends, then reads nothing for 1.5 s, then leaves
 *   exit-mid        killed (SIGKILL) with messages in flight
 *
 * Usage: it_hostile_host AMPLINK_BIN [rounds-per-fault [fault]]   (default 3, all)
 * Prints a table per fault and PASS or FAIL.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "amplink/linux/channel.h"
#include "amplink/linux/posix.h"
#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/virtio_ring.h"
#include "it_common.h"

#define ECHO "rpmsg-openamp-demo-channel"

enum fault {
	F_SCRIBBLE_RINGS,
	F_SCRIBBLE_BUFS,
	F_REWIND,
	F_JUMP,
	F_BAD_DESC,
	F_NS_GARBAGE,
	F_UNKNOWN_DST,
	F_STORM,
	F_STALL,
	F_EXIT_MID,
	F_COUNT,
};
static const char *const fault_name[F_COUNT] = {
    "scribble-rings", "scribble-bufs", "rewind-avail",	 "jump-avail", "bad-desc",
    "ns-garbage",     "unknown-dst",   "doorbell-storm", "stall",      "exit-mid"};
/* Faults the remote must always see as ring corruption. */
static bool must_break(enum fault f)
{
	return f == F_REWIND || f == F_JUMP || f == F_BAD_DESC;
}

static char link_name[64];

static struct al_posix_link *open_host(uint32_t timeout_ms)
{
	struct al_posix_cfg c = {.name = link_name,
				 .role = VIRTIO_DEV_DRIVER,
				 .doorbell = AL_DB_EVENTFD,
				 .connect_timeout_ms = timeout_ms,
				 .ns_bind_cb = al_services_ns_bind};
	struct al_posix_link *l = NULL;
	return al_posix_open(&c, &l) == 0 ? l : NULL;
}

static void close_host(struct al_posix_link *l)
{
	struct rpmsg_device *rdev = al_posix_rdev(l);
	al_posix_close(l);
	al_services_clear(rdev);
}

static size_t make_msg(uint32_t i, uint8_t *b)
{
	size_t len = 1u + (i * 37u) % 496u;
	for (size_t j = 0; j < len; j++)
		b[j] = (uint8_t)(i * 31u + j * 17u);
	return len;
}

/* n echoes with content checks; returns how many came back right. */
static uint32_t echo(struct al_channel *ch, uint32_t first, uint32_t n, uint32_t timeout_ms)
{
	uint8_t out[496], in[512];
	uint32_t ok = 0;
	for (uint32_t i = first; i < first + n; i++) {
		size_t len = make_msg(i, out);
		if (al_channel_write(ch, out, len, timeout_ms) != (long)len)
			break;
		long got = al_channel_read(ch, in, sizeof(in), NULL, timeout_ms);
		if (got != (long)len || memcmp(in, out, len) != 0)
			break;
		ok++;
	}
	return ok;
}

/* ---- the hostile host (a child process per round) --------------------------- */

static void lock(struct rpmsg_virtio_device *rv)
{
	if (rv->ops->lock)
		rv->ops->lock(rv->port_ctx);
}
static void unlock(struct rpmsg_virtio_device *rv)
{
	if (rv->ops->unlock)
		rv->ops->unlock(rv->port_ctx);
}

/* Publish a new avail index on the host's send ring, as a buggy driver
 * would (its own idea of the index follows, so nothing repairs it). */
static void set_avail_idx(struct rpmsg_virtio_device *rv, uint16_t nv)
{
	struct al_vq *v = &rv->svq;
	__atomic_store_n((uint16_t *)(void *)(v->avail + AL_VRING_AVAIL_IDX), nv, __ATOMIC_RELEASE);
	v->pub_idx = nv;
}

static int ignore_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)e;
	(void)data;
	(void)len;
	(void)src;
	(void)priv;
	return RPMSG_SUCCESS;
}

static void do_fault(struct al_posix_link *l, struct al_channel *ch, enum fault f)
{
	struct rpmsg_virtio_device *rv = al_posix_rvdev(l);
	struct rpmsg_device *rdev = al_posix_rdev(l);
	uint8_t *base = rv->mem.r[0].va;
	struct al_vq *tx = &rv->svq, *rx = &rv->rvq; /* driver: vring1 sends */
	size_t s0, e0, s1, e1;
	chaos_ring_span(rv, tx, &s0, &e0);
	chaos_ring_span(rv, rx, &s1, &e1);
	uint8_t msg[496];
	switch (f) {
	case F_SCRIBBLE_RINGS:
		chaos_scribble(base + s0, e0 - s0, 24);
		chaos_scribble(base + s1, e1 - s1, 24);
		break;
	case F_SCRIBBLE_BUFS:
		for (int i = 0; i < 16; i++) {
			struct al_vq *v = (i & 1) ? tx : rx;
			const uint8_t *d = v->desc + AL_VRING_DESC_SIZE * (chaos_rnd() % v->num);
			uint64_t da = 0;
			memcpy(&da, d, 8);
			uint8_t *b = al_shm_da_to_va(&rv->mem.r[0], da, 64);
			if (b)
				chaos_scribble(b, 64, 4);
		}
		break;
	case F_REWIND:
	case F_JUMP: {
		lock(rv);
		uint16_t cur = tx->pub_idx;
		set_avail_idx(rv, f == F_REWIND
				      ? (uint16_t)(cur - 1u - chaos_rnd() % 8u)
				      : (uint16_t)(cur + tx->num + 1u + chaos_rnd() % 100u));
		unlock(rv);
		rv->ops->notify(rv->port_ctx, tx->notifyid);
		break;
	}
	case F_BAD_DESC: {
		lock(rv);
		uint16_t head = (uint16_t)(chaos_rnd() % tx->num);
		uint8_t *d = tx->desc + AL_VRING_DESC_SIZE * head;
		uint64_t wild = 0xFFFFF000ull + (chaos_rnd() & 0xFFu);
		uint32_t len = 0x10000u;
		memcpy(d, &wild, 8);
		memcpy(d + 8, &len, 4);
		memset(d + 12, 0, 4);
		uint8_t *slot = tx->avail + AL_VRING_AVAIL_RING + 2u * (tx->pub_idx % tx->num);
		memcpy(slot, &head, 2);
		set_avail_idx(rv, (uint16_t)(tx->pub_idx + 1u));
		unlock(rv);
		rv->ops->notify(rv->port_ctx, tx->notifyid);
		break;
	}
	case F_NS_GARBAGE: {
		struct rpmsg_endpoint e;
		if (rpmsg_create_ept(&e, rdev, NULL, 0x777, RPMSG_NS_EPT_ADDR, ignore_cb, NULL) !=
		    0)
			break;
		for (int i = 0; i < 200; i++) {
			size_t len = chaos_rnd() % 64u;
			for (size_t j = 0; j < len; j++)
				msg[j] = (uint8_t)chaos_rnd();
			if (i % 4 == 0 && len >= 40) { /* a well-sized one: destroy/unknown flags */
				memcpy(msg, ECHO, sizeof(ECHO));
				len = 40;
				uint32_t fl = i % 8 ? 1u : chaos_rnd();
				memcpy(msg + 36, &fl, 4);
			}
			(void)rpmsg_sendto(&e, msg, (int)len, RPMSG_NS_EPT_ADDR);
		}
		rpmsg_destroy_ept(&e);
		break;
	}
	case F_UNKNOWN_DST: {
		struct rpmsg_endpoint e;
		if (rpmsg_create_ept(&e, rdev, NULL, 0x778, RPMSG_ADDR_ANY, ignore_cb, NULL) != 0)
			break;
		for (int i = 0; i < 200; i++) {
			size_t len = make_msg((uint32_t)i, msg);
			uint32_t dst = 0x2000u + chaos_rnd() % 0x100000u;
			(void)rpmsg_sendto(&e, msg, (int)len, dst);
		}
		rpmsg_destroy_ept(&e);
		break;
	}
	case F_STORM:
		for (int i = 0; i < 200000; i++)
			rv->ops->notify(rv->port_ctx, tx->notifyid);
		break;
	case F_STALL:
		for (uint32_t i = 0; i < 60; i++) {
			size_t len = make_msg(i, msg);
			(void)al_channel_write(ch, msg, len, 100);
		}
		usleep(1500 * 1000);
		break;
	case F_EXIT_MID:
		for (uint32_t i = 0; i < 40; i++) {
			size_t len = make_msg(i, msg);
			(void)al_channel_write(ch, msg, len, 100);
		}
		kill(getpid(), SIGKILL);
		break;
	default: break;
	}
}

static int hostile_main(enum fault f, uint64_t seed)
{
	chaos_seed(seed);
	struct al_posix_link *l = open_host(10000);
	if (!l)
		return 10;
	struct al_channel *ch = NULL;
	if (al_channel_open(al_posix_rdev(l), ECHO, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, 5000, &ch))
		return 11;
	if (echo(ch, 0, 10, 2000) != 10)
		return 12;
	do_fault(l, ch, f);
	usleep(50 * 1000); /* the remote meets the damage before anything repairs it */
	/* keep talking for a moment so the remote meets the damage */
	uint8_t msg[496];
	for (uint32_t i = 0; i < 10; i++) {
		size_t len = make_msg(i, msg);
		(void)al_channel_write(ch, msg, len, 50);
	}
	usleep(150 * 1000);
	/* leave: the damaged ones abruptly (closing could wait on a broken
	 * ring), the others politely */
	if (f == F_NS_GARBAGE || f == F_UNKNOWN_DST || f == F_STORM || f == F_STALL) {
		al_channel_close(ch);
		close_host(l);
	}
	_exit(0);
}

/* ---- the test ---------------------------------------------------------------- */

/* Wait for a child up to ms; kill it if it hangs. Returns its status. */
static int wait_child(pid_t pid, uint32_t ms, bool *hung)
{
	int st = 0;
	uint64_t t0 = it_now_ms();
	*hung = false;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (it_now_ms() - t0 > ms) {
			*hung = true;
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(2000);
	}
	return st;
}

/* Under AddressSanitizer freed memory waits in a quarantine (up to 256 MiB)
 * before reuse: resident memory grows without a leak, so only the
 * descriptor count is compared there. The remote is the same build. */
static bool rss_meaningful(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return false;
#else
	return true;
#endif
#else
	return true;
#endif
}

struct tally {
	unsigned rounds, broken, healthy_ok, hostile_hung;
	char reason[120];
};

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--hostile") == 0) {
		snprintf(link_name, sizeof(link_name), "%s", getenv("IT_HH_LINK"));
		return hostile_main((enum fault)atoi(argv[2]), strtoull(argv[3], NULL, 0));
	}
	if (argc < 2) {
		fprintf(stderr, "usage: it_hostile_host AMPLINK_BIN [rounds-per-fault]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	const char *amplink = argv[1];
	unsigned per = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 3u;
	int only = -1; /* a fault's name as the third argument: that one alone */
	for (int f = 0; argc > 3 && f < F_COUNT; f++)
		if (strcmp(argv[3], fault_name[f]) == 0)
			only = f;
	snprintf(link_name, sizeof(link_name), "it-hh-%d", (int)getpid());
	setenv("IT_HH_LINK", link_name, 1);
	char logpath[96];
	snprintf(logpath, sizeof(logpath), "/tmp/it-hh-%d.log", (int)getpid());
	int logfd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (logfd < 0) {
		perror(logpath);
		return 2;
	}
	pid_t remote = fork();
	if (remote == 0) {
		dup2(logfd, 2);
		execl(amplink, amplink, "remote", "--link", link_name, "--doorbell", "eventfd",
		      (char *)NULL);
		_exit(127);
	}
	FILE *log = fopen(logpath, "r");
	struct tally T[F_COUNT];
	memset(T, 0, sizeof(T));
	bool fail = false;
	int fds0 = -1, fds1 = -1;
	long rss0 = -1, rss1 = -1;
	uint64_t t_start = it_now_ms();
	unsigned total = per * F_COUNT;
	for (unsigned r = 0; r < total && !fail; r++) {
		enum fault f = only >= 0 ? (enum fault)only : (enum fault)(r % F_COUNT);
		struct tally *t = &T[f];
		t->rounds++;
		char fs[16], sd[24];
		snprintf(fs, sizeof(fs), "%d", (int)f);
		snprintf(sd, sizeof(sd), "%u", 0x9E3779B9u * (r + 1u));
		pid_t h = fork();
		if (h == 0) {
			execl(argv[0], argv[0], "--hostile", fs, sd, (char *)NULL);
			_exit(127);
		}
		bool hung;
		int st = wait_child(h, 15000, &hung);
		if (hung)
			t->hostile_hung++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) >= 10) {
			fprintf(stderr,
				"it_hostile_host: round %u (%s): the hostile host could not "
				"even start (%d): is the remote serving?\n",
				r, fault_name[f], WEXITSTATUS(st));
			fail = true;
			break;
		}
		/* the next host must be served, correctly */
		struct al_posix_link *l = open_host(10000);
		struct al_channel *ch = NULL;
		uint32_t ok = 0;
		if (l && al_channel_open(al_posix_rdev(l), ECHO, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
					 5000, &ch) == 0) {
			ok = echo(ch, r * 100u, 50, 5000);
			al_channel_close(ch);
		}
		if (l)
			close_host(l);
		if (ok == 50) {
			t->healthy_ok++;
		} else {
			fprintf(stderr,
				"it_hostile_host: round %u (%s): healthy host after it got %u "
				"of 50 echoes%s\n",
				r, fault_name[f], ok, l ? "" : " (could not attach)");
			fail = true;
		}
		int ws;
		if (waitpid(remote, &ws, WNOHANG) != 0) {
			fprintf(stderr,
				"it_hostile_host: round %u (%s): the remote died (%s %d); its "
				"log: %s\n",
				r, fault_name[f], WIFSIGNALED(ws) ? "signal" : "exit",
				WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws), logpath);
			remote = 0;
			fail = true;
		}
		/* what the remote said about this round */
		char line[512];
		bool broke = false;
		clearerr(log);
		while (fgets(line, sizeof(line), log)) {
			const char *p = strstr(line, "link broken: ");
			if (p) {
				broke = true;
				if (!t->reason[0]) {
					snprintf(t->reason, sizeof(t->reason), "%s", p + 13);
					t->reason[strcspn(t->reason, "\n")] = 0;
				}
			}
		}
		t->broken += broke;
		if (must_break(f) && !broke) {
			fprintf(stderr,
				"it_hostile_host: round %u (%s): the remote did not report "
				"the corrupt ring\n",
				r, fault_name[f]);
			fail = true;
		}
		/* a leak raises the low-water mark of the remote's descriptors
		 * (between hosts it holds one link's worth or none, depending on
		 * timing): compare the first round of faults with the last */
		if (remote > 0) {
			usleep(20 * 1000);
			int fds = it_fd_count(remote);
			long rss = it_rss_kb(remote);
			if (r < F_COUNT) {
				fds0 = fds0 < 0 || fds < fds0 ? fds : fds0;
				rss0 = rss > rss0 ? rss : rss0;
			}
			if (r + F_COUNT >= total) {
				fds1 = fds1 < 0 || fds < fds1 ? fds : fds1;
				rss1 = rss > rss1 ? rss : rss1;
			}
		}
	}
	if (remote > 0) {
		kill(remote, SIGTERM);
		waitpid(remote, NULL, 0);
	}
	printf("%-15s %6s %8s %8s %5s  %s\n", "fault", "rounds", "broken", "next ok", "hung",
	       "what the remote said");
	for (int f = 0; f < F_COUNT; f++)
		printf("%-15s %6u %8u %8u %5u  %s\n", fault_name[f], T[f].rounds, T[f].broken,
		       T[f].healthy_ok, T[f].hostile_hung, T[f].reason[0] ? T[f].reason : "-");
	printf("%u rounds in %.1f s; remote fds (fewest) %d -> %d, RSS (most) %ld -> %ld kB\n",
	       total, (double)(it_now_ms() - t_start) / 1000.0, fds0, fds1, rss0, rss1);
	if (total > F_COUNT && (fds1 > fds0 || (rss_meaningful() && rss1 > rss0 + 1024))) {
		fprintf(stderr, "it_hostile_host: the remote grew (fds %d -> %d, RSS %ld -> %ld)\n",
			fds0, fds1, rss0, rss1);
		fail = true;
	}
	fclose(log);
	if (!fail)
		unlink(logpath);
	puts(fail ? "FAIL" : "PASS");
	return fail ? 1 : 0;
}
