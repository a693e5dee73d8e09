/* RPMsg-Lite's receive queue: an endpoint whose callback is
 * rpmsg_queue_rx_cb() parks each message (zero-copy: its receive buffer is
 * held) in a bounded ring, and a thread takes them with rpmsg_queue_recv()
 * (copying, buffer released) or rpmsg_queue_recv_nocopy() (pointer into the
 * shared buffer, released by rpmsg_queue_nocopy_free()), with a timeout.
 * A message arriving at a full queue is dropped and counted, never
 * overwrites one already queued; its buffer goes straight back.
 */
#ifndef AMPLINK_RPMSG_QUEUE_H
#define AMPLINK_RPMSG_QUEUE_H

#include "amplink/rpmsg_lite.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One queued message. */
typedef struct {
	uint32_t src;
	void *data;
	uint32_t len;
} rpmsg_queue_rx_cb_data_t;

/** A queue. Caller storage for the static variants; fields private. */
struct rpmsg_queue {
	struct rpmsg_lite_instance *rl;
	uint8_t *ring; /* capacity entries, stored with memcpy (any alignment) */
	uint32_t capacity;
	uint32_t head;	  /* next entry to take; written by the consumer */
	uint32_t tail;	  /* next entry to fill; written by rpmsg_queue_rx_cb() */
	uint32_t dropped; /* messages that found the queue full */
	uint32_t esize;	  /* bytes per entry (an environment queue's element size) */
#if !AMPLINK_NO_MALLOC
	uint8_t allocated; /* made by a dynamic variant: free it */
#endif
};
typedef void *rpmsg_queue_handle;
typedef struct rpmsg_queue rpmsg_static_queue_ctxt;
typedef struct rpmsg_queue rpmsg_static_queue;

/** Bytes of entry storage rpmsg_queue_create_static() needs: two entries
 *  per ring entry, as RPMsg-Lite's queue (a queue never fills from its own
 *  link's traffic). */
#define RL_ENV_QUEUE_STATIC_STORAGE_SIZE (2U * RL_BUFFER_COUNT * sizeof(rpmsg_queue_rx_cb_data_t))

/** The endpoint callback that feeds a queue (`priv` = the queue handle
 *  given as rx_cb_data). Receive context. Returns RL_HOLD (queued), or
 *  RL_RELEASE (queue full: dropped and counted; or NULL queue). */
int32_t rpmsg_queue_rx_cb(void *payload, uint32_t payload_len, uint32_t src, void *priv);

/** Create a queue of 2 * RL_BUFFER_COUNT entries in caller storage
 *  (`queue_storage`: RL_ENV_QUEUE_STATIC_STORAGE_SIZE bytes, any alignment).
 *  Thread context. Returns the handle or RL_NULL (NULL argument). */
rpmsg_queue_handle rpmsg_queue_create_static(struct rpmsg_lite_instance *rpmsg_lite_dev,
					     uint8_t *queue_storage,
					     rpmsg_static_queue_ctxt *queue_ctxt);

/** amplink extension: a queue of `capacity` entries (storage: capacity *
 *  sizeof(rpmsg_queue_rx_cb_data_t) bytes). Same returns, and RL_NULL for a
 *  capacity of 0. */
rpmsg_queue_handle al_rpmsg_queue_create_sized(struct rpmsg_lite_instance *rpmsg_lite_dev,
					       uint8_t *queue_storage, uint32_t capacity,
					       rpmsg_static_queue_ctxt *queue_ctxt);

#if !AMPLINK_NO_MALLOC
/** As rpmsg_queue_create_static(), with queue and storage allocated. */
rpmsg_queue_handle rpmsg_queue_create(struct rpmsg_lite_instance *rpmsg_lite_dev);
#endif

/** Destroy a queue: messages still queued have their buffers released; an
 *  allocated queue is freed. Destroy its endpoint first. Thread context.
 *  Returns RL_SUCCESS or RL_ERR_PARAM (NULL). */
int32_t rpmsg_queue_destroy(struct rpmsg_lite_instance *rpmsg_lite_dev, rpmsg_queue_handle q);

/** Take the oldest message, waiting up to `timeout` ms for one (0: never
 *  waits, any context; RL_BLOCK: no limit; otherwise blocking), copy it to
 *  `data` and release its buffer. *src and *len (each may be NULL) receive
 *  the sender and the message length. Returns RL_SUCCESS, RL_ERR_BUFF_SIZE
 *  (message longer than `maxlen`: nothing copied, *len set, the message is
 *  consumed), RL_ERR_NO_BUFF (nothing within the timeout) or RL_ERR_PARAM. */
int32_t rpmsg_queue_recv(struct rpmsg_lite_instance *rpmsg_lite_dev, rpmsg_queue_handle q,
			 uint32_t *src, char *data, uint32_t maxlen, uint32_t *len,
			 uintptr_t timeout);

/** As rpmsg_queue_recv() without the copy: *data points at the payload in
 *  the shared buffer, which stays held until rpmsg_queue_nocopy_free().
 *  Returns RL_SUCCESS, RL_ERR_NO_BUFF or RL_ERR_PARAM. */
int32_t rpmsg_queue_recv_nocopy(struct rpmsg_lite_instance *rpmsg_lite_dev, rpmsg_queue_handle q,
				uint32_t *src, char **data, uint32_t *len, uintptr_t timeout);

/** Release a buffer from rpmsg_queue_recv_nocopy(). Any context. Returns
 *  RL_SUCCESS or RL_ERR_PARAM. */
int32_t rpmsg_queue_nocopy_free(struct rpmsg_lite_instance *rpmsg_lite_dev, void *data);

/** Messages waiting in the queue, or RL_ERR_PARAM (NULL). Any context. */
int32_t rpmsg_queue_get_current_size(rpmsg_queue_handle q);

/** amplink extension: messages dropped because the queue was full. Any
 *  context; 0 for NULL. */
uint32_t al_rpmsg_queue_dropped(rpmsg_queue_handle q);

#if RL_USE_STATIC_API && !defined(AMPLINK_LITE_BUILD)
#define rpmsg_queue_create rpmsg_queue_create_static
#endif

#ifdef __cplusplus
}
#endif
#endif
