/* `amplink remote`: a remote core in a process. Serves echo services (and
 * optional tickers) to one host at a time; when the host goes away it
 * starts over with a fresh region and waits for the next one. */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amplink.h"
#include "amplink/rpmsg.h"

#define MAX_SERVICES 16
#define DEFER_LEN 4096

/* An echo that could not be sent at once (no free buffer): the received
 * buffer is held and a worker thread sends it with a blocking send, so the
 * receive context never blocks and nothing is dropped. Once one echo of an
 * endpoint is deferred, the next ones queue behind it to keep their order. */
struct deferred {
	struct rpmsg_endpoint *ept;
	void *data;
	uint32_t len, src;
};

struct remote {
	struct al_posix_link *link;
	struct rpmsg_endpoint epts[MAX_SERVICES];
	const char *names[MAX_SERVICES];
	int nsvc;
	const char *ticker;
	const char *sink;
	struct rpmsg_endpoint sink_ept;
	uint32_t tick_ms;
	struct rpmsg_endpoint tick_ept;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct deferred q[DEFER_LEN];
	unsigned head, count;
	bool quit;
	unsigned long echoed, deferred_total, failed;
};

static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct remote *r = priv;
	pthread_mutex_lock(&r->mu);
	bool behind = r->count > 0;
	pthread_mutex_unlock(&r->mu);
	if (!behind) {
		int rc = rpmsg_trysendto(ept, data, (int)len, src);
		if (rc >= 0) {
			r->echoed++;
			return RPMSG_SUCCESS;
		}
		if (rc != AL_ENOBUFS) {
			r->failed++;
			return RPMSG_SUCCESS;
		}
	}
	pthread_mutex_lock(&r->mu);
	if (r->count < DEFER_LEN && al_rpmsg_hold_rx_buffer(ept, data) == 0) {
		r->q[(r->head + r->count++) % DEFER_LEN] = (struct deferred){ept, data, (uint32_t)len, src};
		r->deferred_total++;
		pthread_cond_signal(&r->cv);
	} else {
		r->failed++;
	}
	pthread_mutex_unlock(&r->mu);
	return RPMSG_SUCCESS;
}

static void *defer_worker(void *arg)
{
	struct remote *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->count && !r->quit)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->quit && !r->count)
			break;
		struct deferred d = r->q[r->head];
		pthread_mutex_unlock(&r->mu);
		int rc = al_send_timeout(d.ept, d.ept->addr, d.src, d.data, (int)d.len, 5000);
		al_rpmsg_release_rx_buffer(d.ept, d.data);
		pthread_mutex_lock(&r->mu);
		if (rc >= 0)
			r->echoed++;
		else
			r->failed++;
		r->head = (r->head + 1) % DEFER_LEN;
		r->count--;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Sink: count messages; an empty message asks for the count (8 bytes),
 * which also resets it. For `amplink bench` one-way throughput. */
static uint64_t sink_count;
static int sink_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)data, (void)priv;
	if (len == 0) {
		uint64_t n = sink_count;
		sink_count = 0;
		(void)al_send_timeout(ept, ept->addr, src, &n, sizeof(n), 1000);
	} else {
		sink_count++;
	}
	return RPMSG_SUCCESS;
}

static int tick_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)data, (void)len, (void)src, (void)priv;
	return RPMSG_SUCCESS;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: amplink remote [--service NAME]... [--ticker NAME[:MS]] [--sink NAME] [--once]\n"
		"                      [link options]\n\n"
		"Run a remote core: create the shared region, announce the echo service\n"
		"'" DEFAULT_SERVICE "' (and every --service NAME) through the name\n"
		"service, echo every message back to its sender. Serves one host at a\n"
		"time; when it leaves, waits for the next (--once: exit instead).\n"
		"--ticker NAME[:MS] adds a service that sends \"tick N\" every MS ms\n"
		"(default 100) once a host has bound to it. --sink NAME adds a service\n"
		"that counts messages and answers an empty one with the count.\n\n%s",
		link_usage());
}

