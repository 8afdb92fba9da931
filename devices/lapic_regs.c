/* The local APIC's register file: both interfaces (xAPIC page, x2APIC MSRs) index it by
 * offset >> 4, with one table saying which register each may read or write. MMIO outside
 * the architectural shape reads 0 and writes nothing; MSR misuse returns #GP. */
#include "lapic_priv.h"
#include "../hypervisor/lib.h"

/* Who may do what: xAPIC read/write (X), x2APIC read/write (Y). */
#define XR 1
#define XW 2
#define YR 4
#define YW 8
#define RW (XR | XW | YR | YW)

static const u8 reg_access[NREGS] = {
    [R_ID] = XR | XW | YR, /* the x2APIC ID is read-only */
    [R_VER] = XR | YR,
    [R_TPR] = RW,
    [R_APR] = XR, /* no APR in x2APIC */
    [R_PPR] = XR | YR,
    [R_EOI] = XR | XW | YW, /* an xAPIC read returns 0; x2APIC has it write-only */
    [R_RRD] = XR,	    /* remote read is gone: reads 0 */
    [R_LDR] = XR | XW | YR, /* x2APIC derives it from the ID */
    [R_DFR] = XR | XW,	    /* no DFR in x2APIC */
    [R_SVR] = RW,
    [R_ISR... R_ISR + 7] = XR | YR,
    [R_TMR... R_TMR + 7] = XR | YR,
    [R_IRR... R_IRR + 7] = XR | YR,
    [R_ESR] = RW,
    [R_CMCI] = RW,
    [R_ICR] = RW,
    [R_ICR2] = XR | XW, /* x2APIC's ICR is one 64-bit MSR */
    [R_LVTT... R_LVTERR] = RW,
    [R_TMICT] = RW,
    [R_TMCCT] = XR | YR,
    [R_TDCR] = RW,
    [R_SELF] = YW,
};

static void set_lvt(struct lapic *l, enum lapic_lvt i, u32 val)
{
	u32 old = l->lvt[i];
	u32 v = (val & lvt_wmask[i]) | (old & LVT_REMOTE);
	if (!sw_enabled(l))
		v |= LVT_MASKED; /* masks cannot be cleared while software-disabled */
	if (!(v & LVT_LEVEL))
		v &= ~LVT_REMOTE;
	l->lvt[i] = v;
	if (i == LAPIC_LVT_TIMER)
		ltimer_set_mode(&l->timer, (enum lapic_timer_mode)((v >> 17) & 3));
	if (i == LAPIC_LVT_LINT0 || i == LAPIC_LVT_LINT1) {
		unsigned pin = i - LAPIC_LVT_LINT0;
		if (LVT_DM(v) == APIC_DM_FIXED && (v & LVT_LEVEL))
			lapic_lint_level_service(l, pin); /* a level pin asserted while masked */
		else if (LVT_DM(v) == APIC_DM_EXTINT && lapic_extint_pending(l))
			kick(l);
	}
}

static void set_svr(struct lapic *l, u32 v)
{
	l->svr = v & SVR_MASK;
	if (!(v & SVR_ENABLE)) /* every write that leaves it disabled masks all LVTs */
		for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
			l->lvt[i] |= LVT_MASKED;
}

/* The bits an x2APIC WRMSR may set; a 1 anywhere else is #GP (SDM 10.12.1.3). */
static u64 x2apic_allowed(unsigned reg)
{
	int lvt = lvt_of_reg(reg);
	if (lvt >= 0)
		return lvt_wmask[lvt] | LVT_DSTATUS |
		       ((lvt == LAPIC_LVT_LINT0 || lvt == LAPIC_LVT_LINT1) ? LVT_REMOTE : 0);
	switch (reg) {
	case R_TPR:
	case R_SELF:
		return 0xff;
	case R_SVR:
		return SVR_MASK;
	case R_ICR:
		return 0xffffffff00000000ULL | ICR_MASK;
	case R_TMICT:
		return 0xffffffff;
	case R_TDCR:
		return 0xb;
	default: /* EOI and ESR take only 0 */
		return 0;
	}
}

