/* Resource table validation on the host side: the table is written by the
 * remote's firmware, so every count and offset is checked before use.
 * al_rsc_find_vdev() is the quick check the POSIX link uses; al_rsc_parse()
 * the full validation and al_rsc_assign() the FW_RSC_ADDR_ANY allocation of
 * the remoteproc host (rsc_parse.h). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "al_fmt.h"
#include "amplink/error.h"
#include "amplink/rsc_parse.h"
#include "amplink/rsc_table.h"
#include "amplink/virtio_ring.h"
#include "shm_access.h"

static int bad(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return AL_EINIT;
}

int al_rsc_find_vdev(const void *table, size_t len, size_t *vdev_off, const char **why)
{
	const uint8_t *t = table;
	if (!t || len < 16)
		return bad(why, "resource table shorter than its header");
	if (al_rd32(t) != 1)
		return bad(why, "resource table version is not 1");
	uint32_t num = al_rd32(t + 4);
	if (num > (len - 16) / 4)
		return bad(why, "resource table entry count exceeds the table");
	for (uint32_t i = 0; i < num; i++) {
		uint32_t off = al_rd32(t + 16 + 4u * i);
		if (off < 16 + 4u * num || off > len || len - off < 4 || (off & 3u))
			return bad(why, "resource entry offset outside the table or misaligned");
		uint32_t type = al_rd32(t + off);
		size_t need = type == RSC_VDEV	  ? AL_RSC_VDEV_VRING0
			      : type <= RSC_TRACE ? (type == RSC_TRACE ? 48u : 56u)
						  : 4u;
		if (len - off < need)
			return bad(why, "resource entry runs past the end of the table");
		if (type != RSC_VDEV)
			continue;
		uint32_t nvr = al_rd8(t + off + AL_RSC_VDEV_NUM_VRINGS);
		uint32_t cfg = al_rd32(t + off + AL_RSC_VDEV_CONFIG_LEN);
		if (cfg > len || (len - off - AL_RSC_VDEV_VRING0) / AL_RSC_VRING_SIZE < nvr ||
		    len - off - AL_RSC_VDEV_VRING0 - (size_t)nvr * AL_RSC_VRING_SIZE < cfg)
			return bad(why, "VDEV entry's vrings or config run past the table");
		if (al_rd32(t + off + AL_RSC_VDEV_ID) != VIRTIO_ID_RPMSG)
			continue;
		if (nvr < 2)
			return bad(why, "rpmsg VDEV entry has fewer than two vrings");
		if (vdev_off)
			*vdev_off = off;
		return 0;
	}
	if (why)
		*why = "no rpmsg VDEV entry in the resource table";
	return AL_EADDR;
}

/* ---- full validation (rsc_parse.h) ----------------------------------------- */

#define CARVEOUT_SIZE 56u /* type, da, pa, len, flags, reserved, name[32] */
#define TRACE_SIZE    48u /* type, da, len, reserved, name[32] */
#define HDR_SIZE      16u
#define PAGE	      4096u

static const char *type_name(uint32_t type)
{
	switch (type) {
	case RSC_CARVEOUT: return "CARVEOUT";
	case RSC_DEVMEM: return "DEVMEM";
	case RSC_TRACE: return "TRACE";
	case RSC_VDEV: return "VDEV";
	default: return "unknown";
	}
}

/* Start a sentence about entry i: "resource entry 2 (TRACE): ". */
static struct al_fmt *ent(struct al_fmt *f, uint32_t i, uint32_t type)
{
	al_fmt_s(f, "resource entry ");
	al_fmt_u(f, i);
	al_fmt_s(f, " (");
	if (type >= RSC_VENDOR_START && type < RSC_VENDOR_END)
		al_fmt_s(f, "vendor");
	else
		al_fmt_s(f, type_name(type));
	return al_fmt_s(f, "): ");
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static bool has_nul(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!p[i])
			return true;
	return false;
}

/* Bytes of the known entry at `off` (already checked to fit the table); for
 * vendor types, whose bodies are opaque, only their type word: the host's
 * address writes into another entry must not land on it either. */
static size_t entry_size(const uint8_t *t, size_t off)
{
	uint32_t type = al_rd32(t + off);
	if (type == RSC_VDEV)
		return AL_RSC_VDEV_VRING0 +
		       (size_t)al_rd8(t + off + AL_RSC_VDEV_NUM_VRINGS) * AL_RSC_VRING_SIZE +
		       al_rd32(t + off + AL_RSC_VDEV_CONFIG_LEN);
	return type == RSC_TRACE ? TRACE_SIZE : type < RSC_LAST ? CARVEOUT_SIZE : 4u;
}

