/* The dashboard's GET /metrics (Prometheus text, docs/metrics.md): the
 * link it holds as host and the latest value of every telemetry series,
 * the same snapshot `amplink stats` reads from this process. */
#ifndef AMPLINK_DASH_METRICS_H
#define AMPLINK_DASH_METRICS_H

#include <microhttpd.h>

/* Note the latest value of a series (called for every sample, from the
 * motor reader thread). At most AL_METRICS_SERIES_MAX series are kept;
 * others are counted as dropped. */
void dash_metrics_sample(const char *series, double value);

/* Answer GET /metrics on connection c (an MHD connection thread). */
enum MHD_Result dash_metrics_reply(struct MHD_Connection *c);

#endif
