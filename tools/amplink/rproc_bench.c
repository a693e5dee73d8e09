/* `amplink rproc start --machine mps2-an386 build-mcu/fw_echo.elf --bench`:
 * RPMsg against the emulated Cortex-M4, with its baselines measured in the
 * same run on the same QEMU (protocol: ../mcu/fw_bench_proto.h):
 *
 *   - the raw doorbell round trip: a byte to UART2, which the firmware's
 *     interrupt handler writes straight back (the same UART + NVIC path the
 *     RPMsg doorbell takes, no ring);
 *   - the raw ring: two plain SPSC rings in the shared RAM, 64 slots, one
 *     kick (UART2) per batch each way, every message checked; echo, sink
 *     (host -> core) and source (core -> host), 16-byte payloads.
 *
 * Measured over RPMsg (JSON on stdout):
 *   - echo round trip p50/p99 for 16 and 496 payload bytes through the
 *     RPMsg-Lite-style echo service (rpmsg_queue, main loop), one message in
 *     flight, the next sent from the host's receive callback; and for 16
 *     bytes through the bench service, echoed from the doorbell interrupt;
 *   - batched throughput, 16-byte payloads, every byte checked: echo with
 *     WINDOW in flight (queue service, and interrupt-handler echo), sink
 *     (host -> core: the core counts and checks in its interrupt handler)
 *     and source (core -> host: zero-copy sends, one doorbell per
 *     FWB_BATCH);
 *   - the ratios against the same-run baselines, and against a fixed raw
 *     ring figure for this emulator, 1.5 M msg/s (the low end of the
 *     1.5-2.1 M msg/s a raw ring reached with 64 messages per kick; the
 *     "ratio_doc_raw_ring_1.5M_over_rpmsg" entry);
 *   - doorbells per round trip of the two 16-byte latency runs, each way:
 *     rung by the core (UART1 writes; those rung while the main loop gives
 *     the queued buffer back counted apart), doorbell interrupts the core
 *     served, main-loop sleeps, and the host's kicks and doorbell wake-ups
 *     (the link's rpmsg_stats on both sides; FWB_STATS). */
#define _GNU_SOURCE
#include "rproc_tools.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "amplink.h"
#include "json_writer.h"
#include "mcu/fw_bench_proto.h"
#include <fcntl.h>
#include <sys/mman.h>

#define WINDOW 48u /* in flight; the vrings hold 64 */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, uint32_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	uint32_t i = (uint32_t)(p * (n - 1) + 0.5);
	return (double)v[i] / 1000.0; /* us */
}

/* ---- the raw baselines: UART2 alone, and the raw ring ------------------------- */

static int raw_connect(const char *name, char *why, size_t wl)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t l = strlen(name);
	if (l > sizeof(a.sun_path) - 2)
		l = sizeof(a.sun_path) - 2;
	memcpy(a.sun_path + 1, name, l);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + l)) < 0) {
		snprintf(why, wl, "cannot connect to the raw doorbell (UART2): %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Only the QEMU we started (same uid) may be the other end. */
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) != 0 || uc.uid != geteuid()) {
		snprintf(why, wl, "the raw doorbell socket (UART2) is held by another user");
		close(fd);
		return -1;
	}
	return fd;
}

static int raw_rtt(int fd, uint32_t n, uint64_t *s, char *why, size_t wl)
{
	for (uint32_t i = 0; i < n + 200; i++) {     /* 200 warm-up rounds */
		uint8_t c = (uint8_t)(i & 0x7Fu), r; /* < 0x80: echoed */
		uint64_t t0 = now_ns();
		if (write(fd, &c, 1) != 1)
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 1000) != 1 || read(fd, &r, 1) != 1 || r != c) {
			snprintf(why, wl,
				 "the firmware did not return byte %u on UART2 (is it fw_echo?)",
				 i);
			return -1;
		}
		if (i >= 200)
			s[i - 200] = now_ns() - t0;
	}
	return 0;
}

