/* ACPI PM1a event/control blocks, the 32-bit PM timer and the 0xcf9 reset register of one VM.
 * Registers are handled a byte at a time, so any access width a guest uses lands on the same
 * bits; the timer is latched once per access so a wide read is consistent. */
#include "acpi_pm.h"
#include "../hypervisor/lib.h"

#define NSEC_PER_SEC 1000000000ULL

/* Status bits that exist here (all write-1-to-clear) and enable bits the guest may set.
 * No sleep button (FADT SLP_BUTTON), no fixed RTC alarm (FIX_RTC), no bus master status. */
#define STS_BITS (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_WAK)
#define EN_BITS	 (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN)
/* Control bits that are stored; SLP_EN and GBL_RLS are write-only actions, SCI_EN is fixed. */
#define CNT_BITS (ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP)

/* RST_CNT: bit 1 selects a hard reset, bit 2 starts the reset, bit 3 a full power cycle. */
#define RCR_SYS_RST  0x02
#define RCR_RST_CPU  0x04
#define RCR_FULL_RST 0x08

/* Bit 31 of the timer changing sets TMR_STS (FADT TMR_VAL_EXT: a 32-bit timer). */
#define TMR_MSB_SHIFT 31

/* floor(ns * HZ / 1e9) without overflowing for any realistic uptime. */
static u64 ns_to_ticks(u64 ns)
{
	return ns / NSEC_PER_SEC * ACPI_PM_TIMER_HZ +
	       ns % NSEC_PER_SEC * ACPI_PM_TIMER_HZ / NSEC_PER_SEC;
}

static u64 now_ns(struct acpi_pm *pm)
{
	return pm->ops.now_ns ? pm->ops.now_ns(pm->ops.ctx) : 0;
}

static u64 timer_now(struct acpi_pm *pm)
{
	return ns_to_ticks(now_ns(pm)) + pm->tmr_offset;
}

static void update_sci(struct acpi_pm *pm, bool force)
{
	/* SCI_EN is always set: the SCI is asserted while an enabled event is pending. */
	bool level = (pm->sts & pm->en & EN_BITS) != 0;
	if (level != pm->sci || force) {
		pm->sci = level;
		irq_line_set(&pm->sci_line, level);
	}
}

/* TMR_STS is set once however many times bit 31 changed since the last look. */
static u64 sync_timer(struct acpi_pm *pm)
{
	u64 t = timer_now(pm);
	if ((t >> TMR_MSB_SHIFT) != (pm->tmr_seen >> TMR_MSB_SHIFT))
		pm->sts |= ACPI_PM1_TMR;
	pm->tmr_seen = t;
	return t;
}

void acpi_pm_init(struct acpi_pm *pm, u16 base, const struct acpi_pm_ops *ops,
		  const struct irq_line *sci)
{
	memset(pm, 0, sizeof(*pm));
	pm->base = base;
	if (ops)
		pm->ops = *ops;
	if (sci)
		pm->sci_line = *sci;
	pm->tmr_offset = -ns_to_ticks(now_ns(pm));
	pm->tmr_seen = 0;
	update_sci(pm, true);
}

static u8 read_byte(const struct acpi_pm *pm, unsigned off, u32 tmr)
{
	u16 cnt = pm->cnt | ACPI_PM1_SCI_EN;
	switch (off) {
	case ACPI_PM1_EVT_OFF:
	case ACPI_PM1_EVT_OFF + 1:
		return (u8)(pm->sts >> (8 * (off - ACPI_PM1_EVT_OFF)));
	case ACPI_PM1_EVT_OFF + 2:
	case ACPI_PM1_EVT_OFF + 3:
		return (u8)(pm->en >> (8 * (off - ACPI_PM1_EVT_OFF - 2)));
	case ACPI_PM1_CNT_OFF:
	case ACPI_PM1_CNT_OFF + 1:
		return (u8)(cnt >> (8 * (off - ACPI_PM1_CNT_OFF)));
	case ACPI_PM_TMR_OFF:
	case ACPI_PM_TMR_OFF + 1:
	case ACPI_PM_TMR_OFF + 2:
	case ACPI_PM_TMR_OFF + 3:
		return (u8)(tmr >> (8 * (off - ACPI_PM_TMR_OFF)));
	case 6:
	case 7:
		return 0; /* the hole between PM1a_CNT and PM_TMR */
	default:
		return 0xff; /* past the block: an access that straddles its end */
	}
}

/* SLP_EN with the S5 type powers off. Other types are not offered in the DSDT; a guest that
 * asks anyway is refused: nothing sleeps, and WAK_STS is set so that an OS waiting for the
 * wake-up (ACPICA polls WAK_STS) sees it at once instead of spinning forever. */
static void sleep_request(struct acpi_pm *pm)
{
	unsigned typ = (pm->cnt & ACPI_PM1_SLP_TYP) >> ACPI_PM1_SLP_TYP_SHIFT;
	if (typ == ACPI_SLP_TYP_S5) {
		if (pm->ops.poweroff)
			pm->ops.poweroff(pm->ops.ctx);
		return;
	}
	pm->sleeps_refused++;
	pm->sts |= ACPI_PM1_WAK;
}

