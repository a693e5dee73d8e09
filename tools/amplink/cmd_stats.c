/* `amplink stats`: the counters of a running link, read from the process
 * that holds it (amplink/linux/metrics_sock.h), printed once or refreshed
 * like `top` with rates per second; as JSON, or as Prometheus text for
 * the node exporter's textfile collector (--output writes the file
 * atomically: a temporary file in the same directory, then rename). */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amplink.h"
#include "amplink/linux/metrics_prom.h"
#include "amplink/linux/metrics_sock.h"
#include "amplink/linux/rproc.h"
#include "json_writer.h"
#include "term_safe.h"

enum fmt { FMT_TEXT, FMT_JSON, FMT_PROM };

static void stats_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: amplink stats [--watch [SECONDS]] [--json | --format text|json|prometheus]\n"
	    "                     [--output FILE] [--side host|remote] [link options]\n\n"
	    "The counters of a running link, from the process that holds it (the host\n"
	    "side: dash, bridge, log, motor, echo...; --side remote: `amplink remote`):\n"
	    "messages and payload bytes each way, drops by reason, doorbells, ring use,\n"
	    "the same per local endpoint. Prints once, or with --watch refreshes every\n"
	    "SECONDS (default 1) with rates per second since the last refresh.\n"
	    "  --json               one JSON object (with --watch: one per refresh, JSON Lines)\n"
	    "  --format prometheus  Prometheus text exposition (docs/metrics.md)\n"
	    "  --output FILE        write to FILE atomically (FILE.tmp, then rename), e.g.\n"
	    "                       /var/lib/prometheus/node-exporter/amplink.prom for the\n"
	    "                       node exporter's textfile collector; with --watch, rewritten\n"
	    "                       every SECONDS\n"
	    "When nothing serves the link, prints why and exits 3; the Prometheus\n"
	    "output then still says amplink_link_up 0 (state \"none\").\n\n%s",
	    link_usage());
}

/* ---- text ------------------------------------------------------------------- */

struct rates {
	double dt; /* seconds since the previous snapshot; 0: no rates */
	const struct al_metrics *prev;
};

/* Per second since the previous snapshot, or -1 when there is none or the
 * counter went back (a new link: counters restart from 0). */
static double rate(const struct rates *r, uint64_t now, uint64_t before)
{
	if (r->dt <= 0 || now < before)
		return -1;
	return (double)(now - before) / r->dt;
}

static void rate_col(char *buf, size_t cap, double v)
{
	if (v < 0)
		snprintf(buf, cap, "%10s", "-");
	else
		snprintf(buf, cap, "%10.1f", v);
}

static const struct al_metrics_link *prev_link(const struct rates *r,
					       const struct al_metrics_link *l)
{
	for (uint32_t i = 0; r->prev && i < r->prev->n_links; i++) {
		const struct al_metrics_link *p = &r->prev->links[i];
		if (!strcmp(p->name, l->name) && p->start_time_s == l->start_time_s)
			return p;
	}
	return NULL;
}

static const struct al_metrics_ept *prev_ept(const struct al_metrics_link *p,
					     const struct al_metrics_ept *e)
{
	for (uint32_t i = 0; p && i < p->n_epts; i++)
		if (p->epts[i].addr == e->addr && !strcmp(p->epts[i].name, e->name))
			return &p->epts[i];
	return NULL;
}

