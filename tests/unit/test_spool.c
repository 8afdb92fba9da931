/* The spool (devices/spool.c, spool_disk.c): job boundaries (form feed, close, idle), the
 * spool order and whole jobs on the printer, hold/release/cancel, the on-disk form kept
 * across a restart, damaged areas detected and never trusted, and the quotas. */
#include "spool_fake.h"
#include "../../devices/lpt.h"
#include <stdio.h>

static struct spool *spool_new(const struct blk_backend *disk, const struct spool_limits *lim,
			       struct paper *paper)
{
	struct spool *sp = test_alloc(sizeof(*sp));
	spool_init(sp, disk, lim, paper ? printer_new(paper) : NULL);
	return sp;
}

/* Keel restarts: a new spool over the same disk; what it said on loading is in
 * test_console(). */
static struct spool *restart(const struct blk_backend *disk, struct paper *paper)
{
	test_console_clear();
	return spool_new(disk, NULL, paper);
}

static size_t banner(char *out, size_t size, const char *vm, u32 id, u32 bytes, bool trunc)
{
	return (size_t)snprintf(out, size,
				"\n==== Keel print spool ====\nvm: %s\njob: %u\nbytes: %u%s\n"
				"==== end of banner ====\n\f",
				vm, id, bytes, trunc ? " (truncated)" : "");
}

/* Appends banner + data of one job to an expected printout. */
static void expect_job(char *exp, size_t *len, const char *vm, u32 id, const char *data)
{
	*len += banner(exp + *len, 4096, vm, id, (u32)strlen(data), false);
	memcpy(exp + *len, data, strlen(data));
	*len += strlen(data);
}

static void check_paper(const struct paper *p, const char *exp, size_t len)
{
	CHECK_EQ(p->len, len);
	if (p->len == len && memcmp(p->buf, exp, len)) {
		test_fail(__FILE__, __LINE__, "the printout differs from what was expected");
		fprintf(stderr, "got:\n%.*s\nwanted:\n%.*s\n", (int)p->len, p->buf, (int)len, exp);
	}
}

TEST(spool_form_feed_and_close_end_jobs)
{
	struct paper *p = paper_new(1 << 16);
	struct spool *sp = spool_new(NULL, NULL, p);
	CHECK_CONTAINS(test_console(), "spool: no spool partition: jobs kept in memory (512 KiB)");
	struct printer_sink a = spool_attach(sp, "alpha");
	send(&a, "page one\f");
	const struct spool_job *j = spool_job_by_id(sp, 1);
	REQUIRE(j);
	CHECK_EQ(j->state, JOB_QUEUED);
	CHECK_EQ(j->size, 9); /* the form feed belongs to the job */
	send(&a, "second");
	CHECK_EQ(spool_job_by_id(sp, 2)->state, JOB_OPEN);
	printer_end_job(&a);
	CHECK_EQ(spool_job_by_id(sp, 2)->state, JOB_QUEUED);
	/* an end with nothing printed makes no job */
	printer_end_job(&a);
	CHECK(!spool_job_by_id(sp, 3));
	print_all(sp);
	char exp[4096];
	size_t len = 0;
	expect_job(exp, &len, "alpha", 1, "page one\f");
	expect_job(exp, &len, "alpha", 2, "second");
	check_paper(p, exp, len);
	CHECK_EQ(spool_job_by_id(sp, 1)->state, JOB_DONE);
	CHECK_EQ(spool_job_by_id(sp, 2)->state, JOB_DONE);
}

TEST(spool_idle_timeout_of_the_lpt_ends_a_job)
{
	struct spool *sp = spool_new(NULL, NULL, paper_new(4096));
	struct printer_sink s = spool_attach(sp, "vm1");
	u64 now_ns = 0;
	struct lpt *l = test_alloc(sizeof(*l));
	lpt_init(l, &s, NULL, NULL, 2000000000ULL);
	struct io_access wr = {LPT1_BASE, 1, true, 'x'};
	lpt_access(l, &wr);
	wr = (struct io_access){LPT1_BASE + 2, 1, true, 0x0d};
	lpt_access(l, &wr);
	wr.value = 0x0c;
	lpt_access(l, &wr);
	CHECK_EQ(spool_job_by_id(sp, 1)->state, JOB_OPEN);
	struct dev_time t = {0, now_ns, 1000000000ULL};
	CHECK_EQ(lpt_next_event(l, &t), 2000000000ULL);
	t.ns = 1999999999;
	lpt_update(l, &t);
	CHECK_EQ(spool_job_by_id(sp, 1)->state, JOB_OPEN);
	t.ns = 2000000000;
	lpt_update(l, &t);
	CHECK_EQ(spool_job_by_id(sp, 1)->state, JOB_QUEUED);
	CHECK_EQ(lpt_next_event(l, &t), UINT64_MAX);
	CHECK_EQ(l->jobs_ended_idle, 1);
}

