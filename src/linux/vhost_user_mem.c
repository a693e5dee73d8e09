/* The front-end's memory table for the vhost-user back-end: checks each
 * region SET_MEM_TABLE describes (sizes, overflow, overlap, the length of
 * its file), maps it, and translates guest-physical and front-end user
 * addresses. Every translation is overflow-safe for any 64-bit input.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_user_internal.h"

/* [a, a + alen) and [b, b + blen) overlap; both lengths >= 1 and neither
 * range wraps (checked before). */
static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

/* off = addr - start when [addr, addr + len) lies inside [start, start + size). */
static int range_inside(uint64_t start, uint64_t size, uint64_t addr, uint64_t len, uint64_t *off)
{
	if (len == 0)
		len = 1;
	if (addr < start)
		return 0;
	uint64_t o = addr - start;
	if (o >= size || len > size - o)
		return 0;
	*off = o;
	return 1;
}

static int check_region(const struct vhu_mem_desc *d, unsigned int i, int fd, char *err,
			size_t errlen)
{
	struct stat st;

	if (d->size == 0) {
		snprintf(err, errlen, "memory region %u has size 0", i);
		return AL_EPROTO;
	}
	if (d->size - 1 > UINT64_MAX - d->gpa) {
		snprintf(err, errlen,
			 "memory region %u: guest address 0x%" PRIx64 " + size 0x%" PRIx64
			 " overflows",
			 i, d->gpa, d->size);
		return AL_EPROTO;
	}
	if (d->size - 1 > UINT64_MAX - d->user_addr) {
		snprintf(err, errlen,
			 "memory region %u: user address 0x%" PRIx64 " + size 0x%" PRIx64
			 " overflows",
			 i, d->user_addr, d->size);
		return AL_EPROTO;
	}
	if (d->mmap_offset > (uint64_t)INT64_MAX ||
	    d->size > (uint64_t)INT64_MAX - d->mmap_offset ||
	    d->mmap_offset + d->size > (uint64_t)SIZE_MAX / 2) {
		snprintf(err, errlen,
			 "memory region %u: mmap offset 0x%" PRIx64 " + size 0x%" PRIx64
			 " overflows",
			 i, d->mmap_offset, d->size);
		return AL_EPROTO;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "memory region %u: fstat of its fd failed: %s", i,
			 strerror(errno));
		return AL_EPROTO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
			 "memory region %u: its fd is not a regular file or memfd (mode 0%o)", i,
			 (unsigned int)st.st_mode);
		return AL_EPROTO;
	}
	if ((uint64_t)st.st_size < d->mmap_offset + d->size) {
		snprintf(err, errlen,
			 "memory region %u: mmap offset 0x%" PRIx64 " + size 0x%" PRIx64
			 " exceeds its file of 0x%" PRIx64 " bytes",
			 i, d->mmap_offset, d->size, (uint64_t)st.st_size);
		return AL_EPROTO;
	}
	return 0;
}

int vhu_mem_map(struct vhu_mem *m, const struct vhu_mem_desc *d, unsigned int n, const int *fds,
		char *err, size_t errlen)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int rc;

	memset(m, 0, sizeof(*m));
	if (n == 0 || n > AL_VHU_MAX_REGIONS) {
		snprintf(err, errlen, "memory table has %u regions (allowed: 1..%d)", n,
			 AL_VHU_MAX_REGIONS);
		return AL_EPROTO;
	}
	for (unsigned int i = 0; i < n; i++) {
		rc = check_region(&d[i], i, fds[i], err, errlen);
		if (rc)
			return rc;
		for (unsigned int j = 0; j < i; j++) {
			if (ranges_overlap(d[i].gpa, d[i].size, d[j].gpa, d[j].size)) {
				snprintf(err, errlen,
					 "memory regions %u and %u overlap in guest-physical "
					 "addresses",
					 j, i);
				return AL_EPROTO;
			}
			if (ranges_overlap(d[i].user_addr, d[i].size, d[j].user_addr, d[j].size)) {
				snprintf(err, errlen,
					 "memory regions %u and %u overlap in user addresses", j,
					 i);
				return AL_EPROTO;
			}
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t start = d[i].mmap_offset & ~(page - 1);
		size_t len = (size_t)(d[i].mmap_offset - start + d[i].size);
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], (off_t)start);
		if (p == MAP_FAILED) {
			snprintf(err, errlen, "memory region %u: mmap of 0x%zx bytes failed: %s", i,
				 len, strerror(errno));
			vhu_mem_unmap(m);
			return AL_EPROTO;
		}
		m->map_base[i] = p;
		m->map_len[i] = len;
		m->r[i].gpa = d[i].gpa;
		m->r[i].size = d[i].size;
		m->r[i].user_addr = d[i].user_addr;
		m->r[i].mmap_offset = d[i].mmap_offset;
		m->r[i].va = (char *)p + (d[i].mmap_offset - start);
		m->n = i + 1;
	}
	return 0;
}

void vhu_mem_unmap(struct vhu_mem *m)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (m->map_base[i])
			munmap(m->map_base[i], m->map_len[i]);
	memset(m, 0, sizeof(*m));
}

void *vhu_mem_gpa_to_va(const struct vhu_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t off;

	for (unsigned int i = 0; i < m->n; i++)
		if (range_inside(m->r[i].gpa, m->r[i].size, gpa, len, &off))
			return (char *)m->r[i].va + off;
	return NULL;
}

int vhu_mem_user_to_gpa(const struct vhu_mem *m, uint64_t uaddr, uint64_t len, uint64_t *gpa)
{
	uint64_t off;

	for (unsigned int i = 0; i < m->n; i++)
		if (range_inside(m->r[i].user_addr, m->r[i].size, uaddr, len, &off)) {
			*gpa = m->r[i].gpa + off;
			return 0;
		}
	return AL_EADDR;
}
