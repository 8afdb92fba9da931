/* MMIO dispatch by guest-physical window. */
#include "mmio_bus.h"

bool mmio_bus_register(struct mmio_bus *bus, struct bus_range *node, u64 base, u64 len,
		       const char *name, mmio_fn fn, void *dev)
{
	return bus_range_add(&bus->ranges, node, base, len, UINT64_MAX, (bus_fn)fn, dev, name);
}

bool mmio_bus_unregister(struct mmio_bus *bus, struct bus_range *node)
{
	return bus_range_remove(&bus->ranges, node);
}

static u64 size_mask(u8 size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

bool mmio_bus_access(struct mmio_bus *bus, u64 gpa, struct mmio_access *a)
{
	u64 mask = size_mask(a->size);
	if (a->write)
		a->value &= mask;
	/* the whole access must lie inside the window */
	const struct bus_range *r = bus_range_find(bus->ranges, gpa);
	if (r && a->size <= r->len - (gpa - r->base)) {
		a->offset = gpa - r->base;
		((mmio_fn)r->fn)(r->dev, a);
		a->value &= mask;
		return true;
	}
	bus->unclaimed++;
	if (!a->write)
		a->value = mask;
	return false;
}
