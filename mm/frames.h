/* Machine-frame allocator: every 4 KiB frame of RAM the hypervisor did not reserve, each
 * with an owner (free, hypervisor, or one VM) so that ownership can be asserted. */
#ifndef KEEL_FRAMES_H
#define KEEL_FRAMES_H

#include "../hypervisor/types.h"
#include "../hypervisor/bootinfo.h"

#define FRAME_FREE    0
#define FRAME_HV      1
#define FRAME_VM(id)  ((u16)(2 + (id))) /* below FRAME_SHARED_MIN: at most 0x7ffe VMs */
#define FRAME_BOOT    0xfffe		/* image, modules, boot info, frame table: never freed */
#define FRAME_NOT_RAM 0xffff
/* A frame shared read-only by several VMs (page sharing): the tag is its reference count,
 * FRAME_SHARED_MIN meaning one reference, so the owner array needs no second table. */
#define FRAME_SHARED_MIN 0x8000
#define FRAME_SHARED_MAX 0xfffd

static inline bool frame_tag_shared(u16 tag)
{
	return tag >= FRAME_SHARED_MIN && tag <= FRAME_SHARED_MAX;
}

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
	/* frames of FRAME_BOOT and FRAME_HV now, kept by init/alloc/free so that memory for
	 * guests is known without a scan of the owner array (admission runs per VM built) */
	u64 nboot, nhv;
	/* populate-on-demand and overcommit: a guest's own faults take frames only while more
	 * than `guest_reserve` are free (the rest is for the hypervisor's tables and its
	 * accessors); `wanted` counts faults that found none, for the reclaimer to act on */
	u64 guest_reserve;
	u64 wanted;
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

/* Page sharing. frames_share: a frame `owner` owns becomes shared with one reference (the
 * owner's own mapping); false if owner does not own it. frames_share_get: one more mapping
 * of a shared frame; false if it is not shared or the count is full. frames_share_put: one
 * mapping fewer; the last one frees the frame (returns true then). frames_unshare: a shared
 * frame with a single reference goes back to being `owner`'s private frame. */
bool frames_share(struct frames *fa, u64 pa, u16 owner);
bool frames_share_get(struct frames *fa, u64 pa);
bool frames_share_put(struct frames *fa, u64 pa);
bool frames_unshare(struct frames *fa, u64 pa, u16 owner);
/* References to a shared frame, 0 if it is not shared. */
unsigned frames_share_refs(const struct frames *fa, u64 pa);
/* Frames shared at the moment. */
u64 frames_count_shared(const struct frames *fa);

#endif
