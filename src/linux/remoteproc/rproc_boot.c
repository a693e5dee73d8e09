/* One boot of a remote (the remoteproc host, rproc_internal.h): map the
 * firmware ELF, check its .resource_table, make the shared region with
 * the table in it (a memfd, or the backend's via prepare()), place what
 * the table leaves to us (vrings, carveouts, trace buffer, buffer pool),
 * bring the VirtIO driver side of the link up with its endpoints, and
 * let the backend start the remote. A failed boot undoes what it made in
 * reverse order (the ladder at the end of rproc_boot); rproc_teardown()
 * undoes a whole boot after a crash or a stop. Per-boot resources are
 * made and destroyed here each boot; what lives across boots (descriptor
 * shadows, the crash trace copy) is allocated once by al_rproc_start(),
 * so a restart allocates nothing on the heap. */
#define _GNU_SOURCE
#include "rproc_internal.h"
#include "why.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amplink/elf.h"
#include "amplink/linux/posix_port.h"
#include "amplink/rsc_parse.h"

#if defined(__x86_64__)
#define HOST_MACHINE AL_EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE AL_EM_AARCH64
#else
#define HOST_MACHINE AL_EM_ANY
#endif

/* The table and the loaded segments inside the region, kept free when
 * the rest is placed. */
#define MAX_RSV 8

/* Where this boot put things in the region. */
struct layout {
	size_t rsc_off, rsc_size; /* the resource table the remote reads */
	struct al_rsc_range rsv[MAX_RSV];
	size_t nrsv;
	struct al_rsc_info info; /* the table's entries, once validated */
	uint64_t pool_da;	 /* the buffer pool */
	size_t pool_size;
};

/* ---- the steps of a boot ------------------------------------------------------ */

