/* The metrics snapshot and its Prometheus exposition: counters filled from
 * a real (loopback) link, caps on endpoints and series with the drops
 * counted, label escaping of hostile names, and every line of the output
 * checked by a parser of the text format written here (promtool checks
 * the same output in the test metrics_promtool: `--emit FILE`). */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>

#include "amplink/linux/metrics_prom.h"
#include "amplink/linux/rproc.h"
#include "fault.h"
#include "test_util.h"

/* ---- a parser of the exposition format, strict ------------------------------- */

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
static bool name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
		if (!alpha && (i == 0 || c < '0' || c > '9'))
			return false;
	}
	return n > 0;
}

/* One UTF-8 sequence at p: its length, or 0. */
static size_t utf8(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	size_t n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* A label set {k="v",...}: names valid, values with only \\ \" \n escapes
 * and valid UTF-8, no raw newline; returns the end or NULL. */
static const char *labels(const char *p)
{
	if (*p != '{')
		return p;
	p++;
	while (*p != '}') {
		const char *k = p;
		while (*p && *p != '=')
			p++;
		if (!name_ok(k, (size_t)(p - k)) || p[0] != '=' || p[1] != '"')
			return NULL;
		p += 2;
		while (*p != '"') {
			if (!*p || *p == '\n')
				return NULL;
			if (*p == '\\') {
				if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
					return NULL;
				p += 2;
				continue;
			}
			size_t n = utf8((const unsigned char *)p);
			if (!n || (unsigned char)*p < 0x20)
				return NULL;
			p += n;
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	return p + 1;
}

static bool value_ok(const char *s)
{
	if (!strcmp(s, "NaN") || !strcmp(s, "+Inf") || !strcmp(s, "-Inf"))
		return true;
	char *end;
	strtod(s, &end);
	return end != s && *end == '\0';
}

struct family {
	char name[128];
	bool counter, typed, helped;
};

/* Check the whole text; returns the number of samples, or fails the test
 * naming the line. */
static int check_exposition(const char *text)
{
	struct family fam[64];
	int nfam = 0, samples = 0;
	const char *cur = NULL; /* the family whose samples may follow */
	char *copy = strdup(text);
	assert_non_null(copy);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (char *save, *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7)) {
			bool help = line[2] == 'H';
			char *n = line + 7, *sp = strchr(n, ' ');
			if (!sp || !name_ok(n, (size_t)(sp - n)))
				fail_msg("bad comment line: %s", line);
			*sp = '\0';
			struct family *f = NULL;
			for (int i = 0; i < nfam && !f; i++)
				if (!strcmp(fam[i].name, n))
					f = &fam[i];
			if (!f) {
				assert_true(nfam < 64);
				f = &fam[nfam++];
				memset(f, 0, sizeof(*f));
				snprintf(f->name, sizeof(f->name), "%s", n);
			} else if (cur != f->name || (help ? f->helped : f->typed)) {
				fail_msg("family %s described twice or split", n);
			}
			if (help) {
				f->helped = true;
			} else {
				if (strcmp(sp + 1, "counter") && strcmp(sp + 1, "gauge"))
					fail_msg("bad type: %s", sp + 1);
				f->typed = true;
				f->counter = !strcmp(sp + 1, "counter");
				size_t l = strlen(n);
				if (f->counter != (l > 6 && !strcmp(n + l - 6, "_total")))
					fail_msg("%s: counters and only counters end in _total", n);
			}
			cur = f->name;
			continue;
		}
		if (line[0] == '#')
			fail_msg("stray comment: %s", line);
		const char *p = line;
		while (*p && *p != '{' && *p != ' ')
			p++;
		if (!name_ok(line, (size_t)(p - line)) || !cur || strncmp(line, cur, strlen(cur)) ||
		    strlen(cur) != (size_t)(p - line))
			fail_msg("sample outside its family: %s", line);
		p = labels(p);
		if (!p || *p != ' ' || !value_ok(p + 1))
			fail_msg("bad sample line: %s", line);
		samples++;
	}
	for (int i = 0; i < nfam; i++)
		if (!fam[i].typed || !fam[i].helped)
			fail_msg("family %s lacks HELP or TYPE", fam[i].name);
	free(copy);
	return samples;
}

static char *expose(const struct al_metrics *m, uint64_t *dropped_total)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(al_prom_write(f, m, dropped_total), 0);
	fclose(f);
	return buf;
}

