/* The vhost-user remote (include/amplink/linux/vhost_user_remote.h): the
 * rpmsg core's device role served over the vhost-user back-end, one
 * session per front-end connection. */
#define _GNU_SOURCE
#include "amplink/linux/vhost_user_remote.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "amplink/error.h"
#include "amplink/linux/diag.h"
#include "amplink/linux/posix_port.h"
#include "amplink/linux/vhost_user.h"

#define NVR 2 /* rpmsg: vring0 device -> driver, vring1 driver -> device */

struct al_vhu_remote {
	struct al_vhu_remote_config cfg;
	struct al_vhu *vhu;
	int wake_fd;
	pthread_t thread;
	bool thread_running;
	volatile int quit;

	/* what the front-end has set up on this connection */
	bool ready[NVR];
	bool armed;   /* both vrings became ready since the last session */
	bool kicked0; /* vring 0 kicked while armed */
	bool polling_reported;
	bool start_failed; /* in this round of al_vhu_remote_run() */

	/* the session */
	bool active; /* rvdev initialised */
	bool up;     /* the device came up on the driver's rings */
	bool broken_reported;
	struct rpmsg_virtio_device rvdev;
	struct virtio_device vdev;
	struct al_posix_port port;
	struct al_desc_shadow *shadows;

	/* The driver's call fds, duplicated, for rings from other threads
	 * (the vhost-user server is single-threaded). */
	pthread_mutex_t call_mu;
	int call_fd[NVR];
	enum al_vhu_fd_kind call_kind[NVR];
	bool call_failed;

	pthread_mutex_t stats_mu;
	struct al_vhu_remote_stats st;
};

/* The remote whose serving loop runs on this thread (rings from there go
 * straight through al_vhu_call()). */
static _Thread_local struct al_vhu_remote *tl_serving;

static const char *const fault_names[AL_VHUR_F_COUNT] = {
    [AL_VHUR_OK] = "ok",
    [AL_VHUR_F_SOCKET] = "socket",
    [AL_VHUR_F_MESSAGE] = "bad-message",
    [AL_VHUR_F_NO_MEMORY] = "no-memory-table",
    [AL_VHUR_F_TOO_MANY_REG] = "too-many-regions",
    [AL_VHUR_F_REGION] = "region-refused",
    [AL_VHUR_F_RING_SIZE] = "ring-size",
    [AL_VHUR_F_ALLOC] = "out-of-memory",
    [AL_VHUR_F_INIT] = "init-refused",
    [AL_VHUR_F_APP] = "session-start-failed",
    [AL_VHUR_F_RINGS] = "rings-refused",
    [AL_VHUR_F_BROKEN] = "link-broken",
    [AL_VHUR_F_CALL] = "call-failed",
    [AL_VHUR_F_KICK_POLLING] = "kick-polling",
    [AL_VHUR_F_THREAD] = "thread",
};

const char *al_vhu_remote_fault_name(enum al_vhu_remote_fault f)
{
	return (unsigned)f < AL_VHUR_F_COUNT ? fault_names[f] : "unknown";
}

const char *al_vhu_remote_end_name(enum al_vhu_remote_end why)
{
	switch (why) {
	case AL_VHUR_END_GONE: return "gone";
	case AL_VHUR_END_VRING_STOPPED: return "vring-stopped";
	case AL_VHUR_END_MEM_INVALIDATE: return "memory-invalidated";
	case AL_VHUR_END_SHUTDOWN: return "shutdown";
	}
	return "unknown";
}

/* Count a fault and report it: one sentence, the fault's name first. */
__attribute__((format(printf, 3, 4))) static int
fault(struct al_vhu_remote *r, enum al_vhu_remote_fault f, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&r->stats_mu);
	r->st.faults[f]++;
	pthread_mutex_unlock(&r->stats_mu);
	al_diagf(AL_DIAG_ERR, "vhost-user remote: %s: %s", fault_names[f], msg);
	return f;
}

#define STAT_ADD(r, field, n)                                                                      \
	do {                                                                                       \
		pthread_mutex_lock(&(r)->stats_mu);                                                \
		(r)->st.field += (n);                                                              \
		pthread_mutex_unlock(&(r)->stats_mu);                                              \
	} while (0)