/* One kick to the core, then wait for its answer (one byte per kick). */
static int raw_kick_wait(int fd)
{
	uint8_t c = FWB_RAW_KICK, v[64];
	if (write(fd, &c, 1) != 1)
		return -1;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 1000) != 1 || read(fd, v, sizeof(v)) <= 0)
		return -1;
	return 0;
}

#define LD(x)	 __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* The raw ring: `n` messages of 16 payload bytes, `mode` FWB_RAW_*. Every
 * message checked on the receiving side (the core counts its errors in
 * r->errors). Elapsed time in *ns; 0, or -1 with why. */
static int raw_ring(int fd, struct fwb_raw *r, uint32_t mode, uint32_t n, uint64_t *ns, char *why,
		    size_t wl)
{
	const uint32_t len = 16;
	ST(r->mode, FWB_RAW_IDLE);
	r->h2r_head = r->h2r_tail = r->r2h_head = r->r2h_tail = 0;
	r->count = mode == FWB_RAW_SOURCE ? n : 0;
	r->len = len;
	r->errors = 0;
	ST(r->mode, mode);
	uint32_t sent = 0, got = 0, bad = 0;
	uint64_t t0 = now_ns();
	for (;;) {
		if (mode != FWB_RAW_SOURCE) {
			uint32_t h = r->h2r_head, room = FWB_RAW_SLOTS - (h - LD(r->h2r_tail));
			for (; room && sent < n; room--, sent++, h++) {
				uint8_t *sl = r->h2r[h % FWB_RAW_SLOTS];
				uint32_t hd[4] = {sent, len, 0, 0};
				memcpy(sl, hd, sizeof(hd));
				fwb_fill(sl + 16, sent, len);
			}
			ST(r->h2r_head, h);
		}
		if (mode == FWB_RAW_SINK && LD(r->h2r_tail) == n)
			break;
		if (mode != FWB_RAW_SINK && got == n)
			break;
		if (raw_kick_wait(fd) != 0) {
			snprintf(why, wl, "raw ring: no answer from the core on UART2");
			return -1;
		}
		if (mode != FWB_RAW_SINK) {
			uint32_t t = r->r2h_tail, h = LD(r->r2h_head);
			if (h - t > FWB_RAW_SLOTS) {
				snprintf(why, wl, "raw ring: bad index from the core");
				return -1;
			}
			for (; t != h; t++, got++) {
				const uint8_t *sl = r->r2h[t % FWB_RAW_SLOTS];
				if (fwb_seq(sl) != got || fwb_seq(sl + 4) != len ||
				    !fwb_check(sl + 16, got, len))
					bad++;
			}
			ST(r->r2h_tail, t);
		}
	}
	*ns = now_ns() - t0;
	ST(r->mode, FWB_RAW_IDLE);
	if (bad || r->errors || got > n) {
		snprintf(why, wl, "raw ring: %u messages wrong on the host, %u on the core", bad,
			 r->errors);
		return -1;
	}
	return 0;
}

/* ---- RPMsg, driven from the receive callback --------------------------------- */

struct run {
	struct al_rproc *rp;
	struct rpmsg_endpoint *ept;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t buf[496];
	int len;
	uint32_t target; /* messages to send in all */
	uint32_t sent, got;
	uint64_t t_send, *s; /* latency mode: s[got] */
	bool latency;
	int err; /* 0, or what failed */
	bool done;
};

static void finish(struct run *r, int err)
{
	pthread_mutex_lock(&r->mu);
	r->err = err;
	r->done = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static int on_rx(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)src;
	struct run *r = priv;
	if (!r || __atomic_load_n(&r->done, __ATOMIC_ACQUIRE))
		return RPMSG_SUCCESS;
	uint64_t t = now_ns();
	if ((int)len != r->len || memcmp(data, r->buf, len) != 0) {
		finish(r, AL_EPROTO);
		return RPMSG_SUCCESS;
	}
	if (r->latency)
		r->s[r->got] = t - r->t_send;
	r->got++;
	if (r->got == r->target) {
		finish(r, 0);
		return RPMSG_SUCCESS;
	}
	if (__atomic_fetch_add(&r->sent, 1, __ATOMIC_RELAXED) < r->target) {
		r->t_send = now_ns();
		int rc = al_rproc_send(r->rp, r->ept, r->buf, r->len, 0);
		if (rc != r->len)
			finish(r, rc < 0 ? rc : AL_EPROTO);
	}
	return RPMSG_SUCCESS;
}

