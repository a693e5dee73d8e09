/* The vhost-user back-end (device side) transport, message half: checking
 * and handling each message of the front-end (virtio_uml in a User-Mode
 * Linux kernel, or QEMU), replies, vring state and the events the device
 * role on top receives. Sockets, fds, kicks and calls are in
 * vhost_user_io.c, the memory table in vhost_user_mem.c. API and rules:
 * include/amplink/linux/vhost_user.h.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_user_internal.h"

static const char *const req_names[] = {
    [AL_VHU_GET_FEATURES] = "GET_FEATURES",
    [AL_VHU_SET_FEATURES] = "SET_FEATURES",
    [AL_VHU_SET_OWNER] = "SET_OWNER",
    [AL_VHU_RESET_OWNER] = "RESET_OWNER",
    [AL_VHU_SET_MEM_TABLE] = "SET_MEM_TABLE",
    [AL_VHU_SET_LOG_BASE] = "SET_LOG_BASE",
    [AL_VHU_SET_LOG_FD] = "SET_LOG_FD",
    [AL_VHU_SET_VRING_NUM] = "SET_VRING_NUM",
    [AL_VHU_SET_VRING_ADDR] = "SET_VRING_ADDR",
    [AL_VHU_SET_VRING_BASE] = "SET_VRING_BASE",
    [AL_VHU_GET_VRING_BASE] = "GET_VRING_BASE",
    [AL_VHU_SET_VRING_KICK] = "SET_VRING_KICK",
    [AL_VHU_SET_VRING_CALL] = "SET_VRING_CALL",
    [AL_VHU_SET_VRING_ERR] = "SET_VRING_ERR",
    [AL_VHU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
    [AL_VHU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
    [AL_VHU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
    [AL_VHU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
    [AL_VHU_SEND_RARP] = "SEND_RARP",
    [AL_VHU_NET_SET_MTU] = "NET_SET_MTU",
    [AL_VHU_SET_BACKEND_REQ_FD] = "SET_SLAVE_REQ_FD",
    [AL_VHU_IOTLB_MSG] = "IOTLB_MSG",
    [AL_VHU_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
    [AL_VHU_GET_CONFIG] = "GET_CONFIG",
    [AL_VHU_SET_CONFIG] = "SET_CONFIG",
    [26] = "CREATE_CRYPTO_SESSION",
    [27] = "CLOSE_CRYPTO_SESSION",
    [28] = "POSTCOPY_ADVISE",
    [29] = "POSTCOPY_LISTEN",
    [30] = "POSTCOPY_END",
    [AL_VHU_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
    [AL_VHU_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
    [33] = "GPU_SET_SOCKET",
    [AL_VHU_RESET_DEVICE] = "RESET_DEVICE",
    [AL_VHU_VRING_KICK] = "VRING_KICK",
    [AL_VHU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
    [AL_VHU_ADD_MEM_REG] = "ADD_MEM_REG",
    [AL_VHU_REM_MEM_REG] = "REM_MEM_REG",
    [AL_VHU_SET_STATUS] = "SET_STATUS",
    [AL_VHU_GET_STATUS] = "GET_STATUS",
};

const char *al_vhu_request_name(uint32_t request)
{
	if (request < sizeof(req_names) / sizeof(req_names[0]) && req_names[request])
		return req_names[request];
	return "UNKNOWN";
}

const char *al_vhu_event_name(enum al_vhu_event ev)
{
	switch (ev) {
	case AL_VHU_EV_CONNECTED: return "CONNECTED";
	case AL_VHU_EV_VRING_READY: return "VRING_READY";
	case AL_VHU_EV_VRING_STOPPED: return "VRING_STOPPED";
	case AL_VHU_EV_KICK: return "KICK";
	case AL_VHU_EV_MEM_INVALIDATE: return "MEM_INVALIDATE";
	case AL_VHU_EV_MEM_TABLE: return "MEM_TABLE";
	case AL_VHU_EV_FEATURES: return "FEATURES";
	case AL_VHU_EV_GONE: return "GONE";
	}
	return "UNKNOWN";
}

/* Requests whose reply carries data: the front-end waits for it whatever
 * the flags say. */
static bool is_get_request(uint32_t r)
{
	switch (r) {
	case AL_VHU_GET_FEATURES:
	case AL_VHU_GET_PROTOCOL_FEATURES:
	case AL_VHU_GET_VRING_BASE:
	case AL_VHU_GET_QUEUE_NUM:
	case AL_VHU_GET_CONFIG:
	case AL_VHU_GET_INFLIGHT_FD:
	case AL_VHU_GET_MAX_MEM_SLOTS:
	case AL_VHU_GET_STATUS: return true;
	default: return false;
	}
}

