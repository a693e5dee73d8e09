/* The remoteproc host (include/amplink/linux/rproc.h): per boot, build the shared
 * region from the firmware ELF's resource table, bring the VirtIO driver
 * up and start the remote through a backend; a watch thread delivers
 * messages, pings the heartbeat service, notices crashes and, with
 * `restart`, boots again. Per-boot resources (region, eventfds, the
 * backend's process) are created and destroyed each boot; storage that
 * lives across boots (descriptor shadows, trace copy) is allocated once,
 * so a restart allocates nothing on the heap. */
#define _GNU_SOURCE
#include "amplink/linux/rproc.h"
#include "amplink/linux/diag.h"
#include "amplink/linux/posix_port.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "amplink/elf.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/rsc_parse.h"
#include "amplink/virtio_ring.h"

#define MAX_EPTS	   16
#define MAX_SVCS	   32
#define MAX_DYN		   32
#define MAX_SHADOWS	   (2u * AL_VRING_MAX_NUM)
#define TRACE_MAX	   65536u
#define RESTART_BACKOFF_MS 500u

#if defined(__x86_64__)
#define HOST_MACHINE AL_EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE AL_EM_AARCH64
#else
#define HOST_MACHINE AL_EM_ANY
#endif

struct reg {
	struct rpmsg_endpoint *ept;
	char name[RPMSG_NAME_SIZE];
	rpmsg_ept_cb cb;
	void *priv;
	bool bound;
};

struct svc {
	char name[RPMSG_NAME_SIZE];
	uint32_t addr;
};

/* An endpoint of al_rproc_ept_bind(): this boot only. */
struct dyn {
	struct rpmsg_endpoint *ept;
	rpmsg_ns_unbind_cb unbind;
};

struct al_rproc {
	struct rpmsg_virtio_device rvdev;
	struct al_rproc_cfg cfg;
	char name[64];
	char firmware[256];
	const struct al_rproc_backend_ops *be;
	void *bctx;
	/* per boot */
	uint8_t *mem;
	size_t size;
	uint64_t da;	/* device address of mem[0]: 0, or the backend's (qemu) */
	bool byte_kick; /* kick_in is the backend's byte-stream doorbell (both ways) */
	int memfd, kick_in, kick_out; /* kick_in: we wait on it (remote rings) */
	struct virtio_device vdev;
	struct rpmsg_virtio_shm_pool pool;
	struct rpmsg_endpoint hb;
	bool vdev_up;
	long trace_off; /* in mem, -1 if none */
	uint32_t trace_len;
	/* across boots */
	struct al_desc_shadow *shadows;
	char *crash_trace;
	size_t crash_trace_len;
	struct reg regs[MAX_EPTS];
	struct svc svcs[MAX_SVCS];
	int nsvcs;
	struct dyn dyns[MAX_DYN];
	/* threads and locks */
	pthread_t thread;
	bool thread_started;
	int ctl_efd;
	pthread_rwlock_t rw; /* read: senders; write: crash teardown and boot */
	pthread_mutex_t mu;  /* state, counters, regs, waits */
	pthread_cond_t cv;
	struct al_posix_port port; /* lock, wait/wake, doorbell of the rpmsg device */
	volatile int state;
	volatile int stopping;
	/* counters */
	unsigned boots, crashes, recoveries;
	uint64_t t_start, t_boot, last_pong, next_ping, next_restart;
	uint32_t hb_seq;
	/* The rings' progress as a sign of life (watch_main): the used
	 * indices the remote writes, at the last check; when they last counted
	 * as life; whether the last ping found no free buffer. */
	uint16_t hb_used_rx, hb_used_tx;
	uint64_t last_progress, last_check;
	bool ping_blocked;
	bool pong_seen;
	char last_crash[160];
};

/* The remote an rpmsg device (an endpoint's ept->rdev) belongs to. */
static struct al_rproc *rproc_of(struct rpmsg_device *rdev)
{
	return al_container_of(rdev, struct al_rproc, rvdev.rdev);
}

static void ev(struct al_rproc *rp, int e, struct rpmsg_endpoint *ept, const char *why)
{
	if (rp->cfg.event_cb)
		rp->cfg.event_cb(rp, e, ept, why, rp->cfg.user);
}

const char *al_rproc_state_name(int s)
{
	switch (s) {
	case AL_RPROC_OFFLINE: return "offline";
	case AL_RPROC_RUNNING: return "running";
	case AL_RPROC_CRASHED: return "crashed";
	case AL_RPROC_STOPPED: return "stopped";
	default: return "?";
	}
}

/* ---- the driver side's doorbell ---------------------------------------------- */

static void rproc_ring(struct al_posix_port *port, uint32_t notifyid)
{
	(void)notifyid; /* one doorbell per direction */
	struct al_rproc *rp = al_container_of(port, struct al_rproc, port);
	/* the backend's byte-stream doorbell rings both ways on one socket */
	al_posix_kick_fd(rp->byte_kick ? rp->kick_in : rp->kick_out, rp->byte_kick);
}

/* ---- heartbeat and name service ------------------------------------------------ */

static int hb_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src, (void)priv;
	struct al_rproc *rp = rproc_of(ept->rdev);
	uint32_t m[2];
	if (len == sizeof(m)) {
		memcpy(m, data, sizeof(m));
		if (m[0] == AL_RPROC_HB_MAGIC) {
			pthread_mutex_lock(&rp->mu);
			rp->last_pong = al_posix_now_ms();
			rp->pong_seen = true;
			pthread_mutex_unlock(&rp->mu);
		}
	}
	return RPMSG_SUCCESS;
}

