/* The kernel backend for amplink's channels: when Linux itself is the
 * RPMsg host (remoteproc + virtio_rpmsg_bus), user space reaches the
 * remote through the kernel's rpmsg_char driver instead of a shared region
 * of its own.
 *
 * The kernel's interface (Linux 6.1):
 *   /sys/bus/rpmsg/devices/<dev>/{name,src,dst,announce}  one directory per
 *        channel, <dev> = "virtio0.<name>.<src>.<dst>" (addresses in %d, so
 *        RPMSG_ADDR_ANY shows as -1; the attributes print "0x%x"); a
 *        `driver` symlink when a driver is bound
 *   /dev/rpmsg_ctrlN  (rpmsg_ctrl driver, one per virtio rpmsg device):
 *        RPMSG_CREATE_EPT_IOCTL {name[32], src, dst} creates an endpoint
 *        device; the ioctl does not say which, it appears as a child
 *        directory of the ctrl device, /sys/class/rpmsg/rpmsg_ctrlN/rpmsgM
 *        with {name,src,dst} (printed "%d": RPMSG_ADDR_ANY is -1)
 *   /dev/rpmsgM: the endpoint is created at open (EINVAL if the kernel
 *        refuses it, e.g. the source address is taken; EBUSY if already
 *        open), one message per read (a read buffer smaller than the message
 *        silently truncates it) and per write, poll; RPMSG_DESTROY_EPT_IOCTL
 *        removes the device; after the remote died, read/write fail EPIPE and
 *        poll reports POLLERR
 *   a channel named "rpmsg-raw" gets its /dev/rpmsgM from the kernel at
 *        once (rpmsg_chrdev driver), under <dev>/rpmsg/rpmsgM
 *
 * This module reads whole messages into its own buffer so that, as with
 * every amplink channel, a read buffer that is too small is an error that
 * leaves the message queued (-EMSGSIZE) instead of a truncation.
 *
 * Roots are parameters (struct al_rpmsg_char_cfg) so that tests can use a
 * directory laid out like /sys and /dev. Errors are negative errno values
 * with a sentence (in the caller's buffer, or al_rpmsg_char_error()):
 *   -ENODEV   no rpmsg bus, or no rpmsg_ctrl (kernel without RPMSG_CHAR /
 *             RPMSG_CTRL, or no remote running), or a node missing in /dev
 *   -ENOENT   the service is absent (never announced within the timeout)
 *   -EACCES   permission denied (run as root or a udev rule)
 *   -EINVAL   bad argument (name of 32 bytes or more, ...)
 *   -EADDRNOTAVAIL  the kernel refused the endpoint (its errno text in the
 *             sentence; typically the source address is taken)
 *   -EBUSY    the endpoint device is open elsewhere
 *   -EPIPE    the device vanished (the remote died or was stopped)
 *   -ETIMEDOUT, -EAGAIN, -EMSGSIZE on read; -ENOBUFS, -EMSGSIZE on write
 * Thread safety: one thread per handle (or serialise), except
 * al_rpmsg_char_fd() which any thread may poll.
 */
#ifndef AMPLINK_LINUX_RPMSG_CHAR_H
#define AMPLINK_LINUX_RPMSG_CHAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AL_RPMSG_CHAR_ADDR_ANY	0xFFFFFFFFu
#define AL_RPMSG_CHAR_NAME_SIZE 32u /* RPMSG_NAME_SIZE: 31 bytes + NUL */
/** Largest message read whole (the kernel's virtio transport carries at
 *  most 496 bytes; other transports more). */
#define AL_RPMSG_CHAR_MSG_MAX 65536u
#define AL_RPMSG_CHAR_FOREVER 0xFFFFFFFFu /* == AL_WAIT_FOREVER */

/** Where the kernel's trees are; NULL fields (or a NULL cfg) take the
 *  defaults. */
struct al_rpmsg_char_cfg {
	const char *sysfs_root; /* NULL: "/sys" */
	const char *dev_root;	/* NULL: "/dev" */
};

