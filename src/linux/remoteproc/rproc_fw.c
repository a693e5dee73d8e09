/* Firmware-side runtime of the `process` remoteproc backend (rproc_fw.h):
 * attach to the host's region, device side of the link, heartbeat answers,
 * trace buffer, and the receive thread that plays the interrupt handler. */
#define _GNU_SOURCE
#include "amplink/linux/rproc_fw.h"
#include "amplink/linux/diag.h"
#include "amplink/linux/posix_port.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "amplink/rpmsg_virtio.h"
#include "amplink/rsc_parse.h"

struct al_rproc_fw {
	struct rpmsg_virtio_device rvdev;
	struct virtio_device vdev;
	uint8_t *mem;
	size_t size;
	int memfd, kick_in, kick_out, stop_efd;
	struct al_desc_shadow *shadows;
	struct rpmsg_endpoint hb;
	pthread_t rx;
	bool rx_started;
	volatile int stop;
	pthread_mutex_t tmu;
	struct al_posix_port port; /* lock, wait/wake, doorbell of the rpmsg device */
	char *trace;
	uint32_t trace_len, trace_pos;
	uint32_t boot;
};

static void fw_ring(struct al_posix_port *port, uint32_t notifyid)
{
	(void)notifyid; /* one doorbell per direction */
	al_posix_kick_fd(al_container_of(port, struct al_rproc_fw, port)->kick_out, false);
}

/* Heartbeat: send the ping back as it came. A test of the host's rule
 * (tests/integration/it_rproc.c) sets AMPLINK_FW_TEST_PINGS=N: only the
 * first N pings are answered, the firmware keeps serving everything else. */
static long pings_left = -1; /* -1: answer every ping */
static int hb_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	if (pings_left == 0)
		return RPMSG_SUCCESS;
	if (pings_left > 0)
		pings_left--;
	(void)rpmsg_trysendto(ept, data, (int)len, src);
	return RPMSG_SUCCESS;
}

static void *rx_main(void *arg)
{
	struct al_rproc_fw *fw = arg;
	while (!fw->stop) {
		bool up = al_virtio_link_state(&fw->rvdev) == AL_LINK_UP;
		struct pollfd p[2] = {{.fd = fw->kick_in, .events = POLLIN},
				      {.fd = fw->stop_efd, .events = POLLIN}};
		int r = poll(p, 2, up ? 100 : 1);
		if (r < 0 && errno != EINTR)
			break;
		if (fw->stop || p[1].revents)
			break;
		if (p[0].revents) {
			uint64_t v;
			ssize_t n = read(fw->kick_in, &v, sizeof(v));
			(void)n;
		}
		if (al_virtio_notified(&fw->rvdev) == AL_EBROKEN) {
			al_diagf(AL_DIAG_ERR, "link broken: %s",
				 al_virtio_broken_reason(&fw->rvdev));
			break;
		}
	}
	return NULL;
}

static int fail(struct al_rproc_fw *fw, int rc, const char *msg, const char *detail)
{
	al_diagf(AL_DIAG_ERR, "%s%s%s", msg, detail ? ": " : "", detail ? detail : "");
	al_rproc_fw_close(fw);
	return rc;
}

