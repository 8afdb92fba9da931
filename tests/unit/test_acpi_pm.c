/* Tests of the ACPI PM device (devices/acpi_pm.c) driven through struct io_access as the exit
 * handler does: sleep requests, write-1-to-clear status, the SCI level, the PM timer's rate,
 * wrap and overflow status, the 0xcf9 reset register and save/load. */
#include "test.h"
#include "../../devices/acpi_pm.h"
#include "../../devices/state.h"

struct host {
	u64 ns;
	unsigned poweroffs, resets, sci_changes;
	bool sci;
};

static u64 host_now(void *ctx)
{
	return ((struct host *)ctx)->ns;
}

static void host_poweroff(void *ctx)
{
	((struct host *)ctx)->poweroffs++;
}

static void host_reset(void *ctx)
{
	((struct host *)ctx)->resets++;
}

static void host_sci(void *ctx, unsigned pin, bool level)
{
	struct host *h = ctx;
	CHECK_EQ(pin, 9);
	if (level != h->sci)
		h->sci_changes++;
	h->sci = level;
}

#define BASE ACPI_PM_IO_BASE

static void pm_setup(struct acpi_pm *pm, struct host *h)
{
	struct acpi_pm_ops ops = {host_now, host_poweroff, host_reset, h};
	struct irq_line sci = {host_sci, h, 9};
	acpi_pm_init(pm, BASE, &ops, &sci);
}

static u32 pm_in(struct acpi_pm *pm, u16 port, u8 size)
{
	struct io_access a = {port, size, false, 0xdeadbeef};
	acpi_pm_access(pm, &a);
	return a.value;
}

static void pm_out(struct acpi_pm *pm, u16 port, u8 size, u32 v)
{
	struct io_access a = {port, size, true, v};
	acpi_pm_access(pm, &a);
}

#define PM1_STS BASE
#define PM1_EN	(BASE + 2)
#define PM1_CNT (BASE + ACPI_PM1_CNT_OFF)
#define PM_TMR	(BASE + ACPI_PM_TMR_OFF)

TEST(acpi_pm_starts_in_acpi_mode_with_nothing_pending)
{
	struct acpi_pm pm;
	struct host h = {.ns = 123456789};
	pm_setup(&pm, &h);
	CHECK_EQ(pm_in(&pm, PM1_STS, 2), 0);
	CHECK_EQ(pm_in(&pm, PM1_EN, 2), 0);
	CHECK_EQ(pm_in(&pm, PM1_CNT, 2), ACPI_PM1_SCI_EN);
	CHECK_EQ(pm_in(&pm, PM_TMR, 4), 0); /* the timer starts at 0 */
	CHECK(!h.sci);
	/* SCI_EN cannot be cleared: there is no SMM to take the events instead */
	pm_out(&pm, PM1_CNT, 2, 0);
	CHECK_EQ(pm_in(&pm, PM1_CNT, 2), ACPI_PM1_SCI_EN);
}

TEST(acpi_pm_slp_en_with_s5_powers_off)
{
	struct acpi_pm pm;
	struct host h = {0};
	pm_setup(&pm, &h);
	u16 s5 = ACPI_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT;
	/* ACPICA writes SLP_TYP first, then SLP_TYP | SLP_EN */
	pm_out(&pm, PM1_CNT, 2, s5 | ACPI_PM1_SCI_EN);
	CHECK_EQ(h.poweroffs, 0);
	CHECK_EQ(pm_in(&pm, PM1_CNT, 2), s5 | ACPI_PM1_SCI_EN);
	pm_out(&pm, PM1_CNT, 2, s5 | ACPI_PM1_SLP_EN | ACPI_PM1_SCI_EN);
	CHECK_EQ(h.poweroffs, 1);
	CHECK_EQ(pm_in(&pm, PM1_CNT, 2) & ACPI_PM1_SLP_EN, 0); /* write-only */
	/* the high byte alone carries both fields */
	pm_out(&pm, PM1_CNT + 1, 1, (ACPI_SLP_TYP_S5 << 2) | (1 << 5));
	CHECK_EQ(h.poweroffs, 2);
	CHECK_EQ(h.resets, 0);
}

