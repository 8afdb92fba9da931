/* The emulated IDE disk driven through its ports as libata and a bare-metal driver drive it:
 * IDENTIFY, PIO reads and writes in LBA28, LBA48 and CHS, READ/WRITE MULTIPLE, resets,
 * interrupts, and hostile task files that must never reach a sector outside the backend
 * (state streams, the board and bulk string I/O: test_ide_state.c). */
#include "ide_rig.h"

/* A huge disk that stores nothing: reads give each sector's own LBA in every 8 bytes, writes
 * remember where they went (LBA48 addresses beyond any RAM). */
struct bigdisk {
	u64 last_write_lba;
	u32 last_write_n;
	u8 last_first_byte;
};

static bool big_read(void *ctx, u64 lba, u32 n, void *buf)
{
	(void)ctx;
	u8 *p = buf; /* the model's buffer need not be 8-byte aligned */
	for (u32 s = 0; s < n; s++)
		for (unsigned i = 0; i < BLK_SECTOR_SIZE / 8; i++, p += 8) {
			u64 v = lba + s;
			memcpy(p, &v, 8);
		}
	return true;
}

static bool big_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	struct bigdisk *b = ctx;
	b->last_write_lba = lba;
	b->last_write_n = n;
	b->last_first_byte = *(const u8 *)buf;
	return true;
}

static const struct blk_ops big_ops = {big_read, big_write, NULL};

/* ---- tests ---- */

TEST(ide_powers_on_with_an_ata_signature)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	CHECK_EQ(status(d), 0x50);
	CHECK_EQ(err_reg(d), 0x01);
	CHECK_EQ(inp(d, P(2), 1), 1);
	CHECK_EQ(inp(d, P(3), 1), 1);
	CHECK_EQ(inp(d, P(4), 1), 0);
	CHECK_EQ(inp(d, P(5), 1), 0);
	CHECK_EQ(inp(d, P(6), 1), 0xa0);
	/* the registers hold what is written (drivers probe with 0x55/0xaa) */
	outp(d, P(2), 1, 0x55);
	outp(d, P(3), 1, 0xaa);
	CHECK_EQ(inp(d, P(2), 1), 0x55);
	CHECK_EQ(inp(d, P(3), 1), 0xaa);
	CHECK_EQ(r->rises, 0u);
}

TEST(ide_identify_describes_the_disk)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	u16 id[256];
	outp(d, P(6), 1, 0xa0);
	outp(d, P(7), 1, 0xec);
	CHECK_EQ(r->rises, 1u);
	CHECK(r->level);
	CHECK_EQ(altstatus(d), 0x58); /* DRDY DSC DRQ; alt status keeps the interrupt */
	CHECK(r->level);
	CHECK_EQ(status(d), 0x58);
	CHECK(!r->level);
	read_words(d, id, sizeof(id));
	CHECK_EQ(status(d), 0x50);
	CHECK_EQ(id[0], 0x0040);
	CHECK_EQ(id[1], RAM_SECTORS / (16 * 63));
	CHECK_EQ(id[3], 16);
	CHECK_EQ(id[6], 63);
	CHECK_EQ(id[47], 0x8000 | IDE_MAX_MULT);
	CHECK_EQ(id[49] & (1u << 9), 1u << 9); /* LBA */
	CHECK_EQ(id[49] & (1u << 8), 0u);      /* no DMA */
	CHECK_EQ(id[63], 0u);
	CHECK_EQ(id[88], 0u);
	CHECK_EQ(id[59], 0x100 | IDE_MAX_MULT);
	CHECK_EQ(id[60] | (u32)id[61] << 16, RAM_SECTORS);
	CHECK_EQ(id[83] & (1u << 10), 1u << 10); /* LBA48 */
	CHECK_EQ(id[100] | (u64)id[101] << 16 | (u64)id[102] << 32 | (u64)id[103] << 48,
		 RAM_SECTORS);
	u32 chs = id[57] | (u32)id[58] << 16;
	CHECK_EQ(chs, (u32)id[54] * id[55] * id[56]);
	/* "Keel IDE disk" in ATA byte order: the first character in the high byte */
	CHECK_EQ(id[27], 'K' << 8 | 'e');
	CHECK_EQ(id[28], 'e' << 8 | 'l');
	CHECK_EQ(id[10], 'K' << 8 | 'E');
	u8 sum = 0;
	for (unsigned i = 0; i < 512; i++)
		sum = (u8)(sum + ((u8 *)id)[i]);
	CHECK_EQ(sum, 0);
	CHECK_EQ(id[255] & 0xff, 0xa5);
	/* no DRQ any more: the data port floats high */
	CHECK_EQ(inp(d, P(0), 2), 0xffff);
	CHECK_EQ(inp(d, P(0), 4), 0xffffffffu);
	CHECK_EQ(inp(d, P(0), 1), 0xff);
}

