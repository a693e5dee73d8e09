/* `amplink`: the command-line tool. The command table, the usage and help
 * generated from it, dispatch, and what every command shares at run time:
 * signals, number parsing, exit codes. Also the main() of amplink-dash and
 * amplink-bridge, which are built from the same sources. */
#define _GNU_SOURCE
#include "amplink.h"
#include "amplink/linux/diag.h"

#include <errno.h>
#include <unistd.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile int g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* The libraries' diagnostics (amplink/linux/diag.h) go to stderr, one
 * line each, as "amplink: <what>". */
static void diag_to_stderr(int level, const char *msg, void *arg)
{
	(void)level, (void)arg;
	fprintf(stderr, "amplink: %s\n", msg);
}

struct diag_buf {
	char *buf;
	size_t cap;
};

static void diag_to_buf(int level, const char *msg, void *arg)
{
	(void)level;
	struct diag_buf *b = arg;
	snprintf(b->buf, b->cap, "%s", msg);
}

void diag_capture(char *buf, size_t cap)
{
	static struct diag_buf b;
	if (!buf || !cap) {
		al_diag_set_handler(diag_to_stderr, NULL);
		return;
	}
	b = (struct diag_buf){buf, cap};
	buf[0] = '\0';
	al_diag_set_handler(diag_to_buf, &b);
}

void install_signals(void)
{
	al_diag_set_handler(diag_to_stderr, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	if (!s || !*s)
		return false;
	unsigned long long v = strtoull(s, &end, 0);
	if (*end || v > 0xFFFFFFFFull)
		return false;
	*out = (uint32_t)v;
	return true;
}

int exit_code_for(int err)
{
	switch (err) {
	case AL_OK: return EXIT_OK;
	case AL_ETIMEDOUT:
	case AL_EPERM:
	case AL_EINIT:
	case AL_ENOLINK:
	case AL_EBROKEN:
	case AL_EADDR: return EXIT_LINK;
	default: return EXIT_FAIL;
	}
}

#ifdef AMPLINK_DASH_MAIN
/* amplink-dash: the web page on its own (see apps/CMakeLists.txt). */
int main(int argc, char **argv)
{
	install_signals();
	return cmd_dash(argc, argv);
}
#elif defined(AMPLINK_BRIDGE_MAIN)
/* amplink-bridge: the MQTT bridge on its own (libmosquitto; see
 * apps/CMakeLists.txt). */
int main(int argc, char **argv)
{
	install_signals();
	return cmd_bridge(argc, argv);
}
#else
#if defined(AMPLINK_HAVE_DASH) || defined(AMPLINK_HAVE_BRIDGE)
/* `amplink dash` and `amplink bridge` run amplink-dash and amplink-bridge
 * from amplink's own directory, so that only they load libmicrohttpd (with
 * GnuTLS) and libmosquitto (with OpenSSL). */
static int exec_sibling(const char *cmd, const char *exe, char **argv)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 32);
	if (n <= 0) {
		fprintf(stderr, "amplink %s: cannot find my own executable\n", cmd);
		return EXIT_FAIL;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	strcpy(slash ? slash + 1 : self, exe);
	argv[0] = self;
	execv(self, argv);
	fprintf(stderr, "amplink %s: cannot run %s: %s (install %s next to amplink)\n", cmd, self,
		strerror(errno), exe);
	return EXIT_FAIL;
}
#endif

#ifdef AMPLINK_HAVE_DASH
static int cmd_dash_exec(int argc, char **argv)
{
	(void)argc;
	return exec_sibling("dash", "amplink-dash", argv);
}
#define DASH_RUN   cmd_dash_exec
#define DASH_BUILT true
#else
#define DASH_RUN   NULL /* not built: `amplink dash` is an unknown command */
#define DASH_BUILT false
#endif

#ifdef AMPLINK_HAVE_BRIDGE
#define BRIDGE_BUILT true
static int cmd_bridge_exec(int argc, char **argv)
{
	(void)argc;
	return exec_sibling("bridge", "amplink-bridge", argv);
}
#else
#define BRIDGE_BUILT false
/* not built: `amplink bridge` says why */
static int cmd_bridge_exec(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "amplink bridge: not built: libmosquitto was missing when amplink was "
			"built (apt-get install libmosquitto-dev, then rebuild)\n");
	return EXIT_FAIL;
}
#endif

struct command {
	const char *name;
	const char *summary;		   /* one line in the usage */
	int (*run)(int argc, char **argv); /* argv[0] is the command's name */
	bool built; /* false: left out of the usage (run, if any, says why) */
};

static const struct command commands[] = {
    {"remote", "run a remote core: echo service(s), name-service announcements", cmd_remote, true},
    {"echo", "the host side of the echo demo: send, check every echo", cmd_echo, true},
    {"ls", "list the services the remote announced, with link counters", cmd_ls, true},
    {"stats", "a running link's counters: once, --watch, --json, Prometheus", cmd_stats, true},
    {"send", "send one message to a service", cmd_send, true},
    {"recv", "receive messages from a service", cmd_recv, true},
    {"bench", "measure latency, throughput, CPU against baselines", cmd_bench, true},
    {"log", "follow the remote's log (stdout, file or syslog)", cmd_log, true},
    {"rproc", "run a remote's firmware: start, watch, restart, status, trace, stop", cmd_rproc,
     true},
    {"motor", "motor + sensor demo host: set duty, print/store telemetry", cmd_motor, true},
    {"dash", "telemetry web page (SQLite + live chart) on 127.0.0.1", DASH_RUN, DASH_BUILT},
    {"bridge", "forward channels to an MQTT broker and back (`bridge mqtt`)", cmd_bridge_exec,
     BRIDGE_BUILT},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: amplink COMMAND [options]\n"
		   "       amplink help [COMMAND]\n\n"
		   "RPMsg between two processes over shared memory (a host and a remote core).\n\n"
		   "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].built)
			fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n"
		   "`amplink help COMMAND` (or `amplink COMMAND --help`) describes each.\n"
		   "--link kernel (or kernel:/dev/rpmsg_ctrlN) makes echo, send, recv, ls, log\n"
		   "and motor use the Linux kernel's rpmsg_char instead.\n"
		   "Exit codes: 0 ok, 1 failure, 2 usage, 3 link (no peer, service absent,\n"
		   "not found, refused, lost, broken), 4 data mismatch, 5 the kernel lacks the\n"
		   "interface (rpmsg bus, rpmsg_ctrl, /dev node, remoteproc), 6 permission\n"
		   "denied.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].name) && commands[i].run)
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	fprintf(stderr, "amplink: unknown command '%s'\n\n", name);
	usage(stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		if (strcmp(name, "help") || argc == 2) {
			usage(stdout);
			return EXIT_OK;
		}
		if (argc > 3) {
			fprintf(stderr, "usage: amplink help [COMMAND]\n");
			return EXIT_USAGE;
		}
		/* `amplink help COMMAND` is `amplink COMMAND --help` */
		const struct command *cmd = find_command(argv[2]);
		if (!cmd)
			return unknown_command(argv[2]);
		char help[] = "--help";
		char *args[] = {argv[2], help, NULL};
		return cmd->run(2, args);
	}
	const struct command *cmd = find_command(name);
	if (!cmd)
		return unknown_command(name);
	install_signals();
	return cmd->run(argc - 1, argv + 1);
}
#endif /* AMPLINK_DASH_MAIN, AMPLINK_BRIDGE_MAIN */
