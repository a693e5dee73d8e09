/* RPMsg-Lite's environment queue (amplink/rpmsg_env.h) on the same ring as
 * rpmsg_queue: fixed-size elements copied in and out, one producer and one
 * consumer (each owns its index), waits through the link's port, the
 * board's platform_time_delay(), or not at all. */
#define AMPLINK_LITE_BUILD
#include "amplink/rpmsg_env.h"

#include <stdbool.h>
#include <string.h>

#include "lite_internal.h"
#include "wait.h"

#if RL_PLATFORM_LAYER
void platform_time_delay(uint32_t num_msec);
#endif

static int32_t e_init(void **queue, int32_t length, int32_t esize, uint8_t *storage,
		      struct rpmsg_queue *q)
{
	if (!queue || length <= 0 || esize <= 0 || !storage || !q)
		return -1;
	memset(q, 0, sizeof(*q));
	q->ring = storage;
	q->capacity = (uint32_t)length;
	q->esize = (uint32_t)esize;
	*queue = q;
	return 0;
}

int32_t al_env_create_queue_static(void **queue, int32_t length, int32_t element_size,
				   uint8_t *queue_static_storage,
				   rpmsg_static_queue_ctxt *queue_static_context)
{
	return e_init(queue, length, element_size, queue_static_storage, queue_static_context);
}

#if !AMPLINK_NO_MALLOC
int32_t env_create_queue(void **queue, int32_t length, int32_t element_size)
{
	if (length <= 0 || element_size <= 0 ||
	    (uint64_t)length * (uint64_t)element_size > UINT32_MAX - sizeof(struct rpmsg_queue))
		return -1;
	struct rpmsg_queue *q =
	    env_allocate_memory((uint32_t)(sizeof(*q) + (uint32_t)length * (uint32_t)element_size));
	if (!q || e_init(queue, length, element_size, (uint8_t *)(q + 1), q)) {
		env_free_memory(q);
		return -1;
	}
	q->allocated = 1;
	return 0;
}
#endif

void env_delete_queue(void *queue)
{
#if !AMPLINK_NO_MALLOC
	struct rpmsg_queue *q = queue;
	if (q && q->allocated)
		env_free_memory(q);
#else
	(void)queue;
#endif
}

/* A wait in progress: the core's wait primitive on the port's clock for
 * an rpmsg_queue, else ms slept through the board. */
struct e_wait {
	const struct al_port_ops *ops; /* NULL: no port clock */
	void *ctx;
	struct al_wait w;
	uint32_t t, slept;
};

static void wait_start(struct e_wait *w, struct rpmsg_queue *q, uintptr_t timeout)
{
	w->ops = q->rl ? q->rl->rvdev.ops : NULL;
	w->ctx = q->rl ? q->rl->rvdev.port_ctx : NULL;
	if (w->ops && (!w->ops->wait || !w->ops->time_ms))
		w->ops = NULL;
	w->t = al_lite_tmo(timeout);
	if (w->ops)
		al_wait_start(&w->w, w->ops, w->t);
	w->slept = 0;
}

/* Sleep a little if time is left: false when the wait is over. */
static bool wait_more(struct e_wait *w)
{
	if (w->t == 0)
		return false;
	if (w->ops) {
		uint32_t left = al_wait_left(&w->w, w->ops, w->ctx);
		if (!left)
			return false;
		w->ops->wait(w->ctx, left == AL_WAIT_FOREVER ? 10u : left);
		return true;
	}
#if RL_PLATFORM_LAYER
	if (w->t != AL_WAIT_FOREVER && w->slept >= w->t)
		return false;
	platform_time_delay(1U);
	w->slept++;
	return true;
#else
	return false; /* no clock to wait by */
#endif
}

int32_t env_put_queue(void *queue, void *msg, uintptr_t timeout_ms)
{
	struct rpmsg_queue *q = queue;
	if (!q || !msg)
		return 0;
	struct e_wait w;
	wait_start(&w, q, timeout_ms);
	do {
		uint32_t t = q->tail;
		if (t - __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) < q->capacity) {
			memcpy(q->ring + (t % q->capacity) * q->esize, msg, q->esize);
			__atomic_store_n(&q->tail, t + 1u, __ATOMIC_RELEASE);
			if (w.ops && w.ops->wake)
				w.ops->wake(w.ctx);
			return 1;
		}
	} while (wait_more(&w));
	return 0;
}

int32_t env_get_queue(void *queue, void *msg, uintptr_t timeout_ms)
{
	struct rpmsg_queue *q = queue;
	if (!q || !msg)
		return 0;
	struct e_wait w;
	wait_start(&w, q, timeout_ms);
	do {
		uint32_t h = q->head;
		if (__atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) != h) {
			memcpy(msg, q->ring + (h % q->capacity) * q->esize, q->esize);
			__atomic_store_n(&q->head, h + 1u, __ATOMIC_RELEASE);
			return 1;
		}
	} while (wait_more(&w));
	return 0;
}

int32_t env_get_current_queue_size(void *queue)
{
	struct rpmsg_queue *q = queue;
	return q ? (int32_t)(__atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) - q->head) : 0;
}
