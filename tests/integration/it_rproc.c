/* Integration tests of remoteproc with the process backend: this process
 * is the host (al_rproc_*), the remote is build/rproc_fw_demo (argv[2]);
 * argv[1] is build/amplink for the CLI test. SIGKILL x20 under echo
 * traffic with recovery and leak counts, heartbeat loss by SIGSTOP within
 * three intervals, link-down errors during an outage, refused firmware,
 * the trace buffer, and `amplink rproc start/status/trace/stop`. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
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

#include "amplink/linux/diag.h"
#include "amplink/linux/rproc.h"

static const char *amplink_bin, *fw_bin;

/* The last diagnostic the libraries reported (amplink/linux/diag.h):
 * al_rproc_start() says there why it failed. */
static pthread_mutex_t why_mu = PTHREAD_MUTEX_INITIALIZER;
static char why[512];

static void keep_last_diag(int level, const char *msg, void *arg)
{
	(void)level, (void)arg;
	pthread_mutex_lock(&why_mu);
	snprintf(why, sizeof(why), "%s", msg);
	pthread_mutex_unlock(&why_mu);
}

/* al_rproc_start() of a firmware that must be refused: its code, with
 * `why` holding the sentence it reported. */
static int start_refused(const struct al_rproc_cfg *c)
{
	struct al_rproc *rp = NULL;
	why[0] = '\0';
	int rc = al_rproc_start(c, &rp);
	print_message("  %s\n", why);
	assert_null(rp);
	assert_true(why[0] != '\0');
	return rc;
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}
static void sleep_ms(unsigned ms)
{
	struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&d, NULL);
}
static int count_dir(const char *path)
{
	int n = 0;
	DIR *d = opendir(path);
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}
static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;
	while (f && (c = fgetc(f)) != EOF)
		n += c == '\n';
	if (f)
		fclose(f);
	return n;
}

static struct al_rproc_status status(struct al_rproc *rp)
{
	struct al_rproc_status st;
	al_rproc_get_status(rp, &st);
	return st;
}

/* ---- echo traffic -------------------------------------------------------------- */

static struct rpmsg_endpoint echo_ept;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile unsigned long echoes, enolink, bad_echo;
static volatile uint32_t expect_seq;
static volatile int traffic_stop;

static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)src, (void)priv;
	uint32_t seq;
	pthread_mutex_lock(&mu);
	if (len == 64 && (memcpy(&seq, data, 4), seq == expect_seq))
		echoes++;
	else
		bad_echo++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return RPMSG_SUCCESS;
}

