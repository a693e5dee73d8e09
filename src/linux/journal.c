/* The systemd journal's native protocol, sender side
 * (include/amplink/linux/journal.h): encode an entry's fields into one
 * datagram and send it to journald's socket. */
#define _GNU_SOURCE
#include "amplink/linux/journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "amplink/error.h"

struct al_journal {
	int fd;
	struct sockaddr_un addr;
	socklen_t alen;
	uint8_t buf[AL_JOURNAL_ENTRY_MAX];
};

bool al_journal_key_ok(const char *key)
{
	if (!key || !*key || *key == '_' || (*key >= '0' && *key <= '9'))
		return false;
	size_t n = 0;
	for (const char *p = key; *p; p++, n++) {
		bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
		if (!ok || n >= AL_JOURNAL_KEY_MAX)
			return false;
	}
	return true;
}

long al_journal_encode(const struct al_journal_field *f, size_t n, uint8_t *buf, size_t cap,
		       bool *cut)
{
	if (!f || !buf || n == 0 || n > AL_JOURNAL_FIELDS)
		return AL_EINVAL;
	if (cut)
		*cut = false;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		if (!al_journal_key_ok(f[i].key) || (!f[i].val && f[i].len))
			return AL_EINVAL;
		size_t klen = strlen(f[i].key), vlen = f[i].len;
		if (vlen > AL_JOURNAL_VALUE_MAX) {
			vlen = AL_JOURNAL_VALUE_MAX;
			if (cut)
				*cut = true;
		}
		/* A newline in the value would end the field and let the rest
		 * read as a field of its own: such values travel with their
		 * length in front instead, where nothing in them is parsed. */
		bool binary = vlen && memchr(f[i].val, '\n', vlen);
		size_t need = klen + 1 + (binary ? 8 : 0) + vlen + 1;
		if (need > cap - off)
			return AL_ENOMEM;
		memcpy(buf + off, f[i].key, klen);
		off += klen;
		if (binary) {
			buf[off++] = '\n';
			uint64_t le = vlen;
			for (int b = 0; b < 8; b++)
				buf[off++] = (uint8_t)(le >> (8 * b));
		} else {
			buf[off++] = '=';
		}
		if (vlen)
			memcpy(buf + off, f[i].val, vlen);
		off += vlen;
		buf[off++] = '\n';
	}
	return (long)off;
}

const char *al_journal_socket_path(void)
{
	const char *p = getenv(AL_JOURNAL_SOCKET_ENV);
	return p && *p ? p : AL_JOURNAL_SOCKET;
}

bool al_journal_present(void)
{
	struct stat st;
	return stat(al_journal_socket_path(), &st) == 0 && S_ISSOCK(st.st_mode);
}

int al_journal_open(const char *path, struct al_journal **out)
{
	if (!out)
		return AL_EINVAL;
	if (!path)
		path = al_journal_socket_path();
	struct al_journal *j = calloc(1, sizeof(*j));
	if (!j)
		return AL_ENOMEM;
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(j->addr.sun_path)) {
		free(j);
		return AL_EINVAL;
	}
	j->addr.sun_family = AF_UNIX;
	memcpy(j->addr.sun_path, path, len + 1);
	j->alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (j->fd < 0) {
		int e = errno;
		free(j);
		errno = e;
		return AL_EINIT;
	}
	/* journald may be busy; a log line is not worth hanging the forwarder
	 * (and so its watchdog) for longer than this */
	struct timeval tv = {1, 0};
	(void)setsockopt(j->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*out = j;
	return 0;
}

int al_journal_send(struct al_journal *j, const struct al_journal_field *f, size_t n, bool *cut)
{
	if (!j)
		return AL_EINVAL;
	long len = al_journal_encode(f, n, j->buf, sizeof(j->buf), cut);
	if (len < 0)
		return (int)len;
	ssize_t w;
	do
		w = sendto(j->fd, j->buf, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&j->addr,
			   j->alen);
	while (w < 0 && errno == EINTR);
	if (w == len)
		return 0;
	if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return AL_ETIMEDOUT;
	return AL_ENOLINK;
}

void al_journal_close(struct al_journal *j)
{
	if (!j)
		return;
	close(j->fd);
	free(j);
}
