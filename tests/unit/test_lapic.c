/* Tests of the local APIC model (devices/lapic.c): power-on state, the register sequences
 * Linux uses, priorities and EOI, IPIs, LINT pins, IA32_APIC_BASE, the x2APIC MSRs and their
 * #GP cases, hostile MMIO, and save/load. The timer has its own file (test_lapic_timer.c). */
#include "apic_env.h"

static struct apic_msg fixed(u8 vector, bool level)
{
	return (struct apic_msg){
	    .dest = 0, .mode = APIC_DM_FIXED, .vector = vector, .level = level};
}

static bool accept(struct apic_env *e, u8 vector, bool level)
{
	struct apic_msg m = fixed(vector, level);
	return lapic_accept(&e->l, &m);
}

static bool irr_has(struct apic_env *e, u8 v)
{
	return rd(e, APIC_IRR + (v / 32) * 0x10) & (1u << (v % 32));
}

/* ---- power-on and config ---- */

TEST(lapic_power_on_state)
{
	struct apic_env e, ap;
	env_init(&e, 0);
	CHECK_EQ(lapic_get_base(&e.l), 0xfee00900);
	CHECK_EQ(lapic_base_addr(&e.l), 0xfee00000);
	CHECK_EQ(lapic_mode(&e.l), LAPIC_MODE_XAPIC);
	CHECK_EQ(rd(&e, APIC_ID), 0);
	CHECK_EQ(rd(&e, APIC_LVR), 0x00060014);
	CHECK_EQ((rd(&e, APIC_LVR) >> 16) & 0xff, 6); /* CMCI is there: Linux checks maxlvt >= 6 */
	CHECK_EQ(rd(&e, APIC_SPIV), 0xff);
	CHECK_EQ(rd(&e, APIC_DFR), 0xffffffff);
	CHECK_EQ(rd(&e, APIC_LDR), 0);
	CHECK_EQ(rd(&e, APIC_TASKPRI), 0);
	CHECK_EQ(rd(&e, APIC_LVTT), APIC_LVT_MASKED);
	CHECK_EQ(rd(&e, APIC_LVT1), APIC_LVT_MASKED);
	CHECK_EQ(rd(&e, APIC_LVTERR), APIC_LVT_MASKED);
	CHECK_EQ(rd(&e, APIC_LVTCMCI), APIC_LVT_MASKED);
	CHECK_EQ(rd(&e, APIC_LVT0), APIC_MODE_EXTINT); /* the BSP starts in virtual-wire mode */
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK(!lapic_extint_pending(&e.l));

	env_init(&ap, 3);
	CHECK_EQ(lapic_get_base(&ap.l), 0xfee00800);
	CHECK_EQ(rd(&ap, APIC_ID), 0x03000000);
	CHECK_EQ(rd(&ap, APIC_LVT0), APIC_LVT_MASKED);
}

TEST(lapic_init_rejects_bad_config)
{
	struct apic_env e;
	struct lapic l;
	struct lapic_config c = env_config(&e, 0, true);
	CHECK(lapic_init(&l, &c));
	c.id = 0xff;
	CHECK(!lapic_init(&l, &c));
	c = env_config(&e, 0, true);
	c.tsc_ratio = 0;
	CHECK(!lapic_init(&l, &c));
	c.tsc_ratio = LAPIC_TIMER_MAX_RATIO + 1;
	CHECK(!lapic_init(&l, &c));
	c.tsc_ratio = LAPIC_TIMER_MAX_RATIO;
	CHECK(lapic_init(&l, &c));
	c.phys_bits = 20;
	CHECK(!lapic_init(&l, &c));
	c.phys_bits = 53;
	CHECK(!lapic_init(&l, &c));
}

/* ---- Linux's register sequences ---- */

/* setup_local_APIC() + lapic_setup_esr() on the BSP, flat logical mode (xAPIC). */
TEST(lapic_linux_setup_local_apic)
{
	struct apic_env e;
	env_init(&e, 0);
	u32 v = rd(&e, APIC_SPIV); /* soft-disable first: kexec may leave it enabled */
	wr(&e, APIC_SPIV, v & ~APIC_SPIV_APIC_ENABLED);
	wr(&e, APIC_DFR, 0xffffffff); /* default_init_apic_ldr() */
	v = rd(&e, APIC_LDR) & ~0xff000000u;
	wr(&e, APIC_LDR, v | 1u << 24);
	v = rd(&e, APIC_TASKPRI) & ~0xffu;
	wr(&e, APIC_TASKPRI, v | 0x10);
	for (unsigned i = 0; i < 8; i++) { /* apic_pending_intr_clear() finds nothing */
		CHECK_EQ(rd(&e, APIC_IRR + i * 0x10), 0);
		CHECK_EQ(rd(&e, APIC_ISR + i * 0x10), 0);
	}
	v = rd(&e, APIC_SPIV) & ~0xffu;
	wr(&e, APIC_SPIV, v | APIC_SPIV_APIC_ENABLED | 0xff);
	CHECK_EQ(rd(&e, APIC_SPIV), 0x1ff);
	/* the disabling SVR write masked LINT0, so Linux keeps ExtINT masked (IOAPIC mode) */
	CHECK(rd(&e, APIC_LVT0) & APIC_LVT_MASKED);
	wr(&e, APIC_LVT0, APIC_MODE_EXTINT | APIC_LVT_MASKED);
	wr(&e, APIC_LVT1, APIC_MODE_NMI);
	wr(&e, APIC_ESR, 0); /* lapic_setup_esr() */
	u32 old = rd(&e, APIC_ESR);
	wr(&e, APIC_LVTERR, 0xfe);
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), old);
	CHECK_EQ(old, 0);

	CHECK_EQ(rd(&e, APIC_LDR), 0x01000000);
	CHECK_EQ(rd(&e, APIC_PROCPRI), 0x10);
	CHECK_EQ(rd(&e, APIC_LVT1), APIC_MODE_NMI);
	CHECK_EQ(rd(&e, APIC_LVTERR), 0xfe);
	CHECK(accept(&e, 0x31, false));
	CHECK(accept(&e, 0x1f, false));
	CHECK_EQ(env_inject(&e), 0x31);
	wr(&e, APIC_EOI, 0);
	CHECK_EQ(lapic_pending(&e.l), -1); /* 0x1f: class 1 does not beat TPR 0x10 */
	CHECK(irr_has(&e, 0x1f));
	struct apic_msg m = {.dest = 0x01, .logical = true};
	CHECK(lapic_matches(&e.l, &m));
	m.dest = 0x02;
	CHECK(!lapic_matches(&e.l, &m));
	/* LINT1 is the NMI pin now */
	lapic_set_lint(&e.l, 1, true);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), LAPIC_EV_NMI);
	CHECK_EQ(e.l.stats.bad_mmio, 0);
}

