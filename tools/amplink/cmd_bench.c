/* `amplink bench`: latency, throughput, CPU and start-up of an amplink link
 * between two processes, next to baselines measured in the same run
 * (memcpy, a UNIX SOCK_SEQPACKET pair, an eventfd ping-pong, a shared
 * cache-line ping-pong, and the throughput floor: a minimal SPSC ring in
 * the same kind of shared memory). --repeat N prints medians and ranges.
 * Prints a table on stderr and JSON on stdout. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "bench.h"
#include "json_writer.h"

#define SINK "amplink-sink"

enum mode { M_IDLE, M_FIRST, M_RTT, M_ECHO };

struct bench {
	struct al_posix_link *link;
	struct rpmsg_endpoint echo, sink;
	volatile int mode;
	volatile int done;
	uint8_t payload[65536];
	size_t size;
	uint64_t *lat;
	size_t count, warm, i;
	uint64_t t_sent;
	volatile uint64_t sink_reply;
	volatile int sink_replied;
	volatile long outstanding;
	volatile uint64_t echoed;
	double kicks_per_msg; /* doorbells the host rang per message, last one_way() */
};

static struct bench B;

static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)data, (void)len, (void)src, (void)priv;
	uint64_t now = bench_now_ns();
	switch (B.mode) {
	case M_FIRST: B.done = 1; break;
	case M_RTT:
		/* ping-pong driven from the receive thread: no extra thread hop */
		if (B.i >= B.warm)
			B.lat[B.i - B.warm] = now - B.t_sent;
		if (++B.i < B.count + B.warm) {
			B.t_sent = bench_now_ns();
			(void)rpmsg_trysend(ept, B.payload, (int)B.size);
		} else {
			B.done = 1;
		}
		break;
	case M_ECHO:
		__atomic_fetch_sub(&B.outstanding, 1, __ATOMIC_RELEASE);
		B.echoed++;
		break;
	default: break;
	}
	return RPMSG_SUCCESS;
}

static int sink_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)src, (void)priv;
	if (len == sizeof(uint64_t)) {
		uint64_t v;
		memcpy(&v, data, sizeof(v));
		B.sink_reply = v;
		__atomic_store_n(&B.sink_replied, 1, __ATOMIC_RELEASE);
	}
	return RPMSG_SUCCESS;
}

static void nap(void)
{
	struct timespec d = {0, 50 * 1000};
	nanosleep(&d, NULL);
}

/* Start `amplink remote` for a link. posix_spawn (vfork-style: no copy of
 * this process's page tables, which a plain fork of the bench with its
 * buffers took ~0.2 ms for) with stderr to /dev/null unless verbose. The
 * executable by its resolved path: a tool that runs us (valgrind
 * --trace-children, for instruction counts) follows that exec;
 * /proc/self/exe itself if ours was replaced on disk meanwhile. With
 * `pin` the child inherits CPU 1 from us for the moment of the spawn. */
static pid_t spawn_self(const char *const *argv, bool quiet, bool pin)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	if (n <= 0 || strstr(self, " (deleted)"))
		snprintf(self, sizeof(self), "/proc/self/exe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	} else if (!getenv("AMPLINK_BENCH_VERBOSE")) {
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	if (pin)
		pin_to_cpu(1);
	pid_t p;
	if (posix_spawn(&p, self, &fa, NULL, (char *const *)argv, environ) != 0)
		p = -1;
	if (pin)
		pin_to_cpu(0);
	posix_spawn_file_actions_destroy(&fa);
	return p;
}

