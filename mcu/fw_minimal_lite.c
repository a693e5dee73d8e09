/* Minimal remote-side firmware with the RPMsg-Lite-style API:
 * the same flow as fw_minimal.c, written as an RPMsg-Lite user would, for
 * the size comparison with RPMsg-Lite itself. Built twice (mcu/lite.cmake):
 *   RL_USE_STATIC_API=1  caller storage for instance and endpoint, linked
 *                        against a façade built with AMPLINK_NO_MALLOC
 *                        (no allocator in the image at all);
 *   RL_USE_STATIC_API=0  instance and endpoint from malloc.
 *
 * remote init, wait for the link, one endpoint, NS announce, send 5 bytes
 * to whoever wrote first, receive by callback from the doorbell interrupt.
 *
 * The platform is a constant table (RL_PLATFORM_STATIC=1, as lite.cmake
 * builds the façade for these images), and the resource table is this
 * firmware's own constant, copied to the start of the shared region at
 * boot: the same table the façade would lay out at run time, without the
 * layout code in the image. It is copied rather than linker-placed so that
 * the image keeps having no .resource_table section (it_qemu boots it as
 * the firmware `amplink rproc` must refuse for that).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "amplink/port_baremetal.h"
#include "amplink/rpmsg_lite.h"
#include "amplink/rpmsg_ns.h"
#include "board.h"

#define FW_LINK_ID 0u
#define FW_SERVICE "amplink-minimal"

static const struct al_port_ops port_ops = AL_BAREMETAL_OPS(board_doorbell_ring);
static struct al_baremetal port;

#if RL_PLATFORM_STATIC
/* What the façade's run-time layout (amplink/layout.h) would write: the
 * table, then both vrings at RL_VRING_ALIGN, then the master's buffers. */
#define FW_VRING0_DA                                                                               \
	(BOARD_SHM_BASE + AL_LITE_ALIGN_UP(sizeof(struct al_rsc_table_rpmsg), RL_VRING_ALIGN))
#define FW_VRING1_DA (FW_VRING0_DA + AL_LITE_VRING_BYTES)
static const struct al_rsc_table_rpmsg rsc_init = AL_RSC_TABLE_RPMSG_INIT(
    FW_VRING0_DA, FW_VRING1_DA, RL_BUFFER_COUNT, RL_VRING_ALIGN, RL_VDEV_FEATURES);
/* Where it lives: the host writes status and gfeatures there; the core
 * reads them back through its shared-memory accessors. */
#define FW_RSC ((struct al_rsc_table_rpmsg *)BOARD_SHM_BASE)

const struct rl_platform_link rl_platform[RL_PLATFORM_HIGHEST_LINK_ID + 1U] = {
    [FW_LINK_ID] = {&port_ops, &port, BOARD_SHM_BASE, AL_LITE_SHMEM_SIZE, &FW_RSC->vdev},
};
#endif
#if RL_USE_STATIC_API
static struct rpmsg_lite_instance rl_storage;
static struct rpmsg_lite_ept_static_context ept_storage;
#endif
static volatile uint32_t rx_count, rx_len, peer_addr = RL_ADDR_ANY;

/* Receive context: the doorbell ISR. */
static int32_t rx_cb(void *payload, uint32_t payload_len, uint32_t src, void *priv)
{
	(void)payload, (void)priv;
	if (peer_addr == RL_ADDR_ANY)
		peer_addr = src;
	rx_len = payload_len;
	rx_count++;
	return RL_RELEASE;
}

static void fail(const char *what, int32_t rc)
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
	board_puts("fw_minimal_lite: up, waiting for the host\n");

#if RL_PLATFORM_STATIC
	int32_t rc;
	memcpy(FW_RSC, &rsc_init, sizeof(rsc_init)); /* before the host looks */
#else
	int32_t rc = rpmsg_lite_set_platform(FW_LINK_ID, &port_ops, &port, BOARD_SHM_BASE);
	if (rc != RL_SUCCESS)
		fail("rpmsg_lite_set_platform", rc);
#endif
#if RL_USE_STATIC_API
	struct rpmsg_lite_instance *rl =
	    rpmsg_lite_remote_init((void *)BOARD_SHM_BASE, FW_LINK_ID, RL_NO_FLAGS, &rl_storage);
#else
	struct rpmsg_lite_instance *rl =
	    rpmsg_lite_remote_init((void *)BOARD_SHM_BASE, FW_LINK_ID, RL_NO_FLAGS);
#endif
	if (rl == RL_NULL)
		fail("rpmsg_lite_remote_init", 0);
	al_baremetal_init(&port, rpmsg_lite_rvdev(rl), NULL, NULL);

	/* Doorbell interrupt off until the link is up: only this thread may
	 * bring the link up (see fw_minimal.c). */
	if (rpmsg_lite_wait_for_link_up(rl, RL_BLOCK) != RL_TRUE)
		fail("rpmsg_lite_wait_for_link_up", 0);
	board_doorbell_attach(&port);

#if RL_USE_STATIC_API
	struct rpmsg_lite_endpoint *ept =
	    rpmsg_lite_create_ept(rl, RL_ADDR_ANY, rx_cb, NULL, &ept_storage);
#else
	struct rpmsg_lite_endpoint *ept = rpmsg_lite_create_ept(rl, RL_ADDR_ANY, rx_cb, NULL);
#endif
	if (ept == RL_NULL)
		fail("rpmsg_lite_create_ept", 0);
	rc = rpmsg_ns_announce(rl, ept, FW_SERVICE, (uint32_t)RL_NS_CREATE);
	if (rc != RL_SUCCESS)
		fail("rpmsg_ns_announce", rc);
	board_puts("fw_minimal_lite: link up, announced " FW_SERVICE "\n");

	while (peer_addr == RL_ADDR_ANY)
		al_baremetal_wait(&port, AL_WAIT_FOREVER);
	char hello[] = "hello";
	rc = rpmsg_lite_send(rl, ept, peer_addr, hello, 5, RL_BLOCK);
	if (rc != RL_SUCCESS)
		fail("rpmsg_lite_send", rc);
	board_puts("fw_minimal_lite: sent 5 bytes to ");
	board_put_hex(peer_addr);
	board_puts("\n");

	uint32_t seen = 0;
	for (;;) {
		while (seen == rx_count)
			al_baremetal_wait(&port, AL_WAIT_FOREVER);
		seen = rx_count;
		board_puts("fw_minimal_lite: received message ");
		board_put_hex(seen);
		board_puts(", last one ");
		board_put_hex(rx_len);
		board_puts(" bytes\n");
	}
}
