/* Fragmentation: messages larger than one buffer (up to 1 MiB by default)
 * over an ordinary endpoint. Opt-in: both ends of an endpoint must use it.
 *
 * Each fragment is one rpmsg message whose payload starts with a 12-byte
 * little-endian header, then data:
 *
 *   le32 total    length of the whole message (1..AL_FRAG_MAX)
 *   le32 offset   where this fragment's data goes in the message
 *   le16 seq      message sequence number (wraps), same for all fragments
 *   u8   flags    AL_FRAG_F_FIRST (offset 0), AL_FRAG_F_LAST
 *   u8   version  AL_FRAG_VERSION
 *
 * rpmsg delivers an endpoint's messages in order, so the receiver expects
 * fragments back to back; anything else (a gap, another message starting
 * before the last ended, a header that contradicts itself) discards the
 * message being reassembled and reports AL_EPROTO once. The reassembly
 * buffer is the caller's: memory is bounded by its size, and a message
 * announced larger than it is dropped with AL_EMSGSIZE. Portable: no malloc.
 */
#ifndef AMPLINK_FRAG_H
#define AMPLINK_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "amplink/rpmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AL_FRAG_HDR_SIZE 12u
#define AL_FRAG_MAX	 (1u << 20)
#define AL_FRAG_F_FIRST	 1u
#define AL_FRAG_F_LAST	 2u
#define AL_FRAG_VERSION	 1u

/** Sender state: the next sequence number. Zero-initialise. */
struct al_frag_tx {
	uint16_t seq;
};

/** Send `len` bytes (1..AL_FRAG_MAX) to `dst` as back-to-back fragments,
 *  each waiting up to timeout_ms for a buffer. Thread context if
 *  timeout_ms > 0; one sender per al_frag_tx at a time (fragments of two
 *  messages must not interleave on one endpoint).
 *  Returns len, or AL_EINVAL, AL_EMSGSIZE (len > AL_FRAG_MAX or buffers too
 *  small for a header), or a send error (the peer then sees a truncated
 *  message, which it reports as AL_EPROTO when the next one starts). */
long al_frag_send(struct al_frag_tx *tx, struct rpmsg_endpoint *ept, uint32_t dst, const void *data,
		  size_t len, uint32_t timeout_ms);

/** Receiver state over a caller-provided reassembly buffer. */
struct al_frag_rx {
	uint8_t *buf;
	size_t cap;
	uint32_t total; /* 0 when idle */
	uint32_t got;
	uint16_t seq;
	uint8_t skipping; /* dropping the rest of an oversized message */
	uint32_t errors;  /* messages discarded */
};

void al_frag_rx_init(struct al_frag_rx *rx, void *buf, size_t cap);

/** Feed one received payload (from an endpoint callback). Returns the
 *  length of a complete message now in rx->buf (valid until the next
 *  feed), 0 if more fragments are needed, AL_EMSGSIZE (the message is
 *  larger than the buffer: it is skipped whole), or AL_EPROTO: this
 *  fragment is malformed or out of sequence (the partial message is
 *  discarded), or a new message started before the previous one ended (the
 *  previous one is discarded, the new one is kept). rx->errors counts every
 *  discarded message. Receive context. */
long al_frag_rx_feed(struct al_frag_rx *rx, const void *payload, size_t len);

#ifdef __cplusplus
}
#endif
#endif
