/* Rendezvous socket helpers for the POSIX link (see rendezvous.h). The
 * abstract namespace leaves no file behind, whatever way a process ends. */
#define _GNU_SOURCE
#include "rendezvous.h"

#include "amplink/linux/posix_port.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static socklen_t make_addr(const char *name, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* sun_path[0] = '\0': abstract namespace */
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "amplink.%s", name);
	if (n < 0 || (size_t)n >= sizeof(a->sun_path) - 1)
		n = (int)sizeof(a->sun_path) - 2;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int al_rv_listen(const char *name)
{
	struct sockaddr_un a;
	socklen_t alen = make_addr(name, &a);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, alen) < 0 || listen(fd, 4) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int al_rv_accept(int lfd, int timeout_ms)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int n = poll(&p, 1, timeout_ms);
	if (n == 0)
		return -ETIMEDOUT;
	if (n < 0)
		return -errno;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int al_rv_connect(const char *name, int timeout_ms)
{
	struct sockaddr_un a;
	socklen_t alen = make_addr(name, &a);
	uint64_t t0 = al_posix_now_ms();
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&a, alen) == 0)
			return fd;
		int e = errno;
		close(fd);
		if (e != ECONNREFUSED && e != ENOENT && e != EAGAIN)
			return -e;
		if (!al_posix_left_ms(t0, timeout_ms < 0 ? 0 : (uint32_t)timeout_ms))
			return -ETIMEDOUT;
		/* The remote may start any moment: a remote the host just
		 * spawned listens within about a millisecond, so the first
		 * 2 ms are polled every 20 us (each wasted poll delays the
		 * link by half a period on average), then every 100 us. */
		struct timespec d = {0, al_posix_now_ms() - t0 < 2 ? 20 * 1000 : 100 * 1000};
		nanosleep(&d, NULL);
	}
}

int al_rv_send(int fd, const void *msg, size_t len, const int *fds, int nfds)
{
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int) * AL_RV_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	return n < 0 ? -errno : (int)n;
}

int al_rv_recv(int fd, void *msg, size_t len, int *fds, int *nfds, int timeout_ms)
{
	*nfds = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int pr = poll(&p, 1, timeout_ms);
	if (pr == 0)
		return -ETIMEDOUT;
	if (pr < 0)
		return -errno;
	struct iovec iov = {.iov_base = msg, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int) * AL_RV_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + sizeof(int) * (size_t)i, sizeof(int));
			if (*nfds < AL_RV_MAX_FDS)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	return (int)n;
}