int al_rproc_fw_open(struct al_rproc_fw **out)
{
	if (!out)
		return AL_EINVAL;
	*out = NULL;
	const char *pings = getenv("AMPLINK_FW_TEST_PINGS");
	if (pings && *pings)
		pings_left = strtol(pings, NULL, 10);
	const char *env = getenv(AL_RPROC_ENV);
	int fds[3];
	if (!env || sscanf(env, "%d,%d,%d", &fds[0], &fds[1], &fds[2]) != 3) {
		al_diagf(AL_DIAG_ERR,
			 "not started by an amplink rproc host (no %s); run it with "
			 "`amplink rproc start FIRMWARE`",
			 AL_RPROC_ENV);
		return AL_EINVAL;
	}
	struct al_rproc_fw *fw = calloc(1, sizeof(*fw));
	if (!fw)
		return AL_ENOMEM;
	fw->memfd = fds[0];
	fw->kick_in = fds[1];
	fw->kick_out = fds[2];
	fw->stop_efd = eventfd(0, EFD_CLOEXEC);
	al_posix_port_init(&fw->port, fw_ring);
	pthread_mutex_init(&fw->tmu, NULL);
	struct stat st;
	if (fstat(fw->memfd, &st) < 0 || st.st_size < 4 * AL_RPROC_CTL_PAGE)
		return fail(fw, AL_EINIT, "the shared region is missing or too small", NULL);
	if (!al_posix_region_sealed(fw->memfd))
		return fail(fw, AL_EINIT,
			    "the shared region is not sealed against resizing (it could be cut "
			    "short under us)",
			    NULL);
	fw->size = (size_t)st.st_size;
	fw->mem = mmap(NULL, fw->size, PROT_READ | PROT_WRITE, MAP_SHARED, fw->memfd, 0);
	if (fw->mem == MAP_FAILED) {
		fw->mem = NULL;
		return fail(fw, AL_EINIT, "cannot map the shared region", strerror(errno));
	}
	/* the host is trusted more than a peer, but its control page and
	 * table are still checked before use */
	struct al_rproc_ctl ctl;
	memcpy(&ctl, fw->mem, sizeof(ctl));
	if (ctl.magic != AL_RPROC_CTL_MAGIC || ctl.version != AL_RPROC_CTL_VERSION ||
	    ctl.region_size != fw->size || ctl.rsc_offset < sizeof(ctl) ||
	    ctl.rsc_offset >= fw->size || ctl.rsc_size > fw->size - ctl.rsc_offset)
		return fail(fw, AL_EINIT, "the region's control page is not an amplink rproc's",
			    NULL);
	fw->boot = ctl.boot_count;
	const uint8_t *t = fw->mem + ctl.rsc_offset;
	struct al_rsc_info info;
	char why[AL_RSC_WHY_SIZE];
	if (al_rsc_parse(t, ctl.rsc_size, &info, why, sizeof(why)))
		return fail(fw, AL_EINIT, "bad resource table", why);
	if (info.vdev_off < 0)
		return fail(fw, AL_EINIT, "no rpmsg VDEV entry in the resource table", NULL);
	if (info.trace_off >= 0) {
		uint32_t da, len;
		memcpy(&da, t + info.trace_off + 4, 4);
		memcpy(&len, t + info.trace_off + 8, 4);
		if (da != FW_RSC_ADDR_ANY && (uint64_t)da + len <= fw->size && len > 1) {
			fw->trace = (char *)fw->mem + da;
			fw->trace_len = len;
		}
	}
	const uint8_t *vd = t + info.vdev_off;
	uint32_t dfeat, num0, num1;
	memcpy(&dfeat, vd + AL_RSC_VDEV_DFEATURES, 4);
	memcpy(&num0, vd + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_NUM, 4);
	memcpy(&num1, vd + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_SIZE + AL_RSC_VRING_NUM, 4);
	fw->shadows = calloc((size_t)num0 + num1, sizeof(*fw->shadows));
	if (!fw->shadows)
		return fail(fw, AL_ENOMEM, "out of memory", NULL);
	fw->vdev = (struct virtio_device){
	    .role = VIRTIO_DEV_DEVICE,
	    .vdev_da = ctl.rsc_offset + (uint64_t)info.vdev_off,
	    .features = dfeat, /* what our table offers */
	    .shadows = fw->shadows,
	    .num_shadows = (size_t)num0 + num1,
	    .ops = &al_posix_port_ops,
	    .port_ctx = &fw->port,
	};
	const struct al_shm shm = {fw->mem, 0, fw->size};
	const struct rpmsg_virtio_config vc = {ctl.buf_size, ctl.buf_size, false};
	int rc = rpmsg_init_vdev_with_config(&fw->rvdev, &fw->vdev, NULL, &shm, NULL, &vc);
	if (rc)
		return fail(fw, rc, "link set-up failed",
			    al_virtio_broken_reason(&fw->rvdev)
				? al_virtio_broken_reason(&fw->rvdev)
				: al_strerror(rc));
	rc = rpmsg_create_ept(&fw->hb, &fw->rvdev.rdev, NULL, AL_RPROC_HB_ADDR, AL_RPROC_HB_ADDR,
			      hb_cb, NULL);
	if (rc)
		return fail(fw, rc, "cannot create the heartbeat endpoint", al_strerror(rc));
	if (pthread_create(&fw->rx, NULL, rx_main, fw) != 0)
		return fail(fw, AL_ENOMEM, "cannot start the receive thread", NULL);
	fw->rx_started = true;
	*out = fw;
	return 0;
}

struct rpmsg_device *al_rproc_fw_rdev(struct al_rproc_fw *fw)
{
	return fw ? &fw->rvdev.rdev : NULL;
}

uint32_t al_rproc_fw_boot_count(struct al_rproc_fw *fw)
{
	return fw ? fw->boot : 0;
}

void al_rproc_fw_trace(struct al_rproc_fw *fw, const char *fmt, ...)
{
	if (!fw || !fw->trace)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (n == 0 || line[n - 1] != '\n')
		line[n++] = '\n';
	pthread_mutex_lock(&fw->tmu);
	if ((uint32_t)n + 1 > fw->trace_len)
		n = (int)fw->trace_len - 1;
	if (fw->trace_pos + (uint32_t)n + 1 > fw->trace_len) { /* full: start again */
		memset(fw->trace, 0, fw->trace_len);
		fw->trace_pos = 0;
	}
	memcpy(fw->trace + fw->trace_pos, line, (size_t)n);
	fw->trace_pos += (uint32_t)n;
	fw->trace[fw->trace_pos] = '\0';
	pthread_mutex_unlock(&fw->tmu);
}

void al_rproc_fw_close(struct al_rproc_fw *fw)
{
	if (!fw)
		return;
	fw->stop = 1;
	if (fw->rx_started) {
		uint64_t one = 1;
		ssize_t n = write(fw->stop_efd, &one, sizeof(one));
		(void)n;
		pthread_join(fw->rx, NULL);
	}
	if (fw->rvdev.ops)
		rpmsg_deinit_vdev(&fw->rvdev);
	if (fw->mem)
		munmap(fw->mem, fw->size);
	int fds[] = {fw->memfd, fw->kick_in, fw->kick_out, fw->stop_efd};
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fw->shadows);
	al_posix_port_destroy(&fw->port);
	pthread_mutex_destroy(&fw->tmu);
	free(fw);
}
