/* Interop of the two façades over one link in one process: an RPMsg-Lite-style
 * remote and an OpenAMP-style host (the core's rpmsg.h API), announcing,
 * binding and echoing in copying and zero-copy modes both ways; and the
 * reverse pairing (RPMsg-Lite-style master, OpenAMP-style remote). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "amplink/layout.h"
#include "amplink/rpmsg.h"
#include "amplink/rpmsg_lite.h"
#include "amplink/rpmsg_ns.h"
#include "amplink/rpmsg_queue.h"
#include "amplink/rpmsg_virtio.h"
#include "lite_harness.h"

#define SERVICE "rpmsg-openamp-demo-channel"

static _Alignas(64) unsigned char shm[AL_LITE_SHMEM_SIZE];

/* The OpenAMP-style side: a core link with its own storage. */
static struct {
	struct lh h;
	struct rpmsg_lite_instance lctx, *lite;
	struct rpmsg_virtio_device core;
	struct rpmsg_virtio_shm_pool pool;
	struct al_desc_shadow shadows[2 * RL_BUFFER_COUNT];
	struct rpmsg_endpoint ept; /* the core side's endpoint */
	int bind_rc;
	bool hold; /* core callback keeps its buffers */
	void *held[2 * RL_BUFFER_COUNT];
	int nheld;
	int n;
	uint32_t src;
	size_t len;
	unsigned char data[RL_BUFFER_PAYLOAD_SIZE];
} I;

static const struct rpmsg_virtio_config core_cfg = {RL_BUFFER_SIZE, RL_BUFFER_SIZE, false};

static int core_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	I.n++;
	I.src = src;
	I.len = len;
	memcpy(I.data, data, len);
	if (I.hold) {
		rpmsg_hold_rx_buffer(ept, data);
		I.held[I.nheld++] = data;
	}
	return RPMSG_SUCCESS;
}

/* OpenAMP's flow: the peer announced a service; create an endpoint bound to it. */
static void core_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	if (strcmp(name, SERVICE) == 0)
		I.bind_rc =
		    rpmsg_create_ept(&I.ept, rdev, name, RPMSG_ADDR_ANY, dest, core_cb, NULL);
}

/* Start the core side in `role` on the region (the lite side is the other). */
static void core_start(unsigned int role, rpmsg_ns_bind_cb bind)
{
	struct al_layout_cfg cfg = {RL_BUFFER_COUNT, RL_VRING_ALIGN, RL_BUFFER_SIZE,
				    (1u << VIRTIO_RPMSG_F_NS) | (1u << VIRTIO_RING_F_EVENT_IDX)};
	struct al_layout lay;
	struct al_shm s = {shm, LH_DA, sizeof(shm)};
	assert_int_equal(al_layout_plan(&cfg, LH_DA, sizeof(shm), &lay), 0);
	struct rpmsg_virtio_shm_pool *pool = NULL;
	if (role == VIRTIO_DEV_DRIVER) {
		pool = &I.pool;
		rpmsg_virtio_init_shm_pool(pool, al_shm_da_to_va(&s, lay.pool_da, lay.pool_size),
					   lay.pool_size);
	} else {
		assert_int_equal(al_layout_write_rsc(&s, &lay, &cfg), 0);
	}
	int side = role == VIRTIO_DEV_DRIVER ? 0 : 1;
	struct virtio_device vdev = {.role = role,
				     .vdev_da = lay.vdev_da,
				     .features = cfg.features,
				     .shadows = I.shadows,
				     .num_shadows = 2 * RL_BUFFER_COUNT,
				     .ops = &lh_ops,
				     .port_ctx = &I.h.side[side]};
	assert_int_equal(rpmsg_init_vdev_with_config(&I.core, &vdev, bind, &s, pool, &core_cfg), 0);
	I.h.side[side].rv = &I.core;
}

