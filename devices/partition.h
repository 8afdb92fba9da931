/* Partition tables of the machine's disk: GPT (header and entry CRC32s, the backup header
 * when the primary is damaged, UTF-16LE names) and MBR (primary, extended and logical). Pure;
 * every field is the disk's word, checked before use: a table that does not hold together is
 * refused whole, with the reason. */
#ifndef KEEL_PARTITION_H
#define KEEL_PARTITION_H

#include "blk.h"

#define PART_MAX	16 /* partitions Keel keeps; a table with more is refused */
#define PART_NAME_MAX	36 /* GPT names are 36 UTF-16 code units */
#define GPT_MAX_ENTRIES 1024
#define MBR_MAX_LOGICAL 64

enum part_scheme { PART_SCHEME_NONE, PART_SCHEME_MBR, PART_SCHEME_GPT };

struct part_info {
	unsigned number;	      /* GPT: entry index + 1; MBR: 1-4 primary, 5... logical */
	u64 start, sectors;	      /* on the disk */
	char name[PART_NAME_MAX + 1]; /* GPT name in ASCII (others as '?'); "" for MBR */
	u8 mbr_type;		      /* MBR only */
};

struct part_table {
	enum part_scheme scheme;
	unsigned n;
	struct part_info p[PART_MAX];
	char note[128]; /* something worth saying about a table that was used, e.g. the backup */
};

/* Reads disk's table into t. true: t holds it (scheme NONE and no partitions for a disk
 * without one); false: refused, why says why, t is empty. */
bool part_scan(struct part_table *t, const struct blk_backend *disk, char *why, size_t why_len);

const char *part_scheme_name(enum part_scheme s);

/* CRC-32 (IEEE 802.3, as GPT uses it): crc32_update(0, p, n) of a whole buffer, or chained. */
u32 crc32_update(u32 crc, const void *p, size_t n);

#endif
