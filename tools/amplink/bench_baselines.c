/* Baselines for `amplink bench`, measured in the same run as amplink so
 * that ratios, not drifting absolute times, carry the result. */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

const char *bench_dump_dir;

void bench_dump(const char *name, const uint64_t *ns, size_t n)
{
	if (!bench_dump_dir)
		return;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.dat", bench_dump_dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.3f %.6f\n", (double)ns[i] / 1000.0, (double)(i + 1) / (double)n);
	fclose(f);
}

uint64_t bench_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void lat_summarise(uint64_t *ns, size_t n, struct lat_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	qsort(ns, n, sizeof(*ns), cmp_u64);
	out->n = n;
	out->p50 = (double)ns[n / 2] / 1000.0;
	out->p99 = (double)ns[(n * 99) / 100] / 1000.0;
	out->p999 = (double)ns[(n * 999) / 1000] / 1000.0;
	out->max = (double)ns[n - 1] / 1000.0;
}

double cpu_seconds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid ? (int)pid : (int)getpid());
	DIR *d = opendir(path);
	if (!d)
		return 0;
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

void pin_to_cpu(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	(void)sched_setaffinity(0, sizeof(s), &s);
}

/* One core copying `chunk`-byte messages from a hot source into a ring of
 * destinations the size of a link's buffer pool (128 buffers): the work
 * the copying send path does, without the protocol. */
double base_memcpy_gbps(size_t chunk)
{
	size_t slots = 128, reps = (256u << 20) / chunk / slots + 1;
	/* Fresh mappings each time, not malloc: with malloc, the later runs of
	 * one process (--repeat) read 2-3 GB/s for the 8 MiB copy where the
	 * first read 26-44 GB/s; with fresh mappings every run reads like the
	 * first (why the reused memory was slow was not pinned down). */
	size_t bytes = chunk * (slots + 1);
	uint8_t *dst =
	    mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return 0;
	uint8_t *src = dst + chunk * slots;
	memset(src, 1, chunk);
	memset(dst, 2, chunk * slots);
	double best = 0;
	for (int rep = 0; rep < 5; rep++) {
		uint64_t t0 = bench_now_ns();
		for (size_t r = 0; r < reps; r++)
			for (size_t i = 0; i < slots; i++) {
				memcpy(dst + i * chunk, src, chunk);
				__asm__ volatile("" ::"r"(dst) : "memory");
			}
		uint64_t dt = bench_now_ns() - t0;
		double gbps = (double)(reps * slots * chunk) / (double)dt;
		best = gbps > best ? gbps : best;
	}
	munmap(dst, bytes);
	return best; /* bytes per ns == GB/s */
}

static pid_t fork_pinned(bool pin, int cpu)
{
	pid_t p = fork();
	if (p == 0 && pin)
		pin_to_cpu(cpu);
	return p;
}

void base_seqpacket_rtt(size_t size, size_t count, bool pin, struct lat_stats *out)
{
	int sv[2];
	memset(out, 0, sizeof(*out));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return;
	pid_t child = fork_pinned(pin, 1);
	if (child == 0) {
		close(sv[0]);
		char buf[65536];
		ssize_t n;
		while ((n = recv(sv[1], buf, sizeof(buf), 0)) > 0)
			if (send(sv[1], buf, (size_t)n, 0) != n)
				break;
		_exit(0);
	}
	close(sv[1]);
	char *buf = calloc(1, size ? size : 1);
	uint64_t *lat = malloc(sizeof(*lat) * count);
	size_t warm = count / 10, k = 0;
	for (size_t i = 0; i < count + warm; i++) {
		uint64_t t0 = bench_now_ns();
		if (send(sv[0], buf, size, 0) != (ssize_t)size ||
		    recv(sv[0], buf, size, 0) != (ssize_t)size)
			break;
		if (i >= warm)
			lat[k++] = bench_now_ns() - t0;
	}
	close(sv[0]);
	waitpid(child, NULL, 0);
	lat_summarise(lat, k, out);
	char name[32];
	snprintf(name, sizeof(name), "seqpacket_%zu", size);
	bench_dump(name, lat, k);
	free(lat);
	free(buf);
}

