/* PC platform wiring of one VM. */
#include "platform.h"
#include "vm.h"
#include "keel.h"
#include "../devices/io_bus.h"

#define LAPIC_BUS_HZ 100000000ULL /* the APIC timer's bus clock, when the TSC allows */

static struct vm *vm_of(void *ctx)
{
	return ctx;
}

u64 platform_tsc_to_ns(const struct platform *p, u64 tsc)
{
	/* split so that nothing overflows 64 bits for any TSC rate below 18 GHz */
	return tsc / p->tsc_hz * 1000000000ULL + tsc % p->tsc_hz * 1000000000ULL / p->tsc_hz;
}

u64 platform_ns_to_tsc(const struct platform *p, u64 ns)
{
	if (ns == UINT64_MAX)
		return UINT64_MAX;
	u64 s = ns / 1000000000ULL, r = ns % 1000000000ULL;
	if (s > UINT64_MAX / p->tsc_hz)
		return UINT64_MAX;
	return s * p->tsc_hz + r * p->tsc_hz / 1000000000ULL;
}

static u64 guest_tsc(const struct vm *vm)
{
	return time_now() + vm->tsc_offset;
}

static u64 clock_ns(void *ctx)
{
	struct vm *vm = ctx;
	return platform_tsc_to_ns(&vm->plat, guest_tsc(vm));
}

void platform_isa_irq(void *ctx, unsigned irq, bool level)
{
	struct vm *vm = vm_of(ctx);
	pic_set_irq(&vm->plat.pic, irq, level);
	/* the MADT's interrupt source override: ISA IRQ 0 is IOAPIC pin 2 */
	ioapic_set_irq(&vm->plat.ioapic, irq == 0 ? 2 : irq, level);
}

static bool ioapic_deliver(void *ctx, const struct apic_msg *m)
{
	struct vm *vm = ctx;
	if (!lapic_matches(&vm->plat.lapic, m))
		return false;
	return lapic_accept(&vm->plat.lapic, m);
}

static void lapic_eoi(void *ctx, u8 vector)
{
	struct vm *vm = ctx;
	ioapic_eoi(&vm->plat.ioapic, vector);
}

static void lapic_ipi(void *ctx, const struct apic_msg *m, enum lapic_ipi_scope scope)
{
	struct vm *vm = ctx;
	/* one vCPU: a message to "everyone but me" reaches nobody */
	if (scope == LAPIC_IPI_DEST && lapic_matches(&vm->plat.lapic, m))
		lapic_accept(&vm->plat.lapic, m);
}

static void lapic_kick(void *ctx)
{
	struct vm *vm = ctx;
	if (vm->vcpu[0].state == VCPU_HALTED)
		vm->vcpu[0].state = VCPU_RUNNABLE;
}

static void pm_poweroff(void *ctx)
{
	vm_of(ctx)->plat.poweroff = true;
}

static void pm_reset(void *ctx)
{
	vm_of(ctx)->plat.reset = true;
}

static void pvpanic_event(void *ctx, u8 events)
{
	if (events & PVPANIC_PANICKED)
		vm_of(ctx)->plat.panicked = true;
}

