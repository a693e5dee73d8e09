/* Example remote firmware for `amplink rproc start` (the process backend):
 * a host executable built with amplink that carries its resource table in
 * the `.resource_table` section, like an M-core image would: one rpmsg VDEV
 * (vrings placed by the host), a 4 KiB trace buffer and a carveout for
 * sensor samples. It serves
 *   - "rpmsg-openamp-demo-channel": echoes every message back;
 *   - "sensor": answers every request with a reading
 *     ("sensor: t=21.37C seq=N boot=B").
 * and logs to its trace buffer (`amplink rproc trace`).
 * Set AMPLINK_FW_CRASH_AFTER=N to make it crash (abort) after N echoes. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amplink/linux/diag.h"
#include "amplink/linux/rproc_fw.h"
#include "amplink/rsc_build.h"

struct fw_table {
	AL_RSC_TABLE_HEADER(3);
	struct fw_rsc_vdev vdev;
	struct fw_rsc_vdev_vring vring[2];
	struct fw_rsc_trace trace;
	struct fw_rsc_carveout samples;
};

AL_RSC_SECTION const struct fw_table resource_table = {
    .ver = 1,
    .num = 3,
    .offset = {offsetof(struct fw_table, vdev), offsetof(struct fw_table, trace),
	       offsetof(struct fw_table, samples)},
    .vdev = AL_RSC_VDEV_RPMSG((1u << VIRTIO_RPMSG_F_NS) | (1u << VIRTIO_RING_F_EVENT_IDX), 2),
    .vring = {AL_RSC_VRING(FW_RSC_ADDR_ANY, 4096, 256, 0),
	      AL_RSC_VRING(FW_RSC_ADDR_ANY, 4096, 256, 1)},
    .trace = AL_RSC_TRACE(FW_RSC_ADDR_ANY, 4096, "trace0"),
    .samples = AL_RSC_CARVEOUT(FW_RSC_ADDR_ANY, 16384, 0, "sensor-samples"),
};

static struct al_rproc_fw *fw;
static volatile sig_atomic_t stop;
static unsigned long echoes, readings, crash_after;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	if (rpmsg_trysendto(ept, data, (int)len, src) >= 0)
		echoes++;
	if (echoes % 1000 == 0)
		al_rproc_fw_trace(fw, "echo: %lu messages", echoes);
	if (crash_after && echoes >= crash_after) {
		al_rproc_fw_trace(fw, "crashing on purpose after %lu echoes", echoes);
		abort();
	}
	return RPMSG_SUCCESS;
}

static int sensor_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)data, (void)len, (void)priv;
	char msg[64];
	double t = 21.0 + (double)(readings % 50) / 100.0 + 0.37;
	int n = snprintf(msg, sizeof(msg), "sensor: t=%.2fC seq=%lu boot=%u", t, readings++,
			 al_rproc_fw_boot_count(fw));
	(void)rpmsg_trysendto(ept, msg, n, src);
	return RPMSG_SUCCESS;
}

/* The runtime's diagnostics to stderr, which the host forwards to its
 * trace buffer. */
static void diag_to_stderr(int level, const char *msg, void *arg)
{
	(void)level, (void)arg;
	fprintf(stderr, "firmware: %s\n", msg);
}

int main(void)
{
	al_diag_set_handler(diag_to_stderr, NULL);
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	const char *ca = getenv("AMPLINK_FW_CRASH_AFTER");
	crash_after = ca ? strtoul(ca, NULL, 0) : 0;
	if (al_rproc_fw_open(&fw))
		return 2;
	al_rproc_fw_trace(fw, "boot %u: pid %d, link up", al_rproc_fw_boot_count(fw),
			  (int)getpid());
	static struct rpmsg_endpoint echo, sensor;
	struct rpmsg_device *rdev = al_rproc_fw_rdev(fw);
	if (rpmsg_create_ept(&echo, rdev, "rpmsg-openamp-demo-channel", RPMSG_ADDR_ANY,
			     RPMSG_ADDR_ANY, echo_cb, NULL) ||
	    rpmsg_create_ept(&sensor, rdev, "sensor", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, sensor_cb,
			     NULL)) {
		al_rproc_fw_trace(fw, "cannot create the services");
		al_rproc_fw_close(fw);
		return 1;
	}
	al_rproc_fw_trace(fw,
			  "services announced: rpmsg-openamp-demo-channel (0x%x), sensor (0x%x)",
			  (unsigned)echo.addr, (unsigned)sensor.addr);
	while (!stop) /* any thread may take the signal: poll the flag */
		usleep(100 * 1000);
	al_rproc_fw_trace(fw, "stopping after %lu echoes, %lu readings", echoes, readings);
	al_rproc_fw_close(fw);
	return 0;
}
