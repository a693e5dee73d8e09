/* `amplink`: the command-line tool. Dispatches subcommands and holds the
 * option handling they share. */
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

void link_opts_init(struct link_opts *o, unsigned role)
{
	memset(o, 0, sizeof(*o));
	o->cfg.name = "amplink";
	o->cfg.role = role;
	o->cfg.doorbell = AL_DB_EVENTFD;
	o->cfg.doorbell_any = true;
}

bool link_opt(struct link_opts *o, int c, const char *arg, const char *cmd)
{
	uint32_t v;
	switch (c) {
	case OPT_LINK: o->cfg.name = arg; return true;
	case OPT_PROFILE:
		if (strcmp(arg, "openamp") && strcmp(arg, "amplink")) {
			fprintf(stderr, "amplink %s: unknown profile '%s' (amplink, openamp)\n",
				cmd, arg);
			exit(EXIT_USAGE);
		}
		o->cfg.profile =
		    strcmp(arg, "openamp") == 0 ? AL_PROFILE_OPENAMP : AL_PROFILE_AMPLINK;
		return true;
	case OPT_SHM: o->cfg.shm_path = arg; return true;
	case OPT_EVENT: o->cfg.event_path = arg; return true;
	case OPT_DOORBELL: {
		int k = al_doorbell_parse(arg);
		if (k < 0) {
			fprintf(
			    stderr,
			    "amplink %s: unknown doorbell '%s' (eventfd, futex, poll, adaptive)\n",
			    cmd, arg);
			exit(EXIT_USAGE);
		}
		o->cfg.doorbell = (enum al_doorbell_kind)k;
		o->cfg.doorbell_any = false;
		return true;
	}
	case OPT_NUM:
	case OPT_BUFSIZE:
	case OPT_TIMEOUT:
		if (!parse_u32(arg, &v)) {
			fprintf(stderr, "amplink %s: '%s' is not a number\n", cmd, arg);
			exit(EXIT_USAGE);
		}
		if (c == OPT_NUM)
			o->cfg.num = v;
		else if (c == OPT_BUFSIZE)
			o->cfg.buf_size = v;
		else
			o->cfg.connect_timeout_ms = v;
		return true;
	default: return false;
	}
}

const char *link_usage(void)
{
	return "link options:\n"
	       "  --link NAME        link name (default amplink); both sides must agree\n"
	       "  --doorbell KIND    eventfd | futex | poll | adaptive (remote: offered,\n"
	       "                     default eventfd; host: required, default any)\n"
	       "  --num N            vring entries (remote: default 256; host: expected)\n"
	       "  --buf-size BYTES   buffer size incl. 16-byte header (default 512)\n"
	       "  --timeout MS       how long to wait for the peer (default 5000)\n"
	       "  --profile P        amplink (default) | openamp: OpenAMP's Linux reference\n"
	       "                     machine layout and socket doorbell (docs/openamp-profile.md)\n"
	       "  --shm PATH         openamp profile: shared file (/dev/shm/openamp.shm)\n"
	       "  --event PATH       openamp profile: doorbell socket (/tmp/openamp.event.0)\n";
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

#if !defined(AMPLINK_DASH_MAIN) && !defined(AMPLINK_BRIDGE_MAIN)
static void usage(FILE *f)
{
	fprintf(f, "usage: amplink COMMAND [options]\n\n"
		   "RPMsg between two processes over shared memory (a host and a remote core).\n\n"
		   "commands:\n"
		   "  remote   run a remote core: echo service(s), name-service announcements\n"
		   "  echo     the host side of the echo demo: send, check every echo\n"
		   "  ls       list the services the remote announced, with link counters\n"
		   "  send     send one message to a service\n"
		   "  recv     receive messages from a service\n"
		   "  bench    measure latency, throughput, CPU against baselines\n"
		   "  log      follow the remote's log (stdout, file or syslog)\n"
		   "  motor    motor + sensor demo host: set duty, print/store telemetry\n"
#ifdef AMPLINK_HAVE_DASH
		   "  dash     telemetry web page (SQLite + live chart) on 127.0.0.1\n"
#endif
#ifdef AMPLINK_HAVE_BRIDGE
		   "  bridge   forward channels to an MQTT broker and back (`bridge mqtt`)\n"
#endif
		   "\n"
		   "`amplink COMMAND --help` describes each. Exit codes: 0 ok, 1 failure,\n"
		   "2 usage, 3 link (no peer, refused, lost, broken), 4 data mismatch.\n");
}

#endif

#ifdef AMPLINK_DASH_MAIN
/* amplink-dash: the web page on its own (see tools/CMakeLists.txt). */
int main(int argc, char **argv)
{
	install_signals();
	return cmd_dash(argc, argv);
}
#elif defined(AMPLINK_BRIDGE_MAIN)
/* amplink-bridge: the MQTT bridge on its own (libmosquitto; see
 * tools/CMakeLists.txt). */
int main(int argc, char **argv)
{
	install_signals();
	return cmd_bridge(argc, argv);
}
#else
#ifdef AMPLINK_HAVE_BRIDGE
/* `amplink bridge ...` runs amplink-bridge from the same directory. */
static int cmd_bridge_exec(int argc, char **argv)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 16);
	if (n <= 0) {
		fprintf(stderr, "amplink bridge: cannot find my own executable\n");
		return EXIT_FAIL;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	strcpy(slash ? slash + 1 : self, "amplink-bridge");
	argv[0] = self;
	(void)argc;
	execv(self, argv);
	fprintf(stderr,
		"amplink bridge: cannot run %s: %s (install amplink-bridge next to amplink)\n",
		self, strerror(errno));
	return EXIT_FAIL;
}
#else
static int cmd_bridge_exec(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "amplink bridge: not built: libmosquitto was missing when amplink was "
			"built (apt-get install libmosquitto-dev, then rebuild)\n");
	return EXIT_FAIL;
}
#endif

#ifdef AMPLINK_HAVE_DASH
/* `amplink dash ...` runs amplink-dash from the same directory. */
static int cmd_dash_exec(int argc, char **argv)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 16);
	if (n <= 0) {
		fprintf(stderr, "amplink dash: cannot find my own executable\n");
		return EXIT_FAIL;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	strcpy(slash ? slash + 1 : self, "amplink-dash");
	argv[0] = self;
	(void)argc;
	execv(self, argv);
	fprintf(stderr, "amplink dash: cannot run %s: %s (install amplink-dash next to amplink)\n",
		self, strerror(errno));
	return EXIT_FAIL;
}
#endif

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
	    {"remote", cmd_remote},
	    {"echo", cmd_echo},
	    {"ls", cmd_ls},
	    {"send", cmd_send},
	    {"recv", cmd_recv},
	    {"bench", cmd_bench},
	    {"log", cmd_log},
	    {"motor", cmd_motor},
	    {"rproc", cmd_rproc},
#ifdef AMPLINK_HAVE_DASH
	    {"dash", cmd_dash_exec},
#endif
	    {"bridge", cmd_bridge_exec}, /* amplink-bridge, or why it is missing */
	};
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i].name)) {
			install_signals();
			return cmds[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "amplink: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
#endif /* AMPLINK_DASH_MAIN, AMPLINK_BRIDGE_MAIN */
