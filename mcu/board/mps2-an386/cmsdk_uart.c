/* CMSDK APB UART driver (see cmsdk_uart.h). */
#include "cmsdk_uart.h"

void cmsdk_uart_init(struct cmsdk_uart *u, bool rx_irq)
{
	/* QEMU rejects (and logs) a divider below 16; the rate itself means
	 * nothing to an emulated UART. */
	u->bauddiv = 16;
	u->intstatus = CMSDK_UART_INT_TX | CMSDK_UART_INT_RX;
	u->ctrl = CMSDK_UART_CTRL_TX_EN | CMSDK_UART_CTRL_RX_EN |
		  (rx_irq ? CMSDK_UART_CTRL_RX_INTEN : 0u);
}

void cmsdk_uart_putc(struct cmsdk_uart *u, uint8_t c)
{
	while (u->state & CMSDK_UART_STATE_TXFULL) {
	}
	u->data = c;
}

bool cmsdk_uart_try_putc(struct cmsdk_uart *u, uint8_t c)
{
	if (u->state & CMSDK_UART_STATE_TXFULL)
		return false;
	u->data = c;
	return true;
}

/* Clear the interrupt before reading DATA: a byte that arrives after the
 * read raises it again. Clearing after the read could wipe that new
 * interrupt and leave the byte unseen (the UART has no FIFO, so QEMU holds
 * further bytes back until this one is read). */
unsigned cmsdk_uart_rx_drain(struct cmsdk_uart *u)
{
	unsigned n = 0;
	u->intstatus = CMSDK_UART_INT_RX;
	while (u->state & CMSDK_UART_STATE_RXFULL) {
		(void)u->data;
		n++;
		u->intstatus = CMSDK_UART_INT_RX;
	}
	return n;
}
