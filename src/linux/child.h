/* A child process a remoteproc backend runs (the firmware process, QEMU):
 * its pid, a pidfd to watch, reaping and killing. Private to src/linux. */
#ifndef AL_HOST_CHILD_H
#define AL_HOST_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct al_child {
	pid_t pid; /* 0 when none */
	int pidfd; /* -1 when none */
	bool reaped;
	int status; /* wait status once reaped */
};

void al_child_init(struct al_child *c);
/* Start watching `pid` (opens a pidfd when the kernel has them). */
void al_child_track(struct al_child *c, pid_t pid);
/* Collect the exit status if it ended (block: wait for it). */
void al_child_reap(struct al_child *c, bool block);
/* Wait up to grace_ms for it to end by itself. */
void al_child_wait_exit(struct al_child *c, uint32_t grace_ms);
/* SIGKILL unless it ended, reap, close the pidfd, forget it. */
void al_child_kill(struct al_child *c);

/* What a backend's watch_fd and id ops (struct al_rproc_backend_ops)
 * report for its child: the pidfd to watch (-1: none), the pid (-1 when
 * nothing runs). */
int al_child_watch_fd(const struct al_child *c);
long al_child_id(const struct al_child *c);

#endif
