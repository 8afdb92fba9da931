/* Guest page-table walks, on top of the generic walker in pt.c (SDM vol. 3A, chapter 4). */
#include "guest_pt.h"

#define PTE_P  BIT(0)
#define PTE_RW BIT(1)
#define PTE_US BIT(2)
#define PTE_A  BIT(5)
#define PTE_D  BIT(6)
#define PTE_PS BIT(7)
#define PTE_NX BIT(63)

#define CR0_WP	 BIT(16)
#define CR0_PG	 BIT(31)
#define CR4_PSE	 BIT(4)
#define CR4_PAE	 BIT(5)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define EFER_NXE BIT(11)
#define EFER_LMA BIT(10)

const struct pt_format pt_fmt_guest32 = {
    .name = "guest 32-bit",
    .levels = 2,
    .entry_size = 4,
    .index_bits = 10,
    .addr_mask = 0xfffff000ULL,
    .present = PTE_P,
    .large_bit = PTE_PS,
    .large_levels = 1u << 1,
};

/* CR4.PSE = 0: the PS bit of a directory entry is ignored */
static const struct pt_format pt_fmt_guest32_nopse = {
    .name = "guest 32-bit without PSE",
    .levels = 2,
    .entry_size = 4,
    .index_bits = 10,
    .addr_mask = 0xfffff000ULL,
    .present = PTE_P,
};

/* PAE's top level (the PDPT) comes from the PDPTE registers, so the walk over memory
 * starts at the page directory: two levels of 9 bits below a 2-bit PDPT index. */
const struct pt_format pt_fmt_guest_pae = {
    .name = "guest PAE",
    .levels = 2,
    .entry_size = 8,
    .index_bits = 9,
    .addr_mask = 0x000ffffffffff000ULL,
    .present = PTE_P,
    .large_bit = PTE_PS,
    .large_levels = 1u << 1,
};

const struct pt_format pt_fmt_guest64 = {
    .name = "guest IA-32e",
    .levels = 4,
    .entry_size = 8,
    .index_bits = 9,
    .addr_mask = 0x000ffffffffff000ULL,
    .present = PTE_P,
    .large_bit = PTE_PS,
    .large_levels = (1u << 1) | (1u << 2),
};

enum guest_paging_mode guest_paging_mode(const struct guest_paging *gp)
{
	if (!(gp->cr0 & CR0_PG))
		return GPM_NONE;
	if (!(gp->cr4 & CR4_PAE))
		return GPM_32BIT;
	return (gp->efer & EFER_LMA) ? GPM_LONG4 : GPM_PAE;
}

static u64 phys_mask(const struct guest_paging *gp)
{
	unsigned w = gp->maxphyaddr ? gp->maxphyaddr : 36;
	return w >= 52 ? ~0ULL : (1ULL << w) - 1;
}

/* Reserved bits of an entry at `level` of an 8-byte format (PAE or IA-32e). */
static u64 reserved_bits(const struct guest_paging *gp, enum guest_paging_mode m, u64 e,
			 unsigned level)
{
	u64 rsvd = ~phys_mask(gp) & 0x000ffffffffff000ULL;
	if (!(gp->efer & EFER_NXE))
		rsvd |= PTE_NX;
	if (m == GPM_PAE)
		rsvd |= 0x7ff0000000000000ULL & ~PTE_NX; /* bits 62:52 too */
	if (e & PTE_PS) {
		if (m == GPM_LONG4 && level == 3)
			rsvd |= PTE_PS; /* no large PML4 entries */
		else if (level == 2 && !gp->gbpages)
			rsvd |= PTE_PS;
		else if (level == 2)
			rsvd |= 0x3fffe000ULL; /* 1 GiB frame: bits 29:13 */
		else if (level == 1)
			rsvd |= 0x1fe000ULL; /* 2 MiB frame: bits 20:13 */
	}
	return e & rsvd;
}

/* The guest's tables through pt_ops; the PAE page directory is picked by the PDPTE. */
static void walk_tables(const struct guest_paging *gp, enum guest_paging_mode m,
			const struct pt_ops *mem, u64 gva, struct pt_path *p,
			const struct pt_format **fmt)
{
	if (m == GPM_32BIT) {
		*fmt = (gp->cr4 & CR4_PSE) ? &pt_fmt_guest32 : &pt_fmt_guest32_nopse;
		pt_walk_path(*fmt, mem, gp->cr3 & 0xfffff000ULL, gva & 0xffffffffULL, p);
	} else if (m == GPM_PAE) {
		*fmt = &pt_fmt_guest_pae;
		u64 pdpte = gp->pdpte[(gva >> 30) & 3];
		p->n = 0;
		p->complete = p->unreachable = false;
		if (pdpte & PTE_P)
			pt_walk_path(*fmt, mem, pdpte & 0x000ffffffffff000ULL, gva & 0x3fffffffULL,
				     p);
	} else {
		*fmt = &pt_fmt_guest64;
		pt_walk_path(*fmt, mem, gp->cr3 & 0x000ffffffffff000ULL, gva, p);
	}
}

