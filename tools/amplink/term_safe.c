/* Terminal-safe text: see term_safe.h. */
#include "term_safe.h"

#include "amplink/utf8.h"

#include <stdbool.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	return al_utf8_decode(s, n, &cp);
}

/* The escape for the unit at s[0..n) into e (at most 4 bytes + NUL), or
 * "" if it prints as it is; *used gets the unit's length. */
static const char *escape_unit(const unsigned char *s, size_t n, unsigned flags, size_t *used,
			       char e[5])
{
	unsigned char c = s[0];
	*used = 1;
	if (c >= 0x20 && c < 0x7F && c != '\\')
		return "";
	switch (c) {
	case '\\': return "\\\\";
	case '\n': return flags & TERM_KEEP_LINES ? "" : "\\n";
	case '\t': return flags & TERM_KEEP_LINES ? "" : "\\t";
	case '\r': return "\\r";
	default: break;
	}
	size_t len = c >= 0x80 ? utf8_seq_len(s, n) : 0;
	bool c1 = len == 2 && c == 0xC2 && s[1] < 0xA0; /* U+0080..U+009F */
	if (len > 1 && !c1) {
		*used = len;
		return "";
	}
	static const char hex[] = "0123456789abcdef";
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 15];
	e[4] = '\0';
	return e;
}

void term_write(FILE *f, const void *s, size_t n, unsigned flags)
{
	const unsigned char *p = s;
	size_t i = 0;
	while (i < n) {
		size_t used;
		char e[5];
		const char *esc = escape_unit(p + i, n - i, flags, &used, e);
		if (*esc)
			fputs(esc, f);
		else
			fwrite(p + i, 1, used, f);
		i += used;
	}
}

void term_line(FILE *f, const void *s, size_t n)
{
	term_write(f, s, n, 0);
	fputc('\n', f);
	fflush(f);
}

const char *term_str(char *buf, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0;
	if (cap == 0)
		return buf;
	while (i < n) {
		size_t used;
		char e[5];
		const char *esc = escape_unit(p + i, n - i, 0, &used, e);
		const char *src = *esc ? esc : (const char *)p + i;
		size_t k = *esc ? strlen(esc) : used;
		if (o + k >= cap)
			break;
		memcpy(buf + o, src, k);
		o += k;
		i += used;
	}
	buf[o] = '\0';
	return buf;
}
