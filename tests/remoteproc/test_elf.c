/* Unit tests of the firmware ELF reader (elf.h): hand-built ELF32 and
 * ELF64 images, every bad-input case with its sentence, a
 * real host executable (this test, whose .resource_table is parsed), the
 * PT_LOAD loader, and a mutation fuzz loop that must never crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/elf.h"
#include "amplink/error.h"
#include "amplink/rsc_build.h"
#include "amplink/rsc_parse.h"

/* This executable carries a resource table, like a firmware would. */
AL_RSC_SECTION const struct al_rsc_table_rpmsg_trace test_table =
    AL_RSC_TABLE_RPMSG_TRACE_INIT(64, 4096, 1u << VIRTIO_RPMSG_F_NS, 2048);

#define IMG 0x400
static uint8_t img[IMG];
static char why[AL_ELF_WHY_SIZE];

static void w16(size_t o, uint32_t v)
{
	img[o] = (uint8_t)v;
	img[o + 1] = (uint8_t)(v >> 8);
}
static void w32(size_t o, uint32_t v)
{
	w16(o, v & 0xFFFF);
	w16(o + 2, v >> 16);
}
static void w64(size_t o, uint64_t v)
{
	w32(o, (uint32_t)v);
	w32(o + 4, (uint32_t)(v >> 32));
}
static void wa(size_t o, uint64_t v, bool is64)
{
	if (is64)
		w64(o, v);
	else
		w32(o, (uint32_t)v);
}

static const char strtab[] = "\0.text\0.resource_table\0.shstrtab";
#define PH 64u /* ELF64 phdrs at 64; ELF32 at 52 */
#define SH 0x300u

static void set_phdr(bool is64, unsigned i, uint32_t type, uint64_t off, uint64_t pa,
		     uint64_t filesz, uint64_t memsz)
{
	size_t p = (is64 ? 64u : 52u) + i * (is64 ? 56u : 32u);
	w32(p, type);
	if (is64) {
		w32(p + 4, 5);
		w64(p + 8, off), w64(p + 16, pa), w64(p + 24, pa), w64(p + 32, filesz),
		    w64(p + 40, memsz), w64(p + 48, 16);
	} else {
		w32(p + 4, (uint32_t)off), w32(p + 8, (uint32_t)pa), w32(p + 12, (uint32_t)pa);
		w32(p + 16, (uint32_t)filesz), w32(p + 20, (uint32_t)memsz), w32(p + 24, 5),
		    w32(p + 28, 16);
	}
}

static void set_shdr(bool is64, unsigned i, uint32_t name, uint32_t type, uint64_t off,
		     uint64_t size)
{
	size_t s = SH + i * (is64 ? 64u : 40u);
	w32(s, name);
	w32(s + 4, type);
	if (is64)
		w64(s + 24, off), w64(s + 32, size);
	else
		w32(s + 16, (uint32_t)off), w32(s + 20, (uint32_t)size);
}

/* A small valid image: two PT_LOAD segments, sections .text,
 * .resource_table (a real table) and .shstrtab. */
static size_t build(bool is64)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	img[4] = is64 ? 2 : 1;
	img[5] = 1;
	img[6] = 1;
	w16(16, 2);
	w16(18, is64 ? AL_EM_X86_64 : AL_EM_ARM);
	w32(20, 1);
	wa(24, 0x1000, is64);
	if (is64) {
		w64(32, 64), w64(40, SH), w16(52, 64), w16(54, 56), w16(56, 2), w16(58, 64),
		    w16(60, 4), w16(62, 3);
	} else {
		w32(28, 52), w32(32, SH), w16(40, 52), w16(42, 32), w16(44, 2), w16(46, 40),
		    w16(48, 4), w16(50, 3);
	}
	set_phdr(is64, 0, AL_PT_LOAD, 0x100, 0x1000, 0x40, 0x80);
	set_phdr(is64, 1, AL_PT_LOAD, 0x140, 0x2000, 0x40, 0x40);
	for (int i = 0; i < 0x40; i++)
		img[0x100 + i] = (uint8_t)(0xA0 + i);
	memcpy(img + 0x140, &test_table, sizeof(test_table) < 0xC0 ? sizeof(test_table) : 0xC0);
	memcpy(img + 0x200, strtab, sizeof(strtab));
	set_shdr(is64, 1, 1, 1, 0x100, 0x40);
	set_shdr(is64, 2, 7, 1, 0x140, sizeof(test_table));
	set_shdr(is64, 3, 23, 3, 0x200, sizeof(strtab));
	return SH + 4u * (is64 ? 64u : 40u);
}

static void expect_bad(size_t size, uint16_t machine, const char *word)
{
	struct al_elf e;
	why[0] = 0;
	int rc = al_elf_open(&e, img, size, machine, why, sizeof(why));
	if (rc != AL_EINIT || !strstr(why, word))
		fail_msg("expected a failure naming '%s', got rc %d: '%s'", word, rc, why);
	print_message("  rejected: %s\n", why);
}

