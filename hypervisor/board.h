/* The board of a VM type: its whole guest-physical map (RAM, ROM, device windows, ranges
 * that must stay unmapped), its port map and the device models it carries, in one table.
 * The P2M, the e820 map, the ACPI addresses and the bus ranges are derived from it. */
#ifndef KEEL_BOARD_H
#define KEEL_BOARD_H

#include "types.h"
#include "../devices/device.h"
#include "../mm/p2m.h"

enum board_region_kind {
	BOARD_RAM,	/* populated with the VM's frames */
	BOARD_ROM,	/* populated read-only (firmware tables) */
	BOARD_UNMAPPED, /* never given a frame: accesses exit (a hole, Keel's own use) */
};

/* len BOARD_TO_END: the region runs up to the VM's memory size. */
#define BOARD_TO_END 0

struct board_region {
	u64 base, len;
	enum board_region_kind kind;
	u32 e820; /* the type a Linux guest's e820 map shows, 0: not listed */
	const char *name;
};

#define BOARD_DEV_PORTS 3

struct board_ports {
	u16 base, len;
};

struct vm_config;

/* One device model of the board: which model (its interface), where its instance lives in
 * struct vm, the port ranges and MMIO window it answers (len 0: none). */
struct board_device {
	const struct device_ops *ops;
	size_t offset;
	struct board_ports ports[BOARD_DEV_PORTS];
	u64 mmio_base, mmio_len;
	bool timer; /* an access to its ports may move a timer deadline */
	/* NULL: every VM has it; else whether the VM's config asks for it (a disk, a printer):
	 * an absent device is off the buses and out of the platform's device list */
	bool (*present)(const struct vm_config *cfg);
};

struct board {
	const char *name;
	const struct board_region *mem;
	unsigned nmem;
	const struct board_device *dev;
	unsigned ndev;
	/* where a guest may place PCI BARs (the host bridge's windows in the DSDT) */
	u64 pci_mmio_base, pci_mmio_len;
	u16 pci_io_base, pci_io_len;
	u8 pci_intx_gsi[4]; /* IOAPIC pins of INTA..INTD (slot s, pin p: [(s + p) % 4]) */
};

/* The PC of Keel's VMs (docs/guest-abi.md). */
extern const struct board board_pc;

/* Populates the P2M from the map (RAM, ROM) and marks every device window P2M_MMIO so its
 * accesses exit; NULL or what failed. `lazy`: RAM gets its frames on first touch
 * (p2m_populate_lazy); ROM is filled at once either way. */
const char *board_build_memory(const struct board *b, struct p2m *p2m, u64 mem_bytes, bool lazy);

struct linux_e820;
/* The e820 map of a VM of mem_bytes: the listed regions in address order; 0 if max is too
 * small or the memory ends before the region that runs to its end. */
unsigned board_e820(const struct board *b, u64 mem_bytes, struct linux_e820 *map, unsigned max);

/* The board device whose port ranges hold `port`, or NULL. */
const struct board_device *board_port_device(const struct board *b, u16 port);

/* The first overlap inside the board (two regions, two windows, two port ranges, a
 * window over a region, a PCI window over either) as a sentence, NULL when it has none. */
const char *board_check(const struct board *b);

#endif
