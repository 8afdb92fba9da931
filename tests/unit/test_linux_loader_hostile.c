/* Tests of the Linux boot-protocol loader (guests/loader/linux.c) against hostile images and
 * configurations: bad or truncated headers, kernels bigger than RAM, bad e820 tables, random
 * header corruption; each gives an error and writes not one byte into the guest. */
#include "linux_fake.h"

/* ---- hostile images and configurations: an error, and not one byte written ---- */

static void check_rejected(struct image *im, const char *why)
{
	struct linux_boot b;
	struct guest *g = new_guest(4 * MIB);
	CHECK_CONTAINS(load(g, im, "", &b), why);
	CHECK_EQ(g->writes, 0);
	CHECK_EQ(g->refused, 0);
}

TEST(linux_rejects_bad_headers)
{
	struct image im;
	bz_image(&im);
	memcpy(im.b + 0x202, "HdrZ", 4);
	check_rejected(&im, "HdrS");
	bz_image(&im);
	w16(&im, 0x206, 0x20b);
	check_rejected(&im, "older than 2.12");
	bz_image(&im);
	w16(&im, 0x236, 0x2); /* no XLF_KERNEL_64 */
	check_rejected(&im, "XLF_KERNEL_64");
	bz_image(&im);
	w8(&im, 0x211, 0x80); /* zImage */
	check_rejected(&im, "LOADED_HIGH");
	bz_image(&im);
	w8(&im, 0x1f1, 200); /* setup_sects beyond the file */
	check_rejected(&im, "setup_sects");
	bz_image(&im);
	w32(&im, 0x1f4, (KERNEL_BYTES + SIG_BYTES) / 16 + 1); /* syssize beyond the file */
	check_rejected(&im, "syssize");
	bz_image(&im);
	w32(&im, 0x1f4, 0x10000000); /* and far beyond */
	check_rejected(&im, "syssize");
	bz_image(&im);
	w32(&im, 0x1f4, 0);
	check_rejected(&im, "syssize");
	bz_image(&im);
	w8(&im, 0x201, 0xff); /* header longer than boot_params holds */
	check_rejected(&im, "longer than boot_params");
	bz_image(&im);
	w8(&im, 0x201, 0x10); /* header too short to hold init_size */
	check_rejected(&im, "too short");
	bz_image(&im);
	w32(&im, 0x260, KERNEL_BYTES - 16);
	check_rejected(&im, "init_size is smaller");
	bz_image(&im);
	w32(&im, 0x230, 0x300000);
	check_rejected(&im, "power of two");
	bz_image(&im);
	w32(&im, 0x230, 0);
	check_rejected(&im, "power of two");
}

TEST(linux_rejects_truncated_images)
{
	struct image im;
	bz_image(&im);
	/* every cut of the file before the end of the kernel fails, reading nothing past it */
	struct guest *g = new_guest(4 * MIB);
	for (size_t len = 0; len < SETUP_BYTES + KERNEL_BYTES; len += len < 0x300 ? 1 : 61) {
		struct image cut = im;
		cut.len = len;
		struct linux_boot b;
		g->writes = g->refused = 0;
		if (load(g, &cut, "", &b) == NULL || g->writes) {
			CHECK_EQ(len, 0); /* names the length that was accepted */
			break;
		}
	}
	/* the signature bytes after syssize * 16 are optional */
	im.len = SETUP_BYTES + KERNEL_BYTES;
	struct linux_boot b;
	CHECK(load(g, &im, "", &b) == NULL);
}

