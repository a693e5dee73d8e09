/* A sender for the systemd journal's native protocol: one AF_UNIX datagram
 * per entry, made of fields `KEY=VALUE\n`, or `KEY\n<le64 length><value>\n`
 * when the value holds a newline. This is what lets the host give each
 * remote log line structured fields (REMOTE=, LINK=, PRIORITY=, ...) that
 * `journalctl REMOTE=rproc0 -p warning` filters on, without libsystemd
 * (whose sender has no way to aim at a test socket).
 *
 * Values may come from the remote and are untrusted: the encoder cuts each
 * one at AL_JOURNAL_VALUE_MAX bytes and, by construction, a value can never
 * start a field of its own (a newline in it selects the length-prefixed
 * form). Keys are ours and are checked against the protocol's rules.
 *
 * Linux host only. A journal handle is not thread-safe: one thread sends.
 */
#ifndef AMPLINK_JOURNAL_H
#define AMPLINK_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** journald's socket, and the environment variable that replaces it
 *  (tests, or a journal in a container at another place). */
#define AL_JOURNAL_SOCKET     "/run/systemd/journal/socket"
#define AL_JOURNAL_SOCKET_ENV "AMPLINK_JOURNAL_SOCKET"

#define AL_JOURNAL_KEY_MAX   64u	  /* the protocol's limit on a field name */
#define AL_JOURNAL_VALUE_MAX 16384u	  /* longer values are cut (and reported cut) */
#define AL_JOURNAL_FIELDS    16u	  /* at most this many fields per entry */
#define AL_JOURNAL_ENTRY_MAX (20u * 1024) /* the encoder's buffer, one entry */

/** One field of an entry: `key` a NUL-terminated name, `val` `len` bytes
 *  (any bytes; a NUL or a newline is carried, never interpreted). */
struct al_journal_field {
	const char *key;
	const void *val;
	size_t len;
};

/** Whether `key` is a field name the journal accepts from a client:
 *  1..64 characters of A-Z, 0-9 and '_', not starting with '_' (those are
 *  the journal's trusted fields) or a digit. Any context. */
bool al_journal_key_ok(const char *key);

/** Encode one entry of `n` fields into buf[cap]. A value longer than
 *  AL_JOURNAL_VALUE_MAX is cut there and *cut (if not NULL) is set true.
 *  Any context, no allocation. Returns the datagram's length, or AL_EINVAL
 *  (a bad key, n 0 or above AL_JOURNAL_FIELDS, NULL args) or AL_ENOMEM
 *  (the entry does not fit in cap). */
long al_journal_encode(const struct al_journal_field *f, size_t n, uint8_t *buf, size_t cap,
		       bool *cut);

/** The socket path: $AMPLINK_JOURNAL_SOCKET when set and not empty, else
 *  AL_JOURNAL_SOCKET. Any context (reads the environment). */
const char *al_journal_socket_path(void);

/** Whether a journal listens at al_journal_socket_path() (a socket is
 *  there). Thread context. */
bool al_journal_present(void);

struct al_journal;

/** Open a sender to `path` (NULL: al_journal_socket_path()). Nothing is
 *  sent yet; a journal that is not there shows at the first send. Thread
 *  context. Returns 0 and *out, AL_EINVAL (path too long for a socket
 *  address) or AL_ENOMEM / AL_EINIT (no socket; errno). */
int al_journal_open(const char *path, struct al_journal **out);

/** Encode and send one entry (see al_journal_encode). Blocks at most about
 *  a second when the journal is slow. Thread context. Returns 0, the
 *  encoder's errors, or AL_ENOLINK (nobody at the socket: errno says why)
 *  or AL_ETIMEDOUT (the journal did not take it). */
int al_journal_send(struct al_journal *j, const struct al_journal_field *f, size_t n, bool *cut);

/** Close and free. NULL is ignored. */
void al_journal_close(struct al_journal *j);

#ifdef __cplusplus
}
#endif
#endif
