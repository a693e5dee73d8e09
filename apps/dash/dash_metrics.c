/* GET /metrics of the dashboard (dash_metrics.h): the host link's
 * snapshot (tools/amplink/host_metrics.c) plus the latest telemetry
 * values, written as Prometheus text into memory and served. A scrape
 * reads counters and copies; it never waits on the remote, so it answers
 * while the link is down or restarting (the link then shows as lost or
 * "none"). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/metrics_prom.h"
#include "dash_metrics.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct al_metrics_latest latest; /* the telemetry series */
static uint64_t dropped_total;		/* amplink_metrics_series_dropped_total */
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* host_metrics_fill()'s application part: the telemetry series. */
static void add_series(struct al_metrics *m, void *user)
{
	(void)user;
	pthread_mutex_lock(&mu);
	al_metrics_latest_add_to(&latest, m);
	pthread_mutex_unlock(&mu);
}

static void install(void)
{
	host_metrics_set_extra(add_series, NULL);
}

void dash_metrics_sample(const char *series, double value)
{
	pthread_once(&once, install);
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	pthread_mutex_lock(&mu);
	(void)al_metrics_latest_set(&latest, series, value, (double)t.tv_sec + t.tv_nsec / 1e9);
	pthread_mutex_unlock(&mu);
}

enum MHD_Result dash_metrics_reply(struct MHD_Connection *c)
{
	pthread_once(&once, install);
	struct al_metrics *m = malloc(sizeof(*m));
	char *text = NULL;
	size_t len = 0;
	FILE *f = m ? open_memstream(&text, &len) : NULL;
	int rc = AL_ENOMEM;
	if (f) {
		al_metrics_init(m);
		host_metrics_fill(m);
		pthread_mutex_lock(&mu); /* the running total is shared by scrapes */
		rc = al_prom_write(f, m, &dropped_total);
		pthread_mutex_unlock(&mu);
		rc = fclose(f) ? AL_ENOMEM : rc;
	}
	free(m);
	struct MHD_Response *r =
	    rc == 0 ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE) : NULL;
	if (!r) {
		free(text);
		static const char err[] = "metrics unavailable: out of memory\n";
		r = MHD_create_response_from_buffer(sizeof(err) - 1, (void *)err,
						    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
		enum MHD_Result ret = MHD_queue_response(c, 500, r);
		MHD_destroy_response(r);
		return ret;
	}
	MHD_add_response_header(r, "Content-Type", AL_PROM_CONTENT_TYPE);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}
