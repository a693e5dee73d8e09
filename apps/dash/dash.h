/* What the pieces of `amplink dash` share: the run's state (cmd_dash.c
 * owns it), the event stream (dash_events.c), the HTTP helpers
 * (dash_http.c) and the page's and APIs' handlers (dash_api.c). Every
 * handler runs on the connection's own libmicrohttpd thread. */
#ifndef AMPLINK_DASH_H
#define AMPLINK_DASH_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json_writer.h"
#include "motor_host.h"
#include "sensor_hub.h"
#include "telemetry.h"

#define RING	 1024 /* events kept for the streams */
#define EV_LEN	 256  /* one SSE event, formatted */
#define BODY_MAX 2048
/* Per-client bound: the kernel's send buffer of an event stream, so a
 * browser that stops reading holds at most this much (plus the ring all
 * clients share); it then falls behind, skips, and is closed after
 * CONN_IDLE_S without progress. */
#define SSE_SNDBUF 32768

struct al_posix_link;

struct dash {
	struct al_tstore *db;
	struct motor_host *mh;	    /* NULL: the remote has no motor-ctrl */
	struct sensor_hub *hub;	    /* every sensor-* service */
	struct al_posix_link *link; /* NULL on the kernel's rpmsg */
	int64_t started_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char ev[RING][EV_LEN]; /* the last RING events, SSE-formatted */
	uint64_t head;	       /* events ever pushed */
	int clients;
	volatile int stop;
	uint64_t acks, db_errors, bad_requests;
	uint64_t sse_skipped;  /* events a slow stream client skipped */
	uint64_t sse_timeouts; /* connections closed after CONN_IDLE_S without progress */
	char report[BODY_MAX];
	const char *chartjs; /* Chart.js, read at start; NULL if not found */
	size_t chartjs_len;
};
extern struct dash D;

/* dash_events.c */
/* Append one SSE-formatted event (cut to EV_LEN) for every stream. Any
 * thread; never blocks on a client. */
void push_event(const char *ev);
/* Answer GET /events: a stream that starts with the last 200 events. */
enum MHD_Result events_answer(struct MHD_Connection *c);

/* dash_http.c */
enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, const char *body);
/* 4xx/5xx with {"error": msg}, counted as a bad request. */
enum MHD_Result error(struct MHD_Connection *c, unsigned code, const char *msg);
bool parse_int(const char *s, long lo, long hi, long *out);
bool parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);
int64_t wall_ms(void);
/* A JSON document built in memory (open_memstream) through its writer
 * `j`; json_reply() sends it and frees it. */
struct jdoc {
	FILE *f;
	char *p;
	size_t len;
	struct json_writer j;
};
bool jdoc_open(struct jdoc *d);
enum MHD_Result json_reply(struct MHD_Connection *c, struct jdoc *d);
/* Queue `r` (NULL: MHD_NO) with its Content-Type and Cache-Control, and
 * drop our reference. */
enum MHD_Result send_response(struct MHD_Connection *c, unsigned code, struct MHD_Response *r,
			      const char *type, const char *cache);

/* dash_api.c: one per route, after the Host/Origin/token checks. `body`
 * is a POST's body (len bytes). */
enum MHD_Result api_samples(struct MHD_Connection *c);
enum MHD_Result api_series(struct MHD_Connection *c);
enum MHD_Result api_status(struct MHD_Connection *c);
enum MHD_Result api_duty(struct MHD_Connection *c);
enum MHD_Result api_report(struct MHD_Connection *c, bool post, const char *body, size_t len);
enum MHD_Result serve_chartjs(struct MHD_Connection *c);
/* The hub's callbacks: store and publish. */
void dash_on_sample(void *user, int idx, const char *key, int64_t host_ms, uint32_t remote_ms,
		    uint32_t seq, double value);
void dash_on_change(void *user, int idx);
void dash_on_fault(void *user, const char *sentence);

#endif
