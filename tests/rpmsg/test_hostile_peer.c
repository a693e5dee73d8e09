/* Tests a hostile peer: garbage in rings, descriptors, headers, VDEV entry breaks links safely. */
#include <stdlib.h>

#include "test_util.h"

static struct tu_link L;
static struct rpmsg_endpoint E[2];
static struct tu_rec R[2];
static uint8_t snap[TU_SHM_SIZE];

static void fuzz_invariants(void);

/* Link up (default layout: 16 entries, 512-byte buffers) with one endpoint
 * per side bound to the other. */
static void setup(void)
{
	tu_up_pair(&L, E, R);
}

static uint8_t *va(uint64_t da, size_t len)
{
	return al_shm_da_to_va(&L.lb.shm, da, len);
}

/* The buffer a descriptor points at (as the honest side wrote it). */
static uint8_t *desc_buf(int ring, uint32_t id)
{
	uint8_t *d = tu_desc(&L, ring, id);
	uint8_t *b = va(tu_rd64(d), tu_rd32(d + 8));
	assert_non_null(b);
	return b;
}

/* Everything a broken link promises, checked on the side that found the
 * fault: state, reason, one error callback; every later call fails with
 * AL_EBROKEN at once and none of them touches shared memory. */
static void expect_broken(int victim, const char *reason_part)
{
	struct rpmsg_virtio_device *rv = tu_rv(&L, victim);
	assert_int_equal(al_virtio_link_state(rv), AL_LINK_BROKEN);
	const char *why = al_virtio_broken_reason(rv);
	assert_non_null(why);
	if (reason_part && !strstr(why, reason_part))
		fail_msg("broken for \"%s\", expected \"%s\"", why, reason_part);
	assert_int_equal(L.errs[victim].calls, 1);
	assert_int_equal(L.errs[victim].err, AL_EBROKEN);
	assert_ptr_equal(L.errs[victim].why, why);
	tu_check(&L);

	struct rpmsg_endpoint *e = &E[victim];
	struct rpmsg_stats s0, s1;
	al_get_stats(&rv->rdev, &s0);
	memcpy(snap, L.lb.shm.va, L.lb.shm.size);
	uint64_t t0 = L.lb.now_ms;
	al_set_send_timeout(&rv->rdev, 1000);
	assert_int_equal(rpmsg_trysend(e, "x", 1), AL_EBROKEN);
	assert_int_equal(rpmsg_send(e, "x", 1), AL_EBROKEN);
	assert_int_equal(rpmsg_sendto(e, "x", 1, 0x999), AL_EBROKEN);
	assert_int_equal(al_send_timeout(e, e->addr, e->dest_addr, "x", 1, AL_WAIT_FOREVER),
			 AL_EBROKEN);
	uint32_t len;
	int err = 0;
	assert_null(al_get_tx_buffer_timeout(e, &len, 100, &err));
	assert_int_equal(err, AL_EBROKEN);
	assert_null(rpmsg_get_tx_payload_buffer(e, &len, true));
	assert_int_equal(L.lb.now_ms, t0); /* nothing waited */
	assert_int_equal(al_virtio_notified(rv), AL_EBROKEN);
	assert_int_equal(al_virtio_free_tx_buffers(rv), AL_EBROKEN);
	assert_int_equal(al_virtio_wait_link_up(rv, 10), AL_EBROKEN);
	/* a named endpoint is neither announced on creation nor on destroy */
	static struct rpmsg_endpoint late;
	assert_int_equal(tu_ept(&late, &rv->rdev, "late", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, NULL), 0);
	rpmsg_destroy_ept(&late);
	assert_memory_equal(snap, L.lb.shm.va, L.lb.shm.size);
	al_get_stats(&rv->rdev, &s1);
	assert_int_equal(s1.tx_msgs, s0.tx_msgs);
	assert_int_equal(s1.ns_announced, s0.ns_announced);
	assert_int_equal(L.errs[victim].calls, 1);
	tu_check(&L);
}

/* Run `act` (corrupt something, then make the victim look) on a fresh
 * link; it returns what the victim's call returned. */
static void run(int victim, const char *reason, int (*act)(void))
{
	setup();
	int wakes = L.wakes[victim];
	int rc = act();
	if (rc != AL_EBROKEN)
		fail_msg("expected AL_EBROKEN, got %d (%s)", rc, al_strerror(rc));
	expect_broken(victim, reason);
	/* whoever sleeps in the port's wait was woken */
	assert_true(L.wakes[victim] > wakes);
	/* the honest side never called its error callback */
	assert_int_equal(L.errs[tu_other(victim)].calls, 0);
}

static int drv_look(void)
{
	return al_virtio_notified(tu_rv(&L, TU_DRV));
}
static int dev_look(void)
{
	return al_virtio_notified(tu_rv(&L, TU_DEV));
}
static int drv_send(void)
{
	return rpmsg_trysend(&E[TU_DRV], "x", 1);
}
static int dev_send(void)
{
	return rpmsg_trysend(&E[TU_DEV], "x", 1);
}
/* The driver reads its send ring's used entries when its free list runs
 * dry (it reclaims in bursts, not per send): send until it does, and
 * return what the send that looked returned. */
static int drv_send_to_reclaim(void)
{
	int rc = 1;
	for (int i = 0; i <= 64 && rc == 1; i++)
		rc = drv_send();
	return rc;
}

/* ====================================================================== */
/* A hostile device: the driver is the victim.                              */
/* ====================================================================== */

/* ---- used id >= num ---- */
static uint32_t g_val;
static int used_id_rx(void)
{
	tu_inject_used(&L, 0, g_val, 32);
	return drv_look();
}
static int used_id_tx(void)
{
	assert_int_equal(drv_send(), 1);
	tu_inject_used(&L, 1, g_val, 17);
	return drv_send_to_reclaim();
}
static void used_id_out_of_range(void **state)
{
	(void)state;
	const uint32_t ids[] = {16, 17, 0xFFFF, 0x10000, 0x10001, 0xFFFFFFFFu};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		g_val = ids[i];
		run(TU_DRV, "used id out of range", used_id_rx);
		run(TU_DRV, "used id out of range", used_id_tx);
	}
}

