/* Tests of the local APIC's register file (devices/lapic_regs.c): the register sequences
 * Linux uses, the ESR, the x2APIC MSRs and their #GP cases, and hostile MMIO. */
#include "apic_env.h"

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
	CHECK(accept_fixed(&e, 0x31, false));
	CHECK(accept_fixed(&e, 0x1f, false));
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
	CHECK(!accept_fixed(&e, 3, false)); /* receive illegal vector */
	CHECK_EQ(rd(&e, APIC_ESR), 0);	    /* not visible before the next write */
	CHECK_EQ(env_inject(&e), 0xfe);	    /* but the error LVT fired */
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
	CHECK(!accept_fixed(&e, 0x01, false));
	CHECK_EQ(lapic_pending(&e.l), -1);
	wr(&e, APIC_ESR, 0);
	CHECK_EQ(rd(&e, APIC_ESR), 0x40);
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
		test_rng(&x);
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
