/* Keel's driver for the machine's ATA disk (the legacy IDE channels): probe, IDENTIFY,
 * LBA28/LBA48 PIO reads and writes with polling, cache flush. Pure logic over a port ops
 * table; ata_hw.c binds it to in/out, host tests to a fake drive. */
#ifndef KEEL_ATA_H
#define KEEL_ATA_H

#include "blk.h"

/* The legacy channels: ata0 (0x1f0, control 0x3f6) and ata1 (0x170, control 0x376). */
#define ATA0_BASE 0x1f0
#define ATA0_CTRL 0x3f6
#define ATA1_BASE 0x170
#define ATA1_CTRL 0x376

/* register offsets from the channel's base */
#define ATA_REG_DATA	0
#define ATA_REG_ERROR	1 /* read; FEATURES on write */
#define ATA_REG_COUNT	2
#define ATA_REG_LBA0	3
#define ATA_REG_LBA1	4
#define ATA_REG_LBA2	5
#define ATA_REG_DEVICE	6
#define ATA_REG_STATUS	7 /* read; COMMAND on write */
#define ATA_REG_COMMAND 7

#define ATA_SR_ERR  0x01
#define ATA_SR_DRQ  0x08
#define ATA_SR_DF   0x20
#define ATA_SR_DRDY 0x40
#define ATA_SR_BSY  0x80

#define ATA_CTL_NIEN 0x02 /* no interrupts: Keel polls */

#define ATA_CMD_READ_PIO      0x20
#define ATA_CMD_READ_PIO_EXT  0x24
#define ATA_CMD_WRITE_PIO     0x30
#define ATA_CMD_WRITE_PIO_EXT 0x34
#define ATA_CMD_FLUSH	      0xe7
#define ATA_CMD_FLUSH_EXT     0xea
#define ATA_CMD_IDENTIFY      0xec

/* sectors one command moves (a count of 0 means 256 in LBA28, 65536 in LBA48) */
#define ATA_MAX_SECTORS_PER_CMD 256
#define ATA_LBA28_LIMIT		(1ULL << 28)

/* Timeouts, in µs of the ops' clock: a dead or stuck drive is an I/O error, never a hang. */
#define ATA_TIMEOUT_PROBE_US 100000   /* a device answering IDENTIFY */
#define ATA_TIMEOUT_IO_US    5000000  /* each sector of a read or write */
#define ATA_TIMEOUT_FLUSH_US 30000000 /* the cache reaching the medium */

struct ata_port_ops {
	u8 (*inb)(void *ctx, u16 port);
	void (*outb)(void *ctx, u16 port, u8 v);
	/* count 16-bit words from / to the data port */
	void (*insw)(void *ctx, u16 port, u16 *buf, u32 count);
	void (*outsw)(void *ctx, u16 port, const u16 *buf, u32 count);
	u64 (*now_us)(void *ctx); /* a monotonic clock for the timeouts */
};

enum ata_kind { ATA_NONE, ATA_ATAPI, ATA_DISK, ATA_UNUSABLE };

struct ata_drive {
	const struct ata_port_ops *ops;
	void *ctx;
	u16 base, ctrl;
	u8 channel; /* 0 or 1 */
	bool slave;
	enum ata_kind kind;
	bool lba48;	/* the drive does LBA48 (IDENTIFY word 83 bit 10) */
	bool flush_ext; /* FLUSH CACHE EXT (word 83 bit 13) */
	u64 sectors;	/* addressable sectors */
	char model[41];
	/* the last failure, for messages: what was being done and the status/error seen */
	const char *last_error;
	u8 last_status, last_err;
	u64 io_errors;
};

/* Probes channel (0 or 1), master or slave: fills d (kind ATA_DISK when it is a usable ATA
 * disk). why receives a line for anything but a disk ("no device", "ATAPI (CD-ROM) skipped",
 * ...). The drive's interrupts are switched off (nIEN). */
enum ata_kind ata_probe(struct ata_drive *d, const struct ata_port_ops *ops, void *ctx,
			unsigned channel, bool slave, char *why, size_t why_len);

/* Sectors [lba, lba + n) to or from buf (any n; split into commands of at most 256);
 * false on an error or a timeout (d->last_error says which). */
bool ata_read(struct ata_drive *d, u64 lba, u32 n, void *buf);
bool ata_write(struct ata_drive *d, u64 lba, u32 n, const void *buf);
bool ata_flush(struct ata_drive *d);

/* "ata0-slave" */
const char *ata_drive_name(const struct ata_drive *d);

/* The whole disk as a block backend (ctx: the struct ata_drive). */
extern const struct blk_ops ata_blk_ops;
void ata_backend(struct ata_drive *d, struct blk_backend *out);

#endif
