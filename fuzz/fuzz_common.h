/* Shared by the fuzz targets (fuzz/fuzz_*.c): reading the fuzzer's input
 * as a stream of small integers, an invariant check that aborts (so both
 * libFuzzer and the plain replay driver report it), and guard areas that
 * AddressSanitizer poisons when it is there. Not part of the library.
 */
#ifndef AMPLINK_FUZZ_COMMON_H
#define AMPLINK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define FZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif

#ifdef FZ_ASAN
#include <sanitizer/asan_interface.h>
#define FZ_POISON(p, n)	  ASAN_POISON_MEMORY_REGION((p), (n))
#define FZ_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FZ_POISON(p, n)	  ((void)(p), (void)(n))
#define FZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* An invariant of the code under test: abort with the line when it fails. */
#define FZ_CHECK(c)                                                                                \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input, consumed front to back; reads past its end give zeros. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}
static inline uint16_t fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);
	return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}
static inline uint32_t fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);
	return lo | (uint32_t)fz_u16(in) << 16;
}
static inline uint64_t fz_u64(struct fz_in *in)
{
	uint64_t lo = fz_u32(in);
	return lo | (uint64_t)fz_u32(in) << 32;
}

/* Little-endian stores into shared memory, byte by byte (any alignment). */
static inline void fz_wr(uint8_t *p, uint64_t v, unsigned width)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t fz_rd(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* libFuzzer's entry point, also called by fuzz/replay_main.c. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
