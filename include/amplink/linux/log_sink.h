/* The host side of remote logging: a sink that takes the log lines a
 * remote sends (wire format in amplink/log.h), checks them, and writes each
 * one to the systemd journal with structured fields (amplink/linux/
 * journal.h), to syslog(3) (so journald shows it under the remote's name),
 * to stdout, or to a file, with the remote's timestamp and level.
 *
 * Linux host only (stdio, syslog, the journal's socket). A sink is not thread-safe: feed it from
 * one thread (the reader of the log channel).
 */
#ifndef AMPLINK_LOG_SINK_H
#define AMPLINK_LOG_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/log.h"

#ifdef __cplusplus
extern "C" {
#endif

enum al_log_sink_kind {
	AL_LOG_SINK_STDOUT = 0, /* one line per message on stdout */
	AL_LOG_SINK_FILE = 1,	/* appended to a file, flushed per line */
	AL_LOG_SINK_SYSLOG = 2, /* syslog(3), ident = the remote's name */
	/* the journal's native protocol, one entry per line with the fields
	 * MESSAGE, PRIORITY (the level), SYSLOG_IDENTIFIER and REMOTE (the
	 * remote's name), LINK (al_log_sink_set_link), REMOTE_TIMESTAMP (the
	 * remote's clock, seconds with milliseconds), REMOTE_SEQ, and
	 * REMOTE_TRUNCATED=1 / REMOTE_DROPPED=N when they apply */
	AL_LOG_SINK_JOURNAL = 3,
};

struct al_log_sink_stats {
	uint64_t lines;		 /* lines written */
	uint64_t malformed;	 /* messages that were not valid log lines: dropped */
	uint64_t remote_dropped; /* lines the remote reported dropped since the sink opened */
	uint64_t lost;		 /* lines the journal did not take within a second: dropped */
};

struct al_log_sink;

/** Open a sink. `path`: the file for AL_LOG_SINK_FILE (appended, created
 *  0644), the journal's socket for AL_LOG_SINK_JOURNAL (NULL: the
 *  default, al_journal_socket_path()), ignored otherwise. `ident`: the remote's name, shown on
 * every line and used as the syslog identifier (NULL: "amplink-remote"). A syslog sink calls
 * openlog(), which is per process: open one at a time. Thread context. Returns 0 and *out,
 * AL_EINVAL, AL_ENOMEM, or AL_EINIT when the file cannot be opened (errno tells why). */
int al_log_sink_open(enum al_log_sink_kind kind, const char *path, const char *ident,
		     struct al_log_sink **out);

/** Name the link the lines come by (the LINK= field of a journal sink;
 *  copied, cut at 63 bytes). Same thread as the feeding. Returns 0 or
 *  AL_EINVAL. */
int al_log_sink_set_link(struct al_log_sink *s, const char *link);

/** Decode one message of the log channel and write it. A malformed message
 *  is dropped and counted (AL_EPROTO). When the remote's dropped total
 *  grew, a warning line "remote dropped N lines" is written first. Thread
 *  context; may block on the file or syslog. Returns 0, AL_EPROTO,
 *  AL_EINVAL (bad args) or AL_EINIT (the file write failed, or the
 *  journal did not take the entry; errno). */
int al_log_sink_feed(struct al_log_sink *s, const void *msg, size_t len);

/** Write one already decoded line. Same contexts and returns. */
int al_log_sink_write(struct al_log_sink *s, const struct al_log_line *line);

void al_log_sink_get_stats(const struct al_log_sink *s, struct al_log_sink_stats *out);

/** Flush, close the file or syslog, free. NULL is ignored. */
void al_log_sink_close(struct al_log_sink *s);

#ifdef __cplusplus
}
#endif
#endif
