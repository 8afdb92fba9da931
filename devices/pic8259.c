/* 8259A pair: initialization words, operation words, priorities with rotation, special mask
 * and special fully nested modes, poll, auto-EOI, edge latches and level inputs per ELCR,
 * the cascade through master IR2 and spurious IRQ7/IRQ15. */
#include "pic8259.h"
#include "../hypervisor/lib.h"

#define ICW1_IC4  0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW1_INIT 0x10
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
#define OCW3_RIS  0x01
#define OCW3_RR	  0x02
#define OCW3_POLL 0x04
#define OCW3_SEL  0x08
#define OCW3_SMM  0x20
#define OCW3_ESMM 0x40

/* PIIX/ICH: IRQ0, 1, 2, 8 and 13 are always edge-triggered. */
#define ELCR_MASK_MASTER 0xf8
#define ELCR_MASK_SLAVE	 0xde

/* What a poll read returns with nothing requesting: I=0 and the spurious level 7. */
#define POLL_NONE 0x07

static u8 level_inputs(const struct pic8259_chip *c)
{
	return (c->icw1 & ICW1_LTIM) ? 0xff : c->elcr;
}

/* IRR as the chip sees it: latched edges, and level inputs as they are now. */
static u8 chip_irr(const struct pic8259_chip *c)
{
	u8 lvl = level_inputs(c);
	return (u8)((c->irr & ~lvl) | (c->lines & lvl));
}

/* Priority 0 is the highest; rotation moves which input has it. */
static unsigned prio(const struct pic8259_chip *c, unsigned irq)
{
	return (irq - c->priority_add) & 7;
}

static int highest(const struct pic8259_chip *c, u8 bits)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned irq = (c->priority_add + i) & 7;
		if (bits & (1u << irq))
			return (int)irq;
	}
	return -1;
}

/* The input this chip would deliver on an INTA now, or -1. */
static int chip_deliverable(const struct pic8259_chip *c, bool master)
{
	if (c->icw_next)
		return -1; /* no requests while the chip is being initialized */
	u8 req = chip_irr(c) & ~c->imr;
	if (c->special_mask) /* only the level's own ISR bit holds it back */
		return highest(c, req & ~c->isr);
	int irq = highest(c, req);
	if (irq < 0)
		return -1;
	int cur = highest(c, c->isr);
	if (cur >= 0 && prio(c, (unsigned)irq) >= prio(c, (unsigned)cur)) {
		/* special fully nested: the slave may interrupt its own in-service cascade */
		if (!(master && c->sfnm && irq == PIC_CASCADE_IRQ && cur == PIC_CASCADE_IRQ))
			return -1;
	}
	return irq;
}

static void chip_input(struct pic8259_chip *c, unsigned irq, bool level)
{
	u8 m = (u8)(1u << irq);
	if (level && !(c->lines & m) && !(level_inputs(c) & m))
		c->irr |= m; /* an edge input latches on the rising edge */
	if (level)
		c->lines |= m;
	else
		c->lines &= (u8)~m;
}

static void chip_intack(struct pic8259_chip *c, unsigned irq)
{
	u8 m = (u8)(1u << irq);
	c->irr &= (u8)~m;
	if (!c->auto_eoi)
		c->isr |= m;
	else if (c->rotate_on_aeoi)
		c->priority_add = (u8)((irq + 1) & 7);
}

/* Slave output into master IR2, then the master's INTR pin. */
static void update(struct pic8259 *pic)
{
	chip_input(&pic->chip[0], PIC_CASCADE_IRQ, chip_deliverable(&pic->chip[1], false) >= 0);
	bool level = chip_deliverable(&pic->chip[0], true) >= 0;
	if (level != pic->intr_level) {
		pic->intr_level = level;
		irq_line_set(&pic->intr, level);
	}
}

static void chip_reset(struct pic8259_chip *c, u8 icw1)
{
	c->icw1 = icw1;
	c->irr = 0; /* the edge-sense circuit is reset: inputs need a new rising edge */
	c->isr = 0;
	c->imr = 0;
	c->priority_add = 0;
	c->auto_eoi = c->rotate_on_aeoi = c->sfnm = false;
	c->special_mask = c->read_isr = c->poll = false;
}

