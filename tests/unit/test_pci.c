/* Tests of PCI functions behind the host bridge (devices/pci_func.c, pci_host.c), driven
 * through configuration mechanism #1 as Linux drives it: enumeration, BAR sizing and moving
 * with the buses following, the capability list, MSI and MSI-X arriving at a local APIC
 * with the programmed vector, INTx through the IOAPIC (level, shared), save/load, and a
 * hostile guest writing garbage everywhere. The device is a small test model. */
#include "test.h"
#include "apic_env.h"
#include "../../devices/pci_host.h"

#define WIN_BASE 0xc0000000ULL
#define WIN_LEN	 0x3ec00000ULL
#define RAM_END	 0x4000000ULL

/* The test device: registers in BAR0 (memory), BAR1 (I/O) and BAR2 (64-bit memory, which
 * also holds the MSI-X table at 0 and the PBA at 0x800). A write to register 4 signals the
 * interrupt whose number it writes. */
struct tdev {
	struct pci_func f;
	u32 regs[3][16];
	unsigned accesses;
};

static void tdev_bar(void *ctx, unsigned bar, struct mmio_access *a)
{
	struct tdev *d = ctx;
	unsigned r = (unsigned)(a->offset / 4) % 16;
	unsigned b = bar == 0 ? 0 : bar == 1 ? 1 : 2;
	d->accesses++;
	if (!a->write) {
		a->value = d->regs[b][r];
		return;
	}
	d->regs[b][r] = (u32)a->value;
	if (r == 4)
		pci_func_signal(&d->f, (unsigned)a->value);
}

static void tdev_init(struct tdev *d)
{
	memset(d, 0, sizeof(*d));
	struct pci_func_ops ops = {.bar_access = tdev_bar, .ctx = d};
	pci_func_init(&d->f, 0x1af4, 0x10ff, 0x00ff0001, 1, &ops);
	REQUIRE(pci_func_add_bar(&d->f, 0, PCI_BAR_MEM32, 0x1000, false));
	REQUIRE(pci_func_add_bar(&d->f, 1, PCI_BAR_IO, 0x20, false));
	REQUIRE(pci_func_add_bar(&d->f, 2, PCI_BAR_MEM64, 0x4000, true));
	REQUIRE(pci_func_add_msi(&d->f));
	REQUIRE(pci_func_add_msix(&d->f, 4, 2, 0, 0x800));
}

struct env {
	struct apic_env apic;
	struct ioapic io;
	struct pci_host h;
	struct io_bus iob;
	struct mmio_bus mmb;
	u64 mmio_pages;	  /* pages the P2M hook has marked */
	unsigned refused; /* placements the hook refused */
	struct tdev d[2];
};

static bool env_map(void *ctx, u64 base, u64 len, bool on)
{
	struct env *e = ctx;
	if (on && base < RAM_END) {
		e->refused++;
		return false;
	}
	e->mmio_pages = on ? e->mmio_pages + len / PAGE_SIZE : e->mmio_pages - len / PAGE_SIZE;
	return true;
}

static void env_msi(void *ctx, const struct apic_msg *m)
{
	struct env *e = ctx;
	if (lapic_matches(&e->apic.l, m))
		lapic_accept(&e->apic.l, m);
}

static void env_intx(void *ctx, unsigned gsi, bool level)
{
	struct env *e = ctx;
	ioapic_set_irq(&e->io, gsi, !level); /* active low */
}

static bool io_deliver(void *ctx, const struct apic_msg *m)
{
	struct env *e = ctx;
	return lapic_matches(&e->apic.l, m) && lapic_accept(&e->apic.l, m);
}

