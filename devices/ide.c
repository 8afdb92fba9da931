/* The emulated IDE disk: the ATA task file a PIO driver programs, the commands Linux's
 * libata and simple drivers send, and the data port moving one block at a time between the
 * guest and the block backend. Every address the guest writes is checked against the
 * backend before any sector moves (blk.h checks again); commands complete at once, so BSY
 * is seen only while SRST is held. */
#include "ide.h"
#include "../hypervisor/lib.h"

enum { REG_DATA, REG_ERROR_FEATURE, REG_NSECT, REG_LBAL, REG_LBAM, REG_LBAH, REG_SELECT, REG_CMD };

#define ST_BSY	0x80
#define ST_DRDY 0x40
#define ST_DSC	0x10 /* seek complete: obsolete, but old drivers wait for it */
#define ST_DRQ	0x08
#define ST_ERR	0x01
#define ST_OK	(ST_DRDY | ST_DSC)

#define ERR_IDNF    0x10
#define ERR_ABRT    0x04
#define ERR_UNC	    0x40
#define ERR_DIAG_OK 0x01 /* the diagnostic code of "device 0 passed, no device 1" */

#define DC_NIEN 0x02
#define DC_SRST 0x04
#define DC_HOB	0x80

#define SEL_DEV 0x10
#define SEL_LBA 0x40
#define SEL_OBS 0xa0 /* bits 7 and 5 read as one */

enum {
	CMD_RECALIBRATE = 0x10, /* 0x10-0x1f */
	CMD_READ = 0x20,
	CMD_READ_NORETRY = 0x21,
	CMD_READ_EXT = 0x24,
	CMD_READ_MULT_EXT = 0x29,
	CMD_WRITE = 0x30,
	CMD_WRITE_NORETRY = 0x31,
	CMD_WRITE_EXT = 0x34,
	CMD_WRITE_MULT_EXT = 0x39,
	CMD_VERIFY = 0x40,
	CMD_VERIFY_NORETRY = 0x41,
	CMD_VERIFY_EXT = 0x42,
	CMD_SEEK = 0x70,
	CMD_DIAGNOSE = 0x90,
	CMD_INIT_PARAMS = 0x91,
	CMD_READ_MULT = 0xc4,
	CMD_WRITE_MULT = 0xc5,
	CMD_SET_MULT = 0xc6,
	CMD_STANDBY_NOW = 0xe0,
	CMD_IDLE_NOW = 0xe1,
	CMD_STANDBY = 0xe2,
	CMD_IDLE = 0xe3,
	CMD_CHECK_POWER = 0xe5,
	CMD_FLUSH = 0xe7,
	CMD_FLUSH_EXT = 0xea,
	CMD_IDENTIFY = 0xec,
	CMD_SET_FEATURES = 0xef,
	/* the ATA-1 spellings of the power commands */
	CMD_STANDBY_NOW_OLD = 0x94,
	CMD_IDLE_NOW_OLD = 0x95,
	CMD_STANDBY_OLD = 0x96,
	CMD_IDLE_OLD = 0x97,
	CMD_CHECK_POWER_OLD = 0x98,
};

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

static void update_irq(struct ide *d)
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
	update_irq(d);
}

/* The task file after a reset or a diagnostic: an ATA device's signature. */
static void set_signature(struct ide *d)
{
	d->nsect[0] = 1;
	d->lbal[0] = 1;
	d->lbam[0] = 0;
	d->lbah[0] = 0;
	d->select = SEL_OBS;
	d->error = ERR_DIAG_OK;
	d->status = ST_OK;
}

/* Power-on state; the backend and the interrupt wiring stay. */
static void power_on(struct ide *d)
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
	set_signature(d);
	update_irq(d);
}

void ide_init(struct ide *d, const struct blk_backend *b, const struct irq_line *irq)
{
	memset(d, 0, sizeof(*d));
	d->disk = b;
	if (irq)
		d->irq = *irq;
	power_on(d);
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
	d->blk_lba = d->next_lba;
	d->blk_n = k;
	d->next_lba += k;
	d->left -= k;
	d->pos = 0;
	d->len = k * BLK_SECTOR_SIZE;
	d->phase = IDE_DATA_IN;
	d->status = ST_OK | ST_DRQ;
	raise_irq(d);
}

/* Opens buf for the next block the guest writes (DRQ; the first block has no interrupt). */
static void open_block(struct ide *d)
{
	u32 k = block_sectors(d);
	d->blk_lba = d->next_lba;
	d->blk_n = k;
	d->next_lba += k;
	d->left -= k;
	d->pos = 0;
	d->len = k * BLK_SECTOR_SIZE;
	d->phase = IDE_DATA_OUT;
	d->status = ST_OK | ST_DRQ;
}

/* The guest read the whole block: the next one, or the end (no interrupt after the last). */
static void block_read_done(struct ide *d)
{
	if (d->cmd != CMD_IDENTIFY && d->left) {
		fill_block(d);
		return;
	}
	d->phase = IDE_IDLE;
	d->status = ST_OK;
}

/* The guest wrote the whole block: to the backend, then the next block or the end. */
static void block_written(struct ide *d)
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