static void good_images(void **s)
{
	(void)s;
	for (int is64 = 0; is64 < 2; is64++) {
		size_t n = build(is64);
		struct al_elf e;
		assert_int_equal(al_elf_open(&e, img, n, AL_EM_ANY, why, sizeof(why)), 0);
		assert_int_equal(e.is64, is64);
		assert_int_equal(e.phnum, 2);
		assert_int_equal(e.shnum, 4);
		struct al_elf_segment seg;
		assert_int_equal(al_elf_segment(&e, 0, &seg), 0);
		assert_int_equal(seg.type, AL_PT_LOAD);
		assert_int_equal(seg.paddr, 0x1000);
		assert_int_equal(seg.memsz, 0x80);
		assert_int_equal(al_elf_segment(&e, 2, &seg), AL_EINVAL);
		struct al_elf_section sec;
		assert_int_equal(al_elf_find_section(&e, ".resource_table", &sec), 0);
		assert_int_equal(sec.offset, 0x140);
		const void *d = al_elf_section_data(&e, &sec);
		assert_non_null(d);
		assert_int_equal(al_rsc_parse(d, (size_t)sec.size, NULL, why, sizeof(why)), 0);
		assert_int_equal(al_elf_find_section(&e, ".data", &sec), AL_EADDR);
		/* load both segments into a region at 0x1000 */
		static uint8_t mem[0x2000];
		memset(mem, 0x55, sizeof(mem));
		struct al_shm shm = {mem, 0x1000, sizeof(mem)};
		assert_int_equal(al_elf_load(&e, &shm, why, sizeof(why)), 0);
		assert_int_equal(mem[0], 0xA0);
		assert_int_equal(mem[0x3F], 0xA0 + 0x3F);
		assert_int_equal(mem[0x40], 0); /* bss part zeroed */
		assert_int_equal(mem[0x7F], 0);
		assert_int_equal(mem[0x80], 0x55);
		assert_memory_equal(mem + 0x1000, img + 0x140, 0x40);
		/* a region too small: nothing written, a sentence */
		memset(mem, 0x55, sizeof(mem));
		shm.size = 0x1000;
		assert_int_equal(al_elf_load(&e, &shm, why, sizeof(why)), AL_EADDR);
		assert_non_null(strstr(why, "PT_LOAD segment 1 at 0x2000"));
		assert_int_equal(mem[0], 0x55);
		assert_int_equal(
		    al_elf_open(&e, img, n, is64 ? AL_EM_X86_64 : AL_EM_ARM, why, sizeof(why)), 0);
	}
}

static void bad_images(void **s)
{
	(void)s;
	for (int is64 = 0; is64 < 2; is64++) {
		size_t n = build(is64);
		print_message(" ELF%s:\n", is64 ? "64" : "32");
		expect_bad(3, AL_EM_ANY, "truncated");
		expect_bad(10, AL_EM_ANY, "truncated");
		expect_bad(40, AL_EM_ANY, "truncated ELF file: 40 bytes");
		expect_bad(n, is64 ? AL_EM_ARM : AL_EM_X86_64, "does not match the expected");
		build(is64), img[0] = 'X';
		expect_bad(n, AL_EM_ANY, "not an ELF file");
		build(is64), img[4] = 3;
		expect_bad(n, AL_EM_ANY, "unknown ELF class");
		build(is64), img[5] = 2;
		expect_bad(n, AL_EM_ANY, "big-endian ELF is not supported");
		build(is64), w16(16, 1);
		expect_bad(n, AL_EM_ANY, "ELF type 1");
		/* program header table and segments */
		build(is64), wa(is64 ? 32 : 28, 0x3F0, is64);
		expect_bad(n, AL_EM_ANY, "program header table (2 entries at 0x3f0) lies outside");
		build(is64), set_phdr(is64, 1, AL_PT_LOAD, 0x3F0, 0x2000, 0x40, 0x40);
		expect_bad(n, AL_EM_ANY,
			   "program header 1: segment data [0x3f0, +0x40) lies outside");
		build(is64), set_phdr(is64, 1, AL_PT_LOAD, 0x140, 0x2000, 0xFFFFFFFFu, 0xFFFFFFFFu);
		expect_bad(n, AL_EM_ANY, "lies outside");
		build(is64), set_phdr(is64, 1, AL_PT_LOAD, 0x140, 0x2000, 0x40, 0x20);
		expect_bad(n, AL_EM_ANY, "filesz > memsz");
		build(is64), set_phdr(is64, 1, AL_PT_LOAD, 0x140, 0x1040, 0x40, 0x40);
		expect_bad(n, AL_EM_ANY, "PT_LOAD segments 0 and 1 overlap at 0x1040");
		build(is64), w16(is64 ? 54 : 42, 40);
		expect_bad(n, AL_EM_ANY, "program header size 40");
		/* section headers, sections, names */
		build(is64), wa(is64 ? 40 : 32, 0x380, is64);
		expect_bad(n, AL_EM_ANY, "section header table (4 entries at 0x380) lies outside");
		build(is64), set_shdr(is64, 2, 7, 1, 0x140, 0x10000);
		expect_bad(n, AL_EM_ANY, "section 2: data [0x140, +0x10000) lies outside");
		build(is64), set_shdr(is64, 2, 7, 1, 0xFFFFFFF0u, 0x20);
		expect_bad(n, AL_EM_ANY, "section 2: data");
		build(is64), set_shdr(is64, 1, 0x1000, 1, 0x100, 0x40);
		expect_bad(n, AL_EM_ANY, "section 1: name at 0x1000 runs past the end");
		build(is64), set_shdr(is64, 3, 23, 3, 0x200, 5); /* cut inside ".resource_table" */
		expect_bad(n, AL_EM_ANY, "runs past the end of the section name string table");
		build(is64), w16(is64 ? 62 : 50, 9);
		expect_bad(n, AL_EM_ANY, "section name table index 9");
		build(is64), set_shdr(is64, 3, 23, 3, 0x3F0, 0x40);
		expect_bad(n, AL_EM_ANY, "lies outside");
	}
	struct al_elf e;
	assert_int_equal(al_elf_open(&e, NULL, 10, 0, why, sizeof(why)), AL_EINVAL);
}

