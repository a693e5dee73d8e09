/* Printing strings the remote chose (service names, messages, trace and log
 * text) to a terminal without letting them drive it: control characters,
 * escape sequences and bytes that are not UTF-8 are shown as escapes. */
#ifndef AMPLINK_TERM_SAFE_H
#define AMPLINK_TERM_SAFE_H

#include <stddef.h>
#include <stdio.h>

/* Keep newlines and tabs as they are (multi-line text such as a trace). */
#define TERM_KEEP_LINES 1u

/* Write s[n] to f: printable ASCII and well-formed UTF-8 as they are, a
 * backslash as "\\", newline, carriage return and tab as "\n", "\r", "\t"
 * (unless TERM_KEEP_LINES), every other control character (ESC included,
 * and the C1 controls U+0080..U+009F) and every byte that is not part of
 * well-formed UTF-8 as "\xNN". */
void term_write(FILE *f, const void *s, size_t n, unsigned flags);

/* term_write() of one message as one line: escaped, newline, flushed. */
void term_line(FILE *f, const void *s, size_t n);

/* The same into buf[cap] (NUL-terminated, truncated at a whole escape),
 * for use with printf's %s. Returns buf. */
const char *term_str(char *buf, size_t cap, const char *s);

/* Length of the well-formed UTF-8 sequence at s[0..n) (1..4), or 0 if s
 * does not start one (ASCII counts as a sequence of 1). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

#endif
