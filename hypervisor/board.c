/* Deriving a VM's P2M, e820 map and port owners from its board table, and checking that
 * the table does not contradict itself. */
#include "board.h"
#include "lib.h"
#include "../guests/loader/linux.h"

static u64 region_end(const struct board_region *r, u64 mem_bytes)
{
	return r->len == BOARD_TO_END ? mem_bytes : r->base + r->len;
}

const char *board_build_memory(const struct board *b, struct p2m *p2m, u64 mem_bytes, bool lazy)
{
	for (unsigned i = 0; i < b->nmem; i++) {
		const struct board_region *r = &b->mem[i];
		u64 end = region_end(r, mem_bytes);
		if (r->kind == BOARD_UNMAPPED || end <= r->base)
			continue;
		/* regions finer than a page (the EBDA) share their boundary page */
		u64 first = r->base >> PAGE_SHIFT, last = (end + PAGE_SIZE - 1) >> PAGE_SHIFT;
		if (p2m_lookup(p2m, first, NULL) != P2M_NONE)
			first++;
		if (first >= last)
			continue;
		if (lazy && r->kind != BOARD_ROM) {
			if (!p2m_populate_lazy(p2m, first, last - first))
				return "out of memory for the P2M";
		} else if (!p2m_populate_as(p2m, first, last - first,
					    r->kind == BOARD_ROM ? P2M_ROM : P2M_RAM)) {
			return "not enough machine memory for the guest";
		}
	}
	for (unsigned i = 0; i < b->ndev; i++) {
		const struct board_device *d = &b->dev[i];
		for (u64 a = d->mmio_base; a < d->mmio_base + d->mmio_len; a += PAGE_SIZE)
			if (!p2m_set(p2m, a >> PAGE_SHIFT, 0, P2M_MMIO))
				return "out of memory for the P2M";
	}
	return NULL;
}

unsigned board_e820(const struct board *b, u64 mem_bytes, struct linux_e820 *map, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < b->nmem; i++) {
		const struct board_region *r = &b->mem[i];
		u64 end = region_end(r, mem_bytes);
		if (!r->e820)
			continue;
		if (n == max || end <= r->base)
			return 0;
		map[n++] = (struct linux_e820){r->base, end - r->base, r->e820};
	}
	return n;
}

const struct board_device *board_port_device(const struct board *b, u16 port)
{
	for (unsigned i = 0; i < b->ndev; i++)
		for (unsigned j = 0; j < BOARD_DEV_PORTS; j++) {
			const struct board_ports *p = &b->dev[i].ports[j];
			if (port >= p->base && port - p->base < p->len)
				return &b->dev[i];
		}
	return NULL;
}

static bool overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

const char *board_check(const struct board *b)
{
	/* a region running to the end of memory is checked as reaching the PCI window */
	for (unsigned i = 0; i < b->nmem; i++) {
		const struct board_region *r = &b->mem[i];
		u64 len = r->len ? r->len : b->pci_mmio_base - r->base;
		for (unsigned j = i + 1; j < b->nmem; j++) {
			const struct board_region *s = &b->mem[j];
			if (overlap(r->base, len, s->base, s->len ? s->len : 1))
				return "two memory regions overlap";
		}
		if (overlap(r->base, len, b->pci_mmio_base, b->pci_mmio_len))
			return "a memory region overlaps the PCI window";
		for (unsigned j = 0; j < b->ndev; j++)
			if (overlap(r->base, len, b->dev[j].mmio_base, b->dev[j].mmio_len))
				return "a device window overlaps a memory region";
	}
	for (unsigned i = 0; i < b->ndev; i++) {
		const struct board_device *d = &b->dev[i];
		if (overlap(d->mmio_base, d->mmio_len, b->pci_mmio_base, b->pci_mmio_len))
			return "a device window overlaps the PCI window";
		for (unsigned k = 0; k < BOARD_DEV_PORTS; k++)
			if (overlap(d->ports[k].base, d->ports[k].len, b->pci_io_base,
				    b->pci_io_len))
				return "a port range overlaps the PCI I/O window";
		for (unsigned j = i + 1; j < b->ndev; j++) {
			const struct board_device *e = &b->dev[j];
			if (overlap(d->mmio_base, d->mmio_len, e->mmio_base, e->mmio_len))
				return "two device windows overlap";
			for (unsigned k = 0; k < BOARD_DEV_PORTS; k++)
				for (unsigned l = 0; l < BOARD_DEV_PORTS; l++)
					if (overlap(d->ports[k].base, d->ports[k].len,
						    e->ports[l].base, e->ports[l].len))
						return "two port ranges overlap";
		}
	}
	return NULL;
}
