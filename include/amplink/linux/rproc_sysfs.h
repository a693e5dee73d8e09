/* Driving a kernel remoteproc (an M-core or DSP the Linux kernel boots)
 * through sysfs and debugfs, the way `echo start > state` does.
 *
 * The kernel's interface (Linux 6.1):
 *   /sys/class/remoteproc/remoteprocN/name      the processor's name (read)
 *   /sys/class/remoteproc/remoteprocN/firmware  file name looked up in the
 *        firmware search path; writable only while the state is offline
 *   /sys/class/remoteproc/remoteprocN/state     offline, suspended, running,
 *        crashed, attached, detached (and "deleted"/"invalid"); accepts
 *        start, stop, detach
 *   /sys/class/remoteproc/remoteprocN/recovery  enabled / disabled (write
 *        also "recover"); older kernels have it only in debugfs
 *   /sys/class/remoteproc/remoteprocN/coredump  disabled / enabled / inline
 *   /sys/kernel/debug/remoteproc/remoteprocN/trace0  the firmware's trace
 *        buffer (RSC_TRACE), present while the remote runs; root only
 * A driver may make firmware/state/recovery/coredump read-only (0444,
 * "sysfs_read_only"): then even root gets EACCES.
 *
 * Kernel behaviour this module guards against: in 6.1 writing "start" to a
 * running remote succeeds silently and takes a second power reference, so
 * that the next "stop" does nothing. al_rproc_sysfs_start() therefore reads
 * the state first and refuses with AL_ESTATE. The kernel keeps a crash count
 * (crash_cnt) but exposes it only in the kernel log ("handling crash #N in
 * NAME"), so there is no crash count here.
 *
 * Every root is a parameter, so that tests can point the module at a
 * directory laid out like /sys. The handle is caller-allocated (no
 * malloc); functions block only on file I/O (a "start" write blocks while
 * the kernel loads and boots the firmware). One handle per thread, or
 * serialise calls on it.
 *
 * Errors follow amplink's convention: 0 (or a count, a length) or a
 * negative amplink code (amplink/error.h); the sentence naming the file
 * and what to do goes to the diagnostics hook (amplink/linux/diag.h). The
 * codes keep apart what a caller acts on differently:
 *   AL_ENOLINK  the kernel lacks the interface: no /sys/class/remoteproc
 *               (kernel without CONFIG_REMOTEPROC); for the trace, debugfs
 *               not mounted or without a remoteproc directory
 *   AL_EADDR    not found: no such remoteproc, no processor registered,
 *               firmware file missing, no trace buffer, no recovery setting,
 *               a file gone (the remoteproc went away)
 *   AL_EPERM    permission denied (run as root, or the file is read-only:
 *               EACCES/EPERM)
 *   AL_ESTATE   state transition refused (already running, not offline,
 *               nothing to stop, still running after stop; the kernel's
 *               EBUSY)
 *   AL_EINVAL   bad argument (firmware name with '/' or "..", bad name)
 *   AL_EPROTO   the kernel wrote something unexpected (unknown state or
 *               recovery word)
 *   AL_ETIMEDOUT, AL_ENOMEM  the kernel's ETIMEDOUT, ENOMEM
 *   AL_EINIT    any other error of read/write (EIO, EISDIR, the kernel's
 *               EINVAL when it refuses a start), its errno text in the
 *               sentence
 */
#ifndef AMPLINK_LINUX_RPROC_SYSFS_H
#define AMPLINK_LINUX_RPROC_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AL_RPROC_SYSFS_PATH_MAX 512

/** Where the kernel's trees are. Every NULL field takes the default. */
struct al_rproc_sysfs_cfg {
	const char *sysfs_root;	   /* NULL: "/sys" */
	const char *debugfs_root;  /* NULL: "<sysfs_root>/kernel/debug" */
	const char *firmware_root; /* NULL: "/lib/firmware" */
	const char *release;	   /* NULL: uname -r (for the search path) */
};

