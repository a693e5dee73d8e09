/* The `qemu` remoteproc backend (include/amplink/linux/rproc_qemu.h): Cortex-M
 * firmware run by qemu-system-arm, its RAM a /dev/shm file the host maps,
 * UART1 as the doorbell socket, held at reset until the host's VirtIO
 * handshake is done. See ../../../shared/qemu-cortex-m.md for the board
 * facts this relies on. */
#define _GNU_SOURCE
#include "amplink/linux/rproc_qemu.h"
#include "amplink/linux/posix_port.h"
#include "child.h"
#include "why.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "amplink/elf.h"
#include "amplink/error.h"

extern char **environ;

static const struct al_rproc_qemu_machine machines[] = {
    /* Cortex-M4; PSRAM 16 MiB at 0x21000000 is the machine RAM. */
    {"mps2-an386", 0x21000000u, 16u << 20, "qemu-system-arm"},
};

#define CONNECT_TIMEOUT_MS 5000
#define ERR_MAX		   4096

struct qemu {
	struct al_child ch; /* the QEMU process */
	int mon;	    /* monitor connection, -1: none */
	int errfd;	    /* memfd with QEMU's stderr, -1: none */
	char shm_path[128];
	char dir[64]; /* private (0700) directory of QEMU's sockets, "" until made */
	char mon_path[96], db_path[96];
	unsigned seq; /* boots, for unique socket names */
};

const struct al_rproc_qemu_machine *al_rproc_qemu_find_machine(const char *name)
{
	for (size_t i = 0; name && i < sizeof(machines) / sizeof(machines[0]); i++)
		if (!strcmp(machines[i].name, name))
			return &machines[i];
	return NULL;
}

static void *q_create(void)
{
	struct qemu *q = calloc(1, sizeof(*q));
	if (q) {
		al_child_init(&q->ch);
		q->mon = q->errfd = -1;
	}
	return q;
}

/* The last non-empty line QEMU wrote to stderr, or "". */
static void last_err_line(struct qemu *q, char *out, size_t n)
{
	out[0] = '\0';
	if (q->errfd < 0 || n == 0)
		return;
	char buf[ERR_MAX + 1];
	off_t size = lseek(q->errfd, 0, SEEK_END);
	off_t from = size > ERR_MAX ? size - ERR_MAX : 0;
	ssize_t k = pread(q->errfd, buf, ERR_MAX, from);
	if (k <= 0)
		return;
	buf[k] = '\0';
	while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r' || buf[k - 1] == ' '))
		buf[--k] = '\0';
	const char *line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	size_t l = strlen(line);
	if (l >= n)
		l = n - 1;
	memcpy(out, line, l);
	out[l] = '\0';
}

static void describe(struct qemu *q, char *why, size_t n)
{
	char err[200];
	last_err_line(q, err, sizeof(err));
	int st = q->ch.status;
	if (WIFEXITED(st))
		snprintf(why, n, "QEMU exited with status %d%s%s", WEXITSTATUS(st),
			 err[0] ? ": " : "", err);
	else if (WIFSIGNALED(st))
		snprintf(why, n, "QEMU killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(why, n, "QEMU ended (wait status 0x%x)", (unsigned)st);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void q_kill(void *ctx)
{
	struct qemu *q = ctx;
	al_child_kill(&q->ch);
	close_fd(&q->mon);
	close_fd(&q->errfd);
}

/* Remove this boot's socket files (QEMU keeps the open connections). */
static void unlink_sockets(struct qemu *q)
{
	if (q->mon_path[0])
		unlink(q->mon_path);
	if (q->db_path[0])
		unlink(q->db_path);
	q->mon_path[0] = q->db_path[0] = '\0';
}

static void q_destroy(void *ctx)
{
	struct qemu *q = ctx;
	if (!q)
		return;
	q_kill(q);
	unlink_sockets(q);
	if (q->dir[0])
		rmdir(q->dir);
	if (q->shm_path[0])
		unlink(q->shm_path);
	free(q);
}

/* Connect to QEMU's listening socket at `path` (in our private directory,
 * which no other user can enter), retrying while QEMU starts, and check
 * that the process on the other end is the QEMU we started. Returns the
 * fd, or -1 with why set. */
static int connect_qemu(struct qemu *q, const char *path, const char *what, char *why, size_t n)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	socklen_t al = sizeof(a);
	uint64_t end = al_posix_now_ms() + CONNECT_TIMEOUT_MS;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			al_say(why, n, AL_ENOMEM, "socket: %s", strerror(errno));
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&a, al) == 0) {
			struct ucred cr;
			socklen_t cl = sizeof(cr);
			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0 &&
			    cr.pid == q->ch.pid && cr.uid == getuid())
				return fd;
			close(fd);
			al_say(why, n, AL_EPERM,
			       "the %s socket %s is not served by the QEMU we started; refused",
			       what, path);
			return -1;
		}
		close(fd);
		al_child_reap(&q->ch, false);
		if (q->ch.reaped) {
			describe(q, why, n);
			return -1;
		}
		if (al_posix_now_ms() > end) {
			al_say(why, n, AL_ETIMEDOUT, "QEMU did not open its %s socket within %d ms",
			       what, CONNECT_TIMEOUT_MS);
			return -1;
		}
		usleep(5000);
	}
}