void vhu_diag(struct al_vhu *vhu, enum al_vhu_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (!vhu->cfg.diag)
		return;
	va_start(ap, fmt);
	vsnprintf(vhu->note, sizeof(vhu->note), fmt, ap);
	va_end(ap);
	vhu->cfg.diag(vhu->cfg.arg, lvl, vhu->note);
}

/* Record an error sentence, report it, return code. */
int vhu_fail(struct al_vhu *vhu, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vhu->err, sizeof(vhu->err), fmt, ap);
	va_end(ap);
	if (vhu->cfg.diag)
		vhu->cfg.diag(vhu->cfg.arg, AL_VHU_ERROR, vhu->err);
	return code;
}

void vhu_emit(struct al_vhu *vhu, enum al_vhu_event ev, int vring)
{
	if (vhu->cfg.event)
		vhu->cfg.event(vhu->cfg.arg, vhu, ev, vring);
}

void vhu_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_msg_fds(struct vhu_msg *m)
{
	for (unsigned int i = 0; i < m->nfds; i++)
		vhu_close_fd(&m->fds[i]);
	m->nfds = 0;
}

/* ---- vring state ---- */

static void vring_reset(struct al_vhu *vhu, unsigned int i)
{
	struct al_vhu_vring *v = &vhu->vr[i];

	vhu_close_fd(&v->kick_fd);
	vhu_close_fd(&v->call_fd);
	memset(v, 0, sizeof(*v));
	v->kick_fd = -1;
	v->call_fd = -1;
	vhu->vp[i].started = false;
}

/* Translate vring i's user addresses for its current size; 0 or AL_EADDR
 * with the sentence in why (not reported). */
static int vring_translate(struct al_vhu *vhu, unsigned int i, char *why, size_t whylen)
{
	struct al_vhu_vring *v = &vhu->vr[i];
	uint64_t n = v->num ? v->num : 1;
	struct {
		const char *what;
		uint64_t user;
		uint64_t len;
		uint64_t align;
		uint64_t *gpa;
	} part[3] = {
	    {"descriptor table", v->desc_user, 16 * n, 16, &v->desc_gpa},
	    {"avail ring", v->avail_user, 6 + 2 * n, 2, &v->avail_gpa},
	    {"used ring", v->used_user, 6 + 8 * n, 4, &v->used_gpa},
	};

	for (int k = 0; k < 3; k++) {
		if (part[k].user % part[k].align) {
			snprintf(why, whylen,
				 "vring %u: %s at user address 0x%" PRIx64 " is not %" PRIu64
				 "-byte aligned",
				 i, part[k].what, part[k].user, part[k].align);
			return AL_EADDR;
		}
		if (vhu_mem_user_to_gpa(&vhu->mem, part[k].user, part[k].len, part[k].gpa)) {
			snprintf(why, whylen,
				 "vring %u: %s at user address 0x%" PRIx64 " (0x%" PRIx64
				 " bytes) is outside every memory region",
				 i, part[k].what, part[k].user, part[k].len);
			return AL_EADDR;
		}
	}
	return 0;
}

/* Recompute each vring's ready flag and deliver transitions. */
static void update_ready(struct al_vhu *vhu)
{
	for (unsigned int i = 0; i < vhu->nvr; i++) {
		struct al_vhu_vring *v = &vhu->vr[i];
		bool r = v->enabled && vhu->vp[i].started && v->num && v->addr_set &&
			 (v->kick_fd >= 0 || v->kick_polling) && vhu->mem.n > 0;
		if (r == v->ready)
			continue;
		v->ready = r;
		vhu_emit(vhu, r ? AL_VHU_EV_VRING_READY : AL_VHU_EV_VRING_STOPPED, (int)i);
	}
}

static void stop_all(struct al_vhu *vhu)
{
	for (unsigned int i = 0; i < vhu->nvr; i++) {
		vhu->vr[i].enabled = false;
		vhu->vp[i].started = false;
	}
	update_ready(vhu);
}

static void drop_memory(struct al_vhu *vhu)
{
	if (vhu->mem.n) {
		vhu_emit(vhu, AL_VHU_EV_MEM_INVALIDATE, -1);
		vhu_mem_unmap(&vhu->mem);
	}
}