static struct env *env_new(void)
{
	struct env *e = test_alloc(sizeof(*e));
	env_init(&e->apic, 0);
	e->apic.io = &e->io;
	wr(&e->apic, APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
	ioapic_init(&e->io, 0, io_deliver, e);
	pci_host_init(&e->h);
	struct pci_bus_ctx bus = {
	    .io = &e->iob,
	    .mmio = &e->mmb,
	    .map_mmio = env_map,
	    .msi = env_msi,
	    .intx = env_intx,
	    .ctx = e,
	    .mmio_base = WIN_BASE,
	    .mmio_len = WIN_LEN,
	    .io_base = 0xc000,
	    .io_len = 0x4000,
	    .intx_gsi = {16, 17, 18, 19},
	};
	pci_host_connect(&e->h, &bus);
	tdev_init(&e->d[0]);
	tdev_init(&e->d[1]);
	REQUIRE(pci_host_plug(&e->h, 3, &e->d[0].f));
	return e;
}

static u32 port_io(struct env *e, u16 port, u8 size, bool write, u32 v)
{
	struct io_access a = {port, size, write, v};
	pci_host_access(&e->h, &a);
	return a.value;
}

static u32 cfg_rd(struct env *e, unsigned slot, unsigned off, u8 size)
{
	port_io(e, 0xcf8, 4, true, 0x80000000u | slot << 11 | (off & 0xfc));
	return port_io(e, (u16)(0xcfc + (off & 3)), size, false, 0);
}

static void cfg_wr(struct env *e, unsigned slot, unsigned off, u8 size, u32 v)
{
	port_io(e, 0xcf8, 4, true, 0x80000000u | slot << 11 | (off & 0xfc));
	port_io(e, (u16)(0xcfc + (off & 3)), size, true, v);
}

static u64 mem_rw(struct env *e, u64 gpa, u8 size, bool write, u64 v, bool *claimed)
{
	struct mmio_access a = {0, size, write, v};
	bool c = mmio_bus_access(&e->mmb, gpa, &a);
	if (claimed)
		*claimed = c;
	return a.value;
}

static u32 io_rw(struct env *e, u16 port, u8 size, bool write, u32 v, bool *claimed)
{
	struct io_access a = {port, size, write, v};
	bool c = io_bus_access(&e->iob, &a);
	if (claimed)
		*claimed = c;
	return a.value;
}

/* Linux's __pci_read_base: decode off, write all ones, read the mask, restore. */
static u32 size_bar(struct env *e, unsigned slot, unsigned bar)
{
	unsigned off = PCI_BAR0 + 4 * bar;
	u16 cmd = (u16)cfg_rd(e, slot, PCI_COMMAND, 2);
	cfg_wr(e, slot, PCI_COMMAND, 2, cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY));
	u32 orig = cfg_rd(e, slot, off, 4);
	cfg_wr(e, slot, off, 4, 0xffffffff);
	u32 mask = cfg_rd(e, slot, off, 4);
	cfg_wr(e, slot, off, 4, orig);
	cfg_wr(e, slot, PCI_COMMAND, 2, cmd);
	return mask;
}

/* Places BAR0 at m0, BAR1 at port io1, BAR2 at m2 and turns decoding and mastering on. */
static void place(struct env *e, unsigned slot, u32 m0, u16 io1, u64 m2)
{
	cfg_wr(e, slot, PCI_BAR0, 4, m0);
	cfg_wr(e, slot, PCI_BAR0 + 4, 4, io1);
	cfg_wr(e, slot, PCI_BAR0 + 8, 4, (u32)m2);
	cfg_wr(e, slot, PCI_BAR0 + 12, 4, (u32)(m2 >> 32));
	cfg_wr(e, slot, PCI_COMMAND, 2, PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER);
}

TEST(pci_enumeration_sees_the_function_and_absent_slots)
{
	struct env *e = env_new();
	CHECK_EQ(cfg_rd(e, 3, 0, 4), 0x10ff1af4);
	CHECK_EQ(cfg_rd(e, 3, 0x08, 4), 0x00ff0001);
	CHECK_EQ(cfg_rd(e, 3, 0x0e, 1), 0); /* header type 0 */
	CHECK_EQ(cfg_rd(e, 3, PCI_INTERRUPT_PIN, 1), 1);
	/* the host put its GSI in the interrupt line, as firmware would */
	CHECK_EQ(cfg_rd(e, 3, PCI_INTERRUPT_LINE, 1), 19); /* slot 3, INTA: [(3 + 0) % 4] */
	CHECK_EQ(cfg_rd(e, 4, 0, 4), 0xffffffffu);
	port_io(e, 0xcf8, 4, true, 0x80000000u | 3 << 11 | 1 << 8); /* function 1 */
	CHECK_EQ(port_io(e, 0xcfc, 4, false, 0), 0xffffffffu);
	CHECK_EQ(cfg_rd(e, 0, 0, 4), 0x12378086); /* the bridge is still there */
	CHECK(!pci_host_plug(&e->h, 3, &e->d[1].f));
	CHECK(!pci_host_plug(&e->h, 0, &e->d[1].f));
	CHECK(!pci_host_plug(&e->h, 32, &e->d[1].f));
}

