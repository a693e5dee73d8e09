/* Tests the core built with the minimal remote profile (AL_CFG_MIN, the
 * configuration `make size` measures): the device side against a small
 * hand-written virtio driver in this file, over a static shared region whose
 * device addresses differ from its local ones.
 *
 * The full core cannot be linked next to this one (same symbols, other
 * struct layouts), so the driver is written out here, byte offsets only, as
 * mcu/test/qemu_minimal_test.py does in Python: it also cross-checks the
 * wire format. What is covered: link-up after DRIVER_OK, the name-service
 * announcement, receive by callback and bind-on-first-message, copying and
 * zero-copy send, held receive buffers, binding to and unbinding from the
 * peer's announcements, a send that waits for a buffer (the profile's
 * always-notify path), the doorbell decision from the ring flags, the 32-bit
 * address checks, and the same hostile-peer checks as the full build: each
 * violation breaks the link with its sentence, once, and nothing after it
 * touches the rings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/rpmsg.h"
#include "amplink/rpmsg_virtio.h"
#include "amplink/rsc_table.h"
#include "amplink/virtio_ring.h"

#if !AL_CFG_MIN
#error "this test is built against the AL_CFG_MIN core"
#endif

#define NUM	  4u
#define ALIGN	  0x100u
#define BUF	  512u
#define SHM_SIZE  0x8000u
#define DA_BASE	  0x30000000u /* device addresses of the region: not its va */
#define RING0	  0x1000u     /* offsets in the region */
#define RING1	  0x2000u
#define BUFS0	  0x3000u /* driver receive buffers (vring0) */
#define BUFS1	  0x5000u /* driver send buffers (vring1) */
#define HOST_ADDR 0x800u

static _Alignas(4096) uint8_t shm[SHM_SIZE];
static struct al_rsc_table_rpmsg *rsc;
static struct rpmsg_virtio_device link;
static struct al_desc_shadow shadows[2 * NUM];
static struct rpmsg_endpoint ept;

/* ---- the port ------------------------------------------------------------- */

static struct {
	uint32_t kicks[3];
	uint32_t now;
	int waits;
	void (*on_wait)(void);
	int locked;
	int wakes;
} P;

static void p_notify(void *ctx, uint32_t id)
{
	(void)ctx;
	assert_true(id < 3);
	P.kicks[id]++;
}
static void p_lock(void *ctx)
{
	(void)ctx;
	assert_int_equal(P.locked, 0); /* never taken twice */
	P.locked = 1;
}
static void p_unlock(void *ctx)
{
	(void)ctx;
	assert_int_equal(P.locked, 1);
	P.locked = 0;
}
static uint64_t p_time(void *ctx)
{
	(void)ctx;
	return 0xFFFFFF00ull + P.now; /* crosses the 32-bit wrap while tests wait */
}
static void p_wait(void *ctx, uint32_t ms)
{
	(void)ctx, (void)ms;
	P.waits++;
	P.now += 10;
	if (P.on_wait)
		P.on_wait();
}
static void p_wake(void *ctx)
{
	(void)ctx;
	P.wakes++;
}
static const struct al_port_ops ops = {.notify = p_notify,
				       .lock = p_lock,
				       .unlock = p_unlock,
				       .time_ms = p_time,
				       .wait = p_wait,
				       .wake = p_wake};

static struct {
	int calls, err;
	const char *why;
} E;
static void on_error(struct rpmsg_virtio_device *rv, int err, const char *why)
{
	(void)rv;
	E.calls++;
	E.err = err;
	E.why = why;
}

/* ---- the driver ------------------------------------------------------------- */

static uint16_t rd16(uint32_t off)
{
	uint16_t v;
	memcpy(&v, shm + off, 2);
	return v;
}
static uint32_t rd32(uint32_t off)
{
	uint32_t v;
	memcpy(&v, shm + off, 4);
	return v;
}
static void wr16(uint32_t off, uint16_t v)
{
	memcpy(shm + off, &v, 2);
}
static void wr32(uint32_t off, uint32_t v)
{
	memcpy(shm + off, &v, 4);
}
static void wr64(uint32_t off, uint64_t v)
{
	memcpy(shm + off, &v, 8);
}