enum al_rproc_sysfs_state {
	AL_RPS_UNKNOWN = 0, /* a string this module does not know */
	AL_RPS_OFFLINE,
	AL_RPS_SUSPENDED,
	AL_RPS_RUNNING,
	AL_RPS_CRASHED,
	AL_RPS_DELETED,
	AL_RPS_ATTACHED,
	AL_RPS_DETACHED,
	AL_RPS_INVALID,
};

/** One remoteproc. Filled by al_rproc_sysfs_open(); read the fields, do
 *  not write them. */
struct al_rproc_sysfs {
	char dir[AL_RPROC_SYSFS_PATH_MAX];     /* <sysfs>/class/remoteproc/remoteprocN */
	char dbg[AL_RPROC_SYSFS_PATH_MAX];     /* <debugfs>/remoteproc/remoteprocN */
	char debugfs[AL_RPROC_SYSFS_PATH_MAX]; /* the debugfs root */
	char sysfs[AL_RPROC_SYSFS_PATH_MAX];   /* the sysfs root */
	char fw_root[AL_RPROC_SYSFS_PATH_MAX];
	char release[65];
	char dev[32];  /* "remoteprocN" */
	char name[64]; /* contents of `name` */
	int index;     /* N */
};

/** Everything `status` shows, read in one go. Strings are "" when the
 *  file is absent; recovery is -1 when unknown. */
struct al_rproc_sysfs_status {
	enum al_rproc_sysfs_state state;
	char state_raw[32]; /* as the kernel wrote it, newline removed */
	char firmware[256];
	int recovery; /* 1 enabled, 0 disabled, -1 not exposed */
	char coredump[16];
	bool trace; /* debugfs trace0 exists (remote running with a trace buffer) */
};

/** Find a remoteproc: by `index` (>= 0: remoteproc<index>), else by `name`
 *  (the contents of its `name` file), else (index < 0, name NULL) the one
 *  with the lowest index. cfg may be NULL (all defaults). Any thread;
 *  reads directories only. Returns 0, AL_ENOLINK (no remoteproc class),
 *  AL_EADDR (no such remoteproc: the sentence lists the ones there are;
 *  or the class has none), AL_EPERM, AL_EINVAL (name empty or longer than
 *  255 bytes). */
int al_rproc_sysfs_open(struct al_rproc_sysfs *rp, const struct al_rproc_sysfs_cfg *cfg, int index,
			const char *name);

/** Visit every remoteproc under cfg's sysfs root in index order: fn gets
 *  a handle as from al_rproc_sysfs_open(). Returns the number visited
 *  (0: the class exists but holds none), AL_ENOLINK (no remoteproc
 *  class) or AL_EPERM. */
int al_rproc_sysfs_foreach(const struct al_rproc_sysfs_cfg *cfg,
			   void (*fn)(const struct al_rproc_sysfs *rp, void *arg), void *arg);

/** Read `state`. Returns 0 and *st (and raw, if not NULL, the text with
 *  the newline removed, cap bytes), AL_EPROTO for a string this module
 *  does not know (*st = AL_RPS_UNKNOWN, raw still filled), AL_EADDR (the
 *  remoteproc went away), AL_EPERM, AL_EINIT (another read error). Any
 *  thread. */
int al_rproc_sysfs_state(struct al_rproc_sysfs *rp, enum al_rproc_sysfs_state *st, char *raw,
			 size_t cap);

/** The kernel's word for a state ("offline", ...; "unknown"). */
const char *al_rproc_sysfs_state_name(enum al_rproc_sysfs_state st);

/** Read status, firmware, recovery, coredump and whether trace0 exists.
 *  Returns 0 (an unknown state string is not an error here: see
 *  st->state_raw; absent or unreadable optional files are left empty
 *  without a diagnostic), or the errors of al_rproc_sysfs_state() other
 *  than AL_EPROTO. */