/* ---- used id not in flight ---- */
static int used_id_never_sent(void)
{
	/* descriptor 0 in flight, 1 taken as a zero-copy buffer and never
	 * sent (a spare one cannot be named: the driver reads the used ring
	 * only when it has none left) */
	uint32_t len;
	assert_int_equal(drv_send(), 1);
	assert_non_null(rpmsg_get_tx_payload_buffer(&E[TU_DRV], &len, false));
	tu_inject_used(&L, 1, 1, 17);
	return drv_send_to_reclaim();
}
static int used_id_twice(void)
{
	assert_int_equal(drv_send(), 1);
	tu_inject_used(&L, 1, 0, 17);
	tu_inject_used(&L, 1, 0, 17);
	return drv_send_to_reclaim();
}
static int used_id_held_by_driver(void)
{
	R[TU_DRV].hold = 1;
	assert_int_equal(dev_send(), 1);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(R[TU_DRV].hold_rc, 0);
	/* the device "returns" the buffer the driver holds */
	tu_inject_used(&L, 0, 0, 32);
	return drv_look();
}
static int used_id_reserved_by_driver(void)
{
	uint32_t len;
	assert_non_null(rpmsg_get_tx_payload_buffer(&E[TU_DRV], &len, false));
	tu_inject_used(&L, 1, 0, 17); /* descriptor 0: reserved, never sent */
	return drv_send_to_reclaim();
}
static void used_id_not_in_flight(void **state)
{
	(void)state;
	run(TU_DRV, "not a buffer the device owns", used_id_never_sent);
	run(TU_DRV, "not a buffer the device owns", used_id_twice);
	run(TU_DRV, "not a buffer the device owns", used_id_held_by_driver);
	run(TU_DRV, "not a buffer the device owns", used_id_reserved_by_driver);
}

/* ---- used length larger than the buffer ---- */
static int used_len_rx(void)
{
	tu_inject_used(&L, 0, 0, g_val);
	return drv_look();
}
static int used_len_tx(void)
{
	assert_int_equal(drv_send(), 1);
	tu_inject_used(&L, 1, 0, g_val);
	return drv_send_to_reclaim();
}
static void used_len_larger_than_buffer(void **state)
{
	(void)state;
	const uint32_t lens[] = {513, 4096, 0x10000, 0xFFFFFFFFu};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		g_val = lens[i];
		run(TU_DRV, "used length larger", used_len_rx);
		run(TU_DRV, "used length larger", used_len_tx);
	}
}

/* ---- used index jumps ---- */
static int used_idx_rx(void)
{
	uint8_t *u = tu_used(&L, 0);
	tu_wr16(u + AL_VRING_USED_IDX, (uint16_t)(tu_used_idx(&L, 0) + g_val));
	return drv_look();
}
static int used_idx_tx(void)
{
	assert_int_equal(drv_send(), 1);
	uint8_t *u = tu_used(&L, 1);
	tu_wr16(u + AL_VRING_USED_IDX, (uint16_t)(tu_used_idx(&L, 1) + g_val));
	/* a lying index does not inflate the free count */
	int n = al_virtio_free_tx_buffers(tu_rv(&L, TU_DRV));
	assert_true(n >= 0 && n <= 16);
	return drv_send_to_reclaim();
}
static void used_idx_jumps_more_than_num(void **state)
{
	(void)state;
	const uint32_t jumps[] = {17, 100, 0x8000, 0xFFFF /* backwards by one */};
	for (size_t i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++) {
		g_val = jumps[i];
		run(TU_DRV, "used index moved", used_idx_rx);
		run(TU_DRV, "used index moved", used_idx_tx);
	}
}

/* ---- a message that does not fit what the device said it wrote ---- */
static int hdr_len_over_used_len(void)
{
	assert_int_equal(rpmsg_trysend(&E[TU_DEV], "hello", 5), 5); /* used len 21 */
	tu_wr16(desc_buf(0, 0) + 12, (uint16_t)g_val);
	return drv_look();
}
static int used_len_under_header(void)
{
	tu_inject_used(&L, 0, 0, g_val);
	return drv_look();
}
static void driver_rx_message_larger_than_used_length(void **state)
{
	(void)state;
	const uint32_t lens[] = {6, 497, 0xFFFF};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		g_val = lens[i];
		run(TU_DRV, "message length larger", hdr_len_over_used_len);
	}
	const uint32_t shorts[] = {0, 1, 15};
	for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
		g_val = shorts[i];
		run(TU_DRV, "shorter than the rpmsg header", used_len_under_header);
	}
}

/* ====================================================================== */
/* A hostile driver: the device is the victim.                              */
/* ====================================================================== */

/* ---- avail id >= num ---- */
static int avail_id_rx(void)
{
	tu_inject_avail(&L, 1, (uint16_t)g_val);
	return dev_look();
}
static int avail_id_tx(void)
{
	/* the device takes its next send buffer from avail slot 0 */
	tu_wr16(tu_avail_slot(&L, 0, 0), (uint16_t)g_val);
	return dev_send();
}
static void avail_id_out_of_range(void **state)
{
	(void)state;
	const uint32_t ids[] = {16, 17, 0x8000, 0xFFFF};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		g_val = ids[i];
		run(TU_DEV, "avail descriptor id out of range", avail_id_rx);
		run(TU_DEV, "avail descriptor id out of range", avail_id_tx);
	}
}

