/* `amplink motor`: the host side of the motor + sensor demo (a motor
 * controller and two sensors on the remote core). Sends SET_DUTY commands
 * and prints their ACKs, prints the temperature (every 100 ms) and ADC
 * (every second) samples the remote reports, and stores them in SQLite
 * with --db. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "json_writer.h"
#include "motor_host.h"
#ifdef AMPLINK_HAVE_SQLITE
#include "telemetry.h"
#endif

#define MAX_DUTY 32

struct motor_run {
	bool quiet;
	bool json; /* one JSON object per line (samples come from the reader thread) */
	uint64_t t0;
#ifdef AMPLINK_HAVE_SQLITE
	struct al_tstore *db;
	uint64_t db_errors;
#endif
};

static uint64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static int64_t wall_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reader thread: print and store. */
static void on_sample(void *user, int series, const struct sensor_sample *s)
{
	struct motor_run *run = user;
	double v = series == SERIES_TEMP ? s->value / 1000.0 : (double)s->value;
	if (!run->quiet && run->json) {
		struct json_writer j;
		json_init(&j, stdout);
		flockfile(stdout); /* one whole line against the main thread's */
		json_object_begin(&j, NULL);
		json_string(&j, "type", "sample");
		json_string(&j, "series", series == SERIES_TEMP ? "temp" : "adc");
		json_uint(&j, "seq", s->seq);
		json_uint(&j, "remote_ms", s->ts_ms);
		json_double(&j, "value", v, series == SERIES_TEMP ? 3 : 0);
		json_object_end(&j);
		fflush(stdout);
		funlockfile(stdout);
	} else if (!run->quiet) {
		if (series == SERIES_TEMP)
			printf("temp #%u remote %u.%03u s: %.3f C\n", s->seq, s->ts_ms / 1000u,
			       s->ts_ms % 1000u, v);
		else
			printf("adc  #%u remote %u.%03u s: %d\n", s->seq, s->ts_ms / 1000u,
			       s->ts_ms % 1000u, (int)s->value);
		fflush(stdout);
	}
#ifdef AMPLINK_HAVE_SQLITE
	if (run->db) {
		struct al_tsample ts = {series == SERIES_TEMP ? "temp" : "adc", wall_ms(), s->ts_ms,
					s->seq, v};
		if (al_tstore_add(run->db, &ts) != 0)
			run->db_errors++;
	}
#endif
}

static void motor_usage(FILE *f)
{
	fprintf(f,
		"usage: amplink motor [--duty PERCENT]... [--duration MS] [--db FILE] [--quiet]\n"
		"                     [--json] [link options]\n\n"
		"The host side of the motor + sensor demo (start the remote with\n"
		"`amplink remote --demo motor`). Sends a SET_DUTY command for every --duty\n"
		"(0..100, in order; each waits for the remote's ACK), then prints the\n"
		"temperature (every 100 ms) and ADC (every second) samples the remote\n"
		"reports for --duration ms (default 3000) and a summary with the rates.\n"
		"--db FILE stores every sample in SQLite (table samples, series 'temp'\n"
		"and 'adc'). Exit 4 if the remote refused a command, 1 if an ACK or\n"
		"the telemetry did not arrive.\n"
		"  --json   the same as JSON Lines on stdout: one object per ACK (type\n"
		"           \"ack\": requested, status, duty, seq), per sample (type\n"
		"           \"sample\": series, seq, remote_ms, value) and the summary (type\n"
		"           \"summary\": seconds, temp_samples, temp_per_s, adc_samples,\n"
		"           adc_per_s, malformed, commands, acknowledged)\n\n%s",
		link_usage());
}

