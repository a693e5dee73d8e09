/* Security and robustness of the POSIX link between two real processes:
 * what a peer may do to the other side (or a third local process to both)
 * and what each side must survive or refuse.
 *
 *   drain_before_lost   a remote that sends N messages and exits at once:
 *                       the host receives all N before it calls the link
 *                       lost (the host is stopped while the remote sends
 *                       and exits, so both events wait for it together).
 *
 *   region_sealed       the region a remote hands out cannot be resized by
 *                       the host (nor by anyone it passes it to).
 *   refuse_unsealed     a host refuses a region that is not sealed, with a
 *                       sentence (a fake remote hands one out).
 *   fw_refuses_unsealed a firmware started by the rproc manager refuses an
 *                       unsealed region.
 *   openamp_cut_short   the OpenAMP profile's file, which cannot be sealed,
 *                       cut to nothing under a running link: both sides
 *                       live on and call the link lost.
 *   other_user_refused  a remote refuses a host run by another user (created
 *                       with useradd for the test), says who, and serves
 *                       its own user's host next.
 *   allow_uid_admits    an explicit allow list admits that user.
 *   posing_listener     a host refuses a listener of another user that took
 *                       the link's name first.
 *   oa_refuses_symlink  the OpenAMP profile's files: a symbolic link in place
 *   oa_refuses_foreign  of the shared file, a file another user owns, one
 *   oa_refuses_wide_mode others may open: refused with a sentence.
 *   ns_flood            a remote announces 80,000 distinct names, then
 *                       withdraws 100: the host's directory stays bounded,
 *                       says so once, honours the withdrawals, and the
 *                       whole flood takes seconds, not minutes.
 *   broken_names_check  a remote that corrupts a ring index: the host's
 *                       diagnostics name the check it failed.
 *   rproc_ctl           the rproc manager's control socket: ten idle clients
 *                       do not stall a status request, and another user's
 *                       client is refused (and named in the log).
 *   rproc_posing_manager  `amplink rproc status` does not believe a process
 *                       of another user that took the manager's name.
 *   long_link_name      a link name over 63 characters is refused (library
 *                       and `amplink remote --link`), and so are --ticker
 *                       and --sink names over 31.
 *
 * Each test forks its peer; the remote part runs in the child. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "amplink/linux/channel.h"
#include "amplink/linux/diag.h"
#include "amplink/linux/posix.h"
#include "amplink/linux/rproc.h"
#include "amplink/linux/rproc_fw.h"
#include "amplink/rpmsg.h"
#include "doorbell.h"
#include "it_common.h"
#include "rendezvous.h"

#define REMOTE_ADDR 0x600u
#define HOST_ADDR   0x601u

static char link_name[64];
static const char *amplink;  /* the amplink tool */
static const char *firmware; /* rproc_fw_demo, or NULL */

static void new_link_name(const char *what)
{
	static unsigned seq;
	snprintf(link_name, sizeof(link_name), "itsec-%s-%d-%u", what, (int)getpid(), seq++);
}

/* Diagnostics collected for the assertions (and echoed to stderr). */
static char diag_log[8192];
static pthread_mutex_t diag_mu = PTHREAD_MUTEX_INITIALIZER;

static void diag_hook(int level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	pthread_mutex_lock(&diag_mu);
	size_t n = strlen(diag_log);
	snprintf(diag_log + n, sizeof(diag_log) - n, "%s\n", msg);
	pthread_mutex_unlock(&diag_mu);
	fprintf(stderr, "  diag: %s\n", msg);
}

static bool diag_has(const char *s)
{
	pthread_mutex_lock(&diag_mu);
	bool r = strstr(diag_log, s) != NULL;
	pthread_mutex_unlock(&diag_mu);
	return r;
}

static int reap(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- drain before lost ---------------------------------------------------- */

#define DRAIN_N 200u

static volatile unsigned drain_got, drain_bad;
static volatile int drain_go;

static int drain_host_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)e;
	(void)src;
	(void)priv;
	uint32_t i;
	if (len != sizeof(i)) {
		drain_bad++;
		return 0;
	}
	memcpy(&i, data, sizeof(i));
	if (i != drain_got)
		drain_bad++;
	drain_got++;
	return 0;
}

static int drain_remote_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src,
			   void *priv)
{
	(void)e;
	(void)data;
	(void)len;
	(void)src;
	(void)priv;
	drain_go = 1;
	return 0;
}

/* Wait until every thread of `pid` is stopped (a stop is asynchronous). */
static bool wait_stopped(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "r");
		bool stopped = false;
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "State:", 6) == 0)
				stopped = strchr(line, 'T') != NULL;
		if (f)
			fclose(f);
		if (stopped)
			return true;
		usleep(1000);
	}
	return false;
}