/* ---- avail index jumps ---- */
static int avail_idx_rx(void)
{
	uint8_t *a = tu_avail(&L, 1);
	tu_wr16(a + AL_VRING_AVAIL_IDX, (uint16_t)(tu_avail_idx(&L, 1) + g_val));
	return dev_look();
}
static int avail_idx_tx(void)
{
	/* 16 buffers are on offer already: any more is a lie */
	uint8_t *a = tu_avail(&L, 0);
	tu_wr16(a + AL_VRING_AVAIL_IDX, (uint16_t)(tu_avail_idx(&L, 0) + g_val));
	int n = al_virtio_free_tx_buffers(tu_rv(&L, TU_DEV));
	assert_true(n >= 0 && n <= 16);
	return dev_send();
}
static void avail_idx_jumps_more_than_num(void **state)
{
	(void)state;
	const uint32_t jumps[] = {17, 1000, 0x8000, 0xFFFF};
	for (size_t i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++) {
		g_val = jumps[i];
		run(TU_DEV, "avail index moved", avail_idx_rx);
	}
	const uint32_t tx_jumps[] = {1, 2, 1000, 0x8000};
	for (size_t i = 0; i < sizeof(tx_jumps) / sizeof(tx_jumps[0]); i++) {
		g_val = tx_jumps[i];
		run(TU_DEV, "avail index moved", avail_idx_tx);
	}
}

/* ---- descriptor fields ---- */
static uint64_t g_addr;
static uint32_t g_len;
static int g_ring;

/* The driver posts a 5-byte message (descriptor 0 of vring1, 21 bytes), or
 * for vring0 the device is about to take descriptor 0; then the
 * descriptor is rewritten. */
static void rewrite_desc0(int ring, const uint64_t *addr, const uint32_t *len,
			  const uint16_t *flags)
{
	if (ring == 1)
		assert_int_equal(rpmsg_trysend(&E[TU_DRV], "hello", 5), 5);
	uint8_t *d = tu_desc(&L, ring, 0);
	if (addr)
		tu_wr64(d, *addr);
	if (len)
		tu_wr32(d + 8, *len);
	if (flags)
		tu_wr16(d + 12, *flags);
}
static int desc_look(int ring)
{
	return ring == 1 ? dev_look() : dev_send();
}
static int desc_addr(void)
{
	rewrite_desc0(g_ring, &g_addr, NULL, NULL);
	return desc_look(g_ring);
}
static int desc_addr_len(void)
{
	rewrite_desc0(g_ring, &g_addr, &g_len, NULL);
	return desc_look(g_ring);
}
static void descriptor_address_outside_region(void **state)
{
	(void)state;
	for (g_ring = 0; g_ring < 2; g_ring++) {
		const uint64_t base = AL_LOOPBACK_DA, end = base + TU_SHM_SIZE;
		const uint64_t bad[] = {0,
					base - 16,
					base - 1,
					end,
					end + 0x1000,
					0x100000000ull,
					0xFFFFFFFFFFFFFFF0ull};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			g_addr = bad[i];
			run(TU_DEV, "descriptor address outside", desc_addr);
		}
		/* straddling the end by one byte, with the ring's own length */
		uint32_t len = g_ring == 1 ? 21u : 512u;
		g_addr = end - len + 1;
		run(TU_DEV, "descriptor address outside", desc_addr);
		/* addr + len wraps around 2^64 */
		g_addr = 0xFFFFFFFFFFFFFF00ull;
		g_len = 0x200;
		run(TU_DEV, "descriptor address outside", desc_addr_len);
		g_addr = 0xFFFFFFFFFFFFFFFFull;
		g_len = 512;
		run(TU_DEV, "descriptor address outside", desc_addr_len);
	}
}

/* Ending exactly at the region's end is fine (no off-by-one). */
static void descriptor_at_region_end_is_accepted(void **state)
{
	(void)state;
	setup();
	const uint64_t end = AL_LOOPBACK_DA + TU_SHM_SIZE;
	/* the last 21 bytes of the region hold a valid message for the device */
	uint8_t *tail = (uint8_t *)L.lb.shm.va + TU_SHM_SIZE - 21;
	tu_wr32(tail, 0x400);
	tu_wr32(tail + 4, 0x401);
	tu_wr32(tail + 8, 0);
	tu_wr16(tail + 12, 5);
	tu_wr16(tail + 14, 0);
	memcpy(tail + 16, "tail!", 5);
	uint64_t a = end - 21;
	rewrite_desc0(1, &a, NULL, NULL);
	assert_int_equal(dev_look(), 1);
	assert_int_equal(R[TU_DEV].n, 1);
	assert_memory_equal(R[TU_DEV].data, "tail!", 5);
	assert_ptr_equal(R[TU_DEV].ptr, tail + 16);
	assert_int_equal(al_virtio_link_state(tu_rv(&L, TU_DEV)), AL_LINK_UP);
	tu_check(&L);
}

static int desc_len(void)
{
	rewrite_desc0(g_ring, NULL, &g_len, NULL);
	return desc_look(g_ring);
}
static void descriptor_length_out_of_range(void **state)
{
	(void)state;
	const uint32_t bad[] = {0, 1, 15, 65537, 0x100000, 0xFFFFFFFFu};
	for (g_ring = 0; g_ring < 2; g_ring++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			g_len = bad[i];
			run(TU_DEV, "descriptor length outside", desc_len);
		}
	/* a send buffer smaller than the link's buffer size */
	g_ring = 0;
	const uint32_t small[] = {16, 100, 511};
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		g_len = small[i];
		run(TU_DEV, "smaller than the link's buffer size", desc_len);
	}
}

static uint16_t g_flags;
static int desc_flags(void)
{
	rewrite_desc0(g_ring, NULL, NULL, &g_flags);
	return desc_look(g_ring);
}
static void descriptor_chained_or_indirect(void **state)
{
	(void)state;
	const uint16_t bad[] = {VRING_DESC_F_NEXT, VRING_DESC_F_INDIRECT,
				VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT,
				VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0xFFFF};
	for (g_ring = 0; g_ring < 2; g_ring++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			g_flags = bad[i];
			run(TU_DEV, "chained or indirect", desc_flags);
		}
}

