/* Unit tests of the vhost-user back-end (src/linux/vhost_user*.c): the test
 * plays the front-end over a socketpair, one message at a time, in the
 * order virtio_uml (User-Mode Linux 6.1) sends them, then with bad input.
 * Every bad message must give an error naming it, and the same server must
 * then serve the next connection.
 */
#define _GNU_SOURCE
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
#include <unistd.h>

#include <cmocka.h>

#include "vhu_frontend.h"

#include "amplink/linux/vhost_user.h"

#define NEED_REPLY 0x8u
#define MEM_SIZE   (1u << 20) /* the memfd behind every region */
#define UML_BASE   0x60000000ULL

struct ctx {
	struct al_vhu *vhu;
	int fe; /* the test's end of the connection */
	int memfd;
	char log[16384]; /* every diag line */
	int ev[AL_VHU_EV_GONE + 1];
	int ev_ring[AL_VHU_EV_GONE + 1]; /* vring of the last event of each kind */
	int kick_fd[2], call_fd[2];	 /* the front-end's ends */
	int fds_before;			 /* open fds when the test started */
};

static void on_event(void *arg, struct al_vhu *vhu, enum al_vhu_event ev, int vring)
{
	struct ctx *c = arg;
	(void)vhu;
	c->ev[ev]++;
	c->ev_ring[ev] = vring;
}

static void on_diag(void *arg, enum al_vhu_level lvl, const char *msg)
{
	struct ctx *c = arg;
	size_t n = strlen(c->log);
	if (n + strlen(msg) + 8 < sizeof(c->log))
		snprintf(c->log + n, sizeof(c->log) - n, "%d %s\n", (int)lvl, msg);
}

static void new_conn(struct ctx *c)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c->fe = sv[0];
	assert_int_equal(al_vhu_adopt(c->vhu, sv[1]), 0);
	assert_true(al_vhu_connected(c->vhu));
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	c->fds_before = vhu_count_fds();
	struct al_vhu_config cfg = {
	    .event = on_event, .diag = on_diag, .arg = c, .msg_timeout_ms = 200};
	c->vhu = al_vhu_create(&cfg, NULL);
	assert_non_null(c->vhu);
	c->memfd = memfd_create("vhu-test", MFD_CLOEXEC);
	assert_true(c->memfd >= 0);
	assert_int_equal(ftruncate(c->memfd, MEM_SIZE), 0);
	for (int i = 0; i < 2; i++)
		c->kick_fd[i] = c->call_fd[i] = -1;
	new_conn(c);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	al_vhu_destroy(c->vhu);
	if (c->fe >= 0)
		close(c->fe);
	close(c->memfd);
	for (int i = 0; i < 2; i++) {
		if (c->kick_fd[i] >= 0)
			close(c->kick_fd[i]);
		if (c->call_fd[i] >= 0)
			close(c->call_fd[i]);
	}
	/* Nothing the server received or opened is left open. */
	assert_int_equal(vhu_count_fds(), c->fds_before);
	free(c);
	return 0;
}

/* ---- the front-end side ---- */

static void send_raw(struct ctx *c, uint32_t req, uint32_t flags, const void *payload,
		     uint32_t size, const int *fds, unsigned int nfds)
{
	vhu_fe_send(c->fe, req, flags, payload, size, fds, nfds);
}

/* Send, let the server handle it, return its result. */
static int xfer(struct ctx *c, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
		const int *fds, unsigned int nfds)
{
	send_raw(c, req, flags, payload, size, fds, nfds);
	return al_vhu_handle_message(c->vhu);
}

/* Read one reply; returns its payload size, the payload in out. */
static uint32_t get_reply(struct ctx *c, uint32_t req, void *out, size_t outlen)
{
	uint32_t hdr[3];
	assert_int_equal(recv(c->fe, hdr, 12, MSG_WAITALL), 12);
	assert_int_equal(hdr[0], req);
	assert_int_equal(hdr[1], 0x5u); /* version 1 + REPLY */
	assert_true(hdr[2] <= outlen);
	if (hdr[2])
		assert_int_equal(recv(c->fe, out, hdr[2], MSG_WAITALL), (ssize_t)hdr[2]);
	return hdr[2];
}

static uint64_t reply_u64(struct ctx *c, uint32_t req)
{
	uint64_t v = 0;
	assert_int_equal(get_reply(c, req, &v, sizeof(v)), 8);
	return v;
}

static bool no_reply_pending(struct ctx *c)
{
	char b;
	return recv(c->fe, &b, 1, MSG_DONTWAIT) < 0;
}

static void u64_msg(struct ctx *c, uint32_t req, uint32_t flags, uint64_t v, int expect)
{
	assert_int_equal(xfer(c, req, flags, &v, 8, NULL, 0), expect);
}

static void state_msg(struct ctx *c, uint32_t req, uint32_t flags, uint32_t idx, uint32_t num,
		      int expect)
{
	uint32_t p[2] = {idx, num};
	assert_int_equal(xfer(c, req, flags, p, 8, NULL, 0), expect);
}

struct region {
	uint64_t gpa, size, user, off;
};

