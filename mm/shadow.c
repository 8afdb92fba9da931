/* Shadow page tables (see shadow.h). The shadow has the MMU's format for the guest's mode:
 * 4 levels for an IA-32e guest, PAE (3 levels) for 32-bit, PAE and unpaged guests, whose
 * real CR4.PAE is forced on. Leaves are always 4 KiB: a guest large page is shadowed by
 * "direct" tables that map a guest-physical range. Non-leaf shadow entries grant
 * everything; the leaf holds the rights of the whole guest path, so a shadow table is
 * keyed by the rights above it as well as by the guest table it shadows (its role).
 *
 * Every present entry is on one chain: a link to a child table on the child's parent
 * chain, a leaf on the reverse-map chain of its machine frame. The chains are threaded
 * through each page's shadow_meta, so dropping a table or write-protecting a frame never
 * scans the whole shadow. */
#include "shadow.h"

struct shadow_meta {
	u32 next[512];	/* the next slot on this entry's chain */
	u32 child[512]; /* non-leaf: index + 1 of the table it links to */
};

#define SPTE_P	   BIT(0)
#define SPTE_RW	   BIT(1)
#define SPTE_US	   BIT(2)
#define SPTE_PWT   BIT(3)
#define SPTE_PCD   BIT(4)
#define SPTE_A	   BIT(5)
#define SPTE_D	   BIT(6)
#define SPTE_PAT   BIT(7) /* in a 4 KiB leaf */
#define SPTE_G	   BIT(8)
#define SPTE_LPAT  BIT(12) /* in a guest large leaf */
#define SPTE_NX	   BIT(63)
#define SPTE_ADDR  0x000ffffffffff000ULL
#define GPTE_PS	   BIT(7)
#define G_CR0_WP   BIT(16)
#define G_EFER_NXE BIT(11)

/* role: what a shadow page shadows */
#define ROLE_LEVEL(r)	 ((r)&3u)
#define ROLE_DIRECT	 BIT(2)
#define ROLE_ACC_SHIFT	 3
#define ACC_W		 1u
#define ACC_U		 2u
#define ACC_X		 4u
#define ACC_ALL		 7u
#define ROLE_QUAD_SHIFT	 6
#define ROLE_MODE_SHIFT	 8
#define ROLE_MODE(r)	 (((r) >> ROLE_MODE_SHIFT) & 3u)
#define ROLE_QUAD(r)	 (((r) >> ROLE_QUAD_SHIFT) & 3u)
#define ROLE_ACC(r)	 (((r) >> ROLE_ACC_SHIFT) & 7u)
#define ROLE_PAE_ROOT	 BIT(10)
#define ROLE_NOT_SHADOWS (ROLE_DIRECT | ROLE_PAE_ROOT) /* shadows no guest table */

static struct shadow_meta *meta(struct shadow *sh, u32 idx)
{
	return sh->page[idx].mptr;
}

static u64 *table(struct shadow *sh, u32 idx)
{
	return sh->page[idx].tptr;
}

static u32 slot(u32 idx, unsigned i)
{
	return ((idx << 9) | i) + 1;
}

static u32 *next_of(struct shadow *sh, u32 s)
{
	return &meta(sh, (s - 1) >> 9)->next[(s - 1) & 511];
}

static u64 *entry_of(struct shadow *sh, u32 s)
{
	return &table(sh, (s - 1) >> 9)[(s - 1) & 511];
}

static void chain_push(struct shadow *sh, u32 *head, u32 s)
{
	*next_of(sh, s) = *head;
	*head = s;
}

static void chain_remove(struct shadow *sh, u32 *head, u32 s)
{
	for (u32 *p = head; *p; p = next_of(sh, *p)) {
		if (*p == s) {
			*p = *next_of(sh, s);
			*next_of(sh, s) = 0;
			return;
		}
	}
}

static unsigned hash_gfn(u64 gfn)
{
	return (unsigned)((gfn * 0x9e3779b97f4a7c15ULL) >> 40) % SHADOW_HASH;
}

static u32 *rmap_head(struct shadow *sh, u64 mfn)
{
	return &sh->rmap[mfn % SHADOW_RMAP];
}

