/* 16550A UART model (one per VM at COM1): transmit goes to a callback, receive comes
 * from a small FIFO the hypervisor fills, interrupts leave through an irq callback. */
#ifndef KEEL_UART16550_H
#define KEEL_UART16550_H

#include "io_bus.h"
#include "state.h"
#include "device.h"

#define UART_FIFO      16
#define UART_COM1_BASE 0x3f8

struct uart16550 {
	u8 ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_irq; /* THR-empty interrupt pending (cleared by reading IIR) */
	u8 rx[UART_FIFO];
	unsigned rx_head, rx_count;
	void (*tx)(void *ctx, u8 c);
	void (*irq)(void *ctx, bool level);
	void *ctx;
};

void uart_init(struct uart16550 *u, void (*tx)(void *, u8), void (*irq)(void *, bool), void *ctx);
void uart_access(void *dev, struct io_access *a);
/* Queues a received byte; false when the FIFO is full. */
bool uart_receive(struct uart16550 *u, u8 c);
void uart_save(const struct uart16550 *u, struct state_writer *w);
bool uart_load(struct uart16550 *u, struct state_reader *r);

/* The UART as the platform drives it. */
extern const struct device_ops uart_device;

#endif