/* ---- escaping ------------------------------------------------------------------ */

static void test_escape(void **state)
{
	(void)state;
	char out[AL_PROM_LABEL_MAX];
	al_prom_escape(out, sizeof(out), "a\"b\\c\nd", 64);
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	/* control characters and bytes that are not UTF-8: shown as \xNN */
	al_prom_escape(out, sizeof(out), "\x1b[31m\xff\xc0\x80", 64);
	assert_string_equal(out, "\\\\x1b[31m\\\\xff\\\\xc0\\\\x80");
	/* a surrogate (ED A0 80) and a C1 control (C2 85) are refused too */
	al_prom_escape(out, sizeof(out), "\xed\xa0\x80\xc2\x85", 64);
	assert_string_equal(out, "\\\\xed\\\\xa0\\\\x80\\\\xc2\\\\x85");
	/* well-formed UTF-8 stays */
	al_prom_escape(out, sizeof(out), "caf\xc3\xa9 \xf0\x9f\x98\x80", 64);
	assert_string_equal(out, "caf\xc3\xa9 \xf0\x9f\x98\x80");
	/* a truncated sequence at the end of the bounded source is escaped */
	al_prom_escape(out, sizeof(out), "ab\xc3\xa9", 3);
	assert_string_equal(out, "ab\\\\xc3");
	/* a small buffer cuts at a whole escape, never inside one */
	char small[8];
	size_t n = al_prom_escape(small, sizeof(small), "\"\"\"\"\"", 64);
	assert_int_equal(n, 6);
	assert_string_equal(small, "\\\"\\\"\\\"");
	n = al_prom_escape(small, 7, "ab\x01", 64); /* "ab\\x01" needs 8 */
	assert_string_equal(small, "ab");
	/* the worst case fits the documented bound */
	char worst[AL_METRICS_NAME];
	memset(worst, 0xff, sizeof(worst) - 1);
	worst[sizeof(worst) - 1] = '\0';
	n = al_prom_escape(out, sizeof(out), worst, sizeof(worst));
	assert_int_equal(n, 5 * (AL_METRICS_NAME - 1));
}

/* ---- a snapshot from a real link ---------------------------------------------- */

static struct tu_link T;
static int got;
static int count_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)data, (void)len, (void)src, (void)priv;
	got++;
	return 0;
}

static const struct al_metrics_ept *find_ept(const struct al_metrics_link *l, uint32_t addr)
{
	for (uint32_t i = 0; i < l->n_epts; i++)
		if (l->epts[i].addr == addr)
			return &l->epts[i];
	return NULL;
}

