/* Driving a kernel remoteproc through sysfs and debugfs (see
 * include/amplink/linux/rproc_sysfs.h): find it, read its state, set the
 * firmware, start, stop, read the trace buffer, switch recovery. Plain
 * file I/O on the kernel's attribute files; no malloc, no output. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "amplink/linux/rproc_sysfs.h"

#define MAX_PROCS 64

static int fail(struct al_rproc_sysfs *rp, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct al_rproc_sysfs *rp, int code, const char *fmt, ...)
{
	if (rp) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(rp->err, sizeof(rp->err), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* snprintf into a path buffer; -ENAMETOOLONG if it does not fit. */
static int mkpath(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int mkpath(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Read a small file whole, trailing newlines removed. Length or -errno. */
static long read_text(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t k = read(fd, buf + n, cap - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return (long)n;
}

/* Write a word to an attribute file (no newline: sysfs and debugfs both
 * accept that). 0 or -errno, the kernel's refusal included. */
static int write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(s);
	ssize_t k;
	do {
		k = write(fd, s, len);
	} while (k < 0 && errno == EINTR);
	int e = k < 0 ? errno : (size_t)k != len ? EIO : 0;
	if (close(fd) < 0 && !e)
		e = errno;
	return -e;
}

static int perm_fail(struct al_rproc_sysfs *rp, const char *what, const char *path)
{
	if (geteuid() != 0)
		return fail(rp, -EACCES, "permission denied %s %s: run as root", what, path);
	return fail(rp, -EACCES,
		    "permission denied %s %s even as root: the driver made it read-only (the "
		    "remote is controlled elsewhere) or a security module refused",
		    what, path);
}

static int io_fail(struct al_rproc_sysfs *rp, int e, const char *what, const char *path)
{
	if (e == -EACCES || e == -EPERM)
		return perm_fail(rp, what, path);
	if (e == -ENOENT)
		return fail(rp, -ENOENT, "%s %s: no such file (the remoteproc went away?)", what,
			    path);
	return fail(rp, e, "%s %s: %s", what, path, strerror(-e));
}

static void init_roots(struct al_rproc_sysfs *rp, const struct al_rproc_sysfs_cfg *cfg)
{
	const char *sys = cfg && cfg->sysfs_root ? cfg->sysfs_root : "/sys";
	mkpath(rp->sysfs, sizeof(rp->sysfs), "%s", sys);
	if (cfg && cfg->debugfs_root)
		mkpath(rp->debugfs, sizeof(rp->debugfs), "%s", cfg->debugfs_root);
	else
		mkpath(rp->debugfs, sizeof(rp->debugfs), "%s/kernel/debug", sys);
	mkpath(rp->fw_root, sizeof(rp->fw_root), "%s",
	       cfg && cfg->firmware_root ? cfg->firmware_root : "/lib/firmware");
	if (cfg && cfg->release) {
		mkpath(rp->release, sizeof(rp->release), "%s", cfg->release);
	} else {
		struct utsname u;
		mkpath(rp->release, sizeof(rp->release), "%s",
		       uname(&u) == 0 ? u.release : "unknown");
	}
}

/* "remoteproc<digits>" -> the index, else -1. */
static int proc_index(const char *d)
{
	if (strncmp(d, "remoteproc", 10) != 0 || !d[10] || strlen(d + 10) > 6)
		return -1;
	int v = 0;
	for (const char *p = d + 10; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The indices present under <sysfs>/class/remoteproc, sorted. */
static int scan(struct al_rproc_sysfs *rp, int *idx, int max)
{
	char cls[AL_RPROC_SYSFS_PATH_MAX];
	if (mkpath(cls, sizeof(cls), "%s/class/remoteproc", rp->sysfs))
		return fail(rp, -ENAMETOOLONG, "sysfs root too long: %s", rp->sysfs);
	DIR *d = opendir(cls);
	if (!d) {
		int e = errno;
		if (e == EACCES)
			return perm_fail(rp, "listing", cls);
		return fail(rp, -ENODEV,
			    "no remoteproc class at %s: the kernel was built without "
			    "CONFIG_REMOTEPROC (or the remoteproc module is not loaded)",
			    cls);
	}
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < max) {
		int i = proc_index(de->d_name);
		if (i >= 0)
			idx[n++] = i;
	}
	closedir(d);
	qsort(idx, (size_t)n, sizeof(*idx), cmp_int);
	return n;
}

/* Fill rp for remoteproc<i> (its directory exists). */
static int bind_index(struct al_rproc_sysfs *rp, int i)
{
	rp->index = i;
	mkpath(rp->dev, sizeof(rp->dev), "remoteproc%d", i);
	if (mkpath(rp->dir, sizeof(rp->dir), "%s/class/remoteproc/%s", rp->sysfs, rp->dev) ||
	    mkpath(rp->dbg, sizeof(rp->dbg), "%s/remoteproc/%s", rp->debugfs, rp->dev))
		return fail(rp, -ENAMETOOLONG, "path too long under %s", rp->sysfs);
	char p[AL_RPROC_SYSFS_PATH_MAX + 16], nm[256];
	mkpath(p, sizeof(p), "%s/name", rp->dir);
	long k = read_text(p, nm, sizeof(nm));
	if (k < 0 && k != -ENOENT)
		return io_fail(rp, (int)k, "reading", p);
	mkpath(rp->name, sizeof(rp->name), "%s", k < 0 ? "" : nm);
	return 0;
}

int al_rproc_sysfs_open(struct al_rproc_sysfs *rp, const struct al_rproc_sysfs_cfg *cfg, int index,
			const char *name)
{
	if (!rp)
		return -EINVAL;
	memset(rp, 0, sizeof(*rp));
	rp->index = -1;
	init_roots(rp, cfg);
	if (name && (!name[0] || strlen(name) > 255))
		return fail(rp, -EINVAL, "bad remoteproc name (1 to 255 bytes)");
	int idx[MAX_PROCS] = {0};
	int n = scan(rp, idx, MAX_PROCS);
	if (n < 0)
		return n;
	char cls[AL_RPROC_SYSFS_PATH_MAX + 32];
	mkpath(cls, sizeof(cls), "%s/class/remoteproc", rp->sysfs);
	if (n == 0)
		return fail(rp, -ENOENT,
			    "no remoteproc in %s: the class exists but no driver registered a "
			    "processor (device tree node or driver module missing?)",
			    cls);
	if (index >= 0) {
		for (int j = 0; j < n; j++)
			if (idx[j] == index)
				return bind_index(rp, index);
		return fail(rp, -ENOENT,
			    "no remoteproc%d in %s (there are %d, the first is "
			    "remoteproc%d)",
			    index, cls, n, idx[0]);
	}
	if (!name)
		return bind_index(rp, idx[0]);
	char seen[160] = "";
	size_t off = 0;
	for (int j = 0; j < n; j++) {
		char p[AL_RPROC_SYSFS_PATH_MAX + 48], nm[256];
		mkpath(p, sizeof(p), "%s/remoteproc%d/name", cls, idx[j]);
		long k = read_text(p, nm, sizeof(nm));
		if (k < 0)
			continue;
		if (strcmp(nm, name) == 0)
			return bind_index(rp, idx[j]);
		if (off < sizeof(seen)) {
			int w = snprintf(seen + off, sizeof(seen) - off, "%sremoteproc%d '%s'",
					 off ? ", " : "", idx[j], nm);
			off += w > 0 ? (size_t)w : 0;
		}
	}
	return fail(rp, -ENOENT, "no remoteproc named '%s' in %s (there are: %s)", name, cls,
		    seen[0] ? seen : "none with a readable name");
}

int al_rproc_sysfs_foreach(const struct al_rproc_sysfs_cfg *cfg,
			   void (*fn)(const struct al_rproc_sysfs *rp, void *arg), void *arg,
			   char *err, size_t errlen)
{
	struct al_rproc_sysfs rp;
	memset(&rp, 0, sizeof(rp));
	init_roots(&rp, cfg);
	int idx[MAX_PROCS] = {0};
	int n = scan(&rp, idx, MAX_PROCS);
	if (n < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", rp.err);
		return n;
	}
	int visited = 0;
	for (int j = 0; j < n; j++) {
		if (al_rproc_sysfs_open(&rp, cfg, idx[j], NULL) == 0 && fn) {
			fn(&rp, arg);
			visited++;
		}
	}
	return visited;
}

static const char *const state_names[] = {
    [AL_RPS_UNKNOWN] = "unknown",     [AL_RPS_OFFLINE] = "offline",
    [AL_RPS_SUSPENDED] = "suspended", [AL_RPS_RUNNING] = "running",
    [AL_RPS_CRASHED] = "crashed",     [AL_RPS_DELETED] = "deleted",
    [AL_RPS_ATTACHED] = "attached",   [AL_RPS_DETACHED] = "detached",
    [AL_RPS_INVALID] = "invalid",
};

const char *al_rproc_sysfs_state_name(enum al_rproc_sysfs_state st)
{
	return (unsigned)st < sizeof(state_names) / sizeof(state_names[0]) ? state_names[st]
									   : "unknown";
}

int al_rproc_sysfs_state(struct al_rproc_sysfs *rp, enum al_rproc_sysfs_state *st, char *raw,
			 size_t cap)
{
	if (!rp || !st)
		return -EINVAL;
	*st = AL_RPS_UNKNOWN;
	char p[AL_RPROC_SYSFS_PATH_MAX + 16], s[64];
	mkpath(p, sizeof(p), "%s/state", rp->dir);
	long k = read_text(p, s, sizeof(s));
	if (raw && cap)
		snprintf(raw, cap, "%s", k < 0 ? "" : s);
	if (k < 0)
		return io_fail(rp, (int)k, "reading", p);
	for (unsigned i = 1; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*st = (enum al_rproc_sysfs_state)i;
			return 0;
		}
	}
	return fail(rp, -EPROTO, "unknown state '%.40s' in %s (a newer kernel?)", s, p);
}

static long read_attr(struct al_rproc_sysfs *rp, const char *base, const char *attr, char *buf,
		      size_t cap)
{
	char p[AL_RPROC_SYSFS_PATH_MAX + 32];
	if (mkpath(p, sizeof(p), "%s/%s", base, attr))
		return fail(rp, -ENAMETOOLONG, "path too long: %s/%s", base, attr);
	long k = read_text(p, buf, cap);
	if (k < 0 && k != -ENOENT)
		return io_fail(rp, (int)k, "reading", p);
	return k;
}

int al_rproc_sysfs_recovery(struct al_rproc_sysfs *rp, bool *enabled)
{
	if (!rp || !enabled)
		return -EINVAL;
	char s[32] = "";
	long k = read_attr(rp, rp->dir, "recovery", s, sizeof(s));
	if (k == -ENOENT)
		k = read_attr(rp, rp->dbg, "recovery", s, sizeof(s));
	if (k == -ENOENT)
		return fail(rp, -ENOENT,
			    "%s has no recovery setting in sysfs, nor in debugfs (%s/recovery)",
			    rp->dev, rp->dbg);
	if (k < 0)
		return (int)k;
	if (strcmp(s, "enabled") && strcmp(s, "disabled"))
		return fail(rp, -EPROTO, "unknown recovery setting '%.40s' of %s", s, rp->dev);
	*enabled = s[0] == 'e';
	return 0;
}

int al_rproc_sysfs_set_recovery(struct al_rproc_sysfs *rp, bool enable)
{
	if (!rp)
		return -EINVAL;
	const char *bases[2] = {rp->dir, rp->dbg};
	for (int i = 0; i < 2; i++) {
		char p[AL_RPROC_SYSFS_PATH_MAX + 16];
		mkpath(p, sizeof(p), "%s/recovery", bases[i]);
		int e = write_text(p, enable ? "enabled" : "disabled");
		if (e == 0)
			return 0;
		if (e != -ENOENT)
			return io_fail(rp, e, "writing", p);
	}
	return fail(rp, -ENOENT, "%s has no recovery setting in sysfs, nor in debugfs (%s)",
		    rp->dev, rp->dbg);
}

int al_rproc_sysfs_get_status(struct al_rproc_sysfs *rp, struct al_rproc_sysfs_status *st)
{
	if (!rp || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	int rc = al_rproc_sysfs_state(rp, &st->state, st->state_raw, sizeof(st->state_raw));
	if (rc && rc != -EPROTO)
		return rc;
	if (read_attr(rp, rp->dir, "firmware", st->firmware, sizeof(st->firmware)) < 0)
		st->firmware[0] = '\0';
	if (read_attr(rp, rp->dir, "coredump", st->coredump, sizeof(st->coredump)) < 0)
		st->coredump[0] = '\0';
	bool en = false;
	st->recovery = al_rproc_sysfs_recovery(rp, &en) == 0 ? (int)en : -1;
	char p[AL_RPROC_SYSFS_PATH_MAX + 16];
	mkpath(p, sizeof(p), "%s/trace0", rp->dbg);
	st->trace = access(p, F_OK) == 0;
	rp->err[0] = '\0';
	return 0;
}

int al_rproc_sysfs_check_fw_name(struct al_rproc_sysfs *rp, const char *fw)
{
	if (!fw || !fw[0])
		return fail(rp, -EINVAL, "empty firmware name");
	size_t len = strlen(fw);
	if (len > 255)
		return fail(rp, -EINVAL, "firmware name too long (%zu bytes, at most 255)", len);
	if (strchr(fw, '/'))
		return fail(rp, -EINVAL,
			    "firmware name '%.80s' contains '/': give a file name inside the "
			    "firmware directory (/lib/firmware), not a path",
			    fw);
	if (strstr(fw, ".."))
		return fail(rp, -EINVAL, "firmware name '%.80s' contains '..'", fw);
	for (const unsigned char *c = (const unsigned char *)fw; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return fail(rp, -EINVAL,
				    "firmware name contains a control character (byte 0x%02x at "
				    "%zu)",
				    *c, (size_t)(c - (const unsigned char *)fw));
	return 0;
}

int al_rproc_sysfs_find_firmware(struct al_rproc_sysfs *rp, const char *fw, char *path, size_t cap)
{
	if (!rp)
		return -EINVAL;
	int rc = al_rproc_sysfs_check_fw_name(rp, fw);
	if (rc)
		return rc;
	char dirs[5][AL_RPROC_SYSFS_PATH_MAX];
	int nd = 0;
	char p[AL_RPROC_SYSFS_PATH_MAX + 64];
	mkpath(p, sizeof(p), "%s/module/firmware_class/parameters/path", rp->sysfs);
	if (read_text(p, dirs[nd], sizeof(dirs[nd])) > 0)
		nd++;
	mkpath(dirs[nd++], sizeof(dirs[0]), "%s/updates/%s", rp->fw_root, rp->release);
	mkpath(dirs[nd++], sizeof(dirs[0]), "%s/updates", rp->fw_root);
	mkpath(dirs[nd++], sizeof(dirs[0]), "%s/%s", rp->fw_root, rp->release);
	mkpath(dirs[nd++], sizeof(dirs[0]), "%s", rp->fw_root);
	static const char *const sfx[] = {"", ".xz", ".zst"};
	for (int i = 0; i < nd; i++) {
		for (unsigned s = 0; s < 3; s++) {
			char f[AL_RPROC_SYSFS_PATH_MAX * 2];
			struct stat sb;
			mkpath(f, sizeof(f), "%s/%s%s", dirs[i], fw, sfx[s]);
			if (stat(f, &sb) == 0 && S_ISREG(sb.st_mode)) {
				if (path && cap)
					snprintf(path, cap, "%s", f);
				return 0;
			}
		}
	}
	return fail(rp, -ENOENT,
		    "firmware '%.80s' not found in the kernel's search path (%s, %s, %s, %s%s%s): "
		    "install it there first",
		    fw, dirs[nd - 4], dirs[nd - 3], dirs[nd - 2], dirs[nd - 1], nd == 5 ? ", " : "",
		    nd == 5 ? dirs[0] : "");
}

/* Read the state for a transition, with the error already in rp->err. */
static int state_for(struct al_rproc_sysfs *rp, enum al_rproc_sysfs_state *st, char *raw,
		     size_t cap)
{
	int rc = al_rproc_sysfs_state(rp, st, raw, cap);
	if (rc == -EPROTO)
		return fail(rp, -EBUSY,
			    "%s is in a state this tool does not know ('%s'): not "
			    "changing it",
			    rp->dev, raw);
	return rc;
}

int al_rproc_sysfs_set_firmware(struct al_rproc_sysfs *rp, const char *fw)
{
	if (!rp)
		return -EINVAL;
	int rc = al_rproc_sysfs_find_firmware(rp, fw, NULL, 0);
	if (rc)
		return rc;
	enum al_rproc_sysfs_state st;
	char raw[64];
	rc = state_for(rp, &st, raw, sizeof(raw));
	if (rc)
		return rc;
	if (st != AL_RPS_OFFLINE)
		return fail(rp, -EBUSY,
			    "%s is %s: the kernel takes a new firmware name only while offline "
			    "(stop it first)",
			    rp->dev, raw);
	char p[AL_RPROC_SYSFS_PATH_MAX + 16];
	mkpath(p, sizeof(p), "%s/firmware", rp->dir);
	int e = write_text(p, fw);
	if (e == -EBUSY)
		return fail(rp, -EBUSY,
			    "the kernel refused the new firmware name: %s is no "
			    "longer offline",
			    rp->dev);
	return e ? io_fail(rp, e, "writing", p) : 0;
}

int al_rproc_sysfs_start(struct al_rproc_sysfs *rp)
{
	if (!rp)
		return -EINVAL;
	enum al_rproc_sysfs_state st;
	char raw[64];
	int rc = state_for(rp, &st, raw, sizeof(raw));
	if (rc)
		return rc;
	char fw[256] = "";
	switch (st) {
	case AL_RPS_OFFLINE:
		if (read_attr(rp, rp->dir, "firmware", fw, sizeof(fw)) < 0 || !fw[0])
			return fail(rp, -ENOENT, "%s has no firmware name set (%s/firmware)",
				    rp->dev, rp->dir);
		rc = al_rproc_sysfs_find_firmware(rp, fw, NULL, 0);
		if (rc == -EINVAL) /* a name set by someone else: let the kernel judge */
			break;
		if (rc)
			return rc;
		break;
	case AL_RPS_DETACHED: break; /* the kernel attaches to the running remote */
	case AL_RPS_RUNNING:
	case AL_RPS_ATTACHED: return fail(rp, -EBUSY, "%s is already %s", rp->dev, raw);
	case AL_RPS_CRASHED:
		return fail(rp, -EBUSY,
			    "%s crashed and was not recovered (recovery disabled?): stop it, then "
			    "start it, or enable recovery",
			    rp->dev);
	default: return fail(rp, -EBUSY, "%s is %s: cannot start it from there", rp->dev, raw);
	}
	char p[AL_RPROC_SYSFS_PATH_MAX + 16];
	mkpath(p, sizeof(p), "%s/state", rp->dir);
	int e = write_text(p, "start");
	if (e == 0)
		return 0;
	if (e == -EACCES || e == -EPERM)
		return perm_fail(rp, "writing", p);
	if (e == -ENOENT && fw[0])
		return fail(rp, -ENOENT,
			    "the kernel could not load firmware '%s' for %s (request_firmware: %s; "
			    "see dmesg)",
			    fw, rp->dev, strerror(-e));
	return fail(rp, e, "the kernel refused to start %s: %s (see dmesg)", rp->dev, strerror(-e));
}

int al_rproc_sysfs_stop(struct al_rproc_sysfs *rp)
{
	if (!rp)
		return -EINVAL;
	enum al_rproc_sysfs_state st;
	char raw[64];
	int rc = state_for(rp, &st, raw, sizeof(raw));
	if (rc)
		return rc;
	if (st != AL_RPS_RUNNING && st != AL_RPS_ATTACHED && st != AL_RPS_CRASHED)
		return fail(rp, -EBUSY, "%s is %s: nothing to stop", rp->dev, raw);
	char p[AL_RPROC_SYSFS_PATH_MAX + 16];
	mkpath(p, sizeof(p), "%s/state", rp->dir);
	int e = write_text(p, "stop");
	if (e == -EACCES || e == -EPERM)
		return perm_fail(rp, "writing", p);
	if (e)
		return fail(rp, e, "the kernel refused to stop %s: %s (see dmesg)", rp->dev,
			    strerror(-e));
	if (al_rproc_sysfs_state(rp, &st, raw, sizeof(raw)) == 0 &&
	    (st == AL_RPS_RUNNING || st == AL_RPS_ATTACHED))
		return fail(rp, -EBUSY,
			    "%s is still %s after stop: other users hold it (a kernel driver, "
			    "or an earlier start of a running remote took a second reference)",
			    rp->dev, raw);
	rp->err[0] = '\0';
	return 0;
}

/* Is the directory missing or empty (an unmounted mount point)? */
static bool empty_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return errno != EACCES;
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)) != NULL)
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

long al_rproc_sysfs_read_trace(struct al_rproc_sysfs *rp, unsigned n, char *buf, size_t cap)
{
	if (!rp || !buf || !cap)
		return -EINVAL;
	buf[0] = '\0';
	char p[AL_RPROC_SYSFS_PATH_MAX + 32];
	mkpath(p, sizeof(p), "%s/trace%u", rp->dbg, n);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		char rd[AL_RPROC_SYSFS_PATH_MAX + 16];
		mkpath(rd, sizeof(rd), "%s/remoteproc", rp->debugfs);
		if (e == EACCES || e == EPERM)
			return perm_fail(rp, "reading", p);
		if (access(rp->dbg, F_OK) == 0)
			return fail(rp, -ENOENT,
				    "no trace%u for %s: the remote is not running, or its resource "
				    "table has no RSC_TRACE entry",
				    n, rp->dev);
		if (errno == EACCES && geteuid() != 0)
			return perm_fail(rp, "reading", rp->debugfs);
		if (access(rd, F_OK) == 0)
			return fail(rp, -ENOENT, "no %s in debugfs (%s)", rp->dev, rd);
		if (empty_dir(rp->debugfs))
			return fail(rp, -ENOENT,
				    "debugfs is not mounted at %s: mount -t debugfs "
				    "none %s",
				    rp->debugfs, rp->debugfs);
		return fail(rp, -ENOENT,
			    "debugfs at %s has no remoteproc directory (kernel without "
			    "CONFIG_DEBUG_FS?)",
			    rp->debugfs);
	}
	size_t len = 0;
	while (len + 1 < cap) {
		ssize_t k = read(fd, buf + len, cap - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	buf[len] = '\0';
	return (long)len;
}