static void fault(struct gwalk *out, unsigned access, const struct guest_paging *gp, u32 bits)
{
	out->status = GWALK_FAULT;
	out->error = bits | ((access & GACC_WRITE) ? PFEC_WRITE : 0) |
		     ((access & GACC_USER) ? PFEC_USER : 0);
	if ((access & GACC_FETCH) && ((gp->efer & EFER_NXE) || (gp->cr4 & CR4_SMEP)))
		out->error |= PFEC_FETCH;
}

void guest_walk(const struct guest_paging *gp, const struct pt_ops *mem, u64 gva, unsigned access,
		bool set_ad, struct gwalk *out)
{
	enum guest_paging_mode m = guest_paging_mode(gp);
	out->status = GWALK_OK;
	out->error = 0;
	out->level = 0;
	out->writable = out->user = out->executable = true;
	out->dirty = false;
	out->path.n = 0;
	out->levels = 0;
	if (m == GPM_NONE) {
		out->dirty = true; /* no entry to track writes in */
		out->gpa = gva & 0xffffffffULL;
		return;
	}
	if (m == GPM_LONG4 && (u64)((s64)(gva << 16) >> 16) != gva) {
		out->status = GWALK_NONCANONICAL;
		return;
	}

	struct pt_path p;
	const struct pt_format *f;
	walk_tables(gp, m, mem, gva, &p, &f);
	out->levels = f->levels;
	if (p.unreachable) {
		out->status = GWALK_UNREACHABLE;
		return;
	}
	/* reserved bits count in every present entry read, even when a lower level then turns
	 * out absent (a PAE PDPTE with reserved bits never gets here: MOV to CR3 faults) */
	if (f->entry_size == 8) {
		for (unsigned i = 0; i < p.n; i++) {
			unsigned level = f->levels - 1 - i;
			if ((p.entry[i] & PTE_P) && reserved_bits(gp, m, p.entry[i], level)) {
				fault(out, access, gp, PFEC_PRESENT | PFEC_RSVD);
				return;
			}
		}
	}
	/* a 4 MiB PDE: bit 21, and address bits 39:32 (in 20:13) beyond MAXPHYADDR */
	if (m == GPM_32BIT && p.complete && p.leaf_level == 1) {
		unsigned w = gp->maxphyaddr ? gp->maxphyaddr : 36;
		u64 rsvd = BIT(21);
		if (w < 40)
			rsvd |= 0x1fe000ULL & ~((1ULL << (13 + w - 32)) - 1);
		if (p.entry[0] & rsvd) {
			fault(out, access, gp, PFEC_PRESENT | PFEC_RSVD);
			return;
		}
	}
	if (!p.complete) {
		fault(out, access, gp, 0);
		return;
	}
	/* combined rights: a right is granted only if every level grants it */
	for (unsigned i = 0; i < p.n; i++) {
		u64 e = p.entry[i];
		out->writable &= (e & PTE_RW) != 0;
		out->user &= (e & PTE_US) != 0;
		if ((gp->efer & EFER_NXE) && (e & PTE_NX))
			out->executable = false;
	}
	/* (PAE PDPTEs carry no R/W, U/S or NX: they are not in the path) */

	bool user = access & GACC_USER, write = access & GACC_WRITE, fetch = access & GACC_FETCH;
	bool ok = true;
	if (user && !out->user)
		ok = false;
	else if (write && !out->writable && (user || (gp->cr0 & CR0_WP)))
		ok = false;
	else if (fetch && !out->executable)
		ok = false;
	else if (fetch && !user && out->user && (gp->cr4 & CR4_SMEP))
		ok = false;
	else if (!fetch && !user && out->user && (gp->cr4 & CR4_SMAP) &&
		 ((access & GACC_IMPLICIT) || !gp->rflags_ac))
		ok = false;
	if (!ok) {
		fault(out, access, gp, PFEC_PRESENT);
		return;
	}

	unsigned leaf_level = p.leaf_level;
	u64 leaf = p.entry[p.n - 1];
	u64 size = pt_level_size(f, leaf_level);
	u64 frame;
	if (m == GPM_32BIT && leaf_level == 1)
		/* PSE-36: bits 20:13 of a 4 MiB entry are physical address bits 39:32 */
		frame = (leaf & 0xffc00000ULL) | ((leaf & 0x1fe000ULL) << 19);
	else
		frame = leaf & f->addr_mask & ~(size - 1);
	out->gpa = frame | (gva & (size - 1));
	out->level = leaf_level;
	out->dirty = (leaf & PTE_D) || write;

	if (set_ad) {
		for (unsigned i = 0; i < p.n; i++) {
			u64 e = p.entry[i] | PTE_A;
			if (i == p.n - 1 && write)
				e |= PTE_D;
			if (e != p.entry[i]) {
				void *t = mem->map(mem->ctx, p.table[i]);
				if (t)
					pt_put(f, t, p.index[i], e);
				p.entry[i] = e;
			}
		}
	}
	out->path = p;
}