int cmd_motor(int argc, char **argv)
{
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	int32_t duty[MAX_DUTY];
	int nduty = 0;
	uint32_t duration = 3000;
	const char *db = NULL;
	struct motor_run run = {0};
	static const struct option lo[] = {{"duty", required_argument, 0, 'u'},
					   {"duration", required_argument, 0, 'd'},
					   {"db", required_argument, 0, 'b'},
					   {"quiet", no_argument, 0, 'q'},
					   {"json", no_argument, 0, OPT_JSON},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
		uint32_t v;
		switch (c) {
		case 'u':
			/* out-of-range values are sent anyway: the remote refuses them */
			if (nduty == MAX_DUTY || !parse_u32(optarg, &v) || v > 1000) {
				fprintf(stderr,
					"amplink motor: bad duty '%s' (a percentage, at most "
					"%d of them)\n",
					optarg, MAX_DUTY);
				return EXIT_USAGE;
			}
			duty[nduty++] = (int32_t)v;
			break;
		case 'd':
			if (!parse_u32(optarg, &duration)) {
				fprintf(stderr, "amplink motor: '%s' is not a number\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'b': db = optarg; break;
		case 'q': run.quiet = true; break;
		case OPT_JSON: run.json = true; break;
		case 'h': motor_usage(stdout); return EXIT_OK;
		default:
			if (!link_opt(&o, c, optarg, "motor")) {
				motor_usage(stderr);
				return EXIT_USAGE;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "amplink motor: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (db) {
#ifdef AMPLINK_HAVE_SQLITE
		if (al_tstore_open(db, &run.db) != 0)
			return EXIT_FAIL;
#else
		fprintf(stderr, "amplink motor: --db needs SQLite; this build has none "
				"(install libsqlite3-dev and rebuild)\n");
		return EXIT_USAGE;
#endif
	}
	struct al_posix_link *link;
	int rc = host_open(&o, &link);
	int code = EXIT_OK;
	if (rc) {
		fprintf(stderr, "amplink motor: no remote on %s: %s\n", link_where(&o),
			al_strerror(rc));
		code = exit_code_for(rc);
		goto out_db;
	}
	struct motor_host *h;
	struct host_via via = {.o = &o, .link = link};
	uint32_t wait =
	    link_is_kernel(&o) && o.cfg.connect_timeout_ms ? o.cfg.connect_timeout_ms : 5000;
	run.t0 = mono_ms();
	rc = motor_host_open(host_via_open, &via, wait, on_sample, &run, &h);
	if (rc) {
		if (link_is_kernel(&o) && via.failed)
			host_channel_failed(&o, via.failed, "motor", rc);
		else
			fprintf(stderr,
				"amplink motor: the remote has no motor demo (start it with "
				"`amplink remote --demo motor`): %s\n",
				al_strerror(rc));
		code = via.failed ? open_exit_code(&o, rc) : exit_code_for(rc);
		goto out_link;
	}
	int acked = 0;
	for (int i = 0; i < nduty && !g_stop; i++) {
		struct motor_ack a;
		rc = motor_host_command(h, MOTOR_SET_DUTY, duty[i], 2000, &a);
		if (rc) {
			fprintf(stderr, "amplink motor: SET_DUTY %d: no ACK: %s\n", (int)duty[i],
				al_strerror(rc));
			code = EXIT_FAIL;
			break;
		}
		if (run.json) {
			struct json_writer j;
			json_init(&j, stdout);
			flockfile(stdout);
			json_object_begin(&j, NULL);
			json_string(&j, "type", "ack");
			json_int(&j, "requested", duty[i]);
			json_string(&j, "status", motor_status_name(a.status));
			json_int(&j, "duty", a.duty);
			json_uint(&j, "seq", a.seq);
			json_object_end(&j);
			funlockfile(stdout);
		} else {
			printf("ack: SET_DUTY %d -> %s, duty now %d%% (command #%u)\n",
			       (int)duty[i], motor_status_name(a.status), (int)a.duty, a.seq);
		}
		fflush(stdout);
		if (a.status != MOTOR_OK)
			code = EXIT_MISMATCH;
		else
			acked++;
	}
	uint64_t t_end = mono_ms() + duration;
	while (!g_stop && !motor_host_link_lost(h) && mono_ms() < t_end) {
		struct timespec d = {0, 20000000L};
		nanosleep(&d, NULL);
	}
	double secs = (double)(mono_ms() - run.t0) / 1000.0;
	bool lost = motor_host_link_lost(h);
	struct motor_host_stats st;
	motor_host_stop(h);
	motor_host_get_stats(h, &st);
	motor_host_close(h);
	if (run.json) {
		struct json_writer j;
		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_string(&j, "type", "summary");
		json_double(&j, "seconds", secs, 3);
		json_uint(&j, "temp_samples", st.samples[SERIES_TEMP]);
		json_double(&j, "temp_per_s", (double)st.samples[SERIES_TEMP] / secs, 1);
		json_uint(&j, "adc_samples", st.samples[SERIES_ADC]);
		json_double(&j, "adc_per_s", (double)st.samples[SERIES_ADC] / secs, 2);
		json_uint(&j, "malformed", st.malformed);
		json_int(&j, "commands", nduty);
		json_int(&j, "acknowledged", acked);
		json_object_end(&j);
	} else {
		printf("summary: temp %llu samples (%.1f/s), adc %llu samples (%.2f/s), "
		       "%llu malformed dropped\n",
		       (unsigned long long)st.samples[SERIES_TEMP],
		       (double)st.samples[SERIES_TEMP] / secs,
		       (unsigned long long)st.samples[SERIES_ADC],
		       (double)st.samples[SERIES_ADC] / secs, (unsigned long long)st.malformed);
	}
	if (code == EXIT_OK && duration >= 1500 &&
	    (!st.samples[SERIES_TEMP] || !st.samples[SERIES_ADC])) {
		fprintf(stderr, "amplink motor: no telemetry arrived\n");
		code = EXIT_FAIL;
	}
	if (lost) {
		fprintf(stderr, "amplink motor: the remote went away\n");
		code = EXIT_LINK;
	}
	fprintf(stderr, "amplink motor: %d/%d commands acknowledged in %.1f s\n", acked, nduty,
		secs);
out_link:
	host_close(link);
out_db:
#ifdef AMPLINK_HAVE_SQLITE
	if (run.db) {
		fprintf(stderr, "amplink motor: stored %ld temp and %ld adc samples in %s\n",
			al_tstore_count(run.db, "temp"), al_tstore_count(run.db, "adc"), db);
		al_tstore_close(run.db);
	}
#endif
	return code;
}
