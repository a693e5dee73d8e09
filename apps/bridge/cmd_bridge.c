/* `amplink bridge mqtt`: forward rpmsg channels to an MQTT broker and back.
 * Attaches to the remote as host, publishes every message received on
 * each bridged channel to <prefix><channel>, and writes every message
 * published on <prefix><channel>/cmd to that channel.
 * When the broker goes away it keeps reading the channels into a bounded
 * buffer (oldest dropped and counted when full) and reconnects with
 * back-off (100 ms doubling to 5 s). Built as its own executable,
 * amplink-bridge, which `amplink bridge` runs: libmosquitto (Debian
 * libmosquitto-dev) pulls in OpenSSL, which the other subcommands should
 * not pay for at start-up. See docs/bridge.md.
 *
 * The remote chooses its service names, and a name becomes part of a
 * topic: each name is escaped (every byte but A-Z a-z 0-9 - _ . as %XX),
 * so that no name can reach another service's topic ('a/cmd' is not 'a'
 * followed by /cmd), carry a wildcard, or make a topic that is not UTF-8.
 * A message the broker library refuses for good (a topic it will never
 * take, a payload too large) is dropped and counted by cause instead of
 * holding up every message behind it. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "amplink.h"
#include "amplink/linux/channel.h"
#include "amplink/linux/rpmsg_char.h"
#include "svc_notify.h"
#include "term_safe.h"

#define MAX_CHANNELS	     64
#define TOPIC_MAX	     512
#define BACKOFF_MIN_MS	     100u
#define BACKOFF_MAX_MS	     5000u
#define CONNECT_TIMEOUT_MS   5000u /* TCP + CONNACK */
#define CMD_WRITE_TIMEOUT_MS 1000u
#define RX_MAX		     65536u /* largest rpmsg payload of any link (64 KiB buffers) */

struct bchan {
	const char *name;
	char shown[256]; /* the name as printed: the remote chose it (term_safe.h) */
	char topic[TOPIC_MAX];
	char cmd_topic[TOPIC_MAX];
	struct al_channel *ch;
	const char *greet; /* send this when attached (NULL: nothing) */
	size_t greet_len;
	uint64_t rx, published, dropped, cmds, cmd_failed;
	bool refused_said; /* the broker library refused its topic: said once */
};

/* A message waiting for the broker. */
struct pending {
	int chan;
	uint32_t len;
	void *data;
};

enum mqtt_state { MQ_DOWN, MQ_CONNECTING, MQ_UP };

struct bridge {
	struct mosquitto *mosq;
	const char *host;
	int port;
	int qos;
	int keepalive;
	char prefix[TOPIC_MAX];
	struct bchan ch[MAX_CHANNELS];
	int nch;
	/* bounded FIFO of messages waiting for the broker */
	struct pending *ring;
	uint32_t cap, head, count, peak;
	enum mqtt_state state;
	bool ever_up, quitting;
	uint64_t attempt_at, next_try, down_since;
	uint32_t backoff_ms;
	unsigned failed_attempts;
	uint64_t connects, disconnects, dropped, delivered, handed;
	uint64_t drop_full, drop_topic, drop_size; /* dropped, by cause */
	int link_err;				   /* set when the link to the remote goes */
};

static uint64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: amplink bridge mqtt [--channel NAME]... [--broker HOST] [--port N]\n"
		"                           [--prefix P] [--buffer N] [--qos 0|1|2]\n"
		"                           [--greet NAME[=DATA]]... [--client-id ID]\n"
		"                           [--keepalive S] [--stats] [--duration MS]\n"
		"                           [link options]\n\n"
		"Attach to the remote as host and bridge its channels to an MQTT broker:\n"
		"every message received on a channel is published to <prefix><channel>\n"
		"(payload = the message bytes), every message published on\n"
		"<prefix><channel>/cmd is sent to the remote on that channel.\n\n"
		"  --channel NAME   bridge this service (repeatable; default: every service\n"
		"                   the remote announced)\n"
		"  --broker HOST    broker address (default 127.0.0.1); nothing else is\n"
		"                   ever contacted\n"
		"  --port N         broker port (default 1883)\n"
		"  --prefix P       topic prefix (default amplink/<link>/)\n"
		"  --buffer N       messages kept while the broker is away (default 1000;\n"
		"                   when full the oldest is dropped and counted)\n"
		"  --qos Q          publish and subscribe QoS (default 0)\n"
		"  --greet NAME[=DATA]  send DATA (default the byte 0x01) on channel NAME\n"
		"                   once attached: services such as `--ticker` and the\n"
		"                   motor demo's sensors start when the host first writes\n"
		"  --client-id ID   MQTT client id (default amplink-bridge-<link>-<pid>)\n"
		"  --keepalive S    MQTT keep-alive in seconds (default 30)\n"
		"  --stats          print the counters every second (always on exit)\n"
		"  --duration MS    stop after MS milliseconds (default: until SIGINT/TERM)\n\n"
		"Reconnects with back-off (100 ms doubling to 5 s) when the broker goes\n"
		"away. Exit codes: 0 ok, 1 failure, 2 usage, 3 link to the remote lost.\n\n%s",
		link_usage());
}