/* This very executable: ELF64 x86-64 (on this project's machines), with
 * the resource table declared above in its .resource_table section. */
static void real_executable(void **s)
{
	(void)s;
	FILE *f = fopen("/proc/self/exe", "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	struct al_elf e;
	assert_int_equal(al_elf_open(&e, buf, (size_t)n, AL_EM_ANY, why, sizeof(why)), 0);
	assert_true(e.is64);
	struct al_elf_section sec;
	assert_int_equal(al_elf_find_section(&e, ".resource_table", &sec), 0);
	assert_true(sec.size >= sizeof(test_table)); /* ASan may pad globals */
	const void *d = al_elf_section_data(&e, &sec);
	struct al_rsc_info info;
	assert_int_equal(al_rsc_parse(d, (size_t)sec.size, &info, why, sizeof(why)), 0);
	assert_int_equal(info.n_trace, 1);
	assert_memory_equal(d, &test_table, sizeof(test_table));
	int loads = 0;
	for (unsigned i = 0; i < e.phnum; i++) {
		struct al_elf_segment seg;
		al_elf_segment(&e, i, &seg);
		loads += seg.type == AL_PT_LOAD;
	}
	assert_true(loads >= 2);
	print_message("  /proc/self/exe: %ld bytes, %u program headers (%d PT_LOAD), %u sections\n",
		      n, e.phnum, loads, e.shnum);
	free(buf);
}

static void fuzz_mutations(void **s)
{
	(void)s;
	srand(777);
	int ok = 0;
	for (int n = 0; n < 100000; n++) {
		bool is64 = n & 1;
		size_t size = build(is64);
		int flips = 1 + rand() % 6;
		for (int k = 0; k < flips; k++) {
			size_t at = (size_t)rand() % size;
			img[at] = (rand() & 1) ? (uint8_t)rand()
					       : (uint8_t)(img[at] ^ (1u << (rand() % 8)));
		}
		if (rand() % 8 == 0)
			size = (size_t)rand() % size;
		uint8_t *copy = malloc(size ? size : 1);
		memcpy(copy, img, size);
		struct al_elf e;
		char w[AL_ELF_WHY_SIZE];
		if (al_elf_open(&e, copy, size, AL_EM_ANY, w, sizeof(w)) == 0) {
			ok++;
			for (unsigned i = 0; i < e.shnum; i++) {
				struct al_elf_section sec;
				al_elf_section(&e, i, &sec);
				assert_true(strlen(sec.name) < size);
				const uint8_t *d = al_elf_section_data(&e, &sec);
				if (d && sec.size)
					(void)(volatile uint8_t)d[sec.size - 1];
			}
			struct al_elf_section sec;
			(void)al_elf_find_section(&e, ".resource_table", &sec);
			static uint8_t mem[0x4000];
			struct al_shm shm = {mem, 0, sizeof(mem)};
			(void)al_elf_load(&e, &shm, w, sizeof(w));
		} else {
			assert_true(strlen(w) > 10);
		}
		free(copy);
	}
	print_message("  %d of 100000 mutated images still opened\n", ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(good_images),
	    cmocka_unit_test(bad_images),
	    cmocka_unit_test(real_executable),
	    cmocka_unit_test(fuzz_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