void shadow_init(struct shadow *sh, const struct shadow_ops *ops, u32 limit)
{
	for (size_t i = 0; i < sizeof(*sh); i++)
		((u8 *)sh)[i] = 0;
	sh->ops = *ops;
	sh->limit = limit && limit < SHADOW_MAX_PAGES ? limit : SHADOW_MAX_PAGES;
	for (u32 i = 0; i < SHADOW_MAX_PAGES; i++)
		sh->page[i].hash_next = i + 1 < SHADOW_MAX_PAGES ? i + 2 : 0;
	sh->free_head = 1;
}

/* Clears one shadow entry and takes it off its chain. */
static void zap_entry(struct shadow *sh, u32 idx, unsigned i)
{
	u64 *t = table(sh, idx);
	u64 e = t[i];
	if (!(e & SPTE_P))
		return;
	struct shadow_meta *m = meta(sh, idx);
	if (m->child[i]) {
		chain_remove(sh, &sh->page[m->child[i] - 1].parents, slot(idx, i));
		m->child[i] = 0;
	} else {
		chain_remove(sh, rmap_head(sh, (e & SPTE_ADDR) >> PAGE_SHIFT), slot(idx, i));
	}
	t[i] = 0;
	sh->need_flush = true;
}

void shadow_unmap_frame(struct shadow *sh, u64 mfn)
{
	u32 next;
	for (u32 s = *rmap_head(sh, mfn); s; s = next) {
		next = *next_of(sh, s); /* zap_entry unlinks s */
		if ((*entry_of(sh, s) & SPTE_ADDR) >> PAGE_SHIFT == mfn)
			zap_entry(sh, (s - 1) >> 9, (s - 1) & 511);
	}
}

static void hash_remove(struct shadow *sh, u32 idx)
{
	u32 *p = &sh->hash[hash_gfn(sh->page[idx].gfn)];
	for (; *p; p = &sh->page[*p - 1].hash_next) {
		if (*p == idx + 1) {
			*p = sh->page[idx].hash_next;
			return;
		}
	}
}

/* Drops a shadow page: its entries, the entries pointing at it, its frames. */
static void zap_page(struct shadow *sh, u32 idx)
{
	struct shadow_page *sp = &sh->page[idx];
	const u64 *t = sp->tptr;
	for (unsigned i = 0; i < 512; i++)
		if (t[i] & SPTE_P)
			zap_entry(sh, idx, i);
	while (sp->parents) {
		u32 s = sp->parents;
		zap_entry(sh, (s - 1) >> 9, (s - 1) & 511);
	}
	if (!(sp->role & ROLE_PAE_ROOT))
		hash_remove(sh, idx);
	sh->ops.free(sh->ops.ctx, sp->table);
	sh->ops.free(sh->ops.ctx, sp->meta);
	sp->used = false;
	sp->roots = 0;
	sp->hash_next = sh->free_head;
	sh->free_head = idx + 1;
	sh->nr_used--;
	sh->stats.pages_zapped++;
	sh->need_flush = true;
}

/* Drops one page nobody holds as a root, round robin. */
static bool evict_one(struct shadow *sh)
{
	for (u32 n = 0; n < SHADOW_MAX_PAGES; n++) {
		u32 idx = sh->clock++ % SHADOW_MAX_PAGES;
		struct shadow_page *sp = &sh->page[idx];
		if (sp->used && !sp->roots && !(sp->role & ROLE_PAE_ROOT)) {
			zap_page(sh, idx);
			sh->stats.evictions++;
			return true;
		}
	}
	return false;
}

static bool ensure_room(struct shadow *sh, u32 n)
{
	while (sh->nr_used + n > sh->limit)
		if (!evict_one(sh))
			return false;
	return true;
}

void shadow_protect_frame(struct shadow *sh, u64 mfn)
{
	for (u32 s = *rmap_head(sh, mfn); s; s = *next_of(sh, s)) {
		u64 *e = entry_of(sh, s);
		if ((*e & SPTE_RW) && ((*e & SPTE_ADDR) >> PAGE_SHIFT) == mfn) {
			*e &= ~(SPTE_RW | SPTE_D);
			sh->need_flush = true;
		}
	}
}

void shadow_p2m_hook(void *sh, u64 mfn, bool unmapped)
{
	if (unmapped)
		shadow_unmap_frame(sh, mfn);
	else
		shadow_protect_frame(sh, mfn);
}

/* May a leaf for guest frame gfn of type t be writable (before guest-table protection)? */
static bool may_write(struct shadow *sh, u64 gfn, enum p2m_type t, bool write)
{
	if (t != P2M_RAM && t != P2M_SHARED)
		return false;
	if (!sh->ops.may_write)
		return t == P2M_RAM;
	return sh->ops.may_write(sh->ops.ctx, gfn, t, write);
}