/* ---- signalling the driver ------------------------------------------------ */

/* Signal on a duplicated call fd without blocking: what al_vhu_call()
 * does, for threads other than the serving one. 0 or -1 (errno). */
static int signal_fd(int fd, enum al_vhu_fd_kind kind)
{
	const uint64_t one = 1;
	ssize_t n;
	if (kind == AL_VHU_FD_SOCKET) {
		do
			n = send(fd, &one, sizeof(one), MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
	} else {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, 0) != 1)
			return 0; /* full: a signal is pending already */
		if (!(p.revents & POLLOUT)) {
			errno = EPIPE;
			return -1;
		}
		do
			n = write(fd, &one, sizeof(one));
		while (n < 0 && errno == EINTR);
	}
	if (n == (ssize_t)sizeof(one) || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
		return 0;
	if (n >= 0)
		errno = EIO;
	return -1;
}

/* The core's notify: ring the driver on the vring whose notify id we gave
 * (its index). Any thread, possibly with the link's lock held: never
 * blocks beyond the short call_mu section. */
static void remote_ring(struct al_posix_port *port, uint32_t notifyid)
{
	struct al_vhu_remote *r = al_container_of(port, struct al_vhu_remote, port);
	if (notifyid >= NVR)
		return;
	int rc, err = 0;
	if (tl_serving == r) {
		rc = al_vhu_call(r->vhu, notifyid);
		if (rc == AL_EAGAIN)
			rc = 0; /* no call fd: the driver polls */
	} else {
		pthread_mutex_lock(&r->call_mu);
		rc = r->call_fd[notifyid] >= 0
			 ? signal_fd(r->call_fd[notifyid], r->call_kind[notifyid])
			 : 0;
		err = errno;
		pthread_mutex_unlock(&r->call_mu);
	}
	if (rc == 0)
		return;
	pthread_mutex_lock(&r->call_mu);
	bool first = !r->call_failed;
	r->call_failed = true;
	pthread_mutex_unlock(&r->call_mu);
	if (first)
		fault(r, AL_VHUR_F_CALL, "signalling vring %u failed (%s): the driver is gone?",
		      notifyid, tl_serving == r ? al_vhu_last_error(r->vhu) : strerror(err));
}

static void close_calls(struct al_vhu_remote *r)
{
	pthread_mutex_lock(&r->call_mu);
	for (int i = 0; i < NVR; i++) {
		if (r->call_fd[i] >= 0)
			close(r->call_fd[i]);
		r->call_fd[i] = -1;
		r->call_kind[i] = AL_VHU_FD_NONE;
	}
	pthread_mutex_unlock(&r->call_mu);
}

static void dup_calls(struct al_vhu_remote *r)
{
	close_calls(r);
	pthread_mutex_lock(&r->call_mu);
	for (unsigned i = 0; i < NVR; i++) {
		const struct al_vhu_vring *v = al_vhu_vring(r->vhu, i);
		if (v && v->call_fd >= 0) {
			r->call_fd[i] = fcntl(v->call_fd, F_DUPFD_CLOEXEC, 0);
			r->call_kind[i] = v->call_kind;
		}
	}
	r->call_failed = false;
	pthread_mutex_unlock(&r->call_mu);
}

/* ---- sessions --------------------------------------------------------------- */

static void on_broken(struct rpmsg_virtio_device *rvdev, int err, const char *why)
{
	struct al_vhu_remote *r = al_container_of(rvdev, struct al_vhu_remote, rvdev);
	(void)err;
	STAT_ADD(r, broken, 1);
	fault(r, AL_VHUR_F_BROKEN, "the driver broke the link: %s; ignoring it until it goes",
	      why ? why : "(no reason)");
}

/* End the session: the link goes down first (no ring or buffer is touched
 * again, blocked senders wake), then the application stops its senders,
 * then every endpoint goes. */
