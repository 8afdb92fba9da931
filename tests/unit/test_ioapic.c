/* Tests of the I/O APIC model (devices/ioapic.c), alone with a recording delivery callback
 * and wired to local APICs: Linux's setup_IO_APIC()/check_timer() paths, level interrupts
 * with EOI through the local APIC, masking and polarity, hostile MMIO, save/load. */
#include "apic_env.h"

#define RTE(vec, flags, dest) ((u64)(dest) << 56 | (u64)(flags) | (vec))
#define LEVEL		      IOAPIC_RTE_LEVEL
#define MASKED		      IOAPIC_RTE_MASKED
#define LOW		      IOAPIC_RTE_LOW
#define LOGICAL		      0x800u

struct io_env {
	struct ioapic io;
	struct apic_msg msg[32];
	unsigned n;
	bool refuse;
};

static bool rec_deliver(void *ctx, const struct apic_msg *m)
{
	struct io_env *e = ctx;
	if (e->n < 32)
		e->msg[e->n++] = *m;
	return !e->refuse;
}

static void io_env_init(struct io_env *e)
{
	memset(e, 0, sizeof(*e));
	ioapic_init(&e->io, 0, rec_deliver, e);
}

static void io_access(struct ioapic *io, u64 off, u8 size, bool write, u64 *val)
{
	struct mmio_access a = {off, size, write, *val};
	ioapic_mmio(io, &a);
	*val = a.value;
}

static void io_write(struct ioapic *io, u32 reg, u32 v)
{
	u64 r = reg, x = v;
	io_access(io, IOAPIC_IOREGSEL, 4, true, &r);
	io_access(io, IOAPIC_IOWIN, 4, true, &x);
}

static u32 io_read(struct ioapic *io, u32 reg)
{
	u64 r = reg, x = 0xdeadbeef;
	io_access(io, IOAPIC_IOREGSEL, 4, true, &r);
	io_access(io, IOAPIC_IOWIN, 4, false, &x);
	return (u32)x;
}

/* ioapic_write_entry(): the high half first, so the low half's unmask comes last. */
static void rte_set(struct ioapic *io, unsigned pin, u64 rte)
{
	io_write(io, 0x11 + 2 * pin, (u32)(rte >> 32));
	io_write(io, 0x10 + 2 * pin, (u32)rte);
}

static u64 rte_get(struct ioapic *io, unsigned pin)
{
	return (u64)io_read(io, 0x11 + 2 * pin) << 32 | io_read(io, 0x10 + 2 * pin);
}

/* ---- the IOAPIC alone ---- */

TEST(ioapic_registers)
{
	struct io_env e;
	io_env_init(&e);
	CHECK_EQ(io_read(&e.io, 0), 0);
	CHECK_EQ(io_read(&e.io, 1), 0x00170020);
	CHECK_EQ(((io_read(&e.io, 1) >> 16) & 0xff) + 1, IOAPIC_PINS);
	io_write(&e.io, 0, 0xff00ffff); /* a 4-bit ID */
	CHECK_EQ(io_read(&e.io, 0), 0x0f000000);
	CHECK_EQ(io_read(&e.io, 2), 0x0f000000); /* arbitration ID */
	io_write(&e.io, 1, 0);
	io_write(&e.io, 2, 0);
	CHECK_EQ(io_read(&e.io, 1), 0x00170020);
	u64 sel = 0x21;
	io_access(&e.io, IOAPIC_IOREGSEL, 4, true, &sel);
	sel = 0;
	io_access(&e.io, IOAPIC_IOREGSEL, 4, false, &sel);
	CHECK_EQ(sel, 0x21);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		CHECK_EQ(rte_get(&e.io, pin), MASKED);
	/* read-only and reserved bits are not stored */
	io_write(&e.io, 0x10 + 2 * 7, 0xffffffff);
	io_write(&e.io, 0x11 + 2 * 7, 0xffffffff);
	CHECK_EQ(rte_get(&e.io, 7), 0xff0000000001afffULL);
	CHECK_EQ(e.n, 0);
	CHECK_EQ(e.io.stats.bad_mmio, 0);
	/* no register at 3-0xf or past the table */
	CHECK_EQ(io_read(&e.io, 3), 0);
	CHECK_EQ(io_read(&e.io, 0x40), 0);
	CHECK_EQ(io_read(&e.io, 0xff), 0);
	io_write(&e.io, 0x40, 0xffffffff);
	CHECK_EQ(e.io.stats.bad_mmio, 4);
}

