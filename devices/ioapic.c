/* I/O APIC model. Registers sit behind IOREGSEL/IOWIN; only aligned 32-bit accesses to IOWIN
 * and EOI are architectural (IOREGSEL also takes 1- and 2-byte writes, its low byte counts),
 * anything else reads 0 and writes nothing, and is counted. Level pins follow the remote-IRR
 * handshake; edge pins fire on a rising edge of the asserted state. */
#include "ioapic.h"
#include "../hypervisor/lib.h"

#define RTE_LO_WMASK 0x1afffu	 /* vector, delivery mode, dest mode, polarity, trigger, mask */
#define RTE_HI_WMASK 0xff000000u /* destination, bits 63:56 */
#define RTE_STORED   ((u64)RTE_HI_WMASK << 32 | RTE_LO_WMASK | IOAPIC_RTE_REMOTEIRR)
#define RTE_DM(r)    (((r) >> 8) & 7)

enum { REG_ID = 0, REG_VER = 1, REG_ARB = 2, REG_REDIR = 0x10, REG_REDIR_END = 0x40 };

void ioapic_init(struct ioapic *io, u8 id, bool (*deliver)(void *, const struct apic_msg *),
		 void *ctx)
{
	memset(io, 0, sizeof(*io));
	io->id = id & 0xf;
	io->deliver = deliver;
	io->ctx = ctx;
	ioapic_reset(io);
}

void ioapic_reset(struct ioapic *io)
{
	io->regsel = 0;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->redir[i] = IOAPIC_RTE_MASKED;
}

static bool asserted(const struct ioapic *io, unsigned pin)
{
	bool level = io->line & (1u << pin);
	return level != !!(io->redir[pin] & IOAPIC_RTE_LOW);
}

/* The remote-IRR handshake applies to fixed and lowest-priority entries; SMI, NMI, INIT and
 * ExtINT are edge messages whatever the trigger bit says. */
static bool level_entry(u64 rte)
{
	unsigned dm = RTE_DM(rte);
	return (rte & IOAPIC_RTE_LEVEL) && (dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST);
}

static bool send(struct ioapic *io, unsigned pin)
{
	u64 rte = io->redir[pin];
	unsigned dm = RTE_DM(rte);
	if (dm == 3 || dm == APIC_DM_STARTUP) { /* reserved in the redirection table */
		io->stats.bad_mode++;
		return false;
	}
	struct apic_msg m = {
	    .dest = (u32)(rte >> 56),
	    .logical = rte & BIT(11),
	    .mode = (enum apic_delivery)dm,
	    .vector = (u8)rte,
	    .level = level_entry(rte),
	};
	bool ok = io->deliver && io->deliver(io->ctx, &m);
	if (ok)
		io->stats.delivered++;
	else
		io->stats.undelivered++;
	return ok;
}

/* A level pin delivers while asserted, unmasked and not waiting for an EOI. */
static void service(struct ioapic *io, unsigned pin)
{
	u64 rte = io->redir[pin];
	if (!level_entry(rte) || (rte & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTEIRR)) ||
	    !asserted(io, pin))
		return;
	if (send(io, pin))
		io->redir[pin] |= IOAPIC_RTE_REMOTEIRR;
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
	if (pin >= IOAPIC_PINS) {
		io->stats.bad_pin++;
		return;
	}
	bool was = asserted(io, pin);
	if (level)
		io->line |= 1u << pin;
	else
		io->line &= ~(1u << pin);
	u64 rte = io->redir[pin];
	if (level_entry(rte))
		service(io, pin);
	else if (asserted(io, pin) && !was && !(rte & IOAPIC_RTE_MASKED))
		send(io, pin); /* an edge on a masked pin is lost, as on the 82093AA */
}

static void irq_line_set_fn(void *ctx, unsigned pin, bool level)
{
	ioapic_set_irq(ctx, pin, level);
}

struct irq_line ioapic_irq_line(struct ioapic *io, unsigned pin)
{
	return (struct irq_line){irq_line_set_fn, io, pin};
}

void ioapic_eoi(struct ioapic *io, u8 vector)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		u64 rte = io->redir[pin];
		if ((u8)rte != vector || !(rte & IOAPIC_RTE_REMOTEIRR))
			continue;
		io->redir[pin] = rte & ~(u64)IOAPIC_RTE_REMOTEIRR;
		service(io, pin); /* still asserted: deliver again */
	}
}

