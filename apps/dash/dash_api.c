/* The JSON APIs of `amplink dash` and the sensor hub's callbacks that feed
 * them (routes in cmd_dash.c, shapes in docs/dashboard.md):
 *   /api/series   what every sensor says about itself
 *   /api/samples  stored samples: the newest N, or a time range folded
 *                 into at most `points` buckets
 *   /api/status   the link's health and every counter of dropped input
 *   /api/duty     a command to the motor, answered with its ACK
 *   /api/report   what the page's self-test saw
 *   /chart.js     Debian's Chart.js, served from memory */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "amplink.h"
#include "dash.h"
#include "dash_metrics.h"
#include "json_writer.h"
#include "term_safe.h"

#define POINTS_DEFAULT 1000
#define POINTS_MAX     5000

/* ---- the hub's callbacks (its reader thread) ------------------------------- */

void dash_on_sample(void *user, int idx, const char *key, int64_t host_ms, uint32_t remote_ms,
		    uint32_t seq, double value)
{
	(void)user, (void)idx;
	struct al_tsample ts = {key, host_ms, remote_ms, seq, value};
	if (al_tstore_add(D.db, &ts) != 0) {
		pthread_mutex_lock(&D.mu);
		D.db_errors++;
		pthread_mutex_unlock(&D.mu);
	}
	dash_metrics_sample(key, value); /* the latest value, for /metrics */
	/* key is [A-Za-z0-9_-] (sensor_key), value finite (sensor_value) */
	char ev[EV_LEN];
	snprintf(ev, sizeof(ev),
		 "event: sample\ndata: {\"series\":\"%s\",\"t\":%lld,\"seq\":%u,"
		 "\"remote_ms\":%u,\"value\":%.7g}\n\n",
		 key, (long long)host_ms, seq, remote_ms, value);
	push_event(ev);
}

void dash_on_change(void *user, int idx)
{
	(void)user;
	char ev[64];
	snprintf(ev, sizeof(ev), "event: series\ndata: {\"idx\":%d}\n\n", idx);
	push_event(ev);
}

/* On stderr at most once a second (a remote can refuse at any rate); the
 * counters in /api/status have every one. */
void dash_on_fault(void *user, const char *sentence)
{
	(void)user;
	static int64_t last;
	static uint64_t quiet;
	int64_t now = wall_ms();
	if (now - last < 1000) {
		quiet++;
		return;
	}
	last = now;
	fputs("amplink dash: ", stderr);
	if (quiet)
		fprintf(stderr, "(%llu more refusals) ", (unsigned long long)quiet);
	quiet = 0;
	term_line(stderr, sentence, strlen(sentence));
}

/* ---- /api/series ------------------------------------------------------------- */

static void series_json(struct json_writer *j, const struct hub_series *s)
{
	json_object_begin(j, NULL);
	json_string(j, "key", s->key);
	json_string(j, "label", s->desc.label);
	json_string(j, "unit", s->desc.unit);
	json_string(j, "format", s->desc.format == SENSOR_FMT_FLOAT32 ? "float32" : "int32");
	json_uint(j, "scale", s->desc.scale);
	json_uint(j, "period_ms", s->desc.period_ms);
	json_double(j, "min", s->desc.min, 3);
	json_double(j, "max", s->desc.max, 3);
	json_bool(j, "described", s->described);
	json_uint(j, "samples", s->samples);
	json_uint(j, "dropped", s->dropped);
	if (s->last_ms) {
		json_double(j, "last", s->last, 4);
		json_int(j, "last_ms", s->last_ms);
	} else {
		json_null(j, "last");
		json_null(j, "last_ms");
	}
	json_object_end(j);
}

/* Visit a copy of every series (one copy at a time: a series is about
 * 100 bytes, 32 of them too many for a connection thread's stack). */
static int each_series(void (*fn)(const struct hub_series *s, void *arg), void *arg)
{
	static struct hub_series all[SENSOR_HUB_MAX];
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* guards `all` */
	pthread_mutex_lock(&mu);
	int n = sensor_hub_series(D.hub, all, SENSOR_HUB_MAX);
	for (int i = 0; i < n; i++)
		fn(&all[i], arg);
	pthread_mutex_unlock(&mu);
	return n;
}

static void series_visit(const struct hub_series *s, void *arg)
{
	series_json(arg, s);
}

enum MHD_Result api_series(struct MHD_Connection *c)
{
	struct jdoc d;
	if (!jdoc_open(&d))
		return error(c, 500, "out of memory");
	json_object_begin(&d.j, NULL);
	json_int(&d.j, "max", SENSOR_HUB_MAX);
	json_array_begin(&d.j, "series");
	each_series(series_visit, &d.j);
	json_array_end(&d.j);
	json_object_end(&d.j);
	return json_reply(c, &d);
}

/* ---- /api/samples ------------------------------------------------------------- */

