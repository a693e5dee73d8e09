/* `amplink dash`: the telemetry page of the motor + sensor demo (the
 * remote core reports an ADC value every second and the temperature every
 * 100 ms; the page draws them as live curves). Attaches
 * to a remote running the motor demo, stores every sample in SQLite
 * (amplink/telemetry.h), and serves on 127.0.0.1 only (libmicrohttpd):
 *   GET  /                      the page (dash_page.h): live chart + duty form
 *   GET  /events                Server-Sent Events: "sample" and "ack" events
 *   GET  /api/samples?series=S&limit=N   stored samples as JSON (from SQLite)
 *   POST /api/duty?value=N      SET_DUTY to the remote; answers with its ACK
 *   GET  /api/status            counters as JSON
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
#include "dash_metrics.h"
#include "dash_page.h"
#include "motor_host.h"
#include "telemetry.h"
#include "term_safe.h"

#define RING	 1024
#define EV_LEN	 192
#define BODY_MAX 2048

#define CONN_MAX    64 /* connections at once (a thread each) */
#define CONN_PER_IP 48
#define CONN_IDLE_S 10 /* a connection silent this long is closed */

static char token[33];	   /* hex, per run */
static char *page;	   /* dash_page with the token in it */
static unsigned http_port; /* the port we listen on, for the Host check */
static struct dash {
	struct al_tstore *db;
	struct motor_host *mh;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char ev[RING][EV_LEN]; /* the last RING events, SSE-formatted */
	uint64_t head;	       /* events ever pushed */
	int clients;
	volatile int stop;
	uint64_t acks, db_errors, bad_requests;
	char report[BODY_MAX];
} D;

static int64_t wall_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void push_event(const char *ev)
{
	pthread_mutex_lock(&D.mu);
	snprintf(D.ev[D.head % RING], EV_LEN, "%s", ev);
	D.head++;
	pthread_cond_broadcast(&D.cv);
	pthread_mutex_unlock(&D.mu);
}

/* Motor reader thread: store and publish. */
static void on_sample(void *user, int series, const struct sensor_sample *s)
{
	(void)user;
	const char *name = series == SERIES_TEMP ? "temp" : "adc";
	double v = series == SERIES_TEMP ? s->value / 1000.0 : (double)s->value;
	struct al_tsample ts = {name, wall_ms(), s->ts_ms, s->seq, v};
	if (al_tstore_add(D.db, &ts) != 0)
		D.db_errors++;
	dash_metrics_sample(name, v);
	char ev[EV_LEN];
	snprintf(ev, sizeof(ev),
		 "event: sample\ndata: "
		 "{\"series\":\"%s\",\"seq\":%u,\"remote_ms\":%u,\"value\":%.3f}\n\n",
		 name, s->seq, s->ts_ms, v);
	push_event(ev);
}

/* ---- SSE ------------------------------------------------------------------- */

struct sse {
	uint64_t cursor;
};

/* MHD connection thread: block up to 1 s for the next event. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct sse *c = cls;
	pthread_mutex_lock(&D.mu);
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 1;
	while (c->cursor == D.head && !D.stop)
		if (pthread_cond_timedwait(&D.cv, &D.mu, &dl) != 0)
			break;
	if (D.stop) {
		pthread_mutex_unlock(&D.mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (D.head - c->cursor > RING)
		c->cursor = D.head - RING; /* too slow: skip what was overwritten */
	size_t n = 0;
	while (c->cursor < D.head) {
		const char *e = D.ev[c->cursor % RING];
		size_t l = strlen(e);
		if (n + l > max)
			break;
		memcpy(buf + n, e, l);
		n += l;
		c->cursor++;
	}
	pthread_mutex_unlock(&D.mu);
	if (n == 0) { /* keep-alive comment */
		memcpy(buf, ": ka\n\n", 6);
		n = 6;
	}
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	pthread_mutex_lock(&D.mu);
	D.clients--;
	pthread_mutex_unlock(&D.mu);
	free(cls);
}

