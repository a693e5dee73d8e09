/* The motor + sensor demo (the A-core/M-core example of OpenAMP's RPMsg
 * tutorial), shared by both sides of `amplink`: the wire format of its three services, the remote's
 * simulated motor and sensors (demo_motor.c), and the host's channel set (used by `amplink motor`
 * and `amplink dash`).
 *
 * Services the remote announces with `amplink remote --demo motor`:
 *   "motor-ctrl"  host -> remote: struct motor_cmd {le32 cmd_type; le32 value}
 *                 remote -> host: struct motor_ack, one per command, in order
 *   "sensor-temp" remote -> host: struct sensor_sample every 100 ms, value in
 *                 milli-degrees Celsius
 *   "sensor-adc"  remote -> host: struct sensor_sample every 1000 ms, value in
 *                 raw 12-bit ADC counts (0..4095)
 *   "sensor-speed" remote -> host: struct sensor_sample every 200 ms, value an
 *                 IEEE-754 binary32 in rpm (POSIX demo remote only)
 * The sensor services start sending once the host has sent them one
 * message (any content: it binds the remote's endpoint to the host). A
 * describe request (sensor_desc.h) is answered with the sensor's
 * description (motor_sensor_desc), so a host charts any of them without
 * knowing them in advance.
 * All fields little-endian; every message is checked for its exact size
 * and range by the receiver, and dropped (counted) otherwise.
 */
#ifndef AMPLINK_MOTOR_DEMO_H
#define AMPLINK_MOTOR_DEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "amplink/log.h"
#include "amplink/rpmsg.h"
#include "sensor_desc.h"

#define MOTOR_SVC_CTRL	      "motor-ctrl"
#define MOTOR_SVC_TEMP	      "sensor-temp"
#define MOTOR_SVC_ADC	      "sensor-adc"
#define MOTOR_SVC_SPEED	      "sensor-speed"
#define MOTOR_TEMP_PERIOD_MS  100u
#define MOTOR_ADC_PERIOD_MS   1000u
#define MOTOR_SPEED_PERIOD_MS 200u

enum motor_cmd_type { MOTOR_SET_DUTY = 1, MOTOR_GET_DUTY = 2 };
enum motor_status { MOTOR_OK = 0, MOTOR_EUNKNOWN = -1, MOTOR_ERANGE = -2, MOTOR_EMSG = -3 };

/* The tutorial's struct motor_cmd. value: duty in percent, 0..100. */
struct motor_cmd {
	uint32_t cmd_type;
	int32_t value;
};
/* The ACK: which command, its status, the duty now applied, and the number
 * of commands the remote received so far (matches the host's count). */
struct motor_ack {
	uint32_t cmd_type;
	int32_t status;
	int32_t duty;
	uint32_t seq;
};
struct sensor_sample {
	uint32_t seq;	/* per series, from 0 */
	uint32_t ts_ms; /* remote clock */
	int32_t value;
};
#define MOTOR_CMD_SIZE	   8u
#define MOTOR_ACK_SIZE	   16u
#define SENSOR_SAMPLE_SIZE 12u

static inline void motor_put32(uint8_t *p, uint32_t v)
{
	sensor_put32(p, v);
}
static inline uint32_t motor_get32(const uint8_t *p)
{
	return sensor_get32(p);
}
static inline const char *motor_status_name(int32_t st)
{
	return st == MOTOR_OK	      ? "ok"
	       : st == MOTOR_EUNKNOWN ? "unknown command"
	       : st == MOTOR_ERANGE   ? "duty out of range (0..100)"
				      : "malformed command";
}

/* ---- remote side (demo_motor.c) -------------------------------------------- */

/* What the demo's sensors say about themselves (sensor_desc.h). */
enum { MOTOR_SENSOR_TEMP = 0, MOTOR_SENSOR_ADC = 1, MOTOR_SENSOR_SPEED = 2 };
static const struct sensor_desc motor_sensor_desc[3] = {
    {"Motor temperature",
     "\xc2\xb0"
     "C",
     SENSOR_FMT_INT32, 1000, MOTOR_TEMP_PERIOD_MS, -40.0f, 150.0f},
    {"ADC channel 0", "counts", SENSOR_FMT_INT32, 1, MOTOR_ADC_PERIOD_MS, 0.0f, 4095.0f},
    {"Motor speed", "rpm", SENSOR_FMT_FLOAT32, 1, MOTOR_SPEED_PERIOD_MS, 0.0f, 10000.0f},
};

