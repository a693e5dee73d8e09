/* Remoteproc on the host: boot a remote from a firmware ELF, watch it, and
 * recover it after a crash, like Linux's remoteproc does for an M-core.
 *
 * One `struct al_rproc` per remote. al_rproc_start() reads the firmware's
 * `.resource_table` (ELF section), validates it (al_rsc_parse), prepares a
 * fresh shared region (control page, the table copy, vrings / carveouts /
 * trace buffer allocated where the table says FW_RSC_ADDR_ANY, addresses
 * written back into the shared copy), brings the VirtIO driver side up
 * (DRIVER_OK) and asks the platform backend to start the remote. A watch
 * thread then plays the interrupt handler (endpoint callbacks run on it)
 * and the watchdog:
 *   - the backend says the remote died (process: pidfd readable), or
 *   - the remote stopped answering the heartbeat: a ping on the reserved
 *     rpmsg address AL_RPROC_HB_ADDR every heartbeat_ms; no answer for
 *     2.25 intervals (checked every half interval) means hung: detection
 *     within 3 intervals.
 * The remote is then CRASHED: sends fail at once with AL_ENOLINK, blocked
 * senders wake, registered endpoints get AL_RPROC_EV_EPT_UNBOUND. With
 * `restart` the region is rebuilt from the firmware file, the remote
 * restarted, the handshake redone, and each endpoint gets
 * AL_RPROC_EV_EPT_BOUND again when the remote re-announces its service.
 *
 * States: OFFLINE -> RUNNING -> CRASHED -> RUNNING ...; STOPPED after
 * al_rproc_stop(). Backends (struct al_rproc_backend_ops) start and stop
 * the remote; `process` (the firmware is a host executable built with
 * amplink, see rproc_fw.h) is built in. Linux-only (src/linux).
 */
#ifndef AMPLINK_RPROC_H
#define AMPLINK_RPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amplink/rpmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Reserved rpmsg address of the heartbeat service (both sides): the host
 *  sends 8 bytes {le32 AL_RPROC_HB_MAGIC, le32 seq}, the remote returns
 *  them unchanged. */
#define AL_RPROC_HB_ADDR  0x3Cu
#define AL_RPROC_HB_MAGIC 0x48424541u /* "AEBH" */

/** Control page at offset 0 of the region (process backend), read by the
 *  firmware: where the table is and how big buffers are. */
struct al_rproc_ctl {
	uint32_t magic; /* AL_RPROC_CTL_MAGIC */
	uint32_t version;
	uint32_t region_size;
	uint32_t rsc_offset; /* the resource table copy */
	uint32_t rsc_size;
	uint32_t buf_size;   /* rpmsg buffer size, header included */
	uint32_t boot_count; /* 1 for the first boot, +1 per restart */
	uint32_t reserved;
};
#define AL_RPROC_CTL_MAGIC   0x43505241u /* "ARPC" */
#define AL_RPROC_CTL_VERSION 1u
#define AL_RPROC_CTL_PAGE    4096u
/** Environment variable telling a firmware process its descriptors:
 *  "REGION,KICK_IN,KICK_OUT" (region memfd, eventfd the host rings,
 *  eventfd the remote rings); the process backend uses 3,4,5. */
#define AL_RPROC_ENV "AMPLINK_RPROC"

enum al_rproc_state {
	AL_RPROC_OFFLINE = 0,
	AL_RPROC_RUNNING = 1,
	AL_RPROC_CRASHED = 2,
	AL_RPROC_STOPPED = 3,
};

enum al_rproc_event {
	AL_RPROC_EV_RUNNING = 1, /* booted (why: "boot N") */
	AL_RPROC_EV_CRASHED = 2, /* why: what happened */
	AL_RPROC_EV_STOPPED = 3,
	AL_RPROC_EV_EPT_BOUND = 4,   /* a registered endpoint's service appeared */
	AL_RPROC_EV_EPT_UNBOUND = 5, /* ... disappeared (crash or NS destroy) */
};

struct al_rproc;
/** Event callback: runs on the watch thread (or in al_rproc_start /
 *  al_rproc_stop's caller for RUNNING / STOPPED); must not block. `ept` is
 *  set for the EPT events. */
typedef void (*al_rproc_event_cb)(struct al_rproc *rp, int event, struct rpmsg_endpoint *ept,
				  const char *why, void *user);

/** What a backend gets to start one boot of the remote. */
struct al_rproc_boot {
	const char *firmware;
	int region_fd; /* the shared region (memfd) */
	size_t region_size;
	int kick_in_fd;	 /* the remote waits on it: host -> remote doorbell */
	int kick_out_fd; /* the remote rings it: remote -> host doorbell */
	int log_fd;	 /* the remote's stdout/stderr; -1: inherit */
	unsigned boot_count;
};

