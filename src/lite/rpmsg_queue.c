/* RPMsg-Lite's blocking receive queue (rpmsg_queue.h): a bounded ring of
 * held receive buffers, filled in receive context, emptied by threads that
 * wait through the link's port hooks. */
#define AMPLINK_LITE_BUILD
#include "amplink/rpmsg_queue.h"

#include <string.h>
#if !AMPLINK_NO_MALLOC
#include "amplink/rpmsg_env.h"
#endif

#include "lite_internal.h"

#define ENTRY sizeof(rpmsg_queue_rx_cb_data_t)

/* How often a consumer retries giving back a buffer the receive context may
 * not have finished holding yet (see q_release). */
#define RELEASE_RETRIES 10

/* Producer: the single receive context of the queue's link. It owns `tail`,
 * reads `head`; consumers own `head` (under the port lock among themselves)
 * and read `tail`. Entries are published before `tail` moves. */
int32_t rpmsg_queue_rx_cb(void *payload, uint32_t payload_len, uint32_t src, void *priv)
{
	struct rpmsg_queue *q = priv;
	if (!q)
		return RL_RELEASE;
	uint32_t t = q->tail;
	if (t - __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) >= q->capacity) {
		q->dropped++;
		return RL_RELEASE;
	}
	struct rpmsg_virtio_device *rv = &q->rl->rvdev;
	/* Hold before a consumer can see it (the callback's RL_HOLD repeats it). */
	(void)al_dev_hold_rx_buffer(&q->rl->rvdev.rdev, payload);
	rpmsg_queue_rx_cb_data_t m = {src, payload, payload_len};
	memcpy(q->ring + (t % q->capacity) * ENTRY, &m, ENTRY);
	__atomic_store_n(&q->tail, t + 1u, __ATOMIC_RELEASE);
	if (rv->ops->wake)
		rv->ops->wake(rv->port_ctx);
	return RL_HOLD;
}

static rpmsg_queue_handle q_init(struct rpmsg_lite_instance *rl, uint8_t *storage,
				 uint32_t capacity, struct rpmsg_queue *q)
{
	if (!rl || !storage || !q || capacity == 0)
		return NULL;
	q->rl = rl;
	q->ring = storage;
	q->capacity = capacity;
	q->esize = ENTRY;
	q->head = q->tail = q->dropped = 0;
	AL_LITE_MARK(q, 0);
	return q;
}

rpmsg_queue_handle rpmsg_queue_create_static(struct rpmsg_lite_instance *rpmsg_lite_dev,
					     uint8_t *queue_storage,
					     rpmsg_static_queue_ctxt *queue_ctxt)
{
	return q_init(rpmsg_lite_dev, queue_storage, 2U * RL_BUFFER_COUNT, queue_ctxt);
}

rpmsg_queue_handle al_rpmsg_queue_create_sized(struct rpmsg_lite_instance *rpmsg_lite_dev,
					       uint8_t *queue_storage, uint32_t capacity,
					       rpmsg_static_queue_ctxt *queue_ctxt)
{
	return q_init(rpmsg_lite_dev, queue_storage, capacity, queue_ctxt);
}

#if !AMPLINK_NO_MALLOC
rpmsg_queue_handle rpmsg_queue_create(struct rpmsg_lite_instance *rpmsg_lite_dev)
{
	struct rpmsg_queue *q = env_allocate_memory(sizeof(*q) + RL_ENV_QUEUE_STATIC_STORAGE_SIZE);
	if (!q || !q_init(rpmsg_lite_dev, (uint8_t *)(q + 1), 2U * RL_BUFFER_COUNT, q)) {
		env_free_memory(q);
		return NULL;
	}
	q->allocated = 1;
	return q;
}
#endif

/* Consumer: take the oldest entry, if any. */
static int q_take(struct rpmsg_queue *q, rpmsg_queue_rx_cb_data_t *m)
{
	struct rpmsg_virtio_device *rv = &q->rl->rvdev;
	int got = 0;
	if (rv->ops->lock)
		rv->ops->lock(rv->port_ctx);
	uint32_t h = q->head;
	if (__atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) != h) {
		memcpy(m, q->ring + (h % q->capacity) * ENTRY, ENTRY);
		__atomic_store_n(&q->head, h + 1u, __ATOMIC_RELEASE);
		got = 1;
	}
	if (rv->ops->unlock)
		rv->ops->unlock(rv->port_ctx);
	return got;
}

/* Take an entry, waiting up to `timeout` through the port's wait hook
 * (woken by rpmsg_queue_rx_cb). A port without clock or wait never waits. */
