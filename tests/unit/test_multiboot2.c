/* Tests of the multiboot2 info parser (hypervisor/multiboot2.c): synthetic tag lists, good and
 * malformed, each handed over in an exact-size heap copy so that ASan catches any read past
 * the structure; plus boot_find_module and cmdline_get. */
#include "test.h"
#include "../../hypervisor/bootinfo.h"
#include "../../hypervisor/lib.h"

enum { T_END = 0, T_CMDLINE = 1, T_LOADER = 2, T_MODULE = 3, T_MMAP = 6 };

struct mbi {
	u8 buf[4096];
	u32 len;
};

static void mbi_begin(struct mbi *m)
{
	memset(m, 0, sizeof(*m));
	m->len = 8; /* total_size, reserved */
}

static void put32(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

static void put64(u8 *p, u64 v)
{
	memcpy(p, &v, 8);
}

/* Appends a tag header claiming `size` bytes; returns its body. The next tag starts at the
 * 8-aligned end of `used` bytes (normally used == size). */
static u8 *tag_raw(struct mbi *m, u32 type, u32 size, u32 used)
{
	u8 *t = m->buf + m->len;
	REQUIRE(m->len + ALIGN_UP(used, 8) <= sizeof(m->buf));
	put32(t, type);
	put32(t + 4, size);
	m->len += (u32)ALIGN_UP(used, 8);
	return t + 8;
}

static u8 *tag(struct mbi *m, u32 type, u32 body_len)
{
	return tag_raw(m, type, 8 + body_len, 8 + body_len);
}

static void tag_str(struct mbi *m, u32 type, const char *s)
{
	size_t n = strlen(s) + 1;
	memcpy(tag(m, type, (u32)n), s, n);
}

static void tag_module(struct mbi *m, u32 start, u32 end, const char *s)
{
	size_t n = strlen(s) + 1;
	u8 *b = tag(m, T_MODULE, (u32)(8 + n));
	put32(b, start);
	put32(b + 4, end);
	memcpy(b + 8, s, n);
}

struct region {
	u64 base, len;
	u32 type;
};

static void tag_mmap(struct mbi *m, u32 esize, const struct region *r, unsigned n)
{
	u8 *b = tag(m, T_MMAP, 8 + esize * n);
	put32(b, esize);
	put32(b + 4, 0); /* entry_version */
	for (unsigned i = 0; i < n; i++) {
		u8 *e = b + 8 + i * esize;
		put64(e, r[i].base);
		put64(e + 8, r[i].len);
		put32(e + 16, r[i].type);
	}
}

static void tag_end(struct mbi *m)
{
	tag(m, T_END, 0);
}

/* The finished structure in an exact-size heap block. */
static const u8 *mbi_finish(struct mbi *m)
{
	put32(m->buf, m->len);
	return test_dup(m->buf, m->len);
}

static const char *parse(struct mbi *m, struct boot_info *bi)
{
	return mb2_parse(mbi_finish(m), bi);
}

TEST(mb2_parses_a_complete_structure)
{
	struct mbi m;
	struct boot_info bi;
	const struct region r[] = {
	    {0, 0x9fc00, MEM_USABLE},
	    {0x9fc00, 0x400, MEM_RESERVED},
	    {0x100000, 0x7ff00000, MEM_USABLE},
	    {0xfec00000, 0x1000, MEM_NVS},
	};
	mbi_begin(&m);
	tag_str(&m, T_CMDLINE, "loglevel=debug on_idle=shutdown");
	tag_str(&m, T_LOADER, "GRUB 2.06");
	tag(&m, 21, 4); /* load base address: not ours, skipped */
	tag_module(&m, 0x200000, 0x201000, "keel.cfg");
	tag_module(&m, 0x300000, 0x380000, "ticker.elf arg1 arg2");
	tag_mmap(&m, 24, r, 4);
	tag_end(&m);
	const u8 *p = mbi_finish(&m);
	CHECK(mb2_parse(p, &bi) == NULL);
	CHECK_STR(bi.cmdline, "loglevel=debug on_idle=shutdown");
	CHECK_STR(bi.loader, "GRUB 2.06");
	CHECK_EQ(bi.mbi_start, virt_to_phys(p));
	CHECK_EQ(bi.mbi_end, virt_to_phys(p) + m.len);
	REQUIRE(bi.nmodules == 2);
	CHECK_EQ(bi.modules[0].start, 0x200000);
	CHECK_EQ(bi.modules[0].end, 0x201000);
	CHECK_STR(bi.modules[0].string, "keel.cfg");
	CHECK_EQ(bi.modules[1].start, 0x300000);
	CHECK_EQ(bi.modules[1].end, 0x380000);
	CHECK_STR(bi.modules[1].string, "ticker.elf arg1 arg2");
	REQUIRE(bi.nregions == 4);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(bi.regions[i].base, r[i].base);
		CHECK_EQ(bi.regions[i].len, r[i].len);
		CHECK_EQ(bi.regions[i].type, r[i].type);
	}
}

