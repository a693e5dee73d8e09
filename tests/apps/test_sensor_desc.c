/* Unit tests of the sensor description (apps/motor/sensor_desc.h): what a
 * host accepts from a remote describing its sensors, and everything it
 * must refuse: wrong sizes and fields, labels a page could not show as
 * text, series names, values that are not numbers or out of range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sensor_desc.h"

static const struct sensor_desc temp = {"Motor temperature",
					"\xc2\xb0"
					"C",
					SENSOR_FMT_INT32,
					1000,
					100,
					-40.0f,
					150.0f};

static void roundtrip(void **st)
{
	(void)st;
	uint8_t b[SENSOR_DESC_SIZE];
	sensor_desc_encode(b, &temp);
	struct sensor_desc d;
	assert_int_equal(sensor_desc_decode(b, sizeof(b), &d), SENSOR_OK);
	assert_string_equal(d.label, "Motor temperature");
	assert_string_equal(d.unit, "\xc2\xb0"
				    "C");
	assert_int_equal(d.scale, 1000);
	assert_int_equal(d.period_ms, 100);
	assert_true(d.min == -40.0f && d.max == 150.0f);
	double v;
	assert_int_equal(sensor_value(&d, (uint32_t)25500, &v), SENSOR_OK);
	assert_true(v == 25.5);
	assert_int_equal(sensor_value(&d, (uint32_t)(int32_t)-41000, &v), SENSOR_OUT_OF_RANGE);
	assert_int_equal(sensor_value(&d, 151000u, &v), SENSOR_OUT_OF_RANGE);
}

static enum sensor_refusal with(void (*edit)(uint8_t *b))
{
	uint8_t b[SENSOR_DESC_SIZE];
	sensor_desc_encode(b, &temp);
	edit(b);
	struct sensor_desc d;
	return sensor_desc_decode(b, sizeof(b), &d);
}
static void e_magic(uint8_t *b)
{
	b[0] ^= 1;
}
static void e_version(uint8_t *b)
{
	b[4] = 2;
}
static void e_format(uint8_t *b)
{
	b[5] = 2;
}
static void e_reserved(uint8_t *b)
{
	b[61] = 1;
}
static void e_scale0(uint8_t *b)
{
	sensor_put32(b + 44, 0);
}
static void e_scale_big(uint8_t *b)
{
	sensor_put32(b + 44, SENSOR_SCALE_MAX + 1);
}
static void e_float_scaled(uint8_t *b)
{
	b[5] = SENSOR_FMT_FLOAT32;
}
static void e_period0(uint8_t *b)
{
	sensor_put32(b + 48, 0);
}
static void e_min_nan(uint8_t *b)
{
	sensor_put32(b + 52, 0x7fc00000u);
}
static void e_max_inf(uint8_t *b)
{
	sensor_put32(b + 56, 0x7f800000u);
}
static void e_min_eq_max(uint8_t *b)
{
	sensor_put32(b + 56, sensor_f2u(-40.0f));
}
static void e_label_empty(uint8_t *b)
{
	memset(b + 8, 0, SENSOR_LABEL_SIZE);
}
static void e_label_no_nul(uint8_t *b)
{
	memset(b + 8, 'a', SENSOR_LABEL_SIZE);
}
static void e_label_after_nul(uint8_t *b)
{
	b[8 + SENSOR_LABEL_SIZE - 1] = 'x';
}
static void e_label_html(uint8_t *b)
{
	memcpy(b + 8, "<b>", 3);
}
static void e_label_quote(uint8_t *b)
{
	b[9] = '"';
}
static void e_label_ctl(uint8_t *b)
{
	b[9] = 0x1b;
}
static void e_label_del(uint8_t *b)
{
	b[9] = 0x7f;
}
static void e_label_bad_utf8(uint8_t *b)
{
	b[9] = (uint8_t)0xff;
}
static void e_label_overlong(uint8_t *b)
{
	b[9] = 0xc0, b[10] = 0xaf;
}
static void e_label_surrogate(uint8_t *b)
{
	b[9] = 0xed, b[10] = 0xa0, b[11] = 0x80;
}
static void e_label_c1(uint8_t *b)
{
	b[9] = 0xc2, b[10] = 0x85;
}
static void e_label_cut(uint8_t *b)
{
	b[8 + 16] = 0xe2, b[8 + 17] = 0x82;
} /* then NUL */
static void e_unit_no_nul(uint8_t *b)
{
	memset(b + 32, 'u', SENSOR_UNIT_SIZE);
}

