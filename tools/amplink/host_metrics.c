/* The metrics of the link a command holds: while it holds it as host
 * (host_open() .. host_close()) or as the remote (`amplink remote`), its
 * counters are served to `amplink stats` (amplink/linux/metrics_sock.h),
 * and the dashboard's /metrics reads the same snapshot through
 * host_metrics_fill(). A mutex keeps a request from reading a link that
 * is being torn down: a scrape during a restart sees the link as "none",
 * never freed memory. */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "amplink.h"
#include "amplink/linux/metrics_sock.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct al_posix_link *cur; /* the link being served, or NULL */
static bool cur_host;
static char cur_name[AL_METRICS_NAME];
static double cur_start;
static struct al_metrics_server *server;
static void (*extra)(struct al_metrics *m, void *user);
static void *extra_user;

void host_metrics_fill(struct al_metrics *m)
{
	pthread_mutex_lock(&mu);
	if (cur_name[0]) {
		struct al_metrics_link *l =
		    al_metrics_add_link(m, cur_name, cur ? al_posix_rvdev(cur) : NULL);
		if (l && cur)
			l->start_time_s = cur_start;
		if (l)
			l->host = cur_host;
	}
	if (extra)
		extra(m, extra_user);
	pthread_mutex_unlock(&mu);
}

void host_metrics_set_extra(void (*fn)(struct al_metrics *m, void *user), void *user)
{
	pthread_mutex_lock(&mu);
	extra = fn;
	extra_user = user;
	pthread_mutex_unlock(&mu);
}

static void fill(struct al_metrics *m, void *user)
{
	(void)user;
	host_metrics_fill(m);
}

/* link may be NULL: the process serves the link's name, not open yet. */
void host_metrics_start(const struct link_opts *o, struct al_posix_link *link)
{
	bool host = o->cfg.role == VIRTIO_DEV_DRIVER;
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	pthread_mutex_lock(&mu);
	cur = link;
	cur_host = host;
	al_metrics_copy_name(cur_name, sizeof(cur_name), o->cfg.name);
	cur_start = (double)t.tv_sec + t.tv_nsec / 1e9;
	pthread_mutex_unlock(&mu);
	/* Not serving (another process of ours serves this link's name, or
	 * no memory) costs only `amplink stats`, which then says nobody
	 * serves the link: the command itself goes on. */
	if (!server && al_metrics_serve(o->cfg.name, host, &o->cfg.allow, fill, NULL, &server))
		server = NULL;
}

void host_metrics_detach(struct al_posix_link *link)
{
	pthread_mutex_lock(&mu);
	if (cur == link)
		cur = NULL; /* served as "none" until the next host_open() */
	pthread_mutex_unlock(&mu);
}
