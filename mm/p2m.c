/* P2M and its EPT mirror. Every change goes through p2m_set(), which writes both: the EPT
 * never holds a translation the P2M does not. */
#include "p2m.h"
#include "../hypervisor/assert.h"
#include "../hypervisor/lib.h"

#define ADDR_MASK 0x000ffffffffff000ULL
/* 4-level tables translate 48-bit guest-physical addresses; the index of anything above
 * would wrap onto low memory */
#define P2M_MAX_GFN ((1ULL << (48 - PAGE_SHIFT)) - 1)

/* P2M entry: bit 0 valid, bits 1-3 type, bits 12-51 machine frame. */
#define P2M_VALID      BIT(0)
#define P2M_TYPE_SHIFT 1
#define P2M_TYPE_MASK  (7ULL << P2M_TYPE_SHIFT)

const struct pt_format pt_fmt_p2m = {
    .name = "p2m",
    .levels = 4,
    .entry_size = 8,
    .index_bits = 9,
    .addr_mask = ADDR_MASK,
    .present = P2M_VALID,
    .table_bits = P2M_VALID,
};

const struct pt_format pt_fmt_ept = {
    .name = "ept",
    .levels = 4,
    .entry_size = 8,
    .index_bits = 9,
    .addr_mask = ADDR_MASK,
    .present = EPT_R | EPT_W | EPT_X,
    .table_bits = EPT_R | EPT_W | EPT_X,
    .large_bit = EPT_LARGE,
    .large_levels = (1u << 1) | (1u << 2),
};

static u64 table_alloc(void *ctx)
{
	struct p2m *p = ctx;
	u64 pa = frames_alloc(p->fa, FRAME_HV);
	if (pa)
		p->nr_tables++;
	return pa;
}

static void table_free(void *ctx, u64 pa)
{
	struct p2m *p = ctx;
	KASSERT(frames_free(p->fa, pa, FRAME_HV));
	p->nr_tables--;
}