struct lookup {
	const char *key;
	bool found;
};
static void match(const struct hub_series *s, void *arg)
{
	struct lookup *l = arg;
	l->found |= strcmp(s->key, l->key) == 0;
}

/* A series we may answer for: one the hub reads, "duty", or one stored. */
static bool series_known(const char *key)
{
	struct lookup l = {key, strcmp(key, "duty") == 0};
	if (!l.found)
		each_series(match, &l);
	return l.found || al_tstore_count(D.db, key) > 0;
}

static void sample_json(const struct al_tsample *s, void *arg)
{
	struct json_writer *j = arg;
	json_object_begin(j, NULL);
	json_int(j, "host_ms", s->host_ms);
	json_uint(j, "remote_ms", s->remote_ms);
	json_uint(j, "seq", s->seq);
	json_double(j, "value", s->value, 4);
	json_object_end(j);
}

static void bucket_json(const struct al_tbucket *b, void *arg)
{
	struct json_writer *j = arg;
	json_object_begin(j, NULL);
	json_int(j, "host_ms", b->t_ms);
	json_double(j, "value", b->avg, 4);
	if (b->n > 1) {
		json_double(j, "min", b->min, 4);
		json_double(j, "max", b->max, 4);
	}
	json_uint(j, "n", b->n);
	json_object_end(j);
}

enum MHD_Result api_samples(struct MHD_Connection *c)
{
#define ARG(name) MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name)
	const char *series = ARG("series");
	const char *lim = ARG("limit"), *since = ARG("since"), *until = ARG("until"),
		   *points = ARG("points");
#undef ARG
	long limit = 300, npoints = POINTS_DEFAULT;
	int64_t t0 = 0, t1 = wall_ms();
	if (!series || !series_known(series))
		return error(c, 400, "unknown series (GET /api/series lists them)");
	if (lim && !parse_int(lim, 1, 100000, &limit))
		return error(c, 400, "limit must be 1..100000");
	if (since && !parse_i64(since, 0, INT64_MAX / 4, &t0))
		return error(c, 400, "since must be ms since the epoch");
	if (until && !parse_i64(until, 0, INT64_MAX / 4, &t1))
		return error(c, 400, "until must be ms since the epoch");
	if (points && !parse_int(points, 1, POINTS_MAX, &npoints))
		return error(c, 400, "points must be 1..5000");
	bool range = since || until || points;
	if (range && t1 < t0)
		return error(c, 400, "until is before since");
	struct jdoc d;
	if (!jdoc_open(&d))
		return error(c, 500, "out of memory");
	json_array_begin(&d.j, NULL);
	int n = range ? al_tstore_range(D.db, series, t0, t1, (int)npoints, bucket_json, &d.j)
		      : al_tstore_query(D.db, series, 0, (int)limit, sample_json, &d.j);
	json_array_end(&d.j);
	if (n < 0) {
		fclose(d.f);
		free(d.p);
		return error(c, 500, "database error");
	}
	return json_reply(c, &d);
}

/* ---- /api/status -------------------------------------------------------------- */

static void link_json(struct json_writer *j, int64_t now, const struct hub_stats *hs)
{
	const char *state = "up", *why = NULL;
	if ((D.mh && motor_host_link_lost(D.mh)) || sensor_hub_link_lost(D.hub))
		state = "lost";
	if (D.link) {
		struct rpmsg_virtio_device *rv = al_posix_rvdev(D.link);
		int st = al_virtio_link_state(rv);
		state = st == AL_LINK_UP     ? state
			: st == AL_LINK_DOWN ? "down"
			: st == AL_LINK_LOST ? "lost"
					     : "broken";
		if (st == AL_LINK_BROKEN)
			why = al_virtio_broken_reason(rv);
	}
	json_string(j, "link", state);
	json_string(j, "transport", D.link ? "amplink" : "kernel rpmsg");
	json_int(j, "uptime_ms", now - D.started_ms);
	if (hs->last_rx_ms) {
		/* every sensor reports periodically: its messages are the heartbeat */
		json_int(j, "heartbeat_age_ms", now - hs->last_rx_ms);
		json_uint(j, "remote_uptime_ms", hs->remote_ms);
	} else {
		json_null(j, "heartbeat_age_ms");
		json_null(j, "remote_uptime_ms");
	}
	json_string(j, "last_fault", why ? why : hs->last_fault[0] ? hs->last_fault : NULL);
	if (D.link) {
		struct rpmsg_stats ls;
		al_get_stats(al_posix_rdev(D.link), &ls);
		json_object_begin(j, "link_counters");
		json_uint(j, "tx_msgs", ls.tx_msgs);
		json_uint(j, "rx_msgs", ls.rx_msgs);
		json_uint(j, "rx_unknown_dst", ls.rx_unknown_dst);
		json_uint(j, "ns_malformed", ls.ns_malformed);
		json_uint(j, "tx_no_buf", ls.tx_no_buf);
		json_object_end(j);
	}
}

