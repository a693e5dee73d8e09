/* `amplink remote`: a remote core in a process. Serves echo services (and
 * optional tickers) to one host at a time; when the host goes away it
 * starts over with a fresh region and waits for the next one. Logs what it
 * does to the host through the "amplink-log" service (amplink/log.h; not
 * announced in the OpenAMP profile unless --log-service), and
 * with --demo motor runs the motor + sensor demo (demo_motor.c).
 * With --vhost-user SOCKET it is the VirtIO rpmsg device of a driver in
 * another process (a User-Mode Linux kernel, a VMM) instead, one front-end
 * after the other (amplink/linux/vhost_user_remote.h). */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amplink.h"
#include "amplink/linux/posix_port.h"
#include "amplink/linux/vhost_user_remote.h"
#include "amplink/log.h"
#include "amplink/rpmsg.h"
#include "bench.h"
#include "motor_demo.h"

#define MAX_SERVICES 16
#define DEFER_LEN    4096

/* An echo that could not be sent at once (no free buffer): the received
 * buffer is held and a worker thread sends it with a blocking send, so the
 * receive context never blocks and nothing is dropped. Once one echo of an
 * endpoint is deferred, the next ones queue behind it to keep their order.
 * data NULL: destroy the endpoint instead (OpenAMP's shutdown message; an
 * endpoint is not destroyed from its own callback). */
struct deferred {
	struct rpmsg_endpoint *ept;
	void *data;
	uint32_t len, src;
};

/* The payload word with which OpenAMP's ping and matrix demos end: its echo
 * app then destroys its endpoint (NS DESTROY), which is what they wait for
 * before they exit. Honoured in the OpenAMP profile. */
#define OPENAMP_SHUTDOWN_MSG 0xEF56A55Au

struct remote {
	struct al_posix_link *link;
	struct rpmsg_endpoint epts[MAX_SERVICES];
	const char *names[MAX_SERVICES];
	uint32_t addrs[MAX_SERVICES]; /* --announce-from, else RPMSG_ADDR_ANY */
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
	struct al_log log;	  /* the remote's log service */
	bool log_on;		  /* --log-service: announce and serve it */
	uint32_t stats_ms;	  /* log a stats line this often (0: never) */
	uint32_t log_flood;	  /* test: log this many lines at once when a host subscribes */
	bool demo_motor;	  /* --demo motor */
	bool bound[MAX_SERVICES]; /* a host has talked to echo service i */
	bool shut[MAX_SERVICES];  /* echo service i got the shutdown word */
	bool shutdown_word;	  /* honour OPENAMP_SHUTDOWN_MSG (OpenAMP profile) */
	bool print;		  /* --print: show every message echoed */
	/* what the periodic work of a session (session_tick) keeps */
	pthread_mutex_t session_mu; /* held by session_tick, taken by a session's end */
	bool in_session;	    /* a host or driver is attached */
	bool log_up;		    /* a host subscribed to the log */
	uint32_t last_stats;
	unsigned long tick;
};

/* The remote's clock for log timestamps: ms since the process started. */
static uint32_t remote_clock_ms(void *arg)
{
	(void)arg;
	return al_posix_process_ms();
}

/* Flood the log (--log-flood N): every line is offered without waiting;
 * those that find no buffer are dropped and counted. Then report, retrying
 * the report itself until the host has drained a buffer. */
static void log_flood(struct remote *r)
{
	struct al_log_stats before, after;
	al_log_get_stats(&r->log, &before);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < r->log_flood; i++)
		(void)al_log_printf(&r->log, AL_LOG_DEBUG, "flood line %u of %u", i, r->log_flood);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	al_log_get_stats(&r->log, &after);
	long us = (long)(t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L;
	for (int tries = 0; tries < 500 && !g_stop; tries++) {
		if (al_log_printf(&r->log, AL_LOG_NOTICE,
				  "flood done: %u lines in %ld us, sent %u, dropped %u",
				  r->log_flood, us, after.sent - before.sent,
				  after.dropped - before.dropped) >= 0)
			break;
		struct timespec d = {0, 10000000L};
		nanosleep(&d, NULL);
	}
}

