/* `amplink rproc start` as a systemd service: turn the manager's status
 * snapshot into READY=1 and STATUS= lines (rproc_tools.h). The watchdog
 * pings stay in the main loop itself: they prove that loop turns. */
#include <stdio.h>

#include "amplink/linux/rproc.h"
#include "amplink/port.h"
#include "rproc_tools.h"
#include "svc_notify.h"

void rproc_svc_report(const char *name, const struct al_rproc_status *st, bool restart, bool *ready)
{
	bool hb = st->heartbeat_ms != AL_WAIT_FOREVER;
	char crash[200] = "";
	if (st->crashes)
		snprintf(crash, sizeof(crash), "; %u crash%s, last: %s", st->crashes,
			 st->crashes == 1 ? "" : "es", st->last_crash);
	if (st->state == AL_RPROC_RUNNING) {
		if (hb && st->last_pong_ms_ago < 0) {
			al_svc_status(
			    "%s: boot #%u started, waiting for its first heartbeat answer%s", name,
			    st->boots, crash);
			return;
		}
		/* The watch declares the remote dead after 2.25 intervals; from
		 * 1.5 on it is worth saying, in the units an operator reads. */
		if (hb && st->last_pong_ms_ago > 1.5 * st->heartbeat_ms) {
			al_svc_status(
			    "%s: no heartbeat for %.1f s%s", name, st->last_pong_ms_ago / 1000.0,
			    restart ? ", will restart it" : ", will give up (no --restart)");
			return;
		}
		if (!*ready) {
			*ready = true;
			al_svc_ready("%s: running, boot #%u, %s%s", name, st->boots,
				     hb ? "answering its heartbeat" : "heartbeat off", crash);
			return;
		}
		al_svc_status("%s: running, boot #%u, %s%s", name, st->boots,
			      hb ? "answering its heartbeat" : "heartbeat off", crash);
	} else if (st->state == AL_RPROC_CRASHED) {
		al_svc_status("%s: crashed (%s), %s", name, st->last_crash,
			      restart ? "restarting" : "not restarting");
	} else {
		al_svc_status("%s: %s", name, al_rproc_state_name(st->state));
	}
}
