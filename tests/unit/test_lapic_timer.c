/* Tests of the local APIC timer (devices/lapic_timer.c through devices/lapic.c) with a fake
 * clock: the guest TSC values passed to lapic_update(). TEST_RATIO is 10 TSC cycles per bus
 * clock, so with divide-by-16 one count lasts 160 TSC cycles. */
#include "apic_env.h"

#define VEC 0xec /* Linux's LOCAL_TIMER_VECTOR */

static void timer_env(struct apic_env *e, u32 lvtt, u32 dcr, u64 now)
{
	env_init(e, 0);
	env_enable(e);
	lapic_update(&e->l, now);
	wr(e, APIC_LVTT, lvtt);
	wr(e, APIC_TDCR, dcr);
}

/* Runs the guest's side of one interrupt: injects it and writes EOI. */
static int take(struct apic_env *e)
{
	int v = env_inject(e);
	if (v >= 0)
		wr(e, APIC_EOI, 0);
	return v;
}

TEST(lapic_timer_divisors)
{
	const u32 dcr[] = {0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa, 0xb};
	const u32 div[] = {2, 4, 8, 16, 32, 64, 128, 1};
	for (unsigned i = 0; i < ARRAY_SIZE(dcr); i++) {
		CHECK_EQ(ltimer_divisor(dcr[i]), div[i]);
		struct apic_env e;
		timer_env(&e, VEC, dcr[i] | 0xf4, 1000); /* reserved DCR bits are dropped */
		CHECK_EQ(rd(&e, APIC_TDCR), dcr[i]);
		wr(&e, APIC_TMICT, 10);
		CHECK_EQ(lapic_next_event(&e.l, 1000), 1000 + 10ULL * TEST_RATIO * div[i]);
	}
}

TEST(lapic_timer_oneshot_fires_once)
{
	struct apic_env e;
	timer_env(&e, VEC, APIC_TDR_DIV_16, 1000);
	CHECK_EQ(lapic_next_event(&e.l, 1000), UINT64_MAX); /* nothing armed yet */
	wr(&e, APIC_TMICT, 100);			    /* 100 * 160 = 16000 cycles */
	CHECK_EQ(lapic_next_event(&e.l, 1000), 17000);
	CHECK_EQ(lapic_next_event(&e.l, 5000), 17000);
	lapic_update(&e.l, 16999);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(rd(&e, APIC_TMCCT), 1);
	lapic_update(&e.l, 17000);
	CHECK_EQ(take(&e), VEC);
	CHECK_EQ(e.l.stats.timer_fired, 1);
	CHECK_EQ(rd(&e, APIC_TMCCT), 0);
	CHECK_EQ(rd(&e, APIC_TMICT), 100);
	CHECK_EQ(lapic_next_event(&e.l, 17000), UINT64_MAX);
	lapic_update(&e.l, 1000000);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(e.l.stats.timer_fired, 1);
	CHECK(e.kicks >= 1);
	/* re-arming restarts from the write */
	wr(&e, APIC_TMICT, 1);
	CHECK_EQ(lapic_next_event(&e.l, 1000000), 1000160);
	wr(&e, APIC_TMICT, 0); /* a zero count stops it */
	CHECK_EQ(lapic_next_event(&e.l, 1000000), UINT64_MAX);
	lapic_update(&e.l, 2000000);
	CHECK_EQ(lapic_pending(&e.l), -1);
}

TEST(lapic_timer_current_count_counts_down)
{
	struct apic_env e;
	timer_env(&e, VEC, APIC_TDR_DIV_16, 0);
	wr(&e, APIC_TMICT, 100);
	CHECK_EQ(rd(&e, APIC_TMCCT), 100);
	const struct {
		u64 t;
		u32 count;
	} pts[] = {{159, 100}, {160, 99}, {161, 99}, {320, 98}, {8000, 50}, {15840, 1}};
	for (unsigned i = 0; i < ARRAY_SIZE(pts); i++) {
		lapic_update(&e.l, pts[i].t);
		CHECK_EQ(rd(&e, APIC_TMCCT), pts[i].count);
	}
	CHECK_EQ(lapic_pending(&e.l), -1);
}

