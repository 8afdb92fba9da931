/* Tests of the board file (hypervisor/board.c, board_pc.c) and of the platform driving its
 * devices through the device interface (hypervisor/platform.c): the map has no overlaps,
 * the P2M and e820 map derive from it, every port reaches its model through the VM's bus,
 * and a whole device set saves, loads into a fresh VM and saves the same again. */
#include "test.h"
#include "../../hypervisor/board.h"
#include "../../hypervisor/platform.h"
#include "../../hypervisor/vm.h"
#include "../../hypervisor/lib.h"
#include "../../guests/loader/linux.h"

TEST(board_pc_has_no_overlaps)
{
	CHECK(board_check(&board_pc) == NULL);
	/* and the check sees one: two devices on the same port */
	struct board_device d[2] = {board_pc.dev[3], board_pc.dev[3]};
	struct board b = board_pc;
	b.dev = d;
	b.ndev = 2;
	CHECK(board_check(&b) != NULL);
	/* a device window in RAM */
	struct board_device w = board_pc.dev[0];
	w.mmio_base = 0x200000;
	b.dev = &w;
	b.ndev = 1;
	CHECK(board_check(&b) != NULL);
}

TEST(board_pc_e820_is_keels_map)
{
	struct linux_e820 m[8];
	unsigned n = board_e820(&board_pc, 64 << 20, m, ARRAY_SIZE(m));
	REQUIRE(n == 4);
	CHECK(m[0].addr == 0 && m[0].size == 0x9fc00 && m[0].type == LINUX_E820_RAM);
	CHECK(m[1].addr == 0x9fc00 && m[1].size == 0x400 && m[1].type == LINUX_E820_RESERVED);
	CHECK(m[2].addr == 0xe0000 && m[2].size == 0x20000 && m[2].type == LINUX_E820_RESERVED);
	CHECK(m[3].addr == 0x100000 && m[3].size == (64 << 20) - 0x100000 &&
	      m[3].type == LINUX_E820_RAM);
	CHECK_EQ(board_e820(&board_pc, 64 << 20, m, 3), 0);
	CHECK_EQ(board_e820(&board_pc, 0x80000, m, 8), 0); /* memory ends below 1 MiB */
}

