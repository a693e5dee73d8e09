/* Tests the name service: announce/bind, destroy/unbind, link-up announcements, bad messages. */
#include "test_util.h"

static struct tu_link L;

/* What the name-service callbacks saw, per side. */
struct ns_log {
	int binds;
	char name[RPMSG_NAME_SIZE + 8];
	uint32_t dest;
	int unbinds;
	struct rpmsg_endpoint *unbound;
	/* create an endpoint bound to each announced service */
	bool create;
	struct rpmsg_endpoint epts[4];
	struct tu_rec recs[4];
	int n_epts;
};
static struct ns_log logs[2];

static void ns_bind(int side, struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	struct ns_log *l = &logs[side];
	assert_int_equal(L.lock_depth[side], 0);
	assert_ptr_equal(rdev, tu_rdev(&L, side));
	l->binds++;
	assert_true(strlen(name) < RPMSG_NAME_SIZE);
	strcpy(l->name, name);
	l->dest = dest;
	if (l->create && l->n_epts < 4) {
		int i = l->n_epts++;
		assert_int_equal(tu_ept(&l->epts[i], rdev, name, RPMSG_ADDR_ANY, dest, &l->recs[i]),
				 0);
	}
}

static void drv_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	ns_bind(TU_DRV, rdev, name, dest);
}

static void dev_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	ns_bind(TU_DEV, rdev, name, dest);
}

static void unbind_cb(struct rpmsg_endpoint *ept)
{
	int side = ept->rdev == tu_rdev(&L, TU_DRV) ? TU_DRV : TU_DEV;
	assert_int_equal(L.lock_depth[side], 0);
	logs[side].unbinds++;
	logs[side].unbound = ept;
}

static void reset_logs(void)
{
	memset(logs, 0, sizeof(logs));
}

static int named_ept(struct rpmsg_endpoint *ept, int side, const char *name, uint32_t src,
		     uint32_t dest, struct tu_rec *rec)
{
	int rc = rpmsg_create_ept(ept, tu_rdev(&L, side), name, src, dest, tu_rx_cb, unbind_cb);
	if (rc == 0)
		ept->priv = rec;
	return rc;
}

static struct rpmsg_stats stats(int side)
{
	struct rpmsg_stats s;
	al_get_stats(tu_rdev(&L, side), &s);
	return s;
}

/* ---- announce and bind ------------------------------------------------------ */

static void announce_binds_same_named_endpoint(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev;
	static struct tu_rec rd, rv;
	reset_logs();
	memset(&rd, 0, sizeof(rd));
	memset(&rv, 0, sizeof(rv));
	tu_up(&L, NULL, drv_bind, dev_bind);
	/* the driver waits for "svc"; creating it announces it at once */
	assert_int_equal(named_ept(&ed, TU_DRV, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, &rd), 0);
	assert_int_equal(stats(TU_DRV).ns_announced, 1);
	assert_false(is_rpmsg_ept_ready(&ed));
	assert_int_equal(tu_pump(&L), 1);
	/* the device had no "svc": its bind callback heard of it */
	assert_int_equal(logs[TU_DEV].binds, 1);
	assert_string_equal(logs[TU_DEV].name, "svc");
	assert_int_equal(logs[TU_DEV].dest, ed.addr);
	/* now the device creates "svc" unbound: announced, the driver's
	 * waiting endpoint binds to it, no bind callback there */
	assert_int_equal(named_ept(&ev, TU_DEV, "svc", 0x777, RPMSG_ADDR_ANY, &rv), 0);
	assert_int_equal(stats(TU_DEV).ns_announced, 1);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(logs[TU_DRV].binds, 0);
	assert_true(is_rpmsg_ept_ready(&ed));
	assert_int_equal(ed.dest_addr, 0x777);
	/* the device's endpoint binds to the driver's first message */
	assert_int_equal(rpmsg_send(&ed, "ping", 4), 4);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(rv.n, 1);
	assert_true(is_rpmsg_ept_ready(&ev));
	assert_int_equal(ev.dest_addr, ed.addr);
	assert_int_equal(rpmsg_send(&ev, "pong", 4), 4);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(rd.n, 1);
	assert_memory_equal(rd.data, "pong", 4);
	/* a named endpoint created already bound is not announced */
	static struct rpmsg_endpoint e3;
	assert_int_equal(named_ept(&e3, TU_DEV, "bound", RPMSG_ADDR_ANY, ed.addr, NULL), 0);
	assert_int_equal(stats(TU_DEV).ns_announced, 1);
	assert_int_equal(tu_pump(&L), 0);
	assert_int_equal(logs[TU_DRV].binds, 0);
	tu_check(&L);
}

