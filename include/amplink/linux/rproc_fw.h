/* The firmware side of the `process` remoteproc backend: a host executable
 * built with amplink that `amplink rproc start` (al_rproc_start) boots.
 *
 * The firmware declares its resource table in the `.resource_table`
 * section (rsc_build.h), then calls al_rproc_fw_open(): it finds the
 * region and doorbells its host passed (AMPLINK_RPROC, fds 3,4,5), reads
 * the host's copy of the table with the addresses the host chose, brings
 * the VirtIO device side up, answers the heartbeat service on
 * AL_RPROC_HB_ADDR, and runs a receive thread (endpoint callbacks run on
 * it, as in an ISR). al_rproc_fw_trace() writes into the trace buffer of
 * the RSC_TRACE entry, which the host reads with `amplink rproc trace`.
 * The firmware dies with its host (parent-death signal).
 */
#ifndef AMPLINK_RPROC_FW_H
#define AMPLINK_RPROC_FW_H

#include <stdint.h>

#include "amplink/linux/rproc.h"
#include "amplink/rpmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

struct al_rproc_fw;

/** Attach to the region the host prepared and bring the link up. Thread
 *  context, once per process. Returns 0 and *out, AL_EINVAL (not started
 *  by an amplink rproc host: no AMPLINK_RPROC), AL_EINIT (bad control page
 *  or resource table; the reason is printed to stderr) or AL_ENOMEM. */
int al_rproc_fw_open(struct al_rproc_fw **out);

/** The rpmsg device, for rpmsg_create_ept(). */
struct rpmsg_device *al_rproc_fw_rdev(struct al_rproc_fw *fw);

/** Which boot this is (1, then +1 per restart by the host). */
uint32_t al_rproc_fw_boot_count(struct al_rproc_fw *fw);

/** printf into the trace buffer (a line at a time; when full it starts
 *  again from the beginning). No-op without a trace entry. Any thread. */
void al_rproc_fw_trace(struct al_rproc_fw *fw, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Stop the receive thread and release everything. Thread context. */
void al_rproc_fw_close(struct al_rproc_fw *fw);

#ifdef __cplusplus
}
#endif
#endif
