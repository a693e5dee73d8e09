/* Unit tests of the vhost-user remote (src/linux/vhost_user_remote.c)
 * without a kernel: the test is the front-end and the rpmsg driver. It
 * connects to the listening socket, sets up memory and two vrings the way
 * a vhost-user front-end does, lays out the rings and buffers in a memfd
 * it maps too, and checks the device's announcement and echoes; then it
 * breaks the rings, leaves, comes back, and makes the application refuse
 * a session. The server runs in its own thread (al_vhu_remote_start()).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhu_frontend.h"

#include "amplink/linux/diag.h"
#include "amplink/linux/vhost_user.h"
#include "amplink/linux/vhost_user_remote.h"

#define MEM_SIZE (1u << 20)
#define GPA	 0x60000000ULL /* guest address = front-end address, mmap offset 0 */
#define NUM	 16u
#define BUF	 512u
#define RX_BUF	 0x90000u /* vring0's buffers (device -> driver) */
#define TX_BUF	 0xA0000u /* vring1's buffers (driver -> device) */
#define SPLIT	 0x80000u /* two regions: the second one from here */
#define GPA2	 0x80000000ULL

/* Two regions (a VMM's guest RAM in banks): the memfd's first half at GPA,
 * the second half, holding the buffers, at GPA2. */
static bool two_regions;

static uint64_t gpa_of(uint64_t off)
{
	return two_regions && off >= SPLIT ? GPA2 + (off - SPLIT) : GPA + off;
}
#define ECHO "svc-echo"

static uint64_t ring_off[2] = {0x10000, 0x20000}; /* desc; avail +0x1000; used +0x2000 */

/* ---- diagnostics ---- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char diag_log[32768];

static void on_diag(int level, const char *msg, void *arg)
{
	(void)level, (void)arg;
	if (getenv("VHUR_TRACE"))
		fprintf(stderr, "diag: %s\n", msg);
	pthread_mutex_lock(&log_mu);
	size_t n = strlen(diag_log);
	if (n + strlen(msg) + 2 < sizeof(diag_log))
		snprintf(diag_log + n, sizeof(diag_log) - n, "%s\n", msg);
	pthread_mutex_unlock(&log_mu);
}

static bool logged(const char *what)
{
	pthread_mutex_lock(&log_mu);
	bool found = strstr(diag_log, what) != NULL;
	pthread_mutex_unlock(&log_mu);
	return found;
}

/* ---- the application ---- */

struct app {
	struct rpmsg_endpoint ept;
	int refuse; /* session_start fails */
	int starts, ends;
	enum al_vhu_remote_end last_end;
};

static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	(void)rpmsg_trysendto(ept, data, (int)len, src);
	return RPMSG_SUCCESS;
}

static int app_start(void *arg, struct rpmsg_device *rdev)
{
	struct app *a = arg;
	a->starts++;
	if (a->refuse)
		return AL_ENOMEM;
	return rpmsg_create_ept(&a->ept, rdev, ECHO, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, echo_cb, NULL);
}

static void app_end(void *arg, struct rpmsg_device *rdev, enum al_vhu_remote_end why)
{
	struct app *a = arg;
	(void)rdev;
	a->ends++;
	a->last_end = why;
}

/* ---- the front-end ---- */

struct ctx {
	char dir[64], path[96];
	struct app app;
	struct al_vhu_remote *r;
	int memfd;
	uint8_t *mem;
	int fe;
	int kick[2], call[2];
	uint16_t rx_used_seen, tx_avail;
	int fds_before;
};

static void sendmsg_fds(struct ctx *c, uint32_t req, const void *payload, uint32_t size,
			const int *fds, unsigned nfds)
{
	vhu_fe_send(c->fe, req, 0, payload, size, fds, nfds);
}

static void wait_for(bool (*cond)(struct ctx *), struct ctx *c, const char *what)
{
	for (int i = 0; i < 2000; i++) {
		if (cond(c))
			return;
		usleep(1000);
	}
	fail_msg("timed out waiting for %s; diagnostics:\n%s", what, diag_log);
}

static struct al_vhu_remote_stats stats(struct ctx *c)
{
	struct al_vhu_remote_stats s;
	al_vhu_remote_get_stats(c->r, &s);
	return s;
}

static uint8_t *at(struct ctx *c, uint64_t off)
{
	return c->mem + off;
}
static uint16_t rd16(struct ctx *c, uint64_t off)
{
	return __atomic_load_n((uint16_t *)at(c, off), __ATOMIC_ACQUIRE);
}
static void wr16(struct ctx *c, uint64_t off, uint16_t v)
{
	__atomic_store_n((uint16_t *)at(c, off), v, __ATOMIC_RELEASE);
}
static void set_desc(struct ctx *c, unsigned ring, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags)
{
	uint8_t *d = at(c, ring_off[ring] + 16u * i);
	uint16_t next = 0;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}
