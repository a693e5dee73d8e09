/* Integration tests of the POSIX link with two real processes: the remote
 * is `amplink remote` (path in argv[1]), the host is this process. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
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

#include "it_spawn.h"

#include "amplink/linux/channel.h"
#include "amplink/linux/posix.h"
#include "amplink/rsc_table.h"

static char link_name[64];

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Start `amplink remote --link NAME extra...`; returns its pid. */
static pid_t spawn_remote(const char *db, const char *const *extra)
{
	static int seq;
	snprintf(link_name, sizeof(link_name), "it-%d-%d", (int)getpid(), ++seq);
	pid_t pid = fork();
	if (pid == 0) {
		const char *argv[32] = {amplink_bin, "remote",	   "--link",
					link_name,   "--doorbell", db};
		int n = 6;
		for (int i = 0; extra && extra[i] && n < 30; i++)
			argv[n++] = extra[i];
		argv[n] = NULL;
		int devnull = open("/dev/null", 1);
		if (devnull >= 0 && !getenv("IT_VERBOSE"))
			dup2(devnull, 2);
		execv(amplink_bin, (char *const *)argv);
		_exit(127);
	}
	assert_true(pid > 0);
	cur_remote = pid;
	return pid;
}

static void reap(pid_t pid, bool kill_it)
{
	if (kill_it)
		kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	if (pid == cur_remote)
		cur_remote = 0;
}

static struct al_posix_link *open_host(enum al_doorbell_kind db, bool any)
{
	struct al_posix_cfg c = {.name = link_name,
				 .role = VIRTIO_DEV_DRIVER,
				 .doorbell = db,
				 .doorbell_any = any,
				 .ns_bind_cb = al_services_ns_bind};
	struct al_posix_link *l = NULL;
	int rc = al_posix_open(&c, &l);
	assert_int_equal(rc, 0);
	return l;
}

static void close_host(struct al_posix_link *l)
{
	struct rpmsg_device *rdev = al_posix_rdev(l);
	al_posix_close(l);
	al_services_clear(rdev);
}

static struct al_channel *chan(struct al_posix_link *l, const char *name)
{
	struct al_channel *ch = NULL;
	assert_int_equal(
	    al_channel_open(al_posix_rdev(l), name, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, 5000, &ch), 0);
	return ch;
}

/* 10,000 echoes of every size 1..496 with content checks, per doorbell. */
static void echo_sweep(enum al_doorbell_kind db)
{
	pid_t pid = spawn_remote(al_doorbell_name(db), (const char *const[]){"--once", NULL});
	struct al_posix_link *l = open_host(db, false);
	struct al_channel *ch = chan(l, "rpmsg-openamp-demo-channel");
	uint8_t out[496], in[512];
	for (uint32_t i = 0; i < 10000; i++) {
		size_t len = 1 + i % 496;
		for (size_t j = 0; j < len; j++)
			out[j] = (uint8_t)(i * 13 + j);
		assert_int_equal(al_channel_write(ch, out, len, 5000), (long)len);
		assert_int_equal(al_channel_read(ch, in, sizeof(in), NULL, 5000), (long)len);
		assert_memory_equal(in, out, len);
	}
	al_channel_close(ch);
	close_host(l);
	reap(pid, false);
}
static void echo_eventfd(void **s)
{
	(void)s;
	echo_sweep(AL_DB_EVENTFD);
}
static void echo_futex(void **s)
{
	(void)s;
	echo_sweep(AL_DB_FUTEX);
}
static void echo_poll(void **s)
{
	(void)s;
	echo_sweep(AL_DB_POLL);
}
static void echo_adaptive(void **s)
{
	(void)s;
	echo_sweep(AL_DB_ADAPTIVE);
}

