/* The block backend's checks: every access stays inside the backend's sectors, read-only
 * refuses writes, an I/O error is reported as one. */
#include "test.h"
#include "../../devices/blk.h"
#include "../../hypervisor/lib.h"

struct ramdisk {
	u8 data[16 * BLK_SECTOR_SIZE];
	unsigned calls;
	bool fail;
};

static bool rd_read(void *ctx, u64 lba, u32 n, void *buf)
{
	struct ramdisk *r = ctx;
	r->calls++;
	memcpy(buf, r->data + lba * BLK_SECTOR_SIZE, (size_t)n * BLK_SECTOR_SIZE);
	return !r->fail;
}

static bool rd_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	struct ramdisk *r = ctx;
	r->calls++;
	memcpy(r->data + lba * BLK_SECTOR_SIZE, buf, (size_t)n * BLK_SECTOR_SIZE);
	return !r->fail;
}

static const struct blk_ops rd_ops = {rd_read, rd_write, NULL};

TEST(blk_accesses_stay_inside_the_backend)
{
	static struct ramdisk r;
	struct blk_backend b = {&rd_ops, &r, 16, false, "ram"};
	static u8 buf[17 * BLK_SECTOR_SIZE];
	memset(buf, 0xab, sizeof(buf));
	CHECK_EQ(blk_write(&b, 15, 1, buf), BLK_OK);
	CHECK_EQ(r.data[15 * BLK_SECTOR_SIZE], 0xab);
	CHECK_EQ(blk_read(&b, 0, 16, buf), BLK_OK);
	r.calls = 0;
	CHECK_EQ(blk_read(&b, 0, 17, buf), BLK_RANGE);
	CHECK_EQ(blk_read(&b, 16, 1, buf), BLK_RANGE);
	CHECK_EQ(blk_write(&b, 15, 2, buf), BLK_RANGE);
	/* a wrapping lba + n never passes the check */
	CHECK_EQ(blk_read(&b, ~0ULL, 2, buf), BLK_RANGE);
	CHECK_EQ(blk_read(&b, ~0ULL - 14, 16, buf), BLK_RANGE);
	CHECK_EQ(blk_read(&b, 16, 0, buf), BLK_OK);
	CHECK_EQ(blk_read(&b, 17, 0, buf), BLK_RANGE);
	CHECK_EQ(r.calls, 0u);
	CHECK_EQ(blk_flush(&b), BLK_OK);
}

TEST(blk_read_only_and_io_errors)
{
	static struct ramdisk r;
	struct blk_backend b = {&rd_ops, &r, 16, true, "ram"};
	u8 buf[BLK_SECTOR_SIZE] = {1};
	CHECK_EQ(blk_write(&b, 0, 1, buf), BLK_READ_ONLY);
	CHECK_EQ(r.calls, 0u);
	CHECK_EQ(blk_read(&b, 0, 1, buf), BLK_OK);
	r.fail = true;
	CHECK_EQ(blk_read(&b, 0, 1, buf), BLK_IO_ERROR);
	b.read_only = false;
	CHECK_EQ(blk_write(&b, 0, 1, buf), BLK_IO_ERROR);
}
