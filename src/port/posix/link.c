/* The POSIX link: region, rendezvous, doorbells and the receive thread that
 * plays the interrupt handler (see include/amplink/linux/posix.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "amplink/layout.h"
#include "amplink/linux/diag.h"
#include "amplink/linux/posix.h"
#include "amplink/linux/posix_port.h"
#include "amplink/rsc_table.h"
#include "amplink/virtio_ring.h"
#include "doorbell.h"
#include "rendezvous.h"

#define RX_TICK_MS 100 /* how often an idle receive thread looks at the socket */

struct al_posix_link {
	struct al_posix_cfg cfg;
	char name[64];
	uint32_t allow_uids[16], allow_gids[16]; /* our copy of cfg.allow */
	int memfd;
	uint8_t *mem;
	size_t size;
	struct al_shm shm;
	int lfd, cfd, stop_efd;
	int efd[2]; /* indexed by the receiver's role */
	struct al_doorbell db;
	struct rpmsg_virtio_device rvdev;
	struct virtio_device vdev;
	struct rpmsg_virtio_shm_pool pool;
	struct al_desc_shadow *shadows;
	struct rpmsg_endpoint *buckets[1024]; /* O(1) dispatch by address */
	struct al_posix_port port;	      /* lock, wait/wake, doorbell for the core */
	pthread_t rx_thread, acc_thread;
	bool rx_started, acc_started, up_reported;
	ino_t sock_ino; /* OpenAMP profile remote: the event socket we bound, or 0 */
	int guard;	/* OpenAMP profile: the SIGBUS guard of the mapping, or -1 */
	volatile int stop;
	volatile int down; /* 0, AL_ENOLINK or AL_EBROKEN */
};

/* ---- port ------------------------------------------------------------------- */

static void link_ring(struct al_posix_port *port, uint32_t notifyid)
{
	(void)notifyid; /* one doorbell per direction */
	al_db_ring(&al_container_of(port, struct al_posix_link, port)->db);
}

/* ---- names -------------------------------------------------------------------- */

static const char *const db_names[] = {"eventfd", "futex", "poll", "adaptive", "socket"};

const char *al_doorbell_name(enum al_doorbell_kind kind)
{
	return (unsigned)kind < 5 ? db_names[kind] : "?";
}

int al_doorbell_parse(const char *name)
{
	for (int i = 0; name && i < 4; i++)
		if (strcmp(name, db_names[i]) == 0)
			return i;
	return -1;
}

/* ---- receive thread --------------------------------------------------------- */

static void event(struct al_posix_link *l, int ev, const char *why)
{
	if (l->cfg.event_cb)
		l->cfg.event_cb(l, ev, why, l->cfg.user);
	al_posix_waiter_wake(&l->port.w);
}