/* ---- the buffer ------------------------------------------------------------ */

static void ring_drop_oldest(struct bridge *b)
{
	struct pending *p = &b->ring[b->head];
	b->ch[p->chan].dropped++;
	b->dropped++;
	b->drop_full++;
	free(p->data);
	p->data = NULL;
	b->head = (b->head + 1) % b->cap;
	b->count--;
}

static void ring_push(struct bridge *b, int chan, const void *data, uint32_t len)
{
	if (b->cap == 0) { /* --buffer 0: nothing is kept */
		b->ch[chan].dropped++;
		b->dropped++;
		b->drop_full++;
		return;
	}
	if (b->count == b->cap)
		ring_drop_oldest(b);
	void *copy = malloc(len ? len : 1);
	if (!copy) {
		b->ch[chan].dropped++;
		b->dropped++;
		b->drop_full++;
		return;
	}
	memcpy(copy, data, len);
	b->ring[(b->head + b->count) % b->cap] = (struct pending){chan, len, copy};
	b->count++;
	if (b->count > b->peak)
		b->peak = b->count;
}

/* ---- MQTT ------------------------------------------------------------------ */

/* Hand one message to libmosquitto: true if it is dealt with (handed
 * over, or refused for good: dropped and counted by cause), false if the
 * broker is not there (kept and retried). */
static bool publish(struct bridge *b, int chan, const void *data, uint32_t len)
{
	struct bchan *c = &b->ch[chan];
	int rc = mosquitto_publish(b->mosq, NULL, c->topic, (int)len, data, b->qos, false);
	if (rc == MOSQ_ERR_SUCCESS) {
		c->published++;
		b->handed++;
		return true;
	}
	bool size = rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_OVERSIZE_PACKET;
	bool topic = rc == MOSQ_ERR_MALFORMED_UTF8 || rc == MOSQ_ERR_INVAL ||
		     rc == MOSQ_ERR_QOS_NOT_SUPPORTED || rc == MOSQ_ERR_TOPIC_ALIAS_INVALID;
	if (!size && !topic)
		return false; /* not connected, connection lost, no memory: retry */
	c->dropped++;
	b->dropped++;
	if (size) {
		b->drop_size++;
	} else {
		b->drop_topic++;
		if (!c->refused_said) {
			c->refused_said = true;
			char t[TOPIC_MAX * 4];
			fprintf(stderr,
				"amplink bridge: the MQTT library refuses to publish on %s: %s; "
				"messages of '%s' are dropped and counted\n",
				term_str(t, sizeof(t), c->topic), mosquitto_strerror(rc), c->shown);
		}
	}
	return true;
}

static void flush_ring(struct bridge *b)
{
	while (b->count && b->state == MQ_UP) {
		struct pending *p = &b->ring[b->head];
		if (!publish(b, p->chan, p->data, p->len))
			return;
		free(p->data);
		p->data = NULL;
		b->head = (b->head + 1) % b->cap;
		b->count--;
	}
}

