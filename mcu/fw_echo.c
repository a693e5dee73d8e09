/* Echo firmware for QEMU's mps2-an386 (issue #9): seed 001's remote side,
 * written with the RPMsg-Lite-style API as an MCU user would, booted by
 * `amplink rproc start --machine mps2-an386 build-mcu/fw_echo.elf`.
 *
 *   - remote init on the shared PSRAM (0x21000000), wait for the link;
 *   - the remoteproc heartbeat: an endpoint at the reserved address
 *     AL_RPROC_HB_ADDR (0x3C) that returns every ping from the doorbell
 *     interrupt (never blocks: a ping that finds no buffer is skipped and
 *     the next one answered);
 *   - "rpmsg-openamp-demo-channel" at the first free address (0x400),
 *     announced through the name service; its messages go into an
 *     rpmsg_queue (zero-copy) and the main loop sends each one back to
 *     whoever sent it, unchanged;
 *   - the benchmark of `amplink rproc start ... --bench` (fw_bench_proto.h):
 *     the "amplink-bench" service, served from the doorbell interrupt
 *     without the queue (sink and echo) and from the main loop (source:
 *     zero-copy sends, one doorbell per FWB_BATCH messages), and the raw
 *     ring baseline on UART2.
 *
 * The resource table. A remoteproc host reads it from this ELF's
 * `.resource_table` section (linked at the start of the shared PSRAM, so
 * `-kernel` also loads it there), does the VirtIO handshake in it (gfeatures,
 * rings, DRIVER_OK) while the core is still held, then lets the core run.
 * The table below is exactly the one rpmsg_lite_remote_init() lays out at
 * BOARD_SHM_BASE for this configuration (RL_BUFFER_COUNT, RL_VRING_ALIGN,
 * RL_VDEV_FEATURES, set by mcu/CMakeLists.txt for this image); the firmware
 * checks that at run time. rpmsg_lite_remote_init() rewrites the table, as
 * RPMsg-Lite-on-amplink remotes do when nobody loaded one, which would
 * reset the host's status byte and features; so the firmware keeps the two
 * fields the host wrote and puts them back after the init (see
 * adopt_host_handshake()). The host buffers then sit in the pool area that
 * layout gives the remote (right after vring1), where the host's allocator
 * puts them too.
 *
 * Console (UART0) lines say how far it got; the heartbeat makes a hung core
 * visible to the host.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "amplink/layout.h"
#include "amplink/port_baremetal.h"
#include "amplink/rpmsg_lite.h"
#include "amplink/rpmsg_ns.h"
#include "amplink/rpmsg_queue.h"
#include "amplink/rsc_table.h"
#include "board.h"
#include "fw_bench_proto.h"

#define FW_LINK_ID 0u
#define FW_SERVICE "rpmsg-openamp-demo-channel"
/* The remoteproc heartbeat service (amplink/rproc.h: AL_RPROC_HB_ADDR,
 * AL_RPROC_HB_MAGIC); the ping is {le32 magic, le32 seq}, returned as is. */
#define FW_HB_ADDR 0x3Cu

/* The layout of amplink/layout.h for this configuration, as constant
 * expressions (checked against al_layout_plan() at run time). */
#define FW_ALIGN_UP(x, a) ((((x) + (a)-1u) / (a)) * (a))
#define FW_VRING_BYTES                                                                             \
	(FW_ALIGN_UP(16u * RL_BUFFER_COUNT + 2u * (3u + RL_BUFFER_COUNT), RL_VRING_ALIGN) + 6u +   \
	 8u * RL_BUFFER_COUNT)
#define FW_VRING0_DA                                                                               \
	(BOARD_SHM_BASE + FW_ALIGN_UP((uint32_t)sizeof(struct al_rsc_table_rpmsg), RL_VRING_ALIGN))
#define FW_VRING1_DA (FW_VRING0_DA + FW_ALIGN_UP(FW_VRING_BYTES, RL_VRING_ALIGN))

#define FW_RSC_INIT                                                                                \
	AL_RSC_TABLE_RPMSG_INIT(FW_VRING0_DA, FW_VRING1_DA, RL_BUFFER_COUNT, RL_VRING_ALIGN,       \
				RL_VDEV_FEATURES)

/* Placed at BOARD_SHM_BASE by the linker script; the host writes into it. */
__attribute__((section(".resource_table"), used)) struct al_rsc_table_rpmsg resource_table =
    FW_RSC_INIT;