static void print_link(const struct al_metrics_link *l, const struct rates *r)
{
	char name[5 * AL_METRICS_NAME];
	const struct al_metrics_link *p = prev_link(r, l);
	struct rates rr = {p ? r->dt : 0, r->prev};
	printf("link %s (%s side): %s", term_str(name, sizeof(name), l->name),
	       l->host ? "host" : "remote", al_metrics_state_name(l->state));
	if (l->state == AL_LINK_BROKEN)
		printf(" (%s)", al_metrics_fault_name(l->fault));
	if (l->start_time_s > 0) {
		time_t t = (time_t)l->start_time_s;
		struct tm tm;
		char when[32];
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		printf(" since %s", when);
	}
	printf(", %" PRIu32 "-entry rings, rx backlog %" PRIu32 ", tx in flight %" PRIu32
	       ", %" PRIu32 " endpoints\n",
	       l->ring_num, l->rx_backlog, l->tx_in_flight, l->epts_total);
	char a[16], b[16];
	printf("    %-4s %14s %16s %12s %10s %10s\n", "", "messages", "bytes", "doorbells", "msg/s",
	       "bytes/s");
	rate_col(a, sizeof(a), rate(&rr, l->rx_msgs, p ? p->rx_msgs : 0));
	rate_col(b, sizeof(b), rate(&rr, l->rx_bytes, p ? p->rx_bytes : 0));
	printf("    %-4s %14" PRIu64 " %16" PRIu64 " %12" PRIu64 " %s %s\n", "RX:", l->rx_msgs,
	       l->rx_bytes, l->kicks_rx, a, b);
	rate_col(a, sizeof(a), rate(&rr, l->tx_msgs, p ? p->tx_msgs : 0));
	rate_col(b, sizeof(b), rate(&rr, l->tx_bytes, p ? p->tx_bytes : 0));
	printf("    %-4s %14" PRIu64 " %16" PRIu64 " %12" PRIu64 " %s %s\n", "TX:", l->tx_msgs,
	       l->tx_bytes, l->kicks_tx, a, b);
	printf("    drops: unknown destination %" PRIu64 ", malformed name service %" PRIu64
	       "; sends without a free buffer %" PRIu64 "\n",
	       l->rx_unknown_dst, l->ns_malformed, l->tx_no_buf);
	if (!l->n_epts)
		return;
	printf("    %-32s %-8s %12s %14s %12s %14s %10s %10s\n", "ENDPOINT", "ADDR", "RX MSGS",
	       "RX BYTES", "TX MSGS", "TX BYTES", "rx/s", "tx/s");
	for (uint32_t i = 0; i < l->n_epts; i++) {
		const struct al_metrics_ept *e = &l->epts[i], *pe = prev_ept(p, e);
		struct rates er = {pe ? rr.dt : 0, NULL};
		char en[5 * AL_METRICS_EPT_NAME], addr[16];
		snprintf(addr, sizeof(addr), "0x%" PRIx32, e->addr);
		rate_col(a, sizeof(a), rate(&er, e->rx_msgs, pe ? pe->rx_msgs : 0));
		rate_col(b, sizeof(b), rate(&er, e->tx_msgs, pe ? pe->tx_msgs : 0));
		printf("    %-32s %-8s %12" PRIu64 " %14" PRIu64 " %12" PRIu64 " %14" PRIu64
		       " %s %s\n",
		       term_str(en, sizeof(en), e->name[0] ? e->name : "(unnamed)"), addr,
		       e->rx_msgs, e->rx_bytes, e->tx_msgs, e->tx_bytes, a, b);
	}
	if (l->epts_total > l->n_epts)
		printf("    ... and %" PRIu32 " more endpoints not shown\n",
		       l->epts_total - l->n_epts);
}

static void print_text(const struct al_metrics *m, const struct rates *r)
{
	for (uint32_t i = 0; i < m->n_links; i++)
		print_link(&m->links[i], r);
	for (uint32_t i = 0; i < m->n_remotes; i++) {
		const struct al_metrics_remote *x = &m->remotes[i];
		char name[5 * AL_METRICS_NAME];
		printf("remote %s: %s, boots %" PRIu64 ", crashes %" PRIu64 ", recoveries %" PRIu64,
		       term_str(name, sizeof(name), x->name), al_rproc_state_name(x->state),
		       x->boots, x->crashes, x->recoveries);
		if (x->heartbeat_age_s >= 0)
			printf(", last heartbeat %.1f s ago", x->heartbeat_age_s);
		printf("\n");
	}
	for (uint32_t i = 0; i < m->n_series; i++) {
		char name[5 * AL_METRICS_NAME];
		printf("%s %s = %g\n", i ? "          " : "telemetry:",
		       term_str(name, sizeof(name), m->series[i].name), m->series[i].value);
	}
	fflush(stdout);
}

/* ---- JSON ------------------------------------------------------------------- */

