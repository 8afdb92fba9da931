/* The spool's tables and its two ends: the VMs' printer inputs cut the byte stream into
 * jobs and keep them on the backend; the printer end takes whole jobs in spool order, a
 * banner before each, a bounded number of bytes per call. The on-disk form: spool_disk.c. */
#include "spool.h"
#include "../hypervisor/console.h"
#include "../hypervisor/lib.h"

#define KIB 1024u

static const struct spool_limits default_limits = {
    .job_max = 256 * KIB,
    .vm_quota = 1024 * KIB,
    .idle_ns = 2000000000ULL,
};

/* ---- the memory backend: the spool area when no disk holds one ---- */

static bool mem_read(void *ctx, u64 lba, u32 n, void *buf)
{
	struct spool *sp = ctx;
	memcpy(buf, sp->mem_data + lba * BLK_SECTOR_SIZE, (size_t)n * BLK_SECTOR_SIZE);
	return true;
}

static bool mem_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	struct spool *sp = ctx;
	memcpy(sp->mem_data + lba * BLK_SECTOR_SIZE, buf, (size_t)n * BLK_SECTOR_SIZE);
	return true;
}

static const struct blk_ops mem_ops = {mem_read, mem_write, NULL};

static void use_memory(struct spool *sp)
{
	memset(sp->mem_data, 0, sizeof(sp->mem_data));
	sp->mem = (struct blk_backend){&mem_ops, sp, SPOOL_MEM_SECTORS, false, "memory"};
	sp->disk = &sp->mem;
	sp->persistent = false;
	sp->data_sectors = SPOOL_MEM_SECTORS - SPOOL_DATA_START;
}

