/* Local APIC timer arithmetic. The counter is never stepped: its value is computed from the
 * time it was loaded, so reads and expiries are exact at any TSC the caller passes in. */
#include "lapic_timer.h"
#include "../hypervisor/lib.h"

/* The private clock stops here: with counts below 2^63 TSC cycles, base + span never
 * overflows even when a guest has pushed its TSC to absurd values. */
#define CLOCK_MAX (1ULL << 62)

void ltimer_init(struct lapic_timer *t, u32 ratio, u64 min_period)
{
	memset(t, 0, sizeof(*t));
	t->ratio = ratio;
	t->min_period = MIN(min_period, CLOCK_MAX);
}

void ltimer_reset(struct lapic_timer *t)
{
	t->mode = LAPIC_TIMER_ONESHOT;
	t->initial = 0;
	t->dcr = 0;
	t->armed = false;
	t->base = t->clock;
	t->base_count = 0;
	t->deadline = 0;
}

u32 ltimer_divisor(u32 dcr)
{
	u32 v = (dcr & 3) | ((dcr >> 1) & 4);
	return v == 7 ? 1 : 2u << v;
}

static u64 tick(const struct lapic_timer *t)
{
	return (u64)t->ratio * ltimer_divisor(t->dcr);
}

static bool periodic(const struct lapic_timer *t)
{
	return t->mode == LAPIC_TIMER_PERIODIC;
}

/* A full period; never shorter than min_period, so a guest cannot make the hypervisor
 * wake for it every few cycles. */
static u64 period(const struct lapic_timer *t)
{
	return MAX((u64)t->initial * tick(t), t->min_period);
}

/* When the counter reaches zero (in `clock` units). */
static u64 expiry(const struct lapic_timer *t)
{
	u64 span = (u64)t->base_count * tick(t);
	if (periodic(t))
		span = MAX(span, t->min_period);
	return t->base + span;
}

void ltimer_set_time(struct lapic_timer *t, u64 now)
{
	if (now > t->tsc_last)
		t->clock = MIN(t->clock + MIN(now - t->tsc_last, CLOCK_MAX), CLOCK_MAX);
	t->tsc_last = now;
}

bool ltimer_expire(struct lapic_timer *t)
{
	if (t->mode == LAPIC_TIMER_DEADLINE) {
		if (!t->deadline || t->deadline > t->tsc_last)
			return false;
		t->deadline = 0; /* the MSR reads 0 once the deadline has passed */
		return true;
	}
	if (!t->armed || expiry(t) > t->clock)
		return false;
	if (periodic(t)) {
		u64 p = period(t);
		t->base = expiry(t);
		t->base_count = t->initial;
		if (t->clock - t->base >= p) { /* catch up: drop whole periods, keep the phase */
			u64 k = (t->clock - t->base) / p;
			t->base += k * p;
			t->missed += k;
		}
	} else {
		t->armed = false;
		t->base_count = 0;
	}
	return true;
}

u64 ltimer_next(const struct lapic_timer *t, u64 now)
{
	if (t->mode == LAPIC_TIMER_DEADLINE)
		return t->deadline ? t->deadline : UINT64_MAX;
	if (!t->armed)
		return UINT64_MAX;
	u64 c = t->clock;
	if (now > t->tsc_last)
		c = MIN(c + MIN(now - t->tsc_last, CLOCK_MAX), CLOCK_MAX);
	u64 e = expiry(t);
	if (e <= c)
		return now;
	u64 d = e - c;
	return d >= UINT64_MAX - now ? UINT64_MAX - 1 : now + d;
}

void ltimer_set_mode(struct lapic_timer *t, enum lapic_timer_mode mode)
{
	/* Entering or leaving TSC-deadline mode disarms the timer (SDM 10.5.4.1); one-shot
	 * and periodic switch on the fly. */
	if ((t->mode == LAPIC_TIMER_DEADLINE) != (mode == LAPIC_TIMER_DEADLINE)) {
		t->initial = 0;
		t->armed = false;
		t->base_count = 0;
		t->deadline = 0;
	}
	t->mode = mode & 3;
}

void ltimer_set_initial(struct lapic_timer *t, u32 count)
{
	if (t->mode == LAPIC_TIMER_DEADLINE)
		return; /* ignored in TSC-deadline mode */
	t->initial = count;
	t->armed = count != 0;
	t->base = t->clock;
	t->base_count = count;
}

void ltimer_set_dcr(struct lapic_timer *t, u32 dcr)
{
	/* A new divisor applies from now on: the count carries on from its current value
	 * (the fraction of the old tick already elapsed is dropped). */
	if (t->armed) {
		t->base_count = ltimer_current(t);
		t->base = t->clock;
	}
	t->dcr = dcr & 0xb;
}

u32 ltimer_current(const struct lapic_timer *t)
{
	if (!t->armed)
		return 0;
	u64 n = (t->clock - t->base) / tick(t);
	return n >= t->base_count ? 0 : t->base_count - (u32)n;
}

void ltimer_set_deadline(struct lapic_timer *t, u64 tsc)
{
	if (t->mode == LAPIC_TIMER_DEADLINE)
		t->deadline = tsc; /* other modes ignore writes */
}

u64 ltimer_deadline(const struct lapic_timer *t)
{
	return t->mode == LAPIC_TIMER_DEADLINE ? t->deadline : 0;
}

bool ltimer_valid(const struct lapic_timer *t)
{
	if (t->ratio == 0 || t->ratio > LAPIC_TIMER_MAX_RATIO || (u32)t->mode > 3 ||
	    (t->dcr & ~0xbu) || t->clock > CLOCK_MAX || t->base > t->clock ||
	    t->base_count > t->initial)
		return false;
	if (t->armed ? t->initial == 0 : t->base_count != 0)
		return false;
	if (t->mode == LAPIC_TIMER_DEADLINE)
		return !t->armed && t->initial == 0;
	return t->deadline == 0;
}
