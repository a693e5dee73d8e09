/* The POSIX port: one rpmsg link between two processes on one Linux
 * machine, the way a Linux core and a real-time core share a board. Nothing
 * passes between them but a shared memory region and doorbells.
 *
 * The remote process (virtio device, the "firmware") owns the region: it
 * creates it (a memfd), writes the resource table, and listens on a
 * rendezvous socket (Linux abstract namespace: no file is left behind). The
 * host process (virtio driver) connects, checks the layout, receives the
 * region and the doorbell descriptors (SCM_RIGHTS), maps it and starts the
 * VirtIO handshake. Either may start first: each waits for the other up to
 * its connect timeout. The rendezvous socket stays open for the life of the
 * link: its closing tells each side at once that the other process died.
 *
 * Doorbells (both directions, chosen by the remote, checked by the host):
 *   AL_DB_EVENTFD   an eventfd per direction; the receive thread sleeps in
 *                   poll(). One syscall per doorbell on each side.
 *   AL_DB_FUTEX     a counter word per direction in the region; the
 *                   receiver sleeps in FUTEX_WAIT and the sender calls
 *                   FUTEX_WAKE only when the receiver is asleep.
 *   AL_DB_POLL      the same counters, the receiver spins (100% of a core,
 *                   lowest latency).
 *   AL_DB_ADAPTIVE  spin for spin_us, then sleep as AL_DB_FUTEX.
 * A receive thread per link plays the interrupt handler: it calls
 * al_virtio_notified(), so endpoint callbacks run on it.
 */
#ifndef AMPLINK_POSIX_H
#define AMPLINK_POSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/linux/posix_port.h"
#include "amplink/rpmsg_virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

enum al_doorbell_kind {
	AL_DB_EVENTFD = 0,
	AL_DB_FUTEX = 1,
	AL_DB_POLL = 2,
	AL_DB_ADAPTIVE = 3,
	AL_DB_SOCKET = 4, /* one byte per kick on a stream socket (OpenAMP profile) */
};

/* Transport profiles: how the region is found and laid out, and how the
 * doorbell works. See docs/openamp-profile.md. */
enum al_profile {
	AL_PROFILE_AMPLINK = 0, /* memfd + abstract rendezvous socket, checked hello */
	/* OpenAMP's Linux user-space reference machine: /dev/shm/openamp.shm
	 * (0x80000 B, offsets are device addresses), resource table at 0,
	 * vrings at 0x4000 / 0x8000 (align 0x1000, 256 entries, notify ids 1
	 * and 2), 512-byte buffers at 0x10000 (0x40000 B), one-byte kicks on
	 * the UNIX stream socket /tmp/openamp.event.0 (remote listens). */
	AL_PROFILE_OPENAMP = 1,
};

/* How long OpenAMP's Linux host retries connecting to its remote: 100
 * tries, sleeping 10 ms longer after each (0 + 10 + ... + 990 ms). The
 * OpenAMP profile's host waits this long by default. */
#define AL_OPENAMP_CONNECT_MS 49500u

/** Link events reported to the application (from the receive thread). */
enum al_link_event {
	AL_EV_UP = 1,	     /* link usable */
	AL_EV_PEER_LOST = 2, /* the other process closed or died */
	AL_EV_BROKEN = 3,    /* the peer corrupted the rings */
};

struct al_posix_link;
typedef void (*al_link_event_cb)(struct al_posix_link *link, int event, const char *why,
				 void *user);