static u64 reg_read(const struct lapic *l, unsigned reg)
{
	int lvt = lvt_of_reg(reg);
	if (lvt >= 0)
		return l->lvt[lvt];
	if (reg >= R_ISR && reg < R_ISR + 8)
		return l->isr[reg - R_ISR];
	if (reg >= R_TMR && reg < R_TMR + 8)
		return l->tmr[reg - R_TMR];
	if (reg >= R_IRR && reg < R_IRR + 8)
		return l->irr[reg - R_IRR];
	switch (reg) {
	case R_ID:
		return x2apic(l) ? l->cfg.id : (u32)l->xapic_id << 24;
	case R_VER:
		return LAPIC_VERSION;
	case R_TPR:
		return l->tpr;
	case R_APR:
		return lapic_apr(l);
	case R_PPR:
		return lapic_ppr(l);
	case R_LDR:
		return x2apic(l) ? x2apic_ldr(l->cfg.id) : l->ldr;
	case R_DFR:
		return l->dfr;
	case R_SVR:
		return l->svr;
	case R_ESR:
		return l->esr;
	case R_ICR: /* delivery is instant: the delivery-status bit always reads idle */
		return x2apic(l) ? (u64)l->icr_hi << 32 | l->icr_lo : l->icr_lo;
	case R_ICR2:
		return l->icr_hi;
	case R_TMICT:
		return l->timer.initial;
	case R_TMCCT:
		return ltimer_current(&l->timer);
	case R_TDCR:
		return l->timer.dcr;
	default: /* EOI, remote read */
		return 0;
	}
}

/* `val` has passed the interface's checks; reserved bits are dropped here. */
static void reg_write(struct lapic *l, unsigned reg, u64 val)
{
	int lvt = lvt_of_reg(reg);
	if (lvt >= 0) {
		set_lvt(l, (enum lapic_lvt)lvt, (u32)val);
		return;
	}
	switch (reg) {
	case R_ID:
		l->xapic_id = (u8)(val >> 24);
		break;
	case R_TPR:
		l->tpr = (u8)val;
		break;
	case R_EOI:
		lapic_do_eoi(l);
		break;
	case R_LDR:
		l->ldr = (u32)val & 0xff000000;
		break;
	case R_DFR:
		l->dfr = ((u32)val & 0xf0000000) | 0x0fffffff;
		break;
	case R_SVR:
		set_svr(l, (u32)val);
		break;
	case R_ESR: /* latch the errors seen since the last write */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case R_ICR:
		if (x2apic(l))
			l->icr_hi = (u32)(val >> 32);
		l->icr_lo = (u32)val & ICR_MASK;
		lapic_send_ipi(l);
		break;
	case R_ICR2:
		l->icr_hi = (u32)val & 0xff000000;
		break;
	case R_TMICT:
		ltimer_set_initial(&l->timer, (u32)val);
		break;
	case R_TDCR:
		ltimer_set_dcr(&l->timer, (u32)val);
		break;
	case R_SELF: {
		struct apic_msg m = {.dest = l->cfg.id, .mode = APIC_DM_FIXED, .vector = (u8)val};
		lapic_accept(l, &m);
		break;
	}
	}
}

void lapic_mmio(void *dev, struct mmio_access *a)
{
	struct lapic *l = dev;
	if (!a->write)
		a->value = 0;
	if (lapic_mode(l) != LAPIC_MODE_XAPIC) { /* the page is not decoded */
		l->stats.mmio_off++;
		return;
	}
	/* Only aligned 32-bit accesses to a register's first dword are architectural. */
	if (a->size != 4 || (a->offset & 0xf) || a->offset >= LAPIC_WINDOW) {
		l->stats.bad_mmio++;
		return;
	}
	unsigned reg = (unsigned)(a->offset >> 4);
	u8 acc = reg < NREGS ? reg_access[reg] : 0;
	if (!(acc & (XR | XW))) {
		lapic_apic_error(l, ESR_ILLEGAL);
		return;
	}
	if (!a->write) {
		a->value = (u32)reg_read(l, reg);
		return;
	}
	if (!(acc & XW))
		return; /* read-only registers ignore writes */
	reg_write(l, reg, (u32)a->value);
	lapic_timer_service(l);
}

bool lapic_msr_read(struct lapic *l, u32 msr, u64 *val)
{
	*val = 0;
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !x2apic(l))
		goto gp;
	unsigned reg = msr - MSR_X2APIC_FIRST;
	if (reg >= NREGS || !(reg_access[reg] & YR))
		goto gp;
	*val = reg_read(l, reg);
	return true;
gp:
	l->stats.msr_gp++;
	return false;
}

bool lapic_msr_write(struct lapic *l, u32 msr, u64 val)
{
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !x2apic(l))
		goto gp;
	unsigned reg = msr - MSR_X2APIC_FIRST;
	if (reg >= NREGS || !(reg_access[reg] & YW) || (val & ~x2apic_allowed(reg)))
		goto gp;
	reg_write(l, reg, val);
	lapic_timer_service(l);
	return true;
gp:
	l->stats.msr_gp++;
	return false;
}