/* What the table must read after rpmsg_lite_remote_init() rewrote it. */
static const struct al_rsc_table_rpmsg expected_table = FW_RSC_INIT;

/* Doorbells to the host go through fw_notify(): the source loop of the
 * benchmark holds them back while it sends a batch and rings once after. */
static volatile uint32_t kick_defer, kick_pending;
/* For the bench's STATS: doorbells rung (those rung while the main loop
 * gives a queued buffer back counted apart), main-loop sleeps. */
static volatile uint32_t n_rings, n_rings_free, n_waits;
static void fw_notify(void *ctx, uint32_t notifyid)
{
	if (kick_defer) {
		kick_pending = 1;
	} else {
		n_rings++;
		board_doorbell_ring(ctx, notifyid);
	}
}
static void kick_flush(void)
{
	if (kick_pending) {
		kick_pending = 0;
		n_rings++;
		board_doorbell_ring(NULL, 0);
	}
}

static const struct al_port_ops port_ops = AL_BAREMETAL_OPS(fw_notify);
static struct al_baremetal port;
static struct rpmsg_lite_instance rl_storage;
static struct rpmsg_lite_ept_static_context echo_ept_storage, hb_ept_storage, bench_ept_storage;
static rpmsg_static_queue_ctxt queue_storage;
static uint8_t queue_entries[RL_ENV_QUEUE_STATIC_STORAGE_SIZE];
static struct rpmsg_lite_instance *rl;
static struct rpmsg_lite_endpoint *hb_ept;
static volatile uint32_t hb_answered, hb_skipped;

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
	rpmsg_get_stats(&rpmsg_lite_rvdev(rl)->rdev, &st);
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
 * out (before waiting for more). */