static int setup_lite_remote(void **state)
{
	(void)state;
	memset(&I, 0, sizeof(I));
	memset(shm, 0, sizeof(shm));
	assert_int_equal(lh_init(&I.h), RL_SUCCESS);
	I.lite = rpmsg_lite_remote_init_static(shm, 1, RL_NO_FLAGS, &I.lctx);
	assert_non_null(I.lite);
	I.h.side[1].rl = I.lite;
	I.bind_rc = -1;
	core_start(VIRTIO_DEV_DRIVER, core_bind);
	lh_pump(&I.h);
	assert_int_equal(rpmsg_lite_is_link_up(I.lite), RL_TRUE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rpmsg_deinit_vdev(&I.core);
	rpmsg_lite_deinit(I.lite);
	return 0;
}

/* Remote echo: copying, or zero-copy from a reserved buffer. */
enum echo_mode { ECHO_COPY, ECHO_NOCOPY };
static struct {
	struct rpmsg_lite_instance *rl;
	struct rpmsg_lite_endpoint *ept;
	enum echo_mode mode;
	int n;
	int32_t rc;
} E;

static int32_t lite_echo(void *payload, uint32_t len, uint32_t src, void *priv)
{
	(void)priv;
	E.n++;
	if (E.mode == ECHO_COPY) {
		E.rc = rpmsg_lite_send(E.rl, E.ept, src, payload, len, RL_DONT_BLOCK);
	} else {
		uint32_t cap;
		char *tx = rpmsg_lite_alloc_tx_buffer(E.rl, &cap, RL_DONT_BLOCK);
		E.rc = tx && cap >= len ? RL_SUCCESS : RL_ERR_NO_MEM;
		if (tx) {
			memcpy(tx, payload, len);
			E.rc = rpmsg_lite_send_nocopy(E.rl, E.ept, src, tx, len);
		}
	}
	return RL_RELEASE;
}

static void fill(unsigned char *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 31u + i * 7u);
}

/* ---- RPMsg-Lite-style remote, OpenAMP-style host ---------------------------------- */

static void remote_announces_host_binds_echo(void **state)
{
	(void)state;
	static struct rpmsg_lite_ept_static_context ctx;
	E.rl = I.lite;
	E.ept = rpmsg_lite_create_ept_static(I.lite, RL_ADDR_ANY, lite_echo, NULL, &ctx);
	assert_non_null(E.ept);
	/* seed flow: create, announce {name, addr, flags} to 53; the host binds */
	assert_int_equal(rpmsg_ns_announce(I.lite, E.ept, SERVICE, RL_NS_CREATE), RL_SUCCESS);
	lh_pump(&I.h);
	assert_int_equal(I.bind_rc, RPMSG_SUCCESS);
	assert_true(is_rpmsg_ept_ready(&I.ept));
	assert_int_equal(I.ept.dest_addr, E.ept->addr);
	assert_int_equal(rpmsg_get_tx_buffer_size(&I.ept), RL_BUFFER_PAYLOAD_SIZE);

	const size_t sizes[] = {1, 16, 100, RL_BUFFER_PAYLOAD_SIZE};
	for (int mode = ECHO_COPY; mode <= ECHO_NOCOPY; mode++) {
		E.mode = (enum echo_mode)mode;
		for (int round = 0; round < 3; round++)
			for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
				unsigned char msg[RL_BUFFER_PAYLOAD_SIZE];
				int before = I.n;
				fill(msg, sizes[k], (unsigned)(round * 10 + (int)k));
				/* host: copying send, then zero-copy send */
				if (round % 2 == 0) {
					assert_int_equal(rpmsg_send(&I.ept, msg, (int)sizes[k]),
							 (int)sizes[k]);
				} else {
					uint32_t cap;
					void *tx = rpmsg_get_tx_payload_buffer(&I.ept, &cap, true);
					assert_non_null(tx);
					assert_int_equal(cap, RL_BUFFER_PAYLOAD_SIZE);
					memcpy(tx, msg, sizes[k]);
					assert_int_equal(
					    rpmsg_send_nocopy(&I.ept, tx, (int)sizes[k]),
					    (int)sizes[k]);
				}
				lh_pump(&I.h);
				assert_int_equal(E.rc, RL_SUCCESS);
				assert_int_equal(I.n, before + 1);
				assert_int_equal(I.src, E.ept->addr);
				assert_int_equal(I.len, sizes[k]);
				assert_memory_equal(I.data, msg, sizes[k]);
			}
	}
	assert_int_equal(E.n, 2 * 3 * 4);
	assert_int_equal(rpmsg_lite_destroy_ept(I.lite, E.ept), RL_SUCCESS);
}

/* Zero copy end to end: the remote takes messages from a queue without
 * copying and answers from a reserved buffer; the host holds the echoes. */
