/* pvpanic (QEMU's ISA device, ACPI "QEMU0001"): a guest kernel's panic notifier writes to
 * one port, so the hypervisor learns the guest crashed instead of watching it spin. */
#ifndef KEEL_PVPANIC_H
#define KEEL_PVPANIC_H

#include "io_bus.h"
#include "state.h"
#include "device.h"

#define PVPANIC_PORT	     0x505
#define PVPANIC_PANICKED     BIT(0)
#define PVPANIC_CRASH_LOADED BIT(1)

struct pvpanic {
	void (*event)(void *ctx, u8 events); /* PVPANIC_* bits the guest wrote */
	void *ctx;
};

void pvpanic_access(void *dev, struct io_access *a);
/* No register keeps a value: the state is the section tag alone, so a whole-VM stream
 * still says the device was there. */
void pvpanic_save(const struct pvpanic *p, struct state_writer *w);
bool pvpanic_load(struct pvpanic *p, struct state_reader *r);

/* pvpanic as the platform drives it. */
extern const struct device_ops pvpanic_device;

#endif
