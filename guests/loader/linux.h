/* Linux x86 boot protocol loader, 64-bit entry (Documentation/arch/x86/boot.rst): checks a
 * bzImage's setup header, places the protected-mode kernel and the initrd, and builds
 * boot_params, the command line, a GDT and identity page tables in guest memory. */
#ifndef KEEL_LINUX_LOADER_H
#define KEEL_LINUX_LOADER_H

#include "guest_mem.h"

/*
 * Guest memory the loader writes (all of it must be RAM in the e820 map):
 *
 *   0x01000  GDT: null, null, __BOOT_CS (0x10, 64-bit code), __BOOT_DS (0x18, data)
 *   0x02000  boot_params (the "zero page", 4 KiB)
 *   0x03000  kernel command line, NUL-terminated, at most LINUX_CMDLINE_MAX bytes
 *   0x10000  PML4, 0x11000 PDPT, 0x12000 one page directory per GiB mapped (2 MiB pages)
 *   kernel   at pref_address (16 MiB for Debian), init_size bytes reserved from there
 *   initrd   page-aligned, as high as RAM and initrd_addr_max allow, clear of the kernel
 *
 * Everything below 1 MiB stays under LINUX_LOW_END: the decompressor puts its 5-level paging
 * trampoline just under the end of low RAM (0x9d000 in Keel's layout) while it still runs on
 * our page tables, and the kernel later takes low memory for its real-mode trampoline.
 * Page 0 (real-mode IVT and BIOS data area) is left alone.
 */
#define LINUX_GDT_ADDR	       0x1000ULL
#define LINUX_BOOT_PARAMS_ADDR 0x2000ULL
#define LINUX_CMDLINE_ADDR     0x3000ULL
#define LINUX_CMDLINE_MAX      0xd000ULL /* bytes with the NUL: up to LINUX_PT_ADDR */
#define LINUX_PT_ADDR	       0x10000ULL
#define LINUX_LOW_END	       0x90000ULL

/* The identity map covers max(4 GiB, top of e820 RAM) rounded up to 1 GiB, at most this. */
#define LINUX_IDMAP_MAX_GIB 64

#define LINUX_BOOT_CS 0x10 /* __BOOT_CS */
#define LINUX_BOOT_DS 0x18 /* __BOOT_DS */

/* e820 entry exactly as boot_params holds it (struct boot_e820_entry). */
struct __packed linux_e820 {
	u64 addr, size;
	u32 type;
};

#define LINUX_E820_RAM	    1
#define LINUX_E820_RESERVED 2
#define LINUX_E820_ACPI	    3
#define LINUX_E820_NVS	    4
#define LINUX_E820_MAX	    128 /* room in boot_params */

/* What to boot besides the image. e820 is the guest's memory map, which the loader both
 * hands to Linux and uses to place things (only e820 RAM is used). */
struct linux_config {
	const struct linux_e820 *e820;
	unsigned e820_count;
	const char *cmdline; /* NULL: empty */
	const u8 *initrd;    /* NULL or initrd_len 0: no initrd */
	size_t initrd_len;
	u64 acpi_rsdp; /* boot_params.acpi_rsdp_addr; 0: Linux searches for it */
};

/* Where things went and the vCPU state of the 64-bit entry. The vCPU starts with CR0.PE|PG
 * (and ET/NE as the hypervisor likes), CR4.PAE (not LA57), EFER.LME|LMA, CR3 = cr3, GDTR =
 * gdt_base/gdt_limit, CS = cs_sel with cs_ar, DS/ES/SS = ds_sel with ds_ar (FS/GS may be
 * the same), TR any usable busy 64-bit TSS (type 11), RFLAGS.IF = 0, RIP = rip, RSI = rsi,
 * other GPRs 0. Access rights are in VMCS format (bits 7:0 type/S/DPL/P, 15:12 AVL/L/D/G). */
struct linux_boot {
	u64 rip; /* kernel_addr + 0x200: startup_64 */
	u64 rsi; /* = boot_params */
	u64 cr3; /* PML4 */
	u64 gdt_base;
	u16 gdt_limit;
	u16 cs_sel, ds_sel;
	u32 cs_ar, ds_ar;

	u16 protocol;	 /* boot protocol version, e.g. 0x20f */
	u64 boot_params; /* guest-physical address of the zero page */
	u64 kernel_addr; /* protected-mode kernel loaded here ... */
	u64 kernel_size; /* ... this many bytes of it (syssize * 16) ... */
	u64 kernel_end;	 /* ... and [kernel_addr, kernel_end) reserved (init_size) */
	u64 initrd_addr; /* 0 when there is no initrd */
	u64 initrd_size;
	u64 cmdline_addr;
	u64 cmdline_len;     /* without the NUL */
	u64 identity_mapped; /* [0, identity_mapped) is mapped VA == PA */
	u64 pt_end;	     /* page tables are [LINUX_PT_ADDR, pt_end) */
};

/* True if the image has a Linux setup header ("HdrS" at 0x202): a bzImage, not multiboot. */
bool linux_is_bzimage(const u8 *image, size_t len);

/* The kernel_version string of the image (e.g. "6.1.0-56-cloud-amd64 (debian-kernel@...")
 * inside `image`, or NULL when the image has none or it is not terminated in the setup code. */
const char *linux_kernel_version(const u8 *image, size_t len);

/* Fills map with Keel's guest layout for `mem_bytes` of RAM (docs/guest-abi.md): RAM
 * [0, 0x9fc00), reserved [0x9fc00, 0xa0000) and [0xf0000, 1 MiB), RAM [1 MiB, mem_bytes).
 * Returns the number of entries (4), or 0 when max is too small or mem_bytes <= 1 MiB. */
unsigned linux_e820_keel(u64 mem_bytes, struct linux_e820 *map, unsigned max);

/* Loads the bzImage for a 64-bit boot. Returns NULL on success, or what is wrong with the
 * image or the configuration; on failure guest memory may be partly written. */
const char *linux_load(const struct guest_mem_ops *mem, const u8 *image, size_t len,
		       const struct linux_config *cfg, struct linux_boot *out);

#endif
