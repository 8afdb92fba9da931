/* MMIO bus of one VM: devices claim guest-physical windows (the P2M marks those pages
 * P2M_MMIO, so every access exits); an access nobody claims reads all ones. */
#ifndef KEEL_MMIO_BUS_H
#define KEEL_MMIO_BUS_H

#include "bus_range.h"
#include "mmio.h"

struct mmio_bus {
	struct bus_range *ranges; /* nodes owned by the devices, in address order */
	u64 unclaimed;
};

/* Links `node` (kept by the caller while registered) as the window [base, base + len):
 * false if it is empty, wraps, overlaps another or the node is already registered. */
bool mmio_bus_register(struct mmio_bus *bus, struct bus_range *node, u64 base, u64 len,
		       const char *name, mmio_fn fn, void *dev);
/* Removes a registered window (a PCI memory BAR being moved or disabled); false if absent. */
bool mmio_bus_unregister(struct mmio_bus *bus, struct bus_range *node);
/* The access at guest-physical `gpa`: true if a device took it (a->offset is set to the
 * offset in its window); false if unclaimed (reads then hold all ones). An access that
 * straddles the end of a window is unclaimed. */
bool mmio_bus_access(struct mmio_bus *bus, u64 gpa, struct mmio_access *a);

#endif