/* SET_MEM_TABLE with `slots` region slots (virtio_uml sends 2 for 1 region). */
static int mem_table(struct ctx *c, uint32_t flags, const struct region *r, unsigned int n,
		     unsigned int slots, unsigned int nfds)
{
	uint8_t p[8 + 32 * 8] = {0};
	int fds[8];
	uint32_t nr = n;
	memcpy(p, &nr, 4);
	for (unsigned int i = 0; i < n && i < 8; i++)
		memcpy(p + 8 + 32 * i, &r[i], 32);
	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = c->memfd;
	return xfer(c, AL_VHU_SET_MEM_TABLE, flags, p, 8 + 32 * slots, fds, nfds);
}

static int vring_addr(struct ctx *c, uint32_t flags, uint32_t idx, uint64_t desc, uint64_t used,
		      uint64_t avail)
{
	uint8_t p[40] = {0};
	uint64_t log = 0;
	memcpy(p, &idx, 4);
	memcpy(p + 8, &desc, 8);
	memcpy(p + 16, &used, 8);
	memcpy(p + 24, &avail, 8);
	memcpy(p + 32, &log, 8);
	return xfer(c, AL_VHU_SET_VRING_ADDR, flags, p, 40, NULL, 0);
}

static void expect_ack(struct ctx *c, uint32_t req)
{
	assert_int_equal(reply_u64(c, req), 0);
}

/* The conversation of virtio_uml in 6.1, in its order; leaves both vrings
 * ready, with the kick eventfds and call socketpairs in c. */
static void uml_conversation(struct ctx *c)
{
	const uint32_t NR = NEED_REPLY;
	int pair[2];

	assert_int_equal(xfer(c, AL_VHU_SET_OWNER, 0, NULL, 0, NULL, 0), 0);
	assert_true(no_reply_pending(c));
	assert_int_equal(xfer(c, AL_VHU_GET_FEATURES, 0, NULL, 0, NULL, 0), 0);
	uint64_t f = reply_u64(c, AL_VHU_GET_FEATURES);
	assert_int_equal(f, (1ULL << 32) | (1ULL << 30) | 1ULL);
	assert_int_equal(xfer(c, AL_VHU_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0), 0);
	uint64_t pf = reply_u64(c, AL_VHU_GET_PROTOCOL_FEATURES);
	assert_int_equal(pf, (1ULL << 3) | (1ULL << 5));
	/* From here on every message carries NEED_REPLY. */
	u64_msg(c, AL_VHU_SET_PROTOCOL_FEATURES, NR, pf, 0);
	expect_ack(c, AL_VHU_SET_PROTOCOL_FEATURES);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	assert_int_equal(xfer(c, AL_VHU_SET_BACKEND_REQ_FD, NR, NULL, 0, &pair[1], 1), 0);
	close(pair[1]);
	close(pair[0]);
	expect_ack(c, AL_VHU_SET_BACKEND_REQ_FD);
	u64_msg(c, AL_VHU_SET_FEATURES, NR, f, 0);
	expect_ack(c, AL_VHU_SET_FEATURES);
	assert_int_equal(al_vhu_features(c->vhu), f);
	assert_int_equal(c->ev[AL_VHU_EV_FEATURES], 1);

	struct region r = {UML_BASE, MEM_SIZE, UML_BASE, 0};
	assert_int_equal(mem_table(c, NR, &r, 1, 2, 1), 0);
	expect_ack(c, AL_VHU_SET_MEM_TABLE);
	assert_int_equal(c->ev[AL_VHU_EV_MEM_TABLE], 1);

	for (uint32_t i = 0; i < 2; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
		assert_int_equal(xfer(c, AL_VHU_SET_VRING_CALL, NR, &(uint64_t){i}, 8, &pair[1], 1),
				 0);
		close(pair[1]);
		c->call_fd[i] = pair[0];
		expect_ack(c, AL_VHU_SET_VRING_CALL);
		state_msg(c, AL_VHU_SET_VRING_NUM, NR, i, 256, 0);
		expect_ack(c, AL_VHU_SET_VRING_NUM);
		state_msg(c, AL_VHU_SET_VRING_BASE, NR, i, 0, 0);
		expect_ack(c, AL_VHU_SET_VRING_BASE);
		uint64_t base = UML_BASE + 0x10000 * (i + 1);
		assert_int_equal(vring_addr(c, NR, i, base, base + 0x2000, base + 0x1000), 0);
		expect_ack(c, AL_VHU_SET_VRING_ADDR);
	}
	assert_int_equal(c->ev[AL_VHU_EV_VRING_READY], 0);
	for (uint32_t i = 0; i < 2; i++) {
		c->kick_fd[i] = eventfd(0, EFD_CLOEXEC);
		assert_int_equal(
		    xfer(c, AL_VHU_SET_VRING_KICK, NR, &(uint64_t){i}, 8, &c->kick_fd[i], 1), 0);
		expect_ack(c, AL_VHU_SET_VRING_KICK);
		assert_int_equal(c->ev[AL_VHU_EV_VRING_READY], (int)i);
		state_msg(c, AL_VHU_SET_VRING_ENABLE, NR, i, 1, 0);
		expect_ack(c, AL_VHU_SET_VRING_ENABLE);
		assert_int_equal(c->ev[AL_VHU_EV_VRING_READY], (int)i + 1);
		assert_int_equal(c->ev_ring[AL_VHU_EV_VRING_READY], (int)i);
	}
}

