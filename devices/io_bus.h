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

#define IO_BUS_MAX 16

struct io_bus {
	struct bus_range ranges[IO_BUS_MAX];
	unsigned n;
	u64 unclaimed; /* accesses to ports no device claims */
};

/* false if the range overlaps another or the bus is full. */
bool io_bus_register(struct io_bus *bus, u16 base, u16 len, const char *name, io_fn fn, void *dev);
/* true if a device took the access; false if it was unclaimed (reads then hold ones). */
bool io_bus_access(struct io_bus *bus, struct io_access *a);

static inline u32 io_size_mask(u8 size)
{
	return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

#endif
