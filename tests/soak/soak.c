/* Load and soak test: two real processes over the POSIX port,
 * 64 endpoint pairs, 8 sending threads on each side, both directions at
 * once, for a set time; every message checked (per-endpoint sequence and
 * content), nothing lost on these ordinary endpoints while both sides are
 * healthy (blocking sends: a full ring pushes back, it never drops), and
 * the host's memory and descriptor counts flat from start to end.
 *
 * The binary plays both parts: `soak SECONDS` is the host and starts
 * `soak --remote LINK` as the remote. At the end the host asks the remote
 * (control endpoint) to stop, both drain, and the remote answers with its
 * totals; the host compares what each side sent with what the other
 * received (a gap inside an endpoint's stream is caught by its sequence
 * check).
 *
 * Usage: soak [seconds]   (default 10; the long run is 60)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../integration/it_common.h"
#include "amplink/linux/posix.h"
#include "amplink/rpmsg.h"

#define NEPT	    64
#define NTHR	    8
#define BASE_HOST   0x600u
#define BASE_REMOTE 0x700u
#define CTRL_HOST   0x5F0u
#define CTRL_REMOTE 0x5F1u

/* Totals (per-endpoint gaps show up as `bad`: sequences are checked). */
struct counts {
	uint64_t sent, rcvd, bad;
};

static struct rpmsg_endpoint epts[NEPT], ctrl;
static _Atomic uint64_t sent[NEPT], rcvd[NEPT], bad, slow;
static uint32_t expect_seq[NEPT]; /* receive side: one receive thread, no lock needed */
static atomic_bool stop_sending, stop_req, got_report, remote_ready, got_hello;
static struct counts report;
static bool is_remote;

/* Message `seq` of endpoint `e`: {u32 e, u32 seq, pattern}, 8..496 bytes. */
static size_t make_msg(uint32_t e, uint32_t seq, uint8_t *b)
{
	size_t len = 8u + (seq * 29u + e * 7u) % 489u;
	memcpy(b, &e, 4);
	memcpy(b + 4, &seq, 4);
	for (size_t j = 8; j < len; j++)
		b[j] = (uint8_t)(seq * 13u + j + e);
	return len;
}

static int data_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src;
	(void)priv;
	uint32_t e = (uint32_t)(ept - epts), ie, seq;
	uint8_t want[512];
	if (len < 8) {
		bad++;
		return RPMSG_SUCCESS;
	}
	memcpy(&ie, data, 4);
	memcpy(&seq, (uint8_t *)data + 4, 4);
	if (ie != e || seq != expect_seq[e] || make_msg(e, seq, want) != len ||
	    memcmp(want, data, len) != 0)
		bad++;
	expect_seq[e] = seq + 1u;
	rcvd[e]++;
	return RPMSG_SUCCESS;
}

static int ctrl_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept;
	(void)src;
	(void)priv;
	if (is_remote && len == 4 && memcmp(data, "stop", 4) == 0)
		stop_req = true;
	else if (is_remote && len == 5 && memcmp(data, "hello", 5) == 0)
		got_hello = true;
	else if (!is_remote && len == 5 && memcmp(data, "ready", 5) == 0)
		remote_ready = true;
	else if (!is_remote && len == sizeof(report)) {
		memcpy(&report, data, sizeof(report));
		got_report = true;
	}
	return RPMSG_SUCCESS;
}

static void *sender(void *arg)
{
	uint32_t t = (uint32_t)(uintptr_t)arg;
	uint32_t seq[NEPT] = {0};
	uint8_t msg[512];
	while (!stop_sending) {
		for (uint32_t e = t; e < NEPT && !stop_sending; e += NTHR) {
			size_t len = make_msg(e, seq[e], msg);
			int rc = al_send_timeout(&epts[e], epts[e].addr, epts[e].dest_addr, msg,
						 (int)len, 1000);
			if (rc == (int)len) {
				seq[e]++;
				sent[e]++;
			} else if (rc == AL_ETIMEDOUT) {
				/* no buffer for a second: back-pressure on a starved
				 * machine (the receive side is checked by the
				 * no-progress watchdog), not an error: try again */
				slow++;
			} else if (rc != AL_ENOBUFS) {
				fprintf(stderr, "soak: %s: send: %s\n",
					is_remote ? "remote" : "host", al_strerror(rc));
				bad++;
				return NULL;
			}
		}
	}
	return NULL;
}

static void setup(struct al_posix_link *l)
{
	struct rpmsg_device *rdev = al_posix_rdev(l);
	uint32_t me = is_remote ? BASE_REMOTE : BASE_HOST,
		 peer = is_remote ? BASE_HOST : BASE_REMOTE;
	for (uint32_t e = 0; e < NEPT; e++)
		if (rpmsg_create_ept(&epts[e], rdev, NULL, me + e, peer + e, data_cb, NULL)) {
			fprintf(stderr, "soak: endpoint\n");
			exit(2);
		}
	if (rpmsg_create_ept(&ctrl, rdev, NULL, is_remote ? CTRL_REMOTE : CTRL_HOST,
			     is_remote ? CTRL_HOST : CTRL_REMOTE, ctrl_cb, NULL)) {
		fprintf(stderr, "soak: control endpoint\n");
		exit(2);
	}
}

static void run_senders(pthread_t *th)
{
	for (uintptr_t t = 0; t < NTHR; t++)
		pthread_create(&th[t], NULL, sender, (void *)t);
}

static void join_senders(pthread_t *th)
{
	for (int t = 0; t < NTHR; t++)
		pthread_join(th[t], NULL);
}

