/* Conformance of the OpenAMP-style API with OpenAMP's documented
 * behaviour, call by call: link down and up (sends before link-up, one
 * announcement per endpoint even when it is created during link-up),
 * address allocation, announce/destroy order, a repeated CREATE, services
 * announced before the local endpoint exists, NS DESTROY for any named
 * endpoint, priv kept, after deinit, bad arguments and OpenAMP's return
 * codes, the getters, release_cb and the reference count, the device's
 * ns_unbind_cb, a full ring and the send timeout with the wait hook. Both
 * sides on one loopback link. */
#include <openamp/open_amp.h> /* OpenAMP's include names */

#include "test_util.h"

static struct tu_link L;

struct nslog {
	int binds, unbinds;
	char name[RPMSG_NAME_SIZE];
	uint32_t dest;
};
static struct nslog drv_log;

static void drv_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	(void)rdev;
	drv_log.binds++;
	snprintf(drv_log.name, sizeof(drv_log.name), "%s", name);
	drv_log.dest = dest;
}

static void drv_unbind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	(void)rdev, (void)name, (void)dest;
	drv_log.unbinds++;
}

static int rx_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)data, (void)len, (void)src, (void)priv;
	return RPMSG_SUCCESS;
}

static struct rpmsg_stats stats(int side)
{
	struct rpmsg_stats s;
	al_get_stats(tu_rdev(&L, side), &s);
	return s;
}

/* ---- announce exactly once ------------------------------------------------- */

/* The device's wake hook runs after the link-up marked the link up and
 * before it announced the endpoints that were waiting: exactly where a
 * thread woken by al_virtio_wait_link_up() creates its endpoint. */
static struct rpmsg_endpoint early, late;
static bool create_on_wake;
static void dev_wake(void *ctx)
{
	tu_wake(ctx);
	if (create_on_wake && tu_side_index(ctx) == TU_DEV) {
		create_on_wake = false;
		assert_int_equal(rpmsg_create_ept(&late, tu_rdev(&L, TU_DEV), "late",
						  RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, rx_cb, NULL),
				 0);
	}
}

static void endpoint_created_during_link_up_is_announced_once(void **state)
{
	(void)state;
	memset(&drv_log, 0, sizeof(drv_log));
	static struct al_port_ops ops;
	ops = *tu_ops();
	ops.wake = dev_wake;
	tu_init(&L, NULL);
	L.lb.dev.vdev.ops = &ops;
	assert_int_equal(al_loopback_start(&L.lb, drv_bind, NULL), 0);
	assert_int_equal(rpmsg_create_ept(&early, tu_rdev(&L, TU_DEV), "early", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, rx_cb, NULL),
			 0);
	create_on_wake = true;
	assert_true(tu_pump(&L) >= 0);
	assert_false(create_on_wake);
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DEV)), AL_LINK_UP);
	assert_true(tu_pump(&L) >= 0);
	/* two endpoints, two announcements, two binds */
	assert_int_equal(stats(TU_DEV).ns_announced, 2);
	assert_int_equal(drv_log.binds, 2);
	rpmsg_destroy_ept(&late);
	rpmsg_destroy_ept(&early);
	tu_check(&L);
}

/* A CREATE for a name and address a local endpoint is bound to already
 * changes nothing and does not call ns_bind_cb again. */
static void repeated_create_is_harmless(void **state)
{
	(void)state;
	memset(&drv_log, 0, sizeof(drv_log));
	tu_up(&L, NULL, drv_bind, NULL);
	static struct rpmsg_endpoint svc, host, raw;
	assert_int_equal(rpmsg_create_ept(&svc, tu_rdev(&L, TU_DEV), "svc", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, rx_cb, NULL),
			 0);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(drv_log.binds, 1);
	assert_int_equal(rpmsg_create_ept(&host, tu_rdev(&L, TU_DRV), "svc", RPMSG_ADDR_ANY,
					  drv_log.dest, rx_cb, NULL),
			 0);
	/* the same announcement again, as a racing peer would send it */
	assert_int_equal(
	    rpmsg_create_ept(&raw, tu_rdev(&L, TU_DEV), NULL, 0x900, RPMSG_ADDR_ANY, rx_cb, NULL),
	    0);
	uint8_t msg[RPMSG_NS_MSG_SIZE] = {0};
	strcpy((char *)msg, "svc");
	tu_wr32(msg + 32, svc.addr);
	tu_wr32(msg + 36, RPMSG_NS_CREATE);
	assert_int_equal(rpmsg_sendto(&raw, msg, sizeof(msg), RPMSG_NS_EPT_ADDR), 40);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(drv_log.binds, 1);
	assert_int_equal(host.dest_addr, svc.addr);
	rpmsg_destroy_ept(&raw);
	rpmsg_destroy_ept(&host);
	rpmsg_destroy_ept(&svc);
	tu_check(&L);
}