double base_seqpacket_msgs_per_s(size_t size, size_t count, bool pin)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return 0;
	pid_t child = fork_pinned(pin, 1);
	if (child == 0) { /* the sink: count, answer with the count at the end */
		close(sv[0]);
		char buf[65536];
		uint64_t got = 0;
		ssize_t n;
		while ((n = recv(sv[1], buf, sizeof(buf), 0)) > 0) {
			if (n == 1 && buf[0] == 'F') {
				if (send(sv[1], &got, sizeof(got), 0) < 0)
					break;
				continue;
			}
			got++;
		}
		_exit(0);
	}
	close(sv[1]);
	char *buf = calloc(1, size ? size : 1);
	uint64_t t0 = bench_now_ns();
	for (size_t i = 0; i < count; i++)
		if (send(sv[0], buf, size, 0) != (ssize_t)size)
			break;
	uint64_t got = 0;
	if (send(sv[0], "F", 1, 0) != 1 || recv(sv[0], &got, sizeof(got), 0) != sizeof(got))
		got = 0;
	uint64_t dt = bench_now_ns() - t0;
	close(sv[0]);
	waitpid(child, NULL, 0);
	free(buf);
	return dt ? (double)got * 1e9 / (double)dt : 0;
}

void base_eventfd_rtt(size_t count, bool pin, struct lat_stats *out)
{
	int a = eventfd(0, 0), b = eventfd(0, 0);
	memset(out, 0, sizeof(*out));
	pid_t child = fork_pinned(pin, 1);
	if (child == 0) {
		uint64_t v;
		for (;;) {
			if (read(a, &v, 8) != 8)
				_exit(0);
			if (v == 2)
				_exit(0);
			if (write(b, &v, 8) != 8)
				_exit(0);
		}
	}
	uint64_t *lat = malloc(sizeof(*lat) * count), one = 1, v;
	size_t warm = count / 10, k = 0;
	for (size_t i = 0; i < count + warm; i++) {
		uint64_t t0 = bench_now_ns();
		if (write(a, &one, 8) != 8 || read(b, &v, 8) != 8)
			break;
		if (i >= warm)
			lat[k++] = bench_now_ns() - t0;
	}
	uint64_t two = 2;
	if (write(a, &two, 8) != 8)
		kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(a);
	close(b);
	lat_summarise(lat, k, out);
	bench_dump("eventfd", lat, k);
	free(lat);
}

void base_cacheline_rtt(size_t count, bool pin, struct lat_stats *out)
{
	/* two words on separate cache lines: ping written by us, pong by the child */
	volatile uint64_t *m =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(out, 0, sizeof(*out));
	if (m == MAP_FAILED)
		return;
	m[0] = m[8] = 0;
	pid_t child = fork_pinned(pin, 1);
	if (child == 0) {
		uint64_t seen = 0;
		for (;;) {
			uint64_t v;
			while ((v = __atomic_load_n(&m[0], __ATOMIC_ACQUIRE)) == seen)
				cpu_relax();
			if (v == UINT64_MAX)
				_exit(0);
			seen = v;
			__atomic_store_n(&m[8], v, __ATOMIC_RELEASE);
		}
	}
	uint64_t *lat = malloc(sizeof(*lat) * count);
	size_t warm = count / 10, k = 0;
	for (uint64_t i = 1; i <= count + warm; i++) {
		uint64_t t0 = bench_now_ns();
		__atomic_store_n(&m[0], i, __ATOMIC_RELEASE);
		uint64_t spins = 0;
		while (__atomic_load_n(&m[8], __ATOMIC_ACQUIRE) != i)
			if (++spins > 2000000000ull)
				break;
		if (i > warm)
			lat[k++] = bench_now_ns() - t0;
	}
	__atomic_store_n(&m[0], UINT64_MAX, __ATOMIC_RELEASE);
	waitpid(child, NULL, 0);
	munmap((void *)m, 4096);
	lat_summarise(lat, k, out);
	bench_dump("cacheline", lat, k);
	free(lat);
}