static void drain_remote(void)
{
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DEVICE, "it_security");
	struct rpmsg_endpoint ept;
	if (rpmsg_create_ept(&ept, al_posix_rdev(l), NULL, REMOTE_ADDR, HOST_ADDR, drain_remote_cb,
			     NULL) ||
	    al_posix_wait_up(l, 10000))
		_exit(3);
	uint64_t t0 = it_now_ms();
	while (!drain_go && it_now_ms() - t0 < 10000)
		usleep(1000);
	if (!drain_go)
		_exit(4);
	/* Stop the host, send everything, exit. A helper that holds nothing
	 * of the link lets the host go on once we are gone: it waits for EOF
	 * on a pipe whose write end we hold at the highest descriptor (closed
	 * last when we exit). */
	int p[2];
	if (pipe(p))
		_exit(5);
	int hi = dup2(p[1], 1000);
	close(p[1]);
	pid_t host = getppid();
	pid_t helper = fork();
	if (helper == 0) {
		dup2(p[0], 3);
		syscall(SYS_close_range, 4u, ~0u, 0u);
		char c;
		while (read(3, &c, 1) > 0)
			;
		usleep(50 * 1000);
		kill(host, SIGCONT);
		_exit(0);
	}
	close(p[0]);
	(void)hi;
	kill(host, SIGSTOP);
	if (!wait_stopped(host))
		_exit(7);
	for (uint32_t i = 0; i < DRAIN_N; i++)
		if (rpmsg_sendto(&ept, &i, sizeof(i), HOST_ADDR) < 0)
			_exit(6);
	_exit(0); /* at once: no close, no goodbye */
}

static void drain_before_lost(void **state)
{
	(void)state;
	new_link_name("drain");
	drain_got = drain_bad = 0;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		drain_remote();
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DRIVER, "it_security");
	struct rpmsg_endpoint ept;
	assert_int_equal(rpmsg_create_ept(&ept, al_posix_rdev(l), NULL, HOST_ADDR, REMOTE_ADDR,
					  drain_host_cb, NULL),
			 0);
	/* "go" until the remote has it (its endpoint may not exist yet) */
	uint32_t go = 0;
	int rc;
	uint64_t t0 = it_now_ms();
	while ((rc = al_posix_wait_down(l, 50)) == AL_ETIMEDOUT && it_now_ms() - t0 < 20000)
		if (!drain_got)
			(void)rpmsg_sendto(&ept, &go, sizeof(go), REMOTE_ADDR);
	fprintf(stderr, "  drain: the host received %u of %u before the link was lost (%s)\n",
		drain_got, DRAIN_N, al_strerror(rc));
	assert_int_equal(rc, AL_ENOLINK);
	assert_int_equal(reap(pid), 0);
	assert_int_equal(drain_bad, 0);
	assert_int_equal(drain_got, DRAIN_N);
	rpmsg_destroy_ept(&ept);
	al_posix_close(l);
}

/* ---- sealed regions ------------------------------------------------------- */

static void idle_remote(void)
{
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DEVICE, "it_security");
	int rc = al_posix_wait_down(l, 20000);
	al_posix_close(l);
	_exit(rc == AL_ENOLINK ? 0 : 10);
}

/* The descriptor of this process whose target starts with `prefix`. */
static int find_fd(const char *prefix)
{
	for (int fd = 3; fd < 1024; fd++) {
		char p[64], t[256];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(p, t, sizeof(t) - 1);
		if (n <= 0)
			continue;
		t[n] = '\0';
		if (strncmp(t, prefix, strlen(prefix)) == 0)
			return fd;
	}
	return -1;
}

static void region_sealed(void **state)
{
	(void)state;
	new_link_name("seal");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		idle_remote();
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DRIVER, "it_security");
	int fd = find_fd("/memfd:amplink-shm");
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	errno = 0;
	int shrink = ftruncate(fd, 4096);
	fprintf(stderr, "  seal: shrinking the region from the host: %s\n",
		shrink ? strerror(errno) : "it worked");
	assert_int_equal(shrink, -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, st.st_size * 2), -1);
	al_posix_close(l);
	assert_int_equal(reap(pid), 0);
}