static void went_down(struct bridge *b, const char *why)
{
	if (b->state == MQ_DOWN)
		return;
	if (b->quitting) { /* our own goodbye at exit */
		b->state = MQ_DOWN;
		return;
	}
	uint64_t now = mono_ms();
	if (b->state == MQ_UP) {
		b->disconnects++;
		b->down_since = now;
		b->failed_attempts = 0;
		fprintf(stderr,
			"amplink bridge: lost the broker %s:%d (%s); keeping up to %u messages "
			"and reconnecting (100 ms .. 5 s back-off)\n",
			b->host, b->port, why, b->cap);
	} else {
		if (b->failed_attempts++ == 0 && !b->ever_up) /* after a loss: said already */
			fprintf(
			    stderr,
			    "amplink bridge: cannot connect to the broker %s:%d (%s); is mosquitto "
			    "running there (--broker/--port)? Retrying with back-off, keeping up "
			    "to %u messages\n",
			    b->host, b->port, why, b->cap);
	}
	b->state = MQ_DOWN;
	b->next_try = now + b->backoff_ms;
	al_svc_status("broker %s:%d down (%s), retrying in %.1f s", b->host, b->port, why,
		      b->backoff_ms / 1000.0);
	b->backoff_ms = b->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b->backoff_ms * 2;
}

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
	(void)m;
	struct bridge *b = obj;
	if (rc != 0) {
		went_down(b, mosquitto_connack_string(rc));
		return;
	}
	b->state = MQ_UP;
	b->connects++;
	b->backoff_ms = BACKOFF_MIN_MS;
	if (!b->ever_up)
		fprintf(stderr,
			"amplink bridge: connected to the broker %s:%d, topics %s<channel>\n",
			b->host, b->port, b->prefix);
	else
		fprintf(stderr,
			"amplink bridge: reconnected to the broker %s:%d after %.1f s; %u buffered "
			"messages to send, %llu dropped so far\n",
			b->host, b->port, (double)(mono_ms() - b->down_since) / 1000.0, b->count,
			(unsigned long long)b->dropped);
	b->ever_up = true;
	b->failed_attempts = 0;
	al_svc_ready("connected to the broker %s:%d, %d channels", b->host, b->port, b->nch);
	for (int i = 0; i < b->nch; i++) {
		int s = mosquitto_subscribe(b->mosq, NULL, b->ch[i].cmd_topic, b->qos);
		if (s != MOSQ_ERR_SUCCESS) {
			char topic[TOPIC_MAX * 4];
			fprintf(stderr,
				"amplink bridge: cannot subscribe to %s: %s (commands for "
				"'%s' will not arrive)\n",
				term_str(topic, sizeof(topic), b->ch[i].cmd_topic),
				mosquitto_strerror(s), b->ch[i].shown);
		}
	}
	flush_ring(b);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	(void)m;
	struct bridge *b = obj;
	went_down(b, rc == 0 ? "disconnected" : mosquitto_strerror(rc));
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
	(void)m, (void)mid;
	((struct bridge *)obj)->delivered++;
}

/* A command: write it to the channel whose cmd topic it came on. */
static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	(void)m;
	struct bridge *b = obj;
	for (int i = 0; i < b->nch; i++) {
		struct bchan *c = &b->ch[i];
		if (strcmp(msg->topic, c->cmd_topic) != 0)
			continue;
		long w = al_channel_write(c->ch, msg->payload, (size_t)msg->payloadlen,
					  CMD_WRITE_TIMEOUT_MS);
		if (w >= 0) {
			c->cmds++;
			return;
		}
		c->cmd_failed++;
		char topic[TOPIC_MAX * 4]; /* the topic names the remote's service */
		if (w == AL_EMSGSIZE)
			fprintf(
			    stderr,
			    "amplink bridge: command on %s is %d bytes, more than the link "
			    "carries (%d): dropped; send smaller messages or raise --buf-size on "
			    "both sides\n",
			    term_str(topic, sizeof(topic), msg->topic), msg->payloadlen,
			    rpmsg_get_tx_buffer_size(al_channel_ept(c->ch)));
		else if (w == AL_ENOLINK || w == AL_EBROKEN)
			b->link_err = (int)w;
		else
			fprintf(
			    stderr,
			    "amplink bridge: cannot send the command on %s to '%s': %s (dropped; "
			    "the remote is not reading, check it)\n",
			    term_str(topic, sizeof(topic), msg->topic), c->shown,
			    al_strerror((int)w));
		return;
	}
}

