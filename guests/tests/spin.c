/* spin guest: CPU-bound work for showing time slicing between VMs. Steps a linear
 * congruential generator 40 million times, reports progress four times, and checks the
 * final value, so a register the hypervisor failed to restore shows up as a FAIL. */
#include "testlib.h"

#define ITERATIONS 40000000u
#define REPORTS	   4
#define SEED	   12345u
/* SEED after ITERATIONS steps of x = x * 1664525 + 1013904223 (mod 2^32) */
#define EXPECTED 0x02b1da39u

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	uint32_t x = SEED;
	const uint64_t start = rdtsc();

	for (unsigned report = 1; report <= REPORTS; report++) {
		for (uint32_t i = 0; i < ITERATIONS / REPORTS; i++) {
			x = x * 1664525u + 1013904223u;
			/* keeps the compiler from folding or vectorizing the loop away */
			asm volatile("" : "+r"(x));
		}
		tprintf("spin: %u of %u iterations (TSC +%llu)\n", report * (ITERATIONS / REPORTS),
			ITERATIONS, rdtsc() - start);
	}
	check(x == EXPECTED, "spin result 0x%08x equals 0x%08x", x, EXPECTED);
}
