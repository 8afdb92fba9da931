/* Tests of the Linux boot-protocol loader (guests/loader/linux.c) with well-formed kernels:
 * synthetic bzImages loaded into a fake guest memory, boot_params, e820, page tables and GDT
 * read back from it, and the real Debian kernel when it is built. Hostile images are in
 * test_linux_loader_hostile.c. */
#include <stdio.h>
#include <stdlib.h>

#include "linux_fake.h"

/* ---- page-table walk over fake memory: 4-level IA-32e, 2 MiB and 1 GiB pages ---- */

static bool walk(const struct guest *g, u64 cr3, u64 va, u64 *pa)
{
	u64 table = cr3 & ~0xfffULL;
	for (int level = 3; level >= 0; level--) {
		u64 e = rd64(g, table + ((va >> (12 + 9 * level)) & 511) * 8);
		if (!(e & 1))
			return false;
		u64 addr = e & 0x000ffffffffff000ULL;
		if (level == 0 || (level <= 2 && (e & 0x80))) {
			u64 page = 1ULL << (12 + 9 * level);
			if (level == 3 || (addr & (page - 1)))
				return false;
			*pa = addr | (va & (page - 1));
			return true;
		}
		table = addr;
	}
	return false;
}

/* ---- well-formed kernels ---- */

TEST(linux_loads_synthetic_kernel)
{
	struct image im;
	struct linux_boot b;
	struct guest *g = new_guest(MEM);
	bz_image(&im);
	CHECK(load(g, &im, "console=ttyS0", &b) == NULL);
	CHECK_EQ(g->refused, 0);
	CHECK_EQ(b.protocol, 0x20f);
	CHECK_EQ(b.kernel_addr, 0x200000); /* pref_address */
	CHECK_EQ(b.kernel_size, KERNEL_BYTES);
	CHECK_EQ(b.kernel_end, 0x300000); /* + init_size */
	CHECK_EQ(b.rip, 0x200200);	  /* startup_64 */
	CHECK_EQ(b.rsi, LINUX_BOOT_PARAMS_ADDR);
	CHECK_EQ(b.boot_params, LINUX_BOOT_PARAMS_ADDR);
	CHECK_EQ(b.cr3, LINUX_PT_ADDR);
	CHECK_EQ(b.gdt_base, LINUX_GDT_ADDR);
	CHECK_EQ(b.gdt_limit, 0x1f);
	CHECK_EQ(b.cs_sel, 0x10);
	CHECK_EQ(b.ds_sel, 0x18);
	CHECK_EQ(b.cs_ar, 0xa09b);
	CHECK_EQ(b.ds_ar, 0xc093);
	CHECK_EQ(b.initrd_addr, 0);
	CHECK_EQ(b.initrd_size, 0);
	CHECK_EQ(b.identity_mapped, 4 * GIB);
	CHECK_EQ(b.pt_end, LINUX_PT_ADDR + 6 * PAGE_SIZE);
	/* the protected-mode kernel, exactly syssize * 16 bytes of it */
	CHECK(!memcmp(g->ram + 0x200000, im.b + SETUP_BYTES, KERNEL_BYTES));
	CHECK_EQ(g->ram[0x200000 + KERNEL_BYTES], 0xcc);
	/* nothing in page 0, the hole or the BIOS area; everything low stays under LOW_END */
	for (u64 a = 0; a < 0x1000; a++)
		REQUIRE(g->ram[a] == 0xcc);
	for (u64 a = LINUX_LOW_END; a < 0x200000; a++)
		REQUIRE(g->ram[a] == 0xcc);
}

