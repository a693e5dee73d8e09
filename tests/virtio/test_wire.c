/* Pins every wire structure's size and field offsets to the wire format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "amplink/rpmsg.h"
#include "amplink/rsc_table.h"
#include "amplink/virtio_ring.h"

static void vring_structs(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct vring_desc), 16);
	assert_int_equal(offsetof(struct vring_desc, addr), 0);
	assert_int_equal(offsetof(struct vring_desc, len), 8);
	assert_int_equal(offsetof(struct vring_desc, flags), 12);
	assert_int_equal(offsetof(struct vring_desc, next), 14);
	assert_int_equal(sizeof(struct vring_used_elem), 8);
	assert_int_equal(VRING_DESC_F_NEXT, 1);
	assert_int_equal(VRING_DESC_F_WRITE, 2);
	assert_int_equal(VRING_DESC_F_INDIRECT, 4);
	assert_int_equal(VRING_AVAIL_F_NO_INTERRUPT, 1);
	assert_int_equal(VRING_USED_F_NO_NOTIFY, 1);
}

static void vring_sizes(void **state)
{
	(void)state;
	/* align_up(16*256 + 2*(3+256), 4096) + 2*3 + 8*256 = 8192 + 6 + 2048 */
	assert_int_equal(vring_size(256, 4096), 10246);
	assert_int_equal(vring_used_offset(256, 4096), 8192);
	/* 16*16 + 2*19 = 294 -> align 16 = 304; + 6 + 128 */
	assert_int_equal(vring_size(16, 16), 438);
	assert_int_equal(vring_size(1, 4), 38); /* 16 + 8 = 24, + 6 + 8 */
}

static void event_idx_math(void **state)
{
	(void)state;
	assert_true(vring_need_event(0, 1, 0));
	assert_false(vring_need_event(1, 1, 0));
	assert_true(vring_need_event(5, 10, 3));
	assert_false(vring_need_event(10, 10, 3));
	/* across the 16-bit wrap */
	assert_true(vring_need_event(0xFFFF, 2, 0xFFFE));
	assert_false(vring_need_event(3, 2, 0xFFFE));
}

static void rpmsg_constants(void **state)
{
	(void)state;
	assert_int_equal(RPMSG_HDR_SIZE, 16);
	assert_int_equal(RPMSG_NS_MSG_SIZE, 40);
	assert_int_equal(RPMSG_NS_EPT_ADDR, 53);
	assert_int_equal(RPMSG_ADDR_ANY, 0xFFFFFFFFu);
	assert_int_equal(RPMSG_RESERVED_ADDRESSES, 1024);
	assert_int_equal(RPMSG_NAME_SIZE, 32);
	assert_int_equal(VIRTIO_ID_RPMSG, 7);
	assert_int_equal(VIRTIO_RPMSG_F_NS, 0);
	assert_int_equal(VIRTIO_RING_F_EVENT_IDX, 29);
	assert_int_equal(VIRTIO_CONFIG_STATUS_DRIVER_OK, 4);
}

static void rsc_structs(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct resource_table), 16);
	assert_int_equal(sizeof(struct fw_rsc_carveout), 56);
	assert_int_equal(sizeof(struct fw_rsc_trace), 48);
	assert_int_equal(sizeof(struct fw_rsc_vdev_vring), 20);
	assert_int_equal(sizeof(struct fw_rsc_vdev), 28);
	assert_int_equal(offsetof(struct fw_rsc_vdev, dfeatures), AL_RSC_VDEV_DFEATURES);
	assert_int_equal(offsetof(struct fw_rsc_vdev, gfeatures), AL_RSC_VDEV_GFEATURES);
	assert_int_equal(offsetof(struct fw_rsc_vdev, status), AL_RSC_VDEV_STATUS);
	assert_int_equal(offsetof(struct fw_rsc_vdev, num_of_vrings), AL_RSC_VDEV_NUM_VRINGS);
	assert_int_equal(offsetof(struct fw_rsc_vdev_vring, notifyid), AL_RSC_VRING_NOTIFYID);
	assert_int_equal(offsetof(struct al_rsc_table_rpmsg, vdev), 20);
	assert_int_equal(offsetof(struct al_rsc_table_rpmsg, vring), 48);
	assert_int_equal(sizeof(struct al_rsc_table_rpmsg), 88);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vring_structs),  cmocka_unit_test(vring_sizes),
	    cmocka_unit_test(event_idx_math), cmocka_unit_test(rpmsg_constants),
	    cmocka_unit_test(rsc_structs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