const char *spool_state_name(enum spool_job_state s)
{
	static const char *const names[] = {"free",	"open", "queued",   "held",
					    "printing", "done", "cancelled"};
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

static void reset_tables(struct spool *sp)
{
	memset(sp->vms, 0, sizeof(sp->vms));
	memset(sp->jobs, 0, sizeof(sp->jobs));
	for (unsigned i = 0; i < SPOOL_MAX_VMS; i++) {
		sp->vms[i].sp = sp;
		sp->vms[i].open = -1;
	}
	sp->next_id = sp->next_order = 1;
	sp->seq = 0;
}

void spool_init(struct spool *sp, const struct blk_backend *disk, const struct spool_limits *lim,
		const struct spool_printer *printer)
{
	sp->lim = lim ? *lim : default_limits;
	if (!sp->lim.job_max)
		sp->lim.job_max = default_limits.job_max;
	if (!sp->lim.vm_quota)
		sp->lim.vm_quota = default_limits.vm_quota;
	if (!sp->lim.idle_ns)
		sp->lim.idle_ns = default_limits.idle_ns;
	sp->printer = printer;
	sp->paused = sp->broken = false;
	sp->cur = -1;
	sp->phase = PRINT_IDLE;
	sp->sector_lba = UINT32_MAX;
	sp->printed_bytes = 0;
	reset_tables(sp);
	if (disk && (disk->sectors < SPOOL_MIN_SECTORS || disk->read_only)) {
		pr_warn("spool: partition %s is %s: jobs kept in memory instead\n", disk->name,
			disk->read_only ? "read-only" : "too small");
		disk = NULL;
	}
	if (!disk) {
		use_memory(sp);
		spool_disk_format(sp);
		pr_info("spool: no spool partition: jobs kept in memory (%u KiB), lost at "
			"restart\n",
			SPOOL_MEM_SECTORS * BLK_SECTOR_SIZE / KIB);
		return;
	}
	sp->disk = disk;
	sp->persistent = true;
	sp->data_sectors = (u32)MIN(disk->sectors - SPOOL_DATA_START, 0xffffffffULL);
	if (!spool_disk_load(sp)) {
		reset_tables(sp);
		if (!spool_disk_format(sp)) {
			pr_err("spool: partition %s cannot be written: jobs kept in memory\n",
			       disk->name);
			use_memory(sp);
			spool_disk_format(sp);
		}
	}
}

void spool_set_printer(struct spool *sp, const struct spool_printer *printer)
{
	sp->printer = printer;
}

const struct spool_job *spool_job_by_id(const struct spool *sp, u32 id)
{
	for (unsigned i = 0; i < SPOOL_MAX_JOBS; i++)
		if (sp->jobs[i].state != JOB_FREE && sp->jobs[i].id == id)
			return &sp->jobs[i];
	return NULL;
}

static struct spool_job *job_by_id(struct spool *sp, u32 id)
{
	return (struct spool_job *)spool_job_by_id(sp, id);
}

/* A job whose extent is still in use (open, queued, held, printing). */
static bool holds_space(const struct spool_job *j)
{
	return j->state >= JOB_OPEN && j->state <= JOB_PRINTING;
}

/* A write to the backend failed: said once; from then on new jobs are refused, and the
 * whole jobs already there still print (reads may work). */
static void backend_failed(struct spool *sp, const char *what)
{
	if (sp->broken)
		return;
	pr_err("spool: writing %s to %s failed: no new jobs are taken\n", what, sp->disk->name);
	sp->broken = true;
}

static void commit(struct spool *sp)
{
	if (!sp->broken && !spool_disk_commit(sp))
		backend_failed(sp, "the job table");
}

/* ---- the VM side ---- */

static void vm_bytes(void *ctx, const u8 *buf, size_t n);
static void vm_end_job(void *ctx);

struct printer_sink spool_attach(struct spool *sp, const char *name)
{
	int free_slot = -1;
	for (unsigned i = 0; i < SPOOL_MAX_VMS; i++) {
		struct spool_vm *v = &sp->vms[i];
		if (v->used && !strcmp(v->name, name))
			return (struct printer_sink){vm_bytes, vm_end_job, v};
		if (!v->used && free_slot < 0)
			free_slot = (int)i;
	}
	if (free_slot < 0 || strlen(name) >= SPOOL_NAME_LEN) {
		pr_warn("spool: no room for vm %s's printer (at most %u VMs): it prints to "
			"nothing\n",
			name, SPOOL_MAX_VMS);
		return (struct printer_sink){0};
	}
	struct spool_vm *v = &sp->vms[free_slot];
	memset(v, 0, sizeof(*v));
	v->sp = sp;
	v->open = -1;
	v->used = true;
	kstrlcpy(v->name, name, sizeof(v->name));
	return (struct printer_sink){vm_bytes, vm_end_job, v};
}

static unsigned vm_index(const struct spool_vm *v)
{
	return (unsigned)(v - v->sp->vms);
}

/* Sectors the VM's jobs hold (the open one's whole reservation included) and their count. */
static u64 vm_usage(const struct spool *sp, unsigned vm, unsigned *njobs)
{
	u64 sect = 0;
	unsigned n = 0;
	for (unsigned i = 0; i < SPOOL_MAX_JOBS; i++) {
		const struct spool_job *j = &sp->jobs[i];
		if (holds_space(j) && j->vm == vm) {
			sect += j->nsect;
			n++;
		}
	}
	if (njobs)
		*njobs = n;
	return sect;
}

/* The first gap of `want` sectors in the data area, else the largest one; its size. */
static u32 find_space(const struct spool *sp, u32 want, u32 *start)
{
	u32 best_start = 0, best_len = 0, pos = 0;
	for (;;) {
		/* the extent in use that starts first at or after pos */
		const struct spool_job *next = NULL;
		for (unsigned i = 0; i < SPOOL_MAX_JOBS; i++) {
			const struct spool_job *j = &sp->jobs[i];
			if (holds_space(j) && j->nsect && j->start + j->nsect > pos &&
			    (!next || j->start < next->start))
				next = j;
		}
		u32 end = next ? MIN(next->start, sp->data_sectors) : sp->data_sectors;
		if (end > pos) {
			u32 len = end - pos;
			if (len >= want) {
				*start = pos;
				return want;
			}
			if (len > best_len) {
				best_len = len;
				best_start = pos;
			}
		}
		if (!next)
			break;
		pos = MAX(pos, next->start + next->nsect);
	}
	*start = best_start;
	return best_len;
}

/* A free table entry, reusing the oldest printed or cancelled one; -1 none. */
static int new_entry(struct spool *sp)
{
	int old = -1;
	for (unsigned i = 0; i < SPOOL_MAX_JOBS; i++) {
		struct spool_job *j = &sp->jobs[i];
		if (j->state == JOB_FREE)
			return (int)i;
		if ((j->state == JOB_DONE || j->state == JOB_CANCELLED) &&
		    (old < 0 || j->id < sp->jobs[old].id))
			old = (int)i;
	}
	return old;
}

static void refuse(struct spool_vm *v, const char *why)
{
	pr_warn("spool: vm %s: job refused: %s\n", v->name, why);
	v->refusing = true;
	v->refused_jobs++;
}

/* A new job for the VM: a table entry and an extent within its quota, or refused. */
static struct spool_job *open_job(struct spool_vm *v)
{
	struct spool *sp = v->sp;
	unsigned njobs;
	u64 used = vm_usage(sp, vm_index(v), &njobs) * BLK_SECTOR_SIZE;
	if (njobs >= SPOOL_VM_JOBS) {
		refuse(v, "it has the most jobs a VM may keep in the spool");
		return NULL;
	}
	if (used >= sp->lim.vm_quota) {
		refuse(v, "its jobs fill its quota");
		return NULL;
	}
	if (sp->broken) {
		refuse(v, "the spool's backend failed");
		return NULL;
	}
	int e = new_entry(sp);
	if (e < 0) {
		refuse(v, "the spool table is full");
		return NULL;
	}
	/* a small start: the extent grows as the job does (grow_job) */
	u32 want =
	    (u32)(MIN(MIN((u64)sp->lim.job_max, sp->lim.vm_quota - used), SPOOL_FIRST_EXTENT) /
		  BLK_SECTOR_SIZE);
	u32 start;
	u32 got = want ? find_space(sp, want, &start) : 0;
	if (!got) {
		refuse(v, "the spool area is full");
		return NULL;
	}
	struct spool_job *j = &sp->jobs[e];
	*j = (struct spool_job){
	    .id = sp->next_id++,
	    .state = JOB_OPEN,
	    .vm = (u8)vm_index(v),
	    .start = start,
	    .nsect = got,
	    .crc = 0,
	};
	v->open = e;
	v->tail_len = 0;
	/* the new next_id is kept, so that no id is given twice, even across a restart */
	commit(sp);
	return j;
}

static void write_data(struct spool *sp, const struct spool_job *j, u32 sector, const u8 *buf)
{
	if (!sp->broken &&
	    blk_write(sp->disk, SPOOL_DATA_START + (u64)j->start + sector, 1, buf) != BLK_OK)
		backend_failed(sp, "a job's data");
}

/* The job ends whole: its last sector written, its extent cut to its size, queued. */
static void finish_job(struct spool_vm *v)
{
	struct spool *sp = v->sp;
	struct spool_job *j = &sp->jobs[v->open];
	v->open = -1;
	if (!j->size) {
		j->state = JOB_FREE;
		return;
	}
	if (v->tail_len) {
		memset(v->tail + v->tail_len, 0, BLK_SECTOR_SIZE - v->tail_len);
		write_data(sp, j, j->size / BLK_SECTOR_SIZE, v->tail);
		v->tail_len = 0;
	}
	if (sp->disk->ops->flush && blk_flush(sp->disk) != BLK_OK)
		backend_failed(sp, "a job's data");
	if (sp->broken) {
		/* its bytes may not be on the backend: never print what was not kept */
		pr_err("spool: vm %s: job %u lost: the spool's backend failed\n", v->name, j->id);
		j->state = JOB_CANCELLED;
		v->refused_jobs++;
		return;
	}
	j->nsect = (j->size + BLK_SECTOR_SIZE - 1) / BLK_SECTOR_SIZE;
	j->state = JOB_QUEUED;
	j->order = sp->next_order++;
	commit(sp);
	pr_info("spool: vm %s: job %u queued (%u bytes%s)\n", v->name, j->id, j->size,
		j->truncated ? ", truncated" : "");
}

/* Free sectors right after the job's extent, up to the next extent or the area's end. */
static u32 room_after(const struct spool *sp, const struct spool_job *self)
{
	u32 end = self->start + self->nsect, limit = sp->data_sectors;
	for (unsigned i = 0; i < SPOOL_MAX_JOBS; i++) {
		const struct spool_job *j = &sp->jobs[i];
		if (j != self && holds_space(j) && j->nsect && j->start >= end)
			limit = MIN(limit, j->start);
	}
	return limit - end;
}

/* The open job filled its extent: it doubles (within the job limit and the VM's quota),
 * in place when the sectors after it are free, else moved to a gap that holds it. */
static bool grow_job(struct spool_vm *v, struct spool_job *j)
{
	struct spool *sp = v->sp;
	u64 quota = sp->lim.vm_quota / BLK_SECTOR_SIZE, used = vm_usage(sp, vm_index(v), NULL);
	u32 want = (u32)MIN(MIN((u64)j->nsect * 2, (u64)sp->lim.job_max / BLK_SECTOR_SIZE),
			    j->nsect + (quota > used ? quota - used : 0));
	if (want <= j->nsect)
		return false;
	u32 room = room_after(sp, j);
	if (room) {
		j->nsect += MIN(room, want - j->nsect);
		return true;
	}
	u32 start, got = find_space(sp, want, &start);
	if (got <= j->nsect)
		return false;
	/* every sector so far is on the backend (the tail is empty at a sector's end) */
	for (u32 s = 0; s < j->nsect; s++) {
		if (sp->broken ||
		    blk_read(sp->disk, SPOOL_DATA_START + (u64)j->start + s, 1, v->tail) !=
			BLK_OK ||
		    blk_write(sp->disk, SPOOL_DATA_START + (u64)start + s, 1, v->tail) != BLK_OK) {
			pr_err("spool: vm %s: job %u: moving its data failed\n", v->name, j->id);
			return false;
		}
	}
	j->start = start;
	j->nsect = got;
	return true;
}

static void job_byte(struct spool_vm *v, struct spool_job *j, u8 c)
{
	struct spool *sp = v->sp;
	if (j->size == j->nsect * BLK_SECTOR_SIZE && (j->truncated || !grow_job(v, j))) {
		if (!j->truncated) {
			pr_warn("spool: vm %s: job %u truncated at %u bytes (%s)\n", v->name, j->id,
				j->size,
				j->size >= sp->lim.job_max ? "the most a job may hold"
							   : "its quota or the spool is full");
			j->truncated = true;
			v->truncated_jobs++;
		}
		v->dropped_bytes++;
		return;
	}
	v->tail[v->tail_len++] = c;
	j->crc = spool_crc32(j->crc, &c, 1);
	j->size++;
	if (v->tail_len == BLK_SECTOR_SIZE) {
		write_data(sp, j, j->size / BLK_SECTOR_SIZE - 1, v->tail);
		v->tail_len = 0;
	}
}

static void vm_bytes(void *ctx, const u8 *buf, size_t n)
{
	struct spool_vm *v = ctx;
	struct spool *sp = v->sp;
	for (size_t i = 0; i < n; i++) {
		if (v->refusing) {
			v->dropped_bytes++;
			/* a form feed ends the refused job too */
			if (buf[i] == SPOOL_FORM_FEED)
				v->refusing = false;
			continue;
		}
		if (v->open < 0 && !open_job(v)) {
			v->dropped_bytes++;
			if (buf[i] == SPOOL_FORM_FEED)
				v->refusing = false;
			continue;
		}
		job_byte(v, &sp->jobs[v->open], buf[i]);
		/* the form feed ends the job, itself included */
		if (buf[i] == SPOOL_FORM_FEED)
			finish_job(v);
	}
}

static void vm_end_job(void *ctx)
{
	struct spool_vm *v = ctx;
	v->refusing = false;
	if (v->open >= 0)
		finish_job(v);
}

void spool_vm_closed(struct spool *sp, const char *name)
{
	for (unsigned i = 0; i < SPOOL_MAX_VMS; i++)
		if (sp->vms[i].used && !strcmp(sp->vms[i].name, name))
			vm_end_job(&sp->vms[i]);
}

/* ---- the printer side ---- */

static int next_job(const struct spool *sp)
{
	int best = -1;
	for (unsigned i = 0; i < SPOOL_MAX_JOBS; i++) {
		const struct spool_job *j = &sp->jobs[i];
		if (j->state == JOB_QUEUED && (best < 0 || j->order < sp->jobs[best].order))
			best = (int)i;
	}
	return best;
}

bool spool_busy(const struct spool *sp)
{
	return !sp->paused && sp->printer && (sp->cur >= 0 || next_job(sp) >= 0);
}

static void start_job(struct spool *sp, int idx)
{
	struct spool_job *j = &sp->jobs[idx];
	j->state = JOB_PRINTING;
	sp->cur = idx;
	sp->phase = PRINT_BANNER;
	sp->off = 0;
	sp->sector_lba = UINT32_MAX;
	int n = ksnprintf(sp->text, sizeof(sp->text),
			  "\n==== Keel print spool ====\nvm: %s\njob: %u\nbytes: %u%s\n"
			  "==== end of banner ====\n\f",
			  sp->vms[j->vm].name, j->id, j->size, j->truncated ? " (truncated)" : "");
	sp->text_len = (u32)MIN((u32)n, (u32)sizeof(sp->text) - 1);
}

static void end_job(struct spool *sp, enum spool_job_state to)
{
	struct spool_job *j = &sp->jobs[sp->cur];
	j->state = to;
	if (to == JOB_DONE) {
		sp->vms[j->vm].printed_jobs++;
		pr_info("spool: job %u of vm %s printed (%u bytes)\n", j->id, sp->vms[j->vm].name,
			j->size);
	}
	sp->cur = -1;
	sp->phase = PRINT_IDLE;
	commit(sp);
}

/* The next byte of the job being printed; false after an I/O error ended it. */
static bool data_byte(struct spool *sp, u8 *c)
{
	struct spool_job *j = &sp->jobs[sp->cur];
	u32 s = sp->off / BLK_SECTOR_SIZE;
	if (sp->sector_lba != s) {
		if (blk_read(sp->disk, SPOOL_DATA_START + (u64)j->start + s, 1, sp->sector) !=
		    BLK_OK) {
			pr_err("spool: job %u: reading its data failed: cancelled\n", j->id);
			return false;
		}
		sp->sector_lba = s;
	}
	*c = sp->sector[sp->off % BLK_SECTOR_SIZE];
	return true;
}

u32 spool_print(struct spool *sp, u32 budget)
{
	u32 sent = 0;
	while (sent < budget && !sp->paused && sp->printer) {
		if (sp->cur < 0) {
			int idx = next_job(sp);
			if (idx < 0)
				break;
			start_job(sp, idx);
		}
		struct spool_job *j = &sp->jobs[sp->cur];
		u8 c;
		if (sp->phase == PRINT_BANNER || sp->phase == PRINT_CANCEL_NOTE) {
			if (sp->off == sp->text_len) {
				if (sp->phase == PRINT_CANCEL_NOTE) {
					end_job(sp, JOB_CANCELLED);
					continue;
				}
				sp->phase = PRINT_DATA;
				sp->off = 0;
				continue;
			}
			c = (u8)sp->text[sp->off];
		} else {
			if (sp->off == j->size) {
				end_job(sp, JOB_DONE);
				continue;
			}
			if (!data_byte(sp, &c)) {
				end_job(sp, JOB_CANCELLED);
				continue;
			}
		}
		if (!sp->printer->put(sp->printer->ctx, c))
			break; /* busy: the same byte next time */
		sp->off++;
		sent++;
		sp->printed_bytes++;
	}
	return sent;
}

/* ---- the shell's actions ---- */

const char *spool_hold(struct spool *sp, u32 id)
{
	struct spool_job *j = job_by_id(sp, id);
	if (!j)
		return "no such job";
	if (j->state == JOB_HELD)
		return "it is held already";
	if (j->state == JOB_OPEN)
		return "it is still open (its VM is printing it): hold it once it is queued";
	if (j->state != JOB_QUEUED)
		return "only a queued job can be held";
	j->state = JOB_HELD;
	commit(sp);
	return NULL;
}

const char *spool_release(struct spool *sp, u32 id)
{
	struct spool_job *j = job_by_id(sp, id);
	if (!j)
		return "no such job";
	if (j->state != JOB_HELD)
		return "it is not held";
	/* it keeps its place in the spool order */
	j->state = JOB_QUEUED;
	commit(sp);
	return NULL;
}

const char *spool_cancel(struct spool *sp, u32 id)
{
	struct spool_job *j = job_by_id(sp, id);
	if (!j)
		return "no such job";
	switch (j->state) {
	case JOB_OPEN: {
		/* the VM's later bytes of this job are dropped until it ends */
		struct spool_vm *v = &sp->vms[j->vm];
		j->state = JOB_CANCELLED;
		v->open = -1;
		v->tail_len = 0;
		v->refusing = true;
		return NULL;
	}
	case JOB_QUEUED:
	case JOB_HELD:
		j->state = JOB_CANCELLED;
		commit(sp);
		return NULL;
	case JOB_PRINTING:
		/* a line on the paper says why the job stops short, and the page is ejected */
		sp->phase = PRINT_CANCEL_NOTE;
		sp->off = 0;
		sp->text_len = (u32)MIN(
		    (u32)ksnprintf(sp->text, sizeof(sp->text),
				   "\n==== job %u cancelled by the operator ====\n\f", j->id),
		    (u32)sizeof(sp->text) - 1);
		return NULL;
	default:
		return "it has ended already";
	}
}

void spool_pause(struct spool *sp, bool paused)
{
	sp->paused = paused;
}

void spool_list(const struct spool *sp)
{
	unsigned nvms = 0;
	kprintf("spool: %s, printer %s%s\n",
		sp->persistent ? sp->disk->name : "in memory (not kept across a restart)",
		!sp->printer ? "absent"
		: sp->paused ? "paused"
			     : "running",
		sp->broken ? ", backend failed (no new jobs)" : "");
	for (unsigned i = 0; i < SPOOL_MAX_VMS; i++) {
		const struct spool_vm *v = &sp->vms[i];
		if (!v->used)
			continue;
		nvms++;
		unsigned njobs;
		u64 sect = vm_usage(sp, i, &njobs);
		kprintf("vm %s: %u jobs, %llu KiB of %u KiB, %llu printed, %llu refused, %llu "
			"truncated\n",
			v->name, njobs, (unsigned long long)(sect * BLK_SECTOR_SIZE / KIB),
			sp->lim.vm_quota / KIB, (unsigned long long)v->printed_jobs,
			(unsigned long long)v->refused_jobs, (unsigned long long)v->truncated_jobs);
		for (u32 last = 0;;) {
			/* this VM's jobs by id (the order they were started) */
			const struct spool_job *next = NULL;
			for (unsigned k = 0; k < SPOOL_MAX_JOBS; k++) {
				const struct spool_job *j = &sp->jobs[k];
				if (j->state != JOB_FREE && j->vm == i && j->id > last &&
				    (!next || j->id < next->id))
					next = j;
			}
			if (!next)
				break;
			kprintf("  job %-5u %-9s %8u bytes", next->id,
				spool_state_name(next->state), next->size);
			if (next->order)
				kprintf("  order %u", next->order);
			if (next->truncated)
				kprintf("  truncated");
			kprintf("\n");
			last = next->id;
		}
	}
	if (!nvms)
		kprintf("no VM has a printer\n");
}