/* Forget the front-end: stop vrings, unmap, close every fd, deliver GONE. */
static void disconnect(struct al_vhu *vhu)
{
	if (vhu->conn_fd < 0)
		return;
	stop_all(vhu);
	drop_memory(vhu);
	for (unsigned int i = 0; i < AL_VHU_MAX_VRINGS; i++)
		vring_reset(vhu, i);
	vhu_close_fd(&vhu->backend_fd);
	vhu_close_fd(&vhu->conn_fd);
	vhu->features = 0;
	vhu->pf = 0;
	vhu->status = 0;
	vhu_diag(vhu, AL_VHU_INFO, "front-end gone");
	vhu_emit(vhu, AL_VHU_EV_GONE, -1);
}

/* ---- creation ---- */

struct al_vhu *al_vhu_create(const struct al_vhu_config *cfg, const char **err)
{
	static const struct al_vhu_config none;
	struct al_vhu *vhu;

	if (!cfg)
		cfg = &none;
	if (cfg->num_vrings > AL_VHU_MAX_VRINGS) {
		if (err)
			*err = "num_vrings is larger than AL_VHU_MAX_VRINGS";
		return NULL;
	}
	if (cfg->config_len > AL_VHU_MAX_CONFIG || (cfg->config_len && !cfg->config)) {
		if (err)
			*err = "config_len is larger than AL_VHU_MAX_CONFIG or config is NULL";
		return NULL;
	}
	vhu = calloc(1, sizeof(*vhu));
	if (!vhu) {
		if (err)
			*err = "out of memory";
		return NULL;
	}
	vhu->cfg = *cfg;
	if (cfg->config_len)
		memcpy(vhu->config, cfg->config, cfg->config_len);
	vhu->cfg.config = NULL;
	vhu->nvr = cfg->num_vrings ? cfg->num_vrings : AL_VHU_MAX_VRINGS;
	vhu->offer_features = cfg->features
				  ? cfg->features
				  : (1ULL << AL_VHU_F_VERSION_1) | (1ULL << AL_VHU_F_RPMSG_NS);
	vhu->offer_features |= 1ULL << AL_VHU_F_PROTOCOL_FEATURES;
	vhu->offer_pf = cfg->protocol_features
			    ? cfg->protocol_features
			    : (1ULL << AL_VHU_PF_REPLY_ACK) | (1ULL << AL_VHU_PF_BACKEND_REQ) |
				  (cfg->config_len ? 1ULL << AL_VHU_PF_CONFIG : 0);
	if (vhu->cfg.msg_timeout_ms <= 0)
		vhu->cfg.msg_timeout_ms = 2000;
	vhu->listen_fd = -1;
	vhu->conn_fd = -1;
	vhu->backend_fd = -1;
	for (unsigned int i = 0; i < AL_VHU_MAX_VRINGS; i++) {
		vhu->vr[i].kick_fd = -1;
		vhu->vr[i].call_fd = -1;
	}
	return vhu;
}

void al_vhu_destroy(struct al_vhu *vhu)
{
	if (!vhu)
		return;
	vhu->cfg.event = NULL;
	vhu->cfg.diag = NULL;
	disconnect(vhu);
	if (vhu->listen_fd >= 0) {
		vhu_close_fd(&vhu->listen_fd);
		if (vhu->path)
			unlink(vhu->path);
	}
	free(vhu->path);
	free(vhu);
}

static void reply_u64(struct vhu_reply *r, uint64_t v)
{
	r->send = true;
	r->size = 8;
	vhu_put64(r->payload, v);
}

/* ---- request handlers: 0, VHU_UNSUPPORTED, or a negative error ---- */

static int want_size(struct al_vhu *vhu, const struct vhu_msg *m, uint32_t size)
{
	if (m->size != size)
		return vhu_fail(vhu, AL_EPROTO, "%s with a %u-byte payload (expected %u)",
				al_vhu_request_name(m->request), m->size, size);
	return 0;
}

static int want_fds(struct al_vhu *vhu, const struct vhu_msg *m, unsigned int n)
{
	if (m->nfds != n)
		return vhu_fail(vhu, AL_EPROTO, "%s with %u fds (expected %u): %s",
				al_vhu_request_name(m->request), m->nfds, n,
				m->nfds > n ? "extra fds" : "fd missing");
	return 0;
}

