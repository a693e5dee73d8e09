/* Internal state of the vhost-user back-end (include/amplink/linux/vhost_user.h),
 * shared by vhost_user.c (messages, vring state), vhost_user_io.c (sockets,
 * fds, replies, kicks and calls) and vhost_user_mem.c (the memory table).
 * Not installed.
 */
#ifndef AMPLINK_VHOST_USER_INTERNAL_H
#define AMPLINK_VHOST_USER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#define VHU_VERSION	    0x1u
#define VHU_VERSION_MASK    0x3u
#define VHU_FLAG_REPLY	    0x4u
#define VHU_FLAG_NEED_REPLY 0x8u
#define VHU_HDR_SIZE	    12u
#define VHU_MAX_PAYLOAD	    4096u /* larger than any message we know; more is refused */
#define VHU_MAX_FDS	    AL_VHU_MAX_REGIONS
#define VHU_VRING_IDX_MASK  0xffu
#define VHU_VRING_NOFD	    0x100u
#define VHU_CONFIG_HDR	    12u
#define VHU_MEM_HDR	    8u
#define VHU_MEM_REGION	    32u

/* A handler's verdict besides 0 and negative errors: the request is not
 * implemented; answer "unsupported" and keep the connection. */
#define VHU_UNSUPPORTED 1

/* One message as read: header fields, payload, the fds that came with it. */
struct vhu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint8_t payload[VHU_MAX_PAYLOAD];
	int fds[VHU_MAX_FDS];
	unsigned int nfds;
};

/* A reply to send: payload after the header. */
struct vhu_reply {
	bool send;
	uint32_t size;
	uint8_t payload[VHU_CONFIG_HDR + AL_VHU_MAX_CONFIG];
};

struct vhu_ring_priv {
	bool started; /* kick fd received, not stopped by GET_VRING_BASE */
};

/* The server: one listening socket, at most one front-end. */
struct al_vhu {
	struct al_vhu_config cfg;
	uint8_t config[AL_VHU_MAX_CONFIG];
	uint64_t offer_features;
	uint64_t offer_pf;
	unsigned int nvr;

	int listen_fd;
	char *path;
	int conn_fd;

	uint64_t features;
	uint64_t pf;
	uint8_t status;
	int backend_fd;
	struct vhu_mem mem;
	struct al_vhu_vring vr[AL_VHU_MAX_VRINGS];
	struct vhu_ring_priv vp[AL_VHU_MAX_VRINGS];

	char err[320];
	char note[320];
};

/* Little-endian fields of the wire format. */
static inline uint32_t vhu_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t vhu_le64(const uint8_t *p)
{
	return (uint64_t)vhu_le32(p) | (uint64_t)vhu_le32(p + 4) << 32;
}

static inline void vhu_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void vhu_put64(uint8_t *p, uint64_t v)
{
	vhu_put32(p, (uint32_t)v);
	vhu_put32(p + 4, (uint32_t)(v >> 32));
}

/* Shared by vhost_user.c and vhost_user_io.c. */

/* Report a diagnostic through the user's callback (if any). */
void vhu_diag(struct al_vhu *vhu, enum al_vhu_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Record the error sentence (al_vhu_last_error), report it, return code. */
int vhu_fail(struct al_vhu *vhu, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Deliver an event to the user's callback (if any). */
void vhu_emit(struct al_vhu *vhu, enum al_vhu_event ev, int vring);
/* close(*fd) when open; *fd becomes -1. */
void vhu_close_fd(int *fd);
/* What kind of fd a call fd is (fstat). */
enum al_vhu_fd_kind vhu_fd_kind(int fd);
/* Wait up to ms (-1: forever) for fd to be readable: 1 ready, 0 not. */
int vhu_wait_readable(int fd, int ms);
/* Read exactly len bytes of the current message from the front-end into
 * buf, collecting fds into m (see vhost_user_io.c). */
int vhu_read_full(struct al_vhu *vhu, struct vhu_msg *m, void *buf, size_t len, bool at_start,
		  const char *what);
/* Send reply r to request m, never blocking longer than the message timeout. */
int vhu_send_reply(struct al_vhu *vhu, const struct vhu_msg *m, const struct vhu_reply *r);

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
