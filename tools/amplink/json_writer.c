/* The JSON writer: see json_writer.h. */
#include "json_writer.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "term_safe.h"

void json_init(struct json_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

static void put_escaped(FILE *f, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len = utf8_seq_len(s + i, n - i);
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7F || len == 0) {
			fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
		} else if (len == 2 && c == 0xC2 && s[i + 1] < 0xA0) {
			/* a C1 control (U+0080..U+009F): escaped like the others */
			fprintf(f, "\\u00%c%c", hex[s[i + 1] >> 4], hex[s[i + 1] & 15]);
			i += 2;
			continue;
		} else {
			fwrite(s + i, 1, len, f);
			i += len;
			continue;
		}
		i++;
	}
	fputc('"', f);
}

/* The comma and key before a value. */
static void member(struct json_writer *w, const char *key)
{
	if (w->need_comma[w->depth])
		fputc(',', w->f);
	w->need_comma[w->depth] = true;
	if (key) {
		put_escaped(w->f, (const unsigned char *)key, strlen(key));
		fputc(':', w->f);
	}
}

/* After a value: a top-level value ends its line. */
static void done(struct json_writer *w)
{
	if (w->depth == 0) {
		fputc('\n', w->f);
		w->need_comma[0] = false;
	}
}

static void container_begin(struct json_writer *w, const char *key, char c)
{
	member(w, key);
	fputc(c, w->f);
	if (w->depth < JSON_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void container_end(struct json_writer *w, char c)
{
	fputc(c, w->f);
	if (w->depth > 0)
		w->depth--;
	done(w);
}

void json_object_begin(struct json_writer *w, const char *key)
{
	container_begin(w, key, '{');
}
void json_object_end(struct json_writer *w)
{
	container_end(w, '}');
}
void json_array_begin(struct json_writer *w, const char *key)
{
	container_begin(w, key, '[');
}
void json_array_end(struct json_writer *w)
{
	container_end(w, ']');
}

void json_string_n(struct json_writer *w, const char *key, const void *s, size_t n)
{
	member(w, key);
	put_escaped(w->f, s, n);
	done(w);
}

void json_string(struct json_writer *w, const char *key, const char *s)
{
	if (!s) {
		json_null(w, key);
		return;
	}
	json_string_n(w, key, s, strlen(s));
}

void json_uint(struct json_writer *w, const char *key, uint64_t v)
{
	member(w, key);
	fprintf(w->f, "%" PRIu64, v);
	done(w);
}

void json_int(struct json_writer *w, const char *key, int64_t v)
{
	member(w, key);
	fprintf(w->f, "%" PRId64, v);
	done(w);
}

void json_double(struct json_writer *w, const char *key, double v, int decimals)
{
	member(w, key);
	if (isfinite(v))
		fprintf(w->f, "%.*f", decimals, v);
	else
		fputs("null", w->f);
	done(w);
}

void json_bool(struct json_writer *w, const char *key, bool v)
{
	member(w, key);
	fputs(v ? "true" : "false", w->f);
	done(w);
}

void json_null(struct json_writer *w, const char *key)
{
	member(w, key);
	fputs("null", w->f);
	done(w);
}
