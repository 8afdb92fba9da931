/* Machine-frame allocator: an owner tag per frame (a 2-byte array placed in RAM it
 * describes), next-fit search for allocation. */
#include "frames.h"
#include "../hypervisor/lib.h"

static bool overlaps(u64 s, u64 e, const struct addr_range *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (s < r[i].end && r[i].start < e)
			return true;
	return false;
}

/* A map entry that is not usable RAM, as a page-rounded range; false for empty ones. The
 * end saturates instead of wrapping when the entry reaches the top of the address space. */
static bool unusable_range(const struct mem_region *r, u64 *s, u64 *e)
{
	if (r->type == MEM_USABLE || r->len == 0)
		return false;
	u64 end = r->base > UINT64_MAX - r->len ? UINT64_MAX : r->base + r->len;
	*s = ALIGN_DOWN(r->base, PAGE_SIZE);
	*e = end > ALIGN_DOWN(UINT64_MAX, PAGE_SIZE) ? UINT64_MAX : ALIGN_UP(end, PAGE_SIZE);
	return true;
}

static bool overlaps_unusable(u64 s, u64 e, const struct mem_region *regions, unsigned n)
{
	u64 us, ue;
	for (unsigned i = 0; i < n; i++)
		if (unusable_range(&regions[i], &us, &ue) && s < ue && us < e)
			return true;
	return false;
}

/* Usable frame range of one region after rounding inwards to whole frames. */
static bool region_frames(const struct mem_region *r, u64 limit, u64 *s, u64 *e)
{
	if (r->type != MEM_USABLE || r->len == 0 || r->base > UINT64_MAX - r->len)
		return false;
	*s = ALIGN_UP(r->base, PAGE_SIZE);
	*e = ALIGN_DOWN(r->base + r->len, PAGE_SIZE);
	if (*s < 0x100000)
		*s = 0x100000; /* real-mode area, BIOS data: never ours to hand out */
	if (*e > limit)
		*e = ALIGN_DOWN(limit, PAGE_SIZE);
	return *s < *e;
}

const char *frames_init(struct frames *fa, const struct mem_region *regions, unsigned nregions,
			const struct addr_range *reserved, unsigned nreserved, u64 limit)
{
	u64 lo = UINT64_MAX, hi = 0, s, e;
	memset(fa, 0, sizeof(*fa));
	for (unsigned i = 0; i < nregions; i++) {
		if (!region_frames(&regions[i], limit, &s, &e))
			continue;
		lo = MIN(lo, s);
		hi = MAX(hi, e);
	}
	if (lo >= hi)
		return "no usable memory in the memory map";
	fa->base_pfn = lo >> PAGE_SHIFT;
	fa->npfn = (hi - lo) >> PAGE_SHIFT;
	u64 meta = ALIGN_UP(fa->npfn * sizeof(u16), PAGE_SIZE);

	/* place the owner array in the first usable, unreserved stretch big enough */
	u64 at = 0;
	for (unsigned i = 0; i < nregions && !at; i++) {
		if (!region_frames(&regions[i], limit, &s, &e))
			continue;
		for (u64 p = s; p + meta <= e; p += PAGE_SIZE) {
			if (!overlaps(p, p + meta, reserved, nreserved) &&
			    !overlaps_unusable(p, p + meta, regions, nregions)) {
				at = p;
				break;
			}
		}
	}
	if (!at)
		return "no room for the frame table";
	fa->owner = phys_to_virt(at);
	for (u64 i = 0; i < fa->npfn; i++)
		fa->owner[i] = FRAME_NOT_RAM;

	/* a frame is usable only if every region covering it says so: take usable ones, then
	 * knock out anything another region marks reserved */
	for (unsigned i = 0; i < nregions; i++) {
		if (!region_frames(&regions[i], limit, &s, &e))
			continue;
		for (u64 p = s; p < e; p += PAGE_SIZE)
			fa->owner[(p >> PAGE_SHIFT) - fa->base_pfn] = FRAME_FREE;
	}
	for (unsigned i = 0; i < nregions; i++) {
		u64 rs, re;
		if (!unusable_range(&regions[i], &rs, &re))
			continue;
		for (u64 p = MAX(rs, lo); p < MIN(re, hi); p += PAGE_SIZE)
			fa->owner[(p >> PAGE_SHIFT) - fa->base_pfn] = FRAME_NOT_RAM;
	}
	for (unsigned i = 0; i < nreserved; i++) {
		u64 rs = ALIGN_DOWN(reserved[i].start, PAGE_SIZE);
		u64 re = ALIGN_UP(reserved[i].end, PAGE_SIZE);
		for (u64 p = MAX(rs, lo); p < MIN(re, hi); p += PAGE_SIZE) {
			u16 *o = &fa->owner[(p >> PAGE_SHIFT) - fa->base_pfn];
			if (*o == FRAME_FREE)
				*o = FRAME_BOOT;
		}
	}
	for (u64 p = at; p < at + meta; p += PAGE_SIZE)
		fa->owner[(p >> PAGE_SHIFT) - fa->base_pfn] = FRAME_BOOT;
	for (u64 i = 0; i < fa->npfn; i++) {
		if (fa->owner[i] != FRAME_NOT_RAM)
			fa->ntotal++;
		if (fa->owner[i] == FRAME_FREE)
			fa->nfree++;
		if (fa->owner[i] == FRAME_BOOT)
			fa->nboot++;
	}
	return NULL;
}

