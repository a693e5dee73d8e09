/* Unit tests of the resource-table parser and allocator (rsc_parse.h):
 * good tables, every bad-input case with its sentence, the
 * FW_RSC_ADDR_ANY allocation written back into the table, and a mutation
 * fuzz loop that must never crash (run under ASan/UBSan too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/error.h"
#include "amplink/rsc_build.h"
#include "amplink/rsc_parse.h"
#include "amplink/virtio_ring.h"

struct tbl {
	AL_RSC_TABLE_HEADER(3);
	struct fw_rsc_vdev vdev;
	struct fw_rsc_vdev_vring vring[2];
	struct fw_rsc_trace trace;
	struct fw_rsc_carveout data;
};

static struct tbl good(void)
{
	struct tbl t = {
	    .ver = 1,
	    .num = 3,
	    .offset = {offsetof(struct tbl, vdev), offsetof(struct tbl, trace),
		       offsetof(struct tbl, data)},
	    .vdev = AL_RSC_VDEV_RPMSG(1u << VIRTIO_RPMSG_F_NS, 2),
	    .vring = {AL_RSC_VRING(FW_RSC_ADDR_ANY, 4096, 256, 0),
		      AL_RSC_VRING(FW_RSC_ADDR_ANY, 4096, 256, 1)},
	    .trace = AL_RSC_TRACE(FW_RSC_ADDR_ANY, 4096, "trace0"),
	    .data = AL_RSC_CARVEOUT(FW_RSC_ADDR_ANY, 65536, 0, "sensor-data"),
	};
	return t;
}

static char why[AL_RSC_WHY_SIZE];

/* Parse must fail with AL_EINIT and a sentence containing `word`. */
static void expect_bad(const void *t, size_t len, const char *word)
{
	why[0] = 0;
	int rc = al_rsc_parse(t, len, NULL, why, sizeof(why));
	if (rc != AL_EINIT || !strstr(why, word))
		fail_msg("expected a failure naming '%s', got rc %d: '%s'", word, rc, why);
	print_message("  rejected: %s\n", why);
}

static void parses_good_table(void **s)
{
	(void)s;
	struct tbl t = good();
	struct al_rsc_info info;
	assert_int_equal(al_rsc_parse(&t, sizeof(t), &info, why, sizeof(why)), 0);
	assert_int_equal(info.num, 3);
	assert_int_equal(info.n_vdev, 1);
	assert_int_equal(info.n_trace, 1);
	assert_int_equal(info.n_carveout, 1);
	assert_int_equal(info.vdev_off, offsetof(struct tbl, vdev));
	assert_int_equal(info.trace_off, offsetof(struct tbl, trace));
	uint32_t type;
	size_t off;
	assert_int_equal(al_rsc_entry(&t, sizeof(t), 1, &type, &off), 0);
	assert_int_equal(type, RSC_TRACE);
	assert_int_equal(off, offsetof(struct tbl, trace));
	assert_int_equal(al_rsc_entry(&t, sizeof(t), 3, &type, &off), AL_EINVAL);
	/* the ready-made firmware table parses too */
	struct al_rsc_table_rpmsg_trace rt = AL_RSC_TABLE_RPMSG_TRACE_INIT(64, 16, 1, 2048);
	assert_int_equal(al_rsc_parse(&rt, sizeof(rt), &info, why, sizeof(why)), 0);
	assert_int_equal(info.trace_off, offsetof(struct al_rsc_table_rpmsg_trace, trace));
	assert_int_equal(al_rsc_parse(NULL, 16, NULL, why, sizeof(why)), AL_EINVAL);
}

static void bad_header(void **s)
{
	(void)s;
	struct tbl t = good();
	expect_bad(&t, 12, "shorter than its 16-byte header");
	t.ver = 2;
	expect_bad(&t, sizeof(t), "version is 2");
	t = good();
	t.num = 0x40000001u; /* 4 * num overflows 32 bits */
	expect_bad(&t, sizeof(t), "entry count 1073741825 does not fit");
	t.num = 0xFFFFFFFFu;
	expect_bad(&t, sizeof(t), "does not fit");
	t = good();
	t.num = 50;
	expect_bad(&t, sizeof(t), "does not fit");
}