static void zero_copy_queue_and_hold(void **state)
{
	(void)state;
	static struct rpmsg_lite_ept_static_context ctx;
	static rpmsg_static_queue_ctxt qctx;
	static uint8_t qstorage[RL_ENV_QUEUE_STATIC_STORAGE_SIZE];
	rpmsg_queue_handle q = rpmsg_queue_create_static(I.lite, qstorage, &qctx);
	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(I.lite, RL_ADDR_ANY, rpmsg_queue_rx_cb, q, &ctx);
	assert_non_null(re);
	assert_int_equal(rpmsg_ns_announce(I.lite, re, SERVICE, RL_NS_CREATE), RL_SUCCESS);
	lh_pump(&I.h);
	assert_true(is_rpmsg_ept_ready(&I.ept));
	I.hold = true;

	for (unsigned round = 0; round < 3 * RL_BUFFER_COUNT; round++) {
		unsigned char msg[RL_BUFFER_PAYLOAD_SIZE];
		size_t len = round % 2 ? RL_BUFFER_PAYLOAD_SIZE : 5 + round;
		fill(msg, len, round);
		uint32_t cap;
		void *tx = rpmsg_get_tx_payload_buffer(&I.ept, &cap, true);
		assert_non_null(tx);
		memcpy(tx, msg, len);
		assert_int_equal(rpmsg_send_nocopy(&I.ept, tx, (int)len), (int)len);
		lh_pump(&I.h);

		/* remote: pointer into the shared buffer, answered without a copy out */
		uint32_t src, rlen;
		char *rx;
		assert_int_equal(
		    rpmsg_queue_recv_nocopy(I.lite, q, &src, &rx, &rlen, RL_DONT_BLOCK),
		    RL_SUCCESS);
		assert_int_equal(src, I.ept.addr);
		assert_int_equal(rlen, len);
		assert_memory_equal(rx, msg, len);
		char *out = rpmsg_lite_alloc_tx_buffer(I.lite, &cap, RL_DONT_BLOCK);
		assert_non_null(out);
		memcpy(out, rx, rlen);
		assert_int_equal(rpmsg_queue_nocopy_free(I.lite, rx), RL_SUCCESS);
		assert_int_equal(rpmsg_lite_send_nocopy(I.lite, re, src, out, rlen), RL_SUCCESS);
		lh_pump(&I.h);

		/* host: holds the echo, checks it in place, gives it back */
		assert_int_equal(I.nheld, 1);
		assert_memory_equal(I.held[0], msg, len);
		rpmsg_release_rx_buffer(&I.ept, I.held[--I.nheld]);
		lh_pump(&I.h);
	}
	assert_int_equal(rpmsg_lite_get_number_of_free_buffers(I.lite), RL_BUFFER_COUNT);
	assert_int_equal(al_virtio_free_tx_buffers(&I.core), RL_BUFFER_COUNT);
	assert_int_equal(rpmsg_lite_destroy_ept(I.lite, re), RL_SUCCESS);
	assert_int_equal(rpmsg_queue_destroy(I.lite, q), RL_SUCCESS);
}

/* The other direction: the OpenAMP-style host announces (a named endpoint),
 * the RPMsg-Lite-style remote hears it through rpmsg_ns_bind and talks. */
struct nsrec {
	int n;
	uint32_t addr, flags;
	char name[RL_NS_NAME_SIZE];
};
static void ns_cb(uint32_t new_ept, const char *name, uint32_t flags, void *user_data)
{
	struct nsrec *r = user_data;
	r->n++;
	r->addr = new_ept;
	r->flags = flags;
	snprintf(r->name, sizeof(r->name), "%s", name);
}

static int32_t lite_rec(void *payload, uint32_t len, uint32_t src, void *priv)
{
	(void)src;
	memcpy(priv, payload, len);
	return RL_RELEASE;
}