TEST(ide_lba28_write_then_read_back_several_sectors)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	u8 out[3 * 512], in[3 * 512];
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (u8)(i ^ 0x5a);
	/* single-sector PIO: DRQ at once for the first sector, an interrupt after each */
	tf28(d, 1000, 3, 0x30);
	CHECK_EQ(r->rises, 0u);
	CHECK_EQ(altstatus(d), 0x58);
	for (unsigned s = 0; s < 3; s++) {
		write_words(d, out + 512 * s, 512);
		CHECK_EQ(r->rises, s + 1);
		CHECK_EQ(status(d), s < 2 ? 0x58 : 0x50);
	}
	CHECK_EQ(r->rd.writes, 3u);
	CHECK(memcmp(sector(r, 1000), out, sizeof(out)) == 0);
	CHECK(sector(r, 1003)[0] != out[0] || sector(r, 999)[0] != out[0]);

	r->rises = 0;
	tf28(d, 1000, 3, 0x20);
	for (unsigned s = 0; s < 3; s++) {
		CHECK_EQ(r->rises, s + 1);
		CHECK_EQ(status(d), 0x58);
		read_words(d, in + 512 * s, 512);
	}
	CHECK_EQ(status(d), 0x50);
	CHECK_EQ(r->rises, 3u);
	CHECK(memcmp(in, out, sizeof(in)) == 0);
	CHECK_EQ(r->ide.sectors_read, 3u);
	CHECK_EQ(r->ide.sectors_written, 3u);
}

TEST(ide_count_zero_is_256_sectors_and_32_bit_data_accesses_work)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	tf28(d, 0, 0, 0x20);
	u32 words = 0;
	while (status(d) & 0x08) {
		for (unsigned i = 0; i < 128; i++) {
			u32 v = inp(d, P(0), 4);
			const u8 *want = sector(r, words / 128) + (i * 4);
			CHECK_EQ(v, want[0] | want[1] << 8 | want[2] << 16 | (u32)want[3] << 24);
		}
		words += 128;
	}
	CHECK_EQ(words, 256 * 128);
}

TEST(ide_lba48_addresses_beyond_28_bits)
{
	struct ide *d = test_alloc(sizeof(*d));
	static struct bigdisk big;
	struct blk_backend be = {&big_ops, &big, 1ULL << 40, false, "big"};
	ide_init(d, &be, NULL);
	u64 lba = 0x123456789aULL;
	tf48(d, lba, 2, 0x24);
	u64 got[64];
	read_words(d, got, 512);
	CHECK_EQ(got[0], lba);
	CHECK_EQ(got[63], lba);
	read_words(d, got, 512);
	CHECK_EQ(got[0], lba + 1);
	CHECK_EQ(status(d), 0x50);
	/* HOB reads back the high-order bytes the driver wrote first */
	outp(d, IDE_PRIMARY_CTRL, 1, 0x80);
	CHECK_EQ(inp(d, P(3), 1), 0x34);
	CHECK_EQ(inp(d, P(4), 1), 0x12);
	CHECK_EQ(inp(d, P(5), 1), 0x00);
	outp(d, IDE_PRIMARY_CTRL, 1, 0x00);
	CHECK_EQ(inp(d, P(3), 1), 0x9a);

	u8 out[512];
	memset(out, 0xc3, sizeof(out));
	tf48(d, (1ULL << 40) - 1, 1, 0x34);
	write_words(d, out, 512);
	CHECK_EQ(big.last_write_lba, (1ULL << 40) - 1);
	CHECK_EQ(big.last_write_n, 1u);
	CHECK_EQ(big.last_first_byte, 0xc3);
	CHECK_EQ(status(d), 0x50);
	/* a count of 0 is 65536 sectors: past the end by one sector is refused whole */
	tf48(d, (1ULL << 40) - 65535, 0, 0x24);
	CHECK_EQ(status(d), 0x51);
	CHECK_EQ(err_reg(d), 0x10);
}

