/* Linux bzImage loader for the 64-bit boot protocol: setup header checks, kernel and initrd
 * placement in e820 RAM, boot_params, GDT and identity page tables. The image is untrusted:
 * every field is checked before it is used and every write goes through guest_mem_ops. */
#include "linux.h"
#include "../../hypervisor/lib.h"

/* The setup header as it sits in the image and in boot_params, from offset 0x1f1. */
struct __packed setup_header {
	u8 setup_sects;
	u16 root_flags;
	u32 syssize;
	u16 ram_size, vid_mode, root_dev, boot_flag, jump;
	u32 header;
	u16 version;
	u32 realmode_swtch;
	u16 start_sys_seg, kernel_version;
	u8 type_of_loader, loadflags;
	u16 setup_move_size;
	u32 code32_start, ramdisk_image, ramdisk_size, bootsect_kludge;
	u16 heap_end_ptr;
	u8 ext_loader_ver, ext_loader_type;
	u32 cmd_line_ptr, initrd_addr_max, kernel_alignment;
	u8 relocatable_kernel, min_alignment;
	u16 xloadflags;
	u32 cmdline_size, hardware_subarch;
	u64 hardware_subarch_data;
	u32 payload_offset, payload_length;
	u64 setup_data, pref_address;
	u32 init_size, handover_offset, kernel_info_offset;
};

#define HDR_OFF		  0x1f1
#define HDR_AT(field)	  (HDR_OFF + offsetof(struct setup_header, field))
#define HDR_MAGIC	  0x53726448	    /* "HdrS" */
#define HDR_ROOM	  (0x290 - HDR_OFF) /* boot_params.hdr up to edd_mbr_sig_buffer */
#define PROTO_64BIT_ENTRY 0x20c		    /* 2.12: xloadflags, XLF_KERNEL_64 */
#define ENTRY_64_OFFSET	  0x200		    /* startup_64 is 0x200 after startup_32 */

STATIC_ASSERT(HDR_AT(header) == 0x202);
STATIC_ASSERT(HDR_AT(kernel_version) == 0x20e);
STATIC_ASSERT(HDR_AT(cmd_line_ptr) == 0x228);
STATIC_ASSERT(HDR_AT(xloadflags) == 0x236);
STATIC_ASSERT(HDR_AT(pref_address) == 0x258);
STATIC_ASSERT(HDR_AT(kernel_info_offset) == 0x268);
STATIC_ASSERT(sizeof(struct setup_header) <= HDR_ROOM);

#define LOADED_HIGH   BIT(0)
#define QUIET_FLAG    BIT(5)
#define KEEP_SEGMENTS BIT(6)
#define CAN_USE_HEAP  BIT(7)
#define XLF_KERNEL_64 BIT(0)

/* boot_params ("zero page") fields outside the setup header. */
#define BP_SIZE		     0x1000
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES	     0x1e8
#define BP_E820_TABLE	     0x2d0
STATIC_ASSERT(sizeof(struct linux_e820) == 20);
STATIC_ASSERT(BP_E820_TABLE + LINUX_E820_MAX * sizeof(struct linux_e820) <= 0xd00);

/* Flat 4 GiB descriptors with the accessed bit set, so the CPU never writes them back. */
#define GDT_CODE64  0x00af9b000000ffffULL /* G, L, P, DPL 0, execute/read */
#define GDT_DATA    0x00cf93000000ffffULL /* G, D/B, P, DPL 0, read/write */
#define GDT_ENTRIES 4
/* VMCS access rights are descriptor bits 40-55 with the limit nibble (51:48) cleared. */
#define DESC_AR(d) ((u32)(((d) >> 40) & 0xf0ff))

#define PTE_P  BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)
#define GIB    (1ULL << 30)
#define MIB2   (2ULL << 20)

struct image_info {
	struct setup_header h;
	u8 raw[HDR_ROOM]; /* the header bytes as the image has them, zero-padded */
	size_t hdr_len;	  /* bytes of raw that come from the image */
	u64 kernel_off, kernel_bytes, align;
};

static u32 get32(const u8 *p)
{
	u32 v;
	memcpy(&v, p, 4);
	return v;
}

