/* The machine's disk: its partition registry, the partition backends (an offset into the
 * whole disk, kept inside the partition by blk.h's check and asserted again here), the claim
 * table that keeps a read-write partition to one VM, and the boot self-test's stamp. */
#include "machine_disk.h"
#include "../hypervisor/assert.h"
#include "../hypervisor/lib.h"

#define STAMP_MAGIC "KEEL-DISK-STAMP"

struct machine_disk machine_disk;

void machine_disk_reset(struct machine_disk *md)
{
	memset(md, 0, sizeof(*md));
}

void machine_disk_absent(struct machine_disk *md, const char *why)
{
	machine_disk_reset(md);
	kstrlcpy(md->absent_why, why, sizeof(md->absent_why));
}

bool machine_disk_attach(struct machine_disk *md, const struct blk_backend *whole,
			 const char *where)
{
	machine_disk_reset(md);
	md->present = true;
	md->whole = *whole;
	kstrlcpy(md->where, where, sizeof(md->where));
	md->table_ok = part_scan(&md->table, &md->whole, md->table_why, sizeof(md->table_why));
	for (unsigned i = 0; i < md->table.n; i++) {
		md->parts[i].info = md->table.p[i];
		md->parts[i].md = md;
	}
	return md->table_ok;
}

int machine_disk_find(const struct machine_disk *md, const char *name_or_number)
{
	for (unsigned i = 0; i < md->table.n; i++)
		if (md->table.p[i].name[0] && !strcmp(md->table.p[i].name, name_or_number))
			return (int)i;
	u64 number;
	if (kparse_u64(name_or_number, &number))
		for (unsigned i = 0; i < md->table.n; i++)
			if (md->table.p[i].number == number)
				return (int)i;
	return -1;
}

/* ---- the partition backend ---- */

/* [lba, lba + n) of the partition (checked by blk.h) as the disk's sectors */
static u64 translate(const struct md_part *p, u64 lba, u32 n)
{
	KASSERT(n <= p->info.sectors && lba <= p->info.sectors - n);
	u64 abs = p->info.start + lba;
	KASSERT(abs >= p->info.start && abs + n <= p->info.start + p->info.sectors);
	return abs;
}

static bool part_read(void *ctx, u64 lba, u32 n, void *buf)
{
	struct md_part *p = ctx;
	return blk_read(&p->md->whole, translate(p, lba, n), n, buf) == BLK_OK;
}

static bool part_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	struct md_part *p = ctx;
	return blk_write(&p->md->whole, translate(p, lba, n), n, buf) == BLK_OK;
}

static bool part_flush(void *ctx)
{
	struct md_part *p = ctx;
	return blk_flush(&p->md->whole) == BLK_OK;
}

static const struct blk_ops part_ops = {part_read, part_write, part_flush};

void machine_disk_part_label(const struct md_part *p, char *buf, size_t len)
{
	if (p->info.name[0])
		kstrlcpy(buf, p->info.name, len);
	else
		ksnprintf(buf, len, "#%u", p->info.number);
}

/* the partitions' labels, "vm1, vm2, #5", for messages */
static void labels(const struct machine_disk *md, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < md->table.n && used + 1 < len; i++) {
		char l[PART_NAME_MAX + 8];
		machine_disk_part_label(&md->parts[i], l, sizeof(l));
		used += (size_t)ksnprintf(buf + used, len - used, "%s%s", i ? ", " : "", l);
	}
}

static int lookup(struct machine_disk *md, const char *name_or_number, char *why, size_t why_len)
{
	if (!md->present) {
		ksnprintf(why, why_len, "no machine disk (%s)",
			  md->absent_why[0] ? md->absent_why : "none probed");
		return -1;
	}
	if (!md->table_ok) {
		ksnprintf(why, why_len, "the partition table of %s was refused: %s", md->where,
			  md->table_why);
		return -1;
	}
	int i = machine_disk_find(md, name_or_number);
	if (i < 0) {
		char l[120];
		labels(md, l, sizeof(l));
		ksnprintf(why, why_len, "no partition '%s' on %s (partitions: %s)", name_or_number,
			  md->where, l[0] ? l : "none");
	}
	return i;
}

static void backend(struct machine_disk *md, unsigned i, bool read_only, struct blk_backend *out)
{
	memset(out, 0, sizeof(*out));
	out->ops = &part_ops;
	out->ctx = &md->parts[i];
	out->sectors = md->parts[i].info.sectors;
	out->read_only = read_only || md->whole.read_only;
	machine_disk_part_label(&md->parts[i], out->name, sizeof(out->name));
}

bool machine_disk_partition(struct machine_disk *md, const char *name_or_number, bool read_only,
			    struct blk_backend *out, char *why, size_t why_len)
{
	int i = lookup(md, name_or_number, why, why_len);
	if (i < 0)
		return false;
	backend(md, (unsigned)i, read_only, out);
	return true;
}

/* ---- claims ---- */

