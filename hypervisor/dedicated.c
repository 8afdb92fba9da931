/* Dedicated devices: the table of the machine's dedicatable port-I/O devices, ownership (at
 * most one VM per device, and per interrupt line), and each owned line's interrupt path:
 * Keel's handler masks the machine's pin and queues the interrupt; before the owner's next
 * entry it becomes an edge on the owner's virtual line; once the guest has taken and EOI'd
 * it, the pin is unmasked again (a device still asserting then interrupts at once). */
#include "dedicated.h"
#include "lib.h"

/* COM1 (0x3f8, IRQ 4) is Keel's console and never in this table. */
const struct ded_device ded_devices[] = {
    {"com2", 0x2f8, 8, 3, DED_UART},
    {"com3", 0x3e8, 8, 4, DED_UART},
    {"com4", 0x2e8, 8, 3, DED_UART},
    {"lpt2", 0x278, 3, 5, DED_PARPORT},
};
const unsigned ded_ndevices = ARRAY_SIZE(ded_devices);

_Static_assert(ARRAY_SIZE(ded_devices) <= DED_MAX_DEVICES, "ownership table");

int ded_lookup(const char *name)
{
	for (unsigned i = 0; i < ded_ndevices; i++)
		if (!strcmp(name, ded_devices[i].name))
			return (int)i;
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

const char *ded_parse(const char *list, u32 *mask, char *msg, size_t size)
{
	*mask = 0;
	const char *s = list;
	for (;;) {
		char word[16];
		size_t n = 0;
		while (is_space(*s))
			s++;
		const char *start = s;
		while (*s && *s != ',')
			s++;
		const char *end = s;
		while (end > start && is_space(end[-1]))
			end--;
		if (end == start) {
			ksnprintf(msg, size,
				  "needs device names separated by commas (com2, com3, "
				  "com4, lpt2)");
			return msg;
		}
		n = (size_t)(end - start);
		if (n >= sizeof(word))
			n = sizeof(word) - 1; /* long enough to be unknown, short enough to quote */
		memcpy(word, start, n);
		word[n] = 0;
		int i = ded_lookup(word);
		if (i < 0) {
			if (!strcmp(word, "com1"))
				ksnprintf(msg, size,
					  "com1 is Keel's console and cannot be dedicated");
			else
				ksnprintf(
				    msg, size,
				    "unknown device '%s' (dedicatable: com2, com3, com4, lpt2)",
				    word);
			return msg;
		}
		*mask |= BIT(i);
		if (!*s)
			return NULL;
		s++; /* the comma */
	}
}

void ded_init(struct dedicated *d, const struct ded_hw_ops *ops)
{
	memset(d, 0, sizeof(*d));
	d->ops = *ops;
	for (unsigned i = 0; i < DED_ISA_IRQS; i++)
		d->line[i].masked = true;
}

static void set_mask(struct dedicated *d, unsigned irq, bool masked)
{
	d->line[irq].masked = masked;
	if (d->ops.mask)
		d->ops.mask(d->ops.ctx, irq, masked);
}

static void quiesce(struct dedicated *d, unsigned i)
{
	if (d->ops.quiesce)
		d->ops.quiesce(d->ops.ctx, &ded_devices[i]);
}

const char *ded_claim(struct dedicated *d, struct ded_guest *g, u32 mask, char *msg, size_t size)
{
	/* all checks first: a refused VM takes nothing */
	for (unsigned i = 0; i < DED_MAX_DEVICES; i++) {
		if (!(mask & BIT(i)))
			continue;
		if (i >= ded_ndevices) {
			ksnprintf(msg, size, "device %u is not dedicatable", i);
			return msg;
		}
		const struct ded_device *dev = &ded_devices[i];
		if (d->owner[i] && d->owner[i] != g) {
			ksnprintf(msg, size, "%s is dedicated to vm %s", dev->name,
				  d->owner[i]->name);
			return msg;
		}
		/* one line, one owner: the machine's pin is masked until its owner is done */
		const struct ded_line *l = &d->line[dev->irq];
		if (l->owner && l->owner != g) {
			ksnprintf(msg, size, "%s shares IRQ %u with a device dedicated to vm %s",
				  dev->name, dev->irq, l->owner->name);
			return msg;
		}
	}
	if (mask)
		g->reg = d;
	for (unsigned i = 0; i < ded_ndevices; i++) {
		if (!(mask & BIT(i)) || d->owner[i] == g)
			continue;
		const struct ded_device *dev = &ded_devices[i];
		struct ded_line *l = &d->line[dev->irq];
		d->owner[i] = g;
		g->devices |= BIT(i);
		quiesce(d, i); /* the new owner finds it silent, whoever used it before */
		l->devices |= BIT(i);
		if (!l->owner) {
			l->owner = g;
			g->lines |= BIT(dev->irq);
			l->masked = true;
			if (d->ops.route)
				d->ops.route(d->ops.ctx, dev->irq, true);
			set_mask(d, dev->irq, false);
		}
	}
	return NULL;
}

void ded_release(struct ded_guest *g)
{
	struct dedicated *d = g->reg;
	if (!d)
		return;
	for (unsigned i = 0; i < ded_ndevices; i++) {
		if (d->owner[i] != g)
			continue;
		quiesce(d, i);
		d->owner[i] = NULL;
	}
	for (unsigned irq = 0; irq < DED_ISA_IRQS; irq++) {
		struct ded_line *l = &d->line[irq];
		if (l->owner != g)
			continue;
		set_mask(d, irq, true);
		if (d->ops.route)
			d->ops.route(d->ops.ctx, irq, false);
		l->owner = NULL;
		l->devices = 0;
	}
	g->devices = g->lines = g->queued = g->in_flight = 0;
	g->reg = NULL;
}

void ded_irq(struct dedicated *d, unsigned irq)
{
	if (irq >= DED_ISA_IRQS)
		return;
	struct ded_line *l = &d->line[irq];
	l->arrived++;
	/* level-triggered: unmasked, the pin would interrupt again at once */
	set_mask(d, irq, true);
	struct ded_guest *g = l->owner;
	if (!g) {
		l->unowned++;
		return;
	}
	g->queued |= BIT(irq);
	if (g->kick)
		g->kick(g->ctx);
}

void ded_update(struct ded_guest *g)
{
	struct dedicated *d = g->reg;
	if (!d)
		return;
	for (unsigned irq = 0; irq < DED_ISA_IRQS; irq++) {
		u32 bit = BIT(irq);
		if ((g->in_flight & bit) && !g->line_busy(g->ctx, irq)) {
			/* the guest took it and EOI'd it: the device may interrupt again */
			g->in_flight &= ~bit;
			if (d->line[irq].owner == g)
				set_mask(d, irq, false);
		}
		if (g->queued & bit) {
			g->queued &= ~bit;
			g->set_line(g->ctx, irq, true);
			g->set_line(g->ctx, irq, false);
			g->in_flight |= bit;
			g->injected[irq]++;
		}
	}
}

u64 ded_injected_total(const struct ded_guest *g)
{
	u64 t = 0;
	for (unsigned i = 0; i < DED_ISA_IRQS; i++)
		t += g->injected[i];
	return t;
}
