/* Static-configuration proof: RPMsg-Lite firmware-style code (unchanged
 * includes and names, RL_USE_STATIC_API=1) for a master and a remote in one
 * process, built against the AMPLINK_NO_MALLOC libraries and linked with the
 * heap functions wrapped to nothing (see src/lite/CMakeLists.txt). */
#define RL_USE_STATIC_API 1

#include <stdio.h>
#include <string.h>

#include "rpmsg_lite.h"
#include "rpmsg_ns.h"
#include "rpmsg_queue.h"

#define SERVICE "nomalloc-demo"

static _Alignas(64) unsigned char shmem[AL_LITE_SHMEM_SIZE];
static int pending[2]; /* doorbells: [0] master, [1] remote */
static uint64_t now_ms;
static struct rpmsg_lite_instance master_ctx, remote_ctx;
static struct rpmsg_lite_instance *volatile master, *volatile remote;
static struct rpmsg_lite_ept_static_context master_ept_ctx, remote_ept_ctx;
static rpmsg_ns_static_context ns_ctx;
static rpmsg_static_queue_ctxt queue_ctx;
static uint8_t queue_storage[RL_ENV_QUEUE_STATIC_STORAGE_SIZE];
static uint32_t service_addr = RL_ADDR_ANY;
static char reply[32];

static void pump(void)
{
	for (int i = 0; i < 100 && (pending[0] || pending[1]); i++) {
		if (pending[1] && remote) {
			pending[1] = 0;
			(void)rpmsg_lite_isr(remote);
		}
		if (pending[0] && master) {
			pending[0] = 0;
			(void)rpmsg_lite_isr(master);
		}
	}
}

static void ring(void *ctx, uint32_t notifyid)
{
	(void)notifyid;
	pending[ctx == &pending[0] ? 1 : 0] = 1;
}
static uint64_t clock_ms(void *ctx)
{
	(void)ctx;
	return now_ms;
}
static void wait_ms(void *ctx, uint32_t ms)
{
	(void)ctx;
	if (pending[0] || pending[1])
		pump();
	else
		now_ms += ms < 10 ? ms : 10;
}
static const struct al_port_ops port = {.notify = ring, .time_ms = clock_ms, .wait = wait_ms};

static void ns_new_ept(uint32_t new_ept, const char *name, uint32_t flags, void *user_data)
{
	(void)user_data;
	if (flags == RL_NS_CREATE && strcmp(name, SERVICE) == 0)
		service_addr = new_ept;
}

static int32_t master_rx(void *payload, uint32_t payload_len, uint32_t src, void *priv)
{
	(void)src, (void)priv;
	if (payload_len < sizeof(reply))
		memcpy(reply, payload, payload_len);
	return RL_RELEASE;
}

int main(void)
{
	if (rpmsg_lite_set_platform(0, &port, &pending[0], 0x20000000u) != RL_SUCCESS ||
	    rpmsg_lite_set_platform(1, &port, &pending[1], 0x20000000u) != RL_SUCCESS)
		return 1;
	remote = rpmsg_lite_remote_init(shmem, 1, RL_NO_FLAGS, &remote_ctx);
	master = rpmsg_lite_master_init(shmem, sizeof(shmem), 0, RL_NO_FLAGS, &master_ctx);
	if (!remote || !master || !rpmsg_ns_bind(master, ns_new_ept, NULL, &ns_ctx) ||
	    !rpmsg_lite_wait_for_link_up(remote, RL_BLOCK))
		return 2;

	/* remote: a queue-fed endpoint, announced */
	rpmsg_queue_handle q = rpmsg_queue_create(remote, queue_storage, &queue_ctx);
	struct rpmsg_lite_endpoint *rept =
	    rpmsg_lite_create_ept(remote, RL_ADDR_ANY, rpmsg_queue_rx_cb, q, &remote_ept_ctx);
	if (!q || !rept || rpmsg_ns_announce(remote, rept, SERVICE, RL_NS_CREATE) != RL_SUCCESS)
		return 3;
	pump();

	/* master: bind to the announced service and send */
	struct rpmsg_lite_endpoint *mept =
	    rpmsg_lite_create_ept(master, RL_ADDR_ANY, master_rx, NULL, &master_ept_ctx);
	char ping[] = "ping";
	if (!mept || service_addr != rept->addr ||
	    rpmsg_lite_send(master, mept, service_addr, ping, sizeof(ping), RL_BLOCK) != RL_SUCCESS)
		return 4;

	/* remote: zero-copy receive, zero-copy answer */
	uint32_t src, len, cap;
	char *rx;
	if (rpmsg_queue_recv_nocopy(remote, q, &src, &rx, &len, RL_BLOCK) != RL_SUCCESS)
		return 5;
	char *tx = rpmsg_lite_alloc_tx_buffer(remote, &cap, RL_BLOCK);
	if (!tx || cap < len)
		return 6;
	memcpy(tx, "pong", 5);
	if (rpmsg_lite_send_nocopy(remote, rept, src, tx, 5) != RL_SUCCESS ||
	    rpmsg_queue_nocopy_free(remote, rx) != RL_SUCCESS)
		return 7;
	pump();
	if (strcmp(reply, "pong") != 0)
		return 8;

	(void)rpmsg_queue_destroy(remote, q);
	(void)rpmsg_lite_destroy_ept(remote, rept);
	(void)rpmsg_lite_destroy_ept(master, mept);
	(void)rpmsg_lite_deinit(master);
	(void)rpmsg_lite_deinit(remote);
	printf("nomalloc image: ok\n");
	return 0;
}
