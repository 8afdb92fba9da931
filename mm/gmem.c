/* The guest-memory accessor (see gmem.h): a check pass over the P2M, then the copy, then
 * the dirty marks, in that order so that a failure changes nothing and a log taken at any
 * moment never misses a write. */
#include "gmem.h"
#include "../hypervisor/assert.h"
#include "../hypervisor/lib.h"

enum access { ACC_READ, ACC_WRITE, ACC_WRITE_ROM };

const char *gmem_result_name(enum gmem_result r)
{
	switch (r) {
	case GMEM_OK:
		return "ok";
	case GMEM_RANGE:
		return "range wraps around";
	case GMEM_HOLE:
		return "outside guest memory";
	case GMEM_MMIO:
		return "device memory";
	case GMEM_ROM:
		return "write to ROM";
	case GMEM_BALLOONED:
		return "ballooned-out frame";
	case GMEM_SWAPPED:
		return "swapped-out frame";
	case GMEM_NOMEM:
		return "out of memory";
	case GMEM_SPLIT:
		return "not one machine range";
	}
	return "?";
}

static enum gmem_result page_ok(enum p2m_type t, enum access a)
{
	switch (t) {
	case P2M_RAM:
	case P2M_SHARED:
		return GMEM_OK;
	case P2M_ROM:
		return a == ACC_WRITE ? GMEM_ROM : GMEM_OK;
	case P2M_MMIO:
		return GMEM_MMIO;
	case P2M_BALLOONED:
		return GMEM_BALLOONED;
	case P2M_SWAPPED:
		return GMEM_SWAPPED;
	default:
		return GMEM_HOLE;
	}
}

/* gfn's type; a ballooned gfn is first given a fresh zeroed frame when the VM's balloon
 * lets a touch refill it (a device writing into a page the guest reported free). */
static enum p2m_type lookup_refill(struct p2m *p, u64 gfn, u64 *mfn)
{
	enum p2m_type t = p2m_lookup(p, gfn, mfn);
	if (t == P2M_BALLOONED && p->balloon_refill && p2m_balloon_refill(p, gfn))
		t = p2m_lookup(p, gfn, mfn);
	return t;
}

/* First and one-past-last page of a non-empty range, GMEM_RANGE if it wraps. */
static enum gmem_result pages(u64 gpa, u64 len, u64 *first, u64 *end)
{
	if (gpa + len < gpa)
		return GMEM_RANGE;
	*first = gpa >> PAGE_SHIFT;
	*end = len ? ((gpa + len - 1) >> PAGE_SHIFT) + 1 : *first;
	return GMEM_OK;
}

/* gfn's type, after bringing it back from swap (or refilling a ballooned page, with a
 * balloon): the hypervisor's own reads and writes (device
 * DMA, emulation, page walks) see the page as the guest left it, never a hole. A swap-in only
 * adds frames, so pages already checked for this access stay as they were. */
static enum p2m_type lookup_in(struct p2m *p, u64 gfn, u64 *mfn)
{
	enum p2m_type t = lookup_refill(p, gfn, mfn);
	if (t == P2M_SWAPPED && p2m_swap_fetch(p, gfn))
		t = p2m_lookup(p, gfn, mfn);
	return t;
}

/* Checks every page of the range; for writes, then breaks shared ones. */
static enum gmem_result prepare(struct p2m *p, u64 gpa, u64 len, enum access a)
{
	u64 first, end;
	enum gmem_result r = pages(gpa, len, &first, &end);
	/* a refill before a later page fails changes nothing the guest can see: zeros stay */
	for (u64 g = first; r == GMEM_OK && g < end; g++)
		r = page_ok(lookup_in(p, g, NULL), a);
	if (r != GMEM_OK || a == ACC_READ)
		return r;
	for (u64 g = first; g < end; g++)
		if (p2m_lookup(p, g, NULL) == P2M_SHARED && !p2m_unshare(p, g))
			return GMEM_NOMEM; /* broken copies already made are harmless */
	return GMEM_OK;
}

static void *host(struct p2m *p, u64 gpa)
{
	u64 mfn;
	enum p2m_type t = p2m_lookup(p, gpa >> PAGE_SHIFT, &mfn);
	KASSERT(p2m_type_has_frame(t)); /* prepare() said so and nothing ran in between */
	return (u8 *)phys_to_virt(mfn << PAGE_SHIFT) + (gpa & ~PAGE_MASK);
}

