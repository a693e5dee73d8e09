/* Remote logging: an rpmsg_printf()-style API for the remote core (the
 * "M core" of the motor example) that sends each formatted line to the host over a
 * named rpmsg service, and the wire format of those lines. The host side
 * (a sink writing to syslog, stdout or a file) is in amplink/linux/log_sink.h.
 *
 * Portable C11: no malloc, no OS; uses only vsnprintf() from the C library
 * and the rpmsg core. Logging never blocks the caller: a line is formatted
 * straight into a free shared transmit buffer (zero copy) and sent; when no
 * buffer is free, or no host listens yet, the line is dropped and counted.
 * The count travels with the next line that gets through, so the host can
 * say how many were lost.
 *
 * Wire format of one line (little-endian, one rpmsg message, remote -> host):
 *
 *   offset size field
 *   0      1    version   AL_LOG_WIRE_VERSION (1)
 *   1      1    level     0..7, syslog(3) priorities (AL_LOG_EMERG..AL_LOG_DEBUG)
 *   2      1    flags     bit 0: text was truncated to fit the buffer
 *   3      1    reserved  0
 *   4      4    seq       sequence number of the line (every line offered
 *                         past the level filter, sent or dropped)
 *   8      4    ts_ms     remote timestamp, ms (the remote's clock; wraps)
 *   12     4    dropped   total lines the remote dropped so far
 *   16     n    text      n = message length - 16 bytes, no NUL, no newline
 *
 * Host -> remote control message on the same endpoint (its first message
 * also binds the remote endpoint to the host):
 *
 *   0      1    op        AL_LOG_OP_SUBSCRIBE (1)
 *   1      1    max_level lines with level > max_level are not sent
 *
 * Anything else the host sends is ignored and counted (bad_ctrl).
 */
#ifndef AMPLINK_LOG_H
#define AMPLINK_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "amplink/rpmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default service name of the log channel. */
#define AL_LOG_SERVICE	    "amplink-log"
#define AL_LOG_WIRE_VERSION 1u
#define AL_LOG_HDR_SIZE	    16u
#define AL_LOG_OP_SUBSCRIBE 1u
#define AL_LOG_F_TRUNCATED  0x01u

/** Levels: the syslog(3) priorities, so the host maps them 1:1. */
enum al_log_level {
	AL_LOG_EMERG = 0,
	AL_LOG_ALERT = 1,
	AL_LOG_CRIT = 2,
	AL_LOG_ERR = 3,
	AL_LOG_WARNING = 4,
	AL_LOG_NOTICE = 5,
	AL_LOG_INFO = 6,
	AL_LOG_DEBUG = 7,
};

/** The remote's clock for timestamps: milliseconds since some start (boot).
 *  Called from whatever context logs, so it must not block. */
typedef uint32_t (*al_log_clock_fn)(void *arg);

/** Counters of a logger; each only grows. */
struct al_log_stats {
	uint32_t sent;	   /* lines handed to the link */
	uint32_t dropped;  /* lines lost: no host yet, no free buffer, link down */
	uint32_t filtered; /* lines below the host's level (never formatted) */
	uint32_t bad_ctrl; /* malformed control messages from the host */
};

/** A logger: one endpoint. Caller-allocated (static storage on an MCU);
 *  fields are private. */
struct al_log {
	struct rpmsg_endpoint ept;
	al_log_clock_fn clock;
	void *clock_arg;
	volatile uint32_t max_level;
	volatile uint32_t seq;
	volatile uint32_t sent, dropped, filtered, bad_ctrl;
};

/** Create the log endpoint `name` (NULL: AL_LOG_SERVICE) on `rdev` and
 *  announce it; lines are dropped (counted) until a host subscribes.
 *  `clock` may be NULL (timestamps 0). Thread context (as
 *  rpmsg_create_ept()). Returns 0, AL_EINVAL, or the errors of
 *  rpmsg_create_ept(). */
int al_log_init(struct al_log *lg, struct rpmsg_device *rdev, const char *name,
		al_log_clock_fn clock, void *clock_arg);

/** Destroy the endpoint (and unset it as default logger). Thread context.
 *  NULL is ignored. */
void al_log_deinit(struct al_log *lg);

/** Format and send one line at `level` (0..7). Never blocks: any context
 *  that may call rpmsg_trysend() (thread, ISR, receive callback).
 *  Returns the number of text bytes sent (after truncation to the buffer
 *  size and removal of trailing newlines), 0 if the line is below the
 *  host's level, or a negative error: AL_EINVAL (bad args or format),
 *  AL_ENOBUFS (no free buffer: dropped), AL_ESTATE (no host subscribed or
 *  link down: dropped), AL_EBROKEN. Every drop is counted. */
int al_log_vprintf(struct al_log *lg, int level, const char *fmt, va_list ap);
int al_log_printf(struct al_log *lg, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** Copy the counters. Any context. */
void al_log_get_stats(const struct al_log *lg, struct al_log_stats *out);

/** Make `lg` the logger of rpmsg_printf() / rpmsg_log() (NULL: none, the
 *  calls then drop nothing and return AL_ESTATE). Any context. */
void al_log_set_default(struct al_log *lg);

/** printf() to the host at AL_LOG_INFO through the default logger. Same
 *  returns and contexts as al_log_printf(). */
int rpmsg_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/** As rpmsg_printf() with an explicit level. */
int rpmsg_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- decoding (host side, or any receiver) ----------------------------- */

/** One decoded line. */
struct al_log_line {
	uint8_t level;
	uint8_t flags; /* AL_LOG_F_TRUNCATED: by the remote or by the decoder */
	uint32_t seq;
	uint32_t ts_ms;
	uint32_t dropped; /* remote's total of dropped lines */
	size_t len;	  /* bytes in text, excluding the NUL */
	char *text;	  /* the caller's buffer, NUL-terminated */
};

/** Check and decode one received message. The text is copied into
 *  text[cap] (truncated to cap-1 bytes, NUL-terminated) with every control
 *  character (bytes < 0x20 but tab, and 0x7f) replaced by '?', so a line
 *  never injects newlines or escapes into a log. Any context.
 *  Returns 0, or AL_EINVAL for a message that is not a valid log line
 *  (shorter than the header, unknown version, level > 7, reserved byte
 *  set) or bad args; the caller drops and counts those. */
int al_log_decode(const void *msg, size_t len, struct al_log_line *out, char *text, size_t cap);

/** "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"
 *  ("?" out of range), and the reverse (also accepts "error", "warn" and
 *  digits 0..7; -1 if unknown). Any context. */
const char *al_log_level_name(int level);
int al_log_level_parse(const char *name);

#ifdef __cplusplus
}
#endif
#endif
