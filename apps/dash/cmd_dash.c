/* `amplink dash`: a live telemetry page for any remote whose sensors
 * announce themselves as `sensor-<name>` services (the motor + sensor demo
 * has three). Reads every sensor (sensor_hub.h), stores every sample in
 * SQLite (amplink/telemetry.h), and serves on 127.0.0.1 only
 * (libmicrohttpd); the entry point and the routes are here, the rest in
 * dash_api.c, dash_events.c, dash_http.c, the page in dash_page.h:
 *   GET  /                      the page: a chart per series, link health, duty form
 *   GET  /chart.js              Debian's Chart.js (libjs-chart.js), from memory
 *   GET  /events                Server-Sent Events: "sample", "series" and "ack"
 *   GET  /api/series            every series and its description
 *   GET  /api/samples?series=S&limit=N | &since=MS&until=MS&points=N
 *                               stored samples (the newest N, or a range
 *                               folded into at most N points)
 *   POST /api/duty?value=N      SET_DUTY to the remote; answers with its ACK
 *   GET  /api/status            link health and counters as JSON
 *   POST /api/report, GET /api/report   what the page's self-test saw
 *   GET  /metrics               Prometheus text (dash_metrics.c, docs/metrics.md)
 * Bad requests get 400 (bad value), 404 (unknown path), 405 (method),
 * 413 (body too large); no ACK from the remote gives 504.
 *
 * Any web page the user visits can make the browser send requests to
 * 127.0.0.1, and DNS rebinding can make them look same-origin: every
 * request must name us in Host (127.0.0.1, localhost or [::1] with our
 * port) and, if it has an Origin, come from one of those; every POST must
 * carry the run's random token (X-Amplink-Token), which only the page we
 * served knows (403 otherwise). Connections are bounded in number, per
 * address, and in idle time. */
#define _GNU_SOURCE
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "amplink/linux/rpmsg_char.h"
#include "dash.h"
#include "dash_metrics.h"
#include "dash_page.h"
#include "svc_notify.h"
#include "term_safe.h"

#define CONN_MAX    64 /* connections at once (a thread each) */
#define CONN_PER_IP 48
#define CONN_IDLE_S 10 /* a connection silent this long is closed */
#define KCHAN_MAX   256

#ifndef AMPLINK_CHARTJS
#define AMPLINK_CHARTJS "/usr/share/javascript/chart.js/chart.min.js"
#endif

struct dash D;

static char token[33];	   /* hex, per run */
static char *page;	   /* dash_page with the token in it */
static unsigned http_port; /* the port we listen on, for the Host check */
/* ---- request handler ---------------------------------------------------------- */

struct req {
	char body[BODY_MAX];
	size_t len;
	bool too_big;
};

/* Whether `v` names us: 127.0.0.1, localhost or [::1], with our port,
 * after `prefix` ("" for Host, "http://" for Origin). */
static bool names_us(const char *v, const char *prefix)
{
	static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]"};
	size_t pl = strlen(prefix);
	if (!v || strncmp(v, prefix, pl) != 0)
		return false;
	v += pl;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char want[48];
		snprintf(want, sizeof(want), "%s:%u", hosts[i], http_port);
		if (strcmp(v, want) == 0)
			return true;
	}
	return false;
}