static void write_byte(struct acpi_pm *pm, unsigned off, u8 v)
{
	unsigned shift;
	switch (off) {
	case ACPI_PM1_EVT_OFF:
	case ACPI_PM1_EVT_OFF + 1:
		shift = 8 * (off - ACPI_PM1_EVT_OFF);
		pm->sts &= (u16) ~((u16)v << shift); /* write 1 to clear */
		break;
	case ACPI_PM1_EVT_OFF + 2:
	case ACPI_PM1_EVT_OFF + 3:
		shift = 8 * (off - ACPI_PM1_EVT_OFF - 2);
		pm->en = (u16)((pm->en & ~(0xffu << shift)) | (((u32)v << shift) & EN_BITS));
		break;
	case ACPI_PM1_CNT_OFF:
	case ACPI_PM1_CNT_OFF + 1:
		shift = 8 * (off - ACPI_PM1_CNT_OFF);
		pm->cnt = (u16)((pm->cnt & ~(0xffu << shift)) | (((u32)v << shift) & CNT_BITS));
		/* GBL_RLS would tell firmware the global lock is free: there is no firmware. */
		if (((u32)v << shift) & ACPI_PM1_SLP_EN)
			sleep_request(pm);
		break;
	default:
		break; /* PM_TMR is read-only; the hole and beyond ignore writes */
	}
}

void acpi_pm_access(void *dev, struct io_access *a)
{
	struct acpi_pm *pm = dev;
	unsigned off = (u16)(a->port - pm->base);
	unsigned size = a->size > 4 ? 4 : a->size;
	u32 tmr = (u32)sync_timer(pm);

	if (a->write) {
		for (unsigned i = 0; i < size; i++)
			write_byte(pm, off + i, (u8)(a->value >> (8 * i)));
	} else {
		u32 v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= (u32)read_byte(pm, off + i, tmr) << (8 * i);
		a->value = v;
	}
	update_sci(pm, false);
}

/* Linux writes SYS_RST alone, then SYS_RST|RST_CPU (its "cf9" reboot), or the FADT's
 * RESET_VALUE (0x06) in one go (its ACPI reboot). Any write with RST_CPU resets the VM: a
 * soft reset (INIT only) would leave the guest in a state no OS relies on, so every kind is a
 * full VM reset. RST_CPU itself reads back 0, as the reset it started has happened. Wider
 * accesses act on the low byte. */
void acpi_pm_reset_access(void *dev, struct io_access *a)
{
	struct acpi_pm *pm = dev;
	if (!a->write) {
		a->value = pm->rcr;
		return;
	}
	u8 v = (u8)a->value;
	pm->rcr = v & (RCR_SYS_RST | RCR_FULL_RST);
	if ((v & RCR_RST_CPU) && pm->ops.reset)
		pm->ops.reset(pm->ops.ctx);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pm->sts |= ACPI_PM1_PWRBTN;
	update_sci(pm, false);
}

void acpi_pm_poll(struct acpi_pm *pm)
{
	sync_timer(pm);
	update_sci(pm, false);
}

u64 acpi_pm_next_event_ns(struct acpi_pm *pm)
{
	if (!(pm->en & ACPI_PM1_TMR))
		return ~0ULL;
	u64 t = timer_now(pm);
	u64 ticks = (1ULL << TMR_MSB_SHIFT) - (t & ((1ULL << TMR_MSB_SHIFT) - 1));
	/* rounded up, so the timer has moved far enough when the caller comes back */
	return (ticks * NSEC_PER_SEC + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;
}

u32 acpi_pm_timer(struct acpi_pm *pm)
{
	return (u32)timer_now(pm);
}

void acpi_pm_save(struct acpi_pm *pm, struct state_writer *w)
{
	u64 t = sync_timer(pm);
	update_sci(pm, false);
	state_put_tag(w, "APM1", 1);
	state_put(w, &pm->sts, sizeof(pm->sts));
	state_put(w, &pm->en, sizeof(pm->en));
	state_put(w, &pm->cnt, sizeof(pm->cnt));
	state_put(w, &pm->rcr, sizeof(pm->rcr));
	state_put(w, &t, sizeof(t));
}

bool acpi_pm_load(struct acpi_pm *pm, struct state_reader *r)
{
	u16 sts, en, cnt;
	u8 rcr;
	u64 t;
	if (!state_get_tag(r, "APM1", 1) || !state_get(r, &sts, sizeof(sts)) ||
	    !state_get(r, &en, sizeof(en)) || !state_get(r, &cnt, sizeof(cnt)) ||
	    !state_get(r, &rcr, sizeof(rcr)) || !state_get(r, &t, sizeof(t)))
		return false;
	pm->sts = sts & STS_BITS;
	pm->en = en & EN_BITS;
	pm->cnt = cnt & CNT_BITS;
	pm->rcr = rcr & (RCR_SYS_RST | RCR_FULL_RST);
	pm->tmr_offset = t - ns_to_ticks(now_ns(pm));
	pm->tmr_seen = t;
	update_sci(pm, true);
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	struct acpi_pm *pm = dev;
	struct acpi_pm_ops ops = pm->ops;
	struct irq_line sci = pm->sci_line;
	acpi_pm_init(pm, pm->base, &ops, &sci);
}

static void dev_update(void *dev, const struct dev_time *now)
{
	(void)now; /* the model reads its clock itself */
	acpi_pm_poll(dev);
}

static u64 dev_next_event(void *dev, const struct dev_time *now)
{
	return dev_ns_to_tsc(now->tsc_hz, acpi_pm_next_event_ns(dev));
}

static void dev_save(void *dev, struct state_writer *w)
{
	acpi_pm_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return acpi_pm_load(dev, r);
}

const struct device_ops acpi_pm_device = {
    .name = "acpi-pm",
    .reset = dev_reset,
    .port = acpi_pm_access,
    .update = dev_update,
    .next_event = dev_next_event,
    .save = dev_save,
    .load = dev_load,
};

const struct device_ops acpi_reset_device = {
    .name = "reset",
    .port = acpi_pm_reset_access,
};
