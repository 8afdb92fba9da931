/* Shared by the Linux loader tests (test_linux_loader*.c): a fake guest memory that refuses
 * writes outside its e820 RAM and reads values back, a synthetic bzImage, and loading one. */
#ifndef KEEL_UNIT_LINUX_FAKE_H
#define KEEL_UNIT_LINUX_FAKE_H

#include "test.h"
#include "../../guests/loader/linux.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define MEM (16 * MIB)

/* ---- fake guest memory: `size` bytes backing, writes allowed only in the map's RAM ---- */

struct guest {
	u8 *ram;
	u64 size;
	struct linux_e820 map[LINUX_E820_MAX + 2];
	unsigned nmap;
	unsigned writes, refused;
};

static inline bool in_map_ram(const struct guest *g, u64 start, u64 end)
{
	u64 pos = start;
	while (pos < end) {
		unsigned i;
		for (i = 0; i < g->nmap; i++) {
			const struct linux_e820 *e = &g->map[i];
			if (e->type == LINUX_E820_RAM && e->addr <= pos && pos < e->addr + e->size)
				break;
		}
		if (i == g->nmap)
			return false;
		pos = g->map[i].addr + g->map[i].size;
	}
	return true;
}

static inline bool guest_write(void *ctx, u64 gpa, const void *src, size_t len)
{
	struct guest *g = ctx;
	if (!len)
		return true;
	if (gpa + len < gpa || gpa + len > g->size || !in_map_ram(g, gpa, gpa + len)) {
		g->refused++;
		return false;
	}
	memcpy(g->ram + gpa, src, len);
	g->writes++;
	return true;
}

/* A guest with Keel's standard map for `size` bytes of RAM, memory filled with 0xcc. */
static inline struct guest *new_guest(u64 size)
{
	struct guest *g = test_alloc(sizeof(*g));
	g->ram = test_alloc(size);
	g->size = size;
	memset(g->ram, 0xcc, size);
	g->nmap = linux_e820_keel(size, g->map, ARRAY_SIZE(g->map));
	REQUIRE(g->nmap == 4);
	return g;
}

static inline u8 rd8(const struct guest *g, u64 gpa)
{
	REQUIRE(gpa < g->size);
	return g->ram[gpa];
}

static inline u16 rd16(const struct guest *g, u64 gpa)
{
	u16 v;
	REQUIRE(gpa + 2 <= g->size);
	memcpy(&v, g->ram + gpa, 2);
	return v;
}

static inline u32 rd32(const struct guest *g, u64 gpa)
{
	u32 v;
	REQUIRE(gpa + 4 <= g->size);
	memcpy(&v, g->ram + gpa, 4);
	return v;
}

static inline u64 rd64(const struct guest *g, u64 gpa)
{
	u64 v;
	REQUIRE(gpa + 8 <= g->size);
	memcpy(&v, g->ram + gpa, 8);
	return v;
}

static inline const char *rdstr(const struct guest *g, u64 gpa)
{
	REQUIRE(gpa < g->size && memchr(g->ram + gpa, 0, g->size - gpa));
	return (const char *)g->ram + gpa;
}

/* ---- a synthetic bzImage: 4 setup sectors after the boot sector, then the kernel ---- */

#define SETUP_BYTES  (5 * 512)
#define KERNEL_BYTES 0x3000
#define SIG_BYTES    0x40 /* trailing bytes past syssize, like Debian's signature */
#define VERSION_STR  "6.1.99-keel-test (unit@keel) #1 SMP"

struct image {
	u8 b[SETUP_BYTES + KERNEL_BYTES + SIG_BYTES];
	size_t len;
};

static inline void w8(struct image *im, size_t off, u8 v)
{
	im->b[off] = v;
}

static inline void w16(struct image *im, size_t off, u16 v)
{
	memcpy(im->b + off, &v, 2);
}

static inline void w32(struct image *im, size_t off, u32 v)
{
	memcpy(im->b + off, &v, 4);
}

static inline void w64(struct image *im, size_t off, u64 v)
{
	memcpy(im->b + off, &v, 8);
}

/* Protocol 2.15, relocatable, 2 MiB aligned, preferring 2 MiB, init_size 1 MiB. */
static inline void bz_image(struct image *im)
{
	memset(im, 0, sizeof(*im));
	for (size_t i = 0; i < sizeof(im->b); i++)
		im->b[i] = (u8)(i * 7 + 1);
	im->len = sizeof(im->b);
	memset(im->b + 0x1f1, 0, 0x290 - 0x1f1);
	w8(im, 0x1f1, 4);		   /* setup_sects */
	w32(im, 0x1f4, KERNEL_BYTES / 16); /* syssize */
	w16(im, 0x1fa, 0xffff);		   /* vid_mode: normal */
	w16(im, 0x1fe, 0xaa55);		   /* boot_flag */
	w8(im, 0x200, 0xeb);		   /* jmp short ... */
	w8(im, 0x201, 0x6a);		   /* ... to 0x26c: the header's end */
	memcpy(im->b + 0x202, "HdrS", 4);  /* header */
	w16(im, 0x206, 0x20f);		   /* version */
	w16(im, 0x20e, 0x200);		   /* kernel_version: at 0x400 */
	memcpy(im->b + 0x400, VERSION_STR, sizeof(VERSION_STR));
	w8(im, 0x211, 0x01);	    /* loadflags: LOADED_HIGH */
	w32(im, 0x214, 0x100000);   /* code32_start */
	w16(im, 0x224, 0x5be0);	    /* heap_end_ptr */
	w32(im, 0x22c, 0x7fffffff); /* initrd_addr_max */
	w32(im, 0x230, 0x200000);   /* kernel_alignment */
	w8(im, 0x234, 1);	    /* relocatable_kernel */
	w8(im, 0x235, 21);	    /* min_alignment */
	w16(im, 0x236, 0x3);	    /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	w32(im, 0x238, 2047);	    /* cmdline_size */
	w64(im, 0x258, 0x200000);   /* pref_address */
	w32(im, 0x260, 0x100000);   /* init_size */
	w32(im, 0x264, 0x1234);	    /* handover_offset */
	w32(im, 0x268, 0x2000);	    /* kernel_info_offset */
}

static inline struct linux_config config(const struct guest *g)
{
	return (struct linux_config){.e820 = g->map, .e820_count = g->nmap};
}

static inline const char *load_cfg(struct guest *g, const struct image *im,
				   const struct linux_config *cfg, struct linux_boot *out)
{
	struct guest_mem_ops ops = {guest_write, g};
	/* an exact-size copy, so that a read past the image is caught */
	return linux_load(&ops, test_dup(im->b, im->len), im->len, cfg, out);
}

static inline const char *load(struct guest *g, const struct image *im, const char *cmdline,
			       struct linux_boot *out)
{
	struct linux_config cfg = config(g);
	cfg.cmdline = cmdline;
	return load_cfg(g, im, &cfg, out);
}

#endif
