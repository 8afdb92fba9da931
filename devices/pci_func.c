/* A PCI function's configuration space, BAR placement on the buses, capabilities, MSI and
 * MSI-X delivery and INTx. Everything the guest writes goes through the write mask, so a
 * hostile value can only land in bits a real function would let it change. */
#include "pci_func.h"
#include "../hypervisor/lib.h"

static u16 cfg16(const struct pci_func *f, unsigned off)
{
	return (u16)(f->cfg[off] | f->cfg[off + 1] << 8);
}

static u32 cfg32(const struct pci_func *f, unsigned off)
{
	return (u32)cfg16(f, off) | (u32)cfg16(f, off + 2) << 16;
}

static void put16(u8 *p, unsigned off, u16 v)
{
	p[off] = (u8)v;
	p[off + 1] = (u8)(v >> 8);
}

static void put32(u8 *p, unsigned off, u32 v)
{
	put16(p, off, (u16)v);
	put16(p, off + 2, (u16)(v >> 16));
}

void pci_func_init(struct pci_func *f, u16 vendor, u16 device, u32 class_rev, u8 pin,
		   const struct pci_func_ops *ops)
{
	memset(f, 0, sizeof(*f));
	put16(f->cfg, PCI_VENDOR_ID, vendor);
	put16(f->cfg, 0x02, device);
	put32(f->cfg, 0x08, class_rev);
	f->cfg[PCI_INTERRUPT_PIN] = pin <= 4 ? pin : 0;
	put16(f->wmask, PCI_COMMAND,
	      PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;
	f->cap_end = 0x40;
	if (ops)
		f->ops = *ops;
	for (unsigned i = 0; i < PCI_BARS; i++) {
		f->bar[i].f = f;
		f->bar[i].index = i;
	}
}

bool pci_func_add_bar(struct pci_func *f, unsigned i, enum pci_bar_kind kind, u64 size,
		      bool prefetch)
{
	bool wide = kind == PCI_BAR_MEM64;
	u64 min = kind == PCI_BAR_IO ? 4 : PAGE_SIZE;
	u64 max = kind == PCI_BAR_IO ? 256 : wide ? (1ULL << 40) : (1ULL << 31);
	/* a BAR dword with writable bits is taken (the upper half of a 64-bit BAR too) */
	if (i + wide >= PCI_BARS || kind == PCI_BAR_NONE || size < min || size > max ||
	    (size & (size - 1)) || cfg32((const struct pci_func *)f, PCI_BAR0 + 4 * i) ||
	    f->wmask[PCI_BAR0 + 4 * i + 3] || (wide && f->wmask[PCI_BAR0 + 4 * i + 7]))
		return false;
	struct pci_bar *b = &f->bar[i];
	b->kind = kind;
	b->size = size;
	b->prefetch = prefetch;
	unsigned off = PCI_BAR0 + 4 * i;
	u64 mask = ~(size - 1);
	if (kind == PCI_BAR_IO) {
		put32(f->cfg, off, 1);
		put32(f->wmask, off, (u32)mask & ~3u);
		return true;
	}
	put32(f->cfg, off, (wide ? 4u : 0u) | (prefetch ? 8u : 0u));
	put32(f->wmask, off, (u32)mask & ~0xfu);
	if (wide)
		put32(f->wmask, off + 4, (u32)(mask >> 32)); /* the upper half: part of BAR i */
	return true;
}

u8 pci_func_add_cap(struct pci_func *f, u8 id, unsigned len, const u8 *body, const u8 *wmask)
{
	unsigned at = ALIGN_UP(f->cap_end, 4);
	if (len < 2 || at + len > PCI_CFG_SIZE)
		return 0;
	if (body)
		memcpy(&f->cfg[at], body, len);
	if (wmask)
		memcpy(&f->wmask[at], wmask, len);
	f->cfg[at] = id;
	f->wmask[at] = f->wmask[at + 1] = 0;
	/* link it at the end of the list, so the guest walks them in the order added */
	u8 *link = &f->cfg[PCI_CAP_PTR];
	while (*link)
		link = &f->cfg[*link + 1];
	*link = (u8)at;
	f->cfg[at + 1] = 0;
	f->cfg[PCI_STATUS] |= PCI_STATUS_CAPS;
	f->cap_end = (u8)(at + len);
	return (u8)at;
}

/* MSI capability layout (64-bit, per-vector masking): control at 2, address at 4 and 8,
 * data at 12, mask bits at 16, pending bits at 20. */
#define MSI_CTRL    2
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA    12
#define MSI_MASK    16
#define MSI_PENDING 20

bool pci_func_add_msi(struct pci_func *f)
{
	u8 body[24] = {0}, wm[24] = {0};
	put16(body, MSI_CTRL, BIT(7) | BIT(8)); /* 64-bit address, per-vector mask, 1 vector */
	wm[MSI_CTRL] = PCI_MSI_ENABLE;
	put32(wm, MSI_ADDR_LO, 0xfffffffcu);
	put32(wm, MSI_ADDR_HI, 0xffffffffu);
	put16(wm, MSI_DATA, 0xffff);
	wm[MSI_MASK] = 1;
	f->msi_cap = pci_func_add_cap(f, PCI_CAP_ID_MSI, sizeof(body), body, wm);
	return f->msi_cap != 0;
}

bool pci_func_add_msix(struct pci_func *f, unsigned n, unsigned bar, u32 table_off, u32 pba_off)
{
	if (n == 0 || n > PCI_MSIX_MAX || bar >= PCI_BARS || f->bar[bar].kind == PCI_BAR_NONE ||
	    f->bar[bar].kind == PCI_BAR_IO || table_off % 8 || pba_off % 8)
		return false;
	u64 size = f->bar[bar].size, tlen = 16ULL * n, plen = 8;
	if (table_off + tlen > size || pba_off + plen > size ||
	    (table_off < pba_off + plen && pba_off < table_off + tlen))
		return false;
	u8 body[12] = {0}, wm[12] = {0};
	put16(body, 2, (u16)(n - 1));
	wm[3] = (PCI_MSIX_ENABLE | PCI_MSIX_MASKALL) >> 8;
	put32(body, 4, table_off | bar);
	put32(body, 8, pba_off | bar);
	f->msix_cap = pci_func_add_cap(f, PCI_CAP_ID_MSIX, sizeof(body), body, wm);
	if (!f->msix_cap)
		return false;
	f->msix_n = n;
	f->msix_bar = (u8)bar;
	f->msix_table_off = table_off;
	f->msix_pba_off = pba_off;
	for (unsigned i = 0; i < n; i++)
		f->msix_table[i][3] = 1; /* every vector starts masked */
	return true;
}

/* ---- interrupts ---- */

bool pci_msi_decode(u64 addr, u32 data, struct apic_msg *m)
{
	if ((addr >> 20) != 0xfee)
		return false;
	*m = (struct apic_msg){
	    .dest = (u32)(addr >> 12) & 0xff,
	    .logical = (addr >> 2) & 1,
	    .mode = (enum apic_delivery)((data >> 8) & 7),
	    .vector = (u8)data,
	    .level = (data >> 15) & 1,
	};
	return true;
}

static bool msi_on(const struct pci_func *f)
{
	return f->msi_cap && (f->cfg[f->msi_cap + MSI_CTRL] & PCI_MSI_ENABLE);
}

static bool msix_on(const struct pci_func *f)
{
	return f->msix_cap && (cfg16(f, f->msix_cap + 2) & PCI_MSIX_ENABLE);
}

static void send(struct pci_func *f, u64 addr, u32 data)
{
	struct apic_msg m;
	/* a message is a memory write by the function: it needs bus mastering */
	if (!(cfg16(f, PCI_COMMAND) & PCI_CMD_MASTER) || !pci_msi_decode(addr, data, &m) ||
	    !f->bus || !f->bus->msi) {
		f->msi_dropped++;
		return;
	}
	f->msi_sent++;
	f->bus->msi(f->bus->ctx, &m);
}

static void intx_update(struct pci_func *f)
{
	bool out = f->intx && !(cfg16(f, PCI_COMMAND) & PCI_CMD_INTX_OFF) && !msi_on(f) &&
		   !msix_on(f) && f->cfg[PCI_INTERRUPT_PIN];
	if (f->intx)
		f->cfg[PCI_STATUS] |= PCI_STATUS_INTX;
	else
		f->cfg[PCI_STATUS] &= (u8)~PCI_STATUS_INTX;
	if (out == f->intx_out)
		return;
	f->intx_out = out;
	if (!f->bus)
		return;
	unsigned line = (f->slot + f->cfg[PCI_INTERRUPT_PIN] - 1) % 4;
	u8 *count = &f->bus->intx_count[line];
	bool before = *count > 0;
	*count = (u8)(out ? *count + 1 : *count - 1);
	if ((*count > 0) != before && f->bus->intx)
		f->bus->intx(f->bus->ctx, f->bus->intx_gsi[line], *count > 0);
}

void pci_func_intx(struct pci_func *f, bool level)
{
	f->intx = level;
	intx_update(f);
}

static bool msix_masked(const struct pci_func *f, unsigned v)
{
	return (cfg16(f, f->msix_cap + 2) & PCI_MSIX_MASKALL) || (f->msix_table[v][3] & 1);
}

static void msix_send(struct pci_func *f, unsigned v)
{
	const u32 *e = f->msix_table[v];
	send(f, e[0] | (u64)e[1] << 32, e[2]);
}

/* Sends what became deliverable (an unmask, an enable). */
static void flush_pending(struct pci_func *f)
{
	if (msix_on(f)) {
		for (unsigned v = 0; v < f->msix_n; v++)
			if ((f->msix_pba & BIT(v)) && !msix_masked(f, v)) {
				f->msix_pba &= ~BIT(v);
				msix_send(f, v);
			}
	} else if (msi_on(f) && f->msi_pending && !(f->cfg[f->msi_cap + MSI_MASK] & 1)) {
		f->msi_pending = false;
		f->cfg[f->msi_cap + MSI_PENDING] = 0;
		send(f,
		     cfg32(f, f->msi_cap + MSI_ADDR_LO) | (u64)cfg32(f, f->msi_cap + MSI_ADDR_HI)
							      << 32,
		     cfg16(f, f->msi_cap + MSI_DATA));
	}
}

void pci_func_signal(struct pci_func *f, unsigned vector)
{
	if (msix_on(f)) {
		if (vector >= f->msix_n) {
			f->msi_dropped++;
			return;
		}
		f->msix_pba |= BIT(vector);
		flush_pending(f);
	} else if (msi_on(f)) {
		f->msi_pending = true;
		f->cfg[f->msi_cap + MSI_PENDING] = 1;
		flush_pending(f);
	} else {
		pci_func_intx(f, true);
	}
}

/* ---- BARs on the buses ---- */

static u64 bar_addr(const struct pci_func *f, const struct pci_bar *b)
{
	unsigned off = PCI_BAR0 + 4 * b->index;
	if (b->kind == PCI_BAR_IO)
		return cfg32(f, off) & ~3u;
	u64 a = cfg32(f, off) & ~0xfu;
	if (b->kind == PCI_BAR_MEM64)
		a |= (u64)cfg32(f, off + 4) << 32;
	return a;
}

static void msix_access(struct pci_func *f, struct mmio_access *a, u64 off)
{
	unsigned v = (unsigned)(off / 16), dw = (unsigned)(off % 16) / 4;
	/* only naturally aligned dword and qword accesses are defined */
	if ((a->size != 4 && a->size != 8) || off % a->size) {
		if (!a->write)
			a->value = ~0ULL;
		return;
	}
	if (!a->write) {
		a->value = f->msix_table[v][dw];
		if (a->size == 8)
			a->value |= (u64)f->msix_table[v][dw + 1] << 32;
		return;
	}
	for (unsigned i = 0; i < a->size / 4u; i++) {
		u32 val = (u32)(a->value >> (32 * i));
		/* vector control: only the mask bit exists */
		f->msix_table[v][dw + i] = dw + i == 3 ? (val & 1) : val;
	}
	flush_pending(f);
}

static void bar_dispatch(struct pci_bar *b, struct mmio_access *a)
{
	struct pci_func *f = b->f;
	if (f->msix_cap && b->index == f->msix_bar) {
		u64 t = f->msix_table_off, p = f->msix_pba_off;
		if (a->offset >= t && a->offset - t < 16ULL * f->msix_n) {
			msix_access(f, a, a->offset - t);
			return;
		}
		if (a->offset >= p && a->offset - p < 8) {
			if (!a->write)
				a->value = f->msix_pba >> (8 * (a->offset - p));
			return; /* the PBA is read-only */
		}
	}
	if (f->ops.bar_access)
		f->ops.bar_access(f->ops.ctx, b->index, a);
	else if (!a->write)
		a->value = ~0ULL;
}

static void bar_io(void *dev, struct io_access *a)
{
	struct pci_bar *b = dev;
	struct mmio_access m = {a->port - b->node.base, a->size, a->write, a->value};
	bar_dispatch(b, &m);
	a->value = (u32)m.value;
}

static void bar_mmio(void *dev, struct mmio_access *a)
{
	bar_dispatch(dev, a);
}

static void bar_unmap(struct pci_bar *b)
{
	const struct pci_bus_ctx *bus = b->f->bus;
	if (!b->mapped)
		return;
	if (b->kind == PCI_BAR_IO) {
		io_bus_unregister(bus->io, &b->node);
	} else {
		mmio_bus_unregister(bus->mmio, &b->node);
		if (bus->map_mmio)
			bus->map_mmio(bus->ctx, b->base, b->size, false);
	}
	b->mapped = false;
}

static bool inside(u64 base, u64 size, u64 wbase, u64 wlen)
{
	return base >= wbase && size <= wlen && base - wbase <= wlen - size;
}

/* A BAR decodes only inside the host bridge's windows, never over RAM or another device:
 * a guest that sizes with decoding on, or aims a BAR at its RAM, gets no mapping. */
static void bar_map(struct pci_bar *b, u64 base)
{
	const struct pci_bus_ctx *bus = b->f->bus;
	if (b->kind == PCI_BAR_IO) {
		if (inside(base, b->size, bus->io_base, bus->io_len) &&
		    io_bus_register(bus->io, &b->node, (u16)base, (u32)b->size, "pci-bar", bar_io,
				    b))
			b->mapped = true;
	} else if (inside(base, b->size, bus->mmio_base, bus->mmio_len)) {
		if (bus->map_mmio && !bus->map_mmio(bus->ctx, base, b->size, true))
			return;
		if (mmio_bus_register(bus->mmio, &b->node, base, b->size, "pci-bar", bar_mmio, b))
			b->mapped = true;
		else if (bus->map_mmio)
			bus->map_mmio(bus->ctx, base, b->size, false);
	}
	b->base = base;
}

void pci_func_remap(struct pci_func *f)
{
	if (!f->bus)
		return;
	u16 cmd = cfg16(f, PCI_COMMAND);
	for (unsigned i = 0; i < PCI_BARS; i++) {
		struct pci_bar *b = &f->bar[i];
		if (b->kind == PCI_BAR_NONE)
			continue;
		u64 base = bar_addr(f, b);
		bool on = (cmd & (b->kind == PCI_BAR_IO ? PCI_CMD_IO : PCI_CMD_MEMORY)) && base;
		if (b->mapped && (!on || base != b->base))
			bar_unmap(b);
		if (on && !b->mapped)
			bar_map(b, base);
	}
}

void pci_func_unmap(struct pci_func *f)
{
	if (!f->bus)
		return;
	for (unsigned i = 0; i < PCI_BARS; i++)
		bar_unmap(&f->bar[i]);
}

/* ---- configuration space ---- */

u32 pci_func_cfg_read(struct pci_func *f, unsigned off, unsigned size)
{
	u32 v = 0;
	if (f->ops.cfg_access && off < PCI_CFG_SIZE)
		f->ops.cfg_access(f->ops.ctx, off, size, false);
	for (unsigned i = 0; i < size && off + i < PCI_CFG_SIZE; i++)
		v |= (u32)f->cfg[off + i] << (8 * i);
	return v;
}

static bool touches(unsigned off, unsigned size, unsigned at, unsigned len)
{
	return off < at + len && at < off + size;
}

void pci_func_cfg_write(struct pci_func *f, unsigned off, unsigned size, u32 val)
{
	for (unsigned i = 0; i < size && off + i < PCI_CFG_SIZE; i++) {
		u8 m = f->wmask[off + i];
		f->cfg[off + i] = (u8)((f->cfg[off + i] & ~m) | ((val >> (8 * i)) & m));
	}
	if (touches(off, size, PCI_COMMAND, 2) || touches(off, size, PCI_BAR0, 4 * PCI_BARS))
		pci_func_remap(f);
	if (f->ops.cfg_access && off < PCI_CFG_SIZE)
		f->ops.cfg_access(f->ops.ctx, off, size, true);
	intx_update(f);
	flush_pending(f);
}

void pci_func_reset(struct pci_func *f)
{
	pci_func_unmap(f);
	pci_func_intx(f, false);
	/* everything the guest can change starts at zero, every MSI-X vector masked */
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++)
		f->cfg[i] &= (u8)~f->wmask[i];
	if (f->msi_cap)
		f->cfg[f->msi_cap + MSI_PENDING] = 0;
	memset(f->msix_table, 0, sizeof(f->msix_table));
	for (unsigned v = 0; v < f->msix_n; v++)
		f->msix_table[v][3] = 1;
	f->msix_pba = 0;
	f->msi_pending = false;
}