static void announce_calls_bind_cb_which_creates_channel(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ev;
	static struct tu_rec rv;
	reset_logs();
	memset(&rv, 0, sizeof(rv));
	logs[TU_DRV].create = true;
	tu_up(&L, NULL, drv_bind, dev_bind);
	assert_int_equal(named_ept(&ev, TU_DEV, "rpmsg-openamp-demo-channel", RPMSG_ADDR_ANY,
				   RPMSG_ADDR_ANY, &rv),
			 0);
	assert_int_equal(ev.addr, 0x400);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(logs[TU_DRV].binds, 1);
	assert_string_equal(logs[TU_DRV].name, "rpmsg-openamp-demo-channel");
	assert_int_equal(logs[TU_DRV].dest, 0x400);
	struct rpmsg_endpoint *h = &logs[TU_DRV].epts[0];
	assert_true(is_rpmsg_ept_ready(h));
	assert_int_equal(h->dest_addr, 0x400);
	assert_string_equal(h->name, "rpmsg-openamp-demo-channel");
	/* the channel works both ways */
	rv.echo = true;
	assert_int_equal(rpmsg_send(h, "hello there 0!", 14), 14);
	assert_int_equal(tu_pump(&L), 2);
	assert_int_equal(logs[TU_DRV].recs[0].n, 1);
	assert_memory_equal(logs[TU_DRV].recs[0].data, "hello there 0!", 14);
	/* the device did not hear an announcement back (bound endpoint) */
	assert_int_equal(logs[TU_DEV].binds, 0);
	assert_int_equal(stats(TU_DRV).ns_announced, 0);
	tu_check(&L);
}

/* A name of RPMSG_NAME_SIZE characters or more is cut to 31 plus NUL,
 * locally and on the wire. */
