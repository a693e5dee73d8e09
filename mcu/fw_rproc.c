/* The remoteproc side of a firmware on mps2-an386 (fw_rproc.h): resource
 * table, remote init on the host's handshake, heartbeat, remote log.
 *
 * The firmware follows the rules a real board's Linux imposes:
 *   - its resource table is in the ELF's `.resource_table` section, linked
 *     at the start of the shared PSRAM; the host loads it there (QEMU's
 *     -kernel does), assigns what the table leaves to it (both vrings are
 *     FW_RSC_ADDR_ANY, as Linux's remoteproc allocates them; notify ids as
 *     it likes), does its half of the VirtIO handshake in it (gfeatures,
 *     DRIVER_OK) and then lets the core run. The firmware never writes the
 *     table: the RPMsg-Lite-style façade is built with the constant
 *     platform table (RL_PLATFORM_STATIC), which points at the table's VDEV
 *     entry, and the core reads the vrings' addresses and notify ids there
 *     when it comes up;
 *   - the host's buffers live in a carveout of their own, apart from the
 *     rings ("vdev0buffer", the name Linux's remoteproc platforms give that
 *     region), and the firmware declares exactly two regions: the rings at
 *     the start of the PSRAM and that carveout. A descriptor anywhere else
 *     breaks the link with its sentence. */
#include "fw_rproc.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "amplink/rsc_build.h"
#include "amplink/rsc_table.h"
#include "board.h"

#define FW_LINK_ID 0u
#define FW_HB_ADDR 0x3Cu /* AL_RPROC_HB_ADDR of amplink/linux/rproc.h */

/* The two regions: the table and both vrings in the first MiB (the host
 * places the vrings first-fit after the table), the buffers for both
 * directions in their carveout half-way up the PSRAM. */
#define FW_RING_REGION_SIZE 0x00100000u
#define FW_BUF_DA	    (BOARD_SHM_BASE + 0x00800000u)
#define FW_BUF_SIZE	    (2u * RL_BUFFER_COUNT * AL_LITE_BUF_SIZE)

struct fw_rsc_table {
	AL_RSC_TABLE_HEADER(2);
	struct fw_rsc_vdev vdev;
	struct fw_rsc_vdev_vring vring[2];
	struct fw_rsc_carveout buffers;
};

/* Placed at BOARD_SHM_BASE by the linker script; the host writes into it. */
__attribute__((section(".resource_table"), used)) struct fw_rsc_table resource_table = {
    .ver = 1,
    .num = 2,
    .reserved = {0, 0},
    .offset = {offsetof(struct fw_rsc_table, vdev), offsetof(struct fw_rsc_table, buffers)},
    .vdev = AL_RSC_VDEV_RPMSG(RL_VDEV_FEATURES, 2),
    .vring = {AL_RSC_VRING(FW_RSC_ADDR_ANY, RL_VRING_ALIGN, RL_BUFFER_COUNT, 0),
	      AL_RSC_VRING(FW_RSC_ADDR_ANY, RL_VRING_ALIGN, RL_BUFFER_COUNT, 1)},
    .buffers = AL_RSC_CARVEOUT(FW_BUF_DA, FW_BUF_SIZE, 0, "vdev0buffer"),
};

/* Not const: fw_rproc_init() may put the firmware's doorbell hook in. */
static struct al_port_ops port_ops = AL_BAREMETAL_OPS(board_doorbell_ring);
static struct al_baremetal port;
static const struct al_shm buffer_region = {(void *)FW_BUF_DA, FW_BUF_DA, FW_BUF_SIZE};
const struct rl_platform_link rl_platform[RL_PLATFORM_HIGHEST_LINK_ID + 1U] = {
    [FW_LINK_ID] = {&port_ops, &port, BOARD_SHM_BASE, FW_RING_REGION_SIZE, &resource_table.vdev,
		    &buffer_region, 1},
};
static struct rpmsg_lite_instance rl_storage;
static struct rpmsg_lite_ept_static_context hb_ept_storage;
static struct rpmsg_lite_instance *rl;
static struct rpmsg_lite_endpoint *hb_ept;
static volatile uint32_t hb_answered, hb_skipped;
static struct al_log log_storage;
static const char *fw_name = "fw";

void fw_rproc_fail(const char *who, const char *what, int32_t rc)
{
	board_puts(who);
	board_puts(": ");
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

struct rpmsg_lite_instance *fw_rproc_init(const char *who, fw_rproc_notify_fn notify)
{
	fw_name = who;
	if (notify)
		port_ops.notify = notify;
	/* The host did its half of the handshake before the core ran: the link
	 * comes up inside the init, on the table as the host left it. */
	rl = rpmsg_lite_remote_init((void *)BOARD_SHM_BASE, FW_LINK_ID, RL_NO_FLAGS, &rl_storage);
	if (rl == RL_NULL)
		fw_rproc_fail(who, "rpmsg_lite_remote_init", 0);
	al_baremetal_init(&port, rpmsg_lite_rvdev(rl), NULL, NULL);
	if (rpmsg_lite_wait_for_link_up(rl, RL_BLOCK) != RL_TRUE)
		fw_rproc_fail(who, "rpmsg_lite_wait_for_link_up", 0);
	hb_ept = rpmsg_lite_create_ept(rl, FW_HB_ADDR, hb_cb, NULL, &hb_ept_storage);
	if (hb_ept == RL_NULL)
		fw_rproc_fail(who, "heartbeat endpoint", 0);
	return rl;
}

struct al_baremetal *fw_rproc_port(void)
{
	return &port;
}

void fw_rproc_attach(void)
{
	board_doorbell_attach(&port);
}

static uint32_t log_clock(void *arg)
{
	(void)arg;
	return fw_rproc_ms();
}

struct al_log *fw_rproc_log_init(struct rpmsg_lite_instance *inst, const char *who)
{
	int rc = al_log_init(&log_storage, &rpmsg_lite_rvdev(inst)->rdev, AL_LOG_SERVICE, log_clock,
			     NULL);
	if (rc) {
		board_puts(who);
		board_puts(": no log service: ");
		board_put_hex((uint32_t)rc);
		board_puts("\n");
		return NULL;
	}
	al_log_set_default(&log_storage);
	return &log_storage;
}

/* newlib-nano's vsnprintf() (remote logging) references malloc, which it
 * never calls for a fixed buffer: this image has no heap. */
void *_sbrk(ptrdiff_t incr);
void *_sbrk(ptrdiff_t incr)
{
	(void)incr;
	errno = ENOMEM;
	return (void *)-1;
}

uint32_t fw_rproc_ms(void)
{
	return (uint32_t)al_baremetal_now_ms();
}

void fw_rproc_sleep_until(uint32_t t)
{
	for (;;) {
		uint32_t now = fw_rproc_ms();
		if ((int32_t)(t - now) <= 0)
			return;
		al_baremetal_wait(&port, t - now);
	}
}

uint32_t fw_rproc_hb_answered(void)
{
	return hb_answered;
}

uint32_t fw_rproc_hb_skipped(void)
{
	return hb_skipped;
}