TEST(mb2_only_end_tag_gives_empty_info)
{
	struct mbi m;
	struct boot_info bi;
	mbi_begin(&m);
	tag_end(&m);
	CHECK(parse(&m, &bi) == NULL);
	CHECK_STR(bi.cmdline, "");
	CHECK_STR(bi.loader, "");
	CHECK_EQ(bi.nmodules, 0);
	CHECK_EQ(bi.nregions, 0);
}

TEST(mb2_mmap_with_larger_entries)
{
	struct mbi m;
	struct boot_info bi;
	const struct region r[] = {{0x100000, 0x100000, MEM_USABLE}, {0x200000, 0x1000, MEM_ACPI}};
	mbi_begin(&m);
	tag_mmap(&m, 32, r, 2);
	tag_end(&m);
	CHECK(parse(&m, &bi) == NULL);
	REQUIRE(bi.nregions == 2);
	CHECK_EQ(bi.regions[1].base, 0x200000);
	CHECK_EQ(bi.regions[1].len, 0x1000);
	CHECK_EQ(bi.regions[1].type, MEM_ACPI);
}

TEST(mb2_rejects_implausible_total)
{
	struct boot_info bi;
	u8 small[16] = {0};
	put32(small, 8);
	CHECK(mb2_parse(test_dup(small, 16), &bi) != NULL);
	put32(small, 32u << 20);
	CHECK(mb2_parse(test_dup(small, 16), &bi) != NULL);
}

TEST(mb2_rejects_tag_overrunning_total)
{
	struct mbi m;
	struct boot_info bi;
	mbi_begin(&m);
	tag_raw(&m, T_CMDLINE, 200, 16); /* claims 200 bytes, the structure has 16 */
	memcpy(m.buf + 16, "abcdefg", 8);
	tag_end(&m);
	CHECK_CONTAINS(parse(&m, &bi), "overruns");
}

TEST(mb2_rejects_tag_smaller_than_its_header)
{
	struct mbi m;
	struct boot_info bi;
	mbi_begin(&m);
	tag_raw(&m, 7, 0, 8); /* size 0 would loop forever if accepted */
	tag_end(&m);
	CHECK(parse(&m, &bi) != NULL);
	mbi_begin(&m);
	tag_raw(&m, 7, 4, 8);
	tag_end(&m);
	CHECK(parse(&m, &bi) != NULL);
}

TEST(mb2_rejects_missing_end_tag)
{
	struct mbi m;
	struct boot_info bi;
	mbi_begin(&m);
	tag_str(&m, T_CMDLINE, "abc");
	CHECK_CONTAINS(parse(&m, &bi), "end tag");
}

TEST(mb2_rejects_unaligned_last_tag_without_end)
{
	/* the last tag ends at total but its 8-aligned end lies beyond: no read past total */
	struct mbi m;
	struct boot_info bi;
	mbi_begin(&m);
	u8 *b = tag_raw(&m, 9, 12, 12);
	put32(b, 0);
	m.len = 20;
	CHECK(parse(&m, &bi) != NULL);
}

TEST(mb2_rejects_unterminated_cmdline)
{
	struct mbi m;
	struct boot_info bi;
	mbi_begin(&m);
	memcpy(tag(&m, T_CMDLINE, 8), "abcdefgh", 8);
	tag_end(&m);
	CHECK_CONTAINS(parse(&m, &bi), "command line");
	mbi_begin(&m);
	tag(&m, T_CMDLINE, 0);
	tag_end(&m);
	CHECK(parse(&m, &bi) != NULL);
}

TEST(mb2_ignores_unterminated_loader_name)
{
	struct mbi m;
	struct boot_info bi;
	mbi_begin(&m);
	memcpy(tag(&m, T_LOADER, 8), "GRUBGRUB", 8);
	tag_end(&m);
	CHECK(parse(&m, &bi) == NULL);
	CHECK_STR(bi.loader, "");
}