void pic_init(struct pic8259 *pic, const struct irq_line *intr)
{
	memset(pic, 0, sizeof(*pic));
	if (intr)
		pic->intr = *intr;
	for (unsigned i = 0; i < 2; i++) {
		struct pic8259_chip *c = &pic->chip[i];
		chip_reset(c, ICW1_INIT | ICW1_IC4);
		c->vector_base = i ? 0x70 : 0x08;
		c->icw3 = i ? PIC_CASCADE_IRQ : 1u << PIC_CASCADE_IRQ;
		c->imr = 0xff;
		c->elcr_mask = i ? ELCR_MASK_SLAVE : ELCR_MASK_MASTER;
	}
}

static void write_ocw2(struct pic8259_chip *c, u8 v)
{
	unsigned level = v & 7;
	int irq;
	switch (v >> 5) {
	case 0: /* clear rotate in automatic EOI mode */
		c->rotate_on_aeoi = false;
		break;
	case 4: /* set rotate in automatic EOI mode */
		c->rotate_on_aeoi = true;
		break;
	case 1: /* non-specific EOI: the highest-priority level in service */
	case 5: /* ... and rotate */
		irq = highest(c, c->isr);
		if (irq >= 0) {
			c->isr &= (u8) ~(1u << irq);
			if (v >> 5 == 5)
				c->priority_add = (u8)((irq + 1) & 7);
		}
		break;
	case 3: /* specific EOI */
		c->isr &= (u8) ~(1u << level);
		break;
	case 7: /* specific EOI and rotate: that level becomes the lowest */
		c->isr &= (u8) ~(1u << level);
		c->priority_add = (u8)((level + 1) & 7);
		break;
	case 6: /* set priority: `level` becomes the lowest */
		c->priority_add = (u8)((level + 1) & 7);
		break;
	default: /* 2: no operation */
		break;
	}
}

static void write_ocw3(struct pic8259_chip *c, u8 v)
{
	if (v & OCW3_ESMM)
		c->special_mask = (v & OCW3_SMM) != 0;
	if (v & OCW3_RR)
		c->read_isr = (v & OCW3_RIS) != 0;
	if (v & OCW3_POLL)
		c->poll = true;
}

/* Data port: the ICW the sequence expects, otherwise OCW1 (the mask). */
static void write_data(struct pic8259_chip *c, u8 v)
{
	switch (c->icw_next) {
	case 2:
		c->vector_base = v & 0xf8; /* x86 mode: T7-T3; the input fills bits 2-0 */
		if (!(c->icw1 & ICW1_SNGL))
			c->icw_next = 3;
		else
			c->icw_next = (c->icw1 & ICW1_IC4) ? 4 : 0;
		break;
	case 3:
		c->icw3 = v; /* recorded only: the PC's cascade is wired to IR2 */
		c->icw_next = (c->icw1 & ICW1_IC4) ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = (v & ICW4_AEOI) != 0;
		c->sfnm = (v & ICW4_SFNM) != 0;
		c->icw_next = 0;
		break;
	default:
		c->imr = v;
		break;
	}
}

/* A poll read is an INTA without the bus cycle: it returns 0x80 | level. */
static u8 poll_read(struct pic8259 *pic, unsigned chip)
{
	struct pic8259_chip *c = &pic->chip[chip];
	c->poll = false;
	int irq = chip_deliverable(c, chip == 0);
	if (irq < 0)
		return POLL_NONE;
	chip_intack(c, (unsigned)irq);
	if (chip == 1) /* the cascade line is sampled afresh after the slave's INTA */
		pic->chip[0].lines &= (u8) ~(1u << PIC_CASCADE_IRQ);
	return (u8)(0x80 | irq);
}

static u8 chip_read(struct pic8259 *pic, unsigned chip, unsigned reg)
{
	const struct pic8259_chip *c = &pic->chip[chip];
	if (c->poll)
		return poll_read(pic, chip);
	if (reg == 1)
		return c->imr;
	return c->read_isr ? c->isr : chip_irr(c);
}