static uint32_t avail_off(uint32_t ring)
{
	return ring + 16u * NUM;
}
static uint32_t used_off(uint32_t ring)
{
	return ring + (uint32_t)vring_used_offset(NUM, ALIGN);
}

static struct {
	uint16_t avail_idx[2]; /* published on vring0 / vring1 */
	uint16_t used_seen[2]; /* consumed from vring0 / vring1 used */
	uint16_t next_tx;      /* next vring1 descriptor */
} D;

static void drv_post(int r, uint16_t id, uint32_t buf_off, uint32_t len, uint16_t flags)
{
	uint32_t ring = r ? RING1 : RING0;
	wr64(ring + 16u * id, (uint64_t)DA_BASE + buf_off);
	wr32(ring + 16u * id + 8, len);
	wr16(ring + 16u * id + 12, flags);
	wr16(ring + 16u * id + 14, 0);
	wr16(avail_off(ring) + 4 + 2u * (D.avail_idx[r] % NUM), id);
	D.avail_idx[r]++;
	wr16(avail_off(ring) + 2, D.avail_idx[r]);
}

/* DRIVER_OK with `n0` receive buffers on vring0. */
static void drv_start(unsigned n0)
{
	memset(shm + RING0, 0, BUFS0 - RING0);
	rsc->vdev.gfeatures = rsc->vdev.dfeatures;
	for (uint16_t i = 0; i < n0; i++)
		drv_post(0, i, BUFS0 + BUF * i, BUF, VRING_DESC_F_WRITE);
	rsc->vdev.status = VIRTIO_CONFIG_STATUS_ACK | VIRTIO_CONFIG_STATUS_DRIVER |
			   VIRTIO_CONFIG_STATUS_FEATURES_OK | VIRTIO_CONFIG_STATUS_DRIVER_OK;
}

/* A message to the device on vring1; returns the descriptor used. */
static uint16_t drv_send(uint32_t src, uint32_t dst, const void *data, uint16_t len)
{
	uint16_t id = D.next_tx++ % NUM;
	uint32_t b = BUFS1 + BUF * id;
	wr32(b, src);
	wr32(b + 4, dst);
	wr32(b + 8, 0);
	wr16(b + 12, len);
	wr16(b + 14, 0);
	memcpy(shm + b + 16, data, len);
	drv_post(1, id, b, 16u + len, 0);
	return id;
}

/* A name-service message from the driver. */
static void drv_ns(const char *name, uint32_t addr, uint32_t flags)
{
	uint8_t m[40] = {0};
	strncpy((char *)m, name, 31);
	memcpy(m + 32, &addr, 4);
	memcpy(m + 36, &flags, 4);
	drv_send(HOST_ADDR, 53, m, sizeof(m));
}

/* Next message the device sent on vring0: 1 with its fields, 0 if none. */
static int drv_recv(uint32_t *src, uint32_t *dst, uint8_t *data, uint16_t *len)
{
	if (rd16(used_off(RING0) + 2) == D.used_seen[0])
		return 0;
	uint32_t e = used_off(RING0) + 4 + 8u * (D.used_seen[0] % NUM);
	uint32_t id = rd32(e), ulen = rd32(e + 4);
	assert_true(id < NUM);
	uint32_t b = BUFS0 + BUF * id;
	*src = rd32(b);
	*dst = rd32(b + 4);
	*len = rd16(b + 12);
	assert_int_equal(ulen, 16u + *len);
	memcpy(data, shm + b + 16, *len);
	D.used_seen[0]++;
	drv_post(0, (uint16_t)id, b, BUF, VRING_DESC_F_WRITE); /* recycle */
	return 1;
}

/* vring1 buffers the device returned since the last call. */
static unsigned drv_returned(void)
{
	uint16_t idx = rd16(used_off(RING1) + 2);
	unsigned n = (uint16_t)(idx - D.used_seen[1]);
	D.used_seen[1] = idx;
	return n;
}

/* ---- fixture ---------------------------------------------------------------- */

static struct {
	int calls;
	uint8_t data[BUF];
	size_t len;
	uint32_t src;
	void *held;
	int hold;
} R;
static int unbinds;

