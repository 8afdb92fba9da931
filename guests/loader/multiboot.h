/* Multiboot (version 1) guest loader, as QEMU's -kernel/-initrd does it: ELF32 or a.out
 * kludge kernels, modules page-aligned after the kernel, an info block with memory map,
 * command line and module list. The image is untrusted: every offset is checked. */
#ifndef KEEL_MULTIBOOT_LOADER_H
#define KEEL_MULTIBOOT_LOADER_H

#include "guest_mem.h"

#define MB1_BOOT_MAGIC 0x2badb002

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

#endif