/* The log service, or NULL without one (al_log_printf() then does nothing). */
static struct al_log *remote_log(struct remote *r)
{
	return r->log_on ? &r->log : NULL;
}

static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct remote *r = priv;
	long idx = ept - r->epts;
	if (idx >= 0 && idx < MAX_SERVICES && !r->bound[idx]) {
		r->bound[idx] = true; /* logging never blocks: fine in receive context */
		al_log_printf(remote_log(r), AL_LOG_INFO, "echo: host bound to '%s' from 0x%x",
			      ept->name, (unsigned)src);
	}
	if (r->print) {
		const char *c = data;
		printf("message:");
		for (size_t i = 0; i < len && c[i]; i++)
			putchar(c[i] >= 0x20 && c[i] < 0x7f ? c[i] : '.');
		printf(" len:%zu\n", len);
		fflush(stdout);
	}
	bool shutdown = false;
	if (r->shutdown_word && len == 4 && idx >= 0 && idx < MAX_SERVICES) {
		const uint8_t *b = data;
		shutdown = ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			    (uint32_t)b[3] << 24) == OPENAMP_SHUTDOWN_MSG;
	}
	pthread_mutex_lock(&r->mu);
	bool behind = r->count > 0;
	if (idx >= 0 && idx < MAX_SERVICES && r->shut[idx]) {
		pthread_mutex_unlock(&r->mu); /* shut down: nothing more is echoed */
		return RPMSG_SUCCESS;
	}
	if (shutdown) {
		/* behind the echoes already queued for it, as they came */
		r->shut[idx] = true;
		if (r->count < DEFER_LEN) {
			r->q[(r->head + r->count++) % DEFER_LEN] =
			    (struct deferred){ept, NULL, 0, src};
			pthread_cond_signal(&r->cv);
		}
		pthread_mutex_unlock(&r->mu);
		return RPMSG_SUCCESS;
	}
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
		r->q[(r->head + r->count++) % DEFER_LEN] =
		    (struct deferred){ept, data, (uint32_t)len, src};
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
		if (!d.data) {
			fprintf(stderr,
				"amplink remote: shutdown message on '%s': endpoint destroyed\n",
				d.ept->name);
			rpmsg_destroy_ept(d.ept); /* announces NS DESTROY */
			pthread_mutex_lock(&r->mu);
			r->head = (r->head + 1) % DEFER_LEN;
			r->count--;
			continue;
		}
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
	fprintf(
	    f,
	    "usage: amplink remote [--service NAME]... [--ticker NAME[:MS]] [--sink NAME] "
	    "[--once]\n"
	    "                      [--[no-]log-service] [--stats-ms MS] [--log-flood N]\n"
	    "                      [--demo motor] [link options]\n"
	    "       amplink remote --vhost-user SOCKET [--service NAME [--announce-from ADDR]]...\n"
	    "                      [--sink NAME] [--demo motor] [--print]\n\n"
	    "Run a remote core: create the shared region, announce the echo service\n"
	    "'" DEFAULT_SERVICE "' (and every --service NAME) through the name\n"
	    "service, echo every message back to its sender. Serves one host at a\n"
	    "time; when it leaves, waits for the next (--once: exit instead).\n"
	    "--ticker NAME[:MS] adds a service that sends \"tick N\" every MS ms\n"
	    "(default 100) once a host has bound to it. --sink NAME adds a service\n"
	    "that counts messages and answers an empty one with the count.\n"
	    "In the openamp profile an echo service that receives OpenAMP's shutdown\n"
	    "word (0xEF56A55A, 4 bytes) destroys its endpoint (NS DESTROY), as\n"
	    "OpenAMP's echo app does for its ping.\n"
	    "Logs go to the host through the '" AL_LOG_SERVICE "' service (`amplink log`):\n"
	    "  --log-service      announce and serve it (default, but not in the openamp\n"
	    "                     profile: OpenAMP's apps take it for a stranger)\n"
	    "  --no-log-service   do not\n"
	    "  --stats-ms MS      log a stats line every MS ms (default 5000, 0: never)\n"
	    "  --log-flood N      (tests) log N lines at once when a host subscribes\n"
	    "  --demo motor       add the motor + sensor demo services (docs/demos.md)\n"
	    "  --announce-from ADDR  the service named last (--service, or the echo\n"
	    "                     service) takes the fixed address ADDR\n"
	    "  --print            print \"message:TEXT len:N\" for each message echoed\n"
	    "  --vhost-user SOCKET  be the VirtIO rpmsg device of a vhost-user front-end\n"
	    "                     (User-Mode Linux: virtio_uml.device=SOCKET:7) instead\n"
	    "                     of a POSIX link; serves one front-end after the other\n\n%s",
	    link_usage());
}