static int want_vring(struct al_vhu *vhu, const struct vhu_msg *m, uint32_t idx)
{
	if (idx >= vhu->nvr)
		return vhu_fail(vhu, AL_EPROTO, "%s for vring %u (this device has %u vrings)",
				al_vhu_request_name(m->request), idx, vhu->nvr);
	return 0;
}

enum al_vhu_fd_kind vhu_fd_kind(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return AL_VHU_FD_EVENTFD;
	if (S_ISSOCK(st.st_mode))
		return AL_VHU_FD_SOCKET;
	if (S_ISFIFO(st.st_mode))
		return AL_VHU_FD_PIPE;
	return AL_VHU_FD_EVENTFD;
}

static int h_mem_table(struct al_vhu *vhu, struct vhu_msg *m)
{
	struct vhu_mem_desc d[AL_VHU_MAX_REGIONS];
	struct vhu_mem nm;
	uint32_t n, slots;
	int rc;

	if (m->size < VHU_MEM_HDR)
		return vhu_fail(vhu, AL_EPROTO,
				"SET_MEM_TABLE with a %u-byte payload (at least %u)", m->size,
				VHU_MEM_HDR);
	n = vhu_le32(m->payload);
	if (n == 0 || n > AL_VHU_MAX_REGIONS)
		return vhu_fail(vhu, AL_EPROTO, "SET_MEM_TABLE with %u regions (allowed: 1..%d)", n,
				AL_VHU_MAX_REGIONS);
	/* QEMU sends exactly n region slots, virtio_uml its fixed array of 2:
	 * any whole number of slots from n to the maximum is accepted. */
	slots = (m->size - VHU_MEM_HDR) / VHU_MEM_REGION;
	if ((m->size - VHU_MEM_HDR) % VHU_MEM_REGION || slots < n || slots > AL_VHU_MAX_REGIONS)
		return vhu_fail(
		    vhu, AL_EPROTO,
		    "SET_MEM_TABLE with a %u-byte payload for %u regions (expected %u + %u "
		    "per region)",
		    m->size, n, VHU_MEM_HDR, VHU_MEM_REGION);
	rc = want_fds(vhu, m, n);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = m->payload + VHU_MEM_HDR + i * VHU_MEM_REGION;
		d[i].gpa = vhu_le64(p);
		d[i].size = vhu_le64(p + 8);
		d[i].user_addr = vhu_le64(p + 16);
		d[i].mmap_offset = vhu_le64(p + 24);
	}
	char why[200];
	rc = vhu_mem_map(&nm, d, n, m->fds, why, sizeof(why));
	close_msg_fds(m);
	if (rc)
		return vhu_fail(vhu, rc, "SET_MEM_TABLE refused: %s", why);

	bool in_use = false;
	for (unsigned int i = 0; i < vhu->nvr; i++)
		in_use |= vhu->vr[i].ready;
	if (in_use)
		vhu_diag(
		    vhu, AL_VHU_WARNING,
		    "memory table replaced while vrings are enabled: pointers into the old table "
		    "are invalid");
	drop_memory(vhu);
	vhu->mem = nm;
	for (unsigned int i = 0; i < vhu->nvr; i++) {
		char why[200];
		if (vhu->vr[i].addr_set && vring_translate(vhu, i, why, sizeof(why))) {
			vhu->vr[i].addr_set = false;
			vhu_diag(vhu, AL_VHU_ERROR, "%s in the new memory table; vring %u stopped",
				 why, i);
		}
	}
	vhu_diag(vhu, AL_VHU_TRACE, "SET_MEM_TABLE %u region%s", n, n == 1 ? "" : "s");
	for (unsigned int i = 0; i < n; i++)
		vhu_diag(vhu, AL_VHU_TRACE,
			 "  region %u: guest 0x%" PRIx64 " size 0x%" PRIx64 " user 0x%" PRIx64
			 " offset 0x%" PRIx64,
			 i, d[i].gpa, d[i].size, d[i].user_addr, d[i].mmap_offset);
	vhu_emit(vhu, AL_VHU_EV_MEM_TABLE, -1);
	return 0;
}