static int rx_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	R.calls++;
	memcpy(R.data, data, len);
	R.len = len;
	R.src = src;
	if (R.hold) {
		R.held = data;
		rpmsg_hold_rx_buffer(e, data);
	}
	return RPMSG_SUCCESS;
}
static void unbind_cb(struct rpmsg_endpoint *e)
{
	(void)e;
	unbinds++;
}

static int dev_init(uint64_t da, size_t size, uint64_t vdev_da)
{
	struct al_shm s = {shm, da, size};
	struct virtio_device vdev = {.role = VIRTIO_DEV_DEVICE,
				     .vdev_da = vdev_da,
				     .features = (1u << VIRTIO_RPMSG_F_NS) |
						 (1u << VIRTIO_RING_F_EVENT_IDX),
				     .shadows = shadows,
				     .num_shadows = 2 * NUM,
				     .ops = &ops};
	return rpmsg_init_vdev(&link, &vdev, NULL, &s, NULL);
}

/* A fresh region with the device's table; device initialised, link down,
 * one named endpoint waiting for the link. */
static int setup(void **state)
{
	(void)state;
	memset(shm, 0xA5, sizeof(shm)); /* rings hold garbage until the driver starts */
	memset(&P, 0, sizeof(P));
	memset(&D, 0, sizeof(D));
	memset(&R, 0, sizeof(R));
	memset(&E, 0, sizeof(E));
	unbinds = 0;
	rsc = (struct al_rsc_table_rpmsg *)(void *)shm;
	const struct al_rsc_table_rpmsg t =
	    AL_RSC_TABLE_RPMSG_INIT(DA_BASE + RING0, DA_BASE + RING1, NUM, ALIGN,
				    (1u << VIRTIO_RPMSG_F_NS) | (1u << VIRTIO_RING_F_EVENT_IDX));
	memcpy(rsc, &t, sizeof(t));
	assert_int_equal(
	    dev_init(DA_BASE, SHM_SIZE, DA_BASE + offsetof(struct al_rsc_table_rpmsg, vdev)), 0);
	al_virtio_set_error_cb(&link, on_error);
	assert_int_equal(al_virtio_link_state(&link), AL_LINK_DOWN);
	assert_int_equal(rpmsg_create_ept(&ept, rpmsg_virtio_get_rpmsg_device(&link),
					  "amplink-minimal", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, rx_cb,
					  unbind_cb),
			 0);
	assert_int_equal(ept.addr, RPMSG_RESERVED_ADDRESSES);
	return 0;
}

/* Link up with n0 receive buffers; the announcement consumed and checked. */
static void up(unsigned n0)
{
	drv_start(n0);
	assert_int_equal(al_virtio_notified(&link), 0);
	assert_int_equal(al_virtio_link_state(&link), AL_LINK_UP);
	uint32_t src, dst;
	uint16_t len;
	uint8_t m[BUF];
	assert_int_equal(drv_recv(&src, &dst, m, &len), 1);
	assert_int_equal(dst, 53);
	assert_int_equal(src, 0x400);
	assert_int_equal(len, 40);
	assert_string_equal((char *)m, "amplink-minimal");
	uint32_t a, f;
	memcpy(&a, m + 32, 4);
	memcpy(&f, m + 36, 4);
	assert_int_equal(a, 0x400);
	assert_int_equal(f, RPMSG_NS_CREATE);
}

/* ---- tests ------------------------------------------------------------------ */

static void link_up_announce_and_features(void **state)
{
	(void)state;
	/* before DRIVER_OK: nothing touches the rings, sends are refused */
	assert_int_equal(al_virtio_wait_link_up(&link, 50), AL_ETIMEDOUT);
	assert_true(P.waits >= 5);
	assert_int_equal(al_virtio_notified(&link), AL_ESTATE);
	assert_int_equal(rpmsg_sendto(&ept, "x", 1, HOST_ADDR), AL_ESTATE);
	up(NUM);
	/* the event index is never negotiated in this profile */
	assert_int_equal(link.features, 1u << VIRTIO_RPMSG_F_NS);
	/* and the device never asks the driver to hold back its doorbells */
	assert_int_equal(rd16(used_off(RING0)), 0);
	assert_int_equal(rd16(used_off(RING1)), 0);
	assert_int_equal(P.kicks[0], 1); /* the announcement rang vring0 */
	assert_int_equal(al_virtio_wait_link_up(&link, 0), 0);
	assert_int_equal(P.locked, 0);
}

