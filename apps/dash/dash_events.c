/* The event stream of `amplink dash` (GET /events, Server-Sent Events):
 * one ring of the last RING events that every client reads at its own
 * cursor. Producers never wait for a client: a client that falls more
 * than RING events behind skips to the oldest one still kept (counted in
 * sse_skipped); one that stops reading fills its bounded socket buffer
 * (SSE_SNDBUF) and is closed by libmicrohttpd after CONN_IDLE_S without
 * progress (sse_timeouts, counted in cmd_dash.c). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dash.h"

#define HISTORY 200 /* events a new client gets first */

void push_event(const char *ev)
{
	pthread_mutex_lock(&D.mu);
	snprintf(D.ev[D.head % RING], EV_LEN, "%s", ev);
	D.head++;
	pthread_cond_broadcast(&D.cv);
	pthread_mutex_unlock(&D.mu);
}

struct sse {
	uint64_t cursor;
};

/* MHD connection thread: block up to 1 s for the next event. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct sse *c = cls;
	pthread_mutex_lock(&D.mu);
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 1;
	while (c->cursor == D.head && !D.stop)
		if (pthread_cond_timedwait(&D.cv, &D.mu, &dl) != 0)
			break;
	if (D.stop) {
		pthread_mutex_unlock(&D.mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (D.head - c->cursor > RING) { /* too slow: skip what was overwritten */
		D.sse_skipped += D.head - RING - c->cursor;
		c->cursor = D.head - RING;
	}
	size_t n = 0;
	while (c->cursor < D.head) {
		const char *e = D.ev[c->cursor % RING];
		size_t l = strlen(e);
		if (n + l > max)
			break;
		memcpy(buf + n, e, l);
		n += l;
		c->cursor++;
	}
	pthread_mutex_unlock(&D.mu);
	if (n == 0) { /* keep-alive comment */
		memcpy(buf, ": ka\n\n", 6);
		n = 6;
	}
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	pthread_mutex_lock(&D.mu);
	D.clients--;
	pthread_mutex_unlock(&D.mu);
	free(cls);
}

enum MHD_Result events_answer(struct MHD_Connection *c)
{
	struct sse *s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	pthread_mutex_lock(&D.mu);
	s->cursor = D.head > HISTORY ? D.head - HISTORY : 0; /* a little history first */
	D.clients++;
	pthread_mutex_unlock(&D.mu);
	/* bound what the kernel holds for a client that stops reading */
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci) {
		int sz = SSE_SNDBUF;
		(void)setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 8192, sse_read, s, sse_free);
	if (!r)
		sse_free(s);
	return send_response(c, 200, r, "text/event-stream", "no-store");
}