bool linux_is_bzimage(const u8 *image, size_t len)
{
	return len >= HDR_AT(header) + 4 && get32(image + HDR_AT(header)) == HDR_MAGIC;
}

static u64 setup_bytes(const u8 *image)
{
	u8 sects = image[HDR_OFF];
	return ((u64)(sects ? sects : 4) + 1) * 512; /* 0 means 4, for old kernels */
}

const char *linux_kernel_version(const u8 *image, size_t len)
{
	if (len < HDR_AT(kernel_version) + 2 || !linux_is_bzimage(image, len))
		return NULL;
	u16 kv;
	memcpy(&kv, image + HDR_AT(kernel_version), 2);
	u64 setup = MIN(setup_bytes(image), (u64)len);
	u64 off = (u64)kv + 0x200; /* the field is relative to the setup code at 0x200 */
	if (!kv || off >= setup)
		return NULL;
	const char *s = (const char *)image + off;
	return strnlen(s, setup - off) < setup - off ? s : NULL;
}

static const char *parse_header(const u8 *image, size_t len, struct image_info *ii)
{
	if (!linux_is_bzimage(image, len))
		return "not a Linux bzImage: no \"HdrS\" setup header at 0x202";
	memset(ii, 0, sizeof(*ii));
	if (len < HDR_AT(version) + 2)
		return "Linux setup header runs past the end of the file";
	u16 version;
	memcpy(&version, image + HDR_AT(version), 2);
	if (version < PROTO_64BIT_ENTRY)
		return "Linux boot protocol is older than 2.12: no 64-bit entry point";
	/* the header ends at 0x202 + the jump's displacement byte, as boot.rst says */
	u64 hdr_end = 0x202 + (u64)image[0x201];
	if (hdr_end < HDR_AT(init_size) + 4)
		return "Linux setup header is too short for protocol 2.12";
	if (hdr_end > HDR_OFF + HDR_ROOM)
		return "Linux setup header is longer than boot_params has room for";
	if (hdr_end > len)
		return "Linux setup header runs past the end of the file";
	ii->hdr_len = hdr_end - HDR_OFF;
	memcpy(ii->raw, image + HDR_OFF, ii->hdr_len);
	memcpy(&ii->h, ii->raw, sizeof(ii->h));
	const struct setup_header *h = &ii->h;

	ii->kernel_off = setup_bytes(image);
	if (ii->kernel_off >= len)
		return "setup_sects puts the protected-mode kernel beyond the end of the file";
	if (hdr_end > ii->kernel_off)
		return "Linux setup header overlaps the protected-mode kernel";
	if (h->syssize == 0)
		return "syssize is 0: no protected-mode kernel";
	ii->kernel_bytes = (u64)h->syssize * 16;
	if (ii->kernel_bytes > len - ii->kernel_off)
		return "syssize says the kernel is longer than the file";
	if (!(h->loadflags & LOADED_HIGH))
		return "not a bzImage (LOADED_HIGH clear): zImage kernels are not supported";
	if (!(h->xloadflags & XLF_KERNEL_64))
		return "kernel has no 64-bit entry point (XLF_KERNEL_64 clear)";
	if (h->init_size < ii->kernel_bytes)
		return "init_size is smaller than the protected-mode kernel";
	ii->align = PAGE_SIZE;
	if (h->relocatable_kernel) {
		u32 a = h->kernel_alignment;
		if (a == 0 || (a & (a - 1)))
			return "kernel_alignment is not a power of two";
		ii->align = MAX((u64)a, PAGE_SIZE);
	}
	return NULL;
}

/* The map is the hypervisor's, but still checked: the loader places everything by it. */
static const char *check_e820(const struct linux_config *c)
{
	if (!c->e820 || c->e820_count == 0)
		return "no e820 memory map given";
	if (c->e820_count > LINUX_E820_MAX)
		return "e820 memory map has more than 128 entries";
	for (unsigned i = 0; i < c->e820_count; i++) {
		const struct linux_e820 *a = &c->e820[i];
		if (a->size == 0 || a->addr + a->size < a->addr)
			return "e820 entry is empty or wraps around";
		for (unsigned j = 0; j < i; j++) {
			const struct linux_e820 *b = &c->e820[j];
			if (a->addr < b->addr + b->size && b->addr < a->addr + a->size)
				return "e820 entries overlap";
		}
	}
	return NULL;
}