static void snapshot(struct counts *c)
{
	c->sent = c->rcvd = 0;
	for (int e = 0; e < NEPT; e++) {
		c->sent += sent[e];
		c->rcvd += rcvd[e];
	}
	c->bad = bad;
}

static int remote_main(const char *name)
{
	is_remote = true;
	struct al_posix_link *l = it_open_link(name, VIRTIO_DEV_DEVICE, "soak");
	setup(l);
	/* the host has attached, but sends fail (AL_ESTATE) until its
	 * DRIVER_OK: on a loaded machine that can take a while */
	if (al_posix_wait_up(l, 10000) != 0) {
		fprintf(stderr, "soak: remote: the link did not come up\n");
		exit(2);
	}
	/* rpmsg drops messages for addresses nobody has bound yet, both
	 * ways: the host's endpoints exist once it says hello (it says it
	 * again until we answer, in case ours did not exist yet), and it
	 * starts sending once we answer ready */
	for (int i = 0; i < 1000 && !got_hello; i++)
		usleep(10000);
	if (!got_hello) {
		fprintf(stderr, "soak: remote: the host never said hello\n");
		exit(2);
	}
	static const char ready[5] = {'r', 'e', 'a', 'd', 'y'};
	if (al_send_timeout(&ctrl, ctrl.addr, ctrl.dest_addr, ready, 5, 5000) != 5) {
		fprintf(stderr, "soak: remote: cannot say ready\n");
		exit(2);
	}
	pthread_t th[NTHR];
	run_senders(th);
	while (!stop_req && al_posix_wait_down(l, 10) == AL_ETIMEDOUT)
		;
	stop_sending = true;
	join_senders(th);
	usleep(300000); /* let the host's last messages arrive */
	struct counts c;
	snapshot(&c);
	int rc = al_send_timeout(&ctrl, ctrl.addr, ctrl.dest_addr, &c, (int)sizeof(c), 5000);
	if (rc != (int)sizeof(c))
		fprintf(stderr, "soak: remote: report: %s\n", al_strerror(rc));
	while (al_posix_wait_down(l, 100) == AL_ETIMEDOUT)
		;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--remote") == 0)
		return remote_main(argv[2]);
	unsigned seconds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 10u;
	char name[64];
	snprintf(name, sizeof(name), "soak-%d", (int)getpid());
	pid_t pid = fork();
	if (pid == 0) {
		execl(argv[0], argv[0], "--remote", name, (char *)NULL);
		_exit(127);
	}
	struct al_posix_link *l = it_open_link(name, VIRTIO_DEV_DRIVER, "soak");
	setup(l);
	for (int i = 0; i < 1000 && !remote_ready; i++) {
		if (i % 10 == 0 &&
		    al_send_timeout(&ctrl, ctrl.addr, ctrl.dest_addr, "hello", 5, 5000) != 5) {
			fprintf(stderr, "soak: cannot say hello\n");
			return 1;
		}
		usleep(10000);
	}
	if (!remote_ready) {
		fprintf(stderr, "soak: the remote never said ready\n");
		return 1;
	}
	pthread_t th[NTHR];
	run_senders(th);
	uint64_t t0 = it_now_ms();
	/* warm up, then the baseline: memory and descriptors */
	usleep(1000000);
	long rss0 = it_rss_kb(0);
	int fds0 = it_fd_count(0);
	uint64_t last = 0;
	while (it_now_ms() - t0 < (uint64_t)seconds * 1000u) {
		usleep(1000000);
		uint64_t total = 0;
		for (int e = 0; e < NEPT; e++)
			total += rcvd[e];
		if (total == last) {
			fprintf(stderr, "soak: no message for a second\n");
			break;
		}
		last = total;
	}
	long rss1 = it_rss_kb(0);
	int fds1 = it_fd_count(0);
	stop_sending = true;
	join_senders(th);
	static const char stop_msg[4] = {'s', 't', 'o', 'p'};
	(void)al_send_timeout(&ctrl, ctrl.addr, ctrl.dest_addr, stop_msg, 4, 5000);
	for (int i = 0; i < 100 && !got_report; i++)
		usleep(50000);
	uint64_t ms = it_now_ms() - t0;
	al_posix_close(l);
	waitpid(pid, NULL, 0);
	struct counts h;
	snapshot(&h);
	uint64_t h2r = h.sent, r2h = report.sent;
	uint64_t lost = got_report ? (h.sent - report.rcvd) + (report.sent - h.rcvd) : 0;
	printf("soak: %u s, %d endpoints x %d threads per side: host->remote %llu, remote->host "
	       "%llu messages (%.0f msg/s both ways), lost %llu, bad %llu/%llu; host RSS %ld -> "
	       "%ld kB, fds %d -> %d; host sends that waited over 1 s: %llu\n",
	       seconds, NEPT, NTHR, (unsigned long long)h2r, (unsigned long long)r2h,
	       (double)(h2r + r2h) * 1000.0 / (double)ms, (unsigned long long)lost,
	       (unsigned long long)h.bad, (unsigned long long)report.bad, rss0, rss1, fds0, fds1,
	       (unsigned long long)slow);
	if (!got_report || lost || h.bad || report.bad || h2r == 0 || r2h == 0) {
		printf("soak: FAIL (report %s)\n", got_report ? "received" : "missing");
		return 1;
	}
	if (fds1 != fds0 || rss1 > rss0 + 1024) {
		printf("soak: FAIL: resources grew\n");
		return 1;
	}
	printf("PASS\n");
	return 0;
}