TEST(ide_chs_translates_with_its_own_geometry)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	u8 out[512], in[512];
	memset(out, 0x77, sizeof(out));
	/* C/H/S 2/3/5 with 16 heads of 63 sectors: LBA (2 * 16 + 3) * 63 + 4 */
	u64 lba = (2 * 16 + 3) * 63 + 4;
	tfchs(d, 2, 3, 5, 1, 0x30);
	write_words(d, out, 512);
	CHECK_EQ(status(d), 0x50);
	CHECK(memcmp(sector(r, lba), out, 512) == 0);
	tf28(d, (u32)lba, 1, 0x20);
	read_words(d, in, 512);
	CHECK(memcmp(in, out, 512) == 0);
	/* sector 0, a head past the geometry and a cylinder past the disk do not exist */
	unsigned reads = r->rd.reads;
	tfchs(d, 0, 0, 0, 1, 0x20);
	CHECK_EQ(status(d), 0x51);
	CHECK_EQ(err_reg(d), 0x10);
	tfchs(d, 0, 0, 64, 1, 0x20);
	CHECK_EQ(err_reg(d), 0x10);
	tfchs(d, 4, 0, 1, 1, 0x20); /* 4096 sectors: cylinders 0-3 */
	CHECK_EQ(err_reg(d), 0x10);
	CHECK_EQ(r->rd.reads, reads);
	/* INITIALIZE DEVICE PARAMETERS: 4 heads of 32 sectors */
	outp(d, P(2), 1, 32);
	outp(d, P(6), 1, 0xa0 | 3);
	outp(d, P(7), 1, 0x91);
	CHECK_EQ(status(d), 0x50);
	tfchs(d, 1, 2, 3, 1, 0x20);
	read_words(d, in, 512);
	CHECK(memcmp(in, sector(r, (1 * 4 + 2) * 32 + 2), 512) == 0);
	tfchs(d, 0, 4, 1, 1, 0x20);
	CHECK_EQ(err_reg(d), 0x10);
	u16 id[256];
	outp(d, P(7), 1, 0xec);
	read_words(d, id, 512);
	CHECK_EQ(id[55], 4);
	CHECK_EQ(id[56], 32);
	CHECK_EQ(id[54], RAM_SECTORS / (4 * 32));
	/* zero sectors per track is refused */
	outp(d, P(2), 1, 0);
	outp(d, P(7), 1, 0x91);
	CHECK_EQ(status(d), 0x51);
	CHECK_EQ(err_reg(d), 0x04);
}

TEST(ide_out_of_range_addresses_get_idnf_and_touch_nothing)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	static const struct {
		u32 lba;
		u8 count;
	} bad[] = {{RAM_SECTORS, 1}, {RAM_SECTORS - 1, 2}, {0x0fffffff, 1}, {RAM_SECTORS - 10, 0}};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		for (unsigned c = 0; c < 4; c++) {
			static const u8 cmds[] = {0x20, 0x30, 0xc4, 0xc5};
			r->rises = 0;
			tf28(d, bad[i].lba, bad[i].count, cmds[c]);
			CHECK_EQ(status(d), 0x51);
			CHECK_EQ(err_reg(d), 0x10);
			CHECK_EQ(r->rises, 1u);
			/* no DRQ: nothing to read, and writes are dropped */
			CHECK_EQ(inp(d, P(0), 2), 0xffff);
			outp(d, P(0), 2, 0x1234);
		}
	/* LBA48 near 2^48, where lba + count would wrap a careless 48-bit sum */
	tf48(d, 0xffffffffffffULL, 2, 0x24);
	CHECK_EQ(err_reg(d), 0x10);
	tf48(d, RAM_SECTORS - 1, 2, 0x34);
	CHECK_EQ(err_reg(d), 0x10);
	tf28(d, RAM_SECTORS - 1, 1, 0x40); /* verify the last sector: fine */
	CHECK_EQ(status(d), 0x50);
	tf28(d, RAM_SECTORS, 1, 0x40);
	CHECK_EQ(err_reg(d), 0x10);
	CHECK_EQ(r->rd.reads, 0u);
	CHECK_EQ(r->rd.writes, 0u);
}

