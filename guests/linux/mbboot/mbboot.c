/* mbboot: a multiboot v1 kernel that runs Keel's Linux loader (guests/loader/linux.c) on
 * the machine it boots on, so that QEMU can check the loader's 64-bit handoff natively:
 * module 1 is the bzImage, module 2 the initrd, the command line goes to Linux. */
#include "../../loader/linux.h"
#include "../../../hypervisor/lib.h"

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
};

struct mb_mod {
	u32 start, end, string, reserved;
};

struct __packed mb_mmap {
	u32 size;
	u64 addr, len;
	u32 type;
};

extern char __image_start[], __image_end[];
void enter_linux64(u32 cr3, const void *gdtr, u32 rip, u32 rsi) __noreturn;
void mbboot_main(u32 magic, const struct mb_info *mbi);

/* ---- what lib.h promises, for linux.c ---- */

void *memset(void *d, int c, size_t n)
{
	u8 *p = d;
	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	return memmove(d, s, n);
}

void *memmove(void *d, const void *s, size_t n)
{
	u8 *dp = d;
	const u8 *sp = s;
	if (dp < sp)
		while (n--)
			*dp++ = *sp++;
	else
		while (n--)
			dp[n] = sp[n];
	return d;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

/* ---- COM1 ---- */

static void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void con_putc(char c)
{
	if (c == '\n')
		con_putc('\r');
	for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++)
		;
	outb(0x3f8, (u8)c);
}

static void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

static void puthex(u64 v)
{
	con_puts("0x");
	for (int i = 60; i >= 0; i -= 4)
		if (v >> i || i == 0)
			con_putc("0123456789abcdef"[(v >> i) & 15]);
}

static void field(const char *name, u64 v)
{
	con_puts(" ");
	con_puts(name);
	con_puts("=");
	puthex(v);
}

