/* The sensor description: what a remote says about each `sensor-<key>`
 * service it announces, so a host can chart any sensor without code of its
 * own for it (the dashboard, docs/dashboard.md). Shared by the remotes
 * (demo_motor.c, mcu/fw_motor.c) and the host (apps/dash/sensor_hub.c).
 *
 * Exchange, on the sensor's own channel, compatible both ways:
 *   host -> remote  SENSOR_DESCRIBE_SIZE bytes: le32 SENSOR_DESCRIBE_MAGIC.
 *                   Like any host message it also binds the sensor to the
 *                   host (telemetry starts); a remote that does not know
 *                   the request just binds, and the host falls back to a
 *                   default description.
 *   remote -> host  one description, SENSOR_DESC_SIZE (64) bytes, before
 *                   or among the 12-byte samples (sizes never collide):
 *     0  le32 magic      SENSOR_DESC_MAGIC
 *     4  u8   version    1
 *     5  u8   format     0: sample value is an int32, physical = raw / scale
 *                        1: sample value is an IEEE-754 binary32
 *     6  le16 reserved   0
 *     8  char label[24]  display name, UTF-8, NUL-terminated and -padded
 *    32  char unit[12]   unit ("°C", "rpm", "" for none), same rules
 *    44  le32 scale      1..1000000 (int32 format), 1 for float32
 *    48  le32 period_ms  how often the remote reports, 1..3600000
 *    52  f32  min        the range a valid value lies in (physical units,
 *    56  f32  max        finite, min < max); outside it a sample is dropped
 *    60  le32 reserved   0
 * Everything is validated by the receiver (sensor_desc_decode): a label or
 * unit that is not clean UTF-8 or carries control characters or any of
 * < > " ' & \ is refused, as is every out-of-range field.
 *
 * Portable: no malloc, no libc beyond string.h; the decoders are for the
 * host, the encoder for the remotes. */
#ifndef AMPLINK_SENSOR_DESC_H
#define AMPLINK_SENSOR_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "amplink/utf8.h"

#define SENSOR_SVC_PREFIX     "sensor-"
#define SENSOR_KEY_MAX	      24u /* "sensor-" + key fits rpmsg's 31-character names */
#define SENSOR_LABEL_SIZE     24u
#define SENSOR_UNIT_SIZE      12u
#define SENSOR_DESCRIBE_MAGIC 0x3f435344u /* "DSC?" */
#define SENSOR_DESC_MAGIC     0x43534453u /* "SDSC" */
#define SENSOR_DESCRIBE_SIZE  4u
#define SENSOR_DESC_SIZE      64u
#define SENSOR_DESC_VERSION   1u
#define SENSOR_SCALE_MAX      1000000u
#define SENSOR_PERIOD_MAX     3600000u

enum sensor_format { SENSOR_FMT_INT32 = 0, SENSOR_FMT_FLOAT32 = 1 };

struct sensor_desc {
	char label[SENSOR_LABEL_SIZE];
	char unit[SENSOR_UNIT_SIZE];
	uint8_t format; /* enum sensor_format */
	uint32_t scale;
	uint32_t period_ms;
	float min, max;
};

/* Why a description, a name or a value was refused (0: accepted). */
enum sensor_refusal {
	SENSOR_OK = 0,
	SENSOR_BAD_SIZE = 1,   /* not SENSOR_DESC_SIZE bytes, or not a description */
	SENSOR_BAD_FIELD = 2,  /* version, format, scale, period, reserved, min/max */
	SENSOR_BAD_TEXT = 3,   /* label or unit: encoding, control or markup characters */
	SENSOR_BAD_KEY = 4,    /* service name not sensor-[A-Za-z0-9_-]{1,24} */
	SENSOR_NOT_FINITE = 5, /* a float32 value that is NaN or infinite */
	SENSOR_OUT_OF_RANGE = 6
};

static inline void sensor_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
	p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t sensor_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint32_t sensor_f2u(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	return u;
}
static inline float sensor_u2f(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}
/* Finite without math.h: the exponent bits are not all ones. */
static inline bool sensor_f32_finite(uint32_t bits)
{
	return (bits & 0x7f800000u) != 0x7f800000u;
}

/* Whether a message is the host's describe request. */
static inline bool sensor_is_describe(const void *msg, size_t len)
{
	return len == SENSOR_DESCRIBE_SIZE && sensor_get32(msg) == SENSOR_DESCRIBE_MAGIC;
}

static inline void sensor_describe_encode(uint8_t out[SENSOR_DESCRIBE_SIZE])
{
	sensor_put32(out, SENSOR_DESCRIBE_MAGIC);
}

/* Remote side: the 64 bytes of `d` (label and unit are cut to their
 * fields, NUL-padded). */