static pid_t spawn_remote(const char *link, const char *db, const char *num, const char *bufsz,
			  bool pin)
{
	const char *argv[] = {"amplink",    "remote",	  "--once", "--link", link,
			      "--doorbell", db,		  "--sink", SINK,     "--num",
			      num,	    "--buf-size", bufsz,    NULL};
	return spawn_self(argv, false, pin);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The start-up's baseline: the median time to spawn this same binary doing
 * nothing (`amplink help`, output to /dev/null) and reap it. What any
 * process start costs on this machine, before a link exists. */
static double base_spawn_ms(bool pin)
{
	static const char *const argv[] = {"amplink", "help", NULL};
	double t[21];
	int n = 0;
	for (int i = 0; i < 21; i++) {
		uint64_t t0 = bench_now_ns();
		pid_t p = spawn_self(argv, true, pin);
		if (p < 0 || waitpid(p, NULL, 0) != p)
			continue;
		t[n++] = (double)(bench_now_ns() - t0) / 1e6;
	}
	if (n == 0)
		return 0;
	qsort(t, (size_t)n, sizeof(t[0]), cmp_double);
	return t[n / 2];
}

static int attach(const char *link, enum al_doorbell_kind db)
{
	struct al_posix_cfg c = {.name = link,
				 .role = VIRTIO_DEV_DRIVER,
				 .doorbell = db,
				 .ns_bind_cb = al_services_ns_bind};
	int rc = al_posix_open(&c, &B.link);
	if (rc)
		return rc;
	if (getenv("AMPLINK_BENCH_VERBOSE"))
		fprintf(stderr, "\n[%.3f ms] link open\n", (double)bench_now_ns() / 1e6);
	struct rpmsg_device *rdev = al_posix_rdev(B.link);
	uint32_t a1, a2;
	uint64_t t0 = bench_now_ns();
	while (al_services_lookup(rdev, DEFAULT_SERVICE, &a1) ||
	       al_services_lookup(rdev, SINK, &a2)) {
		if (bench_now_ns() - t0 > 5000000000ull)
			return AL_ETIMEDOUT;
		sched_yield();
	}
	if (getenv("AMPLINK_BENCH_VERBOSE"))
		fprintf(stderr, "[%.3f ms] services found\n", (double)bench_now_ns() / 1e6);
	rc = rpmsg_create_ept(&B.echo, rdev, "bench-echo", RPMSG_ADDR_ANY, a1, echo_cb, NULL);
	if (rc == 0)
		rc = rpmsg_create_ept(&B.sink, rdev, "bench-sink", RPMSG_ADDR_ANY, a2, sink_cb,
				      NULL);
	return rc;
}

static void detach(pid_t pid)
{
	struct rpmsg_device *rdev = al_posix_rdev(B.link);
	al_posix_close(B.link);
	al_services_clear(rdev);
	B.link = NULL;
	int st;
	waitpid(pid, &st, 0);
}

static void rtt(size_t size, size_t count, struct lat_stats *out)
{
	B.size = size;
	B.count = count;
	B.warm = count / 10;
	B.i = 0;
	B.lat = malloc(sizeof(uint64_t) * count);
	B.done = 0;
	B.mode = M_RTT;
	B.t_sent = bench_now_ns();
	(void)rpmsg_send(&B.echo, B.payload, (int)size);
	while (!B.done) { /* stay out of the way of the two spinning threads */
		struct timespec d = {0, 1000000L};
		nanosleep(&d, NULL);
	}
	B.mode = M_IDLE;
	lat_summarise(B.lat, count, out);
	char name[32];
	snprintf(name, sizeof(name), "amplink_%zu", size);
	bench_dump(name, B.lat, count);
	free(B.lat);
}

/* How one_way() hands messages over: rpmsg_send(), a zero-copy buffer
 * (rpmsg_get_tx_payload_buffer() + rpmsg_send_nocopy()), or al_send_burst()
 * with BURST messages per call. */
enum send_mode { SEND_COPY, SEND_ZERO_COPY, SEND_BURST };
#define BURST 16

/* BURST copies of the payload, for al_send_burst(). */
static size_t burst_send(size_t size, size_t left)
{
	struct al_msg m[BURST];
	unsigned n = left < BURST ? (unsigned)left : BURST;
	for (unsigned k = 0; k < n; k++)
		m[k] = (struct al_msg){B.payload, (uint32_t)size};
	int r = al_send_burst(&B.sink, B.sink.addr, B.sink.dest_addr, m, n,
			      B.sink.rdev->send_timeout_ms);
	return r > 0 ? (size_t)r : 0;
}

/* One way; the sink's count closes the measurement. */
static double one_way(size_t size, size_t count, enum send_mode mode, pid_t rpid, double *cpu_h,
		      double *cpu_r)
{
	double h0 = cpu_seconds(0), r0 = cpu_seconds(rpid);
	struct rpmsg_stats s0, s1;
	al_get_stats(al_posix_rdev(B.link), &s0);
	B.sink_replied = 0;
	uint64_t t0 = bench_now_ns();
	for (size_t i = 0; i < count; i++) {
		if (mode == SEND_BURST) {
			size_t sent = burst_send(size, count - i);
			if (!sent)
				return 0;
			i += sent - 1;
		} else if (mode == SEND_ZERO_COPY) {
			uint32_t cap;
			uint8_t *p = rpmsg_get_tx_payload_buffer(&B.sink, &cap, 1);
			if (!p)
				return 0;
			memcpy(p, &i, sizeof(i) < size ? sizeof(i) : size);
			if (rpmsg_send_nocopy(&B.sink, p, (int)size) < 0)
				return 0;
		} else if (rpmsg_send(&B.sink, B.payload, (int)size) < 0) {
			return 0;
		}
	}
	(void)rpmsg_send(&B.sink, B.payload, 0);
	while (!__atomic_load_n(&B.sink_replied, __ATOMIC_ACQUIRE))
		nap();
	uint64_t dt = bench_now_ns() - t0;
	al_get_stats(al_posix_rdev(B.link), &s1);
	B.kicks_per_msg = (double)(uint32_t)(s1.kicks_tx - s0.kicks_tx) / (double)count;
	*cpu_h = (cpu_seconds(0) - h0) / (double)count * 1e6;
	*cpu_r = (cpu_seconds(rpid) - r0) / (double)count * 1e6;
	if (B.sink_reply != count)
		fprintf(stderr, "amplink bench: sink counted %llu of %zu messages\n",
			(unsigned long long)B.sink_reply, count);
	return (double)B.sink_reply * 1e9 / (double)dt;
}

static double echo_thr(size_t size, size_t count, long window)
{
	B.size = size;
	B.outstanding = 0;
	B.echoed = 0;
	B.mode = M_ECHO;
	uint64_t t0 = bench_now_ns();
	for (size_t i = 0; i < count; i++) {
		while (__atomic_load_n(&B.outstanding, __ATOMIC_ACQUIRE) >= window)
			sched_yield();
		__atomic_fetch_add(&B.outstanding, 1, __ATOMIC_ACQ_REL);
		if (rpmsg_send(&B.echo, B.payload, (int)size) < 0)
			break;
	}
	while (__atomic_load_n(&B.outstanding, __ATOMIC_ACQUIRE) > 0)
		nap();
	uint64_t dt = bench_now_ns() - t0;
	B.mode = M_IDLE;
	return (double)B.echoed * 1e9 / (double)dt;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: amplink bench [--doorbell KIND] [--pin] [--count N] [--quick] [--repeat N]\n\n"
	    "Start a remote process, measure an amplink link to it and the baselines\n"
	    "(memcpy, UNIX SOCK_SEQPACKET pair, eventfd ping-pong, shared cache-line\n"
	    "ping-pong, a minimal SPSC ring in shared memory: the throughput floor) in\n"
	    "the same run. Table on stderr, JSON on stdout.\n"
	    "  --doorbell KIND  eventfd | futex | poll | adaptive (default adaptive)\n"
	    "  --pin            host on CPU 0, remote on CPU 1 (baseline partners too)\n"
	    "  --count N        round trips per latency figure (default 20000);\n"
	    "                   throughput runs use 10 x N messages\n"
	    "  --quick          fewer messages (a smoke run)\n"
	    "  --repeat N       N runs (each alternates baselines and amplink); print\n"
	    "                   the median of every figure and ratio with its range\n"
	    "  --dump DIR       write the latency samples (sorted, µs) to DIR/*.dat\n"
	    "bench measures amplink's own link to a remote process it starts itself\n"
	    "(endpoint callbacks, zero-copy buffers, its sink service), so it takes no\n"
	    "--link. Over the kernel's rpmsg_char, time an echo instead:\n"
	    "  amplink echo --link kernel -n 1000 --size 496 --json\n");
}

