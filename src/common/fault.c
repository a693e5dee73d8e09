/* Sentences for fault codes (fault.h). A separate file so that an image
 * which never asks why a link broke does not carry them. */
#include "fault.h"
#include "amplink/rpmsg_virtio.h"

static const char *const fault_text[AL_F_COUNT] = {
    [AL_F_NONE] = NULL,
    [AL_F_VRING_NUM] = "vring num is not a power of two in 1..32768",
    [AL_F_VRING_ALIGN] = "vring alignment is not a power of two >= 16, or the ring is misaligned",
    [AL_F_VRING_OUTSIDE] = "vring does not fit in the shared region",
    [AL_F_VDEV_VRINGS] = "VDEV entry has fewer than two vrings",
    [AL_F_SHADOWS] = "shadow storage smaller than the two rings",
    [AL_F_VRING_OVERLAP] = "vrings overlap each other or the VDEV entry",
    [AL_F_POOL] = "buffer pool too small for the receive ring",
    [AL_F_VDEV_OUTSIDE] = "VDEV entry outside the shared region or misaligned",
    [AL_F_VDEV_ID] = "VDEV entry is not an rpmsg device (id 7)",
    [AL_F_USED_IDX] = "used index moved by more than the ring size",
    [AL_F_USED_ID] = "used id out of range",
    [AL_F_USED_NOT_OWNED] = "used id is not a buffer the device owns",
    [AL_F_USED_LEN] = "used length larger than the buffer",
    [AL_F_AVAIL_IDX] = "avail index moved by more than the ring size",
    [AL_F_AVAIL_ID] = "avail descriptor id out of range",
    [AL_F_DESC_REOFFERED] = "descriptor offered again while the device still holds it",
    [AL_F_DESC_CHAINED] = "chained or indirect descriptor (rpmsg uses single buffers)",
    [AL_F_DESC_LEN] = "descriptor length outside 16..65536",
    [AL_F_DESC_ADDR] = "descriptor address outside the shared region",
    [AL_F_TX_BUF_SMALL] = "driver offered a buffer smaller than the link's buffer size",
    [AL_F_MSG_SHORT] = "message shorter than the rpmsg header",
    [AL_F_POOL_OUTSIDE] = "buffer pool outside every shared region",
    [AL_F_MSG_LEN] = "message length larger than its buffer",
};

const char *al_fault_str(unsigned int fault)
{
	return fault < AL_F_COUNT ? fault_text[fault] : "protocol violation";
}

const char *al_virtio_broken_reason(const struct rpmsg_virtio_device *rvdev)
{
	return rvdev ? al_fault_str(rvdev->fault) : NULL;
}

static const char *why(const struct rpmsg_virtio_device *rvdev)
{
	return al_virtio_broken_reason(rvdev);
}

void al_virtio_set_error_cb(struct rpmsg_virtio_device *rvdev, al_link_error_cb cb)
{
	if (!rvdev)
		return;
	rvdev->error_cb = cb;
	rvdev->why = why;
}