TEST(ioapic_edge_pin)
{
	struct io_env e;
	io_env_init(&e);
	rte_set(&e.io, 4, RTE(0x24, 0, 3));
	struct irq_line uart = ioapic_irq_line(&e.io, 4);
	irq_line_set(&uart, true);
	REQUIRE(e.n == 1);
	CHECK_EQ(e.msg[0].dest, 3);
	CHECK(!e.msg[0].logical);
	CHECK_EQ(e.msg[0].mode, APIC_DM_FIXED);
	CHECK_EQ(e.msg[0].vector, 0x24);
	CHECK(!e.msg[0].level);
	irq_line_set(&uart, true); /* no edge */
	CHECK_EQ(e.n, 1);
	irq_line_set(&uart, false);
	irq_line_pulse(&uart);
	CHECK_EQ(e.n, 2);
	CHECK_EQ(rte_get(&e.io, 4) & IOAPIC_RTE_REMOTEIRR, 0);
	/* an edge while masked is lost, and unmasking does not bring it back */
	rte_set(&e.io, 4, RTE(0x24, MASKED, 3));
	irq_line_set(&uart, true);
	rte_set(&e.io, 4, RTE(0x24, 0, 3));
	CHECK_EQ(e.n, 2);
	ioapic_eoi(&e.io, 0x24); /* nothing to do for edge pins */
	CHECK_EQ(e.n, 2);
}

TEST(ioapic_level_pin_and_remote_irr)
{
	struct io_env e;
	io_env_init(&e);
	rte_set(&e.io, 10, RTE(0x41, LEVEL, 0));
	ioapic_set_irq(&e.io, 10, true);
	REQUIRE(e.n == 1);
	CHECK(e.msg[0].level);
	CHECK(rte_get(&e.io, 10) & IOAPIC_RTE_REMOTEIRR);
	ioapic_set_irq(&e.io, 10, true); /* still waiting for the EOI */
	ioapic_set_irq(&e.io, 10, false);
	ioapic_set_irq(&e.io, 10, true);
	CHECK_EQ(e.n, 1);
	ioapic_eoi(&e.io, 0x42); /* another vector */
	CHECK(rte_get(&e.io, 10) & IOAPIC_RTE_REMOTEIRR);
	ioapic_eoi(&e.io, 0x41); /* still asserted: again */
	CHECK_EQ(e.n, 2);
	CHECK(rte_get(&e.io, 10) & IOAPIC_RTE_REMOTEIRR);
	ioapic_set_irq(&e.io, 10, false);
	ioapic_eoi(&e.io, 0x41);
	CHECK_EQ(e.n, 2);
	CHECK_EQ(rte_get(&e.io, 10), RTE(0x41, LEVEL, 0));
	/* remote IRR is read-only */
	io_write(&e.io, 0x10 + 2 * 10, 0x41 | LEVEL | IOAPIC_RTE_REMOTEIRR | IOAPIC_RTE_DSTATUS);
	CHECK_EQ(rte_get(&e.io, 10), RTE(0x41, LEVEL, 0));
}

TEST(ioapic_level_pin_raised_while_masked)
{
	struct io_env e;
	io_env_init(&e);
	rte_set(&e.io, 9, RTE(0x39, LEVEL | MASKED, 0));
	ioapic_set_irq(&e.io, 9, true);
	CHECK_EQ(e.n, 0);
	u32 lo = io_read(&e.io, 0x10 + 2 * 9); /* unmask_ioapic(): modify the low half only */
	io_write(&e.io, 0x10 + 2 * 9, lo & ~MASKED);
	REQUIRE(e.n == 1);
	CHECK_EQ(e.msg[0].vector, 0x39);
	/* masking with remote IRR set keeps it; EOI while masked does not deliver */
	io_write(&e.io, 0x10 + 2 * 9, lo);
	ioapic_eoi(&e.io, 0x39);
	CHECK_EQ(e.n, 1);
	io_write(&e.io, 0x10 + 2 * 9, lo & ~MASKED);
	CHECK_EQ(e.n, 2);
}

