/* P2M: per-VM guest-frame -> machine-frame map with a type per entry. The only source of
 * truth for guest memory; the EPT is a mirror kept in step by p2m_set(), and a change hook
 * tells whoever caches translations (the shadow) what a change took away. */
#ifndef KEEL_P2M_H
#define KEEL_P2M_H

#include "dirty_log.h"
#include "frames.h"
#include "pt.h"

enum p2m_type {
	P2M_NONE = 0,
	P2M_RAM = 1,
	P2M_ROM = 2,
	P2M_MMIO = 3,
	P2M_SHARED = 4,	   /* a frame shared with other VMs: read-only, a write breaks it */
	P2M_BALLOONED = 5, /* the guest gave the frame back: no frame behind it */
	P2M_SWAPPED = 6,   /* contents in swap slot `mfn`: no frame behind it */
};
#define P2M_NTYPES	   7 /* entries of p2m.count */
#define P2M_BALLOON_NMARKS 4 /* entries of p2m.balloon_count: marks 0-2, 3 any other */

/* Told about every change that takes rights away from a machine frame the VM mapped:
 * `unmapped` the gfn no longer shows mfn at all, else mfn lost write access. */
typedef void (*p2m_hook_fn)(void *ctx, u64 mfn, bool unmapped);
/* Brings a swapped-out gfn back into a frame (mm/swap.c registers it): true when gfn has a
 * frame again, false when it cannot come back (the swap has then said why). */
struct p2m;
typedef bool (*p2m_fetch_fn)(void *ctx, struct p2m *p, u64 gfn);

struct p2m {
	struct frames *fa;
	u16 owner;	/* frame owner tag of this VM */
	u64 root;	/* P2M radix root */
	u64 ept_root;	/* EPT PML4 */
	u64 nr_ram;	/* RAM and shared frames mapped */
	u64 nr_tables;	/* table frames used by P2M and EPT */
	bool ept_stale; /* an entry lost rights: INVEPT before the next entry */
	bool log_pml;	/* the log is kept by EPT dirty flags and PML, not write protection */
	struct pt_ops ops;
	struct pt_ops log_ops; /* frames of the dirty log */
	struct dirty_log log;
	p2m_hook_fn hook;
	void *hook_ctx;
	u64 cow_breaks; /* shared frames a write made private again (p2m_unshare) */
	/* working-set sampling (mm/wss.c): A/D flags on for the sampler, gfns withheld now,
	 * withheld gfns the guest touched (each one an EPT violation or #PF exit) */
	bool ept_ad;
	u64 nr_withheld;
	u64 sample_faults;
	/* ballooning: a touch of a ballooned gfn gets a fresh zeroed frame (KVM's way) instead
	 * of stopping the VM; counted */
	bool balloon_refill;
	u64 balloon_refills;
	p2m_fetch_fn fetch; /* swap-in of P2M_SWAPPED gfns, NULL: none can come back */
	void *fetch_ctx;
	/* entries by type, and ballooned ones by mark (its mfn field, above 2 in the last),
	 * kept by p2m_set: a per-second timeline reads them instead of scanning every gfn */
	u64 count[P2M_NTYPES];
	u64 balloon_count[P2M_BALLOON_NMARKS];
	/* populate-on-demand: gfns given their first frame on first touch; faults that had to
	 * wait because free frames were at the reserve (fa->guest_reserve) */
	u64 populated;
	u64 mem_waits;
	bool in_fault; /* resolving the guest's own access: frames only above the reserve */
};

#define EPTP_AD BIT(6) /* EPT pointer: the CPU sets accessed and dirty flags */

/* EPT pointer: 4 levels, write-back paging-structure memory type; accessed and dirty flags
 * only while PML keeps the dirty log or the working-set sampler reads accessed flags. */
static inline u64 p2m_eptp(const struct p2m *p)
{
	return p->ept_root | (p->log_pml || p->ept_ad ? EPTP_AD : 0) | (3 << 3) | 6;
}

/* Types with a machine frame behind them. */
static inline bool p2m_type_has_frame(enum p2m_type t)
{
	return t == P2M_RAM || t == P2M_ROM || t == P2M_SHARED;
}

const char *p2m_type_name(enum p2m_type t);

const char *p2m_init(struct p2m *p, struct frames *fa, u16 owner);
/* Registers the change hook (one; NULL removes it). p2m_init clears it. */
void p2m_set_hook(struct p2m *p, p2m_hook_fn fn, void *ctx);
/* Maps gfn to mfn with type t (P2M_NONE unmaps; P2M_SWAPPED: mfn is the swap slot). RAM/ROM
 * frames must belong to this VM and SHARED frames must be shared: asserted, since mapping
 * anything else would hand the guest foreign memory. Whatever the change takes away goes
 * to the EPT (ept_stale) and the hook. Frames are not freed here: see the helpers below.
 * Returns false when a table (or a dirty-log frame) cannot be allocated. */
