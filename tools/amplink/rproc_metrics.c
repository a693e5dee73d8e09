/* The metrics of `amplink rproc start`: the remote it manages (boots,
 * crashes, recoveries, heartbeat age), served for `amplink stats --rproc
 * NAME` under the link name "rproc:NAME" (amplink/linux/metrics_sock.h).
 * The manager outlives every crash of its firmware, so these counters
 * span restarts, where a link's start over. */
#define _GNU_SOURCE
#include <stdio.h>

#include "amplink.h"
#include "amplink/linux/metrics_sock.h"
#include "amplink/linux/rproc.h"

struct rproc_metrics {
	struct al_rproc *rp;
	char name[AL_METRICS_NAME];
};

static void fill(struct al_metrics *m, void *user)
{
	struct rproc_metrics *r = user;
	struct al_rproc_status st;
	al_rproc_get_status(r->rp, &st);
	al_metrics_add_remote(m, r->name, &st);
}

void rproc_metrics_name(char *buf, size_t cap, const char *rproc)
{
	snprintf(buf, cap, "rproc:%s", rproc);
}

struct al_metrics_server *rproc_metrics_start(const char *name, struct al_rproc *rp,
					      const struct al_peer_policy *allow)
{
	static struct rproc_metrics r; /* one manager per process */
	struct al_metrics_server *s = NULL;
	char link[AL_METRICS_NAME + 8];
	r.rp = rp;
	al_metrics_copy_name(r.name, sizeof(r.name), name);
	rproc_metrics_name(link, sizeof(link), name);
	/* not serving costs only `amplink stats --rproc`, which then says so */
	if (al_metrics_serve(link, true, allow, fill, &r, &s))
		s = NULL;
	return s;
}
