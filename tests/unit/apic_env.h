/* Test fixture for the local APIC and IOAPIC tests: an APIC with recording callbacks, a
 * tiny router that delivers IOAPIC messages and IPIs to matching APICs, and the register
 * accessors a guest would use (MMIO for xAPIC, MSRs for x2APIC). */
#ifndef KEEL_UNIT_APIC_ENV_H
#define KEEL_UNIT_APIC_ENV_H

#include "test.h"
#include "../../devices/ioapic.h"
#include "../../devices/lapic.h"

/* xAPIC register offsets, named as Linux names them. */
enum {
	APIC_ID = 0x20,
	APIC_LVR = 0x30,
	APIC_TASKPRI = 0x80,
	APIC_ARBPRI = 0x90,
	APIC_PROCPRI = 0xa0,
	APIC_EOI = 0xb0,
	APIC_LDR = 0xd0,
	APIC_DFR = 0xe0,
	APIC_SPIV = 0xf0,
	APIC_ISR = 0x100,
	APIC_TMR = 0x180,
	APIC_IRR = 0x200,
	APIC_ESR = 0x280,
	APIC_LVTCMCI = 0x2f0,
	APIC_ICR = 0x300,
	APIC_ICR2 = 0x310,
	APIC_LVTT = 0x320,
	APIC_LVTTHMR = 0x330,
	APIC_LVTPC = 0x340,
	APIC_LVT0 = 0x350,
	APIC_LVT1 = 0x360,
	APIC_LVTERR = 0x370,
	APIC_TMICT = 0x380,
	APIC_TMCCT = 0x390,
	APIC_TDCR = 0x3e0,
	APIC_SELF_IPI = 0x3f0,
};

#define APIC_LVT_MASKED		   0x10000u
#define APIC_LVT_LEVEL		   0x08000u
#define APIC_LVT_TIMER_PERIODIC	   0x20000u
#define APIC_LVT_TIMER_TSCDEADLINE 0x40000u
#define APIC_SPIV_APIC_ENABLED	   0x100u
#define APIC_MODE_NMI		   0x400u
#define APIC_MODE_EXTINT	   0x700u
#define APIC_TDR_DIV_16		   0x3u
#define X2APIC_MSR(off)		   (0x800u + ((off) >> 4))

#define TEST_RATIO 10 /* TSC cycles per bus clock in these tests */

struct ipi_rec {
	struct apic_msg m;
	enum lapic_ipi_scope scope;
};

struct apic_env {
	struct lapic l;
	struct ipi_rec ipi[16];
	unsigned nipi;
	u8 eoi[16];
	unsigned neoi;
	unsigned kicks;
	struct ioapic *io;    /* EOIs of level vectors go here when set */
	struct apic_bus *bus; /* IPIs are routed here when set */
};

struct apic_bus;
static inline bool bus_route(struct apic_bus *b, const struct apic_msg *m, struct apic_env *skip);

static inline void env_ipi(void *ctx, const struct apic_msg *m, enum lapic_ipi_scope scope)
{
	struct apic_env *e = ctx;
	if (e->nipi < 16)
		e->ipi[e->nipi++] = (struct ipi_rec){*m, scope};
	if (e->bus)
		bus_route(e->bus, m, scope == LAPIC_IPI_ALL_BUT_SELF ? e : NULL);
}

static inline void env_eoi(void *ctx, u8 vector)
{
	struct apic_env *e = ctx;
	if (e->neoi < 16)
		e->eoi[e->neoi++] = vector;
	if (e->io)
		ioapic_eoi(e->io, vector);
}

static inline void env_kick(void *ctx)
{
	((struct apic_env *)ctx)->kicks++;
}

static inline struct lapic_config env_config(struct apic_env *e, u32 id, bool bsp)
{
	return (struct lapic_config){.id = id,
				     .bsp = bsp,
				     .x2apic = true,
				     .phys_bits = 39,
				     .tsc_ratio = TEST_RATIO,
				     .ipi = env_ipi,
				     .eoi = env_eoi,
				     .kick = env_kick,
				     .ctx = e};
}

static inline void env_init_cfg(struct apic_env *e, const struct lapic_config *c)
{
	memset(e, 0, sizeof(*e));
	struct lapic_config cfg = *c;
	cfg.ctx = e;
	REQUIRE(lapic_init(&e->l, &cfg));
}

static inline void env_init(struct apic_env *e, u32 id)
{
	memset(e, 0, sizeof(*e));
	struct lapic_config c = env_config(e, id, id == 0);
	REQUIRE(lapic_init(&e->l, &c));
}

static inline u32 rd(struct apic_env *e, u64 off)
{
	struct mmio_access a = {off, 4, false, 0xdeadbeef};
	lapic_mmio(&e->l, &a);
	return (u32)a.value;
}

static inline void wr(struct apic_env *e, u64 off, u32 v)
{
	struct mmio_access a = {off, 4, true, v};
	lapic_mmio(&e->l, &a);
}

static inline u64 rdmsr_ok(struct apic_env *e, u32 msr)
{
	u64 v = 0;
	if (!lapic_msr_read(&e->l, msr, &v))
		test_fail(__FILE__, __LINE__, "RDMSR 0x%x faulted", msr);
	return v;
}

/* A guest writing the enable bit: software-enabled with spurious vector 0xff. */
static inline void env_enable(struct apic_env *e)
{
	wr(e, APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
}

static inline void env_to_x2apic(struct apic_env *e)
{
	REQUIRE(lapic_set_base(&e->l, LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD |
					  (e->l.cfg.bsp ? APIC_BASE_BSP : 0)));
}

/* What the hypervisor does before entry: inject the highest pending vector. */
static inline int env_inject(struct apic_env *e)
{
	int v = lapic_pending(&e->l);
	if (v >= 0)
		REQUIRE(lapic_acknowledge(&e->l, (u8)v));
	return v;
}

/* Router for several APICs: every matching APIC accepts (broadcasts skip the sender). */
struct apic_bus {
	struct apic_env *cpu[4];
	unsigned n;
	unsigned delivered;
};

static inline bool bus_route(struct apic_bus *b, const struct apic_msg *m, struct apic_env *skip)
{
	bool any = false;
	for (unsigned i = 0; i < b->n; i++)
		if (b->cpu[i] != skip && lapic_matches(&b->cpu[i]->l, m) &&
		    lapic_accept(&b->cpu[i]->l, m))
			any = true;
	b->delivered += any;
	return any;
}

static inline bool bus_deliver(void *ctx, const struct apic_msg *m)
{
	return bus_route(ctx, m, NULL);
}

/* A fixed message to APIC 0, its acceptance, and whether a vector is in the IRR. */
static inline struct apic_msg fixed_msg(u8 vector, bool level)
{
	return (struct apic_msg){
	    .dest = 0, .mode = APIC_DM_FIXED, .vector = vector, .level = level};
}

static inline bool accept_fixed(struct apic_env *e, u8 vector, bool level)
{
	struct apic_msg m = fixed_msg(vector, level);
	return lapic_accept(&e->l, &m);
}

static inline bool irr_has(struct apic_env *e, u8 v)
{
	return rd(e, APIC_IRR + (v / 32) * 0x10) & (1u << (v % 32));
}

#endif