/* 4 threads x 3 endpoints sending at once: no loss, no reordering. */
#define WRITERS	   4
#define PER_WRITER 1500
static struct al_channel *chs[3];
static void *writer(void *arg)
{
	uint32_t tid = (uint32_t)(uintptr_t)arg;
	for (uint32_t seq = 0; seq < PER_WRITER; seq++)
		for (int c = 0; c < 3; c++) {
			uint32_t m[4] = {tid, seq, (uint32_t)c, tid ^ seq ^ 0xA5A5u};
			if (al_channel_write(chs[c], m, sizeof(m), 10000) != (long)sizeof(m))
				return (void *)1;
		}
	return NULL;
}
static void *reader(void *arg)
{
	int c = (int)(uintptr_t)arg;
	uint32_t next[WRITERS] = {0};
	for (int n = 0; n < WRITERS * PER_WRITER; n++) {
		uint32_t m[4];
		if (al_channel_read(chs[c], m, sizeof(m), NULL, 10000) != (long)sizeof(m))
			return (void *)1;
		if (m[0] >= WRITERS || m[1] != next[m[0]] || m[2] != (uint32_t)c ||
		    m[3] != (m[0] ^ m[1] ^ 0xA5A5u))
			return (void *)2; /* lost, duplicated, reordered or corrupted */
		next[m[0]]++;
	}
	return NULL;
}
static void threads_4x3(void **s)
{
	(void)s;
	pid_t pid = spawn_remote("futex", (const char *const[]){"--once", "--service", "svc-b",
								"--service", "svc-c", NULL});
	struct al_posix_link *l = open_host(AL_DB_FUTEX, true);
	const char *names[3] = {"rpmsg-openamp-demo-channel", "svc-b", "svc-c"};
	for (int c = 0; c < 3; c++)
		chs[c] = chan(l, names[c]);
	pthread_t w[WRITERS], r[3];
	for (int c = 0; c < 3; c++)
		pthread_create(&r[c], NULL, reader, (void *)(uintptr_t)c);
	for (int t = 0; t < WRITERS; t++)
		pthread_create(&w[t], NULL, writer, (void *)(uintptr_t)t);
	for (int t = 0; t < WRITERS; t++) {
		void *ret;
		pthread_join(w[t], &ret);
		assert_null(ret);
	}
	for (int c = 0; c < 3; c++) {
		void *ret;
		pthread_join(r[c], &ret);
		assert_null(ret);
		struct al_channel_stats st;
		al_channel_get_stats(chs[c], &st);
		assert_int_equal(st.dropped, 0);
		al_channel_close(chs[c]);
	}
	close_host(l);
	reap(pid, false);
}

/* The remote is SIGKILLed under traffic: the host notices quickly, sends
 * fail with AL_ENOLINK instead of hanging, and a new remote is accepted. */
static void remote_killed(void **s)
{
	(void)s;
	pid_t pid = spawn_remote("eventfd", (const char *const[]){"--once", NULL});
	struct al_posix_link *l = open_host(AL_DB_EVENTFD, false);
	struct al_channel *ch = chan(l, "rpmsg-openamp-demo-channel");
	char buf[64];
	for (int i = 0; i < 100; i++) {
		assert_int_equal(al_channel_write(ch, "ping", 4, 1000), 4);
		assert_int_equal(al_channel_read(ch, buf, sizeof(buf), NULL, 1000), 4);
	}
	assert_int_equal(al_channel_write(ch, "ping", 4, 1000), 4);
	kill(pid, SIGKILL);
	uint64_t t0 = now_ms();
	assert_int_equal(al_posix_wait_down(l, 3000), AL_ENOLINK);
	uint64_t detect = now_ms() - t0;
	print_message("peer death detected in %llu ms\n", (unsigned long long)detect);
	assert_true(detect < 1000);
	/* nothing blocks forever: writes fail fast, reads drain then fail */
	assert_int_equal(al_channel_write(ch, "ping", 4, 5000), AL_ENOLINK);
	long r;
	while ((r = al_channel_read(ch, buf, sizeof(buf), NULL, 2000)) >= 0)
		;
	assert_int_equal(r, AL_ENOLINK);
	al_channel_close(ch);
	close_host(l);
	reap(pid, false);
	/* a new remote, a new link */
	pid = spawn_remote("eventfd", (const char *const[]){"--once", NULL});
	l = open_host(AL_DB_EVENTFD, false);
	ch = chan(l, "rpmsg-openamp-demo-channel");
	assert_int_equal(al_channel_write(ch, "again", 5, 1000), 5);
	assert_int_equal(al_channel_read(ch, buf, sizeof(buf), NULL, 1000), 5);
	al_channel_close(ch);
	close_host(l);
	reap(pid, false);
}

