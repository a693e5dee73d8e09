/* The link options every command takes (--link, --doorbell, ...) and the
 * host side's way onto a link: attach as the virtio driver, open a
 * service's channel, detach. */
#define _GNU_SOURCE
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amplink.h"
#include "amplink/linux/channel.h"

void link_opts_init(struct link_opts *o, unsigned role)
{
	memset(o, 0, sizeof(*o));
	o->cfg.name = "amplink";
	o->cfg.role = role;
	o->cfg.doorbell = AL_DB_EVENTFD;
	o->cfg.doorbell_any = true;
}

/* --allow-uid USER / --allow-gid GROUP: a name or a number, up to 8 each. */
static bool allow_opt(struct link_opts *o, bool user, const char *arg, const char *cmd)
{
	uint32_t v;
	if (!parse_u32(arg, &v)) {
		struct passwd *pw = user ? getpwnam(arg) : NULL;
		struct group *gr = user ? NULL : getgrnam(arg);
		if (!pw && !gr) {
			fprintf(stderr, "amplink %s: no %s named '%s'\n", cmd,
				user ? "user" : "group", arg);
			exit(EXIT_USAGE);
		}
		v = pw ? (uint32_t)pw->pw_uid : (uint32_t)gr->gr_gid;
	}
	struct al_peer_policy *p = &o->cfg.allow;
	unsigned *n = user ? &p->n_uids : &p->n_gids;
	if (*n >= 8) {
		fprintf(stderr, "amplink %s: at most 8 --allow-%s options\n", cmd,
			user ? "uid" : "gid");
		exit(EXIT_USAGE);
	}
	(user ? o->allow_uid : o->allow_gid)[(*n)++] = v;
	p->uids = o->allow_uid;
	p->gids = o->allow_gid;
	return true;
}

bool link_opt(struct link_opts *o, int c, const char *arg, const char *cmd)
{
	uint32_t v;
	switch (c) {
	case OPT_LINK:
		if (strlen(arg) > 63) {
			fprintf(
			    stderr,
			    "amplink %s: link name '%.20s...' is %zu characters long; at most 63\n",
			    cmd, arg, strlen(arg));
			exit(EXIT_USAGE);
		}
		o->cfg.name = arg;
		return true;
	case OPT_ALLOW_UID:
	case OPT_ALLOW_GID: return allow_opt(o, c == OPT_ALLOW_UID, arg, cmd);
	case OPT_PROFILE:
		if (strcmp(arg, "openamp") && strcmp(arg, "amplink")) {
			fprintf(stderr, "amplink %s: unknown profile '%s' (amplink, openamp)\n",
				cmd, arg);
			exit(EXIT_USAGE);
		}
		o->cfg.profile =
		    strcmp(arg, "openamp") == 0 ? AL_PROFILE_OPENAMP : AL_PROFILE_AMPLINK;
		return true;
	case OPT_SHM: o->cfg.shm_path = arg; return true;
	case OPT_EVENT: o->cfg.event_path = arg; return true;
	case OPT_DOORBELL: {
		int k = al_doorbell_parse(arg);
		if (k < 0) {
			fprintf(
			    stderr,
			    "amplink %s: unknown doorbell '%s' (eventfd, futex, poll, adaptive)\n",
			    cmd, arg);
			exit(EXIT_USAGE);
		}
		o->cfg.doorbell = (enum al_doorbell_kind)k;
		o->cfg.doorbell_any = false;
		return true;
	}
	case OPT_NUM:
	case OPT_BUFSIZE:
	case OPT_TIMEOUT:
		if (!parse_u32(arg, &v)) {
			fprintf(stderr, "amplink %s: '%s' is not a number\n", cmd, arg);
			exit(EXIT_USAGE);
		}
		if (c == OPT_NUM)
			o->cfg.num = v;
		else if (c == OPT_BUFSIZE)
			o->cfg.buf_size = v;
		else
			o->cfg.connect_timeout_ms = v;
		return true;
	default: return false;
	}
}

const char *link_usage(void)
{
	return "link options:\n"
	       "  --link NAME        link name (default amplink); both sides must agree\n"
	       "  --doorbell KIND    eventfd | futex | poll | adaptive (remote: offered,\n"
	       "                     default eventfd; host: required, default any)\n"
	       "  --num N            vring entries (remote: default 256; host: expected)\n"
	       "  --buf-size BYTES   buffer size incl. 16-byte header (default 512)\n"
	       "  --timeout MS       how long to wait for the peer (default 5000)\n"
	       "  --profile P        amplink (default) | openamp: OpenAMP's Linux reference\n"
	       "                     machine layout and socket doorbell (docs/openamp-profile.md)\n"
	       "  --shm PATH         openamp profile: shared file (/dev/shm/openamp.shm)\n"
	       "  --event PATH       openamp profile: doorbell socket (/tmp/openamp.event.0)\n"
	       "  --allow-uid USER   admit this user as the peer too (default: only our own;\n"
	       "                     docs/security.md); repeatable\n"
	       "  --allow-gid GROUP  admit members of this group as the peer too; repeatable\n";
}

int host_open(struct link_opts *o, struct al_posix_link **link)
{
	o->cfg.ns_bind_cb = al_services_ns_bind;
	o->cfg.ns_unbind_cb = al_services_ns_unbind;
	return al_posix_open(&o->cfg, link);
}

void host_close(struct al_posix_link *link)
{
	if (!link)
		return;
	struct rpmsg_device *rdev = al_posix_rdev(link);
	al_posix_close(link);
	al_services_clear(rdev);
}

int host_open_channel(struct link_opts *o, const char *service, const char *cmd,
		      struct al_posix_link **link, struct al_channel **ch)
{
	int rc = host_open(o, link);
	if (rc)
		return rc;
	rc = al_channel_open(al_posix_rdev(*link), service, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, 5000,
			     ch);
	if (rc) {
		fprintf(stderr, "amplink %s: service '%s' not available: %s\n", cmd, service,
			al_strerror(rc));
		host_close(*link);
		*link = NULL;
	}
	return rc;
}
