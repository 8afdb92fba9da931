/* Multiboot v1 loader. */
#include "multiboot.h"
#include "../../hypervisor/lib.h"

#define MB1_HEADER_MAGIC 0x1badb002
#define MB1_SEARCH	 8192
#define MB1_F_PAGE_ALIGN BIT(0)
#define MB1_F_MEMINFO	 BIT(1)
#define MB1_F_VIDEO	 BIT(2)
#define MB1_F_AOUT	 BIT(16)

#define MBI_MEMORY  BIT(0)
#define MBI_CMDLINE BIT(2)
#define MBI_MODS    BIT(3)
#define MBI_MMAP    BIT(6)
#define MBI_LOADER  BIT(9)

struct __packed mb1_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct __packed mb1_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	u32 boot_loader_name, apm_table;
	u32 vbe[6];
};

struct __packed mb1_mod {
	u32 start, end, string, reserved;
};

struct __packed mb1_mmap {
	u32 size;
	u64 addr, len;
	u32 type;
};

struct __packed elf32_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct __packed elf32_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

#define PT_LOAD 1

static bool in_ram(u64 mem_bytes, u64 start, u64 end)
{
	if (end < start)
		return false;
	if (end <= GUEST_LOW_RAM_END)
		return true;
	return start >= GUEST_HIGH_START && end <= mem_bytes;
}

static const char *find_header(const u8 *image, size_t len, struct mb1_header *h, size_t *off)
{
	size_t lim = len < MB1_SEARCH ? len : MB1_SEARCH;
	for (size_t o = 0; o + 12 <= lim; o += 4) {
		u32 w[3];
		memcpy(w, image + o, 12);
		if (w[0] != MB1_HEADER_MAGIC || (u32)(w[0] + w[1] + w[2]) != 0)
			continue;
		memset(h, 0, sizeof(*h));
		memcpy(h, image + o, MIN(sizeof(*h), len - o));
		if ((h->flags & MB1_F_AOUT) && len - o < sizeof(*h))
			return "multiboot header is truncated";
		*off = o;
		return NULL;
	}
	return "no multiboot header in the first 8 KiB";
}

static const char *load_aout(const struct guest_mem_ops *m, u64 mem, const u8 *image, size_t len,
			     const struct mb1_header *h, size_t hoff, struct mb1_result *out)
{
	if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > hoff)
		return "a.out kludge: header_addr/load_addr are inconsistent";
	u64 file_off = hoff - (h->header_addr - h->load_addr);
	u64 load_end = h->load_end_addr ? h->load_end_addr : h->load_addr + (len - file_off);
	if (load_end < h->load_addr || load_end - h->load_addr > len - file_off)
		return "a.out kludge: load_end_addr is beyond the file";
	u64 bss_end = h->bss_end_addr ? h->bss_end_addr : load_end;
	if (bss_end < load_end)
		return "a.out kludge: bss_end_addr is before load_end_addr";
	if (!in_ram(mem, h->load_addr, bss_end))
		return "a.out kludge: kernel does not fit in guest RAM";
	if (!m->write(m->ctx, h->load_addr, image + file_off, load_end - h->load_addr) ||
	    !guest_zero(m, load_end, bss_end - load_end))
		return "a.out kludge: cannot write the kernel into guest RAM";
	if (h->entry_addr < h->load_addr || h->entry_addr >= load_end)
		return "a.out kludge: entry point is outside the loaded image";
	out->entry = h->entry_addr;
	out->kernel_start = h->load_addr;
	out->kernel_end = (u32)bss_end;
	return NULL;
}

static const char *load_elf(const struct guest_mem_ops *m, u64 mem, const u8 *image, size_t len,
			    struct mb1_result *out)
{
	struct elf32_ehdr eh;
	if (len < sizeof(eh))
		return "not an ELF file and no a.out kludge";
	memcpy(&eh, image, sizeof(eh));
	if (memcmp(eh.ident, "\177ELF", 4))
		return "not an ELF file and no a.out kludge";
	if (eh.ident[4] != 1)
		return "ELF64 multiboot kernels are not supported (use ELF32 or the a.out kludge)";
	if (eh.ident[5] != 1 || eh.machine != 3)
		return "ELF file is not little-endian i386";
	if (eh.phentsize != sizeof(struct elf32_phdr) || eh.phnum == 0 || eh.phnum > 64)
		return "ELF program headers are malformed";
	if (eh.phoff > len || (u64)eh.phnum * sizeof(struct elf32_phdr) > len - eh.phoff)
		return "ELF program headers lie outside the file";
	u64 lo = UINT64_MAX, hi = 0;
	bool entry_ok = false;
	for (unsigned i = 0; i < eh.phnum; i++) {
		struct elf32_phdr ph;
		memcpy(&ph, image + eh.phoff + i * sizeof(ph), sizeof(ph));
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.filesz > ph.memsz)
			return "ELF segment has filesz > memsz";
		if (ph.offset > len || ph.filesz > len - ph.offset)
			return "ELF segment lies outside the file";
		u64 start = ph.paddr, end = (u64)ph.paddr + ph.memsz;
		if (!in_ram(mem, start, end))
			return "ELF segment does not fit in guest RAM";
		if (!m->write(m->ctx, start, image + ph.offset, ph.filesz) ||
		    !guest_zero(m, start + ph.filesz, ph.memsz - ph.filesz))
			return "cannot write an ELF segment into guest RAM";
		lo = MIN(lo, start);
		hi = MAX(hi, end);
		if (eh.entry >= start && eh.entry < end)
			entry_ok = true;
	}
	if (hi == 0)
		return "ELF file has no loadable segment";
	if (!entry_ok)
		return "ELF entry point is outside every loaded segment";
	out->entry = eh.entry;
	out->kernel_start = (u32)lo;
	out->kernel_end = (u32)hi;
	return NULL;
}

