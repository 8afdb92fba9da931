/* The emulated IDE disk's ATA command set: the commands Linux's libata and simple drivers
 * send, decoded from the task file, and the PIO transfer engine moving one block at a time
 * between the data port (ide.c) and the block backend. Every address the guest writes is
 * checked against the backend before any sector moves (blk.h checks again); commands
 * complete at once, so BSY is seen only while SRST is held. */
#include "ide_cmd.h"
#include "../hypervisor/lib.h"

u32 ide_cylinders(u64 sectors)
{
	return (u32)MIN(sectors / (IDE_HEADS * IDE_SECTORS), 16383);
}

/* Cylinders of the current geometry (INITIALIZE DEVICE PARAMETERS may change heads and
 * sectors per track): as many as fit, at most 65535. */
static u32 cur_cylinders(const struct ide *d)
{
	u64 per = (u64)d->heads * d->spt;
	return per ? (u32)MIN(d->disk->sectors / per, 65535) : 0;
}

static u64 chs_capacity(const struct ide *d)
{
	return (u64)cur_cylinders(d) * d->heads * d->spt;
}

void ide_update_irq(struct ide *d)
{
	bool level = d->irq_pending && !(d->devctl & DC_NIEN);
	if (level != d->line) {
		d->line = level;
		irq_line_set(&d->irq, level);
	}
}

static void raise_irq(struct ide *d)
{
	d->irq_pending = true;
	ide_update_irq(d);
}

void ide_set_signature(struct ide *d)
{
	d->nsect[0] = 1;
	d->lbal[0] = 1;
	d->lbam[0] = 0;
	d->lbah[0] = 0;
	d->select = SEL_OBS;
	d->error = ERR_DIAG_OK;
	d->status = ST_OK;
}

void ide_power_on(struct ide *d)
{
	const struct blk_backend *b = d->disk;
	struct irq_line irq = d->irq;
	bool line = d->line;
	memset(d, 0, sizeof(*d));
	d->disk = b;
	d->irq = irq;
	d->line = line;
	d->mult = IDE_MAX_MULT;
	d->heads = IDE_HEADS;
	d->spt = IDE_SECTORS;
	d->wcache = b && b->ops->flush != NULL;
	ide_set_signature(d);
	ide_update_irq(d);
}

static void end_ok(struct ide *d)
{
	d->phase = IDE_IDLE;
	d->status = ST_OK;
	raise_irq(d);
}

static void end_error(struct ide *d, u8 error)
{
	d->phase = IDE_IDLE;
	d->error = error;
	d->status = ST_OK | ST_ERR;
	raise_irq(d);
}

/* ---- addresses and counts from the task file ---- */

static u64 lba48(const struct ide *d)
{
	return (u64)d->lbal[0] | (u64)d->lbam[0] << 8 | (u64)d->lbah[0] << 16 |
	       (u64)d->lbal[1] << 24 | (u64)d->lbam[1] << 32 | (u64)d->lbah[1] << 40;
}

static u32 count48(const struct ide *d)
{
	u32 n = (u32)d->nsect[1] << 8 | d->nsect[0];
	return n ? n : 65536;
}

static u32 count28(const struct ide *d)
{
	return d->nsect[0] ? d->nsect[0] : 256;
}

/* The first sector of an LBA28 or CHS command and whether sectors [lba, lba + n) exist
 * both on the backend and, for CHS, in the current geometry. */
static bool address28(const struct ide *d, u32 n, u64 *lba)
{
	if (d->select & SEL_LBA) {
		*lba = (u64)(d->select & 0x0f) << 24 | (u64)d->lbah[0] << 16 |
		       (u64)d->lbam[0] << 8 | d->lbal[0];
	} else {
		u32 cyl = (u32)d->lbah[0] << 8 | d->lbam[0], head = d->select & 0x0f;
		u32 sec = d->lbal[0];
		if (sec == 0 || sec > d->spt || head >= d->heads)
			return false;
		*lba = ((u64)cyl * d->heads + head) * d->spt + sec - 1;
		if (*lba + n > chs_capacity(d))
			return false;
	}
	return blk_in_range(d->disk, *lba, n);
}

/* Where the task file points after a failure: the sector that failed (a CHS command's
 * registers keep the address it was given). */