static void refusals(void **st)
{
	(void)st;
	assert_int_equal(with(e_magic), SENSOR_BAD_SIZE);
	void (*fields[])(uint8_t *) = {e_version,   e_format,	    e_reserved, e_scale0,
				       e_scale_big, e_float_scaled, e_period0,	e_min_nan,
				       e_max_inf,   e_min_eq_max};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		assert_int_equal(with(fields[i]), SENSOR_BAD_FIELD);
	void (*texts[])(uint8_t *) = {
	    e_label_empty, e_label_no_nul, e_label_after_nul, e_label_html,	e_label_quote,
	    e_label_ctl,   e_label_del,	   e_label_bad_utf8,  e_label_overlong, e_label_surrogate,
	    e_label_c1,	   e_label_cut,	   e_unit_no_nul};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		assert_int_equal(with(texts[i]), SENSOR_BAD_TEXT);
	uint8_t b[SENSOR_DESC_SIZE + 1] = {0};
	sensor_desc_encode(b, &temp);
	struct sensor_desc d;
	assert_int_equal(sensor_desc_decode(b, SENSOR_DESC_SIZE + 1, &d), SENSOR_BAD_SIZE);
	assert_int_equal(sensor_desc_decode(b, SENSOR_DESC_SIZE - 1, &d), SENSOR_BAD_SIZE);
	assert_int_equal(sensor_desc_decode(b, 12, &d), SENSOR_BAD_SIZE);
}

static void keys(void **st)
{
	(void)st;
	enum sensor_refusal why = SENSOR_OK;
	assert_string_equal(sensor_key("sensor-temp", &why), "temp");
	assert_string_equal(sensor_key("sensor-A_b-9", &why), "A_b-9");
	assert_string_equal(sensor_key("sensor-123456789012345678901234", &why),
			    "123456789012345678901234");
	assert_int_equal(why, SENSOR_OK);
	assert_null(sensor_key("motor-ctrl", &why));
	assert_int_equal(why, SENSOR_OK); /* not a sensor: no refusal */
	const char *bad[] = {"sensor-",		"sensor-<b>",
			     "sensor-a\"b",	"sensor-a'b",
			     "sensor-a b",	"sensor-bell\a",
			     "sensor-\xc3\xa9", "sensor-a.b",
			     "sensor-a/b",	"sensor-1234567890123456789012345"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = SENSOR_OK;
		assert_null(sensor_key(bad[i], &why));
		assert_int_equal(why, SENSOR_BAD_KEY);
	}
}

static void float_values(void **st)
{
	(void)st;
	struct sensor_desc d = {"Speed", "rpm", SENSOR_FMT_FLOAT32, 1, 200, 0.0f, 10000.0f};
	double v;
	assert_int_equal(sensor_value(&d, sensor_f2u(1234.5f), &v), SENSOR_OK);
	assert_true(v == 1234.5);
	const uint32_t not_numbers[] = {0x7fc00000u, 0xffc00000u, 0x7fa00001u, 0x7f800000u,
					0xff800000u};
	for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++)
		assert_int_equal(sensor_value(&d, not_numbers[i], &v), SENSOR_NOT_FINITE);
	assert_int_equal(sensor_value(&d, sensor_f2u(-0.5f), &v), SENSOR_OUT_OF_RANGE);
	assert_int_equal(sensor_value(&d, sensor_f2u(3.4e38f), &v), SENSOR_OUT_OF_RANGE);
}

static void describe_request(void **st)
{
	(void)st;
	uint8_t r[SENSOR_DESCRIBE_SIZE];
	sensor_describe_encode(r);
	assert_true(sensor_is_describe(r, sizeof(r)));
	assert_false(sensor_is_describe(r, sizeof(r) - 1));
	uint8_t one = 1; /* what older hosts send: binds, asks nothing */
	assert_false(sensor_is_describe(&one, 1));
	r[3] ^= 1;
	assert_false(sensor_is_describe(r, sizeof(r)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(roundtrip),
	    cmocka_unit_test(refusals),
	    cmocka_unit_test(keys),
	    cmocka_unit_test(float_values),
	    cmocka_unit_test(describe_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
