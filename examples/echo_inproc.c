/* In-process echo demo: the seed-001 flow with both cores in one process.
 *
 * The remote (virtio device) creates a named echo endpoint and announces it
 * through the name service; the host (virtio driver) binds to it, sends
 * "hello there N!" ten times and prints each echo, in the format of the
 * RT-Thread rpmsg_echo example. Both sides share one memory buffer through
 * the loopback port; doorbells are flags pumped by the main loop.
 */
#include <stdio.h>
#include <string.h>

#include "amplink/port_loopback.h"
#include "amplink/rpmsg.h"

#define SERVICE "rpmsg-openamp-demo-channel"

static struct al_loopback lb;
static _Alignas(64) unsigned char shmem[64 * 1024];
static struct rpmsg_endpoint remote_ept, host_ept;
static char last_echo[RPMSG_BUFFER_SIZE];
static int echoes;

/* Remote: send every payload straight back to its sender. */
static int remote_echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src,
			  void *priv)
{
	(void)priv;
	int rc = rpmsg_trysendto(ept, data, (int)len, src);
	if (rc < 0)
		fprintf(stderr, "remote: echo failed: %s\n", al_strerror(rc));
	return RPMSG_SUCCESS;
}

static int host_rx_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)src, (void)priv;
	size_t n = len < sizeof(last_echo) - 1 ? len : sizeof(last_echo) - 1;
	memcpy(last_echo, data, n);
	last_echo[n] = '\0';
	echoes++;
	return RPMSG_SUCCESS;
}

/* Host: the remote announced a service; bind an endpoint to it. */
static void host_ns_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	if (strcmp(name, SERVICE) != 0)
		return;
	int rc = rpmsg_create_ept(&host_ept, rdev, name, RPMSG_ADDR_ANY, dest, host_rx_cb, NULL);
	if (rc)
		fprintf(stderr, "host: cannot bind %s: %s\n", name, al_strerror(rc));
	else
		printf("host: channel %s, src 0x%x -> dst 0x%x\n", name, (unsigned)host_ept.addr,
		       (unsigned)dest);
}

int main(void)
{
	int rc = al_loopback_init(&lb, shmem, sizeof(shmem), NULL);
	if (rc == 0)
		rc = al_loopback_start(&lb, host_ns_bind, NULL);
	if (rc == 0)
		rc = rpmsg_create_ept(&remote_ept, &lb.dev.rvdev.rdev, SERVICE, RPMSG_ADDR_ANY,
				      RPMSG_ADDR_ANY, remote_echo_cb, NULL);
	if (rc == 0)
		rc = al_loopback_pump(&lb, 0); /* device comes up, announces; host binds */
	if (rc < 0 || !is_rpmsg_ept_ready(&host_ept)) {
		fprintf(stderr, "echo: link did not come up: %s\n",
			al_strerror(rc < 0 ? rc : AL_ESTATE));
		return 1;
	}
	for (int i = 0; i < 10; i++) {
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "hello there %d!", i);
		printf("Sending message #%d: %s, len: %d\n", i, msg, len);
		int before = echoes;
		rc = rpmsg_send(&host_ept, msg, len);
		if (rc < 0) {
			fprintf(stderr, "echo: send failed: %s\n", al_strerror(rc));
			return 1;
		}
		rc = al_loopback_pump(&lb, 0);
		if (rc < 0 || echoes != before + 1 || strcmp(last_echo, msg) != 0) {
			fprintf(stderr, "echo: message #%d not echoed intact\n", i);
			return 1;
		}
		printf("Receiving message #%d: %s, len: %d\n", i, last_echo,
		       (int)strlen(last_echo));
	}
	rpmsg_deinit_vdev(&lb.drv.rvdev);
	rpmsg_deinit_vdev(&lb.dev.rvdev);
	return 0;
}