/* Create the three services on `rdev` and start the sensor task (a thread
 * playing the tutorial's RTOS task: report, sleep 100 ms, repeat). `lg`
 * (may be NULL) receives the demo's log lines. Thread context. Returns 0 or
 * an AL_E* code. */
int motor_remote_start(struct rpmsg_device *rdev, struct al_log *lg);
/* Stop the task and destroy the services. Thread context. */
void motor_remote_stop(void);

/* ---- host side -------------------------------------------------------------- */

/* Decode; false if the message has the wrong size or out-of-range fields. */
static inline bool motor_ack_decode(const void *msg, long len, struct motor_ack *a)
{
	const uint8_t *b = msg;
	if (len != (long)MOTOR_ACK_SIZE)
		return false;
	a->cmd_type = motor_get32(b);
	a->status = (int32_t)motor_get32(b + 4);
	a->duty = (int32_t)motor_get32(b + 8);
	a->seq = motor_get32(b + 12);
	return a->duty >= 0 && a->duty <= 100 && a->status <= 0 && a->status >= MOTOR_EMSG;
}
static inline bool sensor_sample_decode(const void *msg, long len, struct sensor_sample *s)
{
	const uint8_t *b = msg;
	if (len != (long)SENSOR_SAMPLE_SIZE)
		return false;
	s->seq = motor_get32(b);
	s->ts_ms = motor_get32(b + 4);
	s->value = (int32_t)motor_get32(b + 8);
	return true;
}
static inline void motor_cmd_encode(uint8_t out[MOTOR_CMD_SIZE], uint32_t type, int32_t value)
{
	motor_put32(out, type);
	motor_put32(out + 4, (uint32_t)value);
}

/* The remote's motor: its duty (set_pwm_duty() on a real board) and the
 * commands seen. Written from the receive context, read by the sensor
 * loop: volatile. */
struct motor_state {
	volatile int32_t duty;
	volatile uint32_t cmds;
};

/* The remote's handling of one motor-ctrl message, the same for the
 * POSIX demo remote (demo_motor.c) and the Cortex-M4 firmware (fw_motor.c):
 * check its size and range, apply SET_DUTY, count it, log changes and
 * refusals to `lg` (may be NULL), and build the ACK to send back. Never
 * blocks; any context the logger allows (al_log_printf never waits). */
static inline void motor_handle_cmd(struct motor_state *m, const void *msg, size_t len,
				    struct al_log *lg, uint8_t ack[MOTOR_ACK_SIZE])
{
	const uint8_t *b = msg;
	uint32_t type = len >= 4 ? motor_get32(b) : 0;
	int32_t status = MOTOR_OK;
	m->cmds++;
	if (len != MOTOR_CMD_SIZE) {
		status = MOTOR_EMSG;
	} else if (type == MOTOR_SET_DUTY) {
		int32_t v = (int32_t)motor_get32(b + 4);
		if (v < 0 || v > 100) {
			status = MOTOR_ERANGE;
		} else {
			int32_t old = m->duty;
			m->duty = v;
			if (lg)
				al_log_printf(lg, AL_LOG_NOTICE, "motor: duty %d%% -> %d%%",
					      (int)old, (int)v);
		}
	} else if (type != MOTOR_GET_DUTY) {
		status = MOTOR_EUNKNOWN;
	}
	if (status != MOTOR_OK && lg)
		al_log_printf(lg, AL_LOG_WARNING, "motor: command %u refused: %s", (unsigned)type,
			      motor_status_name(status));
	motor_put32(ack, type);
	motor_put32(ack + 4, (uint32_t)status);
	motor_put32(ack + 8, (uint32_t)m->duty);
	motor_put32(ack + 12, m->cmds);
}

#endif
