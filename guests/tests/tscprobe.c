/* tscprobe guest (make bench): booted natively by GRUB with the bench image's kernel and
 * initramfs as modules, it prints the TSC at the moment GRUB hands over. In Bochs the TSC
 * counts instructions from power-on, so this is what the BIOS and GRUB (loading the same
 * files as for Linux) cost before a kernel starts: scripts/bench subtracts it from the
 * native boot-to-init figure. */
#include "testlib.h"

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint64_t t = rdtsc(); /* first thing: entry.S ran only a few instructions before */
	(void)magic;
	(void)mbi;
	tprintf("BENCH-TSC handoff=%llu\n", t);
	while (!(inb(COM1_PORT + 5) & 0x40)) /* the last bytes leave the UART first */
		;
	for (const char *s = "Shutdown"; *s; s++) /* Bochs' shutdown port */
		outb(0x8900, (uint8_t)*s);
	outb(0xf4, 0); /* QEMU's isa-debug-exit (scripts/run --emu qemu) */
}