/* Every figure of one run; ratios are taken within the run, then their
 * medians over runs (a ratio of medians would mix runs). */
struct fig {
	struct lat_stats rtt16, rtt496, sp16, sp496, efd, cl;
	double first_ms, spawn_ms, r_first_spawn, idle_h, idle_r, thr16, thr496, thr496_zc, echo496,
	    sp_thr496, sp_thr16, cpu_h, cpu_r, memcpy496, memcpy64k, big_mbps, big_msgs,
	    big_zc_mbps, floor16, floor496, floor_big, kicks496, thr16_burst, thr496_burst;
	double r_rtt_cl, r_thr_sp, r_thr16_sp, r_thr496_floor, r_thr16_floor, r_zc_floor, r_zc_copy,
	    r_big_memcpy, r_big_floor, r_big_zc_copy, r_burst496_floor, r_burst16_floor,
	    r_burst_copy;
};

/* The figures --repeat summarises: JSON key, offset of the double. */
#define F_(k, m)                                                                                   \
	{                                                                                          \
		k, offsetof(struct fig, m)                                                         \
	}
static const struct fig_key {
	const char *key;
	size_t off;
} KEYS[] = {
    F_("rtt16_p50_us", rtt16.p50),
    F_("rtt16_p99_us", rtt16.p99),
    F_("rtt496_p50_us", rtt496.p50),
    F_("cacheline_p50_us", cl.p50),
    F_("eventfd_p50_us", efd.p50),
    F_("seqpacket16_p50_us", sp16.p50),
    F_("thr16_msgs_per_s", thr16),
    F_("thr496_msgs_per_s", thr496),
    F_("thr496_zero_copy_msgs_per_s", thr496_zc),
    F_("thr16_burst_msgs_per_s", thr16_burst),
    F_("thr496_burst_msgs_per_s", thr496_burst),
    F_("echo496_per_s", echo496),
    F_("floor16_msgs_per_s", floor16),
    F_("floor496_msgs_per_s", floor496),
    F_("floor65520_msgs_per_s", floor_big),
    F_("seqpacket16_msgs_per_s", sp_thr16),
    F_("seqpacket496_msgs_per_s", sp_thr496),
    F_("big_mb_per_s", big_mbps),
    F_("big_zero_copy_mb_per_s", big_zc_mbps),
    F_("memcpy496_gb_per_s", memcpy496),
    F_("memcpy64k_gb_per_s", memcpy64k),
    F_("doorbells_per_msg_496", kicks496),
    F_("cpu_host_s_per_million", cpu_h),
    F_("cpu_remote_s_per_million", cpu_r),
    F_("idle_cpu_host_percent", idle_h),
    F_("idle_cpu_remote_percent", idle_r),
    F_("start_to_first_reply_ms", first_ms),
    F_("spawn_alone_ms", spawn_ms),
    F_("ratio_first_reply_over_spawn", r_first_spawn),
    F_("ratio_rtt16_over_cacheline", r_rtt_cl),
    F_("ratio_thr496_over_seqpacket", r_thr_sp),
    F_("ratio_thr16_over_seqpacket", r_thr16_sp),
    F_("ratio_thr496_over_floor", r_thr496_floor),
    F_("ratio_thr16_over_floor", r_thr16_floor),
    F_("ratio_zero_copy496_over_floor", r_zc_floor),
    F_("ratio_zero_copy_over_copy", r_zc_copy),
    F_("ratio_big_over_memcpy", r_big_memcpy),
    F_("ratio_big_over_floor", r_big_floor),
    F_("ratio_big_zero_copy_over_copy", r_big_zc_copy),
    F_("ratio_burst496_over_floor", r_burst496_floor),
    F_("ratio_burst16_over_floor", r_burst16_floor),
    F_("ratio_burst496_over_copy", r_burst_copy),
};
#undef F_

