/* P2M and its EPT mirror. Every change goes through p2m_set(), which writes both and tells
 * the hook what was taken away: the EPT and the shadow never hold a translation or a right
 * the P2M does not. Also page sharing, ballooning, swapping and dirty logging on top of it. */
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
#define P2M_WITHHELD   BIT(4) /* a working-set sample: the EPT leaf is withheld */
#define P2M_TOUCHED    BIT(5) /* ... and the guest's access brought it back */

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

static u64 log_alloc(void *ctx)
{
	struct p2m *p = ctx;
	return frames_alloc(p->fa, FRAME_HV);
}

static void log_free(void *ctx, u64 pa)
{
	struct p2m *p = ctx;
	KASSERT(frames_free(p->fa, pa, FRAME_HV));
}

static enum p2m_type type_of(u64 e)
{
	return (e & P2M_VALID) ? (enum p2m_type)((e & P2M_TYPE_MASK) >> P2M_TYPE_SHIFT) : P2M_NONE;
}

static bool counts_as_ram(enum p2m_type t)
{
	return t == P2M_RAM || t == P2M_SHARED;
}

const char *p2m_type_name(enum p2m_type t)
{
	switch (t) {
	case P2M_NONE:
		return "nothing";
	case P2M_RAM:
		return "RAM";
	case P2M_ROM:
		return "ROM";
	case P2M_MMIO:
		return "MMIO";
	case P2M_SHARED:
		return "shared RAM";
	case P2M_BALLOONED:
		return "ballooned-out RAM";
	case P2M_SWAPPED:
		return "swapped-out RAM";
	}
	return "?";
}

const char *p2m_init(struct p2m *p, struct frames *fa, u16 owner)
{
	memset(p, 0, sizeof(*p));
	p->fa = fa;
	p->owner = owner;
	p->ops = (struct pt_ops){table_alloc, table_free, table_map, p};
	p->log_ops = (struct pt_ops){log_alloc, log_free, table_map, p};
	p->root = table_alloc(p);
	p->ept_root = table_alloc(p);
	if (!p->root || !p->ept_root) {
		p2m_destroy(p);
		return "out of memory for P2M tables";
	}
	return NULL;
}

void p2m_set_hook(struct p2m *p, p2m_hook_fn fn, void *ctx)
{
	p->hook = fn;
	p->hook_ctx = ctx;
}

/* RAM is writable unless the dirty log waits for its first write (write protection); under
 * PML it stays writable and is built with its dirty flag clear, so the next write is logged. */
static u64 ept_leaf(struct p2m *p, u64 gfn, u64 mfn, enum p2m_type t)
{
	switch (t) {
	case P2M_RAM:
		if (p->log.enabled && !p->log_pml && !dlog_test(&p->log, &p->log_ops, gfn))
			return (mfn << PAGE_SHIFT) | EPT_R | EPT_X | EPT_MT_WB;
		return (mfn << PAGE_SHIFT) | EPT_R | EPT_W | EPT_X | EPT_MT_WB;
	case P2M_ROM:
	case P2M_SHARED: /* a write exits and breaks the sharing */
		return (mfn << PAGE_SHIFT) | EPT_R | EPT_X | EPT_MT_WB;
	default:
		return 0; /* MMIO, holes, ballooned and swapped frames fault into the hypervisor */
	}
}

static u64 *ept_slot(struct p2m *p, u64 gfn)
{
	return pt_entry(&pt_fmt_ept, &p->ops, p->ept_root, gfn << PAGE_SHIFT, 0, false);
}

/* An EPT leaf lost rights it had, or changed frame: cached translations must go. */
static void ept_changed(struct p2m *p, u64 old, u64 now)
{
	const u64 rwx = EPT_R | EPT_W | EPT_X;
	if ((old & rwx & ~now) || ((old & rwx) && (old & ADDR_MASK) != (now & ADDR_MASK)))
		p->ept_stale = true;
	/* a cached translation remembers the dirty flag: the next write would not be logged */
	if (old & EPT_D & ~now)
		p->ept_stale = true;
}