TEST(lapic_timer_periodic_period_and_catch_up)
{
	struct apic_env e;
	timer_env(&e, VEC | APIC_LVT_TIMER_PERIODIC, APIC_TDR_DIV_16, 0);
	wr(&e, APIC_TMICT, 100); /* period 16000 */
	unsigned fired = 0;
	for (unsigned i = 1; i <= 3; i++) {
		u64 next = lapic_next_event(&e.l, (i - 1) * 16000ULL);
		CHECK_EQ(next, i * 16000ULL);
		lapic_update(&e.l, next - 1);
		CHECK_EQ(lapic_pending(&e.l), -1);
		lapic_update(&e.l, next);
		fired += take(&e) == VEC;
		CHECK_EQ(rd(&e, APIC_TMCCT), 100); /* reloaded */
	}
	CHECK_EQ(fired, 3);
	/* a long pause: ten expiries (64000 ... 208000) passed; one interrupt, on the grid */
	lapic_update(&e.l, 48000 + 16000 * 10 + 5000);
	CHECK_EQ(take(&e), VEC);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(e.l.stats.timer_fired, 4);
	CHECK_EQ(e.l.timer.missed, 9);
	CHECK_EQ(lapic_next_event(&e.l, 213000), 224000);
	CHECK_EQ(rd(&e, APIC_TMCCT), 100 - 5000 / 160);
	/* the guest not taking its interrupts coalesces them in the IRR */
	lapic_update(&e.l, 224000);
	lapic_update(&e.l, 240000);
	CHECK_EQ(take(&e), VEC);
	CHECK_EQ(take(&e), -1);
	/* periodic -> one-shot on the fly: the current count runs out, then it stops */
	wr(&e, APIC_LVTT, VEC);
	CHECK_EQ(lapic_next_event(&e.l, 240000), 256000);
	lapic_update(&e.l, 256000);
	CHECK_EQ(take(&e), VEC);
	CHECK_EQ(lapic_next_event(&e.l, 256000), UINT64_MAX);
}

TEST(lapic_timer_periodic_minimum_period)
{
	struct apic_env e;
	struct lapic_config c = env_config(&e, 0, true);
	c.min_period = 100000;
	env_init_cfg(&e, &c);
	env_enable(&e);
	wr(&e, APIC_LVTT, VEC | APIC_LVT_TIMER_PERIODIC);
	wr(&e, APIC_TDCR, 0xb); /* divide by 1: a count is 10 cycles */
	wr(&e, APIC_TMICT, 1);
	CHECK_EQ(lapic_next_event(&e.l, 0), 100000);
	lapic_update(&e.l, 50);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(rd(&e, APIC_TMCCT), 0); /* ran out; waits for the stretched period */
	lapic_update(&e.l, 100000);
	CHECK_EQ(take(&e), VEC);
	CHECK_EQ(lapic_next_event(&e.l, 100000), 200000);
	/* one-shot is not stretched: each re-arm costs the guest an exit anyway */
	wr(&e, APIC_LVTT, VEC);
	wr(&e, APIC_TMICT, 1);
	CHECK_EQ(lapic_next_event(&e.l, 100000), 100010);
}

TEST(lapic_timer_tsc_deadline)
{
	struct apic_env e;
	timer_env(&e, VEC | APIC_LVT_TIMER_TSCDEADLINE, 0, 1000);
	CHECK_EQ(lapic_next_event(&e.l, 1000), UINT64_MAX);
	lapic_tsc_deadline_write(&e.l, 50000);
	CHECK_EQ(lapic_tsc_deadline_read(&e.l), 50000);
	CHECK_EQ(lapic_next_event(&e.l, 1000), 50000);
	wr(&e, APIC_TMICT, 100); /* ignored in deadline mode */
	CHECK_EQ(rd(&e, APIC_TMICT), 0);
	CHECK_EQ(rd(&e, APIC_TMCCT), 0);
	lapic_update(&e.l, 49999);
	CHECK_EQ(lapic_pending(&e.l), -1);
	lapic_update(&e.l, 50000);
	CHECK_EQ(take(&e), VEC);
	CHECK_EQ(lapic_tsc_deadline_read(&e.l), 0); /* cleared once it passed */
	CHECK_EQ(lapic_next_event(&e.l, 50000), UINT64_MAX);
	/* a deadline already in the past fires at once */
	lapic_tsc_deadline_write(&e.l, 40000);
	CHECK_EQ(take(&e), VEC);
	/* writing 0 disarms */
	lapic_tsc_deadline_write(&e.l, 90000);
	lapic_tsc_deadline_write(&e.l, 0);
	lapic_update(&e.l, 100000);
	CHECK_EQ(lapic_pending(&e.l), -1);
	/* a guest TSC written backwards: the deadline compares against the TSC as it is */
	lapic_update(&e.l, 2000);
	lapic_tsc_deadline_write(&e.l, 3000);
	CHECK_EQ(lapic_pending(&e.l), -1);
	lapic_update(&e.l, 3000);
	CHECK_EQ(take(&e), VEC);
}