TEST(linux_boot_params_fields)
{
	struct image im;
	struct linux_boot b;
	struct guest *g = new_guest(MEM);
	bz_image(&im);
	w8(&im, 0x211, 0x01 | 0x20 | 0x40 | 0x80); /* QUIET, KEEP_SEGMENTS, CAN_USE_HEAP */
	w64(&im, 0x250, 0xdeadbeef000ULL);	   /* setup_data the loader must not pass on */
	w32(&im, 0x23c, 2);			   /* hardware_subarch: Xen */
	u8 *rd = test_alloc(5000);
	memset(rd, 0x5a, 5000);
	struct linux_config cfg = config(g);
	cfg.cmdline = "console=ttyS0 keel.script=/keel/check.sh";
	cfg.initrd = rd;
	cfg.initrd_len = 5000;
	cfg.acpi_rsdp = 0xe0000;
	CHECK(load_cfg(g, &im, &cfg, &b) == NULL);
	u64 bp = b.boot_params;
	/* the header is the image's, from 0x1f1 to 0x202 + image[0x201] ... */
	for (u64 off = 0x1f1; off < 0x26c; off++) {
		bool loader_field = (off >= 0x210 && off < 0x212) ||
				    (off >= 0x218 && off < 0x220) ||
				    (off >= 0x228 && off < 0x22c) ||
				    (off >= 0x23c && off < 0x248) || (off >= 0x250 && off < 0x258);
		if (!loader_field && rd8(g, bp + off) != im.b[off]) {
			CHECK_EQ(off, 0); /* names the first differing offset */
			break;
		}
	}
	/* ... with the loader's fields filled in */
	CHECK_EQ(rd8(g, bp + 0x210), 0xff); /* type_of_loader: undefined */
	CHECK_EQ(rd8(g, bp + 0x211), 0x01); /* LOADED_HIGH kept, loader bits cleared */
	CHECK_EQ(rd32(g, bp + 0x228), LINUX_CMDLINE_ADDR);
	CHECK_EQ(rd32(g, bp + 0x0c8), 0); /* ext_cmd_line_ptr */
	CHECK_EQ(rd32(g, bp + 0x218), b.initrd_addr);
	CHECK_EQ(rd32(g, bp + 0x21c), 5000);
	CHECK_EQ(rd32(g, bp + 0x0c0), 0); /* ext_ramdisk_image */
	CHECK_EQ(rd32(g, bp + 0x0c4), 0); /* ext_ramdisk_size */
	CHECK_EQ(rd64(g, bp + 0x250), 0); /* setup_data */
	CHECK_EQ(rd32(g, bp + 0x23c), 0); /* hardware_subarch: PC */
	CHECK_EQ(rd64(g, bp + 0x070), 0xe0000);
	CHECK_EQ(rd16(g, bp + 0x206), 0x20f);
	CHECK_EQ(rd32(g, bp + 0x202), 0x53726448);
	/* everything else in the zero page is zero: screen_info, sentinel, edd, the pad */
	for (u64 off = 0; off < 0x1f1; off++)
		if (off != 0x70 && off != 0x1e8 && (off < 0x70 || off >= 0x78) &&
		    rd8(g, bp + off) != 0) {
			CHECK_EQ(off, 0);
			break;
		}
	for (u64 off = 0x26c; off < 0x2d0; off++)
		CHECK_EQ(rd8(g, bp + off), 0);
	for (u64 off = 0x2d0 + 4 * 20; off < 0x1000; off++)
		if (rd8(g, bp + off) != 0) {
			CHECK_EQ(off, 0);
			break;
		}
	CHECK_STR(rdstr(g, rd32(g, bp + 0x228)), "console=ttyS0 keel.script=/keel/check.sh");
	CHECK_EQ(b.cmdline_len, strlen(cfg.cmdline));
	CHECK(!memcmp(g->ram + b.initrd_addr, rd, 5000));
}

TEST(linux_e820_table)
{
	struct image im;
	struct linux_boot b;
	struct guest *g = new_guest(MEM);
	bz_image(&im);
	CHECK(load(g, &im, "", &b) == NULL);
	u64 t = b.boot_params + 0x2d0;
	CHECK_EQ(rd8(g, b.boot_params + 0x1e8), 4);
	const u64 want[4][3] = {
	    {0, 0x9fc00, 1},
	    {0x9fc00, 0x400, 2},
	    {0xf0000, 0x10000, 2},
	    {0x100000, MEM - 0x100000, 1},
	};
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(rd64(g, t + i * 20), want[i][0]);
		CHECK_EQ(rd64(g, t + i * 20 + 8), want[i][1]);
		CHECK_EQ(rd32(g, t + i * 20 + 16), want[i][2]);
	}
	CHECK_EQ(rd64(g, t + 4 * 20), 0);
	struct linux_e820 small[3];
	CHECK_EQ(linux_e820_keel(MEM, small, 3), 0);
	CHECK_EQ(linux_e820_keel(MIB, g->map, 4), 0);
}

