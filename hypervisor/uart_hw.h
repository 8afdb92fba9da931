/* COM1 driver for the hypervisor console. */
#ifndef KEEL_UART_HW_H
#define KEEL_UART_HW_H
#include "types.h"
void uart_hw_init(void);
void uart_hw_write(const char *s, size_t n);
/* Waits until the transmitter is empty: call before the emulator is shut down. */
void uart_hw_drain(void);
/* Returns a received byte, or -1 when none is waiting. */
int uart_hw_getc(void);
#endif
