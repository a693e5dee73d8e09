/* A hostile remote for the dashboard's bad-input test (it_dash_bad.sh):
 * the remote (device) side of a link that announces sensors the way the
 * motor demo does (sensor_desc.h), but with what a broken or malicious
 * firmware might send.
 *   dash_remote bad LINK    good sensors flooding (2 x 1000 samples/s),
 *                           float values that are NaN or infinite,
 *                           values outside the described range, messages
 *                           of no valid size (7 B, 300 B, a 1 KiB
 *                           "description"), descriptions whose label
 *                           carries HTML, quotes, control characters or
 *                           bytes that are not UTF-8, and service names
 *                           no chart may show
 *   dash_remote many LINK   300 well-formed sensors, one sample a second each
 *   dash_remote cycle LINK  one good sensor (50 samples/s) that the remote
 *                           withdraws (NS destroy) and announces anew at
 *                           another address every 1.5 s, as a firmware task
 *                           that restarts does
 * Prints "dash_remote: ready" once the host is attached and every service
 * is announced; runs until SIGTERM. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amplink/error.h"
#include "amplink/linux/posix.h"
#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"
#include "sensor_desc.h"

#define MAX_SENSORS 320

/* What one sensor sends: its description (raw, so it can be a bad one),
 * then every `period_ms` a sample made by `kind`. */
enum kind { GOOD, NAN_INF, RANGE, GARBAGE, SLOW };
struct sensor {
	struct rpmsg_endpoint ept;
	char name[32];
	uint8_t desc[1024];
	size_t desc_len;
	enum kind kind;
	uint32_t period_ms, seq;
	uint64_t next;
};

static struct sensor S[MAX_SENSORS];
static int nS;
static volatile sig_atomic_t stop;

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static int sensor_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct sensor *s = priv;
	__atomic_store_n(&ept->dest_addr, src, __ATOMIC_RELAXED);
	if (sensor_is_describe(data, len) && s->desc_len)
		(void)rpmsg_trysendto(ept, s->desc, (int)s->desc_len, src);
	return RPMSG_SUCCESS;
}

