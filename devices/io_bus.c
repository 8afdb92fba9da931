/* Port I/O dispatch by range. */
#include "io_bus.h"

bool io_bus_register(struct io_bus *bus, u16 base, u16 len, const char *name, io_fn fn, void *dev)
{
	if (bus->n == IO_BUS_MAX || len == 0 || (u32)base + len > 0x10000)
		return false;
	for (unsigned i = 0; i < bus->n; i++) {
		u32 b = bus->ranges[i].base, e = b + bus->ranges[i].len;
		if (base < e && b < (u32)base + len)
			return false;
	}
	bus->ranges[bus->n].base = base;
	bus->ranges[bus->n].len = len;
	bus->ranges[bus->n].fn = fn;
	bus->ranges[bus->n].dev = dev;
	bus->ranges[bus->n].name = name;
	bus->n++;
	return true;
}

bool io_bus_access(struct io_bus *bus, struct io_access *a)
{
	u32 mask = io_size_mask(a->size);
	if (a->write)
		a->value &= mask;
	for (unsigned i = 0; i < bus->n; i++) {
		if (a->port >= bus->ranges[i].base &&
		    a->port < (u32)bus->ranges[i].base + bus->ranges[i].len) {
			bus->ranges[i].fn(bus->ranges[i].dev, a);
			a->value &= mask;
			return true;
		}
	}
	bus->unclaimed++;
	if (!a->write)
		a->value = mask;
	return false;
}
