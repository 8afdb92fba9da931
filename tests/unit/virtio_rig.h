/* A virtio-pci function behind the PCI host for host tests, driven as Linux's virtio_pci
 * drives it: configuration cycles through 0xcf8/0xcfc, BAR 0 placed at RIG_BAR, MMIO
 * accesses through the bus, MSI-X messages and INTx levels recorded. Queue q's rings lie at
 * RIG_RINGS + q * 0x3000 in the drv's RAM. */
#ifndef KEEL_TEST_VIRTIO_RIG_H
#define KEEL_TEST_VIRTIO_RIG_H

#include "virtq_drv.h"
#include "../../devices/pci_host.h"
#include "../../devices/virtio_pci.h"

#define RIG_BAR	  0xc0000000ULL
#define RIG_SLOT  3
#define RIG_RINGS 0x10000ULL
#define RIG_BUF	  0x28000ULL /* buffers from here to the end of RAM */

struct rig {
	struct drv d;
	struct drv q[VIRTIO_MAX_QUEUES];
	struct pci_host h;
	struct io_bus io;
	struct mmio_bus mmio;
	unsigned msi, last_vector;
	bool line[24]; /* asserted INTx lines by GSI */
};

static inline bool rig_map(void *ctx, u64 base, u64 len, bool on)
{
	(void)ctx, (void)base, (void)len, (void)on;
	return true;
}

static inline void rig_msi(void *ctx, const struct apic_msg *m)
{
	struct rig *r = ctx;
	r->msi++;
	r->last_vector = m->vector;
}

static inline void rig_intx(void *ctx, unsigned gsi, bool level)
{
	struct rig *r = ctx;
	if (gsi < 24)
		r->line[gsi] = level;
}

static inline void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	drv_mem(&r->d);
	pci_host_init(&r->h);
	struct pci_bus_ctx bus = {
	    .io = &r->io,
	    .mmio = &r->mmio,
	    .map_mmio = rig_map,
	    .msi = rig_msi,
	    .intx = rig_intx,
	    .ctx = r,
	    .mmio_base = RIG_BAR,
	    .mmio_len = 0x10000000,
	    .io_base = 0xc000,
	    .io_len = 0x4000,
	    .intx_gsi = {16, 17, 18, 19},
	};
	pci_host_connect(&r->h, &bus);
}

static inline u32 rig_port(struct rig *r, u16 port, u8 size, bool write, u32 v)
{
	struct io_access a = {port, size, write, v};
	pci_host_access(&r->h, &a);
	return a.value;
}

static inline u32 cfg_rd(struct rig *r, unsigned off, u8 size)
{
	rig_port(r, 0xcf8, 4, true, 0x80000000u | RIG_SLOT << 11 | (off & 0xfc));
	return rig_port(r, (u16)(0xcfc + (off & 3)), size, false, 0);
}

static inline void cfg_wr(struct rig *r, unsigned off, u8 size, u32 v)
{
	rig_port(r, 0xcf8, 4, true, 0x80000000u | RIG_SLOT << 11 | (off & 0xfc));
	rig_port(r, (u16)(0xcfc + (off & 3)), size, true, v);
}

static inline u64 mrd(struct rig *r, u64 off, u8 size)
{
	struct mmio_access a = {0, size, false, 0};
	REQUIRE(mmio_bus_access(&r->mmio, RIG_BAR + off, &a));
	return a.value;
}

static inline void mwr(struct rig *r, u64 off, u8 size, u64 v)
{
	struct mmio_access a = {0, size, true, v};
	REQUIRE(mmio_bus_access(&r->mmio, RIG_BAR + off, &a));
}

/* Plugs f and places BAR 0 (64-bit) at RIG_BAR with memory decoding and bus mastering on. */
static inline void rig_plug(struct rig *r, struct pci_func *f)
{
	REQUIRE(pci_host_plug(&r->h, RIG_SLOT, f));
	cfg_wr(r, PCI_BAR0, 4, (u32)RIG_BAR);
	cfg_wr(r, PCI_BAR0 + 4, 4, 0);
	cfg_wr(r, PCI_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_MASTER);
}

