/* The link options every command takes (--link, --doorbell, ...) and the
 * host side's way onto a link: attach as the virtio driver, open a
 * service's channel, detach. With --link kernel[:CTRL] the channels come
 * from the Linux kernel's rpmsg_char instead (amplink/linux/rpmsg_char.h),
 * through the same channel API: this file is the one place that tells
 * the two apart. */
#define _GNU_SOURCE
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "amplink/linux/rpmsg_char.h"

/* What virtio rpmsg carries per message: 512-byte buffers less the 16-byte
 * header. The kernel does not tell user space. */
#define KERNEL_TX_MAX 496

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
	o->cmd = cmd;
	o->link_set |= c == OPT_LINK;
	o->doorbell_set |= c == OPT_DOORBELL;
	o->num_set |= c == OPT_NUM;
	o->buf_size_set |= c == OPT_BUFSIZE;
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

int link_opts_check(const struct link_opts *o)
{
	if (o->cfg.profile != AL_PROFILE_OPENAMP)
		return 0;
	const char *why = NULL;
	if (o->link_set)
		why = "--link does not apply in the OpenAMP profile: its peers meet on the "
		      "event socket (--event) and the shared file (--shm)";
	else if (o->doorbell_set)
		why = "--doorbell does not apply in the OpenAMP profile: its doorbell is one "
		      "byte on the event socket (--event)";
	else if (o->num_set && o->cfg.num != 256)
		why = "--num: the OpenAMP profile's layout fixes 256-entry vrings";
	else if (o->buf_size_set && o->cfg.buf_size != 512)
		why = "--buf-size: the OpenAMP profile's layout fixes 512-byte buffers";
	if (!why)
		return 0;
	fprintf(stderr, "amplink %s: %s\n", o->cmd ? o->cmd : "", why);
	return AL_EINVAL;
}

const char *link_where(const struct link_opts *o)
{
	static char buf[600];
	if (o->cfg.profile == AL_PROFILE_OPENAMP)
		snprintf(buf, sizeof(buf), "OpenAMP event socket %s",
			 o->cfg.event_path ? o->cfg.event_path : "/tmp/openamp.event.0");
	else
		snprintf(buf, sizeof(buf), "link '%s'", o->cfg.name);
	return buf;
}

uint32_t link_payload_max_known(const struct link_opts *o)
{
	if (o->cfg.profile == AL_PROFILE_OPENAMP)
		return 512 - 16;
	return o->cfg.buf_size > 16 ? o->cfg.buf_size - 16 : 0;
}

const char *link_usage(void)
{
	return "link options:\n"
	       "  --link NAME        link name (default amplink); both sides must agree;\n"
	       "                     kernel or kernel:/dev/rpmsg_ctrlN: the Linux kernel's\n"
	       "                     rpmsg_char (channels by service name; --timeout\n"
	       "                     bounds the wait for the service, the other link\n"
	       "                     options do not apply)\n"
	       "  --doorbell KIND    eventfd | futex | poll | adaptive (remote: offered,\n"
	       "                     default eventfd; host: required, default any)\n"
	       "  --num N            vring entries (remote: default 256; host: expected)\n"
	       "  --buf-size BYTES   buffer size incl. 16-byte header (default 512)\n"
	       "  --timeout MS       how long to wait for the peer (default 5000; openamp\n"
	       "                     profile: host 49500 as OpenAMP's, remote forever)\n"
	       "  --profile P        amplink (default) | openamp: OpenAMP's Linux reference\n"
	       "                     machine layout and socket doorbell "
	       "(docs/openamp-profile.md);\n"
	       "                     --link, --doorbell, --num, --buf-size do not apply\n"
	       "  --shm PATH         openamp profile: shared file (/dev/shm/openamp.shm)\n"
	       "  --event PATH       openamp profile: doorbell socket (/tmp/openamp.event.0)\n"
	       "  --allow-uid USER   admit this user as the peer too (default: only our own;\n"
	       "                     docs/security.md); repeatable\n"
	       "  --allow-gid GROUP  admit members of this group as the peer too; repeatable\n";
}

bool link_is_kernel(const struct link_opts *o)
{
	return al_rpmsg_char_is_kernel_link(o->cfg.name, NULL);
}

const struct al_rpmsg_char_cfg *kernel_cfg(void)
{
	static char sys[512], dev[512];
	static struct al_rpmsg_char_cfg c;
	const char *root = getenv("AMPLINK_KERNEL_ROOT");
	if (!root || !root[0])
		return NULL;
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(dev, sizeof(dev), "%s/dev", root);
	c = (struct al_rpmsg_char_cfg){.sysfs_root = sys, .dev_root = dev};
	return &c;
}