static inline void sensor_desc_encode(uint8_t out[SENSOR_DESC_SIZE], const struct sensor_desc *d)
{
	memset(out, 0, SENSOR_DESC_SIZE);
	sensor_put32(out, SENSOR_DESC_MAGIC);
	out[4] = SENSOR_DESC_VERSION;
	out[5] = d->format;
	for (size_t i = 0; i < SENSOR_LABEL_SIZE - 1 && d->label[i]; i++)
		out[8 + i] = (uint8_t)d->label[i];
	for (size_t i = 0; i < SENSOR_UNIT_SIZE - 1 && d->unit[i]; i++)
		out[32 + i] = (uint8_t)d->unit[i];
	sensor_put32(out + 44, d->scale);
	sensor_put32(out + 48, d->period_ms);
	sensor_put32(out + 52, sensor_f2u(d->min));
	sensor_put32(out + 56, sensor_f2u(d->max));
}

/* Whether `s` (n bytes, not NUL-terminated) is text a page may show as
 * is: well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), no C0/C1 control characters or DEL, none of < > " ' & \. */
static inline bool sensor_text_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' ||
			    c == '\'' || c == '&' || c == '\\')
				return false;
			i++;
			continue;
		}
		uint32_t cp;
		size_t len = al_utf8_decode(s + i, n - i, &cp);
		if (len == 0 || (cp >= 0x80 && cp <= 0x9f))
			return false;
		i += len;
	}
	return true;
}

/* A NUL-terminated, NUL-padded text field of `cap` bytes: its length, or
 * -1 if it has no NUL, bytes after the NUL, or text sensor_text_ok refuses. */
static inline int sensor_field_text(const uint8_t *f, size_t cap)
{
	size_t n = 0;
	while (n < cap && f[n])
		n++;
	if (n == cap)
		return -1;
	for (size_t i = n; i < cap; i++)
		if (f[i])
			return -1;
	return sensor_text_ok(f, n) ? (int)n : -1;
}

/* Host side: check and decode a description. Returns SENSOR_OK and *d, or
 * the refusal (d untouched). */
static inline enum sensor_refusal sensor_desc_decode(const void *msg, size_t len,
						     struct sensor_desc *d)
{
	const uint8_t *b = msg;
	if (len != SENSOR_DESC_SIZE || sensor_get32(b) != SENSOR_DESC_MAGIC)
		return SENSOR_BAD_SIZE;
	uint32_t scale = sensor_get32(b + 44), period = sensor_get32(b + 48);
	uint32_t lo = sensor_get32(b + 52), hi = sensor_get32(b + 56);
	if (b[4] != SENSOR_DESC_VERSION || b[5] > SENSOR_FMT_FLOAT32 || b[6] || b[7] ||
	    sensor_get32(b + 60) || period == 0 || period > SENSOR_PERIOD_MAX || scale == 0 ||
	    scale > SENSOR_SCALE_MAX || (b[5] == SENSOR_FMT_FLOAT32 && scale != 1) ||
	    !sensor_f32_finite(lo) || !sensor_f32_finite(hi) || !(sensor_u2f(lo) < sensor_u2f(hi)))
		return SENSOR_BAD_FIELD;
	int ll = sensor_field_text(b + 8, SENSOR_LABEL_SIZE);
	int ul = sensor_field_text(b + 32, SENSOR_UNIT_SIZE);
	if (ll <= 0 || ul < 0)
		return SENSOR_BAD_TEXT;
	memcpy(d->label, b + 8, SENSOR_LABEL_SIZE);
	memcpy(d->unit, b + 32, SENSOR_UNIT_SIZE);
	d->format = b[5];
	d->scale = scale;
	d->period_ms = period;
	d->min = sensor_u2f(lo);
	d->max = sensor_u2f(hi);
	return SENSOR_OK;
}

/* Host side: the key of a service name "sensor-<key>", key 1..24 of
 * [A-Za-z0-9_-] (what a series may be called in the store and on the
 * page). Returns a pointer into `service`, or NULL: not a sensor at all
 * (*why untouched) or a refused key (*why = SENSOR_BAD_KEY). */
static inline const char *sensor_key(const char *service, enum sensor_refusal *why)
{
	size_t pl = sizeof(SENSOR_SVC_PREFIX) - 1;
	if (strncmp(service, SENSOR_SVC_PREFIX, pl) != 0)
		return NULL;
	const char *k = service + pl;
	size_t n = 0;
	for (; k[n]; n++) {
		char c = k[n];
		if (n >= SENSOR_KEY_MAX || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					     (c >= '0' && c <= '9') || c == '_' || c == '-')) {
			*why = SENSOR_BAD_KEY;
			return NULL;
		}
	}
	if (n == 0) {
		*why = SENSOR_BAD_KEY;
		return NULL;
	}
	return k;
}

/* Host side: the physical value of a sample's raw 32 bits under `d`:
 * SENSOR_OK and *out, SENSOR_NOT_FINITE or SENSOR_OUT_OF_RANGE. */
static inline enum sensor_refusal sensor_value(const struct sensor_desc *d, uint32_t raw,
					       double *out)
{
	double v;
	if (d->format == SENSOR_FMT_FLOAT32) {
		if (!sensor_f32_finite(raw))
			return SENSOR_NOT_FINITE;
		v = (double)sensor_u2f(raw);
	} else {
		v = (double)(int32_t)raw / (double)d->scale;
	}
	if (v < (double)d->min || v > (double)d->max)
		return SENSOR_OUT_OF_RANGE;
	*out = v;
	return SENSOR_OK;
}

#endif
