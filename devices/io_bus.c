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

void io_bus_set_string(struct bus_range *node, io_string_fn fn)
{
	node->fn_string = (bus_fn)fn;
}

u32 io_bus_string(struct io_bus *bus, u16 port, u8 size, bool write, u8 *buf, u32 count)
{
	const struct bus_range *r = bus_range_find(bus->ranges, port);
	if (!r || !r->fn_string || (size != 1 && size != 2 && size != 4))
		return 0;
	u32 n = ((io_string_fn)r->fn_string)(r->dev, port, size, write, buf, count);
	return n <= count ? n : count;
}
