/* A tiny, allocation-free text builder for the core's error sentences
 * ("resource entry 2: vring 1 num 100 is not a power of two"): the core
 * may not use snprintf, so the parsers (rsc_parse.c, elf.c) append
 * strings, numbers and untrusted names through these helpers. Output is
 * always NUL-terminated and silently truncated to the buffer. Internal to
 * the portable core. */
#ifndef AL_FMT_H
#define AL_FMT_H

#include <stddef.h>
#include <stdint.h>

struct al_fmt {
	char *buf;
	size_t cap;
	size_t len;
};

static inline void al_fmt_init(struct al_fmt *f, char *buf, size_t cap)
{
	f->buf = buf;
	f->cap = buf ? cap : 0;
	f->len = 0;
	if (f->cap)
		buf[0] = '\0';
}

static inline void al_fmt_c(struct al_fmt *f, char c)
{
	if (f->len + 1 < f->cap) {
		f->buf[f->len++] = c;
		f->buf[f->len] = '\0';
	}
}

static inline struct al_fmt *al_fmt_s(struct al_fmt *f, const char *s)
{
	while (s && *s)
		al_fmt_c(f, *s++);
	return f;
}

static inline struct al_fmt *al_fmt_u(struct al_fmt *f, uint64_t v)
{
	char t[21];
	int n = 0;
	do {
		t[n++] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v);
	while (n)
		al_fmt_c(f, t[--n]);
	return f;
}

static inline struct al_fmt *al_fmt_x(struct al_fmt *f, uint64_t v)
{
	char t[16];
	int n = 0;
	do {
		t[n++] = "0123456789abcdef"[v & 15u];
		v >>= 4;
	} while (v);
	al_fmt_s(f, "0x");
	while (n)
		al_fmt_c(f, t[--n]);
	return f;
}

/* An untrusted name of at most `max` bytes: stops at NUL, shows
 * non-printable bytes as '?'. */
static inline struct al_fmt *al_fmt_name(struct al_fmt *f, const uint8_t *name, size_t max)
{
	al_fmt_c(f, '\'');
	for (size_t i = 0; i < max && name[i]; i++)
		al_fmt_c(f, name[i] >= 32 && name[i] < 127 ? (char)name[i] : '?');
	al_fmt_c(f, '\'');
	return f;
}

#endif
