/* Tests of the local APIC's state machine (devices/lapic.c): power-on state, priorities and
 * EOI, acceptance and destinations, IPIs, LINT pins, IA32_APIC_BASE. The register file is
 * test_lapic_regs.c's, save/load test_lapic_state.c's, the timer test_lapic_timer.c's. */
#include "apic_env.h"

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

/* ---- priorities ---- */

TEST(lapic_ppr_and_priority_classes)
{
	struct apic_env e;
	env_init(&e, 0);
	env_enable(&e);
	CHECK(accept_fixed(&e, 0x45, false));
	CHECK(accept_fixed(&e, 0x62, false));
	CHECK_EQ(env_inject(&e), 0x62);
	CHECK_EQ(rd(&e, APIC_ISR + 0x30), 1u << (0x62 - 96));
	CHECK_EQ(rd(&e, APIC_PROCPRI), 0x60);
	CHECK_EQ(lapic_pending(&e.l), -1); /* 0x45: class 4 below the in-service class 6 */
	CHECK(accept_fixed(&e, 0x71, false));
	CHECK_EQ(env_inject(&e), 0x71); /* class 7 preempts */
	CHECK_EQ(lapic_ppr(&e.l), 0x70);
	CHECK(accept_fixed(&e, 0x7a, false));
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
	CHECK(accept_fixed(&e, 0x3f, false));
	CHECK_EQ(lapic_pending(&e.l), -1);
	CHECK(accept_fixed(&e, 0x40, false));
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
	CHECK(accept_fixed(&e, 0x51, true));
	CHECK(accept_fixed(&e, 0x52, false));
	CHECK_EQ(rd(&e, APIC_TMR + 0x20), 1u << (0x51 - 64));
	CHECK_EQ(env_inject(&e), 0x52);
	wr(&e, APIC_EOI, 0);
	CHECK_EQ(e.neoi, 0); /* edge: nobody to tell */
	CHECK_EQ(env_inject(&e), 0x51);
	wr(&e, APIC_EOI, 0);
	CHECK_EQ(e.neoi, 1);
	CHECK_EQ(e.eoi[0], 0x51);
	/* the same vector arriving edge-triggered clears its TMR bit */
	CHECK(accept_fixed(&e, 0x51, false));
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
	CHECK(!accept_fixed(&e, 0x40, false));
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
	CHECK(accept_fixed(&e, 0x40, false));
	CHECK(!accept_fixed(&e, 0x0f, false));
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
	CHECK(accept_fixed(&e, 0x40, false));
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