/** One channel of /sys/bus/rpmsg/devices. */
struct al_rpmsg_chan_info {
	char dev[96];			    /* the directory name */
	char name[AL_RPMSG_CHAR_NAME_SIZE]; /* service name */
	bool name_truncated;		    /* `name` had 32 bytes or more */
	uint32_t src, dst;
	bool announce;
	char driver[64]; /* bound driver ("rpmsg_chrdev", "rpmsg_ctrl", ...), "" if none */
	int node;	 /* M of its /dev/rpmsgM (rpmsg-raw), else -1 */
	int ctrl;	 /* N of its /dev/rpmsg_ctrlN (the ctrl channel), else -1 */
};

/** One endpoint device (/sys/class/rpmsg/rpmsgM). */
struct al_rpmsg_ept_info {
	int node; /* M */
	char name[AL_RPMSG_CHAR_NAME_SIZE];
	uint32_t src, dst; /* AL_RPMSG_CHAR_ADDR_ANY for -1 */
};

struct al_rpmsg_char;

/** List the channels under <sysfs>/bus/rpmsg/devices in name order,
 *  filling up to max entries of out (out may be NULL with max 0). Entries
 *  whose directory name or attributes cannot be read are skipped.
 *  Returns the number of channels (may exceed max), -ENODEV (no rpmsg
 *  bus), -EACCES. Any thread; reads sysfs only. */
int al_rpmsg_char_list(const struct al_rpmsg_char_cfg *cfg, struct al_rpmsg_chan_info *out, int max,
		       char *err, size_t errlen);

/** Find the rpmsg_ctrl device: ctrl NULL or "" (the lowest-numbered),
 *  "rpmsg_ctrlN", "N" or "/dev/rpmsg_ctrlN" (the /dev part is replaced by
 *  the dev root). Writes the node path (path, cap) and returns N, or
 *  -ENODEV (no such ctrl: the sentence says whether the rpmsg bus or the
 *  rpmsg_ctrl driver is missing, or only the /dev node), -EINVAL. */
int al_rpmsg_char_find_ctrl(const struct al_rpmsg_char_cfg *cfg, const char *ctrl, char *path,
			    size_t cap, char *err, size_t errlen);

/** List the endpoint devices a ctrl created (ctrl >= 0: the children of
 *  /sys/class/rpmsg/rpmsg_ctrl<ctrl>), or all of /sys/class/rpmsg
 *  (ctrl < 0), in node order. Returns the count (may exceed max) or
 *  -ENODEV. */
int al_rpmsg_char_list_epts(const struct al_rpmsg_char_cfg *cfg, int ctrl,
			    struct al_rpmsg_ept_info *out, int max, char *err, size_t errlen);

/** Create an endpoint through the ctrl (see al_rpmsg_char_find_ctrl for
 *  `ctrl`): RPMSG_CREATE_EPT_IOCTL {name (NULL or "" allowed), src
 *  (AL_RPMSG_CHAR_ADDR_ANY allowed), dst}, find the /dev/rpmsgM it created (a new child of the
 *  ctrl with that name, src and dst; waits up to 1 s for udev to make the
 *  node), open it. Blocking (file I/O, at most about 1 s). Returns 0 and
 *  *out, or -ENODEV, -EACCES, -EINVAL (bad name), -EADDRNOTAVAIL (the
 *  kernel refused the endpoint, at the ioctl or at open; a device refused
 *  at open stays behind until the remote restarts, since the kernel
 *  removes it only through an open descriptor), -EBUSY, -ENOMEM. */
int al_rpmsg_char_create(const struct al_rpmsg_char_cfg *cfg, const char *ctrl, const char *name,
			 uint32_t src, uint32_t dst, struct al_rpmsg_char **out, char *err,
			 size_t errlen);

/** Open the ready /dev/rpmsgM of a channel the kernel bound to
 *  rpmsg_chrdev (service "rpmsg-raw", or a channel given to that driver
 *  through driver_override): the first channel named `name` with
 *  destination dst (AL_RPMSG_CHAR_ADDR_ANY: any) that has a node, waiting
 *  up to timeout_ms for it to appear (polls sysfs every 20 ms). Returns 0
 *  and *out, -ENOENT (absent: the sentence lists the channels there are),
 *  -ENODEV, -EACCES, -EBUSY. Never destroys the channel on close. */
