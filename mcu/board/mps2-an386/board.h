/* Board layer for QEMU's mps2-an386 (Cortex-M4): what firmware images use
 * of the board. UART0 is the console, UART1 the doorbell to the Linux host
 * (one byte each way means "look at the rings"), the PSRAM at 0x21000000
 * the shared region, SysTick the 1 ms clock of the bare-metal port. */
#ifndef MPS2_AN386_BOARD_H
#define MPS2_AN386_BOARD_H

#include <stdint.h>

#include "amplink/port_baremetal.h"

/* The shared region: the host sees the same bytes at file offset
 * (address - BOARD_SHM_BASE); device addresses on the wire are these
 * guest-physical addresses, so da == va on this side. */
#define BOARD_SHM_BASE 0x21000000u
#define BOARD_SHM_SIZE 0x01000000u

/* QEMU clocks the MPS2 CPU (and SysTick's processor clock) at 25 MHz. */
#define BOARD_CPU_HZ 25000000u

/** Console and doorbell UARTs up, SysTick at 1 ms; the doorbell interrupt
 *  stays off until board_doorbell_attach(). Call first thing in main. */
void board_init(void);

/** Console output on UART0 (blocking, polled). */
void board_puts(const char *s);
void board_put_hex(uint32_t v);

/** The port's notify hook (put it in AL_BAREMETAL_OPS): one byte on
 *  UART1. If the previous byte has not left yet, the host has yet to see
 *  that doorbell and will look at the rings after it anyway, so nothing
 *  is written and the call never waits. Any context. */
void board_doorbell_ring(void *ctx, uint32_t notifyid);

/** Route UART1's receive interrupt (NVIC IRQ 2) to the link of `bm` and
 *  enable it. A doorbell that arrived earlier is delivered at once.
 *  Thread context. */
void board_doorbell_attach(struct al_baremetal *bm);

/** Benchmark baseline: UART2 (NVIC IRQ 4) becomes a raw
 *  doorbell echo: every byte the host writes there is written straight
 *  back from the interrupt handler, touching no ring. The host measures the
 *  bare doorbell round trip on it next to the RPMsg link. Thread context. */
void board_raw_echo_enable(void);

/** Benchmark baseline: with a hook set, UART2 bytes >= 0x80 are handed to
 *  it (in the UART2 interrupt) instead of being echoed; bytes < 0x80 are
 *  still echoed. NULL: echo everything. */
void board_raw_set_hook(void (*hook)(uint8_t c));

/** One byte out on UART2 (waits while the previous one is still leaving). */
void board_raw_putc(uint8_t c);

/** Disable the doorbell interrupt again (e.g. before rpmsg_deinit_vdev). */
void board_doorbell_detach(void);

/* The core's full barrier on this board (AL_PORT_FULL_BARRIER): a DMB and a
 * device register read, which is a fence on QEMU's host too. Any context. */
void board_full_barrier(void);

#endif
