/* Running the `amplink` tool from the cmocka integration tests (it_log,
 * it_motor, it_posix): the binary under test, the remote of the current
 * test (killed by the teardown when a test fails midway), spawning with
 * stderr silenced unless IT_VERBOSE is set, and exit codes. Header-only
 * with file-scope state: each test is one executable. Include after
 * <cmocka.h>. */
#ifndef AMPLINK_TESTS_IT_SPAWN_H
#define AMPLINK_TESTS_IT_SPAWN_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *amplink_bin;
static pid_t cur_remote;

/* The start of each test's main(): argv[1] is the amplink binary under
 * test (false, after a usage line, if it is missing); SIGPIPE ignored, as
 * the tests write to peers that may have gone. */
static inline bool it_take_amplink(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-amplink\n", argv[0]);
		return false;
	}
	amplink_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	return true;
}

/* Run amplink_bin with args (args[0] included); stdout to `out` if not
 * NULL. */
static inline pid_t it_spawn(const char *const *args, const char *out)
{
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0 && !getenv("IT_VERBOSE"))
			dup2(devnull, 2);
		if (out) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			dup2(fd, 1);
		}
		execv(amplink_bin, (char *const *)args);
		_exit(127);
	}
	assert_true(pid > 0);
	return pid;
}

/* Wait for a child; its exit code, or 128 + the signal that ended it. */
static inline int it_wait_exit(pid_t pid)
{
	int st = 0;
	waitpid(pid, &st, 0);
	if (pid == cur_remote)
		cur_remote = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* cmocka teardown: no remote outlives its test. */
static inline int it_teardown(void **s)
{
	(void)s;
	if (cur_remote > 0) {
		kill(cur_remote, SIGKILL);
		waitpid(cur_remote, NULL, 0);
		cur_remote = 0;
	}
	return 0;
}

#endif