TEST(board_memory_is_populated_and_windows_marked_from_the_map)
{
	struct frames fa;
	struct p2m p;
	u8 *m = test_alloc_aligned(PAGE_SIZE, 16 << 20);
	struct mem_region r = {virt_to_phys(m), 16 << 20, MEM_USABLE};
	REQUIRE(frames_init(&fa, &r, 1, NULL, 0, UINT64_MAX) == NULL);
	REQUIRE(p2m_init(&p, &fa, FRAME_VM(1)) == NULL);
	REQUIRE(board_build_memory(&board_pc, &p, 4 << 20, false) == NULL);
	static const struct {
		u64 gpa;
		enum p2m_type t;
	} want[] = {
	    {0, P2M_RAM},	    {0x9f000, P2M_RAM},	    {0xa0000, P2M_NONE},
	    {0xbf000, P2M_NONE},    {0xc0000, P2M_ROM},	    {0xe0000, P2M_ROM},
	    {0xff000, P2M_ROM},	    {0x100000, P2M_RAM},    {0x3ff000, P2M_RAM},
	    {0x400000, P2M_NONE},   {0xfec00000, P2M_MMIO}, {0xfee00000, P2M_MMIO},
	    {0xfee01000, P2M_NONE}, {0xffffb000, P2M_NONE}, {0xffffd000, P2M_NONE},
	    {0xc0000000, P2M_NONE},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		CHECK_EQ(p2m_lookup(&p, want[i].gpa >> PAGE_SHIFT, NULL), want[i].t);
	/* 0x9f000 holds both low RAM and the EBDA: one frame, populated once */
	CHECK_EQ(frames_count(&fa, FRAME_VM(1)), (4 << 20) / PAGE_SIZE - 0x20);
	p2m_destroy(&p);
}

TEST(board_port_owners_and_timers)
{
	const struct board_device *d = board_port_device(&board_pc, 0x3fd);
	REQUIRE(d);
	CHECK(strcmp(d->ops->name, "uart") == 0);
	CHECK(board_port_device(&board_pc, 0xcf9)->ops == &acpi_reset_device);
	CHECK(board_port_device(&board_pc, 0xcfa) == NULL);
	CHECK(board_port_device(&board_pc, 0xcfe)->ops == &pci_host_device);
}

/* ---- the platform over the device interface ---- */

static struct vm *new_vm(void)
{
	struct vm *vm = test_alloc(sizeof(*vm));
	kstrlcpy(vm->name, "t", sizeof(vm->name));
	vm->mem_bytes = 64 << 20;
	vm->nvcpus = 1;
	vm->vcpu[0].vm = vm;
	REQUIRE(platform_init(vm, &board_pc, 1000000000ULL, 0, 1767225600ULL) == NULL);
	return vm;
}

static void out(struct vm *vm, u16 port, u8 size, u32 v)
{
	struct io_access a = {port, size, true, v};
	CHECK(io_bus_access(&vm->io, &a));
}

static u32 in(struct vm *vm, u16 port, u8 size)
{
	struct io_access a = {port, size, false, 0};
	CHECK(io_bus_access(&vm->io, &a));
	return a.value;
}

static void mmio(struct vm *vm, u64 gpa, bool write, u32 *v)
{
	struct mmio_access a = {0, 4, write, write ? *v : 0};
	CHECK(mmio_bus_access(&vm->plat.mmio, gpa, &a));
	if (!write)
		*v = (u32)a.value;
}

TEST(platform_puts_every_board_range_on_the_buses)
{
	struct vm *vm = new_vm();
	for (unsigned i = 0; i < board_pc.ndev; i++) {
		const struct board_device *d = &board_pc.dev[i];
		if (d->present)
			continue; /* a VM without a config has only the devices every VM has */
		for (unsigned j = 0; j < BOARD_DEV_PORTS; j++)
			for (unsigned k = 0; k < d->ports[j].len; k++) {
				const struct bus_range *r =
				    bus_range_find(vm->io.ranges, d->ports[j].base + k);
				REQUIRE(r);
				CHECK(r->dev == (u8 *)vm + d->offset);
			}
		if (d->mmio_len)
			CHECK(bus_range_find(vm->plat.mmio.ranges, d->mmio_base + d->mmio_len - 1));
	}
	/* the 13 port ranges and 2 windows the PC had, no more */
	CHECK_EQ(bus_range_count(vm->io.ranges), 13);
	CHECK_EQ(bus_range_count(vm->plat.mmio.ranges), 2);
	/* an access reaches its model */
	out(vm, 0x21, 1, 0x5a);
	CHECK_EQ(vm->plat.pic.chip[0].imr, 0x5a);
	out(vm, 0x3ff, 1, 0x42); /* UART scratch */
	CHECK_EQ(in(vm, 0x3ff, 1), 0x42);
	u32 v = 0;
	mmio(vm, 0xfee00030, false, &v); /* LAPIC version */
	CHECK_EQ(v & 0xff, 0x14);
}

TEST(platform_can_wake_asks_every_model)
{
	struct vm *vm = new_vm();
	test_set_time(1000);
	CHECK(!platform_can_wake(vm)); /* every input masked, no timer */
	out(vm, 0x21, 1, 0xfe);	       /* PIC input 0 unmasked */
	CHECK(platform_can_wake(vm));
	out(vm, 0x21, 1, 0xff);
	u32 sel = 0x10 + 2 * 4, rte = 0x30; /* IOAPIC pin 4, unmasked */
	mmio(vm, 0xfec00000, true, &sel);
	mmio(vm, 0xfec00010, true, &rte);
	CHECK(platform_can_wake(vm));
	platform_reset(vm);
	CHECK(!platform_can_wake(vm));
	CHECK_EQ(vm->plat.pic.chip[0].imr, 0xff);
}

/* Changes state in every model that keeps some. */
static void stir(struct vm *vm)
{
	out(vm, 0x20, 1, 0x11); /* PIC: ICW1..4, vector base 0x20 */
	out(vm, 0x21, 1, 0x20);
	out(vm, 0x21, 1, 0x04);
	out(vm, 0x21, 1, 0x01);
	out(vm, 0x21, 1, 0xb8);
	out(vm, 0x4d0, 1, 0x20); /* ELCR: IRQ 5 level */
	out(vm, 0x43, 1, 0x34);	 /* PIT channel 0, mode 2 */
	out(vm, 0x40, 1, 0x9c);
	out(vm, 0x40, 1, 0x2e);
	out(vm, 0x61, 1, 0x03);
	out(vm, 0x70, 1, 0x0e); /* CMOS byte 0x0e */
	out(vm, 0x71, 1, 0x77);
	out(vm, ACPI_PM_IO_BASE + 2, 2, 0x0100); /* PM1_EN: power button */
	out(vm, 0xcf8, 4, 0x80000004);
	out(vm, 0x3fb, 1, 0x03); /* UART LCR */
	out(vm, 0x3ff, 1, 0x99);
	u32 sel = 0x10 + 2 * 9, rte = 0xa041; /* IOAPIC pin 9 */
	mmio(vm, 0xfec00000, true, &sel);
	mmio(vm, 0xfec00010, true, &rte);
	u32 tpr = 0x20;
	mmio(vm, 0xfee00080, true, &tpr);
}

TEST(platform_device_set_saves_loads_and_compares)
{
	test_set_time(5000000);
	struct vm *a = new_vm();
	stir(a);
	static u8 buf1[16384], buf2[16384];
	struct state_writer w1 = {buf1, sizeof(buf1), 0, false};
	platform_save(a, &w1);
	REQUIRE(!w1.overflow);

	struct vm *b = new_vm();
	struct state_reader r = {buf1, w1.len, 0, false};
	REQUIRE(platform_load(b, &r));
	CHECK_EQ(r.pos, w1.len);
	struct state_writer w2 = {buf2, sizeof(buf2), 0, false};
	platform_save(b, &w2);
	CHECK_EQ(w2.len, w1.len);
	CHECK(memcmp(buf1, buf2, w1.len) == 0);
	/* and the models carry the state, not just the stream */
	CHECK_EQ(b->plat.pic.chip[0].imr, 0xb8);
	CHECK_EQ(in(b, 0x3ff, 1), 0x99);
	out(b, 0x70, 1, 0x0e);
	CHECK_EQ(in(b, 0x71, 1), 0x77);
	CHECK_EQ(in(b, 0xcf8, 4), 0x80000004);
	u32 tpr = 0;
	mmio(b, 0xfee00080, false, &tpr);
	CHECK_EQ(tpr, 0x20);
	/* the loaded models are wired to b, not to a */
	CHECK(b->plat.pvpanic.ctx == b);
	CHECK(b->uart.ctx == b);
}

TEST(platform_load_refuses_truncated_and_foreign_streams)
{
	test_set_time(5000000);
	struct vm *a = new_vm();
	stir(a);
	static u8 buf[16384];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	platform_save(a, &w);
	struct vm *b = new_vm();
	for (size_t cut = 0; cut < w.len; cut += 7) {
		struct state_reader r = {buf, cut, 0, false};
		CHECK(!platform_load(b, &r));
	}
	buf[0] ^= 1; /* not a device set */
	struct state_reader r = {buf, w.len, 0, false};
	CHECK(!platform_load(b, &r));
	buf[0] ^= 1;
	u32 n;
	memcpy(&n, buf + 8, 4); /* a set of another size */
	n++;
	memcpy(buf + 8, &n, 4);
	r = (struct state_reader){buf, w.len, 0, false};
	CHECK(!platform_load(b, &r));
}

TEST(board_timer_ports_of_a_vm)
{
	struct vm *vm = new_vm();
	CHECK(platform_port_has_timer(vm, 0x40));
	CHECK(platform_port_has_timer(vm, 0x43));
	CHECK(platform_port_has_timer(vm, 0x61));
	CHECK(platform_port_has_timer(vm, 0x71));
	CHECK(platform_port_has_timer(vm, ACPI_PM_IO_BASE + 11));
	CHECK(!platform_port_has_timer(vm, ACPI_PM_IO_BASE + 12));
	CHECK(!platform_port_has_timer(vm, 0x3f8));
	CHECK(!platform_port_has_timer(vm, 0x80));
	CHECK(!platform_port_has_timer(vm, 0xffff));
	/* the per-exit lists hold exactly the timed devices: LAPIC, PIT, RTC, ACPI PM */
	CHECK_EQ(vm->plat.ntimed, 4);
}

/* ---- the per-exit timer paths: only what is due or was touched ---- */

/* A timed model that counts what the platform asks of it. */
struct fake_timer {
	u64 due;	/* what next_event answers */
	u64 updated_to; /* the time of its last update; an MMIO read returns it */
	unsigned updates, asks;
};

static void ft_update(void *dev, const struct dev_time *now)
{
	struct fake_timer *f = dev;
	f->updates++;
	f->updated_to = now->tsc;
}

static u64 ft_next_event(void *dev, const struct dev_time *now)
{
	(void)now;
	struct fake_timer *f = dev;
	f->asks++;
	return f->due;
}

static void ft_mmio(void *dev, struct mmio_access *a)
{
	a->value = ((struct fake_timer *)dev)->updated_to;
}

static const struct device_ops fake_timer_ops = {
    .name = "fake-timer", .mmio = ft_mmio, .update = ft_update, .next_event = ft_next_event};
/* a model that polls (an update, no deadlines) */
static const struct device_ops fake_poll_ops = {.name = "fake-poll", .update = ft_update};
/* a window without timers of its own (as the IOAPIC's, a PCI BAR's) */
static const struct device_ops fake_window_ops = {.name = "fake-window", .mmio = ft_mmio};

#define FT_A_BASE 0xfed00000ULL

TEST(platform_updates_only_due_and_touched_devices)
{
	/* four instances inside struct vm (its console line buffer is plain bytes) */
	const size_t off = offsetof(struct vm, con_line);
	const struct board_device devs[] = {
	    {&fake_timer_ops, off, {{0}}, FT_A_BASE, 0x1000, false, NULL},
	    {&fake_timer_ops,
	     off + sizeof(struct fake_timer),
	     {{0}},
	     FT_A_BASE + 0x1000,
	     0x1000,
	     false,
	     NULL},
	    {&fake_poll_ops, off + 2 * sizeof(struct fake_timer), {{0}}, 0, 0, false, NULL},
	    {&fake_window_ops,
	     off + 3 * sizeof(struct fake_timer),
	     {{0}},
	     FT_A_BASE + 0x3000,
	     0x1000,
	     false,
	     NULL},
	};
	struct board b = board_pc;
	b.dev = devs;
	b.ndev = ARRAY_SIZE(devs);
	struct vm *vm = test_alloc(sizeof(*vm));
	vm->mem_bytes = 64 << 20;
	vm->nvcpus = 1;
	vm->vcpu[0].vm = vm;
	REQUIRE(platform_init(vm, &b, 1000000000ULL, 0, 1767225600ULL) == NULL);
	_Static_assert(4 * sizeof(struct fake_timer) <= sizeof(vm->con_line), "room for four");
	struct fake_timer *fa = (void *)((u8 *)vm + off), *fb = fa + 1, *fp = fa + 2;
	fa->due = 1000;
	fb->due = 5000;

	/* a new platform brings every device to now and asks every deadline */
	platform_update(vm, 100);
	CHECK_EQ(platform_next_event(vm, 100), 1000);
	CHECK(fa->updates == 1 && fb->updates == 1 && fa->asks == 1 && fb->asks == 1);
	/* nothing due, nothing touched: no device is called */
	platform_update(vm, 500);
	CHECK_EQ(platform_next_event(vm, 500), 1000);
	CHECK(fa->updates == 1 && fb->updates == 1 && fa->asks == 1 && fb->asks == 1);
	CHECK_EQ(fp->updates, 1);
	/* A falls due: A alone is updated and asked again; B's deadline stands */
	fa->due = 3000;
	platform_update(vm, 1000);
	CHECK_EQ(platform_next_event(vm, 1000), 3000);
	CHECK(fa->updates == 2 && fb->updates == 1 && fa->asks == 2 && fb->asks == 1);
	/* the polling model, without deadlines of its own, comes along whenever any does */
	CHECK_EQ(fp->updates, 2);
	/* an MMIO access to B: B is brought to now first (it may read its timer), A is not */
	struct mmio_access a = {0, 8, false, 0};
	CHECK(platform_mmio(vm, FT_A_BASE + 0x1000, &a, 1200));
	CHECK_EQ(a.value, 1200);
	CHECK(fa->updates == 2 && fb->updates == 2);
	/* ... and is touched: updated and asked again at the next look, though not due */
	fb->due = 2000;
	platform_update(vm, 1300);
	CHECK_EQ(platform_next_event(vm, 1300), 2000);
	CHECK(fa->updates == 2 && fb->updates == 3 && fa->asks == 2 && fb->asks == 2);
	/* touching one model by its instance */
	platform_touch_dev(&vm->plat, fa);
	platform_update(vm, 1400);
	CHECK(fa->updates == 3 && fb->updates == 3);
	CHECK_EQ(platform_next_event(vm, 1400), 2000);
	CHECK_EQ(fa->asks, 3);
	/* a touch of the whole platform (a timer port, the guest TSC): everyone again */
	platform_touch(&vm->plat);
	platform_update(vm, 1500);
	CHECK_EQ(platform_next_event(vm, 1500), 2000);
	CHECK(fa->updates == 4 && fb->updates == 4 && fa->asks == 4 && fb->asks == 3);
	/* an access nobody takes reads all ones and touches nothing */
	a = (struct mmio_access){0, 4, false, 0};
	CHECK(!platform_mmio(vm, FT_A_BASE + 0x2000, &a, 1600));
	CHECK_EQ(a.value, 0xffffffffULL);
	CHECK_EQ(platform_next_event(vm, 1600), 2000);
	CHECK(fa->updates == 4 && fb->updates == 4 && fa->asks == 4 && fb->asks == 3);
	/* a window of another owner: every model to now before, and looked at again after */
	CHECK(platform_mmio(vm, FT_A_BASE + 0x3000, &a, 1700));
	CHECK(fa->updates == 5 && fb->updates == 5);
	platform_update(vm, 1800);
	CHECK_EQ(platform_next_event(vm, 1800), 2000);
	CHECK(fa->updates == 6 && fb->updates == 6 && fa->asks == 5 && fb->asks == 4);
}

/* ---- optional board devices: present only where the VM's config asks ---- */

TEST(board_pc_printer_is_lpt1_when_the_config_asks)
{
	for (int want = 0; want < 2; want++) {
		struct vm *vm = test_alloc(sizeof(*vm));
		struct vm_config cfg = {.valid = true, .memory_mib = 64, .printer = want};
		kstrlcpy(vm->name, "p", sizeof(vm->name));
		vm->cfg = &cfg;
		vm->mem_bytes = 64 << 20;
		vm->nvcpus = 1;
		vm->vcpu[0].vm = vm;
		REQUIRE(platform_init(vm, &board_pc, 1000000000ULL, 0, 1767225600ULL) == NULL);
		CHECK_EQ(bus_range_count(vm->io.ranges), 13u + (unsigned)want);
		CHECK_EQ(platform_port_has_timer(vm, 0x37a), (bool)want);
		CHECK_EQ(vm->plat.ntimed, 4u + (unsigned)want);
		struct io_access a = {0x379, 1, false, 0};
		CHECK_EQ(io_bus_access(&vm->io, &a), (bool)want);
		CHECK_EQ(a.value, want ? 0xd8u : 0xffu);
	}
}

static bool wants_port_80(const struct vm_config *cfg)
{
	return cfg->memory_mib == 64;
}

static void port80(void *dev, struct io_access *a)
{
	u8 *hits = dev;
	(*hits)++;
	if (!a->write)
		a->value = 0x5a;
}

static const struct device_ops port80_ops = {.name = "port80", .port = port80};

TEST(board_optional_device_is_attached_only_when_its_config_asks)
{
	struct board b = board_pc;
	struct board_device devs[PLATFORM_MAX_DEVICES];
	memcpy(devs, board_pc.dev, board_pc.ndev * sizeof(devs[0]));
	/* its instance: the first byte of the VM's console line (any byte of struct vm) */
	devs[board_pc.ndev] = (struct board_device){
	    &port80_ops, offsetof(struct vm, con_line), {{0x80, 1}}, 0, 0, false, wants_port_80};
	b.dev = devs;
	b.ndev = board_pc.ndev + 1;
	CHECK(board_check(&b) == NULL);
	unsigned always =
	    0; /* the PC's own devices every VM has (its optional ones are not asked) */
	for (unsigned i = 0; i < board_pc.ndev; i++)
		always += board_pc.dev[i].present == NULL;
	for (int want = 0; want < 2; want++) {
		struct vm *vm = test_alloc(sizeof(*vm));
		struct vm_config cfg = {.valid = true, .memory_mib = want ? 64 : 32};
		vm->cfg = &cfg;
		vm->mem_bytes = 64 << 20;
		vm->nvcpus = 1;
		vm->vcpu[0].vm = vm;
		REQUIRE(platform_init(vm, &b, 1000000000ULL, 0, 1767225600ULL) == NULL);
		CHECK_EQ(vm->plat.ndev, always + (unsigned)want);
		struct io_access a = {0x80, 1, false, 0};
		CHECK_EQ(io_bus_access(&vm->io, &a), (bool)want);
		CHECK_EQ((unsigned)(u8)vm->con_line[0], (unsigned)want);
		/* the platform's own devices keep working either way */
		CHECK(in(vm, 0x21, 1) == in(vm, 0x21, 1));
	}
}