/* ---- a message larger than its descriptor or the receive buffer ---- */
static int hdr_len_over_desc_len(void)
{
	assert_int_equal(rpmsg_trysend(&E[TU_DRV], "hello", 5), 5); /* descriptor len 21 */
	tu_wr16(desc_buf(1, 0) + 12, (uint16_t)g_val);
	return dev_look();
}
/* The descriptor claims 2 KiB (inside the region) and the header 1000
 * bytes: more than any receive buffer of this link (496). */
static int hdr_len_over_rx_buffer(void)
{
	assert_int_equal(rpmsg_trysend(&E[TU_DRV], "hello", 5), 5);
	uint32_t len = 2048;
	rewrite_desc0(1, NULL, &len, NULL);
	tu_wr16(desc_buf(1, 0) + 12, (uint16_t)g_val);
	return dev_look();
}
static void device_rx_message_larger_than_buffer(void **state)
{
	(void)state;
	const uint32_t lens[] = {6, 496, 0xFFFF};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		g_val = lens[i];
		run(TU_DEV, "message length larger", hdr_len_over_desc_len);
	}
	const uint32_t big[] = {497, 1000, 2032};
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		g_val = big[i];
		run(TU_DEV, "message length larger", hdr_len_over_rx_buffer);
	}
	/* the device never handed the application more than a buffer holds
	 * (tu_rx_cb checks len <= rpmsg_get_rx_buffer_size) */
	assert_int_equal(R[TU_DEV].n, 0);
}

/* ---- a descriptor offered again while the device still has it ---- */
static int reoffer_held(void)
{
	R[TU_DEV].hold = 1;
	assert_int_equal(rpmsg_trysend(&E[TU_DRV], "hold", 4), 4);
	assert_int_equal(tu_pump(&L), 1);
	assert_int_equal(R[TU_DEV].hold_rc, 0);
	tu_inject_avail(&L, 1, 0); /* descriptor 0 again */
	return dev_look();
}
static int reoffer_reserved(void)
{
	uint32_t len;
	assert_non_null(rpmsg_get_tx_payload_buffer(&E[TU_DEV], &len, false)); /* takes desc 0 */
	tu_wr16(tu_avail_slot(&L, 0, 1), 0); /* next offer: desc 0 again */
	return dev_send();
}
static void descriptor_offered_twice(void **state)
{
	(void)state;
	run(TU_DEV, "offered again", reoffer_held);
	run(TU_DEV, "offered again", reoffer_reserved);
}

/* The driver points the device's next send buffer into the very message
 * the device is reading, and the device echoes that message: the copy
 * overlaps (memmove, not memcpy: AddressSanitizer checks), nothing
 * outside the region is touched, the link stays defined. */
static void send_buffer_overlapping_received_message(void **state)
{
	(void)state;
	for (int shift = -32; shift <= 32; shift += 8) {
		setup();
		R[TU_DEV].echo = true;
		static uint8_t msg[200];
		tu_pattern(msg, sizeof(msg), 9);
		assert_int_equal(rpmsg_trysend(&E[TU_DRV], msg, (int)sizeof(msg)),
				 (int)sizeof(msg));
		/* vring1 descriptor 0 holds the message; vring0 descriptor 0
		 * (the device's next send buffer) now overlaps it */
		uint64_t at = tu_rd64(tu_desc(&L, 1, 0)) + (uint64_t)(int64_t)shift;
		rewrite_desc0(0, &at, NULL, NULL);
		int rc = tu_pump(&L);
		assert_true(rc >= 0 || rc == AL_EBROKEN);
		assert_int_equal(R[TU_DEV].n, 1);
		assert_int_equal(R[TU_DEV].echo_rc, (int)sizeof(msg));
		/* the echo landed at the overlapping address, as the driver asked */
		assert_memory_equal(va(at + 16, sizeof(msg)), msg, sizeof(msg));
		fuzz_invariants();
	}
}

/* A held receive buffer outlives the link breaking: releasing it then is
 * harmless and touches nothing. */
static void release_after_break_touches_nothing(void **state)
{
	(void)state;
	run(TU_DEV, "offered again", reoffer_held);
	memcpy(snap, L.lb.shm.va, L.lb.shm.size);
	assert_int_equal(al_rpmsg_release_rx_buffer(&E[TU_DEV], R[TU_DEV].ptr), 0);
	assert_int_equal(al_rpmsg_release_rx_buffer(&E[TU_DEV], R[TU_DEV].ptr), AL_EPERM);
	assert_memory_equal(snap, L.lb.shm.va, L.lb.shm.size);
	tu_check(&L);
}

/* ====================================================================== */
/* A malformed VDEV entry                                                   */
/* ====================================================================== */

static uint8_t *vdev_entry(void)
{
	uint8_t *v = va(L.lb.layout.vdev_da, AL_RSC_VDEV_VRING0 + 2 * AL_RSC_VRING_SIZE);
	assert_non_null(v);
	return v;
}
static uint8_t *vring_entry(int i)
{
	return vdev_entry() + AL_RSC_VDEV_VRING0 + AL_RSC_VRING_SIZE * (unsigned)i;
}

/* The device started; the firmware's table is then bad when the driver
 * reads it. */
