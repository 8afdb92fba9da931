/* The print spool of the spooled device class: a two-level table (the system's VMs with a
 * printer, each VM's jobs), jobs cut at a form feed, a close or an idle timeout, kept whole
 * on a block backend (the disk's spool partition, or memory) and printed one after another
 * on the one real printer, each after a banner page. Pure: the printer is an ops table. */
#ifndef KEEL_SPOOL_H
#define KEEL_SPOOL_H

#include "blk.h"
#include "printer.h"

#define SPOOL_MAX_VMS	16
#define SPOOL_MAX_JOBS	64 /* table entries, every VM's together */
#define SPOOL_VM_JOBS	16 /* entries one VM may hold (open, queued, held, printing) */
#define SPOOL_NAME_LEN	24
#define SPOOL_FORM_FEED 0x0c

/* An open job's first extent; it grows as the job does. */
#define SPOOL_FIRST_EXTENT (16 * 1024)

/* Without a disk the jobs live in this much memory (lost when Keel restarts). */
#define SPOOL_MEM_SECTORS 1024 /* 512 KiB */

/* The on-disk layout (docs/devices.md): two copies of header + job table, then the data. */
#define SPOOL_TABLE_SECTORS 8 /* SPOOL_MAX_JOBS entries of 64 bytes */
#define SPOOL_COPY_SECTORS  (1 + SPOOL_TABLE_SECTORS)
#define SPOOL_DATA_START    (2 * SPOOL_COPY_SECTORS)
#define SPOOL_MIN_SECTORS   (SPOOL_DATA_START + 8)
#define SPOOL_MAGIC	    "KEELSPL\0"
#define SPOOL_VERSION	    1

enum spool_job_state {
	JOB_FREE,      /* an empty table entry */
	JOB_OPEN,      /* the VM is still printing it */
	JOB_QUEUED,    /* whole, waiting for the printer */
	JOB_HELD,      /* whole, kept back until released */
	JOB_PRINTING,  /* on the printer now */
	JOB_DONE,      /* printed; its entry and space can be reused */
	JOB_CANCELLED, /* cancelled; likewise */
};

struct spool_job {
	u32 id;	   /* system-wide, increasing, never reused */
	u32 order; /* spool order: when it became whole (0 while open) */
	enum spool_job_state state;
	u8 vm; /* index in spool.vms */
	bool truncated;
	u32 size;	  /* bytes */
	u32 start, nsect; /* its extent, in data sectors (relative to the data area) */
	u32 crc;	  /* CRC-32 of its bytes (running while open) */
};

struct spool;

/* One VM's entry in the system table; the VM's printer input points here. */
struct spool_vm {
	struct spool *sp;
	char name[SPOOL_NAME_LEN];
	bool used;
	int open;		  /* its open job's index, -1 none */
	bool refusing;		  /* the job being sent was refused: drop bytes until its end */
	u8 tail[BLK_SECTOR_SIZE]; /* the open job's bytes not yet written to the backend */
	u32 tail_len;
	u64 printed_jobs, refused_jobs, truncated_jobs, dropped_bytes;
};

/* The real printer: put returns false when it cannot take the byte now (busy); the byte
 * is offered again at the next call. */
struct spool_printer {
	bool (*put)(void *ctx, u8 c);
	void *ctx;
};

struct spool_limits {
	u32 job_max;  /* bytes one job may hold; beyond, it is truncated */
	u32 vm_quota; /* bytes one VM's jobs may hold together */
	u64 idle_ns;  /* VM time without a byte that ends a job (the LPT model counts it) */
};

enum spool_phase { PRINT_IDLE, PRINT_BANNER, PRINT_DATA, PRINT_CANCEL_NOTE };

struct spool {
	const struct blk_backend *disk; /* where jobs are kept: the partition or `mem` */
	bool persistent;		/* a real partition: jobs survive a restart */
	bool broken;			/* the backend failed a write: no new jobs */
	struct spool_limits lim;
	u32 data_sectors; /* sectors of the data area */
	u64 seq;	  /* of the table copy written last; copy seq % 2 */
	u32 next_id, next_order;
	struct spool_vm vms[SPOOL_MAX_VMS];
	struct spool_job jobs[SPOOL_MAX_JOBS];
	bool paused; /* the printer is paused from the shell */

	/* the printer side: the job on it, what part of it, and the sector being read */
	const struct spool_printer *printer;
	int cur;
	enum spool_phase phase;
	u32 off;
	char text[256]; /* the banner or cancel note being printed */
	u32 text_len;
	u8 sector[BLK_SECTOR_SIZE];
	u32 sector_lba; /* data sector in `sector`, UINT32_MAX none */
	u64 printed_bytes;

	/* the two table copies as read or written (spool_disk.c) */
	u64 copy_buf[2][SPOOL_COPY_SECTORS * BLK_SECTOR_SIZE / 8];
	struct blk_backend mem;
	u8 mem_data[SPOOL_MEM_SECTORS * BLK_SECTOR_SIZE];
};

/* Sets up the spool on `disk` (the spool partition; NULL: memory) and loads the jobs a
 * previous Keel left there; a torn or corrupt area is reported and formatted anew, never
 * trusted. lim NULL: the defaults. printer may be NULL until one exists. */
void spool_init(struct spool *sp, const struct blk_backend *disk, const struct spool_limits *lim,
		const struct spool_printer *printer);
void spool_set_printer(struct spool *sp, const struct spool_printer *printer);

/* The printer input of VM `name` (its entry is made, or found again after a restart of
 * the VM or of Keel). A sink with no callbacks when the system table is full. */
struct printer_sink spool_attach(struct spool *sp, const char *name);
/* The VM ended: its open job is whole. */
void spool_vm_closed(struct spool *sp, const char *name);

/* Sends at most `budget` bytes to the printer (banners included); returns how many went.
 * Called from the idle/scheduling loop so that a long job never stalls the VMs. */
u32 spool_print(struct spool *sp, u32 budget);
/* Whether jobs wait for the printer (queued or printing, the printer not paused). */
bool spool_busy(const struct spool *sp);

/* Shell actions by job id: NULL when done, else why not. */
const char *spool_hold(struct spool *sp, u32 id);
const char *spool_release(struct spool *sp, u32 id);
const char *spool_cancel(struct spool *sp, u32 id);
void spool_pause(struct spool *sp, bool paused);
/* Prints the two-level table on the console. */
void spool_list(const struct spool *sp);

const char *spool_state_name(enum spool_job_state s);
/* The job with this id, or NULL. */
const struct spool_job *spool_job_by_id(const struct spool *sp, u32 id);

/* spool_disk.c: the on-disk form. */
u32 spool_crc32(u32 crc, const void *buf, size_t n);
/* Reads the area into sp's tables; false after reporting why it cannot be trusted. */
bool spool_disk_load(struct spool *sp);
/* Writes the job table (queued and held jobs) to the next copy; false on an I/O error. */
bool spool_disk_commit(struct spool *sp);
/* An empty table in both copies. */
bool spool_disk_format(struct spool *sp);

#endif