/* clear_local_APIC(): mask the error LVT first, then everything, then clear ESR. */
TEST(lapic_linux_clear_local_apic)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	wr(&e, APIC_LVTT, 0xec);
	wr(&e, APIC_LVTPC, 0x400);
	wr(&e, APIC_LVTTHMR, 0xfa);
	u32 maxlvt = (rd(&e, APIC_LVR) >> 16) & 0xff;
	wr(&e, APIC_LVTERR, 0xfe | APIC_LVT_MASKED);
	const u32 regs[] = {APIC_LVTT,	APIC_LVT0,    APIC_LVT1,
			    APIC_LVTPC, APIC_LVTTHMR, APIC_LVTCMCI};
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++)
		wr(&e, regs[i], rd(&e, regs[i]) | APIC_LVT_MASKED);
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++)
		CHECK(rd(&e, regs[i]) & APIC_LVT_MASKED);
	CHECK_EQ(rd(&e, APIC_LVTT), 0xec | APIC_LVT_MASKED);
	CHECK_EQ(rd(&e, APIC_LVTPC), 0x400 | APIC_LVT_MASKED);
	if (maxlvt > 3)
		wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0);
}

/* ---- ESR ---- */

TEST(lapic_esr_is_write_then_read)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	wr(&e, APIC_LVTERR, 0xfe);
	CHECK(!accept(&e, 3, false));	/* receive illegal vector */
	CHECK_EQ(rd(&e, APIC_ESR), 0);	/* not visible before the next write */
	CHECK_EQ(env_inject(&e), 0xfe); /* but the error LVT fired */
	wr(&e, APIC_EOI, 0);
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0x40);
	CHECK_EQ(rd(&e, APIC_ESR), 0x40); /* reading does not clear */
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0);
	wr(&e, APIC_ICR, (1u << 18) | 0x05); /* self IPI with vector 5: send illegal vector */
	CHECK_EQ(rd(&e, 0x040), 0);	     /* a reserved register: illegal register address */
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0xa0);
	CHECK(!irr_has(&e, 5));
}

TEST(lapic_error_lvt_with_illegal_vector_does_not_loop)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	wr(&e, APIC_LVTERR, 0x02); /* the error interrupt's own vector is illegal */
	CHECK(!accept(&e, 0x01, false));
	CHECK_EQ(lapic_pending(&e.l), -1);
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0x40);
}

/* ---- priorities ---- */

TEST(lapic_ppr_and_priority_classes)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	CHECK(accept(&e, 0x45, false));
	CHECK(accept(&e, 0x62, false));
	CHECK_EQ(env_inject(&e), 0x62);
	CHECK_EQ(rd(&e, APIC_ISR + 0x30), 1u << (0x62 - 96));
	CHECK_EQ(rd(&e, APIC_PROCPRI), 0x60);
	CHECK_EQ(lapic_pending(&e.l), -1); /* 0x45: class 4 below the in-service class 6 */
	CHECK(accept(&e, 0x71, false));
	CHECK_EQ(env_inject(&e), 0x71); /* class 7 preempts */
	CHECK_EQ(lapic_ppr(&e.l), 0x70);
	CHECK(accept(&e, 0x7a, false));
	CHECK_EQ(lapic_pending(&e.l), -1); /* same class as in service: waits */
	wr(&e, APIC_EOI, 0);		   /* ends 0x71, the highest in service */
	CHECK_EQ(rd(&e, APIC_ISR + 0x30), 1u << (0x62 - 96));
	CHECK_EQ(lapic_pending(&e.l), 0x7a);
	wr(&e, APIC_TASKPRI, 0x85);
	CHECK_EQ(rd(&e, APIC_PROCPRI), 0x85);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(rd(&e, APIC_ARBPRI), 0x85); /* TPR beats IRRV and ISRV classes */
	wr(&e, APIC_TASKPRI, 0x65);	     /* same class as in service: PPR is the whole TPR */
	CHECK_EQ(rd(&e, APIC_PROCPRI), 0x65);
	wr(&e, APIC_TASKPRI, 0x10);
	CHECK_EQ(rd(&e, APIC_ARBPRI), 0x70); /* else the highest of the three classes */
	CHECK_EQ(rd(&e, APIC_PROCPRI), 0x60);
	CHECK_EQ(env_inject(&e), 0x7a);
	wr(&e, APIC_EOI, 0);
	wr(&e, APIC_EOI, 0);
	CHECK_EQ(env_inject(&e), 0x45);
	wr(&e, APIC_EOI, 0);
	wr(&e, APIC_EOI, 0); /* EOI with nothing in service is harmless */
	CHECK_EQ(rd(&e, APIC_PROCPRI), 0x10);
	CHECK(!lapic_acknowledge(&e.l, 0x45)); /* no longer requested */
}

TEST(lapic_tpr_and_cr8)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	lapic_cr8_write(&e.l, 3);
	CHECK_EQ(rd(&e, APIC_TASKPRI), 0x30);
	CHECK_EQ(lapic_cr8_read(&e.l), 3);
	CHECK(accept(&e, 0x3f, false));
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK(accept(&e, 0x40, false));
	CHECK_EQ(lapic_pending(&e.l), 0x40);
	wr(&e, APIC_TASKPRI, 0x1234ff); /* reserved bits dropped */
	CHECK_EQ(rd(&e, APIC_TASKPRI), 0xff);
	CHECK_EQ(lapic_cr8_read(&e.l), 0xf);
	CHECK_EQ(lapic_pending(&e.l), -1);
	lapic_cr8_write(&e.l, 0);
	CHECK_EQ(lapic_pending(&e.l), 0x40);
}

