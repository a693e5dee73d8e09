/* The link's health as numbers a monitor can read: one snapshot of a
 * process's links (counters, ring use, endpoints), the remotes it manages
 * (boots, crashes, recoveries, heartbeat) and the latest telemetry values.
 * The process that owns a link fills a snapshot (al_metrics_add_link(),
 * al_metrics_add_remote(), al_metrics_set_series()); writers turn it into
 * Prometheus text (metrics_prom.h), JSON or a terminal table, and
 * metrics_sock.h hands it to another process (`amplink stats`).
 *
 * Every table has a fixed cap: a remote that announces hundreds of
 * endpoints or sensors makes the snapshot no larger; what did not fit is
 * counted in `dropped` (exported as amplink_metrics_series_dropped_total).
 * Names are copied bounded and NUL-terminated; they are the remote's
 * choice and are escaped by every writer.
 *
 * Linux host only (library amplink_host). No function here blocks except
 * on the device lock (al_metrics_add_link). */
#ifndef AMPLINK_LINUX_METRICS_H
#define AMPLINK_LINUX_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/rpmsg_virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

struct al_rproc_status;

#define AL_METRICS_NAME	       64  /* bytes of a link, remote or series name, NUL included */
#define AL_METRICS_EPT_NAME    32  /* an endpoint name (RPMSG_NAME_SIZE) */
#define AL_METRICS_LINKS_MAX   4   /* links per snapshot */
#define AL_METRICS_EPTS_MAX    128 /* endpoints per link */
#define AL_METRICS_REMOTES_MAX 8
#define AL_METRICS_SERIES_MAX  64

/* The link's state for monitors: enum al_link_state, plus "the owner has
 * no link open right now" (between a peer's loss and the next one). */
#define AL_METRICS_LINK_NONE 4

struct al_metrics_ept {
	char name[AL_METRICS_EPT_NAME];
	uint32_t addr, dest_addr;
	uint64_t rx_msgs, tx_msgs, rx_bytes, tx_bytes;
};

struct al_metrics_link {
	char name[AL_METRICS_NAME];
	uint8_t host;  /* 1: we are the host (virtio driver), 0: the remote */
	uint8_t state; /* enum al_link_state or AL_METRICS_LINK_NONE */
	uint8_t fault; /* why it broke (a fault code, 0 none) when state is BROKEN */
	uint8_t pad;
	double start_time_s; /* wall clock when this link came up; 0 unknown */
	uint64_t tx_msgs, rx_msgs, tx_bytes, rx_bytes;
	uint64_t rx_unknown_dst, ns_malformed, tx_no_buf, ns_announced;
	uint64_t kicks_tx, kicks_rx;
	uint32_t ring_num, rx_backlog, tx_in_flight;
	uint32_t epts_total; /* endpoints the link has (n_epts of them reported) */
	uint32_t n_epts;
	struct al_metrics_ept epts[AL_METRICS_EPTS_MAX];
};

struct al_metrics_remote {
	char name[AL_METRICS_NAME];
	uint8_t state; /* enum al_rproc_state */
	uint8_t pad[7];
	uint64_t boots, crashes, recoveries;
	double heartbeat_age_s; /* seconds since the last heartbeat answer; < 0 none */
};

struct al_metrics_series {
	char name[AL_METRICS_NAME];
	double value;
	double time_s; /* wall clock of the sample */
};

struct al_metrics {
	uint32_t n_links, n_remotes, n_series;
	uint32_t pad;
	uint64_t dropped; /* entries (endpoints, links, remotes, series) that did not fit */
	struct al_metrics_link links[AL_METRICS_LINKS_MAX];
	struct al_metrics_remote remotes[AL_METRICS_REMOTES_MAX];
	struct al_metrics_series series[AL_METRICS_SERIES_MAX];
};

/** Start an empty snapshot. Any thread. */
void al_metrics_init(struct al_metrics *m);

/** Copy `src` into at most `cap` bytes of `dst`, NUL-terminated. What the
 *  remote named is kept byte for byte (the writers escape it). */
void al_metrics_copy_name(char *dst, size_t cap, const char *src);

/** Add a link: its name, our role, its state and fault, the device's
 *  counters, ring use and endpoints (al_get_stats(), al_virtio_ring_usage(),
 *  al_foreach_ept()). `rvdev` NULL adds the link as AL_METRICS_LINK_NONE
 *  with zero counters (an owner between two peers). Thread context (takes
 *  the device lock briefly); not from a receive callback. Returns a
 *  pointer to the entry (to set start_time_s), or NULL when the snapshot
 *  already holds AL_METRICS_LINKS_MAX links (counted in `dropped`). */
struct al_metrics_link *al_metrics_add_link(struct al_metrics *m, const char *name,
					    struct rpmsg_virtio_device *rvdev);

/** Add a remote from its remoteproc status (amplink/linux/rproc.h). Any
 *  thread. Returns 0, or AL_ENOMEM when full (counted in `dropped`). */
int al_metrics_add_remote(struct al_metrics *m, const char *name, const struct al_rproc_status *st);

/** Set the latest value of a telemetry series (replaces the value of a
 *  series of that name). Any thread (the caller serialises access to m).
 *  Returns 0, AL_EINVAL (NULL or empty name) or AL_ENOMEM when
 *  AL_METRICS_SERIES_MAX other series are there (counted in `dropped`). */
int al_metrics_set_series(struct al_metrics *m, const char *name, double value, double time_s);

/** The latest value of each telemetry series as samples arrive, for a
 *  process to add to every snapshot it serves. Keeps AL_METRICS_SERIES_MAX
 *  series; a series that does not fit is remembered (by a hash of its
 *  name, up to AL_METRICS_REFUSED_MAX of them) so that each snapshot
 *  counts it once as left out, however many samples it sends. The caller
 *  serialises access. Zero-initialised: empty. */
#define AL_METRICS_REFUSED_MAX 1024
struct al_metrics_latest {
	struct al_metrics_series series[AL_METRICS_SERIES_MAX];
	uint32_t n_series;
	uint32_t n_refused;
	uint32_t refused[AL_METRICS_REFUSED_MAX];
};

/** Note a sample of series `name`. Returns 0, AL_EINVAL (NULL or empty
 *  name) or AL_ENOMEM (the series does not fit: remembered as refused). */
int al_metrics_latest_set(struct al_metrics_latest *l, const char *name, double value,
			  double time_s);

/** Add the latest values to a snapshot, and the refused series to its
 *  `dropped`. Any thread (the caller serialises access to l). */
void al_metrics_latest_add_to(const struct al_metrics_latest *l, struct al_metrics *m);

/** Check a snapshot that came from elsewhere (another process, a file):
 *  counts within their caps, every name NUL-terminated, states and
 *  faults in range. Names are left as they are (the writers escape them).
 *  Returns 0 or AL_EPROTO with a sentence in why[n] (if not NULL). */
int al_metrics_validate(const struct al_metrics *m, char *why, size_t n);

/** Short name of a link state ("up", "down", "broken", "lost", "none"),
 *  and of a fault code ("used_idx", ... "unknown"): stable label values. */
const char *al_metrics_state_name(unsigned state);
const char *al_metrics_fault_name(unsigned fault);

#ifdef __cplusplus
}
#endif
#endif
