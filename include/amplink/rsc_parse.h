/* Host-side handling of a firmware's resource table (see rsc_table.h for
 * the wire format): a full validating parser, and the allocation of every
 * FW_RSC_ADDR_ANY address (vrings, carveouts, trace buffers) from a shared
 * region, written back into the shared copy of the table as Linux
 * remoteproc does. Portable core code: no malloc, no OS.
 *
 * The table comes from the firmware, so it is untrusted: every count,
 * offset and length is checked, and a failure comes with a sentence naming
 * the entry and the problem, e.g.
 *   "resource entry 1 (VDEV): vring 0 num 100 is not a power of two".
 */
#ifndef AMPLINK_RSC_PARSE_H
#define AMPLINK_RSC_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/rsc_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Recommended size of the `why` buffers below. */
#define AL_RSC_WHY_SIZE 160u

/** What a valid table holds. Offsets are from the table's start; -1 when
 *  there is no such entry. */
struct al_rsc_info {
	uint32_t num;	     /* entries */
	uint32_t n_carveout; /* entries per type */
	uint32_t n_devmem;
	uint32_t n_trace;
	uint32_t n_vdev;
	uint32_t n_vendor; /* vendor-range entries (types 128..511), skipped */
	long vdev_off;	   /* first rpmsg (id 7) VDEV entry */
	long trace_off;	   /* first TRACE entry */
};

/** Validate the table at [table, table+len): version 1, the entry count
 *  and every offset inside the table (4-byte aligned, past the offset
 *  array), each entry's whole body inside it; CARVEOUT/DEVMEM/TRACE with a
 *  non-zero length, a NUL-terminated name and a fixed address range that
 *  does not wrap past 4 GiB; VDEV with id 7 (rpmsg), at least two vrings,
 *  its vrings and config inside the table, each vring's num a power of two
 *  in 1..32768, align a power of two in 16..65536 and a fixed address
 *  aligned to it; vendor types 128..511 are skipped, any other type is an
 *  error. Fills *info (may be NULL). Pure function, any context.
 *  Returns 0, AL_EINVAL (NULL table) or AL_EINIT with a sentence in
 *  why[why_len] (may be NULL). */
int al_rsc_parse(const void *table, size_t len, struct al_rsc_info *info, char *why,
		 size_t why_len);

/** Type and offset of entry `i` of a table that passed al_rsc_parse().
 *  Returns 0, or AL_EINVAL if i >= num. Any context. */
int al_rsc_entry(const void *table, size_t len, uint32_t i, uint32_t *type, size_t *off);

/** A device-address range [da, da+size). */
struct al_rsc_range {
	uint64_t da;
	uint64_t size;
};

/** Validate the table (al_rsc_parse) and give an address to every vring,
 *  CARVEOUT and TRACE entry whose da is FW_RSC_ADDR_ANY, inside the region
 *  [base, base+size), avoiding the `reserved` ranges (e.g. where the table
 *  itself sits) and every fixed address of the table. Fixed addresses must
 *  already lie inside the region, outside `reserved`, and not overlap one
 *  another. Chosen addresses are written into the table (da; also pa for
 *  carveouts and vrings), which must therefore be the shared copy the
 *  remote reads. Vrings are aligned to max(align, 4096), the rest to 4096.
 *  DEVMEM entries (device memory, not in the region) are left alone.
 *  Host side, before the remote starts; any context.
 *  Returns 0, AL_EINVAL, AL_EINIT (bad table or fixed address; why says
 *  which) or AL_ENOMEM (no room; why says for what). */
int al_rsc_assign(void *table, size_t len, uint64_t base, uint64_t size,
		  const struct al_rsc_range *reserved, size_t nreserved, char *why, size_t why_len);

/** Find `bytes` bytes aligned to `align` (a power of two) inside
 *  [base, base+size) that overlap neither `reserved` nor any fixed range
 *  of the (valid) table: e.g. the driver's buffer pool once al_rsc_assign()
 *  placed the rest. Lowest such address in *da. Returns 0, AL_EINVAL or
 *  AL_ENOMEM. Any context. */
int al_rsc_find_free(const void *table, size_t len, uint64_t base, uint64_t size,
		     const struct al_rsc_range *reserved, size_t nreserved, uint64_t bytes,
		     uint64_t align, uint64_t *da);

#ifdef __cplusplus
}
#endif
#endif
