/* Echo firmware for QEMU's mps2-an386: the remote side of the RT-Thread rpmsg_echo example,
 * written with the RPMsg-Lite-style API as an MCU user would, booted by
 * `amplink rproc start --machine mps2-an386 build-mcu/fw_echo.elf`.
 *
 *   - remote init on the shared PSRAM (0x21000000), wait for the link;
 *   - the remoteproc heartbeat: an endpoint at the reserved address
 *     AL_RPROC_HB_ADDR (0x3C) that returns every ping from the doorbell
 *     interrupt (never blocks: a ping that finds no buffer is skipped and
 *     the next one answered);
 *   - "rpmsg-openamp-demo-channel" at 0x400 (OpenAMP's echo address; RL_ADDR_ANY
 *     would give the lowest free address, 1, as RPMsg-Lite does),
 *     announced through the name service; its messages go into an
 *     rpmsg_queue (zero-copy) and the main loop sends each one back to
 *     whoever sent it, unchanged;
 *   - the benchmark of `amplink rproc start ... --bench` (fw_bench_proto.h):
 *     the "amplink-bench" service, served from the doorbell interrupt
 *     without the queue (sink and echo) and from the main loop (source:
 *     zero-copy sends, one doorbell per FWB_BATCH messages), and the raw
 *     ring baseline on UART2;
 *   - "amplink-log": a line at the first echo and, while idle (no echo and
 *     no bench run in the last second), a status line about once per
 *     second to the host's `amplink log` (rpmsg_printf, never blocks;
 *     dropped and counted while nobody listens). Nothing logs in the
 *     bench's interrupt-handler paths or its source loop.
 *
 * The resource table, the remote init that keeps the host's handshake, the
 * heartbeat and the log service come from fw_rproc.c (which explains the
 * table); this image gives it its own doorbell hook, fw_notify().
 *
 * Console (UART0) lines say how far it got; the heartbeat makes a hung core
 * visible to the host.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "amplink/rpmsg_ns.h"
#include "amplink/rpmsg_queue.h"
#include "board.h"
#include "fw_bench_proto.h"
#include "fw_rproc.h"

#define WHO	   "fw_echo"
#define FW_SERVICE "rpmsg-openamp-demo-channel"
/* The status line's period while idle (ms). */
#define FW_STATUS_MS 1000u

/* Doorbells to the host go through fw_notify(), which counts them for the
 * bench's STATS: doorbells rung (those rung while the main loop gives a
 * queued buffer back counted apart), main-loop sleeps. */
static volatile uint32_t n_rings, n_rings_free, n_waits;
static void fw_notify(void *ctx, uint32_t notifyid)
{
	n_rings++;
	board_doorbell_ring(ctx, notifyid);
}

static struct rpmsg_lite_ept_static_context echo_ept_storage, bench_ept_storage;
static rpmsg_static_queue_ctxt queue_storage;
static uint8_t queue_entries[RL_ENV_QUEUE_STATIC_STORAGE_SIZE];
static struct rpmsg_lite_instance *rl;
static struct al_log *lg;

/* ---- the benchmark service (fw_bench_proto.h) -------------------------------- */

static struct rpmsg_lite_endpoint *bench_ept;
static volatile uint32_t b_mode, b_target, b_count, b_errors, b_len, b_peer;

static uint32_t rd32(const uint8_t *p)
{
	return fwb_seq(p);
}

static void bench_report(uint32_t dst)
{
	uint32_t m[3] = {FWB_MAGIC | FWB_REPORT, b_count, b_errors};
	(void)rpmsg_lite_send(rl, bench_ept, dst, (char *)m, sizeof(m), RL_DONT_BLOCK);
}

static void bench_stats(uint32_t dst)
{
	struct rpmsg_stats st;
	al_get_stats(&rpmsg_lite_rvdev(rl)->rdev, &st);
	uint32_t m[1 + FWB_ST_N] = {FWB_MAGIC | FWB_STATS};
	m[1 + FWB_ST_RINGS] = n_rings;
	m[1 + FWB_ST_RINGS_FREE] = n_rings_free;
	m[1 + FWB_ST_DOORBELLS] = st.kicks_rx;
	m[1 + FWB_ST_WAITS] = n_waits;
	m[1 + FWB_ST_RX] = st.rx_msgs;
	m[1 + FWB_ST_TX] = st.tx_msgs;
	(void)rpmsg_lite_send(rl, bench_ept, dst, (char *)m, sizeof(m), RL_DONT_BLOCK);
}

/* Receive context (the doorbell interrupt): nothing is queued or copied
 * except what ECHO sends back. */
