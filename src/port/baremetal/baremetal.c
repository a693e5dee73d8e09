/* The bare-metal port (port_baremetal.h): interrupt masking as the lock, a
 * tick-driven millisecond clock, WFI or doorbell polling as the wait. No
 * OS, no heap, a few dozen instructions: this file counts against the
 * library's code size on a microcontroller, so it stays minimal. */
#include "amplink/port_baremetal.h"

#include <stddef.h>

#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
/* Cortex-M: PRIMASK masks every configurable interrupt; reading it before
 * `cpsid i` makes the pair nest inside code that already masked them. */
static inline uint32_t irq_save(void)
{
	uint32_t s;
	__asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(s) : : "memory");
	return s;
}
static inline void irq_restore(uint32_t s)
{
	__asm__ volatile("msr primask, %0" : : "r"(s) : "memory");
}
/* WFI wakes on a pending interrupt even with PRIMASK set, which is what
 * makes "check the flag, then sleep" free of lost wake-ups. The DSB
 * completes outstanding stores (a doorbell write) before sleeping. */
static inline void wait_for_irq(void)
{
	__asm__ volatile("dsb\n\twfi" : : : "memory");
}
#else
static inline uint32_t irq_save(void)
{
	return al_board_irq_save();
}
static inline void irq_restore(uint32_t s)
{
	al_board_irq_restore(s);
}
static inline void wait_for_irq(void)
{
	al_board_wait_for_irq();
}
#endif

/* One clock per CPU. 64 bits so that deadlines never wrap; read and
 * advanced with interrupts masked because the M4 cannot load or store 64
 * bits atomically with respect to an interrupt. */
static uint64_t now_ms;

void al_baremetal_tick(void)
{
	uint32_t s = irq_save();
	now_ms++;
	irq_restore(s);
}

uint64_t al_baremetal_now_ms(void)
{
	uint32_t s = irq_save();
	uint64_t t = now_ms;
	irq_restore(s);
	return t;
}

void al_baremetal_init(struct al_baremetal *bm, struct rpmsg_virtio_device *rvdev,
		       al_baremetal_poll_fn poll, void *board)
{
	bm->rvdev = rvdev;
	bm->poll = poll;
	bm->board = board;
	bm->irq_state = 0;
	bm->woken = 0;
}

int al_baremetal_doorbell_irq(struct al_baremetal *bm)
{
	int rc = al_virtio_notified(bm->rvdev);
	/* Whatever the doorbell changed (buffers back, link up, a message for
	 * a thread-mode loop), a sleeper should look again. */
	bm->woken = 1;
	return rc;
}

int al_baremetal_poll(struct al_baremetal *bm)
{
	if (!bm->poll || !bm->poll(bm))
		return 0;
	return al_baremetal_doorbell_irq(bm);
}

/* The lock is never taken twice (port.h), and nothing else runs while it
 * is held, so one saved-state slot per link is enough. */
void al_baremetal_lock(void *ctx)
{
	struct al_baremetal *bm = ctx;
	uint32_t s = irq_save();
	bm->irq_state = s;
}

void al_baremetal_unlock(void *ctx)
{
	struct al_baremetal *bm = ctx;
	irq_restore(bm->irq_state);
}

uint64_t al_baremetal_time_ms(void *ctx)
{
	(void)ctx;
	return al_baremetal_now_ms();
}

/* Return after the next interrupt (at most one tick away) or at once if
 * woken meanwhile: the core re-checks its condition and its deadline on
 * every return, so the timeout needs no handling here. Polled doorbells
 * are checked instead of sleeping. */
void al_baremetal_wait(void *ctx, uint32_t timeout_ms)
{
	struct al_baremetal *bm = ctx;
	(void)timeout_ms;
	if (bm->poll) {
		(void)al_baremetal_poll(bm);
		return;
	}
	uint32_t s = irq_save();
	if (!bm->woken)
		wait_for_irq();
	bm->woken = 0;
	irq_restore(s);
}

void al_baremetal_wake(void *ctx)
{
	((struct al_baremetal *)ctx)->woken = 1;
}
