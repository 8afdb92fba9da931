/* The PC platform of one VM: the device models of its board (hypervisor/board_pc.c) wired
 * as a PC wires them (ISA IRQ n to PIC input n and IOAPIC pin n, IRQ 0 to pin 2; the PIC's
 * INTR to LINT0), put on the VM's buses and driven through their device interface. Pure:
 * the run loop asks it for the next device deadline and the vector to deliver. */
#ifndef KEEL_PLATFORM_H
#define KEEL_PLATFORM_H

#include "board.h"
#include "../devices/acpi_pm.h"
#include "../devices/clock.h"
#include "../devices/ioapic.h"
#include "../devices/lapic.h"
#include "../devices/mmio_bus.h"
#include "../devices/pic8259.h"
#include "../devices/pit8254.h"
#include "../devices/pci_host.h"
#include "../devices/pvpanic.h"
#include "../devices/rtc_cmos.h"
#include "../devices/virtio_balloon.h"
#include "../devices/virtio_blk.h"
#include "../devices/virtio_console.h"
#include "../devices/virtio_net.h"

struct vm;

#define PLATFORM_MAX_DEVICES 24

/* A board device in this VM: its model and its nodes on the buses. */
struct platform_dev {
	const struct board_device *bd;
	void *dev;
	struct bus_range node[BOARD_DEV_PORTS + 1]; /* its port ranges, then its MMIO window */
};

struct platform {
	struct pic8259 pic;
	struct pit8254 pit;
	struct rtc_cmos rtc;
	struct lapic lapic;
	struct ioapic ioapic;
	struct acpi_pm pm;
	struct pvpanic pvpanic;
	struct pci_host pci;
	struct mmio_bus mmio;
	struct dev_clock clock;
	u64 tsc_hz;	/* guest TSC rate */
	u64 next_event; /* cached earliest device deadline (guest TSC) */
	bool poweroff;	/* the guest asked for S5 */
	bool reset;	/* the guest asked for a reset */
	bool panicked;	/* the guest's kernel reported a panic (pvpanic) */
	const struct board *board;
	struct platform_dev dev[PLATFORM_MAX_DEVICES];
	unsigned ndev;
	/* derived at attach, for the per-exit paths: the devices with an update or next_event
	 * (their operations copied here, one load per call), and the port ranges of those whose
	 * ports can move a deadline */
	struct platform_timed {
		void (*update)(void *dev, const struct dev_time *now);
		u64 (*next_event)(void *dev, const struct dev_time *now);
		void *dev;
		u64 due; /* its next_event at the last look: valid while neither touched nor owed */
	} timed[PLATFORM_MAX_DEVICES];
	unsigned ntimed;
	/* one bit per timed device: accessed since its last update (bring it to now, ask its
	 * deadline again), and updated since the last look (ask its deadline again) */
	u32 touched, owed;
	u32 always; /* those without a next_event: updated whenever any model is */
	struct {
		u16 base, len;
	} timer_ports[PLATFORM_MAX_DEVICES * BOARD_DEV_PORTS];
	unsigned ntimer_ports;
	/* virtio functions, plugged when the config asks (hypervisor/vm_virtio.c) */
	struct virtio_blk vblk;
	struct virtio_console vcon;
	bool com1_level; /* the COM1 model's interrupt output (ISA line 4, which COM3 shares) */
	/* net = ...: virtio-net on port net_port of Keel's switch (hypervisor/vm_net.c) */
	struct virtio_net vnet;
	unsigned net_port;
	bool net_on;
	/* balloon = on: virtio-balloon (hypervisor/vm_virtio.c plugs it) */
	struct virtio_balloon vballoon;
};

/* ISA interrupt lines as the devices see them. */
#define ISA_IRQ_PIT  0
#define ISA_IRQ_COM1 4
#define ISA_IRQ_RTC  8
#define ISA_IRQ_SCI  9
#define ISA_IRQ_LPT1 7
#define ISA_IRQ_IDE  14 /* the primary IDE channel */