struct al_posix_cfg {
	const char *name;		/* link name, default "amplink" */
	unsigned int role;		/* VIRTIO_DEV_DRIVER or VIRTIO_DEV_DEVICE */
	enum al_doorbell_kind doorbell; /* remote: offered; host: required */
	bool doorbell_any;		/* host: accept whatever the remote uses */
	uint32_t num;			/* vring entries (remote: 0 = 256; host: 0 = any) */
	uint32_t buf_size;		/* bytes per buffer (remote: 0 = 512; host: 0 = any) */
	/* Wait for the peer; 0 = the default: 5000, but in the OpenAMP
	 * profile AL_OPENAMP_CONNECT_MS on the host and AL_WAIT_FOREVER on
	 * the remote (OpenAMP's remote blocks in accept()). */
	uint32_t connect_timeout_ms;
	uint32_t spin_us;	       /* adaptive doorbell spin; 0 = 250 */
	rpmsg_ns_bind_cb ns_bind_cb;   /* names the peer announced, unbound */
	rpmsg_ns_bind_cb ns_unbind_cb; /* names the peer withdrew, unbound */
	al_link_event_cb event_cb;     /* may be NULL */
	void *user;
	enum al_profile profile; /* default AL_PROFILE_AMPLINK */
	const char *shm_path;	 /* OpenAMP profile: default /dev/shm/openamp.shm */
	const char *event_path;	 /* OpenAMP profile: default /tmp/openamp.event.0 */
	/* Who may be the peer besides our own user, checked on the
	 * rendezvous socket (SO_PEERCRED) by both sides before anything is
	 * exchanged: a remote refuses other users' hosts, a host refuses a
	 * listener of another user posing as the remote. */
	struct al_peer_policy allow;
	/* If not NULL: checked every 100 ms while a remote waits for a host
	 * to connect, or an OpenAMP-profile host for a remote to listen; once
	 * non-zero the wait ends as if its timeout had passed (a signal
	 * handler's flag, so that a wait forever can still be stopped). */
	const volatile int *cancel;
};

/** Open one side of a link: remote (device) creates the region, listens
 *  and waits for a host; host (driver) connects, checks, maps and starts
 *  the link. Blocks up to cfg->connect_timeout_ms. Thread context.
 *  Returns 0 and *out, or AL_EINVAL (also: a name over 63 characters;
 *  in the OpenAMP profile a num other than 256 or a buf_size other than
 *  512, which its layout fixes), AL_ETIMEDOUT (no peer, or cancelled:
 *  cfg->cancel), AL_EPERM (the remote already serves a host, or
 *  the peer runs as a user `allow` does not admit), AL_EINIT (layout or
 *  doorbell mismatch, bad resource table, a region that is not sealed, an
 *  OpenAMP profile file that is a link, another user's or open to others;
 *  the sentence goes to the diagnostics hook), or AL_ENOMEM. On the
 *  remote the link comes up when the host's DRIVER_OK arrives
 *  (al_posix_wait_up()).
 *  OpenAMP profile remote: opens the shared file as it is (creating it if
 *  absent, never replacing it: an OpenAMP host maps it before it
 *  connects), zeroes it, writes the resource table, then listens on the
 *  event socket until one host connects and stops listening (further
 *  hosts are refused at connect() and retry, as with OpenAMP's remote).
 *  al_posix_close() removes the socket and leaves the file, as OpenAMP. */
int al_posix_open(const struct al_posix_cfg *cfg, struct al_posix_link **out);

/** Wait until the link is up (remote side), up to timeout_ms. Returns 0,
 *  AL_ETIMEDOUT, AL_ENOLINK (peer lost) or AL_EBROKEN. Thread context. */
int al_posix_wait_up(struct al_posix_link *link, uint32_t timeout_ms);

/** Block until the peer is lost or the link breaks (or timeout_ms passes:
 *  AL_ETIMEDOUT). Returns AL_ENOLINK or AL_EBROKEN. Thread context. */
int al_posix_wait_down(struct al_posix_link *link, uint32_t timeout_ms);

/** The rpmsg device of the link (for rpmsg_create_ept and friends). */
struct rpmsg_device *al_posix_rdev(struct al_posix_link *link);
struct rpmsg_virtio_device *al_posix_rvdev(struct al_posix_link *link);

/** Close a link: stop the receive thread, tear the rpmsg device down (the
 *  application's endpoints are destroyed), unmap, close every descriptor.
 *  Thread context, not from a callback. NULL is ignored. */
void al_posix_close(struct al_posix_link *link);

/** Name of a doorbell kind ("eventfd", ...), and the reverse (-1 if
 *  unknown). */
const char *al_doorbell_name(enum al_doorbell_kind kind);
int al_doorbell_parse(const char *name);

#ifdef __cplusplus
}
#endif
#endif