/* The server still answers a fresh front-end. */
static void assert_usable(struct ctx *c)
{
	assert_false(al_vhu_connected(c->vhu));
	if (c->fe >= 0)
		close(c->fe);
	new_conn(c);
	assert_int_equal(xfer(c, AL_VHU_GET_FEATURES, 0, NULL, 0, NULL, 0), 0);
	assert_int_equal(reply_u64(c, AL_VHU_GET_FEATURES), (1ULL << 32) | (1ULL << 30) | 1ULL);
}

static void assert_logged(struct ctx *c, const char *what)
{
	if (!strstr(c->log, what))
		fail_msg("diagnostics lack \"%s\":\n%s", what, c->log);
}

static void assert_error(struct ctx *c, int rc, int expect, const char *what)
{
	assert_int_equal(rc, expect);
	if (!strstr(al_vhu_last_error(c->vhu), what))
		fail_msg("error \"%s\" lacks \"%s\"", al_vhu_last_error(c->vhu), what);
	assert_logged(c, what);
}

/* ---- tests ---- */

static void test_uml_conversation(void **state)
{
	struct ctx *c = *state;
	uml_conversation(c);

	const struct al_vhu_vring *v0 = al_vhu_vring(c->vhu, 0);
	assert_non_null(v0);
	assert_null(al_vhu_vring(c->vhu, 2));
	assert_true(v0->ready && v0->enabled);
	assert_int_equal(v0->num, 256);
	assert_int_equal(v0->desc_gpa, UML_BASE + 0x10000);
	assert_int_equal(v0->avail_gpa, UML_BASE + 0x11000);
	assert_int_equal(v0->used_gpa, UML_BASE + 0x12000);
	assert_int_equal(v0->call_kind, AL_VHU_FD_SOCKET);
	assert_int_equal(al_vhu_protocol_features(c->vhu), (1ULL << 3) | (1ULL << 5));

	/* The rings are in the mapping: a write through the memfd shows. */
	uint32_t mark = 0xfeedc0de, got;
	assert_int_equal(pwrite(c->memfd, &mark, 4, 0x10000), 4);
	uint32_t *p = al_vhu_gpa_to_va(c->vhu, v0->desc_gpa, 16 * 256);
	assert_non_null(p);
	memcpy(&got, p, 4);
	assert_int_equal(got, mark);

	/* A kick on vring 0 becomes one KICK event. */
	assert_int_equal(write(c->kick_fd[0], &(uint64_t){1}, 8), 8);
	assert_int_equal(al_vhu_run(c->vhu, 1000), 1);
	assert_int_equal(c->ev[AL_VHU_EV_KICK], 1);
	assert_int_equal(c->ev_ring[AL_VHU_EV_KICK], 0);
	assert_int_equal(al_vhu_drain_kick(c->vhu, 0), 0);
	assert_int_equal(write(c->kick_fd[1], &(uint64_t){3}, 8), 8);
	assert_int_equal(al_vhu_drain_kick(c->vhu, 1), 3);

	/* A call arrives as the 8 bytes virtio_uml reads. */
	assert_int_equal(al_vhu_call(c->vhu, 0), 0);
	uint64_t n = 0;
	assert_int_equal(recv(c->call_fd[0], &n, 8, MSG_DONTWAIT), 8);
	assert_int_equal(n, 1);
	assert_int_equal(al_vhu_call(c->vhu, 7), AL_EINVAL);

	/* GET_VRING_BASE stops the ring and reports what the user set. */
	uint32_t st[2] = {1, 0};
	send_raw(c, AL_VHU_GET_VRING_BASE, NEED_REPLY, st, 8, NULL, 0);
	assert_int_equal(al_vhu_set_vring_base(c->vhu, 1, 42), 0);
	assert_int_equal(al_vhu_handle_message(c->vhu), 0);
	uint32_t rep[2];
	assert_int_equal(get_reply(c, AL_VHU_GET_VRING_BASE, rep, sizeof(rep)), 8);
	assert_int_equal(rep[0], 1);
	assert_int_equal(rep[1], 42);
	assert_int_equal(c->ev[AL_VHU_EV_VRING_STOPPED], 1);
	assert_int_equal(c->ev_ring[AL_VHU_EV_VRING_STOPPED], 1);
	assert_true(no_reply_pending(c));

	/* GET_QUEUE_NUM, GET_CONFIG answered; SET_CONFIG outside the (empty)
	 * config space refused with a NACK. */
	assert_int_equal(xfer(c, AL_VHU_GET_QUEUE_NUM, NEED_REPLY, NULL, 0, NULL, 0), 0);
	assert_int_equal(reply_u64(c, AL_VHU_GET_QUEUE_NUM), 2);
	uint8_t cfg[12 + 8] = {0};
	cfg[4] = 8;
	assert_int_equal(xfer(c, AL_VHU_GET_CONFIG, NEED_REPLY, cfg, sizeof(cfg), NULL, 0), 0);
	uint8_t cr[12 + 8];
	assert_int_equal(get_reply(c, AL_VHU_GET_CONFIG, cr, sizeof(cr)), 20);
	assert_int_equal(cr[4], 8);
	assert_int_equal(xfer(c, AL_VHU_SET_CONFIG, NEED_REPLY, cfg, sizeof(cfg), NULL, 0),
			 AL_EPERM);
	assert_int_equal(reply_u64(c, AL_VHU_SET_CONFIG), 1);
	assert_true(al_vhu_connected(c->vhu));

	/* The front-end goes: every vring stops, memory is unmapped, GONE. */
	close(c->fe);
	c->fe = -1;
	assert_int_equal(al_vhu_handle_message(c->vhu), AL_ENOLINK);
	assert_int_equal(c->ev[AL_VHU_EV_GONE], 1);
	assert_int_equal(c->ev[AL_VHU_EV_MEM_INVALIDATE], 1);
	assert_int_equal(c->ev[AL_VHU_EV_VRING_STOPPED], 2);
	unsigned int nr;
	al_vhu_regions(c->vhu, &nr);
	assert_int_equal(nr, 0);
	assert_null(al_vhu_gpa_to_va(c->vhu, UML_BASE, 1));
	assert_int_equal(al_vhu_vring(c->vhu, 0)->kick_fd, -1);
	assert_usable(c);
}

