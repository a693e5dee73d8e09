/* The telemetry store: samples the host receives from the remote (series
 * name, host time, remote time, sequence number, value) kept in an SQLite
 * database, and read back by series and time for pages and exports.
 *
 * Linux host only; built when SQLite (Debian libsqlite3-dev) is found
 * (library amplink_telemetry). Every function is thread-safe and may block
 * on the disk; none may be called from a receive callback. Reads have a
 * connection of their own (WAL): a long query never holds up
 * al_tstore_add(), and sees what was committed when it started.
 *
 * Schema (one table, so `sqlite3 FILE 'select * from samples'` shows it):
 *   samples(id INTEGER PRIMARY KEY, series TEXT, host_ms INTEGER,
 *           remote_ms INTEGER, seq INTEGER, value REAL)
 *   index on (series, host_ms)
 */
#ifndef AMPLINK_TELEMETRY_H
#define AMPLINK_TELEMETRY_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct al_tstore;

struct al_tsample {
	const char *series; /* e.g. "temp", "adc", "duty" */
	int64_t host_ms;    /* host wall clock, ms since the epoch */
	uint32_t remote_ms; /* remote clock */
	uint32_t seq;
	double value;
};

/** Open (create if missing) the database at `path` (":memory:" works).
 *  Returns 0 and *out, AL_EINVAL, AL_ENOMEM or AL_EINIT (SQLite could not
 *  open or create it; the reason is printed to stderr). */
int al_tstore_open(const char *path, struct al_tstore **out);

/** Append one sample. `series` must be 1..31 characters of [A-Za-z0-9_-],
 *  `value` finite. Returns 0, AL_EINVAL (bad series, value or args) or
 *  AL_EINIT (write failed). */
int al_tstore_add(struct al_tstore *ts, const struct al_tsample *s);

/** Visit the samples of `series` with host_ms > since_ms, oldest first, at
 *  most `limit` (the newest `limit` of them; 0 = 1000). `fn` runs with the
 *  store's reader locked: it must not call back into the store (with a
 *  file database al_tstore_add() from another thread goes on meanwhile). Returns the number
 *  visited, AL_EINVAL or AL_EINIT. */
int al_tstore_query(struct al_tstore *ts, const char *series, int64_t since_ms, int limit,
		    void (*fn)(const struct al_tsample *s, void *arg), void *arg);

/* One point of a downsampled range: the samples of one time bucket. */
struct al_tbucket {
	int64_t t_ms; /* mean host time of the bucket's samples */
	double avg, min, max;
	uint32_t n; /* samples in the bucket (1: t_ms and avg are the sample's) */
};

/** Visit the samples of `series` with since_ms <= host_ms <= until_ms,
 *  oldest first, folded into at most `max_points` buckets of equal width
 *  (1..100000): a range holding fewer samples than buckets comes back
 *  sample by sample, a long one as mean/min/max per bucket, so the answer
 *  stays bounded whatever the range holds. `fn` runs with the store's
 *  reader locked, as for al_tstore_query(). Returns the number of buckets visited, AL_EINVAL (bad
 * series, until < since, max_points out of range) or AL_EINIT. */
int al_tstore_range(struct al_tstore *ts, const char *series, int64_t since_ms, int64_t until_ms,
		    int max_points, void (*fn)(const struct al_tbucket *b, void *arg), void *arg);

/** Number of samples of `series` (NULL: all). Negative AL_E* on error. */
long al_tstore_count(struct al_tstore *ts, const char *series);

/** Close; NULL is ignored. */
void al_tstore_close(struct al_tstore *ts);

#ifdef __cplusplus
}
#endif
#endif