struct al_rproc_cfg;

/** Service hook (struct al_rproc_cfg.svc_cb): the remote announced `name` at
 *  its address `addr` and no registered endpoint waits for that name. Runs
 *  in receive context on the watch thread: must not block; may call
 *  al_rproc_ept_bind() to talk to the service (the relay does). */
typedef void (*al_rproc_svc_cb)(struct al_rproc *rp, const char *name, uint32_t addr,
				void *svc_user);

/** The shared region and doorbell a backend's prepare() provides. */
struct al_rproc_region {
	uint8_t *mem; /* mapped read/write, MAP_SHARED with the remote */
	size_t size;
	uint64_t da; /* device address of mem[0] (qemu: guest physical) */
	int kick_fd; /* byte-stream doorbell, both ways: the host writes one
		      * byte to kick the remote; readable when the remote
		      * kicked (a read drains); end of file: the remote is gone */
};

/** A platform backend: how to start and stop a remote. All ops are called
 *  from one thread at a time (the rproc serialises them). */
struct al_rproc_backend_ops {
	const char *name;
	/** Allocate the backend's state; NULL on failure. */
	void *(*create)(void);
	void (*destroy)(void *ctx);
	/** Start the remote (after prepare(), if the backend has one: let the
	 *  loaded remote run). Returns 0, or an AL_E* code with a sentence. */
	int (*start)(void *ctx, const struct al_rproc_boot *boot, char *why, size_t why_len);
	/** Ask the remote to stop, wait up to grace_ms, then force it. */
	void (*stop)(void *ctx, uint32_t grace_ms);
	/** Force the remote down at once (and reap it). Idempotent. */
	void (*kill)(void *ctx);
	/** False once the remote is gone; then `why` says how. */
	bool (*is_alive)(void *ctx, char *why, size_t why_len);
	/** An fd that becomes readable when the remote dies, or -1 (then
	 *  is_alive is polled every half heartbeat). */
	int (*watch_fd)(void *ctx);
	/** An id for humans (process: the pid), or -1. */
	long (*id)(void *ctx);
	/** e_machine the firmware ELF must have (AL_EM_ARM, ...); 0: the
	 *  host's own (process). */
	uint16_t elf_machine;
	/** Optional (NULL for `process`): provide the shared region and the
	 *  doorbell of the next boot, with the firmware loaded but not running
	 *  yet (qemu: QEMU started paused, its RAM a shared file). The table
	 *  the remote reads must then be in the region at the address of the
	 *  ELF's `.resource_table` section; the host checks it against the ELF,
	 *  assigns addresses, does the VirtIO handshake in it and calls start()
	 *  to let the remote run. The host owns what *reg holds from then on
	 *  (it unmaps mem and closes kick_fd at teardown, after kill()).
	 *  Without prepare the host makes a memfd region with a control page
	 *  and eventfd doorbells. Returns 0, or an AL_E* code with a sentence. */
	int (*prepare)(void *ctx, const struct al_rproc_cfg *cfg, struct al_rproc_region *reg,
		       char *why, size_t why_len);
};

/** The `process` backend: the firmware is a host executable started as a
 *  child with the region and doorbells on fds 3, 4, 5 (AL_RPROC_ENV), a
 *  parent-death signal, and watched through a pidfd. */
extern const struct al_rproc_backend_ops al_rproc_process_backend;

struct al_rproc_cfg {
	const char *firmware;	     /* path of the firmware ELF */
	const char *name;	     /* for messages; default "rproc0" */
	bool restart;		     /* restart after a crash */
	uint32_t max_restarts;	     /* 0: unlimited */
	uint32_t heartbeat_ms;	     /* 0: 500; AL_WAIT_FOREVER: no heartbeat */
	uint32_t boot_timeout_ms;    /* first heartbeat answer due; 0: 3000 */
	size_t region_size;	     /* 0: 1 MiB */
	uint32_t buf_size;	     /* 0: 512 */
	int log_fd;		     /* firmware stdout/stderr; -1 (or 0): inherit */
	rpmsg_ns_bind_cb ns_bind_cb; /* names announced that match no endpoint */
	al_rproc_event_cb event_cb;
	void *user;
	const struct al_rproc_backend_ops *backend; /* NULL: process */
	const void *backend_cfg; /* backend-specific (qemu: struct al_rproc_qemu_cfg) */
	al_rproc_svc_cb svc_cb;	 /* optional: services announced (after ns_bind_cb) */
	void *svc_user;
};