TEST(lapic_eoi_of_level_vector_calls_back)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	CHECK(accept(&e, 0x51, true));
	CHECK(accept(&e, 0x52, false));
	CHECK_EQ(rd(&e, APIC_TMR + 0x20), 1u << (0x51 - 64));
	CHECK_EQ(env_inject(&e), 0x52);
	wr(&e, APIC_EOI, 0);
	CHECK_EQ(e.neoi, 0); /* edge: nobody to tell */
	CHECK_EQ(env_inject(&e), 0x51);
	wr(&e, APIC_EOI, 0);
	CHECK_EQ(e.neoi, 1);
	CHECK_EQ(e.eoi[0], 0x51);
	/* the same vector arriving edge-triggered clears its TMR bit */
	CHECK(accept(&e, 0x51, false));
	CHECK_EQ(rd(&e, APIC_TMR + 0x20), 0);
	CHECK_EQ(env_inject(&e), 0x51);
	wr(&e, APIC_EOI, 0);
	CHECK_EQ(e.neoi, 1);
}

/* ---- interrupt acceptance ---- */

TEST(lapic_accepts_events_and_refuses_when_disabled)
{
	struct apic_env e;
	env_init(&e, 1);
	/* software-disabled after power-on: no vectors, but NMI/INIT/SIPI/SMI get in */
	CHECK(!accept(&e, 0x40, false));
	CHECK_EQ(e.l.stats.dropped, 1);
	struct apic_msg m = {.mode = APIC_DM_NMI};
	CHECK(lapic_accept(&e.l, &m));
	m.mode = APIC_DM_INIT;
	CHECK(lapic_accept(&e.l, &m));
	m = (struct apic_msg){.mode = APIC_DM_STARTUP, .vector = 0x9a};
	CHECK(lapic_accept(&e.l, &m));
	m.mode = APIC_DM_SMI;
	CHECK(lapic_accept(&e.l, &m));
	CHECK(e.kicks >= 4);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_INIT | LAPIC_EV_SIPI),
		 LAPIC_EV_INIT | LAPIC_EV_SIPI);
	CHECK_EQ(e.l.sipi_vector, 0x9a);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), LAPIC_EV_NMI | LAPIC_EV_SMI);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), 0);
	m.mode = (enum apic_delivery)3; /* reserved */
	CHECK(!lapic_accept(&e.l, &m));
	/* software-enabled: vectors get in; 0-15 never do */
	env_enable(&e);
	CHECK(accept(&e, 0x40, false));
	CHECK(!accept(&e, 0x0f, false));
	CHECK_EQ(lapic_pending(&e.l), 0x40);
	/* software-disabling holds what is already requested */
	wr(&e, APIC_SPIV, 0xff);
	CHECK_EQ(lapic_pending(&e.l), 0x40);
	/* globally disabled: nothing at all */
	REQUIRE(lapic_set_base(&e.l, LAPIC_DEFAULT_BASE));
	m.mode = APIC_DM_NMI;
	CHECK(!lapic_accept(&e.l, &m));
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), 0);
}

TEST(lapic_software_disable_masks_lvts)
{
	struct apic_env e;
	env_init(&e, 1);
	wr(&e, APIC_LVTT, 0x30); /* disabled: the mask cannot be cleared */
	CHECK_EQ(rd(&e, APIC_LVTT), 0x30 | APIC_LVT_MASKED);
	env_enable(&e);
	wr(&e, APIC_LVTT, 0x30);
	wr(&e, APIC_LVT0, 0x700);
	wr(&e, APIC_LVTERR, 0xfe);
	CHECK_EQ(rd(&e, APIC_LVTT), 0x30);
	wr(&e, APIC_SPIV, 0x1ff & ~APIC_SPIV_APIC_ENABLED);
	CHECK_EQ(rd(&e, APIC_LVTT), 0x30 | APIC_LVT_MASKED);
	CHECK_EQ(rd(&e, APIC_LVT0), 0x700 | APIC_LVT_MASKED);
	CHECK_EQ(rd(&e, APIC_LVTERR), 0xfe | APIC_LVT_MASKED);
	CHECK_EQ(rd(&e, APIC_SPIV), 0xff);
	wr(&e, APIC_SPIV, 0xfffffeff); /* reserved SVR bits dropped */
	CHECK_EQ(rd(&e, APIC_SPIV), 0x2ff);
}

TEST(lapic_matches_destinations)
{
	struct apic_env e;
	env_init(&e, 5);
	struct apic_msg m = {.dest = 5};
	CHECK(lapic_matches(&e.l, &m));
	m.dest = 6;
	CHECK(!lapic_matches(&e.l, &m));
	m.dest = 0xff;
	CHECK(lapic_matches(&e.l, &m));
	m.dest = 0x105; /* an x2APIC-sized ID never names an xAPIC */
	CHECK(!lapic_matches(&e.l, &m));
	/* flat logical */
	wr(&e, APIC_LDR, 0x05u << 24);
	m = (struct apic_msg){.dest = 0x04, .logical = true};
	CHECK(lapic_matches(&e.l, &m));
	m.dest = 0x02;
	CHECK(!lapic_matches(&e.l, &m));
	m.dest = 0xff;
	CHECK(lapic_matches(&e.l, &m));
	/* cluster logical: cluster 2, member bit 0 */
	wr(&e, APIC_DFR, 0x0fffffff);
	wr(&e, APIC_LDR, 0x21u << 24);
	CHECK_EQ(rd(&e, APIC_DFR), 0x0fffffff);
	m.dest = 0x21;
	CHECK(lapic_matches(&e.l, &m));
	m.dest = 0x23;
	CHECK(lapic_matches(&e.l, &m));
	m.dest = 0x22;
	CHECK(!lapic_matches(&e.l, &m));
	m.dest = 0x11;
	CHECK(!lapic_matches(&e.l, &m));
	wr(&e, APIC_DFR, 0x5fffffff); /* neither flat nor cluster */
	m.dest = 0x21;
	CHECK(!lapic_matches(&e.l, &m));
	/* x2APIC: ID 0x13 is cluster 1, member bit 3 */
	struct apic_env x;
	env_init(&x, 0x13);
	env_to_x2apic(&x);
	m = (struct apic_msg){.dest = 0x13};
	CHECK(lapic_matches(&x.l, &m));
	m.dest = 0xffffffff;
	CHECK(lapic_matches(&x.l, &m));
	m.dest = 0xff;
	CHECK(lapic_matches(&x.l, &m));
	m = (struct apic_msg){.dest = 0x00010008, .logical = true};
	CHECK(lapic_matches(&x.l, &m));
	m.dest = 0x00010004;
	CHECK(!lapic_matches(&x.l, &m));
	m.dest = 0x00020008;
	CHECK(!lapic_matches(&x.l, &m));
	/* disabled: nothing */
	REQUIRE(lapic_set_base(&e.l, LAPIC_DEFAULT_BASE));
	m = (struct apic_msg){.dest = 0xff};
	CHECK(!lapic_matches(&e.l, &m));
}

