/* Machine-frame allocator: every 4 KiB frame of RAM the hypervisor did not reserve, each
 * with an owner (free, hypervisor, or one VM) so that ownership can be asserted. */
#ifndef KEEL_FRAMES_H
#define KEEL_FRAMES_H

#include "../hypervisor/types.h"
#include "../hypervisor/bootinfo.h"

#define FRAME_FREE    0
#define FRAME_HV      1
#define FRAME_VM(id)  ((u16)(2 + (id)))
#define FRAME_BOOT    0xfffe /* image, modules, boot info, frame table: never freed */
#define FRAME_NOT_RAM 0xffff

struct addr_range {
	u64 start, end; /* [start, end) */
};

struct frames {
	u64 base_pfn;
	u64 npfn;
	u16 *owner;
	u64 nfree;
	u64 ntotal; /* usable frames managed, including the metadata's own */
	u64 cursor;
};

/* Builds the allocator from the firmware memory map. Frames in `reserved` (hypervisor
 * image, modules, boot info, firmware areas), below 1 MiB, and at or above `limit` are
 * never handed out. Returns NULL or an error message. */
const char *frames_init(struct frames *fa, const struct mem_region *regions, unsigned nregions,
			const struct addr_range *reserved, unsigned nreserved, u64 limit);

/* Returns the machine address of a zeroed frame now owned by `owner`, or 0 if none. */
u64 frames_alloc(struct frames *fa, u16 owner);
/* Frees a frame; false (and nothing changes) if `owner` does not own it. */
bool frames_free(struct frames *fa, u64 pa, u16 owner);
u16 frames_owner(const struct frames *fa, u64 pa);
u64 frames_count(const struct frames *fa, u16 owner);

#endif
