/* Helpers shared by the fault-injection tests (it_chaos: a hostile remote;
 * it_hostile_host: a hostile host): a small reproducible random generator,
 * random bytes over a range, and the byte extent of a virtqueue's rings
 * inside the shared region (descriptor table to the end of the used ring),
 * which is what a misbehaving peer scribbles over. Header-only: each test
 * is one executable. */
#ifndef AMPLINK_TESTS_CHAOS_UTIL_H
#define AMPLINK_TESTS_CHAOS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "amplink/rpmsg_virtio.h"
#include "amplink/virtio_ring.h"

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
	const uint8_t *base = rv->shm.va;
	*start = (size_t)(v->desc - base);
	*end = (size_t)(v->used - base) + AL_VRING_USED_RING +
	       (size_t)AL_VRING_USED_ELEM_SIZE * v->num + 2u;
}

static inline uint64_t chaos_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

#endif
