/* `amplink rproc start ... --echo N`: the echo demo's host side
 * run inside the remoteproc manager, over the link of the remote it just
 * booted (a Cortex-M4 under QEMU, or a process firmware). The same lines
 * and checks as `amplink echo`; a crash of the remote in the middle is
 * survived when the manager restarts it (the message in flight is sent
 * again once the service is announced anew). */
#define _GNU_SOURCE
#include "rproc_tools.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/posix_port.h"

/* One reply slot: the echo is strictly request / response. */
struct mbox {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *buf;
	size_t cap;
	long len;	/* -1: empty */
	uint32_t extra; /* replies that found the slot full */
};

static int on_rx(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)src;
	struct mbox *m = priv;
	pthread_mutex_lock(&m->mu);
	if (m->len >= 0) {
		m->extra++;
	} else {
		size_t k = len < m->cap ? len : m->cap;
		memcpy(m->buf, data, k);
		m->len = (long)len;
		pthread_cond_signal(&m->cv);
	}
	pthread_mutex_unlock(&m->mu);
	return RPMSG_SUCCESS;
}

/* Wait up to ms for a reply; its length or -1. */
static long take(struct mbox *m, uint32_t ms)
{
	struct timespec ts = al_posix_deadline(ms);
	pthread_mutex_lock(&m->mu);
	while (m->len < 0 && !g_stop)
		if (pthread_cond_timedwait(&m->cv, &m->mu, &ts) == ETIMEDOUT)
			break;
	long r = m->len;
	m->len = -1;
	pthread_mutex_unlock(&m->mu);
	return r;
}

