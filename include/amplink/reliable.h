/* Reliable channel: an opt-in mode of an rpmsg endpoint that delivers
 * every message exactly once, in order, through loss, duplication,
 * corruption and reordering, and retransmits what a restarted peer never
 * acknowledged. Both ends of the endpoint must use it; plain endpoints on
 * the same link are unaffected. Wire format and guarantees:
 * docs/reliable.md.
 *
 * Each message carries a 32-byte header inside the rpmsg payload (magic,
 * version, flags DATA/ACK, CRC-32 over header and data, the sender's
 * session, the peer session its acknowledgement refers to, sequence
 * number, the sender's oldest unacknowledged sequence number, a cumulative
 * acknowledgement and a 32-bit selective-acknowledgement bitmap).
 *
 * Portable core code: no malloc, no OS. The caller provides the state
 * (struct al_rel) and the storage for the send window and the reorder
 * buffer (AL_REL_MEM_SIZE bytes), and drives the retransmission timer by
 * calling al_rel_poll() now and then; time comes from the port of the
 * endpoint's device (its time_ms hook).
 *
 * Use:
 *   1. al_rel_init() with a config (window, payload size, timeout,
 *      delivery callback, session id, optional lock hooks) and the storage;
 *   2. create an ordinary endpoint whose receive callback hands every
 *      payload to al_rel_input(), and al_rel_attach() it;
 *   3. al_rel_send() messages, call al_rel_poll() every few milliseconds
 *      (or when al_rel_next_timeout_ms() says);
 *   4. when the link goes away: al_rel_attach(rel, NULL), destroy the
 *      endpoint; when it is back, attach the new one: what was not
 *      acknowledged is sent again.
 *
 * Contexts: al_rel_input() runs in receive context (the endpoint callback)
 * and calls the delivery callback there, without the channel's lock held;
 * the other calls are for thread context. If they can run concurrently
 * with al_rel_input() (a doorbell thread on Linux), give lock hooks in the
 * config; they are never held across the delivery callback, and never
 * taken twice. Nothing here blocks: a full window returns AL_EAGAIN.
 */
#ifndef AMPLINK_RELIABLE_H
#define AMPLINK_RELIABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amplink/rpmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AL_REL_HDR_SIZE	  32u
#define AL_REL_MAGIC	  0x4C52u /* "RL" little-endian */
#define AL_REL_VERSION	  1u
#define AL_REL_F_DATA	  0x01u
#define AL_REL_F_ACK	  0x02u
#define AL_REL_MAX_WINDOW 32u /* the selective-acknowledgement bitmap */

struct al_rel;

/** Delivery: one message, in order, exactly once. Receive context (called
 *  from al_rel_input()), without the channel's lock: it may call
 *  al_rel_send() (e.g. an echo). `data` is valid until it returns. */
typedef void (*al_rel_deliver_cb)(struct al_rel *rel, const void *data, size_t len, void *priv);

struct al_rel_cfg {
	uint16_t window;      /* messages in flight and reorder depth: power of two, 1..32 */
	uint16_t max_payload; /* largest message: <= the endpoint's buffer payload - 32 */
	uint32_t rto_ms;      /* retransmission timeout (doubles per try, up to 8x); 0: 20 ms */
	uint32_t session;     /* this incarnation's id: non-zero, different at every start
			       * (a boot counter, a random number, the time) */
	al_rel_deliver_cb deliver;
	void *priv;
	/* optional lock for concurrent input and send/poll; NULL: one context */
	void (*lock)(void *lock_ctx);
	void (*unlock)(void *lock_ctx);
	void *lock_ctx;
};

/** Counters; each only grows. */
struct al_rel_stats {
	uint32_t tx_data;	/* data messages sent the first time */
	uint32_t tx_retx;	/* data messages sent again */
	uint32_t tx_acks;	/* acknowledgement-only messages sent */
	uint32_t tx_fail;	/* sends the link refused (no buffer, link down): retried */
	uint32_t rx_delivered;	/* messages handed to the delivery callback */
	uint32_t rx_dup;	/* data messages received again (dropped, re-acknowledged) */
	uint32_t rx_reordered;	/* data messages buffered until the gap before them filled */
	uint32_t rx_window;	/* data messages beyond the reorder window (dropped) */
	uint32_t rx_crc;	/* messages whose CRC-32 did not match (dropped) */
	uint32_t rx_malformed;	/* not a reliable-channel message: short, bad magic/version/flags */
	uint32_t rx_stale;	/* from the peer's previous session (dropped) */
	uint32_t rx_bad_ack;	/* acknowledgements of messages never sent (ignored) */
	uint32_t rx_skipped;	/* sequence numbers skipped because the sender said they
				 * were acknowledged before (a receiver restarted) */
	uint32_t peer_restarts; /* the peer came back with a new session */
};

/** One slot of the send window or the reorder buffer. Private. */
struct al_rel_slot {
	uint32_t seq;
	uint16_t len;
	uint8_t used;	/* tx: in flight; rx: holds a message */
	uint8_t sacked; /* tx: the peer has it (selective ack) */
	uint16_t tries; /* tx: times sent */
	uint8_t due;	/* tx: send again at the next poll (the peer restarted) */
	uint8_t pad;
	uint32_t sent_ms; /* low 32 bits of the port's clock */
};