static void test_multi_region(void **state)
{
	struct ctx *c = *state;
	/* Three regions of one memfd, out of order in both address spaces. */
	const struct region r[3] = {
	    {0x100000000ULL, 0x10000, 0x7f0000000000ULL, 0x20000},
	    {0x0, 0x8000, 0x7f0000100000ULL, 0x1000},
	    {0x40000000ULL, 0x4000, 0x7e0000000000ULL, 0x80000},
	};
	assert_int_equal(mem_table(c, 0, r, 3, 3, 3), 0);
	unsigned int n;
	const struct al_vhu_region *t = al_vhu_regions(c->vhu, &n);
	assert_int_equal(n, 3);
	for (unsigned int i = 0; i < 3; i++) {
		uint8_t *first = al_vhu_gpa_to_va(c->vhu, r[i].gpa, 1);
		uint8_t *last = al_vhu_gpa_to_va(c->vhu, r[i].gpa + r[i].size - 1, 1);
		assert_ptr_equal(first, t[i].va);
		assert_int_equal(t[i].gpa, r[i].gpa);
		assert_int_equal(t[i].user_addr, r[i].user);
		assert_ptr_equal(last, first + r[i].size - 1);
		assert_ptr_equal(al_vhu_gpa_to_va(c->vhu, r[i].gpa, r[i].size), first);
		assert_null(al_vhu_gpa_to_va(c->vhu, r[i].gpa, r[i].size + 1));
		assert_null(al_vhu_gpa_to_va(c->vhu, r[i].gpa + r[i].size - 1, 2));
		assert_null(al_vhu_gpa_to_va(c->vhu, r[i].gpa + r[i].size, 1));
		if (r[i].gpa)
			assert_null(al_vhu_gpa_to_va(c->vhu, r[i].gpa - 1, 1));
		/* the bytes are those of the memfd at mmap_offset */
		uint8_t a = (uint8_t)(0x11 * (i + 1)), b = (uint8_t)(0x22 * (i + 1));
		assert_int_equal(pwrite(c->memfd, &a, 1, (off_t)r[i].off), 1);
		assert_int_equal(pwrite(c->memfd, &b, 1, (off_t)(r[i].off + r[i].size - 1)), 1);
		assert_int_equal(*first, a);
		assert_int_equal(*last, b);

		uint64_t g = 0;
		assert_int_equal(al_vhu_user_to_gpa(c->vhu, r[i].user, r[i].size, &g), 0);
		assert_int_equal(g, r[i].gpa);
		assert_int_equal(al_vhu_user_to_gpa(c->vhu, r[i].user + r[i].size - 1, 1, &g), 0);
		assert_int_equal(g, r[i].gpa + r[i].size - 1);
		assert_int_equal(al_vhu_user_to_gpa(c->vhu, r[i].user + r[i].size - 1, 2, &g),
				 AL_EADDR);
		assert_int_equal(al_vhu_user_to_gpa(c->vhu, r[i].user - 1, 1, &g), AL_EADDR);
	}
	/* Overflow-safe for any input. */
	assert_null(al_vhu_gpa_to_va(c->vhu, UINT64_MAX, 2));
	assert_null(al_vhu_gpa_to_va(c->vhu, 0x100, UINT64_MAX));
	assert_null(al_vhu_gpa_to_va(c->vhu, 0x100000000ULL + 8, UINT64_MAX - 4));
	uint64_t g;
	assert_int_equal(al_vhu_user_to_gpa(c->vhu, UINT64_MAX, UINT64_MAX, &g), AL_EADDR);
	/* A vring whose parts sit in different regions is fine. */
	state_msg(c, AL_VHU_SET_VRING_NUM, 0, 0, 64, 0);
	assert_int_equal(vring_addr(c, 0, 0, r[0].user, r[1].user, r[2].user), 0);
	assert_int_equal(al_vhu_vring(c->vhu, 0)->avail_gpa, r[2].gpa);
	assert_int_equal(al_vhu_vring(c->vhu, 0)->used_gpa, r[1].gpa);
	/* A descriptor table that runs past its region's end is refused. */
	state_msg(c, AL_VHU_SET_VRING_NUM, 0, 1, 64, 0);
	assert_error(c, vring_addr(c, 0, 1, r[2].user + r[2].size - 512, r[1].user, r[1].user),
		     AL_EPROTO, "descriptor table at user address 0x7e0000003e00");
}

