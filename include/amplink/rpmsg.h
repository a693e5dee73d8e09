/* The rpmsg bus: endpoints, addresses, the name service, and the
 * OpenAMP-style messaging API (names, argument order and return values as in
 * OpenAMP's <openamp/rpmsg.h>, so endpoint code ports unchanged).
 *
 * A message is a 16-byte header {le32 src; le32 dst; le32 reserved;
 * le16 len; le16 flags} followed by `len` payload bytes, in one shared
 * buffer (512 B by default: 496 B of payload). An endpoint is a local 32-bit
 * address with a receive callback, optionally a name (announced to the peer
 * through the name service at address 53) and a default destination.
 *
 * Contexts. "Receive context" is wherever the port calls
 * al_virtio_notified(): an ISR on a microcontroller, the doorbell thread
 * on Linux. Receive callbacks run there, one at a time per device, without
 * any amplink lock held: they may send (with trysend or a zero timeout),
 * hold buffers and create or destroy *other* endpoints, but must not block.
 *
 * Return values: 0 or a positive count on success, a negative AL_E* code
 * (alias RPMSG_ERR_*) on failure; al_strerror() names each.
 */
#ifndef AMPLINK_RPMSG_H
#define AMPLINK_RPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h> /* as OpenAMP's rpmsg.h: applications use strncpy etc. unincluded */

#include "amplink/config.h"
#include "amplink/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RPMSG_NAME_SIZE		 32u
#define RPMSG_ADDR_ANY		 0xFFFFFFFFu
#define RPMSG_NS_EPT_ADDR	 0x35u /* 53: the name service */
#define RPMSG_RESERVED_ADDRESSES 1024u /* ANY allocates from here up */
#define RPMSG_HDR_SIZE		 16u
#define RPMSG_NS_MSG_SIZE	 40u
#define RPMSG_NS_CREATE		 0u
#define RPMSG_NS_DESTROY	 1u

/* OpenAMP's error names. */
#define RPMSG_SUCCESS	    AL_OK
#define RPMSG_ERROR_BASE    AL_ERR_BASE
#define RPMSG_ERR_NO_MEM    AL_ENOMEM
#define RPMSG_ERR_NO_BUFF   AL_ENOBUFS
#define RPMSG_ERR_PARAM	    AL_EINVAL
#define RPMSG_ERR_DEV_STATE AL_ESTATE
#define RPMSG_ERR_BUFF_SIZE AL_EMSGSIZE
#define RPMSG_ERR_INIT	    AL_EINIT
#define RPMSG_ERR_ADDR	    AL_EADDR
#define RPMSG_ERR_PERM	    AL_EPERM
#define RPMSG_EOPNOTSUPP    AL_EOPNOTSUPP

/** Default timeout of the blocking send family (OpenAMP waits 15 s; amplink
 *  makes it a per-device setting, see al_set_send_timeout()). */
#define RPMSG_SEND_TIMEOUT_MS_DEFAULT 15000u

struct rpmsg_device;
struct rpmsg_endpoint;

/** Receive callback: `data`/`len` is the payload, `src` the sender's
 *  address. Runs in receive context; the buffer is valid until the callback
 *  returns unless it calls rpmsg_hold_rx_buffer(). Return RPMSG_SUCCESS
 *  (the value is ignored otherwise, as in OpenAMP). */
typedef int (*rpmsg_ept_cb)(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src,
			    void *priv);
/** Called when the peer destroys the service this endpoint was bound to
 *  (name-service DESTROY), in receive context. */
typedef void (*rpmsg_ns_unbind_cb)(struct rpmsg_endpoint *ept);
/** Called when the peer announces a name no local endpoint waits for, in
 *  receive context. Typically creates an endpoint bound to `dest`. */
typedef void (*rpmsg_ns_bind_cb)(struct rpmsg_device *rdev, const char *name, uint32_t dest);
/** Called when the last reference to an endpoint goes: at
 *  rpmsg_destroy_ept(), or, if its callback was running then, when the
 *  callback returns (in receive context). */
typedef void (*rpmsg_ept_release_cb)(struct rpmsg_endpoint *ept);