static u32 reg_read(struct ioapic *io, unsigned idx)
{
	if (idx >= REG_REDIR && idx < REG_REDIR_END) {
		u64 rte = io->redir[(idx - REG_REDIR) / 2];
		return (idx & 1) ? (u32)(rte >> 32) : (u32)rte;
	}
	switch (idx) {
	case REG_ID:
	case REG_ARB: /* the arbitration ID follows the ID */
		return (u32)io->id << 24;
	case REG_VER:
		return IOAPIC_VERSION;
	}
	io->stats.bad_mmio++;
	return 0;
}

static void write_redir(struct ioapic *io, unsigned pin, bool high, u32 v)
{
	u64 rte = io->redir[pin];
	if (high) {
		io->redir[pin] = (rte & 0xffffffffULL) | (u64)(v & RTE_HI_WMASK) << 32;
		return;
	}
	rte = (rte & ~0xffffffffULL) | (v & RTE_LO_WMASK) | (rte & IOAPIC_RTE_REMOTEIRR);
	/* Switching to edge clears remote IRR: OSes use mask+edge to clear a stuck one. */
	if (!level_entry(rte))
		rte &= ~(u64)IOAPIC_RTE_REMOTEIRR;
	io->redir[pin] = rte;
	service(io, pin); /* unmasking an asserted level pin delivers it now */
}

static void reg_write(struct ioapic *io, unsigned idx, u32 v)
{
	if (idx >= REG_REDIR && idx < REG_REDIR_END) {
		write_redir(io, (idx - REG_REDIR) / 2, idx & 1, v);
		return;
	}
	switch (idx) {
	case REG_ID:
		io->id = (v >> 24) & 0xf;
		return;
	case REG_VER:
	case REG_ARB:
		return; /* read-only */
	}
	io->stats.bad_mmio++;
}

void ioapic_mmio(void *dev, struct mmio_access *a)
{
	struct ioapic *io = dev;
	if (!a->write)
		a->value = 0;
	switch (a->offset) {
	case IOAPIC_IOREGSEL:
		if (a->size != 1 && a->size != 2 && a->size != 4)
			break;
		if (a->write)
			io->regsel = (u8)a->value;
		else
			a->value = io->regsel;
		return;
	case IOAPIC_IOWIN:
		if (a->size != 4)
			break;
		if (a->write)
			reg_write(io, io->regsel, (u32)a->value);
		else
			a->value = reg_read(io, io->regsel);
		return;
	case IOAPIC_EOI: /* write-only: reads 0 */
		if (a->size != 4)
			break;
		if (a->write)
			ioapic_eoi(io, (u8)a->value);
		return;
	}
	io->stats.bad_mmio++;
}

void ioapic_save(const struct ioapic *io, struct state_writer *w)
{
	state_put_tag(w, "IOAP", 1);
	STATE_PUT(w, io->id);
	STATE_PUT(w, io->regsel);
	STATE_PUT(w, io->line);
	STATE_PUT(w, io->redir);
}

bool ioapic_load(struct ioapic *io, struct state_reader *r)
{
	u8 id, regsel;
	u32 line;
	u64 redir[IOAPIC_PINS];
	if (!state_get_tag(r, "IOAP", 1) || !STATE_GET(r, id) || !STATE_GET(r, regsel) ||
	    !STATE_GET(r, line) || !STATE_GET(r, redir))
		return false;
	if (id > 0xf || (line >> IOAPIC_PINS))
		return false;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		if ((redir[i] & ~RTE_STORED) ||
		    ((redir[i] & IOAPIC_RTE_REMOTEIRR) && !level_entry(redir[i])))
			return false;
	io->id = id;
	io->regsel = regsel;
	io->line = line;
	memcpy(io->redir, redir, sizeof(redir));
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	ioapic_reset(dev);
}

/* an unmasked pin can still be raised by the device behind it */
static bool dev_can_raise(const void *dev, const struct dev_time *now)
{
	const struct ioapic *io = dev;
	(void)now;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		if (!(io->redir[i] & IOAPIC_RTE_MASKED))
			return true;
	return false;
}

static void dev_save(void *dev, struct state_writer *w)
{
	ioapic_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return ioapic_load(dev, r);
}

const struct device_ops ioapic_device = {
    .name = "ioapic",
    .reset = dev_reset,
    .mmio = ioapic_mmio,
    .can_raise = dev_can_raise,
    .save = dev_save,
    .load = dev_load,
};