bool p2m_set(struct p2m *p, u64 gfn, u64 mfn, enum p2m_type t);
enum p2m_type p2m_lookup(struct p2m *p, u64 gfn, u64 *mfn);
/* Allocates and maps `count` fresh (zeroed) frames from gfn on, as RAM or ROM. */
bool p2m_populate_as(struct p2m *p, u64 gfn, u64 count, enum p2m_type t);
/* Populate-on-demand: `count` gfns from gfn on become RAM without a frame yet (ballooned,
 * P2M_BALLOON_UNPOPULATED), which the first touch fills with a zeroed frame
 * (balloon_refill is turned on). false when a table cannot be allocated. */
bool p2m_populate_lazy(struct p2m *p, u64 gfn, u64 count);
static inline bool p2m_populate(struct p2m *p, u64 gfn, u64 count)
{
	return p2m_populate_as(p, gfn, count, P2M_RAM);
}
/* Unmaps everything, frees the VM's frames (drops its references to shared ones), the
 * dirty log and all tables. */
void p2m_destroy(struct p2m *p);

/* Page sharing: gfn_b of VM b is backed by the frame behind gfn_a of VM a (the caller has
 * compared their contents), read-only in both; b's own frame is freed. Both must be RAM or
 * SHARED. false (nothing changed) otherwise or when a table cannot be allocated. */
bool p2m_share(struct p2m *a, u64 gfn_a, struct p2m *b, u64 gfn_b);
/* Copy-on-write break: a shared gfn gets a private copy (or keeps the frame, made private,
 * when this VM holds its last reference). false when out of memory. */
bool p2m_unshare(struct p2m *p, u64 gfn);
/* Ballooning: a RAM or shared gfn gives its frame back; a ballooned gfn gets a fresh zeroed
 * frame. false if gfn is not of the right type, or out of memory. */
bool p2m_balloon_out(struct p2m *p, u64 gfn);
bool p2m_balloon_in(struct p2m *p, u64 gfn);
/* The mfn field of a ballooned entry says why the guest gave the frame back. */
#define P2M_BALLOON_REPORTED 0 /* a free page it reported: it may use it again at any time */
#define P2M_BALLOON_INFLATED 1 /* in its balloon until it deflates it */
/* never touched yet (populate = lazy): reads as zero, a frame on first touch */
#define P2M_BALLOON_UNPOPULATED 2
bool p2m_balloon_out_as(struct p2m *p, u64 gfn, u64 why);
/* A ballooned gfn the guest (or a device for it) touches: a fresh zeroed frame, counted in
 * balloon_refills. false if gfn is not ballooned or there is no free frame. */
bool p2m_balloon_refill(struct p2m *p, u64 gfn);
/* Swapping: a RAM gfn whose contents the caller saved in `slot` loses its frame; swap-in
 * maps a fresh frame holding `page` (PAGE_SIZE bytes). */
bool p2m_swap_out(struct p2m *p, u64 gfn, u64 slot);
bool p2m_swap_in(struct p2m *p, u64 gfn, const void *page);
/* Registers the swap-in (one; NULL removes it). p2m_init clears it. */
void p2m_set_fetch(struct p2m *p, p2m_fetch_fn fn, void *ctx);
/* A swapped gfn comes back through the registered swap-in: true when gfn now has a frame
 * (also when it was not swapped at all), false when it stays without one. */
bool p2m_swap_fetch(struct p2m *p, u64 gfn);

/* An access the EPT (or the shadow) refused: what the P2M made of it. */
enum p2m_fault {
	P2M_FAULT_FIXED,     /* resolved (dirty logged, copy broken): run the access again */
	P2M_FAULT_NOT_MINE,  /* nothing to fix: MMIO, ROM, a hole, or an allowed access */
	P2M_FAULT_BALLOONED, /* the guest touched a frame it gave back (balloon_refill off) */
	P2M_FAULT_SWAPPED,   /* the frame is in swap and could not be brought back */
	P2M_FAULT_NOMEM,     /* a copy-on-write break found no free frame */
	P2M_FAULT_WAIT,	     /* the frame it needs is not there yet (free frames at the
				reserve): run the access again once memory was reclaimed */
};
enum p2m_fault p2m_fault(struct p2m *p, u64 gfn, bool write);
/* May a mapping of gfn be writable now (RAM, and dirty if the log is on)? With `write`, a
 * write is about to happen: resolve it first as p2m_fault would. For the shadow's leaves. */
bool p2m_may_write(struct p2m *p, u64 gfn, bool write);
/* The same for a caller that has just looked gfn up as t: private RAM without a dirty log,
 * the common case of every shadow fill, needs no second lookup. */
