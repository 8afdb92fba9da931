/* Port I/O dispatch by range. */
#include "io_bus.h"

bool io_bus_register(struct io_bus *bus, u16 base, u16 len, const char *name, io_fn fn, void *dev)
{
	return bus_range_add(bus->ranges, &bus->n, IO_BUS_MAX, base, len, 0x10000, (bus_fn)fn, dev,
			     name);
}

bool io_bus_access(struct io_bus *bus, struct io_access *a)
{
	u32 mask = io_size_mask(a->size);
	if (a->write)
		a->value &= mask;
	/* a device claims an access by its first port */
	const struct bus_range *r = bus_range_find(bus->ranges, bus->n, a->port);
	if (r) {
		((io_fn)r->fn)(r->dev, a);
		a->value &= mask;
		return true;
	}
	bus->unclaimed++;
	if (!a->write)
		a->value = mask;
	return false;
}
