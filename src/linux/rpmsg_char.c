/* The kernel backend for channels: rpmsg_char's /dev/rpmsg_ctrlN and
 * /dev/rpmsgM, and the channel list of /sys/bus/rpmsg/devices (see
 * include/amplink/linux/rpmsg_char.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/rpmsg.h>

#include "amplink/error.h"
#include "amplink/linux/diag.h"
#include "amplink/linux/rpmsg_char.h"
#include "sysfs_util.h"

/* Linux 5.10 and older uapi headers lack the channel ioctls; the values
 * are those of include/uapi/linux/rpmsg.h in Linux 6.1. */
#ifndef RPMSG_CREATE_DEV_IOCTL
#define RPMSG_CREATE_DEV_IOCTL _IOW(0xb5, 0x3, struct rpmsg_endpoint_info)
#endif
#ifndef RPMSG_RELEASE_DEV_IOCTL
#define RPMSG_RELEASE_DEV_IOCTL _IOW(0xb5, 0x4, struct rpmsg_endpoint_info)
#endif

_Static_assert(sizeof(((struct rpmsg_endpoint_info *)0)->name) == AL_RPMSG_CHAR_NAME_SIZE,
	       "RPMSG_NAME_SIZE");

#define PATH_CAP 512
#define MAX_LIST 256

struct al_rpmsg_char {
	int fd;	  /* /dev/rpmsgM */
	int efd;  /* readable while a message waits in buf */
	int epfd; /* what al_rpmsg_char_fd() hands out: fd + efd */
	bool created;
	uint32_t src, dst;
	long pending; /* length of the message in buf, or -1 */
	uint64_t rx, tx;
	bool gone_said; /* the vanished device was reported once */
	char path[PATH_CAP];
	uint8_t buf[];
};

struct roots {
	char sys[PATH_CAP];
	char dev[PATH_CAP];
};

static void get_roots(const struct al_rpmsg_char_cfg *cfg, struct roots *r)
{
	al_sysfs_path(r->sys, sizeof(r->sys), "%s",
		      cfg && cfg->sysfs_root ? cfg->sysfs_root : "/sys");
	al_sysfs_path(r->dev, sizeof(r->dev), "%s", cfg && cfg->dev_root ? cfg->dev_root : "/dev");
}

/* "0x400", "1024" or "-1" (RPMSG_ADDR_ANY printed with %d). */
static bool parse_addr(const char *s, uint32_t *out)
{
	if (!s[0])
		return false;
	if (!strcmp(s, "-1")) {
		*out = AL_RPMSG_CHAR_ADDR_ANY;
		return true;
	}
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (*end || errno || v < INT32_MIN || v > (long long)UINT32_MAX)
		return false;
	*out = (uint32_t)v; /* other negative values: %d of addresses above 2^31 */
	return true;
}

static bool read_addr(const char *dir, const char *attr, uint32_t *out)
{
	char p[PATH_CAP + 16], s[32];
	return al_sysfs_path(p, sizeof(p), "%s/%s", dir, attr) == 0 &&
	       al_sysfs_read(p, s, sizeof(s)) > 0 && parse_addr(s, out);
}

/* The lowest <prefix>N entry of a directory, or -1. */
static int lowest(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int best = -1;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		int v = al_sysfs_numbered(de->d_name, prefix);
		if (v >= 0 && (best < 0 || v < best))
			best = v;
	}
	closedir(d);
	return best;
}

static int no_bus(const struct roots *r)
{
	return al_diag_fail(AL_ENOLINK,
			    "no rpmsg bus at %s/bus/rpmsg: the kernel lacks CONFIG_RPMSG (and "
			    "CONFIG_RPMSG_VIRTIO), or the modules are not loaded",
			    r->sys);
}

static int perm(const char *what, const char *path)
{
	if (geteuid() != 0)
		return al_diag_fail(
		    AL_EPERM,
		    "permission denied %s %s: run as root, or give your group access "
		    "with a udev rule",
		    what, path);
	return al_diag_fail(AL_EPERM, "permission denied %s %s even as root", what, path);
}