/** Bytes of storage al_rel_init() needs (a constant expression). */
#define AL_REL_MEM_SIZE(window, max_payload)                                                       \
	(2u * (size_t)(window) *                                                                   \
	 (sizeof(struct al_rel_slot) + (((size_t)(max_payload) + 7u) & ~(size_t)7u)))

/** A reliable channel. Caller-allocated; all fields private. */
struct al_rel {
	struct al_rel_cfg cfg;
	struct rpmsg_endpoint *ept; /* sends go here; NULL while detached */
	struct al_rel_slot *tx, *rx;
	uint8_t *tx_data, *rx_data;
	size_t stride;
	/* send side */
	uint32_t tx_base, tx_next; /* in flight: [tx_base, tx_next) */
	/* receive side */
	uint32_t peer_session; /* 0 until the peer was heard */
	uint32_t prev_peer_session;
	uint32_t rx_next; /* next sequence number to deliver */
	bool ack_pending;
	bool delivering; /* al_rel_input() is running */
	struct al_rel_stats stats;
};

/** Set up a channel over `mem` (at least AL_REL_MEM_SIZE(cfg->window,
 *  cfg->max_payload) bytes, 8-byte aligned, caller-owned for the channel's
 *  life). Detached: attach an endpoint to send. Thread context.
 *  Returns 0, AL_EINVAL (NULL, window not a power of two in 1..32,
 *  session 0, no delivery callback, only one lock hook) or AL_ENOMEM (mem
 *  too small). */
int al_rel_init(struct al_rel *rel, const struct al_rel_cfg *cfg, void *mem, size_t size);

/** Send through `ept` from now on (NULL: detach, e.g. before the endpoint
 *  is destroyed). Messages go to ept->dest_addr once it is bound. Attaching
 *  sends everything not yet acknowledged again at once. The endpoint's
 *  buffers must hold AL_REL_HDR_SIZE + max_payload bytes of payload.
 *  Thread context. Returns 0, AL_EINVAL (NULL rel) or AL_EMSGSIZE
 *  (buffers too small; nothing attached). */
int al_rel_attach(struct al_rel *rel, struct rpmsg_endpoint *ept);

/** Queue one message (len <= max_payload) and send it now if the link
 *  lets us (never waits; if it does not, al_rel_poll() sends it later).
 *  Thread context, or the delivery callback. Returns len, AL_EINVAL,
 *  AL_EMSGSIZE, or AL_EAGAIN when `window` messages are unacknowledged
 *  (call al_rel_poll() and try again). */
int al_rel_send(struct al_rel *rel, const void *data, size_t len);

/** Hand a received payload to the channel (from the endpoint's receive
 *  callback). Checks it (length, magic, version, CRC-32), takes the
 *  acknowledgement it carries, delivers its data and any buffered data
 *  now in order through the delivery callback, and acknowledges. Receive
 *  context; never from two contexts at once. Returns the number of
 *  messages delivered (0 or more), AL_EPROTO (dropped: malformed or CRC
 *  error, counted) or AL_EINVAL. */
int al_rel_input(struct al_rel *rel, const void *payload, size_t len);

/** Timer work: send again every message whose timeout ran out (or every
 *  unacknowledged one after the peer restarted), and a pending
 *  acknowledgement. Uses the time of the attached endpoint's port; does
 *  nothing while detached. Thread context. Returns the number of messages
 *  sent, or AL_EINVAL. */
int al_rel_poll(struct al_rel *rel);

/** Messages sent and not yet acknowledged (0: everything arrived). */
unsigned al_rel_unacked(const struct al_rel *rel);

/** Milliseconds until al_rel_poll() has work (0: now; AL_WAIT_FOREVER-like
 *  0xFFFFFFFF: nothing in flight). Thread context. */
uint32_t al_rel_next_timeout_ms(struct al_rel *rel);

/** Copy the counters (under the channel's lock). Thread context or the
 *  delivery callback. */
void al_rel_get_stats(const struct al_rel *rel, struct al_rel_stats *out);

/** Exactly once across a restart of the receiver: the position to save
 *  with what the application did with each delivered message (e.g. from
 *  the delivery callback, into memory that survives the restart), and to
 *  give back to a fresh channel before it attaches. Without it a restarted
 *  receiver takes the sender's word for where to start, and the messages
 *  it delivered but had not acknowledged when it died arrive again.
 *  Position: thread context or the delivery callback (takes the lock;
 *  inside the callback it already counts the message being delivered).
 *  Restore: thread context, before attaching; returns 0 or AL_EINVAL
 *  (peer_session 0). */
void al_rel_rx_position(const struct al_rel *rel, uint32_t *peer_session, uint32_t *next_seq);
int al_rel_rx_restore(struct al_rel *rel, uint32_t peer_session, uint32_t next_seq);

#ifdef __cplusplus
}
#endif
#endif
