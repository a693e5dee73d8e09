/* Diagnostics of the Linux-side libraries: one hook the application
 * installs, in the manner of libmetal's log handler.
 *
 * The error convention above the portable core: every call returns 0 or a
 * negative amplink error code (amplink/error.h); the sentence that says
 * what exactly went wrong (which peer was refused, which check a table
 * failed, why a firmware could not start) goes to this hook. Libraries
 * never print: only the application decides where words go (the amplink
 * tool writes them to stderr, a daemon to syslog or the journal). With no
 * hook installed, diagnostics are dropped.
 */
#ifndef AMPLINK_LINUX_DIAG_H
#define AMPLINK_LINUX_DIAG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Levels, with syslog's numbers. */
#define AL_DIAG_ERR	3
#define AL_DIAG_WARNING 4
#define AL_DIAG_INFO	6
#define AL_DIAG_DEBUG	7

/** A diagnostics hook: `msg` is one line without a trailing newline, valid
 *  only during the call. Called from any thread of the library (receive
 *  threads included), so it must be thread-safe and must not call back
 *  into the library. */
typedef void (*al_diag_fn)(int level, const char *msg, void *arg);

/** Install the hook (NULL: drop diagnostics). Any thread; a call in
 *  progress may still go to the previous hook. */
void al_diag_set_handler(al_diag_fn fn, void *arg);

/** Report one diagnostic (printf format; truncated to 512 bytes). For the
 *  libraries; any thread; never blocks beyond what the hook does. */
void al_diagf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void al_vdiagf(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/** Report a failure (level AL_DIAG_ERR) and return `rc`, for a library's
 *  `return al_diag_fail(AL_EINIT, "...", ...);`. Any thread. */
int al_diag_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