/* ---- helpers ---------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     const char *body)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result error(struct MHD_Connection *c, unsigned code, const char *msg)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", msg);
	pthread_mutex_lock(&D.mu);
	D.bad_requests++;
	pthread_mutex_unlock(&D.mu);
	return reply(c, code, "application/json", body);
}

struct jbuf {
	char *p;
	size_t len, cap;
	int n;
};
static void jput(struct jbuf *j, const char *s)
{
	size_t l = strlen(s);
	if (j->len + l + 1 > j->cap) {
		size_t cap = (j->cap + l + 1) * 2;
		char *p = realloc(j->p, cap);
		if (!p)
			return;
		j->p = p;
		j->cap = cap;
	}
	memcpy(j->p + j->len, s, l + 1);
	j->len += l;
}
static void sample_json(const struct al_tsample *s, void *arg)
{
	struct jbuf *j = arg;
	char row[160];
	snprintf(row, sizeof(row),
		 "%s{\"host_ms\":%lld,\"remote_ms\":%u,\"seq\":%u,\"value\":%.3f}",
		 j->n++ ? "," : "", (long long)s->host_ms, s->remote_ms, s->seq, s->value);
	jput(j, row);
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	if (!s || !*s)
		return false;
	long v = strtol(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

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
	if (strcmp(url, "/events") == 0) {
		if (!get)
			return error(c, 405, "use GET");
		struct sse *s = calloc(1, sizeof(*s));
		if (!s)
			return MHD_NO;
		pthread_mutex_lock(&D.mu);
		s->cursor = D.head > 200 ? D.head - 200 : 0; /* a little history first */
		D.clients++;
		pthread_mutex_unlock(&D.mu);
		struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 8192,
									   sse_read, s, sse_free);
		if (!r) {
			sse_free(s);
			return MHD_NO;
		}
		MHD_add_response_header(r, "Content-Type", "text/event-stream");
		MHD_add_response_header(r, "Cache-Control", "no-store");
		enum MHD_Result ret = MHD_queue_response(c, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/api/samples") == 0) {
		if (!get)
			return error(c, 405, "use GET");
		const char *series =
		    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "series");
		const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
		long limit = 300;
		if (!series || (strcmp(series, "temp") && strcmp(series, "adc")))
			return error(c, 400, "series must be temp or adc");
		if (lim && !parse_int(lim, 1, 100000, &limit))
			return error(c, 400, "limit must be 1..100000");
		struct jbuf j = {0};
		jput(&j, "[");
		int n = al_tstore_query(D.db, series, 0, (int)limit, sample_json, &j);
		jput(&j, "]\n");
		enum MHD_Result ret = n < 0 || !j.p ? error(c, 500, "database error")
						    : reply(c, 200, "application/json", j.p);
		free(j.p);
		return ret;
	}
	if (strcmp(url, "/api/duty") == 0) {
		if (!post)
			return error(c, 405, "use POST");
		long v;
		if (!parse_int(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "value"), 0,
			       100, &v))
			return error(c, 400, "value must be a duty in percent, 0..100");
		struct motor_ack a;
		int rc = motor_host_command(D.mh, MOTOR_SET_DUTY, (int32_t)v, 2000, &a);
		if (rc)
			return error(c, 504, "the remote did not acknowledge");
		char body[200];
		snprintf(body, sizeof(body), "{\"status\":\"%s\",\"duty\":%d,\"seq\":%u}\n",
			 a.status == MOTOR_OK ? "ok" : motor_status_name(a.status), (int)a.duty,
			 a.seq);
		char ev[EV_LEN];
		snprintf(ev, sizeof(ev),
			 "event: ack\ndata: {\"status\":\"%s\",\"duty\":%d,\"seq\":%u}\n\n",
			 a.status == MOTOR_OK ? "ok" : "refused", (int)a.duty, a.seq);
		pthread_mutex_lock(&D.mu);
		D.acks++;
		pthread_mutex_unlock(&D.mu);
		push_event(ev);
		struct al_tsample ts = {"duty", wall_ms(), 0, a.seq, (double)a.duty};
		(void)al_tstore_add(D.db, &ts);
		return reply(c, 200, "application/json", body);
	}
	if (strcmp(url, "/api/status") == 0) {
		if (!get)
			return error(c, 405, "use GET");
		struct motor_host_stats st;
		motor_host_get_stats(D.mh, &st);
		char body[400];
		pthread_mutex_lock(&D.mu);
		snprintf(
		    body, sizeof(body),
		    "{\"temp\":%llu,\"adc\":%llu,\"stored\":%ld,\"acks\":%llu,\"malformed\":%llu,"
		    "\"sse_clients\":%d,\"bad_requests\":%llu,\"link\":\"%s\"}\n",
		    (unsigned long long)st.samples[SERIES_TEMP],
		    (unsigned long long)st.samples[SERIES_ADC], al_tstore_count(D.db, NULL),
		    (unsigned long long)D.acks, (unsigned long long)st.malformed, D.clients,
		    (unsigned long long)D.bad_requests, motor_host_link_lost(D.mh) ? "lost" : "up");
		pthread_mutex_unlock(&D.mu);
		return reply(c, 200, "application/json", body);
	}
	if (strcmp(url, "/api/report") == 0) {
		if (post) {
			pthread_mutex_lock(&D.mu);
			memcpy(D.report, rq->body, rq->len);
			D.report[rq->len] = 0;
			pthread_mutex_unlock(&D.mu);
			/* what the page, or any local client, posted */
			fputs("amplink dash: page report: ", stderr);
			term_line(stderr, D.report, rq->len);
			return reply(c, 200, "application/json", "{}\n");
		}
		if (!get)
			return error(c, 405, "use GET or POST");
		char body[BODY_MAX + 2];
		pthread_mutex_lock(&D.mu);
		snprintf(body, sizeof(body), "%s\n", D.report[0] ? D.report : "{}");
		pthread_mutex_unlock(&D.mu);
		return reply(c, 200, "application/json", body);
	}
	return error(c, 404, "no such page");
}