/* ---- the directory of announced services ------------------------------------ */

static void announcement_before_endpoint_binds_later(void **state)
{
	(void)state;
	tu_up(&L, NULL, NULL, NULL); /* no ns_bind_cb on either side */
	static struct rpmsg_endpoint svc, host;
	assert_int_equal(rpmsg_create_ept(&svc, tu_rdev(&L, TU_DEV), "rpc", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, rx_cb, NULL),
			 0);
	assert_int_equal(tu_pump(&L), 1); /* the driver has nobody for it yet */
	assert_int_equal(rpmsg_create_ept(&host, tu_rdev(&L, TU_DRV), "rpc", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, rx_cb, NULL),
			 0);
	assert_int_equal(host.dest_addr, svc.addr); /* bound at once */
	assert_true(is_rpmsg_ept_ready(&host));
	assert_int_equal(tu_pump(&L), 1); /* our announcement binds the device's */
	assert_int_equal(svc.dest_addr, host.addr);
	assert_int_equal(rpmsg_send(&host, "x", 1), 1);
	assert_int_equal(tu_pump(&L), 1);
	/* a destroyed service leaves the directory */
	static struct rpmsg_endpoint gone, late;
	assert_int_equal(rpmsg_create_ept(&gone, tu_rdev(&L, TU_DEV), "gone", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, rx_cb, NULL),
			 0);
	assert_int_equal(tu_pump(&L), 1);
	rpmsg_destroy_ept(&gone);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(rpmsg_create_ept(&late, tu_rdev(&L, TU_DRV), "gone", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, rx_cb, NULL),
			 0);
	assert_int_equal(late.dest_addr, RPMSG_ADDR_ANY);
	assert_int_equal(tu_pump(&L), 1);
	rpmsg_destroy_ept(&late);
	rpmsg_destroy_ept(&host);
	rpmsg_destroy_ept(&svc);
	tu_pump(&L);
	tu_check(&L);
}

/* ---- destroy, priv ------------------------------------------------------------ */

static void create_keeps_priv_destroy_announces(void **state)
{
	(void)state;
	memset(&drv_log, 0, sizeof(drv_log));
	tu_up(&L, NULL, drv_bind, NULL);
	tu_rdev(&L, TU_DRV)->ns_unbind_cb = drv_unbind;
	static struct rpmsg_endpoint e;
	int cookie;
	e.priv = &cookie;
	assert_int_equal(
	    rpmsg_create_ept(&e, tu_rdev(&L, TU_DEV), "echo", 0x500, 0x700, rx_cb, NULL), 0);
	assert_ptr_equal(e.priv, &cookie);
	assert_int_equal(tu_pump(&L), 0); /* created bound: nothing announced */
	uint32_t ann = stats(TU_DEV).ns_announced;
	rpmsg_destroy_ept(&e); /* named, at 1024 or above: NS DESTROY */
	assert_int_equal(stats(TU_DEV).ns_announced, ann + 1);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(drv_log.unbinds, 1); /* the device-wide unbind callback */
	tu_check(&L);
}

/* ---- return codes ------------------------------------------------------------------ */

static void openamp_return_codes(void **state)
{
	(void)state;
	assert_int_equal(RPMSG_EOPNOTSUPP, -2009);
	assert_int_equal(RPMSG_ERR_PERM, -2008);
	assert_true(AL_ETIMEDOUT != RPMSG_EOPNOTSUPP);
	assert_string_equal(al_strerror(RPMSG_EOPNOTSUPP), "operation not supported");
	tu_up(&L, NULL, NULL, NULL);
	static struct rpmsg_endpoint e;
	assert_int_equal(
	    rpmsg_create_ept(&e, tu_rdev(&L, TU_DEV), NULL, RPMSG_ADDR_ANY, 0x400, rx_cb, NULL), 0);
	char big[600] = {0};
	assert_int_equal(rpmsg_sendto(&e, "x", 1, RPMSG_ADDR_ANY), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send(&e, NULL, 0), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send(&e, NULL, 4), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send(&e, "x", -1), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send(NULL, "x", 1), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send(&e, big, 497), RPMSG_ERR_BUFF_SIZE);
	assert_int_equal(rpmsg_send(&e, big, 496), 496);
	rpmsg_destroy_ept(&e);
	tu_pump(&L);
	tu_check(&L);
}

/* ---- getters, release_cb, wait hook ------------------------------------------------ */