/** A service the peer announced before any local endpoint asked for it
 *  (private; see rpmsg_create_ept()). */
struct al_ns_entry {
	char name[RPMSG_NAME_SIZE];
	uint32_t addr;
};

/** An endpoint. Caller-allocated; fields are read-only for the application
 *  except `priv` (rpmsg_create_ept() keeps what the caller set there, as
 *  OpenAMP does) and `release_cb` (set it after rpmsg_create_ept()). */
struct rpmsg_endpoint {
	char name[RPMSG_NAME_SIZE];
	struct rpmsg_device *rdev;
	uint32_t addr;	    /* local address */
	uint32_t dest_addr; /* default destination, RPMSG_ADDR_ANY until bound */
#if !AL_CFG_NO_BUS_EXTRAS
	uint32_t refcnt; /* 1 while created, +1 while its callback runs */
#endif
	rpmsg_ept_cb cb;
	rpmsg_ns_unbind_cb ns_unbind_cb;
#if !AL_CFG_NO_BUS_EXTRAS
	rpmsg_ept_release_cb release_cb; /* optional, set by the application */
#endif
	void *priv;
	/* private */
	struct rpmsg_endpoint *next;
#if !AL_CFG_NO_ADDR_HASH
	struct rpmsg_endpoint *hnext; /* address hash chain (al_set_addr_hash) */
#endif
	bool announce; /* named, created unbound before link-up: announce then */
#if !AL_CFG_NO_STATS
	uint32_t rx_msgs;
	uint32_t tx_msgs;
	uint64_t rx_bytes; /* payload bytes delivered to this endpoint */
	uint64_t tx_bytes; /* payload bytes sent from it */
#endif
};

/** Link counters; each only grows. Read with al_get_stats(). */
struct rpmsg_stats {
	uint32_t tx_msgs;	 /* messages sent */
	uint32_t rx_msgs;	 /* messages delivered to an endpoint */
	uint32_t rx_unknown_dst; /* dropped: no endpoint at dst */
	uint32_t ns_malformed;	 /* dropped: bad name-service message */
	uint32_t ns_announced;	 /* name-service messages sent */
	uint32_t kicks_tx;	 /* doorbells rung */
	uint32_t kicks_rx;	 /* al_virtio_notified() calls */
	uint32_t tx_no_buf;	 /* a send found no free buffer (before waiting) */
	uint64_t tx_bytes;	 /* payload bytes sent (headers not counted) */
	uint64_t rx_bytes;	 /* payload bytes delivered to an endpoint */
};

/** The bus part of a device. Embedded in struct rpmsg_virtio_device; never
 *  touched directly by applications. */
struct rpmsg_device {
	struct rpmsg_endpoint *endpoints; /* singly linked, private */
#if !AL_CFG_NO_ADDR_HASH
	struct rpmsg_endpoint **buckets; /* optional address hash, private */
	uint32_t nbuckets;
#endif
	struct rpmsg_endpoint ns_ept; /* address 53 */
	rpmsg_ns_bind_cb ns_bind_cb;
#if !AL_CFG_NO_BUS_EXTRAS
	/* told (after the endpoint's own ns_unbind_cb) of every service the
	 * peer destroys; set by the application, as in OpenAMP */
	rpmsg_ns_bind_cb ns_unbind_cb;
#endif
#if AL_CFG_NS_DIR
	struct al_ns_entry ns_dir[AL_CFG_NS_DIR]; /* announced, not yet bound (private) */
#endif
	bool support_ns;
	uint32_t next_any_addr;
	uint32_t send_timeout_ms;
#if !AL_CFG_NO_STATS
	struct rpmsg_stats stats;
#endif
};

/** Create an endpoint. `src` may be RPMSG_ADDR_ANY (allocated from 1024 up)
 *  or an explicit address (AL_EADDR if taken). `dest` may be
 *  RPMSG_ADDR_ANY: the endpoint then binds to the source of the first
 *  message it receives, or to the peer's name-service announcement of
 *  `name` (one that arrived before, kept in the device's directory of
 *  AL_CFG_NS_DIR entries, or one that arrives later). A named endpoint
 *  created unbound is announced (NS CREATE) exactly once: at once if the
 *  link is up and the name service was negotiated, else when the link
 *  comes up; if announcing at once fails the endpoint is not created.
 *  `ept->priv` keeps what the caller set; `ept->release_cb` is cleared.
 *  Thread context (takes the device lock); may be called from a receive
 *  callback. Errors: AL_EINVAL (NULL ept/rdev/cb), AL_EADDR. */
