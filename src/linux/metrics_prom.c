/* Prometheus text exposition of a metrics snapshot (metrics_prom.h). The
 * families are tables: a row names a family, its help, its type, one
 * optional extra label and the snapshot field it reads; consecutive rows
 * of one family share its HELP/TYPE lines, so samples stay grouped as the
 * format requires. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "amplink/error.h"
#include "amplink/linux/metrics_prom.h"
#include "amplink/linux/rproc.h"
#include "amplink/utf8.h"

/* ---- label values ----------------------------------------------------------- */

/* Length of the well-formed, printable UTF-8 sequence at s (n bytes
 * left), or 0: what al_utf8_decode refuses, and C1 controls. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len = al_utf8_decode(s, n, &cp);
	return len > 1 && cp >= 0xA0 ? len : 0;
}

size_t al_prom_escape(char *dst, size_t cap, const char *src, size_t srclen)
{
	size_t o = 0;
	if (!cap)
		return 0;
	const unsigned char *s = (const unsigned char *)src;
	for (size_t i = 0; src && i < srclen && s[i];) {
		char e[8];
		size_t el, take = 1;
		unsigned c = s[i];
		if (c == '\\' || c == '"') {
			e[0] = '\\', e[1] = (char)c, el = 2;
		} else if (c == '\n') {
			e[0] = '\\', e[1] = 'n', el = 2;
		} else if (c >= 0x20 && c < 0x7F) {
			e[0] = (char)c, el = 1;
		} else if (c >= 0x80 && (take = utf8_len(s + i, strnlen(src + i, srclen - i)))) {
			memcpy(e, s + i, take);
			el = take;
		} else { /* a control character or a byte that is not UTF-8 */
			static const char hex[] = "0123456789abcdef";
			e[0] = '\\', e[1] = '\\', e[2] = 'x', e[3] = hex[c >> 4],
			e[4] = hex[c & 15];
			el = 5, take = 1;
		}
		if (o + el >= cap)
			break;
		memcpy(dst + o, e, el);
		o += el;
		i += take;
	}
	dst[o] = '\0';
	return o;
}

/* ---- writer ---------------------------------------------------------------- */

struct out {
	FILE *f;
	const char *last; /* the family whose header was written last */
};

static void header(struct out *o, const char *name, const char *help, bool counter)
{
	if (o->last && strcmp(o->last, name) == 0)
		return;
	o->last = name;
	fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
		counter ? "counter" : "gauge");
}

static void value(struct out *o, double v)
{
	if (isnan(v))
		fputs(" NaN\n", o->f);
	else if (isinf(v))
		fputs(v > 0 ? " +Inf\n" : " -Inf\n", o->f);
	else { /* the shortest of 15 or 17 digits that reads back the same */
		char b[40];
		snprintf(b, sizeof(b), "%.15g", v);
		if (strtod(b, NULL) != v)
			snprintf(b, sizeof(b), "%.17g", v);
		fprintf(o->f, " %s\n", b);
	}
}

/* A link's own labels: link="NAME",side="host|remote". */
static void link_labels(char *buf, size_t cap, const struct al_metrics_link *l)
{
	char name[AL_PROM_LABEL_MAX];
	al_prom_escape(name, sizeof(name), l->name, sizeof(l->name));
	snprintf(buf, cap, "link=\"%s\",side=\"%s\"", name, l->host ? "host" : "remote");
}

enum width { U64, U32 };
struct row {
	const char *name, *help; /* help repeated on every row of a family */
	bool counter;
	const char *key, *val; /* extra label, or NULL */
	size_t off;
	enum width w;
};

