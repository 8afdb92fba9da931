/* The machine's parallel port reached with real IN and OUT instructions: the ops table
 * devices/parport.c drives. */
#include "parport_hw.h"
#include "../hypervisor/cpu_hw.h"

static u8 hw_inb(void *ctx, u16 port)
{
	(void)ctx;
	return inb(port);
}

static void hw_outb(void *ctx, u16 port, u8 v)
{
	(void)ctx;
	outb(port, v);
}

const struct parport_ops parport_hw_ops = {hw_inb, hw_outb, NULL};