int rpmsg_create_ept(struct rpmsg_endpoint *ept, struct rpmsg_device *rdev, const char *name,
		     uint32_t src, uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb ns_unbind_cb);

/** Destroy an endpoint: announce NS DESTROY for a named endpoint at an
 *  address of 1024 or more (if the link is up and the name service was
 *  negotiated, as OpenAMP does), unlink it and drop its reference: its
 *  release_cb runs now, or when its running callback returns. Messages for
 *  its address arriving later are dropped and counted. Thread context; not
 *  from this endpoint's own callback. NULL is ignored. */
void rpmsg_destroy_ept(struct rpmsg_endpoint *ept);

/** True once the endpoint has a local address and a destination. Any
 *  context. */
static inline bool is_rpmsg_ept_ready(const struct rpmsg_endpoint *ept)
{
	return ept && ept->rdev && ept->addr != RPMSG_ADDR_ANY && ept->dest_addr != RPMSG_ADDR_ANY;
}

/** Send `len` bytes from `src` to `dst`. The blocking family (`send`,
 *  `sendto`, `send_offchannel`) waits up to the device's send timeout for a
 *  free buffer; the `try` family never waits. One memcpy of the payload.
 *  Thread context for the blocking family; any context for `try`.
 *  Returns the number of bytes sent, or: AL_EINVAL (NULL endpoint or
 *  data, even with len 0, len < 0, dst RPMSG_ADDR_ANY: OpenAMP's
 *  RPMSG_ERR_PARAM), AL_EMSGSIZE (len > rpmsg_get_tx_buffer_size():
 *  nothing is sent, where OpenAMP sends the first part and returns its
 *  length), AL_ESTATE (link not up), AL_ENOBUFS (no buffer in time),
 *  AL_EBROKEN (link broken). Nothing is sent on error. */
int rpmsg_send_offchannel_raw(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst,
			      const void *data, int len, int wait);

static inline int rpmsg_send(struct rpmsg_endpoint *ept, const void *data, int len)
{
	return ept ? rpmsg_send_offchannel_raw(ept, ept->addr, ept->dest_addr, data, len, true)
		   : AL_EINVAL;
}
static inline int rpmsg_sendto(struct rpmsg_endpoint *ept, const void *data, int len, uint32_t dst)
{
	return ept ? rpmsg_send_offchannel_raw(ept, ept->addr, dst, data, len, true) : AL_EINVAL;
}
static inline int rpmsg_send_offchannel(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst,
					const void *data, int len)
{
	return rpmsg_send_offchannel_raw(ept, src, dst, data, len, true);
}
static inline int rpmsg_trysend(struct rpmsg_endpoint *ept, const void *data, int len)
{
	return ept ? rpmsg_send_offchannel_raw(ept, ept->addr, ept->dest_addr, data, len, false)
		   : AL_EINVAL;
}
static inline int rpmsg_trysendto(struct rpmsg_endpoint *ept, const void *data, int len,
				  uint32_t dst)
{
	return ept ? rpmsg_send_offchannel_raw(ept, ept->addr, dst, data, len, false) : AL_EINVAL;
}
static inline int rpmsg_trysend_offchannel(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst,
					   const void *data, int len)
{
	return rpmsg_send_offchannel_raw(ept, src, dst, data, len, false);
}

/* ---- zero copy -------------------------------------------------------- */

/** Reserve a transmit buffer and return a pointer to its payload area;
 *  *len receives its capacity. `wait` true blocks up to the send timeout
 *  (thread context), false never waits (any context). Returns NULL if no
 *  buffer (or bad args, link down/broken). The buffer belongs to the caller
 *  until rpmsg_send_nocopy*() or rpmsg_release_tx_buffer(). */