TEST(ioapic_polarity_active_low)
{
	struct io_env e;
	io_env_init(&e);
	ioapic_set_irq(&e.io, 11, true); /* a PCI line idles high */
	rte_set(&e.io, 11, RTE(0x51, LEVEL | LOW, 0));
	CHECK_EQ(e.n, 0);
	ioapic_set_irq(&e.io, 11, false); /* asserted */
	CHECK_EQ(e.n, 1);
	ioapic_set_irq(&e.io, 11, true);
	ioapic_eoi(&e.io, 0x51);
	CHECK_EQ(e.n, 1);
	/* edge, active low: the falling edge delivers */
	rte_set(&e.io, 12, RTE(0x52, LOW, 0));
	ioapic_set_irq(&e.io, 12, true);
	CHECK_EQ(e.n, 1);
	ioapic_set_irq(&e.io, 12, false);
	CHECK_EQ(e.n, 2);
	/* a level pin left low, active low, delivers when unmasked */
	rte_set(&e.io, 13, RTE(0x53, LEVEL | LOW, 0));
	CHECK_EQ(e.n, 3);
}

/* __eoi_ioapic_pin(): version 0x20 has the EOI register; older ones need mask+edge. */
TEST(ioapic_eoi_register_and_mask_edge_trick)
{
	struct io_env e;
	io_env_init(&e);
	rte_set(&e.io, 16, RTE(0x61, LEVEL, 0));
	ioapic_set_irq(&e.io, 16, true);
	CHECK_EQ(e.n, 1);
	u64 v = 0x61;
	io_access(&e.io, IOAPIC_EOI, 4, true, &v);
	CHECK_EQ(e.n, 2); /* still asserted */
	v = 0x1234;
	io_access(&e.io, IOAPIC_EOI, 4, false, &v);
	CHECK_EQ(v, 0); /* write-only */
	/* clear_IO_APIC_pin() on an IOAPIC without the register: mask + edge, then back */
	CHECK(rte_get(&e.io, 16) & IOAPIC_RTE_REMOTEIRR);
	io_write(&e.io, 0x10 + 2 * 16, 0x61 | MASKED);
	CHECK_EQ(rte_get(&e.io, 16) & IOAPIC_RTE_REMOTEIRR, 0);
	io_write(&e.io, 0x10 + 2 * 16, 0x61 | LEVEL);
	CHECK_EQ(e.n, 3);
}

TEST(ioapic_delivery_modes)
{
	struct io_env e;
	io_env_init(&e);
	rte_set(&e.io, 5, RTE(0, APIC_DM_NMI << 8 | LEVEL, 0)); /* NMI is an edge whatever */
	ioapic_set_irq(&e.io, 5, true);
	REQUIRE(e.n == 1);
	CHECK_EQ(e.msg[0].mode, APIC_DM_NMI);
	CHECK(!e.msg[0].level);
	CHECK_EQ(rte_get(&e.io, 5) & IOAPIC_RTE_REMOTEIRR, 0);
	ioapic_set_irq(&e.io, 5, true);
	CHECK_EQ(e.n, 1);
	rte_set(&e.io, 6, RTE(0x66, APIC_DM_LOWEST << 8 | LOGICAL, 0x0f));
	ioapic_set_irq(&e.io, 6, true);
	REQUIRE(e.n == 2);
	CHECK_EQ(e.msg[1].mode, APIC_DM_LOWEST);
	CHECK(e.msg[1].logical);
	CHECK_EQ(e.msg[1].dest, 0x0f);
	rte_set(&e.io, 0, RTE(0, APIC_DM_EXTINT << 8, 0));
	ioapic_set_irq(&e.io, 0, true);
	REQUIRE(e.n == 3);
	CHECK_EQ(e.msg[2].mode, APIC_DM_EXTINT);
	/* reserved modes 3 and 6 send nothing */
	rte_set(&e.io, 7, RTE(0x77, 3 << 8, 0));
	rte_set(&e.io, 8, RTE(0x78, 6 << 8 | LEVEL, 0));
	ioapic_set_irq(&e.io, 7, true);
	ioapic_set_irq(&e.io, 8, true);
	CHECK_EQ(e.n, 3);
	CHECK_EQ(e.io.stats.bad_mode, 2);
}

