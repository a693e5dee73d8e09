/* Firmware ELF parsing for remoteproc hosts (include/amplink/elf.h): ELF32
 * and ELF64 little-endian, validated completely by al_elf_open() so that a
 * hostile image can neither make us read outside it nor loop for long. */
#include "amplink/elf.h"

#include <string.h>

#include "al_fmt.h"
#include "amplink/error.h"

/* Unaligned little-endian reads from the image (the caller's buffer). */
static uint16_t r16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t r32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t r64(const uint8_t *p)
{
	return (uint64_t)r32(p) | (uint64_t)r32(p + 4) << 32;
}

/* [off, off+len) inside [0, size)? Overflow-safe. */
static bool inside(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int bad(struct al_fmt *f, const char *msg)
{
	al_fmt_s(f, msg);
	return AL_EINIT;
}

int al_elf_segment(const struct al_elf *e, unsigned i, struct al_elf_segment *o)
{
	if (!e || !o || i >= e->phnum)
		return AL_EINVAL;
	const uint8_t *p = e->data + e->phoff + (uint64_t)i * e->phentsize;
	o->type = r32(p);
	if (e->is64) {
		o->flags = r32(p + 4);
		o->offset = r64(p + 8);
		o->vaddr = r64(p + 16);
		o->paddr = r64(p + 24);
		o->filesz = r64(p + 32);
		o->memsz = r64(p + 40);
		o->align = r64(p + 48);
	} else {
		o->offset = r32(p + 4);
		o->vaddr = r32(p + 8);
		o->paddr = r32(p + 12);
		o->filesz = r32(p + 16);
		o->memsz = r32(p + 20);
		o->flags = r32(p + 24);
		o->align = r32(p + 28);
	}
	return 0;
}

/* Section header fields without the name. */
static void raw_section(const struct al_elf *e, unsigned i, struct al_elf_section *o,
			uint32_t *name_off)
{
	const uint8_t *p = e->data + e->shoff + (uint64_t)i * e->shentsize;
	*name_off = r32(p);
	o->type = r32(p + 4);
	if (e->is64) {
		o->flags = r64(p + 8);
		o->addr = r64(p + 16);
		o->offset = r64(p + 24);
		o->size = r64(p + 32);
	} else {
		o->flags = r32(p + 8);
		o->addr = r32(p + 12);
		o->offset = r32(p + 16);
		o->size = r32(p + 20);
	}
	o->name = "";
}

int al_elf_section(const struct al_elf *e, unsigned i, struct al_elf_section *o)
{
	if (!e || !o || i >= e->shnum)
		return AL_EINVAL;
	uint32_t noff;
	raw_section(e, i, o, &noff);
	if (e->shstrndx && e->shstrndx < e->shnum) {
		struct al_elf_section st;
		uint32_t dummy;
		raw_section(e, e->shstrndx, &st, &dummy);
		o->name = (const char *)e->data + st.offset + noff; /* checked by open */
	}
	return 0;
}

int al_elf_find_section(const struct al_elf *e, const char *name, struct al_elf_section *out)
{
	if (!e || !name || !out)
		return AL_EINVAL;
	for (unsigned i = 0; i < e->shnum; i++) {
		struct al_elf_section s;
		al_elf_section(e, i, &s);
		if (strcmp(s.name, name) == 0) {
			*out = s;
			return 0;
		}
	}
	return AL_EADDR;
}

const void *al_elf_section_data(const struct al_elf *e, const struct al_elf_section *s)
{
	if (!e || !s || s->type == AL_SHT_NOBITS || !inside(s->offset, s->size, e->size))
		return NULL;
	return e->data + s->offset;
}

int al_elf_open(struct al_elf *e, const void *data, size_t size, uint16_t machine, char *why,
		size_t why_len)
{
	struct al_fmt f;
	al_fmt_init(&f, why, why_len);
	if (!e || !data)
		return AL_EINVAL;
	memset(e, 0, sizeof(*e));
	const uint8_t *d = data;
	if (size < 16 || memcmp(d, "\177ELF", 4) != 0)
		return bad(&f, size < 4 ? "truncated ELF file: shorter than the ELF magic"
			       : memcmp(d, "\177ELF", 4) ? "not an ELF file (bad magic)"
							 : "truncated ELF file: no full e_ident");
	if (d[4] != 1 && d[4] != 2)
		return bad(&f, "unknown ELF class (neither ELF32 nor ELF64)");
	if (d[5] == 2)
		return bad(&f, "big-endian ELF is not supported (little-endian only)");
	if (d[5] != 1)
		return bad(&f, "unknown ELF data encoding");
	if (d[6] != 1)
		return bad(&f, "unknown ELF version");
	e->is64 = d[4] == 2;
	size_t ehsize = e->is64 ? 64u : 52u;
	if (size < ehsize) {
		al_fmt_s(&f, "truncated ELF file: ");
		al_fmt_u(&f, size);
		al_fmt_s(&f, " bytes, the ELF");
		al_fmt_s(&f, e->is64 ? "64" : "32");
		return bad(&f, " header alone needs more");
	}
	e->data = d;
	e->size = size;
	e->type = r16(d + 16);
	e->machine = r16(d + 18);
	if (e->is64) {
		e->entry = r64(d + 24);
		e->phoff = r64(d + 32);
		e->shoff = r64(d + 40);
		e->phentsize = r16(d + 54);
		e->phnum = r16(d + 56);
		e->shentsize = r16(d + 58);
		e->shnum = r16(d + 60);
		e->shstrndx = r16(d + 62);
	} else {
		e->entry = r32(d + 24);
		e->phoff = r32(d + 28);
		e->shoff = r32(d + 32);
		e->phentsize = r16(d + 42);
		e->phnum = r16(d + 44);
		e->shentsize = r16(d + 46);
		e->shnum = r16(d + 48);
		e->shstrndx = r16(d + 50);
	}
	if (e->type != 2 && e->type != 3) {
		al_fmt_s(&f, "ELF type ");
		al_fmt_u(&f, e->type);
		return bad(&f, " is neither an executable (2) nor a shared object (3)");
	}
	if (machine != AL_EM_ANY && e->machine != machine) {
		al_fmt_s(&f, "ELF machine ");
		al_fmt_u(&f, e->machine);
		al_fmt_s(&f, " does not match the expected ");
		al_fmt_u(&f, machine);
		return bad(&f, "");
	}
	/* program headers */
	if (e->phnum) {
		if (e->phentsize != (e->is64 ? 56u : 32u)) {
			al_fmt_s(&f, "program header size ");
			al_fmt_u(&f, e->phentsize);
			return bad(&f, e->is64 ? " is not 56 (ELF64)" : " is not 32 (ELF32)");
		}
		if (e->phnum == 0xFFFFu || e->phnum > AL_ELF_MAX_PHNUM)
			return bad(&f, "too many program headers (more than 4096)");
		if (!inside(e->phoff, (uint64_t)e->phnum * e->phentsize, size)) {
			al_fmt_s(&f, "program header table (");
			al_fmt_u(&f, e->phnum);
			al_fmt_s(&f, " entries at ");
			al_fmt_x(&f, e->phoff);
			al_fmt_s(&f, ") lies outside the ");
			al_fmt_x(&f, size);
			return bad(&f, "-byte file");
		}
	}
	for (unsigned i = 0; i < e->phnum; i++) {
		struct al_elf_segment s;
		al_elf_segment(e, i, &s);
		if (s.filesz && !inside(s.offset, s.filesz, size)) {
			al_fmt_s(&f, "program header ");
			al_fmt_u(&f, i);
			al_fmt_s(&f, ": segment data [");
			al_fmt_x(&f, s.offset);
			al_fmt_s(&f, ", +");
			al_fmt_x(&f, s.filesz);
			al_fmt_s(&f, ") lies outside the ");
			al_fmt_x(&f, size);
			return bad(&f, "-byte file");
		}
		if (s.type != AL_PT_LOAD)
			continue;
		if (s.filesz > s.memsz || s.paddr + s.memsz < s.paddr) {
			al_fmt_s(&f, "program header ");
			al_fmt_u(&f, i);
			return bad(&f, s.filesz > s.memsz
					   ? ": PT_LOAD segment has filesz > memsz"
					   : ": PT_LOAD segment wraps the address space");
		}
		for (unsigned j = 0; j < i && s.memsz; j++) {
			struct al_elf_segment o;
			al_elf_segment(e, j, &o);
			if (o.type == AL_PT_LOAD && o.memsz && s.paddr < o.paddr + o.memsz &&
			    o.paddr < s.paddr + s.memsz) {
				al_fmt_s(&f, "PT_LOAD segments ");
				al_fmt_u(&f, j);
				al_fmt_s(&f, " and ");
				al_fmt_u(&f, i);
				al_fmt_s(&f, " overlap at ");
				al_fmt_x(&f, s.paddr > o.paddr ? s.paddr : o.paddr);
				return bad(&f, "");
			}
		}
	}
	/* section headers */
	if (e->shoff == 0)
		e->shnum = 0;
	if (e->shoff && e->shnum == 0)
		return bad(&f, "extended section numbering (e_shnum 0) is not supported");
	if (e->shnum) {
		if (e->shentsize != (e->is64 ? 64u : 40u)) {
			al_fmt_s(&f, "section header size ");
			al_fmt_u(&f, e->shentsize);
			return bad(&f, e->is64 ? " is not 64 (ELF64)" : " is not 40 (ELF32)");
		}
		if (!inside(e->shoff, (uint64_t)e->shnum * e->shentsize, size)) {
			al_fmt_s(&f, "section header table (");
			al_fmt_u(&f, e->shnum);
			al_fmt_s(&f, " entries at ");
			al_fmt_x(&f, e->shoff);
			al_fmt_s(&f, ") lies outside the ");
			al_fmt_x(&f, size);
			return bad(&f, "-byte file");
		}
		if (e->shstrndx >= e->shnum) {
			al_fmt_s(&f, "section name table index ");
			al_fmt_u(&f, e->shstrndx);
			al_fmt_s(&f, " is past the ");
			al_fmt_u(&f, e->shnum);
			return bad(&f, " sections");
		}
	}
	struct al_elf_section strtab = {0};
	uint32_t dummy;
	if (e->shnum && e->shstrndx) {
		raw_section(e, e->shstrndx, &strtab, &dummy);
		if (strtab.type == AL_SHT_NOBITS || !inside(strtab.offset, strtab.size, size))
			return bad(&f, "section name string table lies outside the file");
	}
	for (unsigned i = 0; i < e->shnum; i++) {
		struct al_elf_section s;
		uint32_t noff;
		raw_section(e, i, &s, &noff);
		if (s.type != AL_SHT_NOBITS && s.type != 0 && !inside(s.offset, s.size, size)) {
			al_fmt_s(&f, "section ");
			al_fmt_u(&f, i);
			al_fmt_s(&f, ": data [");
			al_fmt_x(&f, s.offset);
			al_fmt_s(&f, ", +");
			al_fmt_x(&f, s.size);
			al_fmt_s(&f, ") lies outside the ");
			al_fmt_x(&f, size);
			return bad(&f, "-byte file");
		}
		if (e->shstrndx && (noff >= strtab.size || !memchr(d + strtab.offset + noff, '\0',
								   (size_t)(strtab.size - noff)))) {
			al_fmt_s(&f, "section ");
			al_fmt_u(&f, i);
			al_fmt_s(&f, ": name at ");
			al_fmt_x(&f, noff);
			return bad(&f, " runs past the end of the section name string table");
		}
	}
	return 0;
}

int al_elf_load(const struct al_elf *e, const struct al_shm *shm, char *why, size_t why_len)
{
	struct al_fmt f;
	al_fmt_init(&f, why, why_len);
	if (!e || !e->data || !shm)
		return AL_EINVAL;
	for (int pass = 0; pass < 2; pass++) /* check everything, then write */
		for (unsigned i = 0; i < e->phnum; i++) {
			struct al_elf_segment s;
			al_elf_segment(e, i, &s);
			if (s.type != AL_PT_LOAD || s.memsz == 0)
				continue;
			uint8_t *dst = s.memsz <= SIZE_MAX
					   ? al_shm_da_to_va(shm, s.paddr, (size_t)s.memsz)
					   : NULL;
			if (!dst) {
				al_fmt_s(&f, "PT_LOAD segment ");
				al_fmt_u(&f, i);
				al_fmt_s(&f, " at ");
				al_fmt_x(&f, s.paddr);
				al_fmt_s(&f, " (");
				al_fmt_x(&f, s.memsz);
				al_fmt_s(&f, " bytes) does not fit the memory at ");
				al_fmt_x(&f, shm->da);
				al_fmt_s(&f, " (");
				al_fmt_x(&f, shm->size);
				al_fmt_s(&f, " bytes)");
				return AL_EADDR;
			}
			if (pass == 1) {
				if (s.filesz) /* offset is only checked when there is data */
					memcpy(dst, e->data + s.offset, (size_t)s.filesz);
				memset(dst + s.filesz, 0, (size_t)(s.memsz - s.filesz));
			}
		}
	return 0;
}
