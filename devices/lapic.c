/* Local APIC state machine: reset, priorities, interrupt acceptance, LINT pins, EOI and IPIs,
 * IA32_APIC_BASE and the timer's glue. The register file is lapic_regs.c, save/load and the
 * device interface lapic_state.c. Guest accesses never fault the hypervisor. */
#include "lapic_priv.h"
#include "../hypervisor/lib.h"

static void lint_signal(struct lapic *l, unsigned pin, bool old_level);

/* ---- reset and config ---- */

void lapic_reset_regs(struct lapic *l, bool keep_id)
{
	if (!keep_id)
		l->xapic_id = (u8)l->cfg.id;
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xffffffff;
	l->svr = 0xff;
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	memset(l->irr, 0, sizeof(l->irr));
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
		l->lvt[i] = LVT_MASKED;
	l->extint_msg = false;
	l->in_error = false;
	ltimer_reset(&l->timer);
}

bool lapic_init(struct lapic *l, const struct lapic_config *cfg)
{
	if (cfg->id >= 0xff || cfg->tsc_ratio == 0 || cfg->tsc_ratio > LAPIC_TIMER_MAX_RATIO ||
	    cfg->phys_bits < 32 || cfg->phys_bits > 52)
		return false;
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	ltimer_init(&l->timer, cfg->tsc_ratio, cfg->min_period);
	lapic_reset(l, false);
	return true;
}

void lapic_reset(struct lapic *l, bool init)
{
	if (!init) {
		l->base_msr = LAPIC_DEFAULT_BASE | APIC_BASE_EN | (l->cfg.bsp ? APIC_BASE_BSP : 0);
		l->events = 0;
		l->sipi_vector = 0;
	}
	lapic_reset_regs(l, init);
	/* No firmware runs before the guest: leave the BSP in virtual-wire mode as a BIOS would,
	 * so the PIC reaches it until the kernel programs LINT0 itself. */
	if (!init && l->cfg.bsp)
		l->lvt[LAPIC_LVT_LINT0] = APIC_DM_EXTINT << 8;
}

/* ---- priorities ---- */

u8 lapic_ppr(const struct lapic *l)
{
	int isrv = highest(l->isr);
	u8 isr_class = isrv < 0 ? 0 : (u8)(isrv & 0xf0);
	return (l->tpr & 0xf0) >= isr_class ? l->tpr : isr_class;
}

u8 lapic_apr(const struct lapic *l)
{
	int irrv = highest(l->irr), isrv = highest(l->isr);
	u8 tpr_c = l->tpr & 0xf0;
	u8 irr_c = irrv < 0 ? 0 : (u8)(irrv & 0xf0);
	u8 isr_c = isrv < 0 ? 0 : (u8)(isrv & 0xf0);
	if (tpr_c >= irr_c && tpr_c > isr_c)
		return l->tpr;
	return MAX(tpr_c, MAX(irr_c, isr_c));
}

int lapic_pending(const struct lapic *l)
{
	if (!hw_enabled(l))
		return -1;
	int v = highest(l->irr);
	if (v < 0 || (v & 0xf0) <= (lapic_ppr(l) & 0xf0))
		return -1;
	return v;
}

bool lapic_acknowledge(struct lapic *l, u8 vector)
{
	if (!test_vec(l->irr, vector))
		return false;
	clear_vec(l->irr, vector);
	set_vec(l->isr, vector);
	return true;
}

/* ---- acceptance ---- */

static void lvt_deliver(struct lapic *l, enum lapic_lvt lvt);

/* Errors accumulate for the next ESR write and signal through the error LVT; an error while
 * delivering that LVT (its own vector illegal) only accumulates. */
void lapic_apic_error(struct lapic *l, u32 bit)
{
	l->esr_pending |= bit;
	if (l->in_error)
		return;
	l->in_error = true;
	lvt_deliver(l, LAPIC_LVT_ERROR);
	l->in_error = false;
}

static bool accept_vector(struct lapic *l, u8 vector, bool level)
{
	if (vector < 16) { /* vectors 0-15 are exceptions, never interrupts */
		l->stats.dropped++;
		lapic_apic_error(l, ESR_RECV_ILL);
		return false;
	}
	set_vec(l->irr, vector);
	if (level)
		set_vec(l->tmr, vector);
	else
		clear_vec(l->tmr, vector);
	kick(l);
	return true;
}

