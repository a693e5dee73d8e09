/* Filling and checking a metrics snapshot (amplink/linux/metrics.h): the
 * core's counters and endpoint list of a link, a remote's remoteproc
 * status, telemetry values, each bounded by the snapshot's caps. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "amplink/error.h"
#include "amplink/linux/metrics.h"
#include "amplink/linux/rproc.h"
#include "amplink/rpmsg.h"
#include "fault.h"

/* Label values for fault codes: stable identifiers a dashboard can match
 * on (the sentences of fault.c may be reworded). */
static const char *const fault_names[AL_F_COUNT] = {
    [AL_F_NONE] = "none",
    [AL_F_VRING_NUM] = "vring_num",
    [AL_F_VRING_ALIGN] = "vring_align",
    [AL_F_VRING_OUTSIDE] = "vring_outside",
    [AL_F_VDEV_VRINGS] = "vdev_vrings",
    [AL_F_SHADOWS] = "shadows",
    [AL_F_VRING_OVERLAP] = "vring_overlap",
    [AL_F_POOL] = "pool",
    [AL_F_VDEV_OUTSIDE] = "vdev_outside",
    [AL_F_VDEV_ID] = "vdev_id",
    [AL_F_USED_IDX] = "used_idx",
    [AL_F_USED_ID] = "used_id",
    [AL_F_USED_NOT_OWNED] = "used_not_owned",
    [AL_F_USED_LEN] = "used_len",
    [AL_F_AVAIL_IDX] = "avail_idx",
    [AL_F_AVAIL_ID] = "avail_id",
    [AL_F_DESC_REOFFERED] = "desc_reoffered",
    [AL_F_DESC_CHAINED] = "desc_chained",
    [AL_F_DESC_LEN] = "desc_len",
    [AL_F_DESC_ADDR] = "desc_addr",
    [AL_F_TX_BUF_SMALL] = "tx_buf_small",
    [AL_F_MSG_SHORT] = "msg_short",
    [AL_F_MSG_LEN] = "msg_len",
    [AL_F_POOL_OUTSIDE] = "pool_outside",
};

const char *al_metrics_fault_name(unsigned fault)
{
	return fault < AL_F_COUNT && fault_names[fault] ? fault_names[fault] : "unknown";
}