static void session_stop(struct al_vhu_remote *r, enum al_vhu_remote_end why)
{
	if (!r->active)
		return;
	al_virtio_peer_lost(&r->rvdev);
	if (r->up) { /* what GET_VRING_BASE reports: the next avail entry we take */
		(void)al_vhu_set_vring_base(r->vhu, 0, r->rvdev.svq.last_idx);
		(void)al_vhu_set_vring_base(r->vhu, 1, r->rvdev.rvq.last_idx);
	}
	close_calls(r);
	if (r->cfg.session_end)
		r->cfg.session_end(r->cfg.arg, &r->rvdev.rdev, why);
	rpmsg_deinit_vdev(&r->rvdev);
	free(r->shadows);
	r->shadows = NULL;
	if (r->up)
		STAT_ADD(r, sessions_ended, 1);
	al_diagf(AL_DIAG_INFO, "vhost-user remote: session ended (%s)",
		 al_vhu_remote_end_name(why));
	r->active = r->up = false;
	r->kicked0 = false;
}

/* Both vrings ready, vring 0 kicked: bring the device up on the driver's
 * rings. 0, or a fault (the session is not started; the next one needs
 * the vrings set up again). */
static int session_start(struct al_vhu_remote *r)
{
	unsigned int n = 0;
	const struct al_vhu_region *reg = al_vhu_regions(r->vhu, &n);
	const struct al_vhu_vring *v[NVR] = {al_vhu_vring(r->vhu, 0), al_vhu_vring(r->vhu, 1)};
	int rc;

	r->armed = r->kicked0 = false;
	if (!reg || n == 0)
		return fault(r, AL_VHUR_F_NO_MEMORY, "vrings ready without a memory table");
	if (n > AL_CFG_MAX_REGIONS)
		return fault(r, AL_VHUR_F_TOO_MANY_REG,
			     "%u memory regions, the link takes at most %u", n,
			     (unsigned)AL_CFG_MAX_REGIONS);
	for (unsigned i = 0; i < n; i++)
		if (reg[i].size == 0 || (uint64_t)(size_t)reg[i].size != reg[i].size || !reg[i].va)
			return fault(r, AL_VHUR_F_REGION,
				     "memory region %u (size 0x%" PRIx64 ") cannot be mapped here",
				     i, reg[i].size);
	for (unsigned i = 0; i < NVR; i++)
		if (!v[i] || !v[i]->ready || v[i]->num == 0 || v[i]->num > 32768u ||
		    (v[i]->num & (v[i]->num - 1u)) || v[i]->base > 0xFFFFu)
			return fault(r, AL_VHUR_F_RING_SIZE,
				     "vring %u: size %u base %u is not a ring this device serves",
				     i, v[i] ? v[i]->num : 0, v[i] ? v[i]->base : 0);

	r->shadows = calloc(AL_VDEV_SHADOWS(v[0]->num, v[1]->num), sizeof(*r->shadows));
	if (!r->shadows)
		return fault(r, AL_VHUR_F_ALLOC, "no memory for %u descriptor shadows",
			     v[0]->num + v[1]->num);
	/* region 0 for the init, the others declared with it: the guest
	 * may put its rings and buffers in any of them */
	struct al_shm more[AL_CFG_MAX_REGIONS - 1];
	for (unsigned i = 1; i < n; i++)
		more[i - 1] = (struct al_shm){reg[i].va, reg[i].gpa, (size_t)reg[i].size};
	r->vdev = (struct virtio_device){
	    .role = VIRTIO_DEV_DEVICE,
	    .vdev_da = AL_VDEV_DA_NONE,
	    .features = r->cfg.features | (1u << VIRTIO_RPMSG_F_NS),
	    .shadows = r->shadows,
	    .num_shadows = AL_VDEV_SHADOWS(v[0]->num, v[1]->num),
	    .ops = &al_posix_port_ops,
	    .port_ctx = &r->port,
	    .regions = more,
	    .num_regions = n - 1,
	};
	struct al_shm shm0 = {reg[0].va, reg[0].gpa, (size_t)reg[0].size};
	rc = rpmsg_init_vdev_with_config(&r->rvdev, &r->vdev, NULL, &shm0, NULL, &r->cfg.buf);
	if (rc) {
		free(r->shadows);
		r->shadows = NULL;
		const char *why = al_virtio_broken_reason(&r->rvdev);
		return fault(r, AL_VHUR_F_INIT, "rpmsg_init_vdev_with_config: %s%s%s",
			     al_strerror(rc), why ? ": " : "", why ? why : "");
	}
	r->active = true;
	r->broken_reported = false;
	al_virtio_set_error_cb(&r->rvdev, on_broken);
	dup_calls(r);
	rc = r->cfg.session_start(r->cfg.arg, &r->rvdev.rdev);
	if (rc) {
		session_stop(r, AL_VHUR_END_VRING_STOPPED);
		STAT_ADD(r, refused, 1);
		return fault(r, AL_VHUR_F_APP, "the application's session_start: %s",
			     al_strerror(rc));
	}
	struct al_vring_cfg ring[NVR];
	for (unsigned i = 0; i < NVR; i++)
		ring[i] = (struct al_vring_cfg){.desc = v[i]->desc_gpa,
						.avail = v[i]->avail_gpa,
						.used = v[i]->used_gpa,
						.num = v[i]->num,
						.notifyid = i,
						.avail_base = (uint16_t)v[i]->base};
	rc = al_virtio_device_start(&r->rvdev, ring, (uint32_t)al_vhu_features(r->vhu));
	if (rc) {
		const char *why = al_virtio_broken_reason(&r->rvdev);
		char reason[200];
		snprintf(reason, sizeof(reason), "%s", why ? why : "");
		session_stop(r, AL_VHUR_END_VRING_STOPPED);
		STAT_ADD(r, refused, 1);
		return fault(r, AL_VHUR_F_RINGS, "al_virtio_device_start: %s%s%s", al_strerror(rc),
			     reason[0] ? ": " : "", reason);
	}
	r->up = true;
	STAT_ADD(r, sessions, 1);
	al_diagf(AL_DIAG_INFO,
		 "vhost-user remote: session up: %u region(s), region 0 guest 0x%" PRIx64
		 " size 0x%" PRIx64 ", vrings %u+%u, features 0x%" PRIx64,
		 n, reg[0].gpa, reg[0].size, v[0]->num, v[1]->num, al_vhu_features(r->vhu));
	return 0;
}

