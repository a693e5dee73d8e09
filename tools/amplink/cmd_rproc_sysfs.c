/* `amplink rproc ... --sysfs`: the kernel's own remoteproc (boards where
 * Linux boots the M-core: i.MX8, STM32MP1, AM6x) driven through
 * /sys/class/remoteproc and debugfs, with the kernel's rpmsg channels in
 * `status`. The library side is include/amplink/linux/rproc_sysfs.h;
 * cmd_rproc.c hands every command line with --sysfs to cmd_rproc_sysfs(). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amplink.h"
#include "amplink/linux/rpmsg_char.h"
#include "amplink/linux/rproc_sysfs.h"

#define TRACE_BUF_SZ (256 * 1024)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: amplink rproc start [FIRMWARE] --sysfs[=ROOT] [--index N | --name NAME]\n"
		"                           [--recovery on|off]\n"
		"       amplink rproc stop   --sysfs[=ROOT] [--index N | --name NAME]\n"
		"       amplink rproc status --sysfs[=ROOT] [--index N | --name NAME] [--json]\n"
		"       amplink rproc trace  --sysfs[=ROOT] [--index N | --name NAME]\n"
		"       options for tests: --debugfs DIR (default ROOT/kernel/debug),\n"
		"                          --firmware-dir DIR (default /lib/firmware)\n\n"
		"The kernel's remoteproc (/sys/class/remoteproc/remoteprocN), for boards where\n"
		"Linux itself boots the remote core. ROOT defaults to /sys. Without --index or\n"
		"--name: the lowest-numbered remoteproc (status: all of them).\n"
		"start: with FIRMWARE, check the file is in the kernel's firmware search path\n"
		"(/lib/firmware/updates/$(uname -r), /lib/firmware/updates,\n"
		"/lib/firmware/$(uname -r), /lib/firmware; a plain file name, no '/') and write\n"
		"it to `firmware` (only while offline); then write \"start\". A running remote\n"
		"is refused: Linux would take a second reference silently.\n"
		"stop: write \"stop\" and check the remote really stopped.\n"
		"--recovery on|off: automatic restart after a crash (sysfs or debugfs\n"
		"`recovery`), set before starting; with status, set and show.\n"
		"status: state, firmware, recovery, coredump, trace buffer, and the kernel's\n"
		"rpmsg channels (/sys/bus/rpmsg/devices); --json for scripts.\n"
		"trace: the firmware's trace buffer (debugfs trace0; root only).\n\n"
		"exit codes, as for every amplink command: 0 ok; 1 failure (the kernel's\n"
		"error, an I/O error); 2 usage (bad option, bad firmware name); 3 not found or\n"
		"refused (no such remoteproc, firmware file missing, no trace buffer, already\n"
		"running, not offline, still running after stop); 5 the kernel lacks the\n"
		"interface (no /sys/class/remoteproc, debugfs not mounted); 6 permission\n"
		"denied (not root, or the driver made the files read-only).\n");
}

/* The library said why on stderr (the diagnostics hook): the exit code. */
static int fail(int rc)
{
	return kernel_exit_code(rc);
}

static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	}
	putchar('"');
}

/* Names of channels come from the remote: print them with odd bytes escaped. */
static void text_str(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			printf("\\x%02x", *c);
		else
			putchar(*c);
	}
}

struct status_ctx {
	const struct al_rpmsg_char_cfg *rc;
	bool json;
	int shown;
	int err; /* first error */
};