static void bad_offsets(void **s)
{
	(void)s;
	struct tbl t = good();
	t.offset[1] = sizeof(t) + 64;
	expect_bad(&t, sizeof(t), "entry 1: offset 0x108 points outside the table");
	t.offset[1] = 0xFFFFFFFCu;
	expect_bad(&t, sizeof(t), "points outside the table");
	t.offset[1] = 8;
	expect_bad(&t, sizeof(t), "points into the table header");
	t = good();
	t.offset[2] = offsetof(struct tbl, data) + 2;
	expect_bad(&t, sizeof(t), "not 4-byte aligned");
	t = good();
	t.offset[2] = sizeof(t) - 8; /* a carveout needs 56 bytes */
	memset((uint8_t *)&t + sizeof(t) - 8, 0, 8);
	expect_bad(&t, sizeof(t), "runs past the end of the table");
	/* a table cut short after the VDEV's fixed part */
	t = good();
	t.num = 1;
	expect_bad(&t, offsetof(struct tbl, vring) + 30, "vrings and 0 config bytes run past");
	t.vdev.config_len = 0xFFFFFFFFu;
	expect_bad(&t, sizeof(t), "config bytes run past");
}

static void bad_vdev(void **s)
{
	(void)s;
	struct tbl t = good();
	t.vring[1].num = 100;
	expect_bad(&t, sizeof(t), "vring 1 num 100 is not a power of two");
	t.vring[1].num = 0;
	expect_bad(&t, sizeof(t), "num 0 is not a power of two");
	t.vring[1].num = 65536;
	expect_bad(&t, sizeof(t), "num 65536");
	t = good();
	t.vring[0].align = 24;
	expect_bad(&t, sizeof(t), "vring 0 align 0x18 is not a power of two");
	t.vring[0].align = 8;
	expect_bad(&t, sizeof(t), "align 0x8");
	t = good();
	t.vring[0].da = 0x1010;
	expect_bad(&t, sizeof(t), "vring 0 da 0x1010 is not aligned");
	t.vring[0].da = 0xFFFFF000u;
	expect_bad(&t, sizeof(t), "wraps past the 32-bit");
	t = good();
	t.vdev.id = 3;
	expect_bad(&t, sizeof(t), "virtio device id 3 is not rpmsg (7)");
	t = good();
	t.vdev.num_of_vrings = 1;
	expect_bad(&t, sizeof(t), "needs two vrings, the entry has 1");
}

static void bad_entries(void **s)
{
	(void)s;
	struct tbl t = good();
	t.trace.type = 5;
	expect_bad(&t, sizeof(t),
		   "resource entry 1 (unknown): type 5 is not a known resource type");
	t.trace.type = 600;
	expect_bad(&t, sizeof(t), "type 600");
	t.trace.type = 200; /* vendor range: skipped */
	struct al_rsc_info info;
	assert_int_equal(al_rsc_parse(&t, sizeof(t), &info, why, sizeof(why)), 0);
	assert_int_equal(info.n_vendor, 1);
	assert_int_equal(info.trace_off, -1);
	t = good();
	memset(t.data.name, 'x', sizeof(t.data.name));
	expect_bad(&t, sizeof(t), "not NUL-terminated");
	t = good();
	t.trace.len = 0;
	expect_bad(&t, sizeof(t), "'trace0' has length 0");
	t = good();
	t.data.da = 0xFFFF1000u;
	expect_bad(&t, sizeof(t), "'sensor-data' at 0xffff1000 with length 0x10000 wraps");
}

/* Check that [a, a+as) and [b, b+bs) are disjoint. */
static void disjoint(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	assert_true(a + as <= b || b + bs <= a);
}

static void assigns_addresses(void **s)
{
	(void)s;
	struct tbl t = good();
	const struct al_rsc_range rsv[1] = {{0x100000, 0x2000}}; /* control page + table */
	assert_int_equal(al_rsc_assign(&t, sizeof(t), 0x100000, 0x100000, rsv, 1, why, sizeof(why)),
			 0);
	uint64_t vs = vring_size(256, 4096);
	assert_int_equal(t.vring[0].da, 0x102000); /* first free page after the reserve */
	assert_true(t.vring[1].da >= t.vring[0].da + vs);
	assert_int_equal(t.vring[1].da % 4096, 0);
	assert_int_equal(t.vring[0].pa, t.vring[0].da);
	assert_true(t.trace.da != FW_RSC_ADDR_ANY && t.trace.da % 4096 == 0);
	assert_int_equal(t.data.pa, t.data.da);
	disjoint(t.vring[1].da, vs, t.trace.da, 4096);
	disjoint(t.trace.da, 4096, t.data.da, 65536);
	assert_true(t.data.da + 65536 <= 0x200000);
	/* the pool goes where nothing else is */
	uint64_t pool;
	assert_int_equal(
	    al_rsc_find_free(&t, sizeof(t), 0x100000, 0x100000, rsv, 1, 256 * 1024, 64, &pool), 0);
	disjoint(pool, 256 * 1024, t.data.da, 65536);
	disjoint(pool, 256 * 1024, t.vring[0].da, vs);
	assert_int_equal(
	    al_rsc_find_free(&t, sizeof(t), 0x100000, 0x100000, rsv, 1, 2 * 1024 * 1024, 64, &pool),
	    AL_ENOMEM);
	/* assigning again changes nothing: all addresses are fixed now */
	struct tbl t2 = t;
	assert_int_equal(
	    al_rsc_assign(&t2, sizeof(t2), 0x100000, 0x100000, rsv, 1, why, sizeof(why)), 0);
	assert_memory_equal(&t, &t2, sizeof(t));
}