static void *traffic(void *arg)
{
	struct al_rproc *rp = arg;
	uint8_t msg[64];
	uint32_t seq = 0;
	while (!traffic_stop) {
		memset(msg, (int)seq, sizeof(msg));
		pthread_mutex_lock(&mu);
		expect_seq = ++seq;
		unsigned long before = echoes;
		pthread_mutex_unlock(&mu);
		memcpy(msg, &seq, 4);
		int rc = al_rproc_send(rp, &echo_ept, msg, sizeof(msg), 500);
		if (rc == AL_ENOLINK) {
			enolink++;
			al_rproc_wait_bound(rp, &echo_ept, 100);
			continue;
		}
		if (rc != (int)sizeof(msg))
			continue;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500 * 1000000L;
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_sec++, ts.tv_nsec -= 1000000000L;
		pthread_mutex_lock(&mu);
		while (echoes == before && !traffic_stop)
			if (pthread_cond_timedwait(&cv, &mu, &ts))
				break; /* lost with a crash: go on with the next one */
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static unsigned long echo_count(void)
{
	pthread_mutex_lock(&mu);
	unsigned long n = echoes;
	pthread_mutex_unlock(&mu);
	return n;
}

/* Wait until `n` more echoes came back. */
static bool echoes_resume(unsigned long n, unsigned timeout_ms)
{
	unsigned long e0 = echo_count();
	uint64_t t0 = now_ms();
	while (echo_count() < e0 + n)
		if (now_ms() - t0 > timeout_ms)
			return false;
		else
			sleep_ms(2);
	return true;
}

static struct al_rproc *start_fw(bool restart, uint32_t hb_ms)
{
	struct al_rproc_cfg c = {.firmware = fw_bin, .restart = restart, .heartbeat_ms = hb_ms};
	struct al_rproc *rp = NULL;
	int rc = al_rproc_start(&c, &rp);
	if (rc)
		fail_msg("al_rproc_start: %d %s", rc, why);
	assert_int_equal(
	    al_rproc_ept_add(rp, &echo_ept, "rpmsg-openamp-demo-channel", echo_cb, NULL), 0);
	assert_int_equal(al_rproc_wait_bound(rp, &echo_ept, 5000), 0);
	return rp;
}

/* Kill the remote, wait for the crash to be seen, the restart, the rebind
 * and echo traffic. */
static void kill_and_recover(struct al_rproc *rp, int sig)
{
	struct al_rproc_status s0 = status(rp);
	assert_true(s0.id > 0);
	assert_true(echoes_resume(20, 5000));
	kill((pid_t)s0.id, sig);
	uint64_t t0 = now_ms();
	while (status(rp).crashes == s0.crashes)
		assert_true(now_ms() - t0 < 3000), sleep_ms(1);
	while (status(rp).recoveries == s0.recoveries || status(rp).state != AL_RPROC_RUNNING)
		assert_true(now_ms() - t0 < 5000), sleep_ms(1);
	assert_int_equal(al_rproc_wait_bound(rp, &echo_ept, 5000), 0);
	assert_true(echoes_resume(20, 5000));
	struct al_rproc_status s1 = status(rp);
	assert_int_equal(s1.crashes, s0.crashes + 1);
	assert_int_equal(s1.recoveries, s0.recoveries + 1);
	assert_true(s1.id > 0 && s1.id != s0.id);
}

static void sigkill_x20_under_traffic(void **s)
{
	(void)s;
	int fd0 = count_dir("/proc/self/fd"), thr0 = count_dir("/proc/self/task");
	/* crashes here are SIGKILLs, seen through the pidfd at once; a long
	 * heartbeat keeps a loaded machine from adding a false one */
	struct al_rproc *rp = start_fw(true, 1000);
	traffic_stop = 0;
	pthread_t t;
	pthread_create(&t, NULL, traffic, rp);
	kill_and_recover(rp, SIGKILL); /* warm-up: the first recovery sets up lazily-made state */
	int fd1 = count_dir("/proc/self/fd"), thr1 = count_dir("/proc/self/task");
	int maps1 = count_maps();
	unsigned long e0 = echo_count(), n0 = enolink;
	uint64_t t0 = now_ms();
	for (int i = 0; i < 20; i++)
		kill_and_recover(rp, SIGKILL);
	struct al_rproc_status st = status(rp);
	int fd2 = count_dir("/proc/self/fd"), thr2 = count_dir("/proc/self/task");
	int maps2 = count_maps();
	print_message("20 SIGKILLs in %.1f s: %u crashes, %u recoveries, %lu echoes, %lu sends "
		      "refused with AL_ENOLINK during outages, %lu late/unexpected echoes\n",
		      (double)(now_ms() - t0) / 1000.0, st.crashes, st.recoveries,
		      echo_count() - e0, enolink - n0, bad_echo);
	print_message("fds %d -> %d, threads %d -> %d, maps lines %d -> %d\n", fd1, fd2, thr1, thr2,
		      maps1, maps2);
	assert_int_equal(st.crashes, 21);
	assert_int_equal(st.recoveries, 21);
	assert_int_equal(fd2, fd1);
	assert_int_equal(thr2, thr1);
	assert_int_equal(maps2, maps1);
	traffic_stop = 1;
	pthread_join(t, NULL);
	al_rproc_close(rp);
	assert_int_equal(count_dir("/proc/self/fd"), fd0);
	assert_int_equal(count_dir("/proc/self/task"), thr0);
}

/* SIGSTOP: the process lives but answers nothing; the heartbeat must catch
 * it within 3 intervals; the host kills it and restarts. */
static void heartbeat_sigstop(void **s)
{
	(void)s;
	const uint32_t hb = 100;
	struct al_rproc *rp = start_fw(true, hb);
	while (status(rp).last_pong_ms_ago < 0)
		sleep_ms(5);
	for (int round = 0; round < 3; round++) {
		struct al_rproc_status s0 = status(rp);
		kill((pid_t)s0.id, SIGSTOP);
		uint64_t t0 = now_ms();
		while (status(rp).crashes == s0.crashes)
			assert_true(now_ms() - t0 < 2000), sleep_ms(1);
		uint64_t dt = now_ms() - t0;
		struct al_rproc_status s1 = status(rp);
		print_message("SIGSTOP detected in %llu ms (interval %u ms, limit %u ms): %s\n",
			      (unsigned long long)dt, hb, 3 * hb, s1.last_crash);
		assert_true(dt <= 3 * hb);
		assert_non_null(strstr(s1.last_crash, "heartbeat"));
		assert_int_equal(al_rproc_wait_bound(rp, &echo_ept, 5000), 0);
		uint8_t m[64] = {0};
		expect_seq = 0;
		assert_int_equal(al_rproc_send(rp, &echo_ept, m, sizeof(m), 1000), 64);
		while (status(rp).last_pong_ms_ago < 0)
			sleep_ms(5);
	}
	al_rproc_close(rp);
}

/* The heartbeat's progress rule: a remote that stops answering pings but
 * keeps serving traffic (under a flood a ping or its answer can find no
 * buffer) is alive while either ring moves, and declared dead within the
 * usual limit once it goes quiet. The firmware answers only 5 pings. */
static void heartbeat_progress_counts_as_life(void **s)
{
	(void)s;
	const uint32_t hb = 100;
	setenv("AMPLINK_FW_TEST_PINGS", "5", 1);
	struct al_rproc *rp = start_fw(false, hb);
	unsetenv("AMPLINK_FW_TEST_PINGS");
	while (status(rp).last_pong_ms_ago < 0)
		sleep_ms(5);
	traffic_stop = 0;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, traffic, rp), 0);
	/* 15 intervals of echoes: the pings stop being answered after ~5 */
	uint64_t t0 = now_ms();
	while (now_ms() - t0 < 15 * hb)
		sleep_ms(10);
	struct al_rproc_status s1 = status(rp);
	print_message("after %u ms of traffic: crashes %u, last answer %.0f ms ago\n", 15 * hb,
		      s1.crashes, s1.last_pong_ms_ago);
	assert_true(s1.last_pong_ms_ago > 3.0 * hb); /* the pings really went unanswered */
	assert_int_equal(s1.crashes, 0);
	assert_int_equal(s1.state, AL_RPROC_RUNNING);
	traffic_stop = 1;
	pthread_join(t, NULL);
	t0 = now_ms();
	while (status(rp).crashes == 0)
		assert_true(now_ms() - t0 < 2000), sleep_ms(1);
	uint64_t dt = now_ms() - t0;
	struct al_rproc_status s2 = status(rp);
	print_message("quiet remote declared dead %llu ms after the traffic stopped: %s\n",
		      (unsigned long long)dt, s2.last_crash);
	assert_true(dt <= 3 * hb);
	assert_non_null(strstr(s2.last_crash, "heartbeat"));
	al_rproc_close(rp);
}