static s32 find(struct shadow *sh, u64 gfn, u32 role)
{
	for (u32 i = sh->hash[hash_gfn(gfn)]; i; i = sh->page[i - 1].hash_next) {
		const struct shadow_page *sp = &sh->page[i - 1];
		if (sp->gfn == gfn && sp->role == role)
			return (s32)(i - 1);
	}
	return -1;
}

bool shadow_protected(struct shadow *sh, u64 gfn)
{
	for (u32 i = sh->hash[hash_gfn(gfn)]; i; i = sh->page[i - 1].hash_next) {
		const struct shadow_page *sp = &sh->page[i - 1];
		if (sp->gfn == gfn && !(sp->role & ROLE_NOT_SHADOWS))
			return true;
	}
	return false;
}

/* A frame became a shadowed table: no leaf may map it writable any more. */
static void write_protect(struct shadow *sh, u64 gfn)
{
	u64 mfn;
	if (sh->ops.lookup(sh->ops.ctx, gfn, &mfn) != P2M_RAM)
		return;
	shadow_protect_frame(sh, mfn);
}

static s32 new_page(struct shadow *sh, u64 gfn, u32 role)
{
	if (!sh->free_head || !ensure_room(sh, 1))
		return -1;
	u32 idx = sh->free_head - 1;
	struct shadow_page *sp = &sh->page[idx];
	u64 t = sh->ops.alloc(sh->ops.ctx);
	u64 m = t ? sh->ops.alloc(sh->ops.ctx) : 0;
	if (!m) {
		if (t)
			sh->ops.free(sh->ops.ctx, t);
		return -1;
	}
	sh->free_head = sp->hash_next;
	*sp = (struct shadow_page){.table = t,
				   .meta = m,
				   .tptr = sh->ops.map(sh->ops.ctx, t),
				   .mptr = sh->ops.map(sh->ops.ctx, m),
				   .gfn = gfn,
				   .role = role,
				   .used = true};
	if (!(role & ROLE_PAE_ROOT)) {
		unsigned h = hash_gfn(gfn);
		sp->hash_next = sh->hash[h];
		sh->hash[h] = idx + 1;
	}
	sh->nr_used++;
	sh->stats.pages_built++;
	if (!(role & ROLE_NOT_SHADOWS))
		write_protect(sh, gfn);
	return (s32)idx;
}

static s32 get_page(struct shadow *sh, u64 gfn, u32 role)
{
	s32 idx = find(sh, gfn, role);
	return idx >= 0 ? idx : new_page(sh, gfn, role);
}

void shadow_reset(struct shadow *sh, struct shadow_vcpu *sv)
{
	for (u32 i = 0; i < SHADOW_MAX_PAGES; i++)
		if (sh->page[i].used)
			zap_page(sh, i);
	if (sv) {
		sv->root = 0;
		sv->pae_root = 0;
	}
	sh->stats.resets++;
	sh->need_flush = true;
}

/* Index of gva in a shadow table at `level` of a `levels`-level shadow. */
static unsigned sidx(unsigned levels, unsigned level, u64 gva)
{
	if (levels == 3 && level == 2)
		return (unsigned)(gva >> 30) & 3;
	return (unsigned)(gva >> (PAGE_SHIFT + 9 * level)) & 511;
}

static u32 mode_role(enum guest_paging_mode m)
{
	return (u32)m << ROLE_MODE_SHIFT;
}

