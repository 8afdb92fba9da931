/* Port I/O dispatch by range. */
#include "io_bus.h"

bool io_bus_register(struct io_bus *bus, struct bus_range *node, u16 base, u32 len,
		     const char *name, io_fn fn, void *dev)
{
	return bus_range_add(&bus->ranges, node, base, len, 0x10000, (bus_fn)fn, dev, name);
}

bool io_bus_unregister(struct io_bus *bus, struct bus_range *node)
{
	return bus_range_remove(&bus->ranges, node);
}

bool io_bus_access(struct io_bus *bus, struct io_access *a)
{
	u32 mask = io_size_mask(a->size);
	if (a->write)
		a->value &= mask;
	/* a device claims an access by its first port */
	const struct bus_range *r = bus_range_find(bus->ranges, a->port);
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