static void test_bad_payload_size(void **state)
{
	struct ctx *c = *state;
	uint32_t four = 1;
	assert_error(c, xfer(c, AL_VHU_SET_FEATURES, 0, &four, 4, NULL, 0), AL_EPROTO,
		     "SET_FEATURES with a 4-byte payload (expected 8)");
	assert_int_equal(c->ev[AL_VHU_EV_GONE], 1);
	assert_usable(c);
	assert_error(c, xfer(c, AL_VHU_GET_FEATURES, 0, &four, 4, NULL, 0), AL_EPROTO,
		     "GET_FEATURES with a 4-byte payload (expected 0)");
	assert_usable(c);
	/* A memory table whose size does not match its region count. */
	struct region r = {0, 0x1000, 0, 0};
	assert_error(c, mem_table(c, 0, &r, 1, 0, 1), AL_EPROTO,
		     "SET_MEM_TABLE with a 8-byte payload for 1 regions");
	assert_usable(c);
	/* A payload larger than any message: refused before reading it. */
	uint32_t hdr[3] = {AL_VHU_SET_MEM_TABLE, 1, 1u << 20};
	assert_int_equal(send(c->fe, hdr, 12, 0), 12);
	assert_error(c, al_vhu_handle_message(c->vhu), AL_EPROTO, "1048576-byte payload");
	assert_usable(c);
	/* A wrong version in the flags. */
	hdr[0] = AL_VHU_GET_FEATURES;
	hdr[1] = 2;
	hdr[2] = 0;
	assert_int_equal(send(c->fe, hdr, 12, 0), 12);
	assert_error(c, al_vhu_handle_message(c->vhu), AL_EPROTO, "GET_FEATURES with flags 0x2");
	assert_usable(c);
}

static void test_unknown_request(void **state)
{
	struct ctx *c = *state;
	uint64_t pf = 1ULL << 3;
	u64_msg(c, AL_VHU_SET_PROTOCOL_FEATURES, 0, pf, 0);
	/* Unknown: ignored, named, connection kept, NACK when asked. */
	assert_error(c, xfer(c, 99, 0, "abcd", 4, NULL, 0), AL_EPERM,
		     "unknown request 99 (4-byte payload) ignored");
	assert_true(no_reply_pending(c));
	assert_int_equal(xfer(c, 99, NEED_REPLY, NULL, 0, NULL, 0), AL_EPERM);
	assert_int_equal(reply_u64(c, 99), 1);
	/* Known but not implemented, with an fd that is closed. */
	int efd = eventfd(0, EFD_CLOEXEC);
	assert_error(c, xfer(c, AL_VHU_SET_LOG_FD, NEED_REPLY, NULL, 0, &efd, 1), AL_EPERM,
		     "SET_LOG_FD (request 7) is not supported");
	close(efd);
	assert_int_equal(reply_u64(c, AL_VHU_SET_LOG_FD), 1);
	/* A GET the server does not implement still gets an answer. */
	assert_int_equal(xfer(c, AL_VHU_GET_INFLIGHT_FD, 0, NULL, 0, NULL, 0), AL_EPERM);
	assert_int_equal(reply_u64(c, AL_VHU_GET_INFLIGHT_FD), 1);
	assert_true(al_vhu_connected(c->vhu));
	assert_int_equal(c->ev[AL_VHU_EV_GONE], 0);
	/* SET_PROTOCOL_FEATURES with a bit never offered is an error. */
	u64_msg(c, AL_VHU_SET_PROTOCOL_FEATURES, 0, 1ULL << 14, AL_EPROTO);
	assert_logged(c, "has bits never offered");
	assert_usable(c);
}

static void test_region_overflow(void **state)
{
	struct ctx *c = *state;
	struct region r = {0x1000, 0x1000, 0x1000, UINT64_MAX - 10};
	assert_error(c, mem_table(c, 0, &r, 1, 1, 1), AL_EPROTO,
		     "mmap offset 0xfffffffffffffff5 + size 0x1000 overflows");
	assert_usable(c);
	r = (struct region){UINT64_MAX - 0x10, 0x1000, 0x1000, 0};
	assert_error(c, mem_table(c, 0, &r, 1, 1, 1), AL_EPROTO, "guest address");
	assert_usable(c);
	/* Within 64 bits but beyond the end of its file (would SIGBUS). */
	r = (struct region){0, MEM_SIZE, 0, 0x1000};
	assert_error(c, mem_table(c, 0, &r, 1, 1, 1), AL_EPROTO, "exceeds its file");
	assert_usable(c);
	struct region two[2] = {{0, 0x2000, 0, 0}, {0x1000, 0x1000, 0x10000, 0}};
	assert_error(c, mem_table(c, 0, two, 2, 2, 2), AL_EPROTO,
		     "memory regions 0 and 1 overlap in guest-physical addresses");
	assert_usable(c);
	struct region nine[9] = {{0}};
	assert_error(c, mem_table(c, 0, nine, 9, 8, 8), AL_EPROTO, "SET_MEM_TABLE with 9 regions");
	assert_usable(c);
}