/* [start, end) is all e820 RAM, possibly over several adjacent entries. */
static bool e820_is_ram(const struct linux_config *c, u64 start, u64 end)
{
	if (end <= start)
		return false;
	u64 pos = start;
	while (pos < end) {
		unsigned i;
		for (i = 0; i < c->e820_count; i++) {
			const struct linux_e820 *e = &c->e820[i];
			if (e->type == LINUX_E820_RAM && e->addr <= pos && pos - e->addr < e->size)
				break;
		}
		if (i == c->e820_count)
			return false;
		pos = c->e820[i].addr + c->e820[i].size;
	}
	return true;
}

static u64 e820_ram_top(const struct linux_config *c)
{
	u64 top = 0;
	for (unsigned i = 0; i < c->e820_count; i++)
		if (c->e820[i].type == LINUX_E820_RAM)
			top = MAX(top, c->e820[i].addr + c->e820[i].size);
	return top;
}

/*
 * The x86-64 decompressor runs at max(load address rounded up to kernel_alignment,
 * LOAD_PHYSICAL_ADDR), and pref_address is LOAD_PHYSICAL_ADDR: loading a relocatable kernel
 * below pref_address would still need [pref_address, +init_size). So the kernel goes at
 * pref_address, or at the lowest aligned address above it with init_size bytes of RAM.
 */
static const char *place_kernel(const struct linux_config *c, const struct image_info *ii,
				u64 idmap, u64 *at)
{
	const struct setup_header *h = &ii->h;
	u64 need = h->init_size;
	if (!h->relocatable_kernel) {
		u64 a = h->pref_address;
		if (a < GUEST_HIGH_START || a % PAGE_SIZE)
			return "non-relocatable kernel has an unusable pref_address";
		if (a > idmap || need > idmap - a || !e820_is_ram(c, a, a + need))
			return "non-relocatable kernel does not fit in guest RAM at pref_address";
		*at = a;
		return NULL;
	}
	u64 lo = MAX(h->pref_address, GUEST_HIGH_START), best = UINT64_MAX;
	for (unsigned i = 0; i < c->e820_count; i++) {
		const struct linux_e820 *e = &c->e820[i];
		if (e->type != LINUX_E820_RAM)
			continue;
		u64 from = MAX(e->addr, lo);
		u64 a = ALIGN_UP(from, ii->align);
		if (a < from || a > idmap || need > idmap - a)
			continue;
		if (a < best && e820_is_ram(c, a, a + need))
			best = a;
	}
	if (best == UINT64_MAX)
		return "kernel does not fit in guest RAM: not enough room for init_size";
	*at = best;
	return NULL;
}

/* Highest page-aligned spot above 1 MiB for size bytes below top inside one e820 entry;
 * 0 if there is none. */
static u64 initrd_spot(const struct linux_e820 *e, u64 top, u64 size)
{
	top = MIN(top, e->addr + e->size);
	if (top < size)
		return 0;
	u64 a = ALIGN_DOWN(top - size, PAGE_SIZE);
	return a >= e->addr && a >= GUEST_HIGH_START ? a : 0;
}

static const char *place_initrd(const struct linux_config *c, const struct image_info *ii,
				u64 idmap, u64 k_start, u64 k_end, u64 *at)
{
	u64 size = c->initrd_len, best = 0;
	/* initrd_addr_max is the highest address the initrd's last byte may use */
	u64 limit = MIN((u64)ii->h.initrd_addr_max + 1, idmap);
	for (unsigned i = 0; i < c->e820_count; i++) {
		const struct linux_e820 *e = &c->e820[i];
		if (e->type != LINUX_E820_RAM)
			continue;
		u64 a = initrd_spot(e, limit, size);
		if (a && a < k_end && k_start < a + size)
			a = initrd_spot(e, MIN(limit, k_start), size); /* below the kernel */
		if (a && (a >= k_end || a + size <= k_start))
			best = MAX(best, a);
	}
	if (!best)
		return "initrd does not fit in guest RAM below initrd_addr_max";
	*at = best;
	return NULL;
}

