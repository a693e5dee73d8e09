/* Driver for the ARM CMSDK APB UART as QEMU models it on the MPS2 boards
 * (a console on UART0, a doorbell on UART1). No FIFO: one byte each way. */
#ifndef MPS2_CMSDK_UART_H
#define MPS2_CMSDK_UART_H

#include <stdbool.h>
#include <stdint.h>

struct cmsdk_uart {
	volatile uint32_t data;	     /* 0x00 RX/TX byte */
	volatile uint32_t state;     /* 0x04 TXFULL, RXFULL, overruns */
	volatile uint32_t ctrl;	     /* 0x08 enables */
	volatile uint32_t intstatus; /* 0x0C read: status; write 1: clear */
	volatile uint32_t bauddiv;   /* 0x10 */
};

#define CMSDK_UART_STATE_TXFULL	 (1u << 0)
#define CMSDK_UART_STATE_RXFULL	 (1u << 1)
#define CMSDK_UART_CTRL_TX_EN	 (1u << 0)
#define CMSDK_UART_CTRL_RX_EN	 (1u << 1)
#define CMSDK_UART_CTRL_TX_INTEN (1u << 2)
#define CMSDK_UART_CTRL_RX_INTEN (1u << 3)
#define CMSDK_UART_INT_TX	 (1u << 0)
#define CMSDK_UART_INT_RX	 (1u << 1)

#define MPS2_UART0 ((struct cmsdk_uart *)0x40004000u)
#define MPS2_UART1 ((struct cmsdk_uart *)0x40005000u)
#define MPS2_UART2 ((struct cmsdk_uart *)0x40006000u)

/** Enable TX and RX; `rx_irq` also enables the RX interrupt (the NVIC line
 *  is the caller's business). */
void cmsdk_uart_init(struct cmsdk_uart *u, bool rx_irq);

/** Send one byte, waiting while the transmitter is full. */
void cmsdk_uart_putc(struct cmsdk_uart *u, uint8_t c);

/** Send one byte unless one is still waiting to go: true if written. */
bool cmsdk_uart_try_putc(struct cmsdk_uart *u, uint8_t c);

/** RX interrupt service: acknowledge the interrupt, then read every byte
 *  there is. Returns how many bytes were read. */
unsigned cmsdk_uart_rx_drain(struct cmsdk_uart *u);

#endif
