/* Tests of the multiboot v1 guest loader (guests/loader/multiboot.c): synthetic ELF32 and
 * a.out-kludge kernels loaded into a fake guest memory laid out as docs/guest-abi.md says,
 * the info block read back field by field, and hostile images that must fail cleanly. */
#include "test.h"
#include "../../guests/loader/multiboot.h"

#define MEM	  (4ULL << 20)
#define HDR_MAGIC 0x1badb002u
#define F_AOUT	  BIT(16)

/* ---- fake guest memory: RAM at [0, 0x9fc00) and [1 MiB, MEM) ---- */

struct guest {
	u8 *ram;
	u64 size;
	unsigned writes;
};

static bool guest_write(void *ctx, u64 gpa, const void *src, size_t len)
{
	struct guest *g = ctx;
	if (!len)
		return true;
	if (gpa + len < gpa)
		return false;
	bool low = gpa + len <= GUEST_LOW_RAM_END;
	bool high = gpa >= GUEST_HIGH_START && gpa + len <= g->size;
	if (!low && !high)
		return false;
	memcpy(g->ram + gpa, src, len);
	g->writes++;
	return true;
}

static struct guest *new_guest(u64 size)
{
	struct guest *g = test_alloc(sizeof(*g));
	g->ram = test_alloc(size);
	g->size = size;
	memset(g->ram, 0xcc, size); /* so that zeroed bss is visible */
	return g;
}

static u32 rd32(const struct guest *g, u64 gpa)
{
	u32 v;
	REQUIRE(gpa + 4 <= g->size);
	memcpy(&v, g->ram + gpa, 4);
	return v;
}

static u64 rd64(const struct guest *g, u64 gpa)
{
	u64 v;
	REQUIRE(gpa + 8 <= g->size);
	memcpy(&v, g->ram + gpa, 8);
	return v;
}

static const char *rdstr(const struct guest *g, u64 gpa)
{
	REQUIRE(gpa < g->size && memchr(g->ram + gpa, 0, g->size - gpa));
	return (const char *)g->ram + gpa;
}

/* ---- image builders ---- */

struct image {
	u8 b[12288];
	size_t len;
};

static void w16(struct image *im, size_t off, u16 v)
{
	memcpy(im->b + off, &v, 2);
}

static void w32(struct image *im, size_t off, u32 v)
{
	memcpy(im->b + off, &v, 4);
}

static void mb_header(struct image *im, size_t off, u32 flags)
{
	w32(im, off, HDR_MAGIC);
	w32(im, off + 4, flags);
	w32(im, off + 8, (u32)0 - HDR_MAGIC - flags);
}

struct seg {
	u32 type, offset, paddr, filesz, memsz;
};

/* An ELF32 i386 executable: header, program headers at 52, the multiboot header at 0x100,
 * segment contents at their offsets filled with a recognizable pattern. */
static void elf_image(struct image *im, u32 entry, const struct seg *s, unsigned n)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->b, "\177ELF", 4);
	im->b[4] = 1; /* 32-bit */
	im->b[5] = 1; /* little-endian */
	im->b[6] = 1;
	w16(im, 16, 2); /* ET_EXEC */
	w16(im, 18, 3); /* EM_386 */
	w32(im, 20, 1);
	w32(im, 24, entry);
	w32(im, 28, 52); /* phoff */
	w16(im, 40, 52); /* ehsize */
	w16(im, 42, 32); /* phentsize */
	w16(im, 44, (u16)n);
	for (unsigned i = 0; i < n; i++) {
		size_t p = 52 + i * 32;
		w32(im, p, s[i].type);
		w32(im, p + 4, s[i].offset);
		w32(im, p + 8, s[i].paddr);
		w32(im, p + 12, s[i].paddr);
		w32(im, p + 16, s[i].filesz);
		w32(im, p + 20, s[i].memsz);
		w32(im, p + 24, 7);
		w32(im, p + 28, 0x1000);
		for (u32 k = 0; k < s[i].filesz && (size_t)s[i].offset + k < sizeof(im->b); k++)
			im->b[s[i].offset + k] = (u8)(i * 16 + k * 3 + 1);
		if (s[i].offset + (size_t)s[i].filesz > im->len && s[i].offset < sizeof(im->b))
			im->len = MIN((size_t)s[i].offset + s[i].filesz, sizeof(im->b));
	}
	if (im->len < 0x200)
		im->len = 0x200;
	mb_header(im, 0x100, BIT(0) | BIT(1));
}