TEST(linux_e820_extra_ranges_are_passed_and_avoided)
{
	struct image im;
	struct linux_boot b;
	struct guest *g = new_guest(MEM);
	bz_image(&im);
	/* ACPI tables at the top of RAM: cut the last RAM entry, add an ACPI entry */
	g->map[3].size -= 64 * 1024;
	g->map[4] = (struct linux_e820){MEM - 64 * 1024, 64 * 1024, LINUX_E820_ACPI};
	g->map[5] = (struct linux_e820){0xfec00000, 0x1000, LINUX_E820_RESERVED};
	g->nmap = 6;
	u8 *rd = test_alloc(3 * PAGE_SIZE);
	struct linux_config cfg = config(g);
	cfg.initrd = rd;
	cfg.initrd_len = 3 * PAGE_SIZE;
	CHECK(load_cfg(g, &im, &cfg, &b) == NULL);
	CHECK_EQ(g->refused, 0);
	CHECK_EQ(b.initrd_addr + b.initrd_size, MEM - 64 * 1024);
	CHECK_EQ(rd8(g, b.boot_params + 0x1e8), 6);
	CHECK_EQ(rd64(g, b.boot_params + 0x2d0 + 4 * 20), MEM - 64 * 1024);
	CHECK_EQ(rd32(g, b.boot_params + 0x2d0 + 4 * 20 + 16), LINUX_E820_ACPI);
	CHECK_EQ(rd64(g, b.boot_params + 0x2d0 + 5 * 20), 0xfec00000);
}

TEST(linux_cmdline_limits)
{
	struct image im;
	struct linux_boot b;
	struct guest *g = new_guest(MEM);
	bz_image(&im);
	CHECK(load(g, &im, NULL, &b) == NULL); /* no command line: an empty one */
	CHECK_STR(rdstr(g, b.cmdline_addr), "");
	CHECK_EQ(b.cmdline_len, 0);
	/* exactly cmdline_size characters fit; one more does not */
	w32(&im, 0x238, 100);
	char s[102];
	memset(s, 'x', 101);
	s[101] = 0;
	g = new_guest(MEM);
	CHECK_CONTAINS(load(g, &im, s, &b), "cmdline_size");
	CHECK_EQ(g->writes, 0);
	s[100] = 0;
	CHECK(load(g, &im, s, &b) == NULL);
	CHECK_STR(rdstr(g, LINUX_CMDLINE_ADDR), s);
	CHECK_EQ(rd32(g, b.boot_params + 0x228), LINUX_CMDLINE_ADDR);
	/* a kernel accepting more than Keel's buffer holds: Keel's limit wins */
	w32(&im, 0x238, 0xffffffff);
	size_t n = LINUX_CMDLINE_MAX;
	char *big = test_alloc(n + 1);
	memset(big, 'y', n);
	g = new_guest(MEM);
	CHECK_CONTAINS(load(g, &im, big, &b), "command-line buffer");
	CHECK_EQ(g->writes, 0);
	big[n - 1] = 0;
	CHECK(load(g, &im, big, &b) == NULL);
	CHECK_EQ(b.cmdline_len, n - 1);
	CHECK(b.cmdline_addr + n <= LINUX_PT_ADDR);
}

TEST(linux_initrd_goes_high_and_clear_of_the_kernel)
{
	struct image im;
	struct linux_boot b;
	struct guest *g = new_guest(MEM);
	bz_image(&im);
	u8 *rd = test_alloc(MIB);
	for (unsigned i = 0; i < MIB; i++)
		rd[i] = (u8)(i * 13);
	struct linux_config cfg = config(g);
	cfg.initrd = rd;
	cfg.initrd_len = 100000;
	CHECK(load_cfg(g, &im, &cfg, &b) == NULL);
	CHECK_EQ(b.initrd_addr % PAGE_SIZE, 0);
	CHECK(b.initrd_addr + b.initrd_size <= MEM);
	CHECK(b.initrd_addr + b.initrd_size > MEM - PAGE_SIZE); /* as high as it goes */
	CHECK(!memcmp(g->ram + b.initrd_addr, rd, 100000));

	/* initrd_addr_max caps it: the last byte at most initrd_addr_max */
	w32(&im, 0x22c, 0x7fffff);
	g = new_guest(MEM);
	cfg = config(g);
	cfg.initrd = rd;
	cfg.initrd_len = 100000;
	CHECK(load_cfg(g, &im, &cfg, &b) == NULL);
	CHECK(b.initrd_addr + b.initrd_size <= 0x800000);
	CHECK(b.initrd_addr + b.initrd_size > 0x800000 - PAGE_SIZE);

	/* a cap inside the kernel's init_size: the initrd goes below the kernel */
	w32(&im, 0x22c, 0x2fffff);
	g = new_guest(MEM);
	cfg = config(g);
	cfg.initrd = rd;
	cfg.initrd_len = MIB / 2;
	CHECK(load_cfg(g, &im, &cfg, &b) == NULL);
	CHECK_EQ(b.kernel_addr, 0x200000);
	CHECK_EQ(b.initrd_addr, 0x200000 - MIB / 2);
	CHECK(!memcmp(g->ram + b.initrd_addr, rd, MIB / 2));
	CHECK_EQ(g->refused, 0);

	/* too big for the room below the kernel (and never below 1 MiB) */
	g = new_guest(MEM);
	cfg = config(g);
	cfg.initrd = rd;
	cfg.initrd_len = MIB + 1;
	CHECK_CONTAINS(load_cfg(g, &im, &cfg, &b), "initrd does not fit");
	CHECK_EQ(g->writes, 0);

	/* too big for the guest */
	w32(&im, 0x22c, 0x7fffffff);
	u8 *huge = test_alloc(MEM);
	g = new_guest(MEM);
	cfg = config(g);
	cfg.initrd = huge;
	cfg.initrd_len = MEM - 2 * MIB;
	CHECK_CONTAINS(load_cfg(g, &im, &cfg, &b), "initrd does not fit");
	CHECK_EQ(g->writes, 0);
	/* the largest that fits above the kernel */
	cfg.initrd_len = MEM - 0x300000;
	CHECK(load_cfg(g, &im, &cfg, &b) == NULL);
	CHECK_EQ(b.initrd_addr, 0x300000);
}

