/* The journal's native protocol (src/linux/journal.c) and the log sink's
 * journal kind (src/linux/log_sink.c): the encoding, and what a remote can
 * and cannot make of it. The test binds its own datagram socket in place of
 * journald's, decodes each entry as journald does, and checks the fields:
 * a newline in the remote's text never starts a field, NUL and control
 * bytes never reach the journal raw, a 10 KiB line arrives whole, a
 * value past the cap is cut and says so, a bad level is refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "amplink/error.h"
#include "amplink/linux/journal.h"
#include "amplink/linux/log_sink.h"

/* ---- a journald stand-in: bind, receive, parse ----------------------------- */

#define MAXF 32

struct entry {
	int n;
	char key[MAXF][72];
	char *val[MAXF];
	size_t len[MAXF];
	uint8_t raw[AL_JOURNAL_ENTRY_MAX + 64];
};

/* Parse as journald does; fail the test on anything malformed. */
static void parse(const uint8_t *d, size_t n, struct entry *e)
{
	e->n = 0;
	size_t off = 0;
	while (off < n) {
		assert_true(e->n < MAXF);
		const uint8_t *nl = memchr(d + off, '\n', n - off);
		assert_non_null(nl);
		const uint8_t *eq = memchr(d + off, '=', (size_t)(nl - (d + off)));
		char *k = e->key[e->n];
		if (eq) { /* KEY=VALUE\n */
			size_t kl = (size_t)(eq - (d + off));
			assert_true(kl < sizeof(e->key[0]));
			memcpy(k, d + off, kl);
			k[kl] = 0;
			e->val[e->n] = (char *)eq + 1;
			e->len[e->n] = (size_t)(nl - eq - 1);
			off = (size_t)(nl - d) + 1;
		} else { /* KEY\n<le64 len><value>\n */
			size_t kl = (size_t)(nl - (d + off));
			assert_true(kl < sizeof(e->key[0]));
			memcpy(k, d + off, kl);
			k[kl] = 0;
			off = (size_t)(nl - d) + 1;
			assert_true(n - off >= 8);
			uint64_t vl = 0;
			for (int b = 0; b < 8; b++)
				vl |= (uint64_t)d[off + (size_t)b] << (8 * b);
			off += 8;
			assert_true(vl < n - off);
			e->val[e->n] = (char *)d + off;
			e->len[e->n] = (size_t)vl;
			off += (size_t)vl;
			assert_int_equal(d[off], '\n');
			off++;
		}
		assert_true(al_journal_key_ok(k));
		e->n++;
	}
}

static int count_key(const struct entry *e, const char *k)
{
	int c = 0;
	for (int i = 0; i < e->n; i++)
		c += !strcmp(e->key[i], k);
	return c;
}

/* The value of `k` as a string (the test's copy), NULL when absent. */
static const char *get(struct entry *e, const char *k, size_t *len)
{
	static char buf[AL_JOURNAL_VALUE_MAX + 1];
	for (int i = 0; i < e->n; i++)
		if (!strcmp(e->key[i], k)) {
			memcpy(buf, e->val[i], e->len[i]);
			buf[e->len[i]] = 0;
			if (len)
				*len = e->len[i];
			return buf;
		}
	return NULL;
}

struct sink_fx {
	char dir[64], path[108];
	int fd;
	struct entry e;
};

