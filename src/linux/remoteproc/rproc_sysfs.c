/* Driving a kernel remoteproc through sysfs and debugfs (see
 * include/amplink/linux/rproc_sysfs.h): find it, read its state, set the
 * firmware, start, stop, read the trace buffer, switch recovery. Plain
 * file I/O on the kernel's attribute files; no malloc. Failures are
 * amplink codes, their sentences go to the diagnostics hook. */
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

#include "amplink/error.h"
#include "amplink/linux/diag.h"
#include "amplink/linux/rproc_sysfs.h"
#include "sysfs_util.h"

#define MAX_PROCS 64

/* The amplink code for an errno of the kernel's files (see the header). */
static int kernel_code(int e)
{
	switch (e) {
	case -EACCES:
	case -EPERM: return AL_EPERM;
	case -ENOENT:
	case -ENODEV: return AL_EADDR;
	case -EBUSY: return AL_ESTATE;
	case -ETIMEDOUT: return AL_ETIMEDOUT;
	case -ENOMEM: return AL_ENOMEM;
	default: return AL_EINIT;
	}
}

static int perm_fail(const char *what, const char *path)
{
	if (geteuid() != 0)
		return al_diag_fail(AL_EPERM, "permission denied %s %s: run as root", what, path);
	return al_diag_fail(
	    AL_EPERM,
	    "permission denied %s %s even as root: the driver made it read-only (the "
	    "remote is controlled elsewhere) or a security module refused",
	    what, path);
}

static int io_fail(int e, const char *what, const char *path)
{
	if (e == -EACCES || e == -EPERM)
		return perm_fail(what, path);
	if (e == -ENOENT)
		return al_diag_fail(AL_EADDR, "%s %s: no such file (the remoteproc went away?)",
				    what, path);
	return al_diag_fail(kernel_code(e), "%s %s: %s", what, path, strerror(-e));
}

