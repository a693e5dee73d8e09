/* Integration tests of remote logging (amplink/log.h, amplink/linux/log_sink.h):
 * the remote is `amplink remote` (path in argv[1]); the host is this
 * process or `amplink log`. Checks that lines arrive with level and text in
 * a file sink, that a flood never blocks the remote (drops counted and
 * reported), and that malformed lines are dropped and counted. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "it_spawn.h"

#include "amplink/linux/channel.h"
#include "amplink/linux/log_sink.h"
#include "amplink/linux/posix.h"

static char link_name[64];
static char tmpdir[] = "/tmp/it_log.XXXXXX";

static pid_t spawn_remote(const char *const *extra)
{
	static int seq;
	snprintf(link_name, sizeof(link_name), "itlog-%d-%d", (int)getpid(), ++seq);
	const char *argv[32] = {amplink_bin, "remote", "--link", link_name, "--once"};
	int n = 5;
	for (int i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	cur_remote = it_spawn(argv, NULL);
	return cur_remote;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* `amplink log --file F` against a remote that logs stats every 100 ms:
 * lines arrive with the remote's timestamp, level and text. */
static void file_sink_two_processes(void **s)
{
	(void)s;
	pid_t r = spawn_remote((const char *const[]){"--stats-ms", "100", NULL});
	char path[128];
	snprintf(path, sizeof(path), "%s/remote.log", tmpdir);
	pid_t l =
	    it_spawn((const char *const[]){amplink_bin, "log", "--link", link_name, "--file", path,
					   "--ident", "m4-core", "--duration", "1500", NULL},
		     NULL);
	assert_int_equal(it_wait_exit(l), 0);
	kill(r, SIGTERM);
	it_wait_exit(r);
	char *txt = slurp(path);
	assert_non_null(txt);
	if (getenv("IT_VERBOSE"))
		fputs(txt, stderr);
	/* "<host time> m4-core [  0.102] info: log: host subscribed on link '...'" */
	assert_non_null(strstr(txt, " m4-core ["));
	assert_non_null(strstr(txt, "] info: log: host subscribed on link"));
	/* the "host attached" line was logged before anyone listened: reported */
	assert_non_null(strstr(txt, "] warning: remote dropped 1 lines"));
	int stats = 0;
	for (char *p = txt; (p = strstr(p, "] info: stats: echoed 0")); p++)
		stats++;
	assert_in_range(stats, 5, 16); /* ~14 in 1.4 s at 100 ms */
}

/* The remote logs 20000 lines at once while this host does not read: the
 * remote must not block (it reports how long the flood took), drops are
 * counted by the remote and reported to the sink, and every line that got
 * through is intact and in order. */
