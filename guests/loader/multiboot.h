/* Multiboot (version 1) guest loader, as QEMU's -kernel/-initrd does it: ELF32 or a.out
 * kludge kernels, modules page-aligned after the kernel, an info block with memory map,
 * command line and module list. The image is untrusted: every offset is checked. */
#ifndef KEEL_MULTIBOOT_LOADER_H
#define KEEL_MULTIBOOT_LOADER_H

#include "../../hypervisor/types.h"

#define MB1_BOOT_MAGIC 0x2badb002

/* How the loader writes guest memory: false if [gpa, gpa+len) is not all guest RAM. */
struct guest_mem_ops {
	bool (*write)(void *ctx, u64 gpa, const void *src, size_t len);
	void *ctx;
};

struct mb1_module {
	const u8 *data;
	size_t len;
	const char *string;
};

struct mb1_result {
	u32 entry;
	u32 mbi; /* guest-physical address of the multiboot info */
	u32 kernel_start, kernel_end;
};

/* Loads the kernel and modules into a guest of `mem_bytes` of RAM (laid out as in
 * docs/guest-abi.md). Returns NULL on success or what is wrong with the image. */
const char *mb1_load(const struct guest_mem_ops *mem, u64 mem_bytes, const u8 *image, size_t len,
		     const char *cmdline, const struct mb1_module *mods, unsigned nmods,
		     struct mb1_result *out);

/* The guest's physical memory map (docs/guest-abi.md), shared with the EPT setup. */
#define GUEST_LOW_RAM_END 0x9fc00ULL
#define GUEST_HOLE_START  0xa0000ULL
#define GUEST_HIGH_START  0x100000ULL

#endif
