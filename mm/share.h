/* Content-based page sharing (ESX's scheme): a scanner hashes guest pages a few at a time,
 * a hash table of candidates finds pages that may be equal, whole pages are compared before
 * any sharing (a hash match alone never shares), and equal pages are backed by one frame,
 * read-only, through p2m_share; the first write breaks the share (p2m_fault / p2m_unshare).
 * A page hashed once and not yet shared is a *hint*: it may change, so its hash is checked
 * again before it is used. Zero pages, the common case, are found without hashing. */
#ifndef KEEL_SHARE_H
#define KEEL_SHARE_H

#include "p2m.h"

#define SHARE_MAX_VMS 16
#define SHARE_WAYS    4 /* entries per bucket of the candidate table */

/* one VM's memory as the scanner sees it */
struct share_vm {
	struct p2m *p2m; /* NULL: the slot is free */
	u64 nr_gfn;	 /* gfns [0, nr_gfn) are scanned */
	u64 step;	 /* the scan's stride: odd, so every gfn comes up once per pass */
	u64 next;	 /* the scan's position */
	bool on;	 /* the VM's policy (share = on) */
	u64 scanned, shared, zero_shared, passes;
	u64 cross_shared; /* nonzero pages that joined another VM's frame */
};

struct share_entry {
	u64 hash;
	u64 gfn;
	u8 vm;		/* index in share.vms + 1; 0: empty */
	bool is_shared; /* gfn of vm maps the shared frame mfn; else a hint */
	u64 mfn;
	u64 age; /* the scan count when last used (the oldest hint goes first) */
};

struct share_stats {
	u64 scanned;	   /* pages looked at */
	u64 hashed;	   /* pages hashed (not zero) */
	u64 shared;	   /* pages now backed by another's frame, zero pages included */
	u64 zero_shared;   /* of them, zero pages */
	u64 hint_stale;	   /* a hint had changed since it was hashed */
	u64 false_matches; /* same hash, different contents */
	u64 share_failed;  /* p2m_share refused (a frame's reference count full, no table) */
	u64 skipped;	   /* not RAM or shared already */
	u64 cross_shared;  /* nonzero pages that joined another VM's frame */
	u64 cycles;	   /* clock ticks spent in share_scan (when share.clock is set) */
};

struct share {
	struct share_entry *table;
	u64 nbuckets; /* a power of two; table holds nbuckets * SHARE_WAYS entries */
	struct share_vm vms[SHARE_MAX_VMS];
	struct share_entry zero;       /* the zero page every zero page is shared with */
	u64 clock;		       /* pages scanned so far: the age of entries */
	unsigned turn;		       /* the VM whose turn it is */
	u64 (*hash)(const void *page); /* share_hash; a test may weaken it to force collisions */
	struct share_stats st;
	u64 (*now)(void); /* optional: the TSC, so that st.cycles counts the scanner's cost */
};

/* table: nentries (a power of two, at least SHARE_WAYS) entries the caller owns */
void share_init(struct share *s, struct share_entry *table, u64 nentries);
/* a VM joins the scan (its gfns [0, nr_gfn)); false when there is no room */
bool share_add_vm(struct share *s, struct p2m *p, u64 nr_gfn, bool on);
/* the VM is going away: its slot and every entry naming it are dropped */
void share_remove_vm(struct share *s, struct p2m *p);
void share_set_policy(struct share *s, struct p2m *p, bool on);
/* Scans up to budget pages, VMs in turn. Every VM of the scan must be stopped (not in guest
 * mode on any CPU) while it runs, or its pages write-protected first: a page is compared
 * and then mapped, and a write between the two would be lost. Returns pages scanned. */
u64 share_scan(struct share *s, u64 budget);
/* 64-bit hash of one page (FNV-1a over 64-bit words; not cryptographic: matches are
 * always compared whole) */
u64 share_hash(const void *page);
struct share_vm *share_vm_of(struct share *s, const struct p2m *p);

#endif