static void expect_driver_init_fails(void (*corrupt)(void), const char *what)
{
	tu_init(&L, NULL);
	struct al_loopback *lb = &L.lb;
	assert_int_equal(rpmsg_init_vdev(&lb->dev.rvdev, &lb->dev.vdev, NULL, &lb->shm, NULL), 0);
	corrupt();
	int rc = rpmsg_init_vdev(&lb->drv.rvdev, &lb->drv.vdev, NULL, &lb->shm, &lb->pool);
	if (rc != AL_EINIT)
		fail_msg("%s: driver init returned %d (%s), expected AL_EINIT", what, rc,
			 al_strerror(rc));
	assert_non_null(al_virtio_broken_reason(&lb->drv.rvdev));
	assert_int_not_equal(al_virtio_link_state(&lb->drv.rvdev), AL_LINK_UP);
	/* the device, polling, never comes up on that table either */
	assert_int_not_equal(al_virtio_link_state(&lb->dev.rvdev), AL_LINK_UP);
	tu_check(&L);
}

static uint32_t g_field;
static void c_id(void)
{
	tu_wr32(vdev_entry() + AL_RSC_VDEV_ID, g_val);
}
static void c_nvrings(void)
{
	vdev_entry()[AL_RSC_VDEV_NUM_VRINGS] = (uint8_t)g_val;
}
static void c_vring_field(void)
{
	tu_wr32(vring_entry(g_ring) + g_field, g_val);
}
static void c_overlap_rings(void)
{
	tu_wr32(vring_entry(1), tu_rd32(vring_entry(0)) + g_val);
}
static void c_ring_over_vdev(void)
{
	tu_wr32(vring_entry(g_ring), (uint32_t)L.lb.layout.rsc_da);
}

static void malformed_vdev_entry(void **state)
{
	(void)state;
	tu_init(&L, NULL);
	const uint32_t vring_da[2] = {(uint32_t)L.lb.layout.vring_da[0],
				      (uint32_t)L.lb.layout.vring_da[1]};
	const uint32_t ids[] = {0, 5, 8, 0x107};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		g_val = ids[i];
		expect_driver_init_fails(c_id, "id");
	}
	for (g_val = 0; g_val < 2; g_val++)
		expect_driver_init_fails(c_nvrings, "num_of_vrings");
	for (g_ring = 0; g_ring < 2; g_ring++) {
		g_field = AL_RSC_VRING_NUM;
		const uint32_t nums[] = {0,	  3,	   6,		24,	    1000,
					 0x10000, 0x10001, 0x80000000u, 0xFFFFFFFFu};
		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
			g_val = nums[i];
			expect_driver_init_fails(c_vring_field, "num");
		}
		g_field = AL_RSC_VRING_ALIGN;
		const uint32_t aligns[] = {0, 3, 8, 24, 0x20000};
		for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
			g_val = aligns[i];
			expect_driver_init_fails(c_vring_field, "align");
		}
		g_field = AL_RSC_VRING_DA;
		const uint32_t das[] = {0,
					AL_LOOPBACK_DA - 0x1000,
					AL_LOOPBACK_DA + TU_SHM_SIZE,
					AL_LOOPBACK_DA + TU_SHM_SIZE - 64,
					0xFFFFFFF0u,
					vring_da[g_ring] + 4};
		for (size_t i = 0; i < sizeof(das) / sizeof(das[0]); i++) {
			g_val = das[i];
			expect_driver_init_fails(c_vring_field, "da");
		}
		expect_driver_init_fails(c_ring_over_vdev, "ring over the VDEV entry");
	}
	const uint32_t shifts[] = {0, 16, 256, 432}; /* a ring is 438 bytes */
	for (size_t i = 0; i < sizeof(shifts) / sizeof(shifts[0]); i++) {
		g_val = shifts[i];
		expect_driver_init_fails(c_overlap_rings, "overlapping rings");
	}
}

/* The VDEV entry itself outside the region or misaligned; a device whose
 * own table is not an rpmsg one. */
static void vdev_entry_misplaced(void **state)
{
	(void)state;
	const uint64_t bad[] = {0, AL_LOOPBACK_DA + TU_SHM_SIZE, AL_LOOPBACK_DA + TU_SHM_SIZE - 40,
				AL_LOOPBACK_DA + 2, 0xFFFFFFFFFFFFFFF0ull};
	for (int role = 0; role < 2; role++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			tu_init(&L, NULL);
			struct al_loopback_side *s = role ? &L.lb.dev : &L.lb.drv;
			s->vdev.vdev_da = bad[i];
			assert_int_equal(rpmsg_init_vdev(&s->rvdev, &s->vdev, NULL, &L.lb.shm,
							 role ? NULL : &L.lb.pool),
					 AL_EINIT);
			assert_non_null(al_virtio_broken_reason(&s->rvdev));
			tu_check(&L);
		}
	tu_init(&L, NULL);
	tu_wr32(vdev_entry() + AL_RSC_VDEV_ID, 3);
	assert_int_equal(rpmsg_init_vdev(&L.lb.dev.rvdev, &L.lb.dev.vdev, NULL, &L.lb.shm, NULL),
			 AL_EINIT);
	assert_non_null(al_virtio_broken_reason(&L.lb.dev.rvdev));
	tu_check(&L);
}

/* The driver accepted the table; it is rewritten before the device looks
 * at it (the device validates what it reads at link-up, too). */
