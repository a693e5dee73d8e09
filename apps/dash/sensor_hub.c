/* The dashboard's sensor reader (sensor_hub.h): one thread that scans the
 * remote's services for new sensors, reads every sensor channel, checks
 * descriptions and samples, and counts what it refuses. */
#define _GNU_SOURCE
#include "sensor_hub.h"

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amplink/error.h"
#include "amplink/linux/channel.h"
#include "amplink/rpmsg.h"

/* Names refused once are remembered (by hash) so that a remote announcing
 * hundreds of them is counted once per name, not once per scan. */
#define REFUSED_MAX 1024
#define BUF_SIZE    512 /* larger than any valid message (64 B) */
#define SCAN_MAX    512 /* sensor names looked at per scan (16 times the cap) */
#define NAME_SIZE   40

struct sensor {
	struct al_channel *ch;
	uint32_t peer; /* the sensor's address when last looked at */
	char service[NAME_SIZE];
	int64_t subscribed_ms;
	struct hub_series s;
};

struct sensor_hub {
	struct sensor_hub_cfg cfg;
	pthread_t thread;
	volatile int stop, lost;
	pthread_mutex_t mu; /* guards sensors[].s, n and st */
	struct sensor sensors[SENSOR_HUB_MAX];
	int n;
	uint32_t refused[REFUSED_MAX];
	int nrefused;
	char scan[SCAN_MAX][NAME_SIZE]; /* one scan's names, copied out of the list */
	int nscan;
	struct hub_stats st;
};

static int64_t wall_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void sensor_hub_default_desc(const char *key, struct sensor_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->format = SENSOR_FMT_INT32;
	d->scale = 1;
	d->period_ms = 1000;
	d->min = -2147483648.0f;
	d->max = 2147483648.0f;
	snprintf(d->label, sizeof(d->label), "%s", key);
	if (strcmp(key, "temp") == 0) { /* the motor demo's first remotes */
		snprintf(d->unit, sizeof(d->unit),
			 "\xc2\xb0"
			 "C");
		d->scale = 1000;
		d->period_ms = 100;
	}
}

/* Record a refusal: count it (caller's counter, under the lock), keep the
 * sentence, tell the application. */
static void fault(struct sensor_hub *h, uint64_t *counter, const char *fmt, ...)
{
	char line[SENSOR_HUB_FAULT_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&h->mu);
	(*counter)++;
	memcpy(h->st.last_fault, line, sizeof(line));
	pthread_mutex_unlock(&h->mu);
	if (h->cfg.on_fault)
		h->cfg.on_fault(h->cfg.user, line);
}

/* A name from the remote, shown with every byte outside [A-Za-z0-9_-]
 * as \xNN and cut to fit. */
static const char *shown(char *out, size_t cap, const char *name)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p && o + 5 < cap; p++) {
		unsigned char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	out[o] = 0;
	return out;
}

static uint32_t name_hash(const char *s)
{
	uint32_t x = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		x = (x ^ (uint8_t)*s) * 16777619u;
	return x;
}

static bool refused_before(const struct sensor_hub *h, const char *name)
{
	uint32_t x = name_hash(name);
	for (int i = 0; i < h->nrefused; i++)
		if (h->refused[i] == x)
			return true;
	return false;
}

/* Past REFUSED_MAX names a refusal is counted at every scan. */
static void remember_refused(struct sensor_hub *h, const char *name)
{
	if (h->nrefused < REFUSED_MAX)
		h->refused[h->nrefused++] = name_hash(name);
}

/* The describe request: it also tells the sensor our address. */
static long ask_description(struct al_channel *ch)
{
	uint8_t req[SENSOR_DESCRIBE_SIZE];
	sensor_describe_encode(req);
	return al_channel_write(ch, req, sizeof(req), 1000);
}

/* Follow sensors the remote withdraws and announces anew (a restarted
 * firmware task): the withdrawal unbinds our channel's endpoint, and the
 * next announcement of that name binds it to the new address (the name
 * service's rule), but the new endpoint does not know our address: ask it
 * for its description again, which tells it. The series carries on. */
static void follow_rebinds(struct sensor_hub *h)
{
	for (int i = 0; i < h->n; i++) {
		struct sensor *s = &h->sensors[i];
		struct rpmsg_endpoint *ept = al_channel_ept(s->ch);
		uint32_t peer = __atomic_load_n(&ept->dest_addr, __ATOMIC_RELAXED);
		if (peer == s->peer)
			continue;
		s->peer = peer;
		if (peer == RPMSG_ADDR_ANY) {
			fault(h, &h->st.withdrawn, "sensor '%s' withdrawn by the remote", s->s.key);
			continue;
		}
		long w = ask_description(s->ch);
		fault(h, &h->st.reannounced, "sensor '%s' announced anew at 0x%x%s%s", s->s.key,
		      (unsigned)peer, w < 0 ? ": cannot ask for its description: " : "",
		      w < 0 ? al_strerror((int)w) : "");
	}
}

