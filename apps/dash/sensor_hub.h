/* The dashboard's sensor reader: finds every `sensor-<key>` service the
 * remote announces (now and later), opens its channel, asks for its
 * description (apps/motor/sensor_desc.h), and hands each valid sample to
 * a callback. Everything the remote sends is untrusted: descriptions, names
 * and values are checked, and whatever is refused is dropped and counted
 * with a sentence saying why. At most SENSOR_HUB_MAX series; more are
 * refused (counted). Linux host only; one reader thread. */
#ifndef AMPLINK_SENSOR_HUB_H
#define AMPLINK_SENSOR_HUB_H

#include <stdbool.h>
#include <stdint.h>

#include "motor_host.h" /* motor_open_fn */
#include "sensor_desc.h"

#define SENSOR_HUB_MAX	     32
#define SENSOR_HUB_FAULT_LEN 160
/* A sensor that has not described itself this long after the describe
 * request is charted with the default description (an older remote). */
#define SENSOR_HUB_DESCRIBE_WAIT_MS 1000

/* One series, as the page sees it. */
struct hub_series {
	char key[SENSOR_KEY_MAX + 1];
	struct sensor_desc desc;
	bool described; /* false: the default description (no answer yet) */
	uint64_t samples, dropped;
	double last;
	int64_t last_ms; /* host wall clock of the last sample, 0 if none */
};

struct hub_stats {
	int series;
	uint64_t samples; /* accepted, handed to the callback */
	uint64_t rx_msgs; /* messages read on the sensor channels */
	uint64_t rx_bytes;
	uint64_t malformed;    /* a message of no known size */
	uint64_t not_finite;   /* a float value that is NaN or infinite */
	uint64_t out_of_range; /* a value outside the description's min..max */
	uint64_t undescribed;  /* a sample before the description arrived */
	uint64_t bad_desc;     /* a description refused */
	uint64_t bad_names;    /* a service name that is no valid series key */
	uint64_t over_cap;     /* a sensor refused: SENSOR_HUB_MAX reached */
	uint64_t open_failed;  /* a channel that could not be opened */
	uint64_t withdrawn;    /* a sensor the remote withdrew (NS destroy) */
	uint64_t reannounced;  /* a sensor announced anew, asked for its description again */
	int64_t last_rx_ms;    /* host wall clock of the last message, 0 if none */
	uint32_t remote_ms;    /* the remote's clock in its last sample */
	char last_fault[SENSOR_HUB_FAULT_LEN]; /* "" if none */
};

/* Lists the services the remote announced: calls fn(name, arg) for each. */
typedef void (*hub_list_fn)(void *ctx, void (*fn)(const char *name, void *arg), void *arg);
/* A valid sample of series `idx` (reader thread; must not block long). */
typedef void (*hub_sample_fn)(void *user, int idx, const char *key, int64_t host_ms,
			      uint32_t remote_ms, uint32_t seq, double value);
/* Series `idx` appeared, or its description changed (reader thread). */
typedef void (*hub_change_fn)(void *user, int idx);
/* A refusal, as a sentence (reader thread); may be NULL. */
typedef void (*hub_fault_fn)(void *user, const char *sentence);

struct sensor_hub_cfg {
	motor_open_fn open; /* opens a service's channel by name */
	hub_list_fn list;
	void *ctx; /* for open and list */
	hub_sample_fn on_sample;
	hub_change_fn on_change; /* may be NULL */
	hub_fault_fn on_fault;	 /* may be NULL */
	void *user;
	uint32_t scan_ms; /* how often to look for new services; 0 = 500 */
};

struct sensor_hub;

/* Start the reader thread (it scans at once). Thread context. Returns 0
 * and *out, AL_EINVAL or AL_ENOMEM. */
int sensor_hub_start(const struct sensor_hub_cfg *cfg, struct sensor_hub **out);
/* Copy up to `max` series (in the order they appeared); returns how many.
 * Any thread. */
int sensor_hub_series(struct sensor_hub *h, struct hub_series *out, int max);
void sensor_hub_stats(struct sensor_hub *h, struct hub_stats *out);
/* True once a channel said the link is gone. */
bool sensor_hub_link_lost(struct sensor_hub *h);
/* Stop the thread, close every channel, free. NULL is ignored. */
void sensor_hub_close(struct sensor_hub *h);

/* The description a series has until (or unless) its remote describes it:
 * "temp" as the motor demo's milli-degrees, anything else a plain int32. */
void sensor_hub_default_desc(const char *key, struct sensor_desc *d);

#endif
