/* Interrupt wiring between device models: a device drives an output line (level high or
 * low; edge devices pulse it), and whoever it is wired to (PIC, IOAPIC, the vCPU) receives
 * the change. Models never know what they are wired to. */
#ifndef KEEL_IRQ_H
#define KEEL_IRQ_H

#include "../hypervisor/types.h"

struct irq_line {
	void (*set)(void *ctx, unsigned pin, bool level);
	void *ctx;
	unsigned pin;
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
	if (l && l->set)
		l->set(l->ctx, l->pin, level);
}

/* An edge: raise then lower (ISA devices such as the PIT's channel 0 output). */
static inline void irq_line_pulse(const struct irq_line *l)
{
	irq_line_set(l, true);
	irq_line_set(l, false);
}

/* A message to a local APIC (from the IOAPIC or, later, MSI). */
enum apic_delivery {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_STARTUP = 6,
	APIC_DM_EXTINT = 7,
};

struct apic_msg {
	u32 dest;     /* APIC ID (physical) or logical destination */
	bool logical; /* destination mode */
	enum apic_delivery mode;
	u8 vector;
	bool level; /* trigger mode: level (true) or edge */
};

#endif
