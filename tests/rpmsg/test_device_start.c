/* The device role on a driver's terms: no resource table (as behind
 * vhost-user), rings whose three parts the driver placed where it liked,
 * and buffers in a second region apart from the rings. A small driver
 * written out here (byte offsets only) plays Linux: it lays out both
 * rings in region A with a non-standard layout, puts every buffer in
 * region B, and checks what the device writes. Then the bad cases: rings
 * misaligned, outside every region, overlapping, a bad size, a second
 * start; regions that overlap, are empty, wrap or are too many; descriptors
 * that point into the gap between the regions or run over the end of one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/layout.h"
#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/virtio_ring.h"

#define NUM	8u
#define BUF	512u
#define A_DA	0x40000000u /* rings */
#define B_DA	0x48000000u /* buffers: a gap between the two regions */
#define A_SIZE	0x8000u
#define B_SIZE	(2u * NUM * BUF)
#define HOST	0x400u	/* the driver's endpoint address */
#define D0	0x0000u /* vring0 parts in A: the driver's choice, not the standard layout */
#define AV0	0x1000u
#define U0	0x1800u
#define D1	0x2000u
#define AV1	0x3000u
#define U1	0x3800u
#define RX_BUFS 0u /* offsets in B: vring0's receive buffers, then vring1's */
#define TX_BUFS (NUM * BUF)

static _Alignas(4096) uint8_t A[A_SIZE];
static _Alignas(4096) uint8_t B[B_SIZE];
static struct rpmsg_virtio_device rv;
static struct al_desc_shadow shadows[2 * NUM];
static struct rpmsg_endpoint echo_ept;
static uint32_t kicks[2];
static uint16_t tx_avail; /* vring1 avail idx */
static uint16_t rx_seen;  /* vring0 used entries consumed */

/* ---- the port ---------------------------------------------------------- */

static void notify(void *ctx, uint32_t notifyid)
{
	(void)ctx;
	if (notifyid < 2)
		kicks[notifyid]++;
}
static const struct al_port_ops ops = {.notify = notify};

/* ---- the driver, byte by byte (little-endian host) ----------------------- */

static void w16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void w32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void w64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}
static uint16_t r16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}
static uint32_t r32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void desc(uint32_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint8_t *d = A + table + AL_VRING_DESC_SIZE * i;
	w64(d, addr);
	w32(d + 8, len);
	w16(d + 12, flags);
	w16(d + 14, 0);
}

/* vring0: one empty receive buffer per entry, all offered */
static void post_rx_buffers(void)
{
	for (uint16_t i = 0; i < NUM; i++) {
		desc(D0, i, B_DA + RX_BUFS + i * BUF, BUF, VRING_DESC_F_WRITE);
		w16(A + AV0 + AL_VRING_AVAIL_RING + 2u * i, i);
	}
	w16(A + AV0 + AL_VRING_AVAIL_IDX, NUM);
}

/* vring1: a message in buffer `slot`, at `addr`/`len` on the wire */
static void offer_raw(uint16_t slot, uint64_t addr, uint32_t len)
{
	desc(D1, slot, addr, len, 0);
	w16(A + AV1 + AL_VRING_AVAIL_RING + 2u * (tx_avail % NUM), slot);
	tx_avail++;
	w16(A + AV1 + AL_VRING_AVAIL_IDX, tx_avail);
}
static void send_msg(uint16_t slot, uint32_t dst, const void *data, uint16_t len)
{
	uint8_t *b = B + TX_BUFS + slot * BUF;
	w32(b, HOST);
	w32(b + 4, dst);
	w32(b + 8, 0);
	w16(b + 12, len);
	w16(b + 14, 0);
	memcpy(b + 16, data, len);
	offer_raw(slot, B_DA + TX_BUFS + slot * BUF, 16u + len);
}