static int32_t bench_cb(void *payload, uint32_t len, uint32_t src, void *priv)
{
	(void)priv;
	const uint8_t *p = payload;
	if (len == FWB_CTL_LEN && rd32(p) == (FWB_MAGIC | FWB_STATS)) {
		bench_stats(src);
		return RL_RELEASE;
	}
	if (len == FWB_CTL_LEN && (rd32(p) & 0xFFFF0000u) == FWB_MAGIC) {
		b_count = b_errors = 0;
		b_target = rd32(p + 4);
		b_len = rd32(p + 8);
		b_peer = src;
		b_mode = rd32(p) & 0xFFFFu; /* SOURCE: the main loop takes it from here */
		return RL_RELEASE;
	}
	uint32_t seq = len >= 4 ? fwb_seq(p) : 0;
	if (b_mode == FWB_SINK) {
		if (len < 4 || seq != b_count || !fwb_check(p, seq, len))
			b_errors++;
		if (++b_count == b_target) {
			b_mode = 0;
			bench_report(src);
		}
	} else if (b_mode == FWB_ECHO) {
		uint32_t size;
		void *t = rpmsg_lite_alloc_tx_buffer(rl, &size, RL_DONT_BLOCK);
		if (len < 4 || !fwb_check(p, seq, len) || !t || size < len) {
			b_errors++; /* the host sees the echo missing or wrong */
			if (t)
				(void)rpmsg_lite_release_tx_buffer(rl, t);
			return RL_RELEASE;
		}
		memcpy(t, p, len);
		if (rpmsg_lite_send_nocopy(rl, bench_ept, src, t, len) != RL_SUCCESS)
			b_errors++;
	} else {
		b_errors++;
	}
	return RL_RELEASE;
}

/* SOURCE, from the main loop: b_target messages of b_len bytes, zero-copy,
 * one doorbell per FWB_BATCH messages or whenever the host's buffers run
 * out (the core rings what a hold kept back before it waits for more). */
static void bench_source(void)
{
	uint32_t n = b_target, len = b_len, dst = b_peer, batch = 0;
	uint64_t t0 = al_baremetal_now_ms(), waited = 0;
	b_mode = 0;
	(void)al_virtio_kick_hold(&rl->rvdev);
	for (uint32_t seq = 0; seq < n; seq++) {
		uint32_t size;
		void *t = rpmsg_lite_alloc_tx_buffer(rl, &size, RL_DONT_BLOCK);
		if (!t) {
			batch = 0;
			uint64_t w0 = al_baremetal_now_ms();
			t = rpmsg_lite_alloc_tx_buffer(rl, &size, RL_BLOCK);
			waited += al_baremetal_now_ms() - w0;
		}
		if (!t || size < len) {
			b_errors++;
			break;
		}
		fwb_fill(t, seq, len);
		if (rpmsg_lite_send_nocopy(rl, bench_ept, dst, t, len) != RL_SUCCESS) {
			b_errors++;
			break;
		}
		b_count++;
		if (++batch == FWB_BATCH) {
			batch = 0;
			(void)al_virtio_kick_release(&rl->rvdev);
			(void)al_virtio_kick_hold(&rl->rvdev);
		}
	}
	(void)al_virtio_kick_release(&rl->rvdev);
	/* the report may find no buffer at once: wait for one. Also: the time
	 * this loop took and how much of it went waiting for host buffers (ms) */
	uint32_t m[5] = {FWB_MAGIC | FWB_REPORT, b_count, b_errors,
			 (uint32_t)(al_baremetal_now_ms() - t0), (uint32_t)waited};
	(void)rpmsg_lite_send(rl, bench_ept, dst, (char *)m, sizeof(m), RL_BLOCK);
}

/* The raw ring baseline: UART2 interrupt, a byte >= 0x80 from the host. */
static void raw_kick(uint8_t c)
{
	(void)c;
	struct fwb_raw *r = (struct fwb_raw *)(BOARD_SHM_BASE + FWB_RAW_OFF);
	uint32_t mode = r->mode, len = r->len;
	if (len > FWB_RAW_SLOT - 16u)
		len = FWB_RAW_SLOT - 16u;
	uint32_t ih = __atomic_load_n(&r->h2r_head, __ATOMIC_ACQUIRE), it = r->h2r_tail;
	uint32_t oh = r->r2h_head, ot = __atomic_load_n(&r->r2h_tail, __ATOMIC_ACQUIRE);
	uint32_t errors = 0;
	if (mode == FWB_RAW_SINK || mode == FWB_RAW_ECHO) {
		for (; it != ih && (mode == FWB_RAW_SINK || oh - ot < FWB_RAW_SLOTS); it++) {
			const uint8_t *s = r->h2r[it % FWB_RAW_SLOTS];
			uint32_t seq = fwb_seq(s);
			if (seq != r->count || fwb_seq(s + 4) != len ||
			    !fwb_check(s + 16, seq, len))
				errors++;
			r->count++;
			if (mode == FWB_RAW_ECHO)
				memcpy(r->r2h[oh++ % FWB_RAW_SLOTS], s, 16u + len);
		}
		__atomic_store_n(&r->h2r_tail, it, __ATOMIC_RELEASE);
	} else if (mode == FWB_RAW_SOURCE) {
		for (; r->count && oh - ot < FWB_RAW_SLOTS; oh++, r->count--) {
			uint8_t *s = r->r2h[oh % FWB_RAW_SLOTS];
			uint32_t h[4] = {oh, len, 0, 0};
			memcpy(s, h, sizeof(h));
			fwb_fill(s + 16, oh, len);
		}
	}
	__atomic_store_n(&r->r2h_head, oh, __ATOMIC_RELEASE);
	r->errors += errors;
	board_raw_putc(FWB_RAW_KICK);
}