int al_rpmsg_char_list(const struct al_rpmsg_char_cfg *cfg, struct al_rpmsg_chan_info *out, int max)
{
	struct roots r;
	get_roots(cfg, &r);
	char bus[PATH_CAP + 32];
	al_sysfs_path(bus, sizeof(bus), "%s/bus/rpmsg/devices", r.sys);
	struct dirent **ents;
	int n = scandir(bus, &ents, NULL, alphasort);
	if (n < 0) {
		if (errno == EACCES)
			return perm("listing", bus);
		return no_bus(&r);
	}
	int count = 0;
	for (int i = 0; i < n; i++) {
		const char *dn = ents[i]->d_name;
		struct al_rpmsg_chan_info ci = {.node = -1, .ctrl = -1};
		char dir[PATH_CAP + 128], p[PATH_CAP + 160], nm[256];
		bool ok = dn[0] != '.' && strlen(dn) < sizeof(ci.dev) &&
			  al_sysfs_path(dir, sizeof(dir), "%s/%s", bus, dn) == 0 &&
			  al_sysfs_path(p, sizeof(p), "%s/name", dir) == 0 &&
			  al_sysfs_read(p, nm, sizeof(nm)) > 0 && read_addr(dir, "src", &ci.src) &&
			  read_addr(dir, "dst", &ci.dst);
		if (ok) {
			memcpy(ci.dev, dn, strlen(dn) + 1);
			ci.name_truncated = strlen(nm) >= sizeof(ci.name);
			memcpy(ci.name, nm, sizeof(ci.name) - 1);
			ci.name[sizeof(ci.name) - 1] = '\0';
			char s[16];
			al_sysfs_path(p, sizeof(p), "%s/announce", dir);
			ci.announce = al_sysfs_read(p, s, sizeof(s)) > 0 && !strcmp(s, "true");
			char link[PATH_CAP];
			al_sysfs_path(p, sizeof(p), "%s/driver", dir);
			ssize_t k = readlink(p, link, sizeof(link) - 1);
			if (k > 0) {
				link[k] = '\0';
				const char *b = strrchr(link, '/');
				al_sysfs_path(ci.driver, sizeof(ci.driver), "%s", b ? b + 1 : link);
			}
			al_sysfs_path(p, sizeof(p), "%s/rpmsg", dir);
			ci.node = lowest(p, "rpmsg");
			ci.ctrl = lowest(p, "rpmsg_ctrl");
			if (out && count < max)
				out[count] = ci;
			count++;
		}
		free(ents[i]);
	}
	free(ents);
	return count;
}

/* N of "rpmsg_ctrlN", "N", or any path ending in rpmsg_ctrlN; -1 if none. */
static int ctrl_number(const char *ctrl)
{
	const char *b = strrchr(ctrl, '/');
	b = b ? b + 1 : ctrl;
	int v = al_sysfs_numbered(b, "rpmsg_ctrl");
	if (v < 0)
		v = al_sysfs_numbered(b, "");
	return v;
}

