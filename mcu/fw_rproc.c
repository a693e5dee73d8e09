/* The remoteproc side of a firmware on mps2-an386 (fw_rproc.h): resource
 * table, remote init that adopts the host's handshake, heartbeat, remote
 * log.
 *
 * The resource table. A remoteproc host reads it from the ELF's
 * `.resource_table` section (linked at the start of the shared PSRAM, so
 * `-kernel` also loads it there), does the VirtIO handshake in it (gfeatures,
 * rings, DRIVER_OK) while the core is still held, then lets the core run.
 * The table below is exactly the one rpmsg_lite_remote_init() lays out at
 * BOARD_SHM_BASE for this configuration (RL_BUFFER_COUNT, RL_VRING_ALIGN,
 * RL_VDEV_FEATURES of the façade build the image links, amplink_lite_echo
 * in lite.cmake); the firmware checks that at run time.
 * rpmsg_lite_remote_init() rewrites the table, as RPMsg-Lite-on-amplink
 * remotes do when nobody loaded one, which would reset the host's status
 * byte and features; so fw_rproc_init() keeps the two fields the host wrote
 * and puts them back after the init (adopt_host_handshake()). The host
 * buffers then sit in the pool area that layout gives the remote (right
 * after vring1), where the host's allocator puts them too. */
#include "fw_rproc.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "amplink/layout.h"
#include "amplink/rsc_table.h"
#include "board.h"

#define FW_LINK_ID 0u
#define FW_HB_ADDR 0x3Cu /* AL_RPROC_HB_ADDR of amplink/linux/rproc.h */

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

/* Not const: fw_rproc_init() may put the firmware's doorbell hook in. */
static struct al_port_ops port_ops = AL_BAREMETAL_OPS(board_doorbell_ring);
static struct al_baremetal port;
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
		fw_rproc_fail(fw_name, "rpmsg_lite_remote_init", 0);
	if (memcmp((const void *)t, &expected_table, sizeof(expected_table)) != 0)
		fw_rproc_fail(fw_name, "resource table check (RL_* and the ELF's table differ)", 0);
	struct al_layout lay;
	const struct al_layout_cfg lc = {RL_BUFFER_COUNT, RL_VRING_ALIGN, RL_BUFFER_SIZE,
					 RL_VDEV_FEATURES};
	if (al_layout_plan(&lc, BOARD_SHM_BASE, BOARD_SHM_SIZE, &lay) != 0 ||
	    lay.vring_da[0] != FW_VRING0_DA || lay.vring_da[1] != FW_VRING1_DA)
		fw_rproc_fail(fw_name, "layout check", 0);
	t->vdev.gfeatures = gfeatures;
	__asm__ volatile("dmb" ::: "memory"); /* features before the status that covers them */
	t->vdev.status = status;
	return r;
}

struct rpmsg_lite_instance *fw_rproc_init(const char *who, fw_rproc_notify_fn notify)
{
	fw_name = who;
	if (notify)
		port_ops.notify = notify;
	int32_t rc = rpmsg_lite_set_platform(FW_LINK_ID, &port_ops, &port, BOARD_SHM_BASE);
	if (rc != RL_SUCCESS)
		fw_rproc_fail(who, "rpmsg_lite_set_platform", rc);
	rl = adopt_host_handshake();
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
