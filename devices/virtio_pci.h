/* The virtio 1.x PCI transport (modern only): a PCI function with one 64-bit memory BAR
 * holding the common configuration, ISR, device configuration and notification windows and
 * the MSI-X table, described by vendor capabilities (and the PCI configuration access
 * capability). Feature negotiation, the device status machine, reset, interrupts (MSI-X per
 * queue, or INTx with the ISR) and save/load; the device models (virtio_blk.c,
 * virtio_console.c) supply their configuration bytes and their queue handlers. */
#ifndef KEEL_VIRTIO_PCI_H
#define KEEL_VIRTIO_PCI_H

#include "pci_func.h"
#include "virtqueue.h"

#define VIRTIO_PCI_VENDOR  0x1af4
#define VIRTIO_PCI_DEVICE0 0x1040 /* + the virtio device ID: non-transitional */
#define VIRTIO_ID_BLOCK	   2
#define VIRTIO_ID_CONSOLE  3

#define VIRTIO_MAX_QUEUES 8
#define VIRTIO_NO_VECTOR  0xffff
#define VIRTIO_CFG_MAX	  64 /* bytes of device configuration */

/* device_status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE BIT(0)
#define VIRTIO_STATUS_DRIVER	  BIT(1)
#define VIRTIO_STATUS_DRIVER_OK	  BIT(2)
#define VIRTIO_STATUS_FEATURES_OK BIT(3)
#define VIRTIO_STATUS_NEEDS_RESET BIT(6)
#define VIRTIO_STATUS_FAILED	  BIT(7)

/* transport features the device offers with its own */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_VERSION_1     32

/* ISR bits */
#define VIRTIO_ISR_QUEUE  BIT(0)
#define VIRTIO_ISR_CONFIG BIT(1)

/* Where the windows lie in BAR 0. */
#define VIRTIO_BAR	      0
#define VIRTIO_BAR_SIZE	      0x8000
#define VIRTIO_COMMON_OFF     0x0000
#define VIRTIO_COMMON_LEN     0x38
#define VIRTIO_ISR_OFF	      0x1000
#define VIRTIO_DEVCFG_OFF     0x2000
#define VIRTIO_NOTIFY_OFF     0x3000
#define VIRTIO_NOTIFY_MULT    4
#define VIRTIO_MSIX_TABLE_OFF 0x4000
#define VIRTIO_MSIX_PBA_OFF   0x5000

/* virtio_pci_cap cfg_type */
#define VIRTIO_PCI_CAP_COMMON 1
#define VIRTIO_PCI_CAP_NOTIFY 2
#define VIRTIO_PCI_CAP_ISR    3
#define VIRTIO_PCI_CAP_DEVICE 4
#define VIRTIO_PCI_CAP_PCICFG 5

struct virtio_pci;

/* What a device model gives the transport. */
struct virtio_dev_ops {
	/* its configuration bytes as the driver reads them now (len at most VIRTIO_CFG_MAX) */
	void (*config)(struct virtio_pci *vp, u8 *cfg);
	/* a driver write to its configuration (NULL: read-only) */
	void (*config_write)(struct virtio_pci *vp, unsigned off, unsigned size, u64 val);
	/* queue q has new buffers (the driver's notification, or DRIVER_OK) */
	void (*notify)(struct virtio_pci *vp, unsigned q);
	/* the device's own state back to power-on (the transport resets the queues) */
	void (*reset)(struct virtio_pci *vp);
};

struct virtio_pci {
	struct pci_func f;
	struct p2m *p2m; /* the VM's memory, where the queues and buffers lie */
	const struct virtio_dev_ops *ops;
	u64 features; /* offered: the device's and the transport's */
	unsigned cfg_len, nqueues, nvec;
	u16 qmax;
	u8 pcicfg_cap; /* offset of the PCI configuration access capability */
	/* the driver's side */
	u32 dfselect, gfselect;
	u64 guest_features;
	u16 queue_select, msix_config;
	u8 status, isr;
	struct virtq q[VIRTIO_MAX_QUEUES];
	const char *broken; /* why the device needs a reset (NULL: it does not) */
	/* told once per break, for the VM's log (NULL: nobody); set after init */
	void (*on_break)(void *ctx, const char *why);
	void *break_ctx;
	u64 interrupts; /* interrupts raised, for the shell and tests */
};

/* A device with virtio ID `id`, PCI class `class_code` (class << 16 | subclass << 8),
 * `nqueues` queues of up to `qmax` entries, its own features, `cfg_len` bytes of
 * configuration. MSI-X has one vector per queue plus the configuration's. */
bool virtio_pci_init(struct virtio_pci *vp, struct p2m *p2m, u16 id, u32 class_code, u64 features,
		     unsigned cfg_len, unsigned nqueues, u16 qmax,
		     const struct virtio_dev_ops *ops);

/* Whether the driver accepted feature bit `bit`. */
static inline bool virtio_has(const struct virtio_pci *vp, unsigned bit)
{
	return (vp->guest_features >> bit) & 1;
}

/* Whether the device is live (DRIVER_OK, not broken): only then are queues processed. */
bool virtio_pci_live(const struct virtio_pci *vp);

/* After pushing to queue q: the interrupt, unless the driver suppressed it. */
void virtio_pci_queue_interrupt(struct virtio_pci *vp, unsigned q);
/* Drains queue qi (at most `max` chains through fn, see virtq_drain), breaks the device if
 * the guest broke the queue, and interrupts for the chains given back. */
void virtio_pci_drain(struct virtio_pci *vp, unsigned qi, struct virtq_chain *c, unsigned max,
		      virtq_handler *fn, void *ctx);
/* The configuration changed (or the device broke): the configuration interrupt. */
void virtio_pci_config_interrupt(struct virtio_pci *vp);
/* The guest broke the device's rules: DEVICE_NEEDS_RESET and a configuration interrupt; the
 * device takes no more buffers until the driver resets it. */
void virtio_pci_break(struct virtio_pci *vp, const char *why);

/* Status 0: queues, features and interrupts back to the power-on state. */
void virtio_pci_reset(struct virtio_pci *vp);
/* The transport and queue state (the PCI state is the host bridge's to save). */
void virtio_pci_save(const struct virtio_pci *vp, struct state_writer *w);
bool virtio_pci_load(struct virtio_pci *vp, struct state_reader *r);

#endif
