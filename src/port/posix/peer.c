/* Who is on the other end of a local socket (see posix_port.h,
 * al_posix_peer_check), and the accept loop of a thread that serves
 * one (al_posix_accept_or_stop). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "amplink/error.h"
#include "amplink/linux/posix_port.h"

static bool listed(const uint32_t *v, unsigned n, uint32_t x)
{
	for (unsigned i = 0; v && i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* The decision alone: no name lookup, nothing but two getsockopt calls. */
static int admitted(int fd, const struct ucred *cr, const struct al_peer_policy *p)
{
	if (cr->uid == getuid() || (p && listed(p->uids, p->n_uids, cr->uid)))
		return 0;
	if (!p || !p->n_gids)
		return AL_EPERM;
	if (listed(p->gids, p->n_gids, cr->gid))
		return 0;
	gid_t g[256];
	socklen_t len = sizeof(g);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0)
		for (size_t i = 0; i < len / sizeof(g[0]); i++)
			if (listed(p->gids, p->n_gids, g[i]))
				return 0;
	return AL_EPERM;
}

int al_posix_peer_check(int fd, const struct al_peer_policy *p, char *who, size_t n)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (who && n)
		who[0] = '\0';
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr)) {
		if (who && n)
			snprintf(who, n, "a peer whose credentials cannot be read (%s)",
				 strerror(errno));
		return AL_EPERM;
	}
	int rc = admitted(fd, &cr, p);
	/* The user name only for the sentence about a refusal: the lookup goes
	 * through NSS (nsswitch.conf, nscd, /etc/passwd), about a millisecond
	 * that an admitted peer's link-up should not wait for. */
	if (rc && who && n) {
		char buf[1024], name[64] = "?";
		struct passwd pw, *pp = NULL;
		if (getpwuid_r(cr.uid, &pw, buf, sizeof(buf), &pp) == 0 && pp)
			snprintf(name, sizeof(name), "%s", pp->pw_name);
		snprintf(who, n, "uid %u (%s), gid %u, pid %d", (unsigned)cr.uid, name,
			 (unsigned)cr.gid, (int)cr.pid);
	}
	return rc;
}

int al_posix_accept_or_stop(int lfd, int stop_fd)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = lfd, .events = POLLIN},
				      {.fd = stop_fd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -1;
		if (p[1].revents)
			return -1;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
}
