/* Helpers shared by the multi-process tests (it_chaos: a hostile remote;
 * it_hostile_host: a hostile host; it_reliable; soak; it_openamp): the clock, a sleep, opening
 * a POSIX link or giving up, a process's descriptor count and resident
 * memory (leak checks), the reliable-channel tests' message pattern and
 * restart-surviving memory, a small reproducible random generator, random
 * bytes over a range, and the byte extent of a virtqueue's rings inside
 * the shared region (what a misbehaving peer scribbles over).
 * Header-only: each test is one executable. */
#ifndef AMPLINK_TESTS_IT_COMMON_H
#define AMPLINK_TESTS_IT_COMMON_H

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "amplink/linux/posix.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/virtio_ring.h"

static inline uint64_t it_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static inline void it_sleep_ms(unsigned ms)
{
	struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&d, NULL);
}

/* Open a POSIX link with eventfd doorbells, waiting up to 10 s for the
 * peer; a test that cannot even do that exits 2 (`who` names the side). */
static inline struct al_posix_link *it_open_link(const char *name, unsigned role, const char *who)
{
	struct al_posix_cfg c = {
	    .name = name, .role = role, .doorbell = AL_DB_EVENTFD, .connect_timeout_ms = 10000};
	struct al_posix_link *l = NULL;
	int rc = al_posix_open(&c, &l);
	if (rc) {
		fprintf(stderr, "%s: %s: al_posix_open: %s\n", who,
			role == VIRTIO_DEV_DRIVER ? "host" : "remote", al_strerror(rc));
		exit(2);
	}
	return l;
}

/* Open descriptors of a process (0: this one), or -1. */
static inline int it_fd_count(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", pid ? (int)pid : (int)getpid());
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Resident memory of a process (0: this one) in kB, or -1. */
static inline long it_rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid ? (int)pid : (int)getpid());
	FILE *f = fopen(path, "r");
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* ---- the reliable-channel tests (it_reliable, it_chaos) ------------------- */

/* Message i of a stream: its index (little-endian), then a pattern;
 * 4..maxp-1 bytes, the length varying with i. */
static inline size_t it_rel_msg(uint32_t i, uint8_t *b, size_t maxp)
{
	size_t len = 4u + (i * 37u) % (maxp - 4u);
	b[0] = (uint8_t)i;
	b[1] = (uint8_t)(i >> 8);
	b[2] = (uint8_t)(i >> 16);
	b[3] = (uint8_t)(i >> 24);
	for (size_t j = 4; j < len; j++)
		b[j] = (uint8_t)(i * 31u + j * 17u);
	return len;
}

/* The channel's lock hooks over a pthread mutex. */
static inline void it_mu_lock(void *m)
{
	pthread_mutex_lock(m);
}
static inline void it_mu_unlock(void *m)
{
	pthread_mutex_unlock(m);
}

/* What the remote's application keeps across its restarts: two records and
 * a generation number that says which one is committed. */
struct it_rec {
	uint32_t count;	  /* messages seen */
	uint32_t hash;	  /* al_crc32 chained over their payloads */
	uint32_t bad;	  /* 1 + index of the first message out of order, or 0 */
	uint32_t session; /* the channel position: the host's session ... */
	uint32_t next;	  /* ... and the next sequence number */
};
struct it_retained {
	uint32_t gen;
	uint32_t incarnations;
	uint32_t fired; /* it_chaos: incarnations whose fault has happened */
	/* it_chaos: bit flips put into received messages (high half) and how
	 * many of those the channel refused as CRC errors (low half) */
	uint64_t crc;
	struct it_rec r[2];
};

/* Map (and with `create`, make) the file that outlives the remote. */
static inline struct it_retained *it_map_retained(const char *path, int create)
{
	int fd = open(path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0600);
	if (fd < 0 || (create && ftruncate(fd, 4096) != 0)) {
		perror(path);
		exit(2);
	}
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/* ---- fault injection (it_chaos, it_hostile_host) --------------------------- */

static uint64_t chaos_rng_state = 1;

/* xorshift64*: the same seed gives the same faults (a failing round can be
 * replayed from its seed). */
static inline uint32_t chaos_rnd(void)
{
	uint64_t x = chaos_rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	chaos_rng_state = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static inline void chaos_seed(uint64_t seed)
{
	chaos_rng_state = seed ? seed : 1;
}

/* `n` random bytes at random places of p[0..size). */
static inline void chaos_scribble(uint8_t *p, size_t size, int n)
{
	for (int i = 0; size && i < n; i++)
		p[chaos_rnd() % size] = (uint8_t)chaos_rnd();
}

/* Offsets in the region of a virtqueue's first and one-past-last ring byte
 * (split layout: descriptors, then avail, then used, used ring last). */
static inline void chaos_ring_span(const struct rpmsg_virtio_device *rv, const struct al_vq *v,
				   size_t *start, size_t *end)
{
	const uint8_t *base = rv->mem.r[0].va;
	*start = (size_t)(v->desc - base);
	*end = (size_t)(v->used - base) + AL_VRING_USED_RING +
	       (size_t)AL_VRING_USED_ELEM_SIZE * v->num + 2u;
}

#endif