u64 shadow_load_root(struct shadow *sh, struct shadow_vcpu *sv, const struct guest_paging *gp)
{
	enum guest_paging_mode m = guest_paging_mode(gp);
	if (sv->root)
		sh->page[sv->root - 1].roots--;
	sv->root = 0;
	sv->levels = m == GPM_LONG4 ? 4 : 3;
	sh->stats.cr3_switches++;
	if (sv->pae_root && m != GPM_PAE) {
		sh->page[sv->pae_root - 1].roots = 0;
		zap_page(sh, sv->pae_root - 1);
		sv->pae_root = 0;
	}

	s32 idx;
	if (m == GPM_PAE) {
		/* the PDPTE registers are a snapshot taken at CR3 time: a fresh root each time */
		if (sv->pae_root) {
			idx = (s32)(sv->pae_root - 1);
			for (unsigned i = 0; i < 4; i++)
				zap_entry(sh, (u32)idx, i);
		} else {
			idx = new_page(sh, 0, 2 | ROLE_PAE_ROOT | mode_role(m));
			if (idx < 0)
				return 0;
			sv->pae_root = (u32)idx + 1;
			sh->page[idx].roots = 1; /* held for as long as the guest uses PAE */
		}
	} else {
		u64 gfn;
		u32 role = mode_role(m) | (ACC_ALL << ROLE_ACC_SHIFT);
		if (m == GPM_LONG4)
			gfn = (gp->cr3 & SPTE_ADDR) >> PAGE_SHIFT, role |= 3;
		else if (m == GPM_32BIT)
			gfn = (gp->cr3 & 0xfffff000ULL) >> PAGE_SHIFT, role |= 2;
		else
			gfn = 0, role |= 2 | ROLE_DIRECT;
		idx = find(sh, gfn, role);
		if (idx >= 0)
			sh->stats.root_hits++;
		else
			idx = new_page(sh, gfn, role);
		if (idx < 0)
			return 0;
	}
	/* a PAE-format root is loaded through a 32-bit CR3 */
	if (sv->levels == 3 && sh->page[idx].table >> 32)
		return 0;
	sh->page[idx].roots++;
	sv->root = (u32)idx + 1;
	return sh->page[idx].table;
}

static u32 entry_rights(const struct guest_paging *gp, u64 e)
{
	u32 acc = ACC_ALL;
	if (!(e & SPTE_RW))
		acc &= ~ACC_W;
	if (!(e & SPTE_US))
		acc &= ~ACC_U;
	if ((gp->efer & G_EFER_NXE) && (e & SPTE_NX))
		acc &= ~ACC_X;
	return acc;
}

/* Which shadow page sits at `level` on the way to gva: its guest frame and role. */
static void want_at(const struct guest_paging *gp, enum guest_paging_mode m, u64 gva,
		    const struct gwalk *w, unsigned level, u32 leaf_acc, u64 *gfn, u32 *role)
{
	u64 cover = 1ULL << (PAGE_SHIFT + 9 * (level + 1));
	*role = level | mode_role(m);
	if (m == GPM_NONE) {
		*gfn = (gva & ~(cover - 1)) >> PAGE_SHIFT;
		*role |= ROLE_DIRECT | (ACC_ALL << ROLE_ACC_SHIFT);
		return;
	}
	if (w->level > level) { /* inside a guest large page */
		*gfn = (w->gpa & ~(cover - 1)) >> PAGE_SHIFT;
		*role |= ROLE_DIRECT | (leaf_acc << ROLE_ACC_SHIFT);
		return;
	}
	unsigned k = w->levels - 1 - level; /* the path entry at this guest level */
	u32 acc = ACC_ALL;
	for (unsigned j = 0; j < k; j++)
		acc &= entry_rights(gp, w->path.entry[j]);
	*gfn = w->path.table[k] >> PAGE_SHIFT;
	*role |= acc << ROLE_ACC_SHIFT;
	if (m == GPM_32BIT) /* a 32-bit table is shadowed in quarters (PD) or halves (PT) */
		*role |= (level == 1 ? (u32)(gva >> 30) & 3 : (u32)(gva >> 21) & 1)
			 << ROLE_QUAD_SHIFT;
}

/* Cache and memory-type bits of the guest leaf, for a 4 KiB shadow leaf. */
static u64 leaf_attrs(const struct gwalk *w)
{
	if (!w->path.n)
		return 0;
	u64 e = w->path.entry[w->path.n - 1];
	u64 a = e & (SPTE_PWT | SPTE_PCD | SPTE_G);
	if (w->level > 0 ? (e & SPTE_LPAT) : (e & SPTE_PAT))
		a |= SPTE_PAT;
	return a;
}

/* A direct table shadows one guest large page (or unpaged memory) with one set of rights:
 * its other leaves are known without a guest walk, so fill them all now rather than take
 * a #PF exit for each 4 KiB of a 2 MiB kernel mapping. */
static void prefetch_direct(struct shadow *sh, u32 idx, u64 proto)
{
	u64 *t = table(sh, idx);
	u64 base = sh->page[idx].gfn;
	for (unsigned i = 0; i < 512; i++) {
		if (t[i] & SPTE_P)
			continue;
		u64 mfn;
		enum p2m_type type = sh->ops.lookup(sh->ops.ctx, base + i, &mfn);
		if (!p2m_type_has_frame(type))
			continue;
		u64 e = (mfn << PAGE_SHIFT) | (proto & ~SPTE_ADDR);
		if ((e & SPTE_RW) &&
		    (!may_write(sh, base + i, type, false) || shadow_protected(sh, base + i)))
			e &= ~(SPTE_RW | SPTE_D);
		chain_push(sh, rmap_head(sh, mfn), slot(idx, i));
		t[i] = e;
	}
}

