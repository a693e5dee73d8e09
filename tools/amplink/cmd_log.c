/* `amplink log`: follow the remote's log live. Attaches as host, subscribes
 * to the remote's log service (amplink/log.h) and writes every line to
 * stdout, a file, syslog or the systemd journal (amplink/linux/log_sink.h).
 * As a systemd service (amplink-log@.service) it tells systemd when it is
 * attached and pings the watchdog from its read loop (svc_notify.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "amplink/linux/journal.h"
#include "amplink/linux/log_sink.h"
#include "json_writer.h"
#include "svc_notify.h"

static void log_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: amplink log [--journal | --syslog | --file PATH | --json] [--ident NAME]\n"
	    "                   [--level LEVEL] [--service NAME] [-n COUNT] [--duration MS]\n"
	    "                   [link options]\n\n"
	    "Follow the remote's log live (its rpmsg_printf()/al_log_printf() lines).\n"
	    "Each line carries the remote's timestamp and level. By default lines go\n"
	    "to stdout; --file appends them to PATH; --syslog hands them to syslog(3)\n"
	    "with the remote's name as identifier (journalctl -f -t NAME shows them).\n"
	    "  --journal        the systemd journal, with the fields REMOTE (the name),\n"
	    "                   LINK, REMOTE_TIMESTAMP, REMOTE_SEQ, PRIORITY (the level):\n"
	    "                   journalctl REMOTE=NAME -p warning. Chosen by itself\n"
	    "                   when stdout is the journal (a systemd service) and,\n"
	    "                   for --syslog, when journald runs. Socket: $" AL_JOURNAL_SOCKET_ENV
	    "\n"
	    "                   or " AL_JOURNAL_SOCKET "\n"
	    "  --json           one JSON object per line on stdout instead: remote,\n"
	    "                   host_ms (Unix time), remote_ms, seq, level, text,\n"
	    "                   truncated, dropped_before (lines the remote dropped\n"
	    "                   since the previous one)\n"
	    "  --ident NAME     the remote's name (default: the link name)\n"
	    "  --level LEVEL    only lines up to LEVEL: emerg alert crit err warning\n"
	    "                   notice info debug (default debug); the remote filters\n"
	    "  --service NAME   log service (default " AL_LOG_SERVICE ")\n"
	    "  -n COUNT         exit after COUNT lines\n"
	    "  --duration MS    exit after MS milliseconds\n"
	    "Stops on SIGINT/SIGTERM; exit 3 if the remote goes away. Lines the remote\n"
	    "had to drop (link full, no host yet) are reported as a warning line.\n\n%s",
	    link_usage());
}

/* --json: what the sink does for stdout, as JSON Lines. */
struct log_json {
	struct json_writer w;
	const char *remote;
	uint32_t last_dropped;
	struct al_log_sink_stats st;
	char text[65536]; /* a line's text never exceeds a 64 KiB buffer */
};