static void test_link_counters(void **state)
{
	(void)state;
	tu_up(&T, NULL, NULL, NULL);
	static struct rpmsg_endpoint h, r;
	assert_int_equal(
	    rpmsg_create_ept(&h, tu_rdev(&T, TU_DRV), "svc", 1024, 2048, count_cb, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&r, tu_rdev(&T, TU_DEV), "svc", 2048, 1024, count_cb, NULL), 0);
	char msg[100] = {0};
	for (int i = 0; i < 5; i++)
		assert_int_equal(rpmsg_send(&h, msg, 100), 100);
	assert_int_equal(rpmsg_send(&r, msg, 7), 7);
	/* before the pump the device has not taken them: five in flight */
	struct al_ring_usage u;
	assert_int_equal(al_virtio_ring_usage(tu_rv(&T, TU_DRV), &u), 0);
	assert_int_equal(u.tx_in_flight, 5);
	assert_int_equal(al_virtio_ring_usage(tu_rv(&T, TU_DEV), &u), 0);
	assert_int_equal(u.rx_backlog, 5);
	assert_true(tu_pump(&T) >= 0);
	assert_int_equal(got, 6);

	static struct al_metrics m;
	al_metrics_init(&m);
	struct al_metrics_link *l = al_metrics_add_link(&m, "lb", tu_rv(&T, TU_DRV));
	assert_non_null(l);
	assert_int_equal(l->host, 1);
	assert_int_equal(l->state, AL_LINK_UP);
	assert_int_equal(l->tx_msgs, 5);
	assert_int_equal(l->tx_bytes, 500);
	assert_int_equal(l->rx_msgs, 1);
	assert_int_equal(l->rx_bytes, 7);
	assert_int_equal(l->tx_in_flight, 0);
	assert_int_equal(l->rx_backlog, 0);
	assert_int_equal(l->ring_num, 16);
	const struct al_metrics_ept *e = find_ept(l, 1024);
	assert_non_null(e);
	assert_string_equal(e->name, "svc");
	assert_int_equal(e->tx_msgs, 5);
	assert_int_equal(e->tx_bytes, 500);
	assert_int_equal(e->rx_bytes, 7);
	l = al_metrics_add_link(&m, "lb", tu_rv(&T, TU_DEV));
	assert_int_equal(l->host, 0);
	assert_int_equal(l->rx_bytes, 500);
	assert_int_equal(m.dropped, 0);
	char *text = expose(&m, NULL);
	assert_true(check_exposition(text) > 20);
	assert_non_null(strstr(text, "amplink_link_bytes_total{link=\"lb\",side=\"host\","
				     "direction=\"tx\"} 500\n"));
	assert_non_null(strstr(text, "amplink_endpoint_messages_total{link=\"lb\",side=\"remote\","
				     "endpoint=\"svc\",addr=\"2048\",direction=\"rx\"} 5\n"));
	free(text);
	rpmsg_destroy_ept(&h);
	rpmsg_destroy_ept(&r);
}

/* A remote that announces hundreds of endpoints: the snapshot keeps
 * AL_METRICS_EPTS_MAX, counts the rest, and the exposition stays bounded. */
static void test_many_endpoints_capped(void **state)
{
	(void)state;
	tu_up(&T, NULL, NULL, NULL);
	enum { N = 300 };
	static struct rpmsg_endpoint e[N];
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "sensor-%d", i);
		assert_int_equal(rpmsg_create_ept(&e[i], tu_rdev(&T, TU_DRV), name, RPMSG_ADDR_ANY,
						  RPMSG_ADDR_ANY, count_cb, NULL),
				 0);
		assert_true(tu_pump(&T) >= 0); /* the announcement takes a buffer */
	}
	static struct al_metrics m;
	al_metrics_init(&m);
	struct al_metrics_link *l = al_metrics_add_link(&m, "many", tu_rv(&T, TU_DRV));
	assert_int_equal(l->n_epts, AL_METRICS_EPTS_MAX);
	assert_int_equal(l->epts_total, N + 1); /* and the name service's */
	assert_int_equal(m.dropped, N + 1 - AL_METRICS_EPTS_MAX);
	uint64_t total = 0;
	char *text = expose(&m, &total);
	int samples = check_exposition(text);
	assert_true(samples < 4 * AL_METRICS_EPTS_MAX + 40);
	assert_int_equal(total, N + 1 - AL_METRICS_EPTS_MAX);
	char want[96];
	snprintf(want, sizeof(want), "amplink_metrics_series_dropped_total %d\n",
		 N + 1 - AL_METRICS_EPTS_MAX);
	assert_non_null(strstr(text, want));
	free(text);
	/* the total accumulates over expositions (a counter) */
	text = expose(&m, &total);
	assert_int_equal(total, 2 * (N + 1 - AL_METRICS_EPTS_MAX));
	free(text);
	for (int i = 0; i < N; i++)
		rpmsg_destroy_ept(&e[i]);
}

