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

#ifdef __cplusplus
}
#endif
#endif
