/* amplink vhost-user back-end: the device side of a VirtIO device whose
 * driver is another process (a User-Mode Linux kernel's virtio_uml, QEMU's
 * vhost-user-device), reached over a UNIX socket.
 *
 * This is the transport only: it listens, accepts one front-end at a time,
 * reads and checks every vhost-user message, maps the front-end's memory
 * table, keeps the state of each vring (size, base, addresses, kick and call
 * fds, enabled) and tells its user through events. It knows nothing of
 * rpmsg: the device role on top reads the rings through
 * al_vhu_gpa_to_va() and signals the driver with al_vhu_call().
 *
 * Everything the front-end sends is untrusted: a malformed message (wrong
 * payload size for its type, bad vring index, ring size not a power of two,
 * memory region whose end overflows or exceeds its file, ring addresses
 * outside every region, missing or extra fds) is refused with a negative
 * AL_* code and a sentence naming it, and the connection is dropped; the
 * server stays usable and accepts the next front-end. Requests it does not
 * implement are answered "unsupported" where the protocol has an answer and
 * otherwise ignored.
 *
 * Not thread-safe: one thread calls every function of one server (the
 * callbacks run in that thread, inside the call that caused them).
 * Diagnostics never go to stdout/stderr: install a diag callback, or read
 * al_vhu_last_error().
 */
#ifndef AMPLINK_LINUX_VHOST_USER_H
#define AMPLINK_LINUX_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amplink/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits enforced on what the front-end sends. */
#define AL_VHU_MAX_REGIONS   8	   /* memory regions in one table */
#define AL_VHU_MAX_VRINGS    2	   /* rpmsg: vring0 device->driver, vring1 driver->device */
#define AL_VHU_MAX_VRING_NUM 32768 /* largest ring size (a power of two) */
#define AL_VHU_MAX_CONFIG    256   /* bytes of device config space */

/* Device feature bits. */
#define AL_VHU_F_RPMSG_NS	   0ULL	 /* VIRTIO_RPMSG_F_NS */
#define AL_VHU_F_PROTOCOL_FEATURES 30ULL /* VHOST_USER_F_PROTOCOL_FEATURES */
#define AL_VHU_F_VERSION_1	   32ULL /* VIRTIO_F_VERSION_1 */

/* Protocol feature bits (VHOST_USER_PROTOCOL_F_*). */
#define AL_VHU_PF_MQ		       0
#define AL_VHU_PF_REPLY_ACK	       3
#define AL_VHU_PF_BACKEND_REQ	       5 /* a.k.a. SLAVE_REQ */
#define AL_VHU_PF_CONFIG	       9
#define AL_VHU_PF_INBAND_NOTIFICATIONS 14

/* Request codes (front-end -> back-end). */
enum al_vhu_request {
	AL_VHU_GET_FEATURES = 1,
	AL_VHU_SET_FEATURES = 2,
	AL_VHU_SET_OWNER = 3,
	AL_VHU_RESET_OWNER = 4,
	AL_VHU_SET_MEM_TABLE = 5,
	AL_VHU_SET_LOG_BASE = 6,
	AL_VHU_SET_LOG_FD = 7,
	AL_VHU_SET_VRING_NUM = 8,
	AL_VHU_SET_VRING_ADDR = 9,
	AL_VHU_SET_VRING_BASE = 10,
	AL_VHU_GET_VRING_BASE = 11,
	AL_VHU_SET_VRING_KICK = 12,
	AL_VHU_SET_VRING_CALL = 13,
	AL_VHU_SET_VRING_ERR = 14,
	AL_VHU_GET_PROTOCOL_FEATURES = 15,
	AL_VHU_SET_PROTOCOL_FEATURES = 16,
	AL_VHU_GET_QUEUE_NUM = 17,
	AL_VHU_SET_VRING_ENABLE = 18,
	AL_VHU_SEND_RARP = 19,
	AL_VHU_NET_SET_MTU = 20,
	AL_VHU_SET_BACKEND_REQ_FD = 21, /* a.k.a. SET_SLAVE_REQ_FD */
	AL_VHU_IOTLB_MSG = 22,
	AL_VHU_SET_VRING_ENDIAN = 23,
	AL_VHU_GET_CONFIG = 24,
	AL_VHU_SET_CONFIG = 25,
	AL_VHU_GET_INFLIGHT_FD = 31,
	AL_VHU_SET_INFLIGHT_FD = 32,
	AL_VHU_RESET_DEVICE = 34,
	AL_VHU_VRING_KICK = 35,
	AL_VHU_GET_MAX_MEM_SLOTS = 36,
	AL_VHU_ADD_MEM_REG = 37,
	AL_VHU_REM_MEM_REG = 38,
	AL_VHU_SET_STATUS = 39,
	AL_VHU_GET_STATUS = 40,
};

