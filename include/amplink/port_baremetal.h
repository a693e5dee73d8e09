/* The bare-metal port: amplink on a microcontroller with no OS.
 *
 * What it provides (struct al_port_ops, see port.h):
 *   lock / unlock  interrupt disable / restore (PRIMASK on Cortex-M): the
 *                  doorbell ISR is the only other context, so masking it is
 *                  the whole critical section;
 *   time_ms        a millisecond counter advanced by al_baremetal_tick(),
 *                  which the board calls from its SysTick (or timer) ISR;
 *   wait           ISR-driven: sleep (WFI) until an interrupt or wake();
 *                  polled: poll the board's doorbell once and, if it rang,
 *                  run al_virtio_notified() right there;
 *   wake           sets a flag that makes the next wait return at once;
 *   notify         the board's doorbell ring function, called directly
 *                  (no extra indirection: it is put into the ops table by
 *                  AL_BAREMETAL_OPS()).
 *
 * What a board provides (the board interface, a handful of functions):
 *   - a ring function `void ring(void *ctx, uint32_t notifyid)` that kicks
 *     the peer (ctx is the struct al_baremetal *); required;
 *   - either a doorbell ISR that calls al_baremetal_doorbell_irq(), or a
 *     `poll` function given to al_baremetal_init() for a doorbell without
 *     an interrupt line;
 *   - a 1 ms tick ISR that calls al_baremetal_tick();
 *   - on a core other than Cortex-M: al_board_irq_save(),
 *     al_board_irq_restore() and al_board_wait_for_irq() (see below).
 *
 * Contexts: receive callbacks run in the doorbell ISR (or, polled, inside
 * wait / al_baremetal_poll()). Blocking calls (send with a timeout,
 * al_virtio_wait_link_up) must be made from thread mode with interrupts
 * enabled, since their time only advances in the tick ISR.
 */
#ifndef AMPLINK_PORT_BAREMETAL_H
#define AMPLINK_PORT_BAREMETAL_H

#include <stdbool.h>
#include <stdint.h>

#include "amplink/port.h"
#include "amplink/rpmsg_virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

struct al_baremetal;

/** Board doorbell poll for boards whose doorbell has no interrupt: return
 *  true (and clear the indication) if the peer rang since the last call. */
typedef bool (*al_baremetal_poll_fn)(struct al_baremetal *bm);

/** One link's port state. Caller-allocated (static). Fields are private
 *  except `board`, free for the board's own use (e.g. which UART). */
struct al_baremetal {
	struct rpmsg_virtio_device *rvdev; /* the link the doorbell serves */
	al_baremetal_poll_fn poll;	   /* NULL: interrupt-driven doorbell */
	void *board;			   /* board's per-link data */
	uint32_t irq_state;		   /* interrupt mask saved by lock */
	volatile uint8_t woken;		   /* wake() since the last wait */
};

/** Set up the port state for the link `rvdev` (which need not be
 *  initialised yet). `poll` NULL means the board's doorbell ISR calls
 *  al_baremetal_doorbell_irq(). Thread context, before rpmsg_init_vdev(). */
void al_baremetal_init(struct al_baremetal *bm, struct rpmsg_virtio_device *rvdev,
		       al_baremetal_poll_fn poll, void *board);

/** The doorbell rang: deliver what the peer sent. Call from the doorbell
 *  ISR after acknowledging the interrupt source. Returns what
 *  al_virtio_notified() returns. */
int al_baremetal_doorbell_irq(struct al_baremetal *bm);

/** Polled boards: check the doorbell once and deliver if it rang (main
 *  loop). Returns the number of messages delivered or a negative error;
 *  0 if the doorbell had not rung. Thread context. */
int al_baremetal_poll(struct al_baremetal *bm);

/** Advance the millisecond clock by one. Call from a 1 ms tick ISR. */
void al_baremetal_tick(void);

/** The millisecond clock (one per CPU, shared by all links). Any context. */
uint64_t al_baremetal_now_ms(void);

/* The hooks, exposed so that AL_BAREMETAL_OPS can build a const table in
 * flash around the board's ring function. `ctx` is the struct
 * al_baremetal *. */
void al_baremetal_lock(void *ctx);
void al_baremetal_unlock(void *ctx);
uint64_t al_baremetal_time_ms(void *ctx);
void al_baremetal_wait(void *ctx, uint32_t timeout_ms);
void al_baremetal_wake(void *ctx);

/** Initialiser for a `const struct al_port_ops` whose notify hook is the
 *  board's ring function `void ring(void *ctx, uint32_t notifyid)`.
 *  Cortex-M4 has no data cache: the cache hooks stay NULL. */
#define AL_BAREMETAL_OPS(ring)                                                                     \
	{                                                                                          \
		.notify = (ring), .lock = al_baremetal_lock, .unlock = al_baremetal_unlock,        \
		.time_ms = al_baremetal_time_ms, .wait = al_baremetal_wait,                        \
		.wake = al_baremetal_wake, .cache_flush = NULL, .cache_invalidate = NULL,          \
	}

/* Cores other than ARMv6-M/v7-M/v8-M: the board supplies these three (on
 * Cortex-M the port uses PRIMASK and WFI itself). save disables interrupts
 * and returns the previous state; wait_for_irq must return when an
 * interrupt is pending even while interrupts are disabled (as WFI does). */
uint32_t al_board_irq_save(void);
void al_board_irq_restore(uint32_t state);
void al_board_wait_for_irq(void);

#ifdef __cplusplus
}
#endif
#endif
