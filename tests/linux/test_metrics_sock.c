/* Handing a metrics snapshot to another process (metrics_sock.h): a round
 * trip, one server per link name, and what the reader does with a server
 * that lies: wrong magic, version or size, too long, invalid content, or
 * silence (bounded by the timeout). */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "amplink/linux/metrics_sock.h"
#include "test_util.h"

static char link_name[64];

static void fill(struct al_metrics *m, void *user)
{
	int *calls = user;
	(*calls)++;
	struct al_metrics_link *l = al_metrics_add_link(m, link_name, NULL);
	l->host = 1;
	l->tx_msgs = 42;
	al_metrics_set_series(m, "temp", 21.5, 1.0);
}

static void unique_name(void)
{
	snprintf(link_name, sizeof(link_name), "tms-%d-%ld", (int)getpid(), (long)time(NULL));
}

static void test_round_trip(void **state)
{
	(void)state;
	unique_name();
	int calls = 0;
	struct al_metrics_server *s, *s2;
	assert_int_equal(al_metrics_serve(link_name, true, NULL, fill, &calls, &s), 0);
	/* a second server for the same link and side is refused */
	assert_int_equal(al_metrics_serve(link_name, true, NULL, fill, &calls, &s2), AL_EADDR);
	static struct al_metrics m;
	char why[200];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    al_metrics_fetch(link_name, true, NULL, 2000, &m, why, sizeof(why)), 0);
		assert_int_equal(m.n_links, 1);
		assert_int_equal(m.links[0].tx_msgs, 42);
		assert_int_equal(m.links[0].state, AL_METRICS_LINK_NONE);
		assert_string_equal(m.series[0].name, "temp");
	}
	assert_int_equal(calls, 3);
	/* the other side of the same link is not served */
	assert_int_equal(al_metrics_fetch(link_name, false, NULL, 500, &m, why, sizeof(why)),
			 AL_ENOLINK);
	assert_non_null(strstr(why, link_name));
	al_metrics_server_stop(s);
	assert_int_equal(al_metrics_fetch(link_name, true, NULL, 500, &m, why, sizeof(why)),
			 AL_ENOLINK);
	/* the name is free again */
	assert_int_equal(al_metrics_serve(link_name, true, NULL, fill, &calls, &s), 0);
	al_metrics_server_stop(s);
}

/* ---- a server that lies ----------------------------------------------------------- */

struct liar {
	int lfd;
	const void *buf;
	size_t len;
	bool silent; /* accept, then say nothing until the client gives up */
};

static void *liar_thread(void *arg)
{
	struct liar *l = arg;
	int fd = accept(l->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (l->silent) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		poll(&p, 1, 5000); /* returns when the client closes */
	} else {
		const char *b = l->buf;
		size_t left = l->len;
		while (left) {
			ssize_t n = send(fd, b, left, MSG_NOSIGNAL);
			if (n <= 0)
				break;
			b += n;
			left -= (size_t)n;
		}
	}
	close(fd);
	return NULL;
}

/* Listen where the server for link_name would, answer with buf[len]. */
static int lie(const void *buf, size_t len, bool silent, uint32_t timeout_ms, char *why, size_t n)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int k =
	    snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "amplink-metrics.%s.host", link_name);
	struct liar l = {.buf = buf, .len = len, .silent = silent};
	l.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(l.lfd >= 0);
	assert_int_equal(bind(l.lfd, (struct sockaddr *)&a,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)k)),
			 0);
	assert_int_equal(listen(l.lfd, 1), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, liar_thread, &l), 0);
	static struct al_metrics m;
	int rc = al_metrics_fetch(link_name, true, NULL, timeout_ms, &m, why, n);
	pthread_join(t, NULL);
	close(l.lfd);
	return rc;
}

static size_t good_answer(char **out, struct al_metrics **m)
{
	size_t len = sizeof(struct al_metrics_wire_hdr) + sizeof(struct al_metrics);
	char *buf = calloc(1, len + 64);
	assert_non_null(buf);
	struct al_metrics_wire_hdr h = {.version = AL_METRICS_VERSION,
					.size = (uint32_t)sizeof(struct al_metrics)};
	memcpy(h.magic, AL_METRICS_MAGIC, 8);
	memcpy(buf, &h, sizeof(h));
	*m = (struct al_metrics *)(void *)(buf + sizeof(h));
	al_metrics_init(*m);
	al_metrics_add_link(*m, "x", NULL);
	*out = buf;
	return len;
}

