/* Prometheus text exposition (format 0.0.4) of a metrics snapshot
 * (amplink/linux/metrics.h): what `amplink stats --format prometheus`
 * writes and the dashboard serves at GET /metrics. docs/metrics.md lists
 * the families.
 *
 * Every family gets its HELP and TYPE lines once, then all its samples;
 * counters end in _total. Label values are escaped as the format wants
 * (backslash, double quote, newline) and anything else that is not
 * printable UTF-8 (control characters, invalid or overlong sequences) is
 * written as the four characters \xNN, escaped, so that any name a remote
 * chose gives a valid line. Linux host only. */
#ifndef AMPLINK_LINUX_METRICS_PROM_H
#define AMPLINK_LINUX_METRICS_PROM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amplink/linux/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The content type to serve the text with. */
#define AL_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/** Longest escaped label value: each byte of a name may become "\\xNN". */
#define AL_PROM_LABEL_MAX (5 * AL_METRICS_NAME + 1)

/** Escape `src` (at most srclen bytes, stopping at a NUL) as a label value
 *  into dst[cap] (NUL-terminated; cut short at a whole escape if cap is too
 *  small). Returns the length written. Any thread. */
size_t al_prom_escape(char *dst, size_t cap, const char *src, size_t srclen);

/** Write the exposition of `m` to `f`. `dropped_total` (may be NULL)
 *  accumulates m->dropped across calls: the value exported as
 *  amplink_metrics_series_dropped_total (without it, this snapshot's
 *  count). Returns 0, or AL_EINVAL for a NULL argument, or AL_EINIT if
 *  writing to `f` failed. Any thread. */
int al_prom_write(FILE *f, const struct al_metrics *m, uint64_t *dropped_total);

#ifdef __cplusplus
}
#endif
#endif
