/* The telemetry store (apps/telemetry/telemetry.h) on SQLite.
 *
 * Two connections to one WAL database: the writer (al_tstore_add, under
 * `mu`) and a read-only reader for the queries (under `rmu`). In WAL mode
 * a reader sees the last committed state and never blocks the writer, so
 * a page asking for 24 h of history (a second or more of SQLite work)
 * does not stall the thread that stores the remote's samples. An
 * in-memory database (":memory:") has one connection for both. */
#define _GNU_SOURCE
#include "telemetry.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amplink/error.h"

struct al_tstore {
	sqlite3 *db; /* the writer */
	sqlite3 *rd; /* the reader: its own connection, or db for ":memory:" */
	sqlite3_stmt *ins;
	pthread_mutex_t mu;  /* db, ins */
	pthread_mutex_t rmu; /* rd, when it is a connection of its own */
};

/* The reader connection, locked; release with reader_unlock(). */
static sqlite3 *reader_lock(struct al_tstore *ts)
{
	pthread_mutex_lock(ts->rd == ts->db ? &ts->mu : &ts->rmu);
	return ts->rd;
}

static void reader_unlock(struct al_tstore *ts)
{
	pthread_mutex_unlock(ts->rd == ts->db ? &ts->mu : &ts->rmu);
}

static bool series_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 31)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

int al_tstore_open(const char *path, struct al_tstore **out)
{
	if (!path || !out)
		return AL_EINVAL;
	struct al_tstore *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return AL_ENOMEM;
	const char *schema =
	    "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=NORMAL;"
	    "CREATE TABLE IF NOT EXISTS samples(id INTEGER PRIMARY KEY, series TEXT NOT NULL,"
	    " host_ms INTEGER NOT NULL, remote_ms INTEGER NOT NULL, seq INTEGER NOT NULL,"
	    " value REAL NOT NULL);"
	    "CREATE INDEX IF NOT EXISTS samples_by_series ON samples(series, host_ms);";
	char *err = NULL;
	if (sqlite3_open(path, &ts->db) != SQLITE_OK ||
	    sqlite3_exec(ts->db, schema, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_prepare_v2(ts->db,
			       "INSERT INTO samples(series, host_ms, remote_ms, seq, value)"
			       " VALUES(?,?,?,?,?)",
			       -1, &ts->ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "telemetry store '%s': %s\n", path,
			err	 ? err
			: ts->db ? sqlite3_errmsg(ts->db)
				 : "cannot open");
		sqlite3_free(err);
		sqlite3_close(ts->db);
		free(ts);
		return AL_EINIT;
	}
	ts->rd = ts->db;
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0 &&
	    (sqlite3_open_v2(path, &ts->rd, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	     sqlite3_busy_timeout(ts->rd, 5000) != SQLITE_OK)) {
		fprintf(stderr, "telemetry store '%s': reader: %s\n", path,
			ts->rd ? sqlite3_errmsg(ts->rd) : "cannot open");
		sqlite3_close(ts->rd);
		sqlite3_finalize(ts->ins);
		sqlite3_close(ts->db);
		free(ts);
		return AL_EINIT;
	}
	pthread_mutex_init(&ts->mu, NULL);
	pthread_mutex_init(&ts->rmu, NULL);
	*out = ts;
	return 0;
}

int al_tstore_add(struct al_tstore *ts, const struct al_tsample *s)
{
	if (!ts || !s || !series_ok(s->series) || !isfinite(s->value))
		return AL_EINVAL; /* a chart can draw neither NaN nor infinities */
	pthread_mutex_lock(&ts->mu);
	sqlite3_bind_text(ts->ins, 1, s->series, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(ts->ins, 2, s->host_ms);
	sqlite3_bind_int64(ts->ins, 3, s->remote_ms);
	sqlite3_bind_int64(ts->ins, 4, s->seq);
	sqlite3_bind_double(ts->ins, 5, s->value);
	int rc = sqlite3_step(ts->ins);
	sqlite3_reset(ts->ins);
	pthread_mutex_unlock(&ts->mu);
	return rc == SQLITE_DONE ? 0 : AL_EINIT;
}

int al_tstore_query(struct al_tstore *ts, const char *series, int64_t since_ms, int limit,
		    void (*fn)(const struct al_tsample *s, void *arg), void *arg)
{
	if (!ts || !fn || !series_ok(series) || limit < 0)
		return AL_EINVAL;
	if (limit == 0)
		limit = 1000;
	sqlite3 *rd = reader_lock(ts);
	sqlite3_stmt *q = NULL;
	int rc =
	    sqlite3_prepare_v2(rd,
			       "SELECT host_ms, remote_ms, seq, value FROM (SELECT * FROM samples"
			       " WHERE series=? AND host_ms>? ORDER BY id DESC LIMIT ?)"
			       " ORDER BY id ASC",
			       -1, &q, NULL);
	int n = 0;
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(q, 1, series, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 2, since_ms);
		sqlite3_bind_int(q, 3, limit);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			struct al_tsample s = {series, sqlite3_column_int64(q, 0),
					       (uint32_t)sqlite3_column_int64(q, 1),
					       (uint32_t)sqlite3_column_int64(q, 2),
					       sqlite3_column_double(q, 3)};
			fn(&s, arg);
			n++;
		}
	}
	sqlite3_finalize(q);
	reader_unlock(ts);
	return rc == SQLITE_DONE ? n : AL_EINIT;
}

