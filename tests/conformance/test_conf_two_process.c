/* OpenAMP's echo pair with the two cores as two processes: the remote (a
 * child process, the virtio device) creates its endpoint right after the
 * link comes up, as OpenAMP's echo does, and exits when the host destroys
 * its endpoint; the host binds on the announcement, echoes, destroys. The
 * service must be announced exactly once (a second announcement made the
 * host re-bind and lose the echo), and the remote must see the host's
 * DESTROY. Shared memory is an anonymous shared mapping, each doorbell a
 * pipe read by a thread of the other process. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, usleep */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "amplink/port_loopback.h"

#define SHM_SIZE (64u * 1024u)
#define SERVICE	 "rpmsg-openamp-demo-channel"

/* ---- a port for one process: pipes for doorbells ------------------------- */

static struct {
	int out_fd, in_fd;
	struct rpmsg_virtio_device *rv;
	pthread_mutex_t lock, mu;
	pthread_cond_t cv;
	unsigned wakes;
} P = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .mu = PTHREAD_MUTEX_INITIALIZER,
       .cv = PTHREAD_COND_INITIALIZER};

static void p_notify(void *ctx, uint32_t id)
{
	(void)ctx, (void)id;
	ssize_t r = write(P.out_fd, "k", 1);
	(void)r; /* a peer gone: the reader side notices */
}

static void p_lock(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&P.lock);
}

static void p_unlock(void *ctx)
{
	(void)ctx;
	pthread_mutex_unlock(&P.lock);
}

static uint64_t p_time(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void p_wait(void *ctx, uint32_t ms)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = ms > 20 ? 20 : ms;
	ts.tv_nsec += (long)ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&P.mu);
	unsigned w = P.wakes;
	while (w == P.wakes)
		if (pthread_cond_timedwait(&P.cv, &P.mu, &ts))
			break;
	pthread_mutex_unlock(&P.mu);
}

static void p_wake(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&P.mu);
	P.wakes++;
	pthread_cond_broadcast(&P.cv);
	pthread_mutex_unlock(&P.mu);
}

static const struct al_port_ops p_ops = {
    .notify = p_notify,
    .lock = p_lock,
    .unlock = p_unlock,
    .time_ms = p_time,
    .wait = p_wait,
    .wake = p_wake,
};

static void *doorbells(void *arg)
{
	(void)arg;
	char b[64];
	for (;;) {
		ssize_t n = read(P.in_fd, b, sizeof(b));
		if (n > 0) {
			(void)al_virtio_notified(P.rv);
		} else if (n == 0 || errno != EINTR) {
			al_virtio_peer_lost(P.rv);
			return NULL;
		}
	}
}

/* ---- the remote: OpenAMP's echo ---------------------------------------------- */

static volatile int unbound;

static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	(void)rpmsg_trysendto(ept, data, (int)len, src);
	return RPMSG_SUCCESS;
}

static void echo_unbind(struct rpmsg_endpoint *ept)
{
	(void)ept;
	unbound = 1;
}

static int remote_main(struct al_loopback *lb, int ready_fd)
{
	lb->dev.vdev.ops = &p_ops;
	P.rv = &lb->dev.rvdev;
	if (rpmsg_init_vdev(&lb->dev.rvdev, &lb->dev.vdev, NULL, &lb->shm, NULL))
		return 2;
	pthread_t th;
	if (pthread_create(&th, NULL, doorbells, NULL))
		return 3;
	if (write(ready_fd, "R", 1) != 1)
		return 4;
	if (al_virtio_wait_link_up(&lb->dev.rvdev, 10000))
		return 5;
	/* right after the link came up, as OpenAMP's echo */
	static struct rpmsg_endpoint ept;
	if (rpmsg_create_ept(&ept, &lb->dev.rvdev.rdev, SERVICE, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
			     echo_cb, echo_unbind))
		return 6;
	for (int i = 0; i < 10000 && !unbound; i++)
		usleep(1000);
	return unbound ? 0 : 7; /* the host's DESTROY ends the echo */
}

/* ---- the host ------------------------------------------------------------------- */

static struct rpmsg_endpoint hept;
static volatile int binds, echoes;

static int host_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)data, (void)len, (void)src, (void)priv;
	__atomic_add_fetch(&echoes, 1, __ATOMIC_SEQ_CST);
	return RPMSG_SUCCESS;
}

static void host_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	if (__atomic_add_fetch(&binds, 1, __ATOMIC_SEQ_CST) == 1)
		(void)rpmsg_create_ept(&hept, rdev, name, RPMSG_ADDR_ANY, dest, host_cb, NULL);
}

static void one_round(void)
{
	uint8_t *shm =
	    mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(shm != MAP_FAILED);
	static struct al_loopback lb;
	assert_int_equal(al_loopback_init(&lb, shm, SHM_SIZE, NULL), 0);
	int to_remote[2], to_host[2], ready[2];
	assert_int_equal(pipe(to_remote), 0);
	assert_int_equal(pipe(to_host), 0);
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(to_remote[1]);
		close(to_host[0]);
		close(ready[0]);
		P.out_fd = to_host[1];
		P.in_fd = to_remote[0];
		_exit(remote_main(&lb, ready[1]));
	}
	close(to_remote[0]);
	close(to_host[1]);
	close(ready[1]);
	P.out_fd = to_remote[1];
	P.in_fd = to_host[0];
	char r;
	assert_int_equal(read(ready[0], &r, 1), 1); /* the remote published its features */
	binds = echoes = 0;
	memset(&hept, 0, sizeof(hept));
	lb.drv.vdev.ops = &p_ops;
	P.rv = &lb.drv.rvdev;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, doorbells, NULL), 0);
	assert_int_equal(rpmsg_init_vdev(&lb.drv.rvdev, &lb.drv.vdev, host_bind, &lb.shm, &lb.pool),
			 0);
	uint64_t t0 = p_time(NULL);
	while (!is_rpmsg_ept_ready(&hept) && p_time(NULL) - t0 < 10000)
		usleep(1000);
	assert_true(is_rpmsg_ept_ready(&hept));
	for (int i = 0; i < 10; i++) {
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "hello there %d!", i);
		assert_int_equal(rpmsg_send(&hept, msg, n), n);
	}
	t0 = p_time(NULL);
	while (echoes < 10 && p_time(NULL) - t0 < 10000)
		usleep(1000);
	assert_int_equal(echoes, 10);
	usleep(20000); /* a second announcement, if any, would have come by now */
	assert_int_equal(binds, 1);
	rpmsg_destroy_ept(&hept); /* NS DESTROY: the echo exits */
	int status = -1;
	t0 = p_time(NULL);
	while (waitpid(pid, &status, WNOHANG) == 0 && p_time(NULL) - t0 < 15000)
		usleep(1000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(P.out_fd);
	pthread_join(th, NULL); /* its pipe closed with the child */
	close(P.in_fd);
	close(ready[0]);
	rpmsg_deinit_vdev(&lb.drv.rvdev);
	munmap(shm, SHM_SIZE);
}

static void echo_pair_announce_once_destroy_ends(void **state)
{
	(void)state;
	for (int round = 0; round < 5; round++)
		one_round();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(echo_pair_announce_once_destroy_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