void *rpmsg_get_tx_payload_buffer(struct rpmsg_endpoint *ept, uint32_t *len, int wait);

/** Send `len` bytes already written into a buffer from
 *  rpmsg_get_tx_payload_buffer(), without copying. On success the buffer
 *  belongs to the peer; on any error it stays the caller's (send it again
 *  or give it back with rpmsg_release_tx_buffer()). Returns len, or
 *  AL_EPERM (`data` is not a reserved transmit buffer) and the errors of
 *  rpmsg_send(). Any context. */
int rpmsg_send_offchannel_nocopy(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst,
				 const void *data, int len);
static inline int rpmsg_sendto_nocopy(struct rpmsg_endpoint *ept, const void *data, int len,
				      uint32_t dst)
{
	return ept ? rpmsg_send_offchannel_nocopy(ept, ept->addr, dst, data, len) : AL_EINVAL;
}
static inline int rpmsg_send_nocopy(struct rpmsg_endpoint *ept, const void *data, int len)
{
	return ept ? rpmsg_send_offchannel_nocopy(ept, ept->addr, ept->dest_addr, data, len)
		   : AL_EINVAL;
}

/** Give back a reserved transmit buffer unsent. Returns RPMSG_SUCCESS, or
 *  AL_EINVAL / AL_EPERM if `txbuf` is not a buffer reserved by
 *  rpmsg_get_tx_payload_buffer(). Any context. */
int rpmsg_release_tx_buffer(struct rpmsg_endpoint *ept, void *txbuf);

/** Keep the received buffer `rxbuf` (the `data` pointer a callback got)
 *  after the callback returns. Only from inside that callback. A buffer
 *  that is not a received one is ignored (and counted by nothing: OpenAMP
 *  has no return value here; use the al_ variant to see errors). */
void rpmsg_hold_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf);
/** Return a held buffer to the peer. Any context. */
void rpmsg_release_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf);
/** As above, reporting AL_EINVAL/AL_EPERM for a pointer that is not a
 *  received (resp. held) buffer. */
int al_rpmsg_hold_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf);
int al_rpmsg_release_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf);

/** Payload capacity of a transmit / receive buffer on this endpoint's
 *  device (buffer size minus the 16-byte header). Any context. Returns
 *  AL_EINVAL for a NULL or unattached endpoint. */
int rpmsg_get_tx_buffer_size(struct rpmsg_endpoint *ept);
int rpmsg_get_rx_buffer_size(struct rpmsg_endpoint *ept);

/* ---- amplink extensions ------------------------------------------------ */

/** rpmsg_send_offchannel_raw() with an explicit wait: 0 never waits,
 *  AL_WAIT_FOREVER waits until a buffer comes back or the link fails.
 *  Same returns. Thread context when timeout_ms > 0. */
int al_send_timeout(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data,
		    int len, uint32_t timeout_ms);

/** One message of a burst: `len` bytes at `data`. */
struct al_msg {
	const void *data;
	uint32_t len;
};

/** Send up to `n` messages from `src` to `dst`, in order, for the price
 *  of about one: one lock round, one ring-index update, one doorbell
 *  decision (a full barrier) and at most one doorbell for the lot, where
 *  each rpmsg_send() pays all of them. For a producer that has several
 *  messages at hand (a queue of telemetry samples, a log backlog). Each is
 *  copied into its own buffer and arrives as its own message, exactly as
 *  if sent one by one. Every message is checked first; if any fails,
 *  nothing is sent. Waits up to `timeout_ms` (0: never, AL_WAIT_FOREVER)
 *  for the first buffer only, then sends as many more as there are
 *  buffers free right now, like writev() on a full socket: send the rest
 *  with another call. Thread context when timeout_ms > 0, else any.
 *  Returns the number of messages sent (1..n), or, with nothing sent:
 *  AL_EINVAL (NULL endpoint, msgs or a message's data, n == 0, dst
 *  RPMSG_ADDR_ANY), AL_EMSGSIZE (a message longer than
 *  rpmsg_get_tx_buffer_size()), AL_ESTATE (link not up), AL_ENOBUFS (no
 *  buffer in time), AL_EBROKEN (link broken, also if the peer broke it
 *  during the call). Not in a build with AL_CFG_SMALL_CODE. */