static int h_vring_fd(struct al_vhu *vhu, struct vhu_msg *m)
{
	uint64_t v;
	uint32_t idx;
	bool nofd;
	int rc = want_size(vhu, m, 8);

	if (rc)
		return rc;
	v = vhu_le64(m->payload);
	idx = (uint32_t)(v & VHU_VRING_IDX_MASK);
	nofd = v & VHU_VRING_NOFD;
	if (v & ~(uint64_t)(VHU_VRING_IDX_MASK | VHU_VRING_NOFD))
		return vhu_fail(vhu, AL_EPROTO, "%s with unknown bits set in 0x%" PRIx64,
				al_vhu_request_name(m->request), v);
	rc = want_vring(vhu, m, idx);
	if (!rc)
		rc = want_fds(vhu, m, nofd ? 0 : 1);
	if (rc)
		return rc;
	struct al_vhu_vring *vr = &vhu->vr[idx];
	int fd = nofd ? -1 : m->fds[0];
	m->nfds = 0;
	switch (m->request) {
	case AL_VHU_SET_VRING_KICK:
		vhu_close_fd(&vr->kick_fd);
		vr->kick_fd = fd;
		vr->kick_polling = nofd;
		vhu->vp[idx].started = true;
		if (!(vhu->features & (1ULL << AL_VHU_F_PROTOCOL_FEATURES)))
			vr->enabled = true;
		break;
	case AL_VHU_SET_VRING_CALL:
		vhu_close_fd(&vr->call_fd);
		vr->call_fd = fd;
		vr->call_kind = nofd ? AL_VHU_FD_NONE : vhu_fd_kind(fd);
		break;
	default: /* SET_VRING_ERR: we never report ring errors */ vhu_close_fd(&fd); break;
	}
	vhu_diag(vhu, AL_VHU_TRACE, "%s vring %u %s", al_vhu_request_name(m->request), idx,
		 nofd ? "no fd (polling)" : "fd");
	return 0;
}

static int h_vring_state(struct al_vhu *vhu, struct vhu_msg *m, struct vhu_reply *r)
{
	uint32_t idx, num;
	int rc = want_size(vhu, m, 8);

	if (!rc)
		rc = want_fds(vhu, m, 0);
	if (rc)
		return rc;
	idx = vhu_le32(m->payload);
	num = vhu_le32(m->payload + 4);
	rc = want_vring(vhu, m, idx);
	if (rc)
		return rc;
	struct al_vhu_vring *vr = &vhu->vr[idx];
	vhu_diag(vhu, AL_VHU_TRACE, "%s vring %u %u", al_vhu_request_name(m->request), idx, num);
	switch (m->request) {
	case AL_VHU_SET_VRING_NUM:
		if (num == 0 || num > AL_VHU_MAX_VRING_NUM || (num & (num - 1)))
			return vhu_fail(vhu, AL_EPROTO,
					"SET_VRING_NUM vring %u: size %u is not a power of two "
					"in 1..%d",
					idx, num, AL_VHU_MAX_VRING_NUM);
		if (vr->ready)
			return vhu_fail(vhu, AL_EPROTO,
					"SET_VRING_NUM vring %u while it is running", idx);
		vr->num = num;
		char why[200];
		if (vr->addr_set && vring_translate(vhu, idx, why, sizeof(why)))
			return vhu_fail(vhu, AL_EPROTO, "SET_VRING_NUM %u: %s", num, why);
		return 0;
	case AL_VHU_SET_VRING_BASE:
		if (num > 0xffff)
			return vhu_fail(
			    vhu, AL_EPROTO,
			    "SET_VRING_BASE vring %u: base %u does not fit a 16-bit index", idx,
			    num);
		if (vr->ready)
			return vhu_fail(vhu, AL_EPROTO,
					"SET_VRING_BASE vring %u while it is running", idx);
		vr->base = num;
		return 0;
	case AL_VHU_GET_VRING_BASE:
		vhu->vp[idx].started = false;
		update_ready(vhu); /* STOPPED: the user may set the base now */
		r->send = true;
		r->size = 8;
		vhu_put32(r->payload, idx);
		vhu_put32(r->payload + 4, vr->base);
		return 0;
	case AL_VHU_SET_VRING_ENABLE:
		if (num > 1)
			return vhu_fail(vhu, AL_EPROTO,
					"SET_VRING_ENABLE vring %u with %u (0 or 1)", idx, num);
		vr->enabled = num;
		return 0;
	default: /* VRING_KICK (in-band) */
		if (vr->ready)
			vhu_emit(vhu, AL_VHU_EV_KICK, (int)idx);
		return 0;
	}
}