static void bench_source(void)
{
	uint32_t n = b_target, len = b_len, dst = b_peer, batch = 0;
	uint64_t t0 = al_baremetal_now_ms(), waited = 0;
	b_mode = 0;
	kick_defer = 1;
	for (uint32_t seq = 0; seq < n; seq++) {
		uint32_t size;
		void *t = rpmsg_lite_alloc_tx_buffer(rl, &size, RL_DONT_BLOCK);
		if (!t) {
			kick_defer = 0;
			kick_flush();
			batch = 0;
			uint64_t w0 = al_baremetal_now_ms();
			t = rpmsg_lite_alloc_tx_buffer(rl, &size, RL_BLOCK);
			waited += al_baremetal_now_ms() - w0;
			kick_defer = 1;
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
			kick_defer = 0;
			kick_flush();
			kick_defer = 1;
		}
	}
	kick_defer = 0;
	kick_flush();
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

static void fail(const char *what, int32_t rc)
{
	board_puts("fw_echo: ");
	board_puts(what);
	board_puts(" failed: ");
	board_put_hex((uint32_t)rc);
	board_puts("\n");
	for (;;)
		al_baremetal_wait(&port, AL_WAIT_FOREVER);
}

/* Heartbeat: receive context (the doorbell ISR), so never wait. */
static int32_t hb_cb(void *payload, uint32_t payload_len, uint32_t src, void *priv)
{
	(void)priv;
	if (rpmsg_lite_send(rl, hb_ept, src, payload, payload_len, RL_DONT_BLOCK) == RL_SUCCESS)
		hb_answered++;
	else
		hb_skipped++;
	return RL_RELEASE;
}

/* rpmsg_lite_remote_init() with a host that already did its part of the
 * handshake in the table QEMU loaded from this ELF: keep the host's
 * gfeatures and status across the table rewrite. The host holds the core
 * until its handshake is complete, so nothing writes the table meanwhile.
 * Returns the instance, or fails. */
static struct rpmsg_lite_instance *adopt_host_handshake(void)
{
	volatile struct al_rsc_table_rpmsg *t = &resource_table;
	uint32_t gfeatures = t->vdev.gfeatures;
	uint8_t status = t->vdev.status;

	struct rpmsg_lite_instance *r =
	    rpmsg_lite_remote_init((void *)BOARD_SHM_BASE, FW_LINK_ID, RL_NO_FLAGS, &rl_storage);
	if (r == RL_NULL)
		fail("rpmsg_lite_remote_init", 0);
	if (memcmp((const void *)t, &expected_table, sizeof(expected_table)) != 0)
		fail("resource table check (RL_* configuration and the ELF's table differ)", 0);
	struct al_layout lay;
	const struct al_layout_cfg lc = {RL_BUFFER_COUNT, RL_VRING_ALIGN, RL_BUFFER_SIZE,
					 RL_VDEV_FEATURES};
	if (al_layout_plan(&lc, BOARD_SHM_BASE, BOARD_SHM_SIZE, &lay) != 0 ||
	    lay.vring_da[0] != FW_VRING0_DA || lay.vring_da[1] != FW_VRING1_DA)
		fail("layout check", 0);
	t->vdev.gfeatures = gfeatures;
	__asm__ volatile("dmb" ::: "memory"); /* features before the status that covers them */
	t->vdev.status = status;
	return r;
}

int main(void)
{
	board_init();
	board_raw_echo_enable();      /* UART2: the bare doorbell round trip, for `--bench` */
	board_raw_set_hook(raw_kick); /* ... and the raw ring's doorbell */
	board_puts("fw_echo: up, waiting for the host\n");

	int32_t rc = rpmsg_lite_set_platform(FW_LINK_ID, &port_ops, &port, BOARD_SHM_BASE);
	if (rc != RL_SUCCESS)
		fail("rpmsg_lite_set_platform", rc);
	rl = adopt_host_handshake();
	al_baremetal_init(&port, rpmsg_lite_rvdev(rl), NULL, NULL);

	/* The doorbell interrupt stays off until the link is up: only this
	 * thread brings the link up (see fw_minimal.c). */
	if (rpmsg_lite_wait_for_link_up(rl, RL_BLOCK) != RL_TRUE)
		fail("rpmsg_lite_wait_for_link_up", 0);

	hb_ept = rpmsg_lite_create_ept(rl, FW_HB_ADDR, hb_cb, NULL, &hb_ept_storage);
	if (hb_ept == RL_NULL)
		fail("heartbeat endpoint", 0);
	rpmsg_queue_handle q = rpmsg_queue_create(rl, queue_entries, &queue_storage);
	if (q == RL_NULL)
		fail("rpmsg_queue_create", 0);
	struct rpmsg_lite_endpoint *ept =
	    rpmsg_lite_create_ept(rl, RL_ADDR_ANY, rpmsg_queue_rx_cb, q, &echo_ept_storage);
	if (ept == RL_NULL)
		fail("rpmsg_lite_create_ept", 0);
	bench_ept = rpmsg_lite_create_ept(rl, RL_ADDR_ANY, bench_cb, NULL, &bench_ept_storage);
	if (bench_ept == RL_NULL)
		fail("bench endpoint", 0);
	board_doorbell_attach(&port);
	rc = rpmsg_ns_announce(rl, ept, FW_SERVICE, (uint32_t)RL_NS_CREATE);
	if (rc == RL_SUCCESS)
		rc = rpmsg_ns_announce(rl, bench_ept, FWB_SERVICE, (uint32_t)RL_NS_CREATE);
	if (rc != RL_SUCCESS)
		fail("rpmsg_ns_announce", rc);
	board_puts("fw_echo: link up, announced " FW_SERVICE " at ");
	board_put_hex(ept->addr);
	board_puts("\n");

	uint32_t echoed = 0;
	for (;;) {
		uint32_t src, len;
		char *data;
		/* the queue, else a SOURCE request, else sleep until an interrupt
		 * (the doorbell's sets `woken`: nothing that arrives in between is
		 * slept over) */
		rc = rpmsg_queue_recv_nocopy(rl, q, &src, &data, &len, RL_DONT_BLOCK);
		if (rc != RL_SUCCESS) {
			if (b_mode == FWB_SOURCE) {
				bench_source();
			} else {
				n_waits++;
				al_baremetal_wait(&port, AL_WAIT_FOREVER);
			}
			continue;
		}
		rc = rpmsg_lite_send(rl, ept, src, data, len, RL_BLOCK);
		uint32_t rung = n_rings;
		(void)rpmsg_queue_nocopy_free(rl, data);
		n_rings_free += n_rings - rung;
		if (rc != RL_SUCCESS) {
			board_puts("fw_echo: send failed: ");
			board_put_hex((uint32_t)rc);
			board_puts("\n");
		} else if (++echoed == 1) {
			board_puts("fw_echo: first message echoed\n");
		}
	}
}