/* Tags a caller may allocate or free as a private owner. */
static bool private_owner(u16 owner)
{
	return owner != FRAME_FREE && owner != FRAME_BOOT && owner != FRAME_NOT_RAM &&
	       !frame_tag_shared(owner);
}

u64 frames_alloc(struct frames *fa, u16 owner)
{
	if (!fa->nfree || !private_owner(owner))
		return 0;
	for (u64 n = 0; n < fa->npfn; n++) {
		u64 i = (fa->cursor + n) % fa->npfn;
		if (fa->owner[i] == FRAME_FREE) {
			fa->owner[i] = owner;
			fa->nfree--;
			fa->nhv += owner == FRAME_HV;
			fa->cursor = i + 1;
			u64 pa = (fa->base_pfn + i) << PAGE_SHIFT;
			memset(phys_to_virt(pa), 0, PAGE_SIZE);
			return pa;
		}
	}
	return 0;
}

static u16 *owner_slot(const struct frames *fa, u64 pa)
{
	u64 pfn = pa >> PAGE_SHIFT;
	if (pa & ~PAGE_MASK || pfn < fa->base_pfn || pfn - fa->base_pfn >= fa->npfn)
		return NULL;
	return &fa->owner[pfn - fa->base_pfn];
}

bool frames_free(struct frames *fa, u64 pa, u16 owner)
{
	u16 *o = owner_slot(fa, pa);
	if (!o || *o != owner || !private_owner(owner))
		return false;
	*o = FRAME_FREE;
	fa->nfree++;
	fa->nhv -= owner == FRAME_HV;
	return true;
}

bool frames_share(struct frames *fa, u64 pa, u16 owner)
{
	u16 *o = owner_slot(fa, pa);
	if (!o || *o != owner || !private_owner(owner) || owner == FRAME_HV)
		return false;
	*o = FRAME_SHARED_MIN;
	return true;
}

bool frames_share_get(struct frames *fa, u64 pa)
{
	u16 *o = owner_slot(fa, pa);
	if (!o || !frame_tag_shared(*o) || *o == FRAME_SHARED_MAX)
		return false;
	(*o)++;
	return true;
}

bool frames_share_put(struct frames *fa, u64 pa)
{
	u16 *o = owner_slot(fa, pa);
	if (!o || !frame_tag_shared(*o))
		return false;
	if (*o > FRAME_SHARED_MIN) {
		(*o)--;
		return false;
	}
	*o = FRAME_FREE;
	fa->nfree++;
	return true;
}

bool frames_unshare(struct frames *fa, u64 pa, u16 owner)
{
	u16 *o = owner_slot(fa, pa);
	if (!o || *o != FRAME_SHARED_MIN || !private_owner(owner) || owner == FRAME_HV)
		return false;
	*o = owner;
	return true;
}

unsigned frames_share_refs(const struct frames *fa, u64 pa)
{
	u16 *o = owner_slot(fa, pa);
	return o && frame_tag_shared(*o) ? (unsigned)(*o - FRAME_SHARED_MIN) + 1 : 0;
}

u64 frames_count_shared(const struct frames *fa)
{
	u64 n = 0;
	for (u64 i = 0; i < fa->npfn; i++)
		if (frame_tag_shared(fa->owner[i]))
			n++;
	return n;
}

u16 frames_owner(const struct frames *fa, u64 pa)
{
	u16 *o = owner_slot(fa, pa);
	return o ? *o : FRAME_NOT_RAM;
}

u64 frames_count(const struct frames *fa, u16 owner)
{
	u64 n = 0;
	for (u64 i = 0; i < fa->npfn; i++)
		if (fa->owner[i] == owner)
			n++;
	return n;
}
