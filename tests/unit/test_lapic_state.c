/* Tests of saving and loading a local APIC (devices/lapic_state.c): round trips in xAPIC and
 * x2APIC mode with a running timer, and refusal of bad or randomly corrupted state. */
#include "apic_env.h"

/* ---- save / load ---- */

static size_t lapic_save_buf(const struct lapic *l, u8 *buf, size_t size)
{
	struct state_writer w = {buf, size, 0, false};
	lapic_save(l, &w);
	CHECK(!w.overflow);
	return w.len;
}

static bool lapic_load_buf(struct lapic *l, const u8 *buf, size_t len)
{
	struct state_reader r = {test_dup(buf, len), len, 0, false};
	return lapic_load(l, &r);
}

static void busy_apic(struct apic_env *a)
{
	env_init(a, 0);
	env_enable(a);
	lapic_update(&a->l, 5000);
	wr(a, APIC_TASKPRI, 0x20);
	wr(a, APIC_LDR, 0x04000000);
	wr(a, APIC_LVTT, APIC_LVT_TIMER_PERIODIC | 0xec);
	wr(a, APIC_TDCR, APIC_TDR_DIV_16);
	wr(a, APIC_TMICT, 1000);
	wr(a, APIC_LVT1, APIC_LVT_LEVEL | 0x33);
	wr(a, APIC_ICR2, 0x03000000);
	wr(a, APIC_ICR, 0x4000 | 0x70);
	lapic_update(&a->l, 9000);
	CHECK(accept_fixed(a, 0x51, true));
	CHECK_EQ(env_inject(a), 0x51);
	CHECK(accept_fixed(a, 0x61, false));
	lapic_set_lint(&a->l, 0, true);
	lapic_set_lint(&a->l, 1, true); /* LINT1 level: IRR 0x33 + remote IRR */
	struct apic_msg nmi = {.mode = APIC_DM_NMI};
	lapic_accept(&a->l, &nmi);
	wr(a, APIC_ID, 0x09000000);
}

TEST(lapic_save_load_round_trip)
{
	struct apic_env a, b;
	busy_apic(&a);
	u8 buf[512];
	size_t n = lapic_save_buf(&a.l, buf, sizeof(buf));
	env_init(&b, 0);
	CHECK(lapic_load_buf(&b.l, buf, n));
	const u32 regs[] = {APIC_ID,	     APIC_TASKPRI,    APIC_PROCPRI,   APIC_LDR,
			    APIC_DFR,	     APIC_SPIV,	      APIC_ICR,	      APIC_ICR2,
			    APIC_LVTT,	     APIC_LVT0,	      APIC_LVT1,      APIC_LVTERR,
			    APIC_TMICT,	     APIC_TMCCT,      APIC_TDCR,      APIC_ISR + 0x20,
			    APIC_IRR + 0x30, APIC_TMR + 0x20, APIC_IRR + 0x10};
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++)
		if (rd(&a, regs[i]) != rd(&b, regs[i]))
			test_fail(__FILE__, __LINE__, "register 0x%x: 0x%x != 0x%x", regs[i],
				  rd(&a, regs[i]), rd(&b, regs[i]));
	CHECK_EQ(lapic_next_event(&b.l, 9000), lapic_next_event(&a.l, 9000));
	CHECK(lapic_extint_pending(&b.l) == lapic_extint_pending(&a.l));
	CHECK_EQ(lapic_take_events(&b.l, LAPIC_EV_ALL), LAPIC_EV_NMI);
	/* both run on identically */
	lapic_update(&a.l, 40000);
	lapic_update(&b.l, 40000);
	CHECK_EQ(rd(&a, APIC_TMCCT), rd(&b, APIC_TMCCT));
	CHECK_EQ(lapic_pending(&a.l), lapic_pending(&b.l));
	CHECK_EQ(lapic_next_event(&b.l, 40000), lapic_next_event(&a.l, 40000));
	/* the EOI of the level vector still reaches the loader's own callback */
	wr(&b, APIC_TASKPRI, 0);
	while (rd(&b, APIC_ISR + 0x20))
		wr(&b, APIC_EOI, 0);
	CHECK_EQ(b.neoi, 1);
	CHECK_EQ(b.eoi[0], 0x51);
	CHECK(b.l.cfg.ctx == &b);
	CHECK_EQ(a.neoi, 0);
}

TEST(lapic_save_load_x2apic_and_deadline)
{
	struct apic_env a, b;
	env_init(&a, 0x21);
	env_enable(&a);
	env_to_x2apic(&a);
	lapic_update(&a.l, 777);
	CHECK(lapic_msr_write(&a.l, 0x832, APIC_LVT_TIMER_TSCDEADLINE | 0xec));
	lapic_tsc_deadline_write(&a.l, 50000);
	CHECK(lapic_msr_write(&a.l, 0x830, (0x12345ULL << 32) | 0x40));
	u8 buf[512];
	size_t n = lapic_save_buf(&a.l, buf, sizeof(buf));
	env_init(&b, 0x21);
	CHECK(lapic_load_buf(&b.l, buf, n));
	CHECK_EQ(lapic_mode(&b.l), LAPIC_MODE_X2APIC);
	CHECK_EQ(lapic_tsc_deadline_read(&b.l), 50000);
	CHECK_EQ(rdmsr_ok(&b, 0x830), (0x12345ULL << 32) | 0x40);
	lapic_update(&b.l, 50000);
	CHECK_EQ(lapic_pending(&b.l), 0xec);
}

