/* Keel's driver for the machine's parallel port (the one real printer): the SPP strobe
 * protocol over an outb/inb ops table, polling busy, so that it is tested on the host and
 * bound to real ports by parport_hw.c. */
#ifndef KEEL_PARPORT_H
#define KEEL_PARPORT_H

#include "../hypervisor/types.h"

#define PARPORT_LPT1 0x378

struct parport_ops {
	u8 (*inb)(void *ctx, u16 port);
	void (*outb)(void *ctx, u16 port, u8 v);
	void *ctx;
};

/* How many status reads a busy printer gets before the byte is put off to a later call. */
#define PARPORT_BUSY_POLLS 256

struct parport {
	const struct parport_ops *ops;
	u16 base;
	bool present;
	u64 bytes, busy; /* bytes sent, times the printer was still busy after the polls */
};

/* Probes the port (the data latch reads back what was written) and initializes the
 * printer (INIT pulsed, selected). False when no port answers. */
bool parport_init(struct parport *p, const struct parport_ops *ops, u16 base);
/* One byte: waits (bounded) for not-busy, latches it, pulses the strobe. False when the
 * printer stayed busy or is absent: offer the byte again later. */
bool parport_put(struct parport *p, u8 c);
/* struct spool_printer's put over a struct parport. */
bool parport_put_cb(void *p, u8 c);

#endif
