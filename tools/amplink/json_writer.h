/* A small streaming JSON writer for the tools' --json output: one value
 * per call, commas and escaping taken care of. Inside an object every call
 * names its member (key); at the top level and inside arrays key is NULL.
 * A top-level value ends with a newline, so a stream of them is JSON Lines. */
#ifndef AMPLINK_JSON_WRITER_H
#define AMPLINK_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *f;
	unsigned depth;
	bool need_comma[JSON_MAX_DEPTH + 1];
};

void json_init(struct json_writer *w, FILE *f);
void json_object_begin(struct json_writer *w, const char *key);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w, const char *key);
void json_array_end(struct json_writer *w);
/* A string: quote, backslash and control characters (C0, DEL and C1)
 * escaped, bytes that are not well-formed UTF-8 written as \u00XX. NULL
 * writes null. */
void json_string(struct json_writer *w, const char *key, const char *s);
void json_string_n(struct json_writer *w, const char *key, const void *s, size_t n);
void json_uint(struct json_writer *w, const char *key, uint64_t v);
void json_int(struct json_writer *w, const char *key, int64_t v);
/* A number with `decimals` digits after the point; NaN and infinities as null. */
void json_double(struct json_writer *w, const char *key, double v, int decimals);
void json_bool(struct json_writer *w, const char *key, bool v);
void json_null(struct json_writer *w, const char *key);

#endif