/* One mapped region of the front-end's memory. */
struct al_vhu_region {
	uint64_t gpa;	      /* guest-physical address of the first byte */
	uint64_t size;	      /* bytes */
	uint64_t user_addr;   /* the same byte in the front-end's address space */
	uint64_t mmap_offset; /* offset of the first byte in the region's fd */
	void *va;	      /* the same byte here */
};

/* How a call fd is signalled (found with fstat when it is received). */
enum al_vhu_fd_kind {
	AL_VHU_FD_NONE = 0,
	AL_VHU_FD_EVENTFD, /* or anything else that is not a pipe or socket */
	AL_VHU_FD_PIPE,
	AL_VHU_FD_SOCKET, /* virtio_uml's "pipe" is a UNIX stream socketpair */
};

/* State of one vring, as the front-end set it. Read with al_vhu_vring(). */
struct al_vhu_vring {
	uint32_t num;	     /* ring size, 0 until SET_VRING_NUM */
	uint32_t base;	     /* next avail index to use (SET_VRING_BASE) */
	uint64_t desc_gpa;   /* descriptor table, guest-physical */
	uint64_t avail_gpa;  /* avail ring, guest-physical */
	uint64_t used_gpa;   /* used ring, guest-physical */
	uint64_t desc_user;  /* the three as the front-end sent them */
	uint64_t avail_user; /* (its user addresses) */
	uint64_t used_user;
	uint32_t addr_flags; /* vhost_vring_addr.flags */
	bool addr_set;	     /* SET_VRING_ADDR seen and translated */
	int kick_fd;	     /* -1: none (or the front-end asked for polling) */
	int call_fd;	     /* -1: none */
	enum al_vhu_fd_kind call_kind;
	bool kick_polling; /* SET_VRING_KICK with the "no fd" flag */
	bool enabled;	   /* SET_VRING_ENABLE 1 (or kick fd without protocol features) */
	bool ready;	   /* enabled, num, addresses and kick set: the device may use it */
};

/* What al_vhu tells its user. */
enum al_vhu_event {
	AL_VHU_EV_CONNECTED,	  /* a front-end connected (vring: -1) */
	AL_VHU_EV_VRING_READY,	  /* vring became ready: num, addresses, fds set, enabled */
	AL_VHU_EV_VRING_STOPPED,  /* vring stopped (disabled, GET_VRING_BASE, reset,
				   * memory table without its addresses); the user may
				   * set the base to report with al_vhu_set_vring_base() */
	AL_VHU_EV_KICK,		  /* the driver kicked vring (seen by al_vhu_run()) */
	AL_VHU_EV_MEM_INVALIDATE, /* the memory table is about to be unmapped: stop
				   * using every pointer into it now (vring: -1) */
	AL_VHU_EV_MEM_TABLE,	  /* a new memory table is mapped (vring: -1); when
				   * vrings were ready they stay ready only if their
				   * addresses translate in the new table */
	AL_VHU_EV_FEATURES,	  /* SET_FEATURES accepted (vring: -1) */
	AL_VHU_EV_GONE,		  /* the front-end is gone: every mapping dropped, every fd
				   * closed, the server listens again (vring: -1) */
};

