/* The RPMsg-Lite façade built with RL_PLATFORM_LAYER=1 on a board port
 * written for RPMsg-Lite: the board implements RPMsg-Lite's platform_*
 * functions and its doorbell interrupt calls env_isr(vector); the program
 * calls only RPMsg-Lite's API (no rpmsg_lite_set_platform, no
 * rpmsg_lite_isr). Both cores in one process: links 0 (master) and 1
 * (remote), a doorbell rung on one link pends on the other's vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "rpmsg_env.h"
#include "rpmsg_lite.h"

/* ---- the board port, as written for RPMsg-Lite ------------------------------ */

#define VQ_ID(link, q) (((q)&0x1U) | (((link) << 1U) & 0xFFFFFFFEU))

static int pending[4];
static bool enabled[4];
static void *isr_data[4];
static int inits, deinits, notifies;
static int in_isr;

static void board_run_interrupts(void)
{
	if (in_isr)
		return; /* an interrupt does not preempt itself */
	for (int round = 0; round < 1000; round++) {
		bool any = false;
		for (uint32_t v = 0; v < 4; v++)
			if (pending[v] && enabled[v]) {
				pending[v] = 0;
				in_isr++;
				env_isr(v); /* the doorbell ISR, as RPMsg-Lite boards have it */
				in_isr--;
				any = true;
			}
		if (!any)
			return;
	}
}

int32_t platform_init(void)
{
	inits++;
	return 0;
}

int32_t platform_deinit(void)
{
	deinits++;
	return 0;
}

int32_t platform_init_interrupt(uint32_t vector_id, void *data)
{
	isr_data[vector_id] = data;
	return 0;
}

int32_t platform_deinit_interrupt(uint32_t vector_id)
{
	isr_data[vector_id] = NULL;
	return 0;
}

int32_t platform_interrupt_enable(uint32_t vector_id)
{
	enabled[vector_id] = true;
	return 0;
}

int32_t platform_interrupt_disable(uint32_t vector_id)
{
	enabled[vector_id] = false;
	return 0;
}

void platform_notify(uint32_t vector_id)
{
	notifies++;
	pending[vector_id ^ 2U]++; /* the other link's vector of that queue */
}

void platform_time_delay(uint32_t num_msec)
{
	(void)num_msec;
	board_run_interrupts(); /* the other core runs meanwhile */
}

static _Alignas(64) unsigned char shm[AL_LITE_SHMEM_SIZE];

/* The shared RAM as the other core addresses it (a 32-bit bus address: the
 * resource table holds 32-bit addresses). */
uintptr_t platform_vatopa(void *addr)
{
	return (uintptr_t)((unsigned char *)addr - shm) + 0x20000000u;
}

/* ---- the program: RPMsg-Lite's API only ---------------------------------------- */

static int got;
static char last[16];

static int32_t rx_cb(void *payload, uint32_t len, uint32_t src, void *priv)
{
	(void)src, (void)priv;
	got++;
	memcpy(last, payload, len < sizeof(last) ? len : sizeof(last) - 1);
	return RL_RELEASE;
}

static void board_port_links_unchanged(void **state)
{
	(void)state;
	struct rpmsg_lite_instance *r = rpmsg_lite_remote_init(shm, 1, RL_NO_FLAGS);
	assert_non_null(r);
	assert_int_equal(inits, 1);
	assert_ptr_equal(isr_data[VQ_ID(1, 0)], r);
	assert_true(enabled[VQ_ID(1, 0)] && enabled[VQ_ID(1, 1)]);
	struct rpmsg_lite_instance *m = rpmsg_lite_master_init(shm, sizeof(shm), 0, RL_NO_FLAGS);
	assert_non_null(m);
	assert_int_equal(inits, 1); /* once for the platform */
	assert_true(notifies >= 1); /* the master rang the remote */
	assert_int_equal(rpmsg_lite_wait_for_link_up(r, RL_BLOCK), RL_TRUE);
	struct rpmsg_lite_endpoint *re = rpmsg_lite_create_ept(r, 30, rx_cb, NULL);
	struct rpmsg_lite_endpoint *me = rpmsg_lite_create_ept(m, 40, rx_cb, NULL);
	assert_int_equal(rpmsg_lite_send(m, me, 30, "ping", 5, RL_BLOCK), RL_SUCCESS);
	board_run_interrupts();
	assert_int_equal(got, 1);
	assert_string_equal(last, "ping");
	assert_int_equal(rpmsg_lite_send(r, re, 40, "pong", 5, RL_BLOCK), RL_SUCCESS);
	board_run_interrupts();
	assert_int_equal(got, 2);
	assert_string_equal(last, "pong");
	assert_int_equal(rpmsg_lite_destroy_ept(r, re), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_destroy_ept(m, me), RL_SUCCESS);
	assert_int_equal(rpmsg_lite_deinit(m), RL_SUCCESS);
	assert_int_equal(deinits, 0);
	assert_int_equal(rpmsg_lite_deinit(r), RL_SUCCESS);
	assert_int_equal(deinits, 1);
	for (int v = 0; v < 4; v++) {
		assert_null(isr_data[v]);
		assert_false(enabled[v]);
	}
	env_isr(VQ_ID(1, 0)); /* a late doorbell after deinit: ignored */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(board_port_links_unchanged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