TEST(linux_rejects_kernels_bigger_than_ram)
{
	struct image im;
	struct linux_boot b;
	bz_image(&im);
	w32(&im, 0x260, MEM); /* init_size larger than the guest */
	check_rejected(&im, "init_size");
	w32(&im, 0x260, 0xffffffff);
	check_rejected(&im, "init_size");
	/* exactly fits from pref_address to the end of RAM */
	bz_image(&im);
	w32(&im, 0x260, MEM - 0x200000);
	struct guest *g = new_guest(MEM);
	CHECK(load(g, &im, "", &b) == NULL);
	CHECK_EQ(b.kernel_end, MEM);
	/* a guest too small for the low structures and a kernel */
	bz_image(&im);
	g = new_guest(2 * MIB);
	CHECK_CONTAINS(load(g, &im, "", &b), "does not fit");
	CHECK_EQ(g->writes, 0);
}

TEST(linux_rejects_bad_e820)
{
	struct image im;
	struct linux_boot b;
	bz_image(&im);
	struct guest *g = new_guest(MEM);
	struct linux_config cfg = config(g);
	cfg.e820 = NULL;
	CHECK_CONTAINS(load_cfg(g, &im, &cfg, &b), "e820");
	cfg = config(g);
	cfg.e820_count = 0;
	CHECK_CONTAINS(load_cfg(g, &im, &cfg, &b), "e820");
	struct linux_e820 *many = test_alloc(130 * sizeof(*many));
	for (unsigned i = 0; i < 130; i++)
		many[i] = (struct linux_e820){(u64)i * MIB, MIB, LINUX_E820_RAM};
	cfg.e820 = many;
	cfg.e820_count = 129;
	CHECK_CONTAINS(load_cfg(g, &im, &cfg, &b), "128");
	/* 128 entries is the most boot_params holds, and fine */
	cfg.e820_count = 128;
	g->map[3] = (struct linux_e820){MIB, MEM - MIB, LINUX_E820_RAM};
	CHECK(load_cfg(g, &im, &cfg, &b) == NULL);
	CHECK_EQ(rd8(g, b.boot_params + 0x1e8), 128);
	CHECK_EQ(rd64(g, b.boot_params + 0x2d0 + 127 * 20), 127 * MIB);
	g = new_guest(MEM);
	g->map[1].addr = 0x9f000; /* overlaps low RAM */
	cfg = config(g);
	CHECK_CONTAINS(load_cfg(g, &im, &cfg, &b), "overlap");
	g = new_guest(MEM);
	g->map[3].size = 0;
	cfg = config(g);
	CHECK_CONTAINS(load_cfg(g, &im, &cfg, &b), "empty");
	g->map[3].size = ~0ULL - 0x1000;
	CHECK_CONTAINS(load_cfg(g, &im, &cfg, &b), "wraps");
	g = new_guest(MEM);
	g->map[0].type = LINUX_E820_RESERVED; /* no low RAM for boot_params */
	cfg = config(g);
	CHECK_CONTAINS(load_cfg(g, &im, &cfg, &b), "boot_params");
	CHECK_EQ(g->writes, 0);
}

/* Random corruption of the header must never crash or write outside RAM. */
TEST(linux_survives_corrupted_headers)
{
	struct image im;
	u32 seed = 12345;
	unsigned ok = 0;
	struct guest *g = new_guest(8 * MIB);
	for (unsigned iter = 0; iter < 3000; iter++) {
		bz_image(&im);
		for (unsigned k = 0; k < 1 + iter % 6; k++) {
			seed = seed * 1103515245 + 12345;
			size_t off = 0x1f1 + (seed >> 8) % (0x26c - 0x1f1);
			seed = seed * 1103515245 + 12345;
			im.b[off] = (u8)(seed >> 16);
		}
		seed = seed * 1103515245 + 12345;
		im.len = (seed >> 4) % 3 ? sizeof(im.b) : (seed >> 8) % sizeof(im.b);
		struct linux_boot b;
		g->writes = g->refused = 0;
		if (load(g, &im, "console=ttyS0", &b) == NULL) {
			ok++;
			CHECK(b.kernel_end <= 8 * MIB && b.kernel_addr >= MIB);
		}
		if (g->refused) {
			CHECK_EQ(g->refused, 0);
			break;
		}
	}
	CHECK(ok > 0); /* some corruptions are harmless, and they still load */
}
