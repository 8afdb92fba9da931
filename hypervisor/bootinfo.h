/* What the boot loader told us, in plain form: memory map, modules, command line. */
#ifndef KEEL_BOOTINFO_H
#define KEEL_BOOTINFO_H

#include "types.h"

#define BOOT_MAX_REGIONS 64
#define BOOT_MAX_MODULES 48
#define BOOT_MAX_REFUSED 8 /* modules past BOOT_MAX_MODULES named in the message */

enum mem_type { MEM_USABLE = 1, MEM_RESERVED = 2, MEM_ACPI = 3, MEM_NVS = 4, MEM_BAD = 5 };

struct mem_region {
	u64 base;
	u64 len;
	u32 type;
};

struct boot_module {
	u64 start; /* machine address */
	u64 end;   /* exclusive */
	const char *string;
};

struct boot_info {
	const char *cmdline;
	const char *loader;
	u64 mbi_start, mbi_end;
	unsigned nregions;
	struct mem_region regions[BOOT_MAX_REGIONS];
	unsigned nmodules;
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned nrefused;		       /* modules past BOOT_MAX_MODULES, left out */
	const char *refused[BOOT_MAX_REFUSED]; /* the first of their strings */
};

#define MB2_BOOTLOADER_MAGIC 0x36d76289

/* Parses a multiboot2 information structure at `mbi` (its machine address). Returns NULL
 * on success or a message naming what is malformed. */
const char *mb2_parse(const void *mbi, struct boot_info *out);

/* The one line naming the modules mb2_parse left out (past BOOT_MAX_MODULES), into buf;
 * false when it left none out. */
bool boot_refused_line(const struct boot_info *bi, char *buf, size_t size);

/* Finds a module whose string's first word is `name`. */
const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name);

/* Looks up `key` in a "k1=v1 k2 k3=v3" command line; copies the value (or "" for a bare
 * key) into buf. Returns false when the key is absent. */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);

#endif
