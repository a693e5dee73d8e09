/* The I/O half of the vhost-user back-end: the listening socket, accepting
 * the front-end, reading messages with their fds, sending replies without
 * blocking, the kick and call fds and a simple poll loop. The messages
 * themselves are handled in vhost_user.c. API: include/amplink/linux/vhost_user.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vhost_user_internal.h"

int al_vhu_listen(struct al_vhu *vhu, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char tmp[sizeof(sa.sun_path)];
	int fd, n;

	if (vhu->listen_fd >= 0)
		return vhu_fail(vhu, AL_EINVAL, "already listening on %s", vhu->path);
	n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return vhu_fail(
		    vhu, AL_EINVAL,
		    "socket path %s is too long (a UNIX socket path has at most %zu bytes, "
		    "and a temporary name is bound first)",
		    path, sizeof(tmp) - 1 - 16);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return vhu_fail(vhu, AL_EINIT, "socket(AF_UNIX) failed: %s", strerror(errno));
	memcpy(sa.sun_path, tmp, (size_t)n + 1);
	unlink(tmp);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		return vhu_fail(vhu, AL_EINIT, "bind to %s failed: %s", tmp, strerror(e));
	}
	if (listen(fd, 4) != 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return vhu_fail(vhu, AL_EINIT, "listen on %s failed: %s", tmp, strerror(e));
	}
	if (rename(tmp, path) != 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return vhu_fail(vhu, AL_EINIT, "rename of %s to %s failed: %s", tmp, path,
				strerror(e));
	}
	vhu->path = strdup(path);
	if (!vhu->path) {
		close(fd);
		unlink(path);
		return vhu_fail(vhu, AL_ENOMEM, "out of memory");
	}
	vhu->listen_fd = fd;
	vhu_diag(vhu, AL_VHU_INFO, "listening on %s", path);
	return 0;
}

int al_vhu_adopt(struct al_vhu *vhu, int fd)
{
	if (vhu->conn_fd >= 0) {
		close(fd);
		return vhu_fail(vhu, AL_ESTATE,
				"a front-end is already connected; the new one is refused");
	}
	vhu->conn_fd = fd;
	vhu->err[0] = '\0';
	vhu_diag(vhu, AL_VHU_INFO, "front-end connected");
	vhu_emit(vhu, AL_VHU_EV_CONNECTED, -1);
	return 0;
}

int al_vhu_accept(struct al_vhu *vhu)
{
	int fd;

	if (vhu->listen_fd < 0)
		return vhu_fail(vhu, AL_ESTATE, "accept called while not listening");
	fd = accept4(vhu->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED)
			return 0;
		return vhu_fail(vhu, AL_EINIT, "accept on %s failed: %s", vhu->path,
				strerror(errno));
	}
	if (vhu->conn_fd >= 0) {
		close(fd);
		vhu_diag(vhu, AL_VHU_WARNING,
			 "a second front-end connected and was refused (one at a time)");
		return 0;
	}
	al_vhu_adopt(vhu, fd);
	return 1;
}

/* ---- reading messages ---- */

/* Wait until fd is readable, up to ms (-1: forever). 1 ready, 0 timeout. */
int vhu_wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int rc;

	do {
		rc = poll(&p, 1, ms);
	} while (rc < 0 && errno == EINTR);
	return rc > 0;
}

/* Read exactly len bytes into buf, collecting any fds into m. The first
 * wait is first_ms, later ones the message timeout. 0, or AL_ENOLINK (clean
 * close before any byte when at_start), or an error with vhu->err set. */