static int h_vring_addr(struct al_vhu *vhu, struct vhu_msg *m)
{
	const uint8_t *p = m->payload;
	uint32_t idx;
	int rc = want_size(vhu, m, 40);

	if (!rc)
		rc = want_fds(vhu, m, 0);
	if (rc)
		return rc;
	idx = vhu_le32(p);
	rc = want_vring(vhu, m, idx);
	if (rc)
		return rc;
	struct al_vhu_vring *vr = &vhu->vr[idx];
	if (vr->ready)
		return vhu_fail(vhu, AL_EPROTO, "SET_VRING_ADDR vring %u while it is running", idx);
	vr->addr_flags = vhu_le32(p + 4);
	vr->desc_user = vhu_le64(p + 8);
	vr->used_user = vhu_le64(p + 16);
	vr->avail_user = vhu_le64(p + 24);
	/* p + 32: log address, unused (no VHOST_F_LOG_ALL) */
	vr->addr_set = false;
	vhu_diag(vhu, AL_VHU_TRACE,
		 "SET_VRING_ADDR vring %u desc 0x%" PRIx64 " used 0x%" PRIx64 " avail 0x%" PRIx64,
		 idx, vr->desc_user, vr->used_user, vr->avail_user);
	char why[200];
	if (vring_translate(vhu, idx, why, sizeof(why)))
		return vhu_fail(vhu, AL_EPROTO, "SET_VRING_ADDR refused: %s", why);
	vr->addr_set = true;
	return 0;
}

static int h_config(struct al_vhu *vhu, struct vhu_msg *m, struct vhu_reply *r)
{
	uint32_t off, len;
	int rc = want_fds(vhu, m, 0);

	if (rc)
		return rc;
	if (m->size < VHU_CONFIG_HDR)
		return vhu_fail(vhu, AL_EPROTO, "%s with a %u-byte payload (at least %u)",
				al_vhu_request_name(m->request), m->size, VHU_CONFIG_HDR);
	off = vhu_le32(m->payload);
	len = vhu_le32(m->payload + 4);
	if (len > AL_VHU_MAX_CONFIG || m->size != VHU_CONFIG_HDR + len)
		return vhu_fail(
		    vhu, AL_EPROTO,
		    "%s of %u bytes with a %u-byte payload (expected %u + size, size <= %d)",
		    al_vhu_request_name(m->request), len, m->size, VHU_CONFIG_HDR,
		    AL_VHU_MAX_CONFIG);
	bool inside = off <= vhu->cfg.config_len && len <= vhu->cfg.config_len - off;
	if (m->request == AL_VHU_SET_CONFIG) {
		if (!inside) {
			vhu_diag(
			    vhu, AL_VHU_WARNING,
			    "SET_CONFIG of bytes %u..%u outside the %zu-byte config space refused",
			    off, off + len, vhu->cfg.config_len);
			return VHU_UNSUPPORTED;
		}
		memcpy(vhu->config + off, m->payload + VHU_CONFIG_HDR, len);
		return 0;
	}
	/* GET_CONFIG: the bytes asked for, zero where the space ends; a range
	 * outside AL_VHU_MAX_CONFIG gets an empty answer (size 0). */
	r->send = true;
	memcpy(r->payload, m->payload, VHU_CONFIG_HDR);
	if (off > AL_VHU_MAX_CONFIG || len > AL_VHU_MAX_CONFIG - off) {
		vhu_put32(r->payload + 4, 0);
		r->size = VHU_CONFIG_HDR;
		return 0;
	}
	memset(r->payload + VHU_CONFIG_HDR, 0, len);
	if (off < vhu->cfg.config_len) {
		size_t n = vhu->cfg.config_len - off < len ? vhu->cfg.config_len - off : len;
		memcpy(r->payload + VHU_CONFIG_HDR, vhu->config + off, n);
	}
	r->size = VHU_CONFIG_HDR + len;
	return 0;
}

static void reset_device(struct al_vhu *vhu)
{
	stop_all(vhu);
	for (unsigned int i = 0; i < AL_VHU_MAX_VRINGS; i++)
		vring_reset(vhu, i);
	vhu->features = 0;
	vhu->status = 0;
}