/* The services of one link: echo, sink, ticker, log, demo. */
static int create_services(struct remote *r, struct rpmsg_device *rdev)
{
	int rc = 0;
	for (int i = 0; i < r->nsvc && rc == 0; i++) {
		rc = rpmsg_create_ept(&r->epts[i], rdev, r->names[i], r->addrs[i], RPMSG_ADDR_ANY,
				      echo_cb, NULL);
		r->epts[i].priv = r;
	}
	if (rc == 0 && r->sink)
		rc = rpmsg_create_ept(&r->sink_ept, rdev, r->sink, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				      sink_cb, NULL);
	if (rc == 0 && r->ticker)
		rc = rpmsg_create_ept(&r->tick_ept, rdev, r->ticker, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				      tick_cb, NULL);
	memset(r->bound, 0, sizeof(r->bound));
	memset(r->shut, 0, sizeof(r->shut));
	if (rc == 0 && r->log_on)
		rc = al_log_init(&r->log, rdev, AL_LOG_SERVICE, remote_clock_ms, NULL);
	if (rc == 0 && r->log_on)
		al_log_set_default(&r->log);
	if (rc == 0 && r->demo_motor)
		rc = motor_remote_start(rdev, remote_log(r));
	return rc;
}

/* Wait until the worker is done with the buffers of a link. */
static void drain_deferred(struct remote *r)
{
	pthread_mutex_lock(&r->mu);
	while (r->count) {
		pthread_mutex_unlock(&r->mu);
		struct timespec d = {0, 1000000L};
		nanosleep(&d, NULL);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
}

/* A session began: the periodic work starts over. */
static void session_begin(struct remote *r)
{
	pthread_mutex_lock(&r->session_mu);
	r->log_up = false;
	r->last_stats = remote_clock_ms(NULL);
	r->tick = 0;
	r->in_session = true;
	pthread_mutex_unlock(&r->session_mu);
}

/* A session ends: once this returns no tick sends on its device. */
static void session_finish(struct remote *r)
{
	pthread_mutex_lock(&r->session_mu);
	r->in_session = false;
	pthread_mutex_unlock(&r->session_mu);
}

/* The periodic work of a session, every tick (100 ms, or the ticker's
 * period) on either transport: greet a host that subscribed to the log
 * (and flood it, for tests), a stats line every --stats-ms, the ticker. */
static void session_tick(struct remote *r, const char *where)
{
	pthread_mutex_lock(&r->session_mu);
	if (!r->in_session) {
		pthread_mutex_unlock(&r->session_mu);
		return;
	}
	if (r->log_on && !r->log_up && is_rpmsg_ept_ready(&r->log.ept)) {
		r->log_up = true;
		rpmsg_log(AL_LOG_INFO, "log: host subscribed on %s (remote pid %d)", where,
			  (int)getpid());
		if (r->log_flood)
			log_flood(r);
	}
	uint32_t now = remote_clock_ms(NULL);
	if (r->stats_ms && now - r->last_stats >= r->stats_ms) {
		r->last_stats = now;
		struct al_log_stats ls;
		al_log_get_stats(&r->log, &ls);
		rpmsg_log(AL_LOG_INFO,
			  "stats: echoed %lu (%lu deferred), failed %lu; log sent %u, dropped %u",
			  r->echoed, r->deferred_total, r->failed, ls.sent, ls.dropped);
	}
	if (r->ticker && is_rpmsg_ept_ready(&r->tick_ept)) {
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "tick %lu", r->tick++);
		(void)rpmsg_trysend(&r->tick_ept, msg, n);
	}
	pthread_mutex_unlock(&r->session_mu);
}