static double *fig_at(struct fig *f, size_t k)
{
	return (double *)((char *)f + KEYS[k].off);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static void print_lat(const char *what, const struct lat_stats *l)
{
	fprintf(stderr, "  %-34s p50 %8.2f  p99 %8.2f  p99.9 %8.2f  max %9.2f us\n", what, l->p50,
		l->p99, l->p999, l->max);
}

static void json_lat(struct json_writer *j, const char *k, const struct lat_stats *l)
{
	json_object_begin(j, k);
	json_double(j, "p50_us", l->p50, 3);
	json_double(j, "p99_us", l->p99, 3);
	json_double(j, "p999_us", l->p999, 3);
	json_double(j, "max_us", l->max, 3);
	json_object_end(j);
}

static bool tty;
#define STEP(msg)                                                                                  \
	if (tty)                                                                                   \
	fprintf(stderr, "\r\033[K  measuring %s...", msg)

/* One run: baselines and amplink alternate, each throughput floor right
 * before the amplink figure it is the floor of. 0 or an amplink error. */
static int run_once(enum al_doorbell_kind db, bool pin, uint32_t count, struct fig *F)
{
	memset(F, 0, sizeof(*F));
	size_t thr_n = (size_t)count * 10, big_n = thr_n / 50 + 100;
	bool verbose = getenv("AMPLINK_BENCH_VERBOSE") != NULL;

	STEP("latency baselines");
	F->memcpy496 = base_memcpy_gbps(496);
	F->memcpy64k = base_memcpy_gbps(65536);
	base_cacheline_rtt(count, pin, &F->cl);
	base_eventfd_rtt(count, pin, &F->efd);
	base_seqpacket_rtt(16, count, pin, &F->sp16);
	base_seqpacket_rtt(496, count, pin, &F->sp496);

	char link[48];
	snprintf(link, sizeof(link), "bench-%d", (int)getpid());
	STEP("start-up");
	F->spawn_ms = base_spawn_ms(pin);
	uint64_t t0 = bench_now_ns();
	if (verbose)
		fprintf(stderr, "\n[%.3f ms] fork\n", (double)t0 / 1e6);
	pid_t rpid = spawn_remote(link, al_doorbell_name(db), "256", "512", pin);
	uint64_t t_spawned = bench_now_ns();
	if (rpid < 0) {
		fprintf(stderr, "\namplink bench: cannot start the remote\n");
		return AL_ENOMEM;
	}
	int rc = attach(link, db);
	uint64_t t_attached = bench_now_ns();
	if (rc) {
		fprintf(stderr, "\namplink bench: cannot attach to the remote: %s\n",
			al_strerror(rc));
		kill(rpid, SIGKILL);
		waitpid(rpid, NULL, 0);
		return rc;
	}
	B.mode = M_FIRST;
	B.done = 0;
	(void)rpmsg_send(&B.echo, "x", 1);
	while (!B.done)
		sched_yield();
	F->first_ms = (double)(bench_now_ns() - t0) / 1e6;
	F->r_first_spawn = ratio(F->first_ms, F->spawn_ms);
	if (verbose)
		fprintf(stderr,
			"\nstart-up: fork %.3f ms, attach+services %.3f ms, first echo %.3f ms\n",
			(double)(t_spawned - t0) / 1e6, (double)(t_attached - t_spawned) / 1e6,
			F->first_ms - (double)(t_attached - t0) / 1e6);
	B.mode = M_IDLE;

	STEP("round trips");
	rtt(16, count, &F->rtt16);
	rtt(496, count, &F->rtt496);
	STEP("throughput");
	double zh, zr;
	F->sp_thr16 = base_seqpacket_msgs_per_s(16, thr_n, pin);
	F->floor16 = base_spsc_msgs_per_s(16, 256, 512, thr_n, pin);
	F->thr16 = one_way(16, thr_n, SEND_COPY, rpid, &zh, &zr);
	F->thr16_burst = one_way(16, thr_n, SEND_BURST, rpid, &zh, &zr);
	F->sp_thr496 = base_seqpacket_msgs_per_s(496, thr_n, pin);
	F->floor496 = base_spsc_msgs_per_s(496, 256, 512, thr_n, pin);
	F->thr496 = one_way(496, thr_n, SEND_COPY, rpid, &F->cpu_h, &F->cpu_r);
	F->kicks496 = B.kicks_per_msg;
	F->thr496_zc = one_way(496, thr_n, SEND_ZERO_COPY, rpid, &zh, &zr);
	F->thr496_burst = one_way(496, thr_n, SEND_BURST, rpid, &zh, &zr);
	F->echo496 = echo_thr(496, thr_n / 2, 64);
	STEP("idle CPU (2 s)");
	double h0 = cpu_seconds(0), r0 = cpu_seconds(rpid);
	uint64_t i0 = bench_now_ns();
	sleep(2);
	double wall = (double)(bench_now_ns() - i0) * 1e-9;
	F->idle_h = (cpu_seconds(0) - h0) / wall * 100.0;
	F->idle_r = (cpu_seconds(rpid) - r0) / wall * 100.0;
	detach(rpid);

	STEP("64 KiB messages");
	F->floor_big = base_spsc_msgs_per_s(65520, 64, 65536, big_n, pin);
	snprintf(link, sizeof(link), "bench-big-%d", (int)getpid());
	rpid = spawn_remote(link, al_doorbell_name(db), "64", "65536", pin);
	if (rpid > 0 && attach(link, db) == 0) {
		double bh, br;
		size_t big = (size_t)rpmsg_get_tx_buffer_size(&B.sink);
		F->big_msgs = one_way(big, big_n, SEND_COPY, rpid, &bh, &br);
		F->big_mbps = F->big_msgs * (double)big / 1e6;
		F->big_zc_mbps =
		    one_way(big, big_n, SEND_ZERO_COPY, rpid, &bh, &br) * (double)big / 1e6;
		detach(rpid);
	} else if (rpid > 0) {
		kill(rpid, SIGKILL);
		waitpid(rpid, NULL, 0);
	}
	if (tty)
		fprintf(stderr, "\r\033[K");

	F->r_rtt_cl = ratio(F->rtt16.p50, F->cl.p50);
	F->r_thr_sp = ratio(F->thr496, F->sp_thr496);
	F->r_thr16_sp = ratio(F->thr16, F->sp_thr16);
	F->r_thr496_floor = ratio(F->thr496, F->floor496);
	F->r_thr16_floor = ratio(F->thr16, F->floor16);
	F->r_zc_floor = ratio(F->thr496_zc, F->floor496);
	F->r_zc_copy = ratio(F->thr496_zc, F->thr496);
	F->r_big_memcpy = ratio(F->big_mbps, F->memcpy64k * 1000);
	F->r_big_floor = ratio(F->big_msgs, F->floor_big);
	F->r_big_zc_copy = ratio(F->big_zc_mbps, F->big_mbps);
	F->r_burst496_floor = ratio(F->thr496_burst, F->floor496);
	F->r_burst16_floor = ratio(F->thr16_burst, F->floor16);
	F->r_burst_copy = ratio(F->thr496_burst, F->thr496);
	return 0;
}

/* Median (and range) of every figure over `n` runs into med/lo/hi. */
static void summarise(struct fig *runs, size_t n, struct fig *med, struct fig *lo, struct fig *hi)
{
	*med = runs[n / 2]; /* the latency tails nobody summarises: one run's */
	*lo = *med;
	*hi = *med;
	double v[n];
	for (size_t k = 0; k < sizeof(KEYS) / sizeof(KEYS[0]); k++) {
		for (size_t i = 0; i < n; i++)
			v[i] = *fig_at(&runs[i], k);
		qsort(v, n, sizeof(v[0]), cmp_double);
		*fig_at(med, k) = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		*fig_at(lo, k) = v[0];
		*fig_at(hi, k) = v[n - 1];
	}
}

static void print_table(const struct fig *F, enum al_doorbell_kind db, bool pin, uint32_t count,
			uint32_t repeat)
{
	fprintf(stderr, "amplink bench: doorbell %s%s, %u round trips per latency figure",
		al_doorbell_name(db), pin ? ", pinned" : "", count);
	if (repeat > 1)
		fprintf(stderr, ", medians of %u runs", repeat);
	fputc('\n', stderr);
	print_lat("amplink RTT 16 B", &F->rtt16);
	print_lat("amplink RTT 496 B", &F->rtt496);
	print_lat("baseline cache-line ping-pong", &F->cl);
	print_lat("baseline eventfd ping-pong", &F->efd);
	print_lat("baseline SEQPACKET RTT 16 B", &F->sp16);
	print_lat("baseline SEQPACKET RTT 496 B", &F->sp496);
	fprintf(
	    stderr,
	    "  one way 16 B     %10.0f msg/s (%3.0f%% of SPSC floor %.0f, %.1fx SEQPACKET %.0f)\n",
	    F->thr16, F->r_thr16_floor * 100, F->floor16, F->r_thr16_sp, F->sp_thr16);
	fprintf(stderr,
		"  one way 496 B    %10.0f msg/s %7.1f MB/s (%3.0f%% of SPSC floor %.0f, %.1fx "
		"SEQPACKET %.0f)\n",
		F->thr496, F->thr496 * 496 / 1e6, F->r_thr496_floor * 100, F->floor496, F->r_thr_sp,
		F->sp_thr496);
	fprintf(stderr,
		"  zero-copy 496 B  %10.0f msg/s %7.1f MB/s (%3.0f%% of floor, %.2fx copying)\n",
		F->thr496_zc, F->thr496_zc * 496 / 1e6, F->r_zc_floor * 100, F->r_zc_copy);
	fprintf(
	    stderr,
	    "  bursts of %d     16 B %10.0f msg/s (%3.0f%% of floor); 496 B %10.0f msg/s (%3.0f%% "
	    "of floor, %.2fx copying one by one)\n",
	    BURST, F->thr16_burst, F->r_burst16_floor * 100, F->thr496_burst,
	    F->r_burst496_floor * 100, F->r_burst_copy);
	fprintf(stderr, "  memcpy 496 B chunks %.1f GB/s = %.0f chunks/s on one core\n",
		F->memcpy496, F->memcpy496 * 1e9 / 496);
	fprintf(stderr, "  echo 496 B       %10.0f round trips/s (window 64)\n", F->echo496);
	fprintf(stderr,
		"  64 KiB one way   %10.1f MB/s (%.0f%% of memcpy %.1f GB/s, %.0f%% of SPSC floor "
		"%.1f MB/s)\n",
		F->big_mbps, F->r_big_memcpy * 100, F->memcpy64k, F->r_big_floor * 100,
		F->floor_big * 65520 / 1e6);
	fprintf(stderr, "  64 KiB zero-copy %10.1f MB/s (%.2fx copying)\n", F->big_zc_mbps,
		F->r_big_zc_copy);
	fprintf(stderr,
		"  doorbells        %.3f per 496 B message sent (host to remote, one way)\n",
		F->kicks496);
	fprintf(stderr, "  CPU per 1M msgs  host %.2f s, remote %.2f s (496 B one way)\n", F->cpu_h,
		F->cpu_r);
	fprintf(stderr, "  idle CPU         host %.2f%%, remote %.2f%% (2 s, connected)\n",
		F->idle_h, F->idle_r);
	fprintf(stderr,
		"  start to first reply %.2f ms (%.1fx the %.2f ms a spawn and exit of this "
		"binary alone takes)\n",
		F->first_ms, F->r_first_spawn, F->spawn_ms);
	fprintf(stderr,
		"  ratios: RTT16 p50 / cache-line %.1fx, 496 B thr / SEQPACKET %.1fx, / floor "
		"%.0f%%, 64 KiB / memcpy %.0f%%\n",
		F->r_rtt_cl, F->r_thr_sp, F->r_thr496_floor * 100, F->r_big_memcpy * 100);
}

static void print_ranges(const struct fig *lo, const struct fig *hi)
{
	fprintf(stderr, "  ranges (min - max):\n");
	for (size_t k = 0; k < sizeof(KEYS) / sizeof(KEYS[0]); k++)
		fprintf(stderr, "    %-30s %12.4g - %-12.4g\n", KEYS[k].key,
			*fig_at((struct fig *)lo, k), *fig_at((struct fig *)hi, k));
}

static void print_json(const struct fig *F, const struct fig *lo, const struct fig *hi,
		       enum al_doorbell_kind db, bool pin, uint32_t count, uint32_t repeat)
{
	struct json_writer j;
	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "doorbell", al_doorbell_name(db));
	json_bool(&j, "pinned", pin);
	json_uint(&j, "count", count);
	json_uint(&j, "runs", repeat);
	json_object_begin(&j, "latency");
	json_lat(&j, "amplink_16", &F->rtt16);
	json_lat(&j, "amplink_496", &F->rtt496);
	json_lat(&j, "cacheline", &F->cl);
	json_lat(&j, "eventfd", &F->efd);
	json_lat(&j, "seqpacket_16", &F->sp16);
	json_lat(&j, "seqpacket_496", &F->sp496);
	json_object_end(&j);
	json_object_begin(&j, "throughput_msgs_per_s");
	json_double(&j, "amplink_16", F->thr16, 0);
	json_double(&j, "amplink_496", F->thr496, 0);
	json_double(&j, "amplink_496_zero_copy", F->thr496_zc, 0);
	json_double(&j, "amplink_16_burst", F->thr16_burst, 0);
	json_double(&j, "amplink_496_burst", F->thr496_burst, 0);
	json_double(&j, "amplink_echo_496", F->echo496, 0);
	json_double(&j, "seqpacket_16", F->sp_thr16, 0);
	json_double(&j, "seqpacket_496", F->sp_thr496, 0);
	json_double(&j, "spsc_floor_16", F->floor16, 0);
	json_double(&j, "spsc_floor_496", F->floor496, 0);
	json_double(&j, "spsc_floor_65520", F->floor_big, 0);
	json_double(&j, "amplink_65520", F->big_msgs, 0);
	json_object_end(&j);
	json_object_begin(&j, "payload_mb_per_s");
	json_double(&j, "amplink_496", F->thr496 * 496 / 1e6, 1);
	json_double(&j, "amplink_496_zero_copy", F->thr496_zc * 496 / 1e6, 1);
	json_double(&j, "amplink_65520", F->big_mbps, 1);
	json_double(&j, "amplink_65520_zero_copy", F->big_zc_mbps, 1);
	json_double(&j, "spsc_floor_65520", F->floor_big * 65520 / 1e6, 1);
	json_object_end(&j);
	json_object_begin(&j, "memcpy_gb_per_s");
	json_double(&j, "chunk_496", F->memcpy496, 2);
	json_double(&j, "chunk_65536", F->memcpy64k, 2);
	json_object_end(&j);
	json_double(&j, "doorbells_per_msg_496", F->kicks496, 4);
	json_object_begin(&j, "cpu_s_per_million_msgs");
	json_double(&j, "host", F->cpu_h, 3);
	json_double(&j, "remote", F->cpu_r, 3);
	json_object_end(&j);
	json_object_begin(&j, "idle_cpu_percent");
	json_double(&j, "host", F->idle_h, 3);
	json_double(&j, "remote", F->idle_r, 3);
	json_object_end(&j);
	json_double(&j, "start_to_first_reply_ms", F->first_ms, 3);
	json_double(&j, "spawn_alone_ms", F->spawn_ms, 3);
	json_object_begin(&j, "ratios");
	json_double(&j, "rtt16_p50_over_cacheline", F->r_rtt_cl, 2);
	json_double(&j, "thr496_over_seqpacket", F->r_thr_sp, 2);
	json_double(&j, "thr16_over_seqpacket", F->r_thr16_sp, 2);
	json_double(&j, "thr496_over_spsc_floor", F->r_thr496_floor, 3);
	json_double(&j, "thr16_over_spsc_floor", F->r_thr16_floor, 3);
	json_double(&j, "zero_copy496_over_spsc_floor", F->r_zc_floor, 3);
	json_double(&j, "zero_copy496_over_copy", F->r_zc_copy, 3);
	json_double(&j, "first_reply_over_spawn", F->r_first_spawn, 2);
	json_double(&j, "big_over_memcpy", F->r_big_memcpy, 3);
	json_double(&j, "big_over_spsc_floor", F->r_big_floor, 3);
	json_double(&j, "big_zero_copy_over_copy", F->r_big_zc_copy, 3);
	json_double(&j, "burst496_over_spsc_floor", F->r_burst496_floor, 3);
	json_double(&j, "burst16_over_spsc_floor", F->r_burst16_floor, 3);
	json_double(&j, "burst496_over_copy", F->r_burst_copy, 3);
	json_object_end(&j);
	if (repeat > 1) { /* every summarised figure: [min, max] over the runs */
		json_object_begin(&j, "ranges");
		for (size_t k = 0; k < sizeof(KEYS) / sizeof(KEYS[0]); k++) {
			json_object_begin(&j, KEYS[k].key);
			json_double(&j, "min", *fig_at((struct fig *)lo, k), 4);
			json_double(&j, "max", *fig_at((struct fig *)hi, k), 4);
			json_object_end(&j);
		}
		json_object_end(&j);
	}
	json_object_end(&j);
}

