/* Internal state of the vhost-user back-end (include/amplink/linux/vhost_user.h),
 * shared by vhost_user.c (socket and messages) and vhost_user_mem.c (the
 * memory table). Not installed.
 */
#ifndef AMPLINK_VHOST_USER_INTERNAL_H
#define AMPLINK_VHOST_USER_INTERNAL_H

#include "amplink/linux/vhost_user.h"

/* The memory table as mapped here. */
struct vhu_mem {
	struct al_vhu_region r[AL_VHU_MAX_REGIONS];
	void *map_base[AL_VHU_MAX_REGIONS]; /* what munmap() takes */
	size_t map_len[AL_VHU_MAX_REGIONS];
	unsigned int n;
};

/* One region as the front-end describes it (vhost_user_memory_region). */
struct vhu_mem_desc {
	uint64_t gpa;
	uint64_t size;
	uint64_t user_addr;
	uint64_t mmap_offset;
};

/* Check and map n regions, region i from fds[i], into *m (empty on entry).
 * Returns 0, or a negative AL_* code with a sentence in err (m left empty,
 * nothing mapped). Never closes the fds. */
int vhu_mem_map(struct vhu_mem *m, const struct vhu_mem_desc *d, unsigned int n, const int *fds,
		char *err, size_t errlen);

/* Unmap everything; m becomes empty. */
void vhu_mem_unmap(struct vhu_mem *m);

/* Translations over m (see al_vhu_gpa_to_va / al_vhu_user_to_gpa). */
void *vhu_mem_gpa_to_va(const struct vhu_mem *m, uint64_t gpa, uint64_t len);
int vhu_mem_user_to_gpa(const struct vhu_mem *m, uint64_t uaddr, uint64_t len, uint64_t *gpa);

#endif