int al_rpmsg_char_find_ctrl(const struct al_rpmsg_char_cfg *cfg, const char *ctrl, char *path,
			    size_t cap)
{
	struct roots r;
	get_roots(cfg, &r);
	char cls[PATH_CAP + 32], p[PATH_CAP + 64];
	al_sysfs_path(cls, sizeof(cls), "%s/class/rpmsg", r.sys);
	int n;
	if (ctrl && ctrl[0]) {
		n = ctrl_number(ctrl);
		if (n < 0)
			return al_diag_fail(
			    AL_EINVAL,
			    "'%.100s' names no rpmsg_ctrl device (rpmsg_ctrlN, N or "
			    "/dev/rpmsg_ctrlN)",
			    ctrl);
		al_sysfs_path(p, sizeof(p), "%s/rpmsg_ctrl%d", cls, n);
		if (!al_sysfs_is_dir(p)) {
			int any = lowest(cls, "rpmsg_ctrl");
			if (any >= 0)
				return al_diag_fail(AL_EADDR,
						    "no rpmsg_ctrl%d in %s (there is rpmsg_ctrl%d)",
						    n, cls, any);
			n = -1;
		}
	} else {
		n = lowest(cls, "rpmsg_ctrl");
	}
	if (n < 0) {
		al_sysfs_path(p, sizeof(p), "%s/bus/rpmsg", r.sys);
		if (!al_sysfs_is_dir(p))
			return no_bus(&r);
		return al_diag_fail(
		    AL_ENOLINK,
		    "no rpmsg_ctrl device in %s: the kernel lacks CONFIG_RPMSG_CTRL (Linux "
		    "5.18+; CONFIG_RPMSG_CHAR before), or no remote with a virtio rpmsg "
		    "device is running",
		    cls);
	}
	char node[PATH_CAP + 32];
	al_sysfs_path(node, sizeof(node), "%s/rpmsg_ctrl%d", r.dev, n);
	if (access(node, F_OK) != 0)
		return al_diag_fail(
		    AL_ENOLINK,
		    "sysfs has rpmsg_ctrl%d but %s is missing (devtmpfs not mounted, or "
		    "udev renamed it)",
		    n, node);
	if (path && cap && al_sysfs_path(path, cap, "%s", node))
		return al_diag_fail(AL_EINVAL, "path too long: %s", node);
	return n;
}

static int cmp_ept(const void *a, const void *b)
{
	return ((const struct al_rpmsg_ept_info *)a)->node -
	       ((const struct al_rpmsg_ept_info *)b)->node;
}

/* al_rpmsg_char_list_epts(); a directory that cannot be listed is
 * reported only if `say`. */
static int list_epts(const struct al_rpmsg_char_cfg *cfg, int ctrl, struct al_rpmsg_ept_info *out,
		     int max, bool say)
{
	struct roots r;
	get_roots(cfg, &r);
	char dir[PATH_CAP + 64];
	if (ctrl >= 0)
		al_sysfs_path(dir, sizeof(dir), "%s/class/rpmsg/rpmsg_ctrl%d", r.sys, ctrl);
	else
		al_sysfs_path(dir, sizeof(dir), "%s/class/rpmsg", r.sys);
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		if (!say)
			return e == EACCES ? AL_EPERM : AL_ENOLINK;
		return e == EACCES
			   ? perm("listing", dir)
			   : al_diag_fail(AL_ENOLINK, "cannot list %s: %s", dir, strerror(e));
	}
	int count = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		int m = al_sysfs_numbered(de->d_name, "rpmsg");
		if (m < 0)
			continue;
		struct al_rpmsg_ept_info e = {.node = m};
		char sub[PATH_CAP + 96], p[PATH_CAP + 112], nm[256];
		if (al_sysfs_path(sub, sizeof(sub), "%s/%s", dir, de->d_name) ||
		    al_sysfs_path(p, sizeof(p), "%s/name", sub) ||
		    al_sysfs_read(p, nm, sizeof(nm)) < 0 || !read_addr(sub, "src", &e.src) ||
		    !read_addr(sub, "dst", &e.dst))
			continue;
		memcpy(e.name, nm, sizeof(e.name) - 1);
		e.name[sizeof(e.name) - 1] = '\0';
		if (out && count < max)
			out[count] = e;
		count++;
	}
	closedir(d);
	if (out)
		qsort(out, (size_t)(count < max ? count : max), sizeof(*out), cmp_ept);
	return count;
}

int al_rpmsg_char_list_epts(const struct al_rpmsg_char_cfg *cfg, int ctrl,
			    struct al_rpmsg_ept_info *out, int max)
{
	return list_epts(cfg, ctrl, out, max, true);
}

