/* The channel API: blocking read/write on one endpoint, for applications
 * that prefer I/O calls to callbacks. Semantics follow Linux /dev/rpmsgX
 * (rpmsg_char) and RT-Thread's rpmsg device: each message is read whole,
 * a read buffer too small for the next message is an error that leaves the
 * message queued, and every channel has a file descriptor that is readable
 * while a message waits (poll/epoll/event loops).
 *
 * Channels live on the host side of Linux (they use threads, malloc and an
 * eventfd). Received messages are copied into a per-channel queue; once
 * AL_CHANNEL_QUEUE_LEN copies wait, further messages stay in their shared
 * buffers (held) until read, so a slow reader pushes back on the sender
 * instead of losing messages. A channel nobody reads therefore ends up
 * holding the link's receive buffers: read or close your channels. Only an
 * allocation failure drops a message (counted in al_channel_stats.dropped).
 */
#ifndef AMPLINK_CHANNEL_H
#define AMPLINK_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/rpmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AL_CHANNEL_QUEUE_LEN 256u

struct al_channel;

struct al_channel_stats {
	uint64_t rx;	  /* messages queued */
	uint64_t tx;	  /* messages written */
	uint64_t dropped; /* messages lost to a full queue */
};

/** The service directory: pass al_services_ns_bind as the ns_bind_cb of a
 *  link and al_services_ns_unbind as its ns_unbind_cb so that channels can
 *  be opened by name. It records the names the peer announces and forgets
 *  them when the peer withdraws them (NS destroy). Lookups are O(1); a
 *  device holds at most AL_SERVICES_MAX names, further announcements are
 *  dropped and counted (al_services_dropped) and said once through the
 *  diagnostics hook. Receive context. */
#define AL_SERVICES_MAX 4096u
void al_services_ns_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest);
void al_services_ns_unbind(struct rpmsg_device *rdev, const char *name, uint32_t dest);

/** Announcements of a device dropped because its directory was full. */
uint64_t al_services_dropped(struct rpmsg_device *rdev);

/** Look up the address the peer announced for `name`: 0 and *addr, or
 *  AL_EADDR. Any thread. */
int al_services_lookup(struct rpmsg_device *rdev, const char *name, uint32_t *addr);

/** Visit every announced service (name, address). Any thread; `fn` must not
 *  call back into the directory. Returns the number visited. */
int al_services_foreach(struct rpmsg_device *rdev,
			void (*fn)(const char *name, uint32_t addr, void *arg), void *arg);

/** Forget every service of a device (link closed). */
void al_services_clear(struct rpmsg_device *rdev);

/** Open a channel.
 *  By name: `name` set and dst == RPMSG_ADDR_ANY: waits up to timeout_ms
 *  for the peer to announce `name`, then binds to it (local address `src`,
 *  RPMSG_ADDR_ANY to allocate).
 *  By address: dst explicit; `name` may be NULL.
 *  Thread context. Returns 0 and *out, AL_EINVAL, AL_ETIMEDOUT (never
 *  announced), AL_EADDR (src taken), AL_ENOMEM. */
int al_channel_open(struct rpmsg_device *rdev, const char *name, uint32_t src, uint32_t dst,
		    uint32_t timeout_ms, struct al_channel **out);

/** Open a channel through the Linux kernel's rpmsg_char instead of a
 *  link of amplink's own (boards where the kernel runs remoteproc and
 *  virtio_rpmsg_bus): `link` is "kernel" or "kernel:/dev/rpmsg_ctrlN".
 *  Same by-name / by-address rules as al_channel_open(); a channel the
 *  kernel already bound to rpmsg_chrdev is opened as is, else an endpoint
 *  is created through rpmsg_ctrl (include/amplink/linux/rpmsg_char.h).
 *  read/write/fd/next_len/stats/close then work as for any channel (link
 *  gone: AL_ENOLINK); al_channel_ept() gives addr and dest_addr only
 *  (rdev NULL), and a read's *src is dest_addr (rpmsg_char does not tell
 *  the sender). On failure the kernel-side sentence goes to the
 *  diagnostics hook (amplink/linux/diag.h). Thread context. Returns 0,
 *  AL_EINVAL (not a kernel link name, bad service name), AL_ETIMEDOUT
 *  (never announced, as al_channel_open()), AL_ENOLINK (the kernel has no
 *  rpmsg bus, no rpmsg_ctrl or no /dev node), AL_EPERM (permission
 *  denied), AL_EADDR (the kernel refused the endpoint), AL_ESTATE (the
 *  device is open elsewhere), AL_ENOMEM, AL_EINIT (another error). */
int al_channel_open_kernel(const char *link, const char *name, uint32_t src, uint32_t dst,
			   uint32_t timeout_ms, struct al_channel **out);

struct al_rpmsg_char_cfg;
/** al_channel_open_kernel() with the kernel's trees somewhere else (cfg
 *  as for al_rpmsg_char_*: a directory laid out like /sys and /dev, for
 *  tests; NULL: /sys and /dev). */
int al_channel_open_kernel_at(const struct al_rpmsg_char_cfg *cfg, const char *link,
			      const char *name, uint32_t src, uint32_t dst, uint32_t timeout_ms,
			      struct al_channel **out);

/** Read the next message into buf (cap bytes), waiting up to timeout_ms
 *  (0: never wait; AL_WAIT_FOREVER). *src (if not NULL) gets the sender.
 *  Returns the message length, AL_EAGAIN (timeout 0, nothing queued),
 *  AL_ETIMEDOUT, AL_EMSGSIZE (cap too small: the message stays queued;
 *  al_channel_next_len() tells its size), AL_ENOLINK / AL_EBROKEN (link gone
 *  and nothing left queued). Thread context. */
long al_channel_read(struct al_channel *ch, void *buf, size_t cap, uint32_t *src,
		     uint32_t timeout_ms);

/** Length of the next queued message, or AL_EAGAIN if none. */
long al_channel_next_len(struct al_channel *ch);

/** Send one message to the channel's peer, waiting up to timeout_ms for a
 *  free buffer. Returns len or the errors of rpmsg_send() (AL_EMSGSIZE,
 *  AL_ENOBUFS after the timeout, AL_ENOLINK, ...). Thread context; several
 *  threads may write to one channel at once. */
long al_channel_write(struct al_channel *ch, const void *buf, size_t len, uint32_t timeout_ms);

/** A descriptor that polls readable while a message is queued. Owned by the
 *  channel; do not read or close it. */
int al_channel_fd(const struct al_channel *ch);

/** The channel's endpoint (local address ept->addr, peer ept->dest_addr). */
struct rpmsg_endpoint *al_channel_ept(struct al_channel *ch);

void al_channel_get_stats(struct al_channel *ch, struct al_channel_stats *out);

/** Close: destroy the endpoint, drop queued messages, free. Thread
 *  context, not from a callback. NULL is ignored. */
void al_channel_close(struct al_channel *ch);

#ifdef __cplusplus
}
#endif
#endif