static inline bool p2m_may_write_as(struct p2m *p, u64 gfn, enum p2m_type t, bool write)
{
	if (t == P2M_RAM && !p->log.enabled)
		return true;
	return p2m_may_write(p, gfn, write);
}

/* Dirty logging. Enable: every RAM gfn loses write access until its first write (EPT write
 * protection, the hook for the shadow). Take: copies the bits of [gfn, gfn + 64 * nwords)
 * into `bits` (gfn a multiple of 64), clears them and write-protects those frames again;
 * returns the number of dirty frames. The caller reads those frames only after the INVEPT
 * that ept_stale asks for (and the shadow's flush) has run on every CPU of the VM: a write
 * before it is in the contents read, one after it faults and sets the bit again. */
const char *p2m_log_enable(struct p2m *p);
void p2m_log_disable(struct p2m *p);
u64 p2m_log_take(struct p2m *p, u64 gfn, u64 nwords, u64 *bits);
/* gfn was written by the hypervisor or is about to be written by the guest: set its bit
 * and give its RAM mapping back its write access. No-op while the log is off. */
void p2m_mark_dirty(struct p2m *p, u64 gfn);
/* One pre-copy round over gfns [0, nr_gfn), as a migration would run it: the first call
 * starts the log (*dirty = 0), each later one takes it all and says how many frames were
 * dirty. NULL, or why the log could not start. */
const char *p2m_log_round(struct p2m *p, u64 nr_gfn, u64 *dirty);
bool p2m_is_dirty(struct p2m *p, u64 gfn);

/* PML (Page-Modification Logging) instead of write protection: every RAM leaf stays
 * writable with its EPT dirty flag clear, the CPU sets the flag on the first write and logs
 * the guest-physical address in a PML buffer, and the buffer is drained into the bitmap.
 * Set (or clear) before p2m_log_enable, or switch an enabled log: every RAM leaf is re-armed
 * for the new way (ept_stale set); the caller drains the buffer before leaving PML. */
void p2m_log_use_pml(struct p2m *p, bool pml);

#define P2M_PML_ENTRIES 512 /* guest-physical addresses in one PML buffer (a 4 KiB page) */
/* Drains a PML buffer into the log: the CPU fills pml[511] down to pml[index + 1], so index
 * 511 is empty and 0xffff (or anything past 511) is full. An address of a frame at or past
 * nr_gfn, or without contents (MMIO, a hole), or not covered by the log is counted in
 * *ignored and never written. Returns the entries that set a bit. */
u64 p2m_log_drain_pml(struct p2m *p, const u64 *pml, u16 index, u64 nr_gfn, u64 *ignored);

/* Working-set sampling by invalidation (mm/wss.c): a RAM or shared gfn's mapping is
 * withheld (its EPT leaf made not present, the hook told, so the shadow drops its leaves)
 * while the P2M keeps the frame; the guest's next access faults, and p2m_fault (EPT) or
 * p2m_sample_touch (the shadow's #PF path) maps it again and marks it touched.
 * p2m_sample_end says what happened and maps it again. Any p2m_set of the gfn in between
 * (sharing, ballooning, swapping) ends the sample: P2M_SAMPLE_GONE. The hypervisor's own
 * accesses (gmem) see the frame as usual and count as nothing. */
enum p2m_sample { P2M_SAMPLE_UNTOUCHED, P2M_SAMPLE_TOUCHED, P2M_SAMPLE_GONE };
bool p2m_sample_withhold(struct p2m *p, u64 gfn);
bool p2m_sample_touch(struct p2m *p, u64 gfn);
enum p2m_sample p2m_sample_end(struct p2m *p, u64 gfn);
bool p2m_withheld(struct p2m *p, u64 gfn);
/* Sampling by EPT accessed flags: A/D on in the EPTP (ept_stale: the caller rewrites the
 * EPTP and flushes), the accessed flag of a gfn's leaf cleared (false: no present leaf) or
 * read. A clear asks for the INVEPT (ept_stale): a cached translation sets no flag. */
void p2m_use_ad(struct p2m *p, bool on);
bool p2m_ad_clear(struct p2m *p, u64 gfn);
bool p2m_ad_test(struct p2m *p, u64 gfn);

extern const struct pt_format pt_fmt_p2m, pt_fmt_ept;

#define EPT_R	  BIT(0)
#define EPT_W	  BIT(1)
#define EPT_X	  BIT(2)
#define EPT_MT_WB (6ULL << 3)
#define EPT_LARGE BIT(7)
#define EPT_A	  BIT(8) /* accessed, set by the CPU when EPTP_AD is on */
#define EPT_D	  BIT(9) /* dirty, set by the CPU (and logged by PML) when EPTP_AD is on */

#endif