TEST(ide_read_write_multiple_move_blocks)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	static u8 out[40 * 512], in[40 * 512];
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (u8)(i * 13 + 1);
	/* power-on block: 16 sectors, so 40 sectors are blocks of 16, 16, 8 */
	tf28(d, 200, 40, 0xc5);
	static const unsigned blocks[] = {16, 16, 8};
	unsigned off = 0;
	for (unsigned b = 0; b < 3; b++) {
		CHECK_EQ(altstatus(d), 0x58);
		write_words(d, out + off, blocks[b] * 512);
		off += blocks[b] * 512;
		CHECK_EQ(r->rises, b + 1);
		CHECK_EQ(status(d), b < 2 ? 0x58 : 0x50);
	}
	CHECK_EQ(r->rd.writes, 3u);
	CHECK(memcmp(sector(r, 200), out, sizeof(out)) == 0);

	/* SET MULTIPLE MODE 4: reads in blocks of 4, one interrupt per block */
	outp(d, P(2), 1, 4);
	outp(d, P(7), 1, 0xc6);
	CHECK_EQ(status(d), 0x50);
	r->rises = 0;
	tf48(d, 200, 40, 0x29);
	for (unsigned b = 0; b < 10; b++) {
		CHECK_EQ(r->rises, b + 1);
		CHECK_EQ(status(d), 0x58);
		read_words(d, in + b * 4 * 512, 4 * 512);
	}
	CHECK_EQ(status(d), 0x50);
	CHECK(memcmp(in, out, sizeof(in)) == 0);
	/* not a power of two, or above the maximum: refused, the block stays 4 */
	outp(d, P(2), 1, 6);
	outp(d, P(7), 1, 0xc6);
	CHECK_EQ(err_reg(d), 0x04);
	outp(d, P(2), 1, 32);
	outp(d, P(7), 1, 0xc6);
	CHECK_EQ(err_reg(d), 0x04);
	CHECK_EQ(d->mult, 4);
	/* 0 turns multiple mode off: READ MULTIPLE is then aborted */
	outp(d, P(2), 1, 0);
	outp(d, P(7), 1, 0xc6);
	CHECK_EQ(status(d), 0x50);
	tf28(d, 0, 1, 0xc4);
	CHECK_EQ(status(d), 0x51);
	CHECK_EQ(err_reg(d), 0x04);
}

TEST(ide_unknown_and_dma_commands_abort)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	static const u8 cmds[] = {0x00, 0xc8, 0xca, 0x25, 0x35, 0xa0, 0xa1, 0xb0, 0xf8, 0x27, 0xff};
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++) {
		r->rises = 0;
		tf28(d, 0, 1, cmds[i]);
		CHECK_EQ(status(d), 0x51);
		CHECK_EQ(err_reg(d), 0x04);
		CHECK_EQ(r->rises, 1u);
	}
	/* SET FEATURES: PIO modes are accepted, DMA modes and unknown features refused */
	static const struct {
		u8 feature, count, ok;
	} sf[] = {{0x03, 0x0c, 1}, {0x03, 0x08, 1}, {0x03, 0x01, 1}, {0x03, 0x22, 0},
		  {0x03, 0x45, 0}, {0x02, 0, 1},    {0x82, 0, 1},    {0x99, 0, 0}};
	for (unsigned i = 0; i < ARRAY_SIZE(sf); i++) {
		outp(d, P(1), 1, sf[i].feature);
		outp(d, P(2), 1, sf[i].count);
		outp(d, P(7), 1, 0xef);
		CHECK_EQ(status(d), sf[i].ok ? 0x50 : 0x51);
	}
	/* power and housekeeping commands just complete */
	static const u8 noops[] = {0xe0, 0xe1, 0xe2, 0xe3, 0x94, 0x95, 0x10, 0x1f};
	for (unsigned i = 0; i < ARRAY_SIZE(noops); i++) {
		outp(d, P(7), 1, noops[i]);
		CHECK_EQ(status(d), 0x50);
	}
	outp(d, P(7), 1, 0xe5);
	CHECK_EQ(inp(d, P(2), 1), 0xff);
	outp(d, P(7), 1, 0xe7);
	outp(d, P(7), 1, 0xea);
	CHECK_EQ(status(d), 0x50);
	CHECK_EQ(r->rd.flushes, 2u);
}

TEST(ide_srst_resets_the_channel_and_nien_masks_the_line)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	/* mid-read: SRST cancels the transfer */
	tf28(d, 5, 2, 0x20);
	CHECK(r->level);
	outp(d, IDE_PRIMARY_CTRL, 1, 0x04);
	CHECK(!r->level);
	CHECK_EQ(altstatus(d), 0x80);
	CHECK_EQ(status(d), 0x80);
	outp(d, P(7), 1, 0xec); /* lost: the device is busy */
	outp(d, IDE_PRIMARY_CTRL, 1, 0x00);
	CHECK_EQ(status(d), 0x50);
	CHECK_EQ(err_reg(d), 0x01);
	CHECK_EQ(inp(d, P(2), 1), 1);
	CHECK_EQ(inp(d, P(3), 1), 1);
	CHECK_EQ(inp(d, P(0), 2), 0xffff);
	CHECK(!r->level);

	/* nIEN: the interrupt stays pending but the line stays low until it is cleared */
	r->rises = 0;
	outp(d, IDE_PRIMARY_CTRL, 1, 0x02);
	outp(d, P(7), 1, 0xe1);
	CHECK(!r->level);
	CHECK_EQ(r->rises, 0u);
	outp(d, IDE_PRIMARY_CTRL, 1, 0x00);
	CHECK(r->level);
	CHECK_EQ(r->rises, 1u);
	CHECK_EQ(status(d), 0x50);
	CHECK(!r->level);
	/* a new command drops the interrupt of the one before */
	outp(d, P(7), 1, 0xe1);
	CHECK(r->level);
	tf28(d, 0, 1, 0x30);
	CHECK(!r->level);
}