static void flood_never_blocks(void **s)
{
	(void)s;
	spawn_remote((const char *const[]){"--log-flood", "20000", "--stats-ms", "0", NULL});
	struct al_posix_cfg c = {.name = link_name,
				 .role = VIRTIO_DEV_DRIVER,
				 .doorbell_any = true,
				 .ns_bind_cb = al_services_ns_bind};
	struct al_posix_link *link = NULL;
	assert_int_equal(al_posix_open(&c, &link), 0);
	struct al_channel *ch = NULL;
	assert_int_equal(al_channel_open(al_posix_rdev(link), AL_LOG_SERVICE, RPMSG_ADDR_ANY,
					 RPMSG_ADDR_ANY, 5000, &ch),
			 0);
	uint8_t sub[2] = {AL_LOG_OP_SUBSCRIBE, AL_LOG_DEBUG};
	assert_int_equal(al_channel_write(ch, sub, 2, 5000), 2);
	struct timespec d = {0, 600 * 1000000L}; /* a host busy elsewhere */
	nanosleep(&d, NULL);
	char path[128];
	snprintf(path, sizeof(path), "%s/flood.log", tmpdir);
	struct al_log_sink *sink;
	assert_int_equal(al_log_sink_open(AL_LOG_SINK_FILE, path, "flood", &sink), 0);
	uint8_t buf[512];
	char text[512];
	long sent = -1, dropped = -1, us = -1;
	unsigned last_flood = 0, got_flood = 0;
	for (int i = 0; i < 30000 && sent < 0; i++) {
		long n = al_channel_read(ch, buf, sizeof(buf), NULL, 5000);
		assert_true(n > 0);
		struct al_log_line line;
		assert_int_equal(al_log_decode(buf, (size_t)n, &line, text, sizeof(text)), 0);
		assert_int_equal(al_log_sink_feed(sink, buf, (size_t)n), 0);
		unsigned k, total;
		if (sscanf(text, "flood line %u of %u", &k, &total) == 2) {
			assert_int_equal(line.level, AL_LOG_DEBUG);
			assert_int_equal(total, 20000);
			assert_true(got_flood == 0 || k > last_flood); /* in order */
			last_flood = k;
			got_flood++;
		} else if (strncmp(text, "flood done:", 11) == 0) {
			assert_int_equal(line.level, AL_LOG_NOTICE);
			assert_int_equal(
			    sscanf(text, "flood done: 20000 lines in %ld us, sent %ld, dropped %ld",
				   &us, &sent, &dropped),
			    3);
		}
	}
	assert_true(sent >= 0);
	assert_int_equal(sent + dropped, 20000);
	assert_true(dropped > 0);		 /* the link was full... */
	assert_int_equal((long)got_flood, sent); /* ...and every line sent arrived */
	assert_true(us < 3000000);		 /* ...and the remote never waited */
	struct al_log_sink_stats st;
	al_log_sink_get_stats(sink, &st);
	assert_true(st.remote_dropped >= (uint64_t)dropped); /* + the pre-subscribe line */
	print_message(
	    "flood: 20000 lines in %ld us, sent %ld, dropped %ld; sink saw %llu dropped\n", us,
	    sent, dropped, (unsigned long long)st.remote_dropped);
	al_log_sink_close(sink);
	char *txt = slurp(path);
	assert_non_null(strstr(txt, "] warning: remote dropped "));
	assert_non_null(strstr(txt, "] notice: flood done: 20000 lines"));
	al_channel_close(ch);
	struct rpmsg_device *rdev = al_posix_rdev(link);
	al_posix_close(link);
	al_services_clear(rdev);
	it_wait_exit(cur_remote);
}

/* What the remote sends is untrusted: malformed lines are dropped and
 * counted, control characters never reach the log. */
static void malformed_lines(void **s)
{
	(void)s;
	char path[128];
	snprintf(path, sizeof(path), "%s/bad.log", tmpdir);
	struct al_log_sink *sink;
	assert_int_equal(al_log_sink_open(AL_LOG_SINK_FILE, path, "bad", &sink), 0);
	uint8_t ok[16 + 11] = {1, AL_LOG_ERR, 0, 0, 7, 0, 0, 0, 0xe8, 0x03, 0, 0, 0, 0, 0, 0};
	memcpy(ok + 16, "a\nb\x1b[31mc\td", 11);
	assert_int_equal(al_log_sink_feed(sink, ok, sizeof(ok)), 0);
	uint8_t bad_ver[16] = {2, 6};
	uint8_t bad_level[16] = {1, 8};
	uint8_t bad_rsvd[16] = {1, 6, 0, 1};
	assert_int_equal(al_log_sink_feed(sink, ok, 15), AL_EPROTO); /* short */
	assert_int_equal(al_log_sink_feed(sink, bad_ver, 16), AL_EPROTO);
	assert_int_equal(al_log_sink_feed(sink, bad_level, 16), AL_EPROTO);
	assert_int_equal(al_log_sink_feed(sink, bad_rsvd, 16), AL_EPROTO);
	struct al_log_sink_stats st;
	al_log_sink_get_stats(sink, &st);
	assert_int_equal(st.lines, 1);
	assert_int_equal(st.malformed, 4);
	al_log_sink_close(sink);
	char *txt = slurp(path);
	assert_non_null(strstr(txt, " bad [     1.000] err: a?b?[31mc\td\n"));
	assert_int_equal(al_log_level_parse("warning"), AL_LOG_WARNING);
	assert_int_equal(al_log_level_parse("7"), AL_LOG_DEBUG);
	assert_int_equal(al_log_level_parse("loud"), -1);
}

int main(int argc, char **argv)
{
	if (!it_take_amplink(argc, argv))
		return 2;
	if (!mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(malformed_lines, it_teardown),
	    cmocka_unit_test_teardown(file_sink_two_processes, it_teardown),
	    cmocka_unit_test_teardown(flood_never_blocks, it_teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (rc == 0 && system(cmd) != 0)
		rc = 1;
	return rc;
}