/* Send `target` messages of `len` bytes, `window` in flight; 0 or an error.
 * Elapsed time in *ns. */
static int run_rpmsg(struct run *r, int len, uint32_t target, uint32_t window, uint64_t *ns)
{
	pthread_mutex_lock(&r->mu);
	r->len = len;
	for (int i = 0; i < len; i++)
		r->buf[i] = (uint8_t)(i * 7 + len);
	r->target = target;
	r->sent = r->got = 0;
	r->err = 0;
	r->latency = window == 1;
	__atomic_store_n(&r->done, false, __ATOMIC_RELEASE);
	uint64_t t0 = now_ns();
	/* under the lock: the callback's finish() waits until all of the
	 * window is out, and the window never outruns the target */
	for (uint32_t i = 0; i < window; i++) {
		if (__atomic_fetch_add(&r->sent, 1, __ATOMIC_RELAXED) >= target)
			break;
		r->t_send = now_ns();
		int rc = al_rproc_send(r->rp, r->ept, r->buf, len, 1000);
		if (rc != len) {
			__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&r->mu);
			return rc < 0 ? rc : AL_EPROTO;
		}
	}
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 30;
	while (!r->done)
		if (pthread_cond_timedwait(&r->cv, &r->mu, &dl) == ETIMEDOUT)
			break;
	int err = r->done ? r->err : AL_ETIMEDOUT;
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&r->mu);
	*ns = now_ns() - t0;
	return err;
}

/* ---- RPMsg, the bench service (interrupt-handler sink, echo; source) ------- */

struct bsvc {
	struct al_rproc *rp;
	struct rpmsg_endpoint ept;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int mode; /* FWB_SINK, FWB_SOURCE, FWB_ECHO */
	uint32_t target, sent, got, bad, window;
	uint64_t t_send, *s;
	bool report;
	uint32_t rep_count, rep_errors, rep_ms, rep_wait_ms;
	bool done;
	int err;
	uint32_t st[FWB_ST_N]; /* the last FWB_STATS answer */
	bool have_st;
};

static void b_finish(struct bsvc *b, int err)
{
	pthread_mutex_lock(&b->mu);
	if (!b->done)
		b->err = err;
	b->done = true;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

static int b_send_data(struct bsvc *b, uint32_t seq, uint32_t timeout_ms)
{
	uint8_t m[16];
	fwb_fill(m, seq, sizeof(m));
	int rc = al_rproc_send(b->rp, &b->ept, m, sizeof(m), timeout_ms);
	return rc == (int)sizeof(m) ? 0 : rc < 0 ? rc : AL_EPROTO;
}

static int on_bench(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)src;
	struct bsvc *b = priv;
	const uint8_t *p = data;
	if (!b)
		return RPMSG_SUCCESS;
	if (len == FWB_STATS_LEN && fwb_seq(p) == (FWB_MAGIC | FWB_STATS)) {
		pthread_mutex_lock(&b->mu);
		for (uint32_t i = 0; i < FWB_ST_N; i++)
			b->st[i] = fwb_seq(p + 4 + 4 * i);
		b->have_st = true;
		pthread_cond_signal(&b->cv);
		pthread_mutex_unlock(&b->mu);
		return RPMSG_SUCCESS;
	}
	if (len >= FWB_CTL_LEN && fwb_seq(p) == (FWB_MAGIC | FWB_REPORT)) {
		pthread_mutex_lock(&b->mu);
		b->rep_count = fwb_seq(p + 4);
		b->rep_errors = fwb_seq(p + 8);
		b->rep_ms = len >= 20 ? fwb_seq(p + 12) : 0;
		b->rep_wait_ms = len >= 20 ? fwb_seq(p + 16) : 0;
		b->report = true;
		if (b->mode != FWB_ECHO)
			b->done = true;
		pthread_cond_signal(&b->cv);
		pthread_mutex_unlock(&b->mu);
		return RPMSG_SUCCESS;
	}
	if (__atomic_load_n(&b->done, __ATOMIC_ACQUIRE))
		return RPMSG_SUCCESS;
	uint64_t t = now_ns();
	uint32_t seq = len >= 4 ? fwb_seq(p) : UINT32_MAX;
	if (b->mode == FWB_SOURCE) { /* one producer, one ring: in order */
		if (len != 16 || seq != b->got || !fwb_check(p, seq, 16))
			b->bad++;
		b->got++;
		return RPMSG_SUCCESS;
	}
	if (b->mode != FWB_ECHO) {
		b->bad++;
		return RPMSG_SUCCESS;
	}
	/* echo: the initial window and these sends race, so not in order */
	if (len != 16 || seq >= b->target || !fwb_check(p, seq, 16))
		b->bad++;
	if (b->window == 1)
		b->s[b->got] = t - b->t_send;
	if (++b->got == b->target) {
		b_finish(b, 0);
		return RPMSG_SUCCESS;
	}
	uint32_t next = __atomic_fetch_add(&b->sent, 1, __ATOMIC_RELAXED);
	if (next < b->target) {
		b->t_send = now_ns();
		int rc = b_send_data(b, next, 0);
		if (rc)
			b_finish(b, rc);
	}
	return RPMSG_SUCCESS;
}