static void print_json(FILE *f, const struct al_metrics *m)
{
	struct json_writer j;
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_array_begin(&j, "links");
	for (uint32_t i = 0; i < m->n_links; i++) {
		const struct al_metrics_link *l = &m->links[i];
		json_object_begin(&j, NULL);
		json_string(&j, "link", l->name);
		json_string(&j, "side", l->host ? "host" : "remote");
		json_string(&j, "state", al_metrics_state_name(l->state));
		json_string(&j, "fault", al_metrics_fault_name(l->fault));
		json_double(&j, "start_time", l->start_time_s, 3);
		json_uint(&j, "tx_msgs", l->tx_msgs);
		json_uint(&j, "rx_msgs", l->rx_msgs);
		json_uint(&j, "tx_bytes", l->tx_bytes);
		json_uint(&j, "rx_bytes", l->rx_bytes);
		json_uint(&j, "rx_unknown_dst", l->rx_unknown_dst);
		json_uint(&j, "ns_malformed", l->ns_malformed);
		json_uint(&j, "tx_no_buf", l->tx_no_buf);
		json_uint(&j, "kicks_tx", l->kicks_tx);
		json_uint(&j, "kicks_rx", l->kicks_rx);
		json_uint(&j, "ring_entries", l->ring_num);
		json_uint(&j, "rx_backlog", l->rx_backlog);
		json_uint(&j, "tx_in_flight", l->tx_in_flight);
		json_uint(&j, "endpoints_total", l->epts_total);
		json_array_begin(&j, "endpoints");
		for (uint32_t k = 0; k < l->n_epts; k++) {
			const struct al_metrics_ept *e = &l->epts[k];
			json_object_begin(&j, NULL);
			json_string(&j, "name", e->name);
			json_uint(&j, "addr", e->addr);
			json_uint(&j, "dest_addr", e->dest_addr);
			json_uint(&j, "rx_msgs", e->rx_msgs);
			json_uint(&j, "tx_msgs", e->tx_msgs);
			json_uint(&j, "rx_bytes", e->rx_bytes);
			json_uint(&j, "tx_bytes", e->tx_bytes);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "remotes");
	for (uint32_t i = 0; i < m->n_remotes; i++) {
		const struct al_metrics_remote *x = &m->remotes[i];
		json_object_begin(&j, NULL);
		json_string(&j, "name", x->name);
		json_string(&j, "state", al_rproc_state_name(x->state));
		json_uint(&j, "boots", x->boots);
		json_uint(&j, "crashes", x->crashes);
		json_uint(&j, "recoveries", x->recoveries);
		if (x->heartbeat_age_s >= 0)
			json_double(&j, "heartbeat_age_s", x->heartbeat_age_s, 3);
		else
			json_null(&j, "heartbeat_age_s");
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "telemetry"); /* names are the remote's: values, not keys */
	for (uint32_t i = 0; i < m->n_series; i++) {
		json_object_begin(&j, NULL);
		json_string(&j, "series", m->series[i].name);
		json_double(&j, "value", m->series[i].value, 6);
		json_double(&j, "time", m->series[i].time_s, 3);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_uint(&j, "dropped", m->dropped);
	json_object_end(&j);
	fflush(f);
}

/* ---- output ------------------------------------------------------------------ */

/* Write the exposition (or JSON) to `path` so that a reader sees the old
 * file or the new one, never half of one: a temporary file next to it,
 * flushed to disk, renamed over it. */
static int write_atomic(const char *path, enum fmt fmt, const struct al_metrics *m,
			uint64_t *dropped_total)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		fprintf(stderr, "amplink stats: output path too long\n");
		return EXIT_USAGE;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		return EXIT_FAIL;
	}
	int rc = 0;
	if (fmt == FMT_PROM)
		rc = al_prom_write(f, m, dropped_total);
	else
		print_json(f, m);
	if (rc || fflush(f) || fsync(fileno(f)) || ferror(f)) {
		fprintf(stderr, "amplink stats: cannot write %s\n", tmp);
		fclose(f);
		unlink(tmp);
		return EXIT_FAIL;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		perror(path);
		unlink(tmp);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static double mono_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

struct stats_opts {
	struct link_opts o;
	enum fmt fmt;
	const char *output;
	bool host, watch;
	uint32_t interval_s;
	char rproc[64]; /* --rproc NAME: "rproc:NAME" */
};

static int parse(struct stats_opts *s, int argc, char **argv)
{
	static const struct option lo[] = {{"watch", optional_argument, 0, 'w'},
					   {"json", no_argument, 0, OPT_JSON},
					   {"format", required_argument, 0, 'f'},
					   {"output", required_argument, 0, 'o'},
					   {"side", required_argument, 0, 's'},
					   {"rproc", required_argument, 0, 'r'},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'h': stats_usage(stdout); return EXIT_OK;
		case 'w': {
			s->watch = true;
			/* --watch=N, or --watch N when the next word is a number */
			const char *n = optarg;
			if (!n && optind < argc && parse_u32(argv[optind], &s->interval_s))
				n = argv[optind++];
			if (n && (!parse_u32(n, &s->interval_s) || s->interval_s == 0 ||
				  s->interval_s > 86400)) {
				fprintf(stderr, "amplink stats: --watch takes 1..86400 seconds\n");
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_JSON: s->fmt = FMT_JSON; break;
		case 'f':
			if (!strcmp(optarg, "text"))
				s->fmt = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				s->fmt = FMT_JSON;
			else if (!strcmp(optarg, "prometheus"))
				s->fmt = FMT_PROM;
			else {
				fprintf(stderr,
					"amplink stats: unknown format '%s' (text, json, "
					"prometheus)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o': s->output = optarg; break;
		case 'r':
			if (strlen(optarg) > 40) {
				fprintf(stderr, "amplink stats: rproc name too long\n");
				return EXIT_USAGE;
			}
			rproc_metrics_name(s->rproc, sizeof(s->rproc), optarg);
			s->o.cfg.name = s->rproc;
			break;
		case 's':
			if (strcmp(optarg, "host") && strcmp(optarg, "remote")) {
				fprintf(stderr, "amplink stats: --side is host or remote\n");
				return EXIT_USAGE;
			}
			s->host = !strcmp(optarg, "host");
			break;
		default:
			if (!link_opt(&s->o, c, optarg, "stats")) {
				stats_usage(stderr);
				return EXIT_USAGE;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "amplink stats: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (s->output && s->fmt == FMT_TEXT) {
		fprintf(stderr, "amplink stats: --output needs --format prometheus or json\n");
		return EXIT_USAGE;
	}
	if (s->rproc[0] && !s->host) {
		fprintf(stderr, "amplink stats: --rproc and --side remote do not go together\n");
		return EXIT_USAGE;
	}
	if (link_is_kernel(&s->o)) {
		fprintf(stderr, "amplink stats: the kernel's rpmsg keeps no counters to read; "
				"stats are for amplink's own links\n");
		return EXIT_USAGE;
	}
	return -1;
}

int cmd_stats(int argc, char **argv)
{
	struct stats_opts s = {.host = true, .interval_s = 1};
	link_opts_init(&s.o, VIRTIO_DEV_DRIVER);
	int code = parse(&s, argc, argv);
	if (code >= 0)
		return code;
	struct al_metrics *m = malloc(sizeof(*m)), *prev = malloc(sizeof(*prev));
	if (!m || !prev) {
		free(m);
		free(prev);
		return EXIT_FAIL;
	}
	uint32_t timeout = s.o.cfg.connect_timeout_ms ? s.o.cfg.connect_timeout_ms : 2000;
	uint64_t dropped_total = 0;
	double t_prev = 0;
	bool have_prev = false, tty = isatty(STDOUT_FILENO);
	for (;;) {
		char why[256];
		al_metrics_init(m);
		int rc = al_metrics_fetch(s.o.cfg.name, s.host, &s.o.cfg.allow, timeout, m, why,
					  sizeof(why));
		double t = mono_s();
		code = rc == 0 ? EXIT_OK : rc == AL_EPROTO ? EXIT_FAIL : EXIT_LINK;
		if (rc) {
			fprintf(stderr, "amplink stats: %s\n", why);
			/* a monitor still learns that the link is not there */
			al_metrics_init(m);
			if (!s.rproc[0]) {
				struct al_metrics_link *l =
				    al_metrics_add_link(m, s.o.cfg.name, NULL);
				l->host = s.host;
			} else { /* no manager: the remote is not running */
				struct al_rproc_status st = {.state = AL_RPROC_OFFLINE,
							     .last_pong_ms_ago = -1};
				al_metrics_add_remote(m, s.rproc + strlen("rproc:"), &st);
			}
		}
		if (s.output) {
			int w = write_atomic(s.output, s.fmt, m, &dropped_total);
			if (w)
				code = w;
		} else if (s.fmt == FMT_PROM) {
			if (al_prom_write(stdout, m, &dropped_total) || fflush(stdout))
				code = EXIT_FAIL;
		} else if (s.fmt == FMT_JSON) {
			print_json(stdout, m);
		} else if (rc == 0) {
			if (s.watch && tty)
				fputs("\033[H\033[2J", stdout); /* like top: redraw in place */
			struct rates r = {have_prev ? t - t_prev : 0, have_prev ? prev : NULL};
			print_text(m, &r);
			if (s.watch)
				printf("\n(every %" PRIu32
				       " s; rates since the last refresh; Ctrl-C "
				       "quits)\n",
				       s.interval_s);
			fflush(stdout);
		}
		if (!s.watch || g_stop || code == EXIT_USAGE)
			break;
		struct al_metrics *x = prev;
		prev = m;
		m = x;
		have_prev = rc == 0;
		t_prev = t;
		for (uint32_t i = 0; i < s.interval_s * 10 && !g_stop; i++) {
			struct timespec d = {0, 100 * 1000000L};
			nanosleep(&d, NULL);
		}
		if (g_stop)
			break;
	}
	free(m);
	free(prev);
	return s.watch && g_stop ? EXIT_OK : code;
}
