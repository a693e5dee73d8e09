/* Motor + sensor firmware for QEMU's mps2-an386: the motor example's
 * M-core side, written with the RPMsg-Lite-style API as an MCU user would,
 * booted by `amplink rproc start --machine mps2-an386 build-mcu/fw_motor.elf`
 * and driven by `amplink motor` / `amplink dash` through the rproc relay
 * (`--serve LINK`). Wire format and behaviour as `amplink remote --demo
 * motor` (tools/motor_demo.h, docs/demos.md):
 *   - "motor-ctrl": each struct motor_cmd is applied in the doorbell
 *     interrupt (SET_DUTY 0..100 %, GET_DUTY) and ACKed at once with a
 *     non-blocking send (the motor example's callback minus the blocking send); an
 *     ACK that finds no buffer is sent by the main loop instead;
 *   - "sensor-temp": the simulated motor temperature (25 C + 0.4 C per %
 *     of duty, first-order lag, a little noise) every 100 ms;
 *   - "sensor-adc": a 12-bit ADC reading (a 20 s triangle plus the duty)
 *     every 1000 ms;
 *   - the sensors report to whoever last wrote to them (the host's first
 *     message binds them, as on `amplink remote`) and answer a describe
 *     request with their description (sensor_desc.h);
 *   - "amplink-log": every duty change, refused command and a status line
 *     per second go to the host's `amplink log` (rpmsg_printf, never
 *     blocks; dropped and counted while nobody listens).
 * The main loop is the sensor task: it sleeps (wfi) between 100 ms ticks.
 */
#include <stdint.h>

#include "amplink/rpmsg_ns.h"
#include "board.h"
#include "fw_rproc.h"
#include "motor_demo.h"

#define WHO "fw_motor"

static struct rpmsg_lite_instance *rl;
static struct rpmsg_lite_ept_static_context ctrl_storage, temp_storage, adc_storage;
static struct rpmsg_lite_endpoint *ctrl_ept, *temp_ept, *adc_ept;
static struct al_log *lg;

static struct motor_state motor;
static volatile uint32_t temp_dst = RL_ADDR_ANY, adc_dst = RL_ADDR_ANY;
static volatile uint32_t acks_deferred, samples_sent, samples_dropped;
/* An ACK the interrupt could not send (no free buffer): the main loop
 * sends it. One slot: commands come one at a time (the host waits). */
static volatile uint32_t ack_pending, ack_dst;
static uint8_t ack_buf[MOTOR_ACK_SIZE];

/* Receive context (doorbell ISR): apply, ACK without waiting. */
static int32_t ctrl_cb(void *payload, uint32_t len, uint32_t src, void *priv)
{
	(void)priv;
	uint8_t ack[MOTOR_ACK_SIZE];
	motor_handle_cmd(&motor, payload, len, lg, ack);
	if (rpmsg_lite_send(rl, ctrl_ept, src, (char *)ack, sizeof(ack), RL_DONT_BLOCK) !=
	    RL_SUCCESS) {
		for (unsigned i = 0; i < sizeof(ack); i++)
			ack_buf[i] = ack[i];
		ack_dst = src;
		ack_pending = 1;
		acks_deferred++;
	}
	return RL_RELEASE;
}

/* The host's messages on a sensor service say where to report; a
 * describe request (sensor_desc.h) is answered with the sensor's
 * description, without waiting (a host that gets none charts the sensor
 * with a default description). */
static int32_t sensor_cb(void *payload, uint32_t len, uint32_t src, void *priv)
{
	volatile uint32_t *dst = priv;
	bool temp = dst == &temp_dst;
	if (*dst != src && lg)
		al_log_printf(lg, AL_LOG_INFO, "sensor: %s reports to 0x%x",
			      temp ? MOTOR_SVC_TEMP : MOTOR_SVC_ADC, (unsigned)src);
	*dst = src;
	if (sensor_is_describe(payload, len)) {
		uint8_t d[SENSOR_DESC_SIZE];
		sensor_desc_encode(d,
				   &motor_sensor_desc[temp ? MOTOR_SENSOR_TEMP : MOTOR_SENSOR_ADC]);
		(void)rpmsg_lite_send(rl, temp ? temp_ept : adc_ept, src, (char *)d, sizeof(d),
				      RL_DONT_BLOCK);
	}
	return RL_RELEASE;
}