TEST(ioapic_level_nobody_accepted_is_retried)
{
	struct io_env e;
	io_env_init(&e);
	e.refuse = true;
	rte_set(&e.io, 3, RTE(0x33, LEVEL, 0));
	ioapic_set_irq(&e.io, 3, true);
	CHECK_EQ(e.n, 1);
	CHECK_EQ(rte_get(&e.io, 3) & IOAPIC_RTE_REMOTEIRR, 0); /* not waiting for an EOI */
	CHECK_EQ(e.io.stats.undelivered, 1);
	e.refuse = false;
	ioapic_set_irq(&e.io, 3, true);
	CHECK_EQ(e.n, 2);
	CHECK(rte_get(&e.io, 3) & IOAPIC_RTE_REMOTEIRR);
	CHECK_EQ(e.io.stats.delivered, 1);
}

TEST(ioapic_non_architectural_accesses)
{
	struct io_env e;
	io_env_init(&e);
	rte_set(&e.io, 1, RTE(0x21, 0, 0));
	const struct {
		u64 off;
		u8 size;
	} bad[] = {
	    {0x04, 4},
	    {0x08, 4},
	    {0x14, 4},
	    {0x20, 4},
	    {0x44, 4},
	    {0xffc, 4},
	    {0x1000, 4},
	    {IOAPIC_IOWIN, 1},
	    {IOAPIC_IOWIN, 2},
	    {IOAPIC_IOWIN, 8},
	    {IOAPIC_EOI, 1},
	    {IOAPIC_EOI, 8},
	    {IOAPIC_IOREGSEL, 8},
	    {IOAPIC_IOREGSEL, 3},
	    {UINT64_MAX, 4},
	};
	u64 sel = 0x12; /* the low half of pin 1 */
	io_access(&e.io, IOAPIC_IOREGSEL, 4, true, &sel);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		u64 v = 0xdeadbeef;
		io_access(&e.io, bad[i].off, bad[i].size, false, &v);
		CHECK_EQ(v, 0);
		v = 0;
		io_access(&e.io, bad[i].off, bad[i].size, true, &v);
	}
	CHECK_EQ(e.io.stats.bad_mmio, 2 * ARRAY_SIZE(bad));
	CHECK_EQ(rte_get(&e.io, 1), RTE(0x21, 0, 0));
	/* IOREGSEL also takes a byte write */
	sel = 0x101;
	io_access(&e.io, IOAPIC_IOREGSEL, 1, true, &sel);
	u64 v = 0;
	io_access(&e.io, IOAPIC_IOWIN, 4, false, &v);
	CHECK_EQ(v, 0x00170020);
	ioapic_set_irq(&e.io, 24, true);
	ioapic_set_irq(&e.io, 0xffffffffu, true);
	CHECK_EQ(e.io.stats.bad_pin, 2);
	CHECK_EQ(e.n, 0);
}

TEST(ioapic_random_accesses_are_harmless)
{
	struct io_env e;
	io_env_init(&e);
	u64 x = 0x243f6a8885a308d3ULL;
	for (unsigned i = 0; i < 20000; i++) {
		test_rng(&x);
		static const u64 offs[] = {IOAPIC_IOREGSEL, IOAPIC_IOWIN, IOAPIC_EOI, 0x3c};
		static const u8 sizes[] = {1, 2, 4, 4, 8};
		u64 v = x >> 3;
		io_access(&e.io, offs[x % 4], sizes[(x >> 2) % 5], (x >> 9) & 1, &v);
		ioapic_set_irq(&e.io, (unsigned)((x >> 12) % 26), (x >> 20) & 1);
		if ((x >> 30) % 5 == 0)
			ioapic_eoi(&e.io, (u8)(x >> 40));
		e.n = 0;
	}
	CHECK(e.io.regsel <= 0xff);
}

/* ---- save / load ---- */

static size_t io_save(const struct ioapic *io, u8 *buf, size_t size)
{
	struct state_writer w = {buf, size, 0, false};
	ioapic_save(io, &w);
	CHECK(!w.overflow);
	return w.len;
}