static int check_name(const char *name)
{
	if (!name || !name[0])
		return al_diag_fail(AL_EINVAL, "empty service name");
	if (strlen(name) >= AL_RPMSG_CHAR_NAME_SIZE)
		return al_diag_fail(
		    AL_EINVAL,
		    "service name '%.40s...' too long (%zu bytes; rpmsg names hold at most "
		    "31)",
		    name, strlen(name));
	return 0;
}

static bool vanished_errno(int e)
{
	return e == EPIPE || e == ENODEV || e == ENETRESET || e == ENXIO || e == ESHUTDOWN;
}

/* Open a node into a new handle. */
static int open_node(const char *path, uint32_t src, uint32_t dst, bool created,
		     struct al_rpmsg_char **out)
{
	struct al_rpmsg_char *k = malloc(sizeof(*k) + AL_RPMSG_CHAR_MSG_MAX);
	if (!k)
		return al_diag_fail(AL_ENOMEM, "out of memory");
	*k = (struct al_rpmsg_char){.fd = -1,
				    .efd = -1,
				    .epfd = -1,
				    .created = created,
				    .src = src,
				    .dst = dst,
				    .pending = -1};
	al_sysfs_path(k->path, sizeof(k->path), "%s", path);
	k->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	int e = errno, rc = 0;
	if (k->fd < 0) {
		if (e == EACCES || e == EPERM)
			rc = perm("opening", path);
		else if (e == EINVAL)
			rc = al_diag_fail(
			    AL_EADDR,
			    "the kernel refused the endpoint when opening %s: %s (source "
			    "address 0x%x taken?)",
			    path, strerror(e), (unsigned)src);
		else if (e == EBUSY)
			rc = al_diag_fail(AL_ESTATE, "%s is open in another process", path);
		else if (vanished_errno(e) || e == ENOENT)
			rc = al_diag_fail(AL_ENOLINK, "%s vanished before it could be opened: %s",
					  path, strerror(e));
		else
			rc = al_diag_fail(AL_EINIT, "cannot open %s: %s", path, strerror(e));
		free(k);
		return rc;
	}
	k->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	k->epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	if (k->efd < 0 || k->epfd < 0 || epoll_ctl(k->epfd, EPOLL_CTL_ADD, k->efd, &ev) < 0) {
		al_rpmsg_char_close(k);
		return al_diag_fail(AL_ENOMEM, "out of descriptors");
	}
	if (epoll_ctl(k->epfd, EPOLL_CTL_ADD, k->fd, &ev) < 0) {
		/* a plain file (a test tree) cannot be watched: hand out the file */
		close(k->epfd);
		k->epfd = -1;
	}
	*out = k;
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec d = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
	nanosleep(&d, NULL);
}

static bool seen_before(const struct al_rpmsg_ept_info *b, int nb, int node)
{
	for (int i = 0; i < nb; i++)
		if (b[i].node == node)
			return true;
	return false;
}

static int create_in(const struct al_rpmsg_char_cfg *cfg, int n, const char *cpath,
		     const char *name, uint32_t src, uint32_t dst, struct al_rpmsg_ept_info *before,
		     struct al_rpmsg_ept_info *after, struct al_rpmsg_char **out);

int al_rpmsg_char_create(const struct al_rpmsg_char_cfg *cfg, const char *ctrl, const char *name,
			 uint32_t src, uint32_t dst, struct al_rpmsg_char **out)
{
	if (!out)
		return al_diag_fail(AL_EINVAL, "no handle to fill");
	*out = NULL;
	if (!name)
		name = ""; /* by address: the kernel takes an empty name */
	if (strlen(name) >= AL_RPMSG_CHAR_NAME_SIZE)
		return check_name(name);
	int rc;
	char cpath[PATH_CAP];
	int n = al_rpmsg_char_find_ctrl(cfg, ctrl, cpath, sizeof(cpath));
	if (n < 0)
		return n;
	struct al_rpmsg_ept_info *before = calloc(2 * MAX_LIST, sizeof(*before));
	if (!before)
		return al_diag_fail(AL_ENOMEM, "out of memory");
	struct al_rpmsg_ept_info *after = before + MAX_LIST;
	rc = create_in(cfg, n, cpath, name, src, dst, before, after, out);
	free(before);
	return rc;
}