bool machine_disk_claim(struct machine_disk *md, const char *name_or_number, bool read_only,
			const char *owner, struct blk_backend *out, char *why, size_t why_len)
{
	int i = lookup(md, name_or_number, why, why_len);
	if (i < 0)
		return false;
	struct md_claim *mine = NULL, *free_slot = NULL;
	for (unsigned k = 0; k < MD_MAX_CLAIMS; k++) {
		struct md_claim *c = &md->claims[k];
		if (!c->used) {
			if (!free_slot)
				free_slot = c;
			continue;
		}
		if (c->part != (unsigned)i)
			continue;
		if (!strcmp(c->owner, owner)) {
			mine = c;
			continue;
		}
		if (!read_only || !c->read_only) {
			ksnprintf(why, why_len, "partition %s is in use by %s (%s)", name_or_number,
				  c->owner, c->read_only ? "read-only" : "read-write");
			return false;
		}
	}
	struct md_claim *c = mine ? mine : free_slot;
	if (!c) {
		ksnprintf(why, why_len, "more than %u partition claims", MD_MAX_CLAIMS);
		return false;
	}
	c->used = true;
	c->read_only = read_only;
	c->part = (unsigned)i;
	kstrlcpy(c->owner, owner, sizeof(c->owner));
	backend(md, (unsigned)i, read_only, out);
	return true;
}

void machine_disk_release(struct machine_disk *md, const char *owner)
{
	for (unsigned k = 0; k < MD_MAX_CLAIMS; k++)
		if (md->claims[k].used && !strcmp(md->claims[k].owner, owner))
			memset(&md->claims[k], 0, sizeof(md->claims[k]));
}

void machine_disk_owners(const struct machine_disk *md, unsigned i, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (unsigned k = 0; k < MD_MAX_CLAIMS && used + 1 < len; k++) {
		const struct md_claim *c = &md->claims[k];
		if (c->used && c->part == i)
			used +=
			    (size_t)ksnprintf(buf + used, len - used, "%s%s (%s)", used ? ", " : "",
					      c->owner, c->read_only ? "ro" : "rw");
	}
}

void machine_disk_size(u64 sectors, char *buf, size_t len)
{
	u64 kib = sectors / 2;
	if (kib >= 1024)
		ksnprintf(buf, len, "%llu MiB", (unsigned long long)(kib / 1024));
	else
		ksnprintf(buf, len, "%llu KiB", (unsigned long long)kib);
}

/* ---- the boot self-test ---- */

/* sector 0 of the scratch partition: magic, counter, and the counter again inverted */
struct stamp {
	char magic[16];
	u64 counter;
	u64 check;
};

static u8 bench_buf[MD_BENCH_CHUNK * BLK_SECTOR_SIZE] __aligned(16);

bool machine_disk_stamp(struct machine_disk *md, const char *part, u64 *previous, u64 *now,
			char *why, size_t why_len)
{
	struct blk_backend b;
	if (!machine_disk_partition(md, part, false, &b, why, why_len))
		return false;
	u8 *sec = bench_buf;
	struct stamp s;
	if (blk_read(&b, 0, 1, sec) != BLK_OK) {
		ksnprintf(why, why_len, "reading %s's sector 0 failed", b.name);
		return false;
	}
	memcpy(&s, sec, sizeof(s));
	bool valid = !memcmp(s.magic, STAMP_MAGIC, sizeof(STAMP_MAGIC)) && s.check == ~s.counter;
	*previous = valid ? s.counter : 0;
	*now = *previous + 1;
	memset(sec, 0, BLK_SECTOR_SIZE);
	memset(&s, 0, sizeof(s));
	memcpy(s.magic, STAMP_MAGIC, sizeof(STAMP_MAGIC));
	s.counter = *now;
	s.check = ~*now;
	memcpy(sec, &s, sizeof(s));
	if (blk_write(&b, 0, 1, sec) != BLK_OK || blk_flush(&b) != BLK_OK) {
		ksnprintf(why, why_len, "writing %s's sector 0 failed", b.name);
		return false;
	}
	memset(sec, 0, BLK_SECTOR_SIZE);
	if (blk_read(&b, 0, 1, sec) != BLK_OK || memcmp(sec, &s, sizeof(s))) {
		ksnprintf(why, why_len, "%s's sector 0 did not read back as written", b.name);
		return false;
	}
	return true;
}

bool machine_disk_bench(struct machine_disk *md, const char *part, u32 sectors, u64 (*clock)(void),
			u64 *read_ticks, u64 *write_ticks, char *why, size_t why_len)
{
	struct blk_backend b;
	if (!machine_disk_partition(md, part, false, &b, why, why_len))
		return false;
	const u64 first = 8; /* past the stamp */
	if (sectors > b.sectors || b.sectors - sectors < first) {
		ksnprintf(why, why_len, "%s is smaller than %u sectors", b.name, sectors + 8);
		return false;
	}
	u64 t0 = clock();
	for (u32 done = 0; done < sectors; done += MD_BENCH_CHUNK)
		if (blk_read(&b, first + done, MIN(sectors - done, (u32)MD_BENCH_CHUNK),
			     bench_buf) != BLK_OK) {
			ksnprintf(why, why_len, "read failed at sector %u of %s", done, b.name);
			return false;
		}
	u64 t1 = clock();
	for (u32 done = 0; done < sectors; done += MD_BENCH_CHUNK)
		if (blk_write(&b, first + done, MIN(sectors - done, (u32)MD_BENCH_CHUNK),
			      bench_buf) != BLK_OK) {
			ksnprintf(why, why_len, "write failed at sector %u of %s", done, b.name);
			return false;
		}
	if (blk_flush(&b) != BLK_OK) {
		ksnprintf(why, why_len, "flush failed on %s", b.name);
		return false;
	}
	u64 t2 = clock();
	*read_ticks = t1 - t0;
	*write_ticks = t2 - t1;
	return true;
}
