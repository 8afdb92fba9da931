/* 82093AA-style I/O APIC with 24 pins (version 0x20, so it has the EOI register): the
 * indirect register window, the redirection table, pin levels from devices, and messages to
 * local APICs through a delivery callback. */
#ifndef KEEL_IOAPIC_H
#define KEEL_IOAPIC_H

#include "irq.h"
#include "mmio.h"
#include "state.h"
#include "device.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000ULL
#define IOAPIC_WINDOW	    0x1000
#define IOAPIC_PINS	    24
#define IOAPIC_VERSION	    0x00170020u /* max redirection entry 23, version 0x20 */

/* MMIO offsets in the window. */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN	0x10
#define IOAPIC_EOI	0x40

/* Redirection entry bits (low dword). */
#define IOAPIC_RTE_DSTATUS   BIT(12) /* read-only, always 0: delivery is instant */
#define IOAPIC_RTE_LOW	     BIT(13) /* polarity: active low */
#define IOAPIC_RTE_REMOTEIRR BIT(14) /* read-only */
#define IOAPIC_RTE_LEVEL     BIT(15)
#define IOAPIC_RTE_MASKED    BIT(16)

struct ioapic_stats {
	u64 bad_mmio;	 /* non-architectural size/offset or unknown register index */
	u64 bad_pin;	 /* ioapic_set_irq() on a pin that does not exist */
	u64 bad_mode;	 /* entries with a reserved delivery mode that fired */
	u64 delivered;	 /* messages sent */
	u64 undelivered; /* messages no local APIC accepted */
};

struct ioapic {
	u8 id; /* bits 27:24 of register 0 */
	u8 regsel;
	u32 line; /* electrical level of each pin, as the devices drive it */
	u64 redir[IOAPIC_PINS];
	/* Sends a message towards the local APICs; returns whether any accepted it (a level
	 * interrupt nobody took does not wait for an EOI). */
	bool (*deliver)(void *ctx, const struct apic_msg *m);
	void *ctx;
	struct ioapic_stats stats;
};

void ioapic_init(struct ioapic *io, u8 id, bool (*deliver)(void *, const struct apic_msg *),
		 void *ctx);
/* Power-on state: every entry masked, edge, active high; the pin levels are kept. */
void ioapic_reset(struct ioapic *io);
/* The MMIO window (an mmio_fn). */
void ioapic_mmio(void *dev, struct mmio_access *a);
/* A device drives pin `pin` to `level` (electrical: an active-low pin asserts at 0). */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
struct irq_line ioapic_irq_line(struct ioapic *io, unsigned pin);
/* EOI for `vector` (a local APIC's EOI of a level-triggered vector, or the EOI register):
 * clears remote IRR of the level pins with that vector and re-delivers the ones still
 * asserted. */
void ioapic_eoi(struct ioapic *io, u8 vector);

void ioapic_save(const struct ioapic *io, struct state_writer *w);
/* Refuses malformed state (the IOAPIC is unchanged then); callbacks stay the loader's. */
bool ioapic_load(struct ioapic *io, struct state_reader *r);

/* The IOAPIC as the platform drives it (MMIO window). */
extern const struct device_ops ioapic_device;

#endif
