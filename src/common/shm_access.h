/* Loads and stores of shared memory: little-endian, each a single access the
 * compiler may neither repeat nor tear, with acquire/release variants for
 * ring indices. Every peer-written field goes through these helpers exactly
 * once; the value is then validated and only the local copy is used.
 */
#ifndef AL_SHM_ACCESS_H
#define AL_SHM_ACCESS_H

#include <stdint.h>

#include "amplink/config.h"
#include "amplink/port.h"

/* Always inlined: each is one load or store, cheaper than a call (-Os would
 * otherwise outline some of them on a microcontroller). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define al_le16(v) __builtin_bswap16(v)
#define al_le32(v) __builtin_bswap32(v)
#else
#define al_le16(v) (v)
#define al_le32(v) (v)
#endif

static inline __attribute__((always_inline)) uint16_t al_rd16(const void *p)
{
	return al_le16(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}
static inline __attribute__((always_inline)) uint16_t al_rd16_acquire(const void *p)
{
	return al_le16(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}
static inline __attribute__((always_inline)) uint32_t al_rd32(const void *p)
{
	return al_le32(__atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED));
}
/* 64-bit fields as two 32-bit loads: 64-bit atomics are not lock-free on a
 * Cortex-M4, and the peer never changes a field we are entitled to read. */
static inline __attribute__((always_inline)) uint64_t al_rd64(const void *p)
{
	const uint8_t *b = (const uint8_t *)p;
	return (uint64_t)al_rd32(b) | ((uint64_t)al_rd32(b + 4) << 32);
}
static inline __attribute__((always_inline)) uint8_t al_rd8(const void *p)
{
	return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) void al_wr16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, al_le16(v), __ATOMIC_RELAXED);
}
static inline __attribute__((always_inline)) void al_wr16_release(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, al_le16(v), __ATOMIC_RELEASE);
}
static inline __attribute__((always_inline)) void al_wr32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, al_le32(v), __ATOMIC_RELAXED);
}
static inline __attribute__((always_inline)) void al_wr64(void *p, uint64_t v)
{
	uint8_t *b = (uint8_t *)p;
	al_wr32(b, (uint32_t)v);
	al_wr32(b + 4, (uint32_t)(v >> 32));
}
static inline __attribute__((always_inline)) void al_wr8(void *p, uint8_t v)
{
	__atomic_store_n((uint8_t *)p, v, __ATOMIC_RELAXED);
}

/* Hints that a line of shared memory is about to be written or read, so
 * that its transfer from the peer's cache starts now and overlaps the work
 * before the access. They never fault (an unmapped address is dropped) and
 * change nothing but timing. A write hint fetches the line for ownership:
 * a plain read prefetch would bring it shared and the store would still
 * wait for the peer's copy to be invalidated (measured slower than no
 * hint). On x86-64 that is PREFETCHW, which some early x86-64 processors
 * lack (an invalid opcode there): the build enables it (-mprfchw, CMake's
 * AMPLINK_PREFETCHW) and without it the write hint is nothing. A
 * Cortex-M has no cache to fill: no hint at all, no bytes. */
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define AL_PREFETCH 0 /* callers skip computing what to prefetch */
#else
#define AL_PREFETCH 1
#endif
static inline __attribute__((always_inline)) void al_prefetch_w(const void *p)
{
#if (defined(__x86_64__) && defined(__PRFCHW__)) || defined(__aarch64__)
	__builtin_prefetch(p, 1, 3);
#else
	(void)p;
#endif
}
static inline __attribute__((always_inline)) void al_prefetch_r(const void *p)
{
#if AL_PREFETCH
	__builtin_prefetch(p, 0, 3);
#else
	(void)p;
#endif
}

/* A device address inside the core: 32 bits on a 32-bit remote
 * (AL_CFG_DA32: the region was checked at init to end below 4 GiB, so no
 * address or end of range computed from a validated one can wrap), else
 * 64 bits as on the wire. */