enum al_vhu_level {
	AL_VHU_ERROR,	/* a message refused, a connection dropped */
	AL_VHU_WARNING, /* something odd that was tolerated */
	AL_VHU_INFO,	/* connect, disconnect */
	AL_VHU_TRACE,	/* every request, decoded */
};

struct al_vhu;

struct al_vhu_config {
	/* Device features offered by GET_FEATURES. 0 = VERSION_1 |
	 * PROTOCOL_FEATURES | VIRTIO_RPMSG_F_NS. PROTOCOL_FEATURES is always
	 * added. */
	uint64_t features;
	/* Protocol features offered. 0 = REPLY_ACK | BACKEND_REQ, plus CONFIG
	 * when config_len > 0. */
	uint64_t protocol_features;
	uint32_t num_vrings; /* 1..AL_VHU_MAX_VRINGS, 0 = 2 */
	const void *config;  /* device config space for GET_CONFIG (copied) */
	size_t config_len;   /* <= AL_VHU_MAX_CONFIG */
	/* Events; may be NULL. vring is the index or -1. Called from inside the
	 * al_vhu_* call that caused it; it may call the accessors and
	 * al_vhu_set_vring_base(), al_vhu_call(), not al_vhu_run() or
	 * al_vhu_destroy(). */
	void (*event)(void *arg, struct al_vhu *vhu, enum al_vhu_event ev, int vring);
	/* Diagnostics (one sentence, no newline); may be NULL. */
	void (*diag)(void *arg, enum al_vhu_level level, const char *msg);
	void *arg;
	/* Time allowed for the rest of a message once its first byte arrived
	 * (a front-end that stalls mid-message is dropped). 0 = 2000 ms. */
	int msg_timeout_ms;
};

/** Create a server with no socket yet. Any thread; returns NULL when out of
 *  memory or when cfg is invalid (num_vrings or config_len too large), with
 *  the reason in *err when err is not NULL. */
struct al_vhu *al_vhu_create(const struct al_vhu_config *cfg, const char **err);

/** Close the connection (no event), the listening socket (and remove its
 *  path), unmap everything and free. NULL is accepted. */
void al_vhu_destroy(struct al_vhu *vhu);

/** Listen on a UNIX socket at path: binds a temporary name next to it,
 *  listens, then renames it onto path (replacing a stale socket), so a
 *  front-end never sees a path that refuses connections. Errors: AL_EINVAL
 *  (path too long, already listening), AL_EINIT (socket, bind, listen or
 *  rename failed: the sentence names the call and errno). */
int al_vhu_listen(struct al_vhu *vhu, const char *path);

/** Take an already connected stream socket as the front-end (tests,
 *  socket activation). The server owns fd from now on, even on error.
 *  Errors: AL_ESTATE when a front-end is connected (fd is closed). */
int al_vhu_adopt(struct al_vhu *vhu, int fd);

/** Accept a waiting front-end on the listening socket (non-blocking).
 *  While one is connected, a second one is accepted and closed at once with
 *  a warning. Returns 1 when a front-end was accepted, 0 when none waited,
 *  AL_ESTATE when not listening, AL_EINIT on accept errors. */
int al_vhu_accept(struct al_vhu *vhu);

/** Read and handle one message from the connected front-end; waits for it
 *  (up to the message timeout once its first byte is there). Returns 0 on
 *  success, AL_EPERM for a request this back-end does not implement
 *  (answered "unsupported" when the front-end waits for an answer; the
 *  connection is kept), AL_ENOLINK when the front-end closed the
 *  connection (GONE was delivered), AL_EPROTO for a malformed message,
 *  AL_ESTATE when none is connected. On AL_EPROTO and I/O errors the
 *  connection is dropped (GONE delivered). al_vhu_last_error() names what
 *  was wrong in every error case. */
int al_vhu_handle_message(struct al_vhu *vhu);