/* A remote that answers with an unsealed region, otherwise well-formed. */
static void unsealed_remote(int ready)
{
	int lfd = al_rv_listen(link_name);
	if (lfd < 0)
		_exit(20);
	if (write(ready, "r", 1) != 1)
		_exit(21);
	int fd = al_rv_accept(lfd, 10000);
	if (fd < 0)
		_exit(22);
	struct al_hello h;
	int fds[AL_RV_MAX_FDS], nfds;
	(void)al_rv_recv(fd, &h, sizeof(h), fds, &nfds, 5000);
	size_t size = 64 * 1024;
	int mfd = memfd_create("not-sealed", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, (off_t)size) < 0)
		_exit(23);
	struct al_db_ctl ctl = {.magic = AL_CTL_MAGIC, .version = AL_CTL_VERSION};
	ctl.rsc_offset = AL_CTL_PAGE;
	ctl.region_size = (uint32_t)size;
	if (pwrite(mfd, &ctl, sizeof(ctl), 0) != (ssize_t)sizeof(ctl))
		_exit(24);
	struct al_welcome w = {.version = AL_RV_VERSION, .doorbell = AL_DB_FUTEX};
	memcpy(w.magic, AL_RV_MAGIC, 8);
	w.num = 256;
	w.buf_size = 512;
	w.region_size = (uint32_t)size;
	if (al_rv_send(fd, &w, sizeof(w), &mfd, 1) < 0)
		_exit(25);
	char c;
	(void)al_rv_recv(fd, &c, 1, fds, &nfds, 5000); /* until the host hangs up */
	_exit(0);
}

static void refuse_unsealed(void **state)
{
	(void)state;
	new_link_name("unsealed");
	diag_log[0] = '\0';
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		unsealed_remote(p[1]);
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	close(p[1]);
	struct al_posix_cfg cfg = {.name = link_name,
				   .role = VIRTIO_DEV_DRIVER,
				   .doorbell_any = true,
				   .connect_timeout_ms = 5000};
	struct al_posix_link *l = NULL;
	int rc = al_posix_open(&cfg, &l);
	assert_int_equal(rc, AL_EINIT);
	assert_null(l);
	assert_true(diag_has("not sealed"));
	assert_int_equal(reap(pid), 0);
}

static void fw_refuses_unsealed(void **state)
{
	(void)state;
	diag_log[0] = '\0';
	int mfd = memfd_create("not-sealed", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 64 * 1024), 0);
	int e1 = eventfd(0, EFD_CLOEXEC), e2 = eventfd(0, EFD_CLOEXEC);
	char env[64];
	snprintf(env, sizeof(env), "%d,%d,%d", mfd, e1, e2);
	setenv(AL_RPROC_ENV, env, 1);
	struct al_rproc_fw *fw = NULL;
	assert_int_equal(al_rproc_fw_open(&fw), AL_EINIT);
	unsetenv(AL_RPROC_ENV);
	assert_true(diag_has("not sealed"));
}

/* ---- the OpenAMP profile's file cut short ---------------------------------- */

static char oa_dir[40], oa_shm[64], oa_ev[64];

static struct al_posix_link *oa_open(unsigned role)
{
	struct al_posix_cfg c = {.name = link_name,
				 .role = role,
				 .profile = AL_PROFILE_OPENAMP,
				 .shm_path = oa_shm,
				 .event_path = oa_ev,
				 .connect_timeout_ms = 10000};
	struct al_posix_link *l = NULL;
	if (al_posix_open(&c, &l))
		_exit(30);
	return l;
}

static int oa_echo_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	(void)rpmsg_sendto(e, data, (int)len, src);
	return 0;
}

static void openamp_cut_short(void **state)
{
	(void)state;
	new_link_name("oa");
	snprintf(oa_dir, sizeof(oa_dir), "/tmp/itsec-oa-XXXXXX");
	assert_non_null(mkdtemp(oa_dir));
	snprintf(oa_shm, sizeof(oa_shm), "%s/openamp.shm", oa_dir);
	snprintf(oa_ev, sizeof(oa_ev), "%s/openamp.event", oa_dir);
	pid_t remote = fork();
	assert_true(remote >= 0);
	if (remote == 0) {
		struct al_posix_link *l = oa_open(VIRTIO_DEV_DEVICE);
		struct rpmsg_endpoint e;
		if (rpmsg_create_ept(&e, al_posix_rdev(l), NULL, REMOTE_ADDR, HOST_ADDR, oa_echo_cb,
				     NULL))
			_exit(31);
		int rc = al_posix_wait_down(l, 20000);
		fprintf(stderr, "  openamp remote: %s\n", al_strerror(rc));
		_exit(rc == AL_ENOLINK ? 0 : 32);
	}
	pid_t host = fork();
	assert_true(host >= 0);
	if (host == 0) {
		struct al_posix_link *l = oa_open(VIRTIO_DEV_DRIVER);
		struct rpmsg_endpoint e;
		if (rpmsg_create_ept(&e, al_posix_rdev(l), NULL, HOST_ADDR, REMOTE_ADDR, oa_echo_cb,
				     NULL))
			_exit(33);
		/* anyone who may open the file cuts it to nothing */
		if (truncate(oa_shm, 0))
			_exit(34);
		char msg[64] = "after the cut";
		(void)rpmsg_sendto(&e, msg, sizeof(msg), REMOTE_ADDR);
		int rc = al_posix_wait_down(l, 10000);
		fprintf(stderr, "  openamp host: %s\n", al_strerror(rc));
		al_posix_close(l);
		_exit(rc == AL_ENOLINK ? 0 : 35);
	}
	int hs = reap(host), rs = reap(remote);
	fprintf(stderr, "  openamp: host exit %d, remote exit %d (128+%d is SIGBUS)\n", hs, rs,
		SIGBUS);
	unlink(oa_shm);
	unlink(oa_ev);
	rmdir(oa_dir);
	assert_int_equal(hs, 0);
	assert_int_equal(rs, 0);
}

