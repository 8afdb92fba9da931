/* Local APIC registers, priorities, interrupt acceptance and IPIs. Both interfaces (xAPIC page,
 * x2APIC MSRs) index the same register file by offset >> 4, with one table saying which
 * register each interface may read or write. Guest accesses never fault the hypervisor:
 * MMIO outside the architectural shape reads 0 and writes nothing; MSR misuse returns #GP. */
#include "lapic.h"
#include "../hypervisor/lib.h"

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

static void timer_service(struct lapic *l);
static void lint_signal(struct lapic *l, unsigned pin, bool old_level);

/* ---- small helpers ---- */

static bool x2apic(const struct lapic *l)
{
	return lapic_mode(l) == LAPIC_MODE_X2APIC;
}

static bool hw_enabled(const struct lapic *l)
{
	return l->base_msr & APIC_BASE_EN;
}

static bool sw_enabled(const struct lapic *l)
{
	return l->svr & SVR_ENABLE;
}

static bool test_vec(const u32 *r, unsigned v)
{
	return r[v >> 5] & (1u << (v & 31));
}

static void set_vec(u32 *r, unsigned v)
{
	r[v >> 5] |= 1u << (v & 31);
}

static void clear_vec(u32 *r, unsigned v)
{
	r[v >> 5] &= ~(1u << (v & 31));
}

static int highest(const u32 *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

static int lvt_of_reg(unsigned reg)
{
	if (reg == R_CMCI)
		return LAPIC_LVT_CMCI;
	if (reg >= R_LVTT && reg <= R_LVTERR)
		return (int)(reg - R_LVTT);
	return -1;
}

static u32 x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1u << (id & 15));
}

static void kick(struct lapic *l)
{
	if (l->cfg.kick)
		l->cfg.kick(l->cfg.ctx);
}

static void raise_event(struct lapic *l, u32 ev)
{
	l->events |= ev;
	kick(l);
}

/* ---- reset and config ---- */

static void reset_regs(struct lapic *l, bool keep_id)
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
	reset_regs(l, init);
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
static void apic_error(struct lapic *l, u32 bit)
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
		apic_error(l, ESR_RECV_ILL);
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
static void lint_level_service(struct lapic *l, unsigned pin)
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
		lint_level_service(l, pin);
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

static void eoi(struct lapic *l)
{
	int v = highest(l->isr);
	if (v < 0)
		return;
	clear_vec(l->isr, (unsigned)v);
	for (unsigned pin = 0; pin < 2; pin++) {
		u32 *lvt = &l->lvt[LAPIC_LVT_LINT0 + pin];
		if ((*lvt & LVT_REMOTE) && (u8)*lvt == v) {
			*lvt &= ~LVT_REMOTE;
			lint_level_service(l, pin);
		}
	}
	/* only level-triggered vectors have an IOAPIC waiting (no directed EOI offered) */
	if (test_vec(l->tmr, (unsigned)v) && l->cfg.eoi)
		l->cfg.eoi(l->cfg.ctx, (u8)v);
}

static void send_ipi(struct lapic *l)
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
		apic_error(l, ESR_SEND_ILL);
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

/* ---- registers ---- */

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
			lint_level_service(l, pin); /* a level pin asserted while masked */
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
		eoi(l);
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
		send_ipi(l);
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
		apic_error(l, ESR_ILLEGAL);
		return;
	}
	if (!a->write) {
		a->value = (u32)reg_read(l, reg);
		return;
	}
	if (!(acc & XW))
		return; /* read-only registers ignore writes */
	reg_write(l, reg, (u32)a->value);
	timer_service(l);
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
	timer_service(l);
	return true;
gp:
	l->stats.msr_gp++;
	return false;
}

/* ---- IA32_APIC_BASE ---- */

static u64 base_reserved(const struct lapic *l)
{
	u64 r = 0x2ff | ~((1ULL << l->cfg.phys_bits) - 1); /* bits 0-7, 9, above MAXPHYADDR */
	if (!l->cfg.x2apic)
		r |= APIC_BASE_EXTD;
	return r;
}

static enum lapic_mode mode_of(u64 base)
{
	if (!(base & APIC_BASE_EN))
		return LAPIC_MODE_DISABLED;
	return (base & APIC_BASE_EXTD) ? LAPIC_MODE_X2APIC : LAPIC_MODE_XAPIC;
}

enum lapic_mode lapic_mode(const struct lapic *l)
{
	return mode_of(l->base_msr);
}

