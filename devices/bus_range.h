/* The range list behind the port and MMIO buses: registration with bounds and overlap
 * checks, removal (a guest moving a PCI BAR) and lookup by address. Each range is a node
 * its owner keeps, so a bus has no fixed capacity; each bus keeps its access rules on top. */
#ifndef KEEL_BUS_RANGE_H
#define KEEL_BUS_RANGE_H

#include "../hypervisor/types.h"

typedef void (*bus_fn)(void); /* the bus's own handler type, stored untyped */

struct bus_range {
	u64 base, len;
	bus_fn fn;
	void *dev;
	const char *name;
	struct bus_range *next; /* in address order; owned by the list while registered */
	bool linked;
	bus_fn fn_string; /* the port bus's optional REP INS/OUTS handler (io_bus_set_string) */
};

/* Links `node` as [base, base + len) into the list at *head, kept in address order: false
 * if the range is empty, reaches past `limit`, overlaps a registered range, or the node is
 * already on a list (a node starts zeroed). */
bool bus_range_add(struct bus_range **head, struct bus_range *node, u64 base, u64 len, u64 limit,
		   bus_fn fn, void *dev, const char *name);
/* Unlinks `node`; false if it is not on this list. */
bool bus_range_remove(struct bus_range **head, struct bus_range *node);
/* The range holding addr, or NULL. */
const struct bus_range *bus_range_find(const struct bus_range *head, u64 addr);
/* Number of ranges on the list. */
unsigned bus_range_count(const struct bus_range *head);

#endif