enum shadow_fill shadow_fill(struct shadow *sh, struct shadow_vcpu *sv,
			     const struct guest_paging *gp, u64 gva, unsigned access,
			     const struct gwalk *w)
{
	enum guest_paging_mode m = guest_paging_mode(gp);
	u64 gfn = w->gpa >> PAGE_SHIFT, mfn = 0;
	enum p2m_type type = sh->ops.lookup(sh->ops.ctx, gfn, &mfn);
	bool write = access & GACC_WRITE;
	if (!p2m_type_has_frame(type) || (type == P2M_ROM && write))
		return SFILL_NOT_RAM;
	/* before any shadow table is touched: resolving the write may change the P2M, and the
	 * change hook zaps leaves of the old frame */
	bool writable = may_write(sh, gfn, type, write);
	if (write && !writable)
		return type == P2M_SHARED ? SFILL_NOMEM : SFILL_NOT_RAM;
	if (writable && type == P2M_SHARED)
		type = sh->ops.lookup(sh->ops.ctx, gfn, &mfn); /* the copy, after the break */
	if (!sv->root || !ensure_room(sh, sv->levels))
		return SFILL_NOMEM;

	/* the rights of the mapping; with CR0.WP = 0 a supervisor write to a read-only page
	 * is allowed: map it writable for the supervisor only, so user accesses fault again */
	u32 acc = (w->writable && w->dirty ? ACC_W : 0) | (w->user ? ACC_U : 0) |
		  (w->executable ? ACC_X : 0);
	if (write && !(access & GACC_USER) && !w->writable && !(gp->cr0 & G_CR0_WP))
		acc = (acc | ACC_W) & ~ACC_U;

	u32 idx = sv->root - 1;
	for (unsigned level = sv->levels - 1; level > 0; level--) {
		unsigned i = sidx(sv->levels, level, gva);
		u64 want_gfn;
		u32 want_role;
		want_at(gp, m, gva, w, level - 1, acc, &want_gfn, &want_role);
		u64 *t = table(sh, idx);
		struct shadow_meta *mt = meta(sh, idx);
		sh->page[idx].writes = 0; /* in use as a table */
		if ((t[i] & SPTE_P) && mt->child[i]) {
			const struct shadow_page *c = &sh->page[mt->child[i] - 1];
			if (c->gfn == want_gfn && c->role == want_role) {
				idx = mt->child[i] - 1;
				continue;
			}
			zap_entry(sh, idx, i);
		}
		s32 c = get_page(sh, want_gfn, want_role);
		if (c < 0)
			return SFILL_NOMEM;
		/* new_page may have zapped entries of this table, never the table itself: the
		 * room was made before the walk and tables on the path are not evicted by it */
		u64 link = sh->page[c].table | SPTE_P;
		if (!(sv->levels == 3 && level == 2))
			link |= SPTE_RW | SPTE_US | SPTE_A; /* PAE PDPTEs have no rights bits */
		t[i] = link;
		mt->child[i] = (u32)c + 1;
		chain_push(sh, &sh->page[c].parents, slot(idx, i));
		idx = (u32)c;
	}

	bool prot = type == P2M_RAM && shadow_protected(sh, gfn);
	if (prot || !writable)
		acc &= ~ACC_W;
	u64 spte = (mfn << PAGE_SHIFT) | SPTE_P | SPTE_A | leaf_attrs(w);
	if (acc & ACC_W)
		spte |= SPTE_RW | SPTE_D;
	if (acc & ACC_U)
		spte |= SPTE_US;
	if (!(acc & ACC_X) && (gp->efer & G_EFER_NXE))
		spte |= SPTE_NX;

	unsigned i = (unsigned)(gva >> PAGE_SHIFT) & 511;
	u64 *t = table(sh, idx);
	u64 old = t[i];
	sh->page[idx].writes = 0;
	enum shadow_fill r = (old & SPTE_P) ? SFILL_FLUSH : SFILL_OK;
	if ((old & SPTE_P) && (old & SPTE_ADDR) != (spte & SPTE_ADDR))
		zap_entry(sh, idx, i);
	if (!(t[i] & SPTE_P))
		chain_push(sh, rmap_head(sh, mfn), slot(idx, i));
	t[i] = spte;
	if (sh->page[idx].role & ROLE_DIRECT) {
		/* every leaf of a direct table has the table's rights (its role) */
		u32 racc = ROLE_ACC(sh->page[idx].role);
		u64 proto = SPTE_P | SPTE_A | leaf_attrs(w);
		if (racc & ACC_W)
			proto |= SPTE_RW | SPTE_D;
		if (racc & ACC_U)
			proto |= SPTE_US;
		if (!(racc & ACC_X) && (gp->efer & G_EFER_NXE))
			proto |= SPTE_NX;
		prefetch_direct(sh, idx, proto);
	}
	return prot && write ? SFILL_WRITE_PROTECTED : r;
}