static void send_sample(struct rpmsg_lite_endpoint *ept, uint32_t dst, uint32_t *seq, int32_t value)
{
	if (dst == RL_ADDR_ANY)
		return;
	uint8_t b[SENSOR_SAMPLE_SIZE];
	motor_put32(b, *seq);
	motor_put32(b + 4, fw_rproc_ms());
	motor_put32(b + 8, (uint32_t)value);
	if (rpmsg_lite_send(rl, ept, dst, (char *)b, sizeof(b), RL_DONT_BLOCK) == RL_SUCCESS) {
		(*seq)++;
		samples_sent++;
	} else {
		samples_dropped++;
		if (lg)
			al_log_printf(lg, AL_LOG_WARNING, "sensor: sample dropped, no free buffer");
	}
}

static struct rpmsg_lite_endpoint *service(struct rpmsg_lite_ept_static_context *st,
					   rl_ept_rx_cb_t cb, void *priv)
{
	struct rpmsg_lite_endpoint *e = rpmsg_lite_create_ept(rl, RL_ADDR_ANY, cb, priv, st);
	if (e == RL_NULL)
		fw_rproc_fail(WHO, "rpmsg_lite_create_ept", 0);
	return e;
}

int main(void)
{
	board_init();
	board_puts(WHO ": up, waiting for the host\n");
	rl = fw_rproc_init(WHO, NULL);
	ctrl_ept = service(&ctrl_storage, ctrl_cb, NULL);
	temp_ept = service(&temp_storage, sensor_cb, (void *)&temp_dst);
	adc_ept = service(&adc_storage, sensor_cb, (void *)&adc_dst);
	fw_rproc_attach();
	const char *names[3] = {MOTOR_SVC_CTRL, MOTOR_SVC_TEMP, MOTOR_SVC_ADC};
	struct rpmsg_lite_endpoint *epts[3] = {ctrl_ept, temp_ept, adc_ept};
	for (int i = 0; i < 3; i++) {
		int32_t rc = rpmsg_ns_announce(rl, epts[i], names[i], (uint32_t)RL_NS_CREATE);
		if (rc != RL_SUCCESS)
			fw_rproc_fail(WHO, "rpmsg_ns_announce", rc);
	}
	lg = fw_rproc_log_init(rl, WHO);
	board_puts(WHO ": link up, announced " MOTOR_SVC_CTRL ", " MOTOR_SVC_TEMP ", " MOTOR_SVC_ADC
		       " and " AL_LOG_SERVICE "\n");
	rpmsg_printf(WHO ": up, motor-ctrl at 0x%x", (unsigned)ctrl_ept->addr); /* no host yet */

	int32_t temp = 25000; /* milli-degrees C */
	uint32_t tseq = 0, aseq = 0, tick = 0, noise = 12345;
	uint32_t next = fw_rproc_ms();
	for (;;) {
		next += MOTOR_TEMP_PERIOD_MS;
		fw_rproc_sleep_until(next);
		if (ack_pending) {
			if (rpmsg_lite_send(rl, ctrl_ept, ack_dst, (char *)ack_buf, sizeof(ack_buf),
					    50) == RL_SUCCESS)
				ack_pending = 0;
		}
		/* the motor heats up with its duty: first-order lag plus noise */
		noise = noise * 1103515245u + 12345u;
		int32_t target = 25000 + 400 * motor.duty;
		temp += (target - temp) / 20 + (int32_t)((noise >> 16) % 100u) - 49;
		send_sample(temp_ept, temp_dst, &tseq, temp);
		if (++tick % (MOTOR_ADC_PERIOD_MS / MOTOR_TEMP_PERIOD_MS) != 0)
			continue;
		uint32_t phase = fw_rproc_ms() % 20000u; /* a 20 s triangle */
		int32_t tri = (int32_t)(phase < 10000u ? phase : 20000u - phase);
		int32_t adc = 548 + tri * 3 / 10 + motor.duty * 4;
		send_sample(adc_ept, adc_dst, &aseq, adc < 0 ? 0 : adc > 4095 ? 4095 : adc);
		struct al_log_stats ls = {0};
		al_log_get_stats(lg, &ls);
		rpmsg_printf(
		    WHO ": temp %ld.%03ld C, duty %ld%%, %lu commands, samples sent %lu dropped "
			"%lu, heartbeats %lu, log dropped %lu",
		    (long)(temp / 1000), (long)(temp % 1000), (long)motor.duty,
		    (unsigned long)motor.cmds, (unsigned long)samples_sent,
		    (unsigned long)samples_dropped, (unsigned long)fw_rproc_hb_answered(),
		    (unsigned long)ls.dropped);
	}
}
