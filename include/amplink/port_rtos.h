/* The RTOS environment hook set: how a port for an RTOS (FreeRTOS, Zephyr,
 * RT-Thread, ThreadX...) maps onto port.h, as a ready adapter.
 *
 * An RTOS port fills a `struct al_rtos_env` with thin wrappers around its
 * kernel objects (each wrapper is one call: xSemaphoreTake, k_sem_take,
 * rt_sem_take...) and gets a complete `struct al_port_ops`, al_rtos_ops:
 *
 *   port.h hook   RTOS object                  notes
 *   lock/unlock   mutex                        task context only (see below)
 *   wait/wake     counting semaphore           wake gives once per waiter
 *   time_ms       tick count * tick period     monotonic
 *   notify        board doorbell               any context
 *   (doorbell)    semaphore, ISR -> rx task    rx task calls notified()
 *
 * The doorbell interrupt does not call into the core: it gives `rx_sem`
 * (al_rtos_doorbell_isr) and a receive task loops in al_rtos_rx_task(),
 * which calls al_virtio_notified(). Endpoint callbacks therefore run in
 * that task, so the lock can be a real mutex (an ISR cannot take one).
 * An RTOS port that prefers callbacks in the ISR must instead make
 * mutex_lock/mutex_unlock a critical section that masks the doorbell
 * interrupt (taskENTER_CRITICAL / irq_lock), exactly as the bare-metal port.
 *
 * Every object is created by the application with the RTOS's static
 * allocation API and passed in as an opaque pointer: nothing here
 * allocates.
 */
#ifndef AMPLINK_PORT_RTOS_H
#define AMPLINK_PORT_RTOS_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/port.h"
#include "amplink/rpmsg_virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The environment hooks. Timeouts are milliseconds, AL_WAIT_FOREVER
 *  blocks without limit; 0 polls. */
struct al_rtos_env {
	/** Non-recursive mutex (priority inheritance recommended). Task
	 *  context. */
	void (*mutex_lock)(void *mutex);
	void (*mutex_unlock)(void *mutex);
	/** Counting semaphore. give: any context, ISRs included (use the
	 *  FromISR variant when in one). take: task context; returns when
	 *  given or when timeout_ms passed. */
	void (*sem_give)(void *sem);
	void (*sem_take)(void *sem, uint32_t timeout_ms);
	/** Monotonic milliseconds (e.g. xTaskGetTickCount() * portTICK_PERIOD_MS,
	 *  widened to 64 bits by the wrapper). Any context. */
	uint64_t (*time_ms)(void);
	/** Ring the peer's doorbell. Any context, must not block. */
	void (*doorbell_ring)(void *board, uint32_t notifyid);
	/** Optional, never called by the core: a message queue of fixed-size
	 *  items for layers that hand received messages from the callback to a
	 *  reading task (the blocking receive of a façade, e.g. an rpmsg_queue).
	 *  put: from the receive task or an ISR, never blocks, false if full.
	 *  get: task context, false on timeout. */
	bool (*queue_put)(void *queue, const void *item);
	bool (*queue_get)(void *queue, void *item, uint32_t timeout_ms);
};

/** One link's port state (the port_ctx of its virtio_device). */
struct al_rtos {
	const struct al_rtos_env *env;
	struct rpmsg_virtio_device *rvdev;
	void *mutex;	/* the device lock */
	void *wake_sem; /* counting, initially 0: blocked senders sleep here */
	void *rx_sem;	/* counting or binary, initially 0: doorbells */
	void *board;	/* passed to env->doorbell_ring */
	volatile uint32_t waiters;
	volatile bool stop;
};

/** The port ops; port_ctx must be a struct al_rtos *. */
extern const struct al_port_ops al_rtos_ops;

/** Fill `rt` (objects already created by the application). Task context,
 *  before rpmsg_init_vdev(). */
void al_rtos_init(struct al_rtos *rt, const struct al_rtos_env *env,
		  struct rpmsg_virtio_device *rvdev, void *mutex, void *wake_sem, void *rx_sem,
		  void *board);

/** Doorbell interrupt: acknowledge the source, then call this. ISR. */
void al_rtos_doorbell_isr(struct al_rtos *rt);

/** Body of the receive task: wait for doorbells and deliver messages
 *  until al_rtos_stop(). Endpoint callbacks run here. */
void al_rtos_rx_task(struct al_rtos *rt);

/** Make al_rtos_rx_task() return (after its current round). Any context. */
void al_rtos_stop(struct al_rtos *rt);

#ifdef __cplusplus
}
#endif
#endif