/* The standard kernel: one segment of 0x800 file bytes and 0x1800 bss at 1 MiB. */
static void std_elf(struct image *im)
{
	struct seg s = {1, 0x1000, 0x100000, 0x800, 0x2000};
	elf_image(im, 0x100010, &s, 1);
}

/* An a.out-kludge kernel: the file is loaded whole at load_addr; header at `hoff`. */
static void aout_image(struct image *im, size_t len, size_t hoff, u32 load, u32 load_end,
		       u32 bss_end, u32 entry)
{
	memset(im, 0, sizeof(*im));
	for (size_t i = 0; i < len; i++)
		im->b[i] = (u8)(i * 5 + 3);
	im->len = len;
	mb_header(im, hoff, F_AOUT | BIT(1));
	w32(im, hoff + 12, load + (u32)hoff); /* header_addr */
	w32(im, hoff + 16, load);
	w32(im, hoff + 20, load_end);
	w32(im, hoff + 24, bss_end);
	w32(im, hoff + 28, entry);
}

static const char *load(struct guest *g, const struct image *im, const char *cmdline,
			const struct mb1_module *mods, unsigned n, struct mb1_result *res)
{
	struct guest_mem_ops ops = {guest_write, g};
	return mb1_load(&ops, g->size, test_dup(im->b, im->len), im->len, cmdline, mods, n, res);
}

/* ---- well-formed kernels ---- */

TEST(loader_elf_segments_and_bss)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	std_elf(&im);
	CHECK(load(g, &im, "", NULL, 0, &res) == NULL);
	CHECK_EQ(res.entry, 0x100010);
	CHECK_EQ(res.kernel_start, 0x100000);
	CHECK_EQ(res.kernel_end, 0x102000);
	CHECK(!memcmp(g->ram + 0x100000, im.b + 0x1000, 0x800));
	for (u64 a = 0x100800; a < 0x102000; a++)
		if (g->ram[a]) {
			CHECK_EQ(g->ram[a], 0);
			break;
		}
	CHECK_EQ(g->ram[0x102000 - 1], 0);
}

TEST(loader_elf_skips_non_load_and_empty_segments)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	struct seg s[] = {
	    {6, 0x34, 0x0, 0x60, 0x60},		 /* PT_PHDR: not loaded */
	    {1, 0x1000, 0x200000, 0x100, 0x100}, /* a second segment, higher */
	    {1, 0x0, 0x300000, 0x0, 0x0},	 /* empty */
	    {1, 0x1400, 0x1000, 0x10, 0x10},	 /* low memory is RAM too */
	};
	elf_image(&im, 0x200000, s, 4);
	CHECK(load(g, &im, "", NULL, 0, &res) == NULL);
	CHECK_EQ(res.kernel_start, 0x1000);
	CHECK_EQ(res.kernel_end, 0x200100);
	CHECK(!memcmp(g->ram + 0x200000, im.b + 0x1000, 0x100));
	CHECK(!memcmp(g->ram + 0x1000, im.b + 0x1400, 0x10));
	CHECK_EQ(g->ram[0x0], 0xcc);
	CHECK_EQ(g->ram[0x300000], 0xcc);
}