static void test_bad_vring_index(void **state)
{
	struct ctx *c = *state;
	state_msg(c, AL_VHU_SET_VRING_NUM, 0, 5, 256, AL_EPROTO);
	assert_error(c, AL_EPROTO, AL_EPROTO, "SET_VRING_NUM for vring 5 (this device has 2");
	assert_usable(c);
	int efd = eventfd(0, EFD_CLOEXEC);
	assert_error(c, xfer(c, AL_VHU_SET_VRING_KICK, 0, &(uint64_t){5}, 8, &efd, 1), AL_EPROTO,
		     "SET_VRING_KICK for vring 5");
	close(efd);
	assert_usable(c);
	assert_error(c, vring_addr(c, 0, 5, 0, 0, 0), AL_EPROTO, "SET_VRING_ADDR for vring 5");
	assert_usable(c);
}

static void test_bad_num(void **state)
{
	struct ctx *c = *state;
	state_msg(c, AL_VHU_SET_VRING_NUM, 0, 0, 100, AL_EPROTO);
	assert_error(c, AL_EPROTO, AL_EPROTO, "size 100 is not a power of two");
	assert_usable(c);
	state_msg(c, AL_VHU_SET_VRING_NUM, 0, 0, 65536, AL_EPROTO);
	assert_logged(c, "size 65536 is not a power of two in 1..32768");
	assert_usable(c);
	state_msg(c, AL_VHU_SET_VRING_NUM, 0, 1, 0, AL_EPROTO);
	assert_usable(c);
	state_msg(c, AL_VHU_SET_VRING_NUM, 0, 1, 32768, 0);
}

static void test_addr_outside(void **state)
{
	struct ctx *c = *state;
	struct region r = {UML_BASE, MEM_SIZE, UML_BASE, 0};
	assert_int_equal(mem_table(c, 0, &r, 1, 1, 1), 0);
	state_msg(c, AL_VHU_SET_VRING_NUM, 0, 0, 256, 0);
	assert_error(c, vring_addr(c, 0, 0, 0x1000, UML_BASE + 0x2000, UML_BASE + 0x1000),
		     AL_EPROTO,
		     "SET_VRING_ADDR refused: vring 0: descriptor table at user address 0x1000 "
		     "(0x1000 bytes) is outside every memory region");
	assert_usable(c);
	/* Without a memory table at all. */
	state_msg(c, AL_VHU_SET_VRING_NUM, 0, 0, 256, 0);
	assert_error(c, vring_addr(c, 0, 0, UML_BASE, UML_BASE, UML_BASE), AL_EPROTO,
		     "outside every memory region");
	assert_usable(c);
	/* Misaligned used ring. */
	assert_int_equal(mem_table(c, 0, &r, 1, 1, 1), 0);
	state_msg(c, AL_VHU_SET_VRING_NUM, 0, 0, 256, 0);
	assert_error(c, vring_addr(c, 0, 0, UML_BASE, UML_BASE + 0x2002, UML_BASE + 0x1000),
		     AL_EPROTO, "used ring at user address 0x60002002 is not 4-byte aligned");
	assert_usable(c);
}

static void test_fd_count(void **state)
{
	struct ctx *c = *state;
	struct region r[2] = {{0, 0x1000, 0, 0}, {0x1000, 0x1000, 0x1000, 0x1000}};
	assert_error(c, mem_table(c, 0, r, 2, 2, 1), AL_EPROTO,
		     "SET_MEM_TABLE with 1 fds (expected 2): fd missing");
	assert_usable(c);
	assert_error(c, mem_table(c, 0, r, 1, 1, 2), AL_EPROTO,
		     "SET_MEM_TABLE with 2 fds (expected 1): extra fds");
	assert_usable(c);
	int efd = eventfd(0, EFD_CLOEXEC);
	uint32_t st[2] = {0, 256};
	assert_error(c, xfer(c, AL_VHU_SET_VRING_NUM, 0, st, 8, &efd, 1), AL_EPROTO,
		     "SET_VRING_NUM with 1 fds (expected 0): extra fds");
	assert_usable(c);
	assert_error(c, xfer(c, AL_VHU_SET_VRING_CALL, 0, &(uint64_t){0}, 8, NULL, 0), AL_EPROTO,
		     "SET_VRING_CALL with 0 fds (expected 1): fd missing");
	assert_usable(c);
	/* The "no fd" flag with an fd is one too many. */
	assert_error(c, xfer(c, AL_VHU_SET_VRING_KICK, 0, &(uint64_t){0x100}, 8, &efd, 1),
		     AL_EPROTO, "extra fds");
	assert_usable(c);
	/* More fds than any message may carry. */
	int many[12];
	for (int i = 0; i < 12; i++)
		many[i] = efd;
	assert_error(c, xfer(c, AL_VHU_SET_OWNER, 0, NULL, 0, many, 12), AL_EPROTO,
		     "more than 8 fds");
	assert_usable(c);
	assert_error(c, xfer(c, AL_VHU_SET_BACKEND_REQ_FD, 0, NULL, 0, NULL, 0), AL_EPROTO,
		     "SET_SLAVE_REQ_FD with 0 fds (expected 1): fd missing");
	close(efd);
	assert_usable(c);
}

