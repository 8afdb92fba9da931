/* The machine disk's registry: partitions found by name or number, each backend confined to
 * its partition, the claim rules (read-write exclusive, read-only shared), the messages of a
 * missing disk or refused table, and the boot self-test's stamp. */
#include "part_fake.h"
#include "../../devices/machine_disk.h"
#include "../../hypervisor/lib.h"

#define MD_SECTORS 4096

static const struct gpt_part_spec layout[] = {
    {34, 1057, "vm1", 0},
    {1058, 2081, "vm2", 1},
    {2082, 4061, "scratch", 2},
};

static struct ramdisk_img img;

static struct machine_disk *attached(void)
{
	struct machine_disk *md = &machine_disk;
	struct blk_backend whole = img_new(&img, MD_SECTORS);
	gpt_build(img.data, MD_SECTORS, layout, 3);
	REQUIRE(machine_disk_attach(md, &whole, "ata0-slave"));
	return md;
}

TEST(machine_disk_partitions_by_name_or_number)
{
	struct machine_disk *md = attached();
	CHECK_EQ(md->table.n, 3);
	CHECK_EQ(machine_disk_find(md, "vm2"), 1);
	CHECK_EQ(machine_disk_find(md, "3"), 2);
	CHECK_EQ(machine_disk_find(md, "4"), -1);
	CHECK_EQ(machine_disk_find(md, "vm9"), -1);
	struct blk_backend b;
	char why[200];
	CHECK(!machine_disk_partition(md, "vm9", false, &b, why, sizeof(why)));
	CHECK_STR(why, "no partition 'vm9' on ata0-slave (partitions: vm1, vm2, scratch)");
	REQUIRE(machine_disk_partition(md, "2", true, &b, why, sizeof(why)));
	CHECK_STR(b.name, "vm2");
	CHECK_EQ(b.sectors, 1024);
	CHECK(b.read_only);
	u8 buf[512];
	CHECK_EQ(blk_write(&b, 0, 1, buf), BLK_READ_ONLY);
}

TEST(machine_disk_backend_stays_inside_its_partition)
{
	struct machine_disk *md = attached();
	struct blk_backend b;
	char why[200];
	REQUIRE(machine_disk_partition(md, "vm2", false, &b, why, sizeof(why)));
	u8 *buf = test_alloc(2 * 512);
	memset(buf, 0x77, 2 * 512);
	CHECK_EQ(blk_write(&b, 0, 1, buf), BLK_OK);
	CHECK_EQ(img.data[1058 * 512], 0x77);
	CHECK_EQ(img.data[1057 * 512 + 511], 0);
	CHECK_EQ(blk_write(&b, 1023, 1, buf), BLK_OK);
	CHECK_EQ(img.data[2081 * 512], 0x77);
	CHECK_EQ(img.data[2082 * 512], 0);
	/* one past the end, a count that crosses it, and a wrapping LBA: never reach the disk */
	unsigned writes = img.writes;
	CHECK_EQ(blk_write(&b, 1024, 1, buf), BLK_RANGE);
	CHECK_EQ(blk_write(&b, 1023, 2, buf), BLK_RANGE);
	CHECK_EQ(blk_read(&b, ~0ULL, 2, buf), BLK_RANGE);
	CHECK_EQ(img.writes, writes);
	/* a caller skipping blk.h's check meets the backend's own assertion */
	EXPECT_ASSERT(b.ops->read(b.ctx, 1024, 1, buf));
	EXPECT_ASSERT(b.ops->write(b.ctx, ~0ULL, 2, buf));
	CHECK_EQ(img.writes, writes);
	CHECK_EQ(blk_read(&b, 1023, 1, buf), BLK_OK);
	CHECK_EQ(buf[0], 0x77);
	CHECK_EQ(blk_flush(&b), BLK_OK);
	/* an I/O error of the disk is the partition's */
	img.fail_from = 1058;
	CHECK_EQ(blk_read(&b, 0, 1, buf), BLK_IO_ERROR);
}

TEST(machine_disk_read_write_claims_are_exclusive)
{
	struct machine_disk *md = attached();
	struct blk_backend b;
	char why[200];
	CHECK(machine_disk_claim(md, "vm1", false, "linux1", &b, why, sizeof(why)));
	CHECK(!b.read_only);
	CHECK(!machine_disk_claim(md, "vm1", false, "linux2", &b, why, sizeof(why)));
	CHECK_STR(why, "partition vm1 is in use by linux1 (read-write)");
	CHECK(!machine_disk_claim(md, "1", true, "linux2", &b, why, sizeof(why)));
	CHECK_STR(why, "partition 1 is in use by linux1 (read-write)");
	/* the same VM again (a restart) keeps its claim */
	CHECK(machine_disk_claim(md, "vm1", false, "linux1", &b, why, sizeof(why)));
	char owners[100];
	machine_disk_owners(md, 0, owners, sizeof(owners));
	CHECK_STR(owners, "linux1 (rw)");
	/* read-only claims share; then nobody gets it read-write */
	CHECK(machine_disk_claim(md, "vm2", true, "a", &b, why, sizeof(why)));
	CHECK(machine_disk_claim(md, "vm2", true, "b", &b, why, sizeof(why)));
	CHECK(b.read_only);
	CHECK(!machine_disk_claim(md, "vm2", false, "c", &b, why, sizeof(why)));
	CHECK_STR(why, "partition vm2 is in use by a (read-only)");
	machine_disk_owners(md, 1, owners, sizeof(owners));
	CHECK_STR(owners, "a (ro), b (ro)");
	/* released: free for the next VM */
	machine_disk_release(md, "linux1");
	machine_disk_owners(md, 0, owners, sizeof(owners));
	CHECK_STR(owners, "");
	CHECK(machine_disk_claim(md, "vm1", false, "linux2", &b, why, sizeof(why)));
	machine_disk_release(md, "a");
	machine_disk_release(md, "b");
	CHECK(machine_disk_claim(md, "vm2", false, "c", &b, why, sizeof(why)));
}

