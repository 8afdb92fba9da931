/* The spool area's on-disk form: two copies of (header sector + job table), written in
 * turn, then the jobs' data extents. A copy counts only if its magic, version, layout and
 * both checksums hold and every entry is sane; the newer good copy wins, so a write torn
 * half-way leaves the other. Jobs whose data fails its CRC are dropped, never printed. */
#include "spool.h"
#include "../hypervisor/console.h"
#include "../hypervisor/lib.h"

struct disk_header {
	char magic[8];
	u32 version;
	u32 header_crc; /* CRC-32 of the sector with this field 0 */
	u64 seq;	/* this copy is copy seq % 2 */
	u32 table_sectors, max_jobs, entry_size;
	u32 data_start, data_sectors;
	u32 next_id, next_order;
	u32 table_crc;
};

struct disk_job {
	u32 id, order, size, start, nsect, crc;
	u8 state; /* JOB_QUEUED or JOB_HELD */
	u8 truncated;
	u8 pad[2];
	char vm[SPOOL_NAME_LEN];
	u8 reserved[12];
};

_Static_assert(sizeof(struct disk_header) <= BLK_SECTOR_SIZE, "one header sector");
_Static_assert(sizeof(struct disk_job) == 64, "entries are 64 bytes");
_Static_assert(SPOOL_MAX_JOBS * sizeof(struct disk_job) == SPOOL_TABLE_SECTORS * BLK_SECTOR_SIZE,
	       "the table fills its sectors");

/* one copy as it lies on the disk */
struct disk_copy {
	union {
		struct disk_header h;
		u8 sector[BLK_SECTOR_SIZE];
	};
	struct disk_job jobs[SPOOL_MAX_JOBS];
};

_Static_assert(sizeof(struct disk_copy) == SPOOL_COPY_SECTORS * BLK_SECTOR_SIZE, "copy size");

_Static_assert(sizeof(((struct spool *)0)->copy_buf[0]) == sizeof(struct disk_copy), "buffers");

static struct disk_copy *copy_of(struct spool *sp, unsigned k)
{
	return (struct disk_copy *)sp->copy_buf[k];
}

u32 spool_crc32(u32 crc, const void *buf, size_t n)
{
	const u8 *p = buf;
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static u32 header_crc(struct disk_copy *c)
{
	u32 saved = c->h.header_crc;
	c->h.header_crc = 0;
	u32 crc = spool_crc32(0, c->sector, BLK_SECTOR_SIZE);
	c->h.header_crc = saved;
	return crc;
}

static bool persisted(const struct spool_job *j)
{
	return j->state == JOB_QUEUED || j->state == JOB_HELD || j->state == JOB_PRINTING;
}

static void encode(const struct spool *sp, struct disk_copy *c, u64 seq)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->h.magic, SPOOL_MAGIC, sizeof(c->h.magic));
	c->h.version = SPOOL_VERSION;
	c->h.seq = seq;
	c->h.table_sectors = SPOOL_TABLE_SECTORS;
	c->h.max_jobs = SPOOL_MAX_JOBS;
	c->h.entry_size = sizeof(struct disk_job);
	c->h.data_start = SPOOL_DATA_START;
	c->h.data_sectors = sp->data_sectors;
	c->h.next_id = sp->next_id;
	c->h.next_order = sp->next_order;
	unsigned n = 0;
	for (unsigned i = 0; i < SPOOL_MAX_JOBS; i++) {
		const struct spool_job *j = &sp->jobs[i];
		if (!persisted(j))
			continue;
		struct disk_job *d = &c->jobs[n++];
		d->id = j->id;
		d->order = j->order;
		d->size = j->size;
		d->start = j->start;
		d->nsect = j->nsect;
		d->crc = j->crc;
		/* a job on the printer when Keel stops is printed again, whole */
		d->state = j->state == JOB_HELD ? JOB_HELD : JOB_QUEUED;
		d->truncated = j->truncated;
		kstrlcpy(d->vm, sp->vms[j->vm].name, sizeof(d->vm));
	}
	c->h.table_crc = spool_crc32(0, c->jobs, sizeof(c->jobs));
	c->h.header_crc = header_crc(c);
}