/* The data port: 1, 2 or 4 bytes of the block (a 32-bit access is two ATA words, as a host
 * controller splits it); outside a transfer reads are all ones and writes are dropped. */
static void data_access(struct ide *d, struct io_access *a)
{
	u32 n = a->size;
	if (a->write) {
		if (d->phase != IDE_DATA_OUT)
			return;
		n = MIN(n, d->len - d->pos);
		for (u32 i = 0; i < n; i++)
			d->buf[d->pos + i] = (u8)(a->value >> (8 * i));
		d->pos += n;
		if (d->pos == d->len)
			block_written(d);
		return;
	}
	a->value = io_size_mask(a->size);
	if (d->phase != IDE_DATA_IN)
		return;
	n = MIN(n, d->len - d->pos);
	u32 v = 0;
	for (u32 i = 0; i < n; i++)
		v |= (u32)d->buf[d->pos + i] << (8 * i);
	a->value = (a->value & ~io_size_mask((u8)n)) | v;
	d->pos += n;
	if (d->pos == d->len)
		block_read_done(d);
}

/* REP INSW/OUTSW (or any width) on the data port: the whole elements left in the block at
 * once, then the block ends as it would word by word. 0 for any other port, outside a
 * transfer in that direction, or for a last element split across the block's end: those
 * go one by one through ide_access. */
static u32 ide_string(void *dev, u16 port, u8 size, bool write, u8 *buf, u32 count)
{
	struct ide *d = dev;
	if (port != IDE_PRIMARY_BASE || !d->disk ||
	    d->phase != (write ? IDE_DATA_OUT : IDE_DATA_IN))
		return 0;
	u32 n = MIN(count, (d->len - d->pos) / size);
	if (!n)
		return 0;
	if (write)
		memcpy(d->buf + d->pos, buf, (size_t)n * size);
	else
		memcpy(buf, d->buf + d->pos, (size_t)n * size);
	d->pos += n * size;
	if (d->pos == d->len) {
		if (write)
			block_written(d);
		else
			block_read_done(d);
	}
	return n;
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

static void command(struct ide *d, u8 cmd)
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
	update_irq(d);
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
		set_signature(d);
		raise_irq(d);
		return;
	default: /* NOP, DMA, packet, security, SMART ...: not this disk's */
		end_error(d, ERR_ABRT);
		return;
	}
}

/* ---- registers ---- */

static void device_control(struct ide *d, u8 v)
{
	bool was_reset = d->devctl & DC_SRST;
	d->devctl = v;
	if ((v & DC_SRST) && !was_reset) {
		d->phase = IDE_RESET;
		d->status = ST_BSY;
		d->irq_pending = false;
	} else if (!(v & DC_SRST) && was_reset) {
		d->phase = IDE_IDLE;
		set_signature(d);
	}
	update_irq(d);
}

static void shift_in(u8 r[2], u8 v)
{
	r[1] = r[0];
	r[0] = v;
}

static void reg_write(struct ide *d, unsigned reg, u8 v)
{
	/* a command block write clears HOB, so the next reads are of the current bytes */
	d->devctl &= (u8)~DC_HOB;
	switch (reg) {
	case REG_ERROR_FEATURE:
		shift_in(d->feature, v);
		break;
	case REG_NSECT:
		shift_in(d->nsect, v);
		break;
	case REG_LBAL:
		shift_in(d->lbal, v);
		break;
	case REG_LBAM:
		shift_in(d->lbam, v);
		break;
	case REG_LBAH:
		shift_in(d->lbah, v);
		break;
	case REG_SELECT:
		d->select = v | SEL_OBS;
		break;
	case REG_CMD:
		command(d, v);
		break;
	}
}

/* Status as the selected device gives it: device 1 is absent and reads 0, which drivers
 * take for "no device" once its signature looked like one. */
static u8 status_of_selected(const struct ide *d)
{
	if (d->phase == IDE_RESET)
		return ST_BSY;
	return (d->select & SEL_DEV) ? 0 : d->status;
}

static u8 reg_read(struct ide *d, unsigned reg)
{
	unsigned h = (d->devctl & DC_HOB) ? 1 : 0;
	switch (reg) {
	case REG_ERROR_FEATURE:
		return (d->select & SEL_DEV) ? 0 : d->error;
	case REG_NSECT:
		return d->nsect[h];
	case REG_LBAL:
		return d->lbal[h];
	case REG_LBAM:
		return d->lbam[h];
	case REG_LBAH:
		return d->lbah[h];
	case REG_SELECT:
		return d->select;
	default: { /* status: reading it acknowledges device 0's interrupt */
		u8 s = status_of_selected(d);
		if (!(d->select & SEL_DEV) && d->phase != IDE_RESET) {
			d->irq_pending = false;
			update_irq(d);
		}
		return s;
	}
	}
}

