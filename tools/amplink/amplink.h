/* Shared pieces of the `amplink` command-line tool: link options, exit
 * codes, subcommand entry points. */
#ifndef AMPLINK_TOOL_H
#define AMPLINK_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/linux/posix.h"

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
};

/* getopt_long codes for the link options (>= 256 so they never clash). */
enum {
	OPT_LINK = 256,
	OPT_DOORBELL,
	OPT_NUM,
	OPT_BUFSIZE,
	OPT_TIMEOUT,
	OPT_PROFILE,
	OPT_SHM,
	OPT_EVENT
};
#define LINK_LONGOPTS                                                                              \
	{"link", required_argument, 0, OPT_LINK},                                                  \
	    {"doorbell", required_argument, 0, OPT_DOORBELL},                                      \
	    {"num", required_argument, 0, OPT_NUM},                                                \
	    {"buf-size", required_argument, 0, OPT_BUFSIZE},                                       \
	    {"timeout", required_argument, 0, OPT_TIMEOUT},                                        \
	    {"profile", required_argument, 0, OPT_PROFILE},                                        \
	    {"shm", required_argument, 0, OPT_SHM},                                                \
	{                                                                                          \
		"event", required_argument, 0, OPT_EVENT                                           \
	}

void link_opts_init(struct link_opts *o, unsigned role);
/* Handle one link option; returns false if `c` is not one (or is bad). */
bool link_opt(struct link_opts *o, int c, const char *arg, const char *cmd);
const char *link_usage(void);
/* Parse an unsigned number (decimal or 0x..); false if not a number. */
bool parse_u32(const char *s, uint32_t *out);
/* Exit code for an amplink error. */
int exit_code_for(int err);
/* Set by SIGINT/SIGTERM. */
extern volatile int g_stop;
void install_signals(void);

int cmd_remote(int argc, char **argv);
int cmd_echo(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_rproc(int argc, char **argv); /* cmd_rproc.c: remoteproc (issue 5) */
int cmd_bench(int argc, char **argv);
/* cmd_rproc_sysfs.c: `rproc ... --sysfs`, the kernel's remoteproc */
int cmd_rproc_sysfs(int argc, char **argv);
int cmd_log(int argc, char **argv);    /* cmd_log.c */
int cmd_motor(int argc, char **argv);  /* cmd_motor.c */
int cmd_dash(int argc, char **argv);   /* cmd_dash.c, if libmicrohttpd + SQLite */
int cmd_bridge(int argc, char **argv); /* cmd_bridge.c, if libmosquitto */

#endif