static void req_done(void *cls, struct MHD_Connection *c, void **con_cls,
		     enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static void dash_usage(FILE *f)
{
	fprintf(f,
		"usage: amplink dash [--port P] [--db FILE] [--duration MS] [link options]\n\n"
		"Telemetry page for the motor + sensor demo (remote: `amplink remote --demo\n"
		"motor`). Stores every sample in SQLite (--db, default amplink-telemetry.db,\n"
		"table samples) and serves http://127.0.0.1:P/ (default port 8080; 0 picks a\n"
		"free one; the URL is printed on stdout): a live chart of the temperature\n"
		"and ADC series (Server-Sent Events) and a form that sends set-duty\n"
		"commands. API: GET /events, GET /api/samples?series=temp|adc&limit=N,\n"
		"POST /api/duty?value=0..100, GET /api/status. Listens on 127.0.0.1 only;\n"
		"answers only requests addressed to 127.0.0.1, localhost or [::1] with its\n"
		"port, and a POST only with the run's token (X-Amplink-Token), which the\n"
		"page carries (docs/security.md).\n"
		"Runs until SIGINT/SIGTERM (or --duration MS).\n\n%s",
		link_usage());
}

int cmd_dash(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	uint32_t port = 8080, duration = 0;
	const char *db = "amplink-telemetry.db";
	static const struct option lo[] = {{"port", required_argument, 0, 'p'},
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
		fprintf(stderr, "amplink dash: no remote on link '%s': %s\n", o.cfg.name,
			al_strerror(rc));
		al_tstore_close(D.db);
		return exit_code_for(rc);
	}
	struct host_via via = {.o = &o, .link = link};
	uint32_t wait =
	    link_is_kernel(&o) && o.cfg.connect_timeout_ms ? o.cfg.connect_timeout_ms : 5000;
	rc = motor_host_open(host_via_open, &via, wait, on_sample, NULL, &D.mh);
	if (rc) {
		if (link_is_kernel(&o) && via.failed)
			host_channel_failed(&o, via.failed, "dash", rc);
		else
			fprintf(stderr,
				"amplink dash: the remote has no motor demo (start it with "
				"`amplink remote --demo motor`): %s\n",
				al_strerror(rc));
		code = via.failed ? open_exit_code(&o, rc) : exit_code_for(rc);
		goto out_link;
	}
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		fprintf(stderr, "amplink dash: no random bytes for the request token\n");
		code = EXIT_FAIL;
		goto out_motor;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	page = malloc(sizeof(dash_page) + sizeof(token));
	const char *mark = strstr(dash_page, "@@TOKEN@@");
	if (!page || !mark) {
		code = EXIT_FAIL;
		goto out_motor;
	}
	snprintf(page, sizeof(dash_page) + sizeof(token), "%.*s%s%s", (int)(mark - dash_page),
		 dash_page, token, mark + strlen("@@TOKEN@@"));
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
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!g_stop && !motor_host_link_lost(D.mh)) {
		struct timespec dl = {0, 50000000L};
		nanosleep(&dl, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (duration && (uint64_t)(now.tv_sec - t0.tv_sec) * 1000u +
					(uint64_t)((now.tv_nsec - t0.tv_nsec) / 1000000L) >=
				    duration)
			break;
	}
	if (motor_host_link_lost(D.mh)) {
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
	motor_host_close(D.mh);
out_link:
	host_close(link);
	fprintf(stderr, "amplink dash: %ld samples stored in %s\n", al_tstore_count(D.db, NULL),
		db);
	al_tstore_close(D.db);
	return code;
}
