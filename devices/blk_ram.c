/* The RAM disk: sectors in pages that are allocated on first write, so a large scratch
 * disk costs only what the guest wrote to it. */
#include "blk_ram.h"
#include "../hypervisor/lib.h"

#define SECTORS_PER_PAGE (BLK_RAM_PAGE >> BLK_SECTOR_SHIFT)

static u8 *page_of(struct blk_ram *r, u64 lba, bool alloc)
{
	u64 pg = lba / SECTORS_PER_PAGE;
	void **tbl = r->dir[pg / BLK_RAM_PER_PAGE];
	if (!tbl) {
		if (!alloc || !(tbl = r->a.page(r->a.ctx)))
			return NULL;
		r->dir[pg / BLK_RAM_PER_PAGE] = tbl;
	}
	u8 *data = tbl[pg % BLK_RAM_PER_PAGE];
	if (!data) {
		if (!alloc || !(data = r->a.page(r->a.ctx)))
			return NULL;
		tbl[pg % BLK_RAM_PER_PAGE] = data;
	}
	return data;
}

static bool ram_read(void *ctx, u64 lba, u32 n, void *buf)
{
	u8 *out = buf;
	for (u32 i = 0; i < n; i++, lba++, out += BLK_SECTOR_SIZE) {
		u8 *page = page_of(ctx, lba, false);
		if (page)
			memcpy(out, page + (lba % SECTORS_PER_PAGE) * BLK_SECTOR_SIZE,
			       BLK_SECTOR_SIZE);
		else
			memset(out, 0, BLK_SECTOR_SIZE);
	}
	return true;
}

static bool ram_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	const u8 *in = buf;
	for (u32 i = 0; i < n; i++, lba++, in += BLK_SECTOR_SIZE) {
		u8 *page = page_of(ctx, lba, true);
		if (!page)
			return false; /* out of memory: the guest sees an I/O error */
		memcpy(page + (lba % SECTORS_PER_PAGE) * BLK_SECTOR_SIZE, in, BLK_SECTOR_SIZE);
	}
	return true;
}

static const struct blk_ops ram_ops = {ram_read, ram_write, NULL};

bool blk_ram_init(struct blk_ram *r, struct blk_backend *b, u64 sectors,
		  const struct blk_ram_alloc *a, const char *name)
{
	memset(r, 0, sizeof(*r));
	if (!sectors || sectors > BLK_RAM_MAX_SECTORS)
		return false;
	r->a = *a;
	r->sectors = sectors;
	if (!(r->dir = a->page(a->ctx)))
		return false;
	*b = (struct blk_backend){&ram_ops, r, sectors, false, ""};
	kstrlcpy(b->name, name, sizeof(b->name));
	return true;
}

void blk_ram_free(struct blk_ram *r)
{
	if (!r->dir)
		return;
	for (u64 i = 0; i < BLK_RAM_PER_PAGE; i++) {
		void **tbl = r->dir[i];
		if (!tbl)
			continue;
		for (u64 j = 0; j < BLK_RAM_PER_PAGE; j++)
			if (tbl[j])
				r->a.free(r->a.ctx, tbl[j]);
		r->a.free(r->a.ctx, tbl);
	}
	r->a.free(r->a.ctx, r->dir);
	r->dir = NULL;
}