#if AL_CFG_DA32
typedef uint32_t al_da_t;
#else
typedef uint64_t al_da_t;
#endif

/* al_shm_da_to_va() in al_da_t arithmetic, inline: it runs for every
 * descriptor the peer offers. NULL unless all of [da, da+len) is inside
 * the region; written so that nothing can wrap (with AL_CFG_DA32 the
 * region was checked to end below 4 GiB, so 32 bits are exact). */
static inline __attribute__((always_inline)) void *al_shm_ptr(const struct al_shm *shm, al_da_t da,
							      uint32_t len)
{
	al_da_t base = (al_da_t)shm->da, size = (al_da_t)shm->size;
	al_da_t off = da - base;
	if (da < base || off > size || len > size - off)
		return NULL;
	return (uint8_t *)shm->va + off;
}

/* A shadow's region index, a constant 0 with one region (the minimal
 * profile) so that no load is spent on it. */
#define AL_REGION(i) (AL_CFG_MAX_REGIONS > 1 ? (i) : 0u)

/* A range of device addresses inside one of the link's regions: the local
 * pointer, and the region's index in *region; NULL if no single region
 * holds all of [da, da+len). With one region (the minimal profile) this is
 * al_shm_ptr() on it. */
static inline __attribute__((always_inline)) void *al_mem_ptr(const struct al_mem *m, al_da_t da,
							      uint32_t len, uint8_t *region)
{
#if AL_CFG_MAX_REGIONS > 1
	for (uint32_t i = 0; i < m->n; i++) {
		void *p = al_shm_ptr(&m->r[i], da, len);
		if (p) {
			*region = (uint8_t)i;
			return p;
		}
	}
	return NULL;
#else
	*region = 0;
	return al_shm_ptr(&m->r[0], da, len);
#endif
}

/* The region holding all of the local range [va, va+len), or -1. Compared
 * as integers: no pointer arithmetic across objects. */
static inline int al_mem_region_of(const struct al_mem *m, const void *va, size_t len)
{
#if AL_CFG_MAX_REGIONS > 1
	const uint32_t n = m->n;
#else
	const uint32_t n = 1;
#endif
	for (uint32_t i = 0; i < n; i++) {
		uintptr_t off = (uintptr_t)va - (uintptr_t)m->r[i].va;
		if ((uintptr_t)va >= (uintptr_t)m->r[i].va && off <= m->r[i].size &&
		    len <= m->r[i].size - off)
			return (int)i;
	}
	return -1;
}

/* Full barrier: between publishing an index and reading the peer's
 * event/flags field (the event-index protocol needs store->load order).
 *
 * AL_PORT_FULL_BARRIER names a `void f(void)` the board adds after the
 * fence, for a core whose fence does not reach the peer. The case that
 * needs it: firmware on a single-core QEMU machine beside a host process
 * that maps the guest RAM. QEMU emits no host fence for a guest DMB when
 * the machine has one CPU (nobody else, it assumes, looks at guest RAM),
 * so the x86 store buffer can hold our index store past our next load and
 * both sides sleep: a lost doorbell, seen about once per ten benchmark
 * runs. The mps2-an386 board's hook reads a device register, which takes
 * QEMU's global lock: a locked instruction, a full fence on the host. */
#ifdef AL_PORT_FULL_BARRIER
void AL_PORT_FULL_BARRIER(void);
#endif
static inline __attribute__((always_inline)) void al_mb(void)
{
#if defined(__x86_64__)
	/* A locked add to the stack orders stores before loads as mfence does
	 * (what Linux's smp_mb() does on x86-64), in about half the cycles:
	 * mfence also waits for weakly ordered accesses we never make. */
	__asm__ volatile("lock addl $0, -4(%%rsp)" ::: "memory", "cc");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
#ifdef AL_PORT_FULL_BARRIER
	AL_PORT_FULL_BARRIER();
#endif
}

#endif