static void test_mem_table_under_running_vrings(void **state)
{
	struct ctx *c = *state;
	uml_conversation(c);
	void *old = al_vhu_gpa_to_va(c->vhu, UML_BASE + 0x10000, 16);
	assert_non_null(old);

	/* A new table that still holds the rings (same addresses, another
	 * offset of the file): the vrings stay ready, the user is told. */
	struct region r = {UML_BASE, MEM_SIZE / 2, UML_BASE, MEM_SIZE / 2};
	assert_int_equal(mem_table(c, NEED_REPLY, &r, 1, 1, 1), 0);
	expect_ack(c, AL_VHU_SET_MEM_TABLE);
	assert_logged(c, "memory table replaced while vrings are enabled");
	assert_int_equal(c->ev[AL_VHU_EV_MEM_INVALIDATE], 1);
	assert_int_equal(c->ev[AL_VHU_EV_MEM_TABLE], 2);
	assert_int_equal(c->ev[AL_VHU_EV_VRING_STOPPED], 0);
	assert_true(al_vhu_vring(c->vhu, 0)->ready);
	uint32_t mark = 0xabcd1234, got;
	assert_int_equal(pwrite(c->memfd, &mark, 4, MEM_SIZE / 2 + 0x10000), 4);
	memcpy(&got, al_vhu_gpa_to_va(c->vhu, UML_BASE + 0x10000, 16), 4);
	assert_int_equal(got, mark);

	/* A table without the rings: both vrings stop, each named. */
	r = (struct region){0x0, 0x8000, 0x1000000, 0};
	assert_int_equal(mem_table(c, NEED_REPLY, &r, 1, 1, 1), 0);
	expect_ack(c, AL_VHU_SET_MEM_TABLE);
	assert_int_equal(c->ev[AL_VHU_EV_MEM_INVALIDATE], 2);
	assert_int_equal(c->ev[AL_VHU_EV_VRING_STOPPED], 2);
	assert_logged(c, "vring 0: descriptor table at user address 0x60010000 (0x1000 bytes) is "
			 "outside every memory region in the new memory table; vring 0 stopped");
	assert_logged(c, "vring 1 stopped");
	assert_false(al_vhu_vring(c->vhu, 1)->ready);
	assert_int_equal(al_vhu_run(c->vhu, 0), 0);
	/* A kick on a stopped vring is not delivered. */
	assert_int_equal(write(c->kick_fd[0], &(uint64_t){1}, 8), 8);
	assert_int_equal(al_vhu_run(c->vhu, 50), 0);
	assert_int_equal(c->ev[AL_VHU_EV_KICK], 0);
	/* The rings can be set again, and run again. */
	r = (struct region){UML_BASE, MEM_SIZE, UML_BASE, 0};
	assert_int_equal(mem_table(c, 0, &r, 1, 1, 1), 0);
	assert_int_equal(vring_addr(c, 0, 0, UML_BASE, UML_BASE + 0x2000, UML_BASE + 0x1000), 0);
	assert_true(al_vhu_vring(c->vhu, 0)->ready);
	assert_int_equal(al_vhu_run(c->vhu, 100), 1);
	assert_int_equal(c->ev[AL_VHU_EV_KICK], 1);
}