/* A host dies: the same remote process serves the next host. */
static void host_killed(void **s)
{
	(void)s;
	pid_t pid = spawn_remote("adaptive", NULL);
	pid_t child = fork();
	if (child == 0) {
		struct al_posix_cfg c = {.name = link_name,
					 .role = VIRTIO_DEV_DRIVER,
					 .doorbell_any = true,
					 .ns_bind_cb = al_services_ns_bind};
		struct al_posix_link *l;
		if (al_posix_open(&c, &l))
			_exit(1);
		struct al_channel *ch;
		if (al_channel_open(al_posix_rdev(l), "rpmsg-openamp-demo-channel", RPMSG_ADDR_ANY,
				    RPMSG_ADDR_ANY, 5000, &ch))
			_exit(1);
		for (;;) /* traffic until killed */
			(void)al_channel_write(ch, "x", 1, 1000),
			    (void)al_channel_read(ch, &c, 1, NULL, 1000);
	}
	usleep(300 * 1000);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	struct al_posix_link *l = open_host(AL_DB_ADAPTIVE, true);
	struct al_channel *ch = chan(l, "rpmsg-openamp-demo-channel");
	char buf[16];
	for (int i = 0; i < 100; i++) {
		assert_int_equal(al_channel_write(ch, "next", 4, 1000), 4);
		assert_int_equal(al_channel_read(ch, buf, sizeof(buf), NULL, 1000), 4);
	}
	al_channel_close(ch);
	close_host(l);
	reap(pid, true);
}

/* A second host is refused while one is attached; mismatches are errors. */
static void refusals(void **s)
{
	(void)s;
	pid_t pid = spawn_remote("futex", NULL);
	struct al_posix_link *l = open_host(AL_DB_FUTEX, false);
	struct al_posix_cfg c = {.name = link_name,
				 .role = VIRTIO_DEV_DRIVER,
				 .doorbell_any = true,
				 .connect_timeout_ms = 2000};
	struct al_posix_link *l2 = NULL;
	assert_int_equal(al_posix_open(&c, &l2), AL_EPERM);
	assert_null(l2);
	close_host(l);
	usleep(100 * 1000);
	c.doorbell_any = false;
	c.doorbell = AL_DB_EVENTFD; /* remote uses futex */
	assert_int_equal(al_posix_open(&c, &l2), AL_EINIT);
	c.doorbell_any = true;
	c.num = 64; /* remote has 256 */
	assert_int_equal(al_posix_open(&c, &l2), AL_EINIT);
	c.num = 0;
	c.buf_size = 1024; /* remote has 512 */
	assert_int_equal(al_posix_open(&c, &l2), AL_EINIT);
	c.buf_size = 0;
	assert_int_equal(al_posix_open(&c, &l2), 0); /* and a good one still works */
	close_host(l2);
	reap(pid, true);
}

/* Idle connected link: < 1% CPU on both sides for the blocking doorbells.
 * CPU time of every thread of a process, in seconds, from the scheduler's
 * nanosecond counters (/proc/PID/stat ticks are too coarse for 1% of 2 s). */
