/* bench_micro guest: the round-trip cost, in guest TSC cycles, of the operations that exit to
 * the hypervisor (CPUID, VMCALL, port I/O to an empty port) against a loop that does not
 * exit. Prints BENCH: lines for scripts/bench-micro, under Keel and natively (then it ends
 * the emulator itself: there is no debug-exit device). */
#include "testlib.h"

#define ROUNDS_SHIFT 10 /* 1024 operations per figure: a shift, no 64-bit division */
#define EMPTY_PORT   0x2e0

static uint64_t per_op(uint64_t t0, uint64_t t1)
{
	return (t1 - t0) >> ROUNDS_SHIFT;
}

#define MEASURE(name, stmt)                                                                        \
	do {                                                                                       \
		for (unsigned i = 0; i < 16; i++) /* warm up */                                    \
			stmt;                                                                      \
		uint64_t t0 = rdtsc();                                                             \
		for (unsigned i = 0; i < (1u << ROUNDS_SHIFT); i++)                                \
			stmt;                                                                      \
		tprintf("BENCH: %s %llu cycles/op\n", name, per_op(t0, rdtsc()));                  \
	} while (0)

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	volatile uint32_t sink = 0;
	int keel = keel_present();
	MEASURE("loop", sink += 1);
	MEASURE("cpuid", sink += cpuid(0, 0).eax);
	MEASURE("inb", sink += inb(EMPTY_PORT));
	MEASURE("outb", outb(EMPTY_PORT, 0));
	if (keel)
		MEASURE("vmcall", sink += (uint32_t)vmcall(KEEL_HC_VERSION, 0, 0, 0));
	pass("measured (%s)", keel ? "under Keel" : "natively");
	if (!keel) {
		/* natively in Bochs: end the emulator through its shutdown port */
		tprintf("done\n");
		while (!(inb(COM1_PORT + 5) & 0x40)) /* the last bytes leave the UART first */
			;
		for (const char *s = "Shutdown"; *s; s++)
			outb(0x8900, (uint8_t)*s);
	}
}