static void host_announces_lite_binds(void **state)
{
	(void)state;
	static rpmsg_ns_static_context nsc;
	static struct rpmsg_lite_ept_static_context ctx;
	struct nsrec ns = {0};
	char got[32] = "";
	/* remote listens before the link is up */
	memset(&I, 0, sizeof(I));
	memset(shm, 0, sizeof(shm));
	assert_int_equal(lh_init(&I.h), RL_SUCCESS);
	I.lite = rpmsg_lite_remote_init_static(shm, 1, RL_NO_FLAGS, &I.lctx);
	I.h.side[1].rl = I.lite;
	assert_non_null(rpmsg_ns_bind_static(I.lite, ns_cb, &ns, &nsc));
	core_start(VIRTIO_DEV_DRIVER, NULL);
	lh_pump(&I.h);
	assert_int_equal(rpmsg_lite_is_link_up(I.lite), RL_TRUE);

	/* OpenAMP: a named endpoint created unbound is announced */
	assert_int_equal(rpmsg_create_ept(&I.ept, &I.core.rdev, "host-service", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, core_cb, NULL),
			 RPMSG_SUCCESS);
	lh_pump(&I.h);
	assert_int_equal(ns.n, 1);
	assert_int_equal(ns.flags, RL_NS_CREATE);
	assert_int_equal(ns.addr, I.ept.addr);
	assert_string_equal(ns.name, "host-service");

	struct rpmsg_lite_endpoint *re =
	    rpmsg_lite_create_ept_static(I.lite, RL_ADDR_ANY, lite_rec, got, &ctx);
	assert_int_equal(rpmsg_lite_send(I.lite, re, ns.addr, "to host", 8, RL_BLOCK), RL_SUCCESS);
	lh_pump(&I.h);
	assert_string_equal((char *)I.data, "to host");
	assert_int_equal(I.src, re->addr);
	assert_int_equal(I.ept.dest_addr, re->addr); /* bound to its first sender */
	assert_int_equal(rpmsg_send(&I.ept, "to lite", 8), 8);
	lh_pump(&I.h);
	assert_string_equal(got, "to lite");

	/* OpenAMP destroy announces NS DESTROY: the lite listener hears it */
	uint32_t host_addr = I.ept.addr;
	rpmsg_destroy_ept(&I.ept);
	lh_pump(&I.h);
	assert_int_equal(ns.n, 2);
	assert_int_equal(ns.flags, RL_NS_DESTROY);
	assert_int_equal(ns.addr, host_addr);
	assert_string_equal(ns.name, "host-service");
	assert_int_equal(rpmsg_ns_unbind(I.lite, &nsc), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_destroy_ept(I.lite, re), RL_SUCCESS);
	teardown(NULL);
}

/* ---- RPMsg-Lite-style master, OpenAMP-style remote ------------------------------------ */

static int core_echo(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	I.n++;
	I.bind_rc = rpmsg_trysendto(ept, data, (int)len, src);
	return RPMSG_SUCCESS;
}

static void lite_master_core_remote(void **state)
{
	(void)state;
	static rpmsg_ns_static_context nsc;
	static struct rpmsg_lite_ept_static_context ctx;
	struct nsrec ns = {0};
	char got[RL_BUFFER_PAYLOAD_SIZE];
	memset(&I, 0, sizeof(I));
	memset(shm, 0, sizeof(shm));
	assert_int_equal(lh_init(&I.h), RL_SUCCESS);
	/* the OpenAMP-style remote writes the table and names its endpoint early */
	core_start(VIRTIO_DEV_DEVICE, NULL);
	assert_int_equal(rpmsg_create_ept(&I.ept, &I.core.rdev, SERVICE, RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, core_echo, NULL),
			 RPMSG_SUCCESS);
	I.lite = rpmsg_lite_master_init_static(shm, sizeof(shm), 0, RL_NO_FLAGS, &I.lctx);
	assert_non_null(I.lite);
	I.h.side[0].rl = I.lite;
	assert_non_null(rpmsg_ns_bind_static(I.lite, ns_cb, &ns, &nsc));
	lh_pump(&I.h); /* remote comes up and announces */
	assert_int_equal(al_virtio_link_state(&I.core), AL_LINK_UP);
	assert_int_equal(ns.n, 1);
	assert_string_equal(ns.name, SERVICE);
	assert_int_equal(ns.addr, I.ept.addr);

	struct rpmsg_lite_endpoint *me =
	    rpmsg_lite_create_ept_static(I.lite, RL_ADDR_ANY, lite_rec, got, &ctx);
	for (int i = 0; i < 4 * (int)RL_BUFFER_COUNT; i++) {
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "ping %d", i) + 1;
		if (i % 2) {
			assert_int_equal(
			    rpmsg_lite_send(I.lite, me, ns.addr, msg, (uint32_t)len, RL_BLOCK),
			    RL_SUCCESS);
		} else {
			uint32_t cap;
			char *tx = rpmsg_lite_alloc_tx_buffer(I.lite, &cap, RL_BLOCK);
			assert_non_null(tx);
			memcpy(tx, msg, (size_t)len);
			assert_int_equal(
			    rpmsg_lite_send_nocopy(I.lite, me, ns.addr, tx, (uint32_t)len),
			    RL_SUCCESS);
		}
		lh_pump(&I.h);
		assert_int_equal(I.bind_rc, len);
		assert_string_equal(got, msg);
	}
	assert_int_equal(I.n, 4 * (int)RL_BUFFER_COUNT);
	rpmsg_lite_destroy_ept(I.lite, me);
	rpmsg_ns_unbind(I.lite, &nsc);
	teardown(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(remote_announces_host_binds_echo, setup_lite_remote,
					    teardown),
	    cmocka_unit_test_setup_teardown(zero_copy_queue_and_hold, setup_lite_remote, teardown),
	    cmocka_unit_test(host_announces_lite_binds),
	    cmocka_unit_test(lite_master_core_remote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
