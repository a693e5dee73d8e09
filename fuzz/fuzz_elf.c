/* Fuzz target: the firmware ELF reader (al_elf_open, al_elf_segment,
 * al_elf_section, al_elf_find_section, al_elf_section_data) and the
 * loader (al_elf_load), then the `.resource_table` section it finds
 * through the resource-table parser. The image is hostile.
 *
 * Input: byte 0 picks the machine to expect (any or ARM) and the device
 * address of the 256 KiB memory the loader writes into (which sits
 * between guard areas: poisoned under AddressSanitizer, canaried
 * otherwise); the rest is the image, in an allocation of exactly its size.
 *
 * Checked beyond "no crash": failures come with a sentence; an opened
 * image's segments and sections lie inside the file and section names are
 * NUL-terminated inside it; after a successful load each PT_LOAD segment
 * is in memory at its physical address (file bytes, then zeros), and
 * nothing outside the memory changed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amplink/elf.h"
#include "amplink/error.h"
#include "amplink/rsc_parse.h"
#include "fuzz_common.h"

#define GUARD 4096u
#define MEM   (256u * 1024u)

static _Alignas(64) uint8_t arena[GUARD + MEM + GUARD];

#define CANARY 0xC3
static uint8_t canary_ref[GUARD]; /* GUARD bytes of CANARY, for memcmp */

static bool inside(const uint8_t *img, size_t n, const void *p, uint64_t len)
{
	const uint8_t *q = p;
	return q >= img && (size_t)(q - img) <= n && len <= n - (size_t)(q - img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const uint64_t das[4] = {0, 0x10000000u, 0x20000000u, 0xFFFFFFFFFFFC0000ull};
	uint8_t sel = data[0];
	size_t n = size - 1;
	uint8_t *img = malloc(n ? n : 1);
	FZ_CHECK(img != NULL);
	memcpy(img, data + 1, n);

	struct al_elf e;
	char why[AL_ELF_WHY_SIZE];
	memset(why, 'x', sizeof(why));
	int rc = al_elf_open(&e, img, n, (sel & 8u) ? AL_EM_ARM : AL_EM_ANY, why, sizeof(why));
	FZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
	if (rc != 0) {
		FZ_CHECK(rc == AL_EINIT && why[0] != '\0');
		goto out;
	}
	for (unsigned i = 0; i < e.phnum; i++) {
		struct al_elf_segment s;
		FZ_CHECK(al_elf_segment(&e, i, &s) == 0);
		FZ_CHECK(s.filesz == 0 || (s.offset <= n && s.filesz <= n - s.offset));
		if (s.type == AL_PT_LOAD)
			FZ_CHECK(s.filesz <= s.memsz);
	}
	{
		struct al_elf_segment s;
		FZ_CHECK(al_elf_segment(&e, e.phnum, &s) == AL_EINVAL);
	}
	uint32_t sink = 0;
	for (unsigned i = 0; i < e.shnum; i++) {
		struct al_elf_section s;
		FZ_CHECK(al_elf_section(&e, i, &s) == 0);
		FZ_CHECK(s.name != NULL);
		if (s.name[0] != '\0' || inside(img, n, s.name, 1)) {
			FZ_CHECK(inside(img, n, s.name, 1));
			FZ_CHECK(memchr(s.name, '\0', n - (size_t)((const uint8_t *)s.name - img)));
		}
		const uint8_t *p = al_elf_section_data(&e, &s);
		if (p) {
			FZ_CHECK(inside(img, n, p, s.size));
			for (uint64_t k = 0; k < s.size; k++)
				sink += p[k];
		}
	}
	(void)sink;
	struct al_elf_section rs;
	if (al_elf_find_section(&e, ".resource_table", &rs) == 0) {
		const uint8_t *p = al_elf_section_data(&e, &rs);
		if (p) {
			/* the host copies the section out before parsing it */
			uint8_t *copy = malloc(rs.size ? (size_t)rs.size : 1);
			FZ_CHECK(copy != NULL);
			memcpy(copy, p, (size_t)rs.size);
			char rwhy[AL_RSC_WHY_SIZE];
			rc = al_rsc_parse(copy, (size_t)rs.size, NULL, rwhy, sizeof(rwhy));
			FZ_CHECK(rc == 0 || rc == AL_EINIT);
			free(copy);
		}
	}

	/* load into guarded memory */
	FZ_UNPOISON(arena, sizeof(arena));
	memset(canary_ref, CANARY, GUARD);
	memset(arena, CANARY, GUARD);
	memset(arena + GUARD + MEM, CANARY, GUARD);
	FZ_POISON(arena, GUARD);
	FZ_POISON(arena + GUARD + MEM, GUARD);
	struct al_shm shm = {arena + GUARD, das[(sel >> 4) & 3u], MEM};
	memset(why, 'x', sizeof(why));
	rc = al_elf_load(&e, &shm, why, sizeof(why));
	FZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
	FZ_CHECK(rc == 0 || (rc == AL_EADDR && why[0] != '\0'));
	if (rc == 0) {
		for (unsigned i = 0; i < e.phnum; i++) {
			struct al_elf_segment s;
			al_elf_segment(&e, i, &s);
			if (s.type != AL_PT_LOAD || s.memsz == 0)
				continue;
			const uint8_t *m = al_shm_da_to_va(&shm, s.paddr, (size_t)s.memsz);
			FZ_CHECK(m != NULL);
			FZ_CHECK(s.filesz == 0 || memcmp(m, img + s.offset, (size_t)s.filesz) == 0);
			for (uint64_t k = s.filesz; k < s.memsz; k++)
				FZ_CHECK(m[k] == 0);
		}
	}
	FZ_UNPOISON(arena, sizeof(arena));
#ifndef FZ_ASAN
	FZ_CHECK(memcmp(arena, canary_ref, GUARD) == 0);
	FZ_CHECK(memcmp(arena + GUARD + MEM, canary_ref, GUARD) == 0);
#endif
out:
	free(img);
	return 0;
}