static void ns_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	struct al_rproc *rp = rproc_of(rdev);
	pthread_mutex_lock(&rp->mu);
	if (rp->nsvcs < MAX_SVCS) {
		snprintf(rp->svcs[rp->nsvcs].name, RPMSG_NAME_SIZE, "%s", name);
		rp->svcs[rp->nsvcs++].addr = dest;
	}
	pthread_mutex_unlock(&rp->mu);
	if (rp->cfg.ns_bind_cb)
		rp->cfg.ns_bind_cb(rdev, name, dest);
	if (rp->cfg.svc_cb)
		rp->cfg.svc_cb(rp, name, dest, rp->cfg.svc_user);
}

/* Forget an announced service (destroyed by the remote). Caller holds mu. */
static void svc_forget(struct al_rproc *rp, const char *name)
{
	for (int i = 0; i < rp->nsvcs; i++)
		if (strncmp(rp->svcs[i].name, name, RPMSG_NAME_SIZE) == 0) {
			rp->svcs[i] = rp->svcs[--rp->nsvcs];
			return;
		}
}

/* The remote destroyed the service of an al_rproc_ept_bind() endpoint
 * (receive context, watch thread): detach the endpoint under the write
 * lock, so no sender is inside it, then tell its owner. */
static void dyn_unbind(struct rpmsg_endpoint *ept)
{
	struct al_rproc *rp = rproc_of(ept->rdev);
	rpmsg_ns_unbind_cb cb = NULL;
	bool found = false;
	pthread_rwlock_wrlock(&rp->rw);
	pthread_mutex_lock(&rp->mu);
	for (int i = 0; i < MAX_DYN; i++)
		if (rp->dyns[i].ept == ept) {
			cb = rp->dyns[i].unbind;
			rp->dyns[i].ept = NULL;
			found = true;
		}
	svc_forget(rp, ept->name);
	pthread_mutex_unlock(&rp->mu);
	if (found)
		rpmsg_destroy_ept(ept); /* bound: nothing is announced */
	pthread_rwlock_unlock(&rp->rw);
	if (cb)
		cb(ept);
}

/* The remote is going down (crash or stop): every al_rproc_ept_bind()
 * endpoint's owner hears it while the endpoint is still attached; teardown()
 * detaches them. Watch thread (or the stopper after it ended). */
static void dyn_down(struct al_rproc *rp)
{
	for (int i = 0; i < MAX_DYN; i++) {
		pthread_mutex_lock(&rp->mu);
		struct dyn d = rp->dyns[i];
		pthread_mutex_unlock(&rp->mu);
		if (d.ept && d.unbind)
			d.unbind(d.ept);
	}
}

/* Registered endpoints whose binding changed since we last looked. */
static void check_bindings(struct al_rproc *rp, bool force_unbind)
{
	for (int i = 0; i < MAX_EPTS; i++) {
		pthread_mutex_lock(&rp->mu);
		struct reg *r = &rp->regs[i];
		bool now =
		    !force_unbind && r->ept && r->ept->rdev && r->ept->dest_addr != RPMSG_ADDR_ANY;
		bool changed = r->ept && now != r->bound;
		struct rpmsg_endpoint *e = r->ept;
		if (changed)
			r->bound = now;
		if (changed)
			pthread_cond_broadcast(&rp->cv);
		pthread_mutex_unlock(&rp->mu);
		if (changed)
			ev(rp, now ? AL_RPROC_EV_EPT_BOUND : AL_RPROC_EV_EPT_UNBOUND, e, r->name);
	}
}

/* ---- one boot ------------------------------------------------------------------- */

