/* GPT and MBR parsing: names, numbers and sizes of a good table, the backup GPT when the
 * primary is damaged, and every hostile field refused with a reason (never a crash, never a
 * partition outside the disk or over another). */
#include "part_fake.h"
#include "../../hypervisor/lib.h"

#define DISK_SECTORS 4096

static const struct gpt_part_spec three[] = {
    {34, 1057, "vm1", 0},
    {1058, 2081, "spool", 1},
    {2082, 4061, "caf\xe9", 3}, /* slot 2 empty: the number follows the slot */
};

static struct blk_backend gpt_disk(struct ramdisk_img *r)
{
	struct blk_backend b = img_new(r, DISK_SECTORS);
	gpt_build(r->data, DISK_SECTORS, three, 3);
	return b;
}

TEST(crc32_of_a_known_string)
{
	CHECK_EQ(crc32_update(0, "123456789", 9), 0xcbf43926u);
	u32 c = crc32_update(0, "1234", 4);
	CHECK_EQ(crc32_update(c, "56789", 5), 0xcbf43926u);
}

TEST(gpt_names_numbers_and_sizes)
{
	struct ramdisk_img r;
	struct blk_backend b = gpt_disk(&r);
	struct part_table t;
	char why[160] = "";
	REQUIRE(part_scan(&t, &b, why, sizeof(why)));
	CHECK_EQ(t.scheme, PART_SCHEME_GPT);
	REQUIRE(t.n == 3);
	CHECK_STR(t.p[0].name, "vm1");
	CHECK_EQ(t.p[0].number, 1);
	CHECK_EQ(t.p[0].start, 34);
	CHECK_EQ(t.p[0].sectors, 1024);
	CHECK_STR(t.p[1].name, "spool");
	CHECK_EQ(t.p[2].number, 4);
	CHECK_EQ(t.p[2].sectors, 4061 - 2082 + 1);
	/* a UTF-16 name unit outside ASCII becomes '?' (the builder wrote 0x00e9) */
	CHECK_STR(t.p[2].name, "caf?");
	CHECK_STR(t.note, "");
}

TEST(gpt_backup_used_when_the_primary_is_damaged)
{
	struct ramdisk_img r;
	struct blk_backend b = gpt_disk(&r);
	struct part_table t;
	char why[160];
	r.data[512 + 40] ^= 1; /* first_usable changed, CRC not */
	REQUIRE(part_scan(&t, &b, why, sizeof(why)));
	CHECK_EQ(t.n, 3);
	CHECK_CONTAINS(t.note, "header CRC");
	CHECK_CONTAINS(t.note, "backup");
	/* a damaged primary entry array: the backup's is used */
	b = gpt_disk(&r);
	r.data[2 * 512 + 60] ^= 0x40;
	REQUIRE(part_scan(&t, &b, why, sizeof(why)));
	CHECK_CONTAINS(t.note, "entry array CRC");
	CHECK_STR(t.p[0].name, "vm1");
	/* an unreadable primary: the same */
	b = gpt_disk(&r);
	memset(r.data + 512, 0, 512);
	REQUIRE(part_scan(&t, &b, why, sizeof(why)));
	CHECK_CONTAINS(t.note, "no GPT signature");
}

TEST(gpt_backup_found_where_the_primary_says_on_a_grown_disk)
{
	struct ramdisk_img r;
	struct blk_backend b = img_new(&r, 2 * DISK_SECTORS);
	gpt_build(r.data, DISK_SECTORS, three, 3); /* written when the disk was half as big */
	struct part_table t;
	char why[160];
	r.data[2 * 512 + 60] ^= 0x40; /* the primary's entries: its header still holds */
	REQUIRE(part_scan(&t, &b, why, sizeof(why)));
	CHECK_EQ(t.n, 3);
	CHECK_CONTAINS(t.note, "entry array CRC");
	/* with the primary's header itself damaged, nothing says where the backup went */
	r.data[512 + 40] ^= 1;
	CHECK(!part_scan(&t, &b, why, sizeof(why)));
	CHECK_CONTAINS(why, "backup: no GPT signature");
}

