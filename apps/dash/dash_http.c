/* Small HTTP helpers of `amplink dash` (dash.h): answers, errors, number
 * parsing, and JSON documents built in memory. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dash.h"

int64_t wall_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

enum MHD_Result send_response(struct MHD_Connection *c, unsigned code, struct MHD_Response *r,
			      const char *type, const char *cache)
{
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", cache);
	enum MHD_Result ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_n(struct MHD_Connection *c, unsigned code, const char *type,
			       const void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
	if (!r && mode == MHD_RESPMEM_MUST_FREE)
		free((void *)body);
	return send_response(c, code, r, type, "no-store");
}

enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, const char *body)
{
	return reply_n(c, code, type, body, strlen(body), MHD_RESPMEM_MUST_COPY);
}

enum MHD_Result error(struct MHD_Connection *c, unsigned code, const char *msg)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", msg);
	pthread_mutex_lock(&D.mu);
	D.bad_requests++;
	pthread_mutex_unlock(&D.mu);
	return reply(c, code, "application/json", body);
}

bool parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	if (!s || !*s)
		return false;
	long long v = strtoll(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool parse_int(const char *s, long lo, long hi, long *out)
{
	int64_t v;
	if (!parse_i64(s, lo, hi, &v))
		return false;
	*out = (long)v;
	return true;
}

bool jdoc_open(struct jdoc *d)
{
	d->p = NULL;
	d->len = 0;
	d->f = open_memstream(&d->p, &d->len);
	if (d->f)
		json_init(&d->j, d->f);
	return d->f != NULL;
}

enum MHD_Result json_reply(struct MHD_Connection *c, struct jdoc *d)
{
	if (fclose(d->f) != 0 || !d->p) {
		free(d->p);
		return error(c, 500, "out of memory");
	}
	/* MHD frees the document with the response */
	return reply_n(c, 200, "application/json", d->p, d->len, MHD_RESPMEM_MUST_FREE);
}
