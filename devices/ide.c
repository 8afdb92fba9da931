/* The emulated IDE disk's register and port layer: the ATA task file a PIO driver
 * programs, device control (SRST, nIEN), status reads, the data port and REP INS/OUTS,
 * save/load and the device interface. The command set is ide_cmd.c. */
#include "ide_cmd.h"
#include "../hypervisor/lib.h"

enum { REG_DATA, REG_ERROR_FEATURE, REG_NSECT, REG_LBAL, REG_LBAM, REG_LBAH, REG_SELECT, REG_CMD };

void ide_init(struct ide *d, const struct blk_backend *b, const struct irq_line *irq)
{
	memset(d, 0, sizeof(*d));
	d->disk = b;
	if (irq)
		d->irq = *irq;
	ide_power_on(d);
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
			ide_block_written(d);
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
		ide_block_read_done(d);
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
			ide_block_written(d);
		else
			ide_block_read_done(d);
	}
	return n;
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
		ide_set_signature(d);
	}
	ide_update_irq(d);
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
		ide_command(d, v);
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
			ide_update_irq(d);
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
	ide_update_irq(d);
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	ide_power_on(dev);
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