enum MHD_Result api_status(struct MHD_Connection *c)
{
	struct hub_stats hs;
	sensor_hub_stats(D.hub, &hs);
	struct motor_host_stats ms = {0};
	if (D.mh)
		motor_host_get_stats(D.mh, &ms);
	long stored = al_tstore_count(D.db, NULL);
	struct jdoc d;
	if (!jdoc_open(&d))
		return error(c, 500, "out of memory");
	json_object_begin(&d.j, NULL);
	link_json(&d.j, wall_ms(), &hs);
	json_int(&d.j, "series", hs.series);
	json_uint(&d.j, "samples", hs.samples);
	json_uint(&d.j, "rx_msgs", hs.rx_msgs);
	json_uint(&d.j, "rx_bytes", hs.rx_bytes);
	json_int(&d.j, "stored", stored);
	pthread_mutex_lock(&D.mu);
	json_uint(&d.j, "acks", D.acks);
	json_int(&d.j, "sse_clients", D.clients);
	json_bool(&d.j, "motor", D.mh != NULL);
	json_object_begin(&d.j, "dropped");
	json_uint(&d.j, "malformed", hs.malformed + ms.malformed);
	json_uint(&d.j, "not_finite", hs.not_finite);
	json_uint(&d.j, "out_of_range", hs.out_of_range);
	json_uint(&d.j, "undescribed", hs.undescribed);
	json_uint(&d.j, "bad_description", hs.bad_desc);
	json_uint(&d.j, "bad_name", hs.bad_names);
	json_uint(&d.j, "over_cap", hs.over_cap);
	json_uint(&d.j, "open_failed", hs.open_failed);
	json_uint(&d.j, "withdrawn", hs.withdrawn);
	json_uint(&d.j, "reannounced", hs.reannounced);
	json_uint(&d.j, "db_errors", D.db_errors);
	json_uint(&d.j, "sse_skipped", D.sse_skipped);
	json_uint(&d.j, "sse_timeouts", D.sse_timeouts);
	json_uint(&d.j, "bad_requests", D.bad_requests);
	json_object_end(&d.j);
	pthread_mutex_unlock(&D.mu);
	json_object_end(&d.j);
	return json_reply(c, &d);
}

/* ---- /api/duty, /api/report, /chart.js ------------------------------------------ */

enum MHD_Result api_duty(struct MHD_Connection *c)
{
	if (!D.mh)
		return error(c, 404, "the remote has no motor-ctrl service");
	long v;
	if (!parse_int(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "value"), 0, 100, &v))
		return error(c, 400, "value must be a duty in percent, 0..100");
	struct motor_ack a;
	int rc = motor_host_command(D.mh, MOTOR_SET_DUTY, (int32_t)v, 2000, &a);
	if (rc)
		return error(c, 504, "the remote did not acknowledge");
	char body[200];
	snprintf(body, sizeof(body), "{\"status\":\"%s\",\"duty\":%d,\"seq\":%u}\n",
		 a.status == MOTOR_OK ? "ok" : motor_status_name(a.status), (int)a.duty, a.seq);
	char ev[EV_LEN];
	snprintf(ev, sizeof(ev), "event: ack\ndata: {\"status\":\"%s\",\"duty\":%d,\"seq\":%u}\n\n",
		 a.status == MOTOR_OK ? "ok" : "refused", (int)a.duty, a.seq);
	pthread_mutex_lock(&D.mu);
	D.acks++;
	pthread_mutex_unlock(&D.mu);
	push_event(ev);
	struct al_tsample ts = {"duty", wall_ms(), 0, a.seq, (double)a.duty};
	(void)al_tstore_add(D.db, &ts);
	return reply(c, 200, "application/json", body);
}

enum MHD_Result api_report(struct MHD_Connection *c, bool post, const char *body, size_t len)
{
	if (post) {
		pthread_mutex_lock(&D.mu);
		memcpy(D.report, body, len);
		D.report[len] = 0;
		pthread_mutex_unlock(&D.mu);
		/* what the page, or any local client, posted */
		fputs("amplink dash: page report: ", stderr);
		term_line(stderr, D.report, len);
		return reply(c, 200, "application/json", "{}\n");
	}
	char out[BODY_MAX + 2];
	pthread_mutex_lock(&D.mu);
	snprintf(out, sizeof(out), "%s\n", D.report[0] ? D.report : "{}");
	pthread_mutex_unlock(&D.mu);
	return reply(c, 200, "application/json", out);
}

enum MHD_Result serve_chartjs(struct MHD_Connection *c)
{
	if (!D.chartjs)
		return error(c, 404,
			     "Chart.js not found (apt-get install libjs-chart.js, or --chartjs)");
	struct MHD_Response *r = MHD_create_response_from_buffer(D.chartjs_len, (void *)D.chartjs,
								 MHD_RESPMEM_PERSISTENT);
	return send_response(c, 200, r, "text/javascript; charset=utf-8", "max-age=3600");
}
