/* A block backend: the 512-byte sectors a virtual disk (virtio-blk, the emulated IDE disk)
 * or the spool reads and writes. The partitioned class's backend is one partition of the
 * machine's disk; host tests use memory. Every access is checked against the backend's size
 * here, once, so no model can reach a sector outside its range by a bad count. */
#ifndef KEEL_BLK_H
#define KEEL_BLK_H

#include "../hypervisor/types.h"

#define BLK_SECTOR_SIZE	 512
#define BLK_SECTOR_SHIFT 9

struct blk_ops {
	/* sectors [lba, lba + n) of the backend (already checked in range, n > 0) to or from
	 * buf; false on an I/O error */
	bool (*read)(void *ctx, u64 lba, u32 n, void *buf);
	bool (*write)(void *ctx, u64 lba, u32 n, const void *buf);
	/* written sectors reach the medium; NULL when writes are not cached */
	bool (*flush)(void *ctx);
};

struct blk_backend {
	const struct blk_ops *ops;
	void *ctx;
	u64 sectors;	/* size; sectors 0 .. sectors - 1 exist */
	bool read_only; /* writes refused (config `,ro` or a read-only medium) */
	char name[32];	/* for messages: the partition's name */
};

enum blk_status { BLK_OK, BLK_RANGE, BLK_READ_ONLY, BLK_IO_ERROR };

static inline bool blk_in_range(const struct blk_backend *b, u64 lba, u64 n)
{
	return n <= b->sectors && lba <= b->sectors - n;
}

static inline enum blk_status blk_read(const struct blk_backend *b, u64 lba, u32 n, void *buf)
{
	if (!blk_in_range(b, lba, n))
		return BLK_RANGE;
	if (n == 0)
		return BLK_OK;
	return b->ops->read(b->ctx, lba, n, buf) ? BLK_OK : BLK_IO_ERROR;
}

static inline enum blk_status blk_write(const struct blk_backend *b, u64 lba, u32 n,
					const void *buf)
{
	if (b->read_only)
		return BLK_READ_ONLY;
	if (!blk_in_range(b, lba, n))
		return BLK_RANGE;
	if (n == 0)
		return BLK_OK;
	return b->ops->write(b->ctx, lba, n, buf) ? BLK_OK : BLK_IO_ERROR;
}

static inline enum blk_status blk_flush(const struct blk_backend *b)
{
	if (!b->ops->flush)
		return BLK_OK;
	return b->ops->flush(b->ctx) ? BLK_OK : BLK_IO_ERROR;
}

#endif