static void honours_fixed_addresses(void **s)
{
	(void)s;
	struct tbl t = good();
	t.vring[0].da = 0x3000; /* fixed: the allocator must go around it */
	t.data.da = 0x10000;
	const struct al_rsc_range rsv[1] = {{0, 0x2000}};
	assert_int_equal(al_rsc_assign(&t, sizeof(t), 0, 0x80000, rsv, 1, why, sizeof(why)), 0);
	uint64_t vs = vring_size(256, 4096);
	assert_int_equal(t.vring[0].da, 0x3000);
	assert_int_equal(t.data.da, 0x10000);
	disjoint(t.vring[1].da, vs, 0x3000, vs);
	disjoint(t.vring[1].da, vs, 0x10000, 65536);
	disjoint(t.trace.da, 4096, 0x3000, vs);
	disjoint(t.trace.da, 4096, 0x10000, 65536);
	assert_true(t.trace.da >= 0x2000);
}

static void expect_assign(struct tbl *t, uint64_t size, int want, const char *word)
{
	const struct al_rsc_range rsv[1] = {{0, 0x1000}};
	why[0] = 0;
	int rc = al_rsc_assign(t, sizeof(*t), 0, size, rsv, 1, why, sizeof(why));
	if (rc != want || !strstr(why, word))
		fail_msg("expected %d naming '%s', got %d: '%s'", want, word, rc, why);
	print_message("  refused: %s\n", why);
}

static void assign_refusals(void **s)
{
	(void)s;
	struct tbl t = good();
	t.vring[0].num = 32768; /* 800 KiB of ring in a 64 KiB region */
	expect_assign(&t, 0x10000, AL_ENOMEM, "no room for vring 0 of resource entry 0");
	t = good();
	t.vring[1].da = 0x200000;
	expect_assign(&t, 0x80000, AL_EINIT, "vring 1 of resource entry 0 at 0x200000");
	expect_assign(&t, 0x80000, AL_EINIT, "outside the shared region");
	t = good();
	t.trace.da = 0;
	expect_assign(&t, 0x80000, AL_EINIT, "overlaps memory the host reserved");
	t = good();
	t.vring[0].da = 0x4000;
	t.data.da = 0x5000;
	expect_assign(&t, 0x80000, AL_EINIT, "overlaps carveout 'sensor-data'");
	t = good();
	t.data.len = 0x100000;
	expect_assign(&t, 0x80000, AL_ENOMEM, "no room for carveout 'sensor-data'");
	t = good();
	t.vring[0].num = 100;
	expect_assign(&t, 0x80000, AL_EINIT, "not a power of two");
}

/* Random mutations of a good table: parse/assign never crash or read out
 * of bounds (ASan), and whatever assign accepts lies inside the region. */
static void fuzz_mutations(void **s)
{
	(void)s;
	srand(12345);
	int ok = 0;
	for (int n = 0; n < 200000; n++) {
		struct tbl t = good();
		uint8_t *b = (uint8_t *)&t;
		int flips = 1 + rand() % 4;
		for (int k = 0; k < flips; k++) {
			size_t at = (size_t)rand() % sizeof(t);
			b[at] = (rand() & 1) ? (uint8_t)rand()
					     : (uint8_t)(b[at] ^ (1u << (rand() % 8)));
		}
		size_t len = (rand() % 8) ? sizeof(t) : (size_t)rand() % sizeof(t);
		uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees any overrun */
		memcpy(copy, &t, len);
		char w[AL_RSC_WHY_SIZE];
		if (al_rsc_parse(copy, len, NULL, w, sizeof(w)) == 0) {
			ok++;
			(void)al_rsc_assign(copy, len, 0, 0x100000, NULL, 0, w, sizeof(w));
		} else {
			assert_true(strlen(w) > 10); /* always a sentence */
		}
		free(copy);
	}
	print_message("  %d of 200000 mutated tables were still valid\n", ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_good_table),
	    cmocka_unit_test(bad_header),
	    cmocka_unit_test(bad_offsets),
	    cmocka_unit_test(bad_vdev),
	    cmocka_unit_test(bad_entries),
	    cmocka_unit_test(assigns_addresses),
	    cmocka_unit_test(honours_fixed_addresses),
	    cmocka_unit_test(assign_refusals),
	    cmocka_unit_test(fuzz_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