/* ---- peer credentials ------------------------------------------------------ */

static char other_name[32];
static pid_t user_owner; /* the process that made the user removes it */
static void drop_other_user(void);
static uid_t other_uid;
static gid_t other_gid;

static void make_other_user(void)
{
	if (getuid() != 0)
		return;
	snprintf(other_name, sizeof(other_name), "alsec%d", (int)getpid() % 100000);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "useradd -M -U -s /usr/sbin/nologin %s >/dev/null 2>&1",
		 other_name);
	struct passwd *pw = system(cmd) == 0 ? getpwnam(other_name) : NULL;
	if (!pw) {
		other_name[0] = '\0';
		return;
	}
	other_uid = pw->pw_uid;
	other_gid = pw->pw_gid;
	user_owner = getpid();
	atexit(drop_other_user); /* also when a test aborts the run */
}

static void drop_other_user(void)
{
	if (!other_name[0] || getpid() != user_owner)
		return;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "userdel %s >/dev/null 2>&1; groupdel %s >/dev/null 2>&1",
		 other_name, other_name);
	if (system(cmd)) {
	}
	other_name[0] = '\0';
}

static void become_other(void)
{
	if (setgroups(0, NULL) || setgid(other_gid) || setuid(other_uid))
		_exit(40);
}

/* A host in a child, as the other user or as us, after `wait_fd` reads EOF
 * (-1: at once); exits 0 when al_posix_open returned `want`. */
static _Noreturn void host_body(bool other, const uint32_t *allow_uid, int want, int wait_fd)
{
	char ch;
	while (wait_fd >= 0 && read(wait_fd, &ch, 1) > 0)
		;
	if (other)
		become_other();
	struct al_posix_cfg c = {.name = link_name,
				 .role = VIRTIO_DEV_DRIVER,
				 .doorbell_any = true,
				 .connect_timeout_ms = 10000};
	if (allow_uid) {
		c.allow.uids = allow_uid;
		c.allow.n_uids = 1;
	}
	struct al_posix_link *l = NULL;
	int rc = al_posix_open(&c, &l);
	fprintf(stderr, "  host (%s): %s\n", other ? other_name : "us", al_strerror(rc));
	al_posix_close(l);
	_exit(rc == want ? 0 : 41);
}

static pid_t host_child(bool other, const uint32_t *allow_uid, int want, int wait_fd)
{
	pid_t pid = fork();
	if (pid == 0)
		host_body(other, allow_uid, want, wait_fd);
	return pid;
}

/* The remote here, a host of the other user first (it admits our uid, so
 * only the remote's check can turn it away), then ours once it is gone. */
static void remote_vs_other(const uint32_t *allow_uid, int other_want, int ours_want)
{
	new_link_name("peer");
	diag_log[0] = '\0';
	uint32_t me = (uint32_t)getuid();
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t other = fork();
	if (other == 0) {
		close(p[0]);
		host_body(true, &me, other_want, -1);
	}
	close(p[1]);
	pid_t ours = ours_want == 1 ? -1 : host_child(false, NULL, ours_want, p[0]);
	close(p[0]);
	struct al_posix_cfg c = {
	    .name = link_name, .role = VIRTIO_DEV_DEVICE, .connect_timeout_ms = 15000};
	if (allow_uid) {
		c.allow.uids = allow_uid;
		c.allow.n_uids = 1;
	}
	struct al_posix_link *l = NULL;
	int rc = al_posix_open(&c, &l);
	assert_int_equal(rc, 0);
	if (ours_want == 1) /* the other user's host is ours: let it finish */
		(void)al_posix_wait_up(l, 5000);
	al_posix_close(l);
	assert_int_equal(reap(other), 0);
	if (ours > 0)
		assert_int_equal(reap(ours), 0);
}