bool lapic_accept(struct lapic *l, const struct apic_msg *m)
{
	if (!hw_enabled(l)) {
		l->stats.dropped++;
		return false;
	}
	switch (m->mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (!sw_enabled(l)) { /* software-disabled: only NMI, INIT, SIPI, SMI get in */
			l->stats.dropped++;
			return false;
		}
		return accept_vector(l, m->vector, m->level);
	case APIC_DM_NMI:
		raise_event(l, LAPIC_EV_NMI);
		return true;
	case APIC_DM_SMI:
		raise_event(l, LAPIC_EV_SMI);
		return true;
	case APIC_DM_INIT:
		raise_event(l, LAPIC_EV_INIT);
		return true;
	case APIC_DM_STARTUP:
		l->sipi_vector = m->vector;
		raise_event(l, LAPIC_EV_SIPI);
		return true;
	case APIC_DM_EXTINT:
		l->extint_msg = true;
		kick(l);
		return true;
	}
	l->stats.dropped++;
	return false;
}

bool lapic_matches(const struct lapic *l, const struct apic_msg *m)
{
	switch (lapic_mode(l)) {
	case LAPIC_MODE_X2APIC: {
		u32 id = l->cfg.id;
		/* 0xff is the xAPIC broadcast an IOAPIC sends; no x2APIC here has that ID */
		if (m->dest == X2APIC_BCAST || (!m->logical && m->dest == 0xff))
			return true;
		if (!m->logical)
			return m->dest == id;
		return (m->dest >> 16) == (id >> 4) && (m->dest & 0xffff & (1u << (id & 15)));
	}
	case LAPIC_MODE_XAPIC: {
		if (m->dest == X2APIC_BCAST || m->dest == 0xff)
			return true;
		if (m->dest > 0xff)
			return false;
		u8 d = (u8)m->dest, ld = (u8)(l->ldr >> 24);
		if (!m->logical)
			return d == l->xapic_id;
		if ((l->dfr >> 28) == 0xf) /* flat: a bit per APIC */
			return (d & ld) != 0;
		if ((l->dfr >> 28) == 0x0) /* cluster: 4-bit cluster, 4-bit member mask */
			return (d >> 4) == (ld >> 4) && (d & ld & 0xf);
		return false;
	}
	default:
		return false;
	}
}

/* A local source signals through its LVT entry (edge; LINT level pins use lint_signal). */
static void lvt_deliver(struct lapic *l, enum lapic_lvt lvt)
{
	u32 v = l->lvt[lvt];
	if (!hw_enabled(l) || (v & LVT_MASKED))
		return;
	unsigned dm =
	    (lvt == LAPIC_LVT_TIMER || lvt == LAPIC_LVT_ERROR) ? APIC_DM_FIXED : LVT_DM(v);
	switch (dm) {
	case APIC_DM_FIXED:
		accept_vector(l, (u8)v, false);
		break;
	case APIC_DM_NMI:
		raise_event(l, LAPIC_EV_NMI);
		break;
	case APIC_DM_SMI:
		raise_event(l, LAPIC_EV_SMI);
		break;
	case APIC_DM_INIT:
		raise_event(l, LAPIC_EV_INIT);
		break;
	default: /* ExtINT means something only on LINT0; the rest are reserved */
		break;
	}
}

void lapic_raise_lvt(struct lapic *l, enum lapic_lvt lvt)
{
	if (lvt == LAPIC_LVT_THERMAL || lvt == LAPIC_LVT_PMC || lvt == LAPIC_LVT_CMCI)
		lvt_deliver(l, lvt);
}

u32 lapic_take_events(struct lapic *l, u32 mask)
{
	u32 ev = l->events & mask;
	l->events &= ~ev;
	return ev;
}

/* ---- LINT0/LINT1 ---- */

static bool lint_asserted(const struct lapic *l, unsigned pin)
{
	return l->lint[pin] != !!(l->lvt[LAPIC_LVT_LINT0 + pin] & LVT_LOW);
}