static void test_close_mid_message(void **state)
{
	struct ctx *c = *state;
	uint32_t hdr[3] = {AL_VHU_SET_FEATURES, 1, 8};
	assert_int_equal(send(c->fe, hdr, 6, 0), 6);
	shutdown(c->fe, SHUT_WR);
	assert_error(c, al_vhu_handle_message(c->vhu), AL_EPROTO,
		     "front-end closed the connection mid-message (after 6 of 12 header bytes)");
	assert_usable(c);
	/* The payload cut short. */
	assert_int_equal(send(c->fe, hdr, 12, 0), 12);
	assert_int_equal(send(c->fe, "abc", 3, 0), 3);
	shutdown(c->fe, SHUT_WR);
	assert_error(c, al_vhu_handle_message(c->vhu), AL_EPROTO,
		     "mid-message (after 3 of 8 payload bytes)");
	assert_usable(c);
	/* A front-end that stops sending mid-message (200 ms timeout here). */
	assert_int_equal(send(c->fe, hdr, 12, 0), 12);
	assert_error(c, al_vhu_handle_message(c->vhu), AL_EPROTO,
		     "front-end stalled mid-message: 0 of 8 payload bytes");
	assert_usable(c);
	/* A front-end that never reads its replies is dropped, not waited for. */
	int small = 4096;
	assert_int_equal(setsockopt(c->fe, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	int rc = 0;
	for (int i = 0; i < 100000 && rc == 0; i++)
		rc = xfer(c, AL_VHU_GET_FEATURES, 0, NULL, 0, NULL, 0);
	assert_error(c, rc, AL_EPROTO, "the front-end has not read its replies for 200 ms");
	assert_usable(c);
	/* A clean close between messages is not an error, just GONE. */
	close(c->fe);
	c->fe = -1;
	int gone = c->ev[AL_VHU_EV_GONE];
	assert_int_equal(al_vhu_handle_message(c->vhu), AL_ENOLINK);
	assert_int_equal(c->ev[AL_VHU_EV_GONE], gone + 1);
	assert_usable(c);
}

static void test_listen_accept(void **state)
{
	struct ctx *c = *state;
	char path[64];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	close(c->fe);
	c->fe = -1;
	assert_int_equal(al_vhu_handle_message(c->vhu), AL_ENOLINK);
	snprintf(path, sizeof(path), "/tmp/vhu-test-%d.sock", (int)getpid());
	assert_int_equal(al_vhu_listen(c->vhu, path), 0);
	assert_int_equal(al_vhu_listen(c->vhu, path), AL_EINVAL);
	assert_true(al_vhu_listen_fd(c->vhu) >= 0);
	strcpy(sa.sun_path, path);
	int a = socket(AF_UNIX, SOCK_STREAM, 0), b = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(a, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(al_vhu_run(c->vhu, 1000), 1);
	assert_true(al_vhu_connected(c->vhu));
	assert_int_equal(connect(b, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(al_vhu_accept(c->vhu), 0); /* refused: one at a time */
	assert_logged(c, "a second front-end connected and was refused");
	char x;
	assert_int_equal(recv(b, &x, 1, 0), 0);
	c->fe = a;
	assert_int_equal(xfer(c, AL_VHU_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0), 0);
	assert_int_equal(reply_u64(c, AL_VHU_GET_QUEUE_NUM), 2);
	close(b);
	char longp[200];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	al_vhu_destroy(c->vhu);
	c->vhu = al_vhu_create(NULL, NULL);
	assert_int_equal(al_vhu_listen(c->vhu, longp), AL_EINVAL);
	assert_non_null(strstr(al_vhu_last_error(c->vhu), "is too long"));
	assert_int_not_equal(access(path, F_OK), 0); /* destroy removed the socket */
}

static void drain_replies(struct ctx *c)
{
	char b[512];
	while (recv(c->fe, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

/* Random messages with valid headers: whatever they hold, the server
 * answers or drops the connection with a sentence, never crashes, never
 * leaks an fd or a mapping (teardown counts fds). */
static void test_random_messages(void **state)
{
	struct ctx *c = *state;
	unsigned int seed = 12345;
	int drops = 0, refused = 0, ok = 0;
	uint8_t payload[512];

	for (int round = 0; round < 4000; round++) {
		static const uint32_t known[] = {1,  2,	 3,  5,	 8,  9,	 10, 11, 12,
						 13, 15, 16, 17, 18, 21, 24, 25};
		uint32_t req = (rand_r(&seed) % 5) ? known[(unsigned int)rand_r(&seed) % 17]
						   : (uint32_t)rand_r(&seed) % 44;
		uint32_t flags = (rand_r(&seed) & 1) ? NEED_REPLY : 0;
		static const uint32_t sizes[] = {0, 8, 8, 40, 12, 20, 72, 40 + 32, 264, 7, 300};
		uint32_t size = sizes[(unsigned int)rand_r(&seed) % 11];
		if (rand_r(&seed) % 2) /* the size its type wants */
			size = req == 9							       ? 40
			       : req == 5						       ? 40
			       : (req == 24 || req == 25)				       ? 20
			       : (req == 1 || req == 3 || req == 15 || req == 17 || req == 21) ? 0
											       : 8;
		for (uint32_t i = 0; i < size; i++)
			payload[i] = (uint8_t)rand_r(&seed);
		/* Mostly plausible values: small vring indices, region counts
		 * and sizes within the memfd. */
		if (size >= 8 && (rand_r(&seed) & 3)) {
			if (req == 24 || req == 25)
				payload[4] = (uint8_t)(size - 12);
			payload[0] = (uint8_t)(req == 5 ? 1 : rand_r(&seed) % 3);
			memset(payload + 1, 0, 3);
			if (rand_r(&seed) & 1) {
				uint32_t num = 1u << (rand_r(&seed) % 10);
				memcpy(payload + 4, &num, 4);
			}
		}
		if (req == AL_VHU_SET_MEM_TABLE && size >= 40 && (rand_r(&seed) & 1)) {
			struct region r = {(uint64_t)(rand_r(&seed) % 4) << 20,
					   (uint64_t)(1 + rand_r(&seed) % 4) << 16,
					   (uint64_t)(rand_r(&seed) % 4) << 20, 0};
			memcpy(payload + 8, &r, 32);
		}
		int fds[3];
		unsigned int nfds = (unsigned int)rand_r(&seed) % 3;
		if (rand_r(&seed) % 4) /* the count its type wants */
			nfds = (req == 5 || req == 12 || req == 13 || req == 21) ? 1 : 0;
		for (unsigned int i = 0; i < nfds; i++)
			fds[i] = (rand_r(&seed) & 1) ? c->memfd : eventfd(0, EFD_CLOEXEC);
		int rc = xfer(c, req, flags, payload, size, fds, nfds);
		for (unsigned int i = 0; i < nfds; i++)
			if (fds[i] != c->memfd)
				close(fds[i]);
		if (rc == 0)
			ok++;
		else if (rc == AL_EPERM)
			refused++;
		else
			assert_true(strlen(al_vhu_last_error(c->vhu)) > 10);
		if (!al_vhu_connected(c->vhu)) {
			drops++;
			close(c->fe);
			new_conn(c);
		} else {
			drain_replies(c);
		}
		if (round % 7 == 0)
			al_vhu_run(c->vhu, 0);
	}
	print_message("random messages: %d handled, %d refused as unsupported, %d connections "
		      "dropped\n",
		      ok, refused, drops);
	assert_true(ok > 100 && drops > 100 && refused > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_uml_conversation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multi_region, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_payload_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_region_overflow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_vring_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_num, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_addr_outside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fd_count, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mem_table_under_running_vrings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_mid_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listen_accept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_messages, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