TEST(lapic_timer_mode_switches)
{
	struct apic_env e;
	timer_env(&e, VEC, APIC_TDR_DIV_16, 0);
	lapic_tsc_deadline_write(&e.l, 5000); /* not in deadline mode: ignored, reads 0 */
	CHECK_EQ(lapic_tsc_deadline_read(&e.l), 0);
	CHECK_EQ(lapic_next_event(&e.l, 0), UINT64_MAX);
	wr(&e, APIC_TMICT, 100);
	wr(&e, APIC_LVTT, VEC | APIC_LVT_TIMER_PERIODIC); /* one-shot <-> periodic keeps counting */
	CHECK_EQ(lapic_next_event(&e.l, 0), 16000);
	wr(&e, APIC_LVTT, VEC | APIC_LVT_TIMER_TSCDEADLINE); /* into deadline mode disarms */
	CHECK_EQ(rd(&e, APIC_TMICT), 0);
	CHECK_EQ(lapic_next_event(&e.l, 0), UINT64_MAX);
	lapic_tsc_deadline_write(&e.l, 5000);
	wr(&e, APIC_LVTT, VEC | APIC_LVT_TIMER_TSCDEADLINE); /* same mode: still armed */
	CHECK_EQ(lapic_tsc_deadline_read(&e.l), 5000);
	wr(&e, APIC_LVTT, VEC); /* out of deadline mode disarms */
	CHECK_EQ(lapic_tsc_deadline_read(&e.l), 0);
	wr(&e, APIC_LVTT, VEC | APIC_LVT_TIMER_TSCDEADLINE);
	CHECK_EQ(lapic_tsc_deadline_read(&e.l), 0);
	lapic_update(&e.l, 100000);
	CHECK_EQ(lapic_pending(&e.l), -1);
	/* the reserved mode 3 counts like one-shot */
	wr(&e, APIC_LVTT, VEC | 0x60000);
	wr(&e, APIC_TMICT, 1);
	CHECK_EQ(rd(&e, APIC_LVTT), VEC | 0x60000);
	lapic_update(&e.l, 100160);
	CHECK_EQ(take(&e), VEC);
	lapic_update(&e.l, 200000);
	CHECK_EQ(take(&e), -1);
}

TEST(lapic_timer_masked_lvt)
{
	struct apic_env e;
	timer_env(&e, VEC | APIC_LVT_MASKED, APIC_TDR_DIV_16, 0);
	wr(&e, APIC_TMICT, 100);
	CHECK_EQ(lapic_next_event(&e.l, 0), UINT64_MAX); /* nothing to wake for */
	lapic_update(&e.l, 8000);
	CHECK_EQ(rd(&e, APIC_TMCCT), 50); /* but it counts */
	lapic_update(&e.l, 20000);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(rd(&e, APIC_TMCCT), 0);
	wr(&e, APIC_LVTT, VEC); /* unmasking later does not bring the lost expiry back */
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(lapic_next_event(&e.l, 20000), UINT64_MAX);
	/* masked periodic keeps reloading; unmasked, it fires on the same grid */
	wr(&e, APIC_LVTT, VEC | APIC_LVT_MASKED | APIC_LVT_TIMER_PERIODIC);
	wr(&e, APIC_TMICT, 100); /* at 20000: expiries at 36000, 52000, ... */
	lapic_update(&e.l, 40000);
	CHECK_EQ(rd(&e, APIC_TMCCT), 100 - 4000 / 160);
	CHECK_EQ(lapic_pending(&e.l), -1);
	wr(&e, APIC_LVTT, VEC | APIC_LVT_TIMER_PERIODIC);
	CHECK_EQ(lapic_next_event(&e.l, 40000), 52000);
	lapic_update(&e.l, 52000);
	CHECK_EQ(take(&e), VEC);
	/* an illegal vector fires into the error LVT instead */
	wr(&e, APIC_LVTERR, 0xfe);
	wr(&e, APIC_LVTT, 0x05 | APIC_LVT_TIMER_PERIODIC);
	lapic_update(&e.l, 68000);
	CHECK_EQ(take(&e), 0xfe);
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0x40);
}