TEST(gpt_refused_when_both_headers_are_damaged)
{
	struct ramdisk_img r;
	struct blk_backend b = gpt_disk(&r);
	struct part_table t;
	char why[160];
	r.data[512 + 40] ^= 1;
	r.data[(DISK_SECTORS - 1) * 512 + 40] ^= 1;
	CHECK(!part_scan(&t, &b, why, sizeof(why)));
	CHECK_CONTAINS(why, "primary: header CRC mismatch; backup: header CRC mismatch");
	CHECK_EQ(t.n, 0);
	/* a read error at the end of the disk when the primary is bad */
	b = gpt_disk(&r);
	r.data[512 + 40] ^= 1;
	r.fail_from = DISK_SECTORS - 1;
	CHECK(!part_scan(&t, &b, why, sizeof(why)));
	CHECK_CONTAINS(why, "cannot read");
}

/* sets a field of both headers (little-endian, `bytes` wide) and fixes their CRCs */
static void set_both(struct ramdisk_img *r, unsigned off, u64 v, unsigned bytes)
{
	u64 lbas[2] = {1, DISK_SECTORS - 1};
	for (int i = 0; i < 2; i++) {
		for (unsigned k = 0; k < bytes; k++)
			r->data[lbas[i] * 512 + off + k] = (u8)(v >> (8 * k));
		gpt_fix(r->data, DISK_SECTORS, lbas[i]);
	}
}

static void expect_refused(struct blk_backend *b, const char *reason)
{
	struct part_table t;
	char why[160] = "";
	CHECK(!part_scan(&t, b, why, sizeof(why)));
	CHECK_CONTAINS(why, reason);
	CHECK_EQ(t.n, 0);
}

TEST(gpt_hostile_headers_are_refused)
{
	struct ramdisk_img r;
	struct blk_backend b;
	b = gpt_disk(&r);
	set_both(&r, 80, 0, 4);
	expect_refused(&b, "0 entries");
	b = gpt_disk(&r);
	set_both(&r, 80, 100000, 4);
	expect_refused(&b, "100000 entries");
	b = gpt_disk(&r);
	set_both(&r, 84, 100, 4);
	expect_refused(&b, "entry size 100");
	b = gpt_disk(&r);
	set_both(&r, 84, 4096, 4);
	expect_refused(&b, "entry size 4096");
	b = gpt_disk(&r);
	set_both(&r, 12, 600, 4);
	expect_refused(&b, "header size 600");
	b = gpt_disk(&r);
	set_both(&r, 48, DISK_SECTORS + 10, 8); /* last usable past the disk */
	expect_refused(&b, "usable area");
	b = gpt_disk(&r);
	set_both(&r, 40, 3000, 8); /* first usable after last usable */
	set_both(&r, 48, 2000, 8);
	expect_refused(&b, "usable area");
	b = gpt_disk(&r);
	set_both(&r, 72, ~0ULL - 3, 8); /* entries far past the disk */
	expect_refused(&b, "out of place");
	b = gpt_disk(&r);
	set_both(&r, 72, 1, 8); /* entries over the header */
	expect_refused(&b, "out of place");
	b = gpt_disk(&r);
	set_both(&r, 24, 7, 8); /* my_lba lies */
	expect_refused(&b, "header says");
}

static void gpt_with(struct ramdisk_img *r, struct blk_backend *b, const struct gpt_part_spec *p,
		     unsigned np)
{
	*b = img_new(r, DISK_SECTORS);
	gpt_build(r->data, DISK_SECTORS, p, np);
}

