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
#include "amplink/rproc.h"

extern char **environ;

struct proc {
	pid_t pid;    /* 0 when none */
	int pidfd;    /* -1 when none */
	bool reaped;
	int status;
};

static void *p_create(void)
{
	struct proc *p = calloc(1, sizeof(*p));
	if (p)
		p->pidfd = -1;
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

static void forget(struct proc *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
	p->pid = 0;
}

static void reap(struct proc *p, bool block)
{
	if (!p->pid || p->reaped)
		return;
	int st;
	pid_t r;
	do
		r = waitpid(p->pid, &st, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == p->pid || (r < 0 && errno == ECHILD)) {
		p->reaped = true;
		p->status = r == p->pid ? st : 0;
	}
}

static void p_kill(void *ctx)
{
	struct proc *p = ctx;
	if (!p->pid)
		return;
	if (!p->reaped)
		kill(p->pid, SIGKILL);
	reap(p, true);
	forget(p);
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
	p->reaped = false;
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
	p->pid = pid;
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd >= 0)
		fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
	return 0;
}

static bool p_is_alive(void *ctx, char *why, size_t n)
{
	struct proc *p = ctx;
	if (!p->pid)
		return false;
	reap(p, false);
	if (!p->reaped)
		return true;
	describe(p->status, why, n);
	if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 127)
		snprintf(why, n, "firmware could not be executed (exit status 127)");
	return false;
}

static void p_stop(void *ctx, uint32_t grace_ms)
{
	struct proc *p = ctx;
	if (!p->pid)
		return;
	if (!p->reaped) {
		kill(p->pid, SIGTERM);
		for (uint32_t t = 0; t < grace_ms && !p->reaped; t += 10) {
			if (p->pidfd >= 0) {
				struct pollfd pf = {.fd = p->pidfd, .events = POLLIN};
				(void)poll(&pf, 1, 10);
			} else {
				usleep(10 * 1000);
			}
			reap(p, false);
		}
	}
	p_kill(p);
}

static int p_watch_fd(void *ctx)
{
	return ((struct proc *)ctx)->pidfd;
}

static long p_id(void *ctx)
{
	struct proc *p = ctx;
	return p->pid ? (long)p->pid : -1;
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