TEST(lapic_timer_divide_change_mid_count)
{
	struct apic_env e;
	timer_env(&e, VEC, APIC_TDR_DIV_16, 0);
	wr(&e, APIC_TMICT, 100);
	lapic_update(&e.l, 1600 + 100); /* 10 counts and a bit */
	CHECK_EQ(rd(&e, APIC_TMCCT), 90);
	wr(&e, APIC_TDCR, 0xb); /* divide by 1 from here: 90 counts of 10 cycles left */
	CHECK_EQ(rd(&e, APIC_TMCCT), 90);
	CHECK_EQ(lapic_next_event(&e.l, 1700), 1700 + 900);
	lapic_update(&e.l, 2000);
	CHECK_EQ(rd(&e, APIC_TMCCT), 60);
	lapic_update(&e.l, 2599);
	CHECK_EQ(lapic_pending(&e.l), -1);
	lapic_update(&e.l, 2600);
	CHECK_EQ(take(&e), VEC);
}

TEST(lapic_timer_survives_tsc_going_backwards)
{
	struct apic_env e;
	timer_env(&e, VEC, APIC_TDR_DIV_16, 100000);
	wr(&e, APIC_TMICT, 100);
	lapic_update(&e.l, 108000);
	CHECK_EQ(rd(&e, APIC_TMCCT), 50);
	lapic_update(&e.l, 5000); /* the guest wrote its TSC: the count holds */
	CHECK_EQ(rd(&e, APIC_TMCCT), 50);
	CHECK_EQ(lapic_next_event(&e.l, 5000), 13000);
	lapic_update(&e.l, 12999);
	CHECK_EQ(lapic_pending(&e.l), -1);
	lapic_update(&e.l, 13000);
	CHECK_EQ(take(&e), VEC);
	/* and absurd forward jumps neither overflow nor fire twice */
	wr(&e, APIC_LVTT, VEC | APIC_LVT_TIMER_PERIODIC);
	wr(&e, APIC_TMICT, 0xffffffff);
	lapic_update(&e.l, UINT64_MAX - 5);
	lapic_update(&e.l, 0);
	lapic_update(&e.l, UINT64_MAX);
	CHECK_EQ(take(&e), VEC); /* once */
	CHECK_EQ(take(&e), -1);
	CHECK(lapic_next_event(&e.l, UINT64_MAX) >= 1); /* never wraps to a tiny value */
}

/* calibrate_APIC_clock(): a masked periodic count from 0xffffffff/16, polled against the
 * TSC over 100 ms; then lapic_timer_set_periodic() verifies it with real interrupts. */
TEST(lapic_timer_linux_calibration)
{
	const u64 tsc_hz = 2000000000ULL; /* 2 GHz: the bus runs at 200 MHz */
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	lapic_update(&e.l, 1000000);
	wr(&e, APIC_LVTT, VEC | APIC_LVT_TIMER_PERIODIC | APIC_LVT_MASKED);
	u32 tmp = rd(&e, APIC_TDCR);
	wr(&e, APIC_TDCR, (tmp & ~(0xbu | 0x4u)) | APIC_TDR_DIV_16);
	wr(&e, APIC_TMICT, 0xffffffffu / 16);
	CHECK_EQ(lapic_next_event(&e.l, 1000000), UINT64_MAX);
	lapic_update(&e.l, 1000000 + 5000);
	u32 t1 = rd(&e, APIC_TMCCT);
	lapic_update(&e.l, 1000000 + 5000 + tsc_hz / 10);
	u32 t2 = rd(&e, APIC_TMCCT);
	u64 delta = t1 - t2;
	CHECK_EQ(delta, tsc_hz / 10 / (TEST_RATIO * 16));
	CHECK_EQ(delta * 16 * 10, tsc_hz / TEST_RATIO); /* the bus frequency Linux derives */
	CHECK_EQ(lapic_pending(&e.l), -1);

	/* verification: HZ=250, lapic_timer_period = bus clocks per jiffy */
	u32 period = (u32)(delta * 16 / 25);
	u64 now = 1000000 + 5000 + tsc_hz / 10;
	wr(&e, APIC_LVTT, VEC | APIC_LVT_TIMER_PERIODIC);
	tmp = rd(&e, APIC_TDCR);
	wr(&e, APIC_TDCR, (tmp & ~(0xbu | 0x4u)) | APIC_TDR_DIV_16);
	wr(&e, APIC_TMICT, period / 16);
	unsigned ticks = 0;
	for (unsigned i = 0; i < 26; i++) {
		u64 next = lapic_next_event(&e.l, now);
		CHECK_EQ(next - now, tsc_hz / 250); /* 4 ms a jiffy */
		now = next;
		lapic_update(&e.l, now);
		ticks += take(&e) == VEC;
	}
	CHECK_EQ(ticks, 26);
	/* lapic_timer_shutdown() */
	u32 v = rd(&e, APIC_LVTT);
	wr(&e, APIC_LVTT, v | APIC_LVT_MASKED | VEC);
	wr(&e, APIC_TMICT, 0);
	CHECK_EQ(lapic_next_event(&e.l, now), UINT64_MAX);
	CHECK_EQ(rd(&e, APIC_TMCCT), 0);
}