/* The offset of the vendor capability of virtio type `type`, 0 if none. */
static inline unsigned rig_find_cap(struct rig *r, u8 type)
{
	for (unsigned at = cfg_rd(r, PCI_CAP_PTR, 1), n = 0; at && n < 48;
	     at = cfg_rd(r, at + 1, 1), n++)
		if (cfg_rd(r, at, 1) == PCI_CAP_ID_VENDOR && cfg_rd(r, at + 3, 1) == type)
			return at;
	return 0;
}

#define CC(x) (VIRTIO_COMMON_OFF + (x))

static inline u8 rig_status(struct rig *r)
{
	return (u8)mrd(r, CC(0x14), 1);
}

/* Linux's virtio_pci_modern bring-up: reset, ACKNOWLEDGE, DRIVER, features (those of
 * `want` the device offers), FEATURES_OK, the queues (size qsize, vector q + 1 with MSI-X),
 * DRIVER_OK. Returns the status read back at the end. */
static inline u8 rig_start(struct rig *r, unsigned nq, u16 qsize, u64 want, bool msix)
{
	mwr(r, CC(0x14), 1, 0);
	mwr(r, CC(0x14), 1, VIRTIO_STATUS_ACKNOWLEDGE);
	mwr(r, CC(0x14), 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	u64 offered = 0;
	for (u32 sel = 0; sel < 2; sel++) {
		mwr(r, CC(0x00), 4, sel);
		offered |= mrd(r, CC(0x04), 4) << (32 * sel);
	}
	u64 f = offered & want;
	for (u32 sel = 0; sel < 2; sel++) {
		mwr(r, CC(0x08), 4, sel);
		mwr(r, CC(0x0c), 4, (u32)(f >> (32 * sel)));
	}
	u8 st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	mwr(r, CC(0x14), 1, st);
	if (!(rig_status(r) & VIRTIO_STATUS_FEATURES_OK))
		return rig_status(r);
	if (msix) {
		unsigned cap = 0;
		for (unsigned at = cfg_rd(r, PCI_CAP_PTR, 1); at; at = cfg_rd(r, at + 1, 1))
			if (cfg_rd(r, at, 1) == PCI_CAP_ID_MSIX)
				cap = at;
		REQUIRE(cap);
		cfg_wr(r, cap + 2, 2, PCI_MSIX_ENABLE);
		for (unsigned v = 0; v <= nq; v++) {
			u64 e = VIRTIO_MSIX_TABLE_OFF + 16 * v;
			mwr(r, e, 4, 0xfee00000u);
			mwr(r, e + 4, 4, 0);
			mwr(r, e + 8, 4, 0x40 + v);
			mwr(r, e + 12, 4, 0); /* unmasked */
		}
		mwr(r, CC(0x10), 2, 0);
	}
	for (unsigned q = 0; q < nq; q++) {
		u64 base = RIG_RINGS + 0x3000ULL * q;
		drv_on(&r->q[q], &r->d, base, qsize);
		mwr(r, CC(0x16), 2, q);
		REQUIRE(mrd(r, CC(0x18), 2) >= qsize);
		REQUIRE(mrd(r, CC(0x1c), 2) == 0);
		mwr(r, CC(0x18), 2, qsize);
		mwr(r, CC(0x20), 4, (u32)base); /* 64-bit fields in two halves, as Linux does */
		mwr(r, CC(0x24), 4, 0);
		mwr(r, CC(0x28), 8, base + 0x1000);
		mwr(r, CC(0x30), 8, base + 0x2000);
		if (msix) {
			mwr(r, CC(0x1a), 2, q + 1);
			REQUIRE(mrd(r, CC(0x1a), 2) == q + 1);
		}
	}
	for (unsigned q = 0; q < nq; q++) {
		mwr(r, CC(0x16), 2, q);
		mwr(r, CC(0x1c), 2, 1);
	}
	mwr(r, CC(0x14), 1, st | VIRTIO_STATUS_DRIVER_OK);
	return rig_status(r);
}

/* The driver's notification of queue q. */
static inline void rig_kick(struct rig *r, unsigned q)
{
	mwr(r, VIRTIO_NOTIFY_OFF + VIRTIO_NOTIFY_MULT * q, 2, q);
}

#endif
