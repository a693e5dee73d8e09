/* The rproc relay: the services of a remote booted by al_rproc (a Cortex-M
 * under QEMU, or a `process` firmware) served on a POSIX link, so the
 * ordinary host tools (`amplink echo`, `ls`, `log`, `motor`, `dash`) work
 * unchanged against it.
 *
 *   firmware  <--rpmsg (al_rproc, we are the driver)-->  relay
 *   relay     <--rpmsg (POSIX link, we are the device)-->  host tool
 *
 * Every service the firmware announces gets a relay endpoint bound to it on
 * the firmware's link (al_rproc_ept_bind) and a twin on the POSIX link,
 * announced to the host under the same name (and, when free, at the
 * firmware's address, so `amplink ls` shows the firmware's addresses).
 * Messages are forwarded both ways between the twins: host -> firmware from
 * the twin's address to the firmware's service, firmware -> host to the
 * host endpoint that last wrote to that service (a service no host wrote to
 * has nobody to deliver to: such messages are dropped and counted).
 *
 * Hosts come and go: the POSIX link serves one host at a time and is
 * offered again when it leaves. A firmware that destroys a service has its
 * twin destroyed (NS DESTROY to the host); a firmware that crashes ends the
 * host's session (the tools see the remote go away, as with `amplink
 * remote`) and, after a restart, re-announces its services, which are
 * paired again.
 *
 * Back-pressure: a message goes straight through when the other side has a
 * free buffer; otherwise a copy is queued (bounded) and a worker retries
 * it with a blocking send for up to `retry_ms`. Only then, or when the
 * queue stays full, is a message dropped, and every drop is counted by
 * reason (al_rproc_relay_stats). Order is kept per direction.
 *
 * Linux-only (src/linux). Needs the remote's al_rproc and nothing of its
 * backend.
 */
#ifndef AMPLINK_RPROC_RELAY_H
#define AMPLINK_RPROC_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/linux/posix.h"
#include "amplink/linux/rproc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct al_rproc_relay;

/** What the relay tells its user (host attached, left, ...): one line
 *  without newline. Runs on the relay's threads; must not block long. */
typedef void (*al_rproc_relay_note_fn)(void *user, const char *line);

struct al_rproc_relay_cfg {
	/** The POSIX link to serve (device role): name, doorbell, num,
	 *  buf_size as for `amplink remote`. role, ns_bind_cb, event_cb, user
	 *  and connect_timeout_ms are the relay's. */
	struct al_posix_cfg link;
	uint32_t retry_ms;  /* how long a queued message is retried; 0: 1000 */
	uint32_t queue_len; /* queued messages per direction; 0: 1024 */
	al_rproc_relay_note_fn note;
	void *note_user;
};

struct al_rproc_relay_stats {
	bool host_attached;	 /* a host is connected now */
	uint32_t sessions;	 /* hosts served so far (this one included) */
	uint32_t services;	 /* firmware services paired now */
	uint64_t to_host, to_fw; /* messages forwarded */
	uint64_t queued;	 /* of those, how many waited in a queue */
	uint32_t queue_max;	 /* highest queue depth seen (either way) */
	uint64_t drop_no_host;	 /* firmware -> host, nobody to deliver to */
	uint64_t drop_no_buf;	 /* no buffer within retry_ms, or queue full */
	uint64_t drop_down;	 /* the other side went down meanwhile */
	uint64_t drop_too_big;	 /* larger than the other link's buffers */
};

/** Create a relay (not serving yet). Thread context. Returns 0 and *out,
 *  AL_EINVAL (no link name) or AL_ENOMEM. */
int al_rproc_relay_create(const struct al_rproc_relay_cfg *cfg, struct al_rproc_relay **out);

/** Hook the relay into `rcfg` before al_rproc_start(): it sets svc_cb /
 *  svc_user and interposes on event_cb (the previous event_cb and user
 *  are still called, after the relay saw the event). Thread context. */
void al_rproc_relay_attach(struct al_rproc_relay *r, struct al_rproc_cfg *rcfg);

/** Start serving the POSIX link for the remote `rp` (started with a cfg
 *  the relay was attached to). Services announced before this call are
 *  paired too. Thread context. Returns 0, AL_EINVAL or AL_ENOMEM. */
int al_rproc_relay_start(struct al_rproc_relay *r, struct al_rproc *rp);

/** Stop serving (the host, if any, sees the remote go away) and free the
 *  relay. Call after al_rproc_stop() of its remote (no callback of the
 *  remote may run any more) and before al_rproc_close(). Thread context,
 *  not from a callback. NULL is ignored. */
void al_rproc_relay_close(struct al_rproc_relay *r);

/** Snapshot of the counters. Any thread. */
void al_rproc_relay_get_stats(struct al_rproc_relay *r, struct al_rproc_relay_stats *st);

#ifdef __cplusplus
}
#endif
#endif
