/* The remote's system calls served by the host (amplink/rpmsg_retarget.h):
 * in a file of their own so that only a program that uses them (newlib's
 * stdio, or a direct call) links them. */
#include <string.h>

#include "amplink/rpmsg_retarget.h"

extern struct rpmsg_rpc_data *al_rpmsg_default_rpc;

#define BUF_LEN 496u /* a 512-byte buffer's payload */
#define HDR	sizeof(struct rpmsg_rpc_syscall)

/* One exchange: the header, `len` bytes of data, the answer's header (and
 * data into `rdata`, at most `rmax`). Returns int_field1 of the answer, or
 * a negative error. */
static int call(uint32_t id, int32_t f1, int32_t f2, const void *data, uint32_t len, char *rdata,
		int rmax)
{
	struct rpmsg_rpc_data *rpc = al_rpmsg_default_rpc;
	unsigned char req[BUF_LEN], resp[BUF_LEN];
	if (!rpc || HDR + len > BUF_LEN)
		return RPMSG_ERR_PARAM;
	struct rpmsg_rpc_syscall sc = {id, {f1, f2, len}};
	memcpy(req, &sc, HDR);
	if (len)
		memcpy(req + HDR, data, len);
	memset(resp, 0, HDR);
	int ret = rpmsg_rpc_send(rpc, req, HDR + len, resp, sizeof(resp));
	if (ret < 0)
		return ret;
	struct rpmsg_rpc_syscall ans;
	memcpy(&ans, resp, HDR);
	if (ans.id != id)
		return RPMSG_ERR_PARAM;
	if (rdata && ans.args.int_field1 > 0) {
		uint32_t n = ans.args.data_len;
		if (n > (uint32_t)rmax)
			n = (uint32_t)rmax;
		if (n > BUF_LEN - HDR)
			n = BUF_LEN - HDR;
		memcpy(rdata, resp + HDR, n);
	}
	return ans.args.int_field1;
}

int _open(const char *filename, int flags, int mode)
{
	if (!filename)
		return RPMSG_ERR_PARAM;
	size_t n = strlen(filename) + 1u;
	if (n > BUF_LEN - HDR)
		return RPMSG_ERR_PARAM;
	return call(OPEN_SYSCALL_ID, flags, mode, filename, (uint32_t)n, NULL, 0);
}

int _read(int fd, char *buffer, int buflen)
{
	if (!buffer || buflen <= 0)
		return RPMSG_ERR_PARAM;
	return call(READ_SYSCALL_ID, fd, buflen, NULL, 0, buffer, buflen);
}

int _write(int fd, const char *ptr, int len)
{
	if (!ptr || len < 0)
		return RPMSG_ERR_PARAM;
	/* stdout data goes with a NUL after it, as OpenAMP's host expects */
	const uint32_t nul = fd == 1 ? 1u : 0u, room = (uint32_t)(BUF_LEN - HDR) - nul;
	int done = 0;
	do {
		char chunk[BUF_LEN];
		uint32_t n = (uint32_t)(len - done) < room ? (uint32_t)(len - done) : room;
		memcpy(chunk, ptr + done, n);
		chunk[n] = '\0';
		int r = call(WRITE_SYSCALL_ID, fd, (int32_t)n, chunk, n + nul, NULL, 0);
		if (r < 0)
			return done ? done : r;
		done += (int)n;
		if ((uint32_t)r < n)
			break; /* the host wrote less */
	} while (done < len);
	return done;
}

int _close(int fd)
{
	return call(CLOSE_SYSCALL_ID, fd, 0, NULL, 0, NULL, 0);
}
