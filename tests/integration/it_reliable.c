/* Integration test of the reliable channel (reliable.h) with two real
 * processes over the POSIX port: the host streams 100,000 messages to a
 * remote that is killed (SIGKILL) and restarted 10 times, each time right
 * after its application committed a message and before the acknowledgement
 * left, with more messages queued behind it; the remote's application sees
 * every message exactly once, in order.
 *
 * The binary plays both parts: `it_reliable` is the host, and starts
 * `it_reliable --remote LINK MEMFILE SESSION` for each incarnation of the
 * remote. The remote's application state (messages seen, a CRC chained
 * over them, the first one out of order) and its channel position are
 * committed together, with each delivery, into MEMFILE: memory that
 * survives the process, as retained RAM survives a core's reset. A new
 * incarnation restores the position from it (al_rel_rx_restore) and goes
 * on. The host checks the final state against what it sent.
 *
 * Usage: it_reliable [messages [restarts]]   (default 100000 10)
 * IT_REL_NO_RESTORE=1 skips the restore: the test must then fail.
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
#include "it_common.h"

#define MAXP	    464u
#define WIN	    32u
#define REMOTE_ADDR 0x500u
#define HOST_ADDR   0x501u

static size_t make_msg(uint32_t i, uint8_t *b)
{
	return it_rel_msg(i, b, MAXP);
}

static pthread_mutex_t rel_mu = PTHREAD_MUTEX_INITIALIZER;

static struct al_rel rel;
static _Alignas(8) uint8_t rel_mem[AL_REL_MEM_SIZE(WIN, MAXP)];
static struct rpmsg_endpoint ept;

static int ept_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)e;
	(void)src;
	(void)priv;
	(void)al_rel_input(&rel, data, len);
	return RPMSG_SUCCESS;
}

/* ---- the remote ------------------------------------------------------------ */

static struct it_retained *ret;
static uint32_t slow_idx = 0xFFFFFFFFu;

static void remote_deliver(struct al_rel *r, const void *data, size_t len, void *priv)
{
	(void)priv;
	struct it_rec cur = ret->r[ret->gen & 1u], nx = cur;
	uint32_t idx = 0;
	uint8_t want[MAXP];
	if (len >= 4)
		memcpy(&idx, data, 4); /* little-endian host */
	if (!nx.bad &&
	    (idx != cur.count || make_msg(idx, want) != len || memcmp(want, data, len) != 0))
		nx.bad = cur.count + 1u;
	nx.count = cur.count + 1u;
	nx.hash = al_crc32(cur.hash, data, len);
	al_rel_rx_position(r, &nx.session, &nx.next); /* counts this message */
	/* commit: write the spare record, then flip the generation */
	ret->r[(ret->gen + 1u) & 1u] = nx;
	__atomic_store_n(&ret->gen, ret->gen + 1u, __ATOMIC_RELEASE);
	/* the message before the host's next kill: linger between the commit
	 * and the acknowledgement, so that the kill lands there (the case
	 * only the restored position gets right) */
	if (idx == slow_idx && !nx.bad)
		usleep(300000);
}

static void host_deliver(struct al_rel *r, const void *data, size_t len, void *priv)
{
	(void)r;
	(void)data;
	(void)len;
	(void)priv; /* the remote sends acknowledgements only */
}

static int remote_main(const char *link_name, const char *memfile, uint32_t session, uint32_t slow)
{
	slow_idx = slow;
	ret = it_map_retained(memfile, false);
	ret->incarnations++;
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
	/* IT_REL_NO_RESTORE=1: the negative control (messages delivered but
	 * not acknowledged before a kill arrive twice: the test fails) */
	if (saved.session && !getenv("IT_REL_NO_RESTORE"))
		al_rel_rx_restore(&rel, saved.session, saved.next);
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DEVICE, "it_reliable");
	if (rpmsg_create_ept(&ept, al_posix_rdev(l), NULL, REMOTE_ADDR, HOST_ADDR, ept_cb, NULL) ||
	    al_rel_attach(&rel, &ept))
		return 2;
	while (al_posix_wait_down(l, 2) == AL_ETIMEDOUT)
		al_rel_poll(&rel);
	return 0; /* the host went away */
}

/* ---- the host -------------------------------------------------------------- */

static const char *self;
static char link_name[64], memfile[128];

