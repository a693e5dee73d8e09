/* mps2-an386 board layer: console, doorbell UART and its interrupt, the
 * raw-echo UART2 of benchmark baselines,
 * SysTick millisecond clock (see board.h). */
#include "board.h"

#include <stddef.h>

#include "cmsdk_uart.h"

/* System control space: SysTick and the NVIC (ARMv7-M ARM, B3.3 / B3.4). */
#define SYST_CSR	       (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR	       (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR	       (*(volatile uint32_t *)0xE000E018u)
#define SYST_CSR_ENABLE	       (1u << 0)
#define SYST_CSR_TICKINT       (1u << 1)
#define SYST_CSR_CLKSOURCE_CPU (1u << 2)
#define NVIC_ISER0	       (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ICER0	       (*(volatile uint32_t *)0xE000E180u)
#define NVIC_IPR(irq)	       (*(volatile uint8_t *)(0xE000E400u + (irq)))

#define IRQ_UART1_RX 2u
#define IRQ_UART2_RX 4u

/* The link UART1's interrupt serves; NULL while detached. */
static struct al_baremetal *volatile doorbell_link;

void board_init(void)
{
	cmsdk_uart_init(MPS2_UART0, false);
	cmsdk_uart_init(MPS2_UART1, true);
	SYST_RVR = BOARD_CPU_HZ / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = SYST_CSR_CLKSOURCE_CPU | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

void board_puts(const char *s)
{
	while (*s) {
		if (*s == '\n')
			cmsdk_uart_putc(MPS2_UART0, '\r');
		cmsdk_uart_putc(MPS2_UART0, (uint8_t)*s++);
	}
}

void board_put_hex(uint32_t v)
{
	char buf[11] = "0x";
	for (int i = 0; i < 8; i++)
		buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15u];
	buf[10] = '\0';
	board_puts(buf);
}

void board_doorbell_ring(void *ctx, uint32_t notifyid)
{
	(void)ctx;
	(void)cmsdk_uart_try_putc(MPS2_UART1, (uint8_t)notifyid);
}

/* The core's store->load barrier, completed for QEMU (AL_PORT_FULL_BARRIER,
 * src/common/shm_access.h): the DMB orders the core's own accesses, and any
 * device register access takes QEMU's global lock, a locked instruction
 * that drains the host CPU's store buffer, so that the host process sees
 * our index store before we read its event index. UART1's STATE: reading
 * it changes nothing. */
void board_full_barrier(void)
{
	__asm__ volatile("dmb" : : : "memory");
	(void)MPS2_UART1->state;
	__asm__ volatile("" : : : "memory");
}

void board_doorbell_attach(struct al_baremetal *bm)
{
	doorbell_link = bm;
	NVIC_ISER0 = 1u << IRQ_UART1_RX;
}

void board_doorbell_detach(void)
{
	NVIC_ICER0 = 1u << IRQ_UART1_RX;
	__asm__ volatile("dsb\n\tisb" : : : "memory"); /* no handler runs after this */
	doorbell_link = NULL;
}

/* NVIC IRQ 2. Acknowledge first, then look at the rings: a doorbell rung
 * while we deliver raises the interrupt again, so none is lost. */
void UART1RX_IRQHandler(void)
{
	(void)cmsdk_uart_rx_drain(MPS2_UART1);
	struct al_baremetal *bm = doorbell_link;
	if (bm)
		(void)al_baremetal_doorbell_irq(bm);
}

/* The baseline's interrupt runs below the RPMsg doorbell's: its handler
 * keeps looping while the host streams kicks (a raw ring phase can keep it
 * busy for a second or more), and at equal priority the doorbell, and with
 * it the heartbeat's answer, would wait all that time: the host would
 * declare the core dead. Priority 0 (reset value) stays the doorbell's. */
void board_raw_echo_enable(void)
{
	cmsdk_uart_init(MPS2_UART2, true);
	NVIC_IPR(IRQ_UART2_RX) = 0x80u;
	NVIC_ISER0 = 1u << IRQ_UART2_RX;
}

static void (*volatile raw_hook)(uint8_t c);

void board_raw_set_hook(void (*hook)(uint8_t c))
{
	raw_hook = hook;
}

void board_raw_putc(uint8_t c)
{
	cmsdk_uart_putc(MPS2_UART2, c);
}

/* NVIC IRQ 4: each byte straight back (acknowledge before reading, as for
 * the doorbell); with a hook, bytes >= 0x80 go to the hook instead. */
void UART2RX_IRQHandler(void)
{
	MPS2_UART2->intstatus = CMSDK_UART_INT_RX;
	while (MPS2_UART2->state & CMSDK_UART_STATE_RXFULL) {
		uint8_t c = (uint8_t)MPS2_UART2->data;
		MPS2_UART2->intstatus = CMSDK_UART_INT_RX;
		void (*hook)(uint8_t) = raw_hook;
		if (hook && c >= 0x80u)
			hook(c);
		else
			cmsdk_uart_putc(MPS2_UART2, c);
	}
}

void SysTick_Handler(void)
{
	al_baremetal_tick();
}