/* Serve one host. Returns 0 when it left, or an error. */
/* With AMPLINK_BENCH_VERBOSE set (amplink bench passes it on), when each
 * start-up step ended, on the clock `amplink bench` prints too. */
static void trace_step(const char *what)
{
	if (getenv("AMPLINK_BENCH_VERBOSE"))
		fprintf(stderr, "[%.3f ms] remote: %s\n", (double)bench_now_ns() / 1e6, what);
}

static int serve(struct remote *r, struct link_opts *o)
{
	host_metrics_start(o, NULL); /* "none" while we wait for a host */
	int rc = al_posix_open(&o->cfg, &r->link);
	if (rc)
		return rc;
	trace_step("link open");
	struct rpmsg_device *rdev = al_posix_rdev(r->link);
	rc = create_services(r, rdev);
	trace_step("services created");
	if (rc) {
		fprintf(stderr, "amplink remote: cannot create services: %s\n", al_strerror(rc));
		al_posix_close(r->link);
		return rc;
	}
	host_metrics_start(o, r->link); /* `amplink stats --side remote` */
	char where[640];
	snprintf(where, sizeof(where), "%s", link_where(o));
	fprintf(stderr, "amplink remote: host attached on %s\n", where);
	rpmsg_log(AL_LOG_INFO, "host attached on %s", where); /* dropped until subscribed */
	session_begin(r);
	for (;;) {
		rc = al_posix_wait_down(r->link, r->ticker ? r->tick_ms : 100);
		if (rc != AL_ETIMEDOUT || g_stop)
			break;
		session_tick(r, where);
	}
	session_finish(r);
	if (rc == AL_EBROKEN)
		fprintf(stderr, "amplink remote: link broken: %s\n",
			al_virtio_broken_reason(al_posix_rvdev(r->link)));
	else if (!g_stop)
		fprintf(stderr, "amplink remote: host left\n");
	/* let the worker finish with buffers of this link before it goes */
	drain_deferred(r);
	motor_remote_stop();
	al_log_set_default(NULL);
	host_metrics_detach(r->link);
	al_posix_close(r->link);
	r->link = NULL;
	return g_stop || rc == AL_ENOLINK ? 0 : rc;
}

/* --vhost-user: one session per front-end, in the serving thread. */
static int vhu_session_start(void *arg, struct rpmsg_device *rdev)
{
	struct remote *r = arg;
	int rc = create_services(r, rdev);
	if (rc == 0) {
		fprintf(stderr, "amplink remote: a driver came up: services announced\n");
		session_begin(r);
	}
	return rc;
}

static void vhu_session_end(void *arg, struct rpmsg_device *rdev, enum al_vhu_remote_end why)
{
	struct remote *r = arg;
	(void)rdev;
	session_finish(r);
	drain_deferred(r); /* the link is down: the worker's sends fail at once */
	motor_remote_stop();
	al_log_set_default(NULL);
	fprintf(stderr, "amplink remote: the driver left (%s)\n", al_vhu_remote_end_name(why));
}

