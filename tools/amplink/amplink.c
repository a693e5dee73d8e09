/* `amplink`: the command-line tool. Dispatches commands and holds what
 * every command shares at run time: signals, number parsing, exit codes.
 * Also the main() of amplink-dash and amplink-bridge. */
#define _GNU_SOURCE
#include "amplink.h"

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

void install_signals(void)
{
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