/* Why a request is refused before anything is done for it, or NULL. */
static const char *foreign(struct MHD_Connection *c, bool post)
{
	if (!names_us(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"), ""))
		return "Host must be 127.0.0.1, localhost or [::1] with this port";
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (origin && !names_us(origin, "http://"))
		return "cross-origin request refused";
	if (post) {
		const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amplink-Token");
		unsigned diff = !t || strlen(t) != 32;
		for (size_t i = 0; t && i < 32 && t[i]; i++)
			diff |= (unsigned)(t[i] ^ token[i]);
		if (diff)
			return "missing or wrong X-Amplink-Token (the page served at / has it)";
	}
	return NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	(void)cls, (void)version;
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	if (post) { /* collect the body (bounded) before answering */
		if (!*con_cls) {
			*con_cls = calloc(1, sizeof(struct req));
			return *con_cls ? MHD_YES : MHD_NO;
		}
		struct req *rq = *con_cls;
		if (*upload_size) {
			if (rq->len + *upload_size >= BODY_MAX)
				rq->too_big = true;
			else {
				memcpy(rq->body + rq->len, upload, *upload_size);
				rq->len += *upload_size;
			}
			*upload_size = 0;
			return MHD_YES;
		}
	}
	struct req *rq = *con_cls;
	const char *why = foreign(c, post);
	if (why) {
		pthread_mutex_lock(&D.mu);
		D.bad_requests++;
		pthread_mutex_unlock(&D.mu);
		return error(c, 403, why);
	}
	if (rq && rq->too_big)
		return error(c, 413, "request body too large");

	if (strcmp(url, "/") == 0) {
		if (!get)
			return error(c, 405, "use GET");
		return reply(c, 200, "text/html; charset=utf-8", page);
	}
	if (strcmp(url, "/metrics") == 0) /* Prometheus (docs/metrics.md) */
		return get ? dash_metrics_reply(c) : error(c, 405, "use GET");
	if (strcmp(url, "/chart.js") == 0)
		return get ? serve_chartjs(c) : error(c, 405, "use GET");
	if (strcmp(url, "/events") == 0)
		return get ? events_answer(c) : error(c, 405, "use GET");
	if (strcmp(url, "/api/series") == 0)
		return get ? api_series(c) : error(c, 405, "use GET");
	if (strcmp(url, "/api/samples") == 0)
		return get ? api_samples(c) : error(c, 405, "use GET");
	if (strcmp(url, "/api/duty") == 0)
		return post ? api_duty(c) : error(c, 405, "use POST");
	if (strcmp(url, "/api/status") == 0)
		return get ? api_status(c) : error(c, 405, "use GET");
	if (strcmp(url, "/api/report") == 0) {
		if (!get && !post)
			return error(c, 405, "use GET or POST");
		return api_report(c, post, rq ? rq->body : "", rq ? rq->len : 0);
	}
	return error(c, 404, "no such page");
}

static void req_done(void *cls, struct MHD_Connection *c, void **con_cls,
		     enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED) { /* a stalled stream, mostly */
		pthread_mutex_lock(&D.mu);
		D.sse_timeouts++;
		pthread_mutex_unlock(&D.mu);
	}
	free(*con_cls);
	*con_cls = NULL;
}

/* ---- the remote's services ------------------------------------------------------ */

struct svc_scan {
	void (*fn)(const char *name, void *arg);
	void *arg;
};
static void svc_visit(const char *name, uint32_t addr, void *arg)
{
	(void)addr;
	struct svc_scan *sc = arg;
	sc->fn(name, sc->arg);
}

/* The hub's list: the link's service directory, or the kernel's channels. */
static void list_services(void *ctx, void (*fn)(const char *name, void *arg), void *arg)
{
	struct host_via *via = ctx;
	if (via->link) {
		struct svc_scan sc = {fn, arg};
		al_services_foreach(al_posix_rdev(via->link), svc_visit, &sc);
		return;
	}
	/* one caller at a time: the main thread until the hub starts, then the hub */
	static struct al_rpmsg_chan_info ch[KCHAN_MAX];
	int n = al_rpmsg_char_list(kernel_cfg(), ch, KCHAN_MAX);
	for (int i = 0; i < n && i < KCHAN_MAX; i++)
		if (!ch[i].name_truncated)
			fn(ch[i].name, arg);
}

struct wanted {
	bool motor, sensor;
};
static void note_service(const char *name, void *arg)
{
	struct wanted *w = arg;
	w->motor |= strcmp(name, MOTOR_SVC_CTRL) == 0;
	w->sensor |= strncmp(name, SENSOR_SVC_PREFIX, strlen(SENSOR_SVC_PREFIX)) == 0;
}

/* Wait up to wait_ms for the remote to announce motor-ctrl or a sensor
 * (the remote announces right after link-up; a little longer for the
 * rest of its sensors). */
static struct wanted wait_services(struct host_via *via, uint32_t wait_ms)
{
	struct wanted w = {0};
	for (uint32_t t = 0; t <= wait_ms && !g_stop; t += 50) {
		w = (struct wanted){0};
		list_services(via, note_service, &w);
		if ((w.motor && w.sensor) || ((w.motor || w.sensor) && t >= 500))
			break;
		struct timespec d = {0, 50000000L};
		nanosleep(&d, NULL);
	}
	return w;
}

/* Chart.js, read once: the page loads it from us (offline on a board). */
static void load_chartjs(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n = -1;
	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (16l << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		D.chartjs = buf;
		D.chartjs_len = (size_t)n;
	} else {
		free(buf);
		fprintf(stderr,
			"amplink dash: no Chart.js at %s (apt-get install libjs-chart.js, or "
			"--chartjs FILE): the page shows numbers only\n",
			path);
	}
	if (f)
		fclose(f);
}

static bool dash_link_lost(void)
{
	return (D.mh && motor_host_link_lost(D.mh)) || (D.hub && sensor_hub_link_lost(D.hub));
}

static void dash_usage(FILE *f)
{
	fprintf(f,
		"usage: amplink dash [--port P] [--db FILE] [--duration MS] [--chartjs FILE]\n"
		"                    [link options]\n\n"
		"Live telemetry page for a remote whose sensors announce themselves as\n"
		"`sensor-<name>` services (the motor + sensor demo: `amplink remote --demo\n"
		"motor`). Charts every sensor with the name, unit and range it describes\n"
		"(at most 32), stores every sample in SQLite (--db, default\n"
		"amplink-telemetry.db, table samples) and serves http://127.0.0.1:P/\n"
		"(default port 8080; 0 picks a free one; the URL is printed on stdout):\n"
		"live charts with a wall-clock axis, history ranges, zoom, the link's\n"
		"health, and a set-duty form when the remote has motor-ctrl. API: GET\n"
		"/events, /api/series, /api/samples?series=S&since=MS&until=MS&points=N,\n"
		"/api/status; POST /api/duty?value=0..100 (docs/dashboard.md); GET\n"
		"/metrics: the link's counters and the latest values in Prometheus's\n"
		"text format (docs/metrics.md).\n"
		"--chartjs FILE: Chart.js to serve (default " AMPLINK_CHARTJS ").\n"
		"Listens on 127.0.0.1 only; answers only requests addressed to 127.0.0.1,\n"
		"localhost or [::1] with its port, and a POST only with the run's token\n"
		"(X-Amplink-Token), which the page carries (docs/security.md).\n"
		"Runs until SIGINT/SIGTERM (or --duration MS).\n\n%s",
		link_usage());
}

int cmd_dash(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	uint32_t port = 8080, duration = 0;
	const char *db = "amplink-telemetry.db", *chartjs = AMPLINK_CHARTJS;
	static const struct option lo[] = {{"port", required_argument, 0, 'p'},
					   {"chartjs", required_argument, 0, 'j'},
					   {"db", required_argument, 0, 'b'},
					   {"duration", required_argument, 0, 'd'},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "p:h", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'd':
			if (!parse_u32(optarg, c == 'p' ? &port : &duration) || port > 65535) {
				fprintf(stderr, "amplink dash: bad number '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'b': db = optarg; break;
		case 'j': chartjs = optarg; break;
		case 'h': dash_usage(stdout); return EXIT_OK;
		default:
			if (!link_opt(&o, c, optarg, "dash")) {
				dash_usage(stderr);
				return EXIT_USAGE;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "amplink dash: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	pthread_mutex_init(&D.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&D.cv, &ca);
	pthread_condattr_destroy(&ca);
	if (al_tstore_open(db, &D.db) != 0)
		return EXIT_FAIL;
	struct al_posix_link *link; /* NULL on the kernel */
	int rc = host_open(&o, &link);
	int code = EXIT_OK;
	if (rc) {
		fprintf(stderr, "amplink dash: no remote on %s: %s\n", link_where(&o),
			al_strerror(rc));
		al_tstore_close(D.db);
		return exit_code_for(rc);
	}
	struct host_via via = {.o = &o, .link = link};
	D.link = link;
	D.started_ms = wall_ms();
	uint32_t wait =
	    link_is_kernel(&o) && o.cfg.connect_timeout_ms ? o.cfg.connect_timeout_ms : 5000;
	struct wanted w = wait_services(&via, wait);
	if (!w.motor && !w.sensor) {
		fprintf(stderr,
			"amplink dash: the remote announces no sensor-* service and no %s "
			"(start the demo with `amplink remote --demo motor`)\n",
			MOTOR_SVC_CTRL);
		code = EXIT_LINK;
		goto out_link;
	}
	if (w.motor) { /* commands only: the hub reads the sensors */
		rc = motor_host_open(host_via_open, &via, wait, NULL, NULL, &D.mh);
		if (rc) {
			if (link_is_kernel(&o) && via.failed)
				host_channel_failed(&o, via.failed, "dash", rc);
			else
				fprintf(stderr, "amplink dash: cannot open %s: %s\n",
					MOTOR_SVC_CTRL, al_strerror(rc));
			code = via.failed ? open_exit_code(&o, rc) : exit_code_for(rc);
			goto out_link;
		}
	}
	struct sensor_hub_cfg hc = {.open = host_via_open,
				    .list = list_services,
				    .ctx = &via,
				    .on_sample = dash_on_sample,
				    .on_change = dash_on_change,
				    .on_fault = dash_on_fault};
	rc = sensor_hub_start(&hc, &D.hub);
	if (rc) {
		fprintf(stderr, "amplink dash: %s\n", al_strerror(rc));
		code = EXIT_FAIL;
		goto out_motor;
	}
	load_chartjs(chartjs);
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		fprintf(stderr, "amplink dash: no random bytes for the request token\n");
		code = EXIT_FAIL;
		goto out_motor;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	size_t page_cap = strlen(dash_page) + sizeof(token);
	page = malloc(page_cap);
	const char *mark = strstr(dash_page, "@@TOKEN@@");
	if (!page || !mark) {
		code = EXIT_FAIL;
		goto out_motor;
	}
	snprintf(page, page_cap, "%.*s%s%s", (int)(mark - dash_page), dash_page, token,
		 mark + strlen("@@TOKEN@@"));
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
	    (uint16_t)port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &sin,
	    MHD_OPTION_NOTIFY_COMPLETED, req_done, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)CONN_IDLE_S, MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONN_PER_IP, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr,
			"amplink dash: cannot listen on 127.0.0.1:%u (in use? try --port)\n", port);
		code = EXIT_FAIL;
		goto out_motor;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	http_port = di ? di->port : (unsigned)port;
	printf("amplink dash: http://127.0.0.1:%u/ (samples stored in %s)\n",
	       di ? di->port : (unsigned)port, db);
	fflush(stdout);
	al_svc_ready("listening on http://127.0.0.1:%u/, samples stored in %s", http_port, db);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!g_stop && !dash_link_lost()) {
		al_svc_alive(); /* svc_notify.h: this loop turns */
		struct timespec dl = {0, 50000000L};
		nanosleep(&dl, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (duration && (uint64_t)(now.tv_sec - t0.tv_sec) * 1000u +
					(uint64_t)((now.tv_nsec - t0.tv_nsec) / 1000000L) >=
				    duration)
			break;
	}
	if (dash_link_lost()) {
		fprintf(stderr, "amplink dash: the remote went away\n");
		code = EXIT_LINK;
	}
	pthread_mutex_lock(&D.mu);
	D.stop = 1; /* ends the event streams */
	pthread_cond_broadcast(&D.cv);
	pthread_mutex_unlock(&D.mu);
	MHD_stop_daemon(d);
out_motor:
	free(page);
	sensor_hub_close(D.hub);
	motor_host_close(D.mh);
	free((void *)D.chartjs);
out_link:
	host_close(link);
	fprintf(stderr, "amplink dash: %ld samples stored in %s\n", al_tstore_count(D.db, NULL),
		db);
	al_tstore_close(D.db);
	return code;
}