TEST(linux_kernel_placement)
{
	struct image im;
	struct linux_boot b;
	struct guest *g = new_guest(MEM);
	bz_image(&im);
	/* pref_address in a reserved range: the next aligned address with room */
	g->map[3] = (struct linux_e820){0x100000, 0x180000, LINUX_E820_RAM};
	g->map[4] = (struct linux_e820){0x280000, 0x200000, LINUX_E820_RESERVED};
	g->map[5] = (struct linux_e820){0x480000, MEM - 0x480000, LINUX_E820_RAM};
	g->nmap = 6;
	CHECK(load(g, &im, "", &b) == NULL);
	CHECK_EQ(b.kernel_addr, 0x600000);
	CHECK_EQ(b.rip, 0x600200);
	CHECK_EQ(g->refused, 0);
	/* RAM split over adjacent entries still counts as one run */
	g = new_guest(MEM);
	g->map[3] = (struct linux_e820){0x100000, 0x180000, LINUX_E820_RAM};
	g->map[4] = (struct linux_e820){0x280000, MEM - 0x280000, LINUX_E820_RAM};
	g->nmap = 5;
	CHECK(load(g, &im, "", &b) == NULL);
	CHECK_EQ(b.kernel_addr, 0x200000);
	/* no pref_address: the first aligned address above 1 MiB */
	w64(&im, 0x258, 0);
	g = new_guest(MEM);
	CHECK(load(g, &im, "", &b) == NULL);
	CHECK_EQ(b.kernel_addr, 0x200000);
	/* a smaller alignment is honoured too */
	w32(&im, 0x230, 0x1000);
	CHECK(load(g, &im, "", &b) == NULL);
	CHECK_EQ(b.kernel_addr, 0x100000);
	/* a higher pref_address */
	w64(&im, 0x258, 0x800000);
	w32(&im, 0x230, 0x200000);
	CHECK(load(g, &im, "", &b) == NULL);
	CHECK_EQ(b.kernel_addr, 0x800000);
	/* not relocatable: pref_address or nothing */
	w8(&im, 0x234, 0);
	w64(&im, 0x258, 0x300000);
	CHECK(load(g, &im, "", &b) == NULL);
	CHECK_EQ(b.kernel_addr, 0x300000);
	g = new_guest(MEM);
	g->map[3] = (struct linux_e820){0x100000, 0x280000, LINUX_E820_RAM};
	g->map[4] = (struct linux_e820){0x380000, 0x100000, LINUX_E820_RESERVED};
	g->map[5] = (struct linux_e820){0x480000, MEM - 0x480000, LINUX_E820_RAM};
	g->nmap = 6;
	CHECK_CONTAINS(load(g, &im, "", &b), "non-relocatable");
	w64(&im, 0x258, 0x80000); /* below 1 MiB */
	CHECK_CONTAINS(load(g, &im, "", &b), "pref_address");
	CHECK_EQ(g->writes, 0);
}

