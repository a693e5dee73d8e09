/* Tests the receive loop's batches (several messages taken per lock round,
 * their callbacks run with the lock dropped): delivery stays exactly what
 * one message at a time gives. A callback that destroys an endpoint stops
 * the messages for it that were already taken (with and without a
 * release_cb); a callback that creates an endpoint receives the message
 * for it that was already in the ring; a hold in the middle of a batch
 * keeps just that buffer; a callback that runs the receive loop itself
 * gets the rest of its batch first, in order. */
#include "test_util.h"

static struct tu_link L;
static struct rpmsg_endpoint tx, a, b, c;
static int got_a, got_b, got_c, released;
static bool b_release_cb;

static int count_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)data, (void)len, (void)src, (void)priv;
	assert_int_equal(L.lock_depth[TU_DEV], 0);
	if (ept == &b)
		got_b++;
	else if (ept == &c)
		got_c++;
	return RPMSG_SUCCESS;
}

static void release_cb(struct rpmsg_endpoint *ept)
{
	assert_ptr_equal(ept, &b);
	released++;
}

/* a: destroys b on its first message */
static int destroy_b_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src,
			void *priv)
{
	(void)ept, (void)data, (void)len, (void)src, (void)priv;
	if (got_a++ == 0)
		rpmsg_destroy_ept(&b);
	if (b_release_cb && got_a <= 2) /* b's messages in this batch hold references */
		assert_int_equal(released, 0);
	return RPMSG_SUCCESS;
}

/* a: creates c at 0x502 on its first message */
static int create_c_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)data, (void)len, (void)src, (void)priv;
	if (got_a++ == 0)
		assert_int_equal(rpmsg_create_ept(&c, tu_rdev(&L, TU_DEV), NULL, 0x502,
						  RPMSG_ADDR_ANY, count_cb, NULL),
				 0);
	return RPMSG_SUCCESS;
}

static void setup(rpmsg_ept_cb a_cb)
{
	tu_up(&L, NULL, NULL, NULL);
	got_a = got_b = got_c = released = 0;
	assert_int_equal(
	    rpmsg_create_ept(&a, tu_rdev(&L, TU_DEV), NULL, 0x500, RPMSG_ADDR_ANY, a_cb, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&b, tu_rdev(&L, TU_DEV), NULL, 0x501, RPMSG_ADDR_ANY, count_cb, NULL),
	    0);
	assert_int_equal(
	    rpmsg_create_ept(&tx, tu_rdev(&L, TU_DRV), NULL, 0x600, 0x500, count_cb, NULL), 0);
}

/* One batch of four, "1".."4": to a, to `other` twice, to a again. */
static void send_a_other_other_a(uint32_t other)
{
	const uint32_t dst[4] = {0x500, other, other, 0x500};
	for (int i = 0; i < 4; i++) {
		char m = (char)('1' + i);
		assert_int_equal(rpmsg_sendto(&tx, &m, 1, dst[i]), 1);
	}
	assert_int_equal(tu_pump(&L), 4);
}

static struct rpmsg_stats dev_stats(void)
{
	struct rpmsg_stats s;
	al_get_stats(tu_rdev(&L, TU_DEV), &s);
	return s;
}

static void destroyed_endpoint_gets_no_more(bool with_release_cb)
{
	setup(destroy_b_cb);
	b_release_cb = with_release_cb;
	if (with_release_cb)
		b.release_cb = release_cb;
	send_a_other_other_a(0x501); /* a destroys b */
	assert_int_equal(got_a, 2);
	assert_int_equal(got_b, 0);
	assert_int_equal(released, with_release_cb ? 1 : 0);
	struct rpmsg_stats s = dev_stats();
	assert_int_equal(s.rx_msgs, 2);
	assert_int_equal(s.rx_unknown_dst, 2); /* as if they had arrived after the destroy */
	assert_int_equal(a.rx_msgs, 2);
	/* every buffer went back */
	for (int i = 0; i < 16; i++)
		assert_int_equal(rpmsg_trysendto(&tx, "x", 1, 0x500), 1);
	assert_int_equal(tu_pump(&L), 16);
	tu_check(&L);
}

/* a: destroys itself on its second message */
static int destroy_self_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src,
			   void *priv)
{
	(void)data, (void)len, (void)src, (void)priv;
	if (++got_a == 2)
		rpmsg_destroy_ept(ept);
	return RPMSG_SUCCESS;
}

static void self_destroy_in_a_batch_counts_what_was_delivered(void **state)
{
	(void)state;
	setup(destroy_self_cb);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rpmsg_sendto(&tx, "s", 1, 0x500), 1);
	assert_int_equal(tu_pump(&L), 3);
	assert_int_equal(got_a, 2);
	struct rpmsg_stats s = dev_stats();
	assert_int_equal(s.rx_msgs, 2); /* the two it got, though it is gone */
	assert_int_equal(s.rx_unknown_dst, 1);
	tu_check(&L);
}