static __noreturn void fail(const char *why)
{
	con_puts("mbboot: FAIL: ");
	con_puts(why);
	con_puts("\n");
	outb(0xf4, 1); /* isa-debug-exit, when QEMU has one */
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- guest memory is this machine's memory; only e820 RAM away from our inputs ---- */

struct mem {
	const struct linux_e820 *map;
	unsigned n;
	u64 busy[8][2]; /* this image, the modules, the multiboot info: never written */
	unsigned nbusy;
};

static bool mem_write(void *ctx, u64 gpa, const void *src, size_t len)
{
	struct mem *m = ctx;
	if (!len)
		return true;
	if (gpa + len < gpa || gpa + len > 0xffffffffULL)
		return false;
	for (unsigned i = 0; i < m->nbusy; i++)
		if (gpa < m->busy[i][1] && m->busy[i][0] < gpa + len)
			return false;
	for (u64 pos = gpa; pos < gpa + len;) {
		unsigned i;
		for (i = 0; i < m->n; i++)
			if (m->map[i].type == LINUX_E820_RAM && m->map[i].addr <= pos &&
			    pos - m->map[i].addr < m->map[i].size)
				break;
		if (i == m->n)
			return false;
		pos = m->map[i].addr + m->map[i].size;
	}
	memmove((void *)(uintptr_t)gpa, src, len);
	return true;
}

static void busy(struct mem *m, u64 start, u64 end)
{
	if (m->nbusy < ARRAY_SIZE(m->busy)) {
		m->busy[m->nbusy][0] = start;
		m->busy[m->nbusy++][1] = end;
	}
}

/* s, a space-separated command line, has the word w */
static bool has_word(const char *s, const char *w)
{
	while (*s) {
		while (*s == ' ')
			s++;
		size_t i = 0;
		while (w[i] && s[i] == w[i])
			i++;
		if (!w[i] && (s[i] == ' ' || !s[i]))
			return true;
		while (*s && *s != ' ')
			s++;
	}
	return false;
}

static struct linux_e820 e820[LINUX_E820_MAX];

void mbboot_main(u32 magic, const struct mb_info *mbi)
{
	con_puts("mbboot: Keel's Linux loader, run natively\n");
	if (magic != 0x2badb002)
		fail("not started by a multiboot loader");
	if (!(mbi->flags & BIT(3)) || mbi->mods_count < 1)
		fail("no modules: give the bzImage (and an initrd) as multiboot modules");
	if (!(mbi->flags & BIT(6)))
		fail("no memory map from the boot loader");

	struct mem m = {.map = e820};
	u32 at = mbi->mmap_addr;
	while (at < mbi->mmap_addr + mbi->mmap_length && m.n < LINUX_E820_MAX) {
		const struct mb_mmap *e = (const struct mb_mmap *)(uintptr_t)at;
		e820[m.n++] = (struct linux_e820){e->addr, e->len, e->type};
		at += e->size + 4;
	}
	const struct mb_mod *mods = (const struct mb_mod *)(uintptr_t)mbi->mods_addr;
	const char *cmdline = (mbi->flags & BIT(2)) ? (const char *)(uintptr_t)mbi->cmdline : "";
	busy(&m, (uintptr_t)__image_start, (uintptr_t)__image_end);
	busy(&m, (uintptr_t)mbi, (uintptr_t)(mbi + 1));
	busy(&m, (uintptr_t)mods, (uintptr_t)(mods + mbi->mods_count));
	busy(&m, (uintptr_t)cmdline, (uintptr_t)cmdline + strnlen(cmdline, 4096) + 1);
	for (u32 i = 0; i < mbi->mods_count && i < 2; i++)
		busy(&m, mods[i].start, mods[i].end);

	/* QEMU puts the kernel's path in front of the command line: drop the first word */
	while (*cmdline && *cmdline != ' ')
		cmdline++;
	while (*cmdline == ' ')
		cmdline++;

	/* mbboot.keel_e820: hand Linux Keel's own map (docs/guest-abi.md) for the RAM that
	 * starts at 1 MiB, instead of the firmware's */
	if (has_word(cmdline, "mbboot.keel_e820")) {
		u64 top = 0;
		for (unsigned i = 0; i < m.n; i++)
			if (e820[i].type == LINUX_E820_RAM && e820[i].addr == GUEST_HIGH_START)
				top = e820[i].addr + e820[i].size;
		m.n = linux_e820_keel(top, e820, ARRAY_SIZE(e820));
		con_puts("mbboot: using Keel's e820 map\n");
	}

	const u8 *image = (const u8 *)(uintptr_t)mods[0].start;
	struct linux_config cfg = {.e820 = e820, .e820_count = m.n, .cmdline = cmdline};
	if (mbi->mods_count > 1) {
		cfg.initrd = (const u8 *)(uintptr_t)mods[1].start;
		cfg.initrd_len = mods[1].end - mods[1].start;
	}
	const char *ver = linux_kernel_version(image, mods[0].end - mods[0].start);
	con_puts("mbboot: kernel ");
	con_puts(ver ? ver : "(no version string)");
	con_puts("\n");

	struct guest_mem_ops ops = {mem_write, &m};
	struct linux_boot b;
	const char *err = linux_load(&ops, image, mods[0].end - mods[0].start, &cfg, &b);
	if (err)
		fail(err);
	con_puts("mbboot:");
	field("protocol", b.protocol);
	field("kernel", b.kernel_addr);
	field("kernel_end", b.kernel_end);
	field("initrd", b.initrd_addr);
	field("initrd_size", b.initrd_size);
	field("e820_entries", m.n);
	con_puts("\nmbboot:");
	field("rip", b.rip);
	field("rsi", b.rsi);
	field("cr3", b.cr3);
	field("gdt", b.gdt_base);
	field("identity_mapped", b.identity_mapped);
	con_puts("\nmbboot: entering Linux in 64-bit mode\n");
	if (b.rip > 0xffffffffULL)
		fail("kernel above 4 GiB: cannot jump there from 32-bit code");
	static struct __packed {
		u16 limit;
		u32 base;
	} gdtr;
	gdtr.limit = b.gdt_limit;
	gdtr.base = (u32)b.gdt_base;
	/* a marker in the UART's scratch register: a QEMU trace of device accesses shows where
	 * the loader ends and Linux begins */
	outb(0x3ff, 0x5a);
	enter_linux64((u32)b.cr3, &gdtr, (u32)b.rip, (u32)b.rsi);
}