TEST(spool_interleaved_vms_print_whole_jobs_in_spool_order)
{
	struct paper *p = paper_new(1 << 16);
	p->busy_every = 7; /* a slow printer changes nothing */
	struct spool *sp = spool_new(ramdisk_new(4096), NULL, p);
	struct printer_sink s[3] = {spool_attach(sp, "a"), spool_attach(sp, "b"),
				    spool_attach(sp, "c")};
	/* every VM starts a job, then bytes arrive interleaved; the order of completion is
	 * b's first job, a's, c's, then b's second */
	char data[3][2][700];
	for (unsigned v = 0; v < 3; v++)
		for (unsigned k = 0; k < 2; k++) {
			for (unsigned i = 0; i < sizeof(data[v][k]) - 1; i++)
				data[v][k][i] = (char)('a' + (v * 7 + k * 3 + i) % 26);
			data[v][k][sizeof(data[v][k]) - 1] = 0;
		}
	for (unsigned i = 0; i < 699; i++)
		for (unsigned v = 0; v < 3; v++)
			printer_bytes(&s[v], (const u8 *)&data[v][0][i], 1);
	/* while the first jobs are open nothing is printed */
	CHECK(!spool_busy(sp));
	printer_end_job(&s[1]);
	spool_print(sp, 100); /* b's first job starts printing */
	send(&s[1], data[1][1]);
	printer_end_job(&s[0]);
	printer_end_job(&s[2]);
	printer_end_job(&s[1]);
	print_all(sp);
	char *exp = test_alloc(1 << 16);
	size_t len = 0;
	expect_job(exp, &len, "b", 2, data[1][0]);
	expect_job(exp, &len, "a", 1, data[0][0]);
	expect_job(exp, &len, "c", 3, data[2][0]);
	expect_job(exp, &len, "b", 4, data[1][1]);
	check_paper(p, exp, len);
}