/* One entry more (dir 1) or fewer (-1) in the counts by type and balloon mark. */
static void count_entry(struct p2m *p, u64 e, int dir)
{
	enum p2m_type t = type_of(e);
	if (t == P2M_NONE || t >= P2M_NTYPES)
		return;
	p->count[t] += (u64)(s64)dir;
	if (t == P2M_BALLOONED) {
		u64 mark = (e & ADDR_MASK) >> PAGE_SHIFT;
		p->balloon_count[MIN(mark, (u64)P2M_BALLOON_NMARKS - 1)] += (u64)(s64)dir;
	}
}

bool p2m_set(struct p2m *p, u64 gfn, u64 mfn, enum p2m_type t)
{
	u64 gpa = gfn << PAGE_SHIFT;
	if (gfn > P2M_MAX_GFN)
		return t == P2M_NONE; /* beyond 4-level tables: nothing is or can be mapped */
	if (t == P2M_RAM || t == P2M_ROM)
		KASSERT(frames_owner(p->fa, mfn << PAGE_SHIFT) == p->owner);
	if (t == P2M_SHARED)
		KASSERT(frame_tag_shared(frames_owner(p->fa, mfn << PAGE_SHIFT)));
	if (t == P2M_SWAPPED)
		KASSERT(mfn <= (ADDR_MASK >> PAGE_SHIFT)); /* the slot must fit the entry */
	bool frame = p2m_type_has_frame(t);
	u64 *pe = pt_entry(&pt_fmt_p2m, &p->ops, p->root, gpa, 0, t != P2M_NONE);
	u64 *ee = pt_entry(&pt_fmt_ept, &p->ops, p->ept_root, gpa, 0, t != P2M_NONE);
	if (t == P2M_NONE && (!pe || !ee))
		return true; /* nothing was mapped */
	if (!pe || !ee)
		return false;
	/* every frame the guest sees must have a bit before it can be written */
	if (frame && p->log.enabled && !dlog_cover(&p->log, &p->log_ops, gfn))
		return false;
	u64 old = *pe;
	enum p2m_type ot = type_of(old);
	u64 omfn = (old & ADDR_MASK) >> PAGE_SHIFT;
	bool had_frame = p2m_type_has_frame(ot);
	/* new contents behind gfn (a fresh or copied frame): the log must send it */
	if (frame && !(had_frame && omfn == mfn))
		dlog_mark(&p->log, &p->log_ops, gfn);
	if (counts_as_ram(ot))
		p->nr_ram--;
	count_entry(p, old, -1);
	if (old & P2M_WITHHELD)
		p->nr_withheld--; /* a new entry ends the sample */
	*pe = t == P2M_NONE ? 0 : (mfn << PAGE_SHIFT) | ((u64)t << P2M_TYPE_SHIFT) | P2M_VALID;
	count_entry(p, *pe, 1);
	u64 old_ept = *ee;
	*ee = ept_leaf(p, gfn, mfn, t);
	if (counts_as_ram(t))
		p->nr_ram++;
	ept_changed(p, old_ept, *ee);
	if (p->hook && had_frame) {
		if (!frame || omfn != mfn)
			p->hook(p->hook_ctx, omfn, true);
		else if ((old_ept & EPT_W) && !(*ee & EPT_W))
			p->hook(p->hook_ctx, omfn, false);
	}
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
	return type_of(w.entry);
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

bool p2m_populate_lazy(struct p2m *p, u64 gfn, u64 count)
{
	for (u64 i = 0; i < count; i++)
		if (!p2m_set(p, gfn + i, P2M_BALLOON_UNPOPULATED, P2M_BALLOONED))
			return false;
	p->balloon_refill = true;
	return true;
}

/* A frame for this VM; while it resolves its own access, only above the reserve. */
static u64 alloc_frame(struct p2m *p)
{
	if (p->in_fault && p->fa->nfree <= p->fa->guest_reserve)
		return 0;
	return frames_alloc(p->fa, p->owner);
}

typedef bool (*leaf_fn)(struct p2m *p, u64 gfn, u64 entry);

/* Calls fn for every valid leaf, in gfn order; stops at the first false. */
static bool each_leaf(struct p2m *p, u64 table_pa, unsigned level, u64 gfn0, leaf_fn fn)
{
	u64 *t = phys_to_virt(table_pa);
	for (unsigned i = 0; i < 512; i++) {
		u64 e = t[i];
		if (!(e & P2M_VALID))
			continue;
		u64 gfn = gfn0 + ((u64)i << (9 * level));
		if (level > 0 ? !each_leaf(p, e & ADDR_MASK, level - 1, gfn, fn) : !fn(p, gfn, e))
			return false;
	}
	return true;
}

static bool free_frame(struct p2m *p, u64 gfn, u64 e)
{
	(void)gfn;
	enum p2m_type ty = type_of(e);
	if (ty == P2M_RAM || ty == P2M_ROM)
		KASSERT(frames_free(p->fa, e & ADDR_MASK, p->owner));
	else if (ty == P2M_SHARED)
		frames_share_put(p->fa, e & ADDR_MASK);
	return true;
}

void p2m_destroy(struct p2m *p)
{
	if (p->root) {
		each_leaf(p, p->root, pt_fmt_p2m.levels - 1u, 0, free_frame);
		pt_destroy(&pt_fmt_p2m, &p->ops, p->root);
	}
	if (p->ept_root)
		pt_destroy(&pt_fmt_ept, &p->ops, p->ept_root);
	dlog_disable(&p->log, &p->log_ops);
	p->root = p->ept_root = 0;
	p->nr_ram = 0;
	p->nr_withheld = 0;
	memset(p->count, 0, sizeof(p->count));
	memset(p->balloon_count, 0, sizeof(p->balloon_count));
}

bool p2m_share(struct p2m *a, u64 gfn_a, struct p2m *b, u64 gfn_b)
{
	u64 ma, mb;
	enum p2m_type ta = p2m_lookup(a, gfn_a, &ma), tb = p2m_lookup(b, gfn_b, &mb);
	if (!counts_as_ram(ta) || !counts_as_ram(tb) || a->fa != b->fa)
		return false;
	if (ma == mb)
		return true; /* the same frame already (or the same gfn) */
	u64 pa = ma << PAGE_SHIFT;
	if (ta == P2M_RAM) {
		KASSERT(frames_share(a->fa, pa, a->owner));
		if (!p2m_set(a, gfn_a, ma, P2M_SHARED)) {
			KASSERT(frames_unshare(a->fa, pa, a->owner));
			return false;
		}
	}
	if (!frames_share_get(a->fa, pa))
		return false; /* a's frame stays shared, with its one reference */
	if (!p2m_set(b, gfn_b, ma, P2M_SHARED)) {
		frames_share_put(a->fa, pa);
		return false;
	}
	if (tb == P2M_RAM)
		KASSERT(frames_free(b->fa, mb << PAGE_SHIFT, b->owner));
	else
		frames_share_put(b->fa, mb << PAGE_SHIFT);
	return true;
}

bool p2m_unshare(struct p2m *p, u64 gfn)
{
	u64 mfn;
	if (p2m_lookup(p, gfn, &mfn) != P2M_SHARED)
		return false;
	u64 pa = mfn << PAGE_SHIFT;
	if (frames_unshare(p->fa, pa, p->owner)) {
		/* the last reference: no copy needed, the frame is ours again */
		if (p2m_set(p, gfn, mfn, P2M_RAM)) {
			p->cow_breaks++;
			return true;
		}
		KASSERT(frames_share(p->fa, pa, p->owner));
		return false;
	}
	u64 copy = alloc_frame(p);
	if (!copy)
		return false;
	memcpy(phys_to_virt(copy), phys_to_virt(pa), PAGE_SIZE);
	if (!p2m_set(p, gfn, copy >> PAGE_SHIFT, P2M_RAM)) {
		KASSERT(frames_free(p->fa, copy, p->owner));
		return false;
	}
	frames_share_put(p->fa, pa);
	p->cow_breaks++;
	return true;
}

/* gfn stops having a frame (ballooned or swapped): the frame is given back. */
static bool drop_frame(struct p2m *p, u64 gfn, u64 slot, enum p2m_type t)
{
	u64 mfn;
	enum p2m_type old = p2m_lookup(p, gfn, &mfn);
	if (!counts_as_ram(old) || (t == P2M_SWAPPED && old != P2M_RAM))
		return false;
	if (!p2m_set(p, gfn, slot, t))
		return false;
	if (old == P2M_RAM)
		KASSERT(frames_free(p->fa, mfn << PAGE_SHIFT, p->owner));
	else
		frames_share_put(p->fa, mfn << PAGE_SHIFT);
	return true;
}

/* gfn of type `was` gets a fresh frame holding `page` (zeros if NULL). */
static bool give_frame(struct p2m *p, u64 gfn, enum p2m_type was, const void *page)
{
	if (p2m_lookup(p, gfn, NULL) != was)
		return false;
	u64 pa = alloc_frame(p);
	if (!pa)
		return false;
	if (page)
		memcpy(phys_to_virt(pa), page, PAGE_SIZE);
	if (!p2m_set(p, gfn, pa >> PAGE_SHIFT, P2M_RAM)) {
		KASSERT(frames_free(p->fa, pa, p->owner));
		return false;
	}
	return true;
}

bool p2m_balloon_out(struct p2m *p, u64 gfn)
{
	return drop_frame(p, gfn, P2M_BALLOON_REPORTED, P2M_BALLOONED);
}

bool p2m_balloon_out_as(struct p2m *p, u64 gfn, u64 why)
{
	return drop_frame(p, gfn, why, P2M_BALLOONED);
}

bool p2m_balloon_refill(struct p2m *p, u64 gfn)
{
	u64 mark;
	if (p2m_lookup(p, gfn, &mark) != P2M_BALLOONED || !give_frame(p, gfn, P2M_BALLOONED, NULL))
		return false;
	if (mark == P2M_BALLOON_UNPOPULATED)
		p->populated++;
	else
		p->balloon_refills++;
	return true;
}

bool p2m_balloon_in(struct p2m *p, u64 gfn)
{
	return give_frame(p, gfn, P2M_BALLOONED, NULL);
}

bool p2m_swap_out(struct p2m *p, u64 gfn, u64 slot)
{
	if (slot > (ADDR_MASK >> PAGE_SHIFT))
		return false;
	return drop_frame(p, gfn, slot, P2M_SWAPPED);
}

bool p2m_swap_in(struct p2m *p, u64 gfn, const void *page)
{
	return give_frame(p, gfn, P2M_SWAPPED, page);
}

void p2m_set_fetch(struct p2m *p, p2m_fetch_fn fn, void *ctx)
{
	p->fetch = fn;
	p->fetch_ctx = ctx;
}

bool p2m_swap_fetch(struct p2m *p, u64 gfn)
{
	enum p2m_type t = p2m_lookup(p, gfn, NULL);
	if (t != P2M_SWAPPED)
		return true;
	return p->fetch && p->fetch(p->fetch_ctx, p, gfn) &&
	       p2m_type_has_frame(p2m_lookup(p, gfn, NULL));
}

static enum p2m_fault fault_on(struct p2m *p, u64 gfn, bool write)
{
	switch (p2m_lookup(p, gfn, NULL)) {
	case P2M_BALLOONED:
		if (!p->balloon_refill)
			return P2M_FAULT_BALLOONED;
		return p2m_balloon_refill(p, gfn) ? P2M_FAULT_FIXED : P2M_FAULT_NOMEM;
	case P2M_SWAPPED:
		/* swap-in; the access runs again and finds the frame (a write: RAM, writable) */
		return p2m_swap_fetch(p, gfn) ? P2M_FAULT_FIXED : P2M_FAULT_SWAPPED;
	case P2M_SHARED:
		if (!write)
			return P2M_FAULT_NOT_MINE;
		if (!p2m_unshare(p, gfn))
			return P2M_FAULT_NOMEM;
		p2m_mark_dirty(p, gfn);
		return P2M_FAULT_FIXED;
	case P2M_RAM:
		/* marking twice is harmless: another vCPU may have fixed it first */
		if (!write || !p->log.enabled)
			return P2M_FAULT_NOT_MINE;
		p2m_mark_dirty(p, gfn);
		return P2M_FAULT_FIXED;
	default:
		return P2M_FAULT_NOT_MINE;
	}
}

enum p2m_fault p2m_fault(struct p2m *p, u64 gfn, bool write)
{
	/* a withheld sample first: the access may need the dirty log or a copy too */
	bool touched = p2m_sample_touch(p, gfn);
	p->in_fault = true;
	enum p2m_fault f = fault_on(p, gfn, write);
	p->in_fault = false;
	if ((f == P2M_FAULT_NOMEM || f == P2M_FAULT_SWAPPED) &&
	    p->fa->nfree <= p->fa->guest_reserve) {
		/* not a failure: the reclaimer frees frames, then the access runs again */
		p->mem_waits++;
		p->fa->wanted++;
		return P2M_FAULT_WAIT;
	}
	return touched && f == P2M_FAULT_NOT_MINE ? P2M_FAULT_FIXED : f;
}

bool p2m_may_write(struct p2m *p, u64 gfn, bool write)
{
	/* one lookup in the common case (private RAM, no log): every shadow fill asks */
	enum p2m_type t = p2m_lookup(p, gfn, NULL);
	if (write && t == P2M_SHARED) {
		p2m_fault(p, gfn, true);
		t = p2m_lookup(p, gfn, NULL);
	} else if (write && t == P2M_RAM) {
		p2m_mark_dirty(p, gfn);
	}
	if (t != P2M_RAM)
		return false;
	return !p->log.enabled || dlog_test(&p->log, &p->log_ops, gfn);
}

void p2m_mark_dirty(struct p2m *p, u64 gfn)
{
	u64 mfn;
	if (!p->log.enabled)
		return;
	enum p2m_type t = p2m_lookup(p, gfn, &mfn);
	/* only frames have contents to send */
	if (!p2m_type_has_frame(t) || !dlog_mark(&p->log, &p->log_ops, gfn) || t != P2M_RAM)
		return;
	if (p->log_pml)
		return; /* writable already; rebuilding the leaf would drop D without a flush */
	if (p2m_withheld(p, gfn))
		return; /* the leaf comes back, with the log's rights, when the sample ends */
	u64 *ee = ept_slot(p, gfn);
	if (ee)
		*ee = ept_leaf(p, gfn, mfn, P2M_RAM); /* rights only grow: no flush */
}

bool p2m_is_dirty(struct p2m *p, u64 gfn)
{
	return dlog_test(&p->log, &p->log_ops, gfn);
}

/* Re-arms a RAM gfn whose bit is clear: takes write access, or under PML clears its dirty
 * flag. */
static void log_protect(struct p2m *p, u64 gfn, u64 mfn)
{
	u64 *ee = ept_slot(p, gfn);
	if (!ee || p2m_withheld(p, gfn))
		return; /* a withheld leaf is rebuilt with the log's rights when it comes back */
	u64 old = *ee;
	*ee = ept_leaf(p, gfn, mfn, P2M_RAM);
	ept_changed(p, old, *ee);
	/* the flag may have been set through a translation cached before the leaf was built */
	if (p->log_pml)
		p->ept_stale = true;
	if (p->hook && (old & EPT_W) && !(*ee & EPT_W))
		p->hook(p->hook_ctx, mfn, false);
}

static bool log_start(struct p2m *p, u64 gfn, u64 e)
{
	enum p2m_type t = type_of(e);
	if (!p2m_type_has_frame(t))
		return true;
	if (!dlog_cover(&p->log, &p->log_ops, gfn))
		return false;
	if (t == P2M_RAM)
		log_protect(p, gfn, (e & ADDR_MASK) >> PAGE_SHIFT);
	return true;
}

static bool log_stop(struct p2m *p, u64 gfn, u64 e)
{
	u64 *ee = type_of(e) == P2M_RAM ? ept_slot(p, gfn) : NULL;
	if (ee && (*ee & EPT_R)) /* a withheld leaf stays not present: W alone is invalid */
		*ee |= EPT_W;
	return true;
}

const char *p2m_log_enable(struct p2m *p)
{
	const char *err = dlog_enable(&p->log, &p->log_ops);
	if (err)
		return err;
	if (!each_leaf(p, p->root, pt_fmt_p2m.levels - 1u, 0, log_start)) {
		p2m_log_disable(p);
		return "out of memory for the dirty log, or RAM above its 64 GiB";
	}
	return NULL;
}

void p2m_log_disable(struct p2m *p)
{
	if (!p->log.enabled)
		return;
	each_leaf(p, p->root, pt_fmt_p2m.levels - 1u, 0, log_stop);
	dlog_disable(&p->log, &p->log_ops);
	if (p->log_pml)
		p->ept_stale = true; /* the EPTP loses its A/D flag */
	p->log_pml = false;
}

static bool log_rearm(struct p2m *p, u64 gfn, u64 e)
{
	if (type_of(e) == P2M_RAM)
		log_protect(p, gfn, (e & ADDR_MASK) >> PAGE_SHIFT);
	return true;
}

void p2m_log_use_pml(struct p2m *p, bool pml)
{
	if (p->log_pml == pml)
		return;
	p->log_pml = pml;
	/* a change of EPTP (A/D on or off) needs a flush of its own */
	p->ept_stale = true;
	if (p->log.enabled)
		each_leaf(p, p->root, pt_fmt_p2m.levels - 1u, 0, log_rearm);
}

u64 p2m_log_drain_pml(struct p2m *p, const u64 *pml, u16 index, u64 nr_gfn, u64 *ignored)
{
	u64 n = 0;
	unsigned first = index < P2M_PML_ENTRIES ? index + 1u : 0;
	for (unsigned i = first; i < P2M_PML_ENTRIES; i++) {
		u64 gfn = pml[i] >> PAGE_SHIFT;
		if (gfn < nr_gfn && p2m_type_has_frame(p2m_lookup(p, gfn, NULL)) &&
		    dlog_mark(&p->log, &p->log_ops, gfn))
			n++;
		else
			(*ignored)++;
	}
	return n;
}

const char *p2m_log_round(struct p2m *p, u64 nr_gfn, u64 *dirty)
{
	u64 bits[64];
	*dirty = 0;
	if (!p->log.enabled)
		return p2m_log_enable(p);
	for (u64 g = 0; g < nr_gfn; g += 64 * 64)
		*dirty += p2m_log_take(p, g, MIN(64, (nr_gfn - g + 63) / 64), bits);
	return NULL;
}

u64 p2m_log_take(struct p2m *p, u64 gfn, u64 nwords, u64 *bits)
{
	u64 n = 0;
	KASSERT(!(gfn % 64));
	for (u64 w = 0; w < nwords; w++) {
		u64 word = dlog_take_word(&p->log, &p->log_ops, gfn / 64 + w);
		bits[w] = word;
		/* the bits are clear now, so write protection comes after: a write in between
		 * is in the contents the caller reads after the flush */
		for (unsigned b = 0; b < 64; b++) {
			if (!(word & (1ULL << b)))
				continue;
			n++;
			u64 g = gfn + w * 64 + b, mfn;
			if (p2m_lookup(p, g, &mfn) == P2M_RAM)
				log_protect(p, g, mfn);
		}
	}
	return n;
}

/* ---- working-set sampling ---- */

static u64 *p2m_slot(struct p2m *p, u64 gfn)
{
	if (gfn > P2M_MAX_GFN || !p->root)
		return NULL;
	return pt_entry(&pt_fmt_p2m, &p->ops, p->root, gfn << PAGE_SHIFT, 0, false);
}

bool p2m_withheld(struct p2m *p, u64 gfn)
{
	if (!p->nr_withheld) /* the common case: nothing sampled, no walk */
		return false;
	u64 *pe = p2m_slot(p, gfn);
	return pe && (*pe & P2M_WITHHELD);
}

bool p2m_sample_withhold(struct p2m *p, u64 gfn)
{
	u64 *pe = p2m_slot(p, gfn), *ee = ept_slot(p, gfn);
	if (!pe || !ee || !counts_as_ram(type_of(*pe)) || (*pe & P2M_WITHHELD))
		return false;
	u64 old = *ee;
	*pe = (*pe & ~P2M_TOUCHED) | P2M_WITHHELD;
	*ee = 0;
	ept_changed(p, old, 0);
	p->nr_withheld++;
	if (p->hook)
		p->hook(p->hook_ctx, (*pe & ADDR_MASK) >> PAGE_SHIFT, true);
	return true;
}

/* The withheld leaf again, as p2m_set would build it now (rights only grow: no flush). */
static void sample_restore(struct p2m *p, u64 gfn, u64 *pe)
{
	*pe &= ~P2M_WITHHELD;
	p->nr_withheld--;
	u64 *ee = ept_slot(p, gfn);
	if (ee)
		*ee = ept_leaf(p, gfn, (*pe & ADDR_MASK) >> PAGE_SHIFT, type_of(*pe));
}

bool p2m_sample_touch(struct p2m *p, u64 gfn)
{
	if (!p->nr_withheld)
		return false;
	u64 *pe = p2m_slot(p, gfn);
	if (!pe || !(*pe & P2M_WITHHELD))
		return false;
	sample_restore(p, gfn, pe);
	*pe |= P2M_TOUCHED;
	p->sample_faults++;
	return true;
}

enum p2m_sample p2m_sample_end(struct p2m *p, u64 gfn)
{
	u64 *pe = p2m_slot(p, gfn);
	if (!pe)
		return P2M_SAMPLE_GONE;
	if (*pe & P2M_TOUCHED) {
		*pe &= ~P2M_TOUCHED;
		return P2M_SAMPLE_TOUCHED;
	}
	if (!(*pe & P2M_WITHHELD))
		return P2M_SAMPLE_GONE;
	sample_restore(p, gfn, pe);
	return P2M_SAMPLE_UNTOUCHED;
}

void p2m_use_ad(struct p2m *p, bool on)
{
	if (p->ept_ad == on)
		return;
	p->ept_ad = on;
	p->ept_stale = true; /* a new EPTP, and translations cached without the flags */
}

bool p2m_ad_clear(struct p2m *p, u64 gfn)
{
	u64 *ee = ept_slot(p, gfn);
	if (!ee || !(*ee & EPT_R))
		return false;
	*ee &= ~EPT_A;
	p->ept_stale = true;
	return true;
}

bool p2m_ad_test(struct p2m *p, u64 gfn)
{
	u64 *ee = ept_slot(p, gfn);
	return ee && (*ee & EPT_R) && (*ee & EPT_A);
}
