/* A firmware ELF reader for remoteproc hosts: ELF32 and ELF64,
 * little-endian; program headers, section headers, section names, the
 * `.resource_table` section, and loading PT_LOAD segments into a shared
 * region by device address. Portable core code (no malloc, no OS): the
 * caller holds the whole file in memory.
 *
 * The file is untrusted (a firmware image from anywhere): al_elf_open()
 * checks the header, every program header table and section header table
 * bound, every segment and section against the file size, that PT_LOAD
 * segments do not overlap, and the section-name string table, before any
 * other function reads a byte; failures come with a sentence, e.g.
 * "program header 3: segment data [0x1000, +0x20000) lies outside the
 * 0x8000-byte file".
 */
#ifndef AMPLINK_ELF_H
#define AMPLINK_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amplink/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AL_ELF_WHY_SIZE	 160u
#define AL_EM_ANY	 0u  /* accept any e_machine */
#define AL_EM_ARM	 40u /* Cortex-M / Cortex-R firmware */
#define AL_EM_X86_64	 62u /* host executables (process backend) */
#define AL_EM_AARCH64	 183u
#define AL_EM_RISCV	 243u
#define AL_PT_LOAD	 1u
#define AL_SHT_NOBITS	 8u
#define AL_ELF_MAX_PHNUM 4096u /* more is refused as hostile */

/** An opened image: a view of the caller's bytes plus the header fields. */
struct al_elf {
	const uint8_t *data;
	size_t size;
	bool is64;
	uint16_t type;	  /* ET_EXEC 2, ET_DYN 3 */
	uint16_t machine; /* e_machine */
	uint64_t entry;
	uint64_t phoff, shoff;
	uint16_t phnum, phentsize;
	uint16_t shnum, shentsize, shstrndx; /* shnum 0: no sections */
};

struct al_elf_segment {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct al_elf_section {
	const char *name; /* inside the image, NUL-terminated (checked) */
	uint32_t type;
	uint64_t flags, addr, offset, size;
};

/** Validate `size` bytes at `data` as a little-endian ELF32/ELF64
 *  executable or shared object for `machine` (AL_EM_ANY: any) and fill
 *  *elf. The bytes must stay valid and unchanged while *elf is used. Pure
 *  function, any context. Returns 0, AL_EINVAL (NULL) or AL_EINIT with a
 *  sentence in why[why_len]: truncated file, not ELF, wrong class,
 *  big-endian, wrong machine, header tables or segments or sections
 *  outside the file, filesz > memsz, overlapping PT_LOAD segments (by
 *  physical address), section names outside the string table. */
int al_elf_open(struct al_elf *elf, const void *data, size_t size, uint16_t machine, char *why,
		size_t why_len);

/** Program header `i` (< elf->phnum) of an opened image. Returns 0 or
 *  AL_EINVAL. Any context. */
int al_elf_segment(const struct al_elf *elf, unsigned i, struct al_elf_segment *out);

/** Section header `i` (< elf->shnum) of an opened image, with its name
 *  ("" when the image has no name table). Returns 0 or AL_EINVAL. */
int al_elf_section(const struct al_elf *elf, unsigned i, struct al_elf_section *out);

/** Find the first section called `name` (e.g. ".resource_table"). Returns
 *  0 and *out, or AL_EADDR if there is none. Any context. */
int al_elf_find_section(const struct al_elf *elf, const char *name, struct al_elf_section *out);

/** The bytes of a section with file contents: a pointer into the image and
 *  its length, or NULL (SHT_NOBITS). Any context. */
const void *al_elf_section_data(const struct al_elf *elf, const struct al_elf_section *sec);

/** Load every PT_LOAD segment into `shm` at its physical address taken as
 *  a device address (what Linux remoteproc does for firmware running from
 *  carveouts): copy filesz bytes, zero up to memsz. Every segment is
 *  checked to fit the region before anything is written. Any context.
 *  Returns 0, AL_EINVAL, or AL_EADDR with a sentence in why. */
int al_elf_load(const struct al_elf *elf, const struct al_shm *shm, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
#endif
