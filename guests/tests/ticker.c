/* ticker guest: the demo guest. Prints "tick N" ten times, sleeping in between on HLT
 * until Keel's one-shot timer wakes it (busy-waiting on the TSC when not under Keel). */
#include "testlib.h"

#define TICKS	    10
#define TICK_VECTOR 0x40
#define TICK_DELAY  5000000ull

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	const int keel = keel_present();
	uint64_t shortest = ~0ull;
	uint64_t last = rdtsc();

	for (int i = 1; i <= TICKS; i++) {
		if (keel)
			keel_sleep(TICK_VECTOR, TICK_DELAY);
		else
			tsc_wait(TICK_DELAY);
		uint64_t now = rdtsc();
		if (now - last < shortest)
			shortest = now - last;
		last = now;
		tprintf("tick %d\n", i);
	}
	check(shortest >= TICK_DELAY,
	      "%d ticks, each at least %llu TSC ticks apart (shortest %llu)", TICKS, TICK_DELAY,
	      shortest);
	if (keel)
		check(keel_sleep_wakeups() == TICKS, "woken by the timer %u times", keel_sleep_wakeups());
}