static void receive_bind_and_send(void **state)
{
	(void)state;
	up(NUM);
	assert_false(is_rpmsg_ept_ready(&ept));
	drv_send(HOST_ADDR, 0x400, "ping", 4);
	drv_send(HOST_ADDR, 0x999, "lost", 4); /* nobody there: dropped, returned */
	assert_int_equal(al_virtio_notified(&link), 2);
	assert_int_equal(R.calls, 1);
	assert_int_equal(R.len, 4);
	assert_memory_equal(R.data, "ping", 4);
	assert_int_equal(R.src, HOST_ADDR);
	assert_true(is_rpmsg_ept_ready(&ept));
	assert_int_equal(ept.dest_addr, HOST_ADDR);
	assert_int_equal(drv_returned(), 2);
	assert_true(P.kicks[1] >= 1);

	assert_int_equal(rpmsg_send(&ept, "hello", 5), 5);
	uint32_t src, dst;
	uint16_t len;
	uint8_t m[BUF];
	assert_int_equal(drv_recv(&src, &dst, m, &len), 1);
	assert_int_equal(src, 0x400);
	assert_int_equal(dst, HOST_ADDR);
	assert_int_equal(len, 5);
	assert_memory_equal(m, "hello", 5);

	/* sizes: the whole payload, and one byte more is refused */
	uint8_t big[BUF] = {0};
	assert_int_equal(rpmsg_get_tx_buffer_size(&ept), BUF - 16);
	assert_int_equal(rpmsg_send(&ept, big, BUF - 16), BUF - 16);
	assert_int_equal(rpmsg_send(&ept, big, BUF - 15), AL_EMSGSIZE);
	assert_int_equal(rpmsg_sendto(&ept, big, 1, RPMSG_ADDR_ANY), AL_EINVAL);
	assert_int_equal(drv_recv(&src, &dst, m, &len), 1);
	assert_int_equal(len, BUF - 16);
	assert_int_equal(drv_recv(&src, &dst, m, &len), 0);

	/* no counters in this profile, no address hash */
	struct rpmsg_stats st;
	memset(&st, 0xFF, sizeof(st));
	al_get_stats(rpmsg_virtio_get_rpmsg_device(&link), &st);
	assert_int_equal(st.tx_msgs, 0);
	struct rpmsg_endpoint *b[4];
	assert_int_equal(al_set_addr_hash(rpmsg_virtio_get_rpmsg_device(&link), b, 4), AL_EINVAL);
	assert_int_equal(E.calls, 0);
}

static void doorbell_follows_the_ring_flags(void **state)
{
	(void)state;
	up(NUM);
	uint32_t k = P.kicks[0];
	wr16(avail_off(RING0), VRING_AVAIL_F_NO_INTERRUPT);
	assert_int_equal(rpmsg_sendto(&ept, "a", 1, HOST_ADDR), 1);
	assert_int_equal(P.kicks[0], k);
	wr16(avail_off(RING0), 0);
	assert_int_equal(rpmsg_sendto(&ept, "b", 1, HOST_ADDR), 1);
	assert_int_equal(P.kicks[0], k + 1);
}

