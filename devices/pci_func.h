/* A PCI function on bus 0 (type 0 header) as the host bridge sees it: configuration space
 * with BAR sizing and moving, the command register's decode enables, a capability list, MSI
 * and MSI-X (table and PBA in a BAR) and INTx. Device models (virtio-pci, test devices) fill
 * in their identity and BARs and get their BAR accesses through one callback. */
#ifndef KEEL_PCI_FUNC_H
#define KEEL_PCI_FUNC_H

#include "bus_range.h"
#include "io_bus.h"
#include "irq.h"
#include "mmio_bus.h"
#include "state.h"

#define PCI_BARS     6
#define PCI_CFG_SIZE 256
#define PCI_MSIX_MAX 64 /* vectors a function may have */

/* Configuration space offsets and bits, as the PCI spec names them. */
#define PCI_VENDOR_ID	   0x00
#define PCI_COMMAND	   0x04
#define PCI_STATUS	   0x06
#define PCI_BAR0	   0x10
#define PCI_CAP_PTR	   0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d
#define PCI_CMD_IO	   BIT(0)
#define PCI_CMD_MEMORY	   BIT(1)
#define PCI_CMD_MASTER	   BIT(2)
#define PCI_CMD_INTX_OFF   BIT(10)
#define PCI_STATUS_INTX	   BIT(3)
#define PCI_STATUS_CAPS	   BIT(4)
#define PCI_CAP_ID_MSI	   0x05
#define PCI_CAP_ID_MSIX	   0x11
#define PCI_CAP_ID_VENDOR  0x09
#define PCI_MSI_ENABLE	   BIT(0)
#define PCI_MSIX_ENABLE	   BIT(15)
#define PCI_MSIX_MASKALL   BIT(14)

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_func;

/* One BAR as placed by the guest: what it is, where it decodes now, its bus node. */
struct pci_bar {
	enum pci_bar_kind kind;
	u64 size; /* a power of two: I/O at least 4, memory at least one page */
	bool prefetch;
	struct pci_func *f;
	unsigned index;
	bool mapped;
	u64 base; /* where it decodes while mapped */
	struct bus_range node;
};

/* Where BARs land: the VM's buses, and a hook that marks guest-physical pages as MMIO in
 * the P2M (false refuses the place: it is not free). */
struct pci_bus_ctx {
	struct io_bus *io;
	struct mmio_bus *mmio;
	bool (*map_mmio)(void *ctx, u64 base, u64 len, bool on);
	void (*msi)(void *ctx, const struct apic_msg *m);  /* an MSI or MSI-X message */
	void (*intx)(void *ctx, unsigned gsi, bool level); /* a shared INTx line's level */
	void *ctx;
	u64 mmio_base, mmio_len; /* the windows BARs may decode in */
	u32 io_base, io_len;
	u8 intx_gsi[4];	  /* GSI of INTA..INTD for slot 0 (slot s, pin p: [(s + p) % 4]) */
	u8 intx_count[4]; /* functions asserting each of the four lines (wired-OR) */
};

struct pci_func_ops {
	/* an access at a->offset inside BAR `bar` (I/O BARs too), outside the MSI-X table and
	 * PBA, which the function itself answers */
	void (*bar_access)(void *ctx, unsigned bar, struct mmio_access *a);
	void *ctx;
	/* configuration bytes [off, off + size) are about to be read, or were written (NULL:
	 * the function's configuration space is plain data) */
	void (*cfg_access)(void *ctx, unsigned off, unsigned size, bool write);
};

struct pci_func {
	u8 cfg[PCI_CFG_SIZE];
	u8 wmask[PCI_CFG_SIZE]; /* bits the guest may change */
	struct pci_bar bar[PCI_BARS];
	struct pci_func_ops ops;
	struct pci_bus_ctx *bus; /* set when plugged into the host */
	unsigned slot;
	u8 cap_end; /* where the next capability goes */
	u8 msi_cap, msix_cap;
	bool msi_pending;
	unsigned msix_n;
	u8 msix_bar;
	u32 msix_table_off, msix_pba_off;
	u32 msix_table[PCI_MSIX_MAX][4];
	u64 msix_pba;
	bool intx;		   /* the function asserts its INTx pin */
	bool intx_out;		   /* ...and it reaches the line (not disabled, no MSI/MSI-X) */
	u64 msi_sent, msi_dropped; /* messages delivered; messages to no interrupt address */
};

/* A function with this identity and INTx pin (1-4 for INTA-INTD, 0 none). */
void pci_func_init(struct pci_func *f, u16 vendor, u16 device, u32 class_rev, u8 pin,
		   const struct pci_func_ops *ops);
/* Declares BAR i (a 64-bit BAR takes i and i + 1); false on a bad size or index. */
bool pci_func_add_bar(struct pci_func *f, unsigned i, enum pci_bar_kind kind, u64 size,
		      bool prefetch);
/* Appends a capability of `len` bytes (its ID and next pointer included) and returns its
 * offset, 0 when the space is full. `wmask` (len bytes or NULL) says what the guest may
 * write in it. */
u8 pci_func_add_cap(struct pci_func *f, u8 id, unsigned len, const u8 *body, const u8 *wmask);
/* An MSI capability (64-bit address, per-vector masking, one vector). */
bool pci_func_add_msi(struct pci_func *f);
/* An MSI-X capability with n vectors whose table and PBA lie in BAR `bar` at the offsets
 * given (8-byte aligned, inside the BAR, not overlapping). */
bool pci_func_add_msix(struct pci_func *f, unsigned n, unsigned bar, u32 table_off, u32 pba_off);

/* The function signals interrupt `vector`: an MSI-X message if MSI-X is on (pending while
 * masked), else an MSI if MSI is on (vector ignored), else its INTx pin is asserted until
 * the model calls pci_func_intx(f, false). */
void pci_func_signal(struct pci_func *f, unsigned vector);
void pci_func_intx(struct pci_func *f, bool level);

/* Configuration space access at `off` (size 1, 2 or 4, not crossing a dword) */
u32 pci_func_cfg_read(struct pci_func *f, unsigned off, unsigned size);
void pci_func_cfg_write(struct pci_func *f, unsigned off, unsigned size, u32 val);

/* Puts the function's BARs where its configuration says (the command register's enables
 * included), taking them off the buses first; after plugging and after a load. */
void pci_func_remap(struct pci_func *f);
/* Takes every BAR off the buses (unplugging). */
void pci_func_unmap(struct pci_func *f);
/* Back to the power-on state: decoding off, BARs at 0, MSI/MSI-X off, vectors masked. */
void pci_func_reset(struct pci_func *f);

/* The generic PCI state (configuration space, MSI-X table and pending bits, INTx level). */
void pci_func_save(const struct pci_func *f, struct state_writer *w);
bool pci_func_load(struct pci_func *f, struct state_reader *r);

/* An MSI address/data pair as the message it is to local APICs; false when the address is
 * not in the APIC window (a memory write, not an interrupt). */
bool pci_msi_decode(u64 addr, u32 data, struct apic_msg *m);

#endif
