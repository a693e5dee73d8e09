/* A process that owns a link publishes its metrics snapshot
 * (amplink/linux/metrics.h) to other local processes, for `amplink
 * stats`: a UNIX stream socket in the abstract namespace,
 * "amplink-metrics.LINK.host" (or ".remote"), answers each connection with
 * one snapshot and closes it. Both ends check who is on the other side
 * (SO_PEERCRED, as the link's own rendezvous does: our user, root, or the
 * --allow-uid/--allow-gid policy), and the reader treats what it gets as
 * untrusted: exact size, magic and version, then al_metrics_validate().
 * docs/metrics.md explains why this and not a shared page. Linux only. */
#ifndef AMPLINK_LINUX_METRICS_SOCK_H
#define AMPLINK_LINUX_METRICS_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amplink/linux/metrics.h"
#include "amplink/linux/posix_port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AL_METRICS_MAGIC   "ALMETRC1"
#define AL_METRICS_VERSION 1u

/** What precedes the snapshot on the socket. */
struct al_metrics_wire_hdr {
	char magic[8];
	uint32_t version;
	uint32_t size; /* sizeof(struct al_metrics) of the writer */
};

struct al_metrics_server;

/** Fills a snapshot for one request (on the server's thread). */
typedef void (*al_metrics_fill_fn)(struct al_metrics *m, void *user);

/** Serve snapshots of link `link` ("host" side if `host`, else "remote")
 *  from a thread of ours until al_metrics_server_stop(). `fill` is called
 *  for each request on that thread with an initialised snapshot. `allow`
 *  (may be NULL) is copied. Thread context. Returns 0 and *out, AL_EINVAL,
 *  AL_EADDR (another process serves that link's metrics already), or
 *  AL_ENOMEM. */
int al_metrics_serve(const char *link, bool host, const struct al_peer_policy *allow,
		     al_metrics_fill_fn fill, void *user, struct al_metrics_server **out);

/** Stop serving and free the server; waits for a request in progress.
 *  NULL is ignored. Thread context, not from `fill`. */
void al_metrics_server_stop(struct al_metrics_server *s);

/** Fetch one snapshot of link `link` from the process that serves it,
 *  within timeout_ms. Returns 0, or AL_ENOLINK (nobody serves it),
 *  AL_EPERM (the server runs as a user `allow` does not admit, or it
 *  closed without an answer: it does not admit us),
 *  AL_ETIMEDOUT, or AL_EPROTO (short, oversized or invalid snapshot); why[n]
 *  (if not NULL) gets a sentence. Thread context. */
int al_metrics_fetch(const char *link, bool host, const struct al_peer_policy *allow,
		     uint32_t timeout_ms, struct al_metrics *out, char *why, size_t n);

/** Check a received snapshot: header (magic, version, size) and content
 *  (al_metrics_validate()). `buf` holds `len` bytes: the header and the
 *  snapshot. Copies the snapshot into *out. Returns 0 or AL_EPROTO with a
 *  sentence in why[n]. Any thread. */
int al_metrics_decode(const void *buf, size_t len, struct al_metrics *out, char *why, size_t n);

#ifdef __cplusplus
}
#endif
#endif