static bool write_page_tables(const struct guest_mem_ops *m, u64 gib)
{
	u64 pml4 = LINUX_PT_ADDR, pdpt = pml4 + PAGE_SIZE, pd = pdpt + PAGE_SIZE;
	u64 e = pdpt | PTE_P | PTE_RW;
	if (!guest_zero(m, pml4, 2 * PAGE_SIZE) || !m->write(m->ctx, pml4, &e, 8))
		return false;
	for (u64 i = 0; i < gib; i++) {
		e = (pd + i * PAGE_SIZE) | PTE_P | PTE_RW;
		if (!m->write(m->ctx, pdpt + i * 8, &e, 8))
			return false;
	}
	/* 512 2 MiB entries per directory, written 64 at a time to keep the stack small */
	u64 chunk[64];
	for (u64 n = 0; n < gib * 512; n += ARRAY_SIZE(chunk)) {
		for (unsigned j = 0; j < ARRAY_SIZE(chunk); j++)
			chunk[j] = (n + j) * MIB2 | PTE_P | PTE_RW | PTE_PS;
		if (!m->write(m->ctx, pd + n * 8, chunk, sizeof(chunk)))
			return false;
	}
	return true;
}

static void hdr_set(struct image_info *ii, size_t at, const void *v, size_t n)
{
	memcpy(ii->raw + (at - HDR_OFF), v, n);
}

static bool write_boot_params(const struct guest_mem_ops *m, const struct linux_config *c,
			      struct image_info *ii, const struct linux_boot *b)
{
	u64 bp = b->boot_params;
	/* the header is copied from the image and then the loader's fields are filled in;
	 * CAN_USE_HEAP stays clear: heap_end_ptr is an offset in the real-mode setup code,
	 * which a 64-bit boot neither loads nor runs */
	u8 type_of_loader = 0xff;
	u8 loadflags = ii->h.loadflags & ~(u8)(QUIET_FLAG | KEEP_SEGMENTS | CAN_USE_HEAP);
	u32 cmd = (u32)b->cmdline_addr, rd = (u32)b->initrd_addr, rds = (u32)b->initrd_size;
	u32 zero32 = 0;
	u64 zero64 = 0;
	hdr_set(ii, HDR_AT(type_of_loader), &type_of_loader, 1);
	hdr_set(ii, HDR_AT(loadflags), &loadflags, 1);
	hdr_set(ii, HDR_AT(cmd_line_ptr), &cmd, 4);
	hdr_set(ii, HDR_AT(ramdisk_image), &rd, 4);
	hdr_set(ii, HDR_AT(ramdisk_size), &rds, 4);
	hdr_set(ii, HDR_AT(hardware_subarch), &zero32, 4); /* a plain PC */
	hdr_set(ii, HDR_AT(hardware_subarch_data), &zero64, 8);
	hdr_set(ii, HDR_AT(setup_data), &zero64, 8); /* no setup_data list */

	u32 ext_cmd = (u32)(b->cmdline_addr >> 32), ext_rd = (u32)(b->initrd_addr >> 32);
	u32 ext_rds = (u32)(b->initrd_size >> 32);
	u8 n = (u8)c->e820_count;
	return guest_zero(m, bp, BP_SIZE) && m->write(m->ctx, bp + HDR_OFF, ii->raw, ii->hdr_len) &&
	       m->write(m->ctx, bp + BP_EXT_CMD_LINE_PTR, &ext_cmd, 4) &&
	       m->write(m->ctx, bp + BP_EXT_RAMDISK_IMAGE, &ext_rd, 4) &&
	       m->write(m->ctx, bp + BP_EXT_RAMDISK_SIZE, &ext_rds, 4) &&
	       m->write(m->ctx, bp + BP_ACPI_RSDP_ADDR, &c->acpi_rsdp, 8) &&
	       m->write(m->ctx, bp + BP_E820_ENTRIES, &n, 1) &&
	       m->write(m->ctx, bp + BP_E820_TABLE, c->e820, c->e820_count * sizeof(*c->e820));
}

