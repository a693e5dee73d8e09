/* Security and robustness of the POSIX link between two real processes:
 * what a peer may do to the other side (or a third local process to both)
 * and what each side must survive or refuse.
 *
 *   drain_before_lost   a remote that sends N messages and exits at once:
 *                       the host receives all N before it calls the link
 *                       lost (the host is stopped while the remote sends
 *                       and exits, so both events wait for it together).
 *
 * Each test forks its peer; the remote part runs in the child. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "amplink/linux/diag.h"
#include "amplink/linux/posix.h"
#include "amplink/rpmsg.h"
#include "it_common.h"

#define REMOTE_ADDR 0x600u
#define HOST_ADDR   0x601u

static char link_name[64];

static void new_link_name(const char *what)
{
	static unsigned seq;
	snprintf(link_name, sizeof(link_name), "itsec-%s-%d-%u", what, (int)getpid(), seq++);
}

/* Diagnostics collected for the assertions (and echoed to stderr). */
static char diag_log[8192];
static pthread_mutex_t diag_mu = PTHREAD_MUTEX_INITIALIZER;

static void diag_hook(int level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	pthread_mutex_lock(&diag_mu);
	size_t n = strlen(diag_log);
	snprintf(diag_log + n, sizeof(diag_log) - n, "%s\n", msg);
	pthread_mutex_unlock(&diag_mu);
	fprintf(stderr, "  diag: %s\n", msg);
}

static __attribute__((unused)) bool diag_has(const char *s)
{
	pthread_mutex_lock(&diag_mu);
	bool r = strstr(diag_log, s) != NULL;
	pthread_mutex_unlock(&diag_mu);
	return r;
}

static int reap(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- drain before lost ---------------------------------------------------- */

#define DRAIN_N 200u

static volatile unsigned drain_got, drain_bad;
static volatile int drain_go;

static int drain_host_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)e;
	(void)src;
	(void)priv;
	uint32_t i;
	if (len != sizeof(i)) {
		drain_bad++;
		return 0;
	}
	memcpy(&i, data, sizeof(i));
	if (i != drain_got)
		drain_bad++;
	drain_got++;
	return 0;
}

static int drain_remote_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src,
			   void *priv)
{
	(void)e;
	(void)data;
	(void)len;
	(void)src;
	(void)priv;
	drain_go = 1;
	return 0;
}

/* Wait until every thread of `pid` is stopped (a stop is asynchronous). */
static bool wait_stopped(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "r");
		bool stopped = false;
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "State:", 6) == 0)
				stopped = strchr(line, 'T') != NULL;
		if (f)
			fclose(f);
		if (stopped)
			return true;
		usleep(1000);
	}
	return false;
}

static void drain_remote(void)
{
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DEVICE, "it_security");
	struct rpmsg_endpoint ept;
	if (rpmsg_create_ept(&ept, al_posix_rdev(l), NULL, REMOTE_ADDR, HOST_ADDR, drain_remote_cb,
			     NULL) ||
	    al_posix_wait_up(l, 10000))
		_exit(3);
	uint64_t t0 = it_now_ms();
	while (!drain_go && it_now_ms() - t0 < 10000)
		usleep(1000);
	if (!drain_go)
		_exit(4);
	/* Stop the host, send everything, exit. A helper that holds nothing
	 * of the link lets the host go on once we are gone: it waits for EOF
	 * on a pipe whose write end we hold at the highest descriptor (closed
	 * last when we exit). */
	int p[2];
	if (pipe(p))
		_exit(5);
	int hi = dup2(p[1], 1000);
	close(p[1]);
	pid_t host = getppid();
	pid_t helper = fork();
	if (helper == 0) {
		dup2(p[0], 3);
		syscall(SYS_close_range, 4u, ~0u, 0u);
		char c;
		while (read(3, &c, 1) > 0)
			;
		usleep(50 * 1000);
		kill(host, SIGCONT);
		_exit(0);
	}
	close(p[0]);
	(void)hi;
	kill(host, SIGSTOP);
	if (!wait_stopped(host))
		_exit(7);
	for (uint32_t i = 0; i < DRAIN_N; i++)
		if (rpmsg_sendto(&ept, &i, sizeof(i), HOST_ADDR) < 0)
			_exit(6);
	_exit(0); /* at once: no close, no goodbye */
}

static void drain_before_lost(void **state)
{
	(void)state;
	new_link_name("drain");
	drain_got = drain_bad = 0;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		drain_remote();
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DRIVER, "it_security");
	struct rpmsg_endpoint ept;
	assert_int_equal(rpmsg_create_ept(&ept, al_posix_rdev(l), NULL, HOST_ADDR, REMOTE_ADDR,
					  drain_host_cb, NULL),
			 0);
	uint32_t go = 0;
	assert_true(rpmsg_sendto(&ept, &go, sizeof(go), REMOTE_ADDR) >= 0);
	int rc = al_posix_wait_down(l, 20000);
	fprintf(stderr, "  drain: the host received %u of %u before the link was lost (%s)\n",
		drain_got, DRAIN_N, al_strerror(rc));
	assert_int_equal(rc, AL_ENOLINK);
	assert_int_equal(reap(pid), 0);
	assert_int_equal(drain_bad, 0);
	assert_int_equal(drain_got, DRAIN_N);
	rpmsg_destroy_ept(&ept);
	al_posix_close(l);
}

int main(void)
{
	al_diag_set_handler(diag_hook, NULL);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(drain_before_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
