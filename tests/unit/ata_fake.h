/* A fake ATA channel for the driver's tests: two positions (each empty, an ATA disk or an
 * ATAPI CD-ROM), the task-file registers with their LBA48 high bytes, PIO data in and out,
 * and faults on demand: an error at a sector, BSY stuck for ever, a missing channel. */
#ifndef KEEL_ATA_FAKE_H
#define KEEL_ATA_FAKE_H

#include "test.h"
#include "../../devices/ata.h"

enum fake_kind { FAKE_NONE, FAKE_DISK, FAKE_ATAPI };

struct fake_dev {
	enum fake_kind kind;
	u64 sectors; /* what IDENTIFY reports */
	bool lba48;
	u8 *data; /* backing: sector lba lives at (lba % backing) */
	u64 backing;
	u64 fail_lba;	/* a command touching this sector fails (~0: none) */
	bool stuck_bsy; /* every command leaves BSY set for ever */
	bool no_drq;	/* reads and writes end at once, without data (DRQ never set) */
	bool bad_checksum;
	u8 status, error;
	unsigned commands, atapi_other_commands;
	u8 last_cmd;
	u64 last_lba;
	u32 last_count;
};

struct fake_ata {
	bool missing; /* no channel: the bus floats high */
	struct fake_dev dev[2];
	unsigned sel;
	u8 count[2], lba0[2], lba1[2], lba2[2]; /* [0] current, [1] the previous write (HOB) */
	u8 device, ctl;
	/* the transfer in progress */
	u16 buf[256];
	unsigned pos;
	u32 remaining;
	u64 cur_lba;
	bool writing;
	u64 now_us;
};

static inline struct fake_dev *fake_sel(struct fake_ata *f)
{
	return &f->dev[f->sel];
}

static inline void fake_identify(struct fake_ata *f, struct fake_dev *d)
{
	memset(f->buf, 0, sizeof(f->buf));
	f->buf[0] = 0x0040;
	const char model[] = "KEEL FAKE DISK                          ";
	for (unsigned i = 0; i < 20; i++)
		f->buf[27 + i] = (u16)((u8)model[2 * i] << 8 | (u8)model[2 * i + 1]);
	f->buf[49] = 1 << 9;
	u64 s28 = d->sectors > 0x0fffffff ? 0x0fffffff : d->sectors;
	f->buf[60] = (u16)s28;
	f->buf[61] = (u16)(s28 >> 16);
	f->buf[83] = 0x4000 | (d->lba48 ? (1 << 10) | (1 << 13) : 0);
	if (d->lba48)
		for (unsigned i = 0; i < 4; i++)
			f->buf[100 + i] = (u16)(d->sectors >> (16 * i));
	u8 sum = 0xa5;
	for (unsigned i = 0; i < 255; i++)
		sum = (u8)(sum + (f->buf[i] & 0xff) + (f->buf[i] >> 8));
	f->buf[255] = (u16)(0xa5 | (u8)(-sum - (d->bad_checksum ? 1 : 0)) << 8);
	f->pos = 0;
	f->remaining = 1;
	f->writing = false;
	fake_sel(f)->status = ATA_SR_DRDY | ATA_SR_DRQ;
}

static inline void fake_load(struct fake_ata *f, struct fake_dev *d)
{
	memcpy(f->buf, d->data + (f->cur_lba % d->backing) * 512, 512);
	f->pos = 0;
}

static inline void fake_command(struct fake_ata *f, u8 cmd)
{
	struct fake_dev *d = fake_sel(f);
	if (d->kind == FAKE_NONE)
		return;
	d->commands++;
	d->last_cmd = cmd;
	if (d->kind == FAKE_ATAPI) {
		if (cmd != ATA_CMD_IDENTIFY)
			d->atapi_other_commands++;
		f->lba1[0] = 0x14;
		f->lba2[0] = 0xeb;
		fake_sel(f)->error = 0x04;
		fake_sel(f)->status = ATA_SR_DRDY | ATA_SR_ERR;
		return;
	}
	if (d->stuck_bsy) {
		fake_sel(f)->status = ATA_SR_BSY;
		return;
	}
	if (cmd == ATA_CMD_IDENTIFY) {
		fake_identify(f, d);
		return;
	}
	if (cmd == ATA_CMD_FLUSH || cmd == ATA_CMD_FLUSH_EXT) {
		fake_sel(f)->status = ATA_SR_DRDY;
		return;
	}
	bool ext = cmd == ATA_CMD_READ_PIO_EXT || cmd == ATA_CMD_WRITE_PIO_EXT;
	bool rw = ext || cmd == ATA_CMD_READ_PIO || cmd == ATA_CMD_WRITE_PIO;
	if (!rw || (ext && !d->lba48) || !(f->device & 0x40)) {
		fake_sel(f)->error = 0x04;
		fake_sel(f)->status = ATA_SR_DRDY | ATA_SR_ERR;
		return;
	}
	u64 lba = f->lba0[0] | (u64)f->lba1[0] << 8 | (u64)f->lba2[0] << 16;
	u32 n;
	if (ext) {
		lba |= (u64)f->lba0[1] << 24 | (u64)f->lba1[1] << 32 | (u64)f->lba2[1] << 40;
		n = (u32)f->count[1] << 8 | f->count[0];
		if (!n)
			n = 65536;
	} else {
		lba |= (u64)(f->device & 0x0f) << 24;
		n = f->count[0] ? f->count[0] : 256;
	}
	d->last_lba = lba;
	d->last_count = n;
	if (lba + n > d->sectors || (d->fail_lba >= lba && d->fail_lba < lba + n)) {
		fake_sel(f)->error = 0x10; /* IDNF */
		fake_sel(f)->status = ATA_SR_DRDY | ATA_SR_ERR;
		return;
	}
	if (d->no_drq) {
		fake_sel(f)->status = ATA_SR_DRDY;
		return;
	}
	f->cur_lba = lba;
	f->remaining = n;
	f->writing = cmd == ATA_CMD_WRITE_PIO || cmd == ATA_CMD_WRITE_PIO_EXT;
	f->pos = 0;
	if (!f->writing)
		fake_load(f, d);
	fake_sel(f)->status = ATA_SR_DRDY | ATA_SR_DRQ;
}