static bool valid_vm_name(const char *s)
{
	size_t n = strnlen(s, SPOOL_NAME_LEN);
	if (!n || n == SPOOL_NAME_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

static bool all_zero(const void *p, size_t n)
{
	const u8 *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Whether a copy read from the disk can be trusted; *why says what is wrong. */
static bool check_copy(const struct spool *sp, struct disk_copy *c, const char **why)
{
	const struct disk_header *h = &c->h;
	if (memcmp(h->magic, SPOOL_MAGIC, sizeof(h->magic))) {
		*why = all_zero(c->sector, sizeof(c->sector)) ? "blank" : "no spool magic";
		return false;
	}
	if (header_crc(c) != h->header_crc) {
		*why = "header checksum wrong";
		return false;
	}
	if (h->version != SPOOL_VERSION) {
		*why = "unknown version";
		return false;
	}
	if (h->table_sectors != SPOOL_TABLE_SECTORS || h->max_jobs != SPOOL_MAX_JOBS ||
	    h->entry_size != sizeof(struct disk_job) || h->data_start != SPOOL_DATA_START ||
	    h->data_sectors != sp->data_sectors) {
		*why = "layout does not match this partition";
		return false;
	}
	if (spool_crc32(0, c->jobs, sizeof(c->jobs)) != h->table_crc) {
		*why = "job table checksum wrong";
		return false;
	}
	if (!h->next_id || !h->next_order) {
		*why = "bad counters";
		return false;
	}
	for (unsigned i = 0; i < SPOOL_MAX_JOBS; i++) {
		const struct disk_job *d = &c->jobs[i];
		if (!d->id)
			continue;
		bool ok = (d->state == JOB_QUEUED || d->state == JOB_HELD) && d->id < h->next_id &&
			  d->order && d->order < h->next_order && d->size &&
			  d->nsect == (d->size + BLK_SECTOR_SIZE - 1) / BLK_SECTOR_SIZE &&
			  d->start < h->data_sectors && d->nsect <= h->data_sectors - d->start &&
			  d->truncated <= 1 && valid_vm_name(d->vm);
		for (unsigned k = 0; ok && k < i; k++) {
			const struct disk_job *o = &c->jobs[k];
			if (!o->id)
				continue;
			bool overlap =
			    d->start < o->start + o->nsect && o->start < d->start + d->nsect;
			ok = o->id != d->id && o->order != d->order && !overlap;
		}
		if (!ok) {
			*why = "a job entry is inconsistent";
			return false;
		}
	}
	return true;
}

/* The VM entry named `name`, made when absent; -1 when the table is full. */
static int vm_slot(struct spool *sp, const char *name)
{
	int free_slot = -1;
	for (unsigned i = 0; i < SPOOL_MAX_VMS; i++) {
		if (sp->vms[i].used && !strcmp(sp->vms[i].name, name))
			return (int)i;
		if (!sp->vms[i].used && free_slot < 0)
			free_slot = (int)i;
	}
	if (free_slot >= 0) {
		struct spool_vm *v = &sp->vms[free_slot];
		v->used = true;
		kstrlcpy(v->name, name, sizeof(v->name));
	}
	return free_slot;
}

/* The job's data as the CRC in its entry says it was written. */
static bool data_intact(struct spool *sp, const struct disk_job *d)
{
	u8 buf[BLK_SECTOR_SIZE];
	u32 crc = 0, left = d->size;
	for (u32 s = 0; s < d->nsect; s++) {
		if (blk_read(sp->disk, SPOOL_DATA_START + (u64)d->start + s, 1, buf) != BLK_OK)
			return false;
		u32 n = MIN(left, (u32)BLK_SECTOR_SIZE);
		crc = spool_crc32(crc, buf, n);
		left -= n;
	}
	return crc == d->crc;
}

bool spool_disk_load(struct spool *sp)
{
	const char *why[2] = {"unreadable", "unreadable"};
	struct disk_copy *copies[2] = {copy_of(sp, 0), copy_of(sp, 1)};
	bool ok[2];
	for (unsigned k = 0; k < 2; k++) {
		ok[k] = blk_read(sp->disk, k * SPOOL_COPY_SECTORS, SPOOL_COPY_SECTORS, copies[k]) ==
			    BLK_OK &&
			check_copy(sp, copies[k], &why[k]);
		if (ok[k] && copies[k]->h.seq % 2 != k) {
			ok[k] = false;
			why[k] = "in the other copy's place";
		}
	}
	if (!ok[0] && !ok[1]) {
		if (!strcmp(why[0], "blank") && !strcmp(why[1], "blank"))
			pr_info("spool: partition %s is blank: formatted\n", sp->disk->name);
		else
			pr_err("spool: partition %s holds no trustworthy job table (copy 0: %s; "
			       "copy 1: %s): not trusted, formatted anew, its jobs are lost\n",
			       sp->disk->name, why[0], why[1]);
		return false;
	}
	unsigned use = ok[0] && ok[1] ? (copies[1]->h.seq > copies[0]->h.seq) : ok[1];
	if (!ok[!use])
		pr_warn("spool: partition %s: table copy %u damaged (%s; a torn write?): using "
			"copy %u\n",
			sp->disk->name, !use, why[!use], use);
	const struct disk_copy *c = copies[use];
	sp->seq = c->h.seq;
	sp->next_id = c->h.next_id;
	sp->next_order = c->h.next_order;
	unsigned n = 0, dropped = 0;
	for (unsigned i = 0; i < SPOOL_MAX_JOBS; i++) {
		const struct disk_job *d = &c->jobs[i];
		if (!d->id)
			continue;
		int vm = vm_slot(sp, d->vm);
		if (vm < 0 || !data_intact(sp, d)) {
			pr_err("spool: job %u of vm %s: %s: dropped\n", d->id, d->vm,
			       vm < 0 ? "too many VMs in the table" : "its data is damaged");
			dropped++;
			continue;
		}
		sp->jobs[n++] = (struct spool_job){
		    .id = d->id,
		    .order = d->order,
		    .state = (enum spool_job_state)d->state,
		    .vm = (u8)vm,
		    .truncated = d->truncated,
		    .size = d->size,
		    .start = d->start,
		    .nsect = d->nsect,
		    .crc = d->crc,
		};
	}
	pr_info("spool: partition %s: %u jobs kept from before%s\n", sp->disk->name, n,
		dropped ? " (some dropped)" : "");
	if (dropped || !ok[!use])
		spool_disk_commit(sp);
	return true;
}

bool spool_disk_commit(struct spool *sp)
{
	u64 seq = sp->seq + 1;
	struct disk_copy *c = copy_of(sp, (unsigned)(seq % 2));
	encode(sp, c, seq);
	if (blk_write(sp->disk, (seq % 2) * SPOOL_COPY_SECTORS, SPOOL_COPY_SECTORS, c) != BLK_OK ||
	    blk_flush(sp->disk) != BLK_OK)
		return false;
	sp->seq = seq;
	return true;
}

bool spool_disk_format(struct spool *sp)
{
	/* both copies, so that a damaged one later is told from a blank one */
	sp->seq = 0;
	return spool_disk_commit(sp) && spool_disk_commit(sp);
}