static int create_in(const struct al_rpmsg_char_cfg *cfg, int n, const char *cpath,
		     const char *name, uint32_t src, uint32_t dst, struct al_rpmsg_ept_info *before,
		     struct al_rpmsg_ept_info *after, struct al_rpmsg_char **out)
{
	int rc;
	int nb = list_epts(cfg, n, before, MAX_LIST, false);
	if (nb < 0)
		nb = 0;
	int fd = open(cpath, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			return perm("opening", cpath);
		return al_diag_fail(AL_ENOLINK, "cannot open %s: %s", cpath, strerror(e));
	}
	struct rpmsg_endpoint_info ei;
	memset(&ei, 0, sizeof(ei));
	memcpy(ei.name, name, strlen(name)); /* < 32 bytes: NUL-terminated */
	ei.src = src;
	ei.dst = dst;
	int r = ioctl(fd, RPMSG_CREATE_EPT_IOCTL, &ei);
	int e = errno;
	close(fd);
	if (r < 0)
		return al_diag_fail(
		    e == ENOTTY	  ? AL_ENOLINK
		    : e == ENOMEM ? AL_ENOMEM
				  : AL_EADDR,
		    "the kernel refused to create endpoint '%s' (src 0x%x, dst 0x%x) on %s: "
		    "%s%s",
		    name, (unsigned)src, (unsigned)dst, cpath, strerror(e),
		    e == ENOTTY ? " (not an rpmsg_ctrl device)" : "");
	/* the ioctl does not say which device it made: find the new child */
	struct roots rt;
	get_roots(cfg, &rt);
	char node[PATH_CAP + 32] = "";
	int found = -1;
	for (uint64_t t0 = mono_ms(); mono_ms() - t0 < 1000; sleep_ms(10)) {
		int na = list_epts(cfg, n, after, MAX_LIST, false);
		for (int i = 0; found < 0 && i < na && i < MAX_LIST; i++)
			if (!seen_before(before, nb < MAX_LIST ? nb : MAX_LIST, after[i].node) &&
			    !strcmp(after[i].name, name) && after[i].src == src &&
			    after[i].dst == dst)
				found = after[i].node;
		if (found >= 0) {
			al_sysfs_path(node, sizeof(node), "%s/rpmsg%d", rt.dev, found);
			if (access(node, F_OK) == 0)
				break;
		}
	}
	if (found < 0)
		return al_diag_fail(
		    AL_ENOLINK,
		    "the kernel accepted endpoint '%s' but no new rpmsgM appeared under "
		    "%s/class/rpmsg/rpmsg_ctrl%d",
		    name, rt.sys, n);
	if (access(node, F_OK) != 0)
		return al_diag_fail(AL_ENOLINK, "%s did not appear within 1 s (udev?)", node);
	rc = open_node(node, src, dst, true, out);
	if (rc == AL_EADDR)
		al_diagf(AL_DIAG_WARNING, "%s stays until the remote restarts", node);
	return rc;
}

/* Find channel `name` (dst ANY: any) in the list; prefer one with a node. */
static int find_chan(const struct al_rpmsg_chan_info *c, int n, const char *name, uint32_t dst)
{
	int best = -1;
	for (int i = 0; i < n; i++) {
		if (strcmp(c[i].name, name) || c[i].name_truncated ||
		    (dst != AL_RPMSG_CHAR_ADDR_ANY && c[i].dst != dst) || c[i].ctrl >= 0)
			continue;
		if (best < 0 || (c[best].node < 0 && c[i].node >= 0))
			best = i;
	}
	return best;
}

