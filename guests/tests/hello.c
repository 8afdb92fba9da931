/* hello guest: greets, then checks the multiboot v1 boot state Keel promises in
 * docs/guest-abi.md: magic, info flags, memory fields and map, loader name, command line
 * and the mbdata.txt module (bytes and string) that tests.cfg passes. */
#include "testlib.h"

#define EXPECTED_CMDLINE     "hello from keel"
#define EXPECTED_MODULE_ARGS "the-module-args"
/* must stay byte for byte what guests/tests/mbdata.txt holds */
static const char mbdata_txt[] =
    "Keel multiboot module test data: 0123456789 ABCDEFGHIJ abcdefghij ~!@#$%^&*()\n";

extern char __image_start[], __image_end[];

/* The guest's RAM size, from the mmap entry that starts at 1 MiB; 0 when there is none. */
static uint64_t mmap_ram_top(const struct multiboot_info *mbi)
{
	uint32_t off = 0;

	while (off + 4 <= mbi->mmap_length) {
		const struct multiboot_mmap_entry *e = (const void *)(mbi->mmap_addr + off);

		if (e->type == MB_MMAP_AVAILABLE && e->addr == 0x100000)
			return e->addr + e->len;
		off += e->size + 4;
	}
	return 0;
}

static void check_mmap(const struct multiboot_info *mbi, int keel)
{
	/* docs/guest-abi.md, for a 16 MiB VM; size is 20 for every 24-byte entry */
	static const struct {
		uint64_t addr, len;
		uint32_t type;
	} want[] = {
	    {0, 0x9fc00, MB_MMAP_AVAILABLE},
	    {0x9fc00, 0x400, MB_MMAP_RESERVED},
	    {0xf0000, 0x10000, MB_MMAP_RESERVED},
	    {0x100000, 0xf00000, MB_MMAP_AVAILABLE},
	};
	const unsigned nwant = sizeof(want) / sizeof(want[0]);
	unsigned n = 0, mismatches = 0;
	uint32_t off = 0;

	while (off + 4 <= mbi->mmap_length) {
		const struct multiboot_mmap_entry *e = (const void *)(mbi->mmap_addr + off);

		tprintf("mmap: [0x%llx, 0x%llx) type %u size %u\n", e->addr, e->addr + e->len,
			e->type, e->size);
		if (e->size != 20)
			mismatches++;
		else if (n >= nwant || e->addr != want[n].addr || e->len != want[n].len ||
			 e->type != want[n].type)
			mismatches++;
		n++;
		off += e->size + 4;
	}
	if (!keel) {
		skip("memory map equals the Keel layout (not running under Keel)");
		return;
	}
	check(n == nwant && mismatches == 0 && off == mbi->mmap_length,
	      "memory map has the %u entries of docs/guest-abi.md (got %u entries, %u differ)",
	      nwant, n, mismatches);
}

static void check_memory(const struct multiboot_info *mbi, int keel)
{
	uint64_t top = mmap_ram_top(mbi);

	check(top != 0, "memory map has RAM at 1 MiB (up to 0x%llx)", top);
	if (keel) {
		check_eq("mem_lower", mbi->mem_lower, 639);
		check_eq("mem_upper (KiB above 1 MiB)", mbi->mem_upper, (15u << 20) >> 10);
		check_eq("mem_upper matches the top RAM entry of the mmap",
			 ((uint64_t)mbi->mem_upper << 10) + 0x100000, top);
	} else {
		/* QEMU's BIOS keeps the last 128 KiB of a small RAM for itself */
		check(((uint64_t)mbi->mem_upper << 10) + 0x100000 >= top,
		      "mem_upper %u KiB covers the mmap RAM at 1 MiB", mbi->mem_upper);
	}
}

static void check_module(const struct multiboot_info *mbi)
{
	if (!check(mbi->mods_count >= 1, "mods_count = %u (want >= 1)", mbi->mods_count))
		return;

	const struct multiboot_module *m = (const void *)mbi->mods_addr;
	const uint32_t len = m->mod_end - m->mod_start;
	const char *str = (const char *)m->string;

	tprintf("module 0: [0x%x, 0x%x) string \"%s\"\n", m->mod_start, m->mod_end, str ? str : "");
	check((m->mod_start & 0xfff) == 0, "module start 0x%x is page-aligned", m->mod_start);
	check(m->mod_start >= (uint32_t)__image_end, "module lies after the kernel (ends 0x%x)",
	      (uint32_t)__image_end);
	check(m->mod_end <= 0x1000000, "module ends inside RAM");
	if (check_eq("module length", len, sizeof(mbdata_txt) - 1))
		check(memcmp((const void *)m->mod_start, mbdata_txt, len) == 0,
		      "module bytes equal mbdata.txt");
	check(str && tg_str_ends_with_word(str, EXPECTED_MODULE_ARGS),
	      "module string ends with \"%s\"", EXPECTED_MODULE_ARGS);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	int keel = keel_present();

	tprintf("Hello from a Keel test guest (%s)\n", keel ? "under Keel" : "not under Keel");

	if (!check_eq("multiboot magic", magic, MB_BOOT_MAGIC))
		return;
	const uint32_t need = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP;
	check((mbi->flags & need) == need, "info flags 0x%x have MEMORY|CMDLINE|MODS|MMAP",
	      mbi->flags);

	if (mbi->flags & MB_INFO_MMAP)
		check_mmap(mbi, keel);
	if (mbi->flags & MB_INFO_MEMORY)
		check_memory(mbi, keel);

	if (keel) {
		const char *name = (const char *)mbi->boot_loader_name;

		/* the field is only defined with flag bit 9 */
		if (check(mbi->flags & MB_INFO_LOADER_NAME, "info flags have BOOT_LOADER_NAME"))
			check(tg_strcmp(name, "Keel") == 0, "boot loader name \"%s\" is \"Keel\"",
			      name);
	} else {
		skip("boot loader name is \"Keel\" (not running under Keel)");
	}

	if (mbi->flags & MB_INFO_CMDLINE) {
		const char *cmdline = (const char *)mbi->cmdline;

		check(tg_str_ends_with_word(cmdline, EXPECTED_CMDLINE),
		      "command line \"%s\" ends with \"%s\"", cmdline, EXPECTED_CMDLINE);
	}
	if (mbi->flags & MB_INFO_MODS)
		check_module(mbi);
}