/* Without --restart: the crash is reported, sends fail at once with
 * AL_ENOLINK, the endpoint is unbound, nothing hangs. */
static void outage_errors(void **s)
{
	(void)s;
	struct al_rproc *rp = start_fw(false, 200);
	uint8_t m[64] = {0};
	expect_seq = 0;
	assert_int_equal(al_rproc_send(rp, &echo_ept, m, sizeof(m), 1000), 64);
	kill((pid_t)status(rp).id, SIGKILL);
	uint64_t t0 = now_ms();
	while (status(rp).state != AL_RPROC_CRASHED)
		assert_true(now_ms() - t0 < 1000), sleep_ms(1);
	print_message("SIGKILL seen in %llu ms: %s\n", (unsigned long long)(now_ms() - t0),
		      status(rp).last_crash);
	t0 = now_ms();
	assert_int_equal(al_rproc_send(rp, &echo_ept, m, sizeof(m), 5000), AL_ENOLINK);
	assert_true(now_ms() - t0 < 100);
	assert_int_equal(al_rproc_wait_bound(rp, &echo_ept, 100), AL_ETIMEDOUT);
	char tr[4096];
	assert_true(al_rproc_read_trace(rp, true, tr, sizeof(tr)) > 0);
	assert_non_null(strstr(tr, "boot 1"));
	al_rproc_close(rp);
}