static void zero_copy_send_and_release(void **state)
{
	(void)state;
	up(NUM);
	uint32_t cap = 0;
	uint8_t *p = rpmsg_get_tx_payload_buffer(&ept, &cap, true);
	assert_non_null(p);
	assert_int_equal(cap, BUF - 16);
	assert_true(p >= shm + BUFS0 && p < shm + BUFS0 + NUM * BUF);
	memcpy(p, "zc", 2);
	uint8_t other[32];
	assert_int_equal(rpmsg_sendto_nocopy(&ept, other + 16, 2, HOST_ADDR), AL_EPERM);
	assert_int_equal(rpmsg_sendto_nocopy(&ept, p, 2, HOST_ADDR), 2);
	assert_int_equal(rpmsg_sendto_nocopy(&ept, p, 2, HOST_ADDR), AL_EPERM); /* sent already */
	uint32_t src, dst;
	uint16_t len;
	uint8_t m[BUF];
	assert_int_equal(drv_recv(&src, &dst, m, &len), 1);
	assert_int_equal(len, 2);
	assert_memory_equal(m, "zc", 2);

	p = rpmsg_get_tx_payload_buffer(&ept, &cap, false);
	assert_non_null(p);
	assert_int_equal(rpmsg_release_tx_buffer(&ept, p), 0);
	assert_int_equal(rpmsg_release_tx_buffer(&ept, p), AL_EPERM);
	/* the released buffer is the next one taken */
	assert_ptr_equal(rpmsg_get_tx_payload_buffer(&ept, &cap, false), p);
	assert_int_equal(rpmsg_release_tx_buffer(&ept, p), 0);
}

static void held_receive_buffer(void **state)
{
	(void)state;
	up(NUM);
	R.hold = 1;
	drv_send(HOST_ADDR, 0x400, "keep", 4);
	assert_int_equal(al_virtio_notified(&link), 1);
	assert_non_null(R.held);
	assert_int_equal(drv_returned(), 0); /* still ours */
	assert_int_equal(al_rpmsg_release_rx_buffer(&ept, R.data), AL_EPERM);
	assert_int_equal(al_rpmsg_release_rx_buffer(&ept, R.held), 0);
	assert_int_equal(drv_returned(), 1);
	assert_int_equal(al_rpmsg_release_rx_buffer(&ept, R.held), AL_EPERM);
}

static void name_service_bind_and_unbind(void **state)
{
	(void)state;
	up(NUM);
	drv_ns("amplink-minimal", 0x900, RPMSG_NS_CREATE);
	assert_int_equal(al_virtio_notified(&link), 1);
	assert_int_equal(ept.dest_addr, 0x900);
	/* malformed ones change nothing: no NUL in the name, bad flags, short */
	uint8_t m[40];
	memset(m, 'x', sizeof(m));
	drv_send(HOST_ADDR, 53, m, sizeof(m));
	drv_ns("amplink-minimal", 0x901, 7);
	drv_send(HOST_ADDR, 53, m, 39);
	assert_int_equal(al_virtio_notified(&link), 3);
	assert_int_equal(ept.dest_addr, 0x900);
	drv_ns("amplink-minimal", 0x900, RPMSG_NS_DESTROY);
	assert_int_equal(al_virtio_notified(&link), 1);
	assert_int_equal(ept.dest_addr, RPMSG_ADDR_ANY);
	assert_int_equal(unbinds, 1);
	assert_int_equal(E.calls, 0);

	/* destroying the endpoint announces it gone */
	uint32_t src, dst;
	uint16_t len;
	assert_int_equal(drv_recv(&src, &dst, m, &len), 0);
	rpmsg_destroy_ept(&ept);
	assert_int_equal(drv_recv(&src, &dst, m, &len), 1);
	assert_int_equal(dst, 53);
	uint32_t f;
	memcpy(&f, m + 36, 4);
	assert_int_equal(f, RPMSG_NS_DESTROY);
}

/* The always-notify send path: no buffer, sleep until a doorbell brings one
 * (here: the driver posts it while we wait), or until the timeout. */
static void post_one_rx_buffer(void)
{
	if (P.waits == 3)
		drv_post(0, 1, BUFS0 + BUF, BUF, VRING_DESC_F_WRITE);
}
static void send_waits_for_a_buffer(void **state)
{
	(void)state;
	up(1); /* one buffer: the announcement's, recycled by the driver */
	uint32_t src, dst;
	uint16_t len;
	uint8_t m[BUF];
	ept.dest_addr = HOST_ADDR;
	assert_int_equal(rpmsg_send(&ept, "a", 1), 1); /* takes it */
	assert_int_equal(al_send_timeout(&ept, ept.addr, HOST_ADDR, "t", 1, 0), AL_ENOBUFS);
	assert_int_equal(P.waits, 0);
	P.now = 0xF0; /* the 32-bit clock wraps during the next wait */
	assert_int_equal(al_send_timeout(&ept, ept.addr, HOST_ADDR, "t", 1, 100), AL_ENOBUFS);
	assert_int_equal(P.waits, 10);
	P.waits = 0;
	P.on_wait = post_one_rx_buffer;
	assert_int_equal(rpmsg_send(&ept, "late", 4), 4);
	assert_int_equal(P.waits, 3);
	P.on_wait = NULL;
	assert_int_equal(drv_recv(&src, &dst, m, &len), 1);
	assert_int_equal(len, 1);
	assert_int_equal(drv_recv(&src, &dst, m, &len), 1);
	assert_int_equal(len, 4);
	assert_memory_equal(m, "late", 4);
}