static void chip_write(struct pic8259_chip *c, unsigned reg, u8 v)
{
	if (reg == 1) {
		write_data(c, v);
	} else if (v & ICW1_INIT) {
		chip_reset(c, v);
		c->icw_next = 2;
	} else if (v & OCW3_SEL) {
		write_ocw3(c, v);
	} else {
		write_ocw2(c, v);
	}
}

static void elcr_write(struct pic8259_chip *c, u8 v)
{
	c->elcr = v & c->elcr_mask;
	c->irr &= (u8)~c->elcr; /* level inputs keep no edge latch */
}

static u8 pic_byte(struct pic8259 *pic, u32 port, bool write, u8 v)
{
	switch (port) {
	case PIC_MASTER_BASE:
	case PIC_MASTER_BASE + 1:
	case PIC_SLAVE_BASE:
	case PIC_SLAVE_BASE + 1: {
		unsigned chip = (port & 0x80) ? 1 : 0;
		if (write)
			chip_write(&pic->chip[chip], port & 1, v);
		else
			v = chip_read(pic, chip, port & 1);
		break;
	}
	case PIC_ELCR_BASE:
	case PIC_ELCR_BASE + 1:
		if (write)
			elcr_write(&pic->chip[port & 1], v);
		else
			v = pic->chip[port & 1].elcr;
		break;
	default: /* a wide access that runs past the PIC's ports */
		v = 0xff;
		break;
	}
	update(pic);
	return v;
}

void pic_access(void *dev, struct io_access *a)
{
	struct pic8259 *pic = dev;
	if (a->size != 1 && a->size != 2 && a->size != 4) {
		if (!a->write)
			a->value = 0xffffffff;
		return;
	}
	u32 out = 0;
	for (unsigned i = 0; i < a->size; i++)
		out |= (u32)pic_byte(pic, (u32)a->port + i, a->write, (u8)(a->value >> (8 * i)))
		       << (8 * i);
	if (!a->write)
		a->value = out;
}

void pic_set_irq(struct pic8259 *pic, unsigned irq, bool level)
{
	if (irq >= 16 || irq == PIC_CASCADE_IRQ)
		return;
	chip_input(&pic->chip[irq >> 3], irq & 7, level);
	update(pic);
}

void pic_irq_line_set(void *pic, unsigned irq, bool level)
{
	pic_set_irq(pic, irq, level);
}

int pic_pending(const struct pic8259 *pic)
{
	const struct pic8259_chip *m = &pic->chip[0], *s = &pic->chip[1];
	int irq = chip_deliverable(m, true);
	if (irq < 0)
		return -1;
	if (irq != PIC_CASCADE_IRQ)
		return m->vector_base + irq;
	int sirq = chip_deliverable(s, false);
	return s->vector_base + (sirq < 0 ? 7 : sirq);
}

u8 pic_acknowledge(struct pic8259 *pic)
{
	struct pic8259_chip *m = &pic->chip[0], *s = &pic->chip[1];
	int irq = chip_deliverable(m, true);
	u8 vector;
	if (irq < 0) {
		/* the request went away before INTA: the master answers with IR7 */
		pic->spurious++;
		return m->vector_base | 7;
	}
	chip_intack(m, (unsigned)irq);
	if (irq == PIC_CASCADE_IRQ) {
		int sirq = chip_deliverable(s, false);
		if (sirq < 0) {
			pic->spurious++;
			vector = s->vector_base | 7; /* IRQ15; the master's IR2 stays in service */
		} else {
			chip_intack(s, (unsigned)sirq);
			vector = (u8)(s->vector_base + sirq);
		}
		/* the cascade line is sampled afresh: a slave still requesting gives a new edge */
		m->lines &= (u8) ~(1u << PIC_CASCADE_IRQ);
	} else {
		vector = (u8)(m->vector_base + irq);
	}
	update(pic);
	return vector;
}

/* ---- save/load ---- */

