/* Doorbells between two processes: eventfds, or counter words in the
 * shared region with futex sleep, busy polling, or spin-then-sleep. */
#ifndef AL_POSIX_DOORBELL_H
#define AL_POSIX_DOORBELL_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/linux/posix.h"

/* The port's control page at the start of the shared region (offset 0).
 * Written by the remote at creation; the counters by both. */
struct al_db_ctl {
	uint32_t magic; /* AL_CTL_MAGIC */
	uint32_t version;
	uint64_t session;     /* random per region: tells a restarted remote */
	uint32_t db[2];	      /* doorbell counter, indexed by the receiver's role */
	uint32_t sleeping[2]; /* receiver asleep in FUTEX_WAIT on db[role] */
	uint32_t rsc_offset;  /* where the resource table starts */
	uint32_t region_size;
};
#define AL_CTL_MAGIC   0x4b4c4d41u /* "AMLK" */
#define AL_CTL_VERSION 1u
#define AL_CTL_PAGE    4096u

struct al_doorbell {
	enum al_doorbell_kind kind;
	unsigned int me; /* our role: index of the counter we wait on */
	struct al_db_ctl *ctl;
	int efd_in;  /* eventfd we wait on (eventfd kind) */
	int efd_out; /* eventfd we ring */
	uint32_t seen;
	uint32_t spin_us;
};

/** Ring the peer. Any thread; no syscall for the counter kinds unless the
 *  peer sleeps. */
void al_db_ring(struct al_doorbell *db);

/** Ring ourselves (wake our own receive thread, e.g. to stop it). The
 *  socket doorbell stops receiving for good (shutdown SHUT_RD) but still
 *  rings the peer. */
void al_db_kick_self(struct al_doorbell *db);

/** Wait for a doorbell for at most timeout_ms, watching `watch_fd` too
 *  (-1: none). Returns 1 if the doorbell rang, 0 otherwise; sets
 *  *watch_ready if watch_fd is readable or hung up. Receive thread only. */
int al_db_wait(struct al_doorbell *db, int watch_fd, int timeout_ms, bool *watch_ready);

#endif
