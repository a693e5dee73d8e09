/* Publishing a metrics snapshot to other local processes, and fetching
 * one (metrics_sock.h). One short connection per snapshot: no state is
 * kept per client, and a client that stalls is cut off by a send timeout
 * instead of holding the server up. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "amplink/error.h"
#include "amplink/linux/metrics_sock.h"

#define IO_TIMEOUT_MS 1000 /* a client has this long to take its snapshot */

struct al_metrics_server {
	int lfd, stop_efd;
	pthread_t thread;
	al_metrics_fill_fn fill;
	void *user;
	uint32_t uids[16], gids[16];
	struct al_peer_policy allow;
	struct al_metrics *snap;
};

static socklen_t make_addr(const char *link, bool host, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* sun_path[0] = '\0': abstract namespace, nothing left behind */
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "amplink-metrics.%s.%s", link,
			 host ? "host" : "remote");
	if (n < 0 || (size_t)n >= sizeof(a->sun_path) - 1)
		n = (int)sizeof(a->sun_path) - 2;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* Our user, root, or whom the policy admits. */
static int admitted(int fd, const struct al_peer_policy *p)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && len == sizeof(cr) &&
	    cr.uid == 0)
		return 0;
	return al_posix_peer_check(fd, p, NULL, 0);
}

static void set_timeouts(int fd, uint32_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static bool send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void answer(struct al_metrics_server *s, int fd)
{
	if (admitted(fd, &s->allow) != 0)
		return; /* another user's process: nothing */
	set_timeouts(fd, IO_TIMEOUT_MS);
	al_metrics_init(s->snap);
	s->fill(s->snap, s->user);
	struct al_metrics_wire_hdr h = {.version = AL_METRICS_VERSION,
					.size = (uint32_t)sizeof(*s->snap)};
	memcpy(h.magic, AL_METRICS_MAGIC, sizeof(h.magic));
	if (send_all(fd, &h, sizeof(h)))
		send_all(fd, s->snap, sizeof(*s->snap));
}

static void *serve(void *arg)
{
	struct al_metrics_server *s = arg;
	for (int fd; (fd = al_posix_accept_or_stop(s->lfd, s->stop_efd)) >= 0;) {
		answer(s, fd);
		close(fd);
	}
	return NULL;
}

int al_metrics_serve(const char *link, bool host, const struct al_peer_policy *allow,
		     al_metrics_fill_fn fill, void *user, struct al_metrics_server **out)
{
	if (!link || !fill || !out)
		return AL_EINVAL;
	*out = NULL;
	struct al_metrics_server *s = calloc(1, sizeof(*s));
	if (!s || !(s->snap = malloc(sizeof(*s->snap)))) {
		free(s);
		return AL_ENOMEM;
	}
	s->fill = fill;
	s->user = user;
	if (allow) {
		s->allow.n_uids = allow->n_uids < 16 ? allow->n_uids : 16;
		s->allow.n_gids = allow->n_gids < 16 ? allow->n_gids : 16;
		if (s->allow.n_uids)
			memcpy(s->uids, allow->uids, s->allow.n_uids * sizeof(uint32_t));
		if (s->allow.n_gids)
			memcpy(s->gids, allow->gids, s->allow.n_gids * sizeof(uint32_t));
		s->allow.uids = s->uids;
		s->allow.gids = s->gids;
	}
	struct sockaddr_un a;
	socklen_t alen = make_addr(link, host, &a);
	int rc = AL_ENOMEM;
	s->stop_efd = eventfd(0, EFD_CLOEXEC);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd >= 0 && s->stop_efd >= 0) {
		if (bind(s->lfd, (struct sockaddr *)&a, alen) < 0 || listen(s->lfd, 8) < 0)
			rc = errno == EADDRINUSE ? AL_EADDR : AL_EINIT;
		else if (pthread_create(&s->thread, NULL, serve, s) == 0)
			rc = 0;
	}
	if (rc) {
		if (s->lfd >= 0)
			close(s->lfd);
		if (s->stop_efd >= 0)
			close(s->stop_efd);
		free(s->snap);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void al_metrics_server_stop(struct al_metrics_server *s)
{
	if (!s)
		return;
	uint64_t one = 1;
	if (write(s->stop_efd, &one, sizeof(one)) < 0) {
		/* an eventfd write cannot fail short of a bug: the join below
		 * would then hang, so say so loudly */
		perror("amplink: metrics server stop");
	}
	pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->stop_efd);
	free(s->snap);
	free(s);
}

/* ---- reading ----------------------------------------------------------------- */

static int say(char *why, size_t n, int rc, const char *fmt, const char *arg)
{
	if (why && n)
		snprintf(why, n, fmt, arg);
	return rc;
}

int al_metrics_decode(const void *buf, size_t len, struct al_metrics *out, char *why, size_t n)
{
	struct al_metrics_wire_hdr h;
	if (len < sizeof(h))
		return say(why, n, AL_EPROTO, "%s", "metrics snapshot: shorter than its header");
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, AL_METRICS_MAGIC, sizeof(h.magic)) != 0 ||
	    h.version != AL_METRICS_VERSION)
		return say(why, n, AL_EPROTO, "%s",
			   "metrics snapshot: not one this build reads (magic or version)");
	if (h.size != sizeof(*out) || len != sizeof(h) + sizeof(*out))
		return say(why, n, AL_EPROTO, "%s",
			   "metrics snapshot: size differs from this build's (another amplink "
			   "version serves the link?)");
	memcpy(out, (const char *)buf + sizeof(h), sizeof(*out));
	return al_metrics_validate(out, why, n);
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

int al_metrics_fetch(const char *link, bool host, const struct al_peer_policy *allow,
		     uint32_t timeout_ms, struct al_metrics *out, char *why, size_t n)
{
	if (!link || !out)
		return AL_EINVAL;
	struct sockaddr_un a;
	socklen_t alen = make_addr(link, host, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return say(why, n, AL_ENOMEM, "cannot make a socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&a, alen) < 0) {
		close(fd);
		return say(why, n, AL_ENOLINK, "no process serves the metrics of link '%s'", link);
	}
	if (admitted(fd, allow) != 0) {
		close(fd);
		return say(why, n, AL_EPERM,
			   "the process serving link '%s' runs as another user (--allow-uid to "
			   "trust it)",
			   link);
	}
	/* one buffer one byte larger than a valid answer: more is an error */
	size_t cap = sizeof(struct al_metrics_wire_hdr) + sizeof(*out) + 1, got = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return AL_ENOMEM;
	}
	uint64_t end = now_ms() + timeout_ms;
	int rc = 0;
	for (;;) {
		uint64_t t = now_ms();
		if (t >= end) {
			rc = say(why, n, AL_ETIMEDOUT,
				 "the process serving link '%s' did not answer in time", link);
			break;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(end - t)) <= 0)
			continue;
		ssize_t r = recv(fd, buf + got, cap - got, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == cap)
			break; /* too long: refused below */
	}
	close(fd);
	if (rc == 0 && got == 0) /* closed unanswered: what a server does to a stranger */
		rc = say(why, n, AL_EPERM,
			 "the process serving link '%s' closed without an answer (it does not "
			 "admit this user: --allow-uid on its side)",
			 link);
	if (rc == 0)
		rc = al_metrics_decode(buf, got, out, why, n);
	free(buf);
	return rc;
}
