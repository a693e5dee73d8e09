/* UTF-8 well-formedness for text the other side chose (service names,
 * sensor descriptions, log lines): one decoder for every place that must
 * decide whether such text may be shown as it is. Header-only, portable
 * (the firmware uses it too), no allocation. */
#ifndef AMPLINK_UTF8_H
#define AMPLINK_UTF8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Decode the UTF-8 sequence at s (n > 0 bytes left). Returns its length
 *  (1 for ASCII, 2..4) and its code point in *cp, or 0 when it is not
 *  well-formed: a stray continuation byte, a truncated sequence, an
 *  overlong form, a surrogate (U+D800..U+DFFF) or a code point past
 *  U+10FFFF. Control characters are decoded like any other code point: a
 *  caller that must refuse them (C0, DEL, C1 U+0080..U+009F) checks *cp.
 *  Any context. */
static inline size_t al_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0; /* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90; /* no overlong forms */
		else if (c == 0xF4)
			hi = 0x8F; /* nothing past U+10FFFF */
	} else {
		return 0; /* a continuation byte, C0/C1 (overlong), F5..FF */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	uint32_t v = c & (0x7Fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3Fu);
	}
	*cp = v;
	return len;
}

#ifdef __cplusplus
}
#endif
#endif