/* The next message the device sent on vring0, or NULL. */
static const uint8_t *next_rx(uint32_t *len)
{
	if (r16(A + U0 + AL_VRING_USED_IDX) == rx_seen)
		return NULL;
	const uint8_t *e = A + U0 + AL_VRING_USED_RING + 8u * (rx_seen % NUM);
	uint32_t id = r32(e);
	*len = r32(e + 4);
	rx_seen++;
	assert_true(id < NUM);
	return B + RX_BUFS + id * BUF;
}

static const struct al_vring_cfg rings_ok[2] = {
    {A_DA + D0, A_DA + AV0, A_DA + U0, NUM, 0, 0},
    {A_DA + D1, A_DA + AV1, A_DA + U1, NUM, 1, 0},
};

/* ---- the device ------------------------------------------------------------ */

static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	return rpmsg_sendto(ept, data, (int)len, src) == (int)len ? RPMSG_SUCCESS : -1;
}

static int init_device_with(const struct al_shm *more, uint32_t nmore)
{
	memset(A, 0, sizeof(A));
	memset(B, 0, sizeof(B));
	memset(kicks, 0, sizeof(kicks));
	tx_avail = rx_seen = 0;
	struct virtio_device vdev = {.role = VIRTIO_DEV_DEVICE,
				     .vdev_da = AL_VDEV_DA_NONE,
				     .features = 1u << VIRTIO_RPMSG_F_NS,
				     .shadows = shadows,
				     .num_shadows = 2 * NUM,
				     .ops = &ops,
				     .regions = more,
				     .num_regions = nmore};
	const struct al_shm a = {A, A_DA, sizeof(A)};
	return rpmsg_init_vdev(&rv, &vdev, NULL, &a, NULL);
}

/* Rings in A, buffers in B */
static const struct al_shm region_b = {B, B_DA, sizeof(B)};
static int init_device(void)
{
	return init_device_with(&region_b, 1);
}

static void up_with_echo(void)
{
	assert_int_equal(init_device(), 0);
	assert_int_equal(rpmsg_create_ept(&echo_ept, rpmsg_virtio_get_rpmsg_device(&rv), "echo",
					  RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, echo_cb, NULL),
			 0);
	post_rx_buffers();
	assert_int_equal(al_virtio_device_start(&rv, rings_ok, 1u << VIRTIO_RPMSG_F_NS), 0);
	assert_int_equal(al_virtio_link_state(&rv), AL_LINK_UP);
}

/* The whole conversation: announce on start, echo a message. */
static void starts_on_the_drivers_rings(void **state)
{
	(void)state;
	up_with_echo();
	uint32_t len;
	const uint8_t *m = next_rx(&len);
	assert_non_null(m);
	assert_int_equal(len, 16u + RPMSG_NS_MSG_SIZE);
	assert_int_equal(r32(m + 4), RPMSG_NS_EPT_ADDR);
	assert_string_equal((const char *)m + 16, "echo");
	assert_int_equal(r32(m + 16 + 32), echo_ept.addr);
	assert_true(kicks[0] >= 1);

	send_msg(0, echo_ept.addr, "hello there 0!", 14);
	assert_true(al_virtio_notified(&rv) >= 1);
	m = next_rx(&len);
	assert_non_null(m);
	assert_int_equal(len, 16u + 14u);
	assert_int_equal(r32(m), echo_ept.addr);
	assert_int_equal(r32(m + 4), HOST);
	assert_memory_equal(m + 16, "hello there 0!", 14);
	/* the message's buffer went back to the driver on vring1's used ring */
	assert_int_equal(r16(A + U1 + AL_VRING_USED_IDX), 1);
	rpmsg_deinit_vdev(&rv);
}

/* Before the transport starts it, a tableless device is simply down. */
static void down_until_started(void **state)
{
	(void)state;
	assert_int_equal(init_device(), 0);
	assert_int_equal(al_virtio_link_state(&rv), AL_LINK_DOWN);
	assert_int_equal(al_virtio_notified(&rv), AL_ESTATE);
	assert_int_equal(al_virtio_wait_link_up(&rv, 0), AL_ETIMEDOUT);
}