static int32_t q_get(struct rpmsg_queue *q, rpmsg_queue_rx_cb_data_t *m, uintptr_t timeout)
{
	const struct al_port_ops *ops = q->rl->rvdev.ops;
	void *ctx = q->rl->rvdev.port_ctx;
	if (!ops) /* instance not initialised, or deinitialised */
		return q_take(q, m) ? RL_SUCCESS : RL_ERR_NO_BUFF;
	uint32_t t = ops->wait && ops->time_ms ? al_lite_tmo(timeout) : 0;
	uint64_t start = t ? ops->time_ms(ctx) : 0;
	for (;;) {
		if (q_take(q, m))
			return RL_SUCCESS;
		if (t == 0)
			return RL_ERR_NO_BUFF;
		uint64_t waited = ops->time_ms(ctx) - start;
		if (t != AL_WAIT_FOREVER && waited >= t)
			return RL_ERR_NO_BUFF;
		ops->wait(ctx, t == AL_WAIT_FOREVER ? AL_WAIT_FOREVER : (uint32_t)(t - waited));
	}
}

/* Give a queued buffer back. The core marks a held buffer only when the
 * callback that held it returns, so a consumer on another CPU (or of higher
 * priority) can get here first: let the receive context finish and retry a
 * few times. Remove once the core marks buffers held at once. */
static int32_t q_release(struct rpmsg_lite_instance *rl, void *data)
{
	const struct al_port_ops *ops = rl->rvdev.ops;
	int32_t rc;
	for (int i = 0; (rc = rpmsg_lite_release_rx_buffer(rl, data)) != RL_SUCCESS && data &&
			i < RELEASE_RETRIES && ops && ops->wait;
	     i++)
		ops->wait(rl->rvdev.port_ctx, 1);
	return rc;
}

int32_t rpmsg_queue_destroy(struct rpmsg_lite_instance *rpmsg_lite_dev, rpmsg_queue_handle q)
{
	struct rpmsg_queue *rq = q;
	rpmsg_queue_rx_cb_data_t m;
	if (!rpmsg_lite_dev || !rq || rq->rl != rpmsg_lite_dev)
		return RL_ERR_PARAM;
	while (q_take(rq, &m))
		(void)q_release(rpmsg_lite_dev, m.data);
#if !AMPLINK_NO_MALLOC
	if (rq->allocated)
		env_free_memory(rq);
#endif
	return RL_SUCCESS;
}

int32_t rpmsg_queue_recv(struct rpmsg_lite_instance *rpmsg_lite_dev, rpmsg_queue_handle q,
			 uint32_t *src, char *data, uint32_t maxlen, uint32_t *len,
			 uintptr_t timeout)
{
	struct rpmsg_queue *rq = q;
	rpmsg_queue_rx_cb_data_t m;
	if (!rpmsg_lite_dev || !rq || !data || rq->rl != rpmsg_lite_dev)
		return RL_ERR_PARAM;
	int32_t rc = q_get(rq, &m, timeout);
	if (rc)
		return rc;
	if (src)
		*src = m.src;
	if (len)
		*len = m.len;
	if (m.len <= maxlen)
		memcpy(data, m.data, m.len);
	else
		rc = RL_ERR_BUFF_SIZE;
	return q_release(rpmsg_lite_dev, m.data) == RL_SUCCESS ? rc : RL_ERR_PARAM;
}

int32_t rpmsg_queue_recv_nocopy(struct rpmsg_lite_instance *rpmsg_lite_dev, rpmsg_queue_handle q,
				uint32_t *src, char **data, uint32_t *len, uintptr_t timeout)
{
	struct rpmsg_queue *rq = q;
	rpmsg_queue_rx_cb_data_t m;
	if (!rpmsg_lite_dev || !rq || !data || rq->rl != rpmsg_lite_dev)
		return RL_ERR_PARAM;
	int32_t rc = q_get(rq, &m, timeout);
	if (rc)
		return rc;
	if (src)
		*src = m.src;
	if (len)
		*len = m.len;
	*data = m.data;
	return RL_SUCCESS;
}

int32_t rpmsg_queue_nocopy_free(struct rpmsg_lite_instance *rpmsg_lite_dev, void *data)
{
	if (!rpmsg_lite_dev || !data)
		return RL_ERR_PARAM;
	return q_release(rpmsg_lite_dev, data);
}

int32_t rpmsg_queue_get_current_size(rpmsg_queue_handle q)
{
	struct rpmsg_queue *rq = q;
	if (!rq)
		return RL_ERR_PARAM;
	uint32_t h =
	    __atomic_load_n(&rq->head, __ATOMIC_ACQUIRE); /* head first: never above tail */
	return (int32_t)(__atomic_load_n(&rq->tail, __ATOMIC_ACQUIRE) - h);
}

uint32_t al_rpmsg_queue_dropped(rpmsg_queue_handle q)
{
	return q ? ((struct rpmsg_queue *)q)->dropped : 0;
}
