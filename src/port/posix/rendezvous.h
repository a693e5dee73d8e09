/* The rendezvous between the two processes of a POSIX link: an abstract
 * UNIX SOCK_SEQPACKET socket, a hello/welcome exchange that checks layout
 * and doorbell agreement, and SCM_RIGHTS to pass the region and eventfds. */
#ifndef AL_POSIX_RENDEZVOUS_H
#define AL_POSIX_RENDEZVOUS_H

#include <stddef.h>
#include <stdint.h>

#define AL_RV_MAGIC   "AMPLINK1"
#define AL_RV_VERSION 1u
#define AL_RV_MAX_FDS 3

struct al_hello { /* host -> remote */
	char magic[8];
	uint32_t version;
	uint32_t doorbell; /* enum al_doorbell_kind wanted */
	uint32_t doorbell_any;
	uint32_t num;	   /* 0: any */
	uint32_t buf_size; /* 0: any */
};

struct al_welcome { /* remote -> host, with the region and eventfds */
	char magic[8];
	uint32_t version;
	int32_t status; /* 0 or an AL_E* code */
	uint32_t doorbell;
	uint32_t num;
	uint32_t buf_size;
	uint32_t region_size;
	uint64_t session;
	char reason[160];
};

/** Listening socket for link `name` (abstract namespace), or -errno. */
int al_rv_listen(const char *name);
/** Accept one connection within timeout_ms: fd, or -ETIMEDOUT/-errno. */
int al_rv_accept(int lfd, int timeout_ms);
/** Connect to link `name`, retrying until timeout_ms: fd or -errno. */
int al_rv_connect(const char *name, int timeout_ms);
/** Send / receive one message with up to AL_RV_MAX_FDS descriptors.
 *  recv returns the byte count (0 on EOF) or -errno; *nfds gets the count
 *  of descriptors received. */
int al_rv_send(int fd, const void *msg, size_t len, const int *fds, int nfds);
int al_rv_recv(int fd, void *msg, size_t len, int *fds, int *nfds, int timeout_ms);

#endif
