/* Saving and loading a local APIC (bounded, versioned, refusing what this model could not
 * have produced) and the APIC as the platform drives it through the device interface. */
#include "lapic_priv.h"
#include "../hypervisor/lib.h"

void lapic_save(const struct lapic *l, struct state_writer *w)
{
	const struct lapic_timer *t = &l->timer;
	u8 flags = (u8)(l->lint[0] | l->lint[1] << 1 | l->extint_msg << 2 | t->armed << 3);
	u32 mode = t->mode;
	state_put_tag(w, "LAPC", 1);
	STATE_PUT(w, t->ratio);
	STATE_PUT(w, l->base_msr);
	STATE_PUT(w, l->xapic_id);
	STATE_PUT(w, l->tpr);
	STATE_PUT(w, l->sipi_vector);
	STATE_PUT(w, flags);
	STATE_PUT(w, l->ldr);
	STATE_PUT(w, l->dfr);
	STATE_PUT(w, l->svr);
	STATE_PUT(w, l->esr);
	STATE_PUT(w, l->esr_pending);
	STATE_PUT(w, l->icr_lo);
	STATE_PUT(w, l->icr_hi);
	STATE_PUT(w, l->events);
	STATE_PUT(w, l->isr);
	STATE_PUT(w, l->tmr);
	STATE_PUT(w, l->irr);
	STATE_PUT(w, l->lvt);
	STATE_PUT(w, mode);
	STATE_PUT(w, t->initial);
	STATE_PUT(w, t->dcr);
	STATE_PUT(w, t->base);
	STATE_PUT(w, t->base_count);
	STATE_PUT(w, t->deadline);
	STATE_PUT(w, t->clock);
	STATE_PUT(w, t->tsc_last);
}

/* Everything a guest could not have produced through this model is refused. */
static bool lapic_state_valid(const struct lapic *l, const struct lapic *n)
{
	u64 base = n->base_msr;
	if ((base & lapic_base_reserved(l)) ||
	    ((base & APIC_BASE_EXTD) && !(base & APIC_BASE_EN)) ||
	    !!(base & APIC_BASE_BSP) != l->cfg.bsp)
		return false;
	if ((n->ldr & 0x00ffffff) || (n->dfr & 0x0fffffff) != 0x0fffffff || (n->svr & ~SVR_MASK) ||
	    (n->esr & ~ESR_MASK) || (n->esr_pending & ~ESR_MASK) || (n->icr_lo & ~ICR_MASK) ||
	    (lapic_mode_of(base) != LAPIC_MODE_X2APIC && (n->icr_hi & 0x00ffffff)) ||
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
	if (!state_get_tag(r, "LAPC", 1) || !STATE_GET(r, t->ratio) || !STATE_GET(r, n.base_msr) ||
	    !STATE_GET(r, n.xapic_id) || !STATE_GET(r, n.tpr) || !STATE_GET(r, n.sipi_vector) ||
	    !STATE_GET(r, flags) || !STATE_GET(r, n.ldr) || !STATE_GET(r, n.dfr) ||
	    !STATE_GET(r, n.svr) || !STATE_GET(r, n.esr) || !STATE_GET(r, n.esr_pending) ||
	    !STATE_GET(r, n.icr_lo) || !STATE_GET(r, n.icr_hi) || !STATE_GET(r, n.events) ||
	    !STATE_GET(r, n.isr) || !STATE_GET(r, n.tmr) || !STATE_GET(r, n.irr) ||
	    !STATE_GET(r, n.lvt) || !STATE_GET(r, mode) || !STATE_GET(r, t->initial) ||
	    !STATE_GET(r, t->dcr) || !STATE_GET(r, t->base) || !STATE_GET(r, t->base_count) ||
	    !STATE_GET(r, t->deadline) || !STATE_GET(r, t->clock) || !STATE_GET(r, t->tsc_last))
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