static int serve_vhost_user(struct remote *r, const char *path)
{
	struct al_vhu_remote_config cfg = {
	    .session_start = vhu_session_start, .session_end = vhu_session_end, .arg = r};
	struct al_vhu_remote *vr = al_vhu_remote_create(&cfg);
	if (!vr)
		return AL_ENOMEM;
	int rc = al_vhu_remote_listen(vr, path);
	if (rc == 0)
		rc = al_vhu_remote_start(vr);
	if (rc) {
		al_vhu_remote_destroy(vr);
		return rc;
	}
	fprintf(stderr, "amplink remote: listening for a vhost-user front-end on %s\n", path);
	char where[160];
	snprintf(where, sizeof(where), "vhost-user socket %s", path);
	while (!g_stop) {
		struct timespec d = {0, 100000000L};
		nanosleep(&d, NULL);
		session_tick(r, where);
	}
	al_vhu_remote_stop(vr);
	struct al_vhu_remote_stats st;
	al_vhu_remote_get_stats(vr, &st);
	al_vhu_remote_destroy(vr);
	fprintf(stderr,
		"amplink remote: front-ends %u, sessions %u (refused %u, broken %u), kicks %llu, "
		"messages %llu\n",
		st.connections, st.sessions, st.refused, st.broken, (unsigned long long)st.kicks,
		(unsigned long long)st.messages);
	return 0;
}

/* Stop the deferred-echo worker and say what it did. */
static void stop_worker(struct remote *r, pthread_t worker)
{
	pthread_mutex_lock(&r->mu);
	r->quit = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(worker, NULL);
	fprintf(stderr, "amplink remote: echoed %lu (%lu deferred), failed %lu\n", r->echoed,
		r->deferred_total, r->failed);
}