/* Serve one host. Returns 0 when it left, or an error. */
static int serve(struct remote *r, struct link_opts *o)
{
	int rc = al_posix_open(&o->cfg, &r->link);
	if (rc)
		return rc;
	struct rpmsg_device *rdev = al_posix_rdev(r->link);
	for (int i = 0; i < r->nsvc && rc == 0; i++) {
		rc = rpmsg_create_ept(&r->epts[i], rdev, r->names[i], RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				      echo_cb, NULL);
		r->epts[i].priv = r;
	}
	if (rc == 0 && r->sink)
		rc = rpmsg_create_ept(&r->sink_ept, rdev, r->sink, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				      sink_cb, NULL);
	if (rc == 0 && r->ticker)
		rc = rpmsg_create_ept(&r->tick_ept, rdev, r->ticker, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				      tick_cb, NULL);
	if (rc) {
		fprintf(stderr, "amplink remote: cannot create services: %s\n", al_strerror(rc));
		al_posix_close(r->link);
		return rc;
	}
	fprintf(stderr, "amplink remote: host attached to link '%s'\n", o->cfg.name);
	unsigned long tick = 0;
	for (;;) {
		rc = al_posix_wait_down(r->link, r->ticker ? r->tick_ms : 100);
		if (rc != AL_ETIMEDOUT || g_stop)
			break;
		if (r->ticker && is_rpmsg_ept_ready(&r->tick_ept)) {
			char msg[32];
			int n = snprintf(msg, sizeof(msg), "tick %lu", tick++);
			(void)rpmsg_trysend(&r->tick_ept, msg, n);
		}
	}
	if (rc == AL_EBROKEN)
		fprintf(stderr, "amplink remote: link broken: %s\n",
			rpmsg_virtio_broken_reason(al_posix_rvdev(r->link)));
	else if (!g_stop)
		fprintf(stderr, "amplink remote: host left\n");
	/* let the worker finish with buffers of this link before it goes */
	pthread_mutex_lock(&r->mu);
	while (r->count) {
		pthread_mutex_unlock(&r->mu);
		struct timespec d = {0, 1000000L};
		nanosleep(&d, NULL);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	al_posix_close(r->link);
	r->link = NULL;
	return g_stop || rc == AL_ENOLINK ? 0 : rc;
}

int cmd_remote(int argc, char **argv)
{
	static struct remote r;
	struct link_opts o;
	bool once = false;
	link_opts_init(&o, VIRTIO_DEV_DEVICE);
	o.cfg.doorbell_any = false;
	r.names[r.nsvc++] = DEFAULT_SERVICE;
	r.tick_ms = 100;
	static const struct option lo[] = {{"service", required_argument, 0, 's'},
					   {"ticker", required_argument, 0, 't'},
					   {"sink", required_argument, 0, 'k'},
					   {"once", no_argument, 0, '1'},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "s:h", lo, NULL)) != -1) {
		if (c == 's') {
			if (r.nsvc == MAX_SERVICES || strlen(optarg) >= RPMSG_NAME_SIZE) {
				fprintf(stderr, "amplink remote: at most %d services of < 32 characters\n",
					MAX_SERVICES);
				return EXIT_USAGE;
			}
			r.names[r.nsvc++] = optarg;
		} else if (c == 't') {
			char *colon = strchr(optarg, ':');
			if (colon) {
				*colon = '\0';
				if (!parse_u32(colon + 1, &r.tick_ms) || r.tick_ms == 0) {
					fprintf(stderr, "amplink remote: bad ticker period '%s'\n", colon + 1);
					return EXIT_USAGE;
				}
			}
			r.ticker = optarg;
		} else if (c == '1') {
			once = true;
		} else if (c == 'k') {
			r.sink = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else if (!link_opt(&o, c, optarg, "remote")) {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "amplink remote: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	pthread_t worker;
	if (pthread_create(&worker, NULL, defer_worker, &r) != 0)
		return EXIT_FAIL;
	uint32_t wait_ms = o.cfg.connect_timeout_ms;
	int rc = 0;
	while (!g_stop) {
		/* without --timeout, wait for hosts forever, a slice at a time */
		o.cfg.connect_timeout_ms = wait_ms ? wait_ms : 500;
		rc = serve(&r, &o);
		if (rc == AL_ETIMEDOUT && !wait_ms) {
			rc = 0;
			continue;
		}
		if (rc || once)
			break;
	}
	pthread_mutex_lock(&r.mu);
	r.quit = true;
	pthread_cond_signal(&r.cv);
	pthread_mutex_unlock(&r.mu);
	pthread_join(worker, NULL);
	fprintf(stderr, "amplink remote: echoed %lu (%lu deferred), failed %lu\n", r.echoed,
		r.deferred_total, r.failed);
	return exit_code_for(rc);
}