/* ---- IPIs through the ICR ---- */

TEST(lapic_icr_sends_ipis)
{
	struct apic_env e;
	env_init(&e, 1);
	env_enable(&e);
	wr(&e, APIC_ICR2, 0x02123456); /* only the destination byte is kept */
	CHECK_EQ(rd(&e, APIC_ICR2), 0x02000000);
	wr(&e, APIC_ICR, 0x4000 | 0x40);
	REQUIRE(e.nipi == 1);
	CHECK_EQ(e.ipi[0].m.dest, 2);
	CHECK(!e.ipi[0].m.logical);
	CHECK_EQ(e.ipi[0].m.mode, APIC_DM_FIXED);
	CHECK_EQ(e.ipi[0].m.vector, 0x40);
	CHECK(!e.ipi[0].m.level);
	CHECK_EQ(e.ipi[0].scope, LAPIC_IPI_DEST);
	CHECK_EQ(rd(&e, APIC_ICR) & (1u << 12), 0); /* delivery status: idle */
	CHECK_EQ(rd(&e, APIC_ICR), 0x4040);

	wr(&e, APIC_ICR, (1u << 18) | 0x41); /* self */
	CHECK_EQ(e.nipi, 1);
	CHECK(irr_has(&e, 0x41));
	wr(&e, APIC_ICR, (2u << 18) | 0x42); /* all including self */
	CHECK(irr_has(&e, 0x42));
	REQUIRE(e.nipi == 2);
	CHECK_EQ(e.ipi[1].scope, LAPIC_IPI_ALL_BUT_SELF);
	CHECK_EQ(e.ipi[1].m.dest, 0xff);
	wr(&e, APIC_ICR, (3u << 18) | 0x43); /* all excluding self */
	CHECK(!irr_has(&e, 0x43));
	REQUIRE(e.nipi == 3);
	CHECK_EQ(e.ipi[2].scope, LAPIC_IPI_ALL_BUT_SELF);
	CHECK_EQ(e.ipi[2].m.vector, 0x43);
	wr(&e, APIC_ICR, 0x800 | 0x44); /* logical */
	REQUIRE(e.nipi == 4);
	CHECK(e.ipi[3].m.logical);
	CHECK_EQ(e.ipi[3].m.dest, 2);
	wr(&e, APIC_ICR, 0xc000 | 0x45); /* level-triggered fixed */
	REQUIRE(e.nipi == 5);
	CHECK(e.ipi[4].m.level);
	wr(&e, APIC_ICR, 0x400); /* NMI */
	REQUIRE(e.nipi == 6);
	CHECK_EQ(e.ipi[5].m.mode, APIC_DM_NMI);

	/* refused: ExtINT, mode 3, non-fixed self, illegal vectors */
	unsigned bad = (unsigned)e.l.stats.bad_ipi;
	wr(&e, APIC_ICR, 0x700);
	wr(&e, APIC_ICR, 0x300 | 0x40);
	wr(&e, APIC_ICR, (1u << 18) | 0x400);
	CHECK_EQ(e.l.stats.bad_ipi, bad + 3);
	wr(&e, APIC_ICR, 0x4000 | 0x0e);
	CHECK_EQ(e.nipi, 6);
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0x20);
}

/* wakeup_secondary_cpu_via_init(): INIT assert, INIT de-assert, then two SIPIs. */
TEST(lapic_icr_init_sipi_sequence)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	wr(&e, APIC_ICR2, 1u << 24);
	wr(&e, APIC_ICR, 0xc000 | 0x500); /* level, assert, INIT */
	wr(&e, APIC_ICR2, 1u << 24);
	wr(&e, APIC_ICR, 0x8000 | 0x500); /* level, de-assert, INIT: not sent */
	for (unsigned i = 0; i < 2; i++) {
		wr(&e, APIC_ESR, 0);
		wr(&e, APIC_ICR2, 1u << 24);
		wr(&e, APIC_ICR, 0x600 | 0x9a);
		CHECK_EQ(rd(&e, APIC_ICR) & (1u << 12), 0);
		wr(&e, APIC_ESR, 0);
		CHECK_EQ(rd(&e, APIC_ESR), 0);
	}
	REQUIRE(e.nipi == 3);
	CHECK_EQ(e.ipi[0].m.mode, APIC_DM_INIT);
	CHECK_EQ(e.ipi[0].m.dest, 1);
	CHECK(!e.ipi[0].m.level); /* only fixed/lowest carry a trigger mode to the receiver */
	CHECK_EQ(e.ipi[1].m.mode, APIC_DM_STARTUP);
	CHECK_EQ(e.ipi[1].m.vector, 0x9a);
	CHECK_EQ(e.ipi[2].m.mode, APIC_DM_STARTUP);
	CHECK_EQ(e.l.stats.bad_ipi, 1);
}

TEST(lapic_ipi_without_router_reaches_only_self)
{
	struct apic_env e;
	struct lapic_config c = env_config(&e, 2, false);
	c.ipi = NULL;
	env_init_cfg(&e, &c);
	env_enable(&e);
	wr(&e, APIC_ICR2, 2u << 24);
	wr(&e, APIC_ICR, 0x50);
	CHECK(irr_has(&e, 0x50));
	wr(&e, APIC_ICR2, 3u << 24);
	wr(&e, APIC_ICR, 0x51);
	CHECK(!irr_has(&e, 0x51));
	wr(&e, APIC_ICR, (3u << 18) | 0x52);
	CHECK(!irr_has(&e, 0x52));
}