static void report_lba(struct ide *d, u64 lba, bool ext)
{
	if (!ext && !(d->select & SEL_LBA))
		return;
	d->lbal[0] = (u8)lba;
	d->lbam[0] = (u8)(lba >> 8);
	d->lbah[0] = (u8)(lba >> 16);
	if (ext) {
		d->lbal[1] = (u8)(lba >> 24);
		d->lbam[1] = (u8)(lba >> 32);
		d->lbah[1] = (u8)(lba >> 40);
	} else if (d->select & SEL_LBA) {
		d->select = (u8)((d->select & 0xf0) | ((lba >> 24) & 0x0f));
	}
}

static bool is_ext(u8 cmd)
{
	return cmd == CMD_READ_EXT || cmd == CMD_READ_MULT_EXT || cmd == CMD_WRITE_EXT ||
	       cmd == CMD_WRITE_MULT_EXT || cmd == CMD_VERIFY_EXT;
}

/* ---- PIO data transfers ---- */

static u32 block_sectors(const struct ide *d)
{
	return MIN(d->multiple ? d->mult : 1u, d->left);
}

/* The next k sectors become the block in buf, moved in `phase` (DRQ). */
static void take_block(struct ide *d, u32 k, enum ide_phase phase)
{
	d->blk_lba = d->next_lba;
	d->blk_n = k;
	d->next_lba += k;
	d->left -= k;
	d->pos = 0;
	d->len = k * BLK_SECTOR_SIZE;
	d->phase = phase;
	d->status = ST_OK | ST_DRQ;
}

/* Reads the next block into buf and offers it (DRQ, an interrupt per block). */
static void fill_block(struct ide *d)
{
	u32 k = block_sectors(d);
	enum blk_status s = blk_read(d->disk, d->next_lba, k, d->buf);
	if (s != BLK_OK) {
		report_lba(d, d->next_lba, is_ext(d->cmd));
		end_error(d, s == BLK_RANGE ? ERR_IDNF : ERR_UNC);
		return;
	}
	d->sectors_read += k;
	take_block(d, k, IDE_DATA_IN);
	raise_irq(d);
}

/* Opens buf for the next block the guest writes (DRQ; the first block has no interrupt). */
static void open_block(struct ide *d)
{
	take_block(d, block_sectors(d), IDE_DATA_OUT);
}

/* The guest read the whole block: the next one, or the end (no interrupt after the last). */
void ide_block_read_done(struct ide *d)
{
	if (d->cmd != CMD_IDENTIFY && d->left) {
		fill_block(d);
		return;
	}
	d->phase = IDE_IDLE;
	d->status = ST_OK;
}

/* The guest wrote the whole block: to the backend, then the next block or the end. */
void ide_block_written(struct ide *d)
{
	enum blk_status s = blk_write(d->disk, d->blk_lba, d->blk_n, d->buf);
	if (s != BLK_OK) {
		report_lba(d, d->blk_lba, is_ext(d->cmd));
		end_error(d, s == BLK_RANGE ? ERR_IDNF : ERR_ABRT);
		return;
	}
	d->sectors_written += d->blk_n;
	if (d->left) {
		open_block(d);
		raise_irq(d);
		return;
	}
	end_ok(d);
}

static void start_transfer(struct ide *d, u64 lba, u32 n, bool write, bool multiple)
{
	d->next_lba = lba;
	d->left = n;
	d->multiple = multiple;
	if (write)
		open_block(d);
	else
		fill_block(d);
}

/* ---- IDENTIFY DEVICE ---- */

static void put_word(u8 *p, unsigned w, u16 v)
{
	p[2 * w] = (u8)v;
	p[2 * w + 1] = (u8)(v >> 8);
}

/* ATA strings: two characters per word, the first in the high byte, padded with spaces. */
static void put_string(u8 *p, unsigned w, unsigned words, const char *s)
{
	size_t len = strlen(s);
	for (unsigned i = 0; i < 2 * words; i++)
		p[2 * w + (i ^ 1)] = (u8)(i < len ? s[i] : ' ');
}