static void expect_start_fails(const struct al_vring_cfg r[2], int rc, const char *why)
{
	assert_int_equal(init_device(), 0);
	assert_int_equal(al_virtio_device_start(&rv, r, 0), rc);
	if (why) {
		assert_int_equal(al_virtio_link_state(&rv), AL_LINK_BROKEN);
		assert_string_equal(al_virtio_broken_reason(&rv), why);
	} else {
		assert_int_equal(al_virtio_link_state(&rv), AL_LINK_DOWN);
	}
}

static void refuses_bad_rings(void **state)
{
	(void)state;
	struct al_vring_cfg r[2];
	memcpy(r, rings_ok, sizeof(r));
	r[0].desc += 8; /* descriptors must be 16-aligned */
	expect_start_fails(
	    r, AL_EINIT, "vring alignment is not a power of two >= 16, or the ring is misaligned");
	memcpy(r, rings_ok, sizeof(r));
	r[1].used += 2; /* the used ring must be 4-aligned */
	expect_start_fails(
	    r, AL_EINIT, "vring alignment is not a power of two >= 16, or the ring is misaligned");
	memcpy(r, rings_ok, sizeof(r));
	r[1].avail = B_DA - 0x1000; /* in the gap between the regions */
	expect_start_fails(r, AL_EINIT, "vring does not fit in the shared region");
	memcpy(r, rings_ok, sizeof(r));
	r[0].used = A_DA + A_SIZE - 16; /* runs over the end of A */
	expect_start_fails(r, AL_EINIT, "vring does not fit in the shared region");
	memcpy(r, rings_ok, sizeof(r));
	r[1].used = r[0].desc; /* our used entries would land in its descriptors */
	expect_start_fails(r, AL_EINIT, "vrings overlap each other or the VDEV entry");
	memcpy(r, rings_ok, sizeof(r));
	r[0].num = 6;
	expect_start_fails(r, AL_EINIT, "vring num is not a power of two in 1..32768");
	memcpy(r, rings_ok, sizeof(r));
	r[1].num = 16; /* valid, but more than our shadows: our shortage */
	expect_start_fails(r, AL_ENOMEM, NULL);
}

static void start_is_once_and_only_without_a_table(void **state)
{
	(void)state;
	up_with_echo();
	assert_int_equal(al_virtio_device_start(&rv, rings_ok, 0), AL_ESTATE);
	assert_int_equal(al_virtio_device_start(NULL, rings_ok, 0), AL_EINVAL);
	assert_int_equal(al_virtio_device_start(&rv, NULL, 0), AL_EINVAL);
	rpmsg_deinit_vdev(&rv);
}

static void regions_checked(void **state)
{
	(void)state;
	static uint8_t more[AL_CFG_MAX_REGIONS][64];
	const struct al_shm overlap = {B, A_DA + A_SIZE - 1, 16}; /* shares A's last byte */
	assert_int_equal(init_device_with(&overlap, 1), AL_EINIT);
	const struct al_shm empty = {B, B_DA, 0};
	assert_int_equal(init_device_with(&empty, 1), AL_EINIT);
	const struct al_shm wraps = {B, UINT64_MAX - 8, 64};
	assert_int_equal(init_device_with(&wraps, 1), AL_EINIT);
	const struct al_shm no_va = {NULL, B_DA, 64};
	assert_int_equal(init_device_with(&no_va, 1), AL_EINIT);
	assert_int_equal(init_device_with(NULL, 1), AL_EINIT);
	const struct al_shm twice[2] = {{B, B_DA, 128}, {B + 256, B_DA + 64, 128}};
	assert_int_equal(init_device_with(twice, 2), AL_EINIT);
	/* up to AL_CFG_MAX_REGIONS in all, then no more */
	struct al_shm r[AL_CFG_MAX_REGIONS];
	for (unsigned i = 0; i < AL_CFG_MAX_REGIONS; i++)
		r[i] = (struct al_shm){more[i], 0x50000000u + 0x1000u * i, 64};
	assert_int_equal(init_device_with(r, AL_CFG_MAX_REGIONS - 1), 0);
	assert_int_equal(init_device_with(r, AL_CFG_MAX_REGIONS), AL_EINIT);
}