static void list_names(const struct al_rpmsg_chan_info *c, int n, char *s, size_t cap)
{
	size_t off = 0;
	s[0] = '\0';
	for (int i = 0; i < n && off < cap; i++) {
		int w = snprintf(s + off, cap - off, "%s%s", off ? ", " : "", c[i].name);
		off += w > 0 ? (size_t)w : 0;
	}
	if (!s[0])
		snprintf(s, cap, "none");
}

static int wait_chan_in(const struct al_rpmsg_char_cfg *cfg, const char *name, uint32_t dst,
			uint32_t timeout_ms, bool need_node, struct al_rpmsg_chan_info *ci,
			struct al_rpmsg_chan_info *c);

/* Wait up to timeout_ms for channel `name`; fills *ci. 0, AL_ETIMEDOUT,
 * or the errors of al_rpmsg_char_list(). */
static int wait_chan(const struct al_rpmsg_char_cfg *cfg, const char *name, uint32_t dst,
		     uint32_t timeout_ms, bool need_node, struct al_rpmsg_chan_info *ci)
{
	struct al_rpmsg_chan_info *c = calloc(MAX_LIST, sizeof(*c));
	if (!c)
		return al_diag_fail(AL_ENOMEM, "out of memory");
	int rc = wait_chan_in(cfg, name, dst, timeout_ms, need_node, ci, c);
	free(c);
	return rc;
}

static int wait_chan_in(const struct al_rpmsg_char_cfg *cfg, const char *name, uint32_t dst,
			uint32_t timeout_ms, bool need_node, struct al_rpmsg_chan_info *ci,
			struct al_rpmsg_chan_info *c)
{
	uint64_t t0 = mono_ms();
	for (;;) {
		int n = al_rpmsg_char_list(cfg, c, MAX_LIST);
		if (n < 0)
			return n;
		if (n > MAX_LIST)
			n = MAX_LIST;
		int i = find_chan(c, n, name, dst);
		if (i >= 0 && (!need_node || c[i].node >= 0)) {
			*ci = c[i];
			return 0;
		}
		uint64_t el = mono_ms() - t0;
		if (timeout_ms != AL_RPMSG_CHAR_FOREVER && el >= timeout_ms) {
			char names[200];
			list_names(c, n, names, sizeof(names));
			if (i >= 0)
				return al_diag_fail(
				    AL_ETIMEDOUT,
				    "channel '%s' (%s) has no /dev/rpmsgM: it is not bound to "
				    "rpmsg_chrdev (call the service rpmsg-raw on the remote, "
				    "or create an endpoint through rpmsg_ctrl)",
				    name, c[i].dev);
			return al_diag_fail(
			    AL_ETIMEDOUT,
			    "service '%s' is absent: the remote did not announce it within "
			    "%u ms (channels: %s)",
			    name, (unsigned)timeout_ms, names);
		}
		sleep_ms(20);
	}
}

int al_rpmsg_char_open_service(const struct al_rpmsg_char_cfg *cfg, const char *name, uint32_t dst,
			       uint32_t timeout_ms, struct al_rpmsg_char **out)
{
	if (!out)
		return al_diag_fail(AL_EINVAL, "no handle to fill");
	*out = NULL;
	int rc = check_name(name);
	if (rc)
		return rc;
	struct al_rpmsg_chan_info ci = {.node = -1, .ctrl = -1};
	rc = wait_chan(cfg, name, dst, timeout_ms, true, &ci);
	if (rc)
		return rc;
	struct roots r;
	get_roots(cfg, &r);
	char node[PATH_CAP + 32];
	al_sysfs_path(node, sizeof(node), "%s/rpmsg%d", r.dev, ci.node);
	if (access(node, F_OK) != 0)
		return al_diag_fail(
		    AL_ENOLINK,
		    "sysfs has rpmsg%d for '%s' but %s is missing (devtmpfs not mounted?)", ci.node,
		    name, node);
	return open_node(node, ci.src, ci.dst, false, out);
}

