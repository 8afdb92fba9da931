/* Inside the local APIC model, shared by its files (lapic.c: state machine, priorities,
 * acceptance, LINT, EOI and IPIs, APIC base, timer; lapic_regs.c: the register file behind
 * the xAPIC page and the x2APIC MSRs; lapic_state.c: save/load and the device interface). */
#ifndef KEEL_LAPIC_PRIV_H
#define KEEL_LAPIC_PRIV_H

#include "lapic.h"

/* Register indexes: the xAPIC offset >> 4, and the x2APIC MSR minus 0x800. */
enum {
	R_ID = 0x02,
	R_VER = 0x03,
	R_TPR = 0x08,
	R_APR = 0x09,
	R_PPR = 0x0a,
	R_EOI = 0x0b,
	R_RRD = 0x0c,
	R_LDR = 0x0d,
	R_DFR = 0x0e,
	R_SVR = 0x0f,
	R_ISR = 0x10,
	R_TMR = 0x18,
	R_IRR = 0x20,
	R_ESR = 0x28,
	R_CMCI = 0x2f,
	R_ICR = 0x30,
	R_ICR2 = 0x31,
	R_LVTT = 0x32, /* then thermal, PMC, LINT0, LINT1, error: in enum lapic_lvt order */
	R_LVTERR = 0x37,
	R_TMICT = 0x38,
	R_TMCCT = 0x39,
	R_TDCR = 0x3e,
	R_SELF = 0x3f,
	NREGS = 0x40
};

#define LVT_MASKED   BIT(16)
#define LVT_REMOTE   BIT(14) /* LINT level-triggered: accepted, waiting for EOI */
#define LVT_LEVEL    BIT(15)
#define LVT_LOW	     BIT(13) /* LINT polarity: active low */
#define LVT_DSTATUS  BIT(12)
#define LVT_DM(v)    (((v) >> 8) & 7)
#define SVR_ENABLE   BIT(8)
#define SVR_MASK     0x3ffu   /* vector, enable, focus-check disable */
#define ICR_MASK     0xccfffu /* vector, mode, dest mode, level, trigger, shorthand */
#define ICR_LOGICAL  BIT(11)
#define ICR_ASSERT   BIT(14)
#define ICR_LEVEL    BIT(15)
#define ESR_SEND_ILL BIT(5)
#define ESR_RECV_ILL BIT(6)
#define ESR_ILLEGAL  BIT(7)
#define ESR_MASK     (ESR_SEND_ILL | ESR_RECV_ILL | ESR_ILLEGAL)
#define X2APIC_BCAST 0xffffffffu

/* Bits each LVT entry keeps (its read-only status bits are managed here, not written). */
static const u32 lvt_wmask[LAPIC_LVT_COUNT] = {
    [LAPIC_LVT_TIMER] = 0x700ff, /* vector, mask, mode */
    [LAPIC_LVT_THERMAL] = 0x107ff, [LAPIC_LVT_PMC] = 0x107ff,
    [LAPIC_LVT_LINT0] = 0x1a7ff, /* + polarity, trigger */
    [LAPIC_LVT_LINT1] = 0x1a7ff,   [LAPIC_LVT_ERROR] = 0x100ff,
    [LAPIC_LVT_CMCI] = 0x107ff,
};

/* ---- small helpers ---- */

static inline bool x2apic(const struct lapic *l)
{
	return lapic_mode(l) == LAPIC_MODE_X2APIC;
}

static inline bool hw_enabled(const struct lapic *l)
{
	return l->base_msr & APIC_BASE_EN;
}

static inline bool sw_enabled(const struct lapic *l)
{
	return l->svr & SVR_ENABLE;
}

static inline bool test_vec(const u32 *r, unsigned v)
{
	return r[v >> 5] & (1u << (v & 31));
}

static inline void set_vec(u32 *r, unsigned v)
{
	r[v >> 5] |= 1u << (v & 31);
}

static inline void clear_vec(u32 *r, unsigned v)
{
	r[v >> 5] &= ~(1u << (v & 31));
}

static inline int highest(const u32 *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

static inline int lvt_of_reg(unsigned reg)
{
	if (reg == R_CMCI)
		return LAPIC_LVT_CMCI;
	if (reg >= R_LVTT && reg <= R_LVTERR)
		return (int)(reg - R_LVTT);
	return -1;
}

static inline u32 x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1u << (id & 15));
}

static inline void kick(struct lapic *l)
{
	if (l->cfg.kick)
		l->cfg.kick(l->cfg.ctx);
}

static inline void raise_event(struct lapic *l, u32 ev)
{
	l->events |= ev;
	kick(l);
}

/* ---- lapic.c's internals used by the register file and the state loader ---- */

void lapic_timer_service(struct lapic *l);
void lapic_lint_level_service(struct lapic *l, unsigned pin);
void lapic_apic_error(struct lapic *l, u32 bit);
void lapic_do_eoi(struct lapic *l);
void lapic_send_ipi(struct lapic *l);
void lapic_reset_regs(struct lapic *l, bool keep_id);
u64 lapic_base_reserved(const struct lapic *l);
enum lapic_mode lapic_mode_of(u64 base);

#endif