static void identify(struct ide *d)
{
	u8 *p = d->buf;
	u64 n = d->disk->sectors;
	u32 cyls = ide_cylinders(n);
	u32 lba28 = (u32)MIN(n, 0x0fffffffULL);
	u32 cur_chs = (u32)MIN(chs_capacity(d), 0xffffffffULL);
	char serial[21], name[16];

	memset(p, 0, BLK_SECTOR_SIZE);
	put_word(p, 0, 0x0040); /* fixed, non-removable ATA device */
	put_word(p, 1, (u16)cyls);
	put_word(p, 3, IDE_HEADS);
	put_word(p, 6, IDE_SECTORS);
	/* the backend's name bounded here: it need not be terminated within its array */
	memcpy(name, d->disk->name, sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	ksnprintf(serial, sizeof(serial), "KEEL-%s", name);
	put_string(p, 10, 10, serial);
	put_string(p, 23, 4, "1.0");
	put_string(p, 27, 20, "Keel IDE disk");
	put_word(p, 47, 0x8000 | IDE_MAX_MULT);
	put_word(p, 49, 1u << 11 | 1u << 9); /* IORDY, LBA; no DMA */
	put_word(p, 50, 0x4000);
	put_word(p, 51, 0x0200); /* PIO mode 2 timing (obsolete word) */
	put_word(p, 53, 0x0003); /* words 54-58 and 64-70 are valid */
	put_word(p, 54, (u16)cur_cylinders(d));
	put_word(p, 55, d->heads);
	put_word(p, 56, d->spt);
	put_word(p, 57, (u16)cur_chs);
	put_word(p, 58, (u16)(cur_chs >> 16));
	put_word(p, 59, d->mult ? (u16)(0x100 | d->mult) : 0);
	put_word(p, 60, (u16)lba28);
	put_word(p, 61, (u16)(lba28 >> 16));
	put_word(p, 63, 0);	 /* multiword DMA: none */
	put_word(p, 64, 0x0003); /* PIO modes 3 and 4 */
	put_word(p, 65, 120);
	put_word(p, 66, 120);
	put_word(p, 67, 120);
	put_word(p, 68, 120);
	put_word(p, 80, 0x00f0); /* ATA-4 to ATA-7 */
	/* supported: write cache; FLUSH CACHE (EXT), LBA48 */
	put_word(p, 82, 1u << 5);
	put_word(p, 83, 0x4000 | 1u << 13 | 1u << 12 | 1u << 10);
	put_word(p, 84, 0x4000);
	put_word(p, 85, d->wcache ? 1u << 5 : 0);
	put_word(p, 86, 1u << 13 | 1u << 12 | 1u << 10);
	put_word(p, 87, 0x4000);
	put_word(p, 88, 0); /* no Ultra DMA */
	put_word(p, 100, (u16)n);
	put_word(p, 101, (u16)(n >> 16));
	put_word(p, 102, (u16)(n >> 32));
	put_word(p, 103, (u16)(n >> 48));
	/* integrity word: signature A5h, then the byte that makes all 512 bytes sum to 0 */
	u8 sum = 0xa5;
	for (unsigned i = 0; i < BLK_SECTOR_SIZE - 2; i++)
		sum = (u8)(sum + p[i]);
	put_word(p, 255, (u16)((u8)-sum << 8 | 0xa5));

	d->blk_lba = d->next_lba = 0;
	d->blk_n = 1;
	d->left = 0;
	d->pos = 0;
	d->len = BLK_SECTOR_SIZE;
	d->phase = IDE_DATA_IN;
	d->status = ST_OK | ST_DRQ;
	raise_irq(d);
}

/* ---- commands ---- */

static void set_features(struct ide *d)
{
	u8 mode = d->nsect[0];
	switch (d->feature[0]) {
	case 0x03: /* transfer mode: PIO default, PIO 0-4; no DMA mode is offered */
		if (mode > 0x01 && (mode < 0x08 || mode > 0x0c)) {
			end_error(d, ERR_ABRT);
			return;
		}
		d->xfer_mode = mode;
		break;
	case 0x02: /* write cache on, off: only the flush it asks for differs */
	case 0x82:
		d->wcache = d->feature[0] == 0x02;
		break;
	case 0x55: /* read look-ahead off, on; revert to defaults off, on */
	case 0xaa:
	case 0x66:
	case 0xcc:
		break;
	default:
		end_error(d, ERR_ABRT);
		return;
	}
	end_ok(d);
}

static void rw_command(struct ide *d, u8 cmd)
{
	bool ext = is_ext(cmd);
	bool write = cmd == CMD_WRITE || cmd == CMD_WRITE_NORETRY || cmd == CMD_WRITE_EXT ||
		     cmd == CMD_WRITE_MULT || cmd == CMD_WRITE_MULT_EXT;
	bool multiple = cmd == CMD_READ_MULT || cmd == CMD_READ_MULT_EXT || cmd == CMD_WRITE_MULT ||
			cmd == CMD_WRITE_MULT_EXT;
	bool verify = cmd == CMD_VERIFY || cmd == CMD_VERIFY_NORETRY || cmd == CMD_VERIFY_EXT;
	u32 n = ext ? count48(d) : count28(d);
	u64 lba = 0;

	if (multiple && !d->mult) {
		end_error(d, ERR_ABRT);
		return;
	}
	if (write && d->disk->read_only) {
		end_error(d, ERR_ABRT);
		return;
	}
	bool ok;
	if (ext) {
		lba = lba48(d);
		ok = blk_in_range(d->disk, lba, n);
	} else {
		ok = address28(d, n, &lba);
	}
	if (!ok) {
		end_error(d, ERR_IDNF);
		return;
	}
	if (verify) {
		end_ok(d);
		return;
	}
	start_transfer(d, lba, n, write, multiple);
}

void ide_command(struct ide *d, u8 cmd)
{
	if (d->phase == IDE_RESET)
		return; /* busy: a command written during SRST is lost */
	/* device 1 does not exist: only the diagnostic, which device 0 answers, runs */
	if ((d->select & SEL_DEV) && cmd != CMD_DIAGNOSE)
		return;
	d->commands++;
	d->cmd = cmd;
	d->phase = IDE_IDLE; /* a new command ends a transfer the guest abandoned */
	d->irq_pending = false;
	ide_update_irq(d);
	d->error = 0;
	d->status = ST_OK;

	if (cmd >= CMD_RECALIBRATE && cmd <= CMD_RECALIBRATE + 0x0f) {
		end_ok(d);
		return;
	}
	switch (cmd) {
	case CMD_READ:
	case CMD_READ_NORETRY:
	case CMD_READ_EXT:
	case CMD_READ_MULT:
	case CMD_READ_MULT_EXT:
	case CMD_WRITE:
	case CMD_WRITE_NORETRY:
	case CMD_WRITE_EXT:
	case CMD_WRITE_MULT:
	case CMD_WRITE_MULT_EXT:
	case CMD_VERIFY:
	case CMD_VERIFY_NORETRY:
	case CMD_VERIFY_EXT:
		rw_command(d, cmd);
		return;
	case CMD_SEEK: {
		u64 lba;
		if (address28(d, 1, &lba))
			end_ok(d);
		else
			end_error(d, ERR_IDNF);
		return;
	}
	case CMD_IDENTIFY:
		identify(d);
		return;
	case CMD_SET_FEATURES:
		set_features(d);
		return;
	case CMD_SET_MULT: {
		u8 n = d->nsect[0];
		/* a power of two up to the maximum; 0 turns multiple mode off */
		if (n > IDE_MAX_MULT || (n & (n - 1))) {
			end_error(d, ERR_ABRT);
			return;
		}
		d->mult = n;
		end_ok(d);
		return;
	}
	case CMD_INIT_PARAMS:
		if (d->nsect[0] == 0) {
			end_error(d, ERR_ABRT);
			return;
		}
		d->spt = d->nsect[0];
		d->heads = (u8)((d->select & 0x0f) + 1);
		end_ok(d);
		return;
	case CMD_FLUSH:
	case CMD_FLUSH_EXT:
		if (blk_flush(d->disk) != BLK_OK) {
			end_error(d, ERR_ABRT);
			return;
		}
		end_ok(d);
		return;
	case CMD_CHECK_POWER:
	case CMD_CHECK_POWER_OLD:
		d->nsect[0] = 0xff; /* active or idle */
		end_ok(d);
		return;
	case CMD_STANDBY_NOW:
	case CMD_IDLE_NOW:
	case CMD_STANDBY:
	case CMD_IDLE:
	case CMD_STANDBY_NOW_OLD:
	case CMD_IDLE_NOW_OLD:
	case CMD_STANDBY_OLD:
	case CMD_IDLE_OLD:
		end_ok(d); /* no spindle to stop: the next access just works */
		return;
	case CMD_DIAGNOSE:
		ide_set_signature(d);
		raise_irq(d);
		return;
	default: /* NOP, DMA, packet, security, SMART ...: not this disk's */
		end_error(d, ERR_ABRT);
		return;
	}
}
