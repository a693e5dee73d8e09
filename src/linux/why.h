/* A sentence into a caller's buffer, for the internal interfaces of the
 * Linux layer that hand one back to their caller (the remoteproc backends'
 * start and liveness checks, the boot steps); the public functions report
 * through the diagnostics hook instead (amplink/linux/diag.h). */
#ifndef AL_LINUX_WHY_H
#define AL_LINUX_WHY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Format into why[n] (if given) and return `rc`, for tail calls. */
static inline int al_say(char *why, size_t n, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int al_say(char *why, size_t n, int rc, const char *fmt, ...)
{
	if (why && n) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

#endif