TEST(ide_device_1_is_absent)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	outp(d, P(6), 1, 0xb0);
	CHECK_EQ(status(d), 0);
	CHECK_EQ(altstatus(d), 0);
	CHECK_EQ(err_reg(d), 0);
	outp(d, P(7), 1, 0xec);
	CHECK_EQ(r->rises, 0u);
	CHECK_EQ(inp(d, P(0), 2), 0xffff);
	outp(d, P(6), 1, 0xa0);
	CHECK_EQ(status(d), 0x50);
	/* EXECUTE DEVICE DIAGNOSTIC is for both: device 0 answers */
	outp(d, P(6), 1, 0xb0);
	outp(d, P(7), 1, 0x90);
	CHECK_EQ(r->rises, 1u);
	outp(d, P(6), 1, 0xa0);
	CHECK_EQ(err_reg(d), 0x01);
	CHECK_EQ(inp(d, P(2), 1), 1);
}

TEST(ide_read_only_backend_refuses_writes_and_io_errors_report)
{
	struct rig *r = new_rig(true);
	struct ide *d = &r->ide;
	tf28(d, 0, 1, 0x30);
	CHECK_EQ(status(d), 0x51);
	CHECK_EQ(err_reg(d), 0x04);
	outp(d, P(0), 2, 0xbeef);
	tf48(d, 0, 1, 0x39);
	CHECK_EQ(err_reg(d), 0x04);
	CHECK_EQ(r->rd.writes, 0u);
	tf28(d, 0, 1, 0x20);
	CHECK_EQ(status(d), 0x58);

	struct rig *w = new_rig(false);
	d = &w->ide;
	w->rd.fail = true;
	tf28(d, 0x123, 1, 0x20);
	CHECK_EQ(status(d), 0x51);
	CHECK_EQ(err_reg(d), 0x40); /* UNC */
	CHECK_EQ(inp(d, P(3), 1), 0x23);
	CHECK_EQ(inp(d, P(4), 1), 0x01);
	u8 buf[512] = {0};
	tf28(d, 7, 1, 0x30);
	write_words(d, buf, 512);
	CHECK_EQ(status(d), 0x51);
	CHECK_EQ(err_reg(d), 0x04);
	outp(d, P(7), 1, 0xe7);
	CHECK_EQ(err_reg(d), 0x04);
}

TEST(ide_wider_and_narrower_accesses_stay_in_the_block)
{
	struct rig *r = new_rig(false);
	struct ide *d = &r->ide;
	tf28(d, 9, 1, 0x20);
	/* bytes, then words, then dwords: 512 bytes in all, whatever the mix */
	u8 in[512];
	unsigned pos = 0;
	while (pos < 512) {
		u8 size = pos < 100 ? 1 : pos < 300 ? 2 : 4;
		u32 v = inp(d, P(0), size);
		for (unsigned i = 0; i < size && pos < 512; i++)
			in[pos++] = (u8)(v >> (8 * i));
	}
	CHECK_EQ(pos, 512u);
	CHECK(memcmp(in, sector(r, 9), 512) == 0);
	CHECK_EQ(status(d), 0x50);
	/* a dword read that straddles the end of a block: only what is left, then ones */
	tf28(d, 9, 1, 0x20);
	for (unsigned i = 0; i < 255; i++)
		inp(d, P(0), 2);
	u32 v = inp(d, P(0), 4);
	CHECK_EQ(v, 0xffff0000u | sector(r, 9)[510] | sector(r, 9)[511] << 8);
	CHECK_EQ(status(d), 0x50);
	/* a word access to a register port acts on that 8-bit register */
	outp(d, P(2), 2, 0x1234);
	CHECK_EQ(inp(d, P(2), 2), 0x34);
}