static int fx_setup(void **state)
{
	struct sink_fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_journal.XXXXXX");
	if (!f || !mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/socket", f->dir);
	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->path);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return -1;
	struct timeval tv = {2, 0};
	setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct sink_fx *f = *state;
	close(f->fd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Receive one entry into f->e (fails the test after 2 s). */
static void recv_entry(struct sink_fx *f)
{
	ssize_t n = recv(f->fd, f->e.raw, sizeof(f->e.raw), 0);
	assert_true(n > 0);
	parse(f->e.raw, (size_t)n, &f->e);
}

/* Nothing more waiting on the socket. */
static void assert_no_entry(struct sink_fx *f)
{
	uint8_t b[64];
	assert_true(recv(f->fd, b, sizeof(b), MSG_DONTWAIT) < 0 && errno == EAGAIN);
}

/* One log-channel message as the remote sends it (amplink/log.h). */
static size_t wire(uint8_t *buf, uint8_t level, uint32_t seq, uint32_t ts, uint32_t dropped,
		   const void *text, size_t len)
{
	uint8_t h[AL_LOG_HDR_SIZE] = {1, level, 0, 0};
	for (int b = 0; b < 4; b++) {
		h[4 + b] = (uint8_t)(seq >> (8 * b));
		h[8 + b] = (uint8_t)(ts >> (8 * b));
		h[12 + b] = (uint8_t)(dropped >> (8 * b));
	}
	memcpy(buf, h, sizeof(h));
	memcpy(buf + sizeof(h), text, len);
	return sizeof(h) + len;
}

/* ---- the encoder ------------------------------------------------------------ */

static void keys_checked(void **state)
{
	(void)state;
	assert_true(al_journal_key_ok("MESSAGE"));
	assert_true(al_journal_key_ok("REMOTE_TIMESTAMP"));
	assert_true(al_journal_key_ok("A1"));
	assert_false(al_journal_key_ok(""));
	assert_false(al_journal_key_ok(NULL));
	assert_false(al_journal_key_ok("_PID")); /* the journal's trusted fields */
	assert_false(al_journal_key_ok("1ABC"));
	assert_false(al_journal_key_ok("message"));
	assert_false(al_journal_key_ok("A=B"));
	assert_false(al_journal_key_ok("A\nB"));
	char k[80];
	memset(k, 'K', sizeof(k));
	k[64] = 0;
	assert_true(al_journal_key_ok(k));
	k[64] = 'K', k[65] = 0;
	assert_false(al_journal_key_ok(k));
	uint8_t buf[256];
	struct al_journal_field bad = {"lower", "x", 1};
	assert_int_equal(al_journal_encode(&bad, 1, buf, sizeof(buf), NULL), AL_EINVAL);
	assert_int_equal(al_journal_encode(&bad, 0, buf, sizeof(buf), NULL), AL_EINVAL);
}

static void simple_and_binary_forms(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct al_journal_field f[] = {{"MESSAGE", "hello", 5}, {"PRIORITY", "6", 1}};
	long n = al_journal_encode(f, 2, buf, sizeof(buf), NULL);
	assert_int_equal(n, strlen("MESSAGE=hello\nPRIORITY=6\n"));
	assert_memory_equal(buf, "MESSAGE=hello\nPRIORITY=6\n", (size_t)n);

	/* a newline: length-prefixed, and nothing in it is a field */
	const char evil[] = "a\nPRIORITY=0\nSYSLOG_IDENTIFIER=sshd";
	struct al_journal_field g[] = {{"MESSAGE", evil, strlen(evil)}, {"PRIORITY", "6", 1}};
	n = al_journal_encode(g, 2, buf, sizeof(buf), NULL);
	assert_true(n > 0);
	assert_memory_equal(buf, "MESSAGE\n", 8);
	struct entry e;
	parse(buf, (size_t)n, &e);
	assert_int_equal(e.n, 2);
	assert_int_equal(count_key(&e, "PRIORITY"), 1);
	assert_int_equal(count_key(&e, "SYSLOG_IDENTIFIER"), 0);
	assert_string_equal(get(&e, "PRIORITY", NULL), "6");
	size_t len;
	assert_string_equal(get(&e, "MESSAGE", &len), evil);

	/* empty value, and a value that does not fit */
	struct al_journal_field h = {"EMPTY", "", 0};
	assert_int_equal(al_journal_encode(&h, 1, buf, sizeof(buf), NULL), 7);
	char big[300];
	memset(big, 'x', sizeof(big));
	struct al_journal_field b = {"MESSAGE", big, sizeof(big)};
	assert_int_equal(al_journal_encode(&b, 1, buf, sizeof(buf), NULL), AL_ENOMEM);
}

static void long_value_is_cut(void **state)
{
	(void)state;
	static uint8_t buf[AL_JOURNAL_ENTRY_MAX];
	static char big[AL_JOURNAL_VALUE_MAX + 5000];
	memset(big, 'y', sizeof(big));
	struct al_journal_field f = {"MESSAGE", big, sizeof(big)};
	bool cut = false;
	long n = al_journal_encode(&f, 1, buf, sizeof(buf), &cut);
	assert_true(cut);
	assert_int_equal(n, strlen("MESSAGE=") + AL_JOURNAL_VALUE_MAX + 1);
	f.len = 100;
	al_journal_encode(&f, 1, buf, sizeof(buf), &cut);
	assert_false(cut);
}

/* ---- the sink against a socket of ours --------------------------------------- */

static struct al_log_sink *open_sink(struct sink_fx *f)
{
	struct al_log_sink *s = NULL;
	assert_int_equal(al_log_sink_open(AL_LOG_SINK_JOURNAL, f->path, "m4-core", &s), 0);
	assert_int_equal(al_log_sink_set_link(s, "gw0"), 0);
	return s;
}

static void sink_fields(void **state)
{
	struct sink_fx *f = *state;
	struct al_log_sink *s = open_sink(f);
	static uint8_t m[AL_LOG_HDR_SIZE + 64];
	const char *levels[] = {"3", "4", "6", "7"};
	uint8_t lv[] = {3, 4, 6, 7};
	for (int i = 0; i < 4; i++) {
		char t[32];
		snprintf(t, sizeof(t), "line %d", i);
		size_t n = wire(m, lv[i], 10u + (uint32_t)i, 12345u + (uint32_t)i, 0, t, strlen(t));
		assert_int_equal(al_log_sink_feed(s, m, n), 0);
		recv_entry(f);
		assert_string_equal(get(&f->e, "MESSAGE", NULL), t);
		assert_string_equal(get(&f->e, "PRIORITY", NULL), levels[i]);
		assert_string_equal(get(&f->e, "SYSLOG_IDENTIFIER", NULL), "m4-core");
		assert_string_equal(get(&f->e, "REMOTE", NULL), "m4-core");
		assert_string_equal(get(&f->e, "LINK", NULL), "gw0");
		char ts[16];
		snprintf(ts, sizeof(ts), "12.%03d", 345 + i);
		assert_string_equal(get(&f->e, "REMOTE_TIMESTAMP", NULL), ts);
		char seq[8];
		snprintf(seq, sizeof(seq), "%d", 10 + i);
		assert_string_equal(get(&f->e, "REMOTE_SEQ", NULL), seq);
		assert_null(get(&f->e, "REMOTE_TRUNCATED", NULL));
	}
	/* the remote's drop count grew: a warning entry of ours first */
	size_t n = wire(m, 6, 20, 13000, 7, "after drops", 11);
	assert_int_equal(al_log_sink_feed(s, m, n), 0);
	recv_entry(f);
	assert_string_equal(get(&f->e, "PRIORITY", NULL), "4");
	assert_string_equal(get(&f->e, "REMOTE_DROPPED", NULL), "7");
	recv_entry(f);
	assert_string_equal(get(&f->e, "MESSAGE", NULL), "after drops");
	struct al_log_sink_stats st;
	al_log_sink_get_stats(s, &st);
	assert_int_equal(st.lines, 5);
	assert_int_equal(st.remote_dropped, 7);
	al_log_sink_close(s);
}

/* Newlines, NUL and escapes in the remote's text: one MESSAGE, no field of
 * the remote's making, no raw control byte. */
static void sink_hostile_text(void **state)
{
	struct sink_fx *f = *state;
	struct al_log_sink *s = open_sink(f);
	static uint8_t m[AL_LOG_HDR_SIZE + 128];
	const char text[] = "ok\nPRIORITY=0\nREMOTE=other\0MESSAGE=x\r\x1b[2J\x7f";
	size_t n = wire(m, 6, 1, 1, 0, text, sizeof(text) - 1);
	assert_int_equal(al_log_sink_feed(s, m, n), 0);
	recv_entry(f);
	assert_int_equal(count_key(&f->e, "MESSAGE"), 1);
	assert_int_equal(count_key(&f->e, "PRIORITY"), 1);
	assert_int_equal(count_key(&f->e, "REMOTE"), 1);
	assert_string_equal(get(&f->e, "PRIORITY", NULL), "6");
	assert_string_equal(get(&f->e, "REMOTE", NULL), "m4-core");
	size_t len;
	const char *v = get(&f->e, "MESSAGE", &len);
	assert_int_equal(len, sizeof(text) - 1); /* every byte kept, as '?' if control */
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)v[i] >= 0x20 && v[i] != 0x7f);
	assert_string_equal(v, "ok?PRIORITY=0?REMOTE=other?MESSAGE=x??[2J?");
	al_log_sink_close(s);
}