/* Map the firmware file read-only (no heap: restarts allocate nothing). */
static int map_firmware(const char *path, const uint8_t **data, size_t *size, char *why, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return al_say(why, n, AL_EINIT, "cannot open firmware %s: %s", path,
			      strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return al_say(why, n, AL_EINIT, "firmware %s is not a non-empty regular file",
			      path);
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return al_say(why, n, AL_ENOMEM, "cannot map firmware %s: %s", path,
			      strerror(errno));
	*data = m;
	*size = (size_t)st.st_size;
	return 0;
}

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
		return al_say(why, n, AL_EINIT, "the %s backend gave no region or doorbell",
			      rp->be->name);
	if (sec->addr < reg.da || sec->addr - reg.da > reg.size ||
	    sec->size > reg.size - (sec->addr - reg.da))
		return al_say(
		    why, n, AL_EINIT,
		    "firmware %s: its .resource_table is linked at 0x%llx, outside the "
		    "remote's shared memory [0x%llx, 0x%llx): place it at the start of the "
		    "shared RAM (e.g. mcu/board/mps2-an386/mps2-an386.ld)",
		    rp->firmware, (unsigned long long)sec->addr, (unsigned long long)reg.da,
		    (unsigned long long)(reg.da + reg.size));
	*rsc_off = (size_t)(sec->addr - reg.da);
	if (memcmp(rp->mem + *rsc_off, tbl, (size_t)sec->size) != 0)
		return al_say(why, n, AL_EINIT,
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
			return al_say(
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
	/* sealed: the firmware process cannot cut it short under us */
	rp->memfd = al_posix_sealed_memfd("amplink-rproc", rp->size);
	if (rp->memfd < 0)
		return al_say(why, n, AL_ENOMEM, "cannot create the shared region: %s",
			      strerror(-rp->memfd));
	rp->mem = mmap(NULL, rp->size, PROT_READ | PROT_WRITE, MAP_SHARED, rp->memfd, 0);
	if (rp->mem == MAP_FAILED) {
		rp->mem = NULL;
		return al_say(why, n, AL_ENOMEM, "cannot map the shared region: %s",
			      strerror(errno));
	}
	memcpy(rp->mem + *rsc_off, tbl, rsc_size); /* the shared copy of the table */
	rsv[0] = (struct al_rsc_range){0, (*rsc_off + rsc_size + 4095u) & ~(size_t)4095u};
	*nrsv = 1;
	return 0;
}

/* Check the firmware's .resource_table and make the region with the
 * table in it. A failure may leave the region partly made. */
static int region_with_table(struct al_rproc *rp, const uint8_t *img, size_t img_size,
			     struct layout *l, char *why, size_t n)
{
	struct al_elf elf;
	struct al_elf_section sec;
	char w[AL_ELF_WHY_SIZE];
	const uint8_t *tbl = NULL;
	uint16_t machine = rp->be->elf_machine ? rp->be->elf_machine : HOST_MACHINE;
	int rc = al_elf_open(&elf, img, img_size, machine, w, sizeof(w));
	if (rc)
		return al_say(why, n, rc, "firmware %s: %s%s", rp->firmware, w,
			      machine == AL_EM_ARM ? " (the qemu backend runs Arm firmware, e.g. "
						     "build-mcu/fw_echo.elf)"
						   : "");
	if (al_elf_find_section(&elf, ".resource_table", &sec) ||
	    !(tbl = al_elf_section_data(&elf, &sec)) || sec.size == 0)
		return al_say(
		    why, n, AL_EINIT,
		    "firmware %s has no .resource_table section: the remote must describe "
		    "its rpmsg device in one (see docs/remoteproc.md)",
		    rp->firmware);
	if (sec.size > (rp->be->prepare ? (uint64_t)1u << 20 : rp->size / 4))
		return al_say(why, n, AL_EINIT,
			      "firmware %s: .resource_table of %llu bytes is too large",
			      rp->firmware, (unsigned long long)sec.size);
	l->rsc_size = (size_t)sec.size;
	return rp->be->prepare
		   ? backend_region(rp, &elf, &sec, tbl, &l->rsc_off, l->rsv, &l->nrsv, why, n)
		   : memfd_region(rp, tbl, l->rsc_size, &l->rsc_off, l->rsv, &l->nrsv, why, n);
}

/* Linux's remoteproc platforms keep the rpmsg buffers in a memory region
 * of their own named "vdev0buffer" (the device tree's reserved memory,
 * apart from the vrings). A firmware written for them may say where it is
 * with a carveout of that name; the pool then goes there, as the kernel's
 * would. 1 with *da and *len if the (validated) table has one, else 0. */
static int buffer_carveout(const uint8_t *t, const struct layout *l, uint64_t *da, uint32_t *len)
{
	for (uint32_t i = 0; i < l->info.num; i++) {
		uint32_t type;
		size_t off;
		if (al_rsc_entry(t, l->rsc_size, i, &type, &off) || type != RSC_CARVEOUT)
			continue;
		struct fw_rsc_carveout c;
		memcpy(&c, t + off, sizeof(c));
		if (strncmp((const char *)c.name, "vdev0buffer", sizeof(c.name)) == 0) {
			*da = c.da;
			*len = c.len;
			return 1;
		}
	}
	return 0;
}

/* Validate the table in the region, then place everything it leaves to
 * us (addresses written back into the shared copy), the buffer pool, and
 * find the trace buffer. */
static int place_resources(struct al_rproc *rp, struct layout *l, char *why, size_t n)
{
	uint8_t *t = rp->mem + l->rsc_off;
	char rw[AL_RSC_WHY_SIZE];
	int rc = al_rsc_assign(t, l->rsc_size, rp->da, rp->size, l->rsv, l->nrsv, rw, sizeof(rw));
	if (rc == 0)
		rc = al_rsc_parse(t, l->rsc_size, &l->info, rw, sizeof(rw));
	if (rc)
		return al_say(why, n, rc, "firmware %s: bad resource table: %s", rp->firmware, rw);
	if (l->info.vdev_off < 0)
		return al_say(why, n, AL_EINIT,
			      "firmware %s: no rpmsg VDEV entry in its resource table",
			      rp->firmware);
	const uint8_t *vd = t + l->info.vdev_off;
	uint32_t num0 = *(const uint32_t *)(vd + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_NUM);
	uint32_t num1 =
	    *(const uint32_t *)(vd + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_SIZE + AL_RSC_VRING_NUM);
	l->pool_size = ((size_t)num0 + num1) * rp->cfg.buf_size;
	uint64_t cda;
	uint32_t clen;
	if (buffer_carveout(t, l, &cda, &clen)) {
		/* validated by al_rsc_parse: inside the region, no wrap */
		if (clen < l->pool_size)
			return al_say(why, n, AL_EINIT,
				      "firmware %s: its vdev0buffer carveout (%u bytes) is smaller "
				      "than the %zu-byte buffer pool of %u + %u buffers",
				      rp->firmware, clen, l->pool_size, num0, num1);
		l->pool_da = cda;
	} else if (al_rsc_find_free(t, l->rsc_size, rp->da, rp->size, l->rsv, l->nrsv, l->pool_size,
				    64, &l->pool_da))
		return al_say(why, n, AL_ENOMEM,
			      "shared region of %zu bytes has no room for the %zu-byte buffer pool",
			      rp->size, l->pool_size);
	rp->trace_off = -1;
	if (l->info.trace_off >= 0) {
		uint32_t da = *(const uint32_t *)(t + l->info.trace_off + 4);
		uint32_t len = *(const uint32_t *)(t + l->info.trace_off + 8);
		if (da >= rp->da && (uint64_t)da - rp->da + len <= rp->size) {
			rp->trace_off = (long)(da - rp->da);
			rp->trace_len = len;
		}
	}
	return 0;
}

/* The process backend's control page and eventfd doorbells (a backend
 * with prepare() brought its own doorbell with the region). */
static int control_and_doorbells(struct al_rproc *rp, const struct layout *l, char *why, size_t n)
{
	if (rp->be->prepare)
		return 0;
	struct al_rproc_ctl *ctl = (struct al_rproc_ctl *)(void *)rp->mem;
	*ctl = (struct al_rproc_ctl){
	    AL_RPROC_CTL_MAGIC,	   AL_RPROC_CTL_VERSION, (uint32_t)rp->size, (uint32_t)l->rsc_off,
	    (uint32_t)l->rsc_size, rp->cfg.buf_size,	 rp->boots + 1,	     0};
	rp->kick_in = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rp->kick_out = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rp->kick_in < 0 || rp->kick_out < 0)
		return al_say(why, n, AL_ENOMEM, "eventfd: %s", strerror(errno));
	return 0;
}

/* The driver side of the link: DRIVER_OK before the remote even starts. */
static int link_up(struct al_rproc *rp, const struct layout *l, char *why, size_t n)
{
	rp->vdev = (struct virtio_device){
	    .role = VIRTIO_DEV_DRIVER,
	    .vdev_da = rp->da + l->rsc_off + (uint64_t)l->info.vdev_off,
	    .features = (1u << VIRTIO_RPMSG_F_NS) | (1u << VIRTIO_RING_F_EVENT_IDX),
	    .shadows = rp->shadows,
	    .num_shadows = RPROC_SHADOWS,
	    .ops = &al_posix_port_ops,
	    .port_ctx = &rp->port,
	};
	rpmsg_virtio_init_shm_pool(&rp->pool, rp->mem + (l->pool_da - rp->da), l->pool_size);
	const struct al_shm shm = {rp->mem, rp->da, rp->size};
	const struct rpmsg_virtio_config vc = {rp->cfg.buf_size, rp->cfg.buf_size, false};
	int rc =
	    rpmsg_init_vdev_with_config(&rp->rvdev, &rp->vdev, rproc_ns_bind, &shm, &rp->pool, &vc);
	if (rc) {
		const char *r = al_virtio_broken_reason(&rp->rvdev);
		return al_say(why, n, rc, "link set-up failed: %s", r ? r : al_strerror(rc));
	}
	rp->vdev_up = true;
	al_set_send_timeout(&rp->rvdev.rdev, 1000);
	return 0;
}

/* ---- undoing a boot ------------------------------------------------------------ */

/* Force the remote down (running, or loaded and paused by prepare()):
 * before its region goes. */
static void remote_down(struct al_rproc *rp)
{
	if (rp->bctx)
		rp->be->kill(rp->bctx);
}

/* Take the link down: senders fail, every endpoint is detached. */
static void link_down(struct al_rproc *rp)
{
	if (rp->vdev_up) {
		al_virtio_peer_lost(&rp->rvdev);
		rpmsg_deinit_vdev(&rp->rvdev);
		rp->vdev_up = false;
	}
	rproc_services_detach(rp);
}

/* Unmap the region, close its file and the doorbells (what exists). */
static void region_release(struct al_rproc *rp)
{
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

void rproc_teardown(struct al_rproc *rp)
{
	remote_down(rp);
	link_down(rp);
	region_release(rp);
}

/* ---- one boot ------------------------------------------------------------------- */

int rproc_boot(struct al_rproc *rp, char *why, size_t n)
{
	const uint8_t *img = NULL;
	size_t img_size = 0;
	struct layout l = {0};
	int rc = map_firmware(rp->firmware, &img, &img_size, why, n);
	if (rc)
		return rc; /* nothing made yet */
	rc = region_with_table(rp, img, img_size, &l, why, n);
	munmap((void *)img, img_size); /* the region has its own copy of the table */
	if (rc)
		goto release_region;
	rc = place_resources(rp, &l, why, n);
	if (rc)
		goto release_region;
	rc = control_and_doorbells(rp, &l, why, n);
	if (rc)
		goto release_region;
	rc = link_up(rp, &l, why, n);
	if (rc)
		goto release_region;
	/* this boot's endpoints: the heartbeat, then the registered ones */
	rproc_services_forget(rp);
	rc = rproc_heartbeat_attach(rp);
	if (rc == 0)
		rc = rproc_services_attach(rp);
	if (rc) {
		al_say(why, n, rc, "cannot create endpoints: %s", al_strerror(rc));
		goto take_link_down;
	}
	const struct al_rproc_boot b = {rp->firmware, rp->memfd,      rp->size,	    rp->kick_out,
					rp->kick_in,  rp->cfg.log_fd, rp->boots + 1};
	rc = rp->be->start(rp->bctx, &b, why, n);
	if (rc)
		goto take_link_down;
	uint64_t t0 = al_posix_now_ms();
	pthread_mutex_lock(&rp->mu);
	rp->boots++;
	rp->t_boot = t0;
	rproc_heartbeat_reset(rp, t0);
	rp->state = AL_RPROC_RUNNING;
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	return 0;

	/* Undo in reverse order. The remote was not started (its start failed
	 * or was not reached), so it may go after the link; it must go before
	 * the region, which a backend's prepare() maps it into. */
take_link_down:
	link_down(rp);
release_region:
	remote_down(rp);
	region_release(rp);
	return rc;
}
