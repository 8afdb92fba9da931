/* Emulated LPT1: a byte is taken on the strobe's rising edge (control bit 0 going 0 -> 1)
 * and handed to the printer input; the printer is always ready, since the spool takes
 * every byte. Lenient like a real printer: select-in and init do not gate the strobe. */
#include "lpt.h"

void lpt_init(struct lpt *l, const struct printer_sink *sink, const struct irq_line *irq,
	      const struct dev_clock *clock, u64 idle_ns)
{
	l->sink = sink;
	l->irq = irq ? *irq : (struct irq_line){0};
	l->clock = clock;
	l->idle_ns = idle_ns ? idle_ns : LPT_IDLE_NS;
	l->bytes = l->jobs_ended_idle = 0;
	lpt_reset(l);
}

void lpt_reset(struct lpt *l)
{
	l->data = 0;
	/* the BIOS leaves init high and the printer selected */
	l->ctrl = LPT_CTRL_NOT_INIT | LPT_CTRL_SELECT_IN;
	l->ack = false;
	/* a job half-sent before the reset stays open until the idle timeout ends it */
}

static u8 status(const struct lpt *l)
{
	return (u8)(LPT_ST_NOT_BUSY | LPT_ST_SELECT | LPT_ST_NOT_ERR |
		    (l->ack ? 0 : LPT_ST_NOT_ACK));
}

static void take_byte(struct lpt *l)
{
	printer_bytes(l->sink, &l->data, 1);
	l->bytes++;
	l->ack = true;
	l->idle_at = dev_clock_now(l->clock) + l->idle_ns;
	/* the ACK pulse interrupts when the guest enabled it */
	if (l->ctrl & LPT_CTRL_IRQ)
		irq_line_pulse(&l->irq);
}

static void write_ctrl(struct lpt *l, u8 v)
{
	bool rising = (v & LPT_CTRL_STROBE) && !(l->ctrl & LPT_CTRL_STROBE);
	l->ctrl = v & 0x3f;
	if (rising)
		take_byte(l);
}

static u8 read_reg(struct lpt *l, unsigned reg)
{
	switch (reg) {
	case LPT_DATA:
		/* in input mode the lines are the printer's, and it drives none */
		return l->ctrl & LPT_CTRL_INPUT ? 0xff : l->data;
	case LPT_STATUS: {
		u8 s = status(l);
		l->ack = false; /* the ack pulse is over once seen */
		return s;
	}
	default:
		/* bits 6-7 are not implemented on an SPP port and read as ones */
		return (u8)(l->ctrl | 0xc0);
	}
}

static void write_reg(struct lpt *l, unsigned reg, u8 v)
{
	if (reg == LPT_DATA)
		l->data = v;
	else if (reg == LPT_CTRL)
		write_ctrl(l, v);
	/* the status register is read-only */
}

void lpt_access(void *dev, struct io_access *a)
{
	struct lpt *l = dev;
	unsigned reg = a->port & 3;
	/* a wide access covers the next registers, byte by byte, as on the ISA bus */
	u32 v = 0;
	for (unsigned i = 0; i < a->size; i++, reg++) {
		if (reg >= LPT_PORTS) {
			v |= 0xffu << (8 * i);
			continue;
		}
		if (a->write)
			write_reg(l, reg, (u8)(a->value >> (8 * i)));
		else
			v |= (u32)read_reg(l, reg) << (8 * i);
	}
	if (!a->write)
		a->value = v;
}

void lpt_update(struct lpt *l, const struct dev_time *now)
{
	if (l->idle_at && now->ns >= l->idle_at) {
		l->idle_at = 0;
		l->jobs_ended_idle++;
		printer_end_job(l->sink);
	}
}

u64 lpt_next_event(const struct lpt *l, const struct dev_time *now)
{
	return l->idle_at ? dev_ns_to_tsc(now->tsc_hz, l->idle_at) : UINT64_MAX;
}

#define LPT_STATE_VERSION 1

void lpt_save(const struct lpt *l, struct state_writer *w)
{
	state_put_tag(w, "LPT1", LPT_STATE_VERSION);
	STATE_PUT(w, l->data);
	STATE_PUT(w, l->ctrl);
	u8 ack = l->ack;
	STATE_PUT(w, ack);
	STATE_PUT(w, l->idle_at);
	STATE_PUT(w, l->bytes);
}

bool lpt_load(struct lpt *l, struct state_reader *r)
{
	u8 data, ctrl, ack;
	u64 idle_at, bytes;
	if (!state_get_tag(r, "LPT1", LPT_STATE_VERSION) || !STATE_GET(r, data) ||
	    !STATE_GET(r, ctrl) || !STATE_GET(r, ack) || !STATE_GET(r, idle_at) ||
	    !STATE_GET(r, bytes) || ctrl > 0x3f || ack > 1)
		return false;
	l->data = data;
	l->ctrl = ctrl;
	l->ack = ack;
	l->idle_at = idle_at;
	l->bytes = bytes;
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	lpt_reset(dev);
}

static void dev_update(void *dev, const struct dev_time *now)
{
	lpt_update(dev, now);
}

static u64 dev_next_event(void *dev, const struct dev_time *now)
{
	return lpt_next_event(dev, now);
}

static void dev_save(void *dev, struct state_writer *w)
{
	lpt_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return lpt_load(dev, r);
}

const struct device_ops lpt_device = {
    .name = "lpt1",
    .reset = dev_reset,
    .port = lpt_access,
    .update = dev_update,
    .next_event = dev_next_event,
    .save = dev_save,
    .load = dev_load,
};