TEST(lapic_ipis_between_two_cpus)
{
	struct apic_env a, b;
	struct apic_bus bus = {{&a, &b}, 2, 0};
	env_init(&a, 0);
	env_init(&b, 1);
	a.bus = b.bus = &bus;
	env_enable(&a);
	env_enable(&b);
	wr(&a, APIC_LDR, 0x01u << 24);
	wr(&b, APIC_LDR, 0x02u << 24);
	wr(&a, APIC_ICR2, 1u << 24); /* physical to CPU 1 */
	wr(&a, APIC_ICR, 0xf3);
	CHECK_EQ(lapic_pending(&b.l), 0xf3);
	CHECK_EQ(lapic_pending(&a.l), -1);
	wr(&b, APIC_ICR2, 0x03u << 24); /* logical to both */
	wr(&b, APIC_ICR, 0x800 | 0xf4);
	CHECK_EQ(lapic_pending(&a.l), 0xf4);
	CHECK_EQ(lapic_pending(&b.l), 0xf4);
	wr(&a, APIC_ICR, (3u << 18) | 0xf5); /* all but self */
	CHECK_EQ(lapic_pending(&b.l), 0xf5);
	CHECK_EQ(lapic_pending(&a.l), 0xf4);
}

/* ---- LINT pins ---- */

TEST(lapic_lint0_extint_virtual_wire)
{
	struct apic_env e;
	env_init(&e, 0);
	struct irq_line intr = lapic_lint_line(&e.l, 0);
	irq_line_set(&intr, true); /* the PIC raises INTR */
	CHECK(lapic_extint_pending(&e.l));
	CHECK_EQ(e.kicks, 1);
	CHECK_EQ(lapic_pending(&e.l), -1); /* ExtINT vectors come from the PIC, not the IRR */
	irq_line_set(&intr, false);
	CHECK(!lapic_extint_pending(&e.l));
	/* Linux masks it when the IOAPIC takes over */
	env_enable(&e);
	wr(&e, APIC_LVT0, APIC_MODE_EXTINT | APIC_LVT_MASKED);
	irq_line_set(&intr, true);
	CHECK(!lapic_extint_pending(&e.l));
	wr(&e, APIC_LVT0, APIC_MODE_EXTINT); /* unmasking with INTR high */
	CHECK(lapic_extint_pending(&e.l));
	irq_line_set(&intr, false);
	/* an ExtINT message (IOAPIC pin in ExtINT mode) waits for the acknowledgment */
	struct apic_msg m = {.mode = APIC_DM_EXTINT};
	CHECK(lapic_accept(&e.l, &m));
	CHECK(lapic_extint_pending(&e.l));
	lapic_extint_acknowledge(&e.l);
	CHECK(!lapic_extint_pending(&e.l));
	lapic_set_lint(&e.l, 7, true); /* no such pin */
	CHECK(!lapic_extint_pending(&e.l));
}

/* check_timer()'s "Virtual Wire IRQ" attempt: LINT0 as a fixed edge vector. */
TEST(lapic_lint0_fixed_edge)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	wr(&e, APIC_LVT0, 0x30);
	lapic_set_lint(&e.l, 0, true);
	CHECK_EQ(env_inject(&e), 0x30);
	wr(&e, APIC_EOI, 0);
	lapic_set_lint(&e.l, 0, true); /* no new edge */
	CHECK_EQ(lapic_pending(&e.l), -1);
	lapic_set_lint(&e.l, 0, false);
	lapic_set_lint(&e.l, 0, true);
	CHECK_EQ(lapic_pending(&e.l), 0x30);
	CHECK(!lapic_extint_pending(&e.l));
}

TEST(lapic_lint_level_fixed_uses_remote_irr)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	wr(&e, APIC_LVT1, APIC_LVT_LEVEL | APIC_LVT_MASKED | 0x31);
	lapic_set_lint(&e.l, 1, true);
	CHECK_EQ(lapic_pending(&e.l), -1);
	wr(&e, APIC_LVT1, APIC_LVT_LEVEL | 0x31); /* unmasking an asserted level pin */
	CHECK_EQ(rd(&e, APIC_LVT1), APIC_LVT_LEVEL | 0x4000 | 0x31);
	CHECK_EQ(env_inject(&e), 0x31);
	CHECK(rd(&e, APIC_TMR + 0x10) & (1u << (0x31 - 32)));
	wr(&e, APIC_EOI, 0); /* still asserted: again */
	CHECK_EQ(e.neoi, 1);
	CHECK_EQ(env_inject(&e), 0x31);
	lapic_set_lint(&e.l, 1, false);
	wr(&e, APIC_EOI, 0);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(rd(&e, APIC_LVT1), APIC_LVT_LEVEL | 0x31);
	wr(&e, APIC_LVT1, 0x4000 | 0x31); /* remote IRR is read-only */
	CHECK_EQ(rd(&e, APIC_LVT1), 0x31);
}

TEST(lapic_lint1_nmi_and_polarity)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	wr(&e, APIC_LVT1, APIC_MODE_NMI);
	lapic_set_lint(&e.l, 1, true);
	lapic_set_lint(&e.l, 1, true);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), LAPIC_EV_NMI);
	lapic_set_lint(&e.l, 1, false);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), 0);
	wr(&e, APIC_LVT1, APIC_MODE_NMI | 0x2000); /* active low: the falling edge asserts */
	lapic_set_lint(&e.l, 1, true);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), 0);
	lapic_set_lint(&e.l, 1, false);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), LAPIC_EV_NMI);
	wr(&e, APIC_LVT1, APIC_MODE_NMI | APIC_LVT_MASKED);
	lapic_set_lint(&e.l, 1, true);
	lapic_set_lint(&e.l, 1, false);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), 0);
}

