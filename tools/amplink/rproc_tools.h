/* Host tools that run inside `amplink rproc start` over the link of the
 * remote it manages (--echo, --bench): the echo demo (rproc_echo.c) and
 * the benchmark against the emulated core (rproc_bench.c). */
#ifndef AMPLINK_RPROC_TOOLS_H
#define AMPLINK_RPROC_TOOLS_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/linux/rproc.h"

struct rproc_echo_opts {
	uint32_t count;		   /* messages */
	uint32_t smin, smax;	   /* 0: "hello there N!" text; else sizes cycling smin..smax */
	const char *service;	   /* NULL: rpmsg-openamp-demo-channel */
	bool quiet;		   /* no per-message lines (also when count > 100) */
	bool survive_crash;	   /* wait for a restarted remote and go on */
	uint32_t bind_timeout_ms;  /* for the service to be announced (each boot) */
	uint32_t reply_timeout_ms; /* per echo */
};

/** Register an endpoint for the echo service on `rp`, wait until the remote
 *  announces it, then send o->count messages, checking every echo byte for
 *  byte; prints the same "Sending message #N" / "Receiving message #N"
 *  lines as `amplink echo` and the OpenAMP and RT-Thread rpmsg echo
 *  samples (stdout) and a summary (stderr). Thread
 *  context. Returns an amplink exit code (EXIT_OK, EXIT_LINK,
 *  EXIT_MISMATCH, ...). */
int rproc_echo_run(struct al_rproc *rp, const struct rproc_echo_opts *o);

/** The benchmark against a remote running fw_echo under the qemu backend
 *  (rproc_bench.c): the bare doorbell round trip on UART2 (`raw_socket`,
 *  the abstract socket given as al_rproc_qemu_cfg.raw_socket) as the
 *  same-run baseline, the raw ring in the shared RAM file `shm_path`
 *  (mapped at FWB_RAW_OFF, ../mcu/fw_bench_proto.h), RPMsg echo round
 *  trips of 16 and 496 bytes (`samples` each), batched throughput each way;
 *  JSON on stdout. Thread context. Returns an amplink exit code. */
int rproc_bench_run(struct al_rproc *rp, const char *raw_socket, const char *shm_path,
		    uint32_t samples);

/** What `amplink rproc start` tells systemd each turn of its main loop
 *  (rproc_svc.c, through svc_notify.h): READY=1 the first time the remote
 *  runs and answers its heartbeat (or runs, heartbeat off), and a STATUS=
 *  line in words ("rproc0: running, boot #2, ...", "rproc0: no heartbeat
 *  for 3.2 s", "rproc0: crashed (...), restarting"). `*ready` remembers
 *  the READY (start it false). Main thread of the manager. */
void rproc_svc_report(const char *name, const struct al_rproc_status *st, bool restart,
		      bool *ready);

#endif
