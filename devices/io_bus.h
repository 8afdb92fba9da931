/* Port I/O bus of one VM: devices claim port ranges; an access nobody claims reads all
 * ones and is otherwise ignored, like an empty ISA port. */
#ifndef KEEL_IO_BUS_H
#define KEEL_IO_BUS_H

#include "bus_range.h"

struct io_access {
	u16 port;
	u8 size; /* 1, 2 or 4 */
	bool write;
	u32 value; /* in for writes, out for reads */
};

typedef void (*io_fn)(void *dev, struct io_access *a);
/* A run of `count` accesses of `size` bytes to one port (REP INS/OUTS), the bytes of each
 * element in turn from or into buf: how many the device took, from 0 (make them one by one
 * through its io_fn) to count. */
typedef u32 (*io_string_fn)(void *dev, u16 port, u8 size, bool write, u8 *buf, u32 count);

struct io_bus {
	struct bus_range *ranges; /* nodes owned by the devices, in port order */
	u64 unclaimed;		  /* accesses to ports no device claims */
};

/* Links `node` (kept by the caller while registered) as ports [base, base + len): false if
 * the range is empty, wraps, overlaps another or the node is already registered. */
bool io_bus_register(struct io_bus *bus, struct bus_range *node, u16 base, u32 len,
		     const char *name, io_fn fn, void *dev);
/* Removes a registered range (a PCI I/O BAR being moved or disabled); false if absent. */
bool io_bus_unregister(struct io_bus *bus, struct bus_range *node);
/* true if a device took the access; false if it was unclaimed (reads then hold ones). */
bool io_bus_access(struct io_bus *bus, struct io_access *a);
/* Gives a registered range a string handler for REP INS/OUTS runs. */
void io_bus_set_string(struct bus_range *node, io_string_fn fn);
/* Elements of a string run that the port's device moved in bulk (io_string_fn); 0 when it
 * has no string handler or declined: the caller then goes through io_bus_access. */
u32 io_bus_string(struct io_bus *bus, u16 port, u8 size, bool write, u8 *buf, u32 count);

static inline u32 io_size_mask(u8 size)
{
	return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

#endif
