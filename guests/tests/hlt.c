/* hlt guest: sleeping on HLT until Keel's one-shot hypercall timer fires: the interrupt
 * arrives on the asked vector no earlier than the delay, vectors below 32 are refused,
 * a delay of 0 cancels the pending timer and a new call replaces it. */
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

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;

	if (!keel_present()) {
		/* no hypercall timer natively, and nothing else may wake HLT here */
		skip("HLT with the hypercall timer: not running under Keel");
		return;
	}
	irq_set_handler(TIMER_VECTOR, timer_irq);
	irq_set_handler(SECOND_VECTOR, timer_irq);

	test_oneshot();
	test_bad_vector();
	test_cancel_or_replace(1);
	test_cancel_or_replace(0);
}