static void getters(void **state)
{
	(void)state;
	tu_up(&L, NULL, NULL, NULL);
	assert_int_equal(rpmsg_virtio_get_role(tu_rv(&L, TU_DRV)), RPMSG_HOST);
	assert_int_equal(rpmsg_virtio_get_role(tu_rv(&L, TU_DEV)), RPMSG_REMOTE);
	for (int side = 0; side < 2; side++) {
		assert_int_equal(rpmsg_virtio_get_buffer_size(tu_rdev(&L, side)), 496);
		assert_int_equal(rpmsg_virtio_get_tx_buffer_size(tu_rdev(&L, side)), 496);
		assert_int_equal(rpmsg_virtio_get_rx_buffer_size(tu_rdev(&L, side)), 496);
	}
	assert_int_equal(rpmsg_virtio_get_tx_buffer_size(NULL), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_virtio_get_rx_buffer_size(NULL), RPMSG_ERR_PARAM);
	/* <string.h> comes with rpmsg.h, as with OpenAMP's */
	char n[RPMSG_NAME_SIZE];
	strncpy(n, "x", sizeof(n));
	tu_check(&L);
}

static int released;
static struct rpmsg_endpoint *released_ept;
static void release_cb(struct rpmsg_endpoint *ept)
{
	released++;
	released_ept = ept;
}

static int self_destroy_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src,
			   void *priv)
{
	(void)data, (void)len, (void)src, (void)priv;
	rpmsg_destroy_ept(ept);
	assert_int_equal(released, 0); /* still in use: released when we return */
	return RPMSG_SUCCESS;
}

static void release_cb_after_last_reference(void **state)
{
	(void)state;
	tu_up(&L, NULL, NULL, NULL);
	released = 0;
	static struct rpmsg_endpoint a, b, tx;
	assert_int_equal(
	    rpmsg_create_ept(&a, tu_rdev(&L, TU_DEV), NULL, 0x500, RPMSG_ADDR_ANY, rx_cb, NULL), 0);
	a.release_cb = release_cb;
	rpmsg_destroy_ept(&a);
	assert_int_equal(released, 1);
	assert_ptr_equal(released_ept, &a);
	/* destroyed while its callback runs: released when it returns */
	released = 0;
	assert_int_equal(rpmsg_create_ept(&b, tu_rdev(&L, TU_DEV), NULL, 0x501, RPMSG_ADDR_ANY,
					  self_destroy_cb, NULL),
			 0);
	b.release_cb = release_cb;
	assert_int_equal(
	    rpmsg_create_ept(&tx, tu_rdev(&L, TU_DRV), NULL, 0x600, 0x501, rx_cb, NULL), 0);
	assert_int_equal(rpmsg_send(&tx, "bye", 3), 3);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(released, 1);
	assert_ptr_equal(released_ept, &b);
	rpmsg_destroy_ept(&tx);
	tu_check(&L);
}

static int waited;
static int wait_cb(struct rpmsg_device *rdev, uint32_t id)
{
	(void)id;
	assert_ptr_equal(rdev, tu_rdev(&L, TU_DRV));
	waited++;
	return RPMSG_EOPNOTSUPP; /* let the port's wait sleep */
}

static void wait_cb_called_when_no_buffer(void **state)
{
	(void)state;
	tu_up(&L, NULL, NULL, NULL);
	waited = 0;
	rpmsg_virtio_set_wait_cb(tu_rv(&L, TU_DRV), wait_cb);
	al_set_send_timeout(tu_rdev(&L, TU_DRV), 5);
	static struct rpmsg_endpoint tx;
	assert_int_equal(
	    rpmsg_create_ept(&tx, tu_rdev(&L, TU_DRV), NULL, 0x600, 0x501, rx_cb, NULL), 0);
	int rc;
	while ((rc = rpmsg_trysend(&tx, "x", 1)) == 1)
		;
	assert_int_equal(rc, RPMSG_ERR_NO_BUFF);
	assert_int_equal(waited, 0);
	assert_int_equal(rpmsg_send(&tx, "x", 1), RPMSG_ERR_NO_BUFF);
	assert_true(waited >= 1);
	rpmsg_destroy_ept(&tx);
	tu_check(&L);
}

/* ---- link down, addresses, order, deinit ---------------------------------------- */

