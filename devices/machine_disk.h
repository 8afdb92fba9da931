/* The machine's disk as Keel hands it out: its partitions (read from its table), each one a
 * block backend whose sectors [0, len) are the disk's [start, start + len), and the claims
 * VMs hold on them (a read-write claim is exclusive; read-only ones may share). Pure: the
 * whole disk comes in as a block backend (the ATA driver's, or memory in host tests). */
#ifndef KEEL_MACHINE_DISK_H
#define KEEL_MACHINE_DISK_H

#include "blk.h"
#include "partition.h"

#define MD_MAX_CLAIMS 16
#define MD_OWNER_MAX  32

struct machine_disk;

struct md_part {
	struct part_info info;
	struct machine_disk *md; /* the backend's context is this entry */
};

struct md_claim {
	bool used;
	bool read_only;
	unsigned part; /* index in parts[] */
	char owner[MD_OWNER_MAX];
};

struct machine_disk {
	bool present;	      /* a disk was attached */
	char where[24];	      /* "ata0-slave" */
	char absent_why[160]; /* when not present: what the probe found */
	struct blk_backend whole;
	bool table_ok; /* false: the partition table was refused (table_why) */
	char table_why[160];
	struct part_table table;
	struct md_part parts[PART_MAX];
	struct md_claim claims[MD_MAX_CLAIMS];
};

/* The one machine disk (boot fills it in: hypervisor/main.c). */
extern struct machine_disk machine_disk;

/* Forgets everything: no disk, no claims. */
void machine_disk_reset(struct machine_disk *md);
/* No disk was found; why says what the probe saw (kept for messages). */
void machine_disk_absent(struct machine_disk *md, const char *why);
/* The whole disk (where: "ata0-slave"): reads its partition table. false when the table was
 * refused (md->table_why); the disk is then present with no partitions. */
bool machine_disk_attach(struct machine_disk *md, const struct blk_backend *whole,
			 const char *where);

/* The partition a config names: its GPT name, or its number ("3"); -1 when none. */
int machine_disk_find(const struct machine_disk *md, const char *name_or_number);

/* A backend over that partition, without claiming it (the self-test, listings). false with
 * why when there is no such partition. */
bool machine_disk_partition(struct machine_disk *md, const char *name_or_number, bool read_only,
			    struct blk_backend *out, char *why, size_t why_len);

/* The same for a VM (owner: its name): refused when another owner holds it read-write, or
 * when it is asked read-write and another owner holds it at all. The same owner asking
 * again replaces its claim (a VM restarting). */
bool machine_disk_claim(struct machine_disk *md, const char *name_or_number, bool read_only,
			const char *owner, struct blk_backend *out, char *why, size_t why_len);
/* Ends every claim of owner (the VM is released). */
void machine_disk_release(struct machine_disk *md, const char *owner);

/* "vm1 (rw), vm3 (ro)" for partition index i; "" when nobody holds it. */
void machine_disk_owners(const struct machine_disk *md, unsigned i, char *buf, size_t len);
/* "32 MiB", "512 KiB" */
void machine_disk_size(u64 sectors, char *buf, size_t len);
/* Its name, or "#N" for a partition without one. */
void machine_disk_part_label(const struct md_part *p, char *buf, size_t len);

/* The boot-time self-test: the previous stamp in sector 0 of the partition (0 when none),
 * a new one (previous + 1) written, flushed and read back. false with why on any failure. */
bool machine_disk_stamp(struct machine_disk *md, const char *part, u64 *previous, u64 *now,
			char *why, size_t why_len);

/* Raw throughput: reads then writes `sectors` sectors from sector 8 of the partition in
 * chunks of MD_BENCH_CHUNK, timing each direction with clock (ticks). */
#define MD_BENCH_CHUNK 256
bool machine_disk_bench(struct machine_disk *md, const char *part, u32 sectors, u64 (*clock)(void),
			u64 *read_ticks, u64 *write_ticks, char *why, size_t why_len);

#endif