int al_rpmsg_char_open_channel(const struct al_rpmsg_char_cfg *cfg, const char *ctrl,
			       const char *name, uint32_t src, uint32_t dst, uint32_t timeout_ms,
			       struct al_rpmsg_char **out)
{
	if (!out)
		return al_diag_fail(AL_EINVAL, "no handle to fill");
	*out = NULL;
	if (dst == AL_RPMSG_CHAR_ADDR_ANY) {
		int rc = check_name(name);
		struct al_rpmsg_chan_info ci = {.node = -1, .ctrl = -1};
		if (!rc)
			rc = wait_chan(cfg, name, dst, timeout_ms, false, &ci);
		if (rc)
			return rc;
		if (ci.node >= 0 && src == AL_RPMSG_CHAR_ADDR_ANY)
			return al_rpmsg_char_open_service(cfg, name, ci.dst, 0, out);
		if (ci.dst == AL_RPMSG_CHAR_ADDR_ANY)
			return al_diag_fail(AL_EADDR,
					    "channel '%s' (%s) has no remote address to send to",
					    name, ci.dev);
		dst = ci.dst;
	}
	return al_rpmsg_char_create(cfg, ctrl, name, src, dst, out);
}

/* The device went away: the remote died or was stopped. Said once per
 * handle (a reader may keep asking). */
static int vanished(struct al_rpmsg_char *k, int e)
{
	if (k->gone_said)
		return AL_ENOLINK;
	k->gone_said = true;
	return al_diag_fail(AL_ENOLINK, "%s vanished: the remote died or was stopped (%s)", k->path,
			    strerror(e));
}

static void efd_set(struct al_rpmsg_char *k, bool on)
{
	uint64_t v = 1;
	ssize_t n = on ? write(k->efd, &v, sizeof(v)) : read(k->efd, &v, sizeof(v));
	(void)n;
}

/* Make sure a message waits in k->buf. 0 or an amplink code. */
static int fetch(struct al_rpmsg_char *k, uint32_t timeout_ms)
{
	uint64_t t0 = mono_ms();
	for (;;) {
		ssize_t n = read(k->fd, k->buf, AL_RPMSG_CHAR_MSG_MAX);
		if (n >= 0) {
			k->pending = (long)n;
			efd_set(k, true);
			return 0;
		}
		int e = errno;
		if (e == EINTR)
			continue;
		if (vanished_errno(e))
			return vanished(k, e);
		if (e != EAGAIN)
			return al_diag_fail(AL_EINIT, "read %s: %s", k->path, strerror(e));
		if (timeout_ms == 0)
			return AL_EAGAIN;
		uint64_t el = mono_ms() - t0;
		if (timeout_ms != AL_RPMSG_CHAR_FOREVER && el >= timeout_ms)
			return AL_ETIMEDOUT;
		uint64_t left = timeout_ms == AL_RPMSG_CHAR_FOREVER ? 1000 : timeout_ms - el;
		struct pollfd p = {.fd = k->fd, .events = POLLIN};
		int r = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (r > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) && !(p.revents & POLLIN))
			return vanished(k, EPIPE);
	}
}

long al_rpmsg_char_read(struct al_rpmsg_char *k, void *buf, size_t cap, uint32_t timeout_ms)
{
	if (!k || (!buf && cap))
		return AL_EINVAL;
	if (k->pending < 0) {
		int rc = fetch(k, timeout_ms);
		if (rc)
			return rc;
	}
	if ((size_t)k->pending > cap) {
		/* a normal outcome (al_rpmsg_char_next_len() tells the size): debug */
		al_diagf(AL_DIAG_DEBUG, "%s: message of %ld bytes, buffer of %zu: left queued",
			 k->path, k->pending, cap);
		return AL_EMSGSIZE;
	}
	long n = k->pending;
	if (n) /* a zero-length message may meet a NULL buffer */
		memcpy(buf, k->buf, (size_t)n);
	k->pending = -1;
	efd_set(k, false);
	k->rx++;
	return n;
}

