/* The host side of the motor + sensor demo (motor_host.h). */
#define _GNU_SOURCE
#include "motor_host.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "amplink/linux/channel.h"
#include "amplink/linux/posix_port.h"

struct motor_host {
	struct al_channel *ctrl, *temp, *adc;
	motor_sample_fn fn;
	void *user;
	pthread_t thread;
	volatile int stop;
	volatile int lost;
	pthread_mutex_t cmd_mu; /* one command at a time */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool waiting, have_ack;
	struct motor_ack ack;
	struct motor_host_stats st;
};

static void *reader(void *arg)
{
	struct motor_host *h = arg;
	struct al_channel *chs[3] = {h->temp, h->adc, h->ctrl};
	uint8_t buf[512];
	while (!h->stop) {
		struct pollfd p[3];
		for (int i = 0; i < 3; i++) /* a negative fd (no channel) is ignored */
			p[i] = (struct pollfd){chs[i] ? al_channel_fd(chs[i]) : -1, POLLIN, 0};
		if (poll(p, 3, 100) <= 0)
			continue;
		for (int i = 0; i < 3; i++) {
			if (!chs[i])
				continue;
			long n = al_channel_read(chs[i], buf, sizeof(buf), NULL, 0);
			if (n == AL_EAGAIN)
				continue;
			if (n == AL_EMSGSIZE) { /* a message larger than any valid one */
				long big = al_channel_next_len(chs[i]);
				uint8_t *tmp = malloc(big > 0 ? (size_t)big : 1u);
				if (tmp)
					(void)al_channel_read(chs[i], tmp, (size_t)big, NULL, 0);
				free(tmp);
				pthread_mutex_lock(&h->mu);
				h->st.malformed++;
				pthread_mutex_unlock(&h->mu);
				continue;
			}
			if (n < 0) {
				if (n == AL_ENOLINK || n == AL_EBROKEN)
					h->lost = 1;
				continue;
			}
			if (i < 2) {
				struct sensor_sample s;
				bool ok = sensor_sample_decode(buf, n, &s);
				pthread_mutex_lock(&h->mu);
				if (ok)
					h->st.samples[i]++;
				else
					h->st.malformed++;
				pthread_mutex_unlock(&h->mu);
				if (ok && h->fn)
					h->fn(h->user, i, &s);
			} else {
				struct motor_ack a;
				bool ok = motor_ack_decode(buf, n, &a);
				pthread_mutex_lock(&h->mu);
				if (!ok) {
					h->st.malformed++;
				} else if (h->waiting && !h->have_ack) {
					h->ack = a;
					h->have_ack = true;
					pthread_cond_broadcast(&h->cv);
				} else {
					h->st.stray_acks++;
				}
				pthread_mutex_unlock(&h->mu);
			}
		}
		if (h->lost)
			break;
	}
	pthread_mutex_lock(&h->mu);
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

int motor_host_open(motor_open_fn open, void *ctx, uint32_t timeout_ms, motor_sample_fn fn,
		    void *user, struct motor_host **out)
{
	struct motor_host *h = calloc(1, sizeof(*h));
	if (!h)
		return AL_ENOMEM;
	h->fn = fn;
	h->user = user;
	int rc = open(ctx, MOTOR_SVC_CTRL, timeout_ms, &h->ctrl);
	if (!rc && fn)
		rc = open(ctx, MOTOR_SVC_TEMP, timeout_ms, &h->temp);
	if (!rc && fn)
		rc = open(ctx, MOTOR_SVC_ADC, timeout_ms, &h->adc);
	uint8_t start = 1; /* binds the remote's sensor endpoints: telemetry starts */
	if (!rc && fn) {
		long w = al_channel_write(h->temp, &start, 1, timeout_ms);
		if (w >= 0)
			w = al_channel_write(h->adc, &start, 1, timeout_ms);
		rc = w < 0 ? (int)w : 0;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->cmd_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (!rc && pthread_create(&h->thread, NULL, reader, h) != 0)
		rc = AL_ENOMEM;
	if (rc) {
		al_channel_close(h->ctrl);
		al_channel_close(h->temp);
		al_channel_close(h->adc);
		pthread_mutex_destroy(&h->mu);
		pthread_mutex_destroy(&h->cmd_mu);
		pthread_cond_destroy(&h->cv);
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

int motor_host_command(struct motor_host *h, uint32_t type, int32_t value, uint32_t timeout_ms,
		       struct motor_ack *ack)
{
	uint8_t cmd[MOTOR_CMD_SIZE];
	motor_cmd_encode(cmd, type, value);
	pthread_mutex_lock(&h->cmd_mu);
	pthread_mutex_lock(&h->mu);
	h->waiting = true;
	h->have_ack = false;
	pthread_mutex_unlock(&h->mu);
	int rc = 0;
	long w = al_channel_write(h->ctrl, cmd, sizeof(cmd), timeout_ms);
	if (w < 0)
		rc = (int)w;
	struct timespec dl = al_posix_deadline(timeout_ms);
	pthread_mutex_lock(&h->mu);
	while (!rc && !h->have_ack && !h->lost)
		if (pthread_cond_timedwait(&h->cv, &h->mu, &dl) != 0)
			rc = AL_ETIMEDOUT;
	if (!rc && !h->have_ack)
		rc = AL_ENOLINK;
	else if (!rc && ack)
		*ack = h->ack;
	h->waiting = false;
	pthread_mutex_unlock(&h->mu);
	pthread_mutex_unlock(&h->cmd_mu);
	return rc;
}

void motor_host_get_stats(struct motor_host *h, struct motor_host_stats *out)
{
	if (!h) { /* the dashboard on a remote without motor-ctrl */
		*out = (struct motor_host_stats){0};
		return;
	}
	pthread_mutex_lock(&h->mu);
	*out = h->st;
	pthread_mutex_unlock(&h->mu);
}

bool motor_host_link_lost(struct motor_host *h)
{
	return h && h->lost != 0;
}

void motor_host_stop(struct motor_host *h)
{
	if (!h || h->stop)
		return;
	h->stop = 1;
	pthread_join(h->thread, NULL);
}

void motor_host_close(struct motor_host *h)
{
	if (!h)
		return;
	motor_host_stop(h);
	al_channel_close(h->ctrl);
	al_channel_close(h->temp);
	al_channel_close(h->adc);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->cmd_mu);
	pthread_cond_destroy(&h->cv);
	free(h);
}