static void destroy_in_a_batch_without_release_cb(void **state)
{
	(void)state;
	destroyed_endpoint_gets_no_more(false);
}

static void destroy_in_a_batch_with_release_cb(void **state)
{
	(void)state;
	destroyed_endpoint_gets_no_more(true);
}

static void endpoint_created_by_a_callback_gets_the_next_message(void **state)
{
	(void)state;
	setup(create_c_cb);
	send_a_other_other_a(0x502); /* a creates c */
	assert_int_equal(got_a, 2);
	assert_int_equal(got_c, 2);
	struct rpmsg_stats s = dev_stats();
	assert_int_equal(s.rx_msgs, 4);
	assert_int_equal(s.rx_unknown_dst, 0);
	/* and one for nobody in the middle of a batch is dropped alone */
	assert_int_equal(rpmsg_sendto(&tx, "5", 1, 0x500), 1);
	assert_int_equal(rpmsg_sendto(&tx, "6", 1, 0x777), 1);
	assert_int_equal(rpmsg_sendto(&tx, "7", 1, 0x502), 1);
	assert_int_equal(tu_pump(&L), 3);
	assert_int_equal(got_a, 3);
	assert_int_equal(got_c, 3);
	assert_int_equal(dev_stats().rx_unknown_dst, 1);
	tu_check(&L);
}

/* b holds every third message's buffer */
static void *held[16];
static int nheld;
static int hold_some_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src,
			void *priv)
{
	(void)len, (void)src, (void)priv;
	if (got_b++ % 3 == 0) {
		assert_int_equal(al_rpmsg_hold_rx_buffer(ept, data), 0);
		held[nheld++] = data;
	}
	return RPMSG_SUCCESS;
}

static void holds_inside_a_batch_keep_only_their_buffers(void **state)
{
	(void)state;
	setup(count_cb);
	b.cb = hold_some_cb;
	nheld = 0;
	for (int i = 0; i < 12; i++) /* more than one batch */
		assert_int_equal(rpmsg_sendto(&tx, "h", 1, 0x501), 1);
	assert_int_equal(tu_pump(&L), 12);
	assert_int_equal(got_b, 12);
	assert_int_equal(nheld, 4);
	/* 4 held, 12 of 16 buffers usable */
	for (int i = 0; i < 12; i++)
		assert_int_equal(rpmsg_trysendto(&tx, "y", 1, 0x500), 1);
	assert_int_equal(rpmsg_trysendto(&tx, "y", 1, 0x500), AL_ENOBUFS);
	assert_int_equal(tu_pump(&L), 12);
	for (int i = 0; i < nheld; i++)
		assert_int_equal(al_rpmsg_release_rx_buffer(&b, held[i]), 0);
	assert_int_equal(tu_pump(&L), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(rpmsg_trysendto(&tx, "z", 1, 0x500), 1);
	assert_int_equal(tu_pump(&L), 16);
	tu_check(&L);
}

/* a: records the order; on its first message runs the receive loop
 * itself, as a send's wait hook that polls the ring would */
static int order[32], norder, nested_rc;
static int nesting_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)len, (void)src, (void)priv;
	order[norder++] = *(const uint8_t *)data;
	if (norder == 1) {
		nested_rc = al_virtio_notified(tu_rv(&L, TU_DEV));
		/* our own buffer is still ours to hold after the inner pass */
		assert_int_equal(al_rpmsg_hold_rx_buffer(&a, data), 0);
		held[nheld++] = data;
	}
	return RPMSG_SUCCESS;
}

static void a_callback_that_drains_keeps_the_order(void **state)
{
	(void)state;
	setup(nesting_cb);
	norder = nheld = 0;
	for (uint8_t i = 0; i < 12; i++) /* more than a batch */
		assert_int_equal(rpmsg_sendto(&tx, &i, 1, 0x500), 1);
	/* the outer pass counts its batch, the inner one the 4 after it */
	assert_int_equal(tu_pump(&L), 8);
	assert_int_equal(norder, 12);
	for (int i = 0; i < 12; i++)
		assert_int_equal(order[i], i);
	assert_int_equal(nested_rc, 4); /* the inner pass took the 4 after the batch */
	assert_int_equal(al_rpmsg_release_rx_buffer(&a, held[0]), 0);
	for (int i = 0; i < 16; i++) /* every buffer is back */
		assert_int_equal(rpmsg_trysendto(&tx, "z", 1, 0x500), 1);
	assert_int_equal(tu_pump(&L), 16);
	tu_check(&L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(destroy_in_a_batch_without_release_cb),
	    cmocka_unit_test(destroy_in_a_batch_with_release_cb),
	    cmocka_unit_test(self_destroy_in_a_batch_counts_what_was_delivered),
	    cmocka_unit_test(endpoint_created_by_a_callback_gets_the_next_message),
	    cmocka_unit_test(holds_inside_a_batch_keep_only_their_buffers),
	    cmocka_unit_test(a_callback_that_drains_keeps_the_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
