/* What every guest loader shares: the guest's physical memory layout (docs/guest-abi.md)
 * and the one way a loader writes guest memory, so that loaders stay pure and host-testable. */
#ifndef KEEL_GUEST_MEM_H
#define KEEL_GUEST_MEM_H

#include "../../hypervisor/types.h"

/* How the loader writes guest memory: false if [gpa, gpa+len) is not all guest RAM. */
struct guest_mem_ops {
	bool (*write)(void *ctx, u64 gpa, const void *src, size_t len);
	void *ctx;
};

/* Writes len zero bytes at gpa; false if any of it is not guest RAM. */
static inline bool guest_zero(const struct guest_mem_ops *m, u64 gpa, u64 len)
{
	static const u8 zeros[256];
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		if (!m->write(m->ctx, gpa, zeros, n))
			return false;
		gpa += n;
		len -= n;
	}
	return true;
}

/* The guest's physical memory map (docs/guest-abi.md), shared with the EPT setup. */
#define GUEST_LOW_RAM_END 0x9fc00ULL
#define GUEST_HOLE_START  0xa0000ULL
#define GUEST_ROM_START	  0xc0000ULL /* BIOS area, mapped read-only */
#define GUEST_HIGH_START  0x100000ULL

#endif
