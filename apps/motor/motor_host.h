/* The host side of the motor + sensor demo (wire format in motor_demo.h):
 * opens the three services through the channel API (on a link of
 * amplink's own, or the Linux kernel's rpmsg_char), reads telemetry on a
 * thread and hands each valid sample to a callback, and sends commands
 * that wait for their ACK. Used by `amplink motor` and `amplink dash`. */
#ifndef AMPLINK_MOTOR_HOST_H
#define AMPLINK_MOTOR_HOST_H

#include "motor_demo.h"

enum { SERIES_TEMP = 0, SERIES_ADC = 1 };

/* Called on the reader thread for every valid sample (series SERIES_*). */
typedef void (*motor_sample_fn)(void *user, int series, const struct sensor_sample *s);

struct motor_host_stats {
	uint64_t samples[2];
	uint64_t malformed;  /* telemetry or ACKs of the wrong size/range: dropped */
	uint64_t stray_acks; /* ACKs nobody waited for */
};

struct motor_host;

struct al_channel;
/* Opens the channel of one service by name, waiting up to timeout_ms for
 * the remote to announce it: 0 or AL_E*. */
typedef int (*motor_open_fn)(void *ctx, const char *service, uint32_t timeout_ms,
			     struct al_channel **out);

/* Open the services through `open` (waits up to timeout_ms for each),
 * start the telemetry and the reader thread. With `fn` NULL only
 * motor-ctrl is opened (commands only: the dashboard reads the sensors
 * itself, apps/dash/sensor_hub.h). Thread context. Returns 0 or
 * the first error of `open` or of the start messages (AL_E*). */
int motor_host_open(motor_open_fn open, void *ctx, uint32_t timeout_ms, motor_sample_fn fn,
		    void *user, struct motor_host **out);
/* Send one command and wait up to timeout_ms for its ACK. Thread context;
 * callers are serialised. Returns 0 and *ack, AL_ETIMEDOUT or a send
 * error. */
int motor_host_command(struct motor_host *h, uint32_t type, int32_t value, uint32_t timeout_ms,
		       struct motor_ack *ack);
/* Counters (all zero for h NULL). Any thread. */
void motor_host_get_stats(struct motor_host *h, struct motor_host_stats *out);
/* True once the reader saw the link go away (false for h NULL). */
bool motor_host_link_lost(struct motor_host *h);
/* Stop the reader thread (no more callbacks; stats are final). */
void motor_host_stop(struct motor_host *h);
void motor_host_close(struct motor_host *h);

#endif