/* Where the VMs' printers print (the spool), set once at boot: attach gives VM `name`'s
 * printer input; idle_ns ends a job after that much VM time without a byte (0: the LPT's
 * default). Without it a VM's printer prints to nothing. */
struct platform_printers {
	struct printer_sink (*attach)(void *ctx, const char *name);
	void *ctx;
	u64 idle_ns;
};
void platform_set_printers(const struct platform_printers *pp);

/* Builds the devices of board `b` and registers them on its I/O and MMIO buses.
 * `guest_tsc_now` is the guest TSC at creation, `wall_secs` the RTC's start time (seconds
 * since 1970). NULL, or what could not be set up. */
const char *platform_init(struct vm *vm, const struct board *b, u64 tsc_hz, u64 guest_tsc_now,
			  u64 wall_secs);

/* An ISA device's line (the UART's, the SCI). */
void platform_isa_irq(void *vm, unsigned irq, bool level);

/* Whether the guest still has ISA line irq's interrupt pending or in service at the
 * controller it is routed through (the IOAPIC pin if unmasked, else the PIC), or no usable
 * route for an edge (a level-triggered PIC input): a dedicated device's line stays masked
 * at the machine until this is false. */
bool platform_isa_irq_busy(struct vm *vm, unsigned irq);

/* Brings device timers up to guest TSC `now`: those that are due and those touched since
 * their last update (the run loop calls this around every entry). A model's deadline moves
 * only by its update or by an access to it, so the others have nothing to do. */
void platform_update(struct vm *vm, u64 now);
/* Every device's timers to `now`, unconditionally. */
void platform_sync(struct vm *vm, u64 now);
/* Devices were accessed (a port, the guest TSC): any deadline may have moved. */
static inline void platform_touch(struct platform *p)
{
	p->touched = ~0u;
}
/* Device `dev` (a model of the board) was accessed: its deadline may have moved. False if
 * it is not one of the platform's timed models (nothing marked). */
bool platform_touch_dev(struct platform *p, const void *dev);
/* An MMIO access of the vCPU at guest TSC `now`: what is due first, the device brought to
 * now (it may read its timer), the access, and the device marked touched; a window of any
 * other owner (the IOAPIC, a PCI BAR) touches every model, as a timer port does. False: no
 * device took it (a read then holds all ones). */
bool platform_mmio(struct vm *vm, u64 gpa, struct mmio_access *a, u64 now);

/* Whether a port belongs to one of the VM's devices that keeps a timer (its board says
 * which): only an access to one of them can move a deadline. */
bool platform_port_has_timer(const struct vm *vm, u16 port);
/* Guest TSC of the next device timer event, UINT64_MAX when none. */
u64 platform_next_event(struct vm *vm, u64 now);

/* The vector the vCPU should take next (-1: none); after injecting it, acknowledge it. */
int platform_pending_vector(struct vm *vm);
void platform_acknowledge(struct vm *vm, int vector);

/* Could any interrupt still reach a halted vCPU (an unmasked source or an armed timer)?
 * False means a HLT can never end. */
bool platform_can_wake(struct vm *vm);

/* The whole device set of the VM, one model after another in board order (every model with
 * state, pvpanic and the UART included). Load refuses a stream of another board or a
 * truncated one; the models loaded before the failing one keep their new state, so a VM
 * whose load failed must not run. */
void platform_save(struct vm *vm, struct state_writer *w);
bool platform_load(struct vm *vm, struct state_reader *r);
/* Every model that has a reset back to its power-on state (the RTC keeps its time). */
void platform_reset(struct vm *vm);

/* Guest TSC <-> nanoseconds of VM time for the devices that count in ns. */
u64 platform_tsc_to_ns(const struct platform *p, u64 tsc);
u64 platform_ns_to_tsc(const struct platform *p, u64 ns);

#endif