/* The status line, from the main loop while idle: never blocks (no host
 * subscribed or no free buffer: dropped and counted). */
static void log_status(uint32_t echoed)
{
	struct al_log_stats ls = {0};
	al_log_get_stats(lg, &ls);
	rpmsg_printf(WHO ": echoed %lu, heartbeats %lu (%lu skipped), log dropped %lu",
		     (unsigned long)echoed, (unsigned long)fw_rproc_hb_answered(),
		     (unsigned long)fw_rproc_hb_skipped(), (unsigned long)ls.dropped);
}

int main(void)
{
	board_init();
	board_raw_echo_enable();      /* UART2: the bare doorbell round trip, for `--bench` */
	board_raw_set_hook(raw_kick); /* ... and the raw ring's doorbell */
	board_puts(WHO ": up, waiting for the host\n");

	/* Platform, remote init on the host's table, link up, heartbeat; the
	 * doorbell interrupt stays off until fw_rproc_attach(): only this
	 * thread brings the link up (see fw_minimal.c). */
	rl = fw_rproc_init(WHO, fw_notify);
	struct al_baremetal *port = fw_rproc_port();

	rpmsg_queue_handle q = rpmsg_queue_create(rl, queue_entries, &queue_storage);
	if (q == RL_NULL)
		fw_rproc_fail(WHO, "rpmsg_queue_create", 0);
	struct rpmsg_lite_endpoint *ept =
	    rpmsg_lite_create_ept(rl, 0x400U, rpmsg_queue_rx_cb, q, &echo_ept_storage);
	if (ept == RL_NULL)
		fw_rproc_fail(WHO, "rpmsg_lite_create_ept", 0);
	bench_ept = rpmsg_lite_create_ept(rl, 0x401U, bench_cb, NULL, &bench_ept_storage);
	if (bench_ept == RL_NULL)
		fw_rproc_fail(WHO, "bench endpoint", 0);
	fw_rproc_attach();
	int32_t rc = rpmsg_ns_announce(rl, ept, FW_SERVICE, (uint32_t)RL_NS_CREATE);
	if (rc == RL_SUCCESS)
		rc = rpmsg_ns_announce(rl, bench_ept, FWB_SERVICE, (uint32_t)RL_NS_CREATE);
	if (rc != RL_SUCCESS)
		fw_rproc_fail(WHO, "rpmsg_ns_announce", rc);
	lg = fw_rproc_log_init(rl, WHO);
	board_puts(WHO ": link up, announced " FW_SERVICE " at ");
	board_put_hex(ept->addr);
	board_puts(", " FWB_SERVICE " and " AL_LOG_SERVICE "\n");
	rpmsg_printf(WHO ": up, " FW_SERVICE " at 0x%x", (unsigned)ept->addr); /* no host yet */

	/* The status line: when FW_STATUS_MS passed with no echo and no bench
	 * run (b_mode 0), checked only where the loop would sleep. */
	uint32_t echoed = 0, echoed_then = 0;
	uint32_t next_status = fw_rproc_ms() + FW_STATUS_MS;
	for (;;) {
		uint32_t src, len;
		char *data;
		/* the queue, else a SOURCE request, else the status line when due,
		 * else sleep until an interrupt or the status line (the doorbell's
		 * sets `woken`: nothing that arrives in between is slept over) */
		rc = rpmsg_queue_recv_nocopy(rl, q, &src, &data, &len, RL_DONT_BLOCK);
		if (rc != RL_SUCCESS) {
			if (b_mode == FWB_SOURCE) {
				bench_source();
				continue;
			}
			int32_t left = (int32_t)(next_status - fw_rproc_ms());
			if (left <= 0) {
				if (echoed == echoed_then && b_mode == 0)
					log_status(echoed);
				echoed_then = echoed;
				next_status = fw_rproc_ms() + FW_STATUS_MS;
			} else {
				n_waits++;
				al_baremetal_wait(port, (uint32_t)left);
			}
			continue;
		}
		rc = rpmsg_lite_send(rl, ept, src, data, len, RL_BLOCK);
		uint32_t rung = n_rings;
		(void)rpmsg_queue_nocopy_free(rl, data);
		n_rings_free += n_rings - rung;
		if (rc != RL_SUCCESS) {
			board_puts(WHO ": send failed: ");
			board_put_hex((uint32_t)rc);
			board_puts("\n");
		} else if (++echoed == 1) {
			board_puts(WHO ": first message echoed\n");
			rpmsg_printf(WHO ": first message echoed (%lu bytes, from 0x%lx)",
				     (unsigned long)len, (unsigned long)src);
		}
	}
}
