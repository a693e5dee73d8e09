/* The `process` remoteproc backend (rproc.h): the firmware is a host
 * executable built with amplink. It is started as a child process with the
 * shared region and the two doorbell eventfds on descriptors 3, 4, 5 (named
 * in the AMPLINK_RPROC environment variable), dies with its host
 * (PR_SET_PDEATHSIG), and is watched through a pidfd, so a crash is seen
 * the moment it happens. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "amplink/error.h"
#include "amplink/linux/rproc.h"
#include "child.h"

extern char **environ;

struct proc {
	struct al_child ch; /* the firmware process */
};

static void *p_create(void)
{
	struct proc *p = calloc(1, sizeof(*p));
	if (p)
		al_child_init(&p->ch);
	return p;
}

static void describe(int st, char *why, size_t n)
{
	if (WIFEXITED(st))
		snprintf(why, n, "firmware exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(why, n, "firmware killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(why, n, "firmware ended (wait status 0x%x)", (unsigned)st);
}

static void p_kill(void *ctx)
{
	al_child_kill(&((struct proc *)ctx)->ch);
}

static void p_destroy(void *ctx)
{
	if (ctx)
		p_kill(ctx);
	free(ctx);
}

static int p_start(void *ctx, const struct al_rproc_boot *b, char *why, size_t n)
{
	struct proc *p = ctx;
	p_kill(p);
	p->ch.reaped = false;
	/* everything the child needs is prepared before fork: after it, only
	 * async-signal-safe calls */
	char envv[64];
	snprintf(envv, sizeof(envv), AL_RPROC_ENV "=3,4,5");
	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **envp = calloc(ne + 2, sizeof(char *));
	if (!envp)
		return AL_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], AL_RPROC_ENV "=", sizeof(AL_RPROC_ENV)) != 0)
			envp[k++] = environ[i];
	envp[k++] = envv;
	envp[k] = NULL;
	char *argv[] = {(char *)b->firmware, NULL};
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		sigaction(SIGPIPE, &dfl, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		int a = fcntl(b->region_fd, F_DUPFD_CLOEXEC, 10);
		int i = fcntl(b->kick_in_fd, F_DUPFD_CLOEXEC, 10);
		int o = fcntl(b->kick_out_fd, F_DUPFD_CLOEXEC, 10);
		if (a < 0 || i < 0 || o < 0)
			_exit(126);
		if (b->log_fd > 0) {
			dup2(b->log_fd, 1);
			dup2(b->log_fd, 2);
		}
		if (dup2(a, 3) < 0 || dup2(i, 4) < 0 || dup2(o, 5) < 0)
			_exit(126);
		execve(b->firmware, argv, envp);
		_exit(127);
	}
	int e = errno;
	free(envp);
	if (pid < 0) {
		snprintf(why, n, "cannot fork: %s", strerror(e));
		return AL_ENOMEM;
	}
	al_child_track(&p->ch, pid);
	return 0;
}

static bool p_is_alive(void *ctx, char *why, size_t n)
{
	struct proc *p = ctx;
	if (!p->ch.pid)
		return false;
	al_child_reap(&p->ch, false);
	if (!p->ch.reaped)
		return true;
	describe(p->ch.status, why, n);
	if (WIFEXITED(p->ch.status) && WEXITSTATUS(p->ch.status) == 127)
		snprintf(why, n, "firmware could not be executed (exit status 127)");
	return false;
}

static void p_stop(void *ctx, uint32_t grace_ms)
{
	struct proc *p = ctx;
	if (!p->ch.pid)
		return;
	if (!p->ch.reaped) {
		kill(p->ch.pid, SIGTERM);
		al_child_wait_exit(&p->ch, grace_ms);
	}
	p_kill(p);
}

static int p_watch_fd(void *ctx)
{
	const struct proc *p = ctx;
	return al_child_watch_fd(&p->ch);
}

static long p_id(void *ctx)
{
	const struct proc *p = ctx;
	return al_child_id(&p->ch);
}

const struct al_rproc_backend_ops al_rproc_process_backend = {
    .name = "process",
    .create = p_create,
    .destroy = p_destroy,
    .start = p_start,
    .stop = p_stop,
    .kill = p_kill,
    .is_alive = p_is_alive,
    .watch_fd = p_watch_fd,
    .id = p_id,
};