TEST(pci_bar_sizing_reads_the_size_mask)
{
	struct env *e = env_new();
	CHECK_EQ(size_bar(e, 3, 0), 0xfffff000u);
	CHECK_EQ(size_bar(e, 3, 1), 0xffffffe1u);
	CHECK_EQ(size_bar(e, 3, 2), 0xffffc00cu); /* 64-bit, prefetchable */
	CHECK_EQ(size_bar(e, 3, 3), 0xffffffffu); /* its upper half */
	CHECK_EQ(size_bar(e, 3, 4), 0);		  /* no BAR */
	CHECK_EQ(size_bar(e, 3, 5), 0);
	/* restored: nothing decodes, nothing was marked */
	CHECK_EQ(cfg_rd(e, 3, PCI_BAR0, 4), 0);
	CHECK_EQ(e->mmio_pages, 0);
	/* sizing with decoding left on maps nothing either: all ones is outside the window */
	cfg_wr(e, 3, PCI_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_IO);
	cfg_wr(e, 3, PCI_BAR0, 4, 0xffffffff);
	CHECK_EQ(e->mmio_pages, 0);
	CHECK(!e->d[0].f.bar[0].mapped);
}

TEST(pci_bars_move_and_the_buses_follow)
{
	struct env *e = env_new();
	place(e, 3, 0xc0001000, 0xc040, 0xc0010000);
	CHECK_EQ(e->mmio_pages, 1 + 4);
	bool claimed;
	mem_rw(e, 0xc0001008, 4, true, 0x1234, &claimed);
	CHECK(claimed);
	CHECK_EQ(e->d[0].regs[0][2], 0x1234);
	io_rw(e, 0xc044, 2, true, 0xbeef, &claimed);
	CHECK(claimed);
	CHECK_EQ(e->d[0].regs[1][1], 0xbeef);
	mem_rw(e, 0xc0010000 + 0x1000 + 0x20, 4, true, 7, &claimed);
	CHECK_EQ(e->d[0].regs[2][8], 7);
	/* moving BAR0: the old place is unclaimed, the new one answers */
	cfg_wr(e, 3, PCI_BAR0, 4, 0xc0003000);
	mem_rw(e, 0xc0001008, 4, false, 0, &claimed);
	CHECK(!claimed);
	CHECK_EQ(mem_rw(e, 0xc0003008, 4, false, 0, &claimed), 0x1234);
	CHECK(claimed);
	CHECK_EQ(e->mmio_pages, 5);
	/* moving the I/O BAR */
	cfg_wr(e, 3, PCI_BAR0 + 4, 4, 0xd000);
	io_rw(e, 0xc044, 2, false, 0, &claimed);
	CHECK(!claimed);
	CHECK_EQ(io_rw(e, 0xd004, 2, false, 0, &claimed), 0xbeef);
	/* the 64-bit BAR above 4 GiB leaves the window: no longer decoded anywhere */
	cfg_wr(e, 3, PCI_BAR0 + 12, 4, 1);
	CHECK(!e->d[0].f.bar[2].mapped);
	CHECK_EQ(e->mmio_pages, 1);
	cfg_wr(e, 3, PCI_BAR0 + 12, 4, 0);
	CHECK(e->d[0].f.bar[2].mapped);
	/* the command register's enables */
	cfg_wr(e, 3, PCI_COMMAND, 2, PCI_CMD_IO);
	CHECK_EQ(e->mmio_pages, 0);
	mem_rw(e, 0xc0003008, 4, false, 0, &claimed);
	CHECK(!claimed);
	io_rw(e, 0xd004, 2, false, 0, &claimed);
	CHECK(claimed);
	cfg_wr(e, 3, PCI_COMMAND, 2, 0);
	io_rw(e, 0xd004, 2, false, 0, &claimed);
	CHECK(!claimed);
	CHECK_EQ(bus_range_count(e->iob.ranges), 0);
	CHECK_EQ(bus_range_count(e->mmb.ranges), 0);
}

