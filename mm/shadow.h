/* Shadow paging: the guest's own tables (V2P) composed with the P2M into tables the MMU
 * walks (V2M). Shadow pages are built on demand from guest walks, one per guest table (and
 * per path rights), cached in a hash by (guest frame, role), and kept coherent by
 * write-protecting every guest frame that is shadowed as a table: a write to one is
 * emulated and zaps the shadow entries it changed. Pure: memory, the P2M and frames are
 * reached through shadow_ops, so host tests compose shadows over fake memory. */
#ifndef KEEL_SHADOW_H
#define KEEL_SHADOW_H

#include "guest_pt.h"
#include "p2m.h"

#define SHADOW_MAX_PAGES 2048 /* per VM: 8 MiB of shadow tables at most */
#define SHADOW_HASH	 1024
#define SHADOW_RMAP	 8192
/* Emulated writes to a shadowed table with no walk through it in between, after which it
 * is taken for a page reused as data and unshadowed (it is shadowed again when used). */
#define SHADOW_FLOOD 3

struct shadow_ops {
	u64 (*alloc)(void *ctx); /* a zeroed machine frame, 0 when none */
	void (*free)(void *ctx, u64 pa);
	void *(*map)(void *ctx, u64 pa); /* a machine frame the hypervisor can reach */
	enum p2m_type (*lookup)(void *ctx, u64 gfn, u64 *mfn);
	void *ctx;
	/* May a leaf map guest RAM frame gfn writable (p2m_may_write)? With `write`, the guest
	 * writes it now: resolve that first (dirty log, copy-on-write), which may change the
	 * frame. t is gfn's type, just looked up. NULL: RAM is always writable and shared frames
	 * stay read-only. */
	bool (*may_write)(void *ctx, u64 gfn, enum p2m_type t, bool write);
};

/* One shadow table. The role says what it shadows; see shadow.c. */
struct shadow_page {
	u64 table; /* machine address of the table the MMU walks */
	u64 meta;  /* machine address of its struct shadow_meta */
	u64 *tptr; /* both as the hypervisor reaches them (ops.map, once) */
	struct shadow_meta *mptr;
	u64 gfn; /* guest table shadowed, or (direct) the first guest frame it maps */
	u32 role;
	u32 hash_next; /* index + 1 of the next page in its hash chain, 0 at the end */
	u32 parents;   /* slot + 1 of the first entry pointing here, 0 none */
	u16 roots;     /* vCPUs using it as their root */
	u8 writes;     /* emulated writes since a walk last went through it */
	bool used;
};

struct shadow_stats {
	u64 faults_fixed;     /* #PF exits resolved by filling the shadow */
	u64 faults_reflected; /* #PF the guest takes: its own tables say so */
	u64 faults_mmio;      /* #PF on device memory: emulated */
	u64 pages_built;      /* shadow pages created */
	u64 pages_zapped;     /* shadow pages dropped (eviction, unprotect, reset) */
	u64 pt_writes;	      /* emulated writes to guest page tables */
	u64 unprotects;	      /* guest tables given back their write access */
	u64 floods;	      /* of which: written again and again, not used as a table */
	u64 cr3_switches;     /* root loads */
	u64 root_hits;	      /* root loads that found the root in the cache */
	u64 evictions;	      /* pages dropped to make room */
	u64 resets;	      /* whole shadow dropped (paging mode changes) */
	u64 invlpg;
	/* hypervisor TSC cycles in the #PF handler, by outcome (the same order as above) */
	u64 cycles_fixed, cycles_reflected, cycles_mmio, cycles_pt_write;
};

