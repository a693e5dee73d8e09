/* Reset and exception entry for mps2-an386: the vector table at address 0
 * (initial stack pointer, reset vector, the 15 system exceptions and the
 * board's 32 external interrupts) and the reset handler that sets up C
 * (.data copied from its load image, .bss zeroed) before main(). */
#include <stdint.h>
#include <string.h>

/* From mps2-an386.ld. */
extern uint32_t __stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);
void Reset_Handler(void);
void Default_Handler(void);

/* Weak: an image (or board.c) defines the handlers it needs. */
#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void HardFault_Handler(void) WEAK_DEFAULT;
void MemManage_Handler(void) WEAK_DEFAULT;
void BusFault_Handler(void) WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;
void UART0RX_IRQHandler(void) WEAK_DEFAULT; /* IRQ 0 */
void UART0TX_IRQHandler(void) WEAK_DEFAULT; /* IRQ 1 */
void UART1RX_IRQHandler(void) WEAK_DEFAULT; /* IRQ 2: the doorbell */
void UART1TX_IRQHandler(void) WEAK_DEFAULT; /* IRQ 3 */
void UART2RX_IRQHandler(void) WEAK_DEFAULT; /* IRQ 4: raw doorbell echo (benchmark baseline) */

/* Entry 0 is a stack address, the rest are handlers: a union keeps both
 * kinds of pointer without casting one into the other. */
union vector {
	uint32_t *sp;
	void (*handler)(void);
};

#define NUM_IRQS 32
#define DEFAULT1                                                                                   \
	{                                                                                          \
		.handler = Default_Handler                                                         \
	}
#define DEFAULT4 DEFAULT1, DEFAULT1, DEFAULT1, DEFAULT1
#define DEFAULT8 DEFAULT4, DEFAULT4

__attribute__((section(".vectors"), used)) const union vector vectors[16 + NUM_IRQS] = {
    [0] = {.sp = __stack_top},
    [1] = {.handler = Reset_Handler},
    [2] = {.handler = NMI_Handler},
    [3] = {.handler = HardFault_Handler},
    [4] = {.handler = MemManage_Handler},
    [5] = {.handler = BusFault_Handler},
    [6] = {.handler = UsageFault_Handler},
    [11] = {.handler = SVC_Handler},
    [12] = {.handler = DebugMon_Handler},
    [14] = {.handler = PendSV_Handler},
    [15] = {.handler = SysTick_Handler},
    [16 + 0] = {.handler = UART0RX_IRQHandler},
    [16 + 1] = {.handler = UART0TX_IRQHandler},
    [16 + 2] = {.handler = UART1RX_IRQHandler},
    [16 + 3] = {.handler = UART1TX_IRQHandler},
    [16 + 4] = {.handler = UART2RX_IRQHandler},
    /* IRQs 5..31: nothing on this board's images uses them. */
    DEFAULT8,
    DEFAULT8,
    DEFAULT8,
    DEFAULT1,
    DEFAULT1,
    DEFAULT1,
};

void Reset_Handler(void)
{
	memcpy(__data_start, __data_load,
	       (size_t)((uint8_t *)__data_end - (uint8_t *)__data_start));
	memset(__bss_start, 0, (size_t)((uint8_t *)__bss_end - (uint8_t *)__bss_start));
	(void)main();
	for (;;)
		__asm__ volatile("wfi");
}

/* An unexpected exception: stop here, where a debugger finds it (QEMU
 * -s -S, then gdb's `bt`). */
void Default_Handler(void)
{
	for (;;) {
	}
}