TEST(loader_info_block_matches_guest_abi)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	std_elf(&im);
	CHECK(load(g, &im, "console=ttyS0 verbose", NULL, 0, &res) == NULL);
	u64 mbi = res.mbi;
	CHECK_EQ(mbi & (PAGE_SIZE - 1), 0);
	CHECK(mbi >= res.kernel_end && mbi < MEM);
	u32 flags = rd32(g, mbi);
	CHECK_EQ(flags, 0x24d);		 /* MEMORY, CMDLINE, MODS, MMAP, LOADER_NAME */
	CHECK_EQ(rd32(g, mbi + 4), 639); /* mem_lower */
	CHECK_EQ(rd32(g, mbi + 8), (MEM - 0x100000) / 1024);
	CHECK_STR(rdstr(g, rd32(g, mbi + 16)), "console=ttyS0 verbose");
	CHECK_EQ(rd32(g, mbi + 20), 0); /* mods_count */
	CHECK_STR(rdstr(g, rd32(g, mbi + 64)), "Keel");
	/* the memory map, exactly */
	u32 len = rd32(g, mbi + 44), at = rd32(g, mbi + 48);
	CHECK_EQ(len, 4 * 24);
	const u64 want[4][3] = {
	    {0, 0x9fc00, 1},
	    {0x9fc00, 0x400, 2},
	    {0xf0000, 0x10000, 2},
	    {0x100000, MEM - 0x100000, 1},
	};
	for (unsigned i = 0; i < 4; i++) {
		u64 e = at + i * 24;
		CHECK_EQ(rd32(g, e), 20);
		CHECK_EQ(rd64(g, e + 4), want[i][0]);
		CHECK_EQ(rd64(g, e + 12), want[i][1]);
		CHECK_EQ(rd32(g, e + 20), want[i][2]);
	}
	/* nothing of the info block lies in the kernel */
	CHECK(at >= res.kernel_end);
	CHECK(rd32(g, mbi + 16) >= res.kernel_end);
}

TEST(loader_modules_page_aligned_after_kernel)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	std_elf(&im);
	u8 *d0 = test_alloc(5000), *d1 = test_alloc(3);
	memset(d0, 0x11, 5000);
	memcpy(d1, "abc", 3);
	const struct mb1_module mods[] = {
	    {d0, 5000, "mbdata.txt first"}, {d1, 3, "second"}, {d1, 0, ""}, /* empty module */
	};
	CHECK(load(g, &im, "", mods, 3, &res) == NULL);
	u64 mbi = res.mbi;
	CHECK_EQ(rd32(g, mbi + 20), 3);
	u32 ma = rd32(g, mbi + 24);
	CHECK(ma > res.kernel_end);
	u32 prev_end = res.kernel_end;
	for (unsigned i = 0; i < 3; i++) {
		u32 start = rd32(g, ma + i * 16), end = rd32(g, ma + i * 16 + 4);
		CHECK_EQ(start & (PAGE_SIZE - 1), 0);
		CHECK(start >= prev_end);
		CHECK_EQ(end - start, mods[i].len);
		CHECK(mods[i].len == 0 || !memcmp(g->ram + start, mods[i].data, mods[i].len));
		CHECK_STR(rdstr(g, rd32(g, ma + i * 16 + 8)), mods[i].string);
		prev_end = end;
	}
	CHECK_EQ(rd32(g, ma), 0x102000); /* the first right after the kernel */
	CHECK(mbi >= prev_end);
}

TEST(loader_aout_kludge)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	aout_image(&im, 0x3000, 0x40, 0x100000, 0x102800, 0x105000, 0x100080);
	CHECK(load(g, &im, "x", NULL, 0, &res) == NULL);
	CHECK_EQ(res.entry, 0x100080);
	CHECK_EQ(res.kernel_start, 0x100000);
	CHECK_EQ(res.kernel_end, 0x105000);
	CHECK(!memcmp(g->ram + 0x100000, im.b, 0x2800));
	CHECK_EQ(g->ram[0x102800], 0);
	CHECK_EQ(g->ram[0x104fff], 0);
	CHECK_EQ(g->ram[0x105000] == 0xcc || res.mbi == 0x105000, 1);
	/* load_end 0: the whole file; bss_end 0: no bss */
	g = new_guest(MEM);
	aout_image(&im, 0x2000, 0x200, 0x200000, 0, 0, 0x200000);
	CHECK(load(g, &im, "", NULL, 0, &res) == NULL);
	CHECK_EQ(res.kernel_end, 0x202000);
	CHECK(!memcmp(g->ram + 0x200000, im.b, 0x2000));
	/* the header need not be at the start of the loaded part */
	g = new_guest(MEM);
	aout_image(&im, 0x2000, 0x1000, 0x100000, 0, 0, 0x100000);
	w32(&im, 0x1000 + 12, 0x100800); /* header_addr: the file is loaded from offset 0x800 */
	CHECK(load(g, &im, "", NULL, 0, &res) == NULL);
	CHECK(!memcmp(g->ram + 0x100000, im.b + 0x800, 0x1800));
	CHECK_EQ(res.kernel_end, 0x101800);
}