struct shadow {
	struct shadow_ops ops;
	struct shadow_page page[SHADOW_MAX_PAGES];
	u32 hash[SHADOW_HASH]; /* index + 1 */
	u32 rmap[SHADOW_RMAP]; /* slot + 1 of the first leaf mapping a frame in this bucket */
	u32 limit;	       /* pages it may use (<= SHADOW_MAX_PAGES) */
	u32 nr_used;
	u32 free_head;	 /* index + 1 of the first unused descriptor (chained by hash_next) */
	u32 clock;	 /* eviction hand */
	bool need_flush; /* a present entry lost rights or went away: flush the TLB */
	struct shadow_stats stats;
};

/* What one vCPU holds: its root, pinned while in use. */
struct shadow_vcpu {
	u32 root;     /* index + 1, 0 none */
	u32 pae_root; /* index + 1 of this vCPU's PAE root (PAE guests), 0 none */
	u8 levels;    /* 4 (IA-32e shadow) or 3 (PAE shadow) */
};

enum shadow_fill {
	SFILL_OK,	       /* mapped: resume the guest */
	SFILL_FLUSH,	       /* a present entry changed: flush this address, then resume */
	SFILL_WRITE_PROTECTED, /* a write to a guest page table: emulate it */
	SFILL_NOT_RAM,	       /* MMIO, ROM write or no memory: emulate the access */
	SFILL_NOMEM,	       /* no machine memory for a shadow table */
};

void shadow_init(struct shadow *sh, const struct shadow_ops *ops, u32 limit);
/* Drops every shadow page, roots included (the vCPUs' roots become 0). */
void shadow_reset(struct shadow *sh, struct shadow_vcpu *sv);

/* The root for the guest's current paging state (gp: CR0/CR3/CR4/EFER and, for PAE, the
 * PDPTE registers as loaded at CR3 time). Returns the machine address to put in CR3 (below
 * 4 GiB for a PAE-format root), 0 when out of memory. */
u64 shadow_load_root(struct shadow *sh, struct shadow_vcpu *sv, const struct guest_paging *gp);

/* Maps gva after a successful guest walk w for `access` (GACC_*), with w's A/D already
 * set in guest memory. */
enum shadow_fill shadow_fill(struct shadow *sh, struct shadow_vcpu *sv,
			     const struct guest_paging *gp, u64 gva, unsigned access,
			     const struct gwalk *w);

/* Guest RAM [gpa, gpa + len) was written by the hypervisor on the guest's behalf (an
 * emulated instruction, string I/O): zap the shadow entries that shadow what changed, and
 * stop shadowing a frame written SHADOW_FLOOD times without being used as a table.
 * Returns true if the frame is shadowed as a guest table. */
bool shadow_write(struct shadow *sh, u64 gpa, u64 len);
/* Is this guest frame shadowed as a table (and so write-protected)? */
bool shadow_protected(struct shadow *sh, u64 gfn);
/* Stop shadowing gfn so the guest can write it directly. false when a vCPU uses it as
 * its root (then it must stay protected and writes must be emulated). */
bool shadow_unprotect(struct shadow *sh, u64 gfn);

/* Machine frame mfn no longer backs what it backed (a P2M change, or a frame Keel showed
 * only for a while): zap every leaf that maps it, through the reverse map. */
void shadow_unmap_frame(struct shadow *sh, u64 mfn);
/* Machine frame mfn may not be written through the shadow any more (dirty logging): every
 * leaf mapping it loses its write right; the next write faults into shadow_fill. */
void shadow_protect_frame(struct shadow *sh, u64 mfn);
/* The P2M change hook (p2m_hook_fn) for the shadow `sh`: registered with p2m_set_hook() so
 * that mm/ keeps the shadow coherent without calling into vmx/. */
void shadow_p2m_hook(void *sh, u64 mfn, bool unmapped);

/* Pages in use. */
static inline u32 shadow_pages(const struct shadow *sh)
{
	return sh->nr_used;
}

/* For tests and the dump: the machine address a present shadow leaf maps gva to, or ~0. */
u64 shadow_lookup(struct shadow *sh, const struct shadow_vcpu *sv, u64 gva, u64 *spte);

#endif