/* A 10 KiB line arrives whole; one past the journal's cap is cut and says
 * so; a level above 7 is refused and nothing is sent. */
static void sink_sizes_and_levels(void **state)
{
	struct sink_fx *f = *state;
	struct al_log_sink *s = open_sink(f);
	static uint8_t m[AL_LOG_HDR_SIZE + 40000];
	static char t[40000];
	memset(t, 'z', sizeof(t));
	size_t n = wire(m, 4, 1, 1, 0, t, 10240);
	assert_int_equal(al_log_sink_feed(s, m, n), 0);
	recv_entry(f);
	size_t len;
	get(&f->e, "MESSAGE", &len);
	assert_int_equal(len, 10240);
	assert_null(get(&f->e, "REMOTE_TRUNCATED", NULL));

	n = wire(m, 4, 2, 1, 0, t, 30000);
	assert_int_equal(al_log_sink_feed(s, m, n), 0);
	recv_entry(f);
	get(&f->e, "MESSAGE", &len);
	assert_int_equal(len, AL_JOURNAL_VALUE_MAX);
	assert_string_equal(get(&f->e, "REMOTE_TRUNCATED", NULL), "1");

	n = wire(m, 9, 3, 1, 0, "bad level", 9);
	assert_int_equal(al_log_sink_feed(s, m, n), AL_EPROTO);
	n = wire(m, 255, 3, 1, 0, "bad level", 9);
	assert_int_equal(al_log_sink_feed(s, m, n), AL_EPROTO);
	assert_int_equal(al_log_sink_feed(s, m, 5), AL_EPROTO); /* shorter than a header */
	assert_no_entry(f);
	struct al_log_sink_stats st;
	al_log_sink_get_stats(s, &st);
	assert_int_equal(st.malformed, 3);
	assert_int_equal(st.lines, 2);
	al_log_sink_close(s);
}

