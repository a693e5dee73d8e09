/* `amplink rproc`: boot and watch a remote from a firmware ELF (start), and
 * talk to the running manager from other shells (status, trace, stop).
 *
 * `rproc start` stays in the foreground (run it with `&` or in its own
 * terminal) and serves a control socket in the Linux abstract namespace,
 * `amplink-rproc.<name>` (no file to clean up; it disappears with the
 * process). The other subcommands connect, send one command line
 * ("status", "trace", "trace-crash", "stop") and print the answer. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "amplink.h"
#include "amplink/linux/metrics_sock.h"
#include "amplink/linux/rproc.h"
#include "amplink/linux/rproc_qemu.h"
#include "amplink/linux/rproc_relay.h"
#include "json_writer.h"
#include "rproc_tools.h"
#include "svc_notify.h"
#include "term_safe.h"

#define REPLY_MAX (70 * 1024)

static socklen_t ctl_addr(const char *name, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "amplink-rproc.%s", name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* ---- the manager ------------------------------------------------------------------ */

struct mgr {
	struct al_rproc *rp;
	struct al_rproc_relay *relay; /* --serve: the services on a POSIX link */
	const char *serve;
	const char *name;
	int lfd;
	volatile int stop_req;
	char *reply;			    /* under mu */
	pthread_mutex_t mu;		    /* one command at a time */
	const struct al_peer_policy *allow; /* who may use the control socket */
	int clients;			    /* control clients being served */
};

#define CTL_CLIENTS    16   /* at most this many control clients at once */
#define CTL_TIMEOUT_MS 1000 /* to send the command line, and to take the reply */

struct outbuf {
	char *b;
	size_t n, cap;
};