static void init_roots(struct al_rproc_sysfs *rp, const struct al_rproc_sysfs_cfg *cfg)
{
	const char *sys = cfg && cfg->sysfs_root ? cfg->sysfs_root : "/sys";
	al_sysfs_path(rp->sysfs, sizeof(rp->sysfs), "%s", sys);
	if (cfg && cfg->debugfs_root)
		al_sysfs_path(rp->debugfs, sizeof(rp->debugfs), "%s", cfg->debugfs_root);
	else
		al_sysfs_path(rp->debugfs, sizeof(rp->debugfs), "%s/kernel/debug", sys);
	al_sysfs_path(rp->fw_root, sizeof(rp->fw_root), "%s",
		      cfg && cfg->firmware_root ? cfg->firmware_root : "/lib/firmware");
	if (cfg && cfg->release) {
		al_sysfs_path(rp->release, sizeof(rp->release), "%s", cfg->release);
	} else {
		struct utsname u;
		al_sysfs_path(rp->release, sizeof(rp->release), "%s",
			      uname(&u) == 0 ? u.release : "unknown");
	}
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The indices present under <sysfs>/class/remoteproc, sorted. */
static int scan(struct al_rproc_sysfs *rp, int *idx, int max)
{
	char cls[AL_RPROC_SYSFS_PATH_MAX];
	if (al_sysfs_path(cls, sizeof(cls), "%s/class/remoteproc", rp->sysfs))
		return al_diag_fail(AL_EINVAL, "sysfs root too long: %s", rp->sysfs);
	DIR *d = opendir(cls);
	if (!d) {
		int e = errno;
		if (e == EACCES)
			return perm_fail("listing", cls);
		return al_diag_fail(AL_ENOLINK,
				    "no remoteproc class at %s: the kernel was built without "
				    "CONFIG_REMOTEPROC (or the remoteproc module is not loaded)",
				    cls);
	}
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < max) {
		int i = al_sysfs_numbered(de->d_name, "remoteproc");
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
	al_sysfs_path(rp->dev, sizeof(rp->dev), "remoteproc%d", i);
	if (al_sysfs_path(rp->dir, sizeof(rp->dir), "%s/class/remoteproc/%s", rp->sysfs, rp->dev) ||
	    al_sysfs_path(rp->dbg, sizeof(rp->dbg), "%s/remoteproc/%s", rp->debugfs, rp->dev))
		return al_diag_fail(AL_EINVAL, "path too long under %s", rp->sysfs);
	char p[AL_RPROC_SYSFS_PATH_MAX + 16], nm[256];
	al_sysfs_path(p, sizeof(p), "%s/name", rp->dir);
	long k = al_sysfs_read(p, nm, sizeof(nm));
	if (k < 0 && k != -ENOENT)
		return io_fail((int)k, "reading", p);
	al_sysfs_path(rp->name, sizeof(rp->name), "%s", k < 0 ? "" : nm);
	return 0;
}

int al_rproc_sysfs_open(struct al_rproc_sysfs *rp, const struct al_rproc_sysfs_cfg *cfg, int index,
			const char *name)
{
	if (!rp)
		return AL_EINVAL;
	memset(rp, 0, sizeof(*rp));
	rp->index = -1;
	init_roots(rp, cfg);
	if (name && (!name[0] || strlen(name) > 255))
		return al_diag_fail(AL_EINVAL, "bad remoteproc name (1 to 255 bytes)");
	int idx[MAX_PROCS] = {0};
	int n = scan(rp, idx, MAX_PROCS);
	if (n < 0)
		return n;
	char cls[AL_RPROC_SYSFS_PATH_MAX + 32];
	al_sysfs_path(cls, sizeof(cls), "%s/class/remoteproc", rp->sysfs);
	if (n == 0)
		return al_diag_fail(
		    AL_EADDR,
		    "no remoteproc in %s: the class exists but no driver registered a "
		    "processor (device tree node or driver module missing?)",
		    cls);
	if (index >= 0) {
		for (int j = 0; j < n; j++)
			if (idx[j] == index)
				return bind_index(rp, index);
		return al_diag_fail(AL_EADDR,
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
		al_sysfs_path(p, sizeof(p), "%s/remoteproc%d/name", cls, idx[j]);
		long k = al_sysfs_read(p, nm, sizeof(nm));
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
	return al_diag_fail(AL_EADDR, "no remoteproc named '%s' in %s (there are: %s)", name, cls,
			    seen[0] ? seen : "none with a readable name");
}

int al_rproc_sysfs_foreach(const struct al_rproc_sysfs_cfg *cfg,
			   void (*fn)(const struct al_rproc_sysfs *rp, void *arg), void *arg)
{
	struct al_rproc_sysfs rp;
	memset(&rp, 0, sizeof(rp));
	init_roots(&rp, cfg);
	int idx[MAX_PROCS] = {0};
	int n = scan(&rp, idx, MAX_PROCS);
	if (n < 0)
		return n;
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

/* Read `state`; an unknown word is AL_EPROTO, reported only if `say`. */
static int read_state(struct al_rproc_sysfs *rp, enum al_rproc_sysfs_state *st, char *raw,
		      size_t cap, bool say)
{
	*st = AL_RPS_UNKNOWN;
	char p[AL_RPROC_SYSFS_PATH_MAX + 16], s[64];
	al_sysfs_path(p, sizeof(p), "%s/state", rp->dir);
	long k = al_sysfs_read(p, s, sizeof(s));
	if (raw && cap)
		snprintf(raw, cap, "%s", k < 0 ? "" : s);
	if (k < 0)
		return io_fail((int)k, "reading", p);
	for (unsigned i = 1; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*st = (enum al_rproc_sysfs_state)i;
			return 0;
		}
	}
	return say ? al_diag_fail(AL_EPROTO, "unknown state '%.40s' in %s (a newer kernel?)", s, p)
		   : AL_EPROTO;
}

int al_rproc_sysfs_state(struct al_rproc_sysfs *rp, enum al_rproc_sysfs_state *st, char *raw,
			 size_t cap)
{
	if (!rp || !st)
		return AL_EINVAL;
	return read_state(rp, st, raw, cap, true);
}

/* Read an optional attribute: its length, -ENOENT if absent (no
 * sentence), or an amplink code (reported unless quiet). */
static long read_attr(const char *base, const char *attr, char *buf, size_t cap, bool quiet)
{
	char p[AL_RPROC_SYSFS_PATH_MAX + 32];
	if (al_sysfs_path(p, sizeof(p), "%s/%s", base, attr))
		return quiet ? AL_EINVAL
			     : al_diag_fail(AL_EINVAL, "path too long: %s/%s", base, attr);
	long k = al_sysfs_read(p, buf, cap);
	if (k < 0 && k != -ENOENT)
		return quiet ? kernel_code((int)k) : io_fail((int)k, "reading", p);
	return k;
}

/* The recovery setting: 0 and *enabled, -ENOENT (not exposed), AL_EPROTO
 * (a word this module does not know) or an amplink code; sentences only
 * unless quiet. */
static int read_recovery(struct al_rproc_sysfs *rp, bool *enabled, bool quiet)
{
	char s[32] = "";
	long k = read_attr(rp->dir, "recovery", s, sizeof(s), quiet);
	if (k == -ENOENT)
		k = read_attr(rp->dbg, "recovery", s, sizeof(s), quiet);
	if (k < 0)
		return (int)k;
	if (strcmp(s, "enabled") && strcmp(s, "disabled"))
		return quiet ? AL_EPROTO
			     : al_diag_fail(AL_EPROTO, "unknown recovery setting '%.40s' of %s", s,
					    rp->dev);
	*enabled = s[0] == 'e';
	return 0;
}

int al_rproc_sysfs_recovery(struct al_rproc_sysfs *rp, bool *enabled)
{
	if (!rp || !enabled)
		return AL_EINVAL;
	int rc = read_recovery(rp, enabled, false);
	if (rc == -ENOENT)
		return al_diag_fail(
		    AL_EADDR, "%s has no recovery setting in sysfs, nor in debugfs (%s/recovery)",
		    rp->dev, rp->dbg);
	return rc;
}

int al_rproc_sysfs_set_recovery(struct al_rproc_sysfs *rp, bool enable)
{
	if (!rp)
		return AL_EINVAL;
	const char *bases[2] = {rp->dir, rp->dbg};
	for (int i = 0; i < 2; i++) {
		char p[AL_RPROC_SYSFS_PATH_MAX + 16];
		al_sysfs_path(p, sizeof(p), "%s/recovery", bases[i]);
		int e = al_sysfs_write(p, enable ? "enabled" : "disabled");
		if (e == 0)
			return 0;
		if (e != -ENOENT)
			return io_fail(e, "writing", p);
	}
	return al_diag_fail(AL_EADDR, "%s has no recovery setting in sysfs, nor in debugfs (%s)",
			    rp->dev, rp->dbg);
}

int al_rproc_sysfs_get_status(struct al_rproc_sysfs *rp, struct al_rproc_sysfs_status *st)
{
	if (!rp || !st)
		return AL_EINVAL;
	memset(st, 0, sizeof(*st));
	int rc = read_state(rp, &st->state, st->state_raw, sizeof(st->state_raw), false);
	if (rc && rc != AL_EPROTO)
		return rc;
	if (read_attr(rp->dir, "firmware", st->firmware, sizeof(st->firmware), true) < 0)
		st->firmware[0] = '\0';
	if (read_attr(rp->dir, "coredump", st->coredump, sizeof(st->coredump), true) < 0)
		st->coredump[0] = '\0';
	bool en = false;
	st->recovery = read_recovery(rp, &en, true) == 0 ? (int)en : -1;
	char p[AL_RPROC_SYSFS_PATH_MAX + 16];
	al_sysfs_path(p, sizeof(p), "%s/trace0", rp->dbg);
	st->trace = access(p, F_OK) == 0;
	return 0;
}

/* The firmware-name rule: 0, or AL_EINVAL with the sentence (only if
 * `say`). */
static int check_name(const char *fw, bool say)
{
	char why[200] = "";
	size_t len = fw ? strlen(fw) : 0;
	if (!len)
		snprintf(why, sizeof(why), "empty firmware name");
	else if (len > 255)
		snprintf(why, sizeof(why), "firmware name too long (%zu bytes, at most 255)", len);
	else if (strchr(fw, '/'))
		snprintf(why, sizeof(why),
			 "firmware name '%.80s' contains '/': give a file name inside the "
			 "firmware directory (/lib/firmware), not a path",
			 fw);
	else if (strstr(fw, ".."))
		snprintf(why, sizeof(why), "firmware name '%.80s' contains '..'", fw);
	for (const unsigned char *c = (const unsigned char *)fw; !why[0] && *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			snprintf(why, sizeof(why),
				 "firmware name contains a control character (byte 0x%02x at %zu)",
				 *c, (size_t)(c - (const unsigned char *)fw));
	if (!why[0])
		return 0;
	return say ? al_diag_fail(AL_EINVAL, "%s", why) : AL_EINVAL;
}

int al_rproc_sysfs_check_fw_name(const char *fw)
{
	return check_name(fw, true);
}

int al_rproc_sysfs_find_firmware(struct al_rproc_sysfs *rp, const char *fw, char *path, size_t cap)
{
	if (!rp)
		return AL_EINVAL;
	int rc = al_rproc_sysfs_check_fw_name(fw);
	if (rc)
		return rc;
	char dirs[5][AL_RPROC_SYSFS_PATH_MAX];
	int nd = 0;
	char p[AL_RPROC_SYSFS_PATH_MAX + 64];
	al_sysfs_path(p, sizeof(p), "%s/module/firmware_class/parameters/path", rp->sysfs);
	if (al_sysfs_read(p, dirs[nd], sizeof(dirs[nd])) > 0)
		nd++;
	al_sysfs_path(dirs[nd++], sizeof(dirs[0]), "%s/updates/%s", rp->fw_root, rp->release);
	al_sysfs_path(dirs[nd++], sizeof(dirs[0]), "%s/updates", rp->fw_root);
	al_sysfs_path(dirs[nd++], sizeof(dirs[0]), "%s/%s", rp->fw_root, rp->release);
	al_sysfs_path(dirs[nd++], sizeof(dirs[0]), "%s", rp->fw_root);
	static const char *const sfx[] = {"", ".xz", ".zst"};
	for (int i = 0; i < nd; i++) {
		for (unsigned s = 0; s < 3; s++) {
			char f[AL_RPROC_SYSFS_PATH_MAX * 2];
			struct stat sb;
			al_sysfs_path(f, sizeof(f), "%s/%s%s", dirs[i], fw, sfx[s]);
			if (stat(f, &sb) == 0 && S_ISREG(sb.st_mode)) {
				if (path && cap)
					snprintf(path, cap, "%s", f);
				return 0;
			}
		}
	}
	return al_diag_fail(
	    AL_EADDR,
	    "firmware '%.80s' not found in the kernel's search path (%s, %s, %s, %s%s%s): "
	    "install it there first",
	    fw, dirs[nd - 4], dirs[nd - 3], dirs[nd - 2], dirs[nd - 1], nd == 5 ? ", " : "",
	    nd == 5 ? dirs[0] : "");
}

/* Read the state for a transition: a word this module does not know is
 * refused (AL_ESTATE), no write is attempted from it. */
static int state_for(struct al_rproc_sysfs *rp, enum al_rproc_sysfs_state *st, char *raw,
		     size_t cap)
{
	int rc = read_state(rp, st, raw, cap, false);
	if (rc == AL_EPROTO)
		return al_diag_fail(AL_ESTATE,
				    "%s is in a state this tool does not know ('%s'): not "
				    "changing it",
				    rp->dev, raw);
	return rc;
}

int al_rproc_sysfs_set_firmware(struct al_rproc_sysfs *rp, const char *fw)
{
	if (!rp)
		return AL_EINVAL;
	int rc = al_rproc_sysfs_find_firmware(rp, fw, NULL, 0);
	if (rc)
		return rc;
	enum al_rproc_sysfs_state st;
	char raw[64];
	rc = state_for(rp, &st, raw, sizeof(raw));
	if (rc)
		return rc;
	if (st != AL_RPS_OFFLINE)
		return al_diag_fail(
		    AL_ESTATE,
		    "%s is %s: the kernel takes a new firmware name only while offline "
		    "(stop it first)",
		    rp->dev, raw);
	char p[AL_RPROC_SYSFS_PATH_MAX + 16];
	al_sysfs_path(p, sizeof(p), "%s/firmware", rp->dir);
	int e = al_sysfs_write(p, fw);
	if (e == -EBUSY)
		return al_diag_fail(AL_ESTATE,
				    "the kernel refused the new firmware name: %s is no "
				    "longer offline",
				    rp->dev);
	return e ? io_fail(e, "writing", p) : 0;
}

int al_rproc_sysfs_start(struct al_rproc_sysfs *rp)
{
	if (!rp)
		return AL_EINVAL;
	enum al_rproc_sysfs_state st;
	char raw[64];
	int rc = state_for(rp, &st, raw, sizeof(raw));
	if (rc)
		return rc;
	char fw[256] = "";
	switch (st) {
	case AL_RPS_OFFLINE:
		if (read_attr(rp->dir, "firmware", fw, sizeof(fw), false) < 0 || !fw[0])
			return al_diag_fail(AL_EADDR, "%s has no firmware name set (%s/firmware)",
					    rp->dev, rp->dir);
		if (check_name(fw, false)) /* a name set by someone else: let the kernel judge */
			break;
		rc = al_rproc_sysfs_find_firmware(rp, fw, NULL, 0);
		if (rc)
			return rc;
		break;
	case AL_RPS_DETACHED: break; /* the kernel attaches to the running remote */
	case AL_RPS_RUNNING:
	case AL_RPS_ATTACHED: return al_diag_fail(AL_ESTATE, "%s is already %s", rp->dev, raw);
	case AL_RPS_CRASHED:
		return al_diag_fail(
		    AL_ESTATE,
		    "%s crashed and was not recovered (recovery disabled?): stop it, then "
		    "start it, or enable recovery",
		    rp->dev);
	default:
		return al_diag_fail(AL_ESTATE, "%s is %s: cannot start it from there", rp->dev,
				    raw);
	}
	char p[AL_RPROC_SYSFS_PATH_MAX + 16];
	al_sysfs_path(p, sizeof(p), "%s/state", rp->dir);
	int e = al_sysfs_write(p, "start");
	if (e == 0)
		return 0;
	if (e == -EACCES || e == -EPERM)
		return perm_fail("writing", p);
	if (e == -ENOENT && fw[0])
		return al_diag_fail(
		    AL_EADDR,
		    "the kernel could not load firmware '%s' for %s (request_firmware: %s; "
		    "see dmesg)",
		    fw, rp->dev, strerror(-e));
	return al_diag_fail(kernel_code(e), "the kernel refused to start %s: %s (see dmesg)",
			    rp->dev, strerror(-e));
}

int al_rproc_sysfs_stop(struct al_rproc_sysfs *rp)
{
	if (!rp)
		return AL_EINVAL;
	enum al_rproc_sysfs_state st;
	char raw[64];
	int rc = state_for(rp, &st, raw, sizeof(raw));
	if (rc)
		return rc;
	if (st != AL_RPS_RUNNING && st != AL_RPS_ATTACHED && st != AL_RPS_CRASHED)
		return al_diag_fail(AL_ESTATE, "%s is %s: nothing to stop", rp->dev, raw);
	char p[AL_RPROC_SYSFS_PATH_MAX + 16];
	al_sysfs_path(p, sizeof(p), "%s/state", rp->dir);
	int e = al_sysfs_write(p, "stop");
	if (e == -EACCES || e == -EPERM)
		return perm_fail("writing", p);
	if (e)
		return al_diag_fail(kernel_code(e), "the kernel refused to stop %s: %s (see dmesg)",
				    rp->dev, strerror(-e));
	if (read_state(rp, &st, raw, sizeof(raw), false) == 0 &&
	    (st == AL_RPS_RUNNING || st == AL_RPS_ATTACHED))
		return al_diag_fail(
		    AL_ESTATE,
		    "%s is still %s after stop: other users hold it (a kernel driver, "
		    "or an earlier start of a running remote took a second reference)",
		    rp->dev, raw);
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
		return AL_EINVAL;
	buf[0] = '\0';
	char p[AL_RPROC_SYSFS_PATH_MAX + 32];
	al_sysfs_path(p, sizeof(p), "%s/trace%u", rp->dbg, n);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		char rd[AL_RPROC_SYSFS_PATH_MAX + 16];
		al_sysfs_path(rd, sizeof(rd), "%s/remoteproc", rp->debugfs);
		if (e == EACCES || e == EPERM)
			return perm_fail("reading", p);
		if (access(rp->dbg, F_OK) == 0)
			return al_diag_fail(
			    AL_EADDR,
			    "no trace%u for %s: the remote is not running, or its resource "
			    "table has no RSC_TRACE entry",
			    n, rp->dev);
		if (errno == EACCES && geteuid() != 0)
			return perm_fail("reading", rp->debugfs);
		if (access(rd, F_OK) == 0)
			return al_diag_fail(AL_EADDR, "no %s in debugfs (%s)", rp->dev, rd);
		if (empty_dir(rp->debugfs))
			return al_diag_fail(AL_ENOLINK,
					    "debugfs is not mounted at %s: mount -t debugfs "
					    "none %s",
					    rp->debugfs, rp->debugfs);
		return al_diag_fail(AL_ENOLINK,
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
