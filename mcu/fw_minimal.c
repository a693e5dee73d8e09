/* Minimal remote-side firmware: the image whose size `make size`
 * reports, built for QEMU's mps2-an386 with the OpenAMP-style API.
 *
 * It does exactly what the size targets are defined on: remote (virtio
 * device) init over the shared region described by its resource table,
 * wait for the link, one named endpoint announced through the name
 * service, send 5 bytes, receive by callback from the doorbell interrupt.
 * All state is static; nothing is allocated. Console (UART0) lines say how
 * far it got, for boot tests.
 *
 * The flow is that of OpenAMP's echo remote: the endpoint is bound to the
 * host by the host's first message (or by the host announcing the same
 * name), and "hello" goes to whoever bound it.
 */
#include <stddef.h>
#include <stdint.h>

#include "amplink/port_baremetal.h"
#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/rsc_table.h"
#include "board.h"

#ifndef FW_VRING_NUM
/* RPMsg-Lite's default buffer count (RL_BUFFER_COUNT), so that the RAM
 * figures compare like for like. The host may post fewer; never more. */
#define FW_VRING_NUM 2u
#endif
#define FW_VRING_ALIGN 0x1000u
/* OpenAMP's reference layout, at the shared region's base. */
#define FW_VRING0_DA (BOARD_SHM_BASE + 0x4000u)
#define FW_VRING1_DA (BOARD_SHM_BASE + 0x8000u)
#define FW_FEATURES  (1u << VIRTIO_RPMSG_F_NS)
#define FW_SERVICE   "amplink-minimal"

/* The resource table, placed at BOARD_SHM_BASE by the linker script. The
 * host writes its status and gfeatures fields; the core reads them back
 * through the shared-memory accessors, never through this object. */
__attribute__((section(".resource_table"), used)) struct al_rsc_table_rpmsg resource_table =
    AL_RSC_TABLE_RPMSG_INIT(FW_VRING0_DA, FW_VRING1_DA, FW_VRING_NUM, FW_VRING_ALIGN, FW_FEATURES);

static const struct al_port_ops port_ops = AL_BAREMETAL_OPS(board_doorbell_ring);
static struct al_baremetal port;
static struct rpmsg_virtio_device link;
static struct al_desc_shadow shadows[AL_VDEV_SHADOWS(FW_VRING_NUM, FW_VRING_NUM)];
static struct rpmsg_endpoint ept;
static volatile uint32_t rx_count, rx_len;

/* Receive context: the doorbell ISR. Only note what came. */
static int rx_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)e, (void)data, (void)src, (void)priv;
	rx_len = (uint32_t)len;
	rx_count++;
	return RPMSG_SUCCESS;
}

static void fail(const char *what, int rc)
{
	board_puts(what);
	board_puts(" failed: ");
	board_put_hex((uint32_t)rc);
	board_puts("\n");
	for (;;)
		al_baremetal_wait(&port, AL_WAIT_FOREVER);
}

int main(void)
{
	board_init();
	board_puts("fw_minimal: up, waiting for the host\n");

	struct al_shm shm = {(void *)BOARD_SHM_BASE, BOARD_SHM_BASE, BOARD_SHM_SIZE};
	struct virtio_device vdev = {
	    .role = VIRTIO_DEV_DEVICE,
	    .vdev_da = (uintptr_t)&resource_table.vdev,
	    .features = FW_FEATURES,
	    .shadows = shadows,
	    .num_shadows = sizeof(shadows) / sizeof(shadows[0]),
	    .ops = &port_ops,
	    .port_ctx = &port,
	};
	al_baremetal_init(&port, &link, NULL, NULL);
	int rc = rpmsg_init_vdev(&link, &vdev, NULL, &shm, NULL);
	if (rc)
		fail("rpmsg_init_vdev", rc);
	/* Named and unbound: announced by the core when the link comes up. */
	rc = rpmsg_create_ept(&ept, rpmsg_virtio_get_rpmsg_device(&link), FW_SERVICE,
			      RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, rx_cb, NULL);
	if (rc)
		fail("rpmsg_create_ept", rc);

	/* Link-up is found by this thread polling the status byte each tick,
	 * with the doorbell interrupt still off: al_virtio_notified() in
	 * the ISR would otherwise try to bring the same link up concurrently.
	 * A doorbell rung meanwhile stays pending and fires on attach. */
	rc = al_virtio_wait_link_up(&link, AL_WAIT_FOREVER);
	if (rc)
		fail("al_virtio_wait_link_up", rc);
	board_doorbell_attach(&port);
	board_puts("fw_minimal: link up, announced " FW_SERVICE "\n");

	while (!is_rpmsg_ept_ready(&ept))
		al_baremetal_wait(&port, AL_WAIT_FOREVER);
	rc = rpmsg_send(&ept, "hello", 5);
	if (rc != 5)
		fail("rpmsg_send", rc);
	board_puts("fw_minimal: sent 5 bytes to ");
	board_put_hex(ept.dest_addr);
	board_puts("\n");

	uint32_t seen = 0;
	for (;;) {
		while (seen == rx_count)
			al_baremetal_wait(&port, AL_WAIT_FOREVER);
		seen = rx_count;
		board_puts("fw_minimal: received message ");
		board_put_hex(seen);
		board_puts(", last one ");
		board_put_hex(rx_len);
		board_puts(" bytes\n");
	}
}