/* Bump allocator over guest memory above the kernel. */
struct place {
	u64 next, limit;
};

static bool place(struct place *p, u64 size, u64 align, u64 *at)
{
	u64 a = ALIGN_UP(p->next, align);
	if (a < p->next || size > p->limit || a > p->limit - size)
		return false;
	*at = a;
	p->next = a + size;
	return true;
}

/* Returns the string's guest address, 0 when it does not fit (nothing is placed below
 * 1 MiB, so 0 is never a valid result). */
static u32 put_string(const struct guest_mem_ops *m, struct place *p, const char *s)
{
	u64 a;
	size_t n = strlen(s) + 1;
	if (!place(p, n, 1, &a) || !m->write(m->ctx, a, s, n))
		return 0;
	return (u32)a;
}

const char *mb1_load(const struct guest_mem_ops *m, u64 mem_bytes, const u8 *image, size_t len,
		     const char *cmdline, const struct mb1_module *mods, unsigned nmods,
		     struct mb1_result *out)
{
	struct mb1_header h;
	size_t hoff;
	const char *err;
	if (mem_bytes <= GUEST_HIGH_START || mem_bytes > 0xffffffffULL)
		return "guest memory must be between 1 MiB and 4 GiB for multiboot";
	if ((err = find_header(image, len, &h, &hoff)))
		return err;
	/* bits 0-15 are requirements: refuse what we cannot honour, as the spec says */
	if (h.flags & 0xfff8)
		return "multiboot header requires features Keel does not provide";
	memset(out, 0, sizeof(*out));
	err = (h.flags & MB1_F_AOUT) ? load_aout(m, mem_bytes, image, len, &h, hoff, out)
				     : load_elf(m, mem_bytes, image, len, out);
	if (err)
		return err;

	struct place p = {MAX((u64)out->kernel_end, GUEST_HIGH_START), mem_bytes};
	struct mb1_mod mod[8];
	if (nmods > ARRAY_SIZE(mod))
		return "too many modules (at most 8)";
	for (unsigned i = 0; i < nmods; i++) {
		u64 a;
		if (!place(&p, mods[i].len ? mods[i].len : 1, PAGE_SIZE, &a) ||
		    !m->write(m->ctx, a, mods[i].data, mods[i].len))
			return "modules do not fit in guest RAM";
		mod[i] = (struct mb1_mod){(u32)a, (u32)(a + mods[i].len), 0, 0};
	}

	struct mb1_info info;
	memset(&info, 0, sizeof(info));
	u64 info_at, mods_at = 0, mmap_at;
	const struct mb1_mmap mmap[] = {
	    {20, 0, GUEST_LOW_RAM_END, 1},
	    {20, GUEST_LOW_RAM_END, GUEST_HOLE_START - GUEST_LOW_RAM_END, 2},
	    {20, 0xf0000, 0x10000, 2},
	    {20, GUEST_HIGH_START, mem_bytes - GUEST_HIGH_START, 1},
	};
	if (!place(&p, sizeof(info), PAGE_SIZE, &info_at) ||
	    (nmods && !place(&p, nmods * sizeof(struct mb1_mod), 16, &mods_at)) ||
	    !place(&p, sizeof(mmap), 8, &mmap_at))
		return "multiboot info does not fit in guest RAM";
	for (unsigned i = 0; i < nmods; i++)
		if (!(mod[i].string = put_string(m, &p, mods[i].string)))
			return "module strings do not fit in guest RAM";
	if (!(info.cmdline = put_string(m, &p, cmdline)) ||
	    !(info.boot_loader_name = put_string(m, &p, "Keel")))
		return "command line does not fit in guest RAM";
	info.flags = MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER;
	info.mem_lower = (u32)(GUEST_LOW_RAM_END / 1024);
	info.mem_upper = (u32)((mem_bytes - GUEST_HIGH_START) / 1024);
	info.mods_count = nmods;
	info.mods_addr = (u32)mods_at;
	info.mmap_length = sizeof(mmap);
	info.mmap_addr = (u32)mmap_at;
	if ((nmods && !m->write(m->ctx, mods_at, mod, nmods * sizeof(struct mb1_mod))) ||
	    !m->write(m->ctx, mmap_at, mmap, sizeof(mmap)) ||
	    !m->write(m->ctx, info_at, &info, sizeof(info)))
		return "cannot write the multiboot info into guest RAM";
	out->mbi = (u32)info_at;
	return NULL;
}