TEST(machine_disk_claim_table_fills_up)
{
	struct machine_disk *md = attached();
	struct blk_backend b;
	char why[200];
	for (unsigned i = 0; i < MD_MAX_CLAIMS; i++) {
		char owner[8];
		ksnprintf(owner, sizeof(owner), "v%u", i);
		CHECK(machine_disk_claim(md, "scratch", true, owner, &b, why, sizeof(why)));
	}
	CHECK(!machine_disk_claim(md, "vm1", true, "late", &b, why, sizeof(why)));
	CHECK_CONTAINS(why, "claims");
}

TEST(machine_disk_absent_or_refused)
{
	struct machine_disk *md = &machine_disk;
	struct blk_backend b;
	char why[200];
	machine_disk_absent(md, "ata0-master: ATAPI (CD-ROM), ata0-slave: no device");
	CHECK(!machine_disk_claim(md, "vm1", false, "x", &b, why, sizeof(why)));
	CHECK_STR(why, "no machine disk (ata0-master: ATAPI (CD-ROM), ata0-slave: no device)");
	struct blk_backend whole = img_new(&img, MD_SECTORS);
	gpt_build(img.data, MD_SECTORS, layout, 3);
	img.data[512 + 40] ^= 1;
	img.data[(MD_SECTORS - 1) * 512 + 40] ^= 1;
	CHECK(!machine_disk_attach(md, &whole, "ata0-slave"));
	CHECK(md->present);
	CHECK_EQ(md->table.n, 0);
	CHECK(!machine_disk_partition(md, "vm1", false, &b, why, sizeof(why)));
	CHECK_CONTAINS(why,
		       "the partition table of ata0-slave was refused: GPT: primary: header CRC");
}

TEST(machine_disk_stamp_counts_boots)
{
	struct machine_disk *md = attached();
	u64 prev = 99, now = 0;
	char why[200];
	REQUIRE(machine_disk_stamp(md, "scratch", &prev, &now, why, sizeof(why)));
	CHECK_EQ(prev, 0);
	CHECK_EQ(now, 1);
	CHECK(!memcmp(img.data + 2082 * 512, "KEEL-DISK-STAMP", 15));
	REQUIRE(machine_disk_stamp(md, "scratch", &prev, &now, why, sizeof(why)));
	CHECK_EQ(prev, 1);
	CHECK_EQ(now, 2);
	/* a damaged stamp counts as none */
	img.data[2082 * 512 + 16] ^= 1;
	REQUIRE(machine_disk_stamp(md, "scratch", &prev, &now, why, sizeof(why)));
	CHECK_EQ(prev, 0);
	img.fail_from = 2082;
	CHECK(!machine_disk_stamp(md, "scratch", &prev, &now, why, sizeof(why)));
	CHECK_CONTAINS(why, "reading scratch's sector 0 failed");
	CHECK(!machine_disk_stamp(md, "nope", &prev, &now, why, sizeof(why)));
}

static u64 bench_clock_now;
static u64 bench_clock(void)
{
	return bench_clock_now += 1000;
}

TEST(machine_disk_bench_times_both_directions)
{
	struct machine_disk *md = attached();
	u64 r = 0, w = 0;
	char why[200];
	unsigned reads = img.reads, writes = img.writes;
	REQUIRE(machine_disk_bench(md, "scratch", 600, bench_clock, &r, &w, why, sizeof(why)));
	CHECK_EQ(r, 1000);
	CHECK_EQ(w, 1000);
	CHECK_EQ(img.reads - reads, 3); /* 256 + 256 + 88 */
	CHECK_EQ(img.writes - writes, 3);
	CHECK(!machine_disk_bench(md, "vm1", 1024, bench_clock, &r, &w, why, sizeof(why)));
	CHECK_CONTAINS(why, "smaller");
}

TEST(machine_disk_sizes_and_labels)
{
	char buf[32];
	machine_disk_size(65536, buf, sizeof(buf));
	CHECK_STR(buf, "32 MiB");
	machine_disk_size(1000, buf, sizeof(buf));
	CHECK_STR(buf, "500 KiB");
	struct md_part p = {{5, 0, 10, "", 0x83}, NULL};
	machine_disk_part_label(&p, buf, sizeof(buf));
	CHECK_STR(buf, "#5");
}
