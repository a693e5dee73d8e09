/* The commands' notify helper (src/linux/svc/svc_notify.c) against a
 * NOTIFY_SOCKET the test owns, as systemd would see it: READY=1 with the
 * status, STATUS= only when it changed and always on one line, WATCHDOG=1
 * at half the interval while the loop turns and none while it hangs, the
 * watchdog only for the process WATCHDOG_PID names, and a socket nobody
 * listens on changes nothing for the caller. */
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

#include "svc_notify.h"

static char dir[64], path[108];
static int fd = -1;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_svc.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(fd);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* The next datagram within ms, as a string; NULL when none came. */
static const char *next_msg(int ms)
{
	static char buf[1024];
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

static void drain(void)
{
	while (next_msg(1))
		;
}

static void env(const char *wd_usec, long wd_pid)
{
	setenv("NOTIFY_SOCKET", path, 1);
	if (wd_usec) {
		char p[24];
		snprintf(p, sizeof(p), "%ld", wd_pid);
		setenv("WATCHDOG_USEC", wd_usec, 1);
		setenv("WATCHDOG_PID", p, 1);
	} else {
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
	}
	al_svc_init();
	drain();
}

static void sleep_ms(int ms)
{
	struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&d, NULL);
}

static void no_manager(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	assert_true(al_svc_supported());
	assert_false(al_svc_init());
	al_svc_ready("up");
	assert_false(al_svc_alive());
	assert_int_equal(al_svc_watchdog_ms(), 0);
	assert_null(next_msg(50));
}

static void ready_and_status(void **state)
{
	(void)state;
	env(NULL, 0);
	al_svc_ready("rproc0: running, boot #%d", 1);
	assert_string_equal(next_msg(1000), "READY=1\nSTATUS=rproc0: running, boot #1");
	al_svc_status("rproc0: running, boot #%d", 1); /* unchanged: not sent */
	assert_null(next_msg(50));
	al_svc_status("rproc0: no heartbeat for %.1f s", 3.2);
	assert_string_equal(next_msg(1000), "STATUS=rproc0: no heartbeat for 3.2 s");
	/* a status quoting the remote: one line, no field of its own */
	al_svc_status("crashed (%s)", "bye\nREADY=1\x1b[2J");
	assert_string_equal(next_msg(1000), "STATUS=crashed (bye?READY=1?[2J)");
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	al_svc_status("%s", big);
	const char *m = next_msg(1000);
	assert_non_null(m);
	assert_int_equal(strlen(m), strlen("STATUS=") + AL_SVC_STATUS_MAX - 1);
	al_svc_stopping("bye");
	assert_string_equal(next_msg(1000), "STOPPING=1\nSTATUS=bye");
	assert_false(al_svc_alive()); /* no WATCHDOG_USEC: no pings */
}

/* Count WATCHDOG=1 datagrams while calling al_svc_alive() every 10 ms for
 * ms (loop == true), or not calling it at all (a hung loop). */
static long mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static int pings_during(int ms, bool loop)
{
	int n = 0;
	for (long end = mono_ms() + ms; mono_ms() < end;) {
		if (loop)
			al_svc_alive();
		sleep_ms(10);
		const char *m;
		while ((m = next_msg(1)) != NULL) {
			assert_string_equal(m, "WATCHDOG=1");
			n++;
		}
	}
	return n;
}

static void watchdog_paced_and_stops_on_hang(void **state)
{
	(void)state;
	env("200000", (long)getpid()); /* 200 ms: a ping every 100 ms */
	assert_int_equal(al_svc_watchdog_ms(), 100);
	int healthy = pings_during(600, true);
	/* one per 100 ms plus the first; a loaded machine may stretch a
	 * turn, so at least 3 */
	assert_in_range(healthy, 3, 7);
	int hung = pings_during(500, false);
	assert_int_equal(hung, 0);
	/* the loop turns again: the first turn pings at once */
	assert_true(al_svc_alive());
	assert_string_equal(next_msg(1000), "WATCHDOG=1");
	assert_false(al_svc_alive()); /* and not twice in a row */
}

static void watchdog_for_another_pid(void **state)
{
	(void)state;
	env("200000", (long)getpid() + 1); /* our parent's, inherited */
	assert_int_equal(al_svc_watchdog_ms(), 0);
	assert_false(al_svc_alive());
	assert_null(next_msg(50));
}

static void socket_nobody_listens(void **state)
{
	(void)state;
	setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	char p[24];
	snprintf(p, sizeof(p), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", p, 1);
	assert_true(al_svc_init());
	al_svc_ready("up");
	al_svc_status("still up");
	assert_true(al_svc_alive()); /* it tried; the failure is not ours to report */
	al_svc_stopping("bye");
	setenv("NOTIFY_SOCKET", "@amplink-test-nobody", 1); /* abstract, unbound */
	al_svc_init();
	al_svc_ready("up");
	assert_null(next_msg(50));
}

/* systemd may name an abstract socket ("@name"), and a malformed
 * environment must not turn into a watchdog. */
static void abstract_socket_and_bad_values(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "amplink-test-notify-%ld", (long)getpid());
	int afd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path + 1, name, strlen(name));
	assert_int_equal(
	    bind(afd, (struct sockaddr *)&a,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))),
	    0);
	char ns[80];
	snprintf(ns, sizeof(ns), "@%s", name);
	setenv("NOTIFY_SOCKET", ns, 1);
	setenv("WATCHDOG_USEC", "12x", 1); /* not a number: no watchdog */
	unsetenv("WATCHDOG_PID");
	assert_true(al_svc_init());
	assert_int_equal(al_svc_watchdog_ms(), 0);
	al_svc_ready("abstract %d", 1);
	char buf[256];
	struct timeval tv = {1, 0};
	setsockopt(afd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = recv(afd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = 0;
	assert_string_equal(buf, "READY=1\nSTATUS=abstract 1");
	close(afd);
	setenv("NOTIFY_SOCKET", "relative/path", 1); /* neither /path nor @name */
	assert_false(al_svc_init());
	setenv("WATCHDOG_USEC", "400000", 1); /* no WATCHDOG_PID: for us */
	setenv("NOTIFY_SOCKET", path, 1);
	assert_true(al_svc_init());
	assert_int_equal(al_svc_watchdog_ms(), 200);
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(no_manager),
	    cmocka_unit_test(ready_and_status),
	    cmocka_unit_test(watchdog_paced_and_stops_on_hang),
	    cmocka_unit_test(watchdog_for_another_pid),
	    cmocka_unit_test(socket_nobody_listens),
	    cmocka_unit_test(abstract_socket_and_bad_values),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