static void other_user_refused(void **state)
{
	(void)state;
	if (!other_name[0])
		skip();
	remote_vs_other(NULL, AL_EPERM, 0);
	char want[64];
	snprintf(want, sizeof(want), "refused a host run by uid %u (%s)", (unsigned)other_uid,
		 other_name);
	assert_true(diag_has(want));
}

static void allow_uid_admits(void **state)
{
	(void)state;
	if (!other_name[0])
		skip();
	uint32_t u = (uint32_t)other_uid;
	remote_vs_other(&u, 0, 1);
	assert_false(diag_has("refused a host"));
}

static void posing_listener(void **state)
{
	(void)state;
	if (!other_name[0])
		skip();
	new_link_name("pose");
	diag_log[0] = '\0';
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		become_other();
		int lfd = al_rv_listen(link_name);
		if (lfd < 0 || write(p[1], "r", 1) != 1)
			_exit(50);
		int fd = al_rv_accept(lfd, 10000);
		char buf[256];
		int fds[AL_RV_MAX_FDS], nfds;
		(void)al_rv_recv(fd, buf, sizeof(buf), fds, &nfds, 5000);
		_exit(0);
	}
	char ch;
	assert_int_equal(read(p[0], &ch, 1), 1);
	close(p[0]);
	close(p[1]);
	struct al_posix_cfg c = {.name = link_name,
				 .role = VIRTIO_DEV_DRIVER,
				 .doorbell_any = true,
				 .connect_timeout_ms = 3000};
	struct al_posix_link *l = NULL;
	int rc = al_posix_open(&c, &l);
	kill(pid, SIGKILL);
	reap(pid);
	assert_int_equal(rc, AL_EPERM);
	char want[64];
	snprintf(want, sizeof(want), "runs as uid %u (%s)", (unsigned)other_uid, other_name);
	assert_true(diag_has(want));
}

/* ---- the OpenAMP profile's files ------------------------------------------- */

static void oa_paths(void)
{
	snprintf(oa_dir, sizeof(oa_dir), "/tmp/itsec-oa-XXXXXX");
	assert_non_null(mkdtemp(oa_dir));
	snprintf(oa_shm, sizeof(oa_shm), "%s/openamp.shm", oa_dir);
	snprintf(oa_ev, sizeof(oa_ev), "%s/openamp.event", oa_dir);
	diag_log[0] = '\0';
}

static int oa_try(unsigned role)
{
	struct al_posix_cfg c = {.name = "oa",
				 .role = role,
				 .profile = AL_PROFILE_OPENAMP,
				 .shm_path = oa_shm,
				 .event_path = oa_ev,
				 .connect_timeout_ms = 300};
	struct al_posix_link *l = NULL;
	int rc = al_posix_open(&c, &l);
	al_posix_close(l);
	return rc;
}

static void oa_cleanup(const char *extra)
{
	unlink(oa_shm);
	unlink(oa_ev);
	if (extra)
		unlink(extra);
	rmdir(oa_dir);
}

static void oa_refuses_symlink(void **state)
{
	(void)state;
	oa_paths();
	char target[160];
	snprintf(target, sizeof(target), "%s/victim", oa_dir);
	assert_int_equal(symlink(target, oa_shm), 0);
	assert_int_equal(oa_try(VIRTIO_DEV_DEVICE), AL_EINIT);
	struct stat st;
	bool created = stat(target, &st) == 0;
	oa_cleanup(target);
	assert_false(created);
	assert_true(diag_has("is a symbolic link; refused"));
}

static void oa_refuses_foreign(void **state)
{
	(void)state;
	if (!other_name[0])
		skip();
	oa_paths();
	int fd = open(oa_shm, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 0x80000), 0);
	assert_int_equal(fchown(fd, other_uid, other_gid), 0);
	close(fd);
	int rc = oa_try(VIRTIO_DEV_DEVICE);
	oa_cleanup(NULL);
	assert_int_equal(rc, AL_EINIT);
	char want[80];
	snprintf(want, sizeof(want), "is owned by uid %u, not by us", (unsigned)other_uid);
	assert_true(diag_has(want));
}

static void oa_refuses_wide_mode(void **state)
{
	(void)state;
	oa_paths();
	int fd = open(oa_shm, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 0x80000), 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", oa_ev);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(chmod(oa_ev, 0600), 0);
	assert_int_equal(listen(lfd, 2), 0);
	int rc = oa_try(VIRTIO_DEV_DRIVER);
	close(lfd);
	oa_cleanup(NULL);
	assert_int_equal(rc, AL_EINIT);
	assert_true(diag_has("has mode 0644"));
}