static uint64_t field(const void *base, const struct row *r)
{
	const char *p = (const char *)base + r->off;
	if (r->w == U32) {
		uint32_t v;
		memcpy(&v, p, sizeof(v));
		return v;
	}
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

#define L(f) offsetof(struct al_metrics_link, f)
static const struct row link_rows[] = {
    {"amplink_link_messages_total", "Messages on the link, by direction (tx: sent, rx: delivered).",
     true, "direction", "tx", L(tx_msgs), U64},
    {"amplink_link_messages_total", "Messages on the link, by direction (tx: sent, rx: delivered).",
     true, "direction", "rx", L(rx_msgs), U64},
    {"amplink_link_bytes_total", "Payload bytes on the link, by direction (headers not counted).",
     true, "direction", "tx", L(tx_bytes), U64},
    {"amplink_link_bytes_total", "Payload bytes on the link, by direction (headers not counted).",
     true, "direction", "rx", L(rx_bytes), U64},
    {"amplink_link_drops_total", "Received messages dropped, by reason.", true, "reason",
     "unknown_dst", L(rx_unknown_dst), U64},
    {"amplink_link_drops_total", "Received messages dropped, by reason.", true, "reason",
     "ns_malformed", L(ns_malformed), U64},
    {"amplink_link_tx_no_buffer_total", "Sends that found no free buffer (and waited or failed).",
     true, NULL, NULL, L(tx_no_buf), U64},
    {"amplink_link_doorbells_total",
     "Doorbells, by direction (tx: rung to the peer, rx: taken from it).", true, "direction", "tx",
     L(kicks_tx), U64},
    {"amplink_link_doorbells_total",
     "Doorbells, by direction (tx: rung to the peer, rx: taken from it).", true, "direction", "rx",
     L(kicks_rx), U64},
    {"amplink_link_name_service_announcements_total", "Name-service announcements sent.", true,
     NULL, NULL, L(ns_announced), U64},
    {"amplink_link_ring_entries", "Entries per vring (0 while the link is not up).", false, NULL,
     NULL, L(ring_num), U32},
    {"amplink_link_ring_rx_backlog", "Messages the peer published that are not taken yet.", false,
     NULL, NULL, L(rx_backlog), U32},
    {"amplink_link_ring_tx_in_flight",
     "Messages sent that the remote has not taken yet (host side only).", false, NULL, NULL,
     L(tx_in_flight), U32},
    {"amplink_link_endpoints", "Local endpoints on the link (reported or not).", false, NULL, NULL,
     L(epts_total), U32},
};
#undef L

#define E(f) offsetof(struct al_metrics_ept, f)
static const struct row ept_rows[] = {
    {"amplink_endpoint_messages_total", "Messages of one local endpoint, by direction.", true,
     "direction", "tx", E(tx_msgs), U64},
    {"amplink_endpoint_messages_total", "Messages of one local endpoint, by direction.", true,
     "direction", "rx", E(rx_msgs), U64},
    {"amplink_endpoint_bytes_total", "Payload bytes of one local endpoint, by direction.", true,
     "direction", "tx", E(tx_bytes), U64},
    {"amplink_endpoint_bytes_total", "Payload bytes of one local endpoint, by direction.", true,
     "direction", "rx", E(rx_bytes), U64},
};
#undef E

#define R(f) offsetof(struct al_metrics_remote, f)
static const struct row remote_rows[] = {
    {"amplink_remote_boots_total", "Successful boots of the remote processor.", true, NULL, NULL,
     R(boots), U64},
    {"amplink_remote_crashes_total", "Crashes of the remote seen (exit, signal, silence).", true,
     NULL, NULL, R(crashes), U64},
    {"amplink_remote_recoveries_total", "Restarts after a crash.", true, NULL, NULL, R(recoveries),
     U64},
};
#undef R

/* One sample per row per element: for each row (grouped by family), every
 * element of the table `base` (n of them, `size` bytes apart). */
static void rows(struct out *o, const struct row *t, size_t nt, const void *base, size_t n,
		 size_t size, void (*labels)(char *buf, size_t cap, const void *elem, void *ctx),
		 void *ctx)
{
	for (size_t r = 0; r < nt; r++) {
		for (size_t i = 0; i < n; i++) {
			const void *e = (const char *)base + i * size;
			char lb[3 * AL_PROM_LABEL_MAX];
			labels(lb, sizeof(lb), e, ctx);
			header(o, t[r].name, t[r].help, t[r].counter);
			fprintf(o->f, "%s{%s", t[r].name, lb);
			if (t[r].key)
				fprintf(o->f, ",%s=\"%s\"", t[r].key, t[r].val);
			fprintf(o->f, "} %" PRIu64 "\n", field(e, &t[r]));
		}
	}
}

static void lbl_link(char *buf, size_t cap, const void *e, void *ctx)
{
	(void)ctx;
	link_labels(buf, cap, e);
}

static void lbl_ept(char *buf, size_t cap, const void *e, void *ctx)
{
	const struct al_metrics_ept *ep = e;
	char l[2 * AL_PROM_LABEL_MAX], name[AL_PROM_LABEL_MAX];
	link_labels(l, sizeof(l), ctx);
	al_prom_escape(name, sizeof(name), ep->name, sizeof(ep->name));
	snprintf(buf, cap, "%s,endpoint=\"%s\",addr=\"%" PRIu32 "\"", l, name, ep->addr);
}

static void lbl_remote(char *buf, size_t cap, const void *e, void *ctx)
{
	(void)ctx;
	const struct al_metrics_remote *r = e;
	char name[AL_PROM_LABEL_MAX];
	al_prom_escape(name, sizeof(name), r->name, sizeof(r->name));
	snprintf(buf, cap, "remote=\"%s\"", name);
}

static void write_links(struct out *o, const struct al_metrics *m)
{
	char lb[2 * AL_PROM_LABEL_MAX];
	for (uint32_t i = 0; i < m->n_links; i++) {
		const struct al_metrics_link *l = &m->links[i];
		link_labels(lb, sizeof(lb), l);
		header(o, "amplink_link_up", "Whether the link is up (1) or not (0).", false);
		fprintf(o->f, "amplink_link_up{%s} %d\n", lb, l->state == AL_LINK_UP);
	}
	for (uint32_t i = 0; i < m->n_links; i++) {
		const struct al_metrics_link *l = &m->links[i];
		link_labels(lb, sizeof(lb), l);
		header(o, "amplink_link_info",
		       "The link's state (down, up, broken, lost, none: no link open) and, when "
		       "broken, the fault the peer caused; always 1.",
		       false);
		fprintf(o->f, "amplink_link_info{%s,state=\"%s\",fault=\"%s\"} 1\n", lb,
			al_metrics_state_name(l->state), al_metrics_fault_name(l->fault));
	}
	for (uint32_t i = 0; i < m->n_links; i++) {
		const struct al_metrics_link *l = &m->links[i];
		if (l->start_time_s <= 0)
			continue;
		link_labels(lb, sizeof(lb), l);
		header(o, "amplink_link_start_time_seconds",
		       "When this link came up (Unix time): counters restart from 0 then.", false);
		fprintf(o->f, "amplink_link_start_time_seconds{%s}", lb);
		value(o, l->start_time_s);
	}
	rows(o, link_rows, sizeof(link_rows) / sizeof(link_rows[0]), m->links, m->n_links,
	     sizeof(m->links[0]), lbl_link, NULL);
	/* row by row across every link, so that a family stays in one block */
	for (size_t r = 0; r < sizeof(ept_rows) / sizeof(ept_rows[0]); r++)
		for (uint32_t i = 0; i < m->n_links; i++)
			rows(o, &ept_rows[r], 1, m->links[i].epts, m->links[i].n_epts,
			     sizeof(m->links[i].epts[0]), lbl_ept, (void *)&m->links[i]);
}

static void write_remotes(struct out *o, const struct al_metrics *m)
{
	char lb[AL_PROM_LABEL_MAX + 16];
	for (uint32_t i = 0; i < m->n_remotes; i++) {
		lbl_remote(lb, sizeof(lb), &m->remotes[i], NULL);
		header(o, "amplink_remote_up",
		       "Whether the remote processor is running (1) or not.", false);
		fprintf(o->f, "amplink_remote_up{%s} %d\n", lb,
			m->remotes[i].state == AL_RPROC_RUNNING);
	}
	rows(o, remote_rows, sizeof(remote_rows) / sizeof(remote_rows[0]), m->remotes, m->n_remotes,
	     sizeof(m->remotes[0]), lbl_remote, NULL);
	for (uint32_t i = 0; i < m->n_remotes; i++) {
		if (m->remotes[i].heartbeat_age_s < 0)
			continue;
		lbl_remote(lb, sizeof(lb), &m->remotes[i], NULL);
		header(o, "amplink_remote_heartbeat_age_seconds",
		       "Seconds since the remote last answered a heartbeat.", false);
		fprintf(o->f, "amplink_remote_heartbeat_age_seconds{%s}", lb);
		value(o, m->remotes[i].heartbeat_age_s);
	}
}

static void write_series(struct out *o, const struct al_metrics *m)
{
	char name[AL_PROM_LABEL_MAX];
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < m->n_series; i++) {
			const struct al_metrics_series *s = &m->series[i];
			al_prom_escape(name, sizeof(name), s->name, sizeof(s->name));
			if (pass == 0) {
				header(o, "amplink_telemetry_value",
				       "The latest value the remote reported, per series.", false);
				fprintf(o->f, "amplink_telemetry_value{series=\"%s\"}", name);
				value(o, s->value);
			} else {
				header(o, "amplink_telemetry_time_seconds",
				       "When the latest value of the series arrived (Unix time).",
				       false);
				fprintf(o->f, "amplink_telemetry_time_seconds{series=\"%s\"}",
					name);
				value(o, s->time_s);
			}
		}
}

int al_prom_write(FILE *f, const struct al_metrics *m, uint64_t *dropped_total)
{
	if (!f || !m)
		return AL_EINVAL;
	struct out o = {.f = f};
	write_links(&o, m);
	write_remotes(&o, m);
	write_series(&o, m);
	uint64_t dropped = m->dropped;
	if (dropped_total)
		dropped = *dropped_total += m->dropped;
	header(&o, "amplink_metrics_series_dropped_total",
	       "Endpoints, links, remotes or telemetry series left out of an exposition because "
	       "a table was full, summed over every exposition this process wrote.",
	       true);
	fprintf(f, "amplink_metrics_series_dropped_total %" PRIu64 "\n", dropped);
	return ferror(f) ? AL_EINIT : 0;
}