int cmd_remote(int argc, char **argv)
{
	trace_step("started");
	static struct remote r;
	struct link_opts o;
	bool once = false;
	int log_service = -1; /* --log-service / --no-log-service; -1: the profile's default */
	const char *vhost_user = NULL;
	for (int i = 0; i < MAX_SERVICES; i++)
		r.addrs[i] = RPMSG_ADDR_ANY;
	link_opts_init(&o, VIRTIO_DEV_DEVICE);
	o.cfg.doorbell_any = false;
	r.names[r.nsvc++] = DEFAULT_SERVICE;
	r.tick_ms = 100;
	r.stats_ms = 5000;
	static const struct option lo[] = {{"service", required_argument, 0, 's'},
					   {"ticker", required_argument, 0, 't'},
					   {"sink", required_argument, 0, 'k'},
					   {"once", no_argument, 0, '1'},
					   {"stats-ms", required_argument, 0, 'S'},
					   {"log-flood", required_argument, 0, 'F'},
					   {"demo", required_argument, 0, 'D'},
					   {"vhost-user", required_argument, 0, 'V'},
					   {"announce-from", required_argument, 0, 'A'},
					   {"print", no_argument, 0, 'P'},
					   {"log-service", no_argument, 0, 'L'},
					   {"no-log-service", no_argument, 0, 'N'},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "s:h", lo, NULL)) != -1) {
		if (c == 's') {
			if (r.nsvc == MAX_SERVICES || strlen(optarg) >= RPMSG_NAME_SIZE) {
				fprintf(stderr,
					"amplink remote: at most %d services of < 32 characters\n",
					MAX_SERVICES);
				return EXIT_USAGE;
			}
			r.names[r.nsvc++] = optarg;
		} else if (c == 't') {
			char *colon = strchr(optarg, ':');
			if (colon) {
				*colon = '\0';
				if (!parse_u32(colon + 1, &r.tick_ms) || r.tick_ms == 0) {
					fprintf(stderr, "amplink remote: bad ticker period '%s'\n",
						colon + 1);
					return EXIT_USAGE;
				}
			}
			if (strlen(optarg) >= RPMSG_NAME_SIZE) {
				fprintf(stderr,
					"amplink remote: ticker name '%s' is %zu characters long; "
					"at most %d\n",
					optarg, strlen(optarg), RPMSG_NAME_SIZE - 1);
				return EXIT_USAGE;
			}
			r.ticker = optarg;
		} else if (c == '1') {
			once = true;
		} else if (c == 'k') {
			if (strlen(optarg) >= RPMSG_NAME_SIZE) {
				fprintf(stderr,
					"amplink remote: sink name '%s' is %zu characters long; at "
					"most %d\n",
					optarg, strlen(optarg), RPMSG_NAME_SIZE - 1);
				return EXIT_USAGE;
			}
			r.sink = optarg;
		} else if (c == 'S' || c == 'F') {
			if (!parse_u32(optarg, c == 'S' ? &r.stats_ms : &r.log_flood)) {
				fprintf(stderr, "amplink remote: '%s' is not a number\n", optarg);
				return EXIT_USAGE;
			}
		} else if (c == 'D') {
			if (strcmp(optarg, "motor") != 0) {
				fprintf(stderr, "amplink remote: unknown demo '%s' (motor)\n",
					optarg);
				return EXIT_USAGE;
			}
			r.demo_motor = true;
		} else if (c == 'V') {
			vhost_user = optarg;
		} else if (c == 'A') {
			if (!parse_u32(optarg, &r.addrs[r.nsvc - 1]) ||
			    r.addrs[r.nsvc - 1] == RPMSG_NS_EPT_ADDR ||
			    r.addrs[r.nsvc - 1] == RPMSG_ADDR_ANY) {
				fprintf(stderr, "amplink remote: bad address '%s'\n", optarg);
				return EXIT_USAGE;
			}
		} else if (c == 'P') {
			r.print = true;
		} else if (c == 'L' || c == 'N') {
			log_service = c == 'L';
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
	if (link_opts_check(&o))
		return EXIT_USAGE;
	/* OpenAMP's ping and echo apps print "Unexpected name service" for a
	 * name they do not know: the log service only when asked for there */
	r.log_on = log_service >= 0 ? log_service == 1 : o.cfg.profile != AL_PROFILE_OPENAMP;
	r.shutdown_word = o.cfg.profile == AL_PROFILE_OPENAMP;
	if (r.log_flood && !r.log_on) {
		fprintf(stderr, "amplink remote: --log-flood needs the log service "
				"(--log-service)\n");
		return EXIT_USAGE;
	}
	pthread_mutex_init(&r.mu, NULL);
	pthread_mutex_init(&r.session_mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	pthread_t worker;
	if (pthread_create(&worker, NULL, defer_worker, &r) != 0)
		return EXIT_FAIL;
	if (vhost_user) {
		if (r.ticker) {
			fprintf(stderr,
				"amplink remote: --ticker is not served with --vhost-user\n");
			return EXIT_USAGE;
		}
		int vrc = serve_vhost_user(&r, vhost_user);
		stop_worker(&r, worker);
		return exit_code_for(vrc);
	}
	uint32_t wait_ms = o.cfg.connect_timeout_ms;
	int rc = 0;
	if (o.cfg.profile == AL_PROFILE_OPENAMP)
		fprintf(stderr, "amplink remote: waiting for a host on %s (shared file %s)\n",
			link_where(&o), o.cfg.shm_path ? o.cfg.shm_path : "/dev/shm/openamp.shm");
	else
		fprintf(stderr, "amplink remote: waiting for a host on %s\n", link_where(&o));
	/* without --timeout, wait for each host forever: the region and the
	 * socket are made once per host, and a signal ends the wait */
	o.cfg.connect_timeout_ms = wait_ms ? wait_ms : AL_WAIT_FOREVER;
	o.cfg.cancel = &g_stop;
	while (!g_stop) {
		rc = serve(&r, &o);
		if (rc == AL_ETIMEDOUT && g_stop) {
			rc = 0;
			break;
		}
		if (rc == AL_ETIMEDOUT)
			fprintf(stderr, "amplink remote: no host came within %u ms\n", wait_ms);
		/* a host that corrupted the rings broke that link only: the
		 * next host gets a fresh one (a firmware waits for Linux to
		 * reset the vdev the same way) */
		if (rc == AL_EBROKEN && !once) {
			rc = 0;
			continue;
		}
		if (rc || once)
			break;
	}
	stop_worker(&r, worker);
	return exit_code_for(rc);
}