/* ---- the vhost-user side ------------------------------------------------------ */

static void on_vhu_diag(void *arg, enum al_vhu_level level, const char *msg)
{
	(void)arg;
	static const int lv[] = {AL_DIAG_ERR, AL_DIAG_WARNING, AL_DIAG_INFO, AL_DIAG_DEBUG};
	al_diagf(lv[level <= AL_VHU_TRACE ? level : AL_VHU_TRACE], "vhost-user: %s", msg);
}

static void on_vhu_event(void *arg, struct al_vhu *vhu, enum al_vhu_event ev, int vring)
{
	struct al_vhu_remote *r = arg;
	(void)vhu;
	switch (ev) {
	case AL_VHU_EV_CONNECTED:
		STAT_ADD(r, connections, 1);
		r->ready[0] = r->ready[1] = r->armed = r->kicked0 = false;
		r->polling_reported = false;
		break;
	case AL_VHU_EV_VRING_READY:
		if (vring >= 0 && vring < NVR) {
			r->ready[vring] = true;
			if (r->ready[0] && r->ready[1] && !r->active)
				r->armed = true;
		}
		break;
	case AL_VHU_EV_VRING_STOPPED:
		if (vring >= 0 && vring < NVR)
			r->ready[vring] = false;
		r->armed = r->kicked0 = false;
		session_stop(r, AL_VHUR_END_VRING_STOPPED);
		break;
	case AL_VHU_EV_MEM_INVALIDATE: session_stop(r, AL_VHUR_END_MEM_INVALIDATE); break;
	case AL_VHU_EV_GONE:
		session_stop(r, AL_VHUR_END_GONE);
		r->ready[0] = r->ready[1] = r->armed = r->kicked0 = false;
		break;
	default: break;
	}
}

/* ---- the serving loop ------------------------------------------------------------ */

/* Start the session when both vrings are ready and vring 0 was kicked.
 * True when a start was attempted (kicked[] then says: look at both rings). */
static bool maybe_start(struct al_vhu_remote *r, bool kicked[NVR])
{
	if (r->active || !r->armed || !r->kicked0 || !r->ready[0] || !r->ready[1])
		return false;
	if (session_start(r) != 0)
		r->start_failed = true;
	kicked[0] = kicked[1] = true; /* look at what waits already */
	return true;
}