int cmd_bench(int argc, char **argv)
{
	enum al_doorbell_kind db = AL_DB_ADAPTIVE;
	bool pin = false;
	uint32_t count = 20000, repeat = 1;
	static const struct option opts[] = {
	    {"doorbell", required_argument, 0, 'd'}, {"pin", no_argument, 0, 'p'},
	    {"count", required_argument, 0, 'n'},    {"quick", no_argument, 0, 'q'},
	    {"repeat", required_argument, 0, 'r'},   {"dump", required_argument, 0, 'D'},
	    {"help", no_argument, 0, 'h'},	     {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		if (c == 'd') {
			int k = al_doorbell_parse(optarg);
			if (k < 0 || k > AL_DB_ADAPTIVE) {
				fprintf(stderr, "amplink bench: unknown doorbell '%s'\n", optarg);
				return EXIT_USAGE;
			}
			db = (enum al_doorbell_kind)k;
		} else if (c == 'p') {
			pin = true;
		} else if (c == 'n') {
			if (!parse_u32(optarg, &count) || count < 100) {
				fprintf(stderr, "amplink bench: --count must be a number >= 100\n");
				return EXIT_USAGE;
			}
		} else if (c == 'q') {
			count = 2000;
		} else if (c == 'r') {
			if (!parse_u32(optarg, &repeat) || repeat < 1 || repeat > 100) {
				fprintf(stderr, "amplink bench: --repeat must be 1 to 100\n");
				return EXIT_USAGE;
			}
		} else if (c == 'D') {
			bench_dump_dir = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (pin)
		pin_to_cpu(0);
	tty = isatty(2);
	struct fig *runs = calloc(repeat, sizeof(*runs));
	if (!runs)
		return EXIT_FAILURE;
	for (uint32_t r = 0; r < repeat; r++) {
		if (repeat > 1 && tty)
			fprintf(stderr, "\r\033[Krun %u of %u\n", r + 1, repeat);
		int rc = run_once(db, pin, count, &runs[r]);
		if (rc) {
			free(runs);
			return exit_code_for(rc);
		}
	}
	struct fig med, lo, hi;
	summarise(runs, repeat, &med, &lo, &hi);
	free(runs);
	print_table(&med, db, pin, count, repeat);
	if (repeat > 1)
		print_ranges(&lo, &hi);
	print_json(&med, &lo, &hi, db, pin, count, repeat);
	return EXIT_OK;
}
