/* Keel's ATA PIO driver: the probe that tells a disk from an ATAPI CD-ROM or an empty
 * position, IDENTIFY parsing, LBA28/LBA48 READ/WRITE SECTORS (EXT) and FLUSH CACHE (EXT),
 * every wait bounded by the ops' clock. The drive is hardware: its answers are checked. */
#include "ata.h"
#include "../hypervisor/assert.h"
#include "../hypervisor/lib.h"

#define ATAPI_SIG_MID  0x14
#define ATAPI_SIG_HI   0xeb
#define SATAPI_SIG_MID 0x69
#define SATAPI_SIG_HI  0x96
#define ATA_MAX_LBA48  (1ULL << 48)
/* polls without the clock moving before a wait gives up anyway (a clock that stops) */
#define ATA_MAX_POLLS 50000000ULL

static u8 reg_in(struct ata_drive *d, unsigned reg)
{
	return d->ops->inb(d->ctx, (u16)(d->base + reg));
}

static void reg_out(struct ata_drive *d, unsigned reg, u8 v)
{
	d->ops->outb(d->ctx, (u16)(d->base + reg), v);
}

/* the 400 ns a drive needs after a select or a command before its status means anything:
 * four reads of the alternate status, which also leave the interrupt state alone */
static void settle(struct ata_drive *d)
{
	for (int i = 0; i < 4; i++)
		d->ops->inb(d->ctx, d->ctrl);
}

static bool fail(struct ata_drive *d, const char *what, u8 status)
{
	d->last_error = what;
	d->last_status = status;
	d->last_err = (status & ATA_SR_ERR) ? reg_in(d, ATA_REG_ERROR) : 0;
	d->io_errors++;
	return false;
}

/* Waits until BSY clears; returns false on a timeout (*status holds the last value). */
static bool wait_not_busy(struct ata_drive *d, u64 timeout_us, u8 *status)
{
	u64 start = d->ops->now_us(d->ctx);
	for (u64 polls = 0;; polls++) {
		u8 s = d->ops->inb(d->ctx, d->ctrl);
		*status = s;
		if (!(s & ATA_SR_BSY))
			return true;
		if (d->ops->now_us(d->ctx) - start > timeout_us || polls > ATA_MAX_POLLS)
			return false;
	}
}

/* After a command or a sector: BSY clear, then DRQ set (data ready) or an error. */
static bool wait_data(struct ata_drive *d, bool write)
{
	u8 s;
	settle(d);
	if (!wait_not_busy(d, ATA_TIMEOUT_IO_US, &s))
		return fail(d, write ? "write: timed out (BSY)" : "read: timed out (BSY)", s);
	s = reg_in(d, ATA_REG_STATUS);
	if (s & (ATA_SR_ERR | ATA_SR_DF))
		return fail(d,
			    write ? "write: the drive reported an error"
				  : "read: the drive reported an error",
			    s);
	if (!(s & ATA_SR_DRQ))
		return fail(d,
			    write ? "write: not ready for data (DRQ clear)"
				  : "read: no data (DRQ clear)",
			    s);
	return true;
}

static void select_drive(struct ata_drive *d, u8 bits)
{
	reg_out(d, ATA_REG_DEVICE, (u8)(bits | (d->slave ? 0x10 : 0)));
	settle(d);
}

const char *ata_drive_name(const struct ata_drive *d)
{
	static const char *const names[] = {"ata0-master", "ata0-slave", "ata1-master",
					    "ata1-slave"};
	return names[(d->channel & 1) * 2 + (d->slave ? 1 : 0)];
}

/* IDENTIFY strings are byte-swapped within each word and padded with spaces */
static void identify_string(const u16 *id, unsigned first, unsigned words, char *out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < words; i++) {
		char hi = (char)(id[first + i] >> 8), lo = (char)(id[first + i] & 0xff);
		out[n++] = (hi >= 0x20 && hi < 0x7f) ? hi : '?';
		out[n++] = (lo >= 0x20 && lo < 0x7f) ? lo : '?';
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = 0;
}

static enum ata_kind unusable(struct ata_drive *d, char *why, size_t why_len, const char *msg)
{
	ksnprintf(why, why_len, "%s", msg);
	d->kind = ATA_UNUSABLE;
	return d->kind;
}

/* Words of IDENTIFY DEVICE: 0 general (bit 15: not ATA), 27-46 model, 49 bit 9 LBA,
 * 60-61 LBA28 sectors, 83 bits 10 (LBA48) and 13 (FLUSH CACHE EXT), 100-103 LBA48 sectors,
 * 255 the integrity word (0xa5 in its low byte: all 512 bytes sum to 0). */