/* A snapshot full of what a hostile remote could name things. */
static void hostile_snapshot(struct al_metrics *m)
{
	al_metrics_init(m);
	struct al_metrics_link *l = al_metrics_add_link(m, "gw\"link\\\n", NULL);
	l->state = AL_LINK_BROKEN;
	l->fault = AL_F_DESC_ADDR;
	l->host = 1;
	l->start_time_s = 1796600000.5;
	l->epts_total = l->n_epts = 3;
	al_metrics_copy_name(l->epts[0].name, sizeof(l->epts[0].name), "quote\"back\\slash");
	al_metrics_copy_name(l->epts[1].name, sizeof(l->epts[1].name), "new\nline\r\x1b[2J");
	al_metrics_copy_name(l->epts[2].name, sizeof(l->epts[2].name), "\xff\xfe\xc0\xaf\xe2\x82");
	l->epts[2].addr = 0xFFFFFFFFu;
	l->epts[0].rx_bytes = UINT64_MAX;
	struct al_rproc_status st = {.state = AL_RPROC_RUNNING,
				     .boots = 3,
				     .crashes = 2,
				     .recoveries = 2,
				     .last_pong_ms_ago = 250};
	assert_int_equal(al_metrics_add_remote(m, "rproc\"0\n", &st), 0);
	st.last_pong_ms_ago = -1;
	assert_int_equal(al_metrics_add_remote(m, "no-heartbeat", &st), 0);
	al_metrics_set_series(m, "temp", 41.5, 1796600001.25);
	al_metrics_set_series(m, "adc\"\n\xff", NAN, 1796600001.0);
	al_metrics_set_series(m, "inf", INFINITY, 1796600001.0);
}

static void test_hostile_names_escaped(void **state)
{
	(void)state;
	static struct al_metrics m;
	hostile_snapshot(&m);
	char why[160];
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), 0);
	char *text = expose(&m, NULL);
	check_exposition(text);
	assert_non_null(strstr(text, "link=\"gw\\\"link\\\\\\n\""));
	assert_non_null(strstr(text, "endpoint=\"new\\nline\\\\x0d\\\\x1b[2J\""));
	assert_non_null(strstr(text, "endpoint=\"\\\\xff\\\\xfe\\\\xc0\\\\xaf\\\\xe2\\\\x82\""));
	assert_non_null(strstr(text, "state=\"broken\",fault=\"desc_addr\"} 1\n"));
	assert_non_null(strstr(text,
			       "amplink_remote_heartbeat_age_seconds{remote=\"rproc\\\"0\\n\"}"
			       " 0.25\n"));
	assert_null(strstr(text, "heartbeat_age_seconds{remote=\"no-heartbeat\"}"));
	assert_non_null(
	    strstr(text, "amplink_telemetry_value{series=\"adc\\\"\\n\\\\xff\"} NaN\n"));
	assert_non_null(strstr(text, "amplink_telemetry_value{series=\"inf\"} +Inf\n"));
	assert_non_null(strstr(text, "direction=\"rx\"} 18446744073709551615\n"));
	assert_non_null(
	    strstr(text, "amplink_link_up{link=\"gw\\\"link\\\\\\n\",side=\"host\"} 0\n"));
	free(text);
}

static void test_series_capped(void **state)
{
	(void)state;
	static struct al_metrics m;
	al_metrics_init(&m);
	for (int i = 0; i < 500; i++) {
		char name[32];
		snprintf(name, sizeof(name), "s%d", i);
		int rc = al_metrics_set_series(&m, name, i, 1.0);
		assert_int_equal(rc, i < AL_METRICS_SERIES_MAX ? 0 : AL_ENOMEM);
	}
	/* an existing series is updated in place, whatever the cap */
	assert_int_equal(al_metrics_set_series(&m, "s3", 33.0, 2.0), 0);
	assert_true(m.series[3].value == 33.0);
	assert_int_equal(al_metrics_set_series(&m, "", 1, 1), AL_EINVAL);
	assert_int_equal(m.n_series, AL_METRICS_SERIES_MAX);
	assert_int_equal(m.dropped, 500 - AL_METRICS_SERIES_MAX);
	char *text = expose(&m, NULL);
	assert_int_equal(check_exposition(text), 2 * AL_METRICS_SERIES_MAX + 1);
	free(text);
	/* links and remotes have caps too */
	for (int i = 0; i < AL_METRICS_LINKS_MAX; i++)
		assert_non_null(al_metrics_add_link(&m, "l", NULL));
	assert_null(al_metrics_add_link(&m, "l", NULL));
	struct al_rproc_status st = {0};
	for (int i = 0; i < AL_METRICS_REMOTES_MAX; i++)
		assert_int_equal(al_metrics_add_remote(&m, "r", &st), 0);
	assert_int_equal(al_metrics_add_remote(&m, "r", &st), AL_ENOMEM);
	assert_int_equal(m.dropped, 500 - AL_METRICS_SERIES_MAX + 2);
}