/* The core's receive handler, counted. */
static int notified(struct al_vhu_remote *r)
{
	if (!r->up)
		return 0;
	int rc = al_virtio_notified(&r->rvdev);
	if (rc > 0)
		STAT_ADD(r, messages, (uint64_t)rc);
	return rc;
}

int al_vhu_remote_run(struct al_vhu_remote *r, int timeout_ms)
{
	struct pollfd p[2 + NVR];
	int ring_of[2 + NVR];
	int n = 0, done = 0, err = 0;
	bool kicked[NVR] = {false, false};

	if (!r)
		return AL_EINVAL;
	tl_serving = r;
	p[n] = (struct pollfd){.fd = r->wake_fd, .events = POLLIN};
	ring_of[n++] = -3;
	if (al_vhu_connected(r->vhu)) {
		p[n] = (struct pollfd){.fd = al_vhu_conn_fd(r->vhu), .events = POLLIN};
		ring_of[n++] = -1;
		for (unsigned i = 0; i < NVR; i++) {
			const struct al_vhu_vring *v = al_vhu_vring(r->vhu, i);
			if (!v || !v->ready)
				continue;
			if (v->kick_fd >= 0) {
				p[n] = (struct pollfd){.fd = v->kick_fd, .events = POLLIN};
				ring_of[n++] = (int)i;
			} else if (v->kick_polling && !r->polling_reported) {
				r->polling_reported = true;
				fault(r, AL_VHUR_F_KICK_POLLING,
				      "vring %u: the front-end asked for polled kicks; this device "
				      "serves kick fds only",
				      i);
			}
		}
	} else if (al_vhu_listen_fd(r->vhu) >= 0) {
		p[n] = (struct pollfd){.fd = al_vhu_listen_fd(r->vhu), .events = POLLIN};
		ring_of[n++] = -2;
	}
	int rc;
	do
		rc = poll(p, (nfds_t)n, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0) {
		tl_serving = NULL;
		return 0;
	}
	for (int k = 0; k < n; k++) {
		if (!p[k].revents)
			continue;
		if (ring_of[k] == -3) {
			uint64_t v;
			ssize_t got = read(r->wake_fd, &v, sizeof(v));
			(void)got;
		} else if (ring_of[k] >= 0) {
			unsigned i = (unsigned)ring_of[k];
			if (al_vhu_drain_kick(r->vhu, i) > 0)
				kicked[i] = true;
		}
	}
	/* Kicks before the message: the message may stop a vring. A kick of
	 * vring 0 that came before vring 1 was ready still counts. */
	if (kicked[0] && !r->active)
		r->kicked0 = true;
	if (maybe_start(r, kicked))
		done = 1;
	if (r->up && (kicked[0] || kicked[1])) {
		done = 1;
		STAT_ADD(r, kicks, 1);
		if (notified(r) == AL_EBROKEN)
			err = AL_EBROKEN; /* reported by on_broken, once */
	}
	for (int k = 0; k < n; k++) {
		if (!p[k].revents || (ring_of[k] != -1 && ring_of[k] != -2))
			continue;
		done = 1;
		if (ring_of[k] == -2) {
			rc = al_vhu_accept(r->vhu);
			if (rc < 0) {
				fault(r, AL_VHUR_F_SOCKET, "accept: %s", al_vhu_last_error(r->vhu));
				err = rc;
			}
		} else {
			rc = al_vhu_handle_message(r->vhu);
			if (rc == AL_EPROTO || (rc < 0 && rc != AL_EPERM && rc != AL_ENOLINK)) {
				fault(r, AL_VHUR_F_MESSAGE, "%s (connection dropped)",
				      al_vhu_last_error(r->vhu));
				err = rc;
			} else if (rc == AL_EPERM) {
				al_diagf(AL_DIAG_DEBUG, "vhost-user remote: %s",
					 al_vhu_last_error(r->vhu));
			}
		}
	}
	/* The message may have made the last vring ready after its kick. */
	if (maybe_start(r, kicked) && notified(r) == AL_EBROKEN)
		err = AL_EBROKEN;
	if (r->start_failed && !err)
		err = AL_EINIT;
	r->start_failed = false;
	tl_serving = NULL;
	return err ? err : done;
}