static int say(char *why, size_t n, int rc, const char *fmt, ...)
{
	if (why && n) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Undo a boot: the remote is forced down first, then the link. Caller holds
 * the write lock (or is the only thread). */
static void teardown(struct al_rproc *rp)
{
	if (rp->bctx)
		rp->be->kill(rp->bctx);
	if (rp->vdev_up) {
		al_virtio_peer_lost(&rp->rvdev);
		rpmsg_deinit_vdev(&rp->rvdev);
		rp->vdev_up = false;
	}
	for (int i = 0; i < MAX_EPTS; i++)
		if (rp->regs[i].ept)
			rp->regs[i].ept->rdev = NULL;
	pthread_mutex_lock(&rp->mu);
	for (int i = 0; i < MAX_DYN; i++) {
		if (rp->dyns[i].ept)
			rp->dyns[i].ept->rdev = NULL;
		rp->dyns[i].ept = NULL;
	}
	pthread_mutex_unlock(&rp->mu);
	if (rp->mem)
		munmap(rp->mem, rp->size);
	rp->mem = NULL;
	int *fds[] = {&rp->memfd, &rp->kick_in, &rp->kick_out};
	for (int i = 0; i < 3; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	rp->trace_off = -1;
}

/* Map the firmware file read-only (no heap: restarts allocate nothing). */
static int map_firmware(const char *path, const uint8_t **data, size_t *size, char *why, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return say(why, n, AL_EINIT, "cannot open firmware %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return say(why, n, AL_EINIT, "firmware %s is not a non-empty regular file", path);
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return say(why, n, AL_ENOMEM, "cannot map firmware %s: %s", path, strerror(errno));
	*data = m;
	*size = (size_t)st.st_size;
	return 0;
}

#define MAX_RSV 8

/* The region of a backend with prepare() (qemu): the remote is loaded, not
 * running; its table must be in the region where the ELF says, as in the
 * ELF. Reserves the table and every PT_LOAD segment inside the region.
 * Returns 0 and the table's offset in the region, or an error. */
static int backend_region(struct al_rproc *rp, const struct al_elf *elf,
			  const struct al_elf_section *sec, const uint8_t *tbl, size_t *rsc_off,
			  struct al_rsc_range *rsv, size_t *nrsv, char *why, size_t n)
{
	struct al_rproc_region reg = {.kick_fd = -1};
	int rc = rp->be->prepare(rp->bctx, &rp->cfg, &reg, why, n);
	if (rc)
		return rc;
	rp->mem = reg.mem;
	rp->size = reg.size;
	rp->da = reg.da;
	rp->kick_in = reg.kick_fd;
	rp->byte_kick = true;
	if (!rp->mem || rp->size == 0 || rp->kick_in < 0)
		return say(why, n, AL_EINIT, "the %s backend gave no region or doorbell",
			   rp->be->name);
	if (sec->addr < reg.da || sec->addr - reg.da > reg.size ||
	    sec->size > reg.size - (sec->addr - reg.da))
		return say(why, n, AL_EINIT,
			   "firmware %s: its .resource_table is linked at 0x%llx, outside the "
			   "remote's shared memory [0x%llx, 0x%llx): place it at the start of the "
			   "shared RAM (e.g. mcu/board/mps2-an386/mps2-an386.ld)",
			   rp->firmware, (unsigned long long)sec->addr, (unsigned long long)reg.da,
			   (unsigned long long)(reg.da + reg.size));
	*rsc_off = (size_t)(sec->addr - reg.da);
	if (memcmp(rp->mem + *rsc_off, tbl, (size_t)sec->size) != 0)
		return say(why, n, AL_EINIT,
			   "firmware %s: the remote did not load its .resource_table at 0x%llx "
			   "(is the section part of a loadable segment?)",
			   rp->firmware, (unsigned long long)sec->addr);
	*nrsv = 0;
	rsv[(*nrsv)++] = (struct al_rsc_range){sec->addr, sec->size};
	for (unsigned i = 0; i < elf->phnum; i++) {
		struct al_elf_segment sg;
		if (al_elf_segment(elf, i, &sg) || sg.type != AL_PT_LOAD || sg.memsz == 0 ||
		    sg.paddr + sg.memsz <= reg.da || sg.paddr >= reg.da + reg.size)
			continue;
		if (*nrsv == MAX_RSV)
			return say(
			    why, n, AL_EINIT,
			    "firmware %s: more than %d loadable segments in the shared memory",
			    rp->firmware, MAX_RSV - 1);
		rsv[(*nrsv)++] = (struct al_rsc_range){sg.paddr, sg.memsz};
	}
	return 0;
}

/* The process backend's region: a fresh memfd with a control page and the
 * table copy at AL_RPROC_CTL_PAGE. */
static int memfd_region(struct al_rproc *rp, const uint8_t *tbl, size_t rsc_size, size_t *rsc_off,
			struct al_rsc_range *rsv, size_t *nrsv, char *why, size_t n)
{
	rp->da = 0;
	rp->byte_kick = false;
	*rsc_off = AL_RPROC_CTL_PAGE;
	rp->size = (rp->cfg.region_size + 4095u) & ~(size_t)4095u;
	rp->memfd = memfd_create("amplink-rproc", MFD_CLOEXEC);
	if (rp->memfd < 0 || ftruncate(rp->memfd, (off_t)rp->size) < 0)
		return say(why, n, AL_ENOMEM, "cannot create the shared region: %s",
			   strerror(errno));
	rp->mem = mmap(NULL, rp->size, PROT_READ | PROT_WRITE, MAP_SHARED, rp->memfd, 0);
	if (rp->mem == MAP_FAILED) {
		rp->mem = NULL;
		return say(why, n, AL_ENOMEM, "cannot map the shared region: %s", strerror(errno));
	}
	memcpy(rp->mem + *rsc_off, tbl, rsc_size); /* the shared copy of the table */
	rsv[0] = (struct al_rsc_range){0, (*rsc_off + rsc_size + 4095u) & ~(size_t)4095u};
	*nrsv = 1;
	return 0;
}

static int boot(struct al_rproc *rp, char *why, size_t n)
{
	const uint8_t *img = NULL;
	size_t img_size = 0;
	int rc = map_firmware(rp->firmware, &img, &img_size, why, n);
	if (rc)
		return rc;
	struct al_elf elf;
	struct al_elf_section sec;
	char w[AL_ELF_WHY_SIZE];
	const uint8_t *tbl = NULL;
	uint16_t machine = rp->be->elf_machine ? rp->be->elf_machine : HOST_MACHINE;
	rc = al_elf_open(&elf, img, img_size, machine, w, sizeof(w));
	if (rc) {
		say(why, n, AL_EINIT, "firmware %s: %s%s", rp->firmware, w,
		    machine == AL_EM_ARM ? " (the qemu backend runs Arm firmware, e.g. "
					   "build-mcu/fw_echo.elf)"
					 : "");
	} else if (al_elf_find_section(&elf, ".resource_table", &sec) ||
		   !(tbl = al_elf_section_data(&elf, &sec)) || sec.size == 0) {
		rc = say(why, n, AL_EINIT,
			 "firmware %s has no .resource_table section: the remote must describe its "
			 "rpmsg device in one (see docs/remoteproc.md)",
			 rp->firmware);
	} else if (sec.size > (rp->be->prepare ? (uint64_t)1u << 20 : rp->size / 4)) {
		rc =
		    say(why, n, AL_EINIT, "firmware %s: .resource_table of %llu bytes is too large",
			rp->firmware, (unsigned long long)sec.size);
	}
	size_t rsc_size = rc ? 0 : (size_t)sec.size;
	size_t rsc_off = 0, nrsv = 0;
	struct al_rsc_range rsv[MAX_RSV];
	if (rc == 0)
		rc = rp->be->prepare
			 ? backend_region(rp, &elf, &sec, tbl, &rsc_off, rsv, &nrsv, why, n)
			 : memfd_region(rp, tbl, rsc_size, &rsc_off, rsv, &nrsv, why, n);
	munmap((void *)img, img_size);
	if (rc) {
		teardown(rp);
		return rc;
	}
	/* validate, then place everything the table leaves to us */
	uint8_t *t = rp->mem + rsc_off;
	char rw[AL_RSC_WHY_SIZE];
	struct al_rsc_info info;
	rc = al_rsc_assign(t, rsc_size, rp->da, rp->size, rsv, nrsv, rw, sizeof(rw));
	if (rc == 0)
		rc = al_rsc_parse(t, rsc_size, &info, rw, sizeof(rw));
	if (rc) {
		teardown(rp);
		return say(why, n, rc, "firmware %s: bad resource table: %s", rp->firmware, rw);
	}
	if (info.vdev_off < 0) {
		teardown(rp);
		return say(why, n, AL_EINIT,
			   "firmware %s: no rpmsg VDEV entry in its resource table", rp->firmware);
	}
	const uint8_t *vd = t + info.vdev_off;
	uint32_t num0 = *(const uint32_t *)(vd + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_NUM);
	uint32_t num1 =
	    *(const uint32_t *)(vd + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_SIZE + AL_RSC_VRING_NUM);
	uint64_t pool_da;
	size_t pool_size = ((size_t)num0 + num1) * rp->cfg.buf_size;
	if (al_rsc_find_free(t, rsc_size, rp->da, rp->size, rsv, nrsv, pool_size, 64, &pool_da)) {
		teardown(rp);
		return say(why, n, AL_ENOMEM,
			   "shared region of %zu bytes has no room for the %zu-byte buffer pool",
			   rp->size, pool_size);
	}
	rp->trace_off = -1;
	if (info.trace_off >= 0) {
		uint32_t da = *(const uint32_t *)(t + info.trace_off + 4);
		uint32_t len = *(const uint32_t *)(t + info.trace_off + 8);
		if (da >= rp->da && (uint64_t)da - rp->da + len <= rp->size) {
			rp->trace_off = (long)(da - rp->da);
			rp->trace_len = len;
		}
	}
	if (!rp->be->prepare) {
		struct al_rproc_ctl *ctl = (struct al_rproc_ctl *)(void *)rp->mem;
		*ctl = (struct al_rproc_ctl){
		    AL_RPROC_CTL_MAGIC, AL_RPROC_CTL_VERSION, (uint32_t)rp->size, (uint32_t)rsc_off,
		    (uint32_t)rsc_size, rp->cfg.buf_size,     rp->boots + 1,	  0};
		rp->kick_in = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		rp->kick_out = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (rp->kick_in < 0 || rp->kick_out < 0) {
			teardown(rp);
			return say(why, n, AL_ENOMEM, "eventfd: %s", strerror(errno));
		}
	}
	/* the driver side: DRIVER_OK before the remote even starts */
	rp->vdev = (struct virtio_device){
	    .role = VIRTIO_DEV_DRIVER,
	    .vdev_da = rp->da + rsc_off + (uint64_t)info.vdev_off,
	    .features = (1u << VIRTIO_RPMSG_F_NS) | (1u << VIRTIO_RING_F_EVENT_IDX),
	    .shadows = rp->shadows,
	    .num_shadows = MAX_SHADOWS,
	    .ops = &al_posix_port_ops,
	    .port_ctx = &rp->port,
	};
	rpmsg_virtio_init_shm_pool(&rp->pool, rp->mem + (pool_da - rp->da), pool_size);
	const struct al_shm shm = {rp->mem, rp->da, rp->size};
	const struct rpmsg_virtio_config vc = {rp->cfg.buf_size, rp->cfg.buf_size, false};
	rc = rpmsg_init_vdev_with_config(&rp->rvdev, &rp->vdev, ns_bind, &shm, &rp->pool, &vc);
	if (rc) {
		const char *r = al_virtio_broken_reason(&rp->rvdev);
		teardown(rp);
		return say(why, n, rc, "link set-up failed: %s", r ? r : al_strerror(rc));
	}
	rp->vdev_up = true;
	al_set_send_timeout(&rp->rvdev.rdev, 1000);
	rc = rpmsg_create_ept(&rp->hb, &rp->rvdev.rdev, NULL, AL_RPROC_HB_ADDR, AL_RPROC_HB_ADDR,
			      hb_cb, NULL);
	pthread_mutex_lock(&rp->mu);
	rp->nsvcs = 0;
	for (int i = 0; i < MAX_EPTS && rc == 0; i++) {
		struct reg *r = &rp->regs[i];
		if (!r->ept)
			continue;
		r->bound = false;
		rc = rpmsg_create_ept(r->ept, &rp->rvdev.rdev, r->name, RPMSG_ADDR_ANY,
				      RPMSG_ADDR_ANY, r->cb, NULL);
		r->ept->priv = r->priv;
	}
	pthread_mutex_unlock(&rp->mu);
	if (rc) {
		teardown(rp);
		return say(why, n, rc, "cannot create endpoints: %s", al_strerror(rc));
	}
	const struct al_rproc_boot b = {rp->firmware, rp->memfd,      rp->size,	    rp->kick_out,
					rp->kick_in,  rp->cfg.log_fd, rp->boots + 1};
	rc = rp->be->start(rp->bctx, &b, why, n);
	if (rc) {
		teardown(rp);
		return rc;
	}
	uint64_t t0 = al_posix_now_ms();
	pthread_mutex_lock(&rp->mu);
	rp->boots++;
	rp->t_boot = t0;
	/* the first answer is due within boot_timeout */
	rp->last_pong = t0 + rp->cfg.boot_timeout_ms;
	rp->pong_seen = false;
	rp->next_ping = t0;
	rp->last_progress = rp->last_check = 0;
	rp->hb_used_rx = rp->hb_used_tx = 0;
	rp->ping_blocked = false;
	rp->state = AL_RPROC_RUNNING;
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	return 0;
}

/* The remote died or hung: record it, fail senders, unbind, tear down, and
 * plan a restart. Watch thread. */
static void crashed(struct al_rproc *rp, const char *why)
{
	al_virtio_peer_lost(&rp->rvdev); /* senders fail now and wake */
	pthread_mutex_lock(&rp->mu);
	rp->state = AL_RPROC_CRASHED;
	rp->crashes++;
	snprintf(rp->last_crash, sizeof(rp->last_crash), "%s", why);
	if (rp->trace_off >= 0 && rp->crash_trace) {
		size_t l =
		    rp->trace_len < rp->crash_trace_len ? rp->trace_len : rp->crash_trace_len;
		memcpy(rp->crash_trace, rp->mem + rp->trace_off, l);
		rp->crash_trace[l < rp->crash_trace_len ? l : rp->crash_trace_len - 1] = '\0';
	}
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	ev(rp, AL_RPROC_EV_CRASHED, NULL, why);
	check_bindings(rp, true);
	dyn_down(rp);
	pthread_rwlock_wrlock(&rp->rw);
	teardown(rp);
	pthread_rwlock_unlock(&rp->rw);
	rp->next_restart = al_posix_now_ms();
}

static void try_restart(struct al_rproc *rp)
{
	if (!rp->cfg.restart || (rp->cfg.max_restarts && rp->recoveries >= rp->cfg.max_restarts) ||
	    al_posix_now_ms() < rp->next_restart)
		return;
	char why[256];
	pthread_rwlock_wrlock(&rp->rw);
	int rc = boot(rp, why, sizeof(why));
	pthread_rwlock_unlock(&rp->rw);
	if (rc) {
		pthread_mutex_lock(&rp->mu);
		snprintf(rp->last_crash, sizeof(rp->last_crash), "restart failed: %.140s", why);
		pthread_mutex_unlock(&rp->mu);
		rp->next_restart = al_posix_now_ms() + RESTART_BACKOFF_MS;
		return;
	}
	pthread_mutex_lock(&rp->mu);
	rp->recoveries++;
	pthread_mutex_unlock(&rp->mu);
	snprintf(why, sizeof(why), "boot %u, restart %u", rp->boots, rp->recoveries);
	ev(rp, AL_RPROC_EV_RUNNING, NULL, why);
}

/* ---- the watch thread ------------------------------------------------------------ */

/* Signs of life besides an answered ping, for a remote under a flood: it
 * sent us messages (our receive ring's used index moved: its answer may
 * have found no free buffer), or it took our messages while our last ping
 * found no free buffer to go out in. Taking our pings alone is no sign: a
 * remote that takes them but never answers is what the heartbeat exists to
 * catch. */
static void hb_progress(struct al_rproc *rp, uint64_t now)
{
	uint16_t rx, tx; /* what the remote published in our two rings */
	if (al_virtio_progress(&rp->rvdev, &rx, &tx) != 0)
		return; /* the link is not up */
	/* it moved after the last check: count that time, not now, so that an
	 * answered ping seen late (it moves the index too) adds no delay */
	if (rx != rp->hb_used_rx || (tx != rp->hb_used_tx && rp->ping_blocked))
		rp->last_progress = rp->last_check;
	rp->hb_used_rx = rx;
	rp->hb_used_tx = tx;
	rp->last_check = now;
}

static void *watch_main(void *arg)
{
	struct al_rproc *rp = arg;
	bool hb = rp->cfg.heartbeat_ms != AL_WAIT_FOREVER;
	uint32_t half = hb ? (rp->cfg.heartbeat_ms + 1) / 2 : 100;
	uint64_t next_check = al_posix_now_ms() + half;
	while (!rp->stopping) {
		bool running = rp->state == AL_RPROC_RUNNING;
		uint64_t now = al_posix_now_ms();
		int timeout = next_check > now ? (int)(next_check - now) : 0;
		if (!running && rp->cfg.restart)
			timeout = timeout < 50 ? timeout : 50;
		struct pollfd p[3] = {{.fd = rp->ctl_efd, .events = POLLIN},
				      {.fd = running ? rp->kick_in : -1, .events = POLLIN},
				      {.fd = running && rp->bctx ? rp->be->watch_fd(rp->bctx) : -1,
				       .events = POLLIN}};
		int r = poll(p, 3, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (rp->stopping)
			break;
		if (p[0].revents) {
			uint64_t v;
			ssize_t k = read(rp->ctl_efd, &v, sizeof(v));
			(void)k;
		}
		if (running && p[1].revents) {
			uint8_t v[256];
			ssize_t k =
			    read(rp->kick_in, v, rp->byte_kick ? sizeof(v) : sizeof(uint64_t));
			if (k == 0 && rp->byte_kick) {
				/* the doorbell's other end closed: the remote is going
				 * away; let the backend say how */
				char w[160] = "the remote closed its doorbell";
				int wfd = rp->bctx ? rp->be->watch_fd(rp->bctx) : -1;
				if (wfd >= 0) {
					struct pollfd d = {.fd = wfd, .events = POLLIN};
					(void)poll(&d, 1, 500);
				}
				if (rp->bctx && !rp->be->is_alive(rp->bctx, w, sizeof(w)))
					crashed(rp, w);
				else
					crashed(rp, "the remote closed its doorbell");
				continue;
			}
			if (al_virtio_notified(&rp->rvdev) == AL_EBROKEN) {
				char w[200];
				snprintf(w, sizeof(w), "remote corrupted the rings: %s",
					 al_virtio_broken_reason(&rp->rvdev));
				crashed(rp, w);
				continue;
			}
			check_bindings(rp, false);
		}
		char w[160];
		bool look = p[2].fd >= 0 ? p[2].revents != 0 : al_posix_now_ms() >= next_check;
		if (running && look && rp->bctx && !rp->be->is_alive(rp->bctx, w, sizeof(w))) {
			crashed(rp, w);
			continue;
		}
		now = al_posix_now_ms();
		if (now < next_check)
			continue;
		next_check = now + half;
		if (!running) {
			try_restart(rp);
			continue;
		}
		if (!hb)
			continue;
		pthread_mutex_lock(&rp->mu);
		uint64_t last = rp->last_pong;
		bool seen = rp->pong_seen;
		pthread_mutex_unlock(&rp->mu);
		/* Under a flood a ping or its answer can find no free buffer:
		 * then the rings' progress counts as life (hb_progress), so a
		 * busy core is not declared dead. A frozen one moves nothing. */
		hb_progress(rp, now);
		uint64_t answered = last;
		if (seen && rp->last_progress > last)
			last = rp->last_progress;
		uint64_t limit = seen ? (uint64_t)rp->cfg.heartbeat_ms * 9u / 4u : 0;
		if (now > last + limit) {
			if (seen && last == answered)
				snprintf(
				    w, sizeof(w),
				    "firmware stopped answering the heartbeat (%llu ms without an "
				    "answer, interval %u ms)",
				    (unsigned long long)(now - last), rp->cfg.heartbeat_ms);
			else if (seen)
				snprintf(
				    w, sizeof(w),
				    "firmware stopped answering the heartbeat (%llu ms without "
				    "an answer, %llu ms without ring progress, interval %u ms)",
				    (unsigned long long)(now - answered),
				    (unsigned long long)(now - last), rp->cfg.heartbeat_ms);
			else
				snprintf(w, sizeof(w),
					 "firmware did not answer its first heartbeat "
					 "within %u ms of booting",
					 rp->cfg.boot_timeout_ms);
			crashed(rp, w);
			continue;
		}
		if (now >= rp->next_ping) {
			uint32_t m[2] = {AL_RPROC_HB_MAGIC, rp->hb_seq + 1};
			int rc = rpmsg_trysendto(&rp->hb, m, sizeof(m), AL_RPROC_HB_ADDR);
			rp->ping_blocked = rc == AL_ENOBUFS;
			if (!rp->ping_blocked) { /* else: again at the next check */
				rp->hb_seq++;
				rp->next_ping = now + rp->cfg.heartbeat_ms;
			}
		}
	}
	return NULL;
}

/* ---- public API ------------------------------------------------------------------ */

/* al_rproc_start() failed: tell the application why (diagnostics hook). */
static int start_failed(const char *firmware, int rc, const char *why)
{
	al_diagf(AL_DIAG_ERR, "cannot start %s: %s", firmware, why[0] ? why : al_strerror(rc));
	return rc;
}

int al_rproc_start(const struct al_rproc_cfg *cfg, struct al_rproc **out)
{
	if (!cfg || !cfg->firmware || !out)
		return start_failed("a remote", AL_EINVAL, "no firmware given");
	*out = NULL;
	struct al_rproc *rp = calloc(1, sizeof(*rp));
	if (!rp)
		return start_failed(cfg->firmware, AL_ENOMEM, "");
	rp->cfg = *cfg;
	snprintf(rp->name, sizeof(rp->name), "%s", cfg->name ? cfg->name : "rproc0");
	snprintf(rp->firmware, sizeof(rp->firmware), "%s", cfg->firmware);
	rp->cfg.name = rp->name;
	rp->cfg.firmware = rp->firmware;
	if (!rp->cfg.heartbeat_ms)
		rp->cfg.heartbeat_ms = 500;
	if (!rp->cfg.boot_timeout_ms)
		rp->cfg.boot_timeout_ms = 3000;
	if (!rp->cfg.region_size)
		rp->cfg.region_size = 1u << 20;
	if (!rp->cfg.buf_size)
		rp->cfg.buf_size = RPMSG_BUFFER_SIZE;
	if (rp->cfg.log_fd == 0)
		rp->cfg.log_fd = -1;
	rp->size = (rp->cfg.region_size + 4095u) & ~(size_t)4095u;
	rp->be = cfg->backend ? cfg->backend : &al_rproc_process_backend;
	rp->memfd = rp->kick_in = rp->kick_out = rp->ctl_efd = -1;
	rp->trace_off = -1;
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&rp->rw, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&rp->mu, NULL);
	al_posix_port_init(&rp->port, rproc_ring);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rp->cv, &ca);
	pthread_condattr_destroy(&ca);
	rp->t_start = al_posix_now_ms();
	rp->shadows = calloc(MAX_SHADOWS, sizeof(*rp->shadows));
	rp->crash_trace_len = TRACE_MAX;
	rp->crash_trace = calloc(1, TRACE_MAX);
	rp->bctx = rp->be->create ? rp->be->create() : NULL;
	rp->ctl_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rp->cfg.buf_size < AL_BUF_SIZE_MIN || rp->cfg.buf_size > AL_BUF_SIZE_MAX ||
	    rp->size < 4 * AL_RPROC_CTL_PAGE || rp->size > 0xFFFFFFFFu) {
		al_rproc_close(rp);
		return start_failed(cfg->firmware, AL_EINVAL, "bad buffer size or region size");
	}
	if (!rp->shadows || !rp->crash_trace || (rp->be->create && !rp->bctx) || rp->ctl_efd < 0) {
		al_rproc_close(rp);
		return start_failed(cfg->firmware, AL_ENOMEM, "out of memory");
	}
	char why[256] = "";
	int rc = boot(rp, why, sizeof(why));
	if (rc) {
		al_rproc_close(rp);
		return start_failed(cfg->firmware, rc, why);
	}
	if (pthread_create(&rp->thread, NULL, watch_main, rp) != 0) {
		al_rproc_close(rp);
		return start_failed(cfg->firmware, AL_ENOMEM, "cannot start the watch thread");
	}
	rp->thread_started = true;
	ev(rp, AL_RPROC_EV_RUNNING, NULL, "boot 1");
	*out = rp;
	return 0;
}

void al_rproc_stop(struct al_rproc *rp)
{
	if (!rp || rp->state == AL_RPROC_STOPPED)
		return;
	rp->stopping = 1;
	if (rp->thread_started) {
		uint64_t one = 1;
		ssize_t k = write(rp->ctl_efd, &one, sizeof(one));
		(void)k;
		pthread_join(rp->thread, NULL);
		rp->thread_started = false;
	}
	if (rp->vdev_up)
		al_virtio_peer_lost(&rp->rvdev);
	pthread_mutex_lock(&rp->mu);
	rp->state = AL_RPROC_STOPPED;
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	check_bindings(rp, true);
	dyn_down(rp);
	pthread_rwlock_wrlock(&rp->rw);
	if (rp->bctx)
		rp->be->stop(rp->bctx, 1000);
	teardown(rp);
	pthread_rwlock_unlock(&rp->rw);
	if (rp->boots)
		ev(rp, AL_RPROC_EV_STOPPED, NULL, "stopped");
}

void al_rproc_close(struct al_rproc *rp)
{
	if (!rp)
		return;
	al_rproc_stop(rp);
	if (rp->bctx && rp->be->destroy)
		rp->be->destroy(rp->bctx);
	if (rp->ctl_efd >= 0)
		close(rp->ctl_efd);
	free(rp->shadows);
	free(rp->crash_trace);
	pthread_rwlock_destroy(&rp->rw);
	pthread_mutex_destroy(&rp->mu);
	al_posix_port_destroy(&rp->port);
	pthread_cond_destroy(&rp->cv);
	free(rp);
}

int al_rproc_ept_add(struct al_rproc *rp, struct rpmsg_endpoint *ept, const char *name,
		     rpmsg_ept_cb cb, void *priv)
{
	if (!rp || !ept || !name || !*name || strlen(name) >= RPMSG_NAME_SIZE || !cb)
		return AL_EINVAL;
	pthread_rwlock_wrlock(&rp->rw);
	pthread_mutex_lock(&rp->mu);
	struct reg *r = NULL;
	for (int i = 0; i < MAX_EPTS && !r; i++)
		if (!rp->regs[i].ept)
			r = &rp->regs[i];
	int rc = r ? 0 : AL_ENOMEM;
	if (r) {
		*r = (struct reg){.ept = ept, .cb = cb, .priv = priv};
		snprintf(r->name, sizeof(r->name), "%s", name);
		memset(ept, 0, sizeof(*ept));
	}
	pthread_mutex_unlock(&rp->mu);
	if (r && rp->state == AL_RPROC_RUNNING) {
		rc = rpmsg_create_ept(ept, &rp->rvdev.rdev, name, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				      cb, NULL);
		ept->priv = priv;
		if (rc) {
			pthread_mutex_lock(&rp->mu);
			r->ept = NULL;
			pthread_mutex_unlock(&rp->mu);
		}
	}
	pthread_rwlock_unlock(&rp->rw);
	return rc;
}

void al_rproc_ept_remove(struct al_rproc *rp, struct rpmsg_endpoint *ept)
{
	if (!rp || !ept)
		return;
	pthread_rwlock_wrlock(&rp->rw);
	if (ept->rdev)
		rpmsg_destroy_ept(ept);
	pthread_mutex_lock(&rp->mu);
	for (int i = 0; i < MAX_EPTS; i++)
		if (rp->regs[i].ept == ept)
			rp->regs[i].ept = NULL;
	pthread_mutex_unlock(&rp->mu);
	pthread_rwlock_unlock(&rp->rw);
}

int al_rproc_ept_bind(struct al_rproc *rp, struct rpmsg_endpoint *ept, const char *name,
		      uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb unbind, void *priv)
{
	if (!rp || !ept || !name || strlen(name) >= RPMSG_NAME_SIZE || !cb ||
	    dest == RPMSG_ADDR_ANY)
		return AL_EINVAL;
	if (rp->state != AL_RPROC_RUNNING || !rp->vdev_up)
		return AL_ENOLINK;
	pthread_mutex_lock(&rp->mu);
	struct dyn *d = NULL;
	for (int i = 0; i < MAX_DYN && !d; i++)
		if (!rp->dyns[i].ept)
			d = &rp->dyns[i];
	if (d)
		*d = (struct dyn){.ept = ept, .unbind = unbind};
	pthread_mutex_unlock(&rp->mu);
	if (!d)
		return AL_ENOMEM;
	/* the watch thread is the only one that tears the link down: no lock
	 * needed against that here */
	int rc = rpmsg_create_ept(ept, &rp->rvdev.rdev, name, RPMSG_ADDR_ANY, dest, cb, dyn_unbind);
	pthread_mutex_lock(&rp->mu);
	if (rc)
		d->ept = NULL;
	else
		ept->priv = priv;
	pthread_mutex_unlock(&rp->mu);
	return rc;
}

int al_rproc_send(struct al_rproc *rp, struct rpmsg_endpoint *ept, const void *data, int len,
		  uint32_t timeout_ms)
{
	if (!rp || !ept)
		return AL_EINVAL;
	if (rp->state != AL_RPROC_RUNNING)
		return AL_ENOLINK; /* fast path during an outage: no lock */
	pthread_rwlock_rdlock(&rp->rw);
	int rc;
	if (rp->state != AL_RPROC_RUNNING || !ept->rdev || ept->dest_addr == RPMSG_ADDR_ANY)
		rc = AL_ENOLINK;
	else
		rc = al_send_timeout(ept, ept->addr, ept->dest_addr, data, len, timeout_ms);
	pthread_rwlock_unlock(&rp->rw);
	return rc;
}

int al_rproc_wait_bound(struct al_rproc *rp, struct rpmsg_endpoint *ept, uint32_t timeout_ms)
{
	if (!rp || !ept)
		return AL_EINVAL;
	struct timespec ts = al_posix_deadline(timeout_ms);
	pthread_mutex_lock(&rp->mu);
	int rc = AL_EINVAL;
	for (;;) {
		struct reg *r = NULL;
		for (int i = 0; i < MAX_EPTS; i++)
			if (rp->regs[i].ept == ept)
				r = &rp->regs[i];
		if (!r)
			break;
		if (r->bound && rp->state == AL_RPROC_RUNNING) {
			rc = 0;
			break;
		}
		if (pthread_cond_timedwait(&rp->cv, &rp->mu, &ts) == ETIMEDOUT) {
			rc = AL_ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&rp->mu);
	return rc;
}

void al_rproc_get_status(struct al_rproc *rp, struct al_rproc_status *st)
{
	if (!rp || !st)
		return;
	memset(st, 0, sizeof(*st));
	uint64_t now = al_posix_now_ms();
	pthread_mutex_lock(&rp->mu);
	st->state = rp->state;
	st->boots = rp->boots;
	st->crashes = rp->crashes;
	st->recoveries = rp->recoveries;
	st->uptime_s = (double)(now - rp->t_start) / 1000.0;
	st->boot_uptime_s = rp->state == AL_RPROC_RUNNING ? (double)(now - rp->t_boot) / 1000.0 : 0;
	st->last_pong_ms_ago = rp->pong_seen && rp->state == AL_RPROC_RUNNING
				   ? (double)(int64_t)(now - rp->last_pong)
				   : -1;
	st->heartbeat_ms = rp->cfg.heartbeat_ms;
	snprintf(st->last_crash, sizeof(st->last_crash), "%s", rp->last_crash);
	snprintf(st->firmware, sizeof(st->firmware), "%s", rp->firmware);
	snprintf(st->backend, sizeof(st->backend), "%s", rp->be->name ? rp->be->name : "?");
	pthread_mutex_unlock(&rp->mu);
	pthread_rwlock_rdlock(&rp->rw);
	st->id =
	    rp->state == AL_RPROC_RUNNING && rp->bctx && rp->be->id ? rp->be->id(rp->bctx) : -1;
	pthread_rwlock_unlock(&rp->rw);
}

int al_rproc_services(struct al_rproc *rp, void (*fn)(const char *name, uint32_t addr, void *arg),
		      void *arg)
{
	int n = 0;
	pthread_mutex_lock(&rp->mu);
	for (int i = 0; i < MAX_EPTS; i++)
		if (rp->regs[i].ept && rp->regs[i].bound)
			fn(rp->regs[i].name, rp->regs[i].ept->dest_addr, arg), n++;
	for (int i = 0; i < rp->nsvcs; i++)
		fn(rp->svcs[i].name, rp->svcs[i].addr, arg), n++;
	pthread_mutex_unlock(&rp->mu);
	return n;
}

static long copy_text(char *buf, size_t len, const uint8_t *src, size_t n)
{
	if (!buf || !len)
		return AL_EINVAL;
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < len; i++) {
		uint8_t c = __atomic_load_n(&src[i], __ATOMIC_RELAXED); /* the remote writes on */
		if (!c)
			break;
		buf[k++] = (c >= 32 && c < 127) || c == '\n' || c == '\t' ? (char)c : '.';
	}
	buf[k] = '\0';
	return (long)k;
}

long al_rproc_read_trace(struct al_rproc *rp, bool last_crash, char *buf, size_t len)
{
	if (!rp)
		return AL_EINVAL;
	if (last_crash) {
		pthread_mutex_lock(&rp->mu);
		long n = rp->crashes ? copy_text(buf, len, (const uint8_t *)rp->crash_trace,
						 rp->crash_trace_len)
				     : AL_EADDR;
		pthread_mutex_unlock(&rp->mu);
		return n;
	}
	pthread_rwlock_rdlock(&rp->rw);
	long n = rp->mem && rp->trace_off >= 0
		     ? copy_text(buf, len, rp->mem + rp->trace_off, rp->trace_len)
		     : AL_EADDR;
	pthread_rwlock_unlock(&rp->rw);
	return n;
}