static int dispatch(struct al_vhu *vhu, struct vhu_msg *m, struct vhu_reply *r)
{
	uint64_t v;
	int rc;

	switch (m->request) {
	case AL_VHU_GET_FEATURES:
	case AL_VHU_GET_PROTOCOL_FEATURES:
	case AL_VHU_GET_QUEUE_NUM:
	case AL_VHU_GET_MAX_MEM_SLOTS:
	case AL_VHU_GET_STATUS:
	case AL_VHU_SET_OWNER:
	case AL_VHU_RESET_OWNER:
	case AL_VHU_RESET_DEVICE:
		rc = want_size(vhu, m, 0);
		if (!rc)
			rc = want_fds(vhu, m, 0);
		if (rc)
			return rc;
		vhu_diag(vhu, AL_VHU_TRACE, "%s", al_vhu_request_name(m->request));
		switch (m->request) {
		case AL_VHU_GET_FEATURES: reply_u64(r, vhu->offer_features); break;
		case AL_VHU_GET_PROTOCOL_FEATURES: reply_u64(r, vhu->offer_pf); break;
		case AL_VHU_GET_QUEUE_NUM: reply_u64(r, vhu->nvr); break;
		case AL_VHU_GET_MAX_MEM_SLOTS: reply_u64(r, AL_VHU_MAX_REGIONS); break;
		case AL_VHU_GET_STATUS: reply_u64(r, vhu->status); break;
		case AL_VHU_SET_OWNER: break;
		default: reset_device(vhu); break;
		}
		return 0;
	case AL_VHU_SET_FEATURES:
	case AL_VHU_SET_PROTOCOL_FEATURES:
	case AL_VHU_SET_STATUS:
		rc = want_size(vhu, m, 8);
		if (!rc)
			rc = want_fds(vhu, m, 0);
		if (rc)
			return rc;
		v = vhu_le64(m->payload);
		vhu_diag(vhu, AL_VHU_TRACE, "%s 0x%" PRIx64, al_vhu_request_name(m->request), v);
		if (m->request == AL_VHU_SET_STATUS) {
			if (v > 0xff)
				return vhu_fail(vhu, AL_EPROTO, "SET_STATUS 0x%" PRIx64 " (8 bits)",
						v);
			vhu->status = (uint8_t)v;
			return 0;
		}
		if (m->request == AL_VHU_SET_PROTOCOL_FEATURES) {
			if (v & ~vhu->offer_pf)
				return vhu_fail(vhu, AL_EPROTO,
						"SET_PROTOCOL_FEATURES 0x%" PRIx64
						" has bits never offered (offered 0x%" PRIx64 ")",
						v, vhu->offer_pf);
			vhu->pf = v;
			return 0;
		}
		if (v & ~vhu->offer_features)
			return vhu_fail(vhu, AL_EPROTO,
					"SET_FEATURES 0x%" PRIx64
					" has bits never offered (offered 0x%" PRIx64 ")",
					v, vhu->offer_features);
		vhu->features = v;
		vhu_emit(vhu, AL_VHU_EV_FEATURES, -1);
		return 0;
	case AL_VHU_SET_MEM_TABLE: return h_mem_table(vhu, m);
	case AL_VHU_SET_VRING_KICK:
	case AL_VHU_SET_VRING_CALL:
	case AL_VHU_SET_VRING_ERR: return h_vring_fd(vhu, m);
	case AL_VHU_SET_VRING_NUM:
	case AL_VHU_SET_VRING_BASE:
	case AL_VHU_GET_VRING_BASE:
	case AL_VHU_SET_VRING_ENABLE:
	case AL_VHU_VRING_KICK: return h_vring_state(vhu, m, r);
	case AL_VHU_SET_VRING_ADDR: return h_vring_addr(vhu, m);
	case AL_VHU_GET_CONFIG:
	case AL_VHU_SET_CONFIG: return h_config(vhu, m, r);
	case AL_VHU_SET_BACKEND_REQ_FD:
		rc = want_size(vhu, m, 0);
		if (!rc)
			rc = want_fds(vhu, m, 1);
		if (rc)
			return rc;
		vhu_close_fd(&vhu->backend_fd);
		vhu->backend_fd = m->fds[0];
		m->nfds = 0;
		vhu_diag(vhu, AL_VHU_TRACE, "SET_SLAVE_REQ_FD");
		return 0;
	default:
		close_msg_fds(m);
		if (strcmp(al_vhu_request_name(m->request), "UNKNOWN") == 0)
			snprintf(vhu->err, sizeof(vhu->err),
				 "unknown request %u (%u-byte payload) ignored", m->request,
				 m->size);
		else
			snprintf(vhu->err, sizeof(vhu->err), "%s (request %u) is not supported",
				 al_vhu_request_name(m->request), m->request);
		vhu_diag(vhu, AL_VHU_WARNING, "%s", vhu->err);
		return VHU_UNSUPPORTED;
	}
}