static enum ata_kind parse_identify(struct ata_drive *d, const u16 *id, char *why, size_t why_len)
{
	if ((id[255] & 0xff) == 0xa5) {
		u8 sum = 0;
		for (unsigned i = 0; i < 256; i++)
			sum = (u8)(sum + (id[i] & 0xff) + (id[i] >> 8));
		if (sum)
			return unusable(d, why, why_len, "IDENTIFY data fails its checksum");
	}
	if (id[0] & 0x8000)
		return unusable(d, why, why_len, "IDENTIFY says it is not an ATA device");
	if (!(id[49] & BIT(9)))
		return unusable(d, why, why_len, "no LBA addressing (CHS only)");
	identify_string(id, 27, 20, d->model);
	u64 lba28 = id[60] | ((u64)id[61] << 16);
	d->lba48 = (id[83] & 0xc000) == 0x4000 && (id[83] & BIT(10));
	d->flush_ext = d->lba48 && (id[83] & BIT(13));
	d->sectors = lba28;
	if (d->lba48) {
		u64 lba48 =
		    id[100] | ((u64)id[101] << 16) | ((u64)id[102] << 32) | ((u64)id[103] << 48);
		if (lba48 > ATA_MAX_LBA48)
			return unusable(d, why, why_len, "IDENTIFY claims more than 2^48 sectors");
		if (lba48 > lba28)
			d->sectors = lba48;
	}
	if (d->sectors > ATA_LBA28_LIMIT && !d->lba48)
		d->sectors = ATA_LBA28_LIMIT;
	if (!d->sectors)
		return unusable(d, why, why_len, "IDENTIFY reports no sectors");
	d->kind = ATA_DISK;
	ksnprintf(why, why_len, "disk");
	return d->kind;
}

enum ata_kind ata_probe(struct ata_drive *d, const struct ata_port_ops *ops, void *ctx,
			unsigned channel, bool slave, char *why, size_t why_len)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->ctx = ctx;
	d->channel = (u8)(channel & 1);
	d->slave = slave;
	d->base = d->channel ? ATA1_BASE : ATA0_BASE;
	d->ctrl = d->channel ? ATA1_CTRL : ATA0_CTRL;
	d->kind = ATA_NONE;

	ops->outb(ctx, d->ctrl, ATA_CTL_NIEN);
	select_drive(d, 0xa0);
	u8 s = reg_in(d, ATA_REG_STATUS);
	/* a channel with no device pulls the bus high; an absent drive on a live channel reads 0 */
	if (s == 0xff || s == 0) {
		ksnprintf(why, why_len, "no device");
		return d->kind;
	}
	reg_out(d, ATA_REG_COUNT, 0);
	reg_out(d, ATA_REG_LBA0, 0);
	reg_out(d, ATA_REG_LBA1, 0);
	reg_out(d, ATA_REG_LBA2, 0);
	reg_out(d, ATA_REG_COMMAND, ATA_CMD_IDENTIFY);
	settle(d);
	if (reg_in(d, ATA_REG_STATUS) == 0) {
		ksnprintf(why, why_len, "no device");
		return d->kind;
	}
	if (!wait_not_busy(d, ATA_TIMEOUT_PROBE_US, &s))
		return unusable(d, why, why_len, "busy for ever after IDENTIFY (timed out)");
	/* an ATAPI device aborts IDENTIFY DEVICE and leaves its signature in LBA1/LBA2 */
	u8 mid = reg_in(d, ATA_REG_LBA1), hi = reg_in(d, ATA_REG_LBA2);
	if ((mid == ATAPI_SIG_MID && hi == ATAPI_SIG_HI) ||
	    (mid == SATAPI_SIG_MID && hi == SATAPI_SIG_HI)) {
		ksnprintf(why, why_len, "ATAPI (CD-ROM): not Keel's disk, left alone");
		d->kind = ATA_ATAPI;
		return d->kind;
	}
	if (mid || hi) {
		ksnprintf(why, why_len, "not an ATA disk (signature %02x %02x)", mid, hi);
		d->kind = ATA_UNUSABLE;
		return d->kind;
	}
	s = reg_in(d, ATA_REG_STATUS);
	if (s & (ATA_SR_ERR | ATA_SR_DF))
		return unusable(d, why, why_len, "IDENTIFY aborted");
	if (!(s & ATA_SR_DRQ))
		return unusable(d, why, why_len, "IDENTIFY gave no data");
	u16 id[256];
	ops->insw(ctx, (u16)(d->base + ATA_REG_DATA), id, 256);
	return parse_identify(d, id, why, why_len);
}