bool lapic_set_base(struct lapic *l, u64 val)
{
	enum lapic_mode old = lapic_mode(l), new = mode_of(val);
	if (val & base_reserved(l))
		return false;
	if ((val & APIC_BASE_EXTD) && !(val & APIC_BASE_EN))
		return false; /* EXTD without EN is an invalid state */
	/* x2APIC is entered only from xAPIC and left only through disabled (SDM 10.12.5) */
	if ((old == LAPIC_MODE_DISABLED && new == LAPIC_MODE_X2APIC) ||
	    (old == LAPIC_MODE_X2APIC && new == LAPIC_MODE_XAPIC))
		return false;
	l->base_msr = (val & ~APIC_BASE_BSP) | (l->base_msr & APIC_BASE_BSP);
	if (new == LAPIC_MODE_DISABLED && old != LAPIC_MODE_DISABLED) {
		reset_regs(l, false); /* disabling returns the APIC to its power-up state */
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

static void timer_service(struct lapic *l)
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
	timer_service(l);
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
	timer_service(l); /* a deadline already passed fires now */
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

/* ---- save / load ---- */

#define PUT(w, x) state_put(w, &(x), sizeof(x))
#define GET(r, x) state_get(r, &(x), sizeof(x))

void lapic_save(const struct lapic *l, struct state_writer *w)
{
	const struct lapic_timer *t = &l->timer;
	u8 flags = (u8)(l->lint[0] | l->lint[1] << 1 | l->extint_msg << 2 | t->armed << 3);
	u32 mode = t->mode;
	state_put_tag(w, "LAPC", 1);
	PUT(w, t->ratio);
	PUT(w, l->base_msr);
	PUT(w, l->xapic_id);
	PUT(w, l->tpr);
	PUT(w, l->sipi_vector);
	PUT(w, flags);
	PUT(w, l->ldr);
	PUT(w, l->dfr);
	PUT(w, l->svr);
	PUT(w, l->esr);
	PUT(w, l->esr_pending);
	PUT(w, l->icr_lo);
	PUT(w, l->icr_hi);
	PUT(w, l->events);
	PUT(w, l->isr);
	PUT(w, l->tmr);
	PUT(w, l->irr);
	PUT(w, l->lvt);
	PUT(w, mode);
	PUT(w, t->initial);
	PUT(w, t->dcr);
	PUT(w, t->base);
	PUT(w, t->base_count);
	PUT(w, t->deadline);
	PUT(w, t->clock);
	PUT(w, t->tsc_last);
}

/* Everything a guest could not have produced through this model is refused. */
static bool lapic_state_valid(const struct lapic *l, const struct lapic *n)
{
	u64 base = n->base_msr;
	if ((base & base_reserved(l)) || ((base & APIC_BASE_EXTD) && !(base & APIC_BASE_EN)) ||
	    !!(base & APIC_BASE_BSP) != l->cfg.bsp)
		return false;
	if ((n->ldr & 0x00ffffff) || (n->dfr & 0x0fffffff) != 0x0fffffff || (n->svr & ~SVR_MASK) ||
	    (n->esr & ~ESR_MASK) || (n->esr_pending & ~ESR_MASK) || (n->icr_lo & ~ICR_MASK) ||
	    (mode_of(base) != LAPIC_MODE_X2APIC && (n->icr_hi & 0x00ffffff)) ||
	    (n->events & ~LAPIC_EV_ALL))
		return false;
	/* vectors 0-15 never enter the IRR or ISR */
	if ((n->isr[0] | n->irr[0] | n->tmr[0]) & 0xffff)
		return false;
	for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++) {
		u32 v = n->lvt[i], ok = lvt_wmask[i];
		if (i == LAPIC_LVT_LINT0 || i == LAPIC_LVT_LINT1)
			ok |= (v & LVT_LEVEL) ? LVT_REMOTE : 0;
		if (v & ~ok)
			return false;
	}
	if (((n->lvt[LAPIC_LVT_TIMER] >> 17) & 3) != n->timer.mode)
		return false;
	return ltimer_valid(&n->timer);
}

bool lapic_load(struct lapic *l, struct state_reader *r)
{
	struct lapic n = *l;
	struct lapic_timer *t = &n.timer;
	u8 flags;
	u32 mode;
	if (!state_get_tag(r, "LAPC", 1) || !GET(r, t->ratio) || !GET(r, n.base_msr) ||
	    !GET(r, n.xapic_id) || !GET(r, n.tpr) || !GET(r, n.sipi_vector) || !GET(r, flags) ||
	    !GET(r, n.ldr) || !GET(r, n.dfr) || !GET(r, n.svr) || !GET(r, n.esr) ||
	    !GET(r, n.esr_pending) || !GET(r, n.icr_lo) || !GET(r, n.icr_hi) || !GET(r, n.events) ||
	    !GET(r, n.isr) || !GET(r, n.tmr) || !GET(r, n.irr) || !GET(r, n.lvt) || !GET(r, mode) ||
	    !GET(r, t->initial) || !GET(r, t->dcr) || !GET(r, t->base) || !GET(r, t->base_count) ||
	    !GET(r, t->deadline) || !GET(r, t->clock) || !GET(r, t->tsc_last))
		return false;
	if (t->ratio != l->cfg.tsc_ratio || (flags & ~0xf) || mode > 3)
		return false;
	n.lint[0] = flags & 1;
	n.lint[1] = flags & 2;
	n.extint_msg = flags & 4;
	t->armed = flags & 8;
	t->mode = (enum lapic_timer_mode)mode;
	if (!lapic_state_valid(l, &n))
		return false;
	n.in_error = false;
	*l = n;
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	lapic_reset(dev, false);
}

static void dev_update(void *dev, const struct dev_time *now)
{
	lapic_update(dev, now->tsc);
}

static u64 dev_next_event(void *dev, const struct dev_time *now)
{
	return lapic_next_event(dev, now->tsc);
}

/* its own timer is the only source the APIC has; LINT and messages come from others */
static bool dev_can_raise(const void *dev, const struct dev_time *now)
{
	return lapic_next_event(dev, now->tsc) != UINT64_MAX;
}

static void dev_save(void *dev, struct state_writer *w)
{
	lapic_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return lapic_load(dev, r);
}

const struct device_ops lapic_device = {
    .name = "lapic",
    .reset = dev_reset,
    .mmio = lapic_mmio,
    .update = dev_update,
    .next_event = dev_next_event,
    .can_raise = dev_can_raise,
    .save = dev_save,
    .load = dev_load,
};