#define PIC_STATE_VERSION 1

enum { F_AEOI = 1, F_ROT_AEOI = 2, F_SFNM = 4, F_SMM = 8, F_READ_ISR = 16, F_POLL = 32 };

void pic_save(const struct pic8259 *pic, struct state_writer *w)
{
	state_put_tag(w, "PIC2", PIC_STATE_VERSION);
	for (unsigned i = 0; i < 2; i++) {
		const struct pic8259_chip *c = &pic->chip[i];
		u8 flags = (u8)((c->auto_eoi ? F_AEOI : 0) | (c->rotate_on_aeoi ? F_ROT_AEOI : 0) |
				(c->sfnm ? F_SFNM : 0) | (c->special_mask ? F_SMM : 0) |
				(c->read_isr ? F_READ_ISR : 0) | (c->poll ? F_POLL : 0));
		u8 regs[11] = {c->irr,	       c->lines,	c->isr,	     c->imr,  c->elcr,
			       c->vector_base, c->priority_add, c->icw_next, c->icw1, c->icw3,
			       flags};
		state_put(w, regs, sizeof(regs));
	}
	state_put(w, &pic->spurious, sizeof(pic->spurious));
}

static bool chip_load(struct pic8259_chip *c, const u8 regs[11])
{
	u8 icw_next = regs[7], icw1 = regs[8], flags = regs[10];
	if ((regs[4] & ~c->elcr_mask) || (regs[5] & 7) || regs[6] > 7 || !(icw1 & ICW1_INIT) ||
	    (flags & ~0x3f))
		return false;
	if (icw_next != 0 && icw_next != 2 && icw_next != 3 && icw_next != 4)
		return false;
	if ((icw_next == 3 && (icw1 & ICW1_SNGL)) || (icw_next == 4 && !(icw1 & ICW1_IC4)))
		return false;
	c->irr = regs[0];
	c->lines = regs[1];
	c->isr = regs[2];
	c->imr = regs[3];
	c->elcr = regs[4];
	c->vector_base = regs[5];
	c->priority_add = regs[6];
	c->icw_next = icw_next;
	c->icw1 = icw1;
	c->icw3 = regs[9];
	c->auto_eoi = flags & F_AEOI;
	c->rotate_on_aeoi = flags & F_ROT_AEOI;
	c->sfnm = flags & F_SFNM;
	c->special_mask = flags & F_SMM;
	c->read_isr = flags & F_READ_ISR;
	c->poll = flags & F_POLL;
	return true;
}

bool pic_load(struct pic8259 *pic, struct state_reader *r)
{
	u8 regs[2][11];
	u64 spurious;
	struct pic8259_chip chips[2] = {pic->chip[0], pic->chip[1]};
	if (!state_get_tag(r, "PIC2", PIC_STATE_VERSION) || !state_get(r, regs, sizeof(regs)) ||
	    !state_get(r, &spurious, sizeof(spurious)))
		return false;
	if (!chip_load(&chips[0], regs[0]) || !chip_load(&chips[1], regs[1])) {
		r->error = true;
		return false;
	}
	pic->chip[0] = chips[0];
	pic->chip[1] = chips[1];
	pic->spurious = spurious;
	update(pic);
	irq_line_set(&pic->intr, pic->intr_level); /* the wiring may be new: say it once */
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	struct pic8259 *pic = dev;
	struct irq_line intr = pic->intr;
	pic_init(pic, &intr);
}

/* an unmasked input (the master's cascade input 2 aside) can still be raised */
static bool dev_can_raise(const void *dev, const struct dev_time *now)
{
	const struct pic8259 *pic = dev;
	(void)now;
	return (pic->chip[0].imr & 0xfb) != 0xfb || pic->chip[1].imr != 0xff;
}

static void dev_save(void *dev, struct state_writer *w)
{
	pic_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return pic_load(dev, r);
}

const struct device_ops pic_device = {
    .name = "pic",
    .reset = dev_reset,
    .port = pic_access,
    .can_raise = dev_can_raise,
    .save = dev_save,
    .load = dev_load,
};