/* One command of 1..256 sectors: registers, then the command byte. */
static bool issue(struct ata_drive *d, u64 lba, u32 n, bool write)
{
	KASSERT(n >= 1 && n <= ATA_MAX_SECTORS_PER_CMD);
	KASSERT(lba + n <= d->sectors);
	bool ext = lba + n > ATA_LBA28_LIMIT;
	u8 s;
	select_drive(d, ext ? 0x40 : (u8)(0xe0 | ((lba >> 24) & 0x0f)));
	if (!wait_not_busy(d, ATA_TIMEOUT_IO_US, &s))
		return fail(d, "busy before the command (timed out)", s);
	if (ext) {
		/* LBA48: the high bytes first, the FIFO-like registers take two writes each */
		reg_out(d, ATA_REG_COUNT, (u8)(n >> 8));
		reg_out(d, ATA_REG_LBA0, (u8)(lba >> 24));
		reg_out(d, ATA_REG_LBA1, (u8)(lba >> 32));
		reg_out(d, ATA_REG_LBA2, (u8)(lba >> 40));
	}
	reg_out(d, ATA_REG_COUNT, (u8)n); /* 256 is written as 0 */
	reg_out(d, ATA_REG_LBA0, (u8)lba);
	reg_out(d, ATA_REG_LBA1, (u8)(lba >> 8));
	reg_out(d, ATA_REG_LBA2, (u8)(lba >> 16));
	reg_out(d, ATA_REG_COMMAND,
		write ? (ext ? ATA_CMD_WRITE_PIO_EXT : ATA_CMD_WRITE_PIO)
		      : (ext ? ATA_CMD_READ_PIO_EXT : ATA_CMD_READ_PIO));
	return true;
}

static bool usable_range(struct ata_drive *d, u64 lba, u32 n)
{
	if (d->kind != ATA_DISK)
		return fail(d, "no disk", 0);
	if (n > d->sectors || lba > d->sectors - n)
		return fail(d, "sectors beyond the disk", 0);
	return true;
}

bool ata_read(struct ata_drive *d, u64 lba, u32 n, void *buf)
{
	if (!usable_range(d, lba, n))
		return false;
	u8 *p = buf;
	u16 bounce[256];
	while (n) {
		u32 c = MIN(n, (u32)ATA_MAX_SECTORS_PER_CMD);
		if (!issue(d, lba, c, false))
			return false;
		for (u32 i = 0; i < c; i++, p += BLK_SECTOR_SIZE) {
			if (!wait_data(d, false))
				return false;
			bool aligned = ((uintptr_t)p & 1) == 0;
			d->ops->insw(d->ctx, (u16)(d->base + ATA_REG_DATA),
				     aligned ? (u16 *)(void *)p : bounce, 256);
			if (!aligned)
				memcpy(p, bounce, BLK_SECTOR_SIZE);
		}
		lba += c;
		n -= c;
	}
	return true;
}

bool ata_write(struct ata_drive *d, u64 lba, u32 n, const void *buf)
{
	if (!usable_range(d, lba, n))
		return false;
	const u8 *p = buf;
	u16 bounce[256];
	while (n) {
		u32 c = MIN(n, (u32)ATA_MAX_SECTORS_PER_CMD);
		if (!issue(d, lba, c, true))
			return false;
		for (u32 i = 0; i < c; i++, p += BLK_SECTOR_SIZE) {
			if (!wait_data(d, true))
				return false;
			bool aligned = ((uintptr_t)p & 1) == 0;
			if (!aligned)
				memcpy(bounce, p, BLK_SECTOR_SIZE);
			d->ops->outsw(d->ctx, (u16)(d->base + ATA_REG_DATA),
				      aligned ? (const u16 *)(const void *)p : bounce, 256);
		}
		/* the command ends when the drive has taken the last sector */
		u8 s;
		settle(d);
		if (!wait_not_busy(d, ATA_TIMEOUT_IO_US, &s))
			return fail(d, "write: timed out (BSY) after the data", s);
		s = reg_in(d, ATA_REG_STATUS);
		if (s & (ATA_SR_ERR | ATA_SR_DF))
			return fail(d, "write: the drive reported an error", s);
		lba += c;
		n -= c;
	}
	return true;
}

bool ata_flush(struct ata_drive *d)
{
	if (d->kind != ATA_DISK)
		return fail(d, "no disk", 0);
	u8 s;
	select_drive(d, 0xa0);
	if (!wait_not_busy(d, ATA_TIMEOUT_IO_US, &s))
		return fail(d, "busy before the flush (timed out)", s);
	reg_out(d, ATA_REG_COMMAND, d->flush_ext ? ATA_CMD_FLUSH_EXT : ATA_CMD_FLUSH);
	settle(d);
	if (!wait_not_busy(d, ATA_TIMEOUT_FLUSH_US, &s))
		return fail(d, "flush: timed out (BSY)", s);
	s = reg_in(d, ATA_REG_STATUS);
	if (s & (ATA_SR_ERR | ATA_SR_DF))
		return fail(d, "flush: the drive reported an error", s);
	return true;
}

static bool blk_ata_read(void *ctx, u64 lba, u32 n, void *buf)
{
	return ata_read(ctx, lba, n, buf);
}

static bool blk_ata_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	return ata_write(ctx, lba, n, buf);
}

static bool blk_ata_flush(void *ctx)
{
	return ata_flush(ctx);
}

const struct blk_ops ata_blk_ops = {blk_ata_read, blk_ata_write, blk_ata_flush};

void ata_backend(struct ata_drive *d, struct blk_backend *out)
{
	memset(out, 0, sizeof(*out));
	out->ops = &ata_blk_ops;
	out->ctx = d;
	out->sectors = d->kind == ATA_DISK ? d->sectors : 0;
	kstrlcpy(out->name, ata_drive_name(d), sizeof(out->name));
}
