/* The throughput floor of `amplink bench`: the least a one-way transfer
 * between two processes can cost on this machine's memory system. A
 * minimal single-producer/single-consumer ring in the same kind of shared
 * memory as a link (a sealed memfd), between two processes, with the
 * link's geometry (slot count and size) and the same payload sizes, and
 * the same freedom to batch: each side publishes its index after every
 * message (a plain store on x86) and reads the peer's index only when its
 * cached copy says the ring is empty or full, as a good SPSC ring does.
 * No RPMsg header, no descriptors, no validation, no lock, no doorbell:
 * what remains is the wire's cost, the copy and the cache-line transfers.
 * amplink's one-way figures are printed as a fraction of it. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "amplink/linux/posix_port.h"
#include "bench.h"

/* Control words, each on its own cache line: head written by the
 * producer, tail and the final count by the consumer. */
struct floor_ctl {
	uint64_t head;
	uint8_t pad0[56];
	uint64_t tail;
	uint8_t pad1[56];
	uint64_t count; /* messages the consumer saw, +1 once it is done */
	uint8_t pad2[56];
};

#define SLOT_HDR 16u /* a length word, padded like the RPMsg header */

static inline void relax(unsigned *spins)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
	/* as the link's adaptive spinner does (every 16 spins): let a starved
	 * peer on our CPU run */
	if ((++*spins & 15u) == 0)
		sched_yield();
}

/* Wait a little for the consumer; false once it has died (checked every
 * 65536 waits: the producer must not spin forever on a full ring). */
static bool consumer_alive(pid_t child, unsigned *spins)
{
	relax(spins);
	return (*spins & 0xFFFFu) != 0 || waitpid(child, NULL, WNOHANG) != child;
}

/* The consumer: read each slot's length (the header, as the link's sink
 * reads the RPMsg header), count; length 0 ends the run. */
static void consume(struct floor_ctl *c, uint8_t *slots, size_t nslots, size_t stride)
{
	uint64_t tail = 0, head = 0, n = 0;
	unsigned spins = 0;
	for (;;) {
		if (tail == head) {
			while ((head = __atomic_load_n(&c->head, __ATOMIC_ACQUIRE)) == tail)
				relax(&spins);
		}
		uint32_t len;
		memcpy(&len, slots + (tail & (nslots - 1)) * stride, sizeof(len));
		tail++;
		__atomic_store_n(&c->tail, tail, __ATOMIC_RELEASE);
		if (len == 0)
			break;
		n++;
	}
	__atomic_store_n(&c->count, n + 1, __ATOMIC_RELEASE);
}

double base_spsc_msgs_per_s(size_t size, size_t nslots, size_t stride, size_t count, bool pin)
{
	size_t bytes = 4096 + nslots * stride;
	int fd = al_posix_sealed_memfd("amplink-bench-floor", bytes);
	if (fd < 0 || size + SLOT_HDR > stride || (nslots & (nslots - 1)) != 0)
		return 0;
	uint8_t *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 0;
	struct floor_ctl *c = (struct floor_ctl *)m;
	uint8_t *slots = m + 4096;
	memset(m, 0, bytes);
	pid_t child = fork();
	if (child == 0) {
		if (pin)
			pin_to_cpu(1);
		consume(c, slots, nslots, stride);
		_exit(0);
	}
	if (child < 0) {
		munmap(m, bytes);
		return 0;
	}
	static uint8_t src[65536];
	memset(src, 0xA5, sizeof(src));
	uint64_t head = 0, tail = 0;
	unsigned spins = 0;
	uint64_t t0 = bench_now_ns();
	for (size_t i = 0; i <= count; i++) {
		if (head - tail == nslots) {
			while ((tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE)) + nslots ==
			       head)
				if (!consumer_alive(child, &spins)) {
					munmap(m, bytes);
					return 0;
				}
		}
		uint8_t *s = slots + (head & (nslots - 1)) * stride;
		uint32_t len = i < count ? (uint32_t)size : 0; /* the last one ends it */
		memcpy(s, &len, sizeof(len));
		memcpy(s + SLOT_HDR, src, len);
		head++;
		__atomic_store_n(&c->head, head, __ATOMIC_RELEASE);
	}
	uint64_t got;
	bool reaped = false;
	while ((got = __atomic_load_n(&c->count, __ATOMIC_ACQUIRE)) == 0 && !reaped)
		reaped = !consumer_alive(child, &spins); /* its count may have come last */
	uint64_t dt = bench_now_ns() - t0;
	if (!reaped)
		waitpid(child, NULL, 0);
	munmap(m, bytes);
	return got - 1 == count && dt ? (double)count * 1e9 / (double)dt : 0;
}