int vhu_read_full(struct al_vhu *vhu, struct vhu_msg *m, void *buf, size_t len, bool at_start,
		  const char *what)
{
	size_t got = 0;

	while (got < len) {
		union {
			char b[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {.iov_base = (char *)buf + got, .iov_len = len - got};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.b,
				    .msg_controllen = sizeof(ctl.b)};
		int ms = (at_start && got == 0) ? -1 : vhu->cfg.msg_timeout_ms;
		if (!vhu_wait_readable(vhu->conn_fd, ms))
			return vhu_fail(
			    vhu, AL_EPROTO,
			    "front-end stalled mid-message: %zu of %zu %s bytes after %d ms", got,
			    len, what, ms);
		ssize_t n = recvmsg(vhu->conn_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return vhu_fail(vhu, AL_ENOLINK, "reading from the front-end failed: %s",
					strerror(errno));
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int *fds = (int *)(void *)CMSG_DATA(c);
			for (size_t j = 0; j < k; j++) {
				if (m->nfds < VHU_MAX_FDS)
					m->fds[m->nfds++] = fds[j];
				else
					close(fds[j]);
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			return vhu_fail(vhu, AL_EPROTO,
					"front-end sent more than %d fds with one message",
					VHU_MAX_FDS);
		if (n == 0) {
			if (at_start && got == 0 && m->nfds == 0)
				return AL_ENOLINK;
			return vhu_fail(
			    vhu, AL_EPROTO,
			    "front-end closed the connection mid-message (after %zu of %zu %s "
			    "bytes)",
			    got, len, what);
		}
		got += (size_t)n;
	}
	return 0;
}

int vhu_send_reply(struct al_vhu *vhu, const struct vhu_msg *m, const struct vhu_reply *r)
{
	uint8_t buf[VHU_HDR_SIZE + sizeof(r->payload)];
	size_t len = VHU_HDR_SIZE + r->size, off = 0;

	vhu_put32(buf, m->request);
	vhu_put32(buf + 4, VHU_VERSION | VHU_FLAG_REPLY);
	vhu_put32(buf + 8, r->size);
	memcpy(buf + VHU_HDR_SIZE, r->payload, r->size);
	while (off < len) {
		ssize_t n = send(vhu->conn_fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* A front-end that does not read its replies must not
			 * block the server forever. */
			struct pollfd p = {.fd = vhu->conn_fd, .events = POLLOUT};
			if (poll(&p, 1, vhu->cfg.msg_timeout_ms) > 0)
				continue;
			return vhu_fail(
			    vhu, AL_EPROTO,
			    "the front-end has not read its replies for %d ms (reply to %s)",
			    vhu->cfg.msg_timeout_ms, al_vhu_request_name(m->request));
		}
		if (n < 0)
			return vhu_fail(vhu, AL_ENOLINK, "reply to %s failed: %s",
					al_vhu_request_name(m->request), strerror(errno));
		off += (size_t)n;
	}
	return 0;
}

/* ---- kicks, calls ---- */

int al_vhu_drain_kick(struct al_vhu *vhu, unsigned int vring)
{
	int fd, kicks = 0;

	if (vring >= vhu->nvr)
		return vhu_fail(vhu, AL_EINVAL, "vring %u does not exist", vring);
	fd = vhu->vr[vring].kick_fd;
	if (fd < 0)
		return 0;
	for (int rounds = 0; rounds < 64 && vhu_wait_readable(fd, 0); rounds++) {
		uint8_t buf[64];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (n == 8 && vhu_fd_kind(fd) == AL_VHU_FD_EVENTFD) {
			uint64_t c;
			memcpy(&c, buf, 8);
			kicks += c > INT_MAX / 2 ? INT_MAX / 2 : (int)c;
		} else {
			kicks += (int)n;
		}
		if (kicks >= INT_MAX / 2)
			break;
	}
	return kicks;
}

int al_vhu_call(struct al_vhu *vhu, unsigned int vring)
{
	const uint64_t one = 1;
	const struct al_vhu_vring *v;
	ssize_t n;

	if (vring >= vhu->nvr)
		return vhu_fail(vhu, AL_EINVAL, "vring %u does not exist", vring);
	v = &vhu->vr[vring];
	if (v->call_fd < 0)
		return AL_EAGAIN;
	if (v->call_kind == AL_VHU_FD_SOCKET) {
		do {
			n = send(v->call_fd, &one, sizeof(one), MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
	} else {
		struct pollfd p = {.fd = v->call_fd, .events = POLLOUT};
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT)) {
			do {
				n = write(v->call_fd, &one, sizeof(one));
			} while (n < 0 && errno == EINTR);
		} else if (p.revents & (POLLERR | POLLHUP)) {
			n = -1;
			errno = EPIPE;
		} else {
			return 0; /* full: a signal is pending already */
		}
	}
	if (n == (ssize_t)sizeof(one) || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
		return 0;
	return vhu_fail(vhu, AL_ENOLINK, "signalling vring %u's call fd failed: %s", vring,
			n < 0 ? strerror(errno) : "short write");
}

int al_vhu_run(struct al_vhu *vhu, int timeout_ms)
{
	struct pollfd p[1 + AL_VHU_MAX_VRINGS];
	int ring_of[1 + AL_VHU_MAX_VRINGS];
	int n = 0, rc, done = 0, err = 0;

	if (vhu->conn_fd >= 0) {
		p[n] = (struct pollfd){.fd = vhu->conn_fd, .events = POLLIN};
		ring_of[n++] = -1;
		for (unsigned int i = 0; i < vhu->nvr; i++)
			if (vhu->vr[i].ready && vhu->vr[i].kick_fd >= 0) {
				p[n] = (struct pollfd){.fd = vhu->vr[i].kick_fd, .events = POLLIN};
				ring_of[n++] = (int)i;
			}
	} else if (vhu->listen_fd >= 0) {
		p[n] = (struct pollfd){.fd = vhu->listen_fd, .events = POLLIN};
		ring_of[n++] = -2;
	} else {
		return vhu_fail(vhu, AL_ESTATE, "neither listening nor connected");
	}
	do {
		rc = poll(p, (nfds_t)n, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return 0;
	/* Kicks first: the message may stop the vring. */
	for (int k = 0; k < n; k++) {
		if (ring_of[k] < 0 || !p[k].revents)
			continue;
		unsigned int i = (unsigned int)ring_of[k];
		if (al_vhu_drain_kick(vhu, i) > 0 && vhu->vr[i].ready)
			vhu_emit(vhu, AL_VHU_EV_KICK, (int)i);
		done = 1;
	}
	if (p[0].revents) {
		if (ring_of[0] == -2)
			rc = al_vhu_accept(vhu);
		else
			rc = al_vhu_handle_message(vhu);
		if (rc < 0 && rc != AL_ENOLINK)
			err = rc;
		done = 1;
	}
	return err ? err : done;
}
