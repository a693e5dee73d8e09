/* A driver facing a bad resource table refuses it before writing anything:
 * no ring is zeroed over the firmware's memory, the status byte is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "amplink/port_loopback.h"
#include "amplink/rsc_table.h"

static struct al_loopback lb;
static _Alignas(64) uint8_t mem[64 * 1024];

static void overlap_refused_without_zeroing(void **s)
{
	(void)s;
	assert_int_equal(al_loopback_init(&lb, mem, sizeof(mem), NULL), 0);
	struct al_rsc_table_rpmsg *t = al_shm_da_to_va(&lb.shm, lb.layout.rsc_da, sizeof(*t));
	/* vring1 starts inside vring0: the table is bad */
	t->vring[1].da = t->vring[0].da + 64;
	uint8_t *ring0 = al_shm_da_to_va(&lb.shm, t->vring[0].da, 64);
	memset(ring0, 0xA5, 1024);
	uint8_t before[1024];
	memcpy(before, ring0, sizeof(before));
	uint8_t status = t->vdev.status;
	int rc = rpmsg_init_vdev(&lb.drv.rvdev, &lb.drv.vdev, NULL, &lb.shm, &lb.pool);
	assert_int_equal(rc, AL_EINIT);
	assert_non_null(al_virtio_broken_reason(&lb.drv.rvdev));
	assert_memory_equal(ring0, before, sizeof(before)); /* nothing wiped */
	assert_true(t->vdev.status == status || !(t->vdev.status & VIRTIO_CONFIG_STATUS_DRIVER_OK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(overlap_refused_without_zeroing)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