static void test_reader_refuses_lies(void **state)
{
	(void)state;
	unique_name();
	char why[200], *buf;
	struct al_metrics *m;
	size_t len = good_answer(&buf, &m);
	assert_int_equal(lie(buf, len, false, 2000, why, sizeof(why)), 0);
	/* too long: one byte more than a snapshot */
	assert_int_equal(lie(buf, len + 1, false, 2000, why, sizeof(why)), AL_EPROTO);
	/* cut short */
	assert_int_equal(lie(buf, len - 1, false, 2000, why, sizeof(why)), AL_EPROTO);
	assert_int_equal(lie(buf, 3, false, 2000, why, sizeof(why)), AL_EPROTO);
	/* nothing at all: what a server says to a user it does not admit */
	assert_int_equal(lie(buf, 0, false, 2000, why, sizeof(why)), AL_EPERM);
	/* wrong magic, version, size */
	buf[0] = 'X';
	assert_int_equal(lie(buf, len, false, 2000, why, sizeof(why)), AL_EPROTO);
	assert_non_null(strstr(why, "magic"));
	buf[0] = 'A';
	struct al_metrics_wire_hdr *h = (struct al_metrics_wire_hdr *)(void *)buf;
	h->version = 2;
	assert_int_equal(lie(buf, len, false, 2000, why, sizeof(why)), AL_EPROTO);
	h->version = AL_METRICS_VERSION;
	h->size = 100;
	assert_int_equal(lie(buf, len, false, 2000, why, sizeof(why)), AL_EPROTO);
	assert_non_null(strstr(why, "size"));
	h->size = (uint32_t)sizeof(struct al_metrics);
	/* right shape, wrong content: counts past the caps, names unterminated */
	m->links[0].n_epts = 100000;
	assert_int_equal(lie(buf, len, false, 2000, why, sizeof(why)), AL_EPROTO);
	m->links[0].n_epts = 0;
	memset(m->links[0].name, 'A', sizeof(m->links[0].name));
	assert_int_equal(lie(buf, len, false, 2000, why, sizeof(why)), AL_EPROTO);
	m->links[0].name[0] = '\0';
	m->n_series = 1; /* an empty series name */
	assert_int_equal(lie(buf, len, false, 2000, why, sizeof(why)), AL_EPROTO);
	m->n_series = 0;
	/* silence: the reader gives up at its timeout, not later */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(lie(buf, len, true, 300, why, sizeof(why)), AL_ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(s >= 0.29 && s < 2.0);
	free(buf);
}

static void test_decode_direct(void **state)
{
	(void)state;
	char why[200], *buf;
	struct al_metrics *m;
	size_t len = good_answer(&buf, &m);
	static struct al_metrics out;
	assert_int_equal(al_metrics_decode(buf, len, &out, why, sizeof(why)), 0);
	assert_int_equal(out.n_links, 1);
	assert_int_equal(al_metrics_decode(buf, 0, &out, why, sizeof(why)), AL_EPROTO);
	m->n_links = AL_METRICS_LINKS_MAX + 1;
	assert_int_equal(al_metrics_decode(buf, len, &out, why, sizeof(why)), AL_EPROTO);
	free(buf);
}

/* Another user on either end (needs root to become one: skipped
 * otherwise). A server of another user is refused unless --allow-uid
 * admits it; a client of another user gets nothing from our server. */
#define OTHER_UID 65534u
static void test_other_users(void **state)
{
	(void)state;
	if (getuid() != 0)
		skip();
	unique_name();
	int ready[2], done[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(done), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* another user serving the link */
		char c = 0;
		int calls = 0;
		struct al_metrics_server *s;
		if (setresgid(OTHER_UID, OTHER_UID, OTHER_UID) ||
		    setresuid(OTHER_UID, OTHER_UID, OTHER_UID) ||
		    al_metrics_serve(link_name, true, NULL, fill, &calls, &s))
			_exit(1);
		if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	static struct al_metrics m;
	char why[200];
	assert_int_equal(al_metrics_fetch(link_name, true, NULL, 1000, &m, why, sizeof(why)),
			 AL_EPERM);
	assert_non_null(strstr(why, "another user"));
	uint32_t uid = OTHER_UID;
	struct al_peer_policy allow = {.uids = &uid, .n_uids = 1};
	/* root is admitted by every server; the client admits the server */
	assert_int_equal(al_metrics_fetch(link_name, true, &allow, 1000, &m, why, sizeof(why)), 0);
	assert_int_equal(m.links[0].tx_msgs, 42);
	assert_int_equal(write(done[1], &c, 1), 1);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* the other way: our server, another user's client */
	int calls = 0;
	struct al_metrics_server *s;
	assert_int_equal(al_metrics_serve(link_name, true, NULL, fill, &calls, &s), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static struct al_metrics mm;
		char w[200];
		uint32_t root = 0;
		struct al_peer_policy trust_root = {.uids = &root, .n_uids = 1};
		if (setresgid(OTHER_UID, OTHER_UID, OTHER_UID) ||
		    setresuid(OTHER_UID, OTHER_UID, OTHER_UID))
			_exit(1);
		int rc = al_metrics_fetch(link_name, true, &trust_root, 1000, &mm, w, sizeof(w));
		_exit(rc == AL_EPERM && strstr(w, "does not admit") ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(calls, 0); /* nothing was filled for the stranger */
	al_metrics_server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_reader_refuses_lies),
	    cmocka_unit_test(test_decode_direct),
	    cmocka_unit_test(test_other_users),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
