/* The benchmark protocol between fw_echo (mcu/fw_echo.c) and
 * `amplink rproc start --machine mps2-an386 fw_echo.elf --bench`
 * (tools/amplink/rproc_bench.c). Header only, shared by both sides; no amplink
 * API in it.
 *
 * 1. The RPMsg bench service FWB_SERVICE (announced by the firmware). Its
 *    receive callback runs in the doorbell interrupt and never queues:
 *    control messages are FWB_CTL_LEN bytes {le32 FWB_MAGIC | cmd,
 *    le32 a, le32 b}; everything else is a data message whose payload is
 *    fwb_fill(seq, len) and is checked byte for byte.
 *      SINK n     count and check the next n data messages (seq 0..n-1, in
 *                 order), then answer REPORT {count, errors};
 *      SOURCE n l send n data messages of l bytes (seq 0..n-1) from the
 *                 main loop: zero-copy buffers, one doorbell per
 *                 FWB_BATCH messages (or when the host's buffers run out);
 *                 REPORT {n, errors} after the last;
 *      ECHO       check each data message and send it back from the
 *                 interrupt handler (no queue, no main loop);
 *      STATS      answer at once {le32 FWB_MAGIC | FWB_STATS, then the
 *                 le32 counters of enum fwb_stat} (FWB_STATS_LEN bytes),
 *                 counted since boot, for doorbells per message.
 * 2. The raw ring baseline: struct fwb_raw at FWB_RAW_OFF in the shared
 *    RAM, two single-producer single-consumer rings of FWB_RAW_SLOTS slots,
 *    no protocol; its doorbell is UART2, a byte >= 0x80 meaning "look at
 *    the rings" (bytes < 0x80 are echoed: the raw doorbell round trip). The
 *    firmware handles a kick in the UART2 interrupt (mode in the control
 *    words: echo, sink or source of `count` messages) and answers every
 *    kick with one byte FWB_RAW_KICK. Each slot holds a 16-byte header
 *    (le32 seq, le32 len) and a payload of len (<= 16) bytes checked like
 *    the RPMsg data: the same bytes per message as an RPMsg message of 16
 *    bytes (header + payload). */
#ifndef AMPLINK_FW_BENCH_PROTO_H
#define AMPLINK_FW_BENCH_PROTO_H

#include <stdint.h>
#include <string.h>

#define FWB_SERVICE "amplink-bench"
#define FWB_MAGIC   0xB3C40000u
#define FWB_CTL_LEN 12u
enum { FWB_SINK = 1, FWB_SOURCE = 2, FWB_ECHO = 3, FWB_REPORT = 4, FWB_STATS = 5 };
#define FWB_BATCH 32u /* firmware sends per doorbell in SOURCE mode */
/* The STATS answer, after its magic word. */
enum fwb_stat {
	FWB_ST_RINGS,	   /* doorbells the core rang (UART1 writes) */
	FWB_ST_RINGS_FREE, /* ... of which inside rpmsg_queue_nocopy_free() */
	FWB_ST_DOORBELLS,  /* doorbell interrupts that drained the ring */
	FWB_ST_WAITS,	   /* main-loop sleeps (al_baremetal_wait) */
	FWB_ST_RX,	   /* messages delivered to an endpoint */
	FWB_ST_TX,	   /* messages sent */
	FWB_ST_N
};
#define FWB_STATS_LEN (4u * (1u + FWB_ST_N))

/* Data message `seq`: 32-bit little-endian words, word 0 = seq, word k =
 * seq * 0x9E3779B1 + k * 0x85EBCA77 (a short last word is cut). Both ends
 * are little-endian (x86-64, Cortex-M4), so a word is filled and checked
 * with one load or store. */
static inline uint32_t fwb_word(uint32_t seq, uint32_t k)
{
	return k == 0 ? seq : seq * 0x9E3779B1u + k * 0x85EBCA77u;
}

static inline void fwb_fill(uint8_t *p, uint32_t seq, uint32_t len)
{
	uint32_t i = 0;
	for (; i + 4u <= len; i += 4u) {
		uint32_t w = fwb_word(seq, i / 4u);
		memcpy(p + i, &w, 4);
	}
	for (; i < len; i++)
		p[i] = (uint8_t)(fwb_word(seq, i / 4u) >> (8u * (i % 4u)));
}

/* 1 if p[0..len) is data message `seq`, else 0. Every byte is compared. */
static inline int fwb_check(const uint8_t *p, uint32_t seq, uint32_t len)
{
	uint32_t d = 0, i = 0;
	for (; i + 4u <= len; i += 4u) {
		uint32_t w;
		memcpy(&w, p + i, 4);
		d |= w ^ fwb_word(seq, i / 4u);
	}
	for (; i < len; i++)
		d |= (uint8_t)(p[i] ^ (uint8_t)(fwb_word(seq, i / 4u) >> (8u * (i % 4u))));
	return d == 0;
}

/* Sequence number of a data message of >= 4 bytes. */
static inline uint32_t fwb_seq(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- the raw ring baseline ------------------------------------------------ */

#define FWB_RAW_OFF   0x00F00000u /* offset in the 16 MiB shared RAM (last MiB) */
#define FWB_RAW_SLOTS 64u	  /* per ring: 64 messages per kick at most */
#define FWB_RAW_SLOT  32u	  /* 16-byte header + up to 16 payload bytes */
#define FWB_RAW_KICK  0x80u
enum { FWB_RAW_IDLE = 0, FWB_RAW_ECHO = 1, FWB_RAW_SINK = 2, FWB_RAW_SOURCE = 3 };

struct fwb_raw {
	uint32_t mode, count, len, errors; /* written by the host while idle; errors by the core */
	uint32_t pad0[12];
	uint32_t h2r_head, pad1[15]; /* host produces */
	uint32_t h2r_tail, pad2[15]; /* core consumes */
	uint32_t r2h_head, pad3[15]; /* core produces */
	uint32_t r2h_tail, pad4[15]; /* host consumes */
	uint8_t h2r[FWB_RAW_SLOTS][FWB_RAW_SLOT];
	uint8_t r2h[FWB_RAW_SLOTS][FWB_RAW_SLOT];
};

#endif