/* No journal at the path: the write fails with an error, nothing crashes. */
static void sink_no_journal(void **state)
{
	struct sink_fx *f = *state;
	char gone[160];
	snprintf(gone, sizeof(gone), "%s/nobody-here", f->dir);
	struct al_log_sink *s = NULL;
	assert_int_equal(al_log_sink_open(AL_LOG_SINK_JOURNAL, gone, "m4", &s), 0);
	uint8_t m[64];
	size_t n = wire(m, 6, 1, 1, 0, "x", 1);
	assert_int_equal(al_log_sink_feed(s, m, n), AL_EINIT);
	al_log_sink_close(s);
	char longp[200];
	memset(longp, 'p', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	assert_int_equal(al_log_sink_open(AL_LOG_SINK_JOURNAL, longp, "m4", &s), AL_EINVAL);
}

/* A journal that does not read: the line is lost and counted after about a
 * second, and the sink goes on (a forwarder must not stop behind it). */
static void sink_journal_busy(void **state)
{
	struct sink_fx *f = *state;
	struct al_log_sink *s = open_sink(f);
	uint8_t m[64];
	size_t n = wire(m, 6, 1, 1, 0, "fill", 4);
	struct al_log_sink_stats st = {0};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 100000 && st.lost == 0; i++) {
		assert_int_equal(al_log_sink_feed(s, m, n), 0);
		al_log_sink_get_stats(s, &st);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(st.lost, 1);
	assert_true(st.lines > 0);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
	assert_in_range(ms, 900, 5000);
	recv_entry(f); /* the journal reads again: the next line goes through */
	assert_int_equal(al_log_sink_feed(s, m, n), 0);
	al_log_sink_get_stats(s, &st);
	assert_int_equal(st.lost, 1);
	al_log_sink_close(s);
}

static void socket_path_from_env(void **state)
{
	(void)state;
	unsetenv(AL_JOURNAL_SOCKET_ENV);
	assert_string_equal(al_journal_socket_path(), AL_JOURNAL_SOCKET);
	setenv(AL_JOURNAL_SOCKET_ENV, "", 1);
	assert_string_equal(al_journal_socket_path(), AL_JOURNAL_SOCKET);
	setenv(AL_JOURNAL_SOCKET_ENV, "/nonexistent/j.sock", 1);
	assert_string_equal(al_journal_socket_path(), "/nonexistent/j.sock");
	assert_false(al_journal_present());
	unsetenv(AL_JOURNAL_SOCKET_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keys_checked),
	    cmocka_unit_test(simple_and_binary_forms),
	    cmocka_unit_test(long_value_is_cut),
	    cmocka_unit_test_setup_teardown(sink_fields, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sink_hostile_text, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sink_sizes_and_levels, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sink_no_journal, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(sink_journal_busy, fx_setup, fx_teardown),
	    cmocka_unit_test(socket_path_from_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