static void device_validates_rings_at_link_up(void **state)
{
	(void)state;
	struct {
		uint32_t field, val;
	} bad[] = {{AL_RSC_VRING_NUM, 3},
		   {AL_RSC_VRING_NUM, 0x10000},
		   {AL_RSC_VRING_ALIGN, 8},
		   {AL_RSC_VRING_DA, AL_LOOPBACK_DA + TU_SHM_SIZE - 64}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (int ring = 0; ring < 2; ring++) {
			tu_start(&L, NULL, NULL, NULL);
			tu_wr32(vring_entry(ring) + bad[i].field, bad[i].val);
			struct rpmsg_virtio_device *rv = tu_rv(&L, TU_DEV);
			/* found by the doorbell handler, or by a thread waiting for
			 * the link */
			if ((i + (size_t)ring) % 2)
				assert_int_equal(tu_pump(&L), AL_EBROKEN);
			else
				assert_int_equal(al_virtio_wait_link_up(rv, 100), AL_EBROKEN);
			assert_int_equal(al_virtio_link_state(rv), AL_LINK_BROKEN);
			assert_non_null(al_virtio_broken_reason(rv));
			assert_int_equal(L.errs[TU_DEV].calls, 1);
			assert_int_equal(al_virtio_wait_link_up(rv, 10), AL_EBROKEN);
			assert_int_equal(L.errs[TU_DEV].calls, 1);
			tu_check(&L);
			/* a device (re)started on that table fails at once */
			assert_int_equal(rpmsg_init_vdev(rv, &L.lb.dev.vdev, NULL, &L.lb.shm, NULL),
					 AL_EINIT);
			assert_non_null(al_virtio_broken_reason(rv));
			tu_check(&L);
		}
}

/* ====================================================================== */
/* Random corruption while traffic flows                                    */
/* ====================================================================== */

struct fuzz_stats {
	int rounds, broken, working, stalled;
};

static int allowed_send_rc(int rc, int len)
{
	return rc == len || rc == AL_ENOBUFS || rc == AL_EBROKEN;
}

/* Invariants after every step: each side is up or broken; a broken side
 * has a reason and was reported exactly once; canaries and locks fine. */
static void fuzz_invariants(void)
{
	for (int s = 0; s < 2; s++) {
		struct rpmsg_virtio_device *rv = tu_rv(&L, s);
		int st = al_virtio_link_state(rv);
		assert_true(st == AL_LINK_UP || st == AL_LINK_BROKEN);
		if (st == AL_LINK_BROKEN) {
			assert_non_null(al_virtio_broken_reason(rv));
			assert_int_equal(L.errs[s].calls, 1);
		} else {
			assert_null(al_virtio_broken_reason(rv));
			assert_int_equal(L.errs[s].calls, 0);
		}
	}
	tu_check(&L);
}

static bool any_broken(void)
{
	return al_virtio_link_state(tu_rv(&L, TU_DRV)) == AL_LINK_BROKEN ||
	       al_virtio_link_state(tu_rv(&L, TU_DEV)) == AL_LINK_BROKEN;
}

/* Both sides look at their rings whether or not a doorbell rang (a
 * corrupted event index may have swallowed one). */
static void poll_both(void)
{
	for (int i = 0; i < 3; i++) {
		for (int s = 0; s < 2; s++) {
			int rc = al_virtio_notified(tu_rv(&L, s));
			assert_true(rc >= 0 || rc == AL_EBROKEN);
		}
		int rc = tu_pump(&L);
		assert_true(rc >= 0 || rc == AL_EBROKEN);
		fuzz_invariants();
	}
}

static void corrupt_random(uint64_t *rng)
{
	int ring = (int)(tu_rand(rng) & 1u);
	uint32_t num = tu_num(&L);
	uint8_t *base = tu_ring(&L, ring);
	size_t off;
	switch (tu_rand(rng) % 6) {
	case 0: /* an index */
		off = (tu_rand(rng) & 1u) ? AL_VRING_DESC_SIZE * num + AL_VRING_AVAIL_IDX
					  : vring_used_offset(num, 16) + AL_VRING_USED_IDX;
		break;
	case 1: /* an avail ring slot */
		off = AL_VRING_DESC_SIZE * num + AL_VRING_AVAIL_RING + 2u * (tu_rand(rng) % num);
		break;
	case 2: /* a used element */
		off = vring_used_offset(num, 16) + AL_VRING_USED_RING +
		      AL_VRING_USED_ELEM_SIZE * (tu_rand(rng) % num) + tu_rand(rng) % 8u;
		break;
	case 3: /* a descriptor */
		off = AL_VRING_DESC_SIZE * (tu_rand(rng) % num) + tu_rand(rng) % 16u;
		break;
	default: /* any byte of the ring */ off = tu_rand(rng) % vring_size(num, 16); break;
	}
	int n = 1 + (int)(tu_rand(rng) % 2u);
	for (int i = 0; i < n && off + (size_t)i < vring_size(num, 16); i++) {
		uint64_t r = tu_rand(rng);
		uint8_t was = base[off + (size_t)i];
		/* a flipped bit, a small change, or any value */
		base[off + (size_t)i] =
		    r % 3 == 0	 ? (uint8_t)(base[off + (size_t)i] ^ (1u << (r >> 8) % 8))
		    : r % 3 == 1 ? (uint8_t)(base[off + (size_t)i] + (r >> 8) % 5 - 2)
				 : (uint8_t)(r >> 16);
		if (getenv("AMPLINK_FUZZ_TRACE"))
			print_message("  corrupt vring%d +%zu: %02x -> %02x\n", ring,
				      off + (size_t)i, was, base[off + (size_t)i]);
	}
}

/* Corrupt the header of a random buffer of the pool. */
static void corrupt_header(uint64_t *rng)
{
	size_t nbuf = L.lb.layout.pool_size / L.lb.cfg.buf_size;
	uint8_t *pool = va(L.lb.layout.pool_da, L.lb.layout.pool_size);
	uint8_t *b = pool + (tu_rand(rng) % nbuf) * L.lb.cfg.buf_size;
	b[tu_rand(rng) % 16u] = (uint8_t)tu_rand(rng);
}

/* Receive callback of the fuzzed endpoints: tu_rx_cb's checks, then now
 * and then hold the buffer, or corrupt the rings while the receiver is in
 * the middle of draining them (a peer writing concurrently). */
static uint64_t fuzz_rng;
static int fuzz_corrupt_left;
static bool fuzz_quiet; /* no holds or corruption from callbacks */
static void *fuzz_held[2][4];
static int fuzz_n_held[2];

static int fuzz_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	tu_rx_cb(ept, data, len, src, priv);
	if (fuzz_quiet)
		return RPMSG_SUCCESS;
	int side = ept == &E[TU_DRV] ? TU_DRV : TU_DEV;
	uint64_t r = tu_rand(&fuzz_rng);
	if (r % 8u == 0 && fuzz_n_held[side] < 4) {
		assert_int_equal(al_rpmsg_hold_rx_buffer(ept, data), 0);
		fuzz_held[side][fuzz_n_held[side]++] = data;
	}
	if (fuzz_corrupt_left > 0 && (r >> 8) % 16u == 0) {
		fuzz_corrupt_left--;
		corrupt_random(&fuzz_rng);
	}
	return RPMSG_SUCCESS;
}

