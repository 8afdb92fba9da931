/* GPT and MBR parsing for the machine's disk. Every number read from the disk is checked
 * against the disk's size and the other partitions before it is kept; the first thing that
 * does not fit refuses the whole table with a reason. */
#include "partition.h"
#include "../hypervisor/lib.h"

#define MBR_SIG_OFF	510
#define MBR_ENTRIES_OFF 446
#define MBR_TYPE_EMPTY	0x00
#define MBR_TYPE_GPT	0xee
#define GPT_HEADER_MIN	92
#define GPT_ENTRY_MIN	128

struct gpt_header {
	u8 signature[8];
	u32 revision;
	u32 header_size;
	u32 header_crc;
	u32 reserved;
	u64 my_lba;
	u64 alternate_lba;
	u64 first_usable;
	u64 last_usable;
	u8 disk_guid[16];
	u64 entries_lba;
	u32 num_entries;
	u32 entry_size;
	u32 entries_crc;
} __packed;
STATIC_ASSERT(sizeof(struct gpt_header) == GPT_HEADER_MIN);

struct gpt_entry {
	u8 type_guid[16];
	u8 part_guid[16];
	u64 first_lba;
	u64 last_lba;
	u64 attributes;
	u16 name[PART_NAME_MAX];
} __packed;
STATIC_ASSERT(sizeof(struct gpt_entry) == GPT_ENTRY_MIN);