static void out(struct outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(o->b + o->n, o->cap - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k < o->cap - o->n ? (size_t)k : o->cap - o->n - 1;
}

static void svc_line(const char *name, uint32_t addr, void *arg)
{
	struct outbuf *o = arg;
	out(o, "%s%s (0x%x)", o->n && o->b[o->n - 1] != ' ' ? ", " : "", name, (unsigned)addr);
}

static void status_text(struct mgr *m, struct outbuf *o)
{
	struct al_rproc_status st;
	al_rproc_get_status(m->rp, &st);
	out(o, "%s: %s\n", m->name, al_rproc_state_name(st.state));
	if (st.id > 0)
		out(o, "  firmware:   %s (pid %ld, backend %s)\n", st.firmware, st.id, st.backend);
	else
		out(o, "  firmware:   %s (not running)\n", st.firmware);
	out(o, "  uptime:     %.1f s", st.uptime_s);
	if (st.state == AL_RPROC_RUNNING)
		out(o, " (current boot %.1f s, boot #%u)", st.boot_uptime_s, st.boots);
	out(o, "\n  crashes:    %u\n  recoveries: %u\n", st.crashes, st.recoveries);
	if (st.last_crash[0])
		out(o, "  last crash: %s\n", st.last_crash);
	if (st.heartbeat_ms == AL_WAIT_FOREVER)
		out(o, "  heartbeat:  off\n");
	else if (st.last_pong_ms_ago >= 0)
		out(o, "  heartbeat:  every %u ms, last answer %.0f ms ago\n", st.heartbeat_ms,
		    st.last_pong_ms_ago);
	else
		out(o, "  heartbeat:  every %u ms, no answer yet\n", st.heartbeat_ms);
	out(o, "  services:   ");
	if (al_rproc_services(m->rp, svc_line, o) == 0)
		out(o, "(none announced)");
	out(o, "\n");
	if (m->relay) {
		struct al_rproc_relay_stats rs;
		al_rproc_relay_get_stats(m->relay, &rs);
		out(o, "  relay:      link '%s', %s (%u hosts so far), %u services\n", m->serve,
		    rs.host_attached ? "a host is attached" : "no host", rs.sessions, rs.services);
		out(o, "  forwarded:  to host %llu, to firmware %llu (%llu waited, queue max %u)\n",
		    (unsigned long long)rs.to_host, (unsigned long long)rs.to_fw,
		    (unsigned long long)rs.queued, rs.queue_max);
		out(o, "  dropped:    no host %llu, no buffer %llu, side down %llu, too big %llu\n",
		    (unsigned long long)rs.drop_no_host, (unsigned long long)rs.drop_no_buf,
		    (unsigned long long)rs.drop_down, (unsigned long long)rs.drop_too_big);
	}
}

static void svc_json(const char *name, uint32_t addr, void *arg)
{
	struct json_writer *j = arg;
	json_object_begin(j, NULL);
	json_string(j, "name", name);
	json_uint(j, "addr", addr);
	json_object_end(j);
}

/* The status as one JSON object, the same facts as status_text(). */
static void status_json(struct mgr *m, struct outbuf *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	struct al_rproc_status st;
	al_rproc_get_status(m->rp, &st);
	struct json_writer j;
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_string(&j, "name", m->name);
	json_string(&j, "state", al_rproc_state_name(st.state));
	json_string(&j, "firmware", st.firmware);
	if (st.id > 0)
		json_int(&j, "pid", st.id);
	else
		json_null(&j, "pid");
	json_string(&j, "backend", st.backend);
	json_double(&j, "uptime_s", st.uptime_s, 3);
	json_double(&j, "boot_uptime_s", st.boot_uptime_s, 3);
	json_uint(&j, "boots", st.boots);
	json_uint(&j, "crashes", st.crashes);
	json_uint(&j, "recoveries", st.recoveries);
	json_string(&j, "last_crash", st.last_crash[0] ? st.last_crash : NULL);
	if (st.heartbeat_ms == AL_WAIT_FOREVER)
		json_null(&j, "heartbeat_ms");
	else
		json_uint(&j, "heartbeat_ms", st.heartbeat_ms);
	if (st.heartbeat_ms != AL_WAIT_FOREVER && st.last_pong_ms_ago >= 0)
		json_double(&j, "last_answer_ms_ago", st.last_pong_ms_ago, 0);
	else
		json_null(&j, "last_answer_ms_ago");
	json_array_begin(&j, "services");
	al_rproc_services(m->rp, svc_json, &j);
	json_array_end(&j);
	if (m->relay) {
		struct al_rproc_relay_stats rs;
		al_rproc_relay_get_stats(m->relay, &rs);
		json_object_begin(&j, "relay");
		json_string(&j, "link", m->serve);
		json_bool(&j, "host_attached", rs.host_attached);
		json_uint(&j, "hosts", rs.sessions);
		json_uint(&j, "services", rs.services);
		json_uint(&j, "to_host", rs.to_host);
		json_uint(&j, "to_firmware", rs.to_fw);
		json_uint(&j, "waited", rs.queued);
		json_uint(&j, "queue_max", rs.queue_max);
		json_uint(&j, "dropped_no_host", rs.drop_no_host);
		json_uint(&j, "dropped_no_buffer", rs.drop_no_buf);
		json_uint(&j, "dropped_side_down", rs.drop_down);
		json_uint(&j, "dropped_too_big", rs.drop_too_big);
		json_object_end(&j);
	}
	json_object_end(&j);
	fclose(f);
	if (text)
		out(o, "%s", text);
	free(text);
}

/* One control client, on its own thread: the command line must come
 * within CTL_TIMEOUT_MS (a client that sends nothing stalls nobody else),
 * the command runs under the manager's lock, and the reply is written
 * from a copy after it. */
static void serve_one(struct mgr *m, int fd)
{
	char cmd[64] = {0};
	size_t got = 0;
	struct timeval tv = {CTL_TIMEOUT_MS / 1000, (CTL_TIMEOUT_MS % 1000) * 1000};
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(cmd) - 1 && !memchr(cmd, '\n', got)) {
		ssize_t k = read(fd, cmd + got, sizeof(cmd) - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (!got)
		return;
	cmd[strcspn(cmd, "\r\n")] = '\0';
	pthread_mutex_lock(&m->mu);
	struct outbuf o = {m->reply, 0, REPLY_MAX};
	m->reply[0] = '\0';
	if (!strcmp(cmd, "status")) {
		status_text(m, &o);
	} else if (!strcmp(cmd, "status-json")) {
		status_json(m, &o);
	} else if (!strcmp(cmd, "trace") || !strcmp(cmd, "trace-crash")) {
		long n = al_rproc_read_trace(m->rp, cmd[5] != '\0', o.b, o.cap);
		if (n == AL_EADDR)
			out(&o, "%s\n",
			    cmd[5] ? "no crash recorded yet"
				   : "the firmware has no trace buffer (RSC_TRACE entry)");
		else
			o.n = (size_t)n;
	} else if (!strcmp(cmd, "stop")) {
		m->stop_req = 1;
		out(&o, "%s: stopping\n", m->name);
	} else {
		char safe[200];
		out(&o, "unknown command '%s'\n", term_str(safe, sizeof(safe), cmd));
	}
	char *copy = malloc(o.n ? o.n : 1);
	size_t len = copy ? o.n : 0;
	if (copy)
		memcpy(copy, o.b, o.n);
	pthread_mutex_unlock(&m->mu);
	for (size_t off = 0; off < len;) {
		ssize_t k = write(fd, copy + off, len - off);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	free(copy);
}

struct ctl_client {
	struct mgr *m;
	int fd;
};

static void *client_main(void *arg)
{
	struct ctl_client *c = arg;
	serve_one(c->m, c->fd);
	close(c->fd);
	__atomic_fetch_sub(&c->m->clients, 1, __ATOMIC_RELEASE);
	free(c);
	return NULL;
}

static void *ctl_main(void *arg)
{
	struct mgr *m = arg;
	while (!m->stop_req && !g_stop) {
		struct pollfd p = {.fd = m->lfd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		int fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		char who[160];
		if (al_posix_peer_check(fd, m->allow, who, sizeof(who))) {
			fprintf(stderr,
				"amplink rproc: %s: refused a control client run by %s: not our "
				"user (admit it with --allow-uid or --allow-gid)\n",
				m->name, who);
			close(fd);
			continue;
		}
		struct ctl_client *c = NULL;
		pthread_t t;
		pthread_attr_t at;
		bool ok = false;
		if (__atomic_load_n(&m->clients, __ATOMIC_ACQUIRE) < CTL_CLIENTS &&
		    (c = malloc(sizeof(*c))) != NULL && pthread_attr_init(&at) == 0) {
			*c = (struct ctl_client){m, fd};
			(void)pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			__atomic_fetch_add(&m->clients, 1, __ATOMIC_ACQ_REL);
			ok = pthread_create(&t, &at, client_main, c) == 0;
			if (!ok)
				__atomic_fetch_sub(&m->clients, 1, __ATOMIC_RELEASE);
			pthread_attr_destroy(&at);
		}
		if (!ok) { /* busy: this one goes away, the others are served */
			free(c);
			close(fd);
		}
	}
	/* the clients use the manager: wait for them (each ends within its
	 * timeouts) */
	while (__atomic_load_n(&m->clients, __ATOMIC_ACQUIRE) > 0) {
		struct timespec d = {0, 10 * 1000000L};
		nanosleep(&d, NULL);
	}
	return NULL;
}

static void relay_note(void *user, const char *line)
{
	struct mgr *m = user;
	char safe[512]; /* the notes name the firmware's services */
	fprintf(stderr, "amplink rproc: %s: relay: %s\n", m->name,
		term_str(safe, sizeof(safe), line));
}

static void on_event(struct al_rproc *rp, int e, struct rpmsg_endpoint *ept, const char *why,
		     void *user)
{
	(void)ept;
	struct mgr *m = user;
	struct al_rproc_status st;
	char safe[512]; /* a crash reason may quote the firmware */
	why = why ? term_str(safe, sizeof(safe), why) : "";
	if (e == AL_RPROC_EV_RUNNING) {
		al_rproc_get_status(rp, &st);
		fprintf(stderr, "amplink rproc: %s: running (%s, pid %ld)\n", m->name, why, st.id);
	} else if (e == AL_RPROC_EV_CRASHED) {
		fprintf(stderr, "amplink rproc: %s: crashed: %s\n", m->name, why);
	} else if (e == AL_RPROC_EV_STOPPED) {
		fprintf(stderr, "amplink rproc: %s: stopped\n", m->name);
	}
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: amplink rproc start FIRMWARE [--restart] [--heartbeat MS] [--max-restarts N]\n"
	    "                          [--region-size BYTES] [--fw-log FILE] [--name NAME]\n"
	    "                          [--machine mps2-an386 [--qemu PATH] [--pin CPU]]\n"
	    "                          [--echo N [--size N|MIN-MAX] [--quiet]] [--bench]\n"
	    "                          [--serve LINK [--doorbell KIND] [--num N] [--buf-size B]]\n"
	    "                          [--allow-uid USER] [--allow-gid GROUP]\n"
	    "       amplink rproc status [--json] [--name NAME] [--allow-uid USER]\n"
	    "       amplink rproc trace [--last-crash] [--name NAME] [--allow-uid USER]\n"
	    "       amplink rproc stop [--name NAME] [--allow-uid USER]\n"
	    "       amplink rproc start|stop|status|trace --sysfs ...: the kernel's remoteproc\n"
	    "                          (`amplink rproc --sysfs --help`)\n\n"
	    "start: parse FIRMWARE (an ELF host executable built with amplink, e.g.\n"
	    "build/rproc_fw_demo), validate its .resource_table, prepare the shared\n"
	    "region, start it as a child process and watch it (exit, kill, heartbeat\n"
	    "every MS ms, default 500). --restart reboots it after a crash. Stays in\n"
	    "the foreground until Ctrl-C or `amplink rproc stop`.\n"
	    "--machine mps2-an386: FIRMWARE is Cortex-M4 firmware (e.g.\n"
	    "build-mcu/fw_echo.elf) run by qemu-system-arm (--qemu, or $AMPLINK_QEMU),\n"
	    "its RAM the shared region /dev/shm/amplink-NAME, UART1 the doorbell,\n"
	    "UART0 the console (to --fw-log FILE, else stderr); --pin CPU pins QEMU.\n"
	    "--echo N: once the remote runs, play the echo demo's host over its link\n"
	    "(N messages to 'rpmsg-openamp-demo-channel', each echo checked; --size\n"
	    "as in `amplink echo`), then stop and exit with the echo's status. With\n"
	    "--restart the echo survives a crash of the remote.\n"
	    "--bench (with --machine, firmware fw_echo.elf): RPMsg round trips and\n"
	    "throughput each way against the emulated core, with the bare doorbell\n"
	    "round trip (UART2, echoed by the firmware's ISR) and a raw ring in the\n"
	    "shared RAM measured in the same run as baselines; JSON on stdout, then\n"
	    "stop.\n"
	    "--serve LINK: also be the remote of the POSIX link LINK, so that the\n"
	    "ordinary host tools work against this firmware (`amplink echo --link\n"
	    "LINK`, ls, log, motor, dash): every service the firmware announces is\n"
	    "announced there and messages are relayed both ways; hosts may come and\n"
	    "go; a firmware crash ends the host's session and, with --restart, the\n"
	    "services come back. --doorbell, --num, --buf-size as for `amplink remote`.\n"
	    "status: state, uptime, crash and recovery counts, services (and the\n"
	    "relay's counters and drops); --json: the same as one JSON object (name,\n"
	    "state, firmware, pid, backend, uptime_s, boot_uptime_s, boots, crashes,\n"
	    "recoveries, last_crash, heartbeat_ms, last_answer_ms_ago, services\n"
	    "[{name, addr}], relay), state \"offline\" when no manager runs.\n"
	    "trace: the remote's trace buffer (RSC_TRACE); --last-crash: the copy\n"
	    "saved at the last crash.\n"
	    "NAME (default rproc0) tells managers apart; the control socket is the\n"
	    "abstract UNIX socket 'amplink-rproc.NAME', for our own user only;\n"
	    "--allow-uid / --allow-gid admit another user or group to it (and to the\n"
	    "--serve link); see docs/security.md.\n");
}

static int cmd_start(int argc, char **argv, const char *name)
{
	struct al_rproc_cfg cfg = {.name = name, .log_fd = -1};
	const char *fw_log = NULL;
	static const struct option lo[] = {{"restart", no_argument, 0, 'r'},
					   {"heartbeat", required_argument, 0, 'b'},
					   {"max-restarts", required_argument, 0, 'm'},
					   {"region-size", required_argument, 0, 'z'},
					   {"fw-log", required_argument, 0, 'l'},
					   {"name", required_argument, 0, 'N'},
					   {"machine", required_argument, 0, 'M'},
					   {"qemu", required_argument, 0, 'Q'},
					   {"pin", required_argument, 0, 'P'},
					   {"echo", required_argument, 0, 'E'},
					   {"size", required_argument, 0, 'S'},
					   {"quiet", no_argument, 0, 'q'},
					   {"bench", no_argument, 0, 'B'},
					   {"serve", required_argument, 0, 'V'},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	uint32_t v;
	struct al_rproc_qemu_cfg qcfg = {0};
	struct rproc_echo_opts eo = {.bind_timeout_ms = 10000, .reply_timeout_ms = 3000};
	bool echo = false, bench = false, link_set = false;
	const char *serve = NULL;
	struct link_opts lo_relay;
	link_opts_init(&lo_relay, VIRTIO_DEV_DEVICE);
	lo_relay.cfg.doorbell_any = false;
	char raw_name[64];
	while ((c = getopt_long(argc, argv, "rhq", lo, NULL)) != -1) {
		switch (c) {
		case 'M':
			if (!al_rproc_qemu_find_machine(optarg)) {
				fprintf(
				    stderr,
				    "amplink rproc: unknown machine '%s': supported is mps2-an386 "
				    "(Cortex-M4 under QEMU)\n",
				    optarg);
				return EXIT_USAGE;
			}
			qcfg.machine = optarg;
			cfg.backend = &al_rproc_qemu_backend;
			cfg.backend_cfg = &qcfg;
			break;
		case 'Q': qcfg.qemu = optarg; break;
		case 'q': eo.quiet = true; break;
		case 'B': bench = true; break;
		case 'P':
		case 'E':
			if (!parse_u32(optarg, &v) || (c == 'P' && v > 1023)) {
				fprintf(stderr, "amplink rproc: bad number '%s'\n", optarg);
				return EXIT_USAGE;
			}
			if (c == 'P')
				qcfg.pin_cpu = (int)v + 1;
			else
				eo.count = v, echo = true;
			break;
		case 'S': {
			char *dash = strchr(optarg, '-');
			if (dash)
				*dash = '\0';
			bool ok =
			    parse_u32(optarg, &eo.smin) && (!dash || parse_u32(dash + 1, &eo.smax));
			if (!dash)
				eo.smax = eo.smin;
			if (!ok || eo.smin == 0 || eo.smax < eo.smin) {
				fprintf(stderr, "amplink rproc: bad size (N or MIN-MAX, N >= 1)\n");
				return EXIT_USAGE;
			}
			break;
		}
		case 'r': cfg.restart = true; break;
		case 'N': cfg.name = name = optarg; break;
		case 'l': fw_log = optarg; break;
		case 'b':
		case 'm':
		case 'z':
			if (!parse_u32(optarg, &v) || (c == 'b' && v == 0)) {
				fprintf(stderr, "amplink rproc: bad number '%s'\n", optarg);
				return EXIT_USAGE;
			}
			if (c == 'b')
				cfg.heartbeat_ms = v;
			else if (c == 'm')
				cfg.max_restarts = v;
			else
				cfg.region_size = v;
			break;
		case 'V': serve = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			if (c == OPT_LINK || c == OPT_PROFILE || c == OPT_SHM || c == OPT_EVENT ||
			    c == OPT_TIMEOUT || !link_opt(&lo_relay, c, optarg, "rproc")) {
				if (c >= OPT_LINK)
					fprintf(stderr,
						"amplink rproc: the relay's link is named by "
						"--serve LINK; it takes --doorbell, --num, "
						"--buf-size\n");
				usage(stderr);
				return EXIT_USAGE;
			}
			link_set = true;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cfg.firmware = argv[optind];
	if ((qcfg.qemu || qcfg.pin_cpu) && !qcfg.machine) {
		fprintf(stderr, "amplink rproc: --qemu and --pin need --machine mps2-an386\n");
		return EXIT_USAGE;
	}
	eo.survive_crash = cfg.restart;
	if (bench && !qcfg.machine) {
		fprintf(stderr,
			"amplink rproc: --bench needs --machine mps2-an386 (it measures the "
			"emulated core against its bare doorbell)\n");
		return EXIT_USAGE;
	}
	if (link_set && !serve) {
		fprintf(stderr,
			"amplink rproc: --doorbell, --num and --buf-size go with --serve LINK\n");
		return EXIT_USAGE;
	}
	if (serve && (echo || bench)) {
		fprintf(stderr,
			"amplink rproc: --serve runs the host tools outside; it does not go "
			"with --echo or --bench\n");
		return EXIT_USAGE;
	}
	if (bench) {
		/* A name nobody can guess: QEMU listens on it, and another local
		 * user who bound it first would otherwise be the "UART" the bench
		 * measures (rproc_bench.c also checks the listener's uid). */
		uint64_t nonce = 0;
		if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce)) {
			fprintf(stderr, "amplink rproc: --bench: getrandom: %s\n", strerror(errno));
			return EXIT_LINK;
		}
		snprintf(raw_name, sizeof(raw_name), "amplink-qemu.%d.%016llx.raw", (int)getpid(),
			 (unsigned long long)nonce);
		qcfg.raw_socket = raw_name;
	}
	struct mgr m = {.name = name, .lfd = -1, .serve = serve, .allow = &lo_relay.cfg.allow};
	pthread_mutex_init(&m.mu, NULL);
	m.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a;
	socklen_t al = ctl_addr(name, &a);
	if (m.lfd < 0 || bind(m.lfd, (struct sockaddr *)&a, al) < 0 || listen(m.lfd, 8) < 0) {
		fprintf(stderr, "amplink rproc: %s: %s\n", name,
			errno == EADDRINUSE
			    ? "another `amplink rproc start` already manages this name "
			      "(use --name)"
			    : strerror(errno));
		if (m.lfd >= 0)
			close(m.lfd);
		return EXIT_FAIL;
	}
	FILE *logf = NULL;
	if (fw_log) {
		logf = fopen(fw_log, "ae");
		if (!logf) {
			fprintf(stderr, "amplink rproc: cannot open %s: %s\n", fw_log,
				strerror(errno));
			close(m.lfd);
			return EXIT_FAIL;
		}
		cfg.log_fd = fileno(logf);
	}
	m.reply = malloc(REPLY_MAX);
	cfg.event_cb = on_event;
	cfg.user = &m;
	char why[256] = "";
	bool reported = false; /* al_rproc_start() said why (the diagnostics hook) */
	int rc = m.reply ? 0 : AL_ENOMEM;
	if (rc == 0 && serve) {
		struct al_rproc_relay_cfg rc_cfg = {
		    .link = lo_relay.cfg, .note = relay_note, .note_user = &m};
		rc_cfg.link.name = serve;
		rc = al_rproc_relay_create(&rc_cfg, &m.relay);
		if (rc == 0)
			al_rproc_relay_attach(m.relay, &cfg);
	}
	if (rc == 0) {
		rc = al_rproc_start(&cfg, &m.rp);
		reported = rc != 0;
	}
	if (rc == 0 && m.relay) {
		rc = al_rproc_relay_start(m.relay, m.rp);
		if (rc)
			snprintf(why, sizeof(why), "cannot start the relay");
		else
			fprintf(stderr, "amplink rproc: %s: serving its services on link '%s'\n",
				name, serve);
	}
	if (rc) {
		if (m.rp)
			al_rproc_stop(m.rp);
		al_rproc_relay_close(m.relay);
		al_rproc_close(m.rp);
		if (!reported)
			fprintf(stderr, "amplink rproc: cannot start %s: %s\n", cfg.firmware,
				why[0] ? why : al_strerror(rc));
		close(m.lfd);
		free(m.reply);
		if (logf)
			fclose(logf);
		return exit_code_for(rc);
	}
	pthread_t ctl;
	bool ctl_ok = pthread_create(&ctl, NULL, ctl_main, &m) == 0;
	struct al_metrics_server *metrics = rproc_metrics_start(name, m.rp, m.allow);
	int code = EXIT_OK;
	if (echo) { /* --echo: the echo demo over this remote's link, then stop */
		code = rproc_echo_run(m.rp, &eo);
		m.stop_req = 1;
	}
	if (bench && code == EXIT_OK) { /* --bench: RPMsg vs the bare doorbell */
		char shm[160];
		snprintf(shm, sizeof(shm), "/dev/shm/amplink-%s", name);
		code = rproc_bench_run(m.rp, qcfg.raw_socket, shm, 5000);
		m.stop_req = 1;
	}
	bool svc_ready = false; /* READY=1 sent (rproc_svc.c) */
	while (!g_stop && !m.stop_req) {
		struct timespec d = {0, 100 * 1000000L};
		nanosleep(&d, NULL);
		struct al_rproc_status st;
		al_rproc_get_status(m.rp, &st);
		rproc_svc_report(name, &st, cfg.restart, &svc_ready);
		if (st.state == AL_RPROC_CRASHED &&
		    (!cfg.restart || (cfg.max_restarts && st.recoveries >= cfg.max_restarts))) {
			fprintf(stderr, "amplink rproc: %s: not restarting (%s)\n", name,
				cfg.restart ? "--max-restarts reached" : "no --restart");
			al_svc_stopping("%s: crashed and not restarting (%s)", name,
					cfg.restart ? "--max-restarts reached" : "no --restart");
			code = EXIT_LINK;
			break;
		}
		al_svc_alive(); /* this loop turns: the watchdog may wait on */
	}
	if (code != EXIT_LINK)
		al_svc_stopping("%s: stopping", name);
	m.stop_req = 1;
	if (ctl_ok)
		pthread_join(ctl, NULL);
	close(m.lfd);
	if (m.relay) { /* the remote's callbacks end first, then the relay goes */
		al_rproc_stop(m.rp);
		struct al_rproc_relay_stats rs;
		al_rproc_relay_get_stats(m.relay, &rs);
		fprintf(stderr,
			"amplink rproc: %s: relay: %u hosts, forwarded %llu to host and %llu to "
			"firmware; dropped: no host %llu, no buffer %llu, side down %llu, too big "
			"%llu\n",
			name, rs.sessions, (unsigned long long)rs.to_host,
			(unsigned long long)rs.to_fw, (unsigned long long)rs.drop_no_host,
			(unsigned long long)rs.drop_no_buf, (unsigned long long)rs.drop_down,
			(unsigned long long)rs.drop_too_big);
		al_rproc_relay_close(m.relay);
	}
	al_metrics_server_stop(metrics);
	al_rproc_close(m.rp);
	free(m.reply);
	if (logf)
		fclose(logf);
	return code;
}

/* ---- the client ------------------------------------------------------------------- */

/* Send the manager NAME one command and print its answer: the text one
 * through term_safe (it carries the firmware's strings), JSON as it is
 * (the writer escaped them). */
static int ask(const char *name, const char *cmd, bool json, const struct al_peer_policy *allow)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a;
	socklen_t al = ctl_addr(name, &a);
	char who[160];
	bool connected = fd >= 0 && connect(fd, (struct sockaddr *)&a, al) == 0;
	if (connected && al_posix_peer_check(fd, allow, who, sizeof(who))) {
		/* anyone may bind the name first: ask only our own manager */
		fprintf(stderr,
			"amplink rproc: the process answering as manager '%s' runs as %s, not as "
			"us; not asking it (--allow-uid or --allow-gid to trust it)\n",
			name, who);
		close(fd);
		return EXIT_LINK;
	}
	if (!connected) {
		if (fd >= 0)
			close(fd);
		if (!strcmp(cmd, "status") || json) {
			if (json) {
				struct json_writer j;
				json_init(&j, stdout);
				json_object_begin(&j, NULL);
				json_string(&j, "name", name);
				json_string(&j, "state", "offline");
				json_object_end(&j);
			} else {
				printf("%s: offline (no `amplink rproc start` is running for it)\n",
				       name);
			}
			return EXIT_LINK;
		}
		fprintf(stderr, "amplink rproc: %s is not running (no `amplink rproc start`)\n",
			name);
		return EXIT_LINK;
	}
	char line[80];
	int n = snprintf(line, sizeof(line), "%s\n", cmd);
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return EXIT_FAIL;
	}
	/* The whole reply, then printed at once: service names and the trace
	 * are the firmware's text, and an escape must not split a character. */
	char *reply = NULL;
	size_t n_reply = 0, cap = 0;
	ssize_t k = 1;
	while (k > 0) {
		if (cap - n_reply < 4096) {
			char *more = realloc(reply, cap + 16384);
			if (!more)
				break;
			reply = more;
			cap += 16384;
		}
		k = read(fd, reply + n_reply, cap - n_reply);
		if (k > 0)
			n_reply += (size_t)k;
	}
	close(fd);
	if (json)
		fwrite(reply ? reply : "", 1, n_reply, stdout);
	else
		term_write(stdout, reply, n_reply, TERM_KEEP_LINES);
	free(reply);
	bool any = n_reply > 0;
	if (!strcmp(cmd, "stop")) { /* wait until the manager is gone */
		for (int i = 0; i < 100; i++) {
			int t = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			int r = connect(t, (struct sockaddr *)&a, al);
			close(t);
			if (r < 0)
				break;
			usleep(50 * 1000);
		}
	}
	return any ? EXIT_OK : EXIT_FAIL;
}

int cmd_rproc(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) /* the kernel's remoteproc: cmd_rproc_sysfs.c */
		if (!strncmp(argv[i], "--sysfs", 7) && (!argv[i][7] || argv[i][7] == '='))
			return cmd_rproc_sysfs(argc, argv);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "start"))
		return cmd_start(argc - 1, argv + 1, "rproc0");
	const char *name = "rproc0";
	bool last_crash = false, json = false;
	static const struct option lo[] = {{"name", required_argument, 0, 'N'},
					   {"last-crash", no_argument, 0, 'c'},
					   {"json", no_argument, 0, OPT_JSON},
					   {"allow-uid", required_argument, 0, OPT_ALLOW_UID},
					   {"allow-gid", required_argument, 0, OPT_ALLOW_GID},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	struct link_opts trust; /* whose manager we believe: --allow-uid/gid */
	link_opts_init(&trust, VIRTIO_DEV_DRIVER);
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", lo, NULL)) != -1) {
		if (c == OPT_ALLOW_UID || c == OPT_ALLOW_GID)
			(void)link_opt(&trust, c, optarg, "rproc");
		else if (c == 'N')
			name = optarg;
		else if (c == 'c')
			last_crash = true;
		else if (c == OPT_JSON)
			json = true;
		else if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "amplink rproc %s: unexpected argument '%s'\n", sub,
			argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (json && strcmp(sub, "status")) {
		fprintf(stderr, "amplink rproc %s: --json is for `rproc status`\n", sub);
		return EXIT_USAGE;
	}
	if (!strcmp(sub, "status"))
		return ask(name, json ? "status-json" : "status", json, &trust.cfg.allow);
	if (!strcmp(sub, "stop"))
		return ask(name, "stop", false, &trust.cfg.allow);
	if (!strcmp(sub, "trace"))
		return ask(name, last_crash ? "trace-crash" : "trace", false, &trust.cfg.allow);
	fprintf(stderr, "amplink rproc: unknown subcommand '%s' (start, status, trace, stop)\n",
		sub);
	return EXIT_USAGE;
}