TEST(pci_bars_never_land_on_ram_or_on_each_other)
{
	struct env *e = env_new();
	REQUIRE(pci_host_plug(&e->h, 5, &e->d[1].f));
	place(e, 3, 0xc0001000, 0xc040, 0xc0010000);
	/* the second function aims BAR0 at the first's BAR0 and its I/O BAR at the first's */
	place(e, 5, 0xc0001000, 0xc040, 0xc0020000);
	CHECK(!e->d[1].f.bar[0].mapped);
	CHECK(!e->d[1].f.bar[1].mapped);
	CHECK(e->d[1].f.bar[2].mapped);
	CHECK_EQ(mem_rw(e, 0xc0001000, 4, false, 0, NULL), e->d[0].regs[0][0]);
	/* a BAR aimed at guest RAM or below the window is never decoded */
	cfg_wr(e, 5, PCI_BAR0, 4, 0x100000);
	CHECK(!e->d[1].f.bar[0].mapped);
	cfg_wr(e, 5, PCI_BAR0 + 4, 4, 0x3f8);
	CHECK(!e->d[1].f.bar[1].mapped);
	/* once the first moves away, the second can have the place */
	cfg_wr(e, 3, PCI_BAR0, 4, 0xc0005000);
	cfg_wr(e, 5, PCI_BAR0, 4, 0xc0001000);
	CHECK(e->d[1].f.bar[0].mapped);
}

TEST(pci_capability_list_walks_msi_then_msix)
{
	struct env *e = env_new();
	CHECK(cfg_rd(e, 3, PCI_STATUS, 2) & PCI_STATUS_CAPS);
	unsigned p = cfg_rd(e, 3, PCI_CAP_PTR, 1), ids[4], n = 0;
	while (p && n < 4) {
		ids[n++] = cfg_rd(e, 3, p, 1);
		p = cfg_rd(e, 3, p + 1, 1);
	}
	REQUIRE(n == 2);
	CHECK_EQ(ids[0], PCI_CAP_ID_MSI);
	CHECK_EQ(ids[1], PCI_CAP_ID_MSIX);
	unsigned x = e->d[0].f.msix_cap;
	CHECK_EQ(cfg_rd(e, 3, x + 2, 2) & 0x7ff, 3); /* 4 vectors */
	CHECK_EQ(cfg_rd(e, 3, x + 4, 4), 2);	     /* table at 0 in BAR2 */
	CHECK_EQ(cfg_rd(e, 3, x + 8, 4), 0x802);     /* PBA at 0x800 in BAR2 */
	/* read-only fields stay so */
	cfg_wr(e, 3, x + 4, 4, 0x12345678);
	CHECK_EQ(cfg_rd(e, 3, x + 4, 4), 2);
	cfg_wr(e, 3, PCI_CAP_PTR, 1, 0);
	CHECK_EQ(cfg_rd(e, 3, PCI_CAP_PTR, 1), e->d[0].f.msi_cap);
}

/* Linux's msix_capability_init: enable with the function masked, program the table,
 * unmask the vectors, then the function. */
static void linux_msix_enable(struct env *e, u64 table, u8 vec0)
{
	unsigned x = e->d[0].f.msix_cap;
	u16 ctl = (u16)cfg_rd(e, 3, x + 2, 2);
	cfg_wr(e, 3, x + 2, 2, ctl | PCI_MSIX_ENABLE | PCI_MSIX_MASKALL);
	for (unsigned v = 0; v < 4; v++) {
		mem_rw(e, table + 16 * v, 4, true, 0xfee00000, NULL);
		mem_rw(e, table + 16 * v + 4, 4, true, 0, NULL);
		mem_rw(e, table + 16 * v + 8, 4, true, vec0 + v, NULL);
		mem_rw(e, table + 16 * v + 12, 4, true, 0, NULL); /* unmask */
	}
	cfg_wr(e, 3, x + 2, 2, (ctl | PCI_MSIX_ENABLE) & ~PCI_MSIX_MASKALL);
}

