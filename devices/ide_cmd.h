/* The IDE model's ATA command set, below its register and port layer (ide.c): the task
 * file's bits and command codes, command completion and the interrupt line, IDENTIFY, and
 * the PIO transfer engine that the data port feeds. Private to devices/ide*.c. */
#ifndef KEEL_IDE_CMD_H
#define KEEL_IDE_CMD_H

#include "ide.h"

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

/* The interrupt output follows the pending flag unless nIEN masks it. */
void ide_update_irq(struct ide *d);
/* The task file after a reset or a diagnostic: an ATA device's signature. */
void ide_set_signature(struct ide *d);
/* Power-on state; the backend and the interrupt wiring stay. */
void ide_power_on(struct ide *d);
/* A write to the command register. */
void ide_command(struct ide *d, u8 cmd);
/* The guest read the whole block (the next one, or the end), or wrote it (to the backend,
 * then the next block or the end). */
void ide_block_read_done(struct ide *d);
void ide_block_written(struct ide *d);

#endif
