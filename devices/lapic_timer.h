/* The local APIC timer's counter arithmetic: one-shot, periodic and TSC-deadline modes,
 * driven by guest TSC values passed in. It knows nothing of vectors or masks; the local
 * APIC (lapic.c) asks it whether an expiry is due and delivers the interrupt itself. */
#ifndef KEEL_LAPIC_TIMER_H
#define KEEL_LAPIC_TIMER_H

#include "../hypervisor/types.h"

/* LVT timer mode, bits 18:17 of the LVT timer register. */
enum lapic_timer_mode {
	LAPIC_TIMER_ONESHOT = 0,
	LAPIC_TIMER_PERIODIC = 1,
	LAPIC_TIMER_DEADLINE = 2,
	LAPIC_TIMER_RESERVED = 3, /* counts like one-shot */
};

/* Largest TSC-cycles-per-bus-clock ratio: keeps count * ratio * 128 below 2^63. */
#define LAPIC_TIMER_MAX_RATIO (1u << 24)

/*
 * Two clocks: `tsc_last` is the last guest TSC seen (TSC-deadline mode compares against it),
 * `clock` is a private monotonic count of TSC cycles that only moves forward, so a guest
 * writing its TSC backwards cannot make a counting timer run backwards or underflow.
 */
struct lapic_timer {
	u32 ratio;	/* TSC cycles per bus clock (config) */
	u64 min_period; /* shortest periodic period in TSC cycles, 0 = none (config) */

	enum lapic_timer_mode mode;
	u32 initial; /* initial-count register */
	u32 dcr;     /* divide-configuration register, bits 0, 1, 3 */
	bool armed;  /* counting (one-shot/periodic) */
	u64 base;    /* `clock` when the counter last held base_count */
	u32 base_count;
	u64 deadline; /* IA32_TSC_DEADLINE, 0 = disarmed */
	u64 clock;
	u64 tsc_last;
	u64 missed; /* periodic expiries dropped by the catch-up policy */
};

void ltimer_init(struct lapic_timer *t, u32 ratio, u64 min_period);
/* Stops the timer and clears its registers; the clocks keep running. */
void ltimer_reset(struct lapic_timer *t);
/* Moves time to the guest TSC `now` (a TSC below the last one only stops the clock). */
void ltimer_set_time(struct lapic_timer *t, u64 now);
/* Consumes one due expiry, if any, and says whether there was one. Periodic mode reloads;
 * periods that passed entirely before this call are dropped (counted in `missed`). */
bool ltimer_expire(struct lapic_timer *t);
/* The guest TSC at which the timer next expires, as seen at guest TSC `now` (a value <= now
 * means due now); UINT64_MAX when it is not armed. */
u64 ltimer_next(const struct lapic_timer *t, u64 now);

void ltimer_set_mode(struct lapic_timer *t, enum lapic_timer_mode mode);
void ltimer_set_initial(struct lapic_timer *t, u32 count);
void ltimer_set_dcr(struct lapic_timer *t, u32 dcr);
u32 ltimer_current(const struct lapic_timer *t);
void ltimer_set_deadline(struct lapic_timer *t, u64 tsc);
u64 ltimer_deadline(const struct lapic_timer *t);
/* The divisor that a divide-configuration value selects (1..128). */
u32 ltimer_divisor(u32 dcr);
/* False when the state could not have come from this code (load checks it). */
bool ltimer_valid(const struct lapic_timer *t);

#endif
