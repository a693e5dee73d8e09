/* Fault codes: why a link could not start or broke. Small integers in the
 * core (no strings in a microcontroller image unless the application asks
 * for them: fault.c holds the sentences and is linked only when used). */
#ifndef AL_FAULT_H
#define AL_FAULT_H

enum al_fault {
	AL_F_NONE = 0,
	/* layout, found at set-up */
	AL_F_VRING_NUM,
	AL_F_VRING_ALIGN,
	AL_F_VRING_OUTSIDE,
	AL_F_VDEV_VRINGS,
	AL_F_SHADOWS,
	AL_F_VRING_OVERLAP,
	AL_F_POOL,
	AL_F_VDEV_OUTSIDE,
	AL_F_VDEV_ID,
	/* the peer broke the protocol */
	AL_F_USED_IDX,
	AL_F_USED_ID,
	AL_F_USED_NOT_OWNED,
	AL_F_USED_LEN,
	AL_F_AVAIL_IDX,
	AL_F_AVAIL_ID,
	AL_F_DESC_REOFFERED,
	AL_F_DESC_CHAINED,
	AL_F_DESC_LEN,
	AL_F_DESC_ADDR,
	AL_F_TX_BUF_SMALL,
	AL_F_MSG_SHORT,
	AL_F_MSG_LEN,
	AL_F_POOL_OUTSIDE,
	AL_F_COUNT
};

#endif