void ide_access(void *dev, struct io_access *a)
{
	struct ide *d = dev;
	if (!d->disk) { /* no disk: an empty channel floats high */
		if (!a->write)
			a->value = io_size_mask(a->size);
		return;
	}
	if (a->port == IDE_PRIMARY_CTRL) {
		if (a->write)
			device_control(d, (u8)a->value);
		else
			a->value = status_of_selected(d);
		return;
	}
	unsigned reg = (a->port - IDE_PRIMARY_BASE) & 7;
	if (reg == REG_DATA) {
		data_access(d, a);
		return;
	}
	/* registers are 8 bits wide: a wider access acts on the addressed one */
	if (a->write)
		reg_write(d, reg, (u8)a->value);
	else
		a->value = reg_read(d, reg);
}

/* ---- save and load ---- */

#define IDE_STATE_VERSION 1

void ide_save(const struct ide *d, struct state_writer *w)
{
	u8 regs[] = {d->feature[0], d->feature[1], d->nsect[0], d->nsect[1], d->lbal[0],
		     d->lbal[1],    d->lbam[0],	   d->lbam[1],	d->lbah[0],  d->lbah[1],
		     d->select,	    d->status,	   d->error,	d->devctl,   d->irq_pending,
		     d->mult,	    d->heads,	   d->spt,	d->wcache,   d->xfer_mode,
		     (u8)d->phase,  d->cmd,	   d->multiple};
	u64 xfer[] = {d->blk_lba, d->next_lba, d->blk_n, d->left, d->pos, d->len};
	state_put_tag(w, "IDE0", IDE_STATE_VERSION);
	state_put(w, regs, sizeof(regs));
	state_put(w, xfer, sizeof(xfer));
	if (d->phase == IDE_DATA_IN || d->phase == IDE_DATA_OUT)
		state_put(w, d->buf, d->len);
}

/* A transfer in a saved state must be one this model could be in, on this backend. */
static bool xfer_valid(const struct ide *d, const u8 *regs, const u64 *x)
{
	enum ide_phase phase = regs[20];
	u8 cmd = regs[21];
	u64 blk_lba = x[0], next_lba = x[1], blk_n = x[2], left = x[3], pos = x[4], len = x[5];
	if (phase != IDE_DATA_IN && phase != IDE_DATA_OUT)
		return true;
	if (pos >= len || len > sizeof(d->buf) || len % BLK_SECTOR_SIZE)
		return false;
	if (cmd == CMD_IDENTIFY)
		return phase == IDE_DATA_IN && len == BLK_SECTOR_SIZE && left == 0;
	return blk_n * BLK_SECTOR_SIZE == len && left <= 65536 &&
	       blk_in_range(d->disk, blk_lba, blk_n) && blk_lba + blk_n == next_lba &&
	       blk_in_range(d->disk, next_lba, left) &&
	       !(phase == IDE_DATA_OUT && d->disk->read_only);
}

bool ide_load(struct ide *d, struct state_reader *r)
{
	u8 regs[23];
	u64 x[6];
	if (!d->disk || !state_get_tag(r, "IDE0", IDE_STATE_VERSION) ||
	    !state_get(r, regs, sizeof(regs)) || !state_get(r, x, sizeof(x)))
		return false;
	u8 mult = regs[15], heads = regs[16], spt = regs[17], phase = regs[20];
	/* a reset in progress is exactly SRST held */
	if (phase > IDE_RESET || (phase == IDE_RESET) != ((regs[13] & DC_SRST) != 0) ||
	    mult > IDE_MAX_MULT || (mult & (mult - 1)) || heads == 0 || heads > 16 || spt == 0 ||
	    !xfer_valid(d, regs, x))
		return false;
	bool data = phase == IDE_DATA_IN || phase == IDE_DATA_OUT;
	/* the block last: if it is truncated nothing was copied and the model is unchanged */
	if (data && !state_get(r, d->buf, x[5]))
		return false;
	d->feature[0] = regs[0];
	d->feature[1] = regs[1];
	d->nsect[0] = regs[2];
	d->nsect[1] = regs[3];
	d->lbal[0] = regs[4];
	d->lbal[1] = regs[5];
	d->lbam[0] = regs[6];
	d->lbam[1] = regs[7];
	d->lbah[0] = regs[8];
	d->lbah[1] = regs[9];
	d->select = regs[10] | SEL_OBS;
	d->status = regs[11];
	d->error = regs[12];
	d->devctl = regs[13];
	d->irq_pending = regs[14] != 0;
	d->mult = mult;
	d->heads = heads;
	d->spt = spt;
	d->wcache = regs[18] != 0;
	d->xfer_mode = regs[19];
	d->phase = phase;
	d->cmd = regs[21];
	d->multiple = regs[22] != 0;
	d->blk_lba = data ? x[0] : 0;
	d->next_lba = data ? x[1] : 0;
	d->blk_n = data ? (u32)x[2] : 0;
	d->left = data ? (u32)x[3] : 0;
	d->pos = data ? (u32)x[4] : 0;
	d->len = data ? (u32)x[5] : 0;
	update_irq(d);
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	power_on(dev);
}

static void dev_save(void *dev, struct state_writer *w)
{
	ide_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return ide_load(dev, r);
}

const struct device_ops ide_device = {
    .name = "ide",
    .reset = dev_reset,
    .port = ide_access,
    .save = dev_save,
    .load = dev_load,
    .port_string = ide_string,
};