static double cpu_s_of(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	double sum = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char p[600];
		snprintf(p, sizeof(p), "%s/%s/schedstat", path, e->d_name);
		FILE *f = fopen(p, "r");
		unsigned long long ns = 0;
		if (f) {
			if (fscanf(f, "%llu", &ns) != 1)
				ns = 0;
			fclose(f);
		}
		sum += (double)ns * 1e-9;
	}
	closedir(d);
	return sum;
}
static void idle_cpu(void **s)
{
	(void)s;
	const enum al_doorbell_kind kinds[] = {AL_DB_EVENTFD, AL_DB_FUTEX, AL_DB_ADAPTIVE};
	for (int k = 0; k < 3; k++) {
		pid_t pid =
		    spawn_remote(al_doorbell_name(kinds[k]), (const char *const[]){"--once", NULL});
		struct al_posix_link *l = open_host(kinds[k], false);
		struct al_channel *ch = chan(l, "rpmsg-openamp-demo-channel");
		usleep(200 * 1000); /* settle */
		double h0 = cpu_s_of(getpid()), r0 = cpu_s_of(pid);
		uint64_t t0 = now_ms();
		usleep(2000 * 1000);
		double wall = (double)(now_ms() - t0) / 1000.0;
		double h = (cpu_s_of(getpid()) - h0) / wall * 100.0,
		       r = (cpu_s_of(pid) - r0) / wall * 100.0;
		print_message("idle %-8s host %.2f%% remote %.2f%% CPU over %.1f s\n",
			      al_doorbell_name(kinds[k]), h, r, wall);
		assert_true(h >= 0 && h < 1.0);
		assert_true(r >= 0 && r < 1.0);
		al_channel_close(ch);
		close_host(l);
		reap(pid, false);
	}
}

/* Opening and closing a link many times in one process leaks nothing. */
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
static void *remote_side(void *arg)
{
	struct al_posix_cfg c = {
	    .name = link_name, .role = VIRTIO_DEV_DEVICE, .doorbell = AL_DB_EVENTFD};
	struct al_posix_link *l = NULL;
	if (al_posix_open(&c, &l) == 0)
		al_posix_wait_down(l, 5000);
	al_posix_close(l);
	(void)arg;
	return NULL;
}
static void no_leaks(void **s)
{
	(void)s;
	snprintf(link_name, sizeof(link_name), "it-leak-%d", (int)getpid());
	int fds0 = count_dir("/proc/self/fd"), thr0 = count_dir("/proc/self/task");
	int shm0 = count_dir("/dev/shm");
	for (int i = 0; i < 20; i++) {
		pthread_t t;
		pthread_create(&t, NULL, remote_side, NULL);
		struct al_posix_link *l = open_host(AL_DB_EVENTFD, false);
		close_host(l);
		pthread_join(t, NULL);
	}
	assert_int_equal(count_dir("/proc/self/fd"), fds0);
	/* pthread_join returns when the thread clears its tid, which the kernel
	 * does before it unlinks the task from /proc/self/task: give a joined
	 * thread a moment to disappear before calling it a leak. */
	int thr = count_dir("/proc/self/task");
	for (int i = 0; i < 200 && thr > thr0; i++) {
		usleep(5000);
		thr = count_dir("/proc/self/task");
	}
	/* fewer is fine: a thread of the previous test may still have been
	 * on its way out when thr0 was counted */
	assert_true(thr <= thr0);
	assert_int_equal(count_dir("/dev/shm"), shm0);
}

/* The OpenAMP profile between two amplink processes: the exact layout of
 * OpenAMP's Linux reference machine, the socket doorbell, no stale socket
 * (more of the profile: it_openamp.c). */