static inline u8 fake_inb(void *ctx, u16 port)
{
	struct fake_ata *f = ctx;
	f->now_us += 10;
	if (f->missing)
		return 0xff;
	bool none = fake_sel(f)->kind == FAKE_NONE;
	u16 base = ATA0_BASE;
	if (port == ATA0_CTRL || port == base + ATA_REG_STATUS)
		return none ? 0 : fake_sel(f)->status;
	if (port == base + ATA_REG_ERROR)
		return none ? 0 : fake_sel(f)->error;
	if (port == base + ATA_REG_LBA1)
		return f->lba1[0];
	if (port == base + ATA_REG_LBA2)
		return f->lba2[0];
	if (port == base + ATA_REG_COUNT)
		return f->count[0];
	return 0;
}

static inline void fake_outb(void *ctx, u16 port, u8 v)
{
	struct fake_ata *f = ctx;
	if (f->missing)
		return;
	u16 base = ATA0_BASE;
	u8 *regs[] = {NULL, NULL, f->count, f->lba0, f->lba1, f->lba2};
	if (port == ATA0_CTRL) {
		f->ctl = v;
	} else if (port >= base + ATA_REG_COUNT && port <= base + ATA_REG_LBA2) {
		u8 *r = regs[port - base];
		r[1] = r[0];
		r[0] = v;
	} else if (port == base + ATA_REG_DEVICE) {
		f->device = v;
		f->sel = (v >> 4) & 1;
	} else if (port == base + ATA_REG_COMMAND) {
		fake_command(f, v);
	}
}

/* one sector moved: the next one, or the end of the command */
static inline void fake_sector_done(struct fake_ata *f)
{
	struct fake_dev *d = fake_sel(f);
	if (f->writing)
		memcpy(d->data + (f->cur_lba % d->backing) * 512, f->buf, 512);
	f->cur_lba++;
	if (--f->remaining == 0) {
		fake_sel(f)->status = ATA_SR_DRDY;
		return;
	}
	if (!f->writing)
		fake_load(f, d);
	f->pos = 0;
}

static inline void fake_insw(void *ctx, u16 port, u16 *buf, u32 count)
{
	struct fake_ata *f = ctx;
	REQUIRE(port == ATA0_BASE);
	for (u32 i = 0; i < count; i++) {
		if (!(fake_sel(f)->status & ATA_SR_DRQ) || f->writing) {
			buf[i] = 0xffff;
			continue;
		}
		buf[i] = f->buf[f->pos++];
		if (f->pos == 256) {
			if (fake_sel(f)->kind == FAKE_DISK && f->remaining && !f->writing &&
			    fake_sel(f)->last_cmd != ATA_CMD_IDENTIFY)
				fake_sector_done(f);
			else
				fake_sel(f)->status = ATA_SR_DRDY;
		}
	}
}

static inline void fake_outsw(void *ctx, u16 port, const u16 *buf, u32 count)
{
	struct fake_ata *f = ctx;
	REQUIRE(port == ATA0_BASE);
	for (u32 i = 0; i < count; i++) {
		if (!(fake_sel(f)->status & ATA_SR_DRQ) || !f->writing)
			continue;
		f->buf[f->pos++] = buf[i];
		if (f->pos == 256)
			fake_sector_done(f);
	}
}

static inline u64 fake_now(void *ctx)
{
	return ((struct fake_ata *)ctx)->now_us;
}

static const struct ata_port_ops fake_ata_ops = {fake_inb, fake_outb, fake_insw, fake_outsw,
						 fake_now};

/* A disk of `sectors` with `backing` real sectors behind it, zeroed, no faults. */
static inline void fake_disk(struct fake_dev *d, u64 sectors, u64 backing, bool lba48)
{
	memset(d, 0, sizeof(*d));
	d->kind = FAKE_DISK;
	d->sectors = sectors;
	d->lba48 = lba48;
	d->backing = backing;
	d->data = test_alloc(backing * 512);
	d->fail_lba = ~0ULL;
	d->status = ATA_SR_DRDY;
}

#endif
