/* Saving and loading a local APIC (bounded, versioned, refusing what this model could not
 * have produced) and the APIC as the platform drives it through the device interface. */
#include "lapic_priv.h"
#include "../hypervisor/lib.h"

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
