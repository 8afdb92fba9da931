/* Dedicated devices on the machine: the IOAPIC (Bochs and PCs have one at 0xfec00000, ISA
 * IRQ n on pin n) routes an owned line, level-triggered, to Keel's vector VEC_ISA_BASE + n;
 * the handler hands it to the pure logic (dedicated.c), which masks the pin until the owner
 * has serviced it. Silencing a device at a change of owner is a few port writes. */
#include "dedicated_hw.h"
#include "console.h"
#include "cpu_hw.h"
#include "keel.h"
#include "trap.h"

#define IOAPIC_BASE   0xfec00000ULL
#define IOAPIC_SEL    0x00
#define IOAPIC_WIN    0x10
#define IOAPIC_VER    0x01
#define IOAPIC_RTE(n) (0x10 + 2 * (n))
#define RTE_LEVEL     BIT(15)
#define RTE_MASKED    BIT(16)

#define LAPIC_ID  0x20
#define LAPIC_EOI 0xb0

static struct dedicated machine;
static volatile u32 *ioapic;
static volatile u32 *lapic;
static unsigned ioapic_pins;

static u32 ioapic_read(u32 reg)
{
	ioapic[IOAPIC_SEL / 4] = reg;
	return ioapic[IOAPIC_WIN / 4];
}

static void ioapic_write(u32 reg, u32 v)
{
	ioapic[IOAPIC_SEL / 4] = reg;
	ioapic[IOAPIC_WIN / 4] = v;
}

static void isa_irq(u8 vector)
{
	ded_irq(&machine, (unsigned)(vector - VEC_ISA_BASE));
	/* a level vector: the EOI also clears the pin's remote IRR, now that it is masked */
	lapic[LAPIC_EOI / 4] = 0;
}

static void hw_route(void *ctx, unsigned irq, bool on)
{
	(void)ctx;
	if (!ioapic || irq >= ioapic_pins)
		return;
	u8 vector = (u8)(VEC_ISA_BASE + irq);
	irq_set_handler(vector, on ? isa_irq : NULL);
	/* fixed delivery to this CPU's APIC ID, physical mode, active high */
	u32 dest = lapic[LAPIC_ID / 4] & 0xff000000u;
	ioapic_write(IOAPIC_RTE(irq), RTE_MASKED);
	ioapic_write(IOAPIC_RTE(irq) + 1, dest);
	ioapic_write(IOAPIC_RTE(irq), on ? (RTE_MASKED | RTE_LEVEL | vector) : RTE_MASKED);
}

static void hw_mask(void *ctx, unsigned irq, bool masked)
{
	(void)ctx;
	if (!ioapic || irq >= ioapic_pins)
		return;
	u32 lo = ioapic_read(IOAPIC_RTE(irq));
	ioapic_write(IOAPIC_RTE(irq), masked ? lo | RTE_MASKED : lo & ~RTE_MASKED);
}

/* Every interrupt enable of the device off, so it cannot assert its line. */
static void hw_quiesce(void *ctx, const struct ded_device *d)
{
	(void)ctx;
	switch (d->kind) {
	case DED_UART:
		outb((u16)(d->base + 1), 0x00); /* IER */
		outb((u16)(d->base + 4), 0x00); /* MCR: OUT2 (the PC's interrupt gate) off */
		break;
	case DED_PARPORT:
		outb((u16)(d->base + 2), 0x0c); /* control: not in reset, selected, IRQ off */
		break;
	}
}

void ded_hw_init(void)
{
	static const struct ded_hw_ops ops = {hw_route, hw_mask, hw_quiesce, NULL};
	lapic = phys_to_virt(rdmsr(MSR_IA32_APIC_BASE) & 0xfffff000ULL);
	ioapic = phys_to_virt(IOAPIC_BASE);
	u32 ver = ioapic_read(IOAPIC_VER);
	if (ver == 0xffffffffu || (ver & 0xff) < 0x11) {
		pr_warn("dedicated: no IOAPIC at %llx: dedicated devices get no interrupts\n",
			(unsigned long long)IOAPIC_BASE);
		ioapic = NULL;
	} else {
		unsigned pins = ((ver >> 16) & 0xff) + 1;
		/* Keel takes no interrupt through it but the lines it routes itself */
		for (unsigned i = 0; i < pins; i++)
			ioapic_write(IOAPIC_RTE(i), RTE_MASKED);
		ioapic_pins = MIN(pins, DED_ISA_IRQS);
	}
	ded_init(&machine, &ops);
}

struct dedicated *ded_machine(void)
{
	return &machine;
}