static void *serve_thread(void *arg)
{
	struct al_vhu_remote *r = arg;
	while (!r->quit)
		(void)al_vhu_remote_run(r, 1000);
	return NULL;
}

/* ---- life cycle ------------------------------------------------------------------ */

struct al_vhu_remote *al_vhu_remote_create(const struct al_vhu_remote_config *cfg)
{
	if (!cfg || !cfg->session_start)
		return NULL;
	struct al_vhu_remote *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = *cfg;
	if (!r->cfg.buf.h2r_buf_size)
		r->cfg.buf.h2r_buf_size = RPMSG_BUFFER_SIZE;
	if (!r->cfg.buf.r2h_buf_size)
		r->cfg.buf.r2h_buf_size = RPMSG_BUFFER_SIZE;
	r->call_fd[0] = r->call_fd[1] = -1;
	pthread_mutex_init(&r->call_mu, NULL);
	pthread_mutex_init(&r->stats_mu, NULL);
	al_posix_port_init(&r->port, remote_ring);
	r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	const char *err = NULL;
	struct al_vhu_config vc = {.event = on_vhu_event, .diag = on_vhu_diag, .arg = r};
	r->vhu = r->wake_fd >= 0 ? al_vhu_create(&vc, &err) : NULL;
	if (!r->vhu) {
		al_diagf(AL_DIAG_ERR, "vhost-user remote: %s",
			 err ? err : "eventfd failed or out of memory");
		if (r->wake_fd >= 0)
			close(r->wake_fd);
		al_posix_port_destroy(&r->port);
		pthread_mutex_destroy(&r->call_mu);
		pthread_mutex_destroy(&r->stats_mu);
		free(r);
		return NULL;
	}
	return r;
}

int al_vhu_remote_listen(struct al_vhu_remote *r, const char *path)
{
	if (!r || !path)
		return AL_EINVAL;
	int rc = al_vhu_listen(r->vhu, path);
	if (rc)
		fault(r, AL_VHUR_F_SOCKET, "%s", al_vhu_last_error(r->vhu));
	return rc;
}

void al_vhu_remote_wake(struct al_vhu_remote *r)
{
	uint64_t one = 1;
	if (r && write(r->wake_fd, &one, sizeof(one)) < 0) {
		/* a full counter wakes the loop anyway */
	}
}

int al_vhu_remote_start(struct al_vhu_remote *r)
{
	if (!r)
		return AL_EINVAL;
	if (r->thread_running)
		return AL_ESTATE;
	r->quit = 0;
	if (pthread_create(&r->thread, NULL, serve_thread, r) != 0) {
		fault(r, AL_VHUR_F_THREAD, "pthread_create failed");
		return AL_EINIT;
	}
	r->thread_running = true;
	return 0;
}

void al_vhu_remote_stop(struct al_vhu_remote *r)
{
	if (!r || !r->thread_running)
		return;
	r->quit = 1;
	al_vhu_remote_wake(r);
	pthread_join(r->thread, NULL);
	r->thread_running = false;
}

void al_vhu_remote_destroy(struct al_vhu_remote *r)
{
	if (!r)
		return;
	al_vhu_remote_stop(r);
	tl_serving = r;
	session_stop(r, AL_VHUR_END_SHUTDOWN);
	tl_serving = NULL;
	al_vhu_destroy(r->vhu);
	close_calls(r);
	close(r->wake_fd);
	al_posix_port_destroy(&r->port);
	pthread_mutex_destroy(&r->call_mu);
	pthread_mutex_destroy(&r->stats_mu);
	free(r);
}

void al_vhu_remote_get_stats(struct al_vhu_remote *r, struct al_vhu_remote_stats *out)
{
	if (!r || !out)
		return;
	pthread_mutex_lock(&r->stats_mu);
	*out = r->st;
	pthread_mutex_unlock(&r->stats_mu);
}

struct rpmsg_virtio_device *al_vhu_remote_rvdev(struct al_vhu_remote *r)
{
	return r && r->active ? &r->rvdev : NULL;
}