static void long_names_are_truncated(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ev;
	const char *longname = "a-service-name-longer-than-thirty-two-bytes";
	reset_logs();
	tu_up(&L, NULL, drv_bind, dev_bind);
	assert_int_equal(named_ept(&ev, TU_DEV, longname, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(strlen(ev.name), RPMSG_NAME_SIZE - 1);
	assert_memory_equal(ev.name, longname, RPMSG_NAME_SIZE - 1);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(logs[TU_DRV].binds, 1);
	assert_int_equal(strlen(logs[TU_DRV].name), RPMSG_NAME_SIZE - 1);
	assert_memory_equal(logs[TU_DRV].name, longname, RPMSG_NAME_SIZE - 1);
	assert_int_equal(stats(TU_DRV).ns_malformed, 0);
	tu_check(&L);
}

/* ---- destroy and unbind ----------------------------------------------------- */

static void destroy_unbinds_peer(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, ev, ed2;
	static struct tu_rec rd, rv;
	reset_logs();
	memset(&rd, 0, sizeof(rd));
	memset(&rv, 0, sizeof(rv));
	tu_up(&L, NULL, drv_bind, dev_bind);
	/* both sides wait for "svc": each announcement binds the other */
	assert_int_equal(named_ept(&ev, TU_DEV, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, &rv), 0);
	assert_int_equal(named_ept(&ed, TU_DRV, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, &rd), 0);
	assert_true(tu_pump(&L) >= 2);
	assert_true(is_rpmsg_ept_ready(&ed));
	assert_true(is_rpmsg_ept_ready(&ev));
	assert_int_equal(ed.dest_addr, ev.addr);
	assert_int_equal(ev.dest_addr, ed.addr);
	assert_int_equal(logs[TU_DRV].binds + logs[TU_DEV].binds, 0);
	/* a DESTROY naming the service but another address unbinds nothing */
	static struct rpmsg_endpoint raw;
	assert_int_equal(rpmsg_create_ept(&raw, tu_rdev(&L, TU_DEV), NULL, 0x900, RPMSG_ADDR_ANY,
					  tu_rx_cb, NULL),
			 0);
	uint8_t msg[40] = {0};
	strcpy((char *)msg, "svc");
	tu_wr32(msg + 32, ev.addr + 1);
	tu_wr32(msg + 36, RPMSG_NS_DESTROY);
	assert_int_equal(rpmsg_sendto(&raw, msg, 40, RPMSG_NS_EPT_ADDR), 40);
	assert_int_equal(tu_pump(&L), 1);
	assert_true(is_rpmsg_ept_ready(&ed));
	assert_int_equal(logs[TU_DRV].unbinds, 0);
	assert_int_equal(stats(TU_DRV).ns_malformed, 0);
	/* the device destroys its endpoint: NS DESTROY */
	uint32_t ann = stats(TU_DEV).ns_announced;
	rpmsg_destroy_ept(&ev);
	assert_int_equal(stats(TU_DEV).ns_announced, ann + 1);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(logs[TU_DRV].unbinds, 1);
	assert_ptr_equal(logs[TU_DRV].unbound, &ed);
	assert_int_equal(ed.dest_addr, RPMSG_ADDR_ANY);
	assert_false(is_rpmsg_ept_ready(&ed));
	assert_int_equal(rpmsg_trysend(&ed, "x", 1), AL_EINVAL);
	/* a new announcement of the same name binds it again */
	assert_int_equal(named_ept(&ev, TU_DEV, "svc", 0x555, RPMSG_ADDR_ANY, &rv), 0);
	assert_true(tu_pump(&L) >= 1);
	assert_int_equal(ed.dest_addr, 0x555);
	/* the driver destroys its endpoint: the device's one is unbound */
	assert_int_equal(rpmsg_send(&ed, "bind", 4), 4);
	assert_true(tu_pump(&L) >= 1);
	assert_int_equal(ev.dest_addr, ed.addr);
	uint32_t ed_addr = ed.addr;
	rpmsg_destroy_ept(&ed);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(logs[TU_DEV].unbinds, 1);
	assert_ptr_equal(logs[TU_DEV].unbound, &ev);
	assert_int_equal(ev.dest_addr, RPMSG_ADDR_ANY);
	/* the destroyed endpoint's address now drops messages */
	uint32_t unk = stats(TU_DRV).rx_unknown_dst;
	assert_int_equal(rpmsg_sendto(&ev, "gone", 4, ed_addr), 4);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(stats(TU_DRV).rx_unknown_dst, unk + 1);
	/* a named endpoint created bound (never announced) is still destroyed
	 * with NS DESTROY, as OpenAMP does for any name at 1024 or above ... */
	assert_int_equal(named_ept(&ed2, TU_DRV, "quiet", RPMSG_ADDR_ANY, ev.addr, NULL), 0);
	ann = stats(TU_DRV).ns_announced;
	rpmsg_destroy_ept(&ed2);
	assert_int_equal(stats(TU_DRV).ns_announced, ann + 1);
	assert_int_equal(tu_pump(&L), 1);
	/* ... but not one at a reserved address below 1024 */
	assert_int_equal(named_ept(&ed2, TU_DRV, "quiet", 0x300, ev.addr, NULL), 0);
	rpmsg_destroy_ept(&ed2);
	assert_int_equal(stats(TU_DRV).ns_announced, ann + 1);
	assert_int_equal(tu_pump(&L), 0);
	tu_check(&L);
}

/* Tearing a link down announces the end of every named service. */
static void deinit_announces_destroy(void **state)
{
	(void)state;
	static struct rpmsg_endpoint a, b, c, ed;
	static struct tu_rec rd;
	reset_logs();
	logs[TU_DRV].create = true;
	memset(&rd, 0, sizeof(rd));
	tu_up(&L, NULL, drv_bind, dev_bind);
	assert_int_equal(named_ept(&ed, TU_DRV, "svc-a", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, &rd), 0);
	assert_int_equal(named_ept(&a, TU_DEV, "svc-a", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(named_ept(&b, TU_DEV, "svc-b", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(
	    tu_ept(&c, tu_rdev(&L, TU_DEV), NULL, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	assert_true(tu_pump(&L) >= 3);
	assert_int_equal(ed.dest_addr, a.addr);
	assert_int_equal(logs[TU_DRV].binds, 1); /* svc-b through the bind callback */
	struct rpmsg_endpoint *hb = &logs[TU_DRV].epts[0];
	assert_int_equal(hb->dest_addr, b.addr);
	hb->ns_unbind_cb = unbind_cb;
	uint32_t ann = stats(TU_DEV).ns_announced;
	rpmsg_deinit_vdev(tu_rv(&L, TU_DEV));
	assert_int_equal(stats(TU_DEV).ns_announced, ann + 2);
	assert_null(a.rdev);
	assert_null(b.rdev);
	assert_null(c.rdev);
	assert_null(tu_rdev(&L, TU_DEV)->endpoints);
	assert_true(tu_pump(&L) >= 2);
	assert_int_equal(logs[TU_DRV].unbinds, 2);
	assert_int_equal(ed.dest_addr, RPMSG_ADDR_ANY);
	assert_int_equal(hb->dest_addr, RPMSG_ADDR_ANY);
	/* the driver's teardown resets the status byte the device watches */
	rpmsg_deinit_vdev(tu_rv(&L, TU_DRV));
	uint8_t *vdev = al_shm_da_to_va(&L.lb.shm, L.lb.layout.vdev_da, 28);
	assert_int_equal(vdev[AL_RSC_VDEV_STATUS], VIRTIO_CONFIG_STATUS_RESET);
	assert_int_not_equal(al_virtio_link_state(tu_rv(&L, TU_DRV)), AL_LINK_UP);
	rpmsg_deinit_vdev(NULL); /* ignored */
	tu_check(&L);
}

/* ---- link-up ---------------------------------------------------------------- */

static void endpoints_created_before_link_up_are_announced(void **state)
{
	(void)state;
	static struct rpmsg_endpoint e1, e2, e3, ed;
	static struct tu_rec rd;
	reset_logs();
	memset(&rd, 0, sizeof(rd));
	tu_init(&L, NULL);
	struct al_loopback *lb = &L.lb;
	assert_int_equal(rpmsg_init_vdev(&lb->dev.rvdev, &lb->dev.vdev, dev_bind, &lb->shm, NULL),
			 0);
	assert_int_equal(named_ept(&e1, TU_DEV, "early-one", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL),
			 0);
	assert_int_equal(named_ept(&e2, TU_DEV, "early-two", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL),
			 0);
	assert_int_equal(named_ept(&e3, TU_DEV, "early-bound", RPMSG_ADDR_ANY, 0x400, NULL), 0);
	assert_int_equal(stats(TU_DEV).ns_announced, 0); /* link down: kept for later */
	/* the driver starts and announces its own endpoint before the device
	 * is up; it waits in the ring */
	assert_int_equal(
	    rpmsg_init_vdev(&lb->drv.rvdev, &lb->drv.vdev, drv_bind, &lb->shm, &lb->pool), 0);
	tu_set_error_cbs(&L);
	assert_int_equal(named_ept(&ed, TU_DRV, "early-one", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, &rd),
			 0);
	assert_int_equal(stats(TU_DRV).ns_announced, 1);
	assert_int_equal(logs[TU_DRV].binds, 0);
	assert_true(tu_pump(&L) >= 3);
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DEV)), AL_LINK_UP);
	assert_int_equal(stats(TU_DEV).ns_announced, 2);
	/* "early-one": both waiting, each bound the other */
	assert_int_equal(ed.dest_addr, e1.addr);
	assert_int_equal(e1.dest_addr, ed.addr);
	/* "early-two": no driver endpoint, the bind callback heard it */
	assert_int_equal(logs[TU_DRV].binds, 1);
	assert_string_equal(logs[TU_DRV].name, "early-two");
	assert_int_equal(logs[TU_DRV].dest, e2.addr);
	assert_int_equal(logs[TU_DEV].binds, 0);
	assert_int_equal(stats(TU_DRV).ns_malformed + stats(TU_DEV).ns_malformed, 0);
	tu_check(&L);
}

/* Without VIRTIO_RPMSG_F_NS nothing is announced and address 53 is an
 * ordinary unknown destination. */
static void no_name_service_without_feature(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ev, ed, x;
	reset_logs();
	struct al_layout_cfg cfg = tu_cfg(16, 512, TU_F_EVIDX);
	tu_up(&L, &cfg, drv_bind, dev_bind);
	assert_false(tu_rdev(&L, TU_DRV)->support_ns);
	assert_false(tu_rdev(&L, TU_DEV)->support_ns);
	assert_int_equal(named_ept(&ev, TU_DEV, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(named_ept(&ed, TU_DRV, "svc", RPMSG_ADDR_ANY, 0x400, NULL), 0);
	assert_int_equal(tu_pump(&L), 0);
	assert_int_equal(stats(TU_DEV).ns_announced, 0);
	assert_int_equal(logs[TU_DRV].binds, 0);
	uint8_t msg[40] = {0};
	strcpy((char *)msg, "svc");
	tu_wr32(msg + 32, 0x400);
	assert_int_equal(rpmsg_sendto(&ed, msg, 40, RPMSG_NS_EPT_ADDR), 40);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(stats(TU_DEV).rx_unknown_dst, 1);
	assert_int_equal(logs[TU_DEV].binds, 0);
	/* 53 is free for an application endpoint here */
	assert_int_equal(
	    tu_ept(&x, tu_rdev(&L, TU_DEV), NULL, RPMSG_NS_EPT_ADDR, RPMSG_ADDR_ANY, NULL), 0);
	tu_check(&L);
}

/* ---- malformed messages ---------------------------------------------------- */

struct bad_ns {
	const char *what;
	uint8_t msg[48];
	int len;
};

static void make_bad(struct bad_ns *b, int *n, uint32_t addr)
{
	struct bad_ns *p;
	int k = 0;
	/* wrong lengths around a well-formed body */
	const int lens[] = {0, 1, 32, 36, 39, 41, 48};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		p = &b[k++];
		memset(p, 0, sizeof(*p));
		p->what = "wrong length";
		strcpy((char *)p->msg, "target");
		tu_wr32(p->msg + 32, addr);
		p->len = lens[i];
	}
	/* name without NUL in its 32 bytes (starting with the target name) */
	p = &b[k++];
	memset(p, 0, sizeof(*p));
	p->what = "no NUL";
	memset(p->msg, 'A', 32);
	memcpy(p->msg, "target", 6);
	tu_wr32(p->msg + 32, addr);
	p->len = 40;
	/* flags other than 0 / 1 */
	const uint32_t flags[] = {2, 3, 0x100, 0x80000000u, 0xFFFFFFFFu};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		p = &b[k++];
		memset(p, 0, sizeof(*p));
		p->what = "bad flags";
		strcpy((char *)p->msg, "target");
		tu_wr32(p->msg + 32, addr);
		tu_wr32(p->msg + 36, flags[i]);
		p->len = 40;
	}
	/* empty name, create and destroy */
	for (uint32_t f = 0; f < 2; f++) {
		p = &b[k++];
		memset(p, 0, sizeof(*p));
		p->what = "empty name";
		memcpy(p->msg + 1, "target", 6);
		tu_wr32(p->msg + 32, addr);
		tu_wr32(p->msg + 36, f);
		p->len = 40;
	}
	/* the address that means "no address" */
	p = &b[k++];
	memset(p, 0, sizeof(*p));
	p->what = "addr ANY";
	strcpy((char *)p->msg, "target");
	tu_wr32(p->msg + 32, RPMSG_ADDR_ANY);
	p->len = 40;
	*n = k;
}

static void malformed_ns_messages_dropped(void **state)
{
	(void)state;
	static struct rpmsg_endpoint waiting[2], raw[2];
	static struct bad_ns bad[32];
	reset_logs();
	tu_up(&L, NULL, drv_bind, dev_bind);
	/* each side: one endpoint waiting for "target" (its own announcement
	 * binds the peer's "other" only), one raw sender */
	for (int side = 0; side < 2; side++) {
		assert_int_equal(
		    named_ept(&waiting[side], side, "target", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL),
		    0);
		assert_int_equal(rpmsg_create_ept(&raw[side], tu_rdev(&L, side), NULL, 0x900,
						  RPMSG_ADDR_ANY, tu_rx_cb, NULL),
				 0);
	}
	assert_true(tu_pump(&L) >= 2);
	/* the two "target"s bound each other; unbind them again so that a
	 * malformed CREATE could rebind them */
	for (int side = 0; side < 2; side++) {
		assert_true(is_rpmsg_ept_ready(&waiting[side]));
		waiting[side].dest_addr = RPMSG_ADDR_ANY;
	}
	int n;
	make_bad(bad, &n, 0x900);
	for (int from = 0; from < 2; from++) {
		int to = from == TU_DRV ? TU_DEV : TU_DRV;
		for (int i = 0; i < n; i++) {
			struct rpmsg_stats s0 = stats(to);
			assert_int_equal(
			    rpmsg_sendto(&raw[from], bad[i].msg, bad[i].len, RPMSG_NS_EPT_ADDR),
			    bad[i].len);
			assert_int_equal(tu_pump(&L), 1);
			struct rpmsg_stats s1 = stats(to);
			if (s1.ns_malformed != s0.ns_malformed + 1)
				fail_msg("%s (len %d) not counted as malformed", bad[i].what,
					 bad[i].len);
			assert_false(is_rpmsg_ept_ready(&waiting[to]));
			assert_int_equal(logs[to].binds, 0);
			assert_int_equal(logs[to].unbinds, 0);
			assert_int_equal(s1.rx_unknown_dst, s0.rx_unknown_dst);
		}
		/* a well-formed CREATE from the same sender does bind */
		uint8_t good[40] = {0};
		strcpy((char *)good, "target");
		tu_wr32(good + 32, 0x900);
		assert_int_equal(rpmsg_sendto(&raw[from], good, 40, RPMSG_NS_EPT_ADDR), 40);
		assert_int_equal(tu_pump(&L), 1);
		assert_int_equal(waiting[to].dest_addr, 0x900);
		assert_int_equal(stats(to).ns_malformed, (uint32_t)n);
	}
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DRV)), AL_LINK_UP);
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DEV)), AL_LINK_UP);
	tu_check(&L);
}

