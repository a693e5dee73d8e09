/* The host side of remote logging (include/amplink/linux/log_sink.h): decode the
 * remote's log lines and write them to the journal, syslog, stdout or a file. */
#define _GNU_SOURCE
#include "amplink/linux/log_sink.h"

#include <inttypes.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "amplink/linux/journal.h"

#define TEXT_CAP 65536u /* a line's text never exceeds a 64 KiB buffer */

struct al_log_sink {
	enum al_log_sink_kind kind;
	FILE *f;
	struct al_journal *j; /* AL_LOG_SINK_JOURNAL */
	char ident[64];
	char link[64]; /* the LINK= field; "" leaves it out */
	uint32_t last_dropped;
	struct al_log_sink_stats st;
	char text[TEXT_CAP];
};

int al_log_sink_open(enum al_log_sink_kind kind, const char *path, const char *ident,
		     struct al_log_sink **out)
{
	if (!out || kind > AL_LOG_SINK_JOURNAL || (kind == AL_LOG_SINK_FILE && !path))
		return AL_EINVAL;
	struct al_log_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return AL_ENOMEM;
	s->kind = kind;
	snprintf(s->ident, sizeof(s->ident), "%s", ident && *ident ? ident : "amplink-remote");
	if (kind == AL_LOG_SINK_FILE) {
		s->f = fopen(path, "ae");
		if (!s->f) {
			int e = errno;
			free(s);
			errno = e;
			return AL_EINIT;
		}
	} else if (kind == AL_LOG_SINK_STDOUT) {
		s->f = stdout;
	} else if (kind == AL_LOG_SINK_JOURNAL) {
		int rc = al_journal_open(path, &s->j);
		if (rc) {
			int e = errno;
			free(s);
			errno = e;
			return rc;
		}
	} else {
		openlog(s->ident, LOG_NDELAY, LOG_USER);
	}
	*out = s;
	return 0;
}

int al_log_sink_set_link(struct al_log_sink *s, const char *link)
{
	if (!s || !link)
		return AL_EINVAL;
	snprintf(s->link, sizeof(s->link), "%s", link);
	return 0;
}

/* One entry with the line's facts as fields (journal.h encodes them so the
 * text cannot add fields of its own). `dropped`: the REMOTE_DROPPED count
 * of a drop report, 0 for a remote's line. */
static int emit_journal(struct al_log_sink *s, int level, const struct al_log_line *line,
			const char *text, bool trunc, uint32_t dropped)
{
	char prio[4], ts[24], seq[12], ndrop[12];
	snprintf(prio, sizeof(prio), "%d", level);
	snprintf(ts, sizeof(ts), "%" PRIu32 ".%03" PRIu32, line->ts_ms / 1000u,
		 line->ts_ms % 1000u);
	snprintf(seq, sizeof(seq), "%" PRIu32, line->seq);
	snprintf(ndrop, sizeof(ndrop), "%" PRIu32, dropped);
	struct al_journal_field f[AL_JOURNAL_FIELDS] = {
	    {"MESSAGE", text, strlen(text)},
	    {"PRIORITY", prio, strlen(prio)},
	    {"SYSLOG_IDENTIFIER", s->ident, strlen(s->ident)},
	    {"REMOTE", s->ident, strlen(s->ident)},
	    {"REMOTE_TIMESTAMP", ts, strlen(ts)},
	};
	size_t n = 5;
	if (f[0].len > AL_JOURNAL_VALUE_MAX)
		trunc = true; /* the journal's cap cuts it: say so, as for the remote's cut */
	if (s->link[0])
		f[n++] = (struct al_journal_field){"LINK", s->link, strlen(s->link)};
	if (dropped)
		f[n++] = (struct al_journal_field){"REMOTE_DROPPED", ndrop, strlen(ndrop)};
	else
		f[n++] = (struct al_journal_field){"REMOTE_SEQ", seq, strlen(seq)};
	if (trunc)
		f[n++] = (struct al_journal_field){"REMOTE_TRUNCATED", "1", 1};
	int rc = al_journal_send(s->j, f, n, NULL);
	if (rc == AL_ETIMEDOUT) {
		/* a journal that is busy for a second loses this line, counted,
		 * rather than the forwarder stopping (and its watchdog going
		 * quiet) behind it */
		s->st.lost++;
		return 0;
	}
	return rc ? AL_EINIT : 0;
}

static int emit(struct al_log_sink *s, int level, const struct al_log_line *line, const char *text,
		bool trunc, uint32_t dropped)
{
	uint32_t ts_ms = line->ts_ms;
	if (s->kind == AL_LOG_SINK_JOURNAL)
		return emit_journal(s, level, line, text, trunc, dropped);
	if (s->kind == AL_LOG_SINK_SYSLOG) {
		syslog(level, "[%u.%03u] %s%s", ts_ms / 1000u, ts_ms % 1000u, text,
		       trunc ? " [truncated]" : "");
		return 0;
	}
	/* host wall-clock time, the remote's name, the remote's clock, level */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	localtime_r(&now.tv_sec, &tm);
	char wall[32];
	strftime(wall, sizeof(wall), "%Y-%m-%dT%H:%M:%S", &tm);
	int rc = fprintf(s->f, "%s.%03ld %s [%6u.%03u] %s: %s%s\n", wall, now.tv_nsec / 1000000L,
			 s->ident, ts_ms / 1000u, ts_ms % 1000u, al_log_level_name(level), text,
			 trunc ? " [truncated]" : "");
	if (rc < 0 || fflush(s->f) != 0)
		return AL_EINIT;
	return 0;
}

int al_log_sink_write(struct al_log_sink *s, const struct al_log_line *line)
{
	if (!s || !line || !line->text || line->level > AL_LOG_DEBUG)
		return AL_EINVAL;
	if (line->dropped != s->last_dropped) {
		uint32_t n = line->dropped - s->last_dropped; /* wraps like the counter */
		s->st.remote_dropped += n;
		char msg[80];
		snprintf(msg, sizeof(msg), "remote dropped %u lines (link full or no host)", n);
		int rc = emit(s, AL_LOG_WARNING, line, msg, false, n);
		if (rc)
			return rc;
	}
	s->last_dropped = line->dropped;
	uint64_t lost = s->st.lost;
	int rc = emit(s, line->level, line, line->text, line->flags & AL_LOG_F_TRUNCATED, 0);
	if (rc == 0 && s->st.lost == lost)
		s->st.lines++;
	return rc;
}

int al_log_sink_feed(struct al_log_sink *s, const void *msg, size_t len)
{
	if (!s)
		return AL_EINVAL;
	struct al_log_line line;
	if (al_log_decode(msg, len, &line, s->text, sizeof(s->text)) != 0) {
		s->st.malformed++;
		return AL_EPROTO;
	}
	return al_log_sink_write(s, &line);
}

void al_log_sink_get_stats(const struct al_log_sink *s, struct al_log_sink_stats *out)
{
	if (s && out)
		*out = s->st;
}

void al_log_sink_close(struct al_log_sink *s)
{
	if (!s)
		return;
	if (s->kind == AL_LOG_SINK_FILE)
		fclose(s->f);
	else if (s->kind == AL_LOG_SINK_STDOUT)
		fflush(s->f);
	else if (s->kind == AL_LOG_SINK_JOURNAL)
		al_journal_close(s->j);
	else
		closelog();
	free(s);
}