static void *table_map(void *ctx, u64 pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

const char *p2m_init(struct p2m *p, struct frames *fa, u16 owner)
{
	memset(p, 0, sizeof(*p));
	p->fa = fa;
	p->owner = owner;
	p->ops = (struct pt_ops){table_alloc, table_free, table_map, p};
	p->root = table_alloc(p);
	p->ept_root = table_alloc(p);
	if (!p->root || !p->ept_root) {
		p2m_destroy(p);
		return "out of memory for P2M tables";
	}
	return NULL;
}

static u64 ept_leaf(u64 mfn, enum p2m_type t)
{
	switch (t) {
	case P2M_RAM:
		return (mfn << PAGE_SHIFT) | EPT_R | EPT_W | EPT_X | EPT_MT_WB;
	case P2M_ROM:
		return (mfn << PAGE_SHIFT) | EPT_R | EPT_X | EPT_MT_WB;
	default:
		return 0; /* MMIO and holes fault into the hypervisor */
	}
}

bool p2m_set(struct p2m *p, u64 gfn, u64 mfn, enum p2m_type t)
{
	u64 gpa = gfn << PAGE_SHIFT;
	if (gfn > P2M_MAX_GFN)
		return t == P2M_NONE; /* beyond 4-level tables: nothing is or can be mapped */
	if (t == P2M_RAM || t == P2M_ROM)
		KASSERT(frames_owner(p->fa, mfn << PAGE_SHIFT) == p->owner);
	u64 *pe = pt_entry(&pt_fmt_p2m, &p->ops, p->root, gpa, 0, t != P2M_NONE);
	u64 *ee = pt_entry(&pt_fmt_ept, &p->ops, p->ept_root, gpa, 0, t != P2M_NONE);
	if (t == P2M_NONE && (!pe || !ee))
		return true; /* nothing was mapped */
	if (!pe || !ee)
		return false;
	u64 old = *pe;
	if ((old & P2M_VALID) && ((old & P2M_TYPE_MASK) >> P2M_TYPE_SHIFT) == P2M_RAM)
		p->nr_ram--;
	*pe = t == P2M_NONE ? 0 : (mfn << PAGE_SHIFT) | ((u64)t << P2M_TYPE_SHIFT) | P2M_VALID;
	u64 old_ept = *ee;
	*ee = ept_leaf(mfn, t);
	if (t == P2M_RAM)
		p->nr_ram++;
	/* rights removed or frame changed: cached translations must go */
	if (old_ept && old_ept != *ee)
		p->ept_stale = true;
	return true;
}

enum p2m_type p2m_lookup(struct p2m *p, u64 gfn, u64 *mfn)
{
	struct pt_walk w;
	if (gfn > P2M_MAX_GFN || !p->root ||
	    !pt_walk(&pt_fmt_p2m, &p->ops, p->root, gfn << PAGE_SHIFT, &w))
		return P2M_NONE;
	if (mfn)
		*mfn = w.pa >> PAGE_SHIFT;
	return (enum p2m_type)((w.entry & P2M_TYPE_MASK) >> P2M_TYPE_SHIFT);
}

bool p2m_populate_as(struct p2m *p, u64 gfn, u64 count, enum p2m_type t)
{
	for (u64 i = 0; i < count; i++) {
		u64 pa = frames_alloc(p->fa, p->owner);
		if (!pa)
			return false;
		if (!p2m_set(p, gfn + i, pa >> PAGE_SHIFT, t)) {
			KASSERT(frames_free(p->fa, pa, p->owner));
			return false;
		}
	}
	return true;
}

static void free_leaves(struct p2m *p, u64 table_pa, unsigned level)
{
	u64 *t = phys_to_virt(table_pa);
	for (unsigned i = 0; i < 512; i++) {
		u64 e = t[i];
		if (!(e & P2M_VALID))
			continue;
		if (level > 0) {
			free_leaves(p, e & ADDR_MASK, level - 1);
			continue;
		}
		enum p2m_type ty = (enum p2m_type)((e & P2M_TYPE_MASK) >> P2M_TYPE_SHIFT);
		if (ty == P2M_RAM || ty == P2M_ROM)
			KASSERT(frames_free(p->fa, e & ADDR_MASK, p->owner));
	}
}

void p2m_destroy(struct p2m *p)
{
	if (p->root) {
		free_leaves(p, p->root, pt_fmt_p2m.levels - 1u);
		pt_destroy(&pt_fmt_p2m, &p->ops, p->root);
	}
	if (p->ept_root)
		pt_destroy(&pt_fmt_ept, &p->ops, p->ept_root);
	p->root = p->ept_root = 0;
	p->nr_ram = 0;
}

static bool copy(struct p2m *p, u64 gpa, void *buf, size_t len, bool to_guest, bool rom_ok)
{
	u8 *b = buf;
	while (len) {
		u64 mfn;
		enum p2m_type t = p2m_lookup(p, gpa >> PAGE_SHIFT, &mfn);
		if (t != P2M_RAM && !(t == P2M_ROM && (!to_guest || rom_ok)))
			return false;
		size_t off = gpa & ~PAGE_MASK;
		size_t n = MIN(len, PAGE_SIZE - off);
		u8 *host = (u8 *)phys_to_virt(mfn << PAGE_SHIFT) + off;
		if (to_guest)
			memcpy(host, b, n);
		else
			memcpy(b, host, n);
		b += n;
		gpa += n;
		len -= n;
	}
	return true;
}

bool p2m_write(struct p2m *p, u64 gpa, const void *src, size_t len)
{
	/* check the whole range first so a failing copy leaves guest memory untouched */
	for (u64 a = gpa & PAGE_MASK; a < gpa + len; a += PAGE_SIZE)
		if (p2m_lookup(p, a >> PAGE_SHIFT, NULL) != P2M_RAM)
			return false;
	if (gpa + len < gpa)
		return false;
	return copy(p, gpa, (void *)src, len, true, false);
}

bool p2m_read(struct p2m *p, u64 gpa, void *dst, size_t len)
{
	if (gpa + len < gpa)
		return false;
	return copy(p, gpa, dst, len, false, false);
}

bool p2m_write_rom(struct p2m *p, u64 gpa, const void *src, size_t len)
{
	if (gpa + len < gpa)
		return false;
	for (u64 a = gpa & PAGE_MASK; a < gpa + len; a += PAGE_SIZE) {
		enum p2m_type t = p2m_lookup(p, a >> PAGE_SHIFT, NULL);
		if (t != P2M_RAM && t != P2M_ROM)
			return false;
	}
	return copy(p, gpa, (void *)src, len, true, true);
}
