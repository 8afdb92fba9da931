/* PC platform of one VM: the models' wiring, their places on the buses from the board,
 * and the loops over the board's devices (time, wake-up, save/load, reset). */
#include "platform.h"
#include "vm.h"
#include "lib.h"
#include "keel.h"
#include "vm_virtio.h"
#include "../devices/io_bus.h"

#define LAPIC_BUS_HZ 100000000ULL /* the APIC timer's bus clock, when the TSC allows */

_Static_assert(PLATFORM_MAX_DEVICES <= 32, "struct platform's owed: one bit per device");

static struct vm *vm_of(void *ctx)
{
	return ctx;
}

static const struct platform_printers *printers;

void platform_set_printers(const struct platform_printers *pp)
{
	printers = pp;
}

u64 platform_tsc_to_ns(const struct platform *p, u64 tsc)
{
	return dev_tsc_to_ns(p->tsc_hz, tsc);
}

u64 platform_ns_to_tsc(const struct platform *p, u64 ns)
{
	return dev_ns_to_tsc(p->tsc_hz, ns);
}

static struct dev_time dev_now(const struct platform *p, u64 tsc)
{
	return (struct dev_time){tsc, platform_tsc_to_ns(p, tsc), p->tsc_hz};
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

/* An MSI or MSI-X message: to the APIC, as an IOAPIC message would go. */
static void pci_msi(void *ctx, const struct apic_msg *m)
{
	ioapic_deliver(ctx, m);
}

/* PCI INTx lines are active low and level-triggered: asserted drives the pin to 0. */
static void pci_intx(void *ctx, unsigned gsi, bool level)
{
	struct vm *vm = ctx;
	ioapic_set_irq(&vm->plat.ioapic, gsi, !level);
}

/* A memory BAR's pages exit as MMIO while it decodes; it may only land where the VM has
 * nothing (the board's PCI window keeps it off RAM and the other devices). */
static bool pci_map_mmio(void *ctx, u64 base, u64 len, bool on)
{
	struct vm *vm = ctx;
	u64 first = base >> PAGE_SHIFT, n = len >> PAGE_SHIFT;
	for (u64 i = 0; i < n && on; i++)
		if (p2m_lookup(&vm->p2m, first + i, NULL) != P2M_NONE)
			return false;
	for (u64 i = 0; i < n; i++)
		if (!p2m_set(&vm->p2m, first + i, 0, on ? P2M_MMIO : P2M_NONE)) {
			while (on && i--)
				p2m_set(&vm->p2m, first + i, 0, P2M_NONE);
			return false;
		}
	return true;
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

static void uart_tx(void *ctx, u8 c)
{
	vm_console_putc(ctx, c);
}

static void uart_irq(void *ctx, bool level)
{
	vm_of(ctx)->plat.com1_level = level;
	platform_isa_irq(ctx, ISA_IRQ_COM1, level);
}

/* A dedicated device's edge on its ISA line; the VM's own COM1 keeps line 4 up if it
 * drives it (the line is wired-OR, as COM1 and COM3 share IRQ 4 on a PC). */
static void ded_set_line(void *ctx, unsigned irq, bool level)
{
	struct vm *vm = ctx;
	platform_isa_irq(vm, irq, level || (irq == ISA_IRQ_COM1 && vm->plat.com1_level));
}

bool platform_isa_irq_busy(struct vm *vm, unsigned irq)
{
	struct platform *p = &vm->plat;
	if (irq >= 16)
		return false;
	u64 rte = p->ioapic.redir[irq == 0 ? 2 : irq];
	if (!(rte & IOAPIC_RTE_MASKED)) {
		u8 v = (u8)rte;
		u32 bit = 1u << (v & 31);
		return (rte & IOAPIC_RTE_REMOTEIRR) || (p->lapic.irr[v >> 5] & bit) ||
		       (p->lapic.isr[v >> 5] & bit);
	}
	const struct pic8259_chip *c = &p->pic.chip[irq >> 3];
	u8 b = (u8)(1u << (irq & 7));
	/* an edge on a level input is gone at once: keep the line masked, never storm */
	return ((c->irr | c->isr | c->elcr) & b) != 0;
}

static bool ded_line_busy(void *ctx, unsigned irq)
{
	return platform_isa_irq_busy(ctx, irq);
}

static void debug_exit(void *ctx, u32 status)
{
	vm_exit_with_status(ctx, status);
}

static void no_update(void *dev, const struct dev_time *now)
{
	(void)dev;
	(void)now;
}

static u64 no_event(void *dev, const struct dev_time *now)
{
	(void)dev;
	(void)now;
	return UINT64_MAX;
}

/* Puts each board device the VM has (present for its config) on the VM's buses at the
 * ranges the board gives it; the platform's list holds those devices only, in board order. */
static const char *attach_devices(struct vm *vm, const struct board *b)
{
	struct platform *p = &vm->plat;
	p->ndev = 0;
	for (unsigned i = 0; i < b->ndev; i++) {
		const struct board_device *bd = &b->dev[i];
		if (bd->present && (!vm->cfg || !bd->present(vm->cfg)))
			continue;
		if (p->ndev == PLATFORM_MAX_DEVICES)
			return "the board has more devices than the platform holds";
		struct platform_dev *pd = &p->dev[p->ndev++];
		const struct device_ops *ops = bd->ops;
		pd->bd = bd;
		pd->dev = (u8 *)vm + bd->offset;
		for (unsigned j = 0; j < BOARD_DEV_PORTS; j++) {
			const struct board_ports *r = &bd->ports[j];
			if (r->len &&
			    (!ops->port || !io_bus_register(&vm->io, &pd->node[j], r->base, r->len,
							    ops->name, ops->port, pd->dev)))
				return "a device's port range could not be registered";
			if (r->len && ops->port_string)
				io_bus_set_string(&pd->node[j], ops->port_string);
		}
		if (bd->mmio_len &&
		    (!ops->mmio ||
		     !mmio_bus_register(&p->mmio, &pd->node[BOARD_DEV_PORTS], bd->mmio_base,
					bd->mmio_len, ops->name, ops->mmio, pd->dev)))
			return "a device's MMIO window could not be registered";
	}
	p->ntimed = p->ntimer_ports = 0;
	p->always = 0;
	for (unsigned i = 0; i < p->ndev; i++) {
		const struct board_device *bd = p->dev[i].bd;
		if (bd->ops->update || bd->ops->next_event) {
			/* the per-exit loops call without testing: a missing side is a no-op,
			 * and a model without deadlines is updated whenever any model is */
			if (!bd->ops->next_event)
				p->always |= (u32)BIT(p->ntimed);
			p->timed[p->ntimed++] = (struct platform_timed){
			    bd->ops->update ? bd->ops->update : no_update,
			    bd->ops->next_event ? bd->ops->next_event : no_event, p->dev[i].dev,
			    UINT64_MAX};
		}
		for (unsigned j = 0; bd->timer && j < BOARD_DEV_PORTS; j++)
			if (bd->ports[j].len) {
				p->timer_ports[p->ntimer_ports].base = bd->ports[j].base;
				p->timer_ports[p->ntimer_ports++].len = bd->ports[j].len;
			}
	}
	return NULL;
}

const char *platform_init(struct vm *vm, const struct board *b, u64 tsc_hz, u64 guest_tsc_now,
			  u64 wall_secs)
{
	struct platform *p = &vm->plat;
	p->tsc_hz = tsc_hz ? tsc_hz : 1000000000ULL;
	p->touched = ~0u;
	p->board = b;
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
		return "the local APIC's configuration was refused";
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
	struct pci_bus_ctx pbus = {
	    .io = &vm->io,
	    .mmio = &p->mmio,
	    .map_mmio = pci_map_mmio,
	    .msi = pci_msi,
	    .intx = pci_intx,
	    .ctx = vm,
	    .mmio_base = b->pci_mmio_base,
	    .mmio_len = b->pci_mmio_len,
	    .io_base = b->pci_io_base,
	    .io_len = b->pci_io_len,
	};
	memcpy(pbus.intx_gsi, b->pci_intx_gsi, sizeof(pbus.intx_gsi));
	pci_host_connect(&p->pci, &pbus);
	uart_init(&vm->uart, uart_tx, uart_irq, vm);
	vm->ded.name = vm->name;
	vm->ded.set_line = ded_set_line;
	vm->ded.line_busy = ded_line_busy;
	vm->ded.ctx = vm;
	vm->dbg_exit = (struct debug_exit){debug_exit, vm};
	vm->printer = (struct printer_sink){0};
	if (printers && vm->cfg && vm->cfg->printer)
		vm->printer = printers->attach(printers->ctx, vm->name);
	struct irq_line irq7 = {platform_isa_irq, vm, ISA_IRQ_LPT1};
	lpt_init(&vm->lpt, &vm->printer, &irq7, &p->clock, printers ? printers->idle_ns : 0);
	struct irq_line irq14 = {platform_isa_irq, vm, ISA_IRQ_IDE};
	ide_init(&vm->ide, vm->disk, &irq14);
	const char *err = attach_devices(vm, p->board);
	return err ? err : vm_virtio_plug(vm);
}

bool platform_port_has_timer(const struct vm *vm, u16 port)
{
	const struct platform *p = &vm->plat;
	for (unsigned i = 0; i < p->ntimer_ports; i++)
		if (port >= p->timer_ports[i].base &&
		    port - p->timer_ports[i].base < p->timer_ports[i].len)
			return true;
	return false;
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
	struct dev_time t = dev_now(p, now);
	for (unsigned k = 0; k < p->ntimed; k++)
		p->timed[k].update(p->timed[k].dev, &t);
	p->owed = ~0u; /* a timer that fired is re-armed: look again */
}

/* The slow halves of platform_update() and platform_next_event(), out of line: the run loop
 * calls both around every entry, and nearly always they have nothing to do. */
static __attribute__((noinline)) void update_devices(struct platform *p, u64 now)
{
	const struct dev_time t = dev_now(p, now);
	u32 todo = p->touched | p->owed | p->always, done = 0;
	unsigned n = p->ntimed;
	p->touched = 0; /* one made by an update below waits for the next look */
	for (unsigned k = 0; k < n; k++) {
		const struct platform_timed *d = &p->timed[k];
		if ((todo & BIT(k)) || d->due <= now) {
			d->update(d->dev, &t);
			done |= (u32)BIT(k);
		}
	}
	p->owed |= done;
}

void platform_update(struct vm *vm, u64 now)
{
	struct platform *p = &vm->plat;
	/* a dedicated device's interrupt queued, or one the guest may have EOI'd since */
	if (ded_has_work(&vm->ded))
		ded_update(&vm->ded);
	if (present(p) && (p->touched || p->owed || now >= p->next_event))
		update_devices(p, now);
}

static __attribute__((noinline)) u64 ask_deadlines(struct platform *p, u64 now)
{
	const struct dev_time dt = dev_now(p, now);
	u32 ask = p->touched | p->owed;
	unsigned n = p->ntimed;
	u64 t = UINT64_MAX;
	p->owed = 0; /* touched devices stay so until an update brings them to now */
	for (unsigned k = 0; k < n; k++) {
		struct platform_timed *d = &p->timed[k];
		if (ask & BIT(k))
			d->due = d->next_event(d->dev, &dt);
		t = MIN(t, d->due);
	}
	p->next_event = t;
	return t;
}

u64 platform_next_event(struct vm *vm, u64 now)
{
	struct platform *p = &vm->plat;
	if (!present(p))
		return UINT64_MAX;
	if (!p->touched && !p->owed)
		return p->next_event;
	return ask_deadlines(p, now);
}

bool platform_touch_dev(struct platform *p, const void *dev)
{
	for (unsigned k = 0; k < p->ntimed; k++)
		if (p->timed[k].dev == dev) {
			p->touched |= (u32)BIT(k);
			return true;
		}
	return false;
}

bool platform_mmio(struct vm *vm, u64 gpa, struct mmio_access *a, u64 now)
{
	struct platform *p = &vm->plat;
	const struct bus_range *r = bus_range_find(p->mmio.ranges, gpa);
	/* a window whose owner is not a timed model of the board (the IOAPIC, a PCI BAR) may
	 * still reach one behind it: every model is brought to now and looked at again */
	bool one = r && platform_touch_dev(p, r->dev);
	if (r && !one)
		platform_touch(p);
	if (r && present(p))
		platform_update(vm, now); /* what is due, and the device itself */
	bool claimed = mmio_bus_access(&p->mmio, gpa, a);
	if (one)
		platform_touch_dev(p, r->dev);
	else if (r)
		platform_touch(p);
	return claimed;
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
	struct dev_time t = dev_now(p, vm->tsc_offset + time_now());
	for (unsigned i = 0; i < p->ndev; i++)
		if (p->dev[i].bd->ops->can_raise && p->dev[i].bd->ops->can_raise(p->dev[i].dev, &t))
			return true;
	return false;
}

#define DEVICE_SET_VERSION 1

void platform_save(struct vm *vm, struct state_writer *w)
{
	struct platform *p = &vm->plat;
	u32 n = 0;
	for (unsigned i = 0; i < p->ndev; i++)
		n += p->dev[i].bd->ops->save != NULL;
	state_put_tag(w, "DEVS", DEVICE_SET_VERSION);
	state_put(w, &n, sizeof(n));
	for (unsigned i = 0; i < p->ndev; i++)
		if (p->dev[i].bd->ops->save)
			p->dev[i].bd->ops->save(p->dev[i].dev, w);
}

bool platform_load(struct vm *vm, struct state_reader *r)
{
	struct platform *p = &vm->plat;
	u32 n = 0, saved;
	for (unsigned i = 0; i < p->ndev; i++)
		n += p->dev[i].bd->ops->load != NULL;
	if (!state_get_tag(r, "DEVS", DEVICE_SET_VERSION) || !state_get(r, &saved, sizeof(saved)) ||
	    saved != n)
		return false;
	for (unsigned i = 0; i < p->ndev; i++)
		if (p->dev[i].bd->ops->load && !p->dev[i].bd->ops->load(p->dev[i].dev, r))
			return false;
	p->touched = ~0u; /* loaded timers have deadlines of their own */
	return true;
}

void platform_reset(struct vm *vm)
{
	struct platform *p = &vm->plat;
	for (unsigned i = 0; i < p->ndev; i++)
		if (p->dev[i].bd->ops->reset)
			p->dev[i].bd->ops->reset(p->dev[i].dev);
	p->touched = ~0u;
}