/* ---- name-service flood ---------------------------------------------------- */

#define FLOOD_N	       80000u
#define FLOOD_DESTROYS 100u

static volatile int flood_done;

static int flood_host_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)e, (void)data, (void)len, (void)src, (void)priv;
	flood_done = 1;
	return 0;
}

static int ns_send(struct rpmsg_endpoint *e, uint32_t i, uint32_t flags)
{
	uint8_t m[40] = {0};
	snprintf((char *)m, 32, "svc-%u", (unsigned)i);
	uint32_t addr = 0x1000u + i;
	memcpy(m + 32, &addr, 4); /* little-endian host */
	memcpy(m + 36, &flags, 4);
	return rpmsg_sendto(e, m, sizeof(m), 53);
}

static void flood_remote(void)
{
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DEVICE, "it_security");
	struct rpmsg_endpoint e;
	if (rpmsg_create_ept(&e, al_posix_rdev(l), NULL, REMOTE_ADDR, HOST_ADDR, drain_remote_cb,
			     NULL) ||
	    al_posix_wait_up(l, 10000))
		_exit(60);
	for (uint32_t i = 0; i < FLOOD_N; i++)
		if (ns_send(&e, i, 0) < 0)
			_exit(61);
	for (uint32_t i = 0; i < FLOOD_DESTROYS; i++)
		if (ns_send(&e, i, 1) < 0)
			_exit(62);
	for (int i = 0; i < 5000 && al_posix_wait_down(l, 20) == AL_ETIMEDOUT; i++)
		(void)rpmsg_sendto(&e, "done", 4, HOST_ADDR);
	_exit(0);
}

static void count_svc(const char *name, uint32_t addr, void *arg)
{
	(void)name, (void)addr;
	(*(unsigned *)arg)++;
}

static int count_in_diag(const char *s)
{
	int n = 0;
	pthread_mutex_lock(&diag_mu);
	for (const char *p = diag_log; (p = strstr(p, s)) != NULL; p++)
		n++;
	pthread_mutex_unlock(&diag_mu);
	return n;
}

static void ns_flood(void **state)
{
	(void)state;
	new_link_name("flood");
	diag_log[0] = '\0';
	flood_done = 0;
	long rss0 = it_rss_kb(0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		flood_remote();
	struct al_posix_cfg c = {.name = link_name,
				 .role = VIRTIO_DEV_DRIVER,
				 .doorbell_any = true,
				 .connect_timeout_ms = 10000,
				 .ns_bind_cb = al_services_ns_bind,
				 .ns_unbind_cb = al_services_ns_unbind};
	struct al_posix_link *l = NULL;
	assert_int_equal(al_posix_open(&c, &l), 0);
	struct rpmsg_device *rdev = al_posix_rdev(l);
	struct rpmsg_endpoint ept;
	assert_int_equal(
	    rpmsg_create_ept(&ept, rdev, NULL, HOST_ADDR, REMOTE_ADDR, flood_host_cb, NULL), 0);
	uint64_t t0 = it_now_ms();
	while (!flood_done && it_now_ms() - t0 < 100000)
		usleep(1000);
	uint64_t ms = it_now_ms() - t0;
	unsigned n = 0;
	al_services_foreach(rdev, count_svc, &n);
	uint32_t addr = 0;
	int gone = al_services_lookup(rdev, "svc-0", &addr);
	int kept = al_services_lookup(rdev, "svc-100", &addr);
	uint64_t dropped = al_services_dropped(rdev);
	long rss1 = it_rss_kb(0);
	fprintf(stderr,
		"  flood: %u announcements + %u withdrawals in %llu ms; directory %u, dropped "
		"%llu, resident +%ld kB\n",
		FLOOD_N, FLOOD_DESTROYS, (unsigned long long)ms, n, (unsigned long long)dropped,
		rss1 - rss0);
	al_services_clear(rdev);
	rpmsg_destroy_ept(&ept);
	al_posix_close(l);
	assert_int_equal(reap(pid), 0);
	assert_true(flood_done);
	assert_true(ms < 60000); /* generous: the machine is shared */
	assert_int_equal(n, AL_SERVICES_MAX - FLOOD_DESTROYS);
	assert_int_equal(dropped, FLOOD_N - AL_SERVICES_MAX);
	assert_int_equal(gone, AL_EADDR);
	assert_int_equal(kept, 0);
	assert_int_equal(addr, 0x1000u + 100u);
	assert_int_equal(count_in_diag("services; further announcements are dropped"), 1);
	assert_true(rss1 - rss0 < 16 * 1024);
}

/* ---- a broken link names the check ----------------------------------------- */

static void broken_remote(void)
{
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DEVICE, "it_security");
	struct rpmsg_endpoint e;
	if (rpmsg_create_ept(&e, al_posix_rdev(l), NULL, REMOTE_ADDR, HOST_ADDR, drain_remote_cb,
			     NULL) ||
	    al_posix_wait_up(l, 10000))
		_exit(70);
	uint64_t t0 = it_now_ms();
	while (!drain_go && it_now_ms() - t0 < 10000)
		usleep(1000);
	struct rpmsg_virtio_device *rv = al_posix_rvdev(l);
	struct al_vq *v0 = &rv->svq; /* device: vring0 sends */
	rv->ops->lock(rv->port_ctx);
	uint8_t *idx = v0->used + AL_VRING_USED_IDX;
	uint16_t nv = (uint16_t)((idx[0] | idx[1] << 8) + v0->num + 7u);
	__atomic_store_n((uint16_t *)(void *)idx, nv, __ATOMIC_RELEASE);
	v0->pub_idx = nv;
	rv->ops->unlock(rv->port_ctx);
	(void)rpmsg_sendto(&e, "x", 1, HOST_ADDR); /* and ring */
	(void)al_posix_wait_down(l, 10000);
	_exit(0);
}

