/* The one page-table library: 4-level radix tables of 512 entries, described by a format
 * (which bits mean present, which a large page, what a table entry carries). Used for the
 * P2M, EPT, and (later) guest and shadow tables. Level 0 holds 4 KiB leaves. */
#ifndef KEEL_PT_H
#define KEEL_PT_H

#include "../hypervisor/types.h"

struct pt_format {
	const char *name;
	u64 addr_mask;	 /* where the next table / frame address lives */
	u64 present;	 /* an entry is present if any of these bits is set */
	u64 table_bits;	 /* bits written into a non-leaf entry */
	u64 large_bit;	 /* marks a leaf above level 0 (0: format has none) */
	u8 large_levels; /* bit n set: level n may hold a large leaf */
};

/* How the library gets and reaches table memory. */
struct pt_ops {
	u64 (*alloc)(void *ctx); /* a zeroed table page, 0 when out of memory */
	void (*free)(void *ctx, u64 pa);
	void *(*map)(void *ctx, u64 pa); /* NULL: the table address is not reachable */
	void *ctx;
};

#define PT_LEVELS 4

static inline unsigned pt_index(u64 va, unsigned level)
{
	return (unsigned)(va >> (PAGE_SHIFT + 9 * level)) & 511;
}

static inline u64 pt_level_size(unsigned level)
{
	return 1ULL << (PAGE_SHIFT + 9 * level);
}

/* Returns a pointer to the entry for `va` at `level`, creating missing tables when
 * `create`. NULL if a table is missing (and !create), allocation fails, or a large leaf
 * above `level` covers va. */
u64 *pt_entry(const struct pt_format *f, const struct pt_ops *ops, u64 root, u64 va, unsigned level,
	      bool create);

struct pt_walk {
	u64 entry;	/* the leaf entry */
	unsigned level; /* its level: 0 for 4 KiB, 1 for 2 MiB, 2 for 1 GiB */
	u64 pa;		/* translated address of va */
};

/* Walks to the leaf mapping `va`. false if nothing maps it. */
bool pt_walk(const struct pt_format *f, const struct pt_ops *ops, u64 root, u64 va,
	     struct pt_walk *out);

/* Frees every table below root (not the leaves' frames) and root itself. */
void pt_destroy(const struct pt_format *f, const struct pt_ops *ops, u64 root);

#endif