/* Give back a held buffer: fine while up, forgotten once broken. A hostile
 * driver can alias two descriptors to one buffer, which the device then
 * holds twice at the same address: each hold takes one release. */
static void fuzz_release_one(int side)
{
	if (fuzz_n_held[side] == 0)
		return;
	void *p = fuzz_held[side][--fuzz_n_held[side]];
	int copies = 1;
	for (int i = 0; i < fuzz_n_held[side];)
		if (fuzz_held[side][i] == p) {
			fuzz_held[side][i] = fuzz_held[side][--fuzz_n_held[side]];
			copies++;
		} else {
			i++;
		}
	for (int i = 0; i < copies; i++)
		assert_int_equal(al_rpmsg_release_rx_buffer(&E[side], p), 0);
	assert_int_equal(al_rpmsg_release_rx_buffer(&E[side], p), AL_EPERM);
}

/* After the corruption stopped: either some side reports the link broken,
 * or fresh messages get through both ways (a corrupted descriptor is
 * rewritten the next time it is posted, so a few tries may be needed), or
 * a direction is stalled with its sender told AL_ENOBUFS: a peer may
 * always withhold buffers, and a corrupted index can make it look so. */
static int fuzz_outcome(uint64_t seed)
{
	R[TU_DEV].echo = false;
	fuzz_quiet = true;
	for (int side = 0; side < 2; side++)
		while (fuzz_n_held[side])
			fuzz_release_one(side);
	poll_both();
	for (int dir = 0; dir < 2 && !any_broken(); dir++) {
		struct rpmsg_endpoint *tx = &E[dir];
		struct tu_rec *rx = &R[tu_other(dir)];
		uint8_t token[24];
		tu_pattern(token, sizeof(token), (uint32_t)seed ^ (uint32_t)(dir * 0x9e3779b9u));
		rx->want = token;
		rx->want_len = sizeof(token);
		rx->matched = 0;
		bool sent_ok = false;
		for (uint32_t i = 0; i < 2 * tu_num(&L) + 2 && !rx->matched && !any_broken(); i++) {
			int rc = rpmsg_trysend(tx, token, (int)sizeof(token));
			assert_true(allowed_send_rc(rc, (int)sizeof(token)));
			if (rc > 0)
				sent_ok = true;
			poll_both();
		}
		rx->want = NULL;
		if (any_broken())
			break;
		if (!rx->matched) {
			/* stalled: then the sender must be out of buffers */
			if (rpmsg_trysend(tx, token, (int)sizeof(token)) != AL_ENOBUFS)
				fail_msg(
				    "seed %llu: %s -> %s neither delivers nor breaks (sent %d)",
				    (unsigned long long)seed, dir ? "device" : "driver",
				    dir ? "driver" : "device", sent_ok);
			if (getenv("AMPLINK_FUZZ_VERBOSE"))
				print_message("seed %llu: %s direction stalled (num %u)\n",
					      (unsigned long long)seed, dir ? "r2h" : "h2r",
					      tu_num(&L));
			return 2;
		}
	}
	return any_broken() ? 1 : 0;
}

static void fuzz_round(uint64_t seed, uint8_t *heap, size_t heap_size, struct fuzz_stats *fs)
{
	uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 1;
	uint32_t num = 1u << (tu_rand(&rng) % 5u);
	uint32_t feat = (uint32_t)(tu_rand(&rng) & 1u) * TU_F_EVIDX | TU_F_NS;
	uint32_t bufsz = (tu_rand(&rng) & 1u) ? 512 : 128;
	struct al_layout_cfg cfg = tu_cfg(num, bufsz, feat);
	if (heap) {
		struct al_layout plan;
		assert_int_equal(al_layout_plan(&cfg, AL_LOOPBACK_DA, heap_size, &plan), 0);
		tu_init_region(&L, heap, plan.total, &cfg);
	} else {
		tu_init(&L, &cfg);
	}
	assert_int_equal(tu_start_sized(&L, NULL, NULL), 0);
	assert_true(tu_pump(&L) >= 0);
	memset(R, 0, sizeof(R));
	assert_int_equal(tu_ept(&E[TU_DRV], tu_rdev(&L, TU_DRV), NULL, 0x400, 0x401, &R[TU_DRV]),
			 0);
	assert_int_equal(tu_ept(&E[TU_DEV], tu_rdev(&L, TU_DEV), NULL, 0x401, 0x400, &R[TU_DEV]),
			 0);
	R[TU_DEV].echo = tu_rand(&rng) & 1u;
	E[TU_DRV].cb = fuzz_cb;
	E[TU_DEV].cb = fuzz_cb;
	fuzz_rng = tu_rand(&rng) | 1u;
	fuzz_quiet = false;
	fuzz_n_held[0] = fuzz_n_held[1] = 0;
	int max = (int)bufsz - 16;
	int corruptions = 1 + (int)(tu_rand(&rng) % 3u);
	fuzz_corrupt_left = (int)(tu_rand(&rng) % 2u);
	uint8_t msg[512];
	for (int step = 0; step < 40; step++) {
		uint64_t a = tu_rand(&rng) % 16u;
		int side = (int)(tu_rand(&rng) & 1u), rc;
		int len = (int)(tu_rand(&rng) % (uint64_t)(max + 1));
		if (a < 6) {
			tu_pattern(msg, (size_t)len, (uint32_t)step);
			rc = rpmsg_trysend(&E[side], msg, len);
			assert_true(allowed_send_rc(rc, len));
		} else if (a < 8) {
			uint32_t cap;
			int err;
			uint8_t *p = al_get_tx_buffer_timeout(&E[side], &cap, 0, &err);
			assert_true(p != NULL || err == AL_ENOBUFS || err == AL_EBROKEN);
			if (p) {
				assert_true(tu_in_region(&E[side], p, cap));
				rc = (tu_rand(&rng) & 3u) ? rpmsg_send_nocopy(&E[side], p, len)
							  : rpmsg_release_tx_buffer(&E[side], p);
				assert_true(rc == len || rc == 0 || rc == AL_EBROKEN);
			}
		} else if (a < 12) {
			rc = al_virtio_notified(tu_rv(&L, side));
			assert_true(rc >= 0 || rc == AL_EBROKEN);
		} else if (a < 13) {
			rc = tu_pump(&L);
			assert_true(rc >= 0 || rc == AL_EBROKEN);
		} else if (a < 14) {
			fuzz_release_one(side);
		} else if (corruptions > 0) {
			corruptions--;
			if (tu_rand(&rng) % 8u)
				corrupt_random(&rng);
			else
				corrupt_header(&rng);
		}
		fuzz_invariants();
	}
	int o = fuzz_outcome(seed);
	fuzz_invariants();
	fs->rounds++;
	fs->broken += o == 1;
	fs->working += o == 0;
	fs->stalled += o == 2;
}

