/* The one page-table library: radix tables described by a format (levels, index bits,
 * entry size, which bits mean present, which a large page, what a table entry carries).
 * The P2M, EPT and the guest's own tables (32-bit, PAE, IA-32e) all go through it.
 * Level 0 holds 4 KiB leaves. */
#ifndef KEEL_PT_H
#define KEEL_PT_H

#include "../hypervisor/types.h"

#define PT_MAX_LEVELS 4

struct pt_format {
	const char *name;
	u8 levels;	   /* 2 (32-bit paging), 3 (PAE), 4 (IA-32e, EPT, P2M) */
	u8 entry_size;	   /* 4 or 8 bytes */
	u8 index_bits;	   /* 10 (32-bit paging) or 9 */
	u8 top_index_bits; /* index bits of the top level when it differs (PAE: 2), else 0 */
	u64 addr_mask;	   /* where the next table / frame address lives */
	u64 present;	   /* an entry is present if any of these bits is set */
	u64 table_bits;	   /* bits written into a non-leaf entry */
	u64 large_bit;	   /* marks a leaf above level 0 (0: format has none) */
	u8 large_levels;   /* bit n set: level n may hold a large leaf */
};

/* How the library gets and reaches table memory. */
struct pt_ops {
	u64 (*alloc)(void *ctx); /* a zeroed table page, 0 when out of memory */
	void (*free)(void *ctx, u64 pa);
	void *(*map)(void *ctx, u64 pa); /* a whole table; NULL: not reachable */
	void *ctx;
};

static inline unsigned pt_shift(const struct pt_format *f, unsigned level)
{
	return PAGE_SHIFT + f->index_bits * level;
}

static inline unsigned pt_index(const struct pt_format *f, u64 va, unsigned level)
{
	unsigned bits =
	    (level == f->levels - 1u && f->top_index_bits) ? f->top_index_bits : f->index_bits;
	return (unsigned)(va >> pt_shift(f, level)) & ((1u << bits) - 1);
}

static inline u64 pt_level_size(const struct pt_format *f, unsigned level)
{
	return 1ULL << pt_shift(f, level);
}

/* Entry access independent of the entry size. */
static inline u64 pt_get(const struct pt_format *f, const void *table, unsigned i)
{
	return f->entry_size == 4 ? ((const u32 *)table)[i] : ((const u64 *)table)[i];
}

static inline void pt_put(const struct pt_format *f, void *table, unsigned i, u64 e)
{
	if (f->entry_size == 4)
		((u32 *)table)[i] = (u32)e;
	else
		((u64 *)table)[i] = e;
}

static inline bool pt_is_large(const struct pt_format *f, u64 e, unsigned level)
{
	return level > 0 && f->large_bit && (e & f->large_bit) && (f->large_levels & (1u << level));
}

/* Returns a pointer to the entry for `va` at `level`, creating missing tables when
 * `create`. NULL if a table is missing (and !create), allocation fails, or a large leaf
 * above `level` covers va. Formats with 8-byte entries only (the hypervisor's own). */
u64 *pt_entry(const struct pt_format *f, const struct pt_ops *ops, u64 root, u64 va, unsigned level,
	      bool create);

struct pt_walk {
	u64 entry;	/* the leaf entry */
	unsigned level; /* its level: 0 for 4 KiB, 1 for 2/4 MiB, 2 for 1 GiB */
	u64 pa;		/* translated address of va */
};

/* Walks to the leaf mapping `va`. false if nothing maps it. */
bool pt_walk(const struct pt_format *f, const struct pt_ops *ops, u64 root, u64 va,
	     struct pt_walk *out);

/* Every entry a walk visits, top level first: what permission checks and accessed/dirty
 * updates need. */
struct pt_path {
	unsigned n;		  /* entries visited */
	bool complete;		  /* ended on a present leaf */
	bool unreachable;	  /* a table address could not be mapped */
	u64 entry[PT_MAX_LEVELS]; /* entry[i] at level levels-1-i */
	u64 table[PT_MAX_LEVELS]; /* address of the table holding it */
	unsigned index[PT_MAX_LEVELS];
	unsigned leaf_level;
};

void pt_walk_path(const struct pt_format *f, const struct pt_ops *ops, u64 root, u64 va,
		  struct pt_path *out);

/* Frees every table below root (not the leaves' frames) and root itself. */
void pt_destroy(const struct pt_format *f, const struct pt_ops *ops, u64 root);

#endif
