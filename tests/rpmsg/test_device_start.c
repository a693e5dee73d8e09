/* The device role on a driver's terms: no resource table (as behind
 * vhost-user), rings whose three parts the driver placed where it liked,
 * and buffers in a second region apart from the rings. A small driver
 * written out here (byte offsets only) plays Linux: it lays out both
 * rings in region A with a non-standard layout, puts every buffer in
 * region B, and checks what the device writes. Then the bad cases: rings
 * misaligned, outside every region, overlapping, a bad size, a second
 * start; regions that overlap or come too late or too many; descriptors
 * that point into the gap between the regions or run over the end of one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/virtio_ring.h"

#define NUM	 8u
#define BUF	 512u
#define A_DA	 0x40000000u /* rings */
#define B_DA	 0x48000000u /* buffers: a gap between the two regions */
#define A_SIZE	 0x8000u
#define B_SIZE	 (2u * NUM * BUF)
#define HOST	 0x400u /* the driver's endpoint address */
#define D0	 0x0000u /* vring0 parts in A: the driver's choice, not the standard layout */
#define AV0	 0x1000u
#define U0	 0x1800u
#define D1	 0x2000u
#define AV1	 0x3000u
#define U1	 0x3800u
#define RX_BUFS	 0u /* offsets in B: vring0's receive buffers, then vring1's */
#define TX_BUFS	 (NUM * BUF)

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

static int init_device(void)
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
				     .ops = &ops};
	const struct al_shm a = {A, A_DA, sizeof(A)};
	return rpmsg_init_vdev(&rv, &vdev, NULL, &a, NULL);
}

static void up_with_echo(void)
{
	assert_int_equal(init_device(), 0);
	const struct al_shm b = {B, B_DA, sizeof(B)};
	assert_int_equal(al_virtio_add_region(&rv, &b), 0);
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
	const struct al_shm b = {B, B_DA, sizeof(B)};
	assert_int_equal(al_virtio_add_region(&rv, &b), 0);
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
	expect_start_fails(r, AL_EINIT,
			   "vring alignment is not a power of two >= 16, or the ring is misaligned");
	memcpy(r, rings_ok, sizeof(r));
	r[1].used += 2; /* the used ring must be 4-aligned */
	expect_start_fails(r, AL_EINIT,
			   "vring alignment is not a power of two >= 16, or the ring is misaligned");
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
	static uint8_t more[8][64];
	assert_int_equal(init_device(), 0);
	const struct al_shm overlap = {B, A_DA + A_SIZE - 1, 16}; /* shares A's last byte */
	assert_int_equal(al_virtio_add_region(&rv, &overlap), AL_EINVAL);
	const struct al_shm empty = {B, B_DA, 0};
	assert_int_equal(al_virtio_add_region(&rv, &empty), AL_EINVAL);
	const struct al_shm wraps = {B, UINT64_MAX - 8, 64};
	assert_int_equal(al_virtio_add_region(&rv, &wraps), AL_EINVAL);
	assert_int_equal(al_virtio_add_region(&rv, NULL), AL_EINVAL);
	/* up to AL_CFG_MAX_REGIONS in all, then no more */
	int added = 1, rc = 0;
	for (int i = 0; rc == 0 && i < 8; i++) {
		const struct al_shm r = {more[i], 0x50000000u + 0x1000u * (unsigned)i, 64};
		rc = al_virtio_add_region(&rv, &r);
		added += rc == 0;
	}
	assert_int_equal(rc, AL_ENOMEM);
	assert_int_equal(added, AL_CFG_MAX_REGIONS);
	/* and none once the link is up */
	up_with_echo();
	const struct al_shm late = {more[0], 0x60000000u, 64};
	assert_int_equal(al_virtio_add_region(&rv, &late), AL_ESTATE);
	rpmsg_deinit_vdev(&rv);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(starts_on_the_drivers_rings),
	    cmocka_unit_test(down_until_started),
	    cmocka_unit_test(refuses_bad_rings),
	    cmocka_unit_test(start_is_once_and_only_without_a_table),
	    cmocka_unit_test(regions_checked),
	    cmocka_unit_test(descriptors_outside_every_region),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