int al_send_burst(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const struct al_msg *msgs,
		  unsigned n, uint32_t timeout_ms);

/** rpmsg_get_tx_payload_buffer() with an explicit wait; *err (if not NULL)
 *  receives 0 or the reason for NULL (AL_EINVAL, AL_ENOBUFS, AL_ESTATE,
 *  AL_EBROKEN). */
void *al_get_tx_buffer_timeout(struct rpmsg_endpoint *ept, uint32_t *len, uint32_t timeout_ms,
			       int *err);

/** The buffer calls by device rather than endpoint (the buffers belong to
 *  the link, not to an endpoint: RPMsg-Lite's model). Same behaviour,
 *  contexts and errors as al_get_tx_buffer_timeout(),
 *  rpmsg_release_tx_buffer(), al_rpmsg_hold_rx_buffer() and
 *  al_rpmsg_release_rx_buffer(); AL_EINVAL (NULL) for a NULL device. */
void *al_dev_get_tx_buffer(struct rpmsg_device *rdev, uint32_t *len, uint32_t timeout_ms, int *err);
int al_dev_release_tx_buffer(struct rpmsg_device *rdev, void *txbuf);
int al_dev_hold_rx_buffer(struct rpmsg_device *rdev, void *rxbuf);
int al_dev_release_rx_buffer(struct rpmsg_device *rdev, void *rxbuf);

/** Set how long the blocking send family waits for a buffer (ms;
 *  AL_WAIT_FOREVER allowed). Any context. */
void al_set_send_timeout(struct rpmsg_device *rdev, uint32_t timeout_ms);

/** Give the device an address hash table so that dispatch finds an
 *  endpoint in O(1) however many there are (without one, lookups walk the
 *  endpoint list: fine for the few endpoints of a microcontroller).
 *  `buckets` is caller storage for `n` pointers, n a power of two; existing
 *  endpoints are moved into it. Thread context, before traffic or under no
 *  load. Returns 0 or AL_EINVAL. */
int al_set_addr_hash(struct rpmsg_device *rdev, struct rpmsg_endpoint **buckets, uint32_t n);

/** Set the device's ns_unbind_cb (OpenAMP's field of struct rpmsg_device):
 *  told of every service the peer destroys, with its name and address,
 *  after the bound endpoint's own ns_unbind_cb (the counterpart of the
 *  ns_bind_cb). Call before the link's receive path runs (NULL: not told).
 *  The callback runs in receive context. Returns 0, or AL_EINVAL (NULL
 *  rdev, or a build with AL_CFG_NO_BUS_EXTRAS). */
int al_set_ns_unbind_cb(struct rpmsg_device *rdev, rpmsg_ns_bind_cb cb);

/** Copy the device's counters into *out. Any context. */
void al_get_stats(struct rpmsg_device *rdev, struct rpmsg_stats *out);

/** One local endpoint as al_foreach_ept() reports it: its name, addresses
 *  and counters (zero with AL_CFG_NO_STATS). */
struct al_ept_info {
	char name[RPMSG_NAME_SIZE]; /* NUL-terminated */
	uint32_t addr, dest_addr;
	uint32_t rx_msgs, tx_msgs;
	uint64_t rx_bytes, tx_bytes;
};

/** Call fn for every local endpoint of the device (the name-service
 *  endpoint included), with a copy taken under the device lock; fn runs
 *  with the lock held and must not call into the device. Stops after
 *  `max` endpoints. Thread context (for monitoring: it walks the list).
 *  Returns how many endpoints the device has (which may exceed `max`),
 *  or AL_EINVAL for a NULL rdev or fn. */
int al_foreach_ept(struct rpmsg_device *rdev, uint32_t max,
		   void (*fn)(const struct al_ept_info *info, void *arg), void *arg);

/** Find a local endpoint by name (first match), or NULL. Thread context. */
struct rpmsg_endpoint *al_find_ept_by_name(struct rpmsg_device *rdev, const char *name);

#ifdef __cplusplus
}
#endif
#endif