TEST(gpt_hostile_partitions_are_refused)
{
	struct ramdisk_img r;
	struct blk_backend b;
	const struct gpt_part_spec overlap[] = {{34, 1000, "a", 0}, {1000, 2000, "b", 1}};
	gpt_with(&r, &b, overlap, 2);
	expect_refused(&b, "partitions 1 and 2 overlap");
	const struct gpt_part_spec outside[] = {{34, DISK_SECTORS + 100, "a", 0}};
	gpt_with(&r, &b, outside, 1);
	expect_refused(&b, "outside the usable area");
	const struct gpt_part_spec backwards[] = {{500, 400, "a", 0}};
	gpt_with(&r, &b, backwards, 1);
	expect_refused(&b, "outside the usable area");
	const struct gpt_part_spec over_header[] = {{1, 100, "a", 0}};
	gpt_with(&r, &b, over_header, 1);
	expect_refused(&b, "outside the usable area");
	const struct gpt_part_spec wrap[] = {{34, ~0ULL, "a", 0}};
	gpt_with(&r, &b, wrap, 1);
	expect_refused(&b, "outside the usable area");
	struct gpt_part_spec many[PART_MAX + 1];
	for (unsigned i = 0; i <= PART_MAX; i++)
		many[i] = (struct gpt_part_spec){34 + i * 10, 34 + i * 10 + 9, "p", i};
	gpt_with(&r, &b, many, PART_MAX + 1);
	expect_refused(&b, "more than 16 partitions");
	gpt_with(&r, &b, many, PART_MAX);
	struct part_table t;
	char why[160];
	CHECK(part_scan(&t, &b, why, sizeof(why)));
	CHECK_EQ(t.n, PART_MAX);
}

TEST(mbr_primaries_and_logicals)
{
	struct ramdisk_img r;
	struct blk_backend b = img_new(&r, DISK_SECTORS);
	mbr_put(r.data, 0, 0, 0x83, 63, 1000);
	mbr_put(r.data, 0, 1, 0x05, 1100, 2000);
	mbr_put(r.data, 0, 3, 0x0c, 3200, 800);
	/* EBR chain: logical 5 at 1100+63, then a link to the EBR at 1100+1000 */
	mbr_put(r.data, 1100, 0, 0x83, 63, 900);
	mbr_put(r.data, 1100, 1, 0x05, 1000, 1000);
	mbr_put(r.data, 2100, 0, 0x82, 10, 990);
	struct part_table t;
	char why[160] = "";
	REQUIRE(part_scan(&t, &b, why, sizeof(why)));
	CHECK_EQ(t.scheme, PART_SCHEME_MBR);
	REQUIRE(t.n == 4);
	CHECK_EQ(t.p[0].number, 1);
	CHECK_EQ(t.p[1].number, 4);
	CHECK_EQ(t.p[1].mbr_type, 0x0c);
	CHECK_EQ(t.p[2].number, 5);
	CHECK_EQ(t.p[2].start, 1163);
	CHECK_EQ(t.p[2].sectors, 900);
	CHECK_EQ(t.p[3].number, 6);
	CHECK_EQ(t.p[3].start, 2110);
	CHECK_EQ(t.p[3].mbr_type, 0x82);
	CHECK_STR(t.p[3].name, "");
}

