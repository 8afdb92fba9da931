/* The hypervisor's own serial console on COM1 (115200 8N1, polled). */
#include "uart_hw.h"
#include "cpu_hw.h"

#define COM1 0x3f8

void uart_hw_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void uart_putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		cpu_relax();
	outb(COM1, (u8)c);
}

void uart_hw_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

void uart_hw_drain(void)
{
	while (!(inb(COM1 + 5) & 0x40))
		cpu_relax();
}

int uart_hw_getc(void)
{
	if (!(inb(COM1 + 5) & 0x01))
		return -1;
	return inb(COM1);
}