static void try_connect(struct bridge *b)
{
	b->attempt_at = mono_ms();
	int rc = mosquitto_connect_async(b->mosq, b->host, b->port, b->keepalive);
	if (rc == MOSQ_ERR_SUCCESS) {
		b->state = MQ_CONNECTING;
		return;
	}
	b->state = MQ_CONNECTING; /* so went_down() counts it as a failed attempt */
	went_down(b, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

/* ---- stats ------------------------------------------------------------------ */

static void print_stats(struct bridge *b, const char *when)
{
	uint64_t rx = 0, cmds = 0, cmd_failed = 0;
	for (int i = 0; i < b->nch; i++) {
		rx += b->ch[i].rx;
		cmds += b->ch[i].cmds;
		cmd_failed += b->ch[i].cmd_failed;
	}
	fprintf(stderr,
		"amplink bridge: %s: received %llu, published %llu (%llu written to the broker), "
		"buffered %u (peak %u of %u), dropped %llu; commands %llu delivered, %llu failed; "
		"broker connects %llu, disconnects %llu\n",
		when, (unsigned long long)rx, (unsigned long long)b->handed,
		(unsigned long long)b->delivered, b->count, b->peak, b->cap,
		(unsigned long long)b->dropped, (unsigned long long)cmds,
		(unsigned long long)cmd_failed, (unsigned long long)b->connects,
		(unsigned long long)b->disconnects);
	if (b->dropped)
		fprintf(stderr,
			"amplink bridge:   dropped by cause: buffer full %llu, topic refused %llu, "
			"too large %llu\n",
			(unsigned long long)b->drop_full, (unsigned long long)b->drop_topic,
			(unsigned long long)b->drop_size);
	for (int i = 0; i < b->nch; i++) {
		struct bchan *c = &b->ch[i];
		fprintf(stderr,
			"amplink bridge:   %-32s received %llu, published %llu, dropped %llu, "
			"commands %llu (%llu failed)\n",
			c->shown, (unsigned long long)c->rx, (unsigned long long)c->published,
			(unsigned long long)c->dropped, (unsigned long long)c->cmds,
			(unsigned long long)c->cmd_failed);
	}
}

/* ---- the link --------------------------------------------------------------- */

struct names {
	const char *v[MAX_CHANNELS];
	int n;
	bool overflow;
};

static void collect(const char *name, uint32_t addr, void *arg)
{
	(void)addr;
	struct names *ns = arg;
	if (ns->n == MAX_CHANNELS) {
		ns->overflow = true;
		return;
	}
	ns->v[ns->n++] = strdup(name);
}

/* --link kernel: the services the remote announced are the kernel's
 * rpmsg channels no kernel driver took (rpmsg_ctrl, rpmsg_ns and the
 * channels of rpmsg_chrdev or rpmsg_tty belong to the kernel). */
static int kernel_services(struct names *found)
{
	static struct al_rpmsg_chan_info c[MAX_CHANNELS * 2];
	int n = al_rpmsg_char_list(kernel_cfg(), c, (int)(sizeof(c) / sizeof(c[0])));
	if (n < 0)
		return n;
	if (n > (int)(sizeof(c) / sizeof(c[0])))
		n = (int)(sizeof(c) / sizeof(c[0]));
	for (int i = 0; i < n; i++)
		if (!c[i].driver[0] && !c[i].name_truncated && c[i].dst != RPMSG_ADDR_ANY)
			collect(c[i].name, c[i].dst, found);
	return 0;
}

/* Wait until the remote's announcements stop coming (as `amplink ls`). */
static void wait_announcements(struct rpmsg_device *rdev)
{
	uint32_t seen = 0;
	for (int i = 0; i < 100 && !g_stop; i++) {
		struct timespec d = {0, 20 * 1000000L};
		nanosleep(&d, NULL);
		struct rpmsg_stats st;
		al_get_stats(rdev, &st);
		if (st.rx_msgs == seen && seen > 0)
			break;
		seen = st.rx_msgs;
	}
}

/* ---- main loop -------------------------------------------------------------- */

static int run(struct bridge *b, struct al_posix_link *link, uint32_t duration_ms, bool stats)
{
	static uint8_t buf[RX_MAX];
	struct pollfd pf[MAX_CHANNELS + 1];
	uint64_t start = mono_ms(), last_stats = start;
	b->state = MQ_DOWN;
	b->backoff_ms = BACKOFF_MIN_MS;
	b->next_try = start;
	while (!g_stop && !b->link_err) {
		al_svc_alive(); /* svc_notify.h: this loop turns */
		uint64_t now = mono_ms();
		if (duration_ms && now - start >= duration_ms)
			break;
		/* on the kernel (no link), a vanished device shows in the reads */
		int ls = link ? al_virtio_link_state(al_posix_rvdev(link)) : AL_LINK_UP;
		if (ls == AL_LINK_LOST || ls == AL_LINK_BROKEN) {
			b->link_err = ls == AL_LINK_LOST ? AL_ENOLINK : AL_EBROKEN;
			break;
		}
		if (b->state == MQ_DOWN && now >= b->next_try)
			try_connect(b);
		if (b->state == MQ_CONNECTING && now - b->attempt_at > CONNECT_TIMEOUT_MS) {
			mosquitto_disconnect(b->mosq);
			went_down(b, "no answer within 5 s");
		}
		if (stats && now - last_stats >= 1000) {
			last_stats = now;
			print_stats(b, "stats");
		}
		int n = 0;
		for (int i = 0; i < b->nch; i++)
			pf[n++] = (struct pollfd){al_channel_fd(b->ch[i].ch), POLLIN, 0};
		int sock = b->state != MQ_DOWN ? mosquitto_socket(b->mosq) : -1;
		if (sock >= 0)
			pf[n++] = (struct pollfd){
			    sock, (short)(POLLIN | (mosquitto_want_write(b->mosq) ? POLLOUT : 0)),
			    0};
		int wait = 100;
		if (b->state == MQ_DOWN) {
			uint64_t t = mono_ms();
			wait = b->next_try > t ? (int)(b->next_try - t) : 0;
			if (wait > 100)
				wait = 100;
		}
		if (poll(pf, (nfds_t)n, wait) < 0 && errno != EINTR) {
			fprintf(stderr, "amplink bridge: poll failed: %s\n", strerror(errno));
			return EXIT_FAIL;
		}
		/* the remote: drain every channel */
		for (int i = 0; i < b->nch; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			for (;;) {
				long r = al_channel_read(b->ch[i].ch, buf, sizeof(buf), NULL, 0);
				if (r == AL_EAGAIN)
					break;
				if (r < 0) {
					if (r == AL_ENOLINK || r == AL_EBROKEN) {
						b->link_err = (int)r;
					} else {
						fprintf(stderr,
							"amplink bridge: reading '%s' failed: %s\n",
							b->ch[i].shown, al_strerror((int)r));
						b->link_err = (int)r;
					}
					break;
				}
				b->ch[i].rx++;
				if (b->state != MQ_UP || b->count ||
				    !publish(b, i, buf, (uint32_t)r))
					ring_push(b, i, buf, (uint32_t)r);
			}
		}
		/* the broker */
		if (sock >= 0) {
			short re = pf[n - 1].revents;
			if (re & (POLLIN | POLLERR | POLLHUP))
				mosquitto_loop_read(b->mosq, 1);
			if (b->state != MQ_DOWN && mosquitto_socket(b->mosq) >= 0 &&
			    mosquitto_want_write(b->mosq))
				mosquitto_loop_write(b->mosq, 1);
		}
		if (b->state != MQ_DOWN) {
			int rc = mosquitto_loop_misc(b->mosq); /* keep-alive, timeouts */
			if (rc != MOSQ_ERR_SUCCESS && b->state != MQ_DOWN)
				went_down(b, mosquitto_strerror(rc));
			if (b->state != MQ_DOWN && mosquitto_socket(b->mosq) < 0)
				went_down(b, "connection closed");
		}
		flush_ring(b);
	}
	if (b->link_err) {
		fprintf(
		    stderr,
		    "amplink bridge: the link to the remote is %s: %s; restart `amplink remote` "
		    "and then the bridge\n",
		    b->link_err == AL_EBROKEN ? "broken" : "lost",
		    b->link_err == AL_EBROKEN && link
			? al_virtio_broken_reason(al_posix_rvdev(link))
			: "the remote went away");
		return exit_code_for(b->link_err);
	}
	return EXIT_OK;
}

/* Give libmosquitto up to 1 s to write what it holds, then say goodbye. */
static void drain_and_disconnect(struct bridge *b)
{
	b->quitting = true;
	if (b->state != MQ_UP)
		return;
	uint64_t until = mono_ms() + 1000;
	while (b->state == MQ_UP && mosquitto_want_write(b->mosq) && mono_ms() < until) {
		int sock = mosquitto_socket(b->mosq);
		if (sock < 0)
			break;
		struct pollfd p = {sock, POLLIN | POLLOUT, 0};
		if (poll(&p, 1, 50) > 0) {
			if (p.revents & POLLIN)
				mosquitto_loop_read(b->mosq, 1);
			if (b->state == MQ_UP && (p.revents & POLLOUT))
				mosquitto_loop_write(b->mosq, 1);
		}
	}
	mosquitto_disconnect(b->mosq);
	if (mosquitto_socket(b->mosq) >= 0)
		mosquitto_loop_write(b->mosq, 1);
}

/* A service name as one topic level: A-Z a-z 0-9 - _ . as they are,
 * every other byte as %XX. Injective, ASCII, no '/', '+' or '#'. */
static void escape_name(char *out, size_t cap, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p && o + 4 <= cap; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

static bool make_topics(struct bridge *b, struct bchan *c)
{
	term_str(c->shown, sizeof(c->shown), c->name);
	char level[RPMSG_NAME_SIZE * 3 + 1];
	escape_name(level, sizeof(level), c->name);
	int n1 = snprintf(c->topic, sizeof(c->topic), "%s%s", b->prefix, level);
	int n2 = snprintf(c->cmd_topic, sizeof(c->cmd_topic), "%s%s/cmd", b->prefix, level);
	if (n1 < 0 || n2 < 0 || (size_t)n2 >= sizeof(c->cmd_topic)) {
		fprintf(stderr,
			"amplink bridge: topic for '%s' is longer than %d characters: use a "
			"shorter --prefix\n",
			c->shown, TOPIC_MAX - 1);
		return false;
	}
	char topic[TOPIC_MAX * 4];
	if (mosquitto_validate_utf8(c->cmd_topic, (int)strlen(c->cmd_topic)) != MOSQ_ERR_SUCCESS ||
	    mosquitto_pub_topic_check(c->topic) != MOSQ_ERR_SUCCESS ||
	    mosquitto_sub_topic_check(c->cmd_topic) != MOSQ_ERR_SUCCESS) {
		fprintf(
		    stderr,
		    "amplink bridge: '%s' is not a valid MQTT topic (UTF-8, no '+' or '#' in "
		    "--prefix "
		    "or channel names): choose another --prefix, or leave this service out with "
		    "--channel\n",
		    term_str(topic, sizeof(topic), c->topic));
		return false;
	}
	return true;
}

static int cmd_bridge_mqtt(int argc, char **argv)
{
	static struct bridge b;
	struct link_opts o;
	link_opts_init(&o, VIRTIO_DEV_DRIVER);
	const char *prefix = NULL, *client_id = NULL;
	const char *want[MAX_CHANNELS];
	int nwant = 0;
	const char *greets[MAX_CHANNELS];
	int ngreet = 0;
	uint32_t port = 1883, cap = 1000, qos = 0, keepalive = 30, duration = 0;
	bool stats = false;
	b.host = "127.0.0.1";
	enum {
		O_BROKER = 512,
		O_PORT,
		O_PREFIX,
		O_BUFFER,
		O_QOS,
		O_GREET,
		O_CLIENT,
		O_KEEP,
		O_STATS,
		O_DURATION
	};
	static const struct option lo[] = {{"channel", required_argument, 0, 'c'},
					   {"broker", required_argument, 0, O_BROKER},
					   {"port", required_argument, 0, O_PORT},
					   {"prefix", required_argument, 0, O_PREFIX},
					   {"buffer", required_argument, 0, O_BUFFER},
					   {"qos", required_argument, 0, O_QOS},
					   {"greet", required_argument, 0, O_GREET},
					   {"client-id", required_argument, 0, O_CLIENT},
					   {"keepalive", required_argument, 0, O_KEEP},
					   {"stats", no_argument, 0, O_STATS},
					   {"duration", required_argument, 0, O_DURATION},
					   {"help", no_argument, 0, 'h'},
					   LINK_LONGOPTS,
					   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		uint32_t *num = NULL;
		switch (c) {
		case 'c':
			if (nwant == MAX_CHANNELS || strlen(optarg) >= RPMSG_NAME_SIZE) {
				fprintf(stderr,
					"amplink bridge: at most %d --channel names of < %d "
					"characters\n",
					MAX_CHANNELS, RPMSG_NAME_SIZE);
				return EXIT_USAGE;
			}
			want[nwant++] = optarg;
			break;
		case O_BROKER: b.host = optarg; break;
		case O_PREFIX: prefix = optarg; break;
		case O_CLIENT: client_id = optarg; break;
		case O_STATS: stats = true; break;
		case O_GREET:
			if (ngreet == MAX_CHANNELS) {
				fprintf(stderr, "amplink bridge: too many --greet\n");
				return EXIT_USAGE;
			}
			greets[ngreet++] = optarg;
			break;
		case O_PORT: num = &port; break;
		case O_BUFFER: num = &cap; break;
		case O_QOS: num = &qos; break;
		case O_KEEP: num = &keepalive; break;
		case O_DURATION: num = &duration; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			if (!link_opt(&o, c, optarg, "bridge")) {
				usage(stderr);
				return EXIT_USAGE;
			}
		}
		if (num && !parse_u32(optarg, num)) {
			fprintf(stderr, "amplink bridge: '%s' is not a number\n", optarg);
			return EXIT_USAGE;
		}
	}
	if (port == 0 || port > 65535 || qos > 2 || keepalive < 5 || keepalive > 65535 ||
	    cap > 10000000u) {
		fprintf(stderr,
			"amplink bridge: --port 1..65535, --qos 0..2, --keepalive 5..65535, "
			"--buffer 0..10000000\n");
		return EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "amplink bridge: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	b.port = (int)port;
	b.qos = (int)qos;
	b.keepalive = (int)keepalive;
	b.cap = cap;
	if (prefix)
		snprintf(b.prefix, sizeof(b.prefix), "%s", prefix);
	else
		snprintf(b.prefix, sizeof(b.prefix), "amplink/%s/", o.cfg.name);
	{
		struct bchan probe = {.name = "x"};
		if (!make_topics(&b, &probe))
			return EXIT_USAGE;
	}
	b.ring = calloc(cap ? cap : 1, sizeof(*b.ring));
	if (!b.ring) {
		fprintf(stderr,
			"amplink bridge: no memory for a %u-message buffer: lower --buffer\n", cap);
		return EXIT_FAIL;
	}

	/* the remote */
	struct al_posix_link *link; /* NULL on the kernel */
	int rc = host_open(&o, &link);
	if (rc) {
		bool oa = o.cfg.profile == AL_PROFILE_OPENAMP;
		fprintf(stderr,
			"amplink bridge: cannot attach to the remote on %s: %s; start "
			"`amplink remote %s%s` (or check %s)\n",
			link_where(&o), al_strerror(rc), oa ? "--profile openamp" : "--link ",
			oa ? "" : o.cfg.name, oa ? "--event" : "--link");
		free(b.ring);
		return exit_code_for(rc);
	}
	struct names found = {0};
	if (nwant == 0 && link) {
		struct rpmsg_device *rdev = al_posix_rdev(link);
		wait_announcements(rdev);
		al_services_foreach(rdev, collect, &found);
	} else if (nwant == 0 && (rc = kernel_services(&found)) != 0) {
		fprintf(stderr, "amplink bridge: cannot list the kernel's rpmsg channels: %s\n",
			al_strerror(rc));
	}
	if (nwant == 0 && rc == 0) {
		if (found.overflow)
			fprintf(stderr,
				"amplink bridge: the remote announced more than %d services: "
				"bridging the first %d (choose with --channel)\n",
				MAX_CHANNELS, MAX_CHANNELS);
		if (found.n == 0) {
			fprintf(stderr, "amplink bridge: the remote announced no service; name the "
					"channels with --channel\n");
			rc = AL_ETIMEDOUT;
		}
		for (int i = 0; i < found.n; i++)
			want[nwant++] = found.v[i];
	}
	int code = EXIT_OK;
	bool discovered = found.n > 0; /* the remote's names: one bad one skips only itself */
	for (int i = 0; i < nwant && rc == 0; i++) {
		struct bchan *ch = &b.ch[b.nch];
		*ch = (struct bchan){.name = want[i]};
		if (!make_topics(&b, ch)) {
			if (discovered) {
				fprintf(stderr, "amplink bridge: skipping service '%s'\n",
					ch->shown);
				continue;
			}
			code = EXIT_USAGE;
			rc = AL_EINVAL;
			break;
		}
		uint32_t wait = link_is_kernel(&o) && o.cfg.connect_timeout_ms
				    ? o.cfg.connect_timeout_ms
				    : 5000;
		rc = host_channel(&o, link, want[i], wait, &ch->ch);
		if (rc) {
			fprintf(stderr,
				"amplink bridge: service '%s' not available: %s (`amplink ls "
				"--link %s` lists what the remote announced)%s\n",
				ch->shown, al_strerror(rc), o.cfg.name,
				discovered ? "; skipping it" : "");
			if (discovered && rc != AL_ENOLINK && rc != AL_EBROKEN) {
				rc = 0;
				continue;
			}
			break;
		}
		b.nch++;
	}
	if (rc == 0 && b.nch == 0) {
		fprintf(stderr, "amplink bridge: no service left to bridge\n");
		rc = AL_EADDR;
	}
	for (int g = 0; g < ngreet && rc == 0; g++) {
		char *eq = strchr(greets[g], '=');
		size_t nlen = eq ? (size_t)(eq - greets[g]) : strlen(greets[g]);
		int i;
		for (i = 0; i < b.nch; i++)
			if (strlen(b.ch[i].name) == nlen && !strncmp(b.ch[i].name, greets[g], nlen))
				break;
		if (i == b.nch) {
			fprintf(stderr, "amplink bridge: --greet %.*s: not a bridged channel\n",
				(int)nlen, greets[g]);
			code = EXIT_USAGE;
			rc = AL_EINVAL;
			break;
		}
		static const char one = 1;
		const char *data = eq ? eq + 1 : &one;
		size_t len = eq ? strlen(eq + 1) : 1;
		long w = al_channel_write(b.ch[i].ch, data, len, 5000);
		if (w < 0) {
			fprintf(stderr, "amplink bridge: greeting '%s' failed: %s\n", b.ch[i].shown,
				al_strerror((int)w));
			rc = (int)w;
		}
	}
	if (rc == 0) {
		mosquitto_lib_init();
		char idbuf[128];
		if (!client_id) {
			snprintf(idbuf, sizeof(idbuf), "amplink-bridge-%s-%d", o.cfg.name,
				 (int)getpid());
			client_id = idbuf;
		}
		b.mosq = mosquitto_new(client_id, true, &b);
		if (!b.mosq) {
			fprintf(stderr, "amplink bridge: cannot create the MQTT client: %s\n",
				strerror(errno));
			code = EXIT_FAIL;
		} else {
			mosquitto_connect_callback_set(b.mosq, on_connect);
			mosquitto_disconnect_callback_set(b.mosq, on_disconnect);
			mosquitto_message_callback_set(b.mosq, on_message);
			mosquitto_publish_callback_set(b.mosq, on_publish);
			fprintf(stderr, "amplink bridge: bridging %d channel%s of %s to %s:%d\n",
				b.nch, b.nch == 1 ? "" : "s", link_where(&o), b.host, b.port);
			code = run(&b, link, duration, stats);
			drain_and_disconnect(&b);
			print_stats(&b, "totals");
			mosquitto_destroy(b.mosq);
		}
		mosquitto_lib_cleanup();
	} else if (code == EXIT_OK) {
		code = exit_code_for(rc);
	}
	for (int i = 0; i < b.nch; i++)
		al_channel_close(b.ch[i].ch);
	host_close(link);
	while (b.count)
		ring_drop_oldest(&b);
	free(b.ring);
	for (int i = 0; i < found.n; i++)
		free((void *)found.v[i]);
	return code;
}

int cmd_bridge(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "mqtt") != 0) {
		fprintf(stderr,
			"amplink bridge: say which bridge: `amplink bridge mqtt ...` (the only "
			"one so far; --help for options)\n");
		return EXIT_USAGE;
	}
	return cmd_bridge_mqtt(argc - 1, argv + 1);
}