/* ---- save/load ---- */

void pci_func_save(const struct pci_func *f, struct state_writer *w)
{
	state_put_tag(w, "PCIF", 1);
	state_put(w, f->cfg, sizeof(f->cfg));
	state_put(w, f->msix_table, sizeof(f->msix_table));
	state_put(w, &f->msix_pba, sizeof(f->msix_pba));
	u8 flags = (u8)(f->intx | f->msi_pending << 1);
	state_put(w, &flags, 1);
}

bool pci_func_load(struct pci_func *f, struct state_reader *r)
{
	u8 cfg[PCI_CFG_SIZE], flags;
	u32 table[PCI_MSIX_MAX][4];
	u64 pba;
	if (!state_get_tag(r, "PCIF", 1) || !state_get(r, cfg, sizeof(cfg)) ||
	    !state_get(r, table, sizeof(table)) || !state_get(r, &pba, sizeof(pba)) ||
	    !state_get(r, &flags, 1) || flags > 3)
		return false;
	/* read-only bits must be this function's own: identity, BAR kinds, capabilities;
	 * the INTx status and MSI pending bits follow the flags */
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++) {
		u8 ro = (u8)~f->wmask[i];
		if (i == PCI_STATUS)
			ro &= (u8)~PCI_STATUS_INTX;
		if (f->msi_cap && i == f->msi_cap + (unsigned)MSI_PENDING)
			ro = 0xfe;
		if ((cfg[i] ^ f->cfg[i]) & ro)
			return false;
	}
	for (unsigned v = 0; v < PCI_MSIX_MAX; v++)
		if ((v >= f->msix_n && (table[v][0] | table[v][1] | table[v][2] | table[v][3])) ||
		    (table[v][3] & ~1u))
			return false;
	if (f->msix_n < 64 && (pba >> f->msix_n))
		return false;
	memcpy(f->cfg, cfg, sizeof(cfg));
	memcpy(f->msix_table, table, sizeof(table));
	f->msix_pba = pba;
	f->msi_pending = flags & 2;
	pci_func_remap(f);
	pci_func_intx(f, flags & 1);
	return true;
}
