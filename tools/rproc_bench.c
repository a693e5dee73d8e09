/* `amplink rproc start --machine mps2-an386 build-mcu/fw_echo.elf --bench`:
 * RPMsg against the emulated Cortex-M4, with its baseline measured in the
 * same run on the same QEMU: the bare doorbell round trip (a byte to UART2,
 * which the firmware's interrupt handler writes straight back; the same
 * UART + NVIC path the RPMsg doorbell takes, no ring).
 *
 * Measured (JSON on stdout):
 *   - raw doorbell round trip p50/p99 (baseline);
 *   - RPMsg echo round trip p50/p99 for 16 and 496 payload bytes: one
 *     message in flight, the next sent from the receive callback (the
 *     host's doorbell thread), so no extra thread hop is measured;
 *   - batched echo throughput: WINDOW messages in flight, each echo
 *     answered by a new message from the callback; messages/s each way and
 *     payload MB/s;
 *   - the ratios: RPMsg p50 / raw p50, and batched msg/s against the raw
 *     ring figures of ../shared/qemu-cortex-m.md (1.5-2.1 M msg/s, 64 per
 *     kick). */
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

/* ---- the raw doorbell baseline ------------------------------------------------ */

static int raw_rtt(const char *name, uint32_t n, uint64_t *s, char *why, size_t wl)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t l = strlen(name);
	if (l > sizeof(a.sun_path) - 2)
		l = sizeof(a.sun_path) - 2;
	memcpy(a.sun_path + 1, name, l);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + l)) < 0) {
		snprintf(why, wl, "cannot connect to the raw doorbell (UART2): %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (uint32_t i = 0; i < n + 200; i++) { /* 200 warm-up rounds */
		uint8_t c = (uint8_t)i, r;
		uint64_t t0 = now_ns();
		if (write(fd, &c, 1) != 1)
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 1000) != 1 || read(fd, &r, 1) != 1 || r != c) {
			snprintf(why, wl, "the firmware did not return byte %u on UART2 (is it fw_echo?)",
				 i);
			close(fd);
			return -1;
		}
		if (i >= 200)
			s[i - 200] = now_ns() - t0;
	}
	close(fd);
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

int rproc_bench_run(struct al_rproc *rp, const char *raw_socket, uint32_t samples)
{
	struct run r = {.rp = rp, .done = true};
	struct rpmsg_endpoint ept;
	r.ept = &ept;
	pthread_mutex_init(&r.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r.cv, &ca);
	pthread_condattr_destroy(&ca);
	uint64_t *raw = calloc(samples, sizeof(uint64_t));
	uint64_t *l16 = calloc(samples, sizeof(uint64_t));
	uint64_t *l496 = calloc(samples, sizeof(uint64_t));
	char why[200] = "";
	int code = EXIT_FAIL;
	if (!raw || !l16 || !l496 || al_rproc_ept_add(rp, &ept, DEFAULT_SERVICE, on_rx, &r) != 0)
		goto out;
	if (al_rproc_wait_bound(rp, &ept, 10000) != 0) {
		fprintf(stderr, "amplink rproc: bench: the remote did not announce '%s'\n",
			DEFAULT_SERVICE);
		code = EXIT_LINK;
		goto remove;
	}
	if (raw_rtt(raw_socket, samples, raw, why, sizeof(why)) != 0) {
		fprintf(stderr, "amplink rproc: bench: %s\n", why);
		code = EXIT_LINK;
		goto remove;
	}
	uint64_t ns16, ns496, nsb;
	const uint32_t batch = 50000;
	int rc;
	r.s = l16;
	if ((rc = run_rpmsg(&r, 16, samples, 1, &ns16)) != 0 ||
	    (r.s = l496, rc = run_rpmsg(&r, 496, samples, 1, &ns496)) != 0 ||
	    (rc = run_rpmsg(&r, 16, batch, WINDOW, &nsb)) != 0) {
		fprintf(stderr, "amplink rproc: bench: RPMsg run failed: %s\n", al_strerror(rc));
		code = exit_code_for(rc);
		goto remove;
	}
	double raw50 = pct(raw, samples, 0.5), raw99 = pct(raw, samples, 0.99);
	double a50 = pct(l16, samples, 0.5), a99 = pct(l16, samples, 0.99);
	double b50 = pct(l496, samples, 0.5), b99 = pct(l496, samples, 0.99);
	double mps = batch / (nsb / 1e9);
	printf("{\n"
	       "  \"target\": \"QEMU mps2-an386 (Cortex-M4), build-mcu/fw_echo.elf\",\n"
	       "  \"samples\": %u,\n"
	       "  \"baseline_raw_doorbell_rtt_us\": {\"p50\": %.1f, \"p99\": %.1f},\n"
	       "  \"rpmsg_rtt_16B_us\": {\"p50\": %.1f, \"p99\": %.1f},\n"
	       "  \"rpmsg_rtt_496B_us\": {\"p50\": %.1f, \"p99\": %.1f},\n"
	       "  \"rpmsg_batched_echo\": {\"window\": %u, \"messages\": %u, \"payload\": 16,\n"
	       "    \"msg_per_s_each_way\": %.0f, \"payload_MB_per_s_each_way\": %.2f},\n"
	       "  \"ratio_rtt16_p50_over_raw_p50\": %.2f,\n"
	       "  \"ratio_rtt496_p50_over_raw_p50\": %.2f,\n"
	       "  \"ratio_raw_ring_1.5M_over_batched\": %.1f\n"
	       "}\n",
	       samples, raw50, raw99, a50, a99, b50, b99, WINDOW, batch, mps, mps * 16 / 1e6,
	       raw50 > 0 ? a50 / raw50 : 0, raw50 > 0 ? b50 / raw50 : 0, mps > 0 ? 1.5e6 / mps : 0);
	fflush(stdout);
	code = EXIT_OK;
remove:
	al_rproc_ept_remove(rp, &ept);
out:
	free(raw);
	free(l16);
	free(l496);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	return code;
}