static void channels(const struct status_ctx *sc)
{
	struct al_rpmsg_chan_info ci[64];
	char why[512] = "";
	/* channels are extra here: their absence is a line of status, not an error */
	diag_capture(why, sizeof(why));
	int n = al_rpmsg_char_list(sc->rc, ci, 64);
	diag_capture(NULL, 0);
	if (sc->json) {
		printf(",\"channels\":[");
		for (int i = 0; i < n && i < 64; i++) {
			printf("%s{\"dev\":", i ? "," : "");
			json_str(ci[i].dev);
			printf(",\"name\":");
			json_str(ci[i].name);
			printf(",\"src\":%u,\"dst\":%u,\"announce\":%s,\"driver\":",
			       (unsigned)ci[i].src, (unsigned)ci[i].dst,
			       ci[i].announce ? "true" : "false");
			json_str(ci[i].driver);
			printf(",\"node\":%d,\"ctrl\":%d}", ci[i].node, ci[i].ctrl);
		}
		printf("]");
		return;
	}
	if (n < 0) {
		printf("  channels:   none (%s)\n", why);
		return;
	}
	printf("  channels:%s\n", n ? "" : "   none");
	for (int i = 0; i < n && i < 64; i++) {
		printf("    ");
		text_str(ci[i].name);
		printf("  src 0x%x dst 0x%x", (unsigned)ci[i].src, (unsigned)ci[i].dst);
		if (ci[i].node >= 0)
			printf("  /dev/rpmsg%d", ci[i].node);
		if (ci[i].ctrl >= 0)
			printf("  /dev/rpmsg_ctrl%d", ci[i].ctrl);
		printf("  (%s)\n", ci[i].driver[0] ? ci[i].driver : "no driver");
	}
}

static void show(const struct al_rproc_sysfs *crp, void *arg)
{
	struct status_ctx *sc = arg;
	struct al_rproc_sysfs *rp = (struct al_rproc_sysfs *)crp;
	struct al_rproc_sysfs_status st;
	int rc = al_rproc_sysfs_get_status(rp, &st);
	if (rc) {
		if (!sc->err)
			sc->err = rc; /* the library said why */
		return;
	}
	if (sc->json) {
		printf("%s{\"dev\":", sc->shown ? "," : "");
		json_str(rp->dev);
		printf(",\"index\":%d,\"name\":", rp->index);
		json_str(rp->name);
		printf(",\"state\":");
		json_str(st.state_raw);
		printf(",\"firmware\":");
		json_str(st.firmware);
		printf(",\"recovery\":%s,\"coredump\":", st.recovery < 0 ? "null"
							 : st.recovery	 ? "true"
									 : "false");
		json_str(st.coredump);
		printf(",\"trace\":%s}", st.trace ? "true" : "false");
	} else {
		printf("%s (%s): %s%s\n", rp->dev, rp->name, st.state_raw,
		       st.state == AL_RPS_UNKNOWN ? " (a state this tool does not know)" : "");
		printf("  firmware:   %s\n", st.firmware[0] ? st.firmware : "(none)");
		printf("  recovery:   %s\n", st.recovery < 0 ? "(not exposed)"
					     : st.recovery   ? "enabled"
							     : "disabled");
		if (st.coredump[0])
			printf("  coredump:   %s\n", st.coredump);
		printf("  trace:      %s\n",
		       st.trace ? "trace0 in debugfs (amplink rproc trace --sysfs)"
				: "none visible (not running, no RSC_TRACE, or debugfs not "
				  "mounted / not root)");
	}
	sc->shown++;
}

