/* Keel's ATA driver against a fake channel: the probe tells the disk from the CD-ROM and
 * from nothing, transfers of any length in LBA28 and LBA48, and every fault (an error, a
 * stuck BSY, a missing device) ends as an I/O error in bounded time, never a hang. */
#include "ata_fake.h"
#include "../../hypervisor/lib.h"

static struct fake_ata *bochs_like(void)
{
	struct fake_ata *f = test_alloc(sizeof(*f));
	f->dev[0].kind = FAKE_ATAPI;
	f->dev[0].status = ATA_SR_DRDY;
	fake_disk(&f->dev[1], 2048, 2048, true);
	return f;
}

TEST(ata_probe_skips_the_cdrom_and_finds_the_slave_disk)
{
	struct fake_ata *f = bochs_like();
	struct ata_drive d;
	char why[80];
	CHECK_EQ(ata_probe(&d, &fake_ata_ops, f, 0, false, why, sizeof(why)), ATA_ATAPI);
	CHECK_CONTAINS(why, "ATAPI");
	CHECK_EQ(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)), ATA_DISK);
	CHECK_EQ(d.sectors, 2048);
	CHECK(d.lba48);
	CHECK(d.flush_ext);
	CHECK_STR(d.model, "KEEL FAKE DISK");
	CHECK_STR(ata_drive_name(&d), "ata0-slave");
	CHECK(f->ctl & ATA_CTL_NIEN);
	/* the CD-ROM saw IDENTIFY DEVICE only, which it aborts */
	CHECK_EQ(f->dev[0].atapi_other_commands, 0);
}

TEST(ata_probe_of_nothing_says_so)
{
	struct fake_ata *f = test_alloc(sizeof(*f));
	struct ata_drive d;
	char why[80];
	f->missing = true;
	CHECK_EQ(ata_probe(&d, &fake_ata_ops, f, 0, false, why, sizeof(why)), ATA_NONE);
	CHECK_CONTAINS(why, "no device");
	f->missing = false;
	fake_disk(&f->dev[0], 64, 64, false);
	CHECK_EQ(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)), ATA_NONE);
	u8 buf[512];
	CHECK(!ata_read(&d, 0, 1, buf));
	CHECK(!ata_flush(&d));
}

TEST(ata_probe_refuses_a_stuck_or_lying_drive)
{
	struct fake_ata *f = bochs_like();
	struct ata_drive d;
	char why[80];
	f->dev[1].stuck_bsy = true;
	u64 t0 = f->now_us;
	CHECK_EQ(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)), ATA_UNUSABLE);
	CHECK_CONTAINS(why, "timed out");
	CHECK(f->now_us - t0 < 2 * ATA_TIMEOUT_PROBE_US);
	f->dev[1].stuck_bsy = false;
	f->dev[1].bad_checksum = true;
	CHECK_EQ(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)), ATA_UNUSABLE);
	CHECK_CONTAINS(why, "checksum");
	f->dev[1].bad_checksum = false;
	f->dev[1].sectors = 0;
	CHECK_EQ(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)), ATA_UNUSABLE);
	CHECK_CONTAINS(why, "no sectors");
	f->dev[1].sectors = (1ULL << 48) + 1;
	CHECK_EQ(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)), ATA_UNUSABLE);
	CHECK_CONTAINS(why, "2^48");
}

static void pattern(u8 *p, u32 sectors, u8 seed)
{
	for (u32 i = 0; i < sectors * 512; i++)
		p[i] = (u8)(i * 7 + seed + i / 512);
}

TEST(ata_multi_sector_transfers_round_trip)
{
	struct fake_ata *f = bochs_like();
	struct ata_drive d;
	char why[80];
	REQUIRE(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)) == ATA_DISK);
	u32 n = 300; /* two commands: 256 + 44 */
	u8 *out = test_alloc(n * 512), *in = test_alloc(n * 512);
	pattern(out, n, 3);
	unsigned before = f->dev[1].commands;
	CHECK(ata_write(&d, 100, n, out));
	CHECK_EQ(f->dev[1].commands - before, 2);
	CHECK_EQ(f->dev[1].last_cmd, ATA_CMD_WRITE_PIO);
	CHECK_EQ(f->dev[1].last_lba, 356);
	CHECK_EQ(f->dev[1].last_count, 44);
	CHECK(!memcmp(f->dev[1].data + 100 * 512, out, n * 512));
	CHECK(ata_read(&d, 100, n, in));
	CHECK_EQ(f->dev[1].last_cmd, ATA_CMD_READ_PIO);
	CHECK(!memcmp(in, out, n * 512));
	/* exactly 256 sectors go as one command with a count register of 0 */
	before = f->dev[1].commands;
	CHECK(ata_read(&d, 0, 256, in));
	CHECK_EQ(f->dev[1].commands - before, 1);
	CHECK_EQ(f->dev[1].last_count, 256);
	/* the last sector of the disk, and a buffer at an odd address */
	CHECK(ata_write(&d, 2047, 1, out + 1));
	CHECK(ata_read(&d, 2047, 1, in + 1));
	CHECK(!memcmp(in + 1, out + 1, 512));
	CHECK(ata_flush(&d));
	CHECK_EQ(f->dev[1].last_cmd, ATA_CMD_FLUSH_EXT);
	CHECK_EQ(d.io_errors, 0);
}