/* Entries sharing bytes (two offsets to one entry, a vring array running
 * into the next entry) would let the host's address writes change another
 * entry after it was checked. The index of an earlier entry that entry `i`
 * overlaps, or -1. */
static long overlapping_entry(const uint8_t *t, uint32_t i, size_t off)
{
	size_t size = entry_size(t, off);
	for (uint32_t j = 0; j < i; j++) {
		size_t o = al_rd32(t + HDR_SIZE + 4u * j), s = entry_size(t, o);
		if (s && o < off + size && off < o + s)
			return (long)j;
	}
	return -1;
}

static int overlap_error(struct al_fmt *f, uint32_t i, uint32_t type, long j)
{
	ent(f, i, type);
	al_fmt_s(f, "overlaps resource entry ");
	al_fmt_u(f, (uint64_t)j);
	al_fmt_s(f, " in the table");
	return AL_EINIT;
}

int al_rsc_parse(const void *table, size_t len, struct al_rsc_info *info, char *why, size_t why_len)
{
	struct al_fmt f;
	al_fmt_init(&f, why, why_len);
	struct al_rsc_info tmp;
	if (!info)
		info = &tmp;
	memset(info, 0, sizeof(*info));
	info->vdev_off = info->trace_off = -1;
	const uint8_t *t = table;
	if (!t) {
		al_fmt_s(&f, "no resource table");
		return AL_EINVAL;
	}
	if (len < HDR_SIZE) {
		al_fmt_s(&f, "resource table of ");
		al_fmt_u(&f, len);
		al_fmt_s(&f, " bytes is shorter than its 16-byte header");
		return AL_EINIT;
	}
	uint32_t ver = al_rd32(t);
	if (ver != 1) {
		al_fmt_s(&f, "resource table version is ");
		al_fmt_u(&f, ver);
		al_fmt_s(&f, ", only version 1 is supported");
		return AL_EINIT;
	}
	uint32_t num = al_rd32(t + 4);
	if (num > (len - HDR_SIZE) / 4u) {
		al_fmt_s(&f, "resource table entry count ");
		al_fmt_u(&f, num);
		al_fmt_s(&f, " does not fit its ");
		al_fmt_u(&f, len);
		al_fmt_s(&f, " bytes (offset array overflows the table)");
		return AL_EINIT;
	}
	info->num = num;
	size_t hdr_end = HDR_SIZE + 4u * (size_t)num;
	for (uint32_t i = 0; i < num; i++) {
		uint32_t off = al_rd32(t + HDR_SIZE + 4u * i);
		if (off < hdr_end || off >= len || len - off < 4u) {
			al_fmt_s(&f, "resource entry ");
			al_fmt_u(&f, i);
			al_fmt_s(&f, ": offset ");
			al_fmt_x(&f, off);
			al_fmt_s(&f, off < hdr_end ? " points into the table header"
						   : " points outside the table of ");
			if (off >= hdr_end) {
				al_fmt_u(&f, len);
				al_fmt_s(&f, " bytes");
			}
			return AL_EINIT;
		}
		if (off & 3u) {
			al_fmt_s(&f, "resource entry ");
			al_fmt_u(&f, i);
			al_fmt_s(&f, ": offset ");
			al_fmt_x(&f, off);
			al_fmt_s(&f, " is not 4-byte aligned");
			return AL_EINIT;
		}
		const uint8_t *e = t + off;
		size_t room = len - off;
		uint32_t type = al_rd32(e);
		if (type >= RSC_VENDOR_START && type < RSC_VENDOR_END) {
			/* vendor-specific: not ours to interpret, but it may not
			 * share bytes with an entry the host writes addresses into */
			long j = overlapping_entry(t, i, off);
			if (j >= 0)
				return overlap_error(&f, i, type, j);
			info->n_vendor++;
			continue;
		}
		if (type >= RSC_LAST) {
			ent(&f, i, type);
			al_fmt_s(&f, "type ");
			al_fmt_u(&f, type);
			al_fmt_s(&f, " is not a known resource type (0..3, vendor 128..511)");
			return AL_EINIT;
		}
		size_t need = type == RSC_VDEV	  ? AL_RSC_VDEV_VRING0
			      : type == RSC_TRACE ? TRACE_SIZE
						  : CARVEOUT_SIZE;
		if (room < need) {
			ent(&f, i, type);
			al_fmt_s(&f, "entry of ");
			al_fmt_u(&f, need);
			al_fmt_s(&f, " bytes at offset ");
			al_fmt_x(&f, off);
			al_fmt_s(&f, " runs past the end of the table");
			return AL_EINIT;
		}
		if (type == RSC_CARVEOUT || type == RSC_DEVMEM || type == RSC_TRACE) {
			uint32_t da = al_rd32(e + 4);
			uint32_t rlen = al_rd32(e + (type == RSC_TRACE ? 8 : 12));
			const uint8_t *name = e + (type == RSC_TRACE ? 16 : 24);
			if (!has_nul(name, AL_RSC_NAME_SIZE)) {
				ent(&f, i, type);
				al_fmt_s(&f, "name is not NUL-terminated within 32 bytes");
				return AL_EINIT;
			}
			if (rlen == 0) {
				ent(&f, i, type);
				al_fmt_name(&f, name, AL_RSC_NAME_SIZE);
				al_fmt_s(&f, " has length 0");
				return AL_EINIT;
			}
			if (da != FW_RSC_ADDR_ANY && (uint64_t)da + rlen > 0x100000000ull) {
				ent(&f, i, type);
				al_fmt_name(&f, name, AL_RSC_NAME_SIZE);
				al_fmt_s(&f, " at ");
				al_fmt_x(&f, da);
				al_fmt_s(&f, " with length ");
				al_fmt_x(&f, rlen);
				al_fmt_s(&f, " wraps past the 32-bit address space");
				return AL_EINIT;
			}
			long j = overlapping_entry(t, i, off);
			if (j >= 0)
				return overlap_error(&f, i, type, j);
			if (type == RSC_CARVEOUT)
				info->n_carveout++;
			else if (type == RSC_DEVMEM)
				info->n_devmem++;
			else if (info->n_trace++ == 0)
				info->trace_off = (long)off;
			continue;
		}
		/* VDEV */
		uint32_t id = al_rd32(e + AL_RSC_VDEV_ID);
		uint32_t nvr = al_rd8(e + AL_RSC_VDEV_NUM_VRINGS);
		uint32_t cfg = al_rd32(e + AL_RSC_VDEV_CONFIG_LEN);
		size_t body = room - AL_RSC_VDEV_VRING0;
		if (body / AL_RSC_VRING_SIZE < nvr ||
		    body - (size_t)nvr * AL_RSC_VRING_SIZE < cfg) {
			ent(&f, i, type);
			al_fmt_u(&f, nvr);
			al_fmt_s(&f, " vrings and ");
			al_fmt_u(&f, cfg);
			al_fmt_s(&f, " config bytes run past the end of the table");
			return AL_EINIT;
		}
		if (id != VIRTIO_ID_RPMSG) {
			ent(&f, i, type);
			al_fmt_s(&f, "virtio device id ");
			al_fmt_u(&f, id);
			al_fmt_s(&f, " is not rpmsg (7)");
			return AL_EINIT;
		}
		if (nvr < 2) {
			ent(&f, i, type);
			al_fmt_s(&f, "rpmsg needs two vrings, the entry has ");
			al_fmt_u(&f, nvr);
			return AL_EINIT;
		}
		for (uint32_t v = 0; v < nvr; v++) {
			const uint8_t *r = e + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_SIZE * v;
			uint32_t da = al_rd32(r + AL_RSC_VRING_DA),
				 al = al_rd32(r + AL_RSC_VRING_ALIGN);
			uint32_t n = al_rd32(r + AL_RSC_VRING_NUM);
			const char *bad = NULL, *field = " da ";
			uint32_t val = da;
			if (!pow2(n) || n > AL_VRING_MAX_NUM) {
				bad = " is not a power of two in 1..32768";
				field = " num ";
				val = n;
			} else if (!pow2(al) || al < 16u || al > 65536u) {
				bad = " is not a power of two in 16..65536";
				field = " align ";
				val = al;
			} else if (da != FW_RSC_ADDR_ANY && (da & (al - 1u))) {
				bad = " is not aligned to the vring's align";
			} else if (da != FW_RSC_ADDR_ANY &&
				   (uint64_t)da + vring_size(n, al) > 0x100000000ull) {
				bad = " plus the ring size wraps past the 32-bit address space";
			}
			if (bad) {
				ent(&f, i, type);
				al_fmt_s(&f, "vring ");
				al_fmt_u(&f, v);
				al_fmt_s(&f, field);
				if (field[1] == 'n')
					al_fmt_u(&f, val);
				else
					al_fmt_x(&f, val);
				al_fmt_s(&f, bad);
				return AL_EINIT;
			}
		}
		long j = overlapping_entry(t, i, off);
		if (j >= 0)
			return overlap_error(&f, i, type, j);
		if (info->n_vdev++ == 0)
			info->vdev_off = (long)off;
	}
	return 0;
}