bool platform_init(struct vm *vm, u64 tsc_hz, u64 guest_tsc_now, u64 wall_secs)
{
	struct platform *p = &vm->plat;
	p->tsc_hz = tsc_hz ? tsc_hz : 1000000000ULL;
	p->stale = true;
	p->clock = (struct dev_clock){clock_ns, vm};
	u64 now_ns = platform_tsc_to_ns(p, guest_tsc_now);

	/* the PIC's INTR goes to LINT0 (virtual wire at reset) */
	struct lapic_config lc = {
	    .id = 0,
	    .bsp = true,
	    .x2apic = true,
	    .phys_bits = 39,
	    .tsc_ratio = (u32)MAX(1, p->tsc_hz / LAPIC_BUS_HZ),
	    .min_period = p->tsc_hz / 20000, /* 50 us: no interrupt storm by a tiny period */
	    .ipi = lapic_ipi,
	    .eoi = lapic_eoi,
	    .kick = lapic_kick,
	    .ctx = vm,
	};
	if (!lapic_init(&p->lapic, &lc))
		return false;
	struct irq_line intr = lapic_lint_line(&p->lapic, 0);
	pic_init(&p->pic, &intr);
	ioapic_init(&p->ioapic, 1, ioapic_deliver, vm);
	struct irq_line irq0 = {platform_isa_irq, vm, ISA_IRQ_PIT};
	pit_init(&p->pit, &irq0, &p->clock, now_ns);
	struct irq_line irq8 = {platform_isa_irq, vm, ISA_IRQ_RTC};
	rtc_init(&p->rtc, &irq8, &p->clock, wall_secs, now_ns);
	u64 below_4g = MIN(vm->mem_bytes, 0xc0000000ULL);
	rtc_cmos_set_memory(&p->rtc, below_4g, vm->mem_bytes - below_4g);
	struct acpi_pm_ops pmo = {clock_ns, pm_poweroff, pm_reset, vm};
	struct irq_line sci = {platform_isa_irq, vm, ISA_IRQ_SCI};
	acpi_pm_init(&p->pm, ACPI_PM_IO_BASE, &pmo, &sci);
	p->pvpanic = (struct pvpanic){pvpanic_event, vm};
	pci_host_init(&p->pci);

	struct io_bus *io = &vm->io;
	return io_bus_register(io, PIC_MASTER_BASE, 2, "pic", pic_access, &p->pic) &&
	       io_bus_register(io, PIC_SLAVE_BASE, 2, "pic", pic_access, &p->pic) &&
	       io_bus_register(io, PIC_ELCR_BASE, 2, "elcr", pic_access, &p->pic) &&
	       io_bus_register(io, PIT_BASE, 4, "pit", pit_access, &p->pit) &&
	       io_bus_register(io, PIT_PORT_B, 1, "port61", pit_access, &p->pit) &&
	       io_bus_register(io, RTC_PORT, 2, "rtc", rtc_access, &p->rtc) &&
	       io_bus_register(io, ACPI_PM_IO_BASE, 12, "acpi-pm", acpi_pm_access, &p->pm) &&
	       io_bus_register(io, ACPI_RESET_PORT, 1, "reset", acpi_pm_reset_access, &p->pm) &&
	       io_bus_register(io, PVPANIC_PORT, 1, "pvpanic", pvpanic_access, &p->pvpanic) &&
	       /* 0xcf8 alone: a byte at 0xcf9 is the reset register, not PCI's */
	       io_bus_register(io, PCI_CONFIG_ADDRESS, 1, "pci", pci_host_access, &p->pci) &&
	       io_bus_register(io, PCI_CONFIG_DATA, 4, "pci", pci_host_access, &p->pci) &&
	       mmio_bus_register(&p->mmio, LAPIC_DEFAULT_BASE, 0x1000, "lapic", lapic_mmio,
				 &p->lapic) &&
	       mmio_bus_register(&p->mmio, IOAPIC_DEFAULT_BASE, 0x1000, "ioapic", ioapic_mmio,
				 &p->ioapic);
}

/* A VM whose platform was never set up (creation failed half-way, unit tests) has none. */
static bool present(const struct platform *p)
{
	return p->tsc_hz != 0;
}

void platform_sync(struct vm *vm, u64 now)
{
	struct platform *p = &vm->plat;
	if (!present(p))
		return;
	u64 ns = platform_tsc_to_ns(p, now);
	lapic_update(&p->lapic, now);
	pit_update(&p->pit, ns);
	rtc_update(&p->rtc, ns);
	acpi_pm_poll(&p->pm);
	p->stale = true; /* a timer that fired is re-armed: look again */
}

void platform_update(struct vm *vm, u64 now)
{
	struct platform *p = &vm->plat;
	if (present(p) && (p->stale || now >= p->next_event))
		platform_sync(vm, now);
}

u64 platform_next_event(struct vm *vm, u64 now)
{
	struct platform *p = &vm->plat;
	if (!present(p))
		return UINT64_MAX;
	if (!p->stale)
		return p->next_event;
	u64 ns = platform_tsc_to_ns(p, now);
	u64 t = lapic_next_event(&p->lapic, now);
	t = MIN(t, platform_ns_to_tsc(p, pit_next_event(&p->pit, ns)));
	t = MIN(t, platform_ns_to_tsc(p, rtc_next_event(&p->rtc, ns)));
	t = MIN(t, platform_ns_to_tsc(p, acpi_pm_next_event_ns(&p->pm)));
	p->next_event = t;
	p->stale = false;
	return t;
}

int platform_pending_vector(struct vm *vm)
{
	struct platform *p = &vm->plat;
	if (!present(p))
		return -1;
	if (lapic_extint_pending(&p->lapic))
		return pic_pending(&p->pic);
	return lapic_pending(&p->lapic);
}

void platform_acknowledge(struct vm *vm, int vector)
{
	struct platform *p = &vm->plat;
	if (lapic_extint_pending(&p->lapic)) {
		pic_acknowledge(&p->pic);
		lapic_extint_acknowledge(&p->lapic);
	} else {
		lapic_acknowledge(&p->lapic, (u8)vector);
	}
}

bool platform_can_wake(struct vm *vm)
{
	struct platform *p = &vm->plat;
	if (!present(p))
		return false;
	if (platform_pending_vector(vm) >= 0)
		return true;
	if (lapic_next_event(&p->lapic, vm->tsc_offset + time_now()) != UINT64_MAX)
		return true;
	/* an unmasked PIC input (through LINT0) or IOAPIC pin can still be raised */
	if ((p->pic.chip[0].imr & 0xfb) != 0xfb || p->pic.chip[1].imr != 0xff)
		return true;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		if (!(p->ioapic.redir[i] & BIT(16)))
			return true;
	return false;
}
