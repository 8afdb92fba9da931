/* The range table behind the port and MMIO buses: registration with bounds and overlap
 * checks, and lookup by address. Each bus keeps its own access rules on top. */
#ifndef KEEL_BUS_RANGE_H
#define KEEL_BUS_RANGE_H

#include "../hypervisor/types.h"

typedef void (*bus_fn)(void); /* the bus's own handler type, stored untyped */

struct bus_range {
	u64 base, len;
	bus_fn fn;
	void *dev;
	const char *name;
};

/* Appends [base, base + len) to r[0..*n): false if it is empty, reaches past `limit`,
 * overlaps a range already there, or the table (max entries) is full. */
bool bus_range_add(struct bus_range *r, unsigned *n, unsigned max, u64 base, u64 len, u64 limit,
		   bus_fn fn, void *dev, const char *name);
/* The range holding addr, or NULL. */
const struct bus_range *bus_range_find(const struct bus_range *r, unsigned n, u64 addr);

#endif