/* ---- announcing can fail ------------------------------------------------------ */

static void failed_announce_does_not_create(void **state)
{
	(void)state;
	static struct rpmsg_endpoint ed, x;
	reset_logs();
	tu_up(&L, NULL, drv_bind, dev_bind);
	assert_int_equal(tu_ept(&ed, tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, NULL), 0);
	while (rpmsg_trysend(&ed, "f", 1) == 1)
		;
	al_set_send_timeout(tu_rdev(&L, TU_DRV), 0);
	assert_int_equal(named_ept(&x, TU_DRV, "svc", 0x500, RPMSG_ADDR_ANY, NULL), AL_ENOBUFS);
	assert_null(al_find_ept_by_name(tu_rdev(&L, TU_DRV), "svc"));
	assert_null(x.rdev);
	/* the address is free again, and once buffers are back it works */
	assert_true(tu_pump(&L) >= 0);
	assert_int_equal(named_ept(&x, TU_DRV, "svc", 0x500, RPMSG_ADDR_ANY, NULL), 0);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(logs[TU_DEV].binds, 1);
	tu_check(&L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(announce_binds_same_named_endpoint),
	    cmocka_unit_test(announce_calls_bind_cb_which_creates_channel),
	    cmocka_unit_test(long_names_are_truncated),
	    cmocka_unit_test(destroy_unbinds_peer),
	    cmocka_unit_test(deinit_announces_destroy),
	    cmocka_unit_test(endpoints_created_before_link_up_are_announced),
	    cmocka_unit_test(no_name_service_without_feature),
	    cmocka_unit_test(malformed_ns_messages_dropped),
	    cmocka_unit_test(failed_announce_does_not_create),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
