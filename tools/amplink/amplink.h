/* Shared pieces of the `amplink` command-line tool: exit codes, link
 * options and the host's way onto a link (link_opts.c), signals, and the
 * commands' entry points (one cmd_*.c each). */
#ifndef AMPLINK_TOOL_H
#define AMPLINK_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/linux/posix.h"

struct al_channel;

/* Exit codes scripts can rely on. */
#define EXIT_OK	      0
#define EXIT_FAIL     1 /* runtime failure */
#define EXIT_USAGE    2 /* bad command line */
#define EXIT_LINK     3 /* no peer, refused, link lost or broken */
#define EXIT_MISMATCH 4 /* data came back wrong */

#define DEFAULT_SERVICE "rpmsg-openamp-demo-channel"

/* Options every subcommand takes (see link_usage()). */
struct link_opts {
	struct al_posix_cfg cfg;
	bool doorbell_set;
	uint32_t allow_uid[8], allow_gid[8]; /* --allow-uid, --allow-gid */
};

/* getopt_long codes for the options several commands share (>= 256 so
 * they never clash with a command's own). */
enum {
	OPT_LINK = 256,
	OPT_DOORBELL,
	OPT_NUM,
	OPT_BUFSIZE,
	OPT_TIMEOUT,
	OPT_PROFILE,
	OPT_SHM,
	OPT_EVENT,
	OPT_ALLOW_UID,
	OPT_ALLOW_GID,
	OPT_JSON /* --json, for the commands with machine-readable output */
};
#define LINK_LONGOPTS                                                                              \
	{"link", required_argument, 0, OPT_LINK},                                                  \
	    {"doorbell", required_argument, 0, OPT_DOORBELL},                                      \
	    {"num", required_argument, 0, OPT_NUM},                                                \
	    {"buf-size", required_argument, 0, OPT_BUFSIZE},                                       \
	    {"timeout", required_argument, 0, OPT_TIMEOUT},                                        \
	    {"profile", required_argument, 0, OPT_PROFILE},                                        \
	    {"shm", required_argument, 0, OPT_SHM},                                                \
	    {"allow-uid", required_argument, 0, OPT_ALLOW_UID},                                    \
	    {"allow-gid", required_argument, 0, OPT_ALLOW_GID},                                    \
	{                                                                                          \
		"event", required_argument, 0, OPT_EVENT                                           \
	}

/* link_opts.c */
void link_opts_init(struct link_opts *o, unsigned role);
/* Handle one link option; returns false if `c` is not one (or is bad). */
bool link_opt(struct link_opts *o, int c, const char *arg, const char *cmd);
const char *link_usage(void);
/* Attach to the link as host (the virtio driver), services tracked. */
int host_open(struct link_opts *o, struct al_posix_link **link);
void host_close(struct al_posix_link *link);
/* host_open() and open SERVICE's channel; on failure says why on stderr
 * (as `amplink CMD: ...`) and leaves nothing open. */
int host_open_channel(struct link_opts *o, const char *service, const char *cmd,
		      struct al_posix_link **link, struct al_channel **ch);

/* amplink.c */
/* Parse an unsigned number (decimal or 0x..); false if not a number. */
bool parse_u32(const char *s, uint32_t *out);
/* Exit code for an amplink error. */
int exit_code_for(int err);
/* Set by SIGINT/SIGTERM. */
extern volatile int g_stop;
void install_signals(void);

/* The commands, each in its own file: cmd_NAME.c in tools/amplink, or in
 * apps/NAME for the demo applications (motor, dash, bridge). dash and
 * bridge are their own executables (amplink-dash, amplink-bridge), built
 * only when libmicrohttpd + SQLite and libmosquitto are there. */
int cmd_remote(int argc, char **argv);
int cmd_echo(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_rproc(int argc, char **argv);
int cmd_motor(int argc, char **argv);
int cmd_dash(int argc, char **argv);
int cmd_bridge(int argc, char **argv);
int cmd_rproc_sysfs(int argc, char **argv); /* `rproc ... --sysfs`: the kernel\'s remoteproc */

#endif