/* One name of the scan: subscribe to it if it is a new, valid sensor. */
static void consider(const char *name, struct sensor_hub *h)
{
	enum sensor_refusal why = SENSOR_OK;
	const char *key = sensor_key(name, &why);
	if (!key && why == SENSOR_OK)
		return; /* not a sensor */
	for (int i = 0; i < h->n; i++)
		if (strcmp(h->sensors[i].service, name) == 0)
			return; /* known (the kernel lists our own endpoints too) */
	if (refused_before(h, name))
		return;
	char safe[100];
	if (!key) {
		remember_refused(h, name);
		fault(h, &h->st.bad_names,
		      "sensor service '%s' refused: a series name is 1..24 of A-Z a-z 0-9 _ -",
		      shown(safe, sizeof(safe), name));
		return;
	}
	if (h->n == SENSOR_HUB_MAX) {
		remember_refused(h, name);
		fault(h, &h->st.over_cap, "sensor '%s' refused: at most %d series", key,
		      SENSOR_HUB_MAX);
		return;
	}
	struct al_channel *ch = NULL;
	int rc = h->cfg.open(h->cfg.ctx, name, 1000, &ch);
	long w = rc ? rc : ask_description(ch);
	if (w < 0) {
		al_channel_close(ch); /* not refused for good: tried again at the next scan */
		fault(h, &h->st.open_failed, "sensor '%s': cannot subscribe: %s", key,
		      al_strerror((int)w));
		return;
	}
	struct sensor *s = &h->sensors[h->n];
	memset(s, 0, sizeof(*s));
	s->ch = ch;
	s->peer = al_channel_ept(ch)->dest_addr;
	snprintf(s->service, sizeof(s->service), "%s", name);
	s->subscribed_ms = wall_ms();
	snprintf(s->s.key, sizeof(s->s.key), "%s", key);
	sensor_hub_default_desc(key, &s->s.desc);
	pthread_mutex_lock(&h->mu);
	h->n++;
	h->st.series = h->n;
	pthread_mutex_unlock(&h->mu);
	if (h->cfg.on_change)
		h->cfg.on_change(h->cfg.user, h->n - 1);
}

static const char *refusal_text(enum sensor_refusal r)
{
	switch (r) {
	case SENSOR_BAD_SIZE: return "not a description";
	case SENSOR_BAD_FIELD: return "a field out of range";
	case SENSOR_BAD_TEXT: return "label or unit not clean UTF-8 text";
	case SENSOR_NOT_FINITE: return "value not a number";
	case SENSOR_OUT_OF_RANGE: return "value outside the described range";
	default: return "refused";
	}
}

static void on_desc(struct sensor_hub *h, int i, const uint8_t *b, long n)
{
	struct sensor *s = &h->sensors[i];
	struct sensor_desc d;
	enum sensor_refusal r = sensor_desc_decode(b, (size_t)n, &d);
	if (r != SENSOR_OK) {
		fault(h, &h->st.bad_desc, "sensor '%s': description refused: %s", s->s.key,
		      refusal_text(r));
		return;
	}
	pthread_mutex_lock(&h->mu);
	s->s.desc = d;
	s->s.described = true;
	pthread_mutex_unlock(&h->mu);
	if (h->cfg.on_change)
		h->cfg.on_change(h->cfg.user, i);
}

static void on_sample(struct sensor_hub *h, int i, const uint8_t *b, int64_t now)
{
	struct sensor *s = &h->sensors[i];
	uint32_t seq = sensor_get32(b), rms = sensor_get32(b + 4), raw = sensor_get32(b + 8);
	if (!s->s.described && now - s->subscribed_ms < SENSOR_HUB_DESCRIBE_WAIT_MS) {
		/* its description may be on the way: do not guess the format yet */
		pthread_mutex_lock(&h->mu);
		h->st.undescribed++;
		s->s.dropped++;
		pthread_mutex_unlock(&h->mu);
		return;
	}
	double v;
	enum sensor_refusal r = sensor_value(&s->s.desc, raw, &v);
	if (r != SENSOR_OK) {
		fault(h, r == SENSOR_NOT_FINITE ? &h->st.not_finite : &h->st.out_of_range,
		      "sensor '%s': sample %u dropped: %s", s->s.key, (unsigned)seq,
		      refusal_text(r));
		pthread_mutex_lock(&h->mu);
		s->s.dropped++;
		pthread_mutex_unlock(&h->mu);
		return;
	}
	pthread_mutex_lock(&h->mu);
	s->s.samples++;
	s->s.last = v;
	s->s.last_ms = now;
	h->st.samples++;
	h->st.remote_ms = rms;
	pthread_mutex_unlock(&h->mu);
	h->cfg.on_sample(h->cfg.user, i, s->s.key, now, rms, seq, v);
}

