/* Holding a received buffer: marked at once (another thread may release it
 * before the callback returns), and a second hold of a buffer that was
 * already released does not take it back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/port_loopback.h"

static struct al_loopback lb;
static _Alignas(64) uint8_t mem[64 * 1024];
static struct rpmsg_endpoint host_ept, dev_ept;
static int got;

/* hold, release at once (as a fast consumer thread would), hold again */
static int cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)len, (void)src, (void)priv;
	assert_int_equal(al_rpmsg_hold_rx_buffer(ept, data), 0);
	assert_int_equal(al_rpmsg_release_rx_buffer(ept, data), 0);
	assert_int_equal(al_rpmsg_hold_rx_buffer(ept, data), 0); /* a no-op now */
	assert_int_equal(al_rpmsg_release_rx_buffer(ept, data), AL_EPERM);
	got++;
	return RPMSG_SUCCESS;
}

static void hold_release_hold(void **s)
{
	(void)s;
	assert_int_equal(al_loopback_init(&lb, mem, sizeof(mem), NULL), 0);
	assert_int_equal(al_loopback_start(&lb, NULL, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&dev_ept, &lb.dev.rvdev.rdev, NULL, 0x500, 0x600, cb, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&host_ept, &lb.drv.rvdev.rdev, NULL, 0x600, 0x500, cb, NULL), 0);
	al_loopback_pump(&lb, 0);
	/* many times the ring size, both ways: every buffer must come back */
	for (int i = 0; i < 200; i++) {
		assert_int_equal(rpmsg_trysend(&host_ept, "ping", 4), 4);
		assert_int_equal(rpmsg_trysend(&dev_ept, "pong", 4), 4);
		assert_true(al_loopback_pump(&lb, 0) >= 0);
	}
	assert_int_equal(got, 400);
	assert_int_equal(al_virtio_link_state(&lb.drv.rvdev), AL_LINK_UP);
	assert_int_equal(al_virtio_link_state(&lb.dev.rvdev), AL_LINK_UP);
}

/* al_virtio_poll: a polling receiver gets its messages with the peer's
 * doorbells switched off; notified() switches them back on. */
static int polled;
static int count_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)data, (void)len, (void)src, (void)priv;
	polled++;
	return RPMSG_SUCCESS;
}

static void polling_receiver(void **s)
{
	(void)s;
	assert_int_equal(al_loopback_init(&lb, mem, sizeof(mem), NULL), 0);
	assert_int_equal(al_loopback_start(&lb, NULL, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&dev_ept, &lb.dev.rvdev.rdev, NULL, 0x500, 0x600, count_cb, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&host_ept, &lb.drv.rvdev.rdev, NULL, 0x600, 0x500, count_cb, NULL), 0);
	al_loopback_pump(&lb, 0);
	assert_int_equal(al_virtio_poll(&lb.dev.rvdev), 0); /* nothing yet; doorbells now off */
	uint32_t rung = lb.dev.rung;
	for (int i = 0; i < 10; i++)
		assert_int_equal(rpmsg_trysend(&host_ept, "x", 1), 1);
	assert_int_equal(lb.dev.rung, rung); /* the sender did not ring a polling receiver */
	assert_int_equal(al_virtio_poll(&lb.dev.rvdev), 10);
	assert_int_equal(polled, 10);
	assert_int_equal(al_virtio_notified(&lb.dev.rvdev), 0); /* back to doorbells */
	assert_int_equal(rpmsg_trysend(&host_ept, "y", 1), 1);
	assert_int_equal(lb.dev.rung, rung + 1);
	assert_int_equal(al_loopback_pump(&lb, 0), 1);
	assert_int_equal(polled, 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(hold_release_hold),
					   cmocka_unit_test(polling_receiver)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