TEST(mb2_rejects_bad_module_tags)
{
	struct mbi m;
	struct boot_info bi;
	/* too short for start, end and a terminated string */
	mbi_begin(&m);
	u8 *b = tag(&m, T_MODULE, 8);
	put32(b, 0x1000);
	put32(b + 4, 0x2000);
	tag_end(&m);
	CHECK_CONTAINS(parse(&m, &bi), "too short");
	/* string not terminated inside the tag */
	mbi_begin(&m);
	b = tag(&m, T_MODULE, 12);
	put32(b, 0x1000);
	put32(b + 4, 0x2000);
	memcpy(b + 8, "abcd", 4);
	tag_end(&m);
	CHECK_CONTAINS(parse(&m, &bi), "not terminated");
	/* ends before it starts */
	mbi_begin(&m);
	tag_module(&m, 0x2000, 0x1000, "x");
	tag_end(&m);
	CHECK_CONTAINS(parse(&m, &bi), "ends before");
	/* empty module (end == start) is fine */
	mbi_begin(&m);
	tag_module(&m, 0x2000, 0x2000, "");
	tag_end(&m);
	CHECK(parse(&m, &bi) == NULL);
	CHECK_EQ(bi.nmodules, 1);
}

/* An info structure with modules m0, m1, ... m<n-1>, one page each, parsed into *bi. */
static void parse_modules(struct mbi *m, struct boot_info *bi, unsigned n)
{
	static char names[BOOT_MAX_MODULES + 16][8];
	REQUIRE(n <= BOOT_MAX_MODULES + 16);
	mbi_begin(m);
	for (unsigned i = 0; i < n; i++) {
		ksnprintf(names[i], sizeof(names[i]), "m%u", i);
		tag_module(m, i * 0x1000, i * 0x1000 + 0x10, names[i]);
	}
	tag_end(m);
	CHECK(parse(m, bi) == NULL);
}

TEST(mb2_module_limit)
{
	struct mbi m;
	struct boot_info bi;
	parse_modules(&m, &bi, BOOT_MAX_MODULES);
	CHECK_EQ(bi.nmodules, BOOT_MAX_MODULES);

	char line[256];
	CHECK(!boot_refused_line(&bi, line, sizeof(line)));
}

/* More modules than Keel keeps: the first BOOT_MAX_MODULES boot, the rest are named in one
 * line (the first BOOT_MAX_REFUSED of them) and left out. */
TEST(mb2_modules_past_the_limit_are_left_out_and_named)
{
	struct mbi m;
	struct boot_info bi;
	char line[512];
	parse_modules(&m, &bi, BOOT_MAX_MODULES + 1);
	CHECK_EQ(bi.nmodules, BOOT_MAX_MODULES);
	CHECK_EQ(bi.nrefused, 1);
	CHECK(boot_find_module(&bi, "m47") != NULL);
	CHECK(boot_find_module(&bi, "m48") == NULL);
	REQUIRE(boot_refused_line(&bi, line, sizeof(line)));
	CHECK_STR(line, "1 boot module over the limit of 48 left out: 'm48'");

	parse_modules(&m, &bi, BOOT_MAX_MODULES + 11);
	CHECK_EQ(bi.nmodules, BOOT_MAX_MODULES);
	CHECK_EQ(bi.nrefused, 11);
	REQUIRE(boot_refused_line(&bi, line, sizeof(line)));
	CHECK_STR(line, "11 boot modules over the limit of 48 left out: 'm48' 'm49' 'm50' "
			"'m51' 'm52' 'm53' 'm54' 'm55' and 3 more");
	/* a short buffer gets the line cut, terminated */
	REQUIRE(boot_refused_line(&bi, line, 20));
	CHECK_EQ(strlen(line), 19);
}

TEST(mb2_rejects_bad_mmap_tags)
{
	struct mbi m;
	struct boot_info bi;
	const struct region r[] = {{0x100000, 0x100000, MEM_USABLE}};
	mbi_begin(&m);
	tag_mmap(&m, 20, r, 1);
	tag_end(&m);
	CHECK_CONTAINS(parse(&m, &bi), "entry size");
	mbi_begin(&m);
	tag_mmap(&m, 28, r, 1);
	tag_end(&m);
	CHECK_CONTAINS(parse(&m, &bi), "entry size");
	mbi_begin(&m);
	tag_mmap(&m, 0, r, 0);
	tag_end(&m);
	CHECK(parse(&m, &bi) != NULL);
	mbi_begin(&m);
	put32(tag(&m, T_MMAP, 4), 24); /* no room for entry_version */
	tag_end(&m);
	CHECK_CONTAINS(parse(&m, &bi), "too short");
}

