/* Fragmentation layer: 1 MiB messages through 512-byte buffers in both
 * directions, bounded reassembly, and every loss / overflow / malformed case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/frag.h"
#include "amplink/port_loopback.h"
#include "shm_access.h"

static struct al_loopback lb;
static _Alignas(64) uint8_t mem[64 * 1024];
static struct rpmsg_endpoint host_ept, dev_ept;
static struct al_frag_rx rx;
static uint8_t *rxbuf;
static long last_rc;
static int completed;
static size_t completed_len;

static int frag_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)src, (void)priv;
	last_rc = al_frag_rx_feed(&rx, data, len);
	if (last_rc > 0) {
		completed++;
		completed_len = (size_t)last_rc;
	}
	return RPMSG_SUCCESS;
}

static int setup(void **s)
{
	(void)s;
	assert_int_equal(al_loopback_init(&lb, mem, sizeof(mem), NULL), 0);
	assert_int_equal(al_loopback_start(&lb, NULL, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&dev_ept, &lb.dev.rvdev.rdev, NULL, 0x500, 0x600, frag_cb, NULL), 0);
	assert_int_equal(
	    rpmsg_create_ept(&host_ept, &lb.drv.rvdev.rdev, NULL, 0x600, 0x500, frag_cb, NULL), 0);
	al_loopback_pump(&lb, 0);
	lb.pump_in_wait = true; /* a blocked sender lets the receiver run */
	rxbuf = malloc(AL_FRAG_MAX);
	al_frag_rx_init(&rx, rxbuf, AL_FRAG_MAX);
	completed = 0;
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	free(rxbuf);
	return 0;
}

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
}

static void one_mib(struct rpmsg_endpoint *from)
{
	uint8_t *msg = malloc(AL_FRAG_MAX);
	fill(msg, AL_FRAG_MAX, 7);
	struct al_frag_tx tx = {0};
	assert_int_equal(al_frag_send(&tx, from, from->dest_addr, msg, AL_FRAG_MAX, 1000),
			 AL_FRAG_MAX);
	al_loopback_pump(&lb, 0);
	assert_int_equal(completed, 1);
	assert_int_equal(completed_len, AL_FRAG_MAX);
	assert_memory_equal(rxbuf, msg, AL_FRAG_MAX);
	/* and a few odd sizes back to back */
	for (size_t n = 1; n < 5000; n = n * 3 + 1) {
		fill(msg, n, (uint32_t)n);
		assert_int_equal(al_frag_send(&tx, from, from->dest_addr, msg, n, 1000), (long)n);
		al_loopback_pump(&lb, 0);
		assert_int_equal(completed_len, n);
		assert_memory_equal(rxbuf, msg, n);
	}
	assert_int_equal(rx.errors, 0);
	free(msg);
}

static void host_to_remote(void **s)
{
	(void)s;
	one_mib(&host_ept);
}

static void remote_to_host(void **s)
{
	(void)s;
	one_mib(&dev_ept);
}

static void too_big(void **s)
{
	(void)s;
	uint8_t small[1000];
	al_frag_rx_init(&rx, small, sizeof(small));
	uint8_t msg[3000];
	fill(msg, sizeof(msg), 1);
	struct al_frag_tx tx = {0};
	assert_int_equal(al_frag_send(&tx, &host_ept, 0x500, msg, sizeof(msg), 1000), 3000);
	al_loopback_pump(&lb, 0);
	assert_int_equal(completed, 0);
	assert_int_equal(rx.errors, 1);
	/* the next message that fits is delivered */
	assert_int_equal(al_frag_send(&tx, &host_ept, 0x500, msg, 900, 1000), 900);
	al_loopback_pump(&lb, 0);
	assert_int_equal(completed, 1);
	assert_memory_equal(small, msg, 900);
	assert_int_equal(al_frag_send(&tx, &host_ept, 0x500, msg, AL_FRAG_MAX + 1, 1000),
			 AL_EMSGSIZE);
}

/* Hand-made fragments: gaps, contradictions, truncation. */
static long feed(uint32_t total, uint32_t off, uint16_t seq, uint8_t flags, size_t n)
{
	uint8_t f[AL_FRAG_HDR_SIZE + 600];
	al_wr32(f, total);
	al_wr32(f + 4, off);
	al_wr16(f + 8, seq);
	f[10] = flags;
	f[11] = AL_FRAG_VERSION;
	memset(f + AL_FRAG_HDR_SIZE, 0x5A, n);
	return al_frag_rx_feed(&rx, f, AL_FRAG_HDR_SIZE + n);
}

static void malformed(void **s)
{
	(void)s;
	const uint8_t F = AL_FRAG_F_FIRST, L = AL_FRAG_F_LAST;
	assert_int_equal(feed(1000, 0, 1, F, 500), 0);
	assert_int_equal(feed(1000, 600, 1, L, 400), AL_EPROTO); /* gap: 500..600 lost */
	assert_int_equal(rx.errors, 1);
	assert_int_equal(feed(1000, 500, 1, L, 500), AL_EPROTO); /* nothing in progress now */
	assert_int_equal(feed(100, 0, 2, F | L, 100), 100);	 /* recovers */
	assert_int_equal(feed(1000, 0, 3, F, 500), 0);
	assert_int_equal(feed(1000, 500, 4, L, 500), AL_EPROTO); /* other message's tail */
	assert_int_equal(feed(1000, 0, 5, F, 500), 0);
	uint32_t before = rx.errors;
	assert_int_equal(feed(50, 0, 6, F | L, 50), 50); /* a new one: the old is counted lost */
	assert_int_equal(rx.errors, before + 1);
	assert_int_equal(feed(100, 0, 7, F, 100),
			 AL_EPROTO); /* says first, yet is whole: no LAST */
	assert_int_equal(feed(100, 0, 8, L, 100), AL_EPROTO);	  /* offset 0 without FIRST */
	assert_int_equal(feed(100, 50, 9, F | L, 50), AL_EPROTO); /* FIRST at offset 50 */
	assert_int_equal(feed(100, 90, 10, L, 20), AL_EPROTO);	  /* runs past total */
	assert_int_equal(feed(0, 0, 11, F | L, 0), AL_EPROTO);	  /* empty */
	assert_int_equal(feed(AL_FRAG_MAX + 1, 0, 12, F, 100), AL_EPROTO);
	uint8_t shortmsg[5] = {0};
	assert_int_equal(al_frag_rx_feed(&rx, shortmsg, sizeof(shortmsg)), AL_EPROTO);
	uint8_t badver[AL_FRAG_HDR_SIZE + 1] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 99, 0};
	assert_int_equal(al_frag_rx_feed(&rx, badver, sizeof(badver)), AL_EPROTO);
	assert_int_equal(feed(10, 0, 13, F | L, 10), 10); /* and still works */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(host_to_remote, setup, teardown),
	    cmocka_unit_test_setup_teardown(remote_to_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(too_big, setup, teardown),
	    cmocka_unit_test_setup_teardown(malformed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