TEST(spool_print_is_bounded_per_call)
{
	struct paper *p = paper_new(1 << 16);
	struct spool *sp = spool_new(NULL, NULL, p);
	struct printer_sink s = spool_attach(sp, "vm");
	char big[5000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	send(&s, big);
	printer_end_job(&s);
	CHECK_EQ(spool_print(sp, 100), 100);
	CHECK_EQ(p->len, 100);
	unsigned calls = 1;
	while (spool_busy(sp) && calls < 1000) {
		CHECK(spool_print(sp, 100) <= 100);
		calls++;
	}
	CHECK(calls > 50);
	CHECK(!spool_busy(sp));
}

TEST(spool_hold_release_and_cancel)
{
	struct paper *p = paper_new(1 << 16);
	struct spool *sp = spool_new(ramdisk_new(2048), NULL, p);
	struct printer_sink s = spool_attach(sp, "vm");
	send(&s, "one\f");
	send(&s, "two\f");
	send(&s, "three\f");
	send(&s, "open");
	CHECK_STR(spool_hold(sp, 4), "it is still open (its VM is printing it): hold it once "
				     "it is queued");
	CHECK_STR(spool_hold(sp, 99), "no such job");
	CHECK(spool_hold(sp, 1) == NULL);
	CHECK_STR(spool_hold(sp, 1), "it is held already");
	CHECK(spool_cancel(sp, 2) == NULL);
	CHECK_STR(spool_cancel(sp, 2), "it has ended already");
	CHECK_STR(spool_release(sp, 3), "it is not held");
	/* a cancelled open job takes no more bytes, up to its end */
	CHECK(spool_cancel(sp, 4) == NULL);
	send(&s, " more of four\f");
	send(&s, "five\f");
	print_all(sp);
	char exp[4096];
	size_t len = 0;
	expect_job(exp, &len, "vm", 3, "three\f");
	expect_job(exp, &len, "vm", 5, "five\f");
	check_paper(p, exp, len);
	CHECK_EQ(spool_job_by_id(sp, 1)->state, JOB_HELD);
	/* released, it prints in its own place of the order: before any later job */
	send(&s, "six\f");
	CHECK(spool_release(sp, 1) == NULL);
	print_all(sp);
	expect_job(exp, &len, "vm", 1, "one\f");
	expect_job(exp, &len, "vm", 6, "six\f");
	check_paper(p, exp, len);
}

TEST(spool_cancel_while_printing_ejects_the_page)
{
	struct paper *p = paper_new(1 << 16);
	struct spool *sp = spool_new(NULL, NULL, p);
	struct printer_sink s = spool_attach(sp, "vm");
	send(&s, "0123456789\f");
	send(&s, "next\f");
	char b[256];
	size_t bl = banner(b, sizeof(b), "vm", 1, 11, false);
	spool_print(sp, (u32)bl + 4);
	CHECK_EQ(spool_job_by_id(sp, 1)->state, JOB_PRINTING);
	CHECK(spool_hold(sp, 1) != NULL);
	CHECK(spool_cancel(sp, 1) == NULL);
	print_all(sp);
	char exp[4096];
	memcpy(exp, b, bl);
	size_t len = bl;
	len +=
	    (size_t)snprintf(exp + len, 256, "0123\n==== job 1 cancelled by the operator ====\n\f");
	expect_job(exp, &len, "vm", 2, "next\f");
	check_paper(p, exp, len);
	CHECK_EQ(spool_job_by_id(sp, 1)->state, JOB_CANCELLED);
}

TEST(spool_printer_pause_and_resume)
{
	struct paper *p = paper_new(4096);
	struct spool *sp = spool_new(NULL, NULL, p);
	struct printer_sink s = spool_attach(sp, "vm");
	send(&s, "x\f");
	spool_pause(sp, true);
	CHECK(!spool_busy(sp));
	CHECK_EQ(spool_print(sp, 1000), 0);
	CHECK_EQ(p->len, 0);
	spool_pause(sp, false);
	print_all(sp);
	CHECK_EQ(spool_job_by_id(sp, 1)->state, JOB_DONE);
}

TEST(spool_jobs_survive_a_restart_on_disk)
{
	struct blk_backend *disk = ramdisk_new(4096);
	struct spool *sp = spool_new(disk, NULL, NULL);
	CHECK_CONTAINS(test_console(), "spool: partition spool0 is blank: formatted");
	struct printer_sink a = spool_attach(sp, "a"), b = spool_attach(sp, "b");
	char big[1500];
	for (unsigned i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)(' ' + i % 90);
	big[sizeof(big) - 1] = 0;
	send(&a, big);
	send(&b, "b one\f");
	printer_end_job(&a);
	send(&b, "b two\f");
	CHECK(spool_hold(sp, 3) == NULL);
	send(&a, "never whole"); /* open when Keel stops: not kept */
	/* Keel restarts: a new spool over the same disk */
	struct paper *p = paper_new(1 << 16);
	struct spool *sp2 = restart(disk, p);
	CHECK_CONTAINS(test_console(), "spool: partition spool0: 3 jobs kept from before");
	CHECK_EQ(spool_job_by_id(sp2, 3)->state, JOB_HELD);
	CHECK(!spool_job_by_id(sp2, 4));
	struct printer_sink a2 = spool_attach(sp2, "a");
	send(&a2, "new\f");
	print_all(sp2);
	char *exp = test_alloc(1 << 16);
	size_t len = 0;
	expect_job(exp, &len, "b", 2, "b one\f");
	expect_job(exp, &len, "a", 1, big);
	expect_job(exp, &len, "a", 5, "new\f");
	check_paper(p, exp, len);
	CHECK(spool_release(sp2, 3) == NULL);
	print_all(sp2);
	expect_job(exp, &len, "b", 3, "b two\f");
	check_paper(p, exp, len);
}

TEST(spool_job_being_printed_at_a_restart_prints_again_whole)
{
	struct blk_backend *disk = ramdisk_new(1024);
	struct paper *p = paper_new(4096);
	struct spool *sp = spool_new(disk, NULL, p);
	struct printer_sink a = spool_attach(sp, "a");
	send(&a, "interrupted job\f");
	spool_print(sp, 80);
	CHECK_EQ(spool_job_by_id(sp, 1)->state, JOB_PRINTING);
	struct paper *p2 = paper_new(4096);
	struct spool *sp2 = spool_new(disk, NULL, p2);
	print_all(sp2);
	char exp[1024];
	size_t len = 0;
	expect_job(exp, &len, "a", 1, "interrupted job\f");
	check_paper(p2, exp, len);
}

static void corrupt(const struct blk_backend *disk, u64 sector, unsigned byte)
{
	ramdisk_of(disk)->data[sector * BLK_SECTOR_SIZE + byte] ^= 0x40;
}

/* A spool on a fresh RAM disk of `sectors` (in *disk) where vm a queued `text`. */
static struct spool *spool_with(struct blk_backend **disk, u64 sectors, const char *text)
{
	*disk = ramdisk_new(sectors);
	struct spool *sp = spool_new(*disk, NULL, NULL);
	struct printer_sink a = spool_attach(sp, "a");
	send(&a, text);
	return sp;
}

TEST(spool_torn_table_copy_falls_back_to_the_other)
{
	struct blk_backend *disk;
	struct spool *sp = spool_with(&disk, 1024, "kept\f");
	/* the newest copy's table is damaged (a write torn half-way): the older copy, written
	 * before this job was queued, is the one to trust */
	u64 newest = sp->seq % 2;
	corrupt(disk, newest * SPOOL_COPY_SECTORS + 3, 10);
	struct spool *sp2 = restart(disk, NULL);
	CHECK_CONTAINS(test_console(), "table copy");
	CHECK_CONTAINS(test_console(), "damaged (job table checksum wrong; a torn write?)");
	CHECK(!spool_job_by_id(sp2, 1));
	/* and the spool goes on: the damaged copy is overwritten by the next commit */
	struct printer_sink a2 = spool_attach(sp2, "a");
	send(&a2, "after\f");
	struct spool *sp3 = restart(disk, NULL);
	CHECK(!strstr(test_console(), "damaged"));
	CHECK_EQ(spool_job_by_id(sp3, sp2->next_id - 1)->state, JOB_QUEUED);
}

TEST(spool_corrupt_area_is_reported_and_not_trusted)
{
	struct blk_backend *disk;
	spool_with(&disk, 1024, "x\f");
	corrupt(disk, 0, 20);
	corrupt(disk, SPOOL_COPY_SECTORS, 20);
	struct spool *sp2 = restart(disk, NULL);
	CHECK_CONTAINS(test_console(), "spool: partition spool0 holds no trustworthy job table "
				       "(copy 0: header checksum wrong; copy 1: header checksum "
				       "wrong): not trusted, formatted anew, its jobs are lost");
	CHECK(!spool_job_by_id(sp2, 1));
	/* formatted: it works and is kept again */
	struct printer_sink a2 = spool_attach(sp2, "a");
	send(&a2, "y\f");
	struct spool *sp3 = spool_new(disk, NULL, NULL);
	CHECK(spool_job_by_id(sp3, 1) != NULL);

	/* random garbage over the whole area never yields a job */
	u64 rng = 0x1234567;
	for (u64 i = 0; i < 1024 * BLK_SECTOR_SIZE; i++)
		ramdisk_of(disk)->data[i] = (u8)test_rng(&rng);
	struct spool *sp4 = restart(disk, NULL);
	CHECK_CONTAINS(test_console(), "copy 0: no spool magic; copy 1: no spool magic");
	CHECK(!spool_job_by_id(sp4, 1));
}

TEST(spool_entry_with_a_good_checksum_but_bad_extent_is_refused)
{
	/* a table whose checksums hold but whose entry points outside the area (a bug or a
	 * forged disk) is not trusted either */
	struct blk_backend *disk;
	struct spool *sp = spool_with(&disk, 256, "x\f");
	sp->jobs[0].start = sp->data_sectors; /* beyond the end */
	CHECK(spool_disk_commit(sp));
	CHECK(spool_disk_commit(sp));
	struct spool *sp2 = restart(disk, NULL);
	CHECK_CONTAINS(test_console(), "a job entry is inconsistent");
	CHECK(!spool_job_by_id(sp2, 1));
}

TEST(spool_damaged_job_data_is_dropped)
{
	struct blk_backend *disk;
	struct spool *sp = spool_with(&disk, 1024, "good\fbad\f");
	const struct spool_job *bad = spool_job_by_id(sp, 2);
	corrupt(disk, SPOOL_DATA_START + bad->start, 1);
	struct paper *p = paper_new(4096);
	struct spool *sp2 = restart(disk, p);
	CHECK_CONTAINS(test_console(), "spool: job 2 of vm a: its data is damaged: dropped");
	print_all(sp2);
	char exp[1024];
	size_t len = 0;
	expect_job(exp, &len, "a", 1, "good\f");
	check_paper(p, exp, len);
}

TEST(spool_job_limit_truncates_and_quota_refuses)
{
	struct spool_limits lim = {.job_max = 1024, .vm_quota = 2048, .idle_ns = 1};
	struct paper *p = paper_new(1 << 16);
	struct spool *sp = spool_new(ramdisk_new(1024), &lim, p);
	struct printer_sink a = spool_attach(sp, "a"), b = spool_attach(sp, "b");
	char big[3000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	send(&a, big);
	CHECK_CONTAINS(test_console(), "spool: vm a: job 1 truncated at 1024 bytes (the most a "
				       "job may hold)");
	printer_end_job(&a);
	const struct spool_job *j = spool_job_by_id(sp, 1);
	CHECK_EQ(j->size, 1024);
	CHECK(j->truncated);
	send(&a, big);
	printer_end_job(&a);
	/* the third job finds a's quota full: refused, its bytes dropped, up to its end */
	test_console_clear();
	send(&a, "refused\fnext");
	CHECK_CONTAINS(test_console(), "spool: vm a: job refused: its jobs fill its quota");
	CHECK(!spool_job_by_id(sp, 3));
	CHECK_EQ(sp->vms[0].refused_jobs, 2); /* "next" was refused too */
	/* b has a quota of its own */
	send(&b, "b\f");
	CHECK_EQ(spool_job_by_id(sp, 3)->state, JOB_QUEUED);
	/* printed jobs give their space back */
	print_all(sp);
	printer_end_job(&a);
	send(&a, "again\f");
	CHECK_EQ(spool_job_by_id(sp, 4)->state, JOB_QUEUED);
	test_console_clear();
	spool_list(sp);
	CHECK_CONTAINS(test_console(), "vm a: 1 jobs");
	CHECK_CONTAINS(test_console(), "  job 1     done          1024 bytes  order 1  truncated");
}

TEST(spool_full_area_and_table_refuse_without_harm)
{
	struct spool_limits lim = {.job_max = 64 * 1024, .vm_quota = 1 << 30, .idle_ns = 1};
	struct spool *sp = spool_new(ramdisk_new(SPOOL_DATA_START + 64), &lim, NULL);
	struct printer_sink s = spool_attach(sp, "a");
	char big[40000];
	memset(big, 'w', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	send(&s, big); /* 32 KiB of area: truncated there */
	printer_end_job(&s);
	CHECK_EQ(spool_job_by_id(sp, 1)->size, 64 * BLK_SECTOR_SIZE);
	send(&s, "no room\f");
	CHECK_CONTAINS(test_console(), "job refused: the spool area is full");
	/* the VM's per-VM job count */
	struct spool *sp2 = spool_new(NULL, NULL, NULL);
	struct printer_sink t = spool_attach(sp2, "t");
	for (unsigned i = 0; i < SPOOL_VM_JOBS + 3; i++)
		send(&t, "j\f");
	CHECK_CONTAINS(test_console(), "it has the most jobs a VM may keep in the spool");
	CHECK_EQ(sp2->vms[0].refused_jobs, 3);
	/* more VMs than the system table holds: the extra ones print to nothing */
	for (unsigned i = 0; i < SPOOL_MAX_VMS + 2; i++) {
		char name[8];
		snprintf(name, sizeof(name), "v%u", i);
		struct printer_sink x = spool_attach(sp2, name);
		send(&x, "z\f");
	}
	CHECK_CONTAINS(test_console(), "spool: no room for vm v15's printer");
}

TEST(spool_failing_backend_keeps_going)
{
	struct blk_backend *disk = ramdisk_new(512);
	struct paper *p = paper_new(4096);
	struct spool *sp = spool_new(disk, NULL, p);
	struct printer_sink s = spool_attach(sp, "a");
	send(&s, "kept\f");
	ramdisk_of(disk)->fail_writes = true;
	send(&s, "lost");
	printer_end_job(&s);
	CHECK_CONTAINS(test_console(), "spool: writing the job table to spool0 failed: no new jobs "
				       "are taken");
	CHECK_CONTAINS(test_console(), "spool: vm a: job 2 lost: the spool's backend failed");
	CHECK(sp->broken);
	CHECK_EQ(spool_job_by_id(sp, 2)->state, JOB_CANCELLED);
	send(&s, "refused\f");
	CHECK_CONTAINS(test_console(), "spool: vm a: job refused: the spool's backend failed");
	/* the job kept before the failure still prints; the hypervisor goes on */
	print_all(sp);
	char exp[1024];
	size_t len = 0;
	expect_job(exp, &len, "a", 1, "kept\f");
	check_paper(p, exp, len);
	/* a disk that was read-only from the start: memory */
	struct blk_backend *ro = ramdisk_new(512);
	ro->read_only = true;
	test_console_clear();
	struct spool *sp2 = spool_new(ro, NULL, NULL);
	CHECK_CONTAINS(test_console(), "spool: partition spool0 is read-only: jobs kept in memory");
	CHECK(!sp2->persistent);
}

TEST(spool_failing_data_write_loses_only_that_job)
{
	struct blk_backend *disk = ramdisk_new(512);
	struct paper *p = paper_new(1 << 14);
	struct spool *sp = spool_new(disk, NULL, p);
	struct printer_sink s = spool_attach(sp, "a");
	ramdisk_of(disk)->fail_data = SPOOL_DATA_START;
	char big[1200];
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	send(&s, big);
	printer_end_job(&s);
	CHECK_CONTAINS(test_console(), "spool: writing a job's data to spool0 failed");
	CHECK_EQ(spool_job_by_id(sp, 1)->state, JOB_CANCELLED);
	print_all(sp);
	CHECK_EQ(p->len, 0); /* nothing that was not kept is printed */
}

TEST(spool_list_shows_the_two_level_table)
{
	struct spool *sp = spool_new(NULL, NULL, paper_new(4096));
	struct printer_sink a = spool_attach(sp, "alpha"), b = spool_attach(sp, "beta");
	send(&a, "12345\f");
	send(&b, "open");
	test_console_clear();
	spool_list(sp);
	CHECK_STR(test_console(),
		  "spool: in memory (not kept across a restart), printer running\n"
		  "vm alpha: 1 jobs, 0 KiB of 1024 KiB, 0 printed, 0 refused, 0 truncated\n"
		  "  job 1     queued           6 bytes  order 1\n"
		  "vm beta: 1 jobs, 16 KiB of 1024 KiB, 0 printed, 0 refused, 0 truncated\n"
		  "  job 2     open             4 bytes\n");
}

TEST(spool_open_jobs_grow_and_move_without_losing_a_byte)
{
	/* three VMs send 100 KiB jobs at once, 300 bytes at a time: their extents start small,
	 * collide and move, and every job still prints whole (memory: 512 KiB in all) */
	struct paper *p = paper_new(400 * 1024);
	struct spool *sp = spool_new(NULL, NULL, p);
	const char *names[3] = {"x", "y", "z"};
	struct printer_sink s[3];
	static char data[3][100 * 1024 + 1];
	for (unsigned v = 0; v < 3; v++) {
		s[v] = spool_attach(sp, names[v]);
		for (unsigned i = 0; i < sizeof(data[v]) - 1; i++)
			data[v][i] = (char)('0' + (i / 7 + v * 13 + i % 11) % 64);
	}
	for (unsigned off = 0; off < sizeof(data[0]) - 1; off += 300)
		for (unsigned v = 0; v < 3; v++)
			printer_bytes(&s[v], (const u8 *)data[v] + off,
				      MIN(300u, (unsigned)sizeof(data[v]) - 1 - off));
	for (unsigned v = 0; v < 3; v++) {
		printer_end_job(&s[v]);
		const struct spool_job *j = spool_job_by_id(sp, v + 1);
		REQUIRE(j);
		CHECK_EQ(j->size, sizeof(data[v]) - 1);
		CHECK(!j->truncated);
	}
	CHECK(!strstr(test_console(), "truncated"));
	print_all(sp);
	char *exp = test_alloc(400 * 1024);
	size_t len = 0;
	for (unsigned v = 0; v < 3; v++) {
		len += banner(exp + len, 4096, names[v], v + 1, (u32)strlen(data[v]), false);
		memcpy(exp + len, data[v], strlen(data[v]));
		len += strlen(data[v]);
	}
	check_paper(p, exp, len);
}
