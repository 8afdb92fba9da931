/* Generic radix-table walker: one implementation for every table format in Keel. */
#include "pt.h"
#include "../hypervisor/assert.h"

static void *table(const struct pt_ops *ops, u64 pa)
{
	return ops->map(ops->ctx, pa);
}

u64 *pt_entry(const struct pt_format *f, const struct pt_ops *ops, u64 root, u64 va, unsigned level,
	      bool create)
{
	KASSERT(f->entry_size == 8);
	u64 *t = table(ops, root);
	if (!t)
		return NULL;
	for (unsigned l = f->levels - 1u; l > level; l--) {
		u64 *e = &t[pt_index(f, va, l)];
		if (!(*e & f->present)) {
			if (!create)
				return NULL;
			u64 pa = ops->alloc(ops->ctx);
			if (!pa)
				return NULL;
			*e = (pa & f->addr_mask) | f->table_bits;
		} else if (pt_is_large(f, *e, l)) {
			return NULL;
		}
		t = table(ops, *e & f->addr_mask);
		if (!t)
			return NULL;
	}
	return &t[pt_index(f, va, level)];
}

void pt_walk_path(const struct pt_format *f, const struct pt_ops *ops, u64 root, u64 va,
		  struct pt_path *out)
{
	u64 t_pa = root;
	out->n = 0;
	out->complete = false;
	out->unreachable = false;
	for (int l = f->levels - 1; l >= 0; l--) {
		void *t = table(ops, t_pa);
		if (!t) {
			out->unreachable = true;
			return;
		}
		unsigned i = pt_index(f, va, (unsigned)l);
		u64 e = pt_get(f, t, i);
		out->entry[out->n] = e;
		out->table[out->n] = t_pa;
		out->index[out->n] = i;
		out->n++;
		if (!(e & f->present))
			return;
		if (l == 0 || pt_is_large(f, e, (unsigned)l)) {
			out->complete = true;
			out->leaf_level = (unsigned)l;
			return;
		}
		t_pa = e & f->addr_mask;
	}
}

bool pt_walk(const struct pt_format *f, const struct pt_ops *ops, u64 root, u64 va,
	     struct pt_walk *out)
{
	struct pt_path p;
	pt_walk_path(f, ops, root, va, &p);
	if (!p.complete)
		return false;
	u64 size = pt_level_size(f, p.leaf_level);
	out->entry = p.entry[p.n - 1];
	out->level = p.leaf_level;
	out->pa = (out->entry & f->addr_mask & ~(size - 1)) | (va & (size - 1));
	return true;
}

static void destroy_level(const struct pt_format *f, const struct pt_ops *ops, u64 pa,
			  unsigned level)
{
	void *t = table(ops, pa);
	unsigned n = 1u << ((level == f->levels - 1u && f->top_index_bits) ? f->top_index_bits
									   : f->index_bits);
	if (t && level > 0) {
		for (unsigned i = 0; i < n; i++) {
			u64 e = pt_get(f, t, i);
			if ((e & f->present) && !pt_is_large(f, e, level))
				destroy_level(f, ops, e & f->addr_mask, level - 1);
		}
	}
	ops->free(ops->ctx, pa);
}

void pt_destroy(const struct pt_format *f, const struct pt_ops *ops, u64 root)
{
	destroy_level(f, ops, root, f->levels - 1u);
}