TEST(acpi_pm_other_sleep_types_are_refused_with_an_immediate_wake)
{
	struct acpi_pm pm;
	struct host h = {0};
	pm_setup(&pm, &h);
	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == ACPI_SLP_TYP_S5)
			continue;
		pm_out(&pm, PM1_STS, 2, 0xffff);
		pm_out(&pm, PM1_CNT, 2, typ << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
		CHECK_EQ(pm_in(&pm, PM1_STS, 2) & ACPI_PM1_WAK, ACPI_PM1_WAK);
	}
	CHECK_EQ(h.poweroffs, 0);
	CHECK_EQ(pm.sleeps_refused, 7);
	CHECK(!h.sci); /* WAK_STS has no enable: no SCI */
}

TEST(acpi_pm_status_bits_are_write_one_to_clear)
{
	struct acpi_pm pm;
	struct host h = {0};
	pm_setup(&pm, &h);
	acpi_pm_power_button(&pm);
	CHECK_EQ(pm_in(&pm, PM1_STS, 2), ACPI_PM1_PWRBTN);
	pm_out(&pm, PM1_STS, 2, 0);
	pm_out(&pm, PM1_STS, 2, (u16)~ACPI_PM1_PWRBTN);
	CHECK_EQ(pm_in(&pm, PM1_STS, 2), ACPI_PM1_PWRBTN);
	pm_out(&pm, PM1_STS + 1, 1, ACPI_PM1_PWRBTN >> 8);
	CHECK_EQ(pm_in(&pm, PM1_STS, 2), 0);
	/* a dword write at the block's start reaches PM1_STS and PM1_EN together */
	acpi_pm_power_button(&pm);
	pm_out(&pm, PM1_STS, 4, (u32)ACPI_PM1_PWRBTN << 16 | ACPI_PM1_PWRBTN);
	CHECK_EQ(pm_in(&pm, PM1_STS, 4), (u32)ACPI_PM1_PWRBTN << 16);
	/* enable bits that do not exist here stay clear */
	pm_out(&pm, PM1_EN, 2, 0xffff);
	CHECK_EQ(pm_in(&pm, PM1_EN, 2), ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN);
}

TEST(acpi_pm_sci_follows_status_and_enable)
{
	struct acpi_pm pm;
	struct host h = {0};
	pm_setup(&pm, &h);
	acpi_pm_power_button(&pm);
	CHECK(!h.sci);
	pm_out(&pm, PM1_EN, 2, ACPI_PM1_PWRBTN);
	CHECK(h.sci);
	pm_out(&pm, PM1_EN, 2, 0);
	CHECK(!h.sci);
	pm_out(&pm, PM1_EN, 2, ACPI_PM1_PWRBTN);
	CHECK(h.sci);
	pm_out(&pm, PM1_STS, 2, ACPI_PM1_PWRBTN);
	CHECK(!h.sci);
	acpi_pm_power_button(&pm);
	CHECK(h.sci);
	acpi_pm_power_button(&pm); /* still pending: the level stays, no new edge */
	CHECK_EQ(h.sci_changes, 5);
	pm_out(&pm, PM1_STS, 2, 0xffff);
	CHECK(!h.sci);
}