TEST(lapic_local_sources_use_their_lvt)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	lapic_raise_lvt(&e.l, LAPIC_LVT_PMC); /* masked */
	CHECK_EQ(lapic_pending(&e.l), -1);
	wr(&e, APIC_LVTPC, APIC_MODE_NMI);
	lapic_raise_lvt(&e.l, LAPIC_LVT_PMC);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), LAPIC_EV_NMI);
	wr(&e, APIC_LVTTHMR, 0xfa);
	lapic_raise_lvt(&e.l, LAPIC_LVT_THERMAL);
	CHECK_EQ(lapic_pending(&e.l), 0xfa);
	wr(&e, APIC_LVTT, 0xec);
	lapic_raise_lvt(&e.l, LAPIC_LVT_TIMER); /* the timer fires by itself only */
	lapic_raise_lvt(&e.l, (enum lapic_lvt)99);
	CHECK_EQ(lapic_pending(&e.l), 0xfa);
}

/* ---- IA32_APIC_BASE ---- */

TEST(lapic_apic_base_transitions)
{
	struct apic_env e;
	env_init(&e, 0);
	const u64 B = LAPIC_DEFAULT_BASE | APIC_BASE_BSP;
	CHECK(!lapic_set_base(&e.l, B | APIC_BASE_EXTD));		/* EXTD without EN */
	CHECK(lapic_set_base(&e.l, B | APIC_BASE_EN | APIC_BASE_EXTD)); /* xAPIC -> x2APIC */
	CHECK_EQ(lapic_mode(&e.l), LAPIC_MODE_X2APIC);
	CHECK(!lapic_set_base(&e.l, B | APIC_BASE_EN)); /* x2APIC -> xAPIC directly */
	CHECK_EQ(lapic_mode(&e.l), LAPIC_MODE_X2APIC);
	CHECK(lapic_msr_write(&e.l, X2APIC_MSR(APIC_SPIV), 0x1ff));
	CHECK(lapic_msr_write(&e.l, X2APIC_MSR(APIC_TASKPRI), 0x40));
	CHECK(lapic_accept(&e.l, &(struct apic_msg){.mode = APIC_DM_FIXED, .vector = 0x80}));
	CHECK(lapic_set_base(&e.l, B)); /* x2APIC -> disabled (Linux's __x2apic_disable) */
	CHECK_EQ(lapic_mode(&e.l), LAPIC_MODE_DISABLED);
	CHECK(!lapic_set_base(&e.l, B | APIC_BASE_EN | APIC_BASE_EXTD)); /* disabled -> x2APIC */
	CHECK(lapic_set_base(&e.l, B | APIC_BASE_EN));			 /* disabled -> xAPIC */
	CHECK_EQ(lapic_mode(&e.l), LAPIC_MODE_XAPIC);
	/* disabling reset the APIC */
	CHECK_EQ(rd(&e, APIC_SPIV), 0xff);
	CHECK_EQ(rd(&e, APIC_TASKPRI), 0);
	CHECK_EQ(rd(&e, APIC_LVT0), APIC_LVT_MASKED);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(rd(&e, APIC_IRR + 0x40), 0);
	CHECK_EQ(rd(&e, APIC_ID), 0);
}

TEST(lapic_apic_base_reserved_bits_and_relocation)
{
	struct apic_env e;
	env_init(&e, 0);
	const u64 EN = APIC_BASE_EN | APIC_BASE_BSP;
	CHECK(!lapic_set_base(&e.l, LAPIC_DEFAULT_BASE | EN | BIT(9)));
	CHECK(!lapic_set_base(&e.l, LAPIC_DEFAULT_BASE | EN | 1));
	CHECK(!lapic_set_base(&e.l, LAPIC_DEFAULT_BASE | EN | BIT(39))); /* phys_bits = 39 */
	CHECK(lapic_set_base(&e.l, 0x7ffffff000ULL | EN));
	CHECK_EQ(lapic_base_addr(&e.l), 0x7ffffff000ULL);
	CHECK(lapic_set_base(&e.l, 0xfed00000 | APIC_BASE_EN)); /* the BSP flag is not writable */
	CHECK_EQ(lapic_get_base(&e.l), 0xfed00000 | EN);
	CHECK_EQ(lapic_base_addr(&e.l), 0xfed00000);

	struct lapic_config c = env_config(&e, 0, true);
	c.x2apic = false; /* no x2APIC support: EXTD is reserved */
	env_init_cfg(&e, &c);
	CHECK(!lapic_set_base(&e.l, LAPIC_DEFAULT_BASE | EN | APIC_BASE_EXTD));
	CHECK_EQ(lapic_mode(&e.l), LAPIC_MODE_XAPIC);
}

TEST(lapic_disabled_apic_passes_lint_through)
{
	struct apic_env e;
	env_init(&e, 0);
	REQUIRE(lapic_set_base(&e.l, LAPIC_DEFAULT_BASE));
	struct mmio_access a = {APIC_ID, 4, false, 0x1234};
	lapic_mmio(&e.l, &a);
	CHECK_EQ(a.value, 0);
	CHECK_EQ(e.l.stats.mmio_off, 1);
	lapic_set_lint(&e.l, 0, true); /* INTR straight to the CPU */
	CHECK(lapic_extint_pending(&e.l));
	lapic_set_lint(&e.l, 1, true); /* NMI straight to the CPU */
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_ALL), LAPIC_EV_NMI);
	lapic_update(&e.l, 1000000);
	CHECK_EQ(lapic_next_event(&e.l, 1000000), UINT64_MAX);
}

TEST(lapic_init_reset_keeps_id_and_base)
{
	struct apic_env e;
	env_init(&e, 1);
	env_enable(&e);
	wr(&e, APIC_ID, 0x07000000);
	wr(&e, APIC_TASKPRI, 0x20);
	CHECK(accept(&e, 0x40, false));
	struct apic_msg sipi = {.mode = APIC_DM_STARTUP, .vector = 0x10};
	CHECK(lapic_accept(&e.l, &sipi));
	lapic_reset(&e.l, true);
	CHECK_EQ(rd(&e, APIC_ID), 0x07000000);
	CHECK_EQ(lapic_get_base(&e.l), 0xfee00800);
	CHECK_EQ(rd(&e, APIC_TASKPRI), 0);
	CHECK_EQ(rd(&e, APIC_SPIV), 0xff);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(lapic_take_events(&e.l, LAPIC_EV_SIPI), LAPIC_EV_SIPI); /* vCPU state survives */
	lapic_reset(&e.l, false);
	CHECK_EQ(rd(&e, APIC_ID), 0x01000000);
}

