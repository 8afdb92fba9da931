/* The IDE model on a RAM disk with a counted interrupt line, for host tests: its ports
 * driven as a driver drives them (task file writes, status reads, PIO data words). Shared
 * by test_ide.c (commands and transfers) and test_ide_state.c (state, board, bulk I/O). */
#ifndef KEEL_TEST_IDE_RIG_H
#define KEEL_TEST_IDE_RIG_H

#include "test.h"
#include "../../devices/ide.h"
#include "../../hypervisor/lib.h"

/* ---- backends ---- */

#define RAM_SECTORS 4096 /* 2 MiB: 4 cylinders of 16 x 63, and some */

struct ramdisk {
	u8 *data;
	u64 sectors;
	unsigned reads, writes, flushes;
	bool fail;
};

static inline bool rd_read(void *ctx, u64 lba, u32 n, void *buf)
{
	struct ramdisk *r = ctx;
	r->reads++;
	REQUIRE(lba + n <= r->sectors);
	memcpy(buf, r->data + lba * BLK_SECTOR_SIZE, (size_t)n * BLK_SECTOR_SIZE);
	return !r->fail;
}

static inline bool rd_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	struct ramdisk *r = ctx;
	r->writes++;
	REQUIRE(lba + n <= r->sectors);
	memcpy(r->data + lba * BLK_SECTOR_SIZE, buf, (size_t)n * BLK_SECTOR_SIZE);
	return !r->fail;
}

static inline bool rd_flush(void *ctx)
{
	struct ramdisk *r = ctx;
	r->flushes++;
	return !r->fail;
}

static const struct blk_ops rd_ops = {rd_read, rd_write, rd_flush};

/* ---- a model with a counted interrupt line ---- */

struct rig {
	struct ide ide;
	struct ramdisk rd;
	struct blk_backend be;
	bool level;
	unsigned rises;
};

static inline void rig_irq(void *ctx, unsigned pin, bool level)
{
	struct rig *r = ctx;
	CHECK_EQ(pin, IDE_PRIMARY_IRQ);
	if (level && !r->level)
		r->rises++;
	r->level = level;
}

static inline struct rig *new_rig(bool read_only)
{
	struct rig *r = test_alloc(sizeof(*r));
	r->rd.sectors = RAM_SECTORS;
	r->rd.data = test_alloc(RAM_SECTORS * BLK_SECTOR_SIZE);
	for (u64 i = 0; i < RAM_SECTORS * BLK_SECTOR_SIZE; i++)
		r->rd.data[i] = (u8)(i * 7 + i / BLK_SECTOR_SIZE);
	r->be = (struct blk_backend){&rd_ops, &r->rd, RAM_SECTORS, read_only, "ram0"};
	struct irq_line l = {rig_irq, r, IDE_PRIMARY_IRQ};
	ide_init(&r->ide, &r->be, &l);
	return r;
}

static inline void outp(struct ide *d, u16 port, u8 size, u32 v)
{
	struct io_access a = {port, size, true, v};
	ide_access(d, &a);
}

static inline u32 inp(struct ide *d, u16 port, u8 size)
{
	struct io_access a = {port, size, false, 0};
	ide_access(d, &a);
	return a.value;
}

#define P(reg) (IDE_PRIMARY_BASE + (reg))
static inline u8 status(struct ide *d)
{
	return (u8)inp(d, P(7), 1);
}
static inline u8 altstatus(struct ide *d)
{
	return (u8)inp(d, IDE_PRIMARY_CTRL, 1);
}
static inline u8 err_reg(struct ide *d)
{
	return (u8)inp(d, P(1), 1);
}

/* LBA28 task file, as a driver writes it (device register last before the command). */
static inline void tf28(struct ide *d, u32 lba, u8 count, u8 cmd)
{
	outp(d, P(2), 1, count);
	outp(d, P(3), 1, lba & 0xff);
	outp(d, P(4), 1, (lba >> 8) & 0xff);
	outp(d, P(5), 1, (lba >> 16) & 0xff);
	outp(d, P(6), 1, 0xe0 | ((lba >> 24) & 0x0f));
	outp(d, P(7), 1, cmd);
}

/* LBA48: each register written twice, the high-order byte first. */
static inline void tf48(struct ide *d, u64 lba, u16 count, u8 cmd)
{
	outp(d, P(2), 1, count >> 8);
	outp(d, P(3), 1, (lba >> 24) & 0xff);
	outp(d, P(4), 1, (lba >> 32) & 0xff);
	outp(d, P(5), 1, (lba >> 40) & 0xff);
	outp(d, P(2), 1, count & 0xff);
	outp(d, P(3), 1, lba & 0xff);
	outp(d, P(4), 1, (lba >> 8) & 0xff);
	outp(d, P(5), 1, (lba >> 16) & 0xff);
	outp(d, P(6), 1, 0x40);
	outp(d, P(7), 1, cmd);
}

static inline void tfchs(struct ide *d, u16 cyl, u8 head, u8 sec, u8 count, u8 cmd)
{
	outp(d, P(2), 1, count);
	outp(d, P(3), 1, sec);
	outp(d, P(4), 1, cyl & 0xff);
	outp(d, P(5), 1, cyl >> 8);
	outp(d, P(6), 1, 0xa0 | head);
	outp(d, P(7), 1, cmd);
}

/* One block of `bytes` through the data port in 16-bit words. */
static inline void read_words(struct ide *d, void *buf, unsigned bytes)
{
	u16 *w = buf;
	for (unsigned i = 0; i < bytes / 2; i++)
		w[i] = (u16)inp(d, P(0), 2);
}

static inline void write_words(struct ide *d, const void *buf, unsigned bytes)
{
	const u16 *w = buf;
	for (unsigned i = 0; i < bytes / 2; i++)
		outp(d, P(0), 2, w[i]);
}

static const u8 *sector(struct rig *r, u64 lba)
{
	return r->rd.data + lba * BLK_SECTOR_SIZE;
}

#endif
