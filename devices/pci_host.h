/* PCI host bridge with configuration mechanism #1 (CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at
 * 0xcfc-0xcff). Bus 0 holds the host bridge itself at 00:00.0; every other function reads
 * as absent (all ones), which is how PCI says "nothing here". Devices arrive later. */
#ifndef KEEL_PCI_HOST_H
#define KEEL_PCI_HOST_H

#include "io_bus.h"
#include "state.h"
#include "device.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA	   0xcfc

struct pci_host {
	u32 address;	/* CONFIG_ADDRESS as last written */
	u8 bridge[256]; /* the host bridge's configuration space */
};

void pci_host_init(struct pci_host *h);
/* For CONFIG_ADDRESS (a dword at 0xcf8; byte accesses there are not PCI's: 0xcf9 is the
 * reset register) and CONFIG_DATA (any size at 0xcfc-0xcff). */
void pci_host_access(void *dev, struct io_access *a);
void pci_host_save(const struct pci_host *h, struct state_writer *w);
bool pci_host_load(struct pci_host *h, struct state_reader *r);

/* Configuration mechanism #1 as the platform drives it. */
extern const struct device_ops pci_host_device;

#endif