TEST(mbr_hostile_tables_are_refused)
{
	struct ramdisk_img r;
	struct blk_backend b = img_new(&r, DISK_SECTORS);
	mbr_put(r.data, 0, 0, 0x83, 63, DISK_SECTORS);
	expect_refused(&b, "outside the disk");
	b = img_new(&r, DISK_SECTORS);
	mbr_put(r.data, 0, 0, 0x83, 0xffffffffu, 0xffffffffu);
	expect_refused(&b, "outside the disk");
	b = img_new(&r, DISK_SECTORS);
	mbr_put(r.data, 0, 0, 0x83, 63, 1000);
	mbr_put(r.data, 0, 1, 0x83, 1000, 10);
	expect_refused(&b, "overlap");
	b = img_new(&r, DISK_SECTORS);
	mbr_put(r.data, 0, 0, 0x05, 100, 1000);
	mbr_put(r.data, 0, 1, 0x0f, 1200, 1000);
	mbr_put(r.data, 100, 0, 0x83, 1, 10);
	expect_refused(&b, "more than one extended");
	/* an EBR linking back to itself: refused, not walked for ever */
	b = img_new(&r, DISK_SECTORS);
	mbr_put(r.data, 0, 0, 0x05, 100, 1000);
	mbr_put(r.data, 100, 0, 0x83, 1, 10);
	mbr_put(r.data, 100, 1, 0x05, 0, 10);
	expect_refused(&b, "EBR chain");
	/* a logical reaching past its extended partition */
	b = img_new(&r, DISK_SECTORS);
	mbr_put(r.data, 0, 0, 0x05, 100, 1000);
	mbr_put(r.data, 100, 0, 0x83, 1, 1000);
	expect_refused(&b, "outside its extended");
	/* an EBR without its signature */
	b = img_new(&r, DISK_SECTORS);
	mbr_put(r.data, 0, 0, 0x05, 100, 1000);
	expect_refused(&b, "no signature");
	/* logicals overlapping each other */
	b = img_new(&r, DISK_SECTORS);
	mbr_put(r.data, 0, 0, 0x05, 100, 1000);
	mbr_put(r.data, 100, 0, 0x83, 1, 500);
	mbr_put(r.data, 100, 1, 0x05, 200, 500);
	mbr_put(r.data, 300, 0, 0x83, 1, 10);
	expect_refused(&b, "overlap");
}

TEST(part_disk_without_a_table_or_unreadable)
{
	struct ramdisk_img r;
	struct blk_backend b = img_new(&r, 64);
	struct part_table t;
	char why[160];
	CHECK(part_scan(&t, &b, why, sizeof(why)));
	CHECK_EQ(t.scheme, PART_SCHEME_NONE);
	CHECK_EQ(t.n, 0);
	r.fail_from = 0;
	CHECK(!part_scan(&t, &b, why, sizeof(why)));
	CHECK_CONTAINS(why, "cannot read LBA 0");
	b.sectors = 1;
	CHECK(!part_scan(&t, &b, why, sizeof(why)));
}

/* Random damage to a good GPT: whatever is accepted keeps every partition on the disk and
 * apart from the others. */
TEST(gpt_random_damage_never_yields_a_bad_partition)
{
	struct ramdisk_img r;
	u64 seed = 0x5eed0011;
	unsigned accepted = 0;
	for (int round = 0; round < 400; round++) {
		struct blk_backend b = gpt_disk(&r);
		int flips = 1 + (int)(test_rng(&seed) % 4);
		for (int k = 0; k < flips; k++) {
			u64 where = test_rng(&seed) % 3;
			u64 lba = where == 0 ? 1 : where == 1 ? 2 : DISK_SECTORS - 1;
			unsigned off = (unsigned)(test_rng(&seed) % 128);
			r.data[lba * 512 + off] = (u8)test_rng(&seed);
			if (test_rng(&seed) & 1)
				gpt_fix(r.data, DISK_SECTORS, lba);
		}
		struct part_table t;
		char why[160];
		if (!part_scan(&t, &b, why, sizeof(why))) {
			CHECK_EQ(t.n, 0);
			continue;
		}
		accepted++;
		for (unsigned i = 0; i < t.n; i++) {
			CHECK(t.p[i].sectors > 0);
			CHECK(t.p[i].start + t.p[i].sectors <= DISK_SECTORS);
			for (unsigned j = i + 1; j < t.n; j++)
				CHECK(t.p[i].start + t.p[i].sectors <= t.p[j].start ||
				      t.p[j].start + t.p[j].sectors <= t.p[i].start);
		}
	}
	CHECK(accepted > 0);
}
