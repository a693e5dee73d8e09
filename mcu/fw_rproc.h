/* What a firmware booted by `amplink rproc start --machine mps2-an386`
 * needs besides its own services, for images written with the
 * RPMsg-Lite-style API (RL_BUFFER_COUNT 64, RL_VRING_ALIGN 64: the
 * amplink_lite_echo build of lite.cmake):
 *   - the `.resource_table` at the start of the shared PSRAM, and a remote
 *     init that keeps the handshake the host did in it while the core was
 *     held (fw_rproc_init());
 *   - the remoteproc heartbeat at AL_RPROC_HB_ADDR (0x3C), answered from the
 *     doorbell interrupt;
 *   - remote logging (amplink/log.h, src/log/rpmsg_log.c): rpmsg_printf()
 *     lines to the host's `amplink log`, never blocking.
 * fw_motor.c and fw_echo.c use it (fw_echo with its own doorbell hook and
 * the bare-metal port for its main loop and its benchmark).
 */
#ifndef FW_RPROC_H
#define FW_RPROC_H

#include <stdint.h>

#include "amplink/log.h"
#include "amplink/port_baremetal.h"
#include "amplink/rpmsg_lite.h"

/** Print "<who>: <what> failed: <rc>" on the console and stop (the host's
 *  heartbeat then reports the core as hung). Thread context. */
void fw_rproc_fail(const char *who, const char *what, int32_t rc);

/** A doorbell-to-host hook, the `notify` of the port's ops
 *  (amplink/port.h): any context, possibly with the port lock held, never
 *  blocks. board_doorbell_ring() is the plain one. */
typedef void (*fw_rproc_notify_fn)(void *ctx, uint32_t notifyid);

/** Bring the remote up: platform, remote init on the table the host
 *  prepared, the bare-metal port, wait for the link, the heartbeat
 *  endpoint. Doorbells to the host go through `notify` (NULL:
 *  board_doorbell_ring(); a hook that holds some back rings
 *  board_doorbell_ring() itself later). The doorbell interrupt stays off
 *  until fw_rproc_attach(). Thread context, once, first thing after
 *  board_init(). Returns the instance; on failure prints why and stops
 *  (fw_rproc_fail). */
struct rpmsg_lite_instance *fw_rproc_init(const char *who, fw_rproc_notify_fn notify);

/** The bare-metal port fw_rproc_init() set up, for al_baremetal_wait()
 *  (a main loop that sleeps until an interrupt) and the like. Valid from
 *  the start (zeroed before fw_rproc_init()). Any context. */
struct al_baremetal *fw_rproc_port(void);

/** Turn the doorbell interrupt on (after the firmware created its
 *  endpoints, before it announces them). Thread context. */
void fw_rproc_attach(void);

/** Create the log service AL_LOG_SERVICE ("amplink-log", announced at
 *  once) and make it the default logger of rpmsg_printf()/rpmsg_log().
 *  Lines are dropped (counted) until a host subscribes. Thread context,
 *  after fw_rproc_attach(). Returns the logger, or NULL (console says
 *  why). */
struct al_log *fw_rproc_log_init(struct rpmsg_lite_instance *rl, const char *who);

/** Milliseconds since boot (SysTick). Any context. */
uint32_t fw_rproc_ms(void);

/** Sleep (wfi) until fw_rproc_ms() reaches `t`; interrupts are served
 *  meanwhile. Thread context. */
void fw_rproc_sleep_until(uint32_t t);

/** Heartbeats answered and skipped (no free buffer) so far. Any context. */
uint32_t fw_rproc_hb_answered(void);
uint32_t fw_rproc_hb_skipped(void);

#endif