/* Seeded rounds (fixed seeds: reproducible). Environment knobs for longer
 * runs and debugging: AMPLINK_FUZZ_ROUNDS=n (rounds), AMPLINK_FUZZ_SEED=s
 * (replay one round), AMPLINK_FUZZ_TRACE (print each corruption),
 * AMPLINK_FUZZ_VERBOSE (print stalled rounds). */
static void random_corruption_while_traffic_flows(void **state)
{
	(void)state;
	struct fuzz_stats fs = {0};
	const char *env = getenv("AMPLINK_FUZZ_ROUNDS");
	int rounds = env ? atoi(env) : 3000;
	const char *one = getenv("AMPLINK_FUZZ_SEED");
	if (one) { /* replay one round */
		fuzz_round(strtoull(one, NULL, 0), NULL, 0, &fs);
		return;
	}
	for (int r = 0; r < rounds; r++)
		fuzz_round(0xA3F1000u + (uint64_t)r, NULL, 0, &fs);
	print_message("random corruption, canaried region: %d rounds, %d broken, %d working, "
		      "%d stalled\n",
		      fs.rounds, fs.broken, fs.working, fs.stalled);
	/* both outcomes really happen */
	assert_true(fs.broken > rounds / 10);
	assert_true(fs.working > rounds / 10);
}

/* The same on a heap region of exactly the layout's size, so that
 * AddressSanitizer sees any access (read or write) beyond it. */
static void random_corruption_exact_heap_region(void **state)
{
	(void)state;
	struct fuzz_stats fs = {0};
	const size_t size = 2u * 16u * 512u + 4096u;
	const char *env = getenv("AMPLINK_FUZZ_ROUNDS");
	int rounds = env ? atoi(env) / 3 : 1000;
	for (int r = 0; r < rounds; r++) {
		uint64_t seed = 0x5EED0000u + (uint64_t)r;
		uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 1;
		/* same cfg draw as fuzz_round, to size the allocation */
		uint32_t num = 1u << (tu_rand(&rng) % 5u);
		(void)tu_rand(&rng);
		uint32_t bufsz = (tu_rand(&rng) & 1u) ? 512 : 128;
		struct al_layout_cfg cfg = tu_cfg(num, bufsz, 0);
		struct al_layout plan;
		assert_int_equal(al_layout_plan(&cfg, AL_LOOPBACK_DA, size, &plan), 0);
		uint8_t *heap = malloc(plan.total);
		assert_non_null(heap);
		fuzz_round(seed, heap, plan.total, &fs);
		free(heap);
	}
	print_message("random corruption, exact heap region: %d rounds, %d broken, %d working, "
		      "%d stalled\n",
		      fs.rounds, fs.broken, fs.working, fs.stalled);
	assert_true(fs.broken > 0 && fs.working > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(used_id_out_of_range),
	    cmocka_unit_test(used_id_not_in_flight),
	    cmocka_unit_test(used_len_larger_than_buffer),
	    cmocka_unit_test(used_idx_jumps_more_than_num),
	    cmocka_unit_test(driver_rx_message_larger_than_used_length),
	    cmocka_unit_test(avail_id_out_of_range),
	    cmocka_unit_test(avail_idx_jumps_more_than_num),
	    cmocka_unit_test(descriptor_address_outside_region),
	    cmocka_unit_test(descriptor_at_region_end_is_accepted),
	    cmocka_unit_test(descriptor_length_out_of_range),
	    cmocka_unit_test(descriptor_chained_or_indirect),
	    cmocka_unit_test(device_rx_message_larger_than_buffer),
	    cmocka_unit_test(descriptor_offered_twice),
	    cmocka_unit_test(release_after_break_touches_nothing),
	    cmocka_unit_test(send_buffer_overlapping_received_message),
	    cmocka_unit_test(malformed_vdev_entry),
	    cmocka_unit_test(vdev_entry_misplaced),
	    cmocka_unit_test(device_validates_rings_at_link_up),
	    cmocka_unit_test(random_corruption_while_traffic_flows),
	    cmocka_unit_test(random_corruption_exact_heap_region),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