int al_tstore_range(struct al_tstore *ts, const char *series, int64_t since_ms, int64_t until_ms,
		    int max_points, void (*fn)(const struct al_tbucket *b, void *arg), void *arg)
{
	if (!ts || !fn || !series_ok(series) || until_ms < since_ms || max_points < 1 ||
	    max_points > 100000 || since_ms < 0 || until_ms > INT64_MAX / 2)
		return AL_EINVAL;
	/* equal buckets covering [since, until]: width rounded up */
	int64_t width = (until_ms - since_ms) / max_points + 1;
	sqlite3 *rd = reader_lock(ts);
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(rd,
				    "SELECT (host_ms - ?1) / ?2 AS b, avg(host_ms), avg(value),"
				    " min(value), max(value), count(*) FROM samples"
				    " WHERE series=?3 AND host_ms>=?1 AND host_ms<=?4"
				    " GROUP BY b ORDER BY b",
				    -1, &q, NULL);
	int n = 0;
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, since_ms);
		sqlite3_bind_int64(q, 2, width);
		sqlite3_bind_text(q, 3, series, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 4, until_ms);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			struct al_tbucket b = {
			    (int64_t)(sqlite3_column_double(q, 1) + 0.5),
			    sqlite3_column_double(q, 2), sqlite3_column_double(q, 3),
			    sqlite3_column_double(q, 4), (uint32_t)sqlite3_column_int64(q, 5)};
			fn(&b, arg);
			n++;
		}
	}
	sqlite3_finalize(q);
	reader_unlock(ts);
	return rc == SQLITE_DONE ? n : AL_EINIT;
}

long al_tstore_count(struct al_tstore *ts, const char *series)
{
	if (!ts || (series && !series_ok(series)))
		return AL_EINVAL;
	sqlite3 *rd = reader_lock(ts);
	sqlite3_stmt *q = NULL;
	long n = AL_EINIT;
	if (sqlite3_prepare_v2(rd,
			       series ? "SELECT count(*) FROM samples WHERE series=?"
				      : "SELECT count(*) FROM samples",
			       -1, &q, NULL) == SQLITE_OK) {
		if (series)
			sqlite3_bind_text(q, 1, series, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) == SQLITE_ROW)
			n = (long)sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	reader_unlock(ts);
	return n;
}

void al_tstore_close(struct al_tstore *ts)
{
	if (!ts)
		return;
	sqlite3_finalize(ts->ins);
	if (ts->rd != ts->db)
		sqlite3_close(ts->rd);
	sqlite3_close(ts->db);
	pthread_mutex_destroy(&ts->mu);
	pthread_mutex_destroy(&ts->rmu);
	free(ts);
}
