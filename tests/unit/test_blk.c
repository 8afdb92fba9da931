/* The block backend's checks: every access stays inside the backend's sectors, read-only
 * refuses writes, an I/O error is reported as one. */
#include "test.h"
#include "../../devices/blk.h"
#include "../../devices/blk_ram.h"
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

/* ---- the RAM disk ---- */

static unsigned pages_out;

static void *test_page(void *ctx)
{
	unsigned *budget = ctx;
	if (budget && !(*budget)--)
		return NULL;
	pages_out++;
	return test_alloc(BLK_RAM_PAGE);
}

static void test_free(void *ctx, void *page)
{
	(void)ctx;
	(void)page;
	pages_out--;
}

TEST(blk_ram_reads_zeros_keeps_writes_and_allocates_on_write)
{
	struct blk_ram r;
	struct blk_backend b;
	struct blk_ram_alloc a = {test_page, test_free, NULL};
	pages_out = 0;
	u64 sectors = 64ULL << (20 - BLK_SECTOR_SHIFT); /* 64 MiB */
	REQUIRE(blk_ram_init(&r, &b, sectors, &a, "ram:64"));
	CHECK_EQ(pages_out, 1u);
	static u8 buf[8 * BLK_SECTOR_SIZE], back[8 * BLK_SECTOR_SIZE];
	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(blk_read(&b, sectors - 8, 8, buf), BLK_OK);
	for (unsigned i = 0; i < sizeof(buf); i++)
		if (buf[i])
			test_fail(__FILE__, __LINE__, "unwritten byte %u not zero", i);
	CHECK_EQ(pages_out, 1u);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + 3);
	/* across a page boundary and at the very end */
	CHECK_EQ(blk_write(&b, 5, 8, buf), BLK_OK);
	CHECK_EQ(blk_write(&b, sectors - 8, 8, buf), BLK_OK);
	CHECK_EQ(blk_write(&b, sectors - 7, 8, buf), BLK_RANGE);
	CHECK_EQ(blk_read(&b, 5, 8, back), BLK_OK);
	CHECK(!memcmp(buf, back, sizeof(buf)));
	CHECK_EQ(blk_read(&b, sectors - 8, 8, back), BLK_OK);
	CHECK(!memcmp(buf, back, sizeof(buf)));
	CHECK_EQ(pages_out, 1u + 2 + 2 + 1); /* dir, two tables, three data pages */
	blk_ram_free(&r);
	CHECK_EQ(pages_out, 0u);
}

TEST(blk_ram_out_of_memory_is_an_io_error)
{
	struct blk_ram r;
	struct blk_backend b;
	unsigned budget = 2; /* the directory, one table, no data page */
	struct blk_ram_alloc a = {test_page, test_free, &budget};
	pages_out = 0;
	REQUIRE(blk_ram_init(&r, &b, 1024, &a, "ram"));
	u8 buf[BLK_SECTOR_SIZE] = {1};
	CHECK_EQ(blk_write(&b, 0, 1, buf), BLK_IO_ERROR);
	CHECK_EQ(blk_read(&b, 0, 1, buf), BLK_OK);
	CHECK_EQ(buf[0], 0);
	blk_ram_free(&r);
	CHECK_EQ(pages_out, 0u);
	CHECK(!blk_ram_init(&r, &b, 0, &a, "ram"));
	CHECK(!blk_ram_init(&r, &b, BLK_RAM_MAX_SECTORS + 1, &a, "ram"));
}
