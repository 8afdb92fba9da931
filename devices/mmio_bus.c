/* MMIO dispatch by guest-physical window. */
#include "mmio_bus.h"

bool mmio_bus_register(struct mmio_bus *bus, u64 base, u64 len, const char *name, mmio_fn fn,
		       void *dev)
{
	if (bus->n == MMIO_BUS_MAX || len == 0 || base + len < base)
		return false;
	for (unsigned i = 0; i < bus->n; i++) {
		u64 b = bus->ranges[i].base, e = b + bus->ranges[i].len;
		if (base < e && b < base + len)
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

static u64 size_mask(u8 size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

bool mmio_bus_access(struct mmio_bus *bus, u64 gpa, struct mmio_access *a)
{
	u64 mask = size_mask(a->size);
	if (a->write)
		a->value &= mask;
	for (unsigned i = 0; i < bus->n; i++) {
		u64 b = bus->ranges[i].base, len = bus->ranges[i].len;
		if (gpa >= b && gpa - b < len && a->size <= len - (gpa - b)) {
			a->offset = gpa - b;
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