static void addresses_above_4_gib_refused(void **state)
{
	(void)state;
	uint64_t vdev = DA_BASE + offsetof(struct al_rsc_table_rpmsg, vdev);
	assert_int_equal(dev_init(0xFFFFF000u, SHM_SIZE, 0xFFFFF000u + 28u), AL_EINVAL);
	assert_int_equal(dev_init(0x100000000ull, SHM_SIZE, 0x100000000ull + 28u), AL_EINVAL);
	assert_int_equal(dev_init(DA_BASE, SHM_SIZE, vdev + 0x100000000ull), AL_EINIT);
	assert_string_equal(al_virtio_broken_reason(&link),
			    "VDEV entry outside the shared region or misaligned");
	assert_int_equal(dev_init(DA_BASE, SHM_SIZE, DA_BASE - 4), AL_EINIT);
	assert_int_equal(dev_init(DA_BASE, SHM_SIZE, DA_BASE + SHM_SIZE - 8), AL_EINIT);
	assert_int_equal(dev_init(DA_BASE, SHM_SIZE, vdev), 0);
}

/* ---- a hostile driver ---------------------------------------------------- */

/* The link is broken with `reason`, reported once, and nothing works. */
static void expect_broken(const char *reason)
{
	assert_int_equal(al_virtio_link_state(&link), AL_LINK_BROKEN);
	assert_non_null(al_virtio_broken_reason(&link));
	assert_string_equal(al_virtio_broken_reason(&link), reason);
	assert_int_equal(E.calls, 1);
	assert_int_equal(E.err, AL_EBROKEN);
	static uint8_t snap[SHM_SIZE];
	drv_send(HOST_ADDR, 0x400, "more", 4);
	memcpy(snap, shm, sizeof(shm)); /* after the driver's own writes */
	assert_int_equal(al_virtio_notified(&link), AL_EBROKEN);
	assert_int_equal(rpmsg_sendto(&ept, "x", 1, HOST_ADDR), AL_EBROKEN);
	uint32_t cap;
	assert_null(rpmsg_get_tx_payload_buffer(&ept, &cap, false));
	assert_memory_equal(snap, shm, sizeof(shm)); /* the rings were left alone */
	assert_int_equal(E.calls, 1);
	assert_int_equal(P.locked, 0);
}

static void rx_then_expect(const char *reason)
{
	assert_int_equal(al_virtio_notified(&link), AL_EBROKEN);
	expect_broken(reason);
}

static void hostile_avail_index(void **state)
{
	(void)state;
	up(NUM);
	wr16(avail_off(RING1) + 2, (uint16_t)(D.avail_idx[1] + NUM + 1));
	rx_then_expect("avail index moved by more than the ring size");
}

static void hostile_avail_id(void **state)
{
	(void)state;
	up(NUM);
	drv_send(HOST_ADDR, 0x400, "x", 1);
	wr16(avail_off(RING1) + 4, NUM);
	rx_then_expect("avail descriptor id out of range");
}

static void hostile_desc_address(void **state)
{
	(void)state;
	up(NUM);
	uint16_t id = drv_send(HOST_ADDR, 0x400, "x", 1);
	wr64(RING1 + 16u * id, (uint64_t)DA_BASE + SHM_SIZE - 16); /* 17 bytes past the end */
	rx_then_expect("descriptor address outside the shared region");
}

static void hostile_desc_address_upper_half(void **state)
{
	(void)state;
	up(NUM);
	uint16_t id = drv_send(HOST_ADDR, 0x400, "x", 1);
	/* the low half is a valid buffer: only the upper half is wrong */
	wr32(RING1 + 16u * id + 4, 1);
	rx_then_expect("descriptor address outside the shared region");
}