TEST(pci_msix_interrupt_arrives_with_the_programmed_vector)
{
	struct env *e = env_new();
	place(e, 3, 0xc0001000, 0xc040, 0xc0010000);
	linux_msix_enable(e, 0xc0010000, 0x60);
	CHECK_EQ(mem_rw(e, 0xc0010000 + 16 * 2 + 8, 4, false, 0, NULL), 0x62);
	/* the device signals vector 2 through its register */
	mem_rw(e, 0xc0001000 + 16, 4, true, 2, NULL);
	CHECK_EQ(lapic_pending(&e->apic.l), 0x62);
	CHECK(lapic_acknowledge(&e->apic.l, 0x62));
	wr(&e->apic, APIC_EOI, 0);
	/* a masked vector is held in the PBA, then sent on unmask */
	mem_rw(e, 0xc0010000 + 16 * 1 + 12, 4, true, 1, NULL);
	pci_func_signal(&e->d[0].f, 1);
	CHECK_EQ(lapic_pending(&e->apic.l), -1);
	CHECK_EQ(mem_rw(e, 0xc0010800, 8, false, 0, NULL), 1u << 1);
	mem_rw(e, 0xc0010000 + 16 * 1 + 12, 4, true, 0, NULL);
	CHECK_EQ(lapic_pending(&e->apic.l), 0x61);
	CHECK_EQ(mem_rw(e, 0xc0010800, 8, false, 0, NULL), 0);
	CHECK(lapic_acknowledge(&e->apic.l, 0x61));
	wr(&e->apic, APIC_EOI, 0);
	/* the function mask holds every vector */
	unsigned x = e->d[0].f.msix_cap;
	u16 ctl = (u16)cfg_rd(e, 3, x + 2, 2);
	cfg_wr(e, 3, x + 2, 2, ctl | PCI_MSIX_MASKALL);
	pci_func_signal(&e->d[0].f, 3);
	CHECK_EQ(lapic_pending(&e->apic.l), -1);
	cfg_wr(e, 3, x + 2, 2, ctl);
	CHECK_EQ(lapic_pending(&e->apic.l), 0x63);
	/* a vector the function does not have, and the PBA is read-only */
	pci_func_signal(&e->d[0].f, 9);
	CHECK_EQ(e->d[0].f.msi_dropped, 1);
	mem_rw(e, 0xc0010800, 8, true, ~0ULL, NULL);
	CHECK_EQ(mem_rw(e, 0xc0010800, 8, false, 0, NULL), 0);
	/* vector control keeps only its mask bit */
	mem_rw(e, 0xc0010000 + 12, 4, true, 0xfffffffe, NULL);
	CHECK_EQ(mem_rw(e, 0xc0010000 + 12, 4, false, 0, NULL), 0);
	CHECK_EQ(e->d[0].f.msi_sent, 3);
}