int al_rsc_entry(const void *table, size_t len, uint32_t i, uint32_t *type, size_t *off)
{
	const uint8_t *t = table;
	if (!t || len < HDR_SIZE || i >= al_rd32(t + 4) || i >= (len - HDR_SIZE) / 4u)
		return AL_EINVAL;
	uint32_t o = al_rd32(t + HDR_SIZE + 4u * i);
	if (o >= len || len - o < 4u)
		return AL_EINVAL;
	if (off)
		*off = o;
	if (type)
		*type = al_rd32(t + o);
	return 0;
}

/* ---- the memory ranges a table asks for -------------------------------------- */

struct res {
	uint32_t entry;
	uint32_t type;
	int vring;     /* -1 unless a vring of a VDEV entry */
	size_t da_off; /* byte offset of the da field in the table */
	size_t pa_off; /* of the pa field, 0 if none */
	uint64_t size;
	uint64_t align;
	const uint8_t *name;
};

struct res_it {
	uint32_t entry;
	uint32_t vring;
};

/* Next CARVEOUT, TRACE or vring range of a validated table. */
static bool res_next(const uint8_t *t, size_t len, struct res_it *it, struct res *r)
{
	uint32_t num = al_rd32(t + 4);
	while (it->entry < num) {
		size_t off;
		uint32_t type;
		if (al_rsc_entry(t, len, it->entry, &type, &off))
			return false;
		const uint8_t *e = t + off;
		r->entry = it->entry;
		r->type = type;
		r->vring = -1;
		r->align = PAGE;
		r->pa_off = 0;
		if (type == RSC_CARVEOUT || type == RSC_TRACE) {
			it->entry++;
			r->da_off = off + 4;
			r->pa_off = type == RSC_CARVEOUT ? off + 8 : 0;
			r->size = al_rd32(e + (type == RSC_TRACE ? 8 : 12));
			r->name = e + (type == RSC_TRACE ? 16 : 24);
			return true;
		}
		if (type == RSC_VDEV && it->vring < al_rd8(e + AL_RSC_VDEV_NUM_VRINGS)) {
			size_t vo = off + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_SIZE * it->vring;
			uint32_t al = al_rd32(t + vo + AL_RSC_VRING_ALIGN);
			r->vring = (int)it->vring++;
			r->da_off = vo + AL_RSC_VRING_DA;
			r->pa_off = vo + AL_RSC_VRING_PA;
			r->size = vring_size(al_rd32(t + vo + AL_RSC_VRING_NUM), al);
			r->align = al > PAGE ? al : PAGE;
			r->name = NULL;
			return true;
		}
		it->entry++;
		it->vring = 0;
	}
	return false;
}