/* Wait (b->mu held) until done or 30 s passed; the error. */
static int b_wait(struct bsvc *b)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 30;
	while (!b->done)
		if (pthread_cond_timedwait(&b->cv, &b->mu, &dl) == ETIMEDOUT)
			break;
	int err = b->done ? b->err : AL_ETIMEDOUT;
	__atomic_store_n(&b->done, true, __ATOMIC_RELEASE);
	return err;
}

static int b_ctl(struct bsvc *b, uint32_t cmd, uint32_t a, uint32_t c)
{
	uint32_t m[3] = {FWB_MAGIC | cmd, a, c};
	int rc = al_rproc_send(b->rp, &b->ept, m, sizeof(m), 1000);
	return rc == (int)sizeof(m) ? 0 : rc < 0 ? rc : AL_EPROTO;
}

/* Doorbell counters of both sides, for per-message figures. */
struct dbsnap {
	uint32_t core[FWB_ST_N];
	struct rpmsg_stats host;
};

/* The core's counters (FWB_STATS) and the host's link counters; 0 or an
 * error. Not during a run. */
static int snap(struct bsvc *b, struct dbsnap *s)
{
	pthread_mutex_lock(&b->mu);
	b->have_st = false;
	uint32_t m[3] = {FWB_MAGIC | FWB_STATS, 0, 0};
	int rc = al_rproc_send(b->rp, &b->ept, m, sizeof(m), 1000);
	rc = rc == (int)sizeof(m) ? 0 : rc < 0 ? rc : AL_EPROTO;
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 5;
	while (rc == 0 && !b->have_st)
		if (pthread_cond_timedwait(&b->cv, &b->mu, &dl) == ETIMEDOUT)
			rc = AL_ETIMEDOUT;
	memcpy(s->core, b->st, sizeof(s->core));
	pthread_mutex_unlock(&b->mu);
	al_get_stats(b->ept.rdev, &s->host);
	return rc;
}

/* Per round trip between two snapshots, as a JSON object. */
static void json_db(struct json_writer *j, const char *name, const struct dbsnap *a,
		    const struct dbsnap *z, uint32_t n)
{
	double d = n ? n : 1;
#define DC(i) ((z->core[i] - a->core[i]) / d)
#define DH(f) ((z->host.f - a->host.f) / d)
	json_object_begin(j, name);
	json_double(j, "core_rings", DC(FWB_ST_RINGS), 3);
	json_double(j, "core_rings_in_release", DC(FWB_ST_RINGS_FREE), 3);
	json_double(j, "core_doorbell_irqs", DC(FWB_ST_DOORBELLS), 3);
	json_double(j, "core_main_loop_sleeps", DC(FWB_ST_WAITS), 3);
	json_double(j, "host_kicks", DH(kicks_tx), 3);
	json_double(j, "host_doorbell_wakeups", DH(kicks_rx), 3);
	json_object_end(j);
#undef DC
#undef DH
}

