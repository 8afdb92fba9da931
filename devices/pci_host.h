/* PCI host bridge with configuration mechanism #1 (CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at
 * 0xcfc-0xcff). Bus 0 holds the host bridge itself at 00:00.0 and the functions plugged into
 * slots 1-31 (function 0 each); everything else reads as absent (all ones). */
#ifndef KEEL_PCI_HOST_H
#define KEEL_PCI_HOST_H

#include "io_bus.h"
#include "state.h"
#include "device.h"
#include "pci_func.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA	   0xcfc

#define PCI_SLOTS 32

struct pci_host {
	u32 address;			  /* CONFIG_ADDRESS as last written */
	u8 bridge[256];			  /* the host bridge's configuration space */
	struct pci_func *slot[PCI_SLOTS]; /* slot 0 is the bridge itself */
	struct pci_bus_ctx bus;		  /* where the functions' BARs and interrupts go */
};

void pci_host_init(struct pci_host *h);
/* The VM's buses, P2M hook, interrupt routes and BAR windows for the functions. */
void pci_host_connect(struct pci_host *h, const struct pci_bus_ctx *bus);
/* Plugs f into `slot` (1-31); false if taken or out of range. Its BARs start unmapped. */
bool pci_host_plug(struct pci_host *h, unsigned slot, struct pci_func *f);
/* For CONFIG_ADDRESS (a dword at 0xcf8; byte accesses there are not PCI's: 0xcf9 is the
 * reset register) and CONFIG_DATA (any size at 0xcfc-0xcff). */
void pci_host_access(void *dev, struct io_access *a);
/* The bridge and, slot by slot, every plugged function's PCI state. Load needs the same
 * functions in the same slots. */
void pci_host_save(const struct pci_host *h, struct state_writer *w);
bool pci_host_load(struct pci_host *h, struct state_reader *r);

/* Configuration mechanism #1 as the platform drives it. */
extern const struct device_ops pci_host_device;

#endif