static void kick(struct ctx *c, unsigned ring)
{
	uint64_t one = 1;
	assert_int_equal(write(c->kick[ring], &one, 8), 8);
}

/* Connect and set up memory and both vrings (no protocol features: no
 * acks; a kick fd enables its vring), then post every receive buffer and
 * kick vring 0. */
static void front_end_up(struct ctx *c)
{
	memset(c->mem, 0, MEM_SIZE);
	c->rx_used_seen = c->tx_avail = 0;
	c->fe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	assert_int_equal(connect(c->fe, (struct sockaddr *)&sa, sizeof(sa)), 0);

	sendmsg_fds(c, AL_VHU_SET_OWNER, NULL, 0, NULL, 0);
	sendmsg_fds(c, AL_VHU_GET_FEATURES, NULL, 0, NULL, 0);
	uint32_t hdr[3];
	uint64_t f = 0;
	assert_int_equal(recv(c->fe, hdr, 12, MSG_WAITALL), 12);
	assert_int_equal(recv(c->fe, &f, 8, MSG_WAITALL), 8);
	f &= (1ULL << 32) | 1ULL; /* VERSION_1 and the name service */
	sendmsg_fds(c, AL_VHU_SET_FEATURES, &f, 8, NULL, 0);
	uint8_t mt[8 + 64] = {0};
	uint64_t reg[8] = {GPA, MEM_SIZE, GPA, 0};
	if (two_regions) {
		uint64_t r2[8] = {GPA, SPLIT, GPA, 0, GPA2, MEM_SIZE - SPLIT, GPA2, SPLIT};
		memcpy(reg, r2, sizeof(reg));
	}
	mt[0] = two_regions ? 2 : 1;
	memcpy(mt + 8, reg, 64);
	int mfds[2] = {c->memfd, c->memfd};
	sendmsg_fds(c, AL_VHU_SET_MEM_TABLE, mt, two_regions ? 8 + 64 : 8 + 32, mfds,
		    two_regions ? 2 : 1);
	for (uint32_t i = 0; i < 2; i++) {
		int pair[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
		sendmsg_fds(c, AL_VHU_SET_VRING_CALL, &(uint64_t){i}, 8, &pair[1], 1);
		close(pair[1]);
		c->call[i] = pair[0];
		uint32_t st[2] = {i, NUM};
		sendmsg_fds(c, AL_VHU_SET_VRING_NUM, st, 8, NULL, 0);
		st[1] = 0;
		sendmsg_fds(c, AL_VHU_SET_VRING_BASE, st, 8, NULL, 0);
		uint8_t a[40] = {0};
		uint64_t desc = GPA + ring_off[i], avail = desc + 0x1000, used = desc + 0x2000;
		memcpy(a, &i, 4);
		memcpy(a + 8, &desc, 8);
		memcpy(a + 16, &used, 8);
		memcpy(a + 24, &avail, 8);
		sendmsg_fds(c, AL_VHU_SET_VRING_ADDR, a, 40, NULL, 0);
		c->kick[i] = eventfd(0, EFD_CLOEXEC);
		sendmsg_fds(c, AL_VHU_SET_VRING_KICK, &(uint64_t){i}, 8, &c->kick[i], 1);
	}
	/* the driver's receive buffers on vring0 */
	for (unsigned i = 0; i < NUM; i++) {
		set_desc(c, 0, i, gpa_of(RX_BUF + BUF * i), BUF, 2 /* WRITE */);
		wr16(c, ring_off[0] + 0x1000 + 4 + 2 * i, (uint16_t)i);
	}
	wr16(c, ring_off[0] + 0x1000 + 2, NUM);
	kick(c, 0);
}

static void front_end_down(struct ctx *c)
{
	close(c->fe);
	for (int i = 0; i < 2; i++) {
		close(c->kick[i]);
		close(c->call[i]);
	}
}

/* Next message the device put on vring0's used ring: 0 and its header
 * fields and payload, or -1 after 2 s. The buffer is posted again. */
static int recv_msg(struct ctx *c, uint32_t *src, uint32_t *dst, char *payload, uint16_t *len)
{
	for (int t = 0; t < 2000 && rd16(c, ring_off[0] + 0x2000 + 2) == c->rx_used_seen; t++)
		usleep(1000);
	if (rd16(c, ring_off[0] + 0x2000 + 2) == c->rx_used_seen)
		return -1;
	uint32_t id, ulen;
	uint8_t *e = at(c, ring_off[0] + 0x2000 + 4 + 8u * (c->rx_used_seen % NUM));
	memcpy(&id, e, 4);
	memcpy(&ulen, e + 4, 4);
	assert_true(id < NUM);
	uint8_t *b = at(c, RX_BUF + BUF * id);
	memcpy(src, b, 4);
	memcpy(dst, b + 4, 4);
	memcpy(len, b + 12, 2);
	assert_true(*len <= BUF - 16 && ulen >= 16u + *len);
	memcpy(payload, b + 16, *len);
	c->rx_used_seen++;
	/* post it again */
	uint16_t aidx = rd16(c, ring_off[0] + 0x1000 + 2);
	wr16(c, ring_off[0] + 0x1000 + 4 + 2 * (aidx % NUM), (uint16_t)id);
	wr16(c, ring_off[0] + 0x1000 + 2, (uint16_t)(aidx + 1));
	return 0;
}

/* Send one message on vring1 in descriptor (tx_avail % NUM); addr_override
 * != 0 puts that (bad) address in the descriptor instead. */
static void send_msg(struct ctx *c, uint32_t src, uint32_t dst, const char *payload, uint16_t len,
		     uint64_t addr_override)
{
	unsigned i = c->tx_avail % NUM;
	uint8_t *b = at(c, TX_BUF + BUF * i);
	uint32_t z = 0;
	uint16_t flags = 0;
	memcpy(b, &src, 4);
	memcpy(b + 4, &dst, 4);
	memcpy(b + 8, &z, 4);
	memcpy(b + 12, &len, 2);
	memcpy(b + 14, &flags, 2);
	memcpy(b + 16, payload, len);
	set_desc(c, 1, i, addr_override ? addr_override : gpa_of(TX_BUF + BUF * i), 16u + len, 0);
	wr16(c, ring_off[1] + 0x1000 + 4 + 2 * (c->tx_avail % NUM), (uint16_t)i);
	c->tx_avail++;
	wr16(c, ring_off[1] + 0x1000 + 2, c->tx_avail);
	kick(c, 1);
}

static void expect_announcement(struct ctx *c, uint32_t *addr)
{
	uint32_t src, dst;
	uint16_t len;
	char p[BUF];
	assert_int_equal(recv_msg(c, &src, &dst, p, &len), 0);
	assert_int_equal(dst, 53);
	assert_int_equal(len, 40);
	assert_string_equal(p, ECHO);
	memcpy(addr, p + 32, 4);
	assert_int_equal(*addr, src);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	c->fds_before = vhu_count_fds();
	diag_log[0] = 0;
	al_diag_set_handler(on_diag, NULL);
	snprintf(c->dir, sizeof(c->dir), "/tmp/al-vhur-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->path, sizeof(c->path), "%s/sock", c->dir);
	c->memfd = memfd_create("vhur-test", MFD_CLOEXEC);
	assert_int_equal(ftruncate(c->memfd, MEM_SIZE), 0);
	c->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	assert_true(c->mem != MAP_FAILED);
	struct al_vhu_remote_config cfg = {
	    .session_start = app_start, .session_end = app_end, .arg = &c->app};
	c->r = al_vhu_remote_create(&cfg);
	assert_non_null(c->r);
	assert_int_equal(al_vhu_remote_listen(c->r, c->path), 0);
	assert_int_equal(al_vhu_remote_start(c->r), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	al_vhu_remote_destroy(c->r);
	munmap(c->mem, MEM_SIZE);
	close(c->memfd);
	rmdir(c->dir);
	al_diag_set_handler(NULL, NULL);
	assert_int_equal(vhu_count_fds(), c->fds_before);
	free(c);
	return 0;
}

static bool one_session(struct ctx *c)
{
	return stats(c).sessions >= 1;
}
static bool one_broken(struct ctx *c)
{
	return stats(c).broken >= 1;
}
static bool one_ended(struct ctx *c)
{
	return stats(c).sessions_ended >= 1;
}
static bool two_sessions(struct ctx *c)
{
	return stats(c).sessions >= 2;
}
static bool one_refused(struct ctx *c)
{
	return stats(c).refused >= 1;
}
static bool two_connections_gone(struct ctx *c)
{
	return c->app.ends >= 2;
}

/* Announce, echo, break, leave, come back. */
static void test_session_echo_break_and_next(void **state)
{
	struct ctx *c = *state;
	front_end_up(c);
	wait_for(one_session, c, "the session");
	uint32_t addr;
	expect_announcement(c, &addr);
	assert_int_equal(addr, 0x400);

	/* echoes of 1..496 bytes, the used ring of vring1 gives buffers back */
	char out[BUF], in[BUF];
	for (int n = 1; n <= 496; n += 55) {
		for (int k = 0; k < n; k++)
			out[k] = (char)(n + k);
		send_msg(c, 0x500, addr, out, (uint16_t)n, 0);
		uint32_t src, dst;
		uint16_t len;
		assert_int_equal(recv_msg(c, &src, &dst, in, &len), 0);
		assert_int_equal(src, addr);
		assert_int_equal(dst, 0x500);
		assert_int_equal(len, n);
		assert_memory_equal(in, out, (size_t)n);
	}
	assert_int_equal(rd16(c, ring_off[1] + 0x2000 + 2), c->tx_avail);

	/* a descriptor outside guest memory: the link breaks, reported once */
	send_msg(c, 0x500, addr, "x", 1, 0xdead0000ULL);
	wait_for(one_broken, c, "the broken link");
	assert_true(logged("vhost-user remote: link-broken:"));
	send_msg(c, 0x500, addr, "y", 1, 0);
	usleep(20000);
	assert_int_equal(stats(c).broken, 1);

	/* the front-end leaves: the session ends (gone), the server listens */
	front_end_down(c);
	wait_for(one_ended, c, "the end of the session");
	assert_int_equal(c->app.ends, 1);
	/* the transport stops the running vrings before it reports the
	 * front-end gone */
	assert_int_equal(c->app.last_end, AL_VHUR_END_VRING_STOPPED);
	assert_true(logged("session ended (vring-stopped)"));
	for (int i = 0; i < 2000 && !logged("front-end gone"); i++)
		usleep(1000);
	assert_true(logged("front-end gone"));

	/* the next front-end gets a fresh device */
	front_end_up(c);
	wait_for(two_sessions, c, "the second session");
	expect_announcement(c, &addr);
	send_msg(c, 0x501, addr, "again", 5, 0);
	uint32_t src, dst;
	uint16_t len;
	assert_int_equal(recv_msg(c, &src, &dst, in, &len), 0);
	assert_int_equal(dst, 0x501);
	assert_memory_equal(in, "again", 5);
	front_end_down(c);
	wait_for(two_connections_gone, c, "the second end");
	struct al_vhu_remote_stats s = stats(c);
	assert_int_equal(s.connections, 2);
	assert_int_equal(s.sessions, 2);
	assert_int_equal(s.refused, 0);
	assert_int_equal(s.faults[AL_VHUR_F_BROKEN], 1);
}

/* The application refuses: reported, counted, no announcement; the next
 * connection is served. */
static void test_app_refuses(void **state)
{
	struct ctx *c = *state;
	c->app.refuse = 1;
	front_end_up(c);
	wait_for(one_refused, c, "the refused session");
	assert_true(logged("vhost-user remote: session-start-failed:"));
	uint32_t src, dst;
	uint16_t len;
	char in[BUF];
	assert_int_equal(recv_msg(c, &src, &dst, in, &len), -1);
	front_end_down(c);
	c->app.refuse = 0;
	front_end_up(c);
	wait_for(one_session, c, "the session after a refusal");
	uint32_t addr;
	expect_announcement(c, &addr);
	front_end_down(c);
}

/* Rings that overlap: al_virtio_device_start refuses them; the session does
 * not start, the application's endpoints go again. */
static void test_overlapping_rings(void **state)
{
	struct ctx *c = *state;
	const uint64_t saved = ring_off[1];
	ring_off[1] = ring_off[0] + 0x80; /* vring1's descriptors over vring0's */
	front_end_up(c);
	ring_off[1] = saved;
	for (int i = 0; i < 2000 && !logged("rings-refused"); i++)
		usleep(1000);
	assert_true(logged("vhost-user remote: rings-refused:"));
	assert_int_equal(stats(c).sessions, 0);
	assert_int_equal(stats(c).refused, 1);
	assert_int_equal(c->app.starts, 1);
	assert_int_equal(c->app.ends, 1);
	front_end_down(c);
}

/* Rings in one region, buffers in another: the second region is added to
 * the link, and messages in it flow both ways. */
static void test_two_regions(void **state)
{
	struct ctx *c = *state;
	two_regions = true;
	front_end_up(c);
	wait_for(one_session, c, "the session");
	assert_true(logged("session up: 2 region(s)"));
	uint32_t addr, src, dst;
	uint16_t len;
	char in[BUF];
	expect_announcement(c, &addr);
	send_msg(c, 0x500, addr, "banked", 6, 0);
	assert_int_equal(recv_msg(c, &src, &dst, in, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(in, "banked", 6);
	front_end_down(c);
	two_regions = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_session_echo_break_and_next, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_app_refuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlapping_rings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_regions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