static void broken_names_check(void **state)
{
	(void)state;
	new_link_name("broken");
	diag_log[0] = '\0';
	drain_go = 0;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		broken_remote();
	struct al_posix_link *l = it_open_link(link_name, VIRTIO_DEV_DRIVER, "it_security");
	struct rpmsg_endpoint ept;
	assert_int_equal(rpmsg_create_ept(&ept, al_posix_rdev(l), NULL, HOST_ADDR, REMOTE_ADDR,
					  drain_host_cb, NULL),
			 0);
	int rc;
	uint32_t go = 0;
	uint64_t t0 = it_now_ms();
	while ((rc = al_posix_wait_down(l, 50)) == AL_ETIMEDOUT && it_now_ms() - t0 < 20000)
		(void)rpmsg_sendto(&ept, &go, sizeof(go), REMOTE_ADDR);
	rpmsg_destroy_ept(&ept);
	al_posix_close(l);
	kill(pid, SIGKILL);
	reap(pid);
	assert_int_equal(rc, AL_EBROKEN);
	assert_true(diag_has("broken by the peer: "));
	assert_true(diag_has("moved by more than the ring size"));
}

/* ---- the rproc manager's control socket ------------------------------------ */

static int ctl_connect(const char *name)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "amplink-rproc.%s", name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 &&
	    connect(fd, (struct sockaddr *)&a,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int run_quiet(const char *fmt, const char *a, const char *b)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), fmt, a, b);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void rproc_ctl(void **state)
{
	(void)state;
	if (!firmware)
		skip();
	char name[48], logp[80];
	snprintf(name, sizeof(name), "itsec-rp-%d", (int)getpid());
	snprintf(logp, sizeof(logp), "/tmp/itsec-rp-%d.log", (int)getpid());
	pid_t mgr = fork();
	assert_true(mgr >= 0);
	if (mgr == 0) {
		int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		dup2(fd, 1);
		execl(amplink, amplink, "rproc", "start", firmware, "--name", name, (char *)NULL);
		_exit(127);
	}
	int up = 1;
	for (int i = 0; i < 100 && up; i++) {
		up = run_quiet("%s rproc status --name %s >/dev/null 2>&1", amplink, name);
		if (up)
			usleep(100 * 1000);
	}
	assert_int_equal(up, 0);
	int idle[10];
	for (int i = 0; i < 10; i++)
		idle[i] = ctl_connect(name); /* they never say anything */
	uint64_t t0 = it_now_ms();
	int st = run_quiet("%s rproc status --name %s >/dev/null", amplink, name);
	uint64_t ms = it_now_ms() - t0;
	fprintf(stderr, "  rproc: status behind 10 idle control clients took %llu ms\n",
		(unsigned long long)ms);
	int refused = -1;
	if (other_name[0]) {
		pid_t pid = fork();
		if (pid == 0) {
			become_other();
			int fd = ctl_connect(name);
			if (fd < 0)
				_exit(80);
			if (send(fd, "status\n", 7, MSG_NOSIGNAL) != 7)
				_exit(0); /* already turned away */
			char buf[256];
			ssize_t n = read(fd, buf, sizeof(buf));
			_exit(n <= 0 ? 0 : 81); /* closed or reset: no answer */
		}
		refused = reap(pid);
	}
	for (int i = 0; i < 10; i++)
		if (idle[i] >= 0)
			close(idle[i]);
	(void)run_quiet("%s rproc stop --name %s >/dev/null 2>&1", amplink, name);
	int ms_rc = reap(mgr);
	char log[8192] = "";
	FILE *f = fopen(logp, "r");
	if (f) {
		size_t n = fread(log, 1, sizeof(log) - 1, f);
		log[n] = '\0';
		fclose(f);
	}
	unlink(logp);
	fprintf(stderr, "  rproc manager exit %d; its log:\n%s", ms_rc, log);
	assert_int_equal(st, 0);
	assert_true(ms < 5000); /* one idle client used to cost everyone a second */
	if (other_name[0]) {
		char want[80];
		snprintf(want, sizeof(want), "refused a control client run by uid %u",
			 (unsigned)other_uid);
		assert_int_equal(refused, 0);
		assert_non_null(strstr(log, want));
	}
}