static int log_json_feed(struct log_json *lj, const void *msg, size_t len)
{
	struct al_log_line line;
	if (al_log_decode(msg, len, &line, lj->text, sizeof(lj->text)) != 0) {
		lj->st.malformed++;
		return AL_EPROTO;
	}
	uint32_t dropped = line.dropped - lj->last_dropped; /* wraps like the counter */
	lj->last_dropped = line.dropped;
	lj->st.remote_dropped += dropped;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct json_writer *j = &lj->w;
	json_object_begin(j, NULL);
	json_string(j, "remote", lj->remote);
	json_int(j, "host_ms", (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	json_uint(j, "remote_ms", line.ts_ms);
	json_uint(j, "seq", line.seq);
	json_string(j, "level", al_log_level_name(line.level));
	json_string_n(j, "text", line.text, line.len);
	json_bool(j, "truncated", line.flags & AL_LOG_F_TRUNCATED);
	json_uint(j, "dropped_before", dropped);
	json_object_end(j);
	if (fflush(stdout) != 0)
		return AL_EINIT;
	lj->st.lines++;
	return 0;
}

/* Whether stdout is a stream to the journal: systemd sets JOURNAL_STREAM
 * to its "device:inode" for a service whose output goes there. */
static bool stdout_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(fileno(stdout), &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static uint64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

int cmd_log(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	enum al_log_sink_kind kind = AL_LOG_SINK_STDOUT;
	const char *path = NULL, *ident = NULL, *service = AL_LOG_SERVICE;
	int level = AL_LOG_DEBUG;
	uint32_t count = 0, duration = 0;
	bool json = false;
	bool kind_set = false;
	static const struct option lo[] = {{"syslog", no_argument, 0, 'y'},
					   {"journal", no_argument, 0, 'J'},
					   {"json", no_argument, 0, OPT_JSON},
					   {"file", required_argument, 0, 'f'},
					   {"ident", required_argument, 0, 'i'},
					   {"level", required_argument, 0, 'l'},
					   {"service", required_argument, 0, 's'},
					   {"count", required_argument, 0, 'n'},
					   {"duration", required_argument, 0, 'd'},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "f:n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'y':
			/* the journal takes what syslog would, plus the fields */
			kind = al_journal_present() ? AL_LOG_SINK_JOURNAL : AL_LOG_SINK_SYSLOG;
			kind_set = true;
			break;
		case 'J':
			kind = AL_LOG_SINK_JOURNAL;
			kind_set = true;
			break;
		case 'f':
			kind = AL_LOG_SINK_FILE;
			kind_set = true;
			path = optarg;
			break;
		case OPT_JSON: json = true; break;
		case 'i': ident = optarg; break;
		case 's': service = optarg; break;
		case 'l':
			level = al_log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr,
					"amplink log: unknown level '%s' (emerg alert crit err "
					"warning notice info debug)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
		case 'd':
			if (!parse_u32(optarg, c == 'n' ? &count : &duration)) {
				fprintf(stderr, "amplink log: '%s' is not a number\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': log_usage(stdout); return EXIT_OK;
		default:
			if (!link_opt(&o, c, optarg, "log")) {
				log_usage(stderr);
				return EXIT_USAGE;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "amplink log: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (json && kind_set) {
		fprintf(stderr, "amplink log: --json writes to stdout: not with --file, --syslog "
				"or --journal\n");
		return EXIT_USAGE;
	}
	if (!kind_set && !json && stdout_is_journal())
		kind = AL_LOG_SINK_JOURNAL; /* a service: give the journal the fields */
	struct al_log_sink *sink = NULL;
	struct log_json *lj = NULL;
	int rc;
	if (json) {
		lj = calloc(1, sizeof(*lj));
		rc = lj ? 0 : AL_ENOMEM;
		if (lj) {
			json_init(&lj->w, stdout);
			lj->remote = ident ? ident : o.cfg.name;
		}
	} else {
		rc = al_log_sink_open(kind, path, ident ? ident : o.cfg.name, &sink);
		if (rc == 0)
			rc = al_log_sink_set_link(sink, o.cfg.name);
	}
	if (rc) {
		fprintf(stderr, "amplink log: cannot open '%s': %s\n",
			path			      ? path
			: kind == AL_LOG_SINK_JOURNAL ? al_journal_socket_path()
						      : "sink",
			strerror(errno));
		return EXIT_FAIL;
	}
	struct al_posix_link *link;
	rc = host_open(&o, &link);
	if (rc) {
		fprintf(stderr, "amplink log: no remote on %s: %s\n", link_where(&o),
			al_strerror(rc));
		al_log_sink_close(sink);
		free(lj);
		return exit_code_for(rc);
	}
	struct al_channel *ch;
	uint32_t wait =
	    link_is_kernel(&o) && o.cfg.connect_timeout_ms ? o.cfg.connect_timeout_ms : 5000;
	rc = host_channel(&o, link, service, wait, &ch);
	if (rc) {
		if (link_is_kernel(&o))
			host_channel_failed(&o, service, "log", rc);
		else
			fprintf(stderr, "amplink log: the remote has no log service '%s': %s\n",
				service, al_strerror(rc));
		rc = open_exit_code(&o, rc);
		goto out_link;
	}
	uint8_t sub[2] = {AL_LOG_OP_SUBSCRIBE, (uint8_t)level};
	long w = al_channel_write(ch, sub, sizeof(sub), 5000);
	if (w < 0) {
		rc = (int)w;
		fprintf(stderr, "amplink log: cannot subscribe: %s\n", al_strerror(rc));
		goto out_ch;
	}
	const char *shown = ident ? ident : o.cfg.name;
	const char *dest = json				 ? "stdout (JSON)"
			   : kind == AL_LOG_SINK_JOURNAL ? "the journal"
			   : kind == AL_LOG_SINK_SYSLOG	 ? "syslog"
			   : kind == AL_LOG_SINK_FILE	 ? path
							 : "stdout";
	al_svc_ready("%s: attached to link '%s', forwarding its log to %s", shown, o.cfg.name,
		     dest);
	int maxp = channel_payload_max(ch, true);
	uint8_t *buf = malloc(maxp > 0 ? (size_t)maxp : 512u);
	uint64_t t_end = duration ? mono_ms() + duration : 0, lines = 0;
	rc = 0;
	uint64_t next_status = mono_ms() + 10000;
	while (!g_stop && buf && (!count || lines < count)) {
		al_svc_alive(); /* the read loop turns: the watchdog may wait on */
		uint32_t wait = 200;
		if (mono_ms() >= next_status) { /* the counts, every 10 s */
			next_status = mono_ms() + 10000;
			struct al_log_sink_stats st;
			if (lj)
				st = lj->st;
			else
				al_log_sink_get_stats(sink, &st);
			al_svc_status(
			    "%s: attached to link '%s', %llu lines to %s, %llu malformed, "
			    "remote dropped %llu",
			    shown, o.cfg.name, (unsigned long long)st.lines, dest,
			    (unsigned long long)st.malformed,
			    (unsigned long long)st.remote_dropped);
		}
		if (t_end) {
			uint64_t now = mono_ms();
			if (now >= t_end)
				break;
			if (t_end - now < wait)
				wait = (uint32_t)(t_end - now);
		}
		long n = al_channel_read(ch, buf, (size_t)maxp, NULL, wait);
		if (n == AL_ETIMEDOUT)
			continue;
		if (n < 0) {
			rc = (int)n;
			fprintf(stderr, "amplink log: remote gone: %s\n", al_strerror(rc));
			al_svc_stopping("%s: the remote went away (%s)", shown, al_strerror(rc));
			break;
		}
		int frc =
		    lj ? log_json_feed(lj, buf, (size_t)n) : al_log_sink_feed(sink, buf, (size_t)n);
		if (frc == 0)
			lines++;
		else if (frc != AL_EPROTO) {
			fprintf(stderr, "amplink log: cannot write the log: %s\n", strerror(errno));
			rc = frc;
			break;
		}
	}
	free(buf);
	struct al_log_sink_stats st;
	if (lj)
		st = lj->st;
	else
		al_log_sink_get_stats(sink, &st);
	fprintf(stderr, "amplink log: %llu lines, %llu malformed dropped, remote dropped %llu",
		(unsigned long long)st.lines, (unsigned long long)st.malformed,
		(unsigned long long)st.remote_dropped);
	if (st.lost)
		fprintf(stderr, ", %llu lost (the journal did not take them)",
			(unsigned long long)st.lost);
	fputc('\n', stderr);
out_ch:
	al_channel_close(ch);
	rc = rc == AL_EINIT ? EXIT_FAIL : exit_code_for(rc);
out_link:
	host_close(link);
	al_log_sink_close(sink);
	free(lj);
	return rc;
}