int kernel_exit_code(int err)
{
	switch (err) {
	case AL_OK: return EXIT_OK;
	case AL_EINVAL: return EXIT_USAGE;
	case AL_ENOLINK: return EXIT_NOKERNEL;
	case AL_EPERM: return EXIT_PERM;
	case AL_ETIMEDOUT:
	case AL_EADDR:
	case AL_ESTATE: return EXIT_LINK;
	default: return EXIT_FAIL;
	}
}

int open_exit_code(const struct link_opts *o, int err)
{
	return link_is_kernel(o) ? kernel_exit_code(err) : exit_code_for(err);
}

int channel_payload_max(struct al_channel *ch, bool rx)
{
	struct rpmsg_endpoint *ept = al_channel_ept(ch);
	if (!ept || !ept->rdev)
		return rx ? (int)AL_RPMSG_CHAR_MSG_MAX : KERNEL_TX_MAX;
	return rx ? rpmsg_get_rx_buffer_size(ept) : rpmsg_get_tx_buffer_size(ept);
}

int host_open(struct link_opts *o, struct al_posix_link **link)
{
	*link = NULL;
	if (link_opts_check(o)) /* a usage error, as link_opt()'s: before connecting */
		exit(EXIT_USAGE);
	if (link_is_kernel(o))
		return 0; /* the kernel is the host: channels are opened one by one */
	o->cfg.ns_bind_cb = al_services_ns_bind;
	o->cfg.ns_unbind_cb = al_services_ns_unbind;
	int rc = al_posix_open(&o->cfg, link);
	if (rc == 0)
		host_metrics_start(o, *link);
	return rc;
}

void host_close(struct al_posix_link *link)
{
	if (!link)
		return;
	struct rpmsg_device *rdev = al_posix_rdev(link);
	host_metrics_detach(link);
	al_posix_close(link);
	al_services_clear(rdev);
}

int host_channel(const struct link_opts *o, struct al_posix_link *link, const char *service,
		 uint32_t timeout_ms, struct al_channel **ch)
{
	if (link_is_kernel(o))
		return al_channel_open_kernel_at(kernel_cfg(), o->cfg.name, service, RPMSG_ADDR_ANY,
						 RPMSG_ADDR_ANY, timeout_ms, ch);
	return al_channel_open(al_posix_rdev(link), service, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
			       timeout_ms, ch);
}

int host_via_open(void *via, const char *service, uint32_t timeout_ms, struct al_channel **out)
{
	struct host_via *v = via;
	int rc = host_channel(v->o, v->link, service, timeout_ms, out);
	if (rc && !v->failed)
		v->failed = service;
	return rc;
}

void host_channel_failed(const struct link_opts *o, const char *service, const char *cmd, int err)
{
	if (!link_is_kernel(o)) {
		fprintf(stderr, "amplink %s: service '%s' not available: %s\n", cmd, service,
			al_strerror(err));
		return;
	}
	/* the kernel's sentence went to stderr already; say what it means */
	const char *what;
	switch (kernel_exit_code(err)) {
	case EXIT_NOKERNEL:
		what = "no way there through the kernel (the line above says what is "
		       "missing: rpmsg bus, rpmsg_ctrl or /dev node)";
		break;
	case EXIT_PERM: what = "permission denied: run as root, or add a udev rule"; break;
	case EXIT_USAGE: what = "bad service or rpmsg_ctrl name (the line above says which)"; break;
	default:
		what = err == AL_ETIMEDOUT ? "absent: the remote did not announce it"
		       : err == AL_EADDR   ? "refused: the kernel would not make the endpoint, or "
					     "there is no such rpmsg_ctrl (the line above says which)"
		       : err == AL_ESTATE  ? "its /dev/rpmsgM is open in another process"
					   : al_strerror(err);
	}
	fprintf(stderr, "amplink %s: service '%s' on %s: %s\n", cmd, service, o->cfg.name, what);
}

int host_open_channel(struct link_opts *o, const char *service, const char *cmd,
		      struct al_posix_link **link, struct al_channel **ch)
{
	int rc = host_open(o, link);
	if (rc)
		return rc;
	uint32_t wait =
	    link_is_kernel(o) && o->cfg.connect_timeout_ms ? o->cfg.connect_timeout_ms : 5000;
	rc = host_channel(o, *link, service, wait, ch);
	if (rc) {
		host_channel_failed(o, service, cmd, rc);
		host_close(*link);
		*link = NULL;
	}
	return rc;
}