TEST(linux_identity_page_tables)
{
	struct image im;
	struct linux_boot b;
	struct guest *g = new_guest(MEM);
	bz_image(&im);
	CHECK(load(g, &im, "", &b) == NULL);
	for (u64 va = 0; va < b.identity_mapped; va += 2 * MIB) {
		u64 pa = 0;
		if (!walk(g, b.cr3, va, &pa) || pa != va) {
			CHECK_EQ(va, pa);
			break;
		}
	}
	u64 pa;
	CHECK(walk(g, b.cr3, 0x12345678, &pa) && pa == 0x12345678);
	CHECK(walk(g, b.cr3, b.rip, &pa) && pa == b.rip);
	CHECK(walk(g, b.cr3, b.identity_mapped - 1, &pa) && pa == b.identity_mapped - 1);
	CHECK(!walk(g, b.cr3, b.identity_mapped, &pa));
	CHECK(!walk(g, b.cr3, 1ULL << 39, &pa));
	/* writable, supervisor, no NX (EFER.NXE may be off), 2 MiB leaves */
	u64 pde = rd64(g, LINUX_PT_ADDR + 2 * PAGE_SIZE);
	CHECK_EQ(pde, 0x83);
	CHECK_EQ(rd64(g, LINUX_PT_ADDR) & 0xfff, 0x3);
	CHECK(b.pt_end <= LINUX_LOW_END);
}

TEST(linux_identity_map_follows_ram)
{
	struct image im;
	struct linux_boot b;
	struct guest *g = new_guest(MEM);
	bz_image(&im);
	/* the map may say more RAM than the fake backs: only low memory and the kernel are
	 * written when there is no initrd */
	g->map[3].size = 6 * GIB + GIB / 2 - MIB;
	CHECK(load(g, &im, "", &b) == NULL);
	CHECK_EQ(b.identity_mapped, 7 * GIB);
	CHECK_EQ(b.pt_end, LINUX_PT_ADDR + (2 + 7) * PAGE_SIZE);
	u64 pa;
	CHECK(walk(g, b.cr3, 6 * GIB + 0x1234, &pa) && pa == 6 * GIB + 0x1234);
	CHECK(!walk(g, b.cr3, 7 * GIB, &pa));
	g->map[3].size = 100 * GIB;
	CHECK(load(g, &im, "", &b) == NULL);
	CHECK_EQ(b.identity_mapped, (u64)LINUX_IDMAP_MAX_GIB * GIB);
	CHECK(walk(g, b.cr3, 63 * GIB, &pa) && pa == 63 * GIB);
	CHECK(b.pt_end <= LINUX_LOW_END);
	CHECK_EQ(g->refused, 0);
}

TEST(linux_gdt_descriptors)
{
	struct image im;
	struct linux_boot b;
	struct guest *g = new_guest(MEM);
	bz_image(&im);
	CHECK(load(g, &im, "", &b) == NULL);
	REQUIRE(b.gdt_limit + 1 >= 4 * 8);
	CHECK_EQ(rd64(g, b.gdt_base), 0);
	u64 cs = rd64(g, b.gdt_base + b.cs_sel), ds = rd64(g, b.gdt_base + b.ds_sel);
	/* base 0, limit 0xfffff with G: flat 4 GiB */
	CHECK_EQ(cs & 0xffff, 0xffff);
	CHECK_EQ((cs >> 48) & 0xf, 0xf);
	CHECK_EQ((cs >> 16) & 0xffffff, 0);
	CHECK_EQ(cs >> 56, 0);
	CHECK_EQ((cs >> 40) & 0xf, 0xb); /* code, execute/read, accessed */
	CHECK((cs >> 44) & 1);		 /* S: code/data */
	CHECK_EQ((cs >> 45) & 3, 0);	 /* DPL 0 */
	CHECK((cs >> 47) & 1);		 /* P */
	CHECK((cs >> 53) & 1);		 /* L: 64-bit */
	CHECK(!((cs >> 54) & 1));	 /* D must be 0 with L */
	CHECK((cs >> 55) & 1);		 /* G */
	CHECK_EQ(ds & 0xffff, 0xffff);
	CHECK_EQ((ds >> 16) & 0xffffff, 0);
	CHECK_EQ((ds >> 40) & 0xf, 0x3); /* data, read/write, accessed */
	CHECK((ds >> 44) & 1);
	CHECK((ds >> 47) & 1);
	CHECK((ds >> 54) & 1); /* B: 32-bit */
	CHECK((ds >> 55) & 1);
	/* the access rights handed to the VMCS are these descriptors' */
	CHECK_EQ(b.cs_ar, (cs >> 40) & 0xf0ff);
	CHECK_EQ(b.ds_ar, (ds >> 40) & 0xf0ff);
}