/* Add a sensor; `label` NULL: no description at all. */
static struct sensor *add(const char *name, enum kind kind, uint32_t period_ms, uint8_t format,
			  const char *label, const char *unit, float lo, float hi)
{
	struct sensor *s = &S[nS++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->kind = kind;
	s->period_ms = period_ms;
	if (label) {
		struct sensor_desc d = {
		    .format = format, .scale = 1, .period_ms = period_ms, .min = lo, .max = hi};
		snprintf(d.label, sizeof(d.label), "%s", label);
		snprintf(d.unit, sizeof(d.unit), "%s", unit);
		sensor_desc_encode(s->desc, &d);
		s->desc_len = SENSOR_DESC_SIZE;
	}
	return s;
}

static void sample(struct sensor *s, uint32_t raw)
{
	uint8_t b[12];
	sensor_put32(b, s->seq++);
	sensor_put32(b + 4, (uint32_t)now_ms());
	sensor_put32(b + 8, raw);
	(void)rpmsg_trysend(&s->ept, b, sizeof(b));
}

static void tick(struct sensor *s)
{
	static const uint32_t bad_floats[] = {0x7fc00000u, 0x7f800000u, 0xff800000u, 0x7fa00001u};
	uint8_t junk[300];
	memset(junk, 0xa5, sizeof(junk));
	switch (s->kind) {
	case GOOD:
	case SLOW: sample(s, (uint32_t)(500 + (int)(s->seq % 200) - 100)); break;
	case NAN_INF: /* three bad values, then a good one */
		sample(s, s->seq % 4 == 3 ? sensor_f2u(1.5f) : bad_floats[s->seq % 4]);
		break;
	case RANGE: sample(s, s->seq % 2 ? 500u : 50u); break; /* range 0..100 */
	case GARBAGE:
		(void)rpmsg_trysend(&s->ept, junk, s->seq % 2 ? 7 : 300);
		s->seq++;
		break;
	}
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void scenario_bad(void)
{
	add("sensor-good", GOOD, 1, SENSOR_FMT_INT32, "Flood A", "V", 0, 1000);
	add("sensor-good2", GOOD, 1, SENSOR_FMT_INT32, "Flood B", "V", 0, 1000);
	add("sensor-nan", NAN_INF, 20, SENSOR_FMT_FLOAT32, "Float", "A", -10, 10);
	add("sensor-range", RANGE, 20, SENSOR_FMT_INT32, "Ranged", "%", 0, 100);
	add("sensor-garbage", GARBAGE, 50, SENSOR_FMT_INT32, "Garbage", "", 0, 10);
	/* descriptions a page must never show: each refused, the series then
	 * charted under its key with the default description */
	add("sensor-html", SLOW, 100, SENSOR_FMT_INT32, "<img src=x onerror=alert(1)>", "", 0,
	    1000);
	add("sensor-quote", SLOW, 100, SENSOR_FMT_INT32, "say \"hi\"", "", 0, 1000);
	add("sensor-ctl", SLOW, 100, SENSOR_FMT_INT32, "bell\a\x1b[2J", "", 0, 1000);
	add("sensor-utf", SLOW, 100, SENSOR_FMT_INT32, "bad \xc3\x28 \xff", "", 0, 1000);
	struct sensor *big = add("sensor-big", SLOW, 100, SENSOR_FMT_INT32, "Big", "", 0, 1000);
	memset(big->desc + SENSOR_DESC_SIZE, 'A', sizeof(big->desc) - SENSOR_DESC_SIZE);
	big->desc_len = sizeof(big->desc); /* a 1 KiB "description" */
	/* names no series may have */
	add("sensor-<b>x</b>", SLOW, 100, SENSOR_FMT_INT32, "Markup", "", 0, 1000);
	add("sensor-a\"b'c", SLOW, 100, SENSOR_FMT_INT32, "Quotes", "", 0, 1000);
	add("sensor-bell\a", SLOW, 100, SENSOR_FMT_INT32, "Control", "", 0, 1000);
	add("sensor-\xc3\x28\xff", SLOW, 100, SENSOR_FMT_INT32, "Not UTF-8", "", 0, 1000);
	add("sensor-", SLOW, 100, SENSOR_FMT_INT32, "Empty", "", 0, 1000);
}

static void scenario_many(void)
{
	for (int i = 0; i < 300; i++) {
		char name[32], label[24];
		snprintf(name, sizeof(name), "sensor-m%03d", i);
		snprintf(label, sizeof(label), "Many %d", i);
		add(name, SLOW, 1000, SENSOR_FMT_INT32, label, "V", 0, 1000);
	}
}

static void scenario_cycle(void)
{
	add("sensor-cycle", GOOD, 20, SENSOR_FMT_INT32, "Cycled", "V", 0, 1000);
}

/* Withdraw sensor s and announce it again: a new endpoint (a new address,
 * the old one still taken until the destroy), which knows no host address
 * until the host asks for its description. */
static int reannounce(struct rpmsg_device *rdev, struct sensor *s)
{
	struct rpmsg_endpoint old = s->ept;
	rpmsg_destroy_ept(&s->ept);
	memset(&s->ept, 0, sizeof(s->ept));
	s->ept.priv = s;
	int rc =
	    rpmsg_create_ept(&s->ept, rdev, s->name, old.addr + 1, RPMSG_ADDR_ANY, sensor_cb, NULL);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 3 ||
	    (strcmp(argv[1], "bad") && strcmp(argv[1], "many") && strcmp(argv[1], "cycle"))) {
		fprintf(stderr, "usage: dash_remote bad|many|cycle LINK\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	bool cycle = strcmp(argv[1], "cycle") == 0;
	if (strcmp(argv[1], "bad") == 0)
		scenario_bad();
	else if (cycle)
		scenario_cycle();
	else
		scenario_many();
	/* 2 KiB buffers: room for the 1 KiB "description" */
	struct al_posix_cfg c = {.name = argv[2],
				 .role = VIRTIO_DEV_DEVICE,
				 .buf_size = 2048,
				 .connect_timeout_ms = 20000};
	struct al_posix_link *l = NULL;
	int rc = al_posix_open(&c, &l);
	if (!rc)
		rc = al_posix_wait_up(l, 20000);
	if (rc) {
		fprintf(stderr, "dash_remote: no host: %s\n", al_strerror(rc));
		return 1;
	}
	/* announce at a pace the host's receive ring keeps up with */
	for (int i = 0; i < nS; i++) {
		S[i].ept.priv = &S[i];
		for (int tries = 0;; tries++) {
			rc = rpmsg_create_ept(&S[i].ept, al_posix_rdev(l), S[i].name,
					      RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, sensor_cb, NULL);
			if (rc == 0 || tries == 100)
				break;
			struct timespec d = {0, 10 * 1000000L};
			nanosleep(&d, NULL);
		}
		if (rc) {
			fprintf(stderr, "dash_remote: %s not announced: %s\n", S[i].name,
				al_strerror(rc));
			return 1;
		}
		if (i % 32 == 31) {
			struct timespec d = {0, 20 * 1000000L};
			nanosleep(&d, NULL);
		}
	}
	printf("dash_remote: ready (%d sensors)\n", nS);
	fflush(stdout);
	uint64_t next_cycle = now_ms() + 1500;
	unsigned cycles = 0;
	while (!stop && al_virtio_link_state(al_posix_rvdev(l)) == AL_LINK_UP) {
		uint64_t now = now_ms();
		if (cycle && now >= next_cycle) {
			rc = reannounce(al_posix_rdev(l), &S[0]);
			if (rc) {
				fprintf(stderr, "dash_remote: re-announce failed: %s\n",
					al_strerror(rc));
				return 1;
			}
			printf("dash_remote: re-announced %s at %u (%u)\n", S[0].name,
			       (unsigned)S[0].ept.addr, ++cycles);
			fflush(stdout);
			next_cycle = now + 1500;
		}
		for (int i = 0; i < nS; i++) {
			struct sensor *s = &S[i];
			if (__atomic_load_n(&s->ept.dest_addr, __ATOMIC_RELAXED) ==
				RPMSG_ADDR_ANY ||
			    now < s->next)
				continue;
			s->next = now + s->period_ms;
			tick(s);
		}
		struct timespec d = {0, 1000000L};
		nanosleep(&d, NULL);
	}
	al_posix_close(l);
	return 0;
}
