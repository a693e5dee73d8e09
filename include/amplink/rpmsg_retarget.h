/* OpenAMP's stdio and file proxy (<openamp/rpmsg_retarget.h>) on amplink's
 * core: the remote's _open, _read, _write and _close (newlib's system
 * calls, so printf, fopen, fread ... of the remote) are served by the host
 * over an rpmsg endpoint. OpenAMP's names, structures, wire format and
 * semantics: a request is a struct rpmsg_rpc_syscall {id, {int_field1,
 * int_field2, data_len}} followed by data_len bytes; the answer carries
 * the same id and the result in int_field1 (and, for a read, the data).
 *
 * Differences, each where OpenAMP's code misbehaves:
 * - a write longer than a buffer goes in several requests (OpenAMP
 *   overflows its stack buffer); the NUL OpenAMP adds after stdout data
 *   is at the end of the data (OpenAMP writes it one byte further and
 *   sends an unset byte);
 * - without a poll function, waits sleep in the port's wait hook instead
 *   of spinning;
 * - a wait for an answer ends when the host's endpoint goes (as OpenAMP),
 *   and the call then returns RPMSG_ERR_DEV_STATE instead of reading an
 *   answer that never came.
 */
#ifndef AMPLINK_RPMSG_RETARGET_H
#define AMPLINK_RPMSG_RETARGET_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/rpmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OPEN_SYSCALL_ID	 0x1UL
#define CLOSE_SYSCALL_ID 0x2UL
#define WRITE_SYSCALL_ID 0x3UL
#define READ_SYSCALL_ID	 0x4UL
#define ACK_STATUS_ID	 0x5UL
#define TERM_SYSCALL_ID	 0x6UL

#define DEFAULT_PROXY_ENDPOINT 0xFFUL

struct rpmsg_rpc_data;

typedef int (*rpmsg_rpc_poll)(void *arg);
typedef void (*rpmsg_rpc_shutdown_cb)(struct rpmsg_rpc_data *rpc);

struct rpmsg_rpc_syscall_header {
	int32_t int_field1;
	int32_t int_field2;
	uint32_t data_len;
};

struct rpmsg_rpc_syscall {
	uint32_t id;
	struct rpmsg_rpc_syscall_header args;
};

/** The proxy's client state (fields private but for OpenAMP's). */
struct rpmsg_rpc_data {
	struct rpmsg_endpoint ept;
	int ept_destroyed;
	int nacked; /* an answer is awaited (atomic) */
	void *respbuf;
	size_t respbuf_len;
	rpmsg_rpc_poll poll;
	void *poll_arg;
	rpmsg_rpc_shutdown_cb shutdown_cb;
};

/** Create the endpoint (`ept_name` at `ept_addr`, bound to `ept_raddr` or
 *  by the host's announcement) and wait until it is bound, calling
 *  poll(poll_arg) meanwhile (NULL: the port's wait). A TERM_SYSCALL_ID
 *  from the host or its endpoint going destroys it and calls
 *  `shutdown_cb`. Thread context. Returns 0 or RPMSG_ERR_PARAM. */
int rpmsg_rpc_init(struct rpmsg_rpc_data *rpc, struct rpmsg_device *rdev, const char *ept_name,
		   uint32_t ept_addr, uint32_t ept_raddr, void *poll_arg, rpmsg_rpc_poll poll,
		   rpmsg_rpc_shutdown_cb shutdown_cb);

/** Destroy the endpoint (unless the host did) and forget the answer
 *  buffer. */
void rpmsg_rpc_release(struct rpmsg_rpc_data *rpc);

/** Send `len` bytes of request; with `resp`, wait for the answer and copy
 *  up to `resp_len` bytes of it there. Returns the bytes sent, or a
 *  negative error. Thread context. */
int rpmsg_rpc_send(struct rpmsg_rpc_data *rpc, void *req, size_t len, void *resp, size_t resp_len);

/** The proxy the system calls below use. */
void rpmsg_set_default_rpc(struct rpmsg_rpc_data *rpc);

/** The system calls, served by the host: the result the host gives, or a
 *  negative error (no default proxy, bad arguments, link down). */
int _open(const char *filename, int flags, int mode);
int _read(int fd, char *buffer, int buflen);
int _write(int fd, const char *ptr, int len);
int _close(int fd);

#ifdef __cplusplus
}
#endif
#endif