static bool io_load(struct ioapic *io, const u8 *buf, size_t len)
{
	struct state_reader r = {test_dup(buf, len), len, 0, false};
	return ioapic_load(io, &r);
}

static void busy_ioapic(struct io_env *a)
{
	io_env_init(a);
	io_write(&a->io, 0, 0x05000000);
	rte_set(&a->io, 2, RTE(0x30, 0, 0));
	rte_set(&a->io, 10, RTE(0x41, LEVEL | LOW, 1));
	rte_set(&a->io, 23, RTE(0x57, MASKED | LEVEL | LOGICAL, 0xf0));
	ioapic_set_irq(&a->io, 10, false); /* asserted, delivered, remote IRR */
	ioapic_set_irq(&a->io, 23, true);
	u64 sel = 0x21;
	io_access(&a->io, IOAPIC_IOREGSEL, 4, true, &sel);
}

enum { IST_ID = 8, IST_LINE = 10, IST_REDIR = 14, IST_SIZE = 14 + 8 * IOAPIC_PINS };

TEST(ioapic_save_load_round_trip)
{
	struct io_env a, b;
	busy_ioapic(&a);
	u8 buf[256];
	size_t n = io_save(&a.io, buf, sizeof(buf));
	CHECK_EQ(n, IST_SIZE);
	io_env_init(&b);
	CHECK(io_load(&b.io, buf, n));
	u64 sel = 0;
	io_access(&b.io, IOAPIC_IOREGSEL, 4, false, &sel);
	CHECK_EQ(sel, 0x21);
	for (u32 reg = 0; reg < 0x40; reg++)
		CHECK_EQ(io_read(&b.io, reg), io_read(&a.io, reg));
	/* the waiting level pin and the masked asserted one carry on */
	CHECK_EQ(b.n, 0);
	ioapic_eoi(&b.io, 0x41);
	CHECK_EQ(b.n, 1);
	u32 lo = io_read(&b.io, 0x10 + 2 * 23);
	io_write(&b.io, 0x10 + 2 * 23, lo & ~MASKED);
	CHECK_EQ(b.n, 2);
	CHECK_EQ(b.msg[1].dest, 0xf0);
	CHECK(b.io.ctx == &b);
}

TEST(ioapic_load_rejects_bad_state)
{
	struct io_env a, b;
	busy_ioapic(&a);
	u8 buf[256], bad[256];
	size_t n = io_save(&a.io, buf, sizeof(buf));
	io_env_init(&b);
	rte_set(&b.io, 1, RTE(0x21, 0, 0));
	for (size_t cut = 0; cut < n; cut++)
		CHECK(!io_load(&b.io, buf, cut));
	struct {
		size_t off;
		int width;
		u64 val;
	} cases[] = {
	    {0, 1, 'x'},
	    {4, 4, 7},						 /* version */
	    {IST_ID, 1, 0x10},					 /* ID beyond 4 bits */
	    {IST_LINE, 4, 1u << 24},				 /* a 25th pin */
	    {IST_REDIR + 8 * 2, 8, BIT(17)},			 /* reserved bit */
	    {IST_REDIR + 8 * 2, 8, BIT(40)},			 /* reserved high bit */
	    {IST_REDIR + 8 * 2, 8, IOAPIC_RTE_DSTATUS},		 /* delivery status */
	    {IST_REDIR + 8 * 2, 8, 0x30 | IOAPIC_RTE_REMOTEIRR}, /* remote IRR on an edge pin */
	    {IST_REDIR + 8 * 2, 8, LEVEL | 0x400 | IOAPIC_RTE_REMOTEIRR}, /* ...on an NMI pin */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		memcpy(bad, buf, n);
		if (cases[i].width == 1)
			bad[cases[i].off] = (u8)cases[i].val;
		else if (cases[i].width == 4) {
			u32 v = (u32)cases[i].val;
			memcpy(bad + cases[i].off, &v, 4);
		} else
			memcpy(bad + cases[i].off, &cases[i].val, 8);
		if (io_load(&b.io, bad, n))
			test_fail(__FILE__, __LINE__, "case %u loaded", i);
	}
	CHECK_EQ(rte_get(&b.io, 1), RTE(0x21, 0, 0)); /* unchanged */
	CHECK_EQ(io_read(&b.io, 0), 0);
}

