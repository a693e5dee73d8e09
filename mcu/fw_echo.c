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
 *     whoever sent it, unchanged.
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

#define FW_LINK_ID 0u
#define FW_SERVICE "rpmsg-openamp-demo-channel"
/* The remoteproc heartbeat service (amplink/rproc.h: AL_RPROC_HB_ADDR,
 * AL_RPROC_HB_MAGIC); the ping is {le32 magic, le32 seq}, returned as is. */
#define FW_HB_ADDR 0x3Cu

/* The layout of amplink/layout.h for this configuration, as constant
 * expressions (checked against al_layout_plan() at run time). */
#define FW_ALIGN_UP(x, a) ((((x) + (a)-1u) / (a)) * (a))
#define FW_VRING_BYTES                                                                             \
	(FW_ALIGN_UP(16u * RL_BUFFER_COUNT + 2u * (3u + RL_BUFFER_COUNT), RL_VRING_ALIGN) + 6u +    \
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

static const struct al_port_ops port_ops = AL_BAREMETAL_OPS(board_doorbell_ring);
static struct al_baremetal port;
static struct rpmsg_lite_instance rl_storage;
static struct rpmsg_lite_ept_static_context echo_ept_storage, hb_ept_storage;
static rpmsg_static_queue_ctxt queue_storage;
static uint8_t queue_entries[RL_ENV_QUEUE_STATIC_STORAGE_SIZE];
static struct rpmsg_lite_instance *rl;
static struct rpmsg_lite_endpoint *hb_ept;
static volatile uint32_t hb_answered, hb_skipped;

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
	board_raw_echo_enable(); /* UART2: the bare doorbell round trip, for `--bench` */
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
	board_doorbell_attach(&port);
	rc = rpmsg_ns_announce(rl, ept, FW_SERVICE, (uint32_t)RL_NS_CREATE);
	if (rc != RL_SUCCESS)
		fail("rpmsg_ns_announce", rc);
	board_puts("fw_echo: link up, announced " FW_SERVICE " at ");
	board_put_hex(ept->addr);
	board_puts("\n");

	uint32_t echoed = 0;
	for (;;) {
		uint32_t src, len;
		char *data;
		rc = rpmsg_queue_recv_nocopy(rl, q, &src, &data, &len, RL_BLOCK);
		if (rc != RL_SUCCESS)
			continue;
		rc = rpmsg_lite_send(rl, ept, src, data, len, RL_BLOCK);
		(void)rpmsg_queue_nocopy_free(rl, data);
		if (rc != RL_SUCCESS) {
			board_puts("fw_echo: send failed: ");
			board_put_hex((uint32_t)rc);
			board_puts("\n");
		} else if (++echoed == 1) {
			board_puts("fw_echo: first message echoed\n");
		}
	}
}