unsigned linux_e820_keel(u64 mem_bytes, struct linux_e820 *map, unsigned max)
{
	if (max < 4 || mem_bytes <= GUEST_HIGH_START)
		return 0;
	map[0] = (struct linux_e820){0, GUEST_LOW_RAM_END, LINUX_E820_RAM};
	map[1] = (struct linux_e820){GUEST_LOW_RAM_END, GUEST_HOLE_START - GUEST_LOW_RAM_END,
				     LINUX_E820_RESERVED};
	map[2] = (struct linux_e820){0xf0000, GUEST_HIGH_START - 0xf0000, LINUX_E820_RESERVED};
	map[3] =
	    (struct linux_e820){GUEST_HIGH_START, mem_bytes - GUEST_HIGH_START, LINUX_E820_RAM};
	return 4;
}

const char *linux_load(const struct guest_mem_ops *m, const u8 *image, size_t len,
		       const struct linux_config *c, struct linux_boot *out)
{
	struct image_info ii;
	const char *err;
	if ((err = parse_header(image, len, &ii)) || (err = check_e820(c)))
		return err;

	const char *cmdline = c->cmdline ? c->cmdline : "";
	u64 cmd_len = strnlen(cmdline, LINUX_CMDLINE_MAX);
	if (cmd_len > ii.h.cmdline_size)
		return "command line is longer than the kernel's cmdline_size";
	if (cmd_len >= LINUX_CMDLINE_MAX)
		return "command line is longer than Keel's command-line buffer";

	/* identity map: 4 GiB at least, all RAM if more, one page directory per GiB */
	u64 gib = MAX(4, (e820_ram_top(c) + GIB - 1) / GIB);
	gib = MIN(gib, (u64)LINUX_IDMAP_MAX_GIB);
	u64 idmap = gib * GIB, pt_end = LINUX_PT_ADDR + (2 + gib) * PAGE_SIZE;
	STATIC_ASSERT(LINUX_PT_ADDR + (2 + LINUX_IDMAP_MAX_GIB) * PAGE_SIZE <= LINUX_LOW_END);
	if (!e820_is_ram(c, LINUX_GDT_ADDR, pt_end))
		return "e820 map has no RAM where the loader puts boot_params and page tables";

	memset(out, 0, sizeof(*out));
	if ((err = place_kernel(c, &ii, idmap, &out->kernel_addr)))
		return err;
	out->kernel_size = ii.kernel_bytes;
	out->kernel_end = out->kernel_addr + ii.h.init_size;
	if (c->initrd && c->initrd_len) {
		if ((err = place_initrd(c, &ii, idmap, out->kernel_addr, out->kernel_end,
					&out->initrd_addr)))
			return err;
		out->initrd_size = c->initrd_len;
	}
	out->protocol = ii.h.version;
	out->boot_params = out->rsi = LINUX_BOOT_PARAMS_ADDR;
	out->cmdline_addr = LINUX_CMDLINE_ADDR;
	out->cmdline_len = cmd_len;
	out->identity_mapped = idmap;
	out->pt_end = pt_end;
	out->cr3 = LINUX_PT_ADDR;
	out->gdt_base = LINUX_GDT_ADDR;
	out->gdt_limit = GDT_ENTRIES * 8 - 1;
	out->cs_sel = LINUX_BOOT_CS;
	out->ds_sel = LINUX_BOOT_DS;
	out->cs_ar = DESC_AR(GDT_CODE64);
	out->ds_ar = DESC_AR(GDT_DATA);
	out->rip = out->kernel_addr + ENTRY_64_OFFSET;

	const u64 gdt[GDT_ENTRIES] = {0, 0, GDT_CODE64, GDT_DATA};
	STATIC_ASSERT(LINUX_BOOT_CS == 2 * 8 && LINUX_BOOT_DS == 3 * 8);
	if (!m->write(m->ctx, out->kernel_addr, image + ii.kernel_off, ii.kernel_bytes))
		return "cannot write the kernel into guest RAM";
	if (out->initrd_size && !m->write(m->ctx, out->initrd_addr, c->initrd, c->initrd_len))
		return "cannot write the initrd into guest RAM";
	if (!m->write(m->ctx, out->cmdline_addr, cmdline, cmd_len + 1))
		return "cannot write the command line into guest RAM";
	if (!m->write(m->ctx, LINUX_GDT_ADDR, gdt, sizeof(gdt)) || !write_page_tables(m, gib))
		return "cannot write the GDT and page tables into guest RAM";
	if (!write_boot_params(m, c, &ii, out))
		return "cannot write boot_params into guest RAM";
	return NULL;
}