/* Read what one channel has queued; false when the link is gone. */
static bool drain(struct sensor_hub *h, int i, uint8_t *buf)
{
	struct al_channel *ch = h->sensors[i].ch;
	for (int k = 0; k < 64; k++) { /* bounded: let the other channels in */
		long n = al_channel_read(ch, buf, BUF_SIZE, NULL, 0);
		if (n == AL_EAGAIN)
			return true;
		if (n == AL_ENOLINK || n == AL_EBROKEN)
			return false;
		if (n == AL_EMSGSIZE) { /* larger than any valid message: drop it */
			long big = al_channel_next_len(ch);
			uint8_t *tmp = malloc(big > 0 ? (size_t)big : 1u);
			if (tmp)
				(void)al_channel_read(ch, tmp, (size_t)big, NULL, 0);
			free(tmp);
			fault(h, &h->st.malformed, "sensor '%s': a %ld-byte message dropped",
			      h->sensors[i].s.key, big);
			continue;
		}
		if (n < 0)
			return true;
		int64_t now = wall_ms();
		pthread_mutex_lock(&h->mu);
		h->st.rx_msgs++;
		h->st.rx_bytes += (uint64_t)n;
		h->st.last_rx_ms = now;
		pthread_mutex_unlock(&h->mu);
		if (n == SENSOR_DESC_SIZE)
			on_desc(h, i, buf, n);
		else if (n == SENSOR_SAMPLE_SIZE)
			on_sample(h, i, buf, now);
		else
			fault(h, &h->st.malformed, "sensor '%s': a %ld-byte message dropped",
			      h->sensors[i].s.key, n);
	}
	return true;
}

/* The list callback only copies: opening a channel inside it could call
 * back into the directory that is listing. */
static void collect(const char *name, void *arg)
{
	struct sensor_hub *h = arg;
	if (h->nscan < SCAN_MAX && strncmp(name, SENSOR_SVC_PREFIX, strlen(SENSOR_SVC_PREFIX)) == 0)
		snprintf(h->scan[h->nscan++], NAME_SIZE, "%s", name);
}

static void *reader(void *arg)
{
	struct sensor_hub *h = arg;
	uint8_t buf[BUF_SIZE];
	int64_t next_scan = 0;
	uint32_t scan_ms = h->cfg.scan_ms ? h->cfg.scan_ms : 500;
	while (!h->stop && !h->lost) {
		int64_t now = wall_ms();
		if (now >= next_scan) {
			h->nscan = 0;
			h->cfg.list(h->cfg.ctx, collect, h);
			for (int i = 0; i < h->nscan; i++)
				consider(h->scan[i], h);
			next_scan = now + scan_ms;
			/* A read that does not wait notices a link that is gone even
			 * when no channel polls readable (the remote withdrew every
			 * sensor before it went). */
			for (int i = 0; i < h->n && !h->lost; i++)
				if (!drain(h, i, buf))
					h->lost = 1;
		}
		follow_rebinds(h);
		struct pollfd p[SENSOR_HUB_MAX];
		int n = h->n > 0 && h->n <= SENSOR_HUB_MAX ? h->n : 0;
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){al_channel_fd(h->sensors[i].ch), POLLIN, 0};
		if (n == 0) {
			struct timespec d = {0, 100 * 1000000L};
			nanosleep(&d, NULL);
			continue;
		}
		if (poll(p, (nfds_t)n, 100) <= 0)
			continue;
		for (int i = 0; i < n; i++)
			if (p[i].revents && !drain(h, i, buf))
				h->lost = 1;
	}
	return NULL;
}

int sensor_hub_start(const struct sensor_hub_cfg *cfg, struct sensor_hub **out)
{
	if (!cfg || !cfg->open || !cfg->list || !cfg->on_sample || !out)
		return AL_EINVAL;
	struct sensor_hub *h = calloc(1, sizeof(*h));
	if (!h)
		return AL_ENOMEM;
	h->cfg = *cfg;
	pthread_mutex_init(&h->mu, NULL);
	if (pthread_create(&h->thread, NULL, reader, h) != 0) {
		pthread_mutex_destroy(&h->mu);
		free(h);
		return AL_ENOMEM;
	}
	*out = h;
	return 0;
}

int sensor_hub_series(struct sensor_hub *h, struct hub_series *out, int max)
{
	pthread_mutex_lock(&h->mu);
	int n = h->n < max ? h->n : max;
	for (int i = 0; i < n; i++)
		out[i] = h->sensors[i].s;
	pthread_mutex_unlock(&h->mu);
	return n;
}

void sensor_hub_stats(struct sensor_hub *h, struct hub_stats *out)
{
	pthread_mutex_lock(&h->mu);
	*out = h->st;
	pthread_mutex_unlock(&h->mu);
}

bool sensor_hub_link_lost(struct sensor_hub *h)
{
	return h->lost != 0;
}

void sensor_hub_close(struct sensor_hub *h)
{
	if (!h)
		return;
	h->stop = 1;
	pthread_join(h->thread, NULL);
	for (int i = 0; i < h->n; i++)
		al_channel_close(h->sensors[i].ch);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
