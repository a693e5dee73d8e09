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
 * leaves the message queued (AL_EMSGSIZE) instead of a truncation.
 *
 * Roots are parameters (struct al_rpmsg_char_cfg) so that tests can use a
 * directory laid out like /sys and /dev. Errors follow amplink's
 * convention: 0 (or a count, a length) or a negative amplink code
 * (amplink/error.h); the sentence that names the file, the kernel option or
 * the fix goes to the diagnostics hook (amplink/linux/diag.h). The codes
 * are those of al_channel_open() where the meaning is the same, and keep
 * apart what a tool reports differently:
 *   AL_ENOLINK   opening: the kernel offers no way there: no rpmsg bus
 *                (CONFIG_RPMSG_VIRTIO), no rpmsg_ctrl (CONFIG_RPMSG_CTRL /
 *                CONFIG_RPMSG_CHAR, or no remote running), a node missing
 *                in /dev, a "ctrl" node that is none (ENOTTY); also a node
 *                that vanished between listing and open.
 *                I/O: the device vanished (the remote died or was stopped).
 *   AL_ETIMEDOUT the service is absent: not announced within the timeout,
 *                or announced without a /dev/rpmsgM of its own (as
 *                al_channel_open(): never announced); a read's timeout
 *   AL_EPERM     permission denied (EACCES/EPERM: run as root or a udev rule)
 *   AL_EADDR     the kernel refused the endpoint (at the ioctl, or EINVAL
 *                at open: typically the source address is taken); no such
 *                rpmsg_ctrlN while others exist; a channel without a remote
 *                address
 *   AL_ESTATE    the endpoint device is open elsewhere (EBUSY)
 *   AL_EINVAL    bad argument (name empty or of 32 bytes or more, a ctrl
 *                name that names none, a path too long)
 *   AL_ENOMEM    out of memory or descriptors
 *   AL_EINIT     any other errno of open, read or write (its text in the
 *                sentence)
 *   AL_EAGAIN, AL_ETIMEDOUT, AL_EMSGSIZE on read; AL_ENOBUFS, AL_EMSGSIZE
 *                on write
 * Normal outcomes of reads and writes (nothing yet, a timeout, no free
 * buffer in time) send no sentence; a read buffer too small sends one at
 * AL_DIAG_DEBUG, a vanished device one at AL_DIAG_ERR, once per handle.
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
 *  Returns the number of channels (may exceed max), AL_ENOLINK (no rpmsg
 *  bus), AL_EPERM. Any thread; reads sysfs only. */
int al_rpmsg_char_list(const struct al_rpmsg_char_cfg *cfg, struct al_rpmsg_chan_info *out,
		       int max);

/** Find the rpmsg_ctrl device: ctrl NULL or "" (the lowest-numbered),
 *  "rpmsg_ctrlN", "N" or "/dev/rpmsg_ctrlN" (the /dev part is replaced by
 *  the dev root). Writes the node path (path, cap) and returns N, or
 *  AL_ENOLINK (no ctrl at all: the sentence says whether the rpmsg bus or
 *  the rpmsg_ctrl driver is missing, or only the /dev node), AL_EADDR (no
 *  ctrl of that number, while others exist), AL_EINVAL (`ctrl` names
 *  none; path too long). */
int al_rpmsg_char_find_ctrl(const struct al_rpmsg_char_cfg *cfg, const char *ctrl, char *path,
			    size_t cap);

/** List the endpoint devices a ctrl created (ctrl >= 0: the children of
 *  /sys/class/rpmsg/rpmsg_ctrl<ctrl>), or all of /sys/class/rpmsg
 *  (ctrl < 0), in node order. Returns the count (may exceed max),
 *  AL_ENOLINK (no such directory) or AL_EPERM. */
int al_rpmsg_char_list_epts(const struct al_rpmsg_char_cfg *cfg, int ctrl,
			    struct al_rpmsg_ept_info *out, int max);

/** Create an endpoint through the ctrl (see al_rpmsg_char_find_ctrl for
 *  `ctrl`): RPMSG_CREATE_EPT_IOCTL {name (NULL or "" allowed), src
 *  (AL_RPMSG_CHAR_ADDR_ANY allowed), dst}, find the /dev/rpmsgM it created (a new child of the
 *  ctrl with that name, src and dst; waits up to 1 s for udev to make the
 *  node), open it. Blocking (file I/O, at most about 1 s). Returns 0 and
 *  *out, or AL_ENOLINK (no ctrl, not a ctrl, no node appeared), AL_EPERM,
 *  AL_EINVAL (bad name), AL_EADDR (the kernel refused the endpoint, at
 *  the ioctl or at open; a device refused at open stays behind until the
 *  remote restarts, since the kernel removes it only through an open
 *  descriptor: a warning says so), AL_ESTATE, AL_ENOMEM, AL_EINIT. */
