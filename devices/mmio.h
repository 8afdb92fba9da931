/* A memory-mapped register access handed to a device model: the offset within the
 * device's window, already decoded from the guest's instruction by the emulator. */
#ifndef KEEL_MMIO_H
#define KEEL_MMIO_H

#include "../hypervisor/types.h"

struct mmio_access {
	u64 offset; /* from the start of the device's window */
	u8 size;    /* 1, 2, 4 or 8 */
	bool write;
	u64 value; /* in for writes, out for reads */
};

typedef void (*mmio_fn)(void *dev, struct mmio_access *a);

#endif