int al_vhu_handle_message(struct al_vhu *vhu)
{
	static struct vhu_msg zero_msg;
	struct vhu_msg m = zero_msg;
	struct vhu_reply r = {0};
	uint8_t hdr[VHU_HDR_SIZE];
	int rc;

	if (vhu->conn_fd < 0)
		return vhu_fail(vhu, AL_ESTATE, "no front-end is connected");
	vhu->err[0] = '\0';
	rc = vhu_read_full(vhu, &m, hdr, sizeof(hdr), true, "header");
	if (rc == 0) {
		m.request = vhu_le32(hdr);
		m.flags = vhu_le32(hdr + 4);
		m.size = vhu_le32(hdr + 8);
		if ((m.flags & VHU_VERSION_MASK) != VHU_VERSION || (m.flags & VHU_FLAG_REPLY))
			rc = vhu_fail(vhu, AL_EPROTO,
				      "%s with flags 0x%x (version 1, no reply bit expected)",
				      al_vhu_request_name(m.request), m.flags);
		else if (m.size > VHU_MAX_PAYLOAD)
			rc = vhu_fail(
			    vhu, AL_EPROTO, "%s (request %u) with a %u-byte payload (at most %u)",
			    al_vhu_request_name(m.request), m.request, m.size, VHU_MAX_PAYLOAD);
		else
			rc = vhu_read_full(vhu, &m, m.payload, m.size, false, "payload");
	}
	if (rc == 0) {
		rc = dispatch(vhu, &m, &r);
		close_msg_fds(&m);
	} else {
		close_msg_fds(&m);
	}
	if (rc == AL_ENOLINK && !vhu->err[0]) {
		disconnect(vhu);
		snprintf(vhu->err, sizeof(vhu->err), "the front-end closed the connection");
		return AL_ENOLINK;
	}
	if (rc < 0) {
		disconnect(vhu);
		return rc;
	}
	update_ready(vhu);
	if (r.send || (rc == VHU_UNSUPPORTED && is_get_request(m.request))) {
		if (!r.send)
			reply_u64(&r, 1); /* no data to give: a failure the front-end can see */
	} else if ((m.flags & VHU_FLAG_NEED_REPLY) && (vhu->pf & (1ULL << AL_VHU_PF_REPLY_ACK))) {
		reply_u64(&r, rc == 0 ? 0 : 1);
	}
	if (r.send) {
		int src = vhu_send_reply(vhu, &m, &r);
		if (src) {
			disconnect(vhu);
			return src;
		}
	}
	return rc == VHU_UNSUPPORTED ? AL_EPERM : 0;
}

/* ---- accessors ---- */

int al_vhu_set_vring_base(struct al_vhu *vhu, unsigned int vring, uint32_t base)
{
	if (vring >= vhu->nvr || base > 0xffff)
		return AL_EINVAL;
	vhu->vr[vring].base = base;
	return 0;
}

void *al_vhu_gpa_to_va(const struct al_vhu *vhu, uint64_t gpa, uint64_t len)
{
	return vhu_mem_gpa_to_va(&vhu->mem, gpa, len);
}

int al_vhu_user_to_gpa(const struct al_vhu *vhu, uint64_t user_addr, uint64_t len, uint64_t *gpa)
{
	return vhu_mem_user_to_gpa(&vhu->mem, user_addr, len, gpa);
}

const struct al_vhu_region *al_vhu_regions(const struct al_vhu *vhu, unsigned int *count)
{
	*count = vhu->mem.n;
	return vhu->mem.r;
}

const struct al_vhu_vring *al_vhu_vring(const struct al_vhu *vhu, unsigned int index)
{
	return index < vhu->nvr ? &vhu->vr[index] : NULL;
}

uint64_t al_vhu_features(const struct al_vhu *vhu)
{
	return vhu->features;
}

uint64_t al_vhu_protocol_features(const struct al_vhu *vhu)
{
	return vhu->pf;
}

bool al_vhu_connected(const struct al_vhu *vhu)
{
	return vhu->conn_fd >= 0;
}

int al_vhu_listen_fd(const struct al_vhu *vhu)
{
	return vhu->listen_fd;
}

int al_vhu_conn_fd(const struct al_vhu *vhu)
{
	return vhu->conn_fd;
}

const char *al_vhu_last_error(const struct al_vhu *vhu)
{
	return vhu->err;
}