static void res_describe(struct al_fmt *f, const struct res *r)
{
	if (r->vring >= 0) {
		al_fmt_s(f, "vring ");
		al_fmt_u(f, (uint64_t)r->vring);
		al_fmt_s(f, " of resource entry ");
	} else {
		al_fmt_s(f, r->type == RSC_TRACE ? "trace buffer " : "carveout ");
		al_fmt_name(f, r->name, AL_RSC_NAME_SIZE);
		al_fmt_s(f, " (resource entry ");
	}
	al_fmt_u(f, r->entry);
	if (r->vring < 0)
		al_fmt_c(f, ')');
}

static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

/* Lowest aligned address in [base, base+size) for `bytes` that overlaps no
 * reserved range and no fixed range of the table. */
static int find_free(const uint8_t *t, size_t len, uint64_t base, uint64_t size,
		     const struct al_rsc_range *rsv, size_t nrsv, uint64_t bytes, uint64_t align,
		     uint64_t *out)
{
	uint64_t end = base + size;
	uint64_t c = (base + align - 1u) & ~(align - 1u);
	for (;;) {
		if (c < base || c > end || end - c < bytes)
			return AL_ENOMEM;
		uint64_t bump = 0;
		for (size_t i = 0; i < nrsv && !bump; i++)
			if (overlaps(c, bytes, rsv[i].da, rsv[i].size))
				bump = rsv[i].da + rsv[i].size;
		struct res_it it = {0, 0};
		struct res r;
		while (!bump && res_next(t, len, &it, &r)) {
			uint32_t da = al_rd32(t + r.da_off);
			if (da != FW_RSC_ADDR_ANY && overlaps(c, bytes, da, r.size))
				bump = (uint64_t)da + r.size;
		}
		if (!bump) {
			*out = c;
			return 0;
		}
		c = (bump + align - 1u) & ~(align - 1u); /* strictly forward: terminates */
	}
}