static void before_link_up(void **state)
{
	(void)state;
	tu_start(&L, NULL, NULL, NULL); /* device still down */
	static struct rpmsg_endpoint e;
	assert_int_equal(
	    rpmsg_create_ept(&e, tu_rdev(&L, TU_DEV), "early", RPMSG_ADDR_ANY, 0x400, rx_cb, NULL),
	    0);
	assert_int_equal(rpmsg_trysend(&e, "x", 1), RPMSG_ERR_DEV_STATE);
	assert_int_equal(rpmsg_send(&e, "x", 1), RPMSG_ERR_DEV_STATE);
	uint32_t len;
	assert_null(rpmsg_get_tx_payload_buffer(&e, &len, 0));
	assert_true(tu_pump(&L) >= 0);
	assert_int_equal(rpmsg_trysend(&e, "x", 1), 1);
	rpmsg_destroy_ept(&e);
	tu_pump(&L);
	tu_check(&L);
}

static void any_allocates_from_1024(void **state)
{
	(void)state;
	tu_up(&L, NULL, NULL, NULL);
	static struct rpmsg_endpoint e[3], x;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rpmsg_create_ept(&e[i], tu_rdev(&L, TU_DEV), NULL, RPMSG_ADDR_ANY,
						  RPMSG_ADDR_ANY, rx_cb, NULL),
				 0);
		assert_true(e[i].addr >= RPMSG_RESERVED_ADDRESSES && e[i].addr != RPMSG_ADDR_ANY);
		for (int j = 0; j < i; j++)
			assert_true(e[i].addr != e[j].addr);
	}
	assert_int_equal(
	    rpmsg_create_ept(&x, tu_rdev(&L, TU_DEV), NULL, e[1].addr, RPMSG_ADDR_ANY, rx_cb, NULL),
	    RPMSG_ERR_ADDR);
	for (int i = 0; i < 3; i++)
		rpmsg_destroy_ept(&e[i]);
	tu_check(&L);
}

/* The peer sees the CREATE before the endpoint's first message, and the
 * DESTROY after its last. */
static uint32_t order[8];
static int norder;
static int order_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)data, (void)len, (void)priv;
	if (norder < 8)
		order[norder++] = src;
	return RPMSG_SUCCESS;
}

static void announce_and_destroy_order(void **state)
{
	(void)state;
	tu_up(&L, NULL, NULL, NULL);
	norder = 0;
	/* the host's name service and its data endpoint both log the source */
	tu_rdev(&L, TU_DRV)->ns_ept.cb = order_cb;
	static struct rpmsg_endpoint host, svc;
	assert_int_equal(rpmsg_create_ept(&host, tu_rdev(&L, TU_DRV), NULL, 0x700, RPMSG_ADDR_ANY,
					  order_cb, NULL),
			 0);
	assert_int_equal(rpmsg_create_ept(&svc, tu_rdev(&L, TU_DEV), "svc", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, rx_cb, NULL),
			 0);
	assert_int_equal(rpmsg_sendto(&svc, "d", 1, 0x700), 1);
	rpmsg_destroy_ept(&svc);
	assert_int_equal(tu_pump(&L), 3);
	assert_int_equal(norder, 3); /* CREATE (to 53), data, DESTROY (to 53) */
	for (int i = 0; i < 3; i++)
		assert_int_equal(order[i], svc.addr);
	tu_check(&L);
}

static void after_deinit(void **state)
{
	(void)state;
	tu_up(&L, NULL, NULL, NULL);
	static struct rpmsg_endpoint e;
	assert_int_equal(rpmsg_create_ept(&e, tu_rdev(&L, TU_DEV), "gone", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, rx_cb, NULL),
			 0);
	tu_pump(&L);
	uint32_t ann = stats(TU_DEV).ns_announced;
	rpmsg_deinit_vdev(tu_rv(&L, TU_DEV));
	assert_int_equal(stats(TU_DEV).ns_announced, ann + 1); /* NS DESTROY */
	assert_false(is_rpmsg_ept_ready(&e));
	assert_int_equal(rpmsg_send(&e, "x", 1), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_get_tx_buffer_size(&e), RPMSG_ERR_PARAM);
	rpmsg_destroy_ept(&e); /* again: ignored */
	tu_check(&L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(before_link_up),
	    cmocka_unit_test(any_allocates_from_1024),
	    cmocka_unit_test(announce_and_destroy_order),
	    cmocka_unit_test(after_deinit),
	    cmocka_unit_test(endpoint_created_during_link_up_is_announced_once),
	    cmocka_unit_test(repeated_create_is_harmless),
	    cmocka_unit_test(announcement_before_endpoint_binds_later),
	    cmocka_unit_test(create_keeps_priv_destroy_announces),
	    cmocka_unit_test(openamp_return_codes),
	    cmocka_unit_test(getters),
	    cmocka_unit_test(release_cb_after_last_reference),
	    cmocka_unit_test(wait_cb_called_when_no_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
