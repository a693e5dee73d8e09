/* Fuzz target: the resource-table parsers (al_rsc_find_vdev, al_rsc_parse,
 * al_rsc_entry) and the host's address assignment over them
 * (al_rsc_assign, al_rsc_find_free). A firmware writes the table, so every
 * byte is hostile.
 *
 * Input: byte 0 picks the shared region handed to the assignment (four
 * shapes, with or without a reserved range at its start); the rest is the
 * table, copied into an allocation of exactly its size so that
 * AddressSanitizer sees any read past it.
 *
 * Checked beyond "no crash": the `why` sentences are NUL-terminated and
 * say something on failure; a table al_rsc_parse accepts has every entry
 * reachable through al_rsc_entry; after a successful al_rsc_assign the
 * table still parses, and every carveout, trace buffer and vring has an
 * address inside the region, clear of the reserved range and of every
 * other range, vrings aligned; al_rsc_find_free answers with such a range
 * too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amplink/error.h"
#include "amplink/rsc_parse.h"
#include "amplink/rsc_table.h"
#include "amplink/virtio_ring.h"
#include "fuzz_common.h"

struct range {
	size_t da_off; /* where the table holds its address (identifies it) */
	uint64_t da, size, align;
};

#define MAX_RANGES 512

/* Every carveout, trace and vring range of a table that passed
 * al_rsc_parse(), read with the fuzz target's own byte reads. */
static size_t ranges_of(const uint8_t *t, size_t len, struct range *out)
{
	size_t n = 0;
	uint32_t num = (uint32_t)fz_rd(t + 4, 4);
	for (uint32_t i = 0; i < num && n < MAX_RANGES; i++) {
		size_t off = (size_t)fz_rd(t + 16 + 4u * i, 4);
		FZ_CHECK(off + 4 <= len);
		const uint8_t *e = t + off;
		uint32_t type = (uint32_t)fz_rd(e, 4);
		if (type == RSC_CARVEOUT || type == RSC_TRACE) {
			FZ_CHECK(off + (type == RSC_TRACE ? 48u : 56u) <= len);
			out[n++] = (struct range){off + 4, fz_rd(e + 4, 4),
						  fz_rd(e + (type == RSC_TRACE ? 8 : 12), 4), 1};
		} else if (type == RSC_VDEV) {
			unsigned nvr = e[AL_RSC_VDEV_NUM_VRINGS];
			FZ_CHECK(off + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_SIZE * (size_t)nvr <= len);
			for (unsigned v = 0; v < nvr && n < MAX_RANGES; v++) {
				const uint8_t *r = e + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_SIZE * v;
				uint32_t al = (uint32_t)fz_rd(r + AL_RSC_VRING_ALIGN, 4);
				uint32_t num_ = (uint32_t)fz_rd(r + AL_RSC_VRING_NUM, 4);
				out[n++] = (struct range){(size_t)(r - t), fz_rd(r, 4),
							  vring_size(num_, al), al};
			}
		}
	}
	return n;
}

static bool overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