/* A latency distribution in microseconds; mean < 0: none. */
static void json_rtt(struct json_writer *j, const char *name, double p50, double p99, double mean)
{
	json_object_begin(j, name);
	json_double(j, "p50", p50, 1);
	json_double(j, "p99", p99, 1);
	if (mean >= 0)
		json_double(j, "mean", mean, 1);
	json_object_end(j);
}

/* One bench-service run: `mode`, `n` messages of 16 bytes (`window` in
 * flight for echo). Elapsed time in *ns; 0 or an error (AL_EPROTO: data
 * wrong on either side). */
static int b_run(struct bsvc *b, int mode, uint32_t n, uint32_t window, uint64_t *ns)
{
	pthread_mutex_lock(&b->mu);
	b->mode = mode;
	b->target = n;
	b->sent = b->got = b->bad = 0;
	b->window = window;
	b->report = false;
	b->rep_count = b->rep_errors = b->rep_ms = b->rep_wait_ms = 0;
	b->err = 0;
	__atomic_store_n(&b->done, false, __ATOMIC_RELEASE);
	int rc = b_ctl(b, (uint32_t)mode, n, 16);
	uint64_t t0 = now_ns();
	if (rc == 0 && mode == FWB_SINK) {
		for (uint32_t i = 0; i < n && rc == 0; i++)
			rc = b_send_data(b, i, 1000);
	} else if (rc == 0 && mode == FWB_ECHO) {
		/* under the lock: the callback's finish waits until the window is out */
		for (uint32_t i = 0; i < window && rc == 0; i++) {
			uint32_t seq = __atomic_fetch_add(&b->sent, 1, __ATOMIC_RELAXED);
			if (seq >= n)
				break;
			b->t_send = now_ns();
			rc = b_send_data(b, seq, 1000);
		}
	}
	if (rc == 0)
		rc = b_wait(b);
	else
		__atomic_store_n(&b->done, true, __ATOMIC_RELEASE);
	*ns = now_ns() - t0;
	if (rc == 0 && (b->bad || (mode != FWB_ECHO && (b->rep_errors || b->rep_count != n)) ||
			(mode == FWB_SOURCE && b->got != n)))
		rc = AL_EPROTO;
	if (rc == AL_EPROTO)
		fprintf(
		    stderr,
		    "amplink rproc: bench: mode %d: %u of %u messages wrong on the host; the core "
		    "counted %u, %u wrong\n",
		    mode, b->bad, n, b->rep_count, b->rep_errors);
	pthread_mutex_unlock(&b->mu);
	return rc;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

int rproc_bench_run(struct al_rproc *rp, const char *raw_socket, const char *shm_path,
		    uint32_t samples)
{
	struct run r = {.rp = rp, .done = true};
	struct rpmsg_endpoint ept;
	r.ept = &ept;
	struct bsvc b = {.rp = rp, .done = true};
	pthread_mutex_init(&r.mu, NULL);
	pthread_mutex_init(&b.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r.cv, &ca);
	pthread_cond_init(&b.cv, &ca);
	pthread_condattr_destroy(&ca);
	uint64_t *raw = calloc(samples, sizeof(uint64_t));
	uint64_t *l16 = calloc(samples, sizeof(uint64_t));
	uint64_t *l496 = calloc(samples, sizeof(uint64_t));
	uint64_t *li16 = calloc(samples, sizeof(uint64_t));
	char why[200] = "";
	int code = EXIT_FAIL, fd = -1;
	struct fwb_raw *ring = MAP_FAILED;
	bool have_ept = false, have_bept = false;
	if (!raw || !l16 || !l496 || !li16)
		goto out;
	int sfd = open(shm_path, O_RDWR | O_CLOEXEC);
	if (sfd >= 0) {
		ring = mmap(NULL, sizeof(struct fwb_raw), PROT_READ | PROT_WRITE, MAP_SHARED, sfd,
			    FWB_RAW_OFF);
		close(sfd);
	}
	if (ring == MAP_FAILED) {
		fprintf(stderr, "amplink rproc: bench: cannot map %s: %s\n", shm_path,
			strerror(errno));
		goto out;
	}
	if (al_rproc_ept_add(rp, &ept, DEFAULT_SERVICE, on_rx, &r) != 0)
		goto out;
	have_ept = true;
	if (al_rproc_ept_add(rp, &b.ept, FWB_SERVICE, on_bench, &b) != 0)
		goto out;
	have_bept = true;
	if (al_rproc_wait_bound(rp, &ept, 10000) != 0 || al_rproc_wait_bound(rp, &b.ept, 10000)) {
		fprintf(stderr,
			"amplink rproc: bench: the remote did not announce '%s' and '%s' (is it "
			"fw_echo?)\n",
			DEFAULT_SERVICE, FWB_SERVICE);
		code = EXIT_LINK;
		goto out;
	}
	const uint32_t nring = 400000, nmsg = 100000;
	uint64_t ns_re, ns_rk, ns_rs;
	if ((fd = raw_connect(raw_socket, why, sizeof(why))) < 0 ||
	    raw_rtt(fd, samples, raw, why, sizeof(why)) != 0 ||
	    raw_ring(fd, ring, FWB_RAW_ECHO, nring, &ns_re, why, sizeof(why)) != 0 ||
	    raw_ring(fd, ring, FWB_RAW_SINK, nring, &ns_rk, why, sizeof(why)) != 0 ||
	    raw_ring(fd, ring, FWB_RAW_SOURCE, nring, &ns_rs, why, sizeof(why)) != 0) {
		fprintf(stderr, "amplink rproc: bench: %s\n", why);
		code = EXIT_LINK;
		goto out;
	}
	uint64_t ns16, ns496, nsb, ns_ie1, ns_ie, ns_k, ns_s;
	int rc;
	struct dbsnap sq0, sq1, si0, si1; /* around the two 16-byte latency runs */
	r.s = l16;
	b.s = li16;
	if ((rc = snap(&b, &sq0)) != 0 || (rc = run_rpmsg(&r, 16, samples, 1, &ns16)) != 0 ||
	    (rc = snap(&b, &sq1)) != 0 ||
	    (r.s = l496, rc = run_rpmsg(&r, 496, samples, 1, &ns496)) != 0 ||
	    (rc = run_rpmsg(&r, 16, nmsg / 2, WINDOW, &nsb)) != 0 || (rc = snap(&b, &si0)) != 0 ||
	    (rc = b_run(&b, FWB_ECHO, samples, 1, &ns_ie1)) != 0 || (rc = snap(&b, &si1)) != 0 ||
	    (rc = b_run(&b, FWB_ECHO, nmsg, WINDOW, &ns_ie)) != 0 ||
	    (rc = b_run(&b, FWB_SINK, nmsg, 0, &ns_k)) != 0 ||
	    (rc = b_run(&b, FWB_SOURCE, nmsg, 0, &ns_s)) != 0) {
		fprintf(stderr, "amplink rproc: bench: RPMsg run failed: %s\n", al_strerror(rc));
		code = exit_code_for(rc);
		goto out;
	}
	double raw50 = pct(raw, samples, 0.5), raw99 = pct(raw, samples, 0.99);
	double a50 = pct(l16, samples, 0.5), a99 = pct(l16, samples, 0.99);
	double b50 = pct(l496, samples, 0.5), b99 = pct(l496, samples, 0.99);
	double i50 = pct(li16, samples, 0.5), i99 = pct(li16, samples, 0.99);
#define RATE(n, ns) ((double)(n) / ((double)(ns) / 1e9))
	double re = RATE(nring, ns_re), rk = RATE(nring, ns_rk), rs = RATE(nring, ns_rs);
	double qe = RATE(nmsg / 2, nsb), ie = RATE(nmsg, ns_ie), k = RATE(nmsg, ns_k),
	       so = RATE(nmsg, ns_s);
	struct json_writer j;
	char key[64];
	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "target", "QEMU mps2-an386 (Cortex-M4), fw_echo.elf");
	json_uint(&j, "samples", samples);
	json_rtt(&j, "baseline_raw_doorbell_rtt_us", raw50, raw99, -1);
	json_rtt(&j, "rpmsg_rtt_16B_us", a50, a99, ns16 / 1e3 / samples);
	json_rtt(&j, "rpmsg_rtt_496B_us", b50, b99, ns496 / 1e3 / samples);
	json_rtt(&j, "rpmsg_rtt_16B_isr_echo_us", i50, i99, ns_ie1 / 1e3 / samples);
	json_double(&j, "ratio_rtt16_p50_over_raw_p50", ratio(a50, raw50), 2);
	json_double(&j, "ratio_rtt496_p50_over_raw_p50", ratio(b50, raw50), 2);
	json_double(&j, "ratio_rtt16_isr_echo_p50_over_raw_p50", ratio(i50, raw50), 2);
	json_object_begin(&j, "baseline_raw_ring_msg_per_s");
	json_uint(&j, "slots", FWB_RAW_SLOTS);
	json_uint(&j, "payload", 16);
	json_uint(&j, "messages", nring);
	json_double(&j, "echo_each_way", re, 0);
	json_double(&j, "host_to_core", rk, 0);
	json_double(&j, "core_to_host", rs, 0);
	json_object_end(&j);
	json_object_begin(&j, "rpmsg_msg_per_s");
	json_uint(&j, "payload", 16);
	json_uint(&j, "messages", nmsg);
	snprintf(key, sizeof(key), "echo_each_way_queue_window_%u", WINDOW);
	json_double(&j, key, qe, 0);
	snprintf(key, sizeof(key), "echo_each_way_isr_window_%u", WINDOW);
	json_double(&j, key, ie, 0);
	json_double(&j, "host_to_core_sink", k, 0);
	snprintf(key, sizeof(key), "core_to_host_source_batch_%u", FWB_BATCH);
	json_double(&j, key, so, 0);
	json_uint(&j, "source_core_loop_ms", b.rep_ms);
	json_uint(&j, "source_core_waiting_for_buffers_ms", b.rep_wait_ms);
	json_object_end(&j);
	json_object_begin(&j, "ratio_raw_ring_over_rpmsg");
	json_double(&j, "echo_queue", ratio(re, qe), 2);
	json_double(&j, "echo_isr", ratio(re, ie), 2);
	json_double(&j, "host_to_core", ratio(rk, k), 2);
	json_double(&j, "core_to_host", ratio(rs, so), 2);
	json_object_end(&j);
	json_object_begin(&j, "ratio_doc_raw_ring_1.5M_over_rpmsg");
	json_double(&j, "echo_isr", ratio(1.5e6, ie), 2);
	json_double(&j, "host_to_core", ratio(1.5e6, k), 2);
	json_double(&j, "core_to_host", ratio(1.5e6, so), 2);
	json_object_end(&j);
	json_db(&j, "doorbells_per_rtt_16B_queue_echo", &sq0, &sq1, samples);
	json_db(&j, "doorbells_per_rtt_16B_isr_echo", &si0, &si1, samples);
	json_object_end(&j);
	fflush(stdout);
	code = EXIT_OK;
out:
	if (have_bept)
		al_rproc_ept_remove(rp, &b.ept);
	if (have_ept)
		al_rproc_ept_remove(rp, &ept);
	if (fd >= 0)
		close(fd);
	if (ring != MAP_FAILED)
		munmap(ring, sizeof(struct fwb_raw));
	free(raw);
	free(l16);
	free(l496);
	free(li16);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&b.mu);
	pthread_cond_destroy(&b.cv);
	return code;
}