static void openamp_profile(void **s)
{
	(void)s;
	char shm[96], ev[96];
	snprintf(shm, sizeof(shm), "/dev/shm/it-oa-%d.shm", (int)getpid());
	snprintf(ev, sizeof(ev), "/tmp/it-oa-%d.event", (int)getpid());
	/* no --link nor --doorbell: the profile has neither, and refuses them */
	pid_t pid = it_spawn((const char *const[]){amplink_bin, "remote", "--once", "--profile",
						   "openamp", "--shm", shm, "--event", ev, NULL},
			     NULL);
	cur_remote = pid;
	struct al_posix_cfg c = {.role = VIRTIO_DEV_DRIVER,
				 .profile = AL_PROFILE_OPENAMP,
				 .shm_path = shm,
				 .event_path = ev,
				 .ns_bind_cb = al_services_ns_bind};
	struct al_posix_link *l = NULL;
	assert_int_equal(al_posix_open(&c, &l), 0);
	const struct al_rsc_table_rpmsg *t = al_posix_rvdev(l)->mem.r[0].va;
	assert_int_equal(al_posix_rvdev(l)->mem.r[0].size, 0x80000);
	assert_int_equal(t->ver, 1);
	assert_int_equal(t->num, 1);
	assert_int_equal(t->vdev.id, 7);
	assert_int_equal(t->vdev.dfeatures, 1u << VIRTIO_RPMSG_F_NS);
	assert_int_equal(t->vring[0].da, 0x4000);
	assert_int_equal(t->vring[1].da, 0x8000);
	assert_int_equal(t->vring[0].align, 0x1000);
	assert_int_equal(t->vring[0].num, 256);
	assert_int_equal(t->vring[0].notifyid, 1);
	assert_int_equal(t->vring[1].notifyid, 2);
	assert_true(t->vdev.status & VIRTIO_CONFIG_STATUS_DRIVER_OK);
	struct al_channel *ch = chan(l, "rpmsg-openamp-demo-channel");
	assert_int_equal(al_channel_ept(ch)->dest_addr, 0x400); /* as OpenAMP's echo */
	/* every rx descriptor points into the 512-byte buffer area at 0x10000 */
	const uint8_t *desc0 = (const uint8_t *)t + 0x4000;
	for (int i = 0; i < 256; i++) {
		uint64_t a;
		uint32_t len;
		memcpy(&a, desc0 + 16 * i, 8);
		memcpy(&len, desc0 + 16 * i + 8, 4);
		assert_true(a >= 0x10000 && a + len <= 0x50000);
		assert_int_equal(len, 512);
	}
	uint8_t out[496], in[512];
	for (uint32_t i = 0; i < 2000; i++) {
		size_t len = 1 + (i * 7) % 496;
		memset(out, (int)i, len);
		assert_int_equal(al_channel_write(ch, out, len, 5000), (long)len);
		assert_int_equal(al_channel_read(ch, in, sizeof(in), NULL, 5000), (long)len);
		assert_memory_equal(in, out, len);
	}
	al_channel_close(ch);
	close_host(l);
	reap(pid, false);
	/* the socket goes with its remote; the file stays, as with OpenAMP,
	 * whose host and remote both open it with O_CREAT */
	assert_int_equal(access(ev, F_OK), -1);
	assert_int_equal(unlink(shm), 0);
}

int main(int argc, char **argv)
{
	if (!it_take_amplink(argc, argv))
		return 2;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(echo_eventfd, it_teardown),
	    cmocka_unit_test_teardown(echo_futex, it_teardown),
	    cmocka_unit_test_teardown(echo_poll, it_teardown),
	    cmocka_unit_test_teardown(echo_adaptive, it_teardown),
	    cmocka_unit_test_teardown(threads_4x3, it_teardown),
	    cmocka_unit_test_teardown(remote_killed, it_teardown),
	    cmocka_unit_test_teardown(host_killed, it_teardown),
	    cmocka_unit_test_teardown(refusals, it_teardown),
	    cmocka_unit_test_teardown(openamp_profile, it_teardown),
	    cmocka_unit_test_teardown(idle_cpu, it_teardown),
	    cmocka_unit_test_teardown(no_leaks, it_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