int al_rproc_sysfs_get_status(struct al_rproc_sysfs *rp, struct al_rproc_sysfs_status *st);

/** Check a firmware file name the way this module will hand it to the
 *  kernel: non-empty, at most 255 bytes, no '/', no "..", no control
 *  characters. Returns 0 or AL_EINVAL (the sentence says which rule).
 *  Any thread; no I/O. */
int al_rproc_sysfs_check_fw_name(const char *fw);

/** Look `fw` up in the kernel's firmware search path: the
 *  firmware_class.path module parameter (read from sysfs) if set, then
 *  <fw_root>/updates/<release>, <fw_root>/updates, <fw_root>/<release>,
 *  <fw_root>; each also with the .xz and .zst suffixes the kernel may
 *  decompress. Returns 0 and the path found (path, cap; may be NULL),
 *  AL_EINVAL (bad name), AL_EADDR (not found: the sentence lists the
 *  directories tried). */
int al_rproc_sysfs_find_firmware(struct al_rproc_sysfs *rp, const char *fw, char *path, size_t cap);

/** Set the firmware file name: checks the name, checks the file exists in
 *  the search path, checks the state is offline, writes `firmware`.
 *  Returns 0, AL_EINVAL, AL_EADDR (file not found), AL_ESTATE (not
 *  offline), AL_EPERM, AL_EINIT. Blocks on file I/O only. */
int al_rproc_sysfs_set_firmware(struct al_rproc_sysfs *rp, const char *fw);

/** Start: refuses AL_ESTATE if the state is running, attached, crashed
 *  or suspended (the kernel would take a second reference silently, or
 *  needs a stop first) or a word this module does not know; from offline
 *  checks the current firmware file exists (AL_EADDR), then writes
 *  "start"; from detached the kernel attaches to the running remote.
 *  Blocks while the kernel boots the remote. Returns 0, AL_ESTATE,
 *  AL_EADDR (also: the kernel could not load the firmware), AL_EPERM, or
 *  the kernel's refusal mapped as in the list above (its errno text in
 *  the sentence). */
int al_rproc_sysfs_start(struct al_rproc_sysfs *rp);

/** Stop: refuses AL_ESTATE unless running, attached or crashed; writes
 *  "stop" and reads the state back: still running means other users
 *  (kernel drivers, an earlier double start) hold the remote: AL_ESTATE.
 *  Also AL_EPERM, or the kernel's refusal. Blocks while the kernel stops
 *  it. */
int al_rproc_sysfs_stop(struct al_rproc_sysfs *rp);

/** Read debugfs trace<n> (the firmware's trace buffer, text) into buf (cap
 *  bytes, NUL-terminated, truncated to fit). Returns the length,
 *  AL_ENOLINK (debugfs not mounted: the sentence gives the mount command;
 *  or debugfs without remoteproc), AL_EADDR (no directory for this
 *  remoteproc in debugfs; no trace buffer: the remote is not running or
 *  its resource table has no RSC_TRACE), AL_EPERM (debugfs is root only).
 */
long al_rproc_sysfs_read_trace(struct al_rproc_sysfs *rp, unsigned n, char *buf, size_t cap);

/** Read the recovery setting (sysfs `recovery`, else debugfs `recovery`):
 *  0 and *enabled, AL_EADDR (not exposed), AL_EPERM, AL_EPROTO. */
int al_rproc_sysfs_recovery(struct al_rproc_sysfs *rp, bool *enabled);

/** Enable or disable automatic recovery after a crash (writes "enabled" /
 *  "disabled" to sysfs `recovery`, else to debugfs `recovery`). Enabling
 *  recovers a crashed remote at once. Returns 0, AL_EADDR (not exposed),
 *  AL_EPERM, AL_EINIT. */
int al_rproc_sysfs_set_recovery(struct al_rproc_sysfs *rp, bool enable);

#ifdef __cplusplus
}
#endif
#endif