/* The common case, a range inside one page (an instruction fetch, an operand, a PDPTE
 * load): one P2M lookup instead of one to check and one to copy. */
static enum gmem_result copy_one_page(struct p2m *p, u64 gpa, void *buf, size_t len, enum access a)
{
	u64 gfn = gpa >> PAGE_SHIFT, mfn;
	enum p2m_type t = lookup_in(p, gfn, &mfn);
	enum gmem_result r = page_ok(t, a);
	if (r != GMEM_OK)
		return r;
	if (t == P2M_SHARED && a != ACC_READ) {
		if (!p2m_unshare(p, gfn))
			return GMEM_NOMEM;
		t = p2m_lookup(p, gfn, &mfn);
		KASSERT(p2m_type_has_frame(t));
	}
	u8 *h = (u8 *)phys_to_virt(mfn << PAGE_SHIFT) + (gpa & ~PAGE_MASK);
	if (a == ACC_READ) {
		memcpy(buf, h, len);
	} else {
		memcpy(h, buf, len);
		gmem_mark_dirty(p, gpa, len);
	}
	return GMEM_OK;
}

static enum gmem_result copy(struct p2m *p, u64 gpa, void *buf, size_t len, enum access a)
{
	if (len && gpa + len > gpa && (gpa & ~PAGE_MASK) + len <= PAGE_SIZE)
		return copy_one_page(p, gpa, buf, len, a);
	enum gmem_result r = prepare(p, gpa, len, a);
	if (r != GMEM_OK)
		return r;
	u8 *b = buf;
	for (u64 at = gpa, left = len; left;) {
		size_t n = MIN(left, PAGE_SIZE - (at & ~PAGE_MASK));
		if (a == ACC_READ)
			memcpy(b, host(p, at), n);
		else
			memcpy(host(p, at), b, n);
		b += n;
		at += n;
		left -= n;
	}
	if (a != ACC_READ)
		gmem_mark_dirty(p, gpa, len);
	return GMEM_OK;
}

enum gmem_result gmem_read(struct p2m *p, u64 gpa, void *dst, size_t len)
{
	return copy(p, gpa, dst, len, ACC_READ);
}

enum gmem_result gmem_write(struct p2m *p, u64 gpa, const void *src, size_t len)
{
	return copy(p, gpa, (void *)src, len, ACC_WRITE);
}

enum gmem_result gmem_write_rom(struct p2m *p, u64 gpa, const void *src, size_t len)
{
	return copy(p, gpa, (void *)src, len, ACC_WRITE_ROM);
}

enum gmem_result gmem_map(struct p2m *p, u64 gpa, size_t len, bool write, void **out)
{
	*out = NULL;
	if (!len)
		return GMEM_RANGE;
	enum gmem_result r = prepare(p, gpa, len, write ? ACC_WRITE : ACC_READ);
	if (r != GMEM_OK)
		return r;
	u64 first = gpa >> PAGE_SHIFT, end = ((gpa + len - 1) >> PAGE_SHIFT) + 1, mfn0, mfn;
	p2m_lookup(p, first, &mfn0);
	for (u64 g = first + 1; g < end; g++) {
		p2m_lookup(p, g, &mfn);
		if (mfn != mfn0 + (g - first))
			return GMEM_SPLIT;
	}
	if (write)
		gmem_mark_dirty(p, gpa, len);
	*out = host(p, gpa);
	return GMEM_OK;
}

void gmem_unmap(struct p2m *p, u64 gpa, size_t len, bool written)
{
	if (written)
		gmem_mark_dirty(p, gpa, len);
}

void gmem_mark_dirty(struct p2m *p, u64 gpa, u64 len)
{
	u64 first, end;
	if (!p->log.enabled || pages(gpa, len, &first, &end) != GMEM_OK)
		return;
	for (u64 g = first; g < end; g++)
		p2m_mark_dirty(p, g);
}

void *gmem_table(void *p2m, u64 gpa)
{
	struct p2m *p = p2m;
	u64 gfn = gpa >> PAGE_SHIFT, mfn;
	enum p2m_type t = lookup_in(p, gfn, &mfn);
	if (t == P2M_SHARED) {
		if (!p2m_unshare(p, gfn))
			return NULL;
		t = p2m_lookup(p, gfn, &mfn);
	}
	if (t != P2M_RAM)
		return NULL;
	if (p->log.enabled) /* every guest walk comes through here: no call when not logging */
		p2m_mark_dirty(p, gfn);
	return phys_to_virt(mfn << PAGE_SHIFT);
}