int al_rsc_find_free(const void *table, size_t len, uint64_t base, uint64_t size,
		     const struct al_rsc_range *reserved, size_t nreserved, uint64_t bytes,
		     uint64_t align, uint64_t *da)
{
	if (!table || !da || !pow2(align) || bytes == 0 || (nreserved && !reserved) ||
	    base + size < base || al_rsc_parse(table, len, NULL, NULL, 0))
		return AL_EINVAL;
	return find_free(table, len, base, size, reserved, nreserved, bytes, align, da);
}

int al_rsc_assign(void *table, size_t len, uint64_t base, uint64_t size,
		  const struct al_rsc_range *reserved, size_t nreserved, char *why, size_t why_len)
{
	if (!table || (nreserved && !reserved) || base + size < base)
		return AL_EINVAL;
	int rc = al_rsc_parse(table, len, NULL, why, why_len);
	if (rc)
		return rc;
	uint8_t *t = table;
	struct al_fmt f;
	al_fmt_init(&f, why, why_len);
	/* Fixed addresses: inside the region, clear of the reserved ranges
	 * and of each other. */
	struct res_it it = {0, 0};
	struct res r;
	while (res_next(t, len, &it, &r)) {
		uint32_t da = al_rd32(t + r.da_off);
		if (da == FW_RSC_ADDR_ANY)
			continue;
		const char *bad = NULL;
		if (da < base || (uint64_t)da + r.size > base + size)
			bad = " lies outside the shared region";
		for (size_t i = 0; !bad && i < nreserved; i++)
			if (overlaps(da, r.size, reserved[i].da, reserved[i].size))
				bad = " overlaps memory the host reserved (control page, resource "
				      "table)";
		struct res_it it2 = it; /* the ranges after this one */
		struct res r2;
		while (!bad && res_next(t, len, &it2, &r2)) {
			uint32_t da2 = al_rd32(t + r2.da_off);
			if (da2 != FW_RSC_ADDR_ANY && overlaps(da, r.size, da2, r2.size)) {
				res_describe(&f, &r);
				al_fmt_s(&f, " at ");
				al_fmt_x(&f, da);
				al_fmt_s(&f, " overlaps ");
				res_describe(&f, &r2);
				al_fmt_s(&f, " at ");
				al_fmt_x(&f, da2);
				return AL_EINIT;
			}
		}
		if (bad) {
			res_describe(&f, &r);
			al_fmt_s(&f, " at ");
			al_fmt_x(&f, da);
			al_fmt_s(&f, " (");
			al_fmt_x(&f, r.size);
			al_fmt_s(&f, " bytes)");
			al_fmt_s(&f, bad);
			return AL_EINIT;
		}
	}
	/* Then every FW_RSC_ADDR_ANY, in table order; each chosen address
	 * becomes fixed for the ones after it. */
	it = (struct res_it){0, 0};
	while (res_next(t, len, &it, &r)) {
		if (al_rd32(t + r.da_off) != FW_RSC_ADDR_ANY)
			continue;
		uint64_t da;
		if (find_free(t, len, base, size, reserved, nreserved, r.size, r.align, &da) ||
		    da + r.size > 0x100000000ull) {
			al_fmt_s(&f, "no room for ");
			res_describe(&f, &r);
			al_fmt_s(&f, " (");
			al_fmt_x(&f, r.size);
			al_fmt_s(&f, " bytes) in the ");
			al_fmt_x(&f, size);
			al_fmt_s(&f, "-byte shared region");
			return AL_ENOMEM;
		}
		al_wr32(t + r.da_off, (uint32_t)da);
		if (r.pa_off)
			al_wr32(t + r.pa_off, (uint32_t)da);
	}
	return 0;
}