/* Fixed level-triggered LINT: delivered while asserted, once per EOI (remote IRR). */
void lapic_lint_level_service(struct lapic *l, unsigned pin)
{
	u32 *v = &l->lvt[LAPIC_LVT_LINT0 + pin];
	if (!hw_enabled(l) || (*v & (LVT_MASKED | LVT_REMOTE)) || !lint_asserted(l, pin))
		return;
	if (accept_vector(l, (u8)*v, true))
		*v |= LVT_REMOTE;
}

static void lint_signal(struct lapic *l, unsigned pin, bool old_level)
{
	u32 v = l->lvt[LAPIC_LVT_LINT0 + pin];
	bool was = old_level != !!(v & LVT_LOW);
	bool now = lint_asserted(l, pin);

	if (!hw_enabled(l)) { /* no APIC: LINT0 is INTR, LINT1 is NMI */
		if (l->lint[pin] && !old_level) {
			if (pin == 0)
				kick(l);
			else
				raise_event(l, LAPIC_EV_NMI);
		}
		return;
	}
	if (LVT_DM(v) == APIC_DM_FIXED && (v & LVT_LEVEL)) {
		lapic_lint_level_service(l, pin);
		return;
	}
	if (!now || was || (v & LVT_MASKED))
		return;
	if (LVT_DM(v) == APIC_DM_EXTINT)
		kick(l); /* level-sensitive: lapic_extint_pending() reads the pin */
	else
		lvt_deliver(l, LAPIC_LVT_LINT0 + pin);
}

void lapic_set_lint(struct lapic *l, unsigned pin, bool level)
{
	if (pin > 1)
		return;
	bool old = l->lint[pin];
	l->lint[pin] = level;
	lint_signal(l, pin, old);
}

static void lint_line_set(void *ctx, unsigned pin, bool level)
{
	lapic_set_lint(ctx, pin, level);
}

struct irq_line lapic_lint_line(struct lapic *l, unsigned pin)
{
	return (struct irq_line){lint_line_set, l, pin};
}

bool lapic_extint_pending(const struct lapic *l)
{
	if (!hw_enabled(l))
		return l->lint[0];
	if (l->extint_msg)
		return true;
	u32 v = l->lvt[LAPIC_LVT_LINT0];
	return LVT_DM(v) == APIC_DM_EXTINT && !(v & LVT_MASKED) && lint_asserted(l, 0);
}

void lapic_extint_acknowledge(struct lapic *l)
{
	l->extint_msg = false;
}

/* ---- EOI and IPIs ---- */

void lapic_do_eoi(struct lapic *l)
{
	int v = highest(l->isr);
	if (v < 0)
		return;
	clear_vec(l->isr, (unsigned)v);
	for (unsigned pin = 0; pin < 2; pin++) {
		u32 *lvt = &l->lvt[LAPIC_LVT_LINT0 + pin];
		if ((*lvt & LVT_REMOTE) && (u8)*lvt == v) {
			*lvt &= ~LVT_REMOTE;
			lapic_lint_level_service(l, pin);
		}
	}
	/* only level-triggered vectors have an IOAPIC waiting (no directed EOI offered) */
	if (test_vec(l->tmr, (unsigned)v) && l->cfg.eoi)
		l->cfg.eoi(l->cfg.ctx, (u8)v);
}

void lapic_send_ipi(struct lapic *l)
{
	u32 lo = l->icr_lo;
	unsigned dm = LVT_DM(lo), shorthand = (lo >> 18) & 3;
	struct apic_msg m = {
	    .dest = x2apic(l) ? l->icr_hi : l->icr_hi >> 24,
	    .logical = lo & ICR_LOGICAL,
	    .mode = (enum apic_delivery)dm,
	    .vector = (u8)lo,
	    .level = (lo & ICR_LEVEL) && (dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST),
	};

	/* ExtINT and mode 3 cannot be sent; INIT level de-assert is gone since the Pentium 4
	 * (Linux still sends it after INIT); self shorthand is fixed-only. */
	if (dm == 3 || dm == APIC_DM_EXTINT ||
	    (dm == APIC_DM_INIT && (lo & ICR_LEVEL) && !(lo & ICR_ASSERT)) ||
	    (shorthand == 1 && dm != APIC_DM_FIXED)) {
		l->stats.bad_ipi++;
		return;
	}
	if ((dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST) && m.vector < 16) {
		lapic_apic_error(l, ESR_SEND_ILL);
		return;
	}
	if (shorthand) {
		m.dest = x2apic(l) ? X2APIC_BCAST : 0xff;
		m.logical = false;
	}
	switch (shorthand) {
	case 0:
		if (l->cfg.ipi)
			l->cfg.ipi(l->cfg.ctx, &m, LAPIC_IPI_DEST);
		else if (lapic_matches(l, &m)) /* nobody to route to: only this APIC exists */
			lapic_accept(l, &m);
		break;
	case 1:
		lapic_accept(l, &m);
		break;
	case 2:
		lapic_accept(l, &m);
		/* fall through */
	case 3:
		if (l->cfg.ipi)
			l->cfg.ipi(l->cfg.ctx, &m, LAPIC_IPI_ALL_BUT_SELF);
		break;
	}
}