/* Firmware that is not acceptable: refused with a sentence, host fine. */
static void refused_firmware(void **s)
{
	(void)s;
	char txt[64];
	snprintf(txt, sizeof(txt), "/tmp/it-rproc-%d.txt", (int)getpid());
	FILE *f = fopen(txt, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho this is a shell script, not firmware\n", f);
	fclose(f);
	struct al_rproc_cfg c = {.firmware = txt};
	assert_int_equal(start_refused(&c), AL_EINIT);
	assert_non_null(strstr(why, "not an ELF file"));
	unlink(txt);
	c.firmware = amplink_bin; /* an ELF, but no resource table */
	assert_int_equal(start_refused(&c), AL_EINIT);
	assert_non_null(strstr(why, "no .resource_table section"));
	c.firmware = "/nonexistent/fw";
	assert_int_equal(start_refused(&c), AL_EINIT);
	c.firmware = fw_bin;
	c.region_size = 64 * 1024; /* too small for the firmware's 256-entry rings + pool */
	assert_int_not_equal(start_refused(&c), 0);
}

static int run(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");
	size_t k = p ? fread(out, 1, n - 1, p) : 0;
	out[k] = '\0';
	return p ? pclose(p) : -1;
}

/* The command line: start in the background, status, trace, stop. */
static void cli(void **s)
{
	(void)s;
	char name[32], cmd[512], out[8192];
	snprintf(name, sizeof(name), "it-%d", (int)getpid());
	pid_t pid = fork();
	if (pid == 0) {
		execl(amplink_bin, amplink_bin, "rproc", "start", fw_bin, "--restart", "--name",
		      name, "--heartbeat", "200", (char *)NULL);
		_exit(127);
	}
	snprintf(cmd, sizeof(cmd), "%s rproc status --name %s", amplink_bin, name);
	uint64_t t0 = now_ms();
	while (run(cmd, out, sizeof(out)) != 0 || !strstr(out, "sensor"))
		assert_true(now_ms() - t0 < 5000), sleep_ms(20);
	print_message("%s", out);
	assert_non_null(strstr(out, ": running"));
	assert_non_null(strstr(out, "crashes:    0"));
	snprintf(cmd, sizeof(cmd), "%s rproc trace --name %s", amplink_bin, name);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	print_message("%s", out);
	assert_non_null(strstr(out, "boot 1"));
	snprintf(cmd, sizeof(cmd), "%s rproc stop --name %s", amplink_bin, name);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(cmd, sizeof(cmd), "%s rproc status --name %s", amplink_bin, name);
	run(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "offline"));
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s PATH-TO-amplink PATH-TO-rproc_fw_demo\n", argv[0]);
		return 2;
	}
	amplink_bin = argv[1];
	fw_bin = argv[2];
	signal(SIGPIPE, SIG_IGN);
	al_diag_set_handler(keep_last_diag, NULL);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(refused_firmware),
	    cmocka_unit_test(outage_errors),
	    cmocka_unit_test(heartbeat_sigstop),
	    cmocka_unit_test(heartbeat_progress_counts_as_life),
	    cmocka_unit_test(sigkill_x20_under_traffic),
	    cmocka_unit_test(cli),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