/* Byte offsets in the LAPIC state stream (tag and version first). */
enum {
	ST_RATIO = 8,
	ST_BASE = 12,
	ST_FLAGS = 23,
	ST_LDR = 24,
	ST_DFR = 28,
	ST_SVR = 32,
	ST_ESR = 36,
	ST_ICR_LO = 44,
	ST_ICR_HI = 48,
	ST_EVENTS = 52,
	ST_IRR = 120,
	ST_LVT = 152,
	ST_MODE = 180,
	ST_INITIAL = 184,
	ST_DCR = 188,
	ST_TBASE = 192,
	ST_COUNT = 200,
	ST_DEADLINE = 204,
	ST_CLOCK = 212,
	ST_SIZE = 228,
};

static void poke32(u8 *buf, size_t off, u32 v)
{
	memcpy(buf + off, &v, 4);
}

static void poke64(u8 *buf, size_t off, u64 v)
{
	memcpy(buf + off, &v, 8);
}

TEST(lapic_load_rejects_bad_state)
{
	struct apic_env a, b;
	busy_apic(&a);
	u8 buf[512], bad[512];
	size_t n = lapic_save_buf(&a.l, buf, sizeof(buf));
	REQUIRE(n == ST_SIZE);
	env_init(&b, 0);
	env_enable(&b);
	wr(&b, APIC_TASKPRI, 0x50);
	for (size_t cut = 0; cut < n; cut++)
		if (lapic_load_buf(&b.l, buf, cut))
			test_fail(__FILE__, __LINE__, "a cut at %zu loaded", cut);

	struct {
		size_t off;
		int width; /* 1, 4 or 8 */
		u64 val;
		const char *what;
	} cases[] = {
	    {0, 1, 'X', "tag"},
	    {4, 4, 2, "version"},
	    {ST_RATIO, 4, 20, "another TSC ratio"},
	    {ST_BASE, 8, LAPIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_EXTD, "EXTD without EN"},
	    {ST_BASE, 8, LAPIC_DEFAULT_BASE | APIC_BASE_EN, "BSP flag of another CPU"},
	    {ST_BASE, 8, LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_BSP | BIT(45), "base bits"},
	    {ST_FLAGS, 1, 0x10, "flags"},
	    {ST_LDR, 4, 0x04000001, "LDR low bits"},
	    {ST_DFR, 4, 0xf0000000, "DFR low bits"},
	    {ST_SVR, 4, 0x11ff, "SVR reserved"},
	    {ST_ESR, 4, 0x01, "ESR bit"},
	    {ST_ICR_LO, 4, 0x1040, "ICR delivery status"},
	    {ST_ICR_HI, 4, 0x03000001, "xAPIC ICR high low bits"},
	    {ST_EVENTS, 4, 0x80, "event bit"},
	    {ST_IRR, 4, 0x8, "vector 3 requested"},
	    {ST_LVT, 4, 0x1000ec | APIC_LVT_TIMER_PERIODIC, "LVT timer bit 20"},
	    {ST_LVT + 4 * LAPIC_LVT_LINT0, 4, 0x4000, "remote IRR on an edge LINT"},
	    {ST_MODE, 4, 4, "timer mode 4"},
	    {ST_MODE, 4, 2, "timer mode against the LVT"},
	    {ST_INITIAL, 4, 0, "armed with no initial count"},
	    {ST_DCR, 4, 0x4, "DCR bit 2"},
	    {ST_TBASE, 8, 1ULL << 40, "timer base after the clock"},
	    {ST_COUNT, 4, 2000, "count above the initial count"},
	    {ST_DEADLINE, 8, 1234, "deadline outside deadline mode"},
	    {ST_CLOCK, 8, 1ULL << 63, "clock beyond its limit"},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		memcpy(bad, buf, n);
		if (cases[i].width == 1)
			bad[cases[i].off] = (u8)cases[i].val;
		else if (cases[i].width == 4)
			poke32(bad, cases[i].off, (u32)cases[i].val);
		else
			poke64(bad, cases[i].off, cases[i].val);
		if (lapic_load_buf(&b.l, bad, n))
			test_fail(__FILE__, __LINE__, "loaded with a bad %s", cases[i].what);
	}
	/* failed loads left it as it was */
	CHECK_EQ(rd(&b, APIC_TASKPRI), 0x50);
	CHECK_EQ(rd(&b, APIC_LVTT), APIC_LVT_MASKED);
	CHECK_EQ(lapic_pending(&b.l), -1);
	CHECK(lapic_load_buf(&b.l, buf, n));
	CHECK_EQ(rd(&b, APIC_TASKPRI), 0x20);
}

/* Random corruption of a saved state: either refused, or a state the model can run. */
TEST(lapic_load_survives_random_corruption)
{
	struct apic_env a, b;
	busy_apic(&a);
	u8 buf[512], bad[512];
	size_t n = lapic_save_buf(&a.l, buf, sizeof(buf));
	u64 x = 12345;
	unsigned loaded = 0;
	for (unsigned i = 0; i < 3000; i++) {
		memcpy(bad, buf, n);
		for (unsigned k = 0; k < 1 + i % 3; k++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			bad[8 + (x >> 33) % (n - 8)] ^= (u8)(1u << ((x >> 20) & 7));
		}
		env_init(&b, 0);
		if (!lapic_load_buf(&b.l, bad, n))
			continue;
		loaded++;
		lapic_update(&b.l, 1ULL << 20);
		int v = env_inject(&b);
		(void)v;
		wr(&b, APIC_EOI, 0);
		lapic_next_event(&b.l, 1ULL << 21);
		rd(&b, APIC_TMCCT);
	}
	CHECK(loaded > 0); /* flips in free-form fields (IRR bits, TPR...) still load */
}