static void check_why(const char *why, size_t size, int rc)
{
	FZ_CHECK(memchr(why, '\0', size) != NULL);
	if (rc != 0)
		FZ_CHECK(why[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const struct {
		uint64_t base, size;
	} regions[4] = {{0x10000000u, 0x100000u},
			{0, 0x10000u},
			{0xFFFF0000u, 0x10000u},
			{0x80000000u, 0x1000000u}};
	uint8_t sel = data[0];
	size_t len = size - 1;
	uint8_t *t = malloc(len ? len : 1);
	FZ_CHECK(t != NULL);
	memcpy(t, data + 1, len);
	uint64_t base = regions[sel & 3u].base, rsize = regions[sel & 3u].size;
	struct al_rsc_range rsv = {base, 0x1000};
	size_t nrsv = (sel & 4u) ? 1 : 0;

	/* the POSIX link's quick check */
	size_t voff = 0;
	const char *qwhy = NULL;
	int rc = al_rsc_find_vdev(t, len, &voff, &qwhy);
	FZ_CHECK(rc == 0 || rc == AL_EINIT || rc == AL_EADDR);
	if (rc == 0) {
		FZ_CHECK(voff + AL_RSC_VDEV_VRING0 + 2u * AL_RSC_VRING_SIZE <= len);
		FZ_CHECK(fz_rd(t + voff + AL_RSC_VDEV_ID, 4) == VIRTIO_ID_RPMSG);
	} else {
		FZ_CHECK(qwhy != NULL && qwhy[0] != '\0');
	}

	/* full validation */
	char why[AL_RSC_WHY_SIZE];
	memset(why, 'x', sizeof(why));
	struct al_rsc_info info;
	rc = al_rsc_parse(t, len, &info, why, sizeof(why));
	check_why(why, sizeof(why), rc);
	/* a tiny why buffer is still terminated */
	char small[8];
	memset(small, 'x', sizeof(small));
	FZ_CHECK(al_rsc_parse(t, len, NULL, small, sizeof(small)) == rc);
	FZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL);
	if (rc != 0) {
		FZ_CHECK(rc == AL_EINIT);
		goto out;
	}
	FZ_CHECK(info.num == fz_rd(t + 4, 4));
	FZ_CHECK((uint64_t)info.n_carveout + info.n_devmem + info.n_trace + info.n_vdev +
		     info.n_vendor ==
		 info.num);
	FZ_CHECK(info.vdev_off == -1 ||
		 (size_t)info.vdev_off + AL_RSC_VDEV_VRING0 + 2u * AL_RSC_VRING_SIZE <= len);
	for (uint32_t i = 0; i < info.num; i++) {
		uint32_t type;
		size_t off;
		FZ_CHECK(al_rsc_entry(t, len, i, &type, &off) == 0);
		FZ_CHECK(off + 4 <= len && type == fz_rd(t + off, 4));
	}
	FZ_CHECK(al_rsc_entry(t, len, info.num, NULL, NULL) == AL_EINVAL);

	/* the host gives every FW_RSC_ADDR_ANY an address */
	memset(why, 'x', sizeof(why));
	rc = al_rsc_assign(t, len, base, rsize, &rsv, nrsv, why, sizeof(why));
	check_why(why, sizeof(why), rc);
	FZ_CHECK(rc == 0 || rc == AL_EINIT || rc == AL_ENOMEM);
	if (rc == 0) {
		FZ_CHECK(al_rsc_parse(t, len, NULL, NULL, 0) == 0);
		static struct range r[MAX_RANGES];
		size_t n = ranges_of(t, len, r);
		for (size_t i = 0; i < n; i++) {
			FZ_CHECK(r[i].da != FW_RSC_ADDR_ANY);
			FZ_CHECK(r[i].da >= base && r[i].da + r[i].size <= base + rsize);
			FZ_CHECK(r[i].da % r[i].align == 0);
			FZ_CHECK(!nrsv || !overlap(r[i].da, r[i].size, rsv.da, rsv.size));
			for (size_t j = 0; j < i; j++)
				FZ_CHECK(r[j].da_off == r[i].da_off ||
					 !overlap(r[i].da, r[i].size, r[j].da, r[j].size));
		}
		uint64_t bytes = 1u + (uint64_t)(sel >> 3) * 0x300u, da;
		rc = al_rsc_find_free(t, len, base, rsize, &rsv, nrsv, bytes, 4096, &da);
		FZ_CHECK(rc == 0 || rc == AL_ENOMEM);
		if (rc == 0) {
			FZ_CHECK(da >= base && da + bytes <= base + rsize && da % 4096 == 0);
			FZ_CHECK(!nrsv || !overlap(da, bytes, rsv.da, rsv.size));
			for (size_t i = 0; i < n; i++)
				FZ_CHECK(!overlap(da, bytes, r[i].da, r[i].size));
		}
	}
out:
	free(t);
	return 0;
}