static void hostile_desc_address_below_region(void **state)
{
	(void)state;
	up(NUM);
	uint16_t id = drv_send(HOST_ADDR, 0x400, "x", 1);
	wr64(RING1 + 16u * id, DA_BASE - 8);
	rx_then_expect("descriptor address outside the shared region");
}

static void hostile_desc_length(void **state)
{
	(void)state;
	up(NUM);
	uint16_t id = drv_send(HOST_ADDR, 0x400, "x", 1);
	wr32(RING1 + 16u * id + 8, 15);
	rx_then_expect("descriptor length outside 16..65536");
}

static void hostile_desc_chained(void **state)
{
	(void)state;
	up(NUM);
	uint16_t id = drv_send(HOST_ADDR, 0x400, "x", 1);
	wr16(RING1 + 16u * id + 12, VRING_DESC_F_NEXT);
	rx_then_expect("chained or indirect descriptor (rpmsg uses single buffers)");
}

static void hostile_desc_reoffered(void **state)
{
	(void)state;
	up(NUM);
	R.hold = 1;
	uint16_t id = drv_send(HOST_ADDR, 0x400, "x", 1);
	assert_int_equal(al_virtio_notified(&link), 1);
	drv_post(1, id, BUFS1 + BUF * id, 17, 0); /* the held one again */
	rx_then_expect("descriptor offered again while the device still holds it");
}

static void hostile_message_length(void **state)
{
	(void)state;
	up(NUM);
	uint16_t id = drv_send(HOST_ADDR, 0x400, "x", 1);
	wr32(RING1 + 16u * id + 8, BUF);
	wr16(BUFS1 + BUF * id + 12, BUF - 15); /* one byte more than the buffer holds */
	rx_then_expect("message length larger than its buffer");
}

static void hostile_message_length_vs_descriptor(void **state)
{
	(void)state;
	up(NUM);
	uint16_t id = drv_send(HOST_ADDR, 0x400, "abcdef", 6);
	wr32(RING1 + 16u * id + 8, 16 + 5); /* descriptor shorter than hdr.len says */
	rx_then_expect("message length larger than its buffer");
}

static void hostile_small_tx_buffer(void **state)
{
	(void)state;
	drv_start(0);
	drv_post(0, 0, BUFS0, BUF - 1, VRING_DESC_F_WRITE);
	assert_int_equal(al_virtio_notified(&link), AL_EBROKEN); /* the announcement */
	expect_broken("driver offered a buffer smaller than the link's buffer size");
}

static void layout(uint32_t field_off, uint32_t value, const char *reason)
{
	wr32(field_off, value);
	drv_start(NUM);
	assert_int_equal(al_virtio_notified(&link), AL_EBROKEN);
	expect_broken(reason);
}
#define VRING_FIELD(i, f) ((uint32_t)offsetof(struct al_rsc_table_rpmsg, vring) + 20u * (i) + (f))

static void hostile_layout_num(void **state)
{
	(void)state;
	layout(VRING_FIELD(1, AL_RSC_VRING_NUM), 3, "vring num is not a power of two in 1..32768");
}
static void hostile_layout_align(void **state)
{
	(void)state;
	layout(VRING_FIELD(0, AL_RSC_VRING_ALIGN), 8,
	       "vring alignment is not a power of two >= 16, or the ring is misaligned");
}
static void hostile_layout_outside(void **state)
{
	(void)state;
	layout(VRING_FIELD(1, AL_RSC_VRING_DA), DA_BASE + SHM_SIZE - 0x100,
	       "vring does not fit in the shared region");
}
static void hostile_layout_below(void **state)
{
	(void)state;
	layout(VRING_FIELD(0, AL_RSC_VRING_DA), DA_BASE - 0x1000,
	       "vring does not fit in the shared region");
}
static void hostile_layout_overlap(void **state)
{
	(void)state;
	layout(VRING_FIELD(1, AL_RSC_VRING_DA), DA_BASE + RING0 + 0x100,
	       "vrings overlap each other or the VDEV entry");
}
static void hostile_layout_over_vdev(void **state)
{
	(void)state;
	layout(VRING_FIELD(0, AL_RSC_VRING_DA), DA_BASE,
	       "vrings overlap each other or the VDEV entry");
}
static void hostile_layout_nvrings(void **state)
{
	(void)state;
	shm[offsetof(struct al_rsc_table_rpmsg, vdev) + AL_RSC_VDEV_NUM_VRINGS] = 1;
	drv_start(NUM);
	assert_int_equal(al_virtio_notified(&link), AL_EBROKEN);
	expect_broken("VDEV entry has fewer than two vrings");
}
static void hostile_layout_shadows(void **state)
{
	(void)state;
	layout(VRING_FIELD(1, AL_RSC_VRING_NUM), 2 * NUM,
	       "shadow storage smaller than the two rings");
}

