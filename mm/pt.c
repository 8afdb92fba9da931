/* Generic 4-level radix walker: one implementation for every table format in Keel. */
#include "pt.h"

static u64 *table(const struct pt_ops *ops, u64 pa)
{
	return ops->map(ops->ctx, pa);
}

static bool is_large(const struct pt_format *f, u64 e, unsigned level)
{
	return level > 0 && f->large_bit && (e & f->large_bit) && (f->large_levels & (1u << level));
}

u64 *pt_entry(const struct pt_format *f, const struct pt_ops *ops, u64 root, u64 va, unsigned level,
	      bool create)
{
	u64 *t = table(ops, root);
	if (!t)
		return NULL;
	for (unsigned l = PT_LEVELS - 1; l > level; l--) {
		u64 *e = &t[pt_index(va, l)];
		if (!(*e & f->present)) {
			if (!create)
				return NULL;
			u64 pa = ops->alloc(ops->ctx);
			if (!pa)
				return NULL;
			*e = (pa & f->addr_mask) | f->table_bits;
		} else if (is_large(f, *e, l)) {
			return NULL;
		}
		t = table(ops, *e & f->addr_mask);
		if (!t)
			return NULL;
	}
	return &t[pt_index(va, level)];
}

bool pt_walk(const struct pt_format *f, const struct pt_ops *ops, u64 root, u64 va,
	     struct pt_walk *out)
{
	u64 *t = table(ops, root);
	for (int l = PT_LEVELS - 1; t && l >= 0; l--) {
		u64 e = t[pt_index(va, (unsigned)l)];
		if (!(e & f->present))
			return false;
		if (l == 0 || is_large(f, e, (unsigned)l)) {
			u64 size = pt_level_size((unsigned)l);
			out->entry = e;
			out->level = (unsigned)l;
			out->pa = (e & f->addr_mask & ~(size - 1)) | (va & (size - 1));
			return true;
		}
		t = table(ops, e & f->addr_mask);
	}
	return false;
}

static void destroy_level(const struct pt_format *f, const struct pt_ops *ops, u64 pa,
			  unsigned level)
{
	u64 *t = table(ops, pa);
	if (t && level > 0) {
		for (unsigned i = 0; i < 512; i++) {
			u64 e = t[i];
			if ((e & f->present) && !is_large(f, e, level))
				destroy_level(f, ops, e & f->addr_mask, level - 1);
		}
	}
	ops->free(ops->ctx, pa);
}

void pt_destroy(const struct pt_format *f, const struct pt_ops *ops, u64 root)
{
	destroy_level(f, ops, root, PT_LEVELS - 1);
}
