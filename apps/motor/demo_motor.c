/* The remote side of the motor + sensor demo (tools/motor_demo.h): a
 * simulated PWM that SET_DUTY commands drive (each one ACKed from the
 * receive callback), a temperature that follows the duty, reported every
 * 100 ms, an ADC channel reported every second and the motor's speed
 * (a float, every 200 ms), each on its own service and each described on
 * request (sensor_desc.h). Runs inside `amplink remote --demo motor`. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "amplink/linux/posix_port.h"
#include "motor_demo.h"

static struct {
	struct rpmsg_endpoint ctrl, temp, adc, speed;
	struct al_log *lg;
	pthread_t task;
	bool running;
	volatile int stop;
	struct motor_state motor;
	uint32_t ack_failed;
} m;

static uint32_t clock_ms(void)
{
	return al_posix_process_ms();
}

/* Receive context: apply, ACK with a non-blocking send (the motor tutorial's
 * callback, minus the blocking send). */
static int ctrl_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	uint8_t ack[MOTOR_ACK_SIZE];
	motor_handle_cmd(&m.motor, data, len, m.lg, ack);
	if (rpmsg_trysendto(ept, ack, sizeof(ack), src) < 0)
		m.ack_failed++;
	return RPMSG_SUCCESS;
}

/* A host's message on a sensor service says where the samples go: the
 * core binds the endpoint to the first sender, and a later host (one tool
 * after another on a board's kernel, each with an endpoint of its own)
 * takes the telemetry over by writing too. The sensor task reads the
 * address as one aligned word. A describe request is answered with the
 * sensor's description (priv), without waiting. */
static int sensor_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	__atomic_store_n(&ept->dest_addr, src, __ATOMIC_RELAXED);
	if (sensor_is_describe(data, len)) {
		uint8_t d[SENSOR_DESC_SIZE];
		sensor_desc_encode(d, priv);
		if (rpmsg_trysendto(ept, d, sizeof(d), src) < 0 && m.lg)
			al_log_printf(m.lg, AL_LOG_WARNING, "sensor: description not sent");
	}
	return RPMSG_SUCCESS;
}

static void send_sample(struct rpmsg_endpoint *ept, uint32_t *seq, uint32_t value)
{
	if (!is_rpmsg_ept_ready(ept))
		return;
	uint8_t b[SENSOR_SAMPLE_SIZE];
	motor_put32(b, *seq);
	motor_put32(b + 4, clock_ms());
	motor_put32(b + 8, value);
	if (rpmsg_trysend(ept, b, sizeof(b)) >= 0)
		(*seq)++;
	else if (m.lg)
		al_log_printf(m.lg, AL_LOG_WARNING, "sensor: sample dropped, no free buffer");
}

/* The sensor task: every 100 ms a temperature, every 2nd tick the speed,
 * every 10th tick an ADC value. */
static void *sensor_task(void *arg)
{
	(void)arg;
	double temp = 25.0, rpm = 0.0;
	uint32_t tseq = 0, aseq = 0, sseq = 0, tick = 0, noise = 12345;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!m.stop) {
		next.tv_nsec += (long)MOTOR_TEMP_PERIOD_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		if (m.stop)
			break;
		noise = noise * 1103515245u + 12345u;
		double target =
		    25.0 + 0.4 * (double)m.motor.duty; /* the motor heats up with duty */
		temp += (target - temp) * 0.05 + ((double)((noise >> 16) % 100) - 49.5) * 0.001;
		send_sample(&m.temp, &tseq, (uint32_t)(int32_t)lround(temp * 1000.0));
		tick++;
		if (tick % (MOTOR_SPEED_PERIOD_MS / MOTOR_TEMP_PERIOD_MS) == 0) {
			/* 30 rpm per % of duty, a faster lag than the heat, some ripple */
			rpm += ((double)m.motor.duty * 30.0 - rpm) * 0.3 +
			       ((double)((noise >> 8) % 100) - 49.5) * 0.2;
			if (rpm < 0.0)
				rpm = 0.0;
			send_sample(&m.speed, &sseq, sensor_f2u((float)rpm));
		}
		if (tick % (MOTOR_ADC_PERIOD_MS / MOTOR_TEMP_PERIOD_MS) == 0) {
			double t = (double)clock_ms() / 1000.0;
			int32_t adc = (int32_t)lround(2048.0 + 1500.0 * sin(t * 2.0 * M_PI / 20.0) +
						      (double)m.motor.duty * 4.0);
			send_sample(&m.adc, &aseq,
				    (uint32_t)(adc < 0	    ? 0
					       : adc > 4095 ? 4095
							    : adc));
		}
	}
	return NULL;
}

int motor_remote_start(struct rpmsg_device *rdev, struct al_log *lg)
{
	m.lg = lg;
	m.stop = 0;
	int rc = rpmsg_create_ept(&m.ctrl, rdev, MOTOR_SVC_CTRL, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				  ctrl_cb, NULL);
	struct rpmsg_endpoint *sensors[3] = {&m.temp, &m.adc, &m.speed};
	const char *names[3] = {MOTOR_SVC_TEMP, MOTOR_SVC_ADC, MOTOR_SVC_SPEED};
	for (int i = 0; i < 3 && rc == 0; i++) {
		sensors[i]->priv = (void *)&motor_sensor_desc[i]; /* kept by create */
		rc = rpmsg_create_ept(sensors[i], rdev, names[i], RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				      sensor_cb, NULL);
	}
	if (rc == 0 && pthread_create(&m.task, NULL, sensor_task, NULL) != 0)
		rc = AL_ENOMEM;
	m.running = rc == 0;
	return rc;
}

void motor_remote_stop(void)
{
	if (!m.running)
		return;
	m.stop = 1;
	pthread_join(m.task, NULL);
	m.running = false;
	/* the endpoints go with the link (al_posix_close destroys them) */
}