static void fill(uint8_t *buf, uint32_t i, uint32_t size)
{
	for (uint32_t j = 0; j < size; j++)
		buf[j] = (uint8_t)(i * 31u + j * 7u + (j >> 8));
	if (size >= 4)
		memcpy(buf, &i, 4); /* the sequence number, so reordering shows */
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* al_rproc_wait_bound() that gives up early when the remote crashed and
 * will not be restarted (then `why` says how it crashed). */
static int wait_bound(struct al_rproc *rp, struct rpmsg_endpoint *ept, uint32_t ms, bool restarts,
		      char *why, size_t n)
{
	why[0] = '\0';
	for (uint32_t t = 0; t < ms && !g_stop; t += 200) {
		if (al_rproc_wait_bound(rp, ept, 200) == 0)
			return 0;
		struct al_rproc_status st;
		al_rproc_get_status(rp, &st);
		if (!restarts && st.state != AL_RPROC_RUNNING) {
			snprintf(why, n, "%s",
				 st.last_crash[0] ? st.last_crash : "the remote is down");
			return AL_ENOLINK;
		}
	}
	return AL_ETIMEDOUT;
}

int rproc_echo_run(struct al_rproc *rp, const struct rproc_echo_opts *o)
{
	const char *service = o->service ? o->service : DEFAULT_SERVICE;
	uint32_t maxp = 496; /* RPMSG_BUFFER_SIZE minus the header; checked below */
	if (o->smax > maxp) {
		fprintf(stderr, "amplink rproc: --size %u exceeds the link's payload limit %u\n",
			o->smax, maxp);
		return EXIT_USAGE;
	}
	struct mbox m = {.len = -1, .cap = maxp};
	pthread_mutex_init(&m.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m.cv, &ca);
	pthread_condattr_destroy(&ca);
	m.buf = malloc(maxp);
	uint8_t *out = malloc(maxp);
	struct rpmsg_endpoint ept;
	int code = EXIT_OK;
	if (!m.buf || !out || al_rproc_ept_add(rp, &ept, service, on_rx, &m) != 0) {
		fprintf(stderr, "amplink rproc: cannot set up the echo endpoint\n");
		code = EXIT_FAIL;
		goto done;
	}
	double t_bind = now_s();
	char why[200];
	if (wait_bound(rp, &ept, o->bind_timeout_ms, o->survive_crash, why, sizeof(why)) != 0) {
		if (why[0])
			fprintf(stderr,
				"amplink rproc: the remote went down before announcing '%s': %s\n",
				service, why);
		else
			fprintf(
			    stderr,
			    "amplink rproc: the remote did not announce '%s' within %u ms (is it "
			    "an echo firmware, e.g. build-mcu/fw_echo.elf?)\n",
			    service, o->bind_timeout_ms);
		code = EXIT_LINK;
		goto remove;
	}
	if (!o->quiet)
		fprintf(stderr, "amplink rproc: '%s' announced at 0x%x (bound after %.0f ms)\n",
			service, (unsigned)ept.dest_addr, (now_s() - t_bind) * 1e3);
	bool quiet = o->quiet || o->count > 100;
	uint64_t bytes = 0;
	uint32_t resent = 0;
	double t0 = now_s();
	for (uint32_t i = 0; i < o->count && !g_stop;) {
		int len = o->smin ? (int)(o->smin + i % (o->smax - o->smin + 1))
				  : snprintf((char *)out, maxp, "hello there %u!", i);
		if (o->smin)
			fill(out, i, (uint32_t)len);
		if (!quiet)
			printf("Sending message #%u: %s, len: %d\n", i,
			       o->smin ? "<pattern>" : (char *)out, len);
		int w = al_rproc_send(rp, &ept, out, len, 5000);
		long r = w == len ? take(&m, o->reply_timeout_ms) : -1;
		if (w != len || r < 0) {
			/* the remote crashed (or stopped answering): wait for the
			 * restarted one to announce the service, send #i again */
			if (!o->survive_crash) {
				fprintf(stderr, "amplink rproc: %s #%u: %s\n",
					w != len ? "send" : "no echo for", i,
					w != len ? al_strerror(w) : "timed out");
				code = exit_code_for(w != len ? w : AL_ETIMEDOUT);
				break;
			}
			fprintf(
			    stderr,
			    "amplink rproc: echo #%u: %s; waiting for the remote to come back\n", i,
			    w != len ? al_strerror(w) : "no echo");
			if (wait_bound(rp, &ept, o->bind_timeout_ms, true, why, sizeof(why)) != 0) {
				fprintf(
				    stderr,
				    "amplink rproc: the remote did not come back within %u ms\n",
				    o->bind_timeout_ms);
				code = EXIT_LINK;
				break;
			}
			(void)take(&m, 0); /* a late echo of the old boot */
			resent++;
			continue;
		}
		if (r != len || memcmp(m.buf, out, (size_t)len) != 0) {
			fprintf(stderr,
				"amplink rproc: echo #%u differs (sent %d bytes, got %ld)\n", i,
				len, r);
			code = EXIT_MISMATCH;
			break;
		}
		bytes += (uint64_t)len;
		if (!quiet) {
			char shown[512];
			memcpy(shown, m.buf, (size_t)r);
			shown[r] = '\0';
			printf("Receiving message #%u: %s, len: %ld\n", i,
			       o->smin ? "<pattern>" : shown, r);
			fflush(stdout);
		}
		i++;
		if (i == o->count) {
			double dt = now_s() - t0;
			fprintf(stderr,
				"amplink rproc: echo: %u messages echoed intact (%llu payload "
				"bytes) in "
				"%.3f s, %.0f round trips/s%s\n",
				i, (unsigned long long)bytes, dt, dt > 0 ? i / dt : 0.0,
				resent ? " (with resends after a crash)" : "");
		}
	}
	if (m.extra) {
		fprintf(stderr, "amplink rproc: %u unexpected extra replies\n", m.extra);
		if (code == EXIT_OK)
			code = EXIT_MISMATCH;
	}
remove:
	al_rproc_ept_remove(rp, &ept);
done:
	free(m.buf);
	free(out);
	pthread_mutex_destroy(&m.mu);
	pthread_cond_destroy(&m.cv);
	return code;
}