static void rproc_posing_manager(void **state)
{
	(void)state;
	if (!other_name[0])
		skip();
	char name[48];
	snprintf(name, sizeof(name), "itsec-pose-%d", (int)getpid());
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		become_other();
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "amplink-rproc.%s", name);
		int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(lfd, (struct sockaddr *)&a,
			 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) ||
		    listen(lfd, 4) || write(p[1], "r", 1) != 1)
			_exit(90);
		for (;;) { /* a manager that answers with a lie */
			int fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				_exit(0);
			char buf[64];
			(void)!read(fd, buf, sizeof(buf));
			(void)!write(fd, "all is well\n", 12);
			close(fd);
		}
	}
	char ch;
	assert_int_equal(read(p[0], &ch, 1), 1);
	close(p[0]);
	close(p[1]);
	char cmd[256], out[512] = "";
	snprintf(cmd, sizeof(cmd), "%s rproc status --name %s 2>&1", amplink, name);
	FILE *f = popen(cmd, "r");
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	int st = pclose(f);
	kill(pid, SIGKILL);
	reap(pid);
	fprintf(stderr, "  rproc status against a posing manager: exit %d: %s", WEXITSTATUS(st),
		out);
	char want[64];
	snprintf(want, sizeof(want), "runs as uid %u (%s)", (unsigned)other_uid, other_name);
	assert_int_equal(WEXITSTATUS(st), 3);
	assert_non_null(strstr(out, want));
	assert_null(strstr(out, "all is well"));
}

static void long_link_name(void **state)

{
	(void)state;
	diag_log[0] = '\0';
	char name[80];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	struct al_posix_cfg c = {.name = name, .role = VIRTIO_DEV_DEVICE, .connect_timeout_ms = 10};
	struct al_posix_link *l = NULL;
	assert_int_equal(al_posix_open(&c, &l), AL_EINVAL);
	assert_true(diag_has("at most 63"));
	static const char *const cases[][3] = {
	    {"--link", "0123456789012345678901234567890123456789012345678901234567890123",
	     "at most 63"},
	    {"--ticker", "t123456789012345678901234567890123", "at most 31"},
	    {"--sink", "s123456789012345678901234567890123", "at most 31"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char cmd[512], out[512] = "";
		snprintf(cmd, sizeof(cmd), "%s remote %s %s --timeout 100 --once 2>&1", amplink,
			 cases[i][0], cases[i][1]);
		FILE *f = popen(cmd, "r");
		assert_non_null(f);
		size_t n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = '\0';
		int st = pclose(f);
		fprintf(stderr, "  %s: exit %d: %s", cases[i][0], WEXITSTATUS(st), out);
		assert_int_not_equal(WEXITSTATUS(st), 0);
		assert_non_null(strstr(out, cases[i][2]));
	}
}

int main(int argc, char **argv)
{
	amplink = argc > 1 ? argv[1] : "amplink";
	firmware = argc > 2 ? argv[2] : NULL;
	al_diag_set_handler(diag_hook, NULL);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(drain_before_lost),    cmocka_unit_test(region_sealed),
	    cmocka_unit_test(refuse_unsealed),	    cmocka_unit_test(fw_refuses_unsealed),
	    cmocka_unit_test(openamp_cut_short),    cmocka_unit_test(other_user_refused),
	    cmocka_unit_test(allow_uid_admits),	    cmocka_unit_test(posing_listener),
	    cmocka_unit_test(oa_refuses_symlink),   cmocka_unit_test(oa_refuses_foreign),
	    cmocka_unit_test(oa_refuses_wide_mode), cmocka_unit_test(ns_flood),
	    cmocka_unit_test(broken_names_check),   cmocka_unit_test(rproc_ctl),
	    cmocka_unit_test(rproc_posing_manager), cmocka_unit_test(long_link_name),
	};
	make_other_user();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	drop_other_user();
	return rc;
}
