/* Readiness, status and liveness for the service manager (systemd's notify
 * protocol, sd_notify(3), spoken directly): what the long-running
 * amplink commands (rproc start, log, bridge, dash) tell systemd when they
 * run as Type=notify units with WatchdogSec= (packaging/systemd/).
 *
 *   al_svc_ready()   READY=1 with a STATUS= line: the service is really up
 *   al_svc_status()  STATUS= line, sent only when the text changed
 *   al_svc_alive()   WATCHDOG=1, at most every half watchdog interval;
 *                    call it from the main loop on each healthy turn, so a
 *                    hung loop stops the pings and systemd restarts us
 *   al_svc_stopping() STOPPING=1 with a STATUS= line
 *
 * Outside a unit (no NOTIFY_SOCKET) every call does nothing; an unreachable NOTIFY_SOCKET is
 * ignored (the service runs on). Process-wide state, read from the environment at the first call;
 * any thread may call these, never a signal handler. Not part of libamplink: the commands' helper.
 */
#ifndef AMPLINK_SVC_NOTIFY_H
#define AMPLINK_SVC_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AL_SVC_STATUS_MAX 256u /* a STATUS= text is cut at this many bytes */

/** Read NOTIFY_SOCKET and the watchdog settings (WATCHDOG_USEC, when
 *  WATCHDOG_PID is this process) from the environment and reset the
 *  state (a test may call it again after changing them). Returns true
 *  when a service manager asked for notifications. */
bool al_svc_init(void);

/** Whether this build can notify at all (always: the protocol needs no
 *  library; kept for callers that ask). */
bool al_svc_supported(void);

/** READY=1 and STATUS=<text> in one message. Later calls send only the
 *  status. */
void al_svc_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** STATUS=<text>, when it differs from the last one sent. */
void al_svc_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** WATCHDOG=1 when half the watchdog interval has passed since the last
 *  ping (the first call pings). Returns true when it sent one. */
bool al_svc_alive(void);

/** Half the watchdog interval in ms (the longest a loop may sleep between
 *  two al_svc_alive() calls), or 0 when there is no watchdog. */
uint32_t al_svc_watchdog_ms(void);

/** STOPPING=1 and STATUS=<text>. */
void al_svc_stopping(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif
#endif