TEST(loader_header_position_limits)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	/* at the last 4-aligned place that lies in the first 8 KiB: found */
	aout_image(&im, 0x2100, 8192 - 32, 0x100000, 0, 0, 0x100000);
	CHECK(load(g, &im, "", NULL, 0, &res) == NULL);
	/* at 8 KiB: not searched */
	aout_image(&im, 0x2100, 8192, 0x100000, 0, 0, 0x100000);
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "8 KiB");
	/* not 4-aligned: not found */
	aout_image(&im, 0x1000, 0x42, 0x100000, 0, 0, 0x100000);
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
	/* an a.out header cut by the end of the file */
	aout_image(&im, 0x1000, 0x1000 - 16, 0x100000, 0, 0, 0x100000);
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
}

/* ---- hostile images ---- */

TEST(loader_rejects_missing_or_bad_header)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	memset(&im, 0x90, sizeof(im));
	im.len = 4096;
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "no multiboot header");
	std_elf(&im);
	w32(&im, 0x108, 0x12345678); /* checksum */
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
	im.len = 8; /* shorter than a header */
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
	im.len = 0;
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
	CHECK_EQ(g->writes, 0);
}

TEST(loader_rejects_required_feature_flags)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	for (unsigned bit = 3; bit < 16; bit++) {
		std_elf(&im);
		mb_header(&im, 0x100, BIT(bit));
		CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "requires features");
	}
	std_elf(&im);
	mb_header(&im, 0x100, BIT(0) | BIT(1) | BIT(20)); /* optional high bits are fine */
	CHECK(load(g, &im, "", NULL, 0, &res) == NULL);
}

TEST(loader_rejects_bad_memory_sizes)
{
	struct image im;
	struct mb1_result res;
	std_elf(&im);
	struct guest *g = new_guest(0x100000);
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
	struct guest_mem_ops ops = {guest_write, g};
	CHECK(mb1_load(&ops, 8ULL << 30, test_dup(im.b, im.len), im.len, "", NULL, 0, &res) !=
	      NULL);
	CHECK_EQ(g->writes, 0);
}

TEST(loader_rejects_bad_elf)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	std_elf(&im);
	im.b[4] = 2;
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "ELF64");
	std_elf(&im);
	w16(&im, 18, 62); /* x86-64 */
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
	std_elf(&im);
	im.b[1] = 'X';
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
	std_elf(&im);
	w16(&im, 42, 56); /* phentsize */
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
	std_elf(&im);
	w16(&im, 44, 0); /* no program headers */
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
	std_elf(&im);
	w16(&im, 44, 0xffff);
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
}

TEST(loader_rejects_phdrs_outside_file)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	std_elf(&im);
	w32(&im, 28, (u32)im.len - 16); /* phoff: the table runs past the end */
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "outside the file");
	std_elf(&im);
	w32(&im, 28, 0xfffffff0u);
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "outside the file");
	std_elf(&im);
	w16(&im, 44, 64); /* 64 headers of 32 bytes from 52: past 0x1800 */
	im.len = 0x1000;
	CHECK(load(g, &im, "", NULL, 0, &res) != NULL);
}

