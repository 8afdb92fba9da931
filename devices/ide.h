/* Emulated IDE disk: the primary ATA channel's task file (ports 0x1f0-0x1f7 and the device
 * control / alternate status register at 0x3f6, IRQ 14) with one master ATA disk whose
 * sectors are a block backend's. PIO only; LBA28, LBA48 and CHS addressing. */
#ifndef KEEL_IDE_H
#define KEEL_IDE_H

#include "blk.h"
#include "device.h"
#include "irq.h"

#define IDE_PRIMARY_BASE 0x1f0
#define IDE_PRIMARY_CTRL 0x3f6
#define IDE_PRIMARY_IRQ	 14

/* READ/WRITE MULTIPLE's largest block (IDENTIFY word 47) and the block at power-on. */
#define IDE_MAX_MULT 16

/* The default CHS geometry: 16 heads of 63 sectors, cylinders as the size allows. */
#define IDE_HEADS   16
#define IDE_SECTORS 63

enum ide_phase {
	IDE_IDLE,     /* no data transfer: a command may be written */
	IDE_DATA_IN,  /* the guest reads `buf` through the data port */
	IDE_DATA_OUT, /* the guest fills `buf` through the data port */
	IDE_RESET,    /* SRST is set: busy until it is cleared */
};

struct ide {
	/* the task file: each of these registers keeps the byte written before the last one
	 * too (the "previous" content), which LBA48 commands and HOB reads use */
	u8 feature[2], nsect[2], lbal[2], lbam[2], lbah[2]; /* [0] current, [1] previous */
	u8 select;					    /* device/head register */
	u8 status, error;
	u8 devctl; /* the last device control write (nIEN, SRST, HOB) */
	bool irq_pending;

	/* the disk's settings */
	u8 mult;       /* sectors per READ/WRITE MULTIPLE block, 0: multiple mode off */
	u8 heads, spt; /* current CHS geometry (INITIALIZE DEVICE PARAMETERS) */
	bool wcache;   /* write cache enabled, as IDENTIFY reports it */
	u8 xfer_mode;  /* the SET FEATURES transfer mode accepted last */

	/* the transfer in progress: `blk_n` sectors at `blk_lba` are in buf (DATA_IN) or will be
	 * (DATA_OUT); `left` more sectors follow from `next_lba`; `pos` of `len` bytes done */
	enum ide_phase phase;
	u8 cmd;
	u64 blk_lba, next_lba;
	u32 blk_n, left, pos, len;
	bool multiple; /* the command moves `mult` sectors per block */
	u8 buf[IDE_MAX_MULT * BLK_SECTOR_SIZE];

	/* wiring: kept by reset and load */
	const struct blk_backend *disk;
	struct irq_line irq;
	bool line; /* level last driven on irq */
	u64 sectors_read, sectors_written, commands;
};

/* A disk on `b` (kept, not copied; it must outlive the model), interrupting through irq. */
void ide_init(struct ide *d, const struct blk_backend *b, const struct irq_line *irq);
void ide_access(void *dev, struct io_access *a);
void ide_save(const struct ide *d, struct state_writer *w);
bool ide_load(struct ide *d, struct state_reader *r);

/* The default CHS geometry of a disk of `sectors`: cylinders, at most 16383. */
u32 ide_cylinders(u64 sectors);

/* The IDE disk as the platform drives it (ports: the command block at 0x1f0, 8 ports, and
 * 0x3f6, 1 port; 0x3f7 belongs to the floppy controller). */
extern const struct device_ops ide_device;

#endif
