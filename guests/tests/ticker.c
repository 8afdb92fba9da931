/* ticker guest: the demo guest. Prints "tick N" ten times, sleeping in between on HLT
 * until Keel's one-shot timer wakes it (busy-waiting on the TSC when not under Keel). */
#include "testlib.h"

#define TICKS	    10
#define TICK_VECTOR 0x40
#define TICK_DELAY  5000000ull

static volatile unsigned woken;

static void tick_irq(uint8_t vector)
{
	(void)vector;
	woken++;
}

static void sleep_ticks(uint64_t delay)
{
	const unsigned before = woken;

	if (vmcall(KEEL_HC_TIMER_ONESHOT, TICK_VECTOR, (uint32_t)delay, (uint32_t)(delay >> 32)))
		return;
	while (woken == before) {
		sti_hlt();
		cli();
	}
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	const int keel = keel_present();
	uint64_t shortest = ~0ull;
	uint64_t last = rdtsc();

	irq_set_handler(TICK_VECTOR, tick_irq);
	for (int i = 1; i <= TICKS; i++) {
		if (keel)
			sleep_ticks(TICK_DELAY);
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
		check(woken == TICKS, "woken by the timer %u times", woken);
}