TEST(ata_lba48_above_the_lba28_limit)
{
	struct fake_ata *f = test_alloc(sizeof(*f));
	f->dev[0].kind = FAKE_ATAPI;
	f->dev[0].status = ATA_SR_DRDY;
	u64 big = ATA_LBA28_LIMIT + 4096;
	fake_disk(&f->dev[1], big, 64, true);
	struct ata_drive d;
	char why[80];
	REQUIRE(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)) == ATA_DISK);
	CHECK_EQ(d.sectors, big);
	u8 out[2 * 512], in[2 * 512];
	pattern(out, 2, 9);
	u64 lba = ATA_LBA28_LIMIT + 0x123;
	CHECK(ata_write(&d, lba, 2, out));
	CHECK_EQ(f->dev[1].last_cmd, ATA_CMD_WRITE_PIO_EXT);
	CHECK_EQ(f->dev[1].last_lba, lba);
	CHECK(ata_read(&d, lba, 2, in));
	CHECK_EQ(f->dev[1].last_cmd, ATA_CMD_READ_PIO_EXT);
	CHECK(!memcmp(in, out, sizeof(in)));
	/* a transfer ending exactly at the LBA28 limit still fits LBA28 */
	CHECK(ata_read(&d, ATA_LBA28_LIMIT - 2, 2, in));
	CHECK_EQ(f->dev[1].last_cmd, ATA_CMD_READ_PIO);
	CHECK_EQ(f->dev[1].last_lba, ATA_LBA28_LIMIT - 2);
	/* without LBA48 the drive is cut at 2^28 sectors */
	f->dev[1].lba48 = false;
	REQUIRE(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)) == ATA_DISK);
	CHECK_EQ(d.sectors, 0x0fffffff);
	CHECK(!d.flush_ext);
	CHECK(!ata_read(&d, lba, 1, in));
}

TEST(ata_errors_are_io_errors_and_the_drive_goes_on)
{
	struct fake_ata *f = bochs_like();
	struct ata_drive d;
	char why[80];
	REQUIRE(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)) == ATA_DISK);
	u8 buf[4 * 512];
	f->dev[1].fail_lba = 10;
	CHECK(!ata_read(&d, 8, 4, buf));
	CHECK_CONTAINS(d.last_error, "error");
	CHECK_EQ(d.last_err, 0x10);
	CHECK(!ata_write(&d, 10, 1, buf));
	CHECK_EQ(d.io_errors, 2);
	CHECK(ata_read(&d, 0, 4, buf));
	/* outside the disk: refused before any command reaches the drive */
	unsigned before = f->dev[1].commands;
	CHECK(!ata_read(&d, 2047, 2, buf));
	CHECK(!ata_read(&d, ~0ULL, 2, buf));
	CHECK_EQ(f->dev[1].commands, before);
}

TEST(ata_a_drive_without_data_is_an_io_error)
{
	struct fake_ata *f = bochs_like();
	struct ata_drive d;
	char why[80];
	REQUIRE(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)) == ATA_DISK);
	u8 buf[512] = {0};
	f->dev[1].no_drq = true;
	CHECK(!ata_read(&d, 0, 1, buf));
	CHECK_STR(d.last_error, "read: no data (DRQ clear)");
	CHECK(!ata_write(&d, 0, 1, buf));
	CHECK_STR(d.last_error, "write: not ready for data (DRQ clear)");
	f->dev[1].no_drq = false;
	CHECK(ata_write(&d, 0, 1, buf));
}

TEST(ata_stuck_busy_times_out)
{
	struct fake_ata *f = bochs_like();
	struct ata_drive d;
	char why[80];
	REQUIRE(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)) == ATA_DISK);
	u8 buf[512];
	f->dev[1].stuck_bsy = true;
	u64 t0 = f->now_us;
	CHECK(!ata_read(&d, 0, 1, buf));
	CHECK_CONTAINS(d.last_error, "timed out");
	CHECK(f->now_us - t0 <= 2 * ATA_TIMEOUT_IO_US);
	/* the drive is still busy: the next command does not start, and ends in time too */
	t0 = f->now_us;
	CHECK(!ata_write(&d, 0, 1, buf));
	CHECK_CONTAINS(d.last_error, "busy before");
	CHECK(f->now_us - t0 <= 2 * ATA_TIMEOUT_IO_US);
	CHECK(!ata_flush(&d));
}

TEST(ata_whole_disk_backend)
{
	struct fake_ata *f = bochs_like();
	struct ata_drive d;
	char why[80];
	REQUIRE(ata_probe(&d, &fake_ata_ops, f, 0, true, why, sizeof(why)) == ATA_DISK);
	struct blk_backend b;
	ata_backend(&d, &b);
	CHECK_EQ(b.sectors, 2048);
	CHECK_STR(b.name, "ata0-slave");
	u8 buf[512] = {0x5a};
	CHECK_EQ(blk_write(&b, 7, 1, buf), BLK_OK);
	CHECK_EQ(f->dev[1].data[7 * 512], 0x5a);
	CHECK_EQ(blk_read(&b, 2048, 1, buf), BLK_RANGE);
	f->dev[1].fail_lba = 7;
	CHECK_EQ(blk_read(&b, 7, 1, buf), BLK_IO_ERROR);
	CHECK_EQ(blk_flush(&b), BLK_OK);
}
