/* Range-table registration and lookup shared by the port and MMIO buses. */
#include "bus_range.h"

bool bus_range_add(struct bus_range *r, unsigned *n, unsigned max, u64 base, u64 len, u64 limit,
		   bus_fn fn, void *dev, const char *name)
{
	if (*n == max || len == 0 || base > limit || len > limit - base)
		return false;
	for (unsigned i = 0; i < *n; i++)
		if (base < r[i].base + r[i].len && r[i].base < base + len)
			return false;
	r[(*n)++] = (struct bus_range){base, len, fn, dev, name};
	return true;
}

const struct bus_range *bus_range_find(const struct bus_range *r, unsigned n, u64 addr)
{
	for (unsigned i = 0; i < n; i++)
		if (addr >= r[i].base && addr - r[i].base < r[i].len)
			return &r[i];
	return NULL;
}
