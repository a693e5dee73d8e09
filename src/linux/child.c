/* Child processes of remoteproc backends (see child.h). */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void al_child_init(struct al_child *c)
{
	c->pid = 0;
	c->pidfd = -1;
	c->reaped = false;
	c->status = 0;
}

void al_child_track(struct al_child *c, pid_t pid)
{
	c->pid = pid;
	c->reaped = false;
	c->status = 0;
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (c->pidfd >= 0)
		fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
}

void al_child_reap(struct al_child *c, bool block)
{
	if (!c->pid || c->reaped)
		return;
	int st;
	pid_t r;
	do
		r = waitpid(c->pid, &st, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == c->pid || (r < 0 && errno == ECHILD)) {
		c->reaped = true;
		c->status = r == c->pid ? st : 0;
	}
}

void al_child_wait_exit(struct al_child *c, uint32_t grace_ms)
{
	for (uint32_t t = 0; c->pid && t < grace_ms && !c->reaped; t += 10) {
		if (c->pidfd >= 0) {
			struct pollfd pf = {.fd = c->pidfd, .events = POLLIN};
			(void)poll(&pf, 1, 10);
		} else {
			usleep(10 * 1000);
		}
		al_child_reap(c, false);
	}
}

int al_child_watch_fd(const struct al_child *c)
{
	return c->pidfd;
}

long al_child_id(const struct al_child *c)
{
	return c->pid ? (long)c->pid : -1;
}

void al_child_kill(struct al_child *c)
{
	if (c->pid) {
		if (!c->reaped)
			kill(c->pid, SIGKILL);
		al_child_reap(c, true);
		c->pid = 0;
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
}