static bool peer_gone(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void handle_rc(struct al_posix_link *l, int rc);

/* The OpenAMP profile's file cannot be sealed: anyone who may open it can
 * cut it short. Its size is checked on every wake-up of the receive thread
 * (doorbell or tick) before the rings are touched, and an access that
 * still faults (a cut between the check and the access, or on a sending
 * thread) lands in the guard (al_posix_guard_add) instead of killing us. */
static bool region_lost(struct al_posix_link *l)
{
	if (l->cfg.profile != AL_PROFILE_OPENAMP || l->guard < 0)
		return false;
	struct stat st;
	if (!al_posix_guard_hit(l->guard) && fstat(l->memfd, &st) == 0 &&
	    (uint64_t)st.st_size >= l->size)
		return false;
	al_virtio_peer_lost(&l->rvdev);
	l->down = AL_ENOLINK;
	al_diagf(AL_DIAG_ERR, "link '%s': the shared file %s was cut short under the link", l->name,
		 l->cfg.shm_path);
	event(l, AL_EV_PEER_LOST, "the shared file was cut short (by the peer or another process)");
	return true;
}

static void *rx_main(void *arg)
{
	struct al_posix_link *l = arg;
	bool device = l->cfg.role == VIRTIO_DEV_DEVICE;
	while (!l->stop) {
		bool sock = false;
		int tick = device && !l->up_reported ? 1 : RX_TICK_MS;
		int rang = al_db_wait(&l->db, l->cfd, tick, &sock);
		if (l->stop)
			break;
		if (!l->down && region_lost(l))
			break;
		if (sock && peer_gone(l->cfd)) {
			/* What the peer published before it went is still in
			 * the region (its doorbell may be pending with the
			 * close, or suppressed): deliver all of it first. */
			if (!l->down)
				handle_rc(l, al_virtio_notified(&l->rvdev));
			al_virtio_peer_lost(&l->rvdev);
			l->down = AL_ENOLINK;
			event(l, AL_EV_PEER_LOST, "peer closed the link (process exited or died)");
			break;
		}
		if (l->down)
			continue; /* broken: only watch for the peer going away */
		/* A device also looks at the status byte on idle ticks: the
		 * host's DRIVER_OK doorbell may have come before we listened. */
		if (!rang && !(device && !l->up_reported))
			continue;
		handle_rc(l, al_virtio_notified(&l->rvdev));
	}
	return NULL;
}

static void handle_rc(struct al_posix_link *l, int rc)
{
	if (rc == AL_EBROKEN && !l->down) {
		l->down = AL_EBROKEN;
		/* the check the peer failed, not only "it corrupted memory" */
		const char *why = al_virtio_broken_reason(&l->rvdev);
		al_diagf(AL_DIAG_ERR, "link '%s': broken by the peer: %s", l->name,
			 why ? why : "the peer corrupted shared memory");
		event(l, AL_EV_BROKEN, why);
	} else if (!l->up_reported && al_virtio_link_state(&l->rvdev) == AL_LINK_UP) {
		l->up_reported = true;
		event(l, AL_EV_UP, NULL);
	}
}

/* Remote: refuse every further host while one is served. */
static void *acceptor_main(void *arg)
{
	struct al_posix_link *l = arg;
	for (int fd; (fd = al_posix_accept_or_stop(l->lfd, l->stop_efd)) >= 0;) {
		if (l->cfg.profile == AL_PROFILE_OPENAMP ||	       /* no protocol to say why */
		    al_posix_peer_check(fd, &l->cfg.allow, NULL, 0)) { /* nothing to say */
			close(fd);
			continue;
		}
		/* read the hello first: closing on unread data resets the socket
		 * and the host would never see why it was turned away */
		struct al_hello h;
		int fds[AL_RV_MAX_FDS], nfds;
		(void)al_rv_recv(fd, &h, sizeof(h), fds, &nfds, 1000);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		struct al_welcome w = {.version = AL_RV_VERSION, .status = AL_EPERM};
		memcpy(w.magic, AL_RV_MAGIC, 8);
		if (l->down || peer_gone(l->cfd)) {
			/* the previous host is gone and we are about to start over */
			w.status = AL_EAGAIN;
			snprintf(w.reason, sizeof(w.reason), "remote is resetting, retry");
		} else {
			snprintf(w.reason, sizeof(w.reason),
				 "link '%s' already serves a host (remote pid %d)", l->name,
				 (int)getpid());
		}
		(void)al_rv_send(fd, &w, sizeof(w), NULL, 0);
		close(fd);
	}
	return NULL;
}

/* ---- open / close ------------------------------------------------------------- */

static struct al_posix_link *link_new(const struct al_posix_cfg *cfg)
{
	struct al_posix_link *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->cfg = *cfg;
	snprintf(l->name, sizeof(l->name), "%s", cfg->name ? cfg->name : "amplink");
	l->cfg.name = l->name;
	struct al_peer_policy *a = &l->cfg.allow;
	a->n_uids = a->uids && a->n_uids < 16 ? a->n_uids : a->uids ? 16 : 0;
	a->n_gids = a->gids && a->n_gids < 16 ? a->n_gids : a->gids ? 16 : 0;
	if (a->n_uids)
		memcpy(l->allow_uids, a->uids, a->n_uids * sizeof(uint32_t));
	if (a->n_gids)
		memcpy(l->allow_gids, a->gids, a->n_gids * sizeof(uint32_t));
	a->uids = l->allow_uids;
	a->gids = l->allow_gids;
	if (!l->cfg.connect_timeout_ms)
		l->cfg.connect_timeout_ms = 5000;
	if (!l->cfg.spin_us)
		l->cfg.spin_us =
		    250; /* above this VM's futex wake-up (~50-100 us): see docs/performance.md */
	if (!l->cfg.shm_path)
		l->cfg.shm_path = "/dev/shm/openamp.shm";
	if (!l->cfg.event_path)
		l->cfg.event_path = "/tmp/openamp.event.0";
	if (l->cfg.profile == AL_PROFILE_OPENAMP) {
		l->cfg.doorbell = AL_DB_SOCKET;
		/* no link name in this profile: messages name its socket */
		snprintf(l->name, sizeof(l->name), "openamp:%s", l->cfg.event_path);
		if (!cfg->connect_timeout_ms) /* as OpenAMP's host and remote wait */
			l->cfg.connect_timeout_ms = cfg->role == VIRTIO_DEV_DRIVER
							? AL_OPENAMP_CONNECT_MS
							: AL_WAIT_FOREVER;
	}
	l->memfd = l->lfd = l->cfd = l->stop_efd = l->efd[0] = l->efd[1] = l->guard = -1;
	al_posix_port_init(&l->port, link_ring);
	return l;
}

static int fail(struct al_posix_link *l, int rc, const char *fmt, const char *arg)
{
	char what[512];
	snprintf(what, sizeof(what), fmt, arg);
	al_diagf(AL_DIAG_ERR, "link '%s': %s", l->name, what);
	al_posix_close(l);
	return rc;
}

static void setup_port(struct al_posix_link *l, unsigned role)
{
	l->db.kind = l->cfg.doorbell;
	l->db.me = role;
	l->db.efd_in = l->efd[role];
	l->db.efd_out = l->efd[1 - role];
	l->db.spin_us = l->cfg.spin_us;
	if (l->cfg.doorbell != AL_DB_EVENTFD && l->cfg.doorbell != AL_DB_SOCKET) {
		l->db.ctl = (struct al_db_ctl *)l->mem; /* counters in the control page */
		l->db.seen = __atomic_load_n(&l->db.ctl->db[role], __ATOMIC_ACQUIRE);
	}
	l->vdev.role = role;
	l->vdev.ops = &al_posix_port_ops;
	l->vdev.port_ctx = &l->port;
	l->vdev.features = (1u << VIRTIO_RPMSG_F_NS) | (1u << VIRTIO_RING_F_EVENT_IDX);
}

static int start_threads(struct al_posix_link *l)
{
	(void)al_set_addr_hash(&l->rvdev.rdev, l->buckets, 1024);
	(void)al_set_ns_unbind_cb(&l->rvdev.rdev, l->cfg.ns_unbind_cb);
	if (pthread_create(&l->rx_thread, NULL, rx_main, l) != 0)
		return AL_ENOMEM;
	l->rx_started = true;
	if (l->lfd >= 0) {
		if (pthread_create(&l->acc_thread, NULL, acceptor_main, l) != 0)
			return AL_ENOMEM;
		l->acc_started = true;
	}
	return 0;
}

static bool cancelled(const struct al_posix_link *l)
{
	return l->cfg.cancel && *l->cfg.cancel;
}

/* Wait for a host on the listening socket until the connect timeout
 * (counted from `start`) passes or cfg.cancel is set, in slices so that
 * the flag is seen. The connected socket, or -ETIMEDOUT. */
static int accept_host(struct al_posix_link *l, uint64_t start)
{
	for (;;) {
		uint32_t left = al_posix_left_ms(start, l->cfg.connect_timeout_ms);
		if (!left || cancelled(l))
			return -ETIMEDOUT;
		int fd = al_rv_accept(l->lfd, left < 100 ? (int)left : 100);
		if (fd >= 0)
			return fd;
	}
}

static int open_remote(struct al_posix_link *l)
{
	struct al_layout_cfg lc = {l->cfg.num ? l->cfg.num : 256, 4096,
				   l->cfg.buf_size ? l->cfg.buf_size : RPMSG_BUFFER_SIZE,
				   (1u << VIRTIO_RPMSG_F_NS) | (1u << VIRTIO_RING_F_EVENT_IDX)};
	struct al_layout lay;
	int rc = al_layout_plan(&lc, AL_CTL_PAGE, SIZE_MAX, &lay);
	if (rc)
		return fail(l, AL_EINVAL, "%s", "bad ring size or buffer size");
	l->size = (AL_CTL_PAGE + lay.total + 4095u) & ~(size_t)4095u;
	/* sealed: the host cannot cut it short under us, nor we under it */
	l->memfd = al_posix_sealed_memfd("amplink-shm", l->size);
	if (l->memfd < 0)
		return fail(l, AL_ENOMEM, "cannot create the shared region: %s",
			    strerror(-l->memfd));
	l->mem = mmap(NULL, l->size, PROT_READ | PROT_WRITE, MAP_SHARED, l->memfd, 0);
	if (l->mem == MAP_FAILED) {
		l->mem = NULL;
		return fail(l, AL_ENOMEM, "cannot map the shared region: %s", strerror(errno));
	}
	l->shm = (struct al_shm){l->mem, 0, l->size};
	struct al_db_ctl *ctl = (struct al_db_ctl *)l->mem;
	ctl->magic = AL_CTL_MAGIC;
	ctl->version = AL_CTL_VERSION;
	if (getrandom(&ctl->session, sizeof(ctl->session), 0) != sizeof(ctl->session))
		ctl->session = (uint64_t)getpid() << 32 ^ al_posix_now_ms();
	ctl->rsc_offset = AL_CTL_PAGE;
	ctl->region_size = (uint32_t)l->size;
	al_layout_write_rsc(&l->shm, &lay, &lc); /* what firmware's .resource_table holds */
	if (l->cfg.doorbell == AL_DB_EVENTFD) {
		l->efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		l->efd[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (l->efd[0] < 0 || l->efd[1] < 0)
			return fail(l, AL_ENOMEM, "eventfd: %s", strerror(errno));
	}
	l->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	setup_port(l, VIRTIO_DEV_DEVICE);
	l->vdev.vdev_da = lay.vdev_da;
	l->vdev.num_shadows = 2u * lc.num;
	l->shadows = l->vdev.shadows = calloc(l->vdev.num_shadows, sizeof(*l->shadows));
	if (!l->shadows)
		return fail(l, AL_ENOMEM, "%s", "out of memory");
	struct rpmsg_virtio_config vc = {lc.buf_size, lc.buf_size, false};
	rc =
	    rpmsg_init_vdev_with_config(&l->rvdev, &l->vdev, l->cfg.ns_bind_cb, &l->shm, NULL, &vc);
	if (rc)
		return fail(l, rc, "device init failed: %s", al_strerror(rc));

	l->lfd = al_rv_listen(l->name);
	if (l->lfd == -EADDRINUSE)
		return fail(l, AL_EADDR, "%s", "another remote with this link name is running");
	if (l->lfd < 0)
		return fail(l, AL_EINIT, "cannot listen: %s", strerror(-l->lfd));
	uint64_t start = al_posix_now_ms();
	for (;;) {
		int fd = accept_host(l, start);
		if (fd < 0) { /* not an error to print: callers retry */
			al_posix_close(l);
			return AL_ETIMEDOUT;
		}
		struct al_hello h;
		int fds[AL_RV_MAX_FDS], nfds;
		int n = al_rv_recv(fd, &h, sizeof(h), fds, &nfds, 1000);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		struct al_welcome w = {.version = AL_RV_VERSION};
		memcpy(w.magic, AL_RV_MAGIC, 8);
		char who[160];
		if (al_posix_peer_check(fd, &l->cfg.allow, who, sizeof(who))) {
			al_diagf(AL_DIAG_WARNING,
				 "link '%s': refused a host run by %s: not our user (admit it "
				 "with --allow-uid or --allow-gid)",
				 l->name, who);
			w.status = AL_EPERM;
			snprintf(w.reason, sizeof(w.reason),
				 "this remote admits only its own user (uid %u) and those it "
				 "names",
				 (unsigned)getuid());
			(void)al_rv_send(fd, &w, sizeof(w), NULL, 0);
			close(fd);
			continue;
		}
		w.doorbell = l->cfg.doorbell;
		w.num = lc.num;
		w.buf_size = lc.buf_size;
		w.region_size = (uint32_t)l->size;
		w.session = ctl->session;
		if (n != (int)sizeof(h) || memcmp(h.magic, AL_RV_MAGIC, 8) ||
		    h.version != AL_RV_VERSION) {
			w.status = AL_EINIT;
			snprintf(w.reason, sizeof(w.reason),
				 "bad hello (not an amplink host of version %u)", AL_RV_VERSION);
		} else if (!h.doorbell_any && h.doorbell != w.doorbell) {
			w.status = AL_EINIT;
			snprintf(w.reason, sizeof(w.reason),
				 "doorbell mismatch: remote uses %s, host asked for %s",
				 al_doorbell_name(w.doorbell), al_doorbell_name(h.doorbell));
		} else if ((h.num && h.num != w.num) || (h.buf_size && h.buf_size != w.buf_size)) {
			w.status = AL_EINIT;
			char want[48];
			snprintf(want, sizeof(want), "%u-entry rings of %u-byte buffers",
				 h.num ? h.num : w.num, h.buf_size ? h.buf_size : w.buf_size);
			snprintf(
			    w.reason, sizeof(w.reason),
			    "layout mismatch: remote has %u-entry rings of %u-byte buffers, host "
			    "expects %s",
			    w.num, w.buf_size, want);
		}
		if (w.status) {
			al_diagf(AL_DIAG_WARNING, "link '%s': refused a host: %s", l->name,
				 w.reason);
			(void)al_rv_send(fd, &w, sizeof(w), NULL, 0);
			close(fd);
			continue;
		}
		int out[3] = {l->memfd, l->efd[0], l->efd[1]};
		if (al_rv_send(fd, &w, sizeof(w), out, l->efd[0] >= 0 ? 3 : 1) < 0) {
			close(fd);
			continue;
		}
		l->cfd = fd;
		break;
	}
	return start_threads(l);
}

/* Where the driver's buffer pool starts: after both vrings (validated again
 * by the core; here only to place the pool, overflow-safe). */
static int pool_start(const uint8_t *vd, size_t size, uint64_t *start, uint32_t *nsum)
{
	uint64_t end = 0;
	*nsum = 0;
	for (int i = 0; i < 2; i++) {
		const uint8_t *v = vd + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_SIZE * (unsigned)i;
		uint32_t da, al, num;
		memcpy(&da, v + AL_RSC_VRING_DA, 4);
		memcpy(&al, v + AL_RSC_VRING_ALIGN, 4);
		memcpy(&num, v + AL_RSC_VRING_NUM, 4);
		if (num == 0 || num > AL_VRING_MAX_NUM || al == 0 || al > 0x10000 ||
		    (al & (al - 1)))
			return -1;
		uint64_t e = (uint64_t)da + vring_size(num, al);
		end = e > end ? e : end;
		*nsum += num;
	}
	end = (end + 63u) & ~(uint64_t)63u;
	if (end >= size)
		return -1;
	*start = end;
	return 0;
}

static int open_host_once(struct al_posix_link *l, uint32_t timeout_ms);

/* Connect, retrying while the remote is still resetting after a previous
 * host (it answers AL_EAGAIN then). */
static int open_host(struct al_posix_link *l)
{
	uint64_t start = al_posix_now_ms();
	for (;;) {
		uint32_t left = al_posix_left_ms(start, l->cfg.connect_timeout_ms);
		int rc = open_host_once(l, left ? left : 1);
		if (rc != AL_EAGAIN)
			return rc;
		if (!al_posix_left_ms(start, l->cfg.connect_timeout_ms))
			return fail(l, AL_ETIMEDOUT, "%s", "the remote kept resetting; gave up");
		close(l->cfd);
		l->cfd = -1;
		struct timespec d = {0, 5 * 1000 * 1000};
		nanosleep(&d, NULL);
	}
}

static int open_host_once(struct al_posix_link *l, uint32_t timeout_ms)
{
	l->cfd = al_rv_connect(l->name, (int)timeout_ms);
	if (l->cfd < 0)
		return fail(l, l->cfd == -ETIMEDOUT ? AL_ETIMEDOUT : AL_EINIT,
			    "no remote answered (%s); start `amplink remote` first or together",
			    strerror(-l->cfd));
	/* the listener must be our user (or one we admit) before we trust
	 * the region and doorbells it hands us: anyone can bind the name */
	char who[160];
	if (al_posix_peer_check(l->cfd, &l->cfg.allow, who, sizeof(who)))
		return fail(l, AL_EPERM,
			    "the process listening as the remote runs as %s, not as our user; "
			    "refused (admit it with --allow-uid or --allow-gid)",
			    who);
	struct al_hello h = {.version = AL_RV_VERSION,
			     .doorbell = l->cfg.doorbell,
			     .doorbell_any = l->cfg.doorbell_any,
			     .num = l->cfg.num,
			     .buf_size = l->cfg.buf_size};
	memcpy(h.magic, AL_RV_MAGIC, 8);
	int sent = al_rv_send(l->cfd, &h, sizeof(h), NULL, 0);
	if (sent < 0) {
		/* queued on a listening socket the remote then closed to start
		 * over for the next host: it will listen again in a moment */
		if (sent == -ECONNRESET || sent == -EPIPE)
			return AL_EAGAIN;
		return fail(l, AL_EINIT, "cannot talk to the remote: %s", strerror(-sent));
	}
	struct al_welcome w;
	int fds[AL_RV_MAX_FDS], nfds = 0;
	int n = al_rv_recv(l->cfd, &w, sizeof(w), fds, &nfds, (int)timeout_ms);
	if (nfds > 0)
		l->memfd = fds[0];
	if (nfds == 3) {
		l->efd[0] = fds[1];
		l->efd[1] = fds[2];
	} else {
		for (int i = 1; i < nfds; i++)
			close(fds[i]);
	}
	if (n <= 0 && n != -ETIMEDOUT) /* reset or closed mid-handshake: the remote is restarting */
		return AL_EAGAIN;
	if (n != (int)sizeof(w) || memcmp(w.magic, AL_RV_MAGIC, 8) || w.version != AL_RV_VERSION)
		return fail(l, AL_EINIT, "%s", "the remote's answer is not an amplink welcome");
	w.reason[sizeof(w.reason) - 1] = '\0';
	if (w.status == AL_EAGAIN)
		return AL_EAGAIN;
	if (w.status)
		return fail(l, w.status, "refused by the remote: %s", w.reason);
	if (w.doorbell > AL_DB_ADAPTIVE || (w.doorbell == AL_DB_EVENTFD && nfds != 3) || nfds < 1)
		return fail(l, AL_EINIT, "%s", "the remote sent an unusable doorbell or region");
	l->cfg.doorbell = (enum al_doorbell_kind)w.doorbell;
	struct stat st;
	if (fstat(l->memfd, &st) < 0 || (uint64_t)st.st_size != w.region_size ||
	    w.region_size < 2 * AL_CTL_PAGE)
		return fail(l, AL_EINIT, "%s", "shared region size does not match the welcome");
	if (!al_posix_region_sealed(l->memfd))
		return fail(l, AL_EINIT, "%s",
			    "the remote's shared region is not sealed against resizing (it could "
			    "be cut short under us); refused");
	l->size = w.region_size;
	l->mem = mmap(NULL, l->size, PROT_READ | PROT_WRITE, MAP_SHARED, l->memfd, 0);
	if (l->mem == MAP_FAILED) {
		l->mem = NULL;
		return fail(l, AL_ENOMEM, "cannot map the shared region: %s", strerror(errno));
	}
	l->shm = (struct al_shm){l->mem, 0, l->size};
	struct al_db_ctl *ctl = (struct al_db_ctl *)l->mem;
	uint32_t rsc_off = __atomic_load_n(&ctl->rsc_offset, __ATOMIC_RELAXED);
	if (ctl->magic != AL_CTL_MAGIC || rsc_off < sizeof(*ctl) || rsc_off >= l->size)
		return fail(l, AL_EINIT, "%s", "the region's control page is not amplink's");
	size_t voff;
	const char *why = NULL;
	size_t rlen = l->size - rsc_off < 4096 ? l->size - rsc_off : 4096;
	int rc = al_rsc_find_vdev(l->mem + rsc_off, rlen, &voff, &why);
	if (rc)
		return fail(l, AL_EINIT, "bad resource table: %s", why);
	uint64_t pstart;
	uint32_t nsum;
	if (pool_start(l->mem + rsc_off + voff, l->size, &pstart, &nsum))
		return fail(l, AL_EINIT, "%s", "vrings do not fit the shared region");
	setup_port(l, VIRTIO_DEV_DRIVER);
	l->vdev.vdev_da = rsc_off + voff;
	l->vdev.num_shadows = nsum;
	l->shadows = l->vdev.shadows = calloc(nsum, sizeof(*l->shadows));
	if (!l->shadows)
		return fail(l, AL_ENOMEM, "%s", "out of memory");
	rpmsg_virtio_init_shm_pool(&l->pool, l->mem + pstart, l->size - pstart);
	struct rpmsg_virtio_config vc = {w.buf_size, w.buf_size, false};
	rc = rpmsg_init_vdev_with_config(&l->rvdev, &l->vdev, l->cfg.ns_bind_cb, &l->shm, &l->pool,
					 &vc);
	if (rc)
		return fail(l, rc, "link set-up failed: %s",
			    al_virtio_broken_reason(&l->rvdev) ? al_virtio_broken_reason(&l->rvdev)
							       : al_strerror(rc));
	l->up_reported = true;
	rc = start_threads(l);
	event(l, AL_EV_UP, NULL);
	return rc;
}

/* ---- OpenAMP profile ---------------------------------------------------------
 * The layout of OpenAMP's Linux user-space reference machine, fixed by its
 * sources and reproduced here so that either side may be OpenAMP. */
#define OA_SHM_SIZE    0x80000u
#define OA_VRING0      0x4000u
#define OA_VRING1      0x8000u
#define OA_VRING_ALIGN 0x1000u
#define OA_VRING_NUM   256u
#define OA_BUF_BASE    0x10000u
#define OA_BUF_SIZE    0x40000u

/* Whether a file of the profile (what lstat/fstat said) may be trusted: a
 * regular file or socket (not a symbolic link), owned by us or a user we
 * admit, with no permission for anyone but its owner. Fills `why`. */
static bool file_trusted(const struct al_posix_link *l, const char *path, const struct stat *st,
			 mode_t type, char *why, size_t n)
{
	const struct al_peer_policy *a = &l->cfg.allow;
	bool owner_ok = st->st_uid == getuid();
	for (unsigned i = 0; i < a->n_uids && !owner_ok; i++)
		owner_ok = st->st_uid == a->uids[i];
	if (S_ISLNK(st->st_mode))
		snprintf(why, n, "%s is a symbolic link; refused", path);
	else if ((st->st_mode & S_IFMT) != type)
		snprintf(why, n, "%s is not a %s; refused", path,
			 type == S_IFSOCK ? "socket" : "regular file");
	else if (!owner_ok)
		snprintf(why, n, "%s is owned by uid %u, not by us (uid %u); refused", path,
			 (unsigned)st->st_uid, (unsigned)getuid());
	else if (type == S_IFREG && (st->st_mode & 077))
		snprintf(why, n,
			 "%s has mode 0%03o: others may read or write it, where only its owner "
			 "should (chmod 600); refused",
			 path, (unsigned)(st->st_mode & 0777));
	else
		return true;
	return false;
}

/* The shared file: the remote opens it as it is, creating it if absent
 * and growing it to the profile's size (as OpenAMP's both sides do:
 * shm_open with O_CREAT, then ftruncate if smaller), never replacing it:
 * an OpenAMP host maps the file before it connects and must stay on the
 * live one. The host opens what is there. Neither follows a symbolic
 * link nor uses a file another user owns or may open. */
static int map_file(struct al_posix_link *l, int flags, char *why, size_t n)
{
	struct stat st;
	snprintf(why, n, "%s", "");
	l->memfd = open(l->cfg.shm_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | flags, 0600);
	if (l->memfd < 0 && errno == ELOOP)
		snprintf(why, n, "%s is a symbolic link; refused", l->cfg.shm_path);
	if (l->memfd < 0)
		return -errno;
	if (fstat(l->memfd, &st) < 0)
		return -errno;
	if (!file_trusted(l, l->cfg.shm_path, &st, S_IFREG, why, n))
		return -EPERM;
	if ((flags & O_CREAT) && (uint64_t)st.st_size < OA_SHM_SIZE &&
	    ftruncate(l->memfd, OA_SHM_SIZE) < 0)
		return -errno;
	if (fstat(l->memfd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size < OA_BUF_BASE + OA_BUF_SIZE)
		return -EAGAIN; /* not sized yet by its creator */
	l->size = OA_SHM_SIZE;
	l->mem = mmap(NULL, l->size, PROT_READ | PROT_WRITE, MAP_SHARED, l->memfd, 0);
	if (l->mem == MAP_FAILED) {
		l->mem = NULL;
		return -errno;
	}
	l->shm = (struct al_shm){l->mem, 0, l->size}; /* offsets are device addresses */
	l->guard = al_posix_guard_add(l->mem, l->size);
	return l->guard < 0 ? l->guard : 0;
}

/* The event socket, bound afresh as OpenAMP's remote does (a socket file
 * left by an earlier run of ours is removed first). */
static int listen_event(struct al_posix_link *l, char *why, size_t n)
{
	struct stat st;
	if (lstat(l->cfg.event_path, &st) == 0) {
		if (!file_trusted(l, l->cfg.event_path, &st, S_IFSOCK, why, n))
			return AL_EPERM;
		unlink(l->cfg.event_path);
	}
	l->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", l->cfg.event_path);
	if (l->lfd < 0 || bind(l->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    chmod(l->cfg.event_path, 0600) < 0 || lstat(l->cfg.event_path, &st) < 0 ||
	    listen(l->lfd, 2) < 0) {
		snprintf(why, n, "cannot listen on the event socket %s: %s", l->cfg.event_path,
			 strerror(errno));
		return AL_EINIT;
	}
	l->sock_ino = st.st_ino;
	return 0;
}

static int open_remote_openamp(struct al_posix_link *l)
{
	char why[400];
	int e = map_file(l, O_CREAT, why, sizeof(why));
	if (e && why[0])
		return fail(l, AL_EINIT, "%s", why);
	if (e)
		return fail(l, AL_EINIT, "cannot open the shared file: %s", strerror(-e));
	memset(l->mem, 0, l->size); /* never trust what a previous run left */
	const struct al_rsc_table_rpmsg t = AL_RSC_TABLE_RPMSG_INIT(
	    OA_VRING0, OA_VRING1, OA_VRING_NUM, OA_VRING_ALIGN, 1u << VIRTIO_RPMSG_F_NS);
	memcpy(l->mem, &t, sizeof(t));
	((struct al_rsc_table_rpmsg *)(void *)l->mem)->vring[0].notifyid = 1;
	((struct al_rsc_table_rpmsg *)(void *)l->mem)->vring[1].notifyid = 2;
	setup_port(l, VIRTIO_DEV_DEVICE);
	l->vdev.features = 1u << VIRTIO_RPMSG_F_NS;
	l->vdev.vdev_da = offsetof(struct al_rsc_table_rpmsg, vdev);
	l->vdev.num_shadows = 2u * OA_VRING_NUM;
	l->shadows = l->vdev.shadows = calloc(l->vdev.num_shadows, sizeof(*l->shadows));
	if (!l->shadows)
		return fail(l, AL_ENOMEM, "%s", "out of memory");
	int rc = rpmsg_init_vdev(&l->rvdev, &l->vdev, l->cfg.ns_bind_cb, &l->shm, NULL);
	if (rc)
		return fail(l, rc, "device init failed: %s", al_strerror(rc));
	rc = listen_event(l, why, sizeof(why));
	if (rc)
		return fail(l, rc, "%s", why);
	l->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t start = al_posix_now_ms();
	for (;;) {
		l->cfd = accept_host(l, start);
		if (l->cfd < 0) { /* not an error to print: callers retry */
			al_posix_close(l);
			return AL_ETIMEDOUT;
		}
		char who[160];
		if (!al_posix_peer_check(l->cfd, &l->cfg.allow, who, sizeof(who)))
			break;
		al_diagf(AL_DIAG_WARNING,
			 "link '%s': refused a host run by %s: not our user (admit it with "
			 "--allow-uid or --allow-gid)",
			 l->name, who);
		close(l->cfd); /* no protocol to say why */
	}
	/* One host at a time, as OpenAMP's remote: stop listening, so that a
	 * further host is refused at connect() and retries (an OpenAMP host
	 * that got in would start writing the rings of this session). */
	close(l->lfd);
	l->lfd = -1;
	l->db.efd_in = l->db.efd_out = l->cfd;
	return start_threads(l);
}

static int open_host_openamp(struct al_posix_link *l)
{
	uint64_t start = al_posix_now_ms();
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", l->cfg.event_path);
	for (;;) { /* the remote may not be there yet */
		struct stat st;
		char why[400];
		if (lstat(l->cfg.event_path, &st) == 0 &&
		    !file_trusted(l, l->cfg.event_path, &st, S_IFSOCK, why, sizeof(why)))
			return fail(l, AL_EINIT, "%s", why);
		l->cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (l->cfd >= 0 && connect(l->cfd, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		if (l->cfd >= 0)
			close(l->cfd);
		l->cfd = -1;
		if (!al_posix_left_ms(start, l->cfg.connect_timeout_ms) || cancelled(l))
			return fail(l, AL_ETIMEDOUT, "no remote listens on %s", l->cfg.event_path);
		struct timespec d = {0, 2 * 1000 * 1000};
		nanosleep(&d, NULL);
	}
	char who[160];
	if (al_posix_peer_check(l->cfd, &l->cfg.allow, who, sizeof(who)))
		return fail(l, AL_EPERM,
			    "the process listening as the remote runs as %s, not as our user; "
			    "refused (admit it with --allow-uid or --allow-gid)",
			    who);
	char fwhy[400];
	int e = map_file(l, 0, fwhy, sizeof(fwhy));
	if (e && fwhy[0])
		return fail(l, AL_EINIT, "%s", fwhy);
	if (e)
		return fail(l, AL_EINIT, "cannot map the shared file: %s", strerror(-e));
	size_t voff;
	const char *why = NULL;
	int rc = al_rsc_find_vdev(l->mem, OA_VRING0, &voff, &why);
	if (rc)
		return fail(l, AL_EINIT, "bad resource table: %s", why);
	uint64_t pstart;
	uint32_t nsum;
	if (pool_start(l->mem + voff, OA_BUF_BASE, &pstart, &nsum))
		return fail(l, AL_EINIT, "%s", "vrings do not fit below the buffer area");
	setup_port(l, VIRTIO_DEV_DRIVER);
	l->db.efd_in = l->db.efd_out = l->cfd;
	l->vdev.vdev_da = voff;
	l->vdev.num_shadows = nsum;
	l->shadows = l->vdev.shadows = calloc(nsum, sizeof(*l->shadows));
	if (!l->shadows)
		return fail(l, AL_ENOMEM, "%s", "out of memory");
	rpmsg_virtio_init_shm_pool(&l->pool, l->mem + OA_BUF_BASE, OA_BUF_SIZE);
	rc = rpmsg_init_vdev(&l->rvdev, &l->vdev, l->cfg.ns_bind_cb, &l->shm, &l->pool);
	if (rc)
		return fail(l, rc, "link set-up failed: %s",
			    al_virtio_broken_reason(&l->rvdev) ? al_virtio_broken_reason(&l->rvdev)
							       : al_strerror(rc));
	l->up_reported = true;
	rc = start_threads(l);
	event(l, AL_EV_UP, NULL);
	return rc;
}

int al_posix_open(const struct al_posix_cfg *cfg, struct al_posix_link **out)
{
	if (!cfg || !out || cfg->role > VIRTIO_DEV_DEVICE ||
	    (unsigned)cfg->doorbell > AL_DB_ADAPTIVE || (unsigned)cfg->profile > AL_PROFILE_OPENAMP)
		return AL_EINVAL;
	*out = NULL;
	if (cfg->name && strlen(cfg->name) >= sizeof(((struct al_posix_link *)0)->name)) {
		al_diagf(AL_DIAG_ERR, "link name '%.20s...' is %zu characters long; at most %zu",
			 cfg->name, strlen(cfg->name),
			 sizeof(((struct al_posix_link *)0)->name) - 1);
		return AL_EINVAL;
	}
	if (cfg->profile == AL_PROFILE_OPENAMP &&
	    ((cfg->num && cfg->num != OA_VRING_NUM) || (cfg->buf_size && cfg->buf_size != 512))) {
		al_diagf(AL_DIAG_ERR,
			 "the OpenAMP profile's layout fixes %u-entry vrings of 512-byte buffers; "
			 "%u entries of %u bytes refused",
			 OA_VRING_NUM, cfg->num ? cfg->num : OA_VRING_NUM,
			 cfg->buf_size ? cfg->buf_size : 512);
		return AL_EINVAL;
	}
	struct al_posix_link *l = link_new(cfg);
	if (!l)
		return AL_ENOMEM;
	int rc;
	if (cfg->profile == AL_PROFILE_OPENAMP)
		rc = cfg->role == VIRTIO_DEV_DEVICE ? open_remote_openamp(l) : open_host_openamp(l);
	else
		rc = cfg->role == VIRTIO_DEV_DEVICE ? open_remote(l) : open_host(l);
	if (rc == 0)
		*out = l;
	return rc;
}

static int wait_for(struct al_posix_link *l, uint32_t timeout_ms, bool want_up)
{
	uint64_t start = al_posix_now_ms();
	for (;;) {
		if (l->down)
			return l->down;
		if (want_up && al_virtio_link_state(&l->rvdev) == AL_LINK_UP)
			return 0;
		uint32_t left = al_posix_left_ms(start, timeout_ms);
		if (!left)
			return AL_ETIMEDOUT;
		al_posix_waiter_wait(&l->port.w, left < 50 ? left : 50);
	}
}

int al_posix_wait_up(struct al_posix_link *l, uint32_t timeout_ms)
{
	return l ? wait_for(l, timeout_ms, true) : AL_EINVAL;
}

int al_posix_wait_down(struct al_posix_link *l, uint32_t timeout_ms)
{
	return l ? wait_for(l, timeout_ms, false) : AL_EINVAL;
}

struct rpmsg_device *al_posix_rdev(struct al_posix_link *l)
{
	return l ? &l->rvdev.rdev : NULL;
}

struct rpmsg_virtio_device *al_posix_rvdev(struct al_posix_link *l)
{
	return l ? &l->rvdev : NULL;
}

void al_posix_close(struct al_posix_link *l)
{
	if (!l)
		return;
	l->stop = 1;
	if (l->rx_started) {
		al_db_kick_self(&l->db);
		pthread_join(l->rx_thread, NULL);
	}
	if (l->acc_started) {
		uint64_t one = 1;
		ssize_t n = write(l->stop_efd, &one, sizeof(one));
		(void)n;
		pthread_join(l->acc_thread, NULL);
	}
	if (l->rvdev.ops)
		rpmsg_deinit_vdev(&l->rvdev);
	if (l->guard >= 0)
		al_posix_guard_remove(l->guard);
	if (l->mem)
		munmap(l->mem, l->size);
	int fds[] = {l->memfd, l->lfd, l->cfd, l->stop_efd, l->efd[0], l->efd[1]};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	struct stat st; /* our socket, unless another process bound the path since */
	if (l->sock_ino && lstat(l->cfg.event_path, &st) == 0 && st.st_ino == l->sock_ino)
		unlink(l->cfg.event_path);
	free(l->shadows);
	al_posix_port_destroy(&l->port);
	free(l);
}
