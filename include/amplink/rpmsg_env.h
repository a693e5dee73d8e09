/* The allocator hooks of RPMsg-Lite's environment layer, under its names:
 * the dynamic variants of the RPMsg-Lite-style API (rpmsg_lite_master_init,
 * rpmsg_lite_create_ept, rpmsg_queue_create, rpmsg_ns_bind) take their
 * memory from env_allocate_memory() and give it back with
 * env_free_memory(), so an RTOS's heap accounting sees them. amplink's
 * defaults (src/lite/rpmsg_env_alloc.c) use malloc and free; a port that
 * already implements RPMsg-Lite's environment defines both functions and
 * its definitions are linked instead. Not in an AMPLINK_NO_MALLOC build,
 * which allocates nothing. env_isr() exists with RL_PLATFORM_LAYER=1.
 */
#ifndef AMPLINK_RPMSG_ENV_H
#define AMPLINK_RPMSG_ENV_H

#include <stdint.h>

#include "amplink/rpmsg_queue.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The doorbell interrupt of a board port written for RPMsg-Lite calls this
 *  with the vector id of the queue that has work (RL_PLATFORM_LAYER=1):
 *  runs rpmsg_lite_isr() on the instance of that link. */
void env_isr(uint32_t vector);

/** `size` bytes, or NULL. Thread context. */
void *env_allocate_memory(uint32_t size);
/** Give back what env_allocate_memory() returned; NULL is ignored. */
void env_free_memory(void *ptr);

/* ---- the environment queue ---------------------------------------------------
 * RPMsg-Lite's message queue of fixed-size elements, copied in and out,
 * that applications also use between their own contexts; an rpmsg_queue
 * is one (its elements are rpmsg_queue_rx_cb_data_t, and env_get_queue()
 * takes from it as rpmsg_queue_recv_nocopy() does). One producing and one
 * consuming context at a time. Timeouts in ms (RL_BLOCK: no limit) wait
 * through the link's port for an rpmsg_queue, through the board's
 * platform_time_delay() with RL_PLATFORM_LAYER=1, and not at all
 * otherwise (there is no clock to wait by). */

/** A queue of `length` elements of `element_size` bytes in caller storage
 *  (`queue_static_storage`: length * element_size bytes; the context: an
 *  rpmsg_static_queue_ctxt). *queue receives the handle. 0, or -1 (bad
 *  argument). Under RL_USE_STATIC_API it is RPMsg-Lite's
 *  env_create_queue(). */
int32_t al_env_create_queue_static(void **queue, int32_t length, int32_t element_size,
				   uint8_t *queue_static_storage,
				   rpmsg_static_queue_ctxt *queue_static_context);
#if !AMPLINK_NO_MALLOC
/** The same, storage from env_allocate_memory(). 0 or -1. */
int32_t env_create_queue(void **queue, int32_t length, int32_t element_size);
#endif
/** Forget a queue (free one env_create_queue() allocated). */
void env_delete_queue(void *queue);
/** Copy one element in, waiting up to `timeout_ms` for room: 1, or 0 (full,
 *  bad argument). */
int32_t env_put_queue(void *queue, void *msg, uintptr_t timeout_ms);
/** Copy the oldest element out, waiting up to `timeout_ms`: 1, or 0 (empty,
 *  bad argument). */
int32_t env_get_queue(void *queue, void *msg, uintptr_t timeout_ms);
/** Elements waiting (0 for NULL). */
int32_t env_get_current_queue_size(void *queue);

#if RL_USE_STATIC_API && !defined(AMPLINK_LITE_BUILD)
#define env_create_queue al_env_create_queue_static
#endif

#ifdef __cplusplus
}
#endif
#endif