/* A descriptor into the gap between the regions, or over a region's end,
 * breaks the link with its sentence; nothing outside is touched. */
static void descriptors_outside_every_region(void **state)
{
	(void)state;
	const uint64_t bad[] = {B_DA - 0x100, B_DA + B_SIZE - 64, A_DA + A_SIZE - 8, 0};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		up_with_echo();
		uint32_t len;
		assert_non_null(next_rx(&len)); /* the announcement */
		offer_raw(0, bad[k], 128);
		assert_int_equal(al_virtio_notified(&rv), AL_EBROKEN);
		assert_string_equal(al_virtio_broken_reason(&rv),
				    "descriptor address outside the shared region");
		rpmsg_deinit_vdev(&rv);
	}
}

/* The driver's side of the same rule: its pool may be a carveout in a
 * region of its own; its descriptors then carry that region's addresses.
 * A pool in no region is refused with its sentence. */
static void driver_pool_in_a_carveout(void **state)
{
	(void)state;
	memset(A, 0, sizeof(A));
	const struct al_layout_cfg cfg = {NUM, 64, BUF, 1u << VIRTIO_RPMSG_F_NS};
	struct al_layout lay;
	const struct al_shm a = {A, A_DA, sizeof(A)};
	assert_int_equal(al_layout_plan(&cfg, A_DA, sizeof(A), &lay), 0);
	assert_int_equal(al_layout_write_rsc(&a, &lay, &cfg), 0);
	struct virtio_device vdev = {.role = VIRTIO_DEV_DRIVER,
				     .vdev_da = lay.vdev_da,
				     .features = 1u << VIRTIO_RPMSG_F_NS,
				     .shadows = shadows,
				     .num_shadows = 2 * NUM,
				     .ops = &ops,
				     .regions = &region_b,
				     .num_regions = 1};
	struct rpmsg_virtio_shm_pool pool;
	rpmsg_virtio_init_shm_pool(&pool, B, sizeof(B));
	assert_int_equal(rpmsg_init_vdev(&rv, &vdev, NULL, &a, &pool), 0);
	/* vring0's receive buffers: every descriptor points into B */
	const uint8_t *d0 = A + (lay.vring_da[0] - A_DA);
	for (unsigned i = 0; i < NUM; i++) {
		uint64_t addr;
		memcpy(&addr, d0 + AL_VRING_DESC_SIZE * i, 8);
		assert_true(addr >= B_DA && addr + BUF <= B_DA + B_SIZE);
	}
	rpmsg_deinit_vdev(&rv);
	/* a pool that is in no region */
	static uint8_t elsewhere[B_SIZE];
	memset(A, 0, sizeof(A));
	assert_int_equal(al_layout_write_rsc(&a, &lay, &cfg), 0);
	rpmsg_virtio_init_shm_pool(&pool, elsewhere, sizeof(elsewhere));
	assert_int_equal(rpmsg_init_vdev(&rv, &vdev, NULL, &a, &pool), AL_EINIT);
	assert_string_equal(al_virtio_broken_reason(&rv),
			    "buffer pool outside every shared region");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(starts_on_the_drivers_rings),
	    cmocka_unit_test(down_until_started),
	    cmocka_unit_test(refuses_bad_rings),
	    cmocka_unit_test(start_is_once_and_only_without_a_table),
	    cmocka_unit_test(regions_checked),
	    cmocka_unit_test(descriptors_outside_every_region),
	    cmocka_unit_test(driver_pool_in_a_carveout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
