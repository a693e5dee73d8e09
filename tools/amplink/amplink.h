/* Shared pieces of the `amplink` command-line tool: exit codes, link
 * options and the host's way onto a link (link_opts.c), signals, and the
 * commands' entry points (one cmd_*.c each). */
#ifndef AMPLINK_TOOL_H
#define AMPLINK_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amplink/linux/posix.h"

struct al_channel;
struct al_rpmsg_char_cfg;

/* Exit codes scripts can rely on. */
#define EXIT_OK	      0
#define EXIT_FAIL     1 /* runtime failure */
#define EXIT_USAGE    2 /* bad command line */
#define EXIT_LINK     3 /* no peer, service absent, not found, refused, link lost or broken */
#define EXIT_MISMATCH 4 /* data came back wrong */
#define EXIT_NOKERNEL                                                                              \
	5	    /* the kernel lacks the interface (no rpmsg bus, rpmsg_ctrl or                 \
		     * /dev node; no remoteproc class; debugfs not mounted) */
#define EXIT_PERM 6 /* permission denied (run as root, or a udev rule) */

#define DEFAULT_SERVICE "rpmsg-openamp-demo-channel"

/* Options every subcommand takes (see link_usage()). */
struct link_opts {
	struct al_posix_cfg cfg;
	bool link_set, doorbell_set, num_set, buf_size_set; /* given on the command line */
	const char *cmd;		     /* the command that parsed them, for messages */
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
/* --link kernel or kernel:CTRL: the kernel's rpmsg_char instead of a link
 * of amplink's own. */
bool link_is_kernel(const struct link_opts *o);
/* Where the kernel's trees are: NULL (/sys, /dev), or for tests
 * $AMPLINK_KERNEL_ROOT/sys and $AMPLINK_KERNEL_ROOT/dev. */
const struct al_rpmsg_char_cfg *kernel_cfg(void);
/* Exit code for an error of the kernel's interfaces (rpmsg_char, and the
 * remoteproc of `rproc --sysfs`): AL_EINVAL usage, AL_ENOLINK no kernel
 * interface, AL_EPERM permission, AL_ETIMEDOUT / AL_EADDR / AL_ESTATE
 * absent, not found or refused (EXIT_LINK), others EXIT_FAIL. */
int kernel_exit_code(int err);
/* Exit code for a failure to open a link or a channel: kernel_exit_code()
 * on the kernel, exit_code_for() on amplink's own link. */
int open_exit_code(const struct link_opts *o, int err);
/* The largest message a channel sends (rx false) or receives (rx true):
 * the link's buffers less the header; on the kernel 496 bytes to send
 * (virtio rpmsg's 512-byte buffers: the kernel does not tell user space)
 * and AL_RPMSG_CHAR_MSG_MAX to receive. */
int channel_payload_max(struct al_channel *ch, bool rx);
/* Handle one link option; returns false if `c` is not one (or is bad). */
bool link_opt(struct link_opts *o, int c, const char *arg, const char *cmd);
/* Whether the link options go together, once all are parsed: in the
 * OpenAMP profile --link and --doorbell do not apply and the layout fixes
 * --num (256) and --buf-size (512). Says why on stderr naming the option;
 * returns 0 or AL_EINVAL (exit with EXIT_USAGE). host_open() calls it
 * and exits with EXIT_USAGE, before it connects. */
int link_opts_check(const struct link_opts *o);
/* What the messages call the link: "link 'NAME'", or in the OpenAMP
 * profile "OpenAMP event socket PATH" (it has no link name). */
const char *link_where(const struct link_opts *o);
/* The largest payload the link will carry, if known before connecting:
 * 496 in the OpenAMP profile, --buf-size less the header if given, else 0
 * (the remote decides). */
uint32_t link_payload_max_known(const struct link_opts *o);
const char *link_usage(void);
/* Attach to the link as host (the virtio driver), services tracked. On
 * the kernel there is nothing to attach to: 0 and *link NULL. */
int host_open(struct link_opts *o, struct al_posix_link **link);
void host_close(struct al_posix_link *link);
/* Open SERVICE's channel by name on what host_open() gave: the link's
 * (al_channel_open) or the kernel's (al_channel_open_kernel), waiting up
 * to timeout_ms for the remote to announce it. Says nothing. */
int host_channel(const struct link_opts *o, struct al_posix_link *link, const char *service,
		 uint32_t timeout_ms, struct al_channel **ch);
/* host_open() and host_channel() (--timeout, default 5000 ms); on
 * failure says why on stderr (as `amplink CMD: ...`) and leaves nothing
 * open. Exit with open_exit_code(). */
int host_open_channel(struct link_opts *o, const char *service, const char *cmd,
		      struct al_posix_link **link, struct al_channel **ch);
/* For code that opens its channels through a callback (the motor demo's
 * host, the dashboard): host_channel() on `o` and `link`, remembering the
 * first service that could not be opened. */
struct host_via {
	const struct link_opts *o;
	struct al_posix_link *link;
	const char *failed;
};
int host_via_open(void *via, const char *service, uint32_t timeout_ms, struct al_channel **out);
/* Say on stderr why opening SERVICE failed (the kernel's distinctions
 * included). */
void host_channel_failed(const struct link_opts *o, const char *service, const char *cmd, int err);

/* host_metrics.c: what a process holding a link serves to `amplink
 * stats` and the dashboard's /metrics (amplink/linux/metrics.h), as host
 * or remote (o->cfg.role). host_open() (and `amplink remote` for each
 * host it serves) starts serving: the server then lives as long as the
 * process; host_close() detaches the link first, and from then on it is
 * reported as "none" until the next start. */
struct al_metrics;
void host_metrics_start(const struct link_opts *o, struct al_posix_link *link);
void host_metrics_detach(struct al_posix_link *link);
/* Add the link held as host (if any) and what host_metrics_set_extra()
 * adds. Any thread; serialised with the link's closing. */
void host_metrics_fill(struct al_metrics *m);
/* fn(m, user) adds the application's part (the dashboard: telemetry),
 * under the same lock; NULL: nothing. */
void host_metrics_set_extra(void (*fn)(struct al_metrics *m, void *user), void *user);

/* rproc_metrics.c: what `amplink rproc start` serves to `amplink stats
 * --rproc NAME`: the managed remote's lifecycle counters, under the link
 * name "rproc:NAME" (rproc_metrics_name()). Stop with
 * al_metrics_server_stop() before al_rproc_close(); NULL if not served. */
struct al_rproc;
struct al_metrics_server;
void rproc_metrics_name(char *buf, size_t cap, const char *rproc);
struct al_metrics_server *rproc_metrics_start(const char *name, struct al_rproc *rp,
					      const struct al_peer_policy *allow);

/* amplink.c */
/* Parse an unsigned number (decimal or 0x..); false if not a number. */
bool parse_u32(const char *s, uint32_t *out);
/* Exit code for an amplink error. */
int exit_code_for(int err);
/* Diagnostics (amplink/linux/diag.h) into buf (the last one, cap bytes)
 * instead of stderr; buf NULL: back to stderr. */
void diag_capture(char *buf, size_t cap);
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
int cmd_stats(int argc, char **argv);
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