const char *al_metrics_state_name(unsigned state)
{
	static const char *const names[] = {"down", "up", "broken", "lost", "none"};
	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

void al_metrics_init(struct al_metrics *m)
{
	memset(m, 0, sizeof(*m));
}

void al_metrics_copy_name(char *dst, size_t cap, const char *src)
{
	if (!cap)
		return;
	size_t n = src ? strnlen(src, cap - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void add_ept(const struct al_ept_info *e, void *arg)
{
	struct al_metrics_link *l = arg;
	struct al_metrics_ept *o = &l->epts[l->n_epts++];
	al_metrics_copy_name(o->name, sizeof(o->name), e->name);
	o->addr = e->addr;
	o->dest_addr = e->dest_addr;
	o->rx_msgs = e->rx_msgs;
	o->tx_msgs = e->tx_msgs;
	o->rx_bytes = e->rx_bytes;
	o->tx_bytes = e->tx_bytes;
}

struct al_metrics_link *al_metrics_add_link(struct al_metrics *m, const char *name,
					    struct rpmsg_virtio_device *rvdev)
{
	if (m->n_links >= AL_METRICS_LINKS_MAX) {
		m->dropped++;
		return NULL;
	}
	struct al_metrics_link *l = &m->links[m->n_links++];
	memset(l, 0, sizeof(*l));
	al_metrics_copy_name(l->name, sizeof(l->name), name);
	if (!rvdev) {
		l->state = AL_METRICS_LINK_NONE;
		return l;
	}
	l->host = rpmsg_virtio_get_role(rvdev) == RPMSG_HOST;
	l->state = (uint8_t)al_virtio_link_state(rvdev);
	l->fault = l->state == AL_LINK_BROKEN ? rvdev->fault : 0;
	struct rpmsg_stats st;
	al_get_stats(&rvdev->rdev, &st);
	l->tx_msgs = st.tx_msgs;
	l->rx_msgs = st.rx_msgs;
	l->tx_bytes = st.tx_bytes;
	l->rx_bytes = st.rx_bytes;
	l->rx_unknown_dst = st.rx_unknown_dst;
	l->ns_malformed = st.ns_malformed;
	l->tx_no_buf = st.tx_no_buf;
	l->ns_announced = st.ns_announced;
	l->kicks_tx = st.kicks_tx;
	l->kicks_rx = st.kicks_rx;
	struct al_ring_usage u;
	if (al_virtio_ring_usage(rvdev, &u) == 0) {
		l->ring_num = u.num;
		l->rx_backlog = u.rx_backlog;
		l->tx_in_flight = u.tx_in_flight;
	}
	int n = al_foreach_ept(&rvdev->rdev, AL_METRICS_EPTS_MAX, add_ept, l);
	l->epts_total = n > 0 ? (uint32_t)n : 0;
	if (l->epts_total > l->n_epts)
		m->dropped += l->epts_total - l->n_epts;
	return l;
}

int al_metrics_add_remote(struct al_metrics *m, const char *name, const struct al_rproc_status *st)
{
	if (m->n_remotes >= AL_METRICS_REMOTES_MAX) {
		m->dropped++;
		return AL_ENOMEM;
	}
	struct al_metrics_remote *r = &m->remotes[m->n_remotes++];
	memset(r, 0, sizeof(*r));
	al_metrics_copy_name(r->name, sizeof(r->name), name);
	r->state = (uint8_t)st->state;
	r->boots = st->boots;
	r->crashes = st->crashes;
	r->recoveries = st->recoveries;
	r->heartbeat_age_s = st->last_pong_ms_ago < 0 ? -1.0 : st->last_pong_ms_ago / 1000.0;
	return 0;
}

/* The entry of series `name` in a table of n (at most
 * AL_METRICS_SERIES_MAX), added if there is room; NULL if not. */
static struct al_metrics_series *series_slot(struct al_metrics_series *tab, uint32_t *n,
					     const char *name)
{
	for (uint32_t i = 0; i < *n; i++)
		if (strncmp(tab[i].name, name, AL_METRICS_NAME - 1) == 0)
			return &tab[i];
	if (*n >= AL_METRICS_SERIES_MAX)
		return NULL;
	struct al_metrics_series *s = &tab[(*n)++];
	al_metrics_copy_name(s->name, sizeof(s->name), name);
	return s;
}

int al_metrics_set_series(struct al_metrics *m, const char *name, double value, double time_s)
{
	if (!m || !name || !name[0])
		return AL_EINVAL;
	struct al_metrics_series *s = series_slot(m->series, &m->n_series, name);
	if (!s) {
		m->dropped++;
		return AL_ENOMEM;
	}
	s->value = value;
	s->time_s = time_s;
	return 0;
}

int al_metrics_latest_set(struct al_metrics_latest *l, const char *name, double value,
			  double time_s)
{
	if (!l || !name || !name[0])
		return AL_EINVAL;
	struct al_metrics_series *s = series_slot(l->series, &l->n_series, name);
	if (s) {
		s->value = value;
		s->time_s = time_s;
		return 0;
	}
	uint32_t h = 2166136261u; /* FNV-1a of the (bounded) name */
	for (size_t i = 0; i < AL_METRICS_NAME - 1 && name[i]; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	uint32_t i = 0;
	while (i < l->n_refused && l->refused[i] != h)
		i++;
	if (i == l->n_refused && l->n_refused < AL_METRICS_REFUSED_MAX)
		l->refused[l->n_refused++] = h;
	return AL_ENOMEM;
}

void al_metrics_latest_add_to(const struct al_metrics_latest *l, struct al_metrics *m)
{
	for (uint32_t i = 0; i < l->n_series; i++)
		al_metrics_set_series(m, l->series[i].name, l->series[i].value,
				      l->series[i].time_s);
	m->dropped += l->n_refused;
}

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static int bad(char *why, size_t n, const char *what, unsigned i)
{
	if (why && n)
		snprintf(why, n, "metrics snapshot: %s (entry %u)", what, i);
	return AL_EPROTO;
}

int al_metrics_validate(const struct al_metrics *m, char *why, size_t n)
{
	if (m->n_links > AL_METRICS_LINKS_MAX || m->n_remotes > AL_METRICS_REMOTES_MAX ||
	    m->n_series > AL_METRICS_SERIES_MAX)
		return bad(why, n, "more links, remotes or series than fit", 0);
	for (unsigned i = 0; i < m->n_links; i++) {
		const struct al_metrics_link *l = &m->links[i];
		if (!terminated(l->name, sizeof(l->name)))
			return bad(why, n, "link name not terminated", i);
		if (l->state > AL_METRICS_LINK_NONE || l->fault >= AL_F_COUNT || l->host > 1)
			return bad(why, n, "link state, fault or role out of range", i);
		if (l->n_epts > AL_METRICS_EPTS_MAX || l->n_epts > l->epts_total)
			return bad(why, n, "endpoint count out of range", i);
		if (!isfinite(l->start_time_s) || l->start_time_s < 0)
			return bad(why, n, "link start time not a time", i);
		for (unsigned k = 0; k < l->n_epts; k++)
			if (!terminated(l->epts[k].name, sizeof(l->epts[k].name)))
				return bad(why, n, "endpoint name not terminated", i);
	}
	for (unsigned i = 0; i < m->n_remotes; i++) {
		const struct al_metrics_remote *r = &m->remotes[i];
		if (!terminated(r->name, sizeof(r->name)) || r->state > AL_RPROC_STOPPED ||
		    isnan(r->heartbeat_age_s) || isinf(r->heartbeat_age_s))
			return bad(why, n, "remote name, state or heartbeat age invalid", i);
	}
	for (unsigned i = 0; i < m->n_series; i++) {
		const struct al_metrics_series *s = &m->series[i];
		if (!terminated(s->name, sizeof(s->name)) || !s->name[0] || !isfinite(s->time_s))
			return bad(why, n, "series name or time invalid", i);
	}
	return 0;
}
