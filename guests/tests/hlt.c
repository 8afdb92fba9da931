/* hlt guest: sleeping on HLT until Keel's one-shot hypercall timer fires: the interrupt
 * arrives on the asked vector no earlier than the delay, vectors below 32 are refused,
 * a delay of 0 cancels the pending timer and a new call replaces it. With the command line
 * "late N" (guests/tests/fair.cfg) it checks instead that the interrupt is never more than
 * N scheduler slices late. */
#include "testlib.h"

#define TIMER_VECTOR  0x40
#define SECOND_VECTOR 0x41
#define DELAY	      2000000ull

static volatile unsigned hits[256];
static volatile uint64_t hit_tsc[256];

static void timer_irq(uint8_t vector)
{
	hit_tsc[vector] = rdtsc();
	hits[vector]++;
}

static int32_t timer_oneshot(uint32_t vector, uint64_t delay)
{
	return vmcall(KEEL_HC_TIMER_ONESHOT, vector, (uint32_t)delay, (uint32_t)(delay >> 32));
}

static void reset_hits(void)
{
	hits[TIMER_VECTOR] = hits[SECOND_VECTOR] = 0;
}

/* Sleep until `vector` has fired; only the timer can wake HLT under Keel. */
static void sleep_until(uint8_t vector)
{
	while (!hits[vector]) {
		sti_hlt();
		cli();
	}
}

/* Keep interrupts open for `ticks` more, so that a timer which should not fire gets to. */
static void linger(uint64_t ticks)
{
	sti();
	tsc_wait(ticks);
	cli();
}

static void test_oneshot(void)
{
	reset_hits();
	uint64_t start = rdtsc();
	int32_t r = timer_oneshot(TIMER_VECTOR, DELAY);
	check(r == 0, "KEEL_HC_TIMER_ONESHOT(0x%x, %llu) returns 0 (got %d)", TIMER_VECTOR, DELAY,
	      r);
	if (r != 0)
		return;
	sleep_until(TIMER_VECTOR);
	uint64_t waited = hit_tsc[TIMER_VECTOR] - start;
	check(hits[TIMER_VECTOR] == 1, "timer interrupt arrived on vector 0x%x", TIMER_VECTOR);
	check(waited >= DELAY, "interrupt came %llu ticks after arming (>= %llu)", waited, DELAY);
	linger(2 * DELAY);
	check(hits[TIMER_VECTOR] == 1, "one-shot timer fired once (%u times)", hits[TIMER_VECTOR]);
}

static void test_bad_vector(void)
{
	reset_hits();
	check_eq("TIMER_ONESHOT with vector 31 (EINVAL)", (uint32_t)timer_oneshot(31, DELAY),
		 (uint32_t)KEEL_EINVAL);
	check_eq("TIMER_ONESHOT with vector 0 (EINVAL)", (uint32_t)timer_oneshot(0, DELAY),
		 (uint32_t)KEEL_EINVAL);
	/* a refused call must not have armed anything: an interrupt on 0 or 31 would be fatal */
	linger(2 * DELAY);
}

/* Arm, then cancel or replace, then sleep on a second timer: only that one may fire. */
static void test_cancel_or_replace(int cancel)
{
	const char *what = cancel ? "cancelled" : "replaced";

	reset_hits();
	check(timer_oneshot(TIMER_VECTOR, DELAY) == 0, "arm a timer to be %s", what);
	if (cancel)
		check(timer_oneshot(TIMER_VECTOR, 0) == 0, "delay 0 cancels it");
	check(timer_oneshot(SECOND_VECTOR, 2 * DELAY) == 0, "arm a second timer on vector 0x%x",
	      SECOND_VECTOR);
	sleep_until(SECOND_VECTOR);
	linger(2 * DELAY);
	check(hits[TIMER_VECTOR] == 0 && hits[SECOND_VECTOR] == 1,
	      "after a %s timer only the second fires (0x%x: %u, 0x%x: %u)", what, TIMER_VECTOR,
	      hits[TIMER_VECTOR], SECOND_VECTOR, hits[SECOND_VECTOR]);
}

/* Keel's scheduler slice (hypervisor/main.c SLICE_MS) */
#define KEEL_SLICE_MS 10
#define LATE_ROUNDS   20

/* One slice in TSC ticks, from the TSC rate Keel reports in CPUID 0x15; 0 if it does not. */
static uint64_t slice_ticks(void)
{
	if (cpuid(0, 0).eax < 0x15)
		return 0;
	struct cpuid_regs r = cpuid(0x15, 0);
	if (!r.eax || !r.ebx || !r.ecx)
		return 0;
	/* TSC Hz = ECX * EBX / EAX; 32-bit divisions only (no libgcc in these guests) */
	return (uint64_t)(r.ecx / r.eax / 1000) * r.ebx * KEEL_SLICE_MS;
}

/*
 * The upper bound, where the config guarantees what else runs: the deadline is seen at the
 * first scheduler pass after it (at most the slice another VM is in), and round robin may
 * run each other VM once before this one. With two CPU-bound VMs beside it (fair.cfg) that
 * is 2 slices, and `slices` = 3 leaves one for Keel's own work between them. Any console
 * output meanwhile (Keel waits on the UART) would add to it: in fair.iso nobody prints then.
 */
static void test_late(unsigned slices)
{
	uint64_t slice = slice_ticks();
	if (!check(slice != 0, "CPUID 0x15 gives the TSC rate (slice %llu ticks)", slice))
		return;
	uint64_t bound = DELAY + slices * slice, earliest = ~0ull, latest = 0;
	for (int i = 0; i < LATE_ROUNDS; i++) {
		reset_hits();
		uint64_t start = rdtsc();
		if (timer_oneshot(TIMER_VECTOR, DELAY) != 0) {
			fail("KEEL_HC_TIMER_ONESHOT(0x%x, %llu) refused", TIMER_VECTOR, DELAY);
			return;
		}
		sleep_until(TIMER_VECTOR);
		uint64_t waited = hit_tsc[TIMER_VECTOR] - start;
		if (waited < earliest)
			earliest = waited;
		if (waited > latest)
			latest = waited;
	}
	check(earliest >= DELAY, "%d timers: none fired early (earliest %llu ticks, delay %llu)",
	      LATE_ROUNDS, earliest, DELAY);
	check(latest <= bound,
	      "%d timers: none fired more than %u slices late (latest %llu ticks, bound %llu)",
	      LATE_ROUNDS, slices, latest, bound);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	const char *cmd = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";

	if (!keel_present()) {
		/* no hypercall timer natively, and nothing else may wake HLT here */
		skip("HLT with the hypercall timer: not running under Keel");
		return;
	}
	irq_set_handler(TIMER_VECTOR, timer_irq);
	irq_set_handler(SECOND_VECTOR, timer_irq);
	if (cmd[0] == 'l' && cmd[1] == 'a' && cmd[2] == 't' && cmd[3] == 'e' && cmd[4] == ' ' &&
	    cmd[5] >= '1' && cmd[5] <= '9' && !cmd[6]) {
		test_late((unsigned)(cmd[5] - '0'));
		return;
	}

	test_oneshot();
	test_bad_vector();
	test_cancel_or_replace(1);
	test_cancel_or_replace(0);
}