/* The overlap check runs over every pair of (vring0, vring1, VDEV entry):
 * the pair the cases above do not reach, and a ring ending a few bytes into
 * the other; and the shadow storage exhausted by the first ring alone. */
static void hostile_layout_vring1_over_vdev(void **state)
{
	(void)state;
	layout(VRING_FIELD(1, AL_RSC_VRING_DA), DA_BASE,
	       "vrings overlap each other or the VDEV entry");
}
static void hostile_layout_overlap_tail(void **state)
{
	(void)state;
	/* 16-aligned, so only the overlap is wrong: vring0 ends 6 bytes into vring1 */
	layout(VRING_FIELD(0, AL_RSC_VRING_DA),
	       DA_BASE + RING1 - ((uint32_t)vring_size(NUM, ALIGN) & ~15u),
	       "vrings overlap each other or the VDEV entry");
}
static void hostile_layout_shadows_ring0(void **state)
{
	(void)state;
	layout(VRING_FIELD(0, AL_RSC_VRING_NUM), 4 * NUM,
	       "shadow storage smaller than the two rings");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(link_up_announce_and_features, setup),
	    cmocka_unit_test_setup(receive_bind_and_send, setup),
	    cmocka_unit_test_setup(doorbell_follows_the_ring_flags, setup),
	    cmocka_unit_test_setup(zero_copy_send_and_release, setup),
	    cmocka_unit_test_setup(held_receive_buffer, setup),
	    cmocka_unit_test_setup(name_service_bind_and_unbind, setup),
	    cmocka_unit_test_setup(send_waits_for_a_buffer, setup),
	    cmocka_unit_test_setup(addresses_above_4_gib_refused, setup),
	    cmocka_unit_test_setup(hostile_avail_index, setup),
	    cmocka_unit_test_setup(hostile_avail_id, setup),
	    cmocka_unit_test_setup(hostile_desc_address, setup),
	    cmocka_unit_test_setup(hostile_desc_address_upper_half, setup),
	    cmocka_unit_test_setup(hostile_desc_address_below_region, setup),
	    cmocka_unit_test_setup(hostile_desc_length, setup),
	    cmocka_unit_test_setup(hostile_desc_chained, setup),
	    cmocka_unit_test_setup(hostile_desc_reoffered, setup),
	    cmocka_unit_test_setup(hostile_message_length, setup),
	    cmocka_unit_test_setup(hostile_message_length_vs_descriptor, setup),
	    cmocka_unit_test_setup(hostile_small_tx_buffer, setup),
	    cmocka_unit_test_setup(hostile_layout_num, setup),
	    cmocka_unit_test_setup(hostile_layout_align, setup),
	    cmocka_unit_test_setup(hostile_layout_outside, setup),
	    cmocka_unit_test_setup(hostile_layout_below, setup),
	    cmocka_unit_test_setup(hostile_layout_overlap, setup),
	    cmocka_unit_test_setup(hostile_layout_vring1_over_vdev, setup),
	    cmocka_unit_test_setup(hostile_layout_overlap_tail, setup),
	    cmocka_unit_test_setup(hostile_layout_shadows_ring0, setup),
	    cmocka_unit_test_setup(hostile_layout_over_vdev, setup),
	    cmocka_unit_test_setup(hostile_layout_nvrings, setup),
	    cmocka_unit_test_setup(hostile_layout_shadows, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