struct al_rproc_status {
	int state;	/* enum al_rproc_state */
	long id;	/* backend id (pid), -1 when not running */
	unsigned boots; /* successful boots */
	unsigned crashes;
	unsigned recoveries;	 /* restarts after a crash */
	double uptime_s;	 /* since al_rproc_start() */
	double boot_uptime_s;	 /* since the current boot (0 if not running) */
	double last_pong_ms_ago; /* heartbeat; -1 if none yet */
	uint32_t heartbeat_ms;
	char last_crash[160]; /* why the last crash happened, "" if none */
	char firmware[256];
	char backend[16]; /* the backend's name ("process", "qemu") */
};

/** Boot the remote (see the top of this file). Blocks until the remote was
 *  started (not until it answered). Thread context. Returns 0 and *out,
 *  or AL_EINVAL, AL_ENOMEM, AL_EINIT (bad ELF or resource table, region
 *  too small), or the backend's error; on failure one sentence saying
 *  what went wrong ("cannot start FIRMWARE: ...") goes to the diagnostics
 *  hook (amplink/linux/diag.h) at AL_DIAG_ERR. */
int al_rproc_start(const struct al_rproc_cfg *cfg, struct al_rproc **out);

/** Stop the remote (politely, then by force), stop watching: state
 *  STOPPED, endpoints unbound. Thread context, not from a callback.
 *  Idempotent. */
void al_rproc_stop(struct al_rproc *rp);

/** Stop if needed and free everything. NULL is ignored. Thread context. */
void al_rproc_close(struct al_rproc *rp);

/** Register an application endpoint by service name. It is created on the
 *  remote's link now (if running) and again after every restart, and
 *  binds when the remote announces `name` (AL_RPROC_EV_EPT_BOUND); ept->priv
 *  is set to `priv` each time. `ept` must stay valid until
 *  al_rproc_ept_remove(). At most 16. Thread context, not from a callback.
 *  Returns 0, AL_EINVAL or AL_ENOMEM (too many). */
int al_rproc_ept_add(struct al_rproc *rp, struct rpmsg_endpoint *ept, const char *name,
		     rpmsg_ept_cb cb, void *priv);
void al_rproc_ept_remove(struct al_rproc *rp, struct rpmsg_endpoint *ept);

/** Create an endpoint on the remote's link for the current boot only,
 *  bound to the service the remote announced at `dest` (nothing is
 *  announced back). Meant for names the remote announces that nobody
 *  registered (struct al_rproc_cfg.svc_cb). The endpoint lives until the
 *  remote destroys the service (name-service DESTROY), crashes or is
 *  stopped: `unbind` (may be NULL) is then called with the endpoint
 *  already detached (ept->rdev NULL), from the watch thread, and the
 *  endpoint's storage is free again. `ept` must stay valid until then.
 *  Send on it with al_rproc_send(). Only from the watch thread (the
 *  svc_cb, or an endpoint callback of this remote). At most 32. Returns 0,
 *  AL_EINVAL, AL_ENOLINK (not running), AL_ENOMEM (too many) or
 *  rpmsg_create_ept()'s errors. */
int al_rproc_ept_bind(struct al_rproc *rp, struct rpmsg_endpoint *ept, const char *name,
		      uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb unbind, void *priv);

/** Send on a registered (or al_rproc_ept_bind()) endpoint to its bound
 *  service, waiting up to timeout_ms for a buffer (0 from a callback). Safe against a concurrent
 *  crash or restart. Returns the bytes sent, AL_ENOLINK (remote down or
 *  restarting, or its service not announced yet), or rpmsg_send()'s
 *  errors. Any thread. */
int al_rproc_send(struct al_rproc *rp, struct rpmsg_endpoint *ept, const void *data, int len,
		  uint32_t timeout_ms);

/** Wait until `ept` is bound (its service announced) with the remote
 *  running. Returns 0, AL_ETIMEDOUT or AL_EINVAL. Thread context. */
int al_rproc_wait_bound(struct al_rproc *rp, struct rpmsg_endpoint *ept, uint32_t timeout_ms);

/** Snapshot of the state and counters. Any thread. */
void al_rproc_get_status(struct al_rproc *rp, struct al_rproc_status *st);

/** Copy the remote's trace buffer (its RSC_TRACE entry) as text into
 *  buf[len] (NUL-terminated; non-printable bytes shown as '.'); `last_crash`
 *  gives the copy saved when the remote last crashed. Returns the text
 *  length, or AL_EADDR if there is no trace buffer. Any thread. */
long al_rproc_read_trace(struct al_rproc *rp, bool last_crash, char *buf, size_t len);

/** Call fn for every service the remote announced in its current boot
 *  (registered endpoints that are bound, and names no endpoint waited
 *  for). Returns how many. Any thread; fn must not call back into rp. */
int al_rproc_services(struct al_rproc *rp, void (*fn)(const char *name, uint32_t addr, void *arg),
		      void *arg);

/** Name of a state ("running", ...). */
const char *al_rproc_state_name(int state);

#ifdef __cplusplus
}
#endif
#endif
