/* Fragmentation and bounded reassembly of large messages (see frag.h). */
#include "amplink/frag.h"

#include <string.h>

#include "shm_access.h"

long al_frag_send(struct al_frag_tx *tx, struct rpmsg_endpoint *ept, uint32_t dst, const void *data,
		  size_t len, uint32_t timeout_ms)
{
	if (!tx || !ept || !data || len == 0)
		return AL_EINVAL;
	if (len > AL_FRAG_MAX)
		return AL_EMSGSIZE;
	int cap = rpmsg_get_tx_buffer_size(ept);
	if (cap < 0)
		return cap;
	if ((size_t)cap <= AL_FRAG_HDR_SIZE)
		return AL_EMSGSIZE;
	size_t chunk = (size_t)cap - AL_FRAG_HDR_SIZE;
	uint8_t frag[AL_FRAG_HDR_SIZE + 496]; /* small messages: one copy on the stack */
	uint16_t seq = tx->seq++;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		uint8_t hdr[AL_FRAG_HDR_SIZE];
		al_wr32(hdr, (uint32_t)len);
		al_wr32(hdr + 4, (uint32_t)off);
		al_wr16(hdr + 8, seq);
		hdr[10] = (uint8_t)((off == 0 ? AL_FRAG_F_FIRST : 0) |
				    (off + n == len ? AL_FRAG_F_LAST : 0));
		hdr[11] = AL_FRAG_VERSION;
		int rc;
		if (n <= sizeof(frag) - AL_FRAG_HDR_SIZE) {
			memcpy(frag, hdr, AL_FRAG_HDR_SIZE);
			memcpy(frag + AL_FRAG_HDR_SIZE, (const uint8_t *)data + off, n);
			rc = al_send_timeout(ept, ept->addr, dst, frag, (int)(AL_FRAG_HDR_SIZE + n),
					     timeout_ms);
		} else { /* big buffers: fill one in place, no staging copy */
			uint32_t bcap;
			int err;
			uint8_t *b = al_get_tx_buffer_timeout(ept, &bcap, timeout_ms, &err);
			if (!b)
				return err;
			memcpy(b, hdr, AL_FRAG_HDR_SIZE);
			memcpy(b + AL_FRAG_HDR_SIZE, (const uint8_t *)data + off, n);
			rc = rpmsg_send_offchannel_nocopy(ept, ept->addr, dst, b,
							  (int)(AL_FRAG_HDR_SIZE + n));
			if (rc < 0)
				(void)rpmsg_release_tx_buffer(ept, b);
		}
		if (rc < 0)
			return rc;
	}
	return (long)len;
}

void al_frag_rx_init(struct al_frag_rx *rx, void *buf, size_t cap)
{
	memset(rx, 0, sizeof(*rx));
	rx->buf = buf;
	rx->cap = cap;
}

static long discard(struct al_frag_rx *rx, long err)
{
	rx->total = 0;
	rx->got = 0;
	rx->errors++;
	return err;
}

long al_frag_rx_feed(struct al_frag_rx *rx, const void *payload, size_t len)
{
	if (!rx || !payload)
		return AL_EINVAL;
	uint8_t hdr[AL_FRAG_HDR_SIZE];
	if (len < AL_FRAG_HDR_SIZE)
		return discard(rx, AL_EPROTO);
	memcpy(hdr, payload, AL_FRAG_HDR_SIZE); /* one copy, then only locals */
	uint32_t total = al_rd32(hdr), off = al_rd32(hdr + 4);
	uint16_t seq = al_rd16(hdr + 8);
	uint8_t flags = hdr[10];
	size_t n = len - AL_FRAG_HDR_SIZE;
	const uint8_t *data = (const uint8_t *)payload + AL_FRAG_HDR_SIZE;
	if (hdr[11] != AL_FRAG_VERSION || total == 0 || total > AL_FRAG_MAX || off > total ||
	    n > total - off || (flags & AL_FRAG_F_FIRST) != (off == 0 ? AL_FRAG_F_FIRST : 0) ||
	    ((flags & AL_FRAG_F_LAST) != 0) != (off + n == total) || (n == 0 && total != 0))
		return discard(rx, AL_EPROTO);
	if (off == 0) {
		long err = rx->total || rx->skipping ? AL_EPROTO : 0; /* previous one cut short */
		if (err)
			rx->errors++;
		rx->skipping = 0;
		rx->total = 0;
		if (total > rx->cap) {
			rx->skipping = !(flags & AL_FRAG_F_LAST);
			rx->seq = seq;
			rx->errors++;
			return AL_EMSGSIZE;
		}
		rx->total = total;
		rx->got = 0;
		rx->seq = seq;
		if (err) { /* report the loss, but keep the new message */
			memcpy(rx->buf, data, n);
			rx->got = (uint32_t)n;
			if (rx->got == rx->total) {
				rx->total = 0;
				return (long)n;
			}
			return err;
		}
	} else if (rx->skipping) {
		if (seq != rx->seq || (flags & AL_FRAG_F_LAST))
			rx->skipping = 0;
		return seq == rx->seq ? 0 : discard(rx, AL_EPROTO);
	} else if (!rx->total || seq != rx->seq || off != rx->got || total != rx->total) {
		return discard(rx, AL_EPROTO); /* a fragment went missing */
	}
	memcpy(rx->buf + off, data, n);
	rx->got += (uint32_t)n;
	if (rx->got < rx->total)
		return 0;
	rx->total = 0;
	return (long)rx->got;
}