/* ---- x2APIC ---- */

TEST(lapic_x2apic_registers)
{
	struct apic_env e;
	env_init(&e, 0x13);
	env_enable(&e);
	env_to_x2apic(&e);
	CHECK_EQ(rdmsr_ok(&e, 0x802), 0x13); /* 32-bit ID, not shifted */
	CHECK_EQ(rdmsr_ok(&e, 0x803), 0x00060014);
	CHECK_EQ(rdmsr_ok(&e, 0x80d), 0x00010008); /* LDR: cluster 1, bit 3 */
	CHECK_EQ(rdmsr_ok(&e, 0x80f), 0x1ff);	   /* SVR survives the switch */
	CHECK(lapic_msr_write(&e.l, 0x808, 0x20));
	CHECK_EQ(rdmsr_ok(&e, 0x808), 0x20);
	CHECK_EQ(rdmsr_ok(&e, 0x80a), 0x20);
	/* the 64-bit ICR: destination in the high half */
	CHECK(lapic_msr_write(&e.l, 0x830, (5ULL << 32) | 0x4000 | 0x50));
	REQUIRE(e.nipi == 1);
	CHECK_EQ(e.ipi[0].m.dest, 5);
	CHECK_EQ(e.ipi[0].m.vector, 0x50);
	CHECK_EQ(rdmsr_ok(&e, 0x830), (5ULL << 32) | 0x4000 | 0x50);
	CHECK(lapic_msr_write(&e.l, 0x830, (0xffffffffULL << 32) | (3u << 18) | 0x51));
	REQUIRE(e.nipi == 2);
	CHECK_EQ(e.ipi[1].m.dest, 0xffffffff);
	CHECK_EQ(e.ipi[1].scope, LAPIC_IPI_ALL_BUT_SELF);
	/* SELF IPI, then EOI by MSR */
	CHECK(lapic_msr_write(&e.l, 0x83f, 0x60));
	CHECK_EQ(env_inject(&e), 0x60);
	CHECK_EQ(rdmsr_ok(&e, 0x810 + 0x60 / 32), 1u << (0x60 % 32));
	CHECK(lapic_msr_write(&e.l, 0x80b, 0));
	CHECK_EQ(rdmsr_ok(&e, 0x810 + 0x60 / 32), 0);
	/* LVTs, timer registers, ESR */
	CHECK(lapic_msr_write(&e.l, 0x832, 0xec | APIC_LVT_MASKED));
	CHECK_EQ(rdmsr_ok(&e, 0x832), 0xec | APIC_LVT_MASKED);
	CHECK(lapic_msr_write(&e.l, 0x83e, 0xb));
	CHECK_EQ(rdmsr_ok(&e, 0x83e), 0xb);
	CHECK(lapic_msr_write(&e.l, 0x838, 1234));
	CHECK_EQ(rdmsr_ok(&e, 0x838), 1234);
	CHECK_EQ(rdmsr_ok(&e, 0x839), 1234);
	CHECK(lapic_msr_write(&e.l, 0x828, 0));
	CHECK_EQ(rdmsr_ok(&e, 0x828), 0);
	CHECK(lapic_msr_write(&e.l, 0x835, 0x1a7ff | 0x1000)); /* delivery status: read-only */
	CHECK_EQ(rdmsr_ok(&e, 0x835), 0x1a7ff);
	/* the xAPIC page is gone */
	struct mmio_access a = {APIC_ID, 4, false, 0};
	lapic_mmio(&e.l, &a);
	CHECK_EQ(a.value, 0);
	CHECK_EQ(e.l.stats.mmio_off, 1);
	CHECK_EQ(e.l.stats.msr_gp, 0);
}

TEST(lapic_x2apic_msr_faults)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	u64 v = 0x1234;
	CHECK(!lapic_msr_read(&e.l, 0x802, &v)); /* x2APIC not enabled */
	CHECK_EQ(v, 0);
	CHECK(!lapic_msr_write(&e.l, 0x808, 0));
	env_to_x2apic(&e);
	CHECK(lapic_msr_write(&e.l, 0x808, 0x30));

	/* reads of registers that do not exist or are write-only */
	const u32 no_read[] = {0x7ff, 0x800, 0x801, 0x804, 0x807, 0x809, 0x80b, 0x80c,
			       0x80e, 0x831, 0x83a, 0x83d, 0x83f, 0x840, 0x8ff, 0x900};
	for (unsigned i = 0; i < ARRAY_SIZE(no_read); i++)
		if (lapic_msr_read(&e.l, no_read[i], &v))
			test_fail(__FILE__, __LINE__, "RDMSR 0x%x did not fault", no_read[i]);
	/* writes to read-only or missing registers */
	const u32 no_write[] = {0x802, 0x803, 0x809, 0x80a, 0x80d, 0x80e, 0x810, 0x817,
				0x818, 0x820, 0x827, 0x831, 0x839, 0x83a, 0x840, 0x8ff};
	for (unsigned i = 0; i < ARRAY_SIZE(no_write); i++)
		if (lapic_msr_write(&e.l, no_write[i], 0))
			test_fail(__FILE__, __LINE__, "WRMSR 0x%x did not fault", no_write[i]);
	/* non-zero reserved bits */
	const struct {
		u32 msr;
		u64 val;
	} rsvd[] = {
	    {0x808, 0x100},	 /* TPR */
	    {0x808, 1ULL << 32}, /* upper half of a 32-bit register */
	    {0x80f, 0x1000},	 /* SVR: no EOI-broadcast suppression offered */
	    {0x80b, 1},		 /* EOI takes only 0 */
	    {0x828, 1},		 /* ESR takes only 0 */
	    {0x832, 1u << 19},	 /* LVT timer */
	    {0x835, 1u << 17},	 /* LINT0 */
	    {0x837, 0x700},	 /* LVT error has no delivery mode */
	    {0x830, 1u << 12},	 /* ICR: no delivery status in x2APIC */
	    {0x830, 1u << 13},	 {0x830, 1u << 16},
	    {0x830, 1u << 20},	 {0x838, 1ULL << 32}, /* initial count */
	    {0x83e, 0x4},			      /* divide configuration */
	    {0x83f, 0x100},			      /* SELF IPI */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(rsvd); i++)
		if (lapic_msr_write(&e.l, rsvd[i].msr, rsvd[i].val))
			test_fail(__FILE__, __LINE__, "WRMSR 0x%x <- 0x%llx did not fault",
				  rsvd[i].msr, (unsigned long long)rsvd[i].val);
	CHECK_EQ(e.l.stats.msr_gp,
		 2 + ARRAY_SIZE(no_read) + ARRAY_SIZE(no_write) + ARRAY_SIZE(rsvd));
	/* nothing changed */
	CHECK_EQ(rdmsr_ok(&e, 0x808), 0x30);
	CHECK_EQ(rdmsr_ok(&e, 0x80f), 0x1ff);
	CHECK_EQ(rdmsr_ok(&e, 0x832), APIC_LVT_MASKED);
	CHECK_EQ(e.nipi, 0);
	CHECK_EQ(lapic_pending(&e.l), -1);
}

