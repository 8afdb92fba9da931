/* The dirty bitmap (see dirty_log.h): a directory frame of bitmap frames, allocated as guest
 * frames are covered, reached through pt_ops so host tests run it over heap memory. */
#include "dirty_log.h"

const char *dlog_enable(struct dirty_log *l, const struct pt_ops *ops)
{
	if (l->enabled)
		return "dirty log already enabled";
	l->dir = ops->alloc(ops->ctx);
	if (!l->dir)
		return "out of memory for the dirty log";
	l->nr_frames = 1;
	l->enabled = true;
	return NULL;
}

void dlog_disable(struct dirty_log *l, const struct pt_ops *ops)
{
	if (!l->dir)
		return;
	u64 *dir = ops->map(ops->ctx, l->dir);
	for (unsigned i = 0; i < DLOG_CHUNKS; i++)
		if (dir[i])
			ops->free(ops->ctx, dir[i]);
	ops->free(ops->ctx, l->dir);
	l->dir = 0;
	l->nr_frames = 0;
	l->enabled = false;
}

/* The word holding gfn's bit, NULL if its bitmap frame does not exist. */
static u64 *word_of(const struct dirty_log *l, const struct pt_ops *ops, u64 gfn)
{
	if (!l->enabled || gfn >= DLOG_MAX_GFN)
		return NULL;
	u64 *dir = ops->map(ops->ctx, l->dir);
	u64 chunk = __atomic_load_n(&dir[gfn / DLOG_CHUNK_GFNS], __ATOMIC_ACQUIRE);
	if (!chunk)
		return NULL;
	u64 *bits = ops->map(ops->ctx, chunk);
	return &bits[(gfn % DLOG_CHUNK_GFNS) / 64];
}

bool dlog_cover(struct dirty_log *l, const struct pt_ops *ops, u64 gfn)
{
	if (!l->enabled || gfn >= DLOG_MAX_GFN)
		return false;
	if (word_of(l, ops, gfn))
		return true;
	u64 *dir = ops->map(ops->ctx, l->dir);
	u64 chunk = ops->alloc(ops->ctx);
	if (!chunk)
		return false;
	/* publish the zeroed frame once; a racing cover keeps the first one */
	u64 none = 0;
	if (__atomic_compare_exchange_n(&dir[gfn / DLOG_CHUNK_GFNS], &none, chunk, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		l->nr_frames++;
	else
		ops->free(ops->ctx, chunk);
	return true;
}

bool dlog_mark(struct dirty_log *l, const struct pt_ops *ops, u64 gfn)
{
	u64 *w = word_of(l, ops, gfn);
	if (!w)
		return false;
	__atomic_fetch_or(w, 1ULL << (gfn % 64), __ATOMIC_RELEASE);
	return true;
}

bool dlog_test(const struct dirty_log *l, const struct pt_ops *ops, u64 gfn)
{
	u64 *w = word_of(l, ops, gfn);
	return w && (__atomic_load_n(w, __ATOMIC_ACQUIRE) & (1ULL << (gfn % 64)));
}

u64 dlog_take_word(struct dirty_log *l, const struct pt_ops *ops, u64 word)
{
	u64 *w = word_of(l, ops, word * 64);
	return w ? __atomic_exchange_n(w, 0, __ATOMIC_ACQ_REL) : 0;
}
