/* fair guest: run twice, alone in build/fair.iso (guests/tests/fair.cfg), to check that
 * time slicing is fair. Each copy spins reading the TSC for a fixed window of wall-clock
 * TSC ticks and counts the ticks it was running; with two CPU-bound VMs each must get
 * between 40% and 60% of the window, so a starved copy fails and so does its greedy peer. */
#include "testlib.h"

/* the guest TSC keeps counting while another VM runs (Keel only offsets it at creation) */
#define WARMUP 5000000ull
/* 150M ticks: about 300 of Keel's 10 ms slices at Bochs' ~50M ticks per emulated second */
#define WINDOW 150000000ull
/* keeps this copy runnable until its peer (started at most a slice later) has measured */
#define TAIL 30000000ull
/* a step longer than this between two TSC reads is time given to someone else: far longer
 * than an exit that returns to this VM, far shorter than the peer's slice */
#define GAP 50000ull

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	if (!keel_present()) {
		skip("fair time slicing: not running under Keel (no other VM to share with)");
		return;
	}
	const uint64_t begin = rdtsc() + WARMUP;
	const uint64_t end = begin + WINDOW;
	uint64_t prev, now, ran = 0, gaps = 0, longest = 0;

	while ((prev = rdtsc()) < begin)
		;
	while ((now = rdtsc()) < end) {
		uint64_t d = now - prev;
		if (d < GAP) {
			ran += d;
		} else {
			gaps++;
			if (d > longest)
				longest = d;
		}
		prev = now;
	}
	while (rdtsc() < end + TAIL)
		;
	/* whole percent, rounded down, without 64-bit division in a 32-bit guest */
	unsigned pct = 0;
	while (pct < 100 && ran * 100 >= (uint64_t)(pct + 1) * WINDOW)
		pct++;
	tprintf("fair: ran %llu of %llu ticks, %llu times descheduled, longest %llu ticks\n", ran,
		WINDOW, gaps, longest);
	check(pct >= 40 && pct < 60,
	      "two CPU-bound VMs: this one ran %u%% of the window (fair: 40%% to 60%%)", pct);
	check(gaps >= 10, "time was shared: descheduled %llu times in the window (>= 10)", gaps);
}