/* ---- IA32_APIC_BASE ---- */

u64 lapic_base_reserved(const struct lapic *l)
{
	u64 r = 0x2ff | ~((1ULL << l->cfg.phys_bits) - 1); /* bits 0-7, 9, above MAXPHYADDR */
	if (!l->cfg.x2apic)
		r |= APIC_BASE_EXTD;
	return r;
}

enum lapic_mode lapic_mode_of(u64 base)
{
	if (!(base & APIC_BASE_EN))
		return LAPIC_MODE_DISABLED;
	return (base & APIC_BASE_EXTD) ? LAPIC_MODE_X2APIC : LAPIC_MODE_XAPIC;
}

enum lapic_mode lapic_mode(const struct lapic *l)
{
	return lapic_mode_of(l->base_msr);
}

bool lapic_set_base(struct lapic *l, u64 val)
{
	enum lapic_mode old = lapic_mode(l), new = lapic_mode_of(val);
	if (val & lapic_base_reserved(l))
		return false;
	if ((val & APIC_BASE_EXTD) && !(val & APIC_BASE_EN))
		return false; /* EXTD without EN is an invalid state */
	/* x2APIC is entered only from xAPIC and left only through disabled (SDM 10.12.5) */
	if ((old == LAPIC_MODE_DISABLED && new == LAPIC_MODE_X2APIC) ||
	    (old == LAPIC_MODE_X2APIC && new == LAPIC_MODE_XAPIC))
		return false;
	l->base_msr = (val & ~APIC_BASE_BSP) | (l->base_msr & APIC_BASE_BSP);
	if (new == LAPIC_MODE_DISABLED && old != LAPIC_MODE_DISABLED) {
		lapic_reset_regs(l, false); /* disabling returns the APIC to its power-up state */
		l->events = 0;
	}
	return true;
}

u64 lapic_get_base(const struct lapic *l)
{
	return l->base_msr;
}

u64 lapic_base_addr(const struct lapic *l)
{
	return l->base_msr & ~0xfffULL;
}

/* ---- timer ---- */

void lapic_timer_service(struct lapic *l)
{
	if (!ltimer_expire(&l->timer))
		return;
	u32 v = l->lvt[LAPIC_LVT_TIMER];
	if (hw_enabled(l) && !(v & LVT_MASKED) && accept_vector(l, (u8)v, false))
		l->stats.timer_fired++;
}

void lapic_update(struct lapic *l, u64 now_tsc)
{
	ltimer_set_time(&l->timer, now_tsc);
	lapic_timer_service(l);
}

u64 lapic_next_event(const struct lapic *l, u64 now_tsc)
{
	if (!hw_enabled(l) || (l->lvt[LAPIC_LVT_TIMER] & LVT_MASKED))
		return UINT64_MAX;
	return ltimer_next(&l->timer, now_tsc);
}

void lapic_tsc_deadline_write(struct lapic *l, u64 val)
{
	ltimer_set_deadline(&l->timer, val);
	lapic_timer_service(l); /* a deadline already passed fires now */
}

u64 lapic_tsc_deadline_read(const struct lapic *l)
{
	return ltimer_deadline(&l->timer);
}

void lapic_cr8_write(struct lapic *l, u64 cr8)
{
	l->tpr = (u8)((cr8 & 0xf) << 4);
}

u64 lapic_cr8_read(const struct lapic *l)
{
	return l->tpr >> 4;
}