/* Send an HMP command and read until `expect` shows up in the answer (or
 * just send, for expect NULL). Returns 0 or -1. */
static int monitor(struct qemu *q, const char *cmd, const char *expect, uint32_t timeout_ms)
{
	size_t len = strlen(cmd);
	if (q->mon < 0 || send(q->mon, cmd, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	if (!expect)
		return 0;
	char buf[4096];
	size_t have = 0;
	uint64_t end = al_posix_now_ms() + timeout_ms;
	while (al_posix_now_ms() < end) {
		struct pollfd p = {.fd = q->mon, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		if (have == sizeof(buf) - 1) { /* keep the tail */
			memmove(buf, buf + sizeof(buf) / 2, sizeof(buf) / 2 - 1);
			have = sizeof(buf) / 2 - 1;
		}
		ssize_t k = read(q->mon, buf + have, sizeof(buf) - 1 - have);
		if (k <= 0)
			return -1;
		have += (size_t)k;
		buf[have] = '\0';
		if (strstr(buf, expect))
			return 0;
	}
	return -1;
}

/* Find the emulator: explicit, $AMPLINK_QEMU, or the machine's in PATH. */
static bool find_qemu(const char *want, char *out, size_t n)
{
	if (want && strchr(want, '/')) {
		snprintf(out, n, "%s", want);
		return access(out, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t l = strcspn(path, ":");
		snprintf(out, n, "%.*s/%s", (int)l, path, want);
		if (l && access(out, X_OK) == 0)
			return true;
		path += l + (path[l] == ':');
	}
	return false;
}

/* Console for UART0: the rproc's log fd, else our stderr if QEMU can open
 * it by path, else nothing. Returns the fd to hand to QEMU or -1. */
static int console_fd(const struct al_rproc_cfg *cfg)
{
	int fd = cfg->log_fd > 0 ? cfg->log_fd : 2;
	struct stat st;
	if (fstat(fd, &st) < 0 || S_ISSOCK(st.st_mode))
		return -1;
	return fd;
}

static int q_prepare(void *ctx, const struct al_rproc_cfg *cfg, struct al_rproc_region *reg,
		     char *why, size_t n)
{
	struct qemu *q = ctx;
	const struct al_rproc_qemu_cfg def = {0};
	const struct al_rproc_qemu_cfg *qc = cfg->backend_cfg ? cfg->backend_cfg : &def;
	const char *mname = qc->machine ? qc->machine : machines[0].name;
	const struct al_rproc_qemu_machine *m = al_rproc_qemu_find_machine(mname);
	if (!m)
		return al_say(why, n, AL_EINVAL,
			      "unknown machine '%s': the qemu backend runs mps2-an386 (Cortex-M4) "
			      "firmware; use --machine mps2-an386",
			      mname);
	char qemu[512];
	const char *want = qc->qemu ? qc->qemu : getenv("AMPLINK_QEMU");
	if (!find_qemu(want && *want ? want : m->qemu, qemu, sizeof(qemu)))
		return al_say(
		    why, n, AL_EINIT,
		    "%s not found: install it (apt-get install qemu-system-arm) or name the "
		    "emulator in AMPLINK_QEMU",
		    want && *want ? want : m->qemu);
	q_kill(q);
	q->ch.reaped = false;
	q->seq++;

	/* 1. the RAM file, fresh: QEMU never clears it, and a file replaced
	 *    under a running mapping would stop being shared */
	if (qc->shm_name)
		snprintf(q->shm_path, sizeof(q->shm_path), "/dev/shm/%s", qc->shm_name);
	else
		snprintf(q->shm_path, sizeof(q->shm_path), "/dev/shm/amplink-%s",
			 cfg->name ? cfg->name : "rproc0");
	if (strchr(q->shm_path + 9, '/'))
		return al_say(why, n, AL_EINVAL, "shared-memory name must not contain '/'");
	unlink(q->shm_path);
	int fd = open(q->shm_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return al_say(why, n, AL_EINIT, "cannot create %s: %s", q->shm_path,
			      strerror(errno));
	if (ftruncate(fd, (off_t)m->ram_size) < 0) {
		int e = errno;
		close(fd);
		return al_say(why, n, AL_ENOMEM, "cannot size %s: %s", q->shm_path, strerror(e));
	}
	void *mem = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (mem == MAP_FAILED)
		return al_say(why, n, AL_ENOMEM, "cannot map %s: %s", q->shm_path, strerror(errno));

	/* 2. QEMU, held at reset */
	/* QEMU's monitor (which can do anything to the machine) and doorbell
	 * sockets live in a directory of ours, mode 0700: no other user can
	 * connect to them first or bind their names before QEMU */
	char a_machine[160], a_object[256], a_mon[200], a_db[200], a_con[160];
	if (!q->dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(q->dir, sizeof(q->dir), "%s/amplink-qemu.%d.XXXXXX",
			 tmp && *tmp && strlen(tmp) < 24 ? tmp : "/tmp", (int)getpid());
		if (!mkdtemp(q->dir)) {
			int e = errno;
			q->dir[0] = '\0';
			munmap(mem, m->ram_size);
			return al_say(why, n, AL_EINIT,
				      "cannot make a private directory for QEMU's sockets: %s",
				      strerror(e));
		}
	}
	unlink_sockets(q);
	snprintf(q->mon_path, sizeof(q->mon_path), "%s/%u.mon", q->dir, q->seq);
	snprintf(q->db_path, sizeof(q->db_path), "%s/%u.db", q->dir, q->seq);
	snprintf(a_machine, sizeof(a_machine), "%s,memory-backend=shm", m->name);
	snprintf(a_object, sizeof(a_object),
		 "memory-backend-file,id=shm,size=%llu,mem-path=%s,share=on",
		 (unsigned long long)m->ram_size, q->shm_path);
	snprintf(a_mon, sizeof(a_mon), "socket,id=mon,path=%s,server=on,wait=off", q->mon_path);
	snprintf(a_db, sizeof(a_db), "socket,id=db,path=%s,server=on,wait=off", q->db_path);
	int con = console_fd(cfg);
	/* in the child the console is fd 3; append: never truncate a log */
	snprintf(a_con, sizeof(a_con), "file,id=con,path=%s,append=on",
		 con >= 0 ? "/proc/self/fd/3" : "/dev/null");
	char *argv[] = {qemu,
			"-machine",
			a_machine,
			"-object",
			a_object,
			"-kernel",
			(char *)cfg->firmware,
			"-S",
			"-nodefaults",
			"-display",
			"none",
			"-chardev",
			a_mon,
			"-mon",
			"chardev=mon,mode=readline",
			"-chardev",
			a_con,
			"-serial",
			"chardev:con",
			"-chardev",
			a_db,
			"-serial",
			"chardev:db",
			NULL,
			NULL,
			NULL,
			NULL,
			NULL};
	char a_raw[200];
	if (qc->raw_socket) {
		size_t k = sizeof(argv) / sizeof(argv[0]) - 5;
		snprintf(a_raw, sizeof(a_raw),
			 "socket,id=raw,path=%s,abstract=on,server=on,wait=off", qc->raw_socket);
		argv[k++] = "-chardev";
		argv[k++] = a_raw;
		argv[k++] = "-serial";
		argv[k++] = "chardev:raw";
	}
	q->errfd = memfd_create("amplink-qemu-stderr", MFD_CLOEXEC);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t parent = getpid();
	pid_t pid = q->errfd >= 0 && devnull >= 0 ? fork() : -1;
	if (pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		sigaction(SIGPIPE, &dfl, NULL);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		setpgid(0, 0); /* a Ctrl-C at the terminal is for the host, not QEMU */
		if (qc->pin_cpu > 0) {
			cpu_set_t cs;
			CPU_ZERO(&cs);
			CPU_SET(qc->pin_cpu - 1, &cs);
			(void)sched_setaffinity(0, sizeof(cs), &cs);
		}
		int c = con >= 0 ? fcntl(con, F_DUPFD_CLOEXEC, 10) : -1;
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(q->errfd, 2) < 0 ||
		    (c >= 0 && dup2(c, 3) < 0))
			_exit(126);
		execve(qemu, argv, environ);
		_exit(127);
	}
	int e = errno;
	if (devnull >= 0)
		close(devnull);
	if (pid < 0) {
		munmap(mem, m->ram_size);
		close_fd(&q->errfd);
		return al_say(why, n, AL_ENOMEM, "cannot start QEMU: %s", strerror(e));
	}
	al_child_track(&q->ch, pid);

	/* 3. wait until QEMU holds the loaded machine, then take the doorbell */
	int rc = AL_EINIT;
	int db = -1;
	q->mon = connect_qemu(q, q->mon_path, "monitor", why, n);
	if (q->mon >= 0 && monitor(q, "info status\n", "paused", CONNECT_TIMEOUT_MS) != 0) {
		al_child_reap(&q->ch, false);
		if (q->ch.reaped)
			describe(q, why, n);
		else
			al_say(why, n, AL_EINIT,
			       "QEMU's monitor did not report the machine paused");
		close_fd(&q->mon);
	}
	if (q->mon >= 0)
		db = connect_qemu(q, q->db_path, "doorbell", why, n);
	unlink_sockets(q); /* connected (or failed): nobody else needs the names */
	if (db >= 0) {
		fcntl(db, F_SETFL, fcntl(db, F_GETFL) | O_NONBLOCK);
		rc = 0;
	}
	if (rc) {
		if (q->ch.reaped && WIFEXITED(q->ch.status) && WEXITSTATUS(q->ch.status) == 127)
			al_say(why, n, AL_EINIT, "%s could not be executed", qemu);
		q_kill(q);
		munmap(mem, m->ram_size);
		return rc;
	}
	*reg = (struct al_rproc_region){(uint8_t *)mem, m->ram_size, m->ram_base, db};
	return 0;
}

static int q_start(void *ctx, const struct al_rproc_boot *b, char *why, size_t n)
{
	(void)b;
	struct qemu *q = ctx;
	if (!q->ch.pid || monitor(q, "cont\n", NULL, 0) != 0)
		return al_say(why, n, AL_EINIT, "cannot resume QEMU through its monitor");
	return 0;
}

static bool q_is_alive(void *ctx, char *why, size_t n)
{
	struct qemu *q = ctx;
	if (!q->ch.pid)
		return false;
	al_child_reap(&q->ch, false);
	if (!q->ch.reaped)
		return true;
	describe(q, why, n);
	return false;
}

static void q_stop(void *ctx, uint32_t grace_ms)
{
	struct qemu *q = ctx;
	if (!q->ch.pid)
		return;
	if (!q->ch.reaped && monitor(q, "quit\n", NULL, 0) == 0)
		al_child_wait_exit(&q->ch, grace_ms);
	q_kill(q);
}

static int q_watch_fd(void *ctx)
{
	const struct qemu *q = ctx;
	return al_child_watch_fd(&q->ch);
}

static long q_id(void *ctx)
{
	const struct qemu *q = ctx;
	return al_child_id(&q->ch);
}

const struct al_rproc_backend_ops al_rproc_qemu_backend = {
    .name = "qemu",
    .create = q_create,
    .destroy = q_destroy,
    .start = q_start,
    .stop = q_stop,
    .kill = q_kill,
    .is_alive = q_is_alive,
    .watch_fd = q_watch_fd,
    .id = q_id,
    .elf_machine = AL_EM_ARM,
    .prepare = q_prepare,
};