/** One round of a simple event loop: polls the listening socket (when no
 *  front-end is connected), the connection and the kick fds of ready vrings
 *  for up to timeout_ms (-1: forever), then accepts, handles one message and
 *  drains kicks (delivering AL_VHU_EV_KICK). Returns 1 when something was
 *  handled, 0 on timeout, or the negative error of the part that failed
 *  (the server stays usable). */
int al_vhu_run(struct al_vhu *vhu, int timeout_ms);

/** Drain a vring's kick fd without blocking (eventfd, pipe or socket).
 *  Returns the number of kicks read (an eventfd counts its value), 0 when
 *  none was pending or the vring has no kick fd, AL_EINVAL for a bad index.
 *  Does not deliver AL_VHU_EV_KICK. */
int al_vhu_drain_kick(struct al_vhu *vhu, unsigned int vring);

/** Signal the driver on a vring's call fd: writes the 8-byte value 1 (what
 *  an eventfd and virtio_uml's socketpair reader both expect), never blocks
 *  (a full pipe or socket means a signal is already pending). Returns 0,
 *  AL_EAGAIN when the vring has no call fd, AL_EINVAL for a bad index,
 *  AL_ENOLINK when the write failed (driver gone). */
int al_vhu_call(struct al_vhu *vhu, unsigned int vring);

/** The base GET_VRING_BASE will report for a stopped vring (the device's
 *  next avail index). Call from AL_VHU_EV_VRING_STOPPED or any time.
 *  Returns 0 or AL_EINVAL. */
int al_vhu_set_vring_base(struct al_vhu *vhu, unsigned int vring, uint32_t base);

/** Translate a guest-physical range to a local pointer: NULL unless
 *  [gpa, gpa + len) lies entirely inside one mapped region (len 0 counts as
 *  1). Overflow-safe for any input. Valid until AL_VHU_EV_MEM_INVALIDATE or
 *  AL_VHU_EV_GONE. */
void *al_vhu_gpa_to_va(const struct al_vhu *vhu, uint64_t gpa, uint64_t len);

/** Translate a range of front-end user addresses (what SET_VRING_ADDR
 *  carries) to guest-physical. Returns 0 and sets *gpa, or AL_EADDR when the
 *  range is not inside one region. Overflow-safe. */
int al_vhu_user_to_gpa(const struct al_vhu *vhu, uint64_t user_addr, uint64_t len, uint64_t *gpa);

/** The current memory table: sets *count (0 when none). The array stays
 *  valid until the next AL_VHU_EV_MEM_INVALIDATE or AL_VHU_EV_GONE. */
const struct al_vhu_region *al_vhu_regions(const struct al_vhu *vhu, unsigned int *count);

/** State of vring index, or NULL when index >= the number of vrings. */
const struct al_vhu_vring *al_vhu_vring(const struct al_vhu *vhu, unsigned int index);

/** Device features the front-end accepted with SET_FEATURES (0 before). */
uint64_t al_vhu_features(const struct al_vhu *vhu);

/** Protocol features agreed with SET_PROTOCOL_FEATURES (0 before). */
uint64_t al_vhu_protocol_features(const struct al_vhu *vhu);

/** True while a front-end is connected. */
bool al_vhu_connected(const struct al_vhu *vhu);

/** The listening socket (-1 when not listening) and the connection (-1 when
 *  none), for a caller's own poll loop. Do not read or close them. */
int al_vhu_listen_fd(const struct al_vhu *vhu);
int al_vhu_conn_fd(const struct al_vhu *vhu);

/** The sentence of the last error (empty string when none). Valid until
 *  the next al_vhu_* call on this server. */
const char *al_vhu_last_error(const struct al_vhu *vhu);

/** Name of a request code ("SET_MEM_TABLE"), "UNKNOWN" for others. */
const char *al_vhu_request_name(uint32_t request);

/** Name of an event ("VRING_READY"). */
const char *al_vhu_event_name(enum al_vhu_event ev);

#ifdef __cplusplus
}
#endif
#endif