TEST(loader_rejects_bad_segments)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	const struct {
		struct seg s;
		u32 entry;
		const char *why;
	} cases[] = {
	    {{1, 0x1000, 0x100000, 0x900, 0x800}, 0x100000, "filesz > memsz"},
	    {{1, 0x1000, 0x100000, 0x10000, 0x10000}, 0x100000, "outside the file"},
	    {{1, 0xfffffff0u, 0x100000, 0x20, 0x20}, 0x100000, "outside the file"},
	    {{1, 0x1000, 0x9f000, 0x100, 0x2000}, 0x9f000, "guest RAM"},	 /* into the hole */
	    {{1, 0x1000, 0xa0000, 0x100, 0x100}, 0xa0000, "guest RAM"},		 /* VGA hole */
	    {{1, 0x1000, MEM - 0x100, 0x100, 0x200}, MEM - 0x100, "guest RAM"},	 /* past the end */
	    {{1, 0x1000, 0xfffff000u, 0x100, 0x2000}, 0xfffff000u, "guest RAM"}, /* past 4 GiB */
	    {{1, 0x1000, 0x100000, 0x100, 0x200}, 0x100200, "entry point"},
	    {{1, 0x1000, 0x100000, 0x100, 0x200}, 0xfffff, "entry point"},
	    {{4, 0x1000, 0x100000, 0x100, 0x200}, 0x100000, "no loadable segment"},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		elf_image(&im, cases[i].entry, &cases[i].s, 1);
		if (cases[i].s.offset == 0x1000 && cases[i].s.filesz > 0x2000)
			im.len = 0x2000; /* the file ends before the segment does */
		const char *err = load(g, &im, "", NULL, 0, &res);
		CHECK_CONTAINS(err, cases[i].why);
	}
}

TEST(loader_rejects_bad_aout)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	/* header_addr below load_addr */
	aout_image(&im, 0x2000, 0x40, 0x100000, 0, 0, 0x100000);
	w32(&im, 0x40 + 12, 0xff000);
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "inconsistent");
	/* header_addr implies loading from before the start of the file */
	aout_image(&im, 0x2000, 0x40, 0x100000, 0, 0, 0x100000);
	w32(&im, 0x40 + 12, 0x100100);
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "inconsistent");
	/* load_end beyond the file, and before load_addr */
	aout_image(&im, 0x2000, 0x40, 0x100000, 0x103000, 0, 0x100000);
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "load_end_addr");
	aout_image(&im, 0x2000, 0x40, 0x100000, 0xff000, 0, 0x100000);
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "load_end_addr");
	/* bss_end before load_end */
	aout_image(&im, 0x2000, 0x40, 0x100000, 0x101000, 0x100800, 0x100000);
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "bss_end_addr");
	/* does not fit in RAM */
	aout_image(&im, 0x2000, 0x40, 0x9f000, 0, 0, 0x9f000);
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "guest RAM");
	aout_image(&im, 0x2000, 0x40, 0x100000, 0, 0xffffff00u, 0x100000);
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "guest RAM");
	/* entry outside the loaded image */
	aout_image(&im, 0x2000, 0x40, 0x100000, 0, 0x104000, 0x103000);
	CHECK_CONTAINS(load(g, &im, "", NULL, 0, &res), "entry point");
}

TEST(loader_rejects_too_many_or_too_large_modules)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	std_elf(&im);
	u8 *d = test_alloc(16);
	struct mb1_module mods[9];
	for (unsigned i = 0; i < 9; i++)
		mods[i] = (struct mb1_module){d, 16, "m"};
	CHECK(load(g, &im, "", mods, 8, &res) == NULL);
	CHECK_CONTAINS(load(g, &im, "", mods, 9, &res), "too many modules");
	/* a module larger than what is left above the kernel */
	u8 *big = test_alloc(MEM);
	struct mb1_module m = {big, MEM - 0x100000, "big"};
	CHECK_CONTAINS(load(g, &im, "", &m, 1, &res), "modules do not fit");
	/* it fits, but then the info block does not */
	m.len = MEM - 0x102000;
	CHECK(load(g, &im, "", &m, 1, &res) != NULL);
	/* one that leaves room for info, mmap and strings */
	m.len = MEM - 0x102000 - 0x2000;
	CHECK(load(g, &im, "", &m, 1, &res) == NULL);
}

TEST(loader_rejects_command_line_that_does_not_fit)
{
	struct image im;
	struct mb1_result res;
	struct guest *g = new_guest(MEM);
	std_elf(&im);
	u8 *big = test_alloc(MEM);
	struct mb1_module m = {big, MEM - 0x102000 - 0x1000, "big"};
	char *cl = test_alloc(0x1000);
	memset(cl, 'c', 0x1000 - 1);
	CHECK(load(g, &im, cl, &m, 1, &res) != NULL);
}