TEST(mb2_mmap_partial_trailing_entry_is_ignored)
{
	struct mbi m;
	struct boot_info bi;
	const struct region r[] = {{0x100000, 0x100000, MEM_USABLE}, {0x200000, 0x1000, MEM_ACPI}};
	mbi_begin(&m);
	u8 *b = tag(&m, T_MMAP, 8 + 24 + 16); /* one whole entry and 16 bytes of another */
	put32(b, 24);
	put64(b + 8, r[0].base);
	put64(b + 16, r[0].len);
	put32(b + 24, r[0].type);
	tag_end(&m);
	CHECK(parse(&m, &bi) == NULL);
	CHECK_EQ(bi.nregions, 1);
}

TEST(mb2_mmap_entry_limit)
{
	static struct region r[BOOT_MAX_REGIONS + 1];
	struct mbi m;
	struct boot_info bi;
	for (unsigned i = 0; i <= BOOT_MAX_REGIONS; i++)
		r[i] = (struct region){i * 0x1000ULL, 0x1000, MEM_USABLE};
	mbi_begin(&m);
	tag_mmap(&m, 24, r, BOOT_MAX_REGIONS);
	tag_end(&m);
	CHECK(parse(&m, &bi) == NULL);
	CHECK_EQ(bi.nregions, BOOT_MAX_REGIONS);
	mbi_begin(&m);
	tag_mmap(&m, 24, r, BOOT_MAX_REGIONS + 1);
	tag_end(&m);
	CHECK_CONTAINS(parse(&m, &bi), "too many");
}

TEST(boot_find_module_matches_first_word)
{
	struct boot_info bi;
	memset(&bi, 0, sizeof(bi));
	bi.nmodules = 3;
	bi.modules[0] = (struct boot_module){0x1000, 0x2000, "keel.cfg"};
	bi.modules[1] = (struct boot_module){0x3000, 0x4000, "ticker.elf arg1"};
	bi.modules[2] = (struct boot_module){0x5000, 0x6000, "ticker"};
	CHECK(boot_find_module(&bi, "keel.cfg") == &bi.modules[0]);
	CHECK(boot_find_module(&bi, "ticker.elf") == &bi.modules[1]);
	CHECK(boot_find_module(&bi, "ticker") == &bi.modules[2]);
	CHECK(boot_find_module(&bi, "keel") == NULL);
	CHECK(boot_find_module(&bi, "keel.cfgx") == NULL);
	CHECK(boot_find_module(&bi, "arg1") == NULL);
	bi.nmodules = 0;
	CHECK(boot_find_module(&bi, "keel.cfg") == NULL);
}

TEST(cmdline_get_values_and_bare_keys)
{
	const char *cl = "loglevel=debug  quiet on_idle=shutdown empty= x=a=b";
	char v[16];
	CHECK(cmdline_get(cl, "loglevel", v, sizeof(v)));
	CHECK_STR(v, "debug");
	CHECK(cmdline_get(cl, "on_idle", v, sizeof(v)));
	CHECK_STR(v, "shutdown");
	CHECK(cmdline_get(cl, "quiet", v, sizeof(v)));
	CHECK_STR(v, "");
	CHECK(cmdline_get(cl, "empty", v, sizeof(v)));
	CHECK_STR(v, "");
	CHECK(cmdline_get(cl, "x", v, sizeof(v)));
	CHECK_STR(v, "a=b");
	CHECK(!cmdline_get(cl, "log", v, sizeof(v)));	/* a prefix is not the key */
	CHECK(!cmdline_get(cl, "debug", v, sizeof(v))); /* values are not keys */
	CHECK(!cmdline_get(cl, "missing", v, sizeof(v)));
	CHECK(!cmdline_get("", "quiet", v, sizeof(v)));
	CHECK(cmdline_get("   quiet   ", "quiet", v, sizeof(v)));
}

TEST(cmdline_get_truncates_to_the_buffer)
{
	char *v = test_alloc(4);
	CHECK(cmdline_get("k=abcdefgh", "k", v, 4));
	CHECK_STR(v, "abc");
	CHECK(cmdline_get("k=abcdefgh", "k", v, 0)); /* found, nothing copied */
	CHECK_STR(v, "abc");
}
