/* The front-end's side of the vhost-user protocol in tests: one message
 * (header, payload, file descriptors) on the socket, as a VMM sends it;
 * and the count of open descriptors, for the tests' leak checks.
 * Include after <cmocka.h>. */
#ifndef AL_TEST_VHU_FRONTEND_H
#define AL_TEST_VHU_FRONTEND_H

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* Send request `req` with `flags` (the version bit is added) and `size`
 * payload bytes (at most 512), passing `nfds` descriptors (at most 16). */
static inline void vhu_fe_send(int fe, uint32_t req, uint32_t flags, const void *payload,
			       uint32_t size, const int *fds, unsigned int nfds)
{
	uint8_t buf[12 + 512];
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = 12 + size};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	assert_true(size <= 512 && nfds <= 16);
	memcpy(buf, &req, 4);
	flags |= 1; /* version */
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + 12, payload, size);
	if (nfds) {
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(fe, &mh, MSG_NOSIGNAL), (ssize_t)(12 + size));
}

/* Descriptors open in this process now (one more for the listing's own). */
static inline int vhu_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}
#endif
