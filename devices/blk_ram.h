/* A block backend in memory: the `disk = ram:<MiB>` scratch disk (tests, benchmarks without
 * the machine's disk). Pages come from the caller's allocator, zeroed, two levels of page
 * tables deep so that nothing needs to be contiguous. */
#ifndef KEEL_BLK_RAM_H
#define KEEL_BLK_RAM_H

#include "blk.h"

#define BLK_RAM_PAGE	    4096
#define BLK_RAM_PER_PAGE    (BLK_RAM_PAGE / sizeof(void *))
#define BLK_RAM_MAX_SECTORS ((u64)BLK_RAM_PER_PAGE * BLK_RAM_PER_PAGE * (BLK_RAM_PAGE >> 9))

struct blk_ram_alloc {
	void *(*page)(void *ctx); /* a zeroed page, NULL when memory is out */
	void (*free)(void *ctx, void *page);
	void *ctx;
};

struct blk_ram {
	struct blk_ram_alloc a;
	void **dir; /* pages of pointers to data pages; data pages appear on first write */
	u64 sectors;
};

/* A RAM disk of `sectors` (at most BLK_RAM_MAX_SECTORS) as backend `b`; false when memory
 * is out (nothing is then held). Unwritten sectors read as zeros. */
bool blk_ram_init(struct blk_ram *r, struct blk_backend *b, u64 sectors,
		  const struct blk_ram_alloc *a, const char *name);
/* Gives every page back. */
void blk_ram_free(struct blk_ram *r);

#endif
