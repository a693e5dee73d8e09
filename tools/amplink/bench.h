/* Pieces of `amplink bench`: statistics, CPU accounting and the baselines
 * every run measures next to amplink (memcpy, a SOCK_SEQPACKET pair, an
 * eventfd ping-pong, a shared cache-line ping-pong, an SPSC ring). */
#ifndef AMPLINK_BENCH_H
#define AMPLINK_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lat_stats {
	double p50, p99, p999, max; /* microseconds */
	size_t n;
};

uint64_t bench_now_ns(void);
/* Where baselines write their sorted samples (NULL: nowhere). */
extern const char *bench_dump_dir;
void bench_dump(const char *name, const uint64_t *ns, size_t n);
/* Sort `ns` in place and fill percentiles (µs). */
void lat_summarise(uint64_t *ns, size_t n, struct lat_stats *out);
/* CPU seconds used by every thread of process `pid` (0 = this one). */
double cpu_seconds(pid_t pid);
/* Pin the calling process (and threads it creates later) to one CPU. */
void pin_to_cpu(int cpu);

/* Baselines. Each forks a partner process; `pin` puts the two on
 * different CPUs. */
double base_memcpy_gbps(size_t chunk);
void base_seqpacket_rtt(size_t size, size_t count, bool pin, struct lat_stats *out);
double base_seqpacket_msgs_per_s(size_t size, size_t count, bool pin);
void base_eventfd_rtt(size_t count, bool pin, struct lat_stats *out);
void base_cacheline_rtt(size_t count, bool pin, struct lat_stats *out);
/* The throughput floor (bench_floor.c): one-way messages per second of
 * `size` bytes through a minimal SPSC ring of `nslots` slots of `stride`
 * bytes in a sealed memfd, producer here, consumer in a forked process;
 * 0 if it could not run. */
double base_spsc_msgs_per_s(size_t size, size_t nslots, size_t stride, size_t count, bool pin);

#endif