/* ---- wired to local APICs ---- */

struct platform {
	struct apic_env cpu[2];
	struct apic_bus bus;
	struct ioapic io;
};

/* One or two CPUs after Linux's setup_local_APIC() in IOAPIC mode (flat logical IDs). */
static void platform_init(struct platform *p, unsigned ncpu)
{
	memset(p, 0, sizeof(*p));
	p->bus.n = ncpu;
	ioapic_init(&p->io, 0, bus_deliver, &p->bus);
	for (unsigned i = 0; i < ncpu; i++) {
		struct apic_env *c = &p->cpu[i];
		env_init(c, i);
		c->io = &p->io;
		c->bus = &p->bus;
		p->bus.cpu[i] = c;
		wr(c, APIC_SPIV, rd(c, APIC_SPIV) & ~APIC_SPIV_APIC_ENABLED);
		wr(c, APIC_DFR, 0xffffffff);
		wr(c, APIC_LDR, 1u << (24 + i));
		wr(c, APIC_TASKPRI, 0x10);
		wr(c, APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
		wr(c, APIC_LVT0, APIC_MODE_EXTINT | APIC_LVT_MASKED);
		wr(c, APIC_LVT1, APIC_MODE_NMI | (i ? APIC_LVT_MASKED : 0));
	}
}

/* setup_IO_APIC() then check_timer()'s first try: IRQ0 on pin 2 (the MADT override). */
TEST(apic_linux_timer_through_ioapic_pin2)
{
	struct platform p;
	platform_init(&p, 1);
	struct apic_env *cpu = &p.cpu[0];
	u32 nr_pins = ((io_read(&p.io, 1) >> 16) & 0xff) + 1;
	CHECK_EQ(nr_pins, 24);
	for (unsigned irq = 1; irq < 16; irq++) /* ISA IRQs: edge, active high, masked */
		if (irq != 2)
			rte_set(&p.io, irq, RTE(0x20 + irq, MASKED, 0));
	rte_set(&p.io, 2, RTE(0x30, MASKED, 0));
	wr(cpu, APIC_LVT0, APIC_LVT_MASKED | APIC_MODE_EXTINT); /* check_timer() */
	u32 lo = io_read(&p.io, 0x10 + 2 * 2);
	io_write(&p.io, 0x10 + 2 * 2, lo & ~MASKED); /* startup of IRQ0 */
	struct irq_line pit = ioapic_irq_line(&p.io, 2);
	unsigned ticks = 0;
	for (unsigned i = 0; i < 10; i++) { /* timer_irq_works(): the PIT ticks */
		irq_line_pulse(&pit);
		if (env_inject(cpu) == 0x30)
			ticks++;
		wr(cpu, APIC_EOI, 0);
	}
	CHECK_EQ(ticks, 10);
	CHECK_EQ(cpu->neoi, 0); /* edge: no EOI travels to the IOAPIC */
	CHECK(!lapic_extint_pending(&cpu->l));
	/* a masked ISA pin stays silent */
	ioapic_set_irq(&p.io, 4, true);
	CHECK_EQ(lapic_pending(&cpu->l), -1);
}

/* check_timer()'s second try: the 8259's INTR on IOAPIC pin 0 as ExtINT. */
TEST(apic_ioapic_extint_pin_asks_the_pic)
{
	struct platform p;
	platform_init(&p, 1);
	struct apic_env *cpu = &p.cpu[0];
	rte_set(&p.io, 0, RTE(0, APIC_DM_EXTINT << 8, 0));
	for (unsigned i = 0; i < 3; i++) {
		ioapic_set_irq(&p.io, 0, true); /* the PIC raises INTR */
		CHECK(lapic_extint_pending(&cpu->l));
		CHECK_EQ(lapic_pending(&cpu->l), -1);
		lapic_extint_acknowledge(&cpu->l); /* the hypervisor took the PIC's vector */
		ioapic_set_irq(&p.io, 0, false);   /* INTA lowered INTR */
		CHECK(!lapic_extint_pending(&cpu->l));
	}
}

/* A PCI-style level interrupt (active low) and EOI through the local APIC. */
TEST(apic_level_interrupt_eoi_reaches_ioapic)
{
	struct platform p;
	platform_init(&p, 1);
	struct apic_env *cpu = &p.cpu[0];
	ioapic_set_irq(&p.io, 11, true); /* idle */
	rte_set(&p.io, 11, RTE(0x41, LEVEL | LOW, 0));
	CHECK_EQ(lapic_pending(&cpu->l), -1);
	ioapic_set_irq(&p.io, 11, false); /* the device asserts */
	CHECK(rd(cpu, APIC_TMR + 0x20) & (1u << (0x41 - 64)));
	CHECK_EQ(env_inject(cpu), 0x41);
	CHECK(rte_get(&p.io, 11) & IOAPIC_RTE_REMOTEIRR);
	wr(cpu, APIC_EOI, 0); /* handler did not quiet the device: delivered again */
	CHECK_EQ(cpu->neoi, 1);
	CHECK_EQ(cpu->eoi[0], 0x41);
	CHECK_EQ(env_inject(cpu), 0x41);
	ioapic_set_irq(&p.io, 11, true); /* now it did */
	wr(cpu, APIC_EOI, 0);
	CHECK_EQ(cpu->neoi, 2);
	CHECK_EQ(lapic_pending(&cpu->l), -1);
	CHECK_EQ(rte_get(&p.io, 11) & IOAPIC_RTE_REMOTEIRR, 0);
	/* the same in x2APIC mode, EOI by MSR */
	env_to_x2apic(cpu);
	ioapic_set_irq(&p.io, 11, false);
	CHECK_EQ(env_inject(cpu), 0x41);
	ioapic_set_irq(&p.io, 11, true);
	CHECK(lapic_msr_write(&cpu->l, 0x80b, 0));
	CHECK_EQ(rte_get(&p.io, 11) & IOAPIC_RTE_REMOTEIRR, 0);
	CHECK_EQ(lapic_pending(&cpu->l), -1);
}

/* A level interrupt to a disabled APIC is not accepted, so it does not wait for an EOI. */
TEST(apic_level_interrupt_to_disabled_cpu)
{
	struct platform p;
	platform_init(&p, 1);
	struct apic_env *cpu = &p.cpu[0];
	wr(cpu, APIC_SPIV, 0xff);
	rte_set(&p.io, 9, RTE(0x39, LEVEL, 0));
	ioapic_set_irq(&p.io, 9, true);
	CHECK_EQ(rte_get(&p.io, 9) & IOAPIC_RTE_REMOTEIRR, 0);
	wr(cpu, APIC_SPIV, 0x1ff);
	ioapic_set_irq(&p.io, 9, true); /* the line is sampled again */
	CHECK_EQ(env_inject(cpu), 0x39);
}

TEST(apic_ioapic_logical_destinations)
{
	struct platform p;
	platform_init(&p, 2);
	rte_set(&p.io, 5, RTE(0x55, LOGICAL, 0x02));
	ioapic_set_irq(&p.io, 5, true);
	CHECK_EQ(lapic_pending(&p.cpu[0].l), -1);
	CHECK_EQ(lapic_pending(&p.cpu[1].l), 0x55);
	rte_set(&p.io, 6, RTE(0x56, LOGICAL, 0x03));
	ioapic_set_irq(&p.io, 6, true);
	CHECK_EQ(lapic_pending(&p.cpu[0].l), 0x56);
	CHECK_EQ(lapic_pending(&p.cpu[1].l), 0x56);
	rte_set(&p.io, 7, RTE(0x57, 0, 0x01)); /* physical ID 1 */
	ioapic_set_irq(&p.io, 7, true);
	CHECK(rd(&p.cpu[1], APIC_IRR + 0x20) & (1u << (0x57 - 64)));
	CHECK(!(rd(&p.cpu[0], APIC_IRR + 0x20) & (1u << (0x57 - 64))));
	/* and an IPI from CPU 0 to CPU 1 */
	wr(&p.cpu[0], APIC_ICR2, 0x02u << 24);
	wr(&p.cpu[0], APIC_ICR, 0x800 | 0xfb);
	CHECK_EQ(lapic_pending(&p.cpu[1].l), 0xfb);
}