/* ---- hostile MMIO ---- */

TEST(lapic_mmio_non_architectural_accesses)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	wr(&e, APIC_TASKPRI, 0x20);
	const struct {
		u64 off;
		u8 size;
	} bad[] = {
	    {APIC_TASKPRI, 1},
	    {APIC_TASKPRI, 2},
	    {APIC_TASKPRI, 8},
	    {APIC_TASKPRI + 1, 4},
	    {APIC_TASKPRI + 4, 4},
	    {APIC_TASKPRI + 8, 4},
	    {APIC_TASKPRI + 12, 4},
	    {APIC_TASKPRI + 2, 2},
	    {APIC_TASKPRI, 0},
	    {APIC_TASKPRI, 3},
	    {0xffc, 4},
	    {0x1000, 4},
	    {0xfffffffffffffff0ULL, 4},
	    {APIC_EOI + 1, 1},
	    {APIC_ICR + 4, 4},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct mmio_access r = {bad[i].off, bad[i].size, false, 0xdeadbeef};
		lapic_mmio(&e.l, &r);
		CHECK_EQ(r.value, 0);
		struct mmio_access w = {bad[i].off, bad[i].size, true, 0xffffffffffffffffULL};
		lapic_mmio(&e.l, &w);
	}
	CHECK_EQ(e.l.stats.bad_mmio, 2 * ARRAY_SIZE(bad));
	CHECK_EQ(rd(&e, APIC_TASKPRI), 0x20);
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK_EQ(e.nipi, 0);
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0); /* not an APIC error: the access never reached it */
}

TEST(lapic_mmio_reserved_and_read_only_registers)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	wr(&e, APIC_LVTERR, 0xfe);
	const u64 reserved[] = {0x000, 0x010,	      0x040, 0x070, 0x3a0,
				0x3d0, APIC_SELF_IPI, 0x400, 0xff0};
	for (unsigned i = 0; i < ARRAY_SIZE(reserved); i++) {
		CHECK_EQ(rd(&e, reserved[i]), 0);
		wr(&e, reserved[i], 0xffffffff);
	}
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0x80); /* illegal register address */
	CHECK_EQ(env_inject(&e), 0xfe);
	wr(&e, APIC_EOI, 0);
	CHECK(!irr_has(&e, 0xff)); /* the SELF IPI register is x2APIC-only */
	/* read-only registers ignore writes, without an error */
	wr(&e, APIC_LVR, 0);
	wr(&e, APIC_PROCPRI, 0xff);
	wr(&e, APIC_ARBPRI, 0xff);
	wr(&e, APIC_ISR, 0xffffffff);
	wr(&e, APIC_IRR + 0x70, 0xffffffff);
	wr(&e, APIC_TMR, 0xffffffff);
	wr(&e, APIC_TMCCT, 5);
	CHECK_EQ(rd(&e, APIC_LVR), 0x00060014);
	CHECK_EQ(rd(&e, APIC_PROCPRI), 0);
	CHECK_EQ(rd(&e, APIC_IRR + 0x70), 0);
	CHECK_EQ(rd(&e, APIC_TMCCT), 0);
	CHECK_EQ(rd(&e, APIC_EOI), 0);
	CHECK_EQ(rd(&e, 0xc0), 0); /* remote read: gone */
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0);
	CHECK_EQ(e.l.stats.bad_mmio, 0);
}

/* A stream of random accesses: whatever a guest writes, nothing breaks (ASan/UBSan). */
TEST(lapic_random_accesses_are_harmless)
{
	struct apic_env e;
	env_init(&e, 0);
	u64 x = 0x9e3779b97f4a7c15ULL;
	for (unsigned i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		static const u8 sizes[] = {1, 2, 4, 4, 4, 8};
		struct mmio_access a = {(x >> 8) & 0xfff, sizes[x % 6], (x >> 40) & 1, x};
		if (a.size == 4)
			a.offset &= ~0xfULL;
		lapic_mmio(&e.l, &a);
		if ((x >> 50) % 7 == 0) {
			int v = lapic_pending(&e.l);
			if (v >= 0)
				lapic_acknowledge(&e.l, (u8)v);
		}
		if ((x >> 45) % 13 == 0) {
			u64 val;
			lapic_msr_read(&e.l, 0x800 + (u32)((x >> 20) & 0xff), &val);
			lapic_msr_write(&e.l, 0x800 + (u32)((x >> 28) & 0xff), x);
			lapic_set_base(&e.l, x & 0xfffffffffd00ULL);
		}
		lapic_update(&e.l, i * 1000ULL);
		lapic_set_lint(&e.l, (x >> 33) & 1, (x >> 34) & 1);
	}
	CHECK(lapic_ppr(&e.l) <= 0xff);
}

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
	CHECK(accept(a, 0x51, true));
	CHECK_EQ(env_inject(a), 0x51);
	CHECK(accept(a, 0x61, false));
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