/* One-shot clockevents without the TSC-deadline feature: lapic_next_event() writes TMICT. */
TEST(lapic_timer_linux_oneshot_clockevent)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	lapic_update(&e.l, 500);
	wr(&e, APIC_LVTT, VEC); /* __setup_APIC_LVTT(period, oneshot=1, irqen=1) */
	u32 tmp = rd(&e, APIC_TDCR);
	wr(&e, APIC_TDCR, (tmp & ~(0xbu | 0x4u)) | APIC_TDR_DIV_16);
	u64 now = 500;
	const u32 deltas[] = {0xf, 1000, 123456, 0x7fffffff};
	for (unsigned i = 0; i < ARRAY_SIZE(deltas); i++) {
		wr(&e, APIC_TMICT, deltas[i]);
		u64 next = lapic_next_event(&e.l, now);
		CHECK_EQ(next, now + (u64)deltas[i] * 160);
		lapic_update(&e.l, next - 1);
		CHECK_EQ(lapic_pending(&e.l), -1);
		lapic_update(&e.l, next);
		CHECK_EQ(take(&e), VEC);
		now = next + 77;
		lapic_update(&e.l, now);
	}
	/* set_state_oneshot_stopped */
	u32 v = rd(&e, APIC_LVTT);
	wr(&e, APIC_LVTT, v | APIC_LVT_MASKED | VEC);
	wr(&e, APIC_TMICT, 0);
	CHECK_EQ(lapic_next_event(&e.l, now), UINT64_MAX);
}

/* lapic_next_deadline(): wrmsr(TSC_DEADLINE, rdtsc() + delta * 8), on x2APIC MSRs. */
TEST(lapic_timer_linux_deadline_clockevent_x2apic)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	env_to_x2apic(&e);
	u64 now = 1ULL << 40;
	lapic_update(&e.l, now);
	CHECK(lapic_msr_write(&e.l, X2APIC_MSR(APIC_LVTT), VEC | APIC_LVT_TIMER_TSCDEADLINE));
	for (unsigned i = 0; i < 5; i++) {
		u64 deadline = now + (1000 + i * 333) * 8ULL;
		lapic_tsc_deadline_write(&e.l, deadline);
		CHECK_EQ(lapic_next_event(&e.l, now), deadline);
		lapic_update(&e.l, deadline);
		int v = env_inject(&e);
		CHECK_EQ(v, VEC);
		CHECK(lapic_msr_write(&e.l, X2APIC_MSR(APIC_EOI), 0));
		now = deadline + 10;
	}
	lapic_tsc_deadline_write(&e.l, now + 100); /* shutdown: mask, then deadline 0 */
	u64 v = rdmsr_ok(&e, X2APIC_MSR(APIC_LVTT));
	CHECK(lapic_msr_write(&e.l, X2APIC_MSR(APIC_LVTT), v | APIC_LVT_MASKED));
	lapic_tsc_deadline_write(&e.l, 0);
	lapic_update(&e.l, now + 1000);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(e.l.stats.timer_fired, 5);
}

TEST(lapic_timer_state_check)
{
	struct lapic_timer t;
	ltimer_init(&t, 10, 0);
	CHECK(ltimer_valid(&t));
	ltimer_set_time(&t, 100);
	ltimer_set_initial(&t, 5);
	CHECK(ltimer_valid(&t));
	struct lapic_timer b = t;
	b.ratio = 0;
	CHECK(!ltimer_valid(&b));
	b = t;
	b.ratio = LAPIC_TIMER_MAX_RATIO + 1;
	CHECK(!ltimer_valid(&b));
	b = t;
	b.armed = false; /* a count left while stopped */
	CHECK(!ltimer_valid(&b));
	b = t;
	b.mode = LAPIC_TIMER_DEADLINE; /* counting in deadline mode */
	CHECK(!ltimer_valid(&b));
	b = t;
	b.dcr = 0x10;
	CHECK(!ltimer_valid(&b));
	ltimer_set_initial(&t, 0);
	CHECK(ltimer_valid(&t));
	CHECK_EQ(ltimer_next(&t, 200), UINT64_MAX);
}