/* ns at which the timer reaches `ticks` (the first nanosecond it reads that value). */
static u64 ns_for_ticks(u64 ticks)
{
	return (ticks * 1000000000ULL + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;
}

TEST(acpi_pm_timer_counts_at_3_579545_mhz_and_wraps_at_32_bits)
{
	struct acpi_pm pm;
	const u64 start = 5000000000ULL; /* a whole second: the tick phase starts at 0 */
	struct host h = {.ns = start};
	pm_setup(&pm, &h);
	h.ns += 1000000000;
	CHECK_EQ(pm_in(&pm, PM_TMR, 4), ACPI_PM_TIMER_HZ);
	h.ns += 1000000000;
	CHECK_EQ(acpi_pm_timer(&pm), 2 * ACPI_PM_TIMER_HZ);
	h.ns = start + 279; /* 279 ns is just under one tick (279.365 ns) */
	CHECK_EQ(pm_in(&pm, PM_TMR, 4), 0);
	h.ns = start + 280;
	CHECK_EQ(pm_in(&pm, PM_TMR, 4), 1);

	/* monotonic, one step at a time */
	u32 last = 0;
	for (unsigned i = 0; i < 10000; i++) {
		h.ns += 97;
		u32 t = pm_in(&pm, PM_TMR, 4);
		CHECK(t >= last && t - last <= 1);
		last = t;
	}
	/* byte reads compose to the same value */
	u32 v = 0;
	for (unsigned i = 0; i < 4; i++)
		v |= pm_in(&pm, (u16)(PM_TMR + i), 1) << (8 * i);
	CHECK_EQ(v, pm_in(&pm, PM_TMR, 4));
	/* writes do nothing */
	pm_out(&pm, PM_TMR, 4, 0);
	CHECK_EQ(pm_in(&pm, PM_TMR, 4), v);

	/* across 2^32: ~20 minutes in, the value wraps to small numbers */
	h.ns = start + ns_for_ticks(0xffffffffULL);
	CHECK_EQ(pm_in(&pm, PM_TMR, 4), 0xffffffffu);
	h.ns = start + ns_for_ticks(0x100000005ULL);
	CHECK_EQ(pm_in(&pm, PM_TMR, 4), 5);
	/* hours in, still exact */
	h.ns = start + 3600ULL * 1000000000ULL * 10;
	CHECK_EQ(pm_in(&pm, PM_TMR, 4), (u32)(36000ULL * ACPI_PM_TIMER_HZ));
}

TEST(acpi_pm_timer_sets_tmr_sts_when_bit_31_changes)
{
	struct acpi_pm pm;
	struct host h = {0};
	pm_setup(&pm, &h);
	CHECK_EQ(acpi_pm_next_event_ns(&pm), ~0ULL); /* TMR_EN clear: nothing to wait for */
	pm_out(&pm, PM1_EN, 2, ACPI_PM1_TMR);
	u64 d = acpi_pm_next_event_ns(&pm);
	CHECK_EQ(d, ns_for_ticks(1ULL << 31));
	h.ns = d - 1;
	acpi_pm_poll(&pm);
	CHECK_EQ(pm_in(&pm, PM1_STS, 2), 0);
	CHECK(!h.sci);
	h.ns = d;
	acpi_pm_poll(&pm);
	CHECK_EQ(pm_in(&pm, PM1_STS, 2), ACPI_PM1_TMR);
	CHECK(h.sci);
	pm_out(&pm, PM1_STS, 2, ACPI_PM1_TMR);
	CHECK(!h.sci);
	/* the next change is 2^31 ticks later (bit 31 going back to 0 at the wrap) */
	u64 next = acpi_pm_next_event_ns(&pm);
	CHECK(next + d >= ns_for_ticks(1ULL << 32) && next + d <= ns_for_ticks(1ULL << 32) + 1);
	h.ns = d + next;
	acpi_pm_poll(&pm);
	CHECK(h.sci);
	pm_out(&pm, PM1_STS, 2, ACPI_PM1_TMR);
	/* a long gap (several changes) still sets it once, and an access notices it too */
	h.ns = ns_for_ticks(5ULL << 31) + 7;
	CHECK_EQ(pm_in(&pm, PM1_STS, 2), ACPI_PM1_TMR);
	CHECK(h.sci);
	/* without TMR_EN the status still sets, but no SCI */
	pm_out(&pm, PM1_EN, 2, 0);
	pm_out(&pm, PM1_STS, 2, 0xffff);
	h.ns = ns_for_ticks(6ULL << 31);
	acpi_pm_poll(&pm);
	CHECK_EQ(pm_in(&pm, PM1_STS, 2), ACPI_PM1_TMR);
	CHECK(!h.sci);
}

TEST(acpi_pm_reset_register_follows_the_ich_rst_cnt)
{
	struct acpi_pm pm;
	struct host h = {0};
	pm_setup(&pm, &h);
	struct io_access a = {ACPI_RESET_PORT, 1, false, 0xff};
	acpi_pm_reset_access(&pm, &a);
	CHECK_EQ(a.value, 0);
	/* Linux's cf9 reboot: SYS_RST alone first (no reset), then with RST_CPU */
	a = (struct io_access){ACPI_RESET_PORT, 1, true, 0x02};
	acpi_pm_reset_access(&pm, &a);
	CHECK_EQ(h.resets, 0);
	a = (struct io_access){ACPI_RESET_PORT, 1, false, 0};
	acpi_pm_reset_access(&pm, &a);
	CHECK_EQ(a.value, 0x02);
	a = (struct io_access){ACPI_RESET_PORT, 1, true, ACPI_RESET_VALUE};
	acpi_pm_reset_access(&pm, &a);
	CHECK_EQ(h.resets, 1);
	a = (struct io_access){ACPI_RESET_PORT, 1, true, 0x0e}; /* full reset */
	acpi_pm_reset_access(&pm, &a);
	CHECK_EQ(h.resets, 2);
	a = (struct io_access){ACPI_RESET_PORT, 1, false, 0};
	acpi_pm_reset_access(&pm, &a);
	CHECK_EQ(a.value, 0x0a);				/* RST_CPU reads 0 */
	a = (struct io_access){ACPI_RESET_PORT, 1, true, 0x04}; /* soft reset: also a reset */
	acpi_pm_reset_access(&pm, &a);
	CHECK_EQ(h.resets, 3);
	CHECK_EQ(h.poweroffs, 0);
}

TEST(acpi_pm_survives_odd_accesses)
{
	struct acpi_pm pm;
	struct host h = {0};
	pm_setup(&pm, &h);
	/* the hole reads 0; a dword at the last port reads ones past the block */
	CHECK_EQ(pm_in(&pm, BASE + 6, 2), 0);
	h.ns = ns_for_ticks(0x12345678);
	CHECK_EQ(pm_in(&pm, BASE + 11, 4), 0xffffff12);
	CHECK_EQ(pm_in(&pm, BASE + 9, 2), 0x3456);
	for (unsigned port = 0; port < ACPI_PM_IO_LEN; port++)
		for (u8 size = 1; size <= 4; size *= 2)
			pm_out(&pm, (u16)(BASE + port), size, 0xffffffff);
	CHECK_EQ(h.poweroffs, 0); /* SLP_TYP 7 with SLP_EN: refused */
	CHECK_EQ(h.resets, 0);
	CHECK_EQ(pm_in(&pm, PM1_EN, 2), ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN);
	CHECK_EQ(pm_in(&pm, PM1_STS, 2), ACPI_PM1_WAK); /* from the refused sleep */
	CHECK(!h.sci);					/* WAK_STS has no enable */
}

TEST(acpi_pm_save_load_continues_the_timer)
{
	struct acpi_pm pm, copy;
	struct host h = {.ns = 1000}, h2 = {.ns = 777777777777ULL};
	pm_setup(&pm, &h);
	pm_out(&pm, PM1_EN, 2, ACPI_PM1_PWRBTN);
	pm_out(&pm, PM1_CNT, 2, ACPI_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_BM_RLD);
	struct io_access a = {ACPI_RESET_PORT, 1, true, 0x02};
	acpi_pm_reset_access(&pm, &a);
	acpi_pm_power_button(&pm);
	h.ns += 3000000000ULL;
	u32 t = acpi_pm_timer(&pm);

	u8 buf[64];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	acpi_pm_save(&pm, &w);
	REQUIRE(!w.overflow);

	pm_setup(&copy, &h2);
	struct state_reader r = {buf, w.len, 0, false};
	REQUIRE(acpi_pm_load(&copy, &r));
	CHECK_EQ(r.pos, w.len);
	CHECK(h2.sci); /* the pending power button comes back asserted */
	CHECK_EQ(acpi_pm_timer(&copy), t);
	h2.ns += 1000000000ULL;
	CHECK_EQ(acpi_pm_timer(&copy), t + ACPI_PM_TIMER_HZ);
	CHECK_EQ(pm_in(&copy, PM1_STS, 2), ACPI_PM1_PWRBTN);
	CHECK_EQ(pm_in(&copy, PM1_EN, 2), ACPI_PM1_PWRBTN);
	CHECK_EQ(pm_in(&copy, PM1_CNT, 2),
		 ACPI_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_BM_RLD | ACPI_PM1_SCI_EN);
	a = (struct io_access){ACPI_RESET_PORT, 1, false, 0};
	acpi_pm_reset_access(&copy, &a);
	CHECK_EQ(a.value, 0x02);

	/* truncated or foreign state is refused */
	for (size_t n = 0; n < w.len; n++) {
		struct state_reader t2 = {buf, n, 0, false};
		CHECK(!acpi_pm_load(&copy, &t2));
	}
	buf[0] = 'X';
	struct state_reader bad = {buf, w.len, 0, false};
	CHECK(!acpi_pm_load(&copy, &bad));
}