int al_rpmsg_char_open_service(const struct al_rpmsg_char_cfg *cfg, const char *name, uint32_t dst,
			       uint32_t timeout_ms, struct al_rpmsg_char **out, char *err,
			       size_t errlen);

/** What al_channel_open_kernel() does: with dst == ANY, wait up to
 *  timeout_ms for the remote to announce `name`; if that channel has a
 *  node of its own and src is ANY, open it; otherwise (or with dst
 *  explicit) create an endpoint {name, src, dst} through the ctrl.
 *  Returns as al_rpmsg_char_create / _open_service. */
int al_rpmsg_char_open_channel(const struct al_rpmsg_char_cfg *cfg, const char *ctrl,
			       const char *name, uint32_t src, uint32_t dst, uint32_t timeout_ms,
			       struct al_rpmsg_char **out, char *err, size_t errlen);

/** Read one message whole into buf, waiting up to timeout_ms (0: never
 *  wait; AL_RPMSG_CHAR_FOREVER). Returns its length, -EAGAIN (timeout 0,
 *  nothing there), -ETIMEDOUT, -EMSGSIZE (cap too small: the message
 *  stays, al_rpmsg_char_next_len() tells its size), -EPIPE (the device
 *  vanished: the remote died or was stopped). */
long al_rpmsg_char_read(struct al_rpmsg_char *k, void *buf, size_t cap, uint32_t timeout_ms);

/** Length of the next message without waiting, or -EAGAIN / -EPIPE. */
long al_rpmsg_char_next_len(struct al_rpmsg_char *k);

/** Send one message, waiting up to timeout_ms for a free buffer. Returns
 *  len, -ENOBUFS (no buffer in time), -EMSGSIZE (larger than the
 *  kernel's buffer), -EPIPE (device vanished), other negative errno. */
long al_rpmsg_char_write(struct al_rpmsg_char *k, const void *buf, size_t len, uint32_t timeout_ms);

/** A descriptor that polls readable while a message waits (or the device
 *  vanished). Owned by the handle; do not read or close it. */
int al_rpmsg_char_fd(const struct al_rpmsg_char *k);

/** The node (/dev/rpmsgM), the endpoint's addresses as the kernel shows
 *  them (src stays AL_RPMSG_CHAR_ADDR_ANY when the kernel allocated it),
 *  the last error's sentence. Any thread. */
const char *al_rpmsg_char_path(const struct al_rpmsg_char *k);
void al_rpmsg_char_addrs(const struct al_rpmsg_char *k, uint32_t *src, uint32_t *dst);
const char *al_rpmsg_char_error(const struct al_rpmsg_char *k);
/** Messages read and written. */
void al_rpmsg_char_counts(const struct al_rpmsg_char *k, uint64_t *rx, uint64_t *tx);

/** Close: an endpoint created through the ctrl is destroyed
 *  (RPMSG_DESTROY_EPT_IOCTL), a channel's own node only closed. NULL is
 *  ignored. */
void al_rpmsg_char_close(struct al_rpmsg_char *k);

/** Is `link` a kernel link name: "kernel" or "kernel:CTRL"? Then *ctrl
 *  (if not NULL) points at CTRL or is NULL. Pure function. */
bool al_rpmsg_char_is_kernel_link(const char *link, const char **ctrl);

/** The amplink error code (include/amplink/error.h) for one of this
 *  module's negative errno values, for the channel API: -ENOENT and
 *  -ETIMEDOUT -> AL_ETIMEDOUT, -EPIPE -> AL_ENOLINK, -EACCES -> AL_EPERM,
 *  -ENOBUFS -> AL_ENOBUFS,
 *  -EADDRNOTAVAIL -> AL_EADDR, -ENODEV -> AL_EINIT, -EAGAIN, -EMSGSIZE,
 *  -EINVAL, -ENOMEM to their AL_ namesakes, anything else AL_EINIT. */
int al_rpmsg_char_al_err(int err);

#ifdef __cplusplus
}
#endif
#endif