TEST(linux_version_string)
{
	struct image im;
	bz_image(&im);
	u8 *img = test_dup(im.b, im.len);
	CHECK(linux_is_bzimage(img, im.len));
	CHECK_STR(linux_kernel_version(img, im.len), VERSION_STR);
	w16(&im, 0x20e, 0); /* no version */
	CHECK(linux_kernel_version(test_dup(im.b, im.len), im.len) == NULL);
	w16(&im, 0x20e, SETUP_BYTES - 0x200); /* points at the kernel, past the setup */
	CHECK(linux_kernel_version(test_dup(im.b, im.len), im.len) == NULL);
	bz_image(&im);
	memset(im.b + 0x400, 'v', SETUP_BYTES - 0x400); /* never terminated in the setup */
	CHECK(linux_kernel_version(test_dup(im.b, im.len), im.len) == NULL);
	CHECK(linux_kernel_version(test_dup(im.b, 0x100), 0x100) == NULL);
	CHECK(!linux_is_bzimage(test_dup(im.b, 0x205), 0x205));
	memcpy(im.b + 0x202, "HdrT", 4);
	CHECK(!linux_is_bzimage(test_dup(im.b, im.len), im.len));
}

/* ---- the real Debian kernel, when `make linux-image` has fetched it ---- */

static u8 *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	u8 *b = n > 0 ? test_alloc((size_t)n) : NULL;
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n)
		b = NULL;
	fclose(f);
	*len = (size_t)n;
	return b;
}

TEST(linux_loads_debian_kernel)
{
	const char *path = getenv("KEEL_VMLINUZ") ? getenv("KEEL_VMLINUZ") : "build/linux/vmlinuz";
	size_t len;
	u8 *img = read_file(path, &len);
	if (!img) {
		printf("linux_loads_debian_kernel: %s absent, skipped (make linux-image)\n", path);
		return;
	}
	const u64 mem = 128 * MIB;
	struct guest *g = test_alloc(sizeof(*g));
	g->ram = test_alloc(mem);
	g->size = mem;
	g->nmap = linux_e820_keel(mem, g->map, ARRAY_SIZE(g->map));
	u8 rd[4096];
	memset(rd, 0x42, sizeof(rd));
	struct linux_config cfg = config(g);
	cfg.cmdline = "console=ttyS0 keel.script=/keel/check.sh";
	cfg.initrd = rd;
	cfg.initrd_len = sizeof(rd);
	struct guest_mem_ops ops = {guest_write, g};
	struct linux_boot b;
	const char *err = linux_load(&ops, img, len, &cfg, &b);
	REQUIRE(err == NULL);
	CHECK_EQ(g->refused, 0);
	CHECK(b.protocol >= 0x20c);
	CHECK_EQ(b.kernel_addr, 16 * MIB); /* Debian's pref_address: LOAD_PHYSICAL_ADDR */
	CHECK_EQ(b.rip, b.kernel_addr + 0x200);
	CHECK(b.kernel_end <= b.initrd_addr);
	CHECK_EQ(b.initrd_addr + b.initrd_size, mem);
	/* the kernel_version field points into the setup code, 0x200 past the field's base */
	u16 kv = rd16(g, b.boot_params + 0x20e);
	REQUIRE(kv != 0 && kv + 0x200u < len);
	const char *ver = (const char *)img + kv + 0x200;
	CHECK(!strncmp(ver, "6.1.", 4));
	CHECK(linux_kernel_version(img, len) == ver);
	/* the protected-mode kernel is the file's, after the setup sectors */
	u64 setup = ((u64)(img[0x1f1] ? img[0x1f1] : 4) + 1) * 512;
	REQUIRE(b.kernel_size <= len - setup);
	CHECK(!memcmp(g->ram + b.kernel_addr, img + setup, b.kernel_size));
	CHECK_EQ(rd8(g, b.boot_params + 0x210), 0xff);
	CHECK_EQ(rd16(g, b.boot_params + 0x236) & 1, 1); /* XLF_KERNEL_64 */
	printf("linux_loads_debian_kernel: %s: protocol %x, kernel %s\n", path, b.protocol,
	       linux_kernel_version(img, len));
}
