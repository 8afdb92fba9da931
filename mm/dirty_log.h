/* Dirty log: one bit per guest frame, set when the frame's contents may have changed, taken
 * and cleared a 64-bit word at a time with atomic operations so that vCPUs marking frames on
 * other CPUs never lose a bit to the collector. Only the bitmap: which writes reach it and
 * how they are trapped is p2m.c's business (p2m_log_*). */
#ifndef KEEL_DIRTY_LOG_H
#define KEEL_DIRTY_LOG_H

#include "pt.h"

#define DLOG_CHUNK_GFNS (PAGE_SIZE * 8) /* guest frames one bitmap frame covers: 128 MiB */
#define DLOG_CHUNKS	(PAGE_SIZE / 8) /* bitmap frames the directory frame holds */
#define DLOG_MAX_GFN	((u64)DLOG_CHUNKS * DLOG_CHUNK_GFNS) /* 64 GiB of guest-physical */

struct dirty_log {
	u64 dir;       /* machine address of the directory: one bitmap frame per chunk, or 0 */
	u64 nr_frames; /* frames the log uses, directory included */
	bool enabled;
};

/* Starts an empty log (no bitmap frames yet). NULL, or why not. */
const char *dlog_enable(struct dirty_log *l, const struct pt_ops *ops);
/* Frees every frame of the log. */
void dlog_disable(struct dirty_log *l, const struct pt_ops *ops);
/* Makes sure gfn has a bit (allocates its bitmap frame); false: out of memory or gfn past
 * DLOG_MAX_GFN. */
bool dlog_cover(struct dirty_log *l, const struct pt_ops *ops, u64 gfn);
/* Sets gfn's bit (atomic); false if gfn has no bit (not covered). */
bool dlog_mark(struct dirty_log *l, const struct pt_ops *ops, u64 gfn);
bool dlog_test(const struct dirty_log *l, const struct pt_ops *ops, u64 gfn);
/* The 64 bits of gfn [64 * word, 64 * word + 64), cleared in the same atomic exchange. */
u64 dlog_take_word(struct dirty_log *l, const struct pt_ops *ops, u64 word);

#endif
