/* RTOS adapter (port_rtos.h): builds port.h's hooks out of an RTOS's
 * mutex, semaphores and tick count. Kernel-neutral: the RTOS-specific part
 * is the application's struct al_rtos_env of one-line wrappers. */
#include "amplink/port_rtos.h"

#include <stddef.h>

static void rt_notify(void *ctx, uint32_t notifyid)
{
	struct al_rtos *rt = ctx;
	rt->env->doorbell_ring(rt->board, notifyid);
}

static void rt_lock(void *ctx)
{
	struct al_rtos *rt = ctx;
	rt->env->mutex_lock(rt->mutex);
}

static void rt_unlock(void *ctx)
{
	struct al_rtos *rt = ctx;
	rt->env->mutex_unlock(rt->mutex);
}

static uint64_t rt_time(void *ctx)
{
	return ((struct al_rtos *)ctx)->env->time_ms();
}

/* Count ourselves as a waiter so that wake() gives one token per sleeper:
 * a semaphore wakes one task per give, and port.h's wake must reach all.
 * A token given between the increment and the take is kept by the
 * semaphore, so no wake-up is lost; surplus tokens only cause spurious
 * returns, which the core tolerates. */
static void rt_wait(void *ctx, uint32_t timeout_ms)
{
	struct al_rtos *rt = ctx;
	__atomic_fetch_add(&rt->waiters, 1u, __ATOMIC_SEQ_CST);
	rt->env->sem_take(rt->wake_sem, timeout_ms);
	__atomic_fetch_sub(&rt->waiters, 1u, __ATOMIC_SEQ_CST);
}

static void rt_wake(void *ctx)
{
	struct al_rtos *rt = ctx;
	for (uint32_t n = __atomic_load_n(&rt->waiters, __ATOMIC_SEQ_CST); n > 0; n--)
		rt->env->sem_give(rt->wake_sem);
}

const struct al_port_ops al_rtos_ops = {
    .notify = rt_notify,
    .lock = rt_lock,
    .unlock = rt_unlock,
    .time_ms = rt_time,
    .wait = rt_wait,
    .wake = rt_wake,
    .cache_flush = NULL,
    .cache_invalidate = NULL,
};

void al_rtos_init(struct al_rtos *rt, const struct al_rtos_env *env,
		  struct rpmsg_virtio_device *rvdev, void *mutex, void *wake_sem, void *rx_sem,
		  void *board)
{
	rt->env = env;
	rt->rvdev = rvdev;
	rt->mutex = mutex;
	rt->wake_sem = wake_sem;
	rt->rx_sem = rx_sem;
	rt->board = board;
	rt->waiters = 0;
	rt->stop = false;
}

void al_rtos_doorbell_isr(struct al_rtos *rt)
{
	rt->env->sem_give(rt->rx_sem);
}

void al_rtos_rx_task(struct al_rtos *rt)
{
	while (!rt->stop) {
		rt->env->sem_take(rt->rx_sem, AL_WAIT_FOREVER);
		if (!rt->stop)
			(void)al_virtio_notified(rt->rvdev);
	}
}

void al_rtos_stop(struct al_rtos *rt)
{
	rt->stop = true;
	rt->env->sem_give(rt->rx_sem);
}