/* A remote reporting hundreds of sensors, each many times: the latest
 * table keeps AL_METRICS_SERIES_MAX, and each snapshot counts every
 * refused series once, not once per sample; the memory of refused names
 * is bounded too. */
static void test_latest_series_capped(void **state)
{
	(void)state;
	static struct al_metrics_latest l;
	memset(&l, 0, sizeof(l));
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 500; i++) {
			char name[32];
			snprintf(name, sizeof(name), "sensor-%d", i);
			int rc = al_metrics_latest_set(&l, name, round * 1000 + i, round);
			assert_int_equal(rc, i < AL_METRICS_SERIES_MAX ? 0 : AL_ENOMEM);
		}
	assert_int_equal(l.n_series, AL_METRICS_SERIES_MAX);
	assert_int_equal(l.n_refused, 500 - AL_METRICS_SERIES_MAX);
	assert_true(l.series[5].value == 2005.0); /* the latest sample */
	assert_int_equal(al_metrics_latest_set(&l, "", 1, 1), AL_EINVAL);
	static struct al_metrics m;
	al_metrics_init(&m);
	al_metrics_latest_add_to(&l, &m);
	assert_int_equal(m.n_series, AL_METRICS_SERIES_MAX);
	assert_int_equal(m.dropped, 500 - AL_METRICS_SERIES_MAX);
	uint64_t total = 0;
	char *text = expose(&m, &total);
	assert_int_equal(check_exposition(text), 2 * AL_METRICS_SERIES_MAX + 1);
	assert_non_null(strstr(text, "amplink_metrics_series_dropped_total 436\n"));
	free(text);
	/* a flood of new names: the refused set stops growing at its cap */
	for (int i = 0; i < 5000; i++) {
		char name[32];
		snprintf(name, sizeof(name), "flood-%d", i);
		al_metrics_latest_set(&l, name, i, 1);
	}
	assert_int_equal(l.n_refused, AL_METRICS_REFUSED_MAX);
}

/* What a validator must refuse in a snapshot from another process. */
static void test_validate_refuses(void **state)
{
	(void)state;
	static struct al_metrics m;
	char why[160];
	hostile_snapshot(&m);
	m.n_links = AL_METRICS_LINKS_MAX + 1;
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
	hostile_snapshot(&m);
	memset(m.links[0].name, 'x', sizeof(m.links[0].name));
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
	assert_non_null(strstr(why, "not terminated"));
	hostile_snapshot(&m);
	memset(m.links[0].epts[1].name, 'x', sizeof(m.links[0].epts[1].name));
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
	hostile_snapshot(&m);
	m.links[0].n_epts = AL_METRICS_EPTS_MAX + 1;
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
	hostile_snapshot(&m);
	m.links[0].epts_total = 1; /* fewer than reported */
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
	hostile_snapshot(&m);
	m.links[0].fault = AL_F_COUNT;
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
	hostile_snapshot(&m);
	m.links[0].state = 9;
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
	hostile_snapshot(&m);
	m.links[0].start_time_s = NAN;
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
	hostile_snapshot(&m);
	m.remotes[0].heartbeat_age_s = INFINITY;
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
	hostile_snapshot(&m);
	m.series[0].name[0] = '\0';
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
	hostile_snapshot(&m);
	m.n_series = AL_METRICS_SERIES_MAX + 1;
	assert_int_equal(al_metrics_validate(&m, why, sizeof(why)), AL_EPROTO);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--emit")) { /* for promtool */
		static struct al_metrics m;
		hostile_snapshot(&m);
		FILE *f = fopen(argv[2], "w");
		return !f || al_prom_write(f, &m, NULL) || fclose(f);
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_link_counters),
	    cmocka_unit_test(test_many_endpoints_capped),
	    cmocka_unit_test(test_hostile_names_escaped),
	    cmocka_unit_test(test_series_capped),
	    cmocka_unit_test(test_latest_series_capped),
	    cmocka_unit_test(test_validate_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