int cmd_rproc_sysfs(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		}
	}
	if (argc < 2 || argv[1][0] == '-') {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *sub = argv[1];
	struct al_rproc_sysfs_cfg cfg = {0};
	struct al_rpmsg_char_cfg rcfg = {0};
	const char *name = NULL, *recovery = NULL;
	int index = -1;
	bool json = false;
	static const struct option lo[] = {{"sysfs", optional_argument, 0, 's'},
					   {"debugfs", required_argument, 0, 'd'},
					   {"firmware-dir", required_argument, 0, 'f'},
					   {"index", required_argument, 0, 'i'},
					   {"name", required_argument, 0, 'N'},
					   {"json", no_argument, 0, 'j'},
					   {"recovery", required_argument, 0, 'r'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	int c;
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (optarg && !optarg[0]) {
				fprintf(stderr, "amplink rproc: empty --sysfs root\n");
				return EXIT_USAGE;
			}
			cfg.sysfs_root = rcfg.sysfs_root = optarg;
			break;
		case 'd': cfg.debugfs_root = optarg; break;
		case 'f': cfg.firmware_root = optarg; break;
		case 'N': name = optarg; break;
		case 'j': json = true; break;
		case 'r':
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "amplink rproc: --recovery takes on or off\n");
				return EXIT_USAGE;
			}
			recovery = optarg;
			break;
		case 'i': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (!optarg[0] || *end || v < 0 || v > 999999) {
				fprintf(stderr, "amplink rproc: bad index '%s'\n", optarg);
				return EXIT_USAGE;
			}
			index = (int)v;
			break;
		}
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	int nargs = argc - 1 - optind;
	const char *fw = nargs >= 1 ? argv[1 + optind] : NULL;
	if (index >= 0 && name) {
		fprintf(stderr, "amplink rproc: --index or --name, not both\n");
		return EXIT_USAGE;
	}
	bool is_start = !strcmp(sub, "start");
	if (!is_start && strcmp(sub, "stop") && strcmp(sub, "status") && strcmp(sub, "trace")) {
		fprintf(stderr,
			"amplink rproc: unknown subcommand '%s' with --sysfs (start, stop, "
			"status, trace)\n",
			sub);
		return EXIT_USAGE;
	}
	if (nargs > (is_start ? 1 : 0)) {
		fprintf(stderr, "amplink rproc %s: unexpected argument '%s'\n", sub,
			argv[1 + optind + (is_start ? 1 : 0)]);
		return EXIT_USAGE;
	}
	if (json && strcmp(sub, "status")) {
		fprintf(stderr, "amplink rproc: --json goes with status\n");
		return EXIT_USAGE;
	}
	if (recovery && (!strcmp(sub, "stop") || !strcmp(sub, "trace"))) {
		fprintf(stderr, "amplink rproc: --recovery goes with start or status\n");
		return EXIT_USAGE;
	}

	static struct al_rproc_sysfs rp;
	if (!strcmp(sub, "status") && index < 0 && !name && !recovery) {
		struct status_ctx sc = {.rc = &rcfg, .json = json};
		if (json)
			printf("{\"remoteprocs\":[");
		int n = al_rproc_sysfs_foreach(&cfg, show, &sc);
		if (json) {
			printf("]");
			channels(&sc);
			printf("%s}\n", n < 0 ? ",\"error\":\"no remoteproc class\"" : "");
		} else if (n >= 0) {
			if (n == 0)
				printf("no remoteproc registered (the class exists)\n");
			channels(&sc);
		}
		if (n < 0)
			return fail(n);
		return n == 0 ? EXIT_LINK : kernel_exit_code(sc.err);
	}
	int rc = al_rproc_sysfs_open(&rp, &cfg, index, name);
	if (rc)
		return fail(rc);
	if (recovery) {
		rc = al_rproc_sysfs_set_recovery(&rp, !strcmp(recovery, "on"));
		if (rc)
			return fail(rc);
	}
	if (!strcmp(sub, "status")) {
		struct status_ctx sc = {.rc = &rcfg, .json = json};
		if (json)
			printf("{\"remoteprocs\":[");
		show(&rp, &sc);
		if (json)
			printf("]");
		if (sc.shown)
			channels(&sc);
		if (json)
			printf("}\n");
		return kernel_exit_code(sc.err);
	}
	if (is_start) {
		if (fw) {
			rc = al_rproc_sysfs_set_firmware(&rp, fw);
			if (rc)
				return fail(rc);
		}
		rc = al_rproc_sysfs_start(&rp);
		if (rc)
			return fail(rc);
		enum al_rproc_sysfs_state st;
		char raw[32];
		al_rproc_sysfs_state(&rp, &st, raw, sizeof(raw));
		printf("%s (%s): started, state %s\n", rp.dev, rp.name, raw);
		return EXIT_OK;
	}
	if (!strcmp(sub, "stop")) {
		rc = al_rproc_sysfs_stop(&rp);
		if (rc)
			return fail(rc);
		printf("%s (%s): stopped\n", rp.dev, rp.name);
		return EXIT_OK;
	}
	char *buf = malloc(TRACE_BUF_SZ);
	if (!buf) {
		fprintf(stderr, "amplink rproc: out of memory\n");
		return EXIT_FAIL;
	}
	long n = al_rproc_sysfs_read_trace(&rp, 0, buf, TRACE_BUF_SZ);
	if (n >= 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		if (n > 0 && buf[n - 1] != '\n')
			putchar('\n');
	}
	free(buf);
	return n < 0 ? fail((int)n) : EXIT_OK;
}