long al_rpmsg_char_next_len(struct al_rpmsg_char *k)
{
	if (!k)
		return AL_EINVAL;
	if (k->pending < 0) {
		int rc = fetch(k, 0);
		if (rc)
			return rc;
	}
	return k->pending;
}

long al_rpmsg_char_write(struct al_rpmsg_char *k, const void *buf, size_t len, uint32_t timeout_ms)
{
	if (!k || (!buf && len))
		return AL_EINVAL;
	if (len > AL_RPMSG_CHAR_MSG_MAX)
		return al_diag_fail(AL_EMSGSIZE, "message of %zu bytes, at most %u", len,
				    AL_RPMSG_CHAR_MSG_MAX);
	uint64_t t0 = mono_ms();
	for (;;) {
		ssize_t n = write(k->fd, buf, len);
		if (n >= 0) {
			k->tx++;
			return (long)n;
		}
		int e = errno;
		if (e == EINTR)
			continue;
		if (vanished_errno(e))
			return vanished(k, e);
		if (e == EMSGSIZE)
			return al_diag_fail(
			    AL_EMSGSIZE,
			    "message of %zu bytes larger than the kernel's buffer (virtio "
			    "rpmsg: 496 bytes of payload)",
			    len);
		if (e != EAGAIN && e != ENOMEM)
			return al_diag_fail(AL_EINIT, "write %s: %s", k->path, strerror(e));
		uint64_t el = mono_ms() - t0;
		if (timeout_ms != AL_RPMSG_CHAR_FOREVER && el >= timeout_ms)
			return AL_ENOBUFS;
		/* short slices: POLLOUT may show a buffer another writer takes first */
		struct pollfd p = {.fd = k->fd, .events = POLLOUT};
		if (poll(&p, 1, 5) > 0 && (p.revents & (POLLERR | POLLHUP)) &&
		    !(p.revents & POLLOUT))
			return vanished(k, EPIPE);
	}
}

int al_rpmsg_char_fd(const struct al_rpmsg_char *k)
{
	return !k ? -1 : k->epfd >= 0 ? k->epfd : k->fd;
}

const char *al_rpmsg_char_path(const struct al_rpmsg_char *k)
{
	return k ? k->path : "";
}

void al_rpmsg_char_addrs(const struct al_rpmsg_char *k, uint32_t *src, uint32_t *dst)
{
	if (src)
		*src = k ? k->src : AL_RPMSG_CHAR_ADDR_ANY;
	if (dst)
		*dst = k ? k->dst : AL_RPMSG_CHAR_ADDR_ANY;
}

void al_rpmsg_char_counts(const struct al_rpmsg_char *k, uint64_t *rx, uint64_t *tx)
{
	if (rx)
		*rx = k ? k->rx : 0;
	if (tx)
		*tx = k ? k->tx : 0;
}

void al_rpmsg_char_close(struct al_rpmsg_char *k)
{
	if (!k)
		return;
	if (k->fd >= 0) {
		if (k->created) /* fails harmlessly if the remote already took it away */
			(void)ioctl(k->fd, RPMSG_DESTROY_EPT_IOCTL);
		close(k->fd);
	}
	if (k->epfd >= 0)
		close(k->epfd);
	if (k->efd >= 0)
		close(k->efd);
	free(k);
}

bool al_rpmsg_char_is_kernel_link(const char *link, const char **ctrl)
{
	if (ctrl)
		*ctrl = NULL;
	if (!link || strncmp(link, "kernel", 6) != 0 || (link[6] && link[6] != ':'))
		return false;
	if (ctrl && link[6] == ':' && link[7])
		*ctrl = link + 7;
	return true;
}