int al_rpmsg_char_create(const struct al_rpmsg_char_cfg *cfg, const char *ctrl, const char *name,
			 uint32_t src, uint32_t dst, struct al_rpmsg_char **out);

/** Open the ready /dev/rpmsgM of a channel the kernel bound to
 *  rpmsg_chrdev (service "rpmsg-raw", or a channel given to that driver
 *  through driver_override): the first channel named `name` with
 *  destination dst (AL_RPMSG_CHAR_ADDR_ANY: any) that has a node, waiting
 *  up to timeout_ms for it to appear (polls sysfs every 20 ms). Returns 0
 *  and *out, AL_ETIMEDOUT (absent: the sentence lists the channels there
 *  are, or says the channel has no node), AL_ENOLINK (no rpmsg bus, node
 *  missing in /dev), AL_EPERM, AL_ESTATE, AL_EINVAL (bad name). Never
 *  destroys the channel on close. */
int al_rpmsg_char_open_service(const struct al_rpmsg_char_cfg *cfg, const char *name, uint32_t dst,
			       uint32_t timeout_ms, struct al_rpmsg_char **out);

/** What al_channel_open_kernel() does: with dst == ANY, wait up to
 *  timeout_ms for the remote to announce `name`; if that channel has a
 *  node of its own and src is ANY, open it; otherwise (or with dst
 *  explicit) create an endpoint {name, src, dst} through the ctrl.
 *  Returns as al_rpmsg_char_create / _open_service, and AL_EADDR for a
 *  channel without a remote address. */
int al_rpmsg_char_open_channel(const struct al_rpmsg_char_cfg *cfg, const char *ctrl,
			       const char *name, uint32_t src, uint32_t dst, uint32_t timeout_ms,
			       struct al_rpmsg_char **out);

/** Read one message whole into buf, waiting up to timeout_ms (0: never
 *  wait; AL_RPMSG_CHAR_FOREVER). Returns its length, AL_EAGAIN (timeout
 *  0, nothing there), AL_ETIMEDOUT, AL_EMSGSIZE (cap too small: the
 *  message stays, al_rpmsg_char_next_len() tells its size), AL_ENOLINK
 *  (the device vanished: the remote died or was stopped), AL_EINIT (any
 *  other read error), AL_EINVAL. */
long al_rpmsg_char_read(struct al_rpmsg_char *k, void *buf, size_t cap, uint32_t timeout_ms);

/** Length of the next message without waiting, or AL_EAGAIN /
 *  AL_ENOLINK / AL_EINIT. */
long al_rpmsg_char_next_len(struct al_rpmsg_char *k);

/** Send one message, waiting up to timeout_ms for a free buffer. Returns
 *  len, AL_ENOBUFS (no buffer in time), AL_EMSGSIZE (larger than the
 *  kernel's buffer), AL_ENOLINK (device vanished), AL_EINIT (any other
 *  write error), AL_EINVAL. */
long al_rpmsg_char_write(struct al_rpmsg_char *k, const void *buf, size_t len, uint32_t timeout_ms);

/** A descriptor that polls readable while a message waits (or the device
 *  vanished). Owned by the handle; do not read or close it. */
int al_rpmsg_char_fd(const struct al_rpmsg_char *k);

/** The node (/dev/rpmsgM) and the endpoint's addresses as the kernel
 *  shows them (src stays AL_RPMSG_CHAR_ADDR_ANY when the kernel allocated
 *  it). Any thread. */
const char *al_rpmsg_char_path(const struct al_rpmsg_char *k);
void al_rpmsg_char_addrs(const struct al_rpmsg_char *k, uint32_t *src, uint32_t *dst);
/** Messages read and written. */
void al_rpmsg_char_counts(const struct al_rpmsg_char *k, uint64_t *rx, uint64_t *tx);

/** Close: an endpoint created through the ctrl is destroyed
 *  (RPMSG_DESTROY_EPT_IOCTL), a channel's own node only closed. NULL is
 *  ignored. */
void al_rpmsg_char_close(struct al_rpmsg_char *k);

/** Is `link` a kernel link name: "kernel" or "kernel:CTRL"? Then *ctrl
 *  (if not NULL) points at CTRL or is NULL. Pure function. */
bool al_rpmsg_char_is_kernel_link(const char *link, const char **ctrl);

#ifdef __cplusplus
}
#endif
#endif