static pid_t spawn_remote(uint32_t session, uint32_t slow)
{
	char s[16], w[16];
	snprintf(s, sizeof(s), "%u", session);
	snprintf(w, sizeof(w), "%u", slow);
	pid_t pid = fork();
	if (pid == 0) {
		execl(self, self, "--remote", link_name, memfile, s, w, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static struct al_posix_link *host_attach(void)
{
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DRIVER, "it_reliable");
	if (rpmsg_create_ept(&ept, al_posix_rdev(l), NULL, HOST_ADDR, REMOTE_ADDR, ept_cb, NULL) ||
	    al_rel_attach(&rel, &ept)) {
		fprintf(stderr, "it_reliable: host endpoint\n");
		exit(2);
	}
	return l;
}

static int fail(pid_t pid, const char *what)
{
	fprintf(stderr, "it_reliable: FAIL: %s\n", what);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	unlink(memfile);
	return 1;
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc == 6 && strcmp(argv[1], "--remote") == 0)
		return remote_main(argv[2], argv[3], (uint32_t)strtoul(argv[4], NULL, 0),
				   (uint32_t)strtoul(argv[5], NULL, 0));
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 100000u;
	uint32_t restarts = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 10u;
	snprintf(link_name, sizeof(link_name), "it-rel-%d", (int)getpid());
	snprintf(memfile, sizeof(memfile), "/tmp/it-rel-%d.mem", (int)getpid());
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
		return fail(0, "al_rel_init");
	uint32_t session = 1000;
#define KILL_AT(k) ((uint32_t)((uint64_t)n * ((k) + 1u) / (restarts + 1u)))
	pid_t pid = spawn_remote(session, restarts ? KILL_AT(0) - 1u : 0xFFFFFFFFu);
	struct al_posix_link *l = host_attach();
	uint64_t t0 = it_now_ms();
	uint8_t msg[MAXP];
	uint32_t kills = 0, expect_hash = 0;
	for (uint32_t i = 0; i < n;) {
		/* kill the remote mid-stream at `restarts` points */
		if (kills < restarts && i == KILL_AT(kills) + 8u) {
			/* once the remote committed message KILL_AT-1 (it then
			 * lingers before acknowledging it, with the 8 sent since
			 * waiting behind it) */
			while (__atomic_load_n(
				   &r->r[__atomic_load_n(&r->gen, __ATOMIC_ACQUIRE) & 1u].count,
				   __ATOMIC_RELAXED) < KILL_AT(kills)) {
				al_rel_poll(&rel);
				usleep(200);
				if (it_now_ms() - t0 > 120000)
					return fail(
					    pid,
					    "the remote never got the message before the kill");
			}
			unsigned inflight = al_rel_unacked(&rel);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			if (al_posix_wait_down(l, 5000) != AL_ENOLINK)
				return fail(0, "the host did not see the remote die");
			al_rel_attach(&rel, NULL);
			al_posix_close(l);
			kills++;
			fprintf(stderr,
				"it_reliable: killed the remote at message %u (%u in flight)\n", i,
				inflight);
			pid = spawn_remote(++session,
					   kills < restarts ? KILL_AT(kills) - 1u : 0xFFFFFFFFu);
			l = host_attach();
		}
		size_t len = make_msg(i, msg);
		int rc = al_rel_send(&rel, msg, len);
		if (rc == (int)len) {
			expect_hash = al_crc32(expect_hash, msg, len);
			i++;
			continue;
		}
		if (rc != AL_EAGAIN)
			return fail(pid, "al_rel_send");
		al_rel_poll(&rel);
		usleep(200);
		if (it_now_ms() - t0 > 120000)
			return fail(pid, "timed out sending");
	}
	while (al_rel_unacked(&rel)) {
		al_rel_poll(&rel);
		usleep(500);
		if (it_now_ms() - t0 > 120000)
			return fail(pid, "timed out waiting for the last acknowledgements");
	}
	uint64_t t1 = it_now_ms();
	kill(pid, SIGTERM);
	al_posix_close(l);
	waitpid(pid, NULL, 0);
	struct it_rec fin = r->r[__atomic_load_n(&r->gen, __ATOMIC_ACQUIRE) & 1u];
	struct al_rel_stats st;
	al_rel_get_stats(&rel, &st);
	printf("it_reliable: %u messages, %u remote restarts (%u incarnations) in %llu ms: "
	       "remote saw %u, first bad %u, hash %08x (want %08x); host: sent %u, resent %u, "
	       "link refused %u, peer restarts %u\n",
	       n, kills, r->incarnations, (unsigned long long)(t1 - t0), fin.count, fin.bad,
	       fin.hash, expect_hash, st.tx_data, st.tx_retx, st.tx_fail, st.peer_restarts);
	unlink(memfile);
	if (fin.count != n || fin.bad || fin.hash != expect_hash)
		return fail(0, "the remote did not see every message exactly once, in order");
	if (kills != restarts || r->incarnations != restarts + 1u || st.peer_restarts != restarts)
		return fail(0, "restart count");
	printf("PASS\n");
	return 0;
}