TEST(pci_msi_interrupt_and_masking)
{
	struct env *e = env_new();
	place(e, 3, 0xc0001000, 0xc040, 0xc0010000);
	unsigned m = e->d[0].f.msi_cap;
	cfg_wr(e, 3, m + 4, 4, 0xfee00000);
	cfg_wr(e, 3, m + 8, 4, 0);
	cfg_wr(e, 3, m + 12, 2, 0x45);
	cfg_wr(e, 3, m + 2, 2, PCI_MSI_ENABLE);
	pci_func_signal(&e->d[0].f, 0);
	CHECK_EQ(lapic_pending(&e->apic.l), 0x45);
	CHECK(lapic_acknowledge(&e->apic.l, 0x45));
	wr(&e->apic, APIC_EOI, 0);
	cfg_wr(e, 3, m + 16, 4, 1); /* masked: pending bit */
	pci_func_signal(&e->d[0].f, 0);
	CHECK_EQ(lapic_pending(&e->apic.l), -1);
	CHECK_EQ(cfg_rd(e, 3, m + 20, 4), 1);
	cfg_wr(e, 3, m + 16, 4, 0);
	CHECK_EQ(lapic_pending(&e->apic.l), 0x45);
	CHECK_EQ(cfg_rd(e, 3, m + 20, 4), 0);
	/* a message to no APIC address is a memory write the VM has no IOMMU for: dropped */
	CHECK(lapic_acknowledge(&e->apic.l, 0x45));
	wr(&e->apic, APIC_EOI, 0);
	cfg_wr(e, 3, m + 4, 4, 0x1000);
	pci_func_signal(&e->d[0].f, 0);
	CHECK_EQ(lapic_pending(&e->apic.l), -1);
	CHECK_EQ(e->d[0].f.msi_dropped, 1);
	/* without bus mastering the function sends nothing */
	cfg_wr(e, 3, m + 4, 4, 0xfee00000);
	cfg_wr(e, 3, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	pci_func_signal(&e->d[0].f, 0);
	CHECK_EQ(lapic_pending(&e->apic.l), -1);
}

static void rte(struct env *e, unsigned pin, u32 lo)
{
	struct mmio_access a = {IOAPIC_IOREGSEL, 4, true, 0x10 + 2 * pin};
	ioapic_mmio(&e->io, &a);
	a = (struct mmio_access){IOAPIC_IOWIN, 4, true, lo};
	ioapic_mmio(&e->io, &a);
}

TEST(pci_intx_is_level_and_shared_through_the_ioapic)
{
	struct env *e = env_new();
	/* slots 3 and 7, pin INTA: both on line (3 + 0) % 4 = (7 + 0) % 4, GSI 19 */
	REQUIRE(pci_host_plug(&e->h, 7, &e->d[1].f));
	unsigned gsi = cfg_rd(e, 3, PCI_INTERRUPT_LINE, 1);
	CHECK_EQ(gsi, cfg_rd(e, 7, PCI_INTERRUPT_LINE, 1));
	CHECK_EQ(gsi, 19);
	rte(e, gsi, 0x51 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_LOW);
	cfg_wr(e, 3, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	cfg_wr(e, 7, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	CHECK_EQ(lapic_pending(&e->apic.l), -1); /* idle lines */
	pci_func_intx(&e->d[0].f, true);
	CHECK(cfg_rd(e, 3, PCI_STATUS, 2) & PCI_STATUS_INTX);
	CHECK_EQ(lapic_pending(&e->apic.l), 0x51);
	CHECK(lapic_acknowledge(&e->apic.l, 0x51));
	/* the other function asserts the same line, the first lets go: still asserted, so the
	 * EOI brings the interrupt back */
	pci_func_intx(&e->d[1].f, true);
	pci_func_intx(&e->d[0].f, false);
	wr(&e->apic, APIC_EOI, 0);
	CHECK_EQ(lapic_pending(&e->apic.l), 0x51);
	CHECK(lapic_acknowledge(&e->apic.l, 0x51));
	pci_func_intx(&e->d[1].f, false);
	wr(&e->apic, APIC_EOI, 0);
	CHECK_EQ(lapic_pending(&e->apic.l), -1);
	/* INTx disable in the command register keeps the line quiet, the status bit still says */
	cfg_wr(e, 3, PCI_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_INTX_OFF);
	pci_func_signal(&e->d[0].f, 0); /* no MSI on: INTx */
	CHECK(cfg_rd(e, 3, PCI_STATUS, 2) & PCI_STATUS_INTX);
	CHECK_EQ(lapic_pending(&e->apic.l), -1);
	cfg_wr(e, 3, PCI_COMMAND, 2, PCI_CMD_MEMORY);
	CHECK_EQ(lapic_pending(&e->apic.l), 0x51);
	CHECK_EQ(e->h.bus.intx_count[(3 + 0) % 4], 1);
}

TEST(pci_function_state_saves_and_loads_into_a_fresh_host)
{
	struct env *a = env_new();
	place(a, 3, 0xc0002000, 0xc080, 0xc0040000);
	linux_msix_enable(a, 0xc0040000, 0x70);
	mem_rw(a, 0xc0040000 + 16 * 2 + 12, 4, true, 1, NULL);
	pci_func_signal(&a->d[0].f, 2); /* pending in the PBA */
	static u8 buf[4096];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	pci_host_save(&a->h, &w);
	REQUIRE(!w.overflow);

	struct env *b = env_new();
	struct state_reader r = {buf, w.len, 0, false};
	REQUIRE(pci_host_load(&b->h, &r));
	CHECK(b->d[0].f.bar[0].mapped && b->d[0].f.bar[0].base == 0xc0002000);
	CHECK(b->d[0].f.bar[1].mapped && b->d[0].f.bar[1].base == 0xc080);
	CHECK_EQ(mem_rw(b, 0xc0040000 + 16 * 1 + 8, 4, false, 0, NULL), 0x71);
	CHECK_EQ(mem_rw(b, 0xc0040800, 8, false, 0, NULL), 1u << 2);
	mem_rw(b, 0xc0040000 + 16 * 2 + 12, 4, true, 0, NULL);
	CHECK_EQ(lapic_pending(&b->apic.l), 0x72);
	/* a stream whose read-only bits differ (another device) is refused, b unchanged */
	struct env *c = env_new();
	buf[8 + 4 + 256 + 1 + 4 + 4 + 2] ^= 1; /* the function's device ID */
	r = (struct state_reader){buf, w.len, 0, false};
	CHECK(!pci_host_load(&c->h, &r));
	CHECK_EQ(cfg_rd(c, 3, 0, 4), 0x10ff1af4);
}

static u64 rng_state = 0x9e3779b97f4a7c15ULL;
TEST(pci_hostile_guest_writes_garbage_everywhere)
{
	struct env *e = env_new();
	REQUIRE(pci_host_plug(&e->h, 9, &e->d[1].f));
	static const u8 sizes[] = {1, 2, 4};
	for (unsigned i = 0; i < 200000; i++) {
		u64 r = test_rng(&rng_state);
		switch (r % 4) {
		case 0: /* any CONFIG_ADDRESS, any data port and size */
			port_io(e, 0xcf8, 4, true,
				(u32)(test_rng(&rng_state) & 0x80fffffc) |
				    (r & 1 ? 3 << 11 : 9 << 11));
			port_io(e, (u16)(0xcfc + (r >> 8) % 4), sizes[(r >> 12) % 3], true,
				(u32)test_rng(&rng_state));
			break;
		case 1:
			port_io(e, (u16)(0xcf8 + (r >> 8) % 8), sizes[(r >> 12) % 3], (r >> 16) & 1,
				(u32)test_rng(&rng_state));
			break;
		case 2: /* accesses anywhere in the window, any size */
			mem_rw(e, WIN_BASE + (test_rng(&rng_state) % 0x100000),
			       (u8)(1u << ((r >> 8) % 4)), (r >> 16) & 1, test_rng(&rng_state),
			       NULL);
			break;
		default:
			io_rw(e, (u16)(0xc000 + test_rng(&rng_state) % 0x4000),
			      sizes[(r >> 12) % 3], (r >> 16) & 1, (u32)test_rng(&rng_state), NULL);
			break;
		}
	}
	/* whatever happened: identity intact, every decoded BAR inside the windows, the
	 * P2M hook's count matches the mapped memory BARs, nothing on RAM */
	u64 pages = 0;
	for (unsigned k = 0; k < 2; k++) {
		struct pci_func *f = &e->d[k].f;
		CHECK_EQ(pci_func_cfg_read(f, 0, 4), 0x10ff1af4);
		for (unsigned i = 0; i < PCI_BARS; i++) {
			struct pci_bar *b = &f->bar[i];
			if (!b->mapped)
				continue;
			if (b->kind == PCI_BAR_IO) {
				CHECK(b->base >= 0xc000 && b->base + b->size <= 0x10000);
			} else {
				CHECK(b->base >= WIN_BASE &&
				      b->base + b->size <= WIN_BASE + WIN_LEN);
				pages += b->size / PAGE_SIZE;
			}
		}
	}
	CHECK_EQ(e->mmio_pages, pages);
	CHECK_EQ(bus_range_count(e->mmb.ranges) + bus_range_count(e->iob.ranges),
		 (unsigned)(e->d[0].f.bar[0].mapped + e->d[0].f.bar[1].mapped +
			    e->d[0].f.bar[2].mapped + e->d[1].f.bar[0].mapped +
			    e->d[1].f.bar[1].mapped + e->d[1].f.bar[2].mapped));
	CHECK(e->h.bus.intx_count[(3 + 0) % 4] <= 1 && e->h.bus.intx_count[(9 + 0) % 4] <= 1);
}