u32 crc32_update(u32 crc, const void *p, size_t n)
{
	const u8 *b = p;
	crc = ~crc;
	while (n--) {
		crc ^= *b++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

const char *part_scheme_name(enum part_scheme s)
{
	return s == PART_SCHEME_GPT ? "GPT" : s == PART_SCHEME_MBR ? "MBR" : "no partition table";
}

static bool refuse(char *why, size_t why_len, const char *fmt, ...) __printf(3, 4);
static bool refuse(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return false;
}

static bool read_sector(const struct blk_backend *disk, u64 lba, u8 *buf)
{
	return blk_read(disk, lba, 1, buf) == BLK_OK;
}

static u32 get32(const u8 *p)
{
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

/* One more partition; false when the table already holds PART_MAX. */
static bool add(struct part_table *t, unsigned number, u64 start, u64 sectors, char *why,
		size_t why_len)
{
	if (t->n == PART_MAX)
		return refuse(why, why_len, "more than %u partitions", PART_MAX);
	struct part_info *p = &t->p[t->n++];
	memset(p, 0, sizeof(*p));
	p->number = number;
	p->start = start;
	p->sectors = sectors;
	return true;
}

/* No two partitions share a sector. */
static bool check_overlaps(const struct part_table *t, char *why, size_t why_len)
{
	for (unsigned i = 0; i < t->n; i++)
		for (unsigned j = i + 1; j < t->n; j++) {
			const struct part_info *a = &t->p[i], *b = &t->p[j];
			if (a->start < b->start + b->sectors && b->start < a->start + a->sectors)
				return refuse(why, why_len, "partitions %u and %u overlap",
					      a->number, b->number);
		}
	return true;
}

/* ---- GPT ---- */

static void gpt_name(const struct gpt_entry *e, char *out)
{
	unsigned i;
	for (i = 0; i < PART_NAME_MAX; i++) {
		u16 c = e->name[i];
		if (!c)
			break;
		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[i] = 0;
}

static bool guid_is_zero(const u8 *g)
{
	for (int i = 0; i < 16; i++)
		if (g[i])
			return false;
	return true;
}

/* The header at lba (1 for the primary, the backup's place otherwise) and its entries.
 * *alternate: where a header whose own CRC holds says the other copy is (0 if none). */
static bool gpt_try(struct part_table *t, const struct blk_backend *disk, u64 lba, bool primary,
		    u64 *alternate, char *why, size_t why_len)
{
	u8 sec[BLK_SECTOR_SIZE];
	t->n = 0;
	if (!read_sector(disk, lba, sec))
		return refuse(why, why_len, "cannot read its header at LBA %llu",
			      (unsigned long long)lba);
	struct gpt_header h;
	memcpy(&h, sec, sizeof(h));
	if (memcmp(h.signature, "EFI PART", 8))
		return refuse(why, why_len, "no GPT signature at LBA %llu",
			      (unsigned long long)lba);
	if (h.header_size < GPT_HEADER_MIN || h.header_size > BLK_SECTOR_SIZE)
		return refuse(why, why_len, "header size %u", h.header_size);
	u32 want = h.header_crc;
	memset(sec + 16, 0, 4); /* the CRC is taken with its own field zero */
	if (crc32_update(0, sec, h.header_size) != want)
		return refuse(why, why_len, "header CRC mismatch");
	*alternate = h.alternate_lba;
	u64 n = disk->sectors;
	if (h.my_lba != lba)
		return refuse(why, why_len, "header says it is at LBA %llu, not %llu",
			      (unsigned long long)h.my_lba, (unsigned long long)lba);
	if (h.first_usable > h.last_usable || h.last_usable >= n || h.first_usable < 2)
		return refuse(why, why_len,
			      "usable area %llu..%llu does not fit a disk of %llu sectors",
			      (unsigned long long)h.first_usable, (unsigned long long)h.last_usable,
			      (unsigned long long)n);
	if (h.num_entries == 0 || h.num_entries > GPT_MAX_ENTRIES)
		return refuse(why, why_len, "%u entries (1..%u accepted)", h.num_entries,
			      GPT_MAX_ENTRIES);
	/* entries never straddle sectors: 128, 256 or 512 bytes */
	if (h.entry_size < GPT_ENTRY_MIN || h.entry_size > BLK_SECTOR_SIZE ||
	    (h.entry_size & (h.entry_size - 1)))
		return refuse(why, why_len, "entry size %u (128, 256 or 512 accepted)",
			      h.entry_size);
	u32 per_sector = BLK_SECTOR_SIZE / h.entry_size;
	u64 array_sectors = (h.num_entries + per_sector - 1) / per_sector;
	/* the entry array lies between the header and the usable area (primary) or between the
	 * usable area and the header (backup) */
	bool placed = primary ? h.entries_lba >= 2 && h.entries_lba <= h.first_usable &&
				    array_sectors <= h.first_usable - h.entries_lba
			      : h.entries_lba > h.last_usable && h.entries_lba < lba &&
				    array_sectors <= lba - h.entries_lba;
	if (!placed)
		return refuse(why, why_len, "entry array at LBA %llu (%llu sectors) out of place",
			      (unsigned long long)h.entries_lba, (unsigned long long)array_sectors);
	u32 crc = 0, left = h.num_entries;
	for (u64 s = 0; s < array_sectors; s++) {
		if (!read_sector(disk, h.entries_lba + s, sec))
			return refuse(why, why_len, "cannot read the entries at LBA %llu",
				      (unsigned long long)(h.entries_lba + s));
		u32 here = MIN(left, per_sector);
		crc = crc32_update(crc, sec, (size_t)here * h.entry_size);
		for (u32 i = 0; i < here; i++) {
			struct gpt_entry e;
			memcpy(&e, sec + i * h.entry_size, sizeof(e));
			unsigned number = (unsigned)(s * per_sector + i + 1);
			if (guid_is_zero(e.type_guid))
				continue;
			if (e.first_lba > e.last_lba || e.first_lba < h.first_usable ||
			    e.last_lba > h.last_usable)
				return refuse(why, why_len,
					      "partition %u (%llu..%llu) outside the usable area",
					      number, (unsigned long long)e.first_lba,
					      (unsigned long long)e.last_lba);
			if (!add(t, number, e.first_lba, e.last_lba - e.first_lba + 1, why,
				 why_len))
				return false;
			gpt_name(&e, t->p[t->n - 1].name);
		}
		left -= here;
	}
	if (crc != h.entries_crc)
		return refuse(why, why_len, "entry array CRC mismatch");
	return check_overlaps(t, why, why_len);
}

static bool gpt_scan(struct part_table *t, const struct blk_backend *disk, char *why,
		     size_t why_len)
{
	char primary_why[96], backup_why[96];
	u64 alt = 0, unused = 0, last = disk->sectors - 1;
	t->scheme = PART_SCHEME_GPT;
	if (gpt_try(t, disk, 1, true, &alt, primary_why, sizeof(primary_why)))
		return true;
	/* the backup belongs on the last sector; a disk grown since keeps it where the primary
	 * header says */
	bool ok = gpt_try(t, disk, last, false, &unused, backup_why, sizeof(backup_why));
	if (!ok && alt > 1 && alt < last)
		ok = gpt_try(t, disk, alt, false, &unused, backup_why, sizeof(backup_why));
	if (ok) {
		ksnprintf(t->note, sizeof(t->note), "primary GPT refused (%s): the backup used",
			  primary_why);
		return true;
	}
	t->n = 0;
	return refuse(why, why_len, "GPT: primary: %s; backup: %s", primary_why, backup_why);
}

/* ---- MBR ---- */

struct mbr_entry {
	u8 type;
	u64 start, sectors;
};

static struct mbr_entry mbr_entry(const u8 *sec, unsigned i)
{
	const u8 *e = sec + MBR_ENTRIES_OFF + 16 * i;
	return (struct mbr_entry){e[4], get32(e + 8), get32(e + 12)};
}

static bool mbr_extended(u8 type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

static bool has_mbr_signature(const u8 *sec)
{
	return sec[MBR_SIG_OFF] == 0x55 && sec[MBR_SIG_OFF + 1] == 0xaa;
}

/* The chain of EBRs inside the extended partition [ext, ext + ext_len): each holds one
 * logical partition (relative to itself) and a link to the next (relative to ext); links only
 * go forward, so a loop cannot keep the walk going. */
static bool mbr_logicals(struct part_table *t, const struct blk_backend *disk, u64 ext, u64 ext_len,
			 char *why, size_t why_len)
{
	u8 sec[BLK_SECTOR_SIZE];
	u64 ebr = ext;
	for (unsigned k = 0;; k++) {
		unsigned number = 5 + k;
		if (k == MBR_MAX_LOGICAL)
			return refuse(why, why_len, "more than %u logical partitions",
				      MBR_MAX_LOGICAL);
		if (!read_sector(disk, ebr, sec))
			return refuse(why, why_len, "cannot read the EBR at LBA %llu",
				      (unsigned long long)ebr);
		if (!has_mbr_signature(sec))
			return refuse(why, why_len, "EBR at LBA %llu has no signature",
				      (unsigned long long)ebr);
		struct mbr_entry l = mbr_entry(sec, 0), next = mbr_entry(sec, 1);
		if (l.type != MBR_TYPE_EMPTY) {
			/* the logical starts after its EBR and ends inside the extended partition
			 */
			if (l.start == 0 || l.sectors == 0 ||
			    ebr + l.start + l.sectors > ext + ext_len)
				return refuse(why, why_len,
					      "logical partition %u outside its extended partition",
					      number);
			if (!add(t, number, ebr + l.start, l.sectors, why, why_len))
				return false;
			t->p[t->n - 1].mbr_type = l.type;
		}
		if (next.type == MBR_TYPE_EMPTY)
			return true;
		if (!mbr_extended(next.type) || next.start == 0 || ext + next.start <= ebr ||
		    next.start >= ext_len)
			return refuse(why, why_len, "EBR chain link after LBA %llu out of place",
				      (unsigned long long)ebr);
		ebr = ext + next.start;
	}
}

static bool mbr_scan(struct part_table *t, const struct blk_backend *disk, const u8 *mbr, char *why,
		     size_t why_len)
{
	t->scheme = PART_SCHEME_MBR;
	struct mbr_entry ext = {0, 0, 0};
	for (unsigned i = 0; i < 4; i++) {
		struct mbr_entry e = mbr_entry(mbr, i);
		if (e.type == MBR_TYPE_EMPTY)
			continue;
		if (e.start == 0 || e.sectors == 0 || e.start + e.sectors > disk->sectors)
			return refuse(
			    why, why_len,
			    "MBR partition %u (start %llu, %llu sectors) outside the disk", i + 1,
			    (unsigned long long)e.start, (unsigned long long)e.sectors);
		if (mbr_extended(e.type)) {
			if (ext.type)
				return refuse(why, why_len, "more than one extended partition");
			ext = e;
		}
		if (!add(t, i + 1, e.start, e.sectors, why, why_len))
			return false;
		t->p[t->n - 1].mbr_type = e.type;
	}
	/* the extended partition holds no data of its own: checked against the primaries,
	 * then replaced by its logicals */
	if (!check_overlaps(t, why, why_len))
		return false;
	if (ext.type) {
		for (unsigned i = 0; i < t->n; i++)
			if (mbr_extended(t->p[i].mbr_type)) {
				memmove(&t->p[i], &t->p[i + 1], (t->n - i - 1) * sizeof(t->p[0]));
				t->n--;
				break;
			}
		if (!mbr_logicals(t, disk, ext.start, ext.sectors, why, why_len))
			return false;
		if (!check_overlaps(t, why, why_len))
			return false;
	}
	return true;
}

bool part_scan(struct part_table *t, const struct blk_backend *disk, char *why, size_t why_len)
{
	u8 mbr[BLK_SECTOR_SIZE];
	memset(t, 0, sizeof(*t));
	bool ok;
	if (disk->sectors < 2)
		return refuse(why, why_len, "a disk of %llu sectors",
			      (unsigned long long)disk->sectors);
	if (!read_sector(disk, 0, mbr))
		return refuse(why, why_len, "cannot read LBA 0");
	if (!has_mbr_signature(mbr)) {
		t->scheme = PART_SCHEME_NONE;
		return true;
	}
	bool protective = false;
	for (unsigned i = 0; i < 4; i++)
		protective |= mbr_entry(mbr, i).type == MBR_TYPE_GPT;
	ok = protective ? gpt_scan(t, disk, why, why_len) : mbr_scan(t, disk, mbr, why, why_len);
	if (!ok) {
		t->n = 0;
		t->scheme = PART_SCHEME_NONE;
	}
	return ok;
}
