/* Configuration mechanism #1 and an i440FX-like host bridge at 00:00.0. */
#include "pci_host.h"
#include "../hypervisor/lib.h"

#define ADDR_ENABLE BIT(31)

void pci_host_init(struct pci_host *h)
{
	memset(h, 0, sizeof(*h));
	u8 *c = h->bridge;
	c[0x00] = 0x86; /* vendor Intel */
	c[0x01] = 0x80;
	c[0x02] = 0x37; /* 440FX host bridge: what guests expect of a plain PC */
	c[0x03] = 0x12;
	c[0x04] = 0x06; /* command: memory and bus master */
	c[0x06] = 0x00; /* status */
	c[0x08] = 0x02; /* revision */
	c[0x0a] = 0x00; /* subclass: host bridge */
	c[0x0b] = 0x06; /* class: bridge */
	c[0x0e] = 0x00; /* header type 0, single function */
}

/* Which bytes of the bridge's config space a guest may change: the command register only
 * (everything else is read-only for a host bridge without BARs). */
static bool writable(unsigned off)
{
	return off == 0x04 || off == 0x05;
}

void pci_host_connect(struct pci_host *h, const struct pci_bus_ctx *bus)
{
	h->bus = *bus;
}

bool pci_host_plug(struct pci_host *h, unsigned slot, struct pci_func *f)
{
	if (slot == 0 || slot >= PCI_SLOTS || h->slot[slot])
		return false;
	h->slot[slot] = f;
	f->slot = slot;
	f->bus = &h->bus;
	u8 pin = f->cfg[PCI_INTERRUPT_PIN];
	if (pin) {
		unsigned line = (slot + pin - 1) % 4;
		/* what firmware writes there; the line idles deasserted from now on */
		f->cfg[PCI_INTERRUPT_LINE] = h->bus.intx_gsi[line];
		if (h->bus.intx)
			h->bus.intx(h->bus.ctx, h->bus.intx_gsi[line], h->bus.intx_count[line] > 0);
	}
	pci_func_remap(f);
	return true;
}

static void config_data(struct pci_host *h, struct io_access *a)
{
	u32 addr = h->address;
	unsigned bus = (addr >> 16) & 0xff, dev = (addr >> 11) & 0x1f, fn = (addr >> 8) & 7;
	unsigned off = (addr & 0xfc) + (a->port & 3);
	bool bridge = (addr & ADDR_ENABLE) && bus == 0 && dev == 0 && fn == 0;
	struct pci_func *f =
	    (addr & ADDR_ENABLE) && bus == 0 && dev && fn == 0 ? h->slot[dev] : NULL;
	if (f) {
		/* a wide access at 0xcfd-0xcff would run past the dword: those bytes are absent */
		unsigned n = MIN(a->size, 4 - (a->port & 3));
		if (a->write) {
			pci_func_cfg_write(f, off, n, a->value);
		} else {
			u32 v = pci_func_cfg_read(f, off, n);
			a->value =
			    n == 4 ? v : (v | (io_size_mask(a->size) & ~io_size_mask((u8)n)));
		}
		return;
	}
	if (!a->write) {
		u32 v = 0;
		for (unsigned i = 0; i < a->size; i++) {
			u8 b = 0xff;
			if (bridge && off + i < sizeof(h->bridge))
				b = h->bridge[off + i];
			v |= (u32)b << (8 * i);
		}
		a->value = (addr & ADDR_ENABLE) ? v : io_size_mask(a->size);
		return;
	}
	if (!bridge)
		return;
	for (unsigned i = 0; i < a->size && off + i < sizeof(h->bridge); i++)
		if (writable(off + i))
			h->bridge[off + i] = (u8)(a->value >> (8 * i));
}

void pci_host_access(void *dev, struct io_access *a)
{
	struct pci_host *h = dev;
	if (a->port >= PCI_CONFIG_DATA && a->port < PCI_CONFIG_DATA + 4) {
		config_data(h, a);
		return;
	}
	/* CONFIG_ADDRESS takes only dword accesses; bits 1:0 read as zero */
	if (a->port != PCI_CONFIG_ADDRESS || a->size != 4) {
		if (!a->write)
			a->value = io_size_mask(a->size);
		return;
	}
	if (a->write)
		h->address = a->value & 0xfffffffcu & ~(0x7fu << 24);
	else
		a->value = h->address;
}

#define PCIH_VERSION 2
#define SLOTS_END    0xff

void pci_host_save(const struct pci_host *h, struct state_writer *w)
{
	state_put_tag(w, "PCIH", PCIH_VERSION);
	state_put(w, &h->address, sizeof(h->address));
	state_put(w, h->bridge, sizeof(h->bridge));
	for (u8 s = 1; s < PCI_SLOTS; s++)
		if (h->slot[s]) {
			state_put(w, &s, 1);
			pci_func_save(h->slot[s], w);
		}
	u8 end = SLOTS_END;
	state_put(w, &end, 1);
}

bool pci_host_load(struct pci_host *h, struct state_reader *r)
{
	u32 address;
	u8 bridge[sizeof(h->bridge)];
	if (!state_get_tag(r, "PCIH", PCIH_VERSION) || !state_get(r, &address, sizeof(address)) ||
	    !state_get(r, bridge, sizeof(bridge)))
		return false;
	/* the bridge's read-only bytes are this model's own */
	for (unsigned i = 0; i < sizeof(bridge); i++)
		if (!writable(i) && bridge[i] != h->bridge[i])
			return false;
	for (u8 s = 1; s <= PCI_SLOTS; s++) {
		if (s < PCI_SLOTS && !h->slot[s])
			continue;
		u8 got;
		if (!state_get(r, &got, 1) || got != (s < PCI_SLOTS ? s : SLOTS_END))
			return false;
		if (s < PCI_SLOTS && !pci_func_load(h->slot[s], r))
			return false;
	}
	h->address = address & 0xfffffffcu & ~(0x7fu << 24);
	memcpy(h->bridge, bridge, sizeof(bridge));
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	struct pci_host *h = dev;
	h->address = 0;
	h->bridge[0x04] = 0x06;
	h->bridge[0x05] = 0;
	for (unsigned s = 1; s < PCI_SLOTS; s++)
		if (h->slot[s])
			pci_func_reset(h->slot[s]);
}

static void dev_save(void *dev, struct state_writer *w)
{
	pci_host_save(dev, w);
}

static bool dev_load(void *dev, struct state_reader *r)
{
	return pci_host_load(dev, r);
}

const struct device_ops pci_host_device = {
    .name = "pci",
    .reset = dev_reset,
    .port = pci_host_access,
    .save = dev_save,
    .load = dev_load,
};