static void zap_range(struct shadow *sh, u32 idx, unsigned first, unsigned last)
{
	for (unsigned i = first; i <= last && i < 512; i++)
		zap_entry(sh, idx, i);
}

bool shadow_write(struct shadow *sh, u64 gpa, u64 len)
{
	u64 gfn = gpa >> PAGE_SHIFT;
	unsigned off = (unsigned)(gpa & ~PAGE_MASK);
	bool found = false;
	if (!len)
		return false;
	if (off + len > PAGE_SIZE)
		len = PAGE_SIZE - off;
	u32 next;
	bool flood = false;
	for (u32 i = sh->hash[hash_gfn(gfn)]; i; i = next) {
		struct shadow_page *sp = &sh->page[i - 1];
		next = sp->hash_next;
		if (sp->gfn != gfn || (sp->role & ROLE_NOT_SHADOWS))
			continue;
		found = true;
		if (++sp->writes >= SHADOW_FLOOD)
			flood = true;
		unsigned level = ROLE_LEVEL(sp->role);
		if (ROLE_MODE(sp->role) != GPM_32BIT) {
			zap_range(sh, i - 1, off / 8, (unsigned)((off + len - 1) / 8));
			continue;
		}
		/* 4-byte guest entries: the root only points at this frame's own quarters */
		unsigned g0 = off / 4, g1 = (unsigned)((off + len - 1) / 4);
		unsigned q = ROLE_QUAD(sp->role);
		if (level == 1) {
			unsigned lo = q * 256, hi = lo + 255;
			if (g1 >= lo && g0 <= hi)
				zap_range(sh, i - 1, 2 * (MAX(g0, lo) - lo),
					  2 * (MIN(g1, hi) - lo) + 1);
		} else if (level == 0) {
			unsigned lo = q * 512, hi = lo + 511;
			if (g1 >= lo && g0 <= hi)
				zap_range(sh, i - 1, MAX(g0, lo) - lo, MIN(g1, hi) - lo);
		}
	}
	if (found)
		sh->stats.pt_writes++;
	if (flood && shadow_unprotect(sh, gfn))
		sh->stats.floods++;
	return found;
}

bool shadow_unprotect(struct shadow *sh, u64 gfn)
{
	u32 i, next;
	for (i = sh->hash[hash_gfn(gfn)]; i; i = sh->page[i - 1].hash_next) {
		const struct shadow_page *sp = &sh->page[i - 1];
		if (sp->gfn == gfn && !(sp->role & ROLE_NOT_SHADOWS) && sp->roots)
			return false;
	}
	for (i = sh->hash[hash_gfn(gfn)]; i; i = next) {
		next = sh->page[i - 1].hash_next;
		const struct shadow_page *sp = &sh->page[i - 1];
		if (sp->gfn == gfn && !(sp->role & ROLE_NOT_SHADOWS))
			zap_page(sh, i - 1);
	}
	sh->stats.unprotects++;
	return true;
}

u64 shadow_lookup(struct shadow *sh, const struct shadow_vcpu *sv, u64 gva, u64 *spte)
{
	if (!sv->root)
		return ~0ULL;
	u32 idx = sv->root - 1;
	for (unsigned level = sv->levels - 1;; level--) {
		unsigned i = sidx(sv->levels, level, gva);
		u64 e = table(sh, idx)[i];
		if (!(e & SPTE_P))
			return ~0ULL;
		if (level == 0) {
			if (spte)
				*spte = e;
			return (e & SPTE_ADDR) | (gva & ~PAGE_MASK);
		}
		idx = meta(sh, idx)->child[i] - 1;
	}
}
