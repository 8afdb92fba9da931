/* Tests of dedicated devices (hypervisor/dedicated.c): the config key, ownership (one VM per
 * device and per interrupt line, all or nothing, released when the owner ends), and the
 * interrupt path: the machine's pin masked on arrival, an edge on the owner's virtual line
 * before its entry, the pin unmasked only once the guest has taken and EOI'd it. The
 * machine (IOAPIC, device ports) and the guest's interrupt controllers are fakes. */
#include "test.h"
#include "../../hypervisor/config.h"
#include "../../hypervisor/dedicated.h"
#include "../../hypervisor/lib.h"

/* ---- the config key ---- */

static char cfg_msg[256];
static unsigned cfg_nmsgs;

static void cfg_report(const char *msg)
{
	kstrlcpy(cfg_msg, msg, sizeof(cfg_msg));
	cfg_nmsgs++;
}

static struct config *parse_cfg(const char *text)
{
	struct config *cfg = test_alloc(sizeof(*cfg));
	cfg_nmsgs = 0;
	cfg_msg[0] = 0;
	size_t len = strlen(text);
	config_parse(cfg, test_dup(text, len), len, "keel.cfg", cfg_report);
	return cfg;
}

TEST(dedicated_config_names_devices)
{
	struct config *c = parse_cfg("[vm]\nname = a\nkernel = k\ndedicate = com2\n");
	CHECK_EQ(cfg_nmsgs, 0);
	REQUIRE(c->nvms == 1);
	CHECK(c->vms[0].valid);
	CHECK_EQ(c->vms[0].dedicate, BIT(ded_lookup("com2")));
	c = parse_cfg("[vm]\nname = a\nkernel = k\ndedicate = com3, lpt2 ,com4\n");
	CHECK_EQ(cfg_nmsgs, 0);
	CHECK_EQ(c->vms[0].dedicate,
		 BIT(ded_lookup("com3")) | BIT(ded_lookup("lpt2")) | BIT(ded_lookup("com4")));
	c = parse_cfg("[vm]\nname = a\nkernel = k\n");
	CHECK_EQ(c->vms[0].dedicate, 0);
}

TEST(dedicated_config_refuses_com1_unknown_and_empty_names_with_the_line)
{
	struct config *c = parse_cfg("[vm]\nname = a\nkernel = k\n\ndedicate = com1\n");
	CHECK_EQ(cfg_nmsgs, 1);
	CHECK(!c->vms[0].valid);
	CHECK_STR(cfg_msg,
		  "keel.cfg:5: field 'dedicate': com1 is Keel's console and cannot be dedicated");
	c = parse_cfg("[vm]\nname = a\nkernel = k\ndedicate = com2,com9\n");
	CHECK_EQ(cfg_nmsgs, 1);
	CHECK(!c->vms[0].valid);
	CHECK_STR(cfg_msg, "keel.cfg:4: field 'dedicate': unknown device 'com9' (dedicatable: "
			   "com2, com3, com4, lpt2)");
	const char *bad[] = {"",      ",",	    "com2,",
			     ",com2", "com2,,com3", "COM2",
			     "eth0",  "lpt1",	    "com22222222222222222222222222"};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[128];
		ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\ndedicate = %s\n",
			  bad[i]);
		c = parse_cfg(text);
		CHECK_EQ(cfg_nmsgs, 1);
		CHECK(!c->vms[0].valid);
		CHECK_CONTAINS(cfg_msg, "keel.cfg:4: field 'dedicate': ");
	}
}

TEST(dedicated_table_has_the_pc_ports_and_never_com1)
{
	CHECK_EQ(ded_lookup("com1"), -1);
	static const struct {
		const char *name;
		u16 base;
		u8 irq;
	} want[] = {{"com2", 0x2f8, 3}, {"com3", 0x3e8, 4}, {"com4", 0x2e8, 3}, {"lpt2", 0x278, 5}};
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		int k = ded_lookup(want[i].name);
		REQUIRE(k >= 0);
		CHECK_EQ(ded_devices[k].base, want[i].base);
		CHECK_EQ(ded_devices[k].irq, want[i].irq);
	}
	for (unsigned i = 0; i < ded_ndevices; i++) {
		const struct ded_device *d = &ded_devices[i];
		/* nothing overlaps COM1's 0x3f8-0x3ff */
		CHECK(d->base + d->len <= 0x3f8 || d->base >= 0x400);
		CHECK(d->irq < DED_ISA_IRQS);
	}
}

/* ---- a fake machine and fake guests ---- */

struct fake_hw {
	bool routed[DED_ISA_IRQS];
	bool masked[DED_ISA_IRQS];
	unsigned quiesced[DED_MAX_DEVICES];
	unsigned mask_calls;
};

static void hw_route(void *ctx, unsigned irq, bool on)
{
	struct fake_hw *h = ctx;
	h->routed[irq] = on;
}

static void hw_mask(void *ctx, unsigned irq, bool masked)
{
	struct fake_hw *h = ctx;
	REQUIRE(h->routed[irq] || masked); /* never unmasked without a route */
	h->masked[irq] = masked;
	h->mask_calls++;
}

static void hw_quiesce(void *ctx, const struct ded_device *d)
{
	struct fake_hw *h = ctx;
	h->quiesced[d - ded_devices]++;
}

/* A guest's interrupt controllers, reduced to what the path needs: each virtual line's
 * level, the edges it saw, and whether the interrupt is still pending or in service. */
struct fake_guest {
	struct ded_guest g;
	bool level[DED_ISA_IRQS];
	unsigned edges[DED_ISA_IRQS];
	bool busy[DED_ISA_IRQS]; /* latched by an edge, cleared by the guest's EOI */
	unsigned kicks;
};

static void g_set_line(void *ctx, unsigned irq, bool level)
{
	struct fake_guest *f = ctx;
	if (level && !f->level[irq]) {
		f->edges[irq]++;
		f->busy[irq] = true;
	}
	f->level[irq] = level;
}

static bool g_line_busy(void *ctx, unsigned irq)
{
	struct fake_guest *f = ctx;
	return f->busy[irq];
}

static void g_kick(void *ctx)
{
	struct fake_guest *f = ctx;
	f->kicks++;
}

static void fake_guest_init(struct fake_guest *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->g.name = name;
	f->g.set_line = g_set_line;
	f->g.line_busy = g_line_busy;
	f->g.kick = g_kick;
	f->g.ctx = f;
}

static void setup(struct dedicated *d, struct fake_hw *h)
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < DED_ISA_IRQS; i++)
		h->masked[i] = true;
	struct ded_hw_ops ops = {hw_route, hw_mask, hw_quiesce, h};
	ded_init(d, &ops);
}

/* Each test's machine: the table over the fake hardware, guests a and b (each only when
 * named), and room for a refusal. */
struct ded_rig {
	struct dedicated d;
	struct fake_hw h;
	struct fake_guest a, b;
	char msg[128];
};

static struct ded_rig *ded_rig_new(const char *a, const char *b)
{
	struct ded_rig *m = test_alloc(sizeof(*m));
	setup(&m->d, &m->h);
	if (a)
		fake_guest_init(&m->a, a);
	if (b)
		fake_guest_init(&m->b, b);
	return m;
}

/* ded_claim on the rig's table; NULL or the refusal (in m->msg). */
static const char *claim(struct ded_rig *m, struct ded_guest *g, u32 devices)
{
	return ded_claim(&m->d, g, devices, m->msg, sizeof(m->msg));
}

static u32 dev(const char *name)
{
	int i = ded_lookup(name);
	REQUIRE(i >= 0);
	return BIT(i);
}

TEST(dedicated_second_vm_is_refused_and_takes_nothing)
{
	struct ded_rig *m = ded_rig_new("linux1", "linux2");
	CHECK(!claim(m, &m->a.g, dev("com2")));
	CHECK(m->h.routed[3] && !m->h.masked[3]);
	CHECK_EQ(m->h.quiesced[ded_lookup("com2")], 1);
	/* lpt2 is free, com2 is not: b gets neither */
	const char *err = claim(m, &m->b.g, dev("lpt2") | dev("com2"));
	REQUIRE(err);
	CHECK_STR(err, "com2 is dedicated to vm linux1");
	CHECK_EQ(m->b.g.devices, 0);
	CHECK(!m->h.routed[5]);
	CHECK(!m->d.owner[ded_lookup("lpt2")]);
	CHECK(!m->b.g.reg);
	/* com4 shares IRQ 3 with a's com2: refused, the line has one owner */
	err = claim(m, &m->b.g, dev("com4"));
	REQUIRE(err);
	CHECK_STR(err, "com4 shares IRQ 3 with a device dedicated to vm linux1");
	/* ... but the owner of com2 may have com4 too */
	CHECK(!claim(m, &m->a.g, dev("com4")));
	CHECK_EQ(m->a.g.devices, dev("com2") | dev("com4"));
	CHECK_EQ(m->a.g.lines, BIT(3));
	CHECK(!claim(m, &m->b.g, dev("lpt2")));
	CHECK_EQ(m->b.g.lines, BIT(5));
}

TEST(dedicated_release_frees_the_device_for_the_next_vm)
{
	struct ded_rig *m = ded_rig_new("a", "b");
	REQUIRE(!claim(m, &m->a.g, dev("com2") | dev("com4")));
	ded_irq(&m->d, 3);
	ded_release(&m->a.g);
	CHECK(m->h.masked[3] && !m->h.routed[3]);
	CHECK_EQ(m->h.quiesced[ded_lookup("com2")], 2); /* at the claim, and at the release */
	CHECK_EQ(m->h.quiesced[ded_lookup("com4")], 2);
	CHECK_EQ(m->a.g.devices | m->a.g.lines | m->a.g.queued | m->a.g.in_flight, 0);
	CHECK(!m->a.g.reg);
	/* an interrupt after the owner ended goes nowhere and stays masked */
	ded_irq(&m->d, 3);
	CHECK_EQ(m->d.line[3].unowned, 1);
	CHECK(m->h.masked[3]);
	CHECK(!claim(m, &m->b.g, dev("com2")));
	CHECK(m->h.routed[3] && !m->h.masked[3]);
	/* the same VM restarted takes it again once it is free */
	ded_release(&m->b.g);
	ded_release(&m->b.g); /* twice is harmless */
	CHECK(!claim(m, &m->a.g, dev("com2")));
	CHECK(m->d.owner[ded_lookup("com2")] == &m->a.g);
}

TEST(dedicated_interrupt_is_masked_until_the_guest_eois_it)
{
	struct ded_rig *m = ded_rig_new("a", NULL);
	REQUIRE(!claim(m, &m->a.g, dev("com2")));
	CHECK(!ded_has_work(&m->a.g));

	/* arrival: the pin is masked, the owner kicked, nothing on its line yet (not running) */
	ded_irq(&m->d, 3);
	CHECK(m->h.masked[3]);
	CHECK_EQ(m->a.kicks, 1);
	CHECK_EQ(m->a.edges[3], 0);
	CHECK(ded_has_work(&m->a.g));

	/* its next entry: one edge on virtual line 3, the line low again afterwards */
	ded_update(&m->a.g);
	CHECK_EQ(m->a.edges[3], 1);
	CHECK(!m->a.level[3]);
	CHECK_EQ(m->a.g.injected[3], 1);
	CHECK(m->h.masked[3]);

	/* entries while the guest has it pending or in service: still masked, no new edge */
	for (int i = 0; i < 5; i++)
		ded_update(&m->a.g);
	CHECK(m->h.masked[3]);
	CHECK_EQ(m->a.edges[3], 1);

	/* the guest EOIs: the next entry unmasks the pin, and nothing more is raised */
	m->a.busy[3] = false;
	ded_update(&m->a.g);
	CHECK(!m->h.masked[3]);
	CHECK(!ded_has_work(&m->a.g));
	CHECK_EQ(m->a.edges[3], 1);
	CHECK_EQ(ded_injected_total(&m->a.g), 1);

	/* the device still asserted: the unmasked pin interrupts again, a second edge */
	ded_irq(&m->d, 3);
	ded_update(&m->a.g);
	CHECK_EQ(m->a.edges[3], 2);
	CHECK_EQ(m->d.line[3].arrived, 2);
	CHECK_EQ(m->d.line[3].unowned, 0);
}

TEST(dedicated_interrupts_of_two_owners_stay_apart)
{
	struct ded_rig *m = ded_rig_new("a", "b");
	REQUIRE(!claim(m, &m->a.g, dev("com2")));
	REQUIRE(!claim(m, &m->b.g, dev("lpt2")));
	ded_irq(&m->d, 5);
	CHECK_EQ(m->a.kicks, 0);
	CHECK_EQ(m->b.kicks, 1);
	ded_update(&m->a.g);
	ded_update(&m->b.g);
	CHECK_EQ(m->a.edges[3] + m->a.edges[5], 0);
	CHECK_EQ(m->b.edges[5], 1);
	/* b's interrupt in flight does not hold a's line */
	ded_irq(&m->d, 3);
	ded_update(&m->a.g);
	CHECK_EQ(m->a.edges[3], 1);
	m->a.busy[3] = false;
	ded_update(&m->a.g);
	CHECK(!m->h.masked[3]);
	CHECK(m->h.masked[5]);
	/* lines nobody owns are never unmasked, even by a stray interrupt */
	ded_irq(&m->d, 7);
	ded_irq(&m->d, 99);
	CHECK(m->h.masked[7]);
	CHECK_EQ(m->d.line[7].unowned, 1);
}

TEST(dedicated_guest_that_never_eois_costs_one_interrupt)
{
	struct ded_rig *m = ded_rig_new("a", NULL);
	REQUIRE(!claim(m, &m->a.g, dev("com3")));
	ded_irq(&m->d, 4);
	for (int i = 0; i < 1000; i++)
		ded_update(
		    &m->a.g); /* a device that keeps asserting cannot storm: the pin stays masked */
	CHECK(m->h.masked[4]);
	CHECK_EQ(m->a.edges[4], 1);
	CHECK_EQ(m->d.line[4].arrived, 1);
}

/* ---- the path through a real platform: the VM's PIC, IOAPIC and LAPIC models ---- */

#include "../../hypervisor/platform.h"
#include "../../hypervisor/vm.h"

static struct vm *platform_vm(void)
{
	struct vm *vm = test_alloc(sizeof(*vm));
	kstrlcpy(vm->name, "owner", sizeof(vm->name));
	vm->mem_bytes = 64 << 20;
	vm->nvcpus = 1;
	vm->vcpu[0].vm = vm;
	REQUIRE(platform_init(vm, &board_pc, 1000000000ULL, 0, 1767225600ULL) == NULL);
	return vm;
}

static void pout(struct vm *vm, u16 port, u32 v)
{
	struct io_access a = {port, 1, true, v};
	CHECK(io_bus_access(&vm->io, &a));
}

static void pmmio_write(struct vm *vm, u64 gpa, u32 v)
{
	struct mmio_access a = {0, 4, true, v};
	CHECK(mmio_bus_access(&vm->plat.mmio, gpa, &a));
}

/* What the run loop does before an entry: the platform brought up to date, then the vector
 * it would inject (acknowledged, as once injected), or -1. */
static int enter(struct vm *vm)
{
	platform_update(vm, 0);
	int v = platform_pending_vector(vm);
	if (v >= 0)
		platform_acknowledge(vm, v);
	return v;
}

TEST(dedicated_path_through_the_vms_pic)
{
	struct ded_rig *m = ded_rig_new(NULL, NULL);
	struct vm *vm = platform_vm();
	REQUIRE(!claim(m, &vm->ded, dev("com2")));
	pout(vm, 0x20, 0x11); /* ICW1..4: vectors 0x20-0x27, only IRQ 3 unmasked */
	pout(vm, 0x21, 0x20);
	pout(vm, 0x21, 0x04);
	pout(vm, 0x21, 0x01);
	pout(vm, 0x21, 0xf7);
	CHECK_EQ(enter(vm), -1);
	ded_irq(&m->d, 3);
	CHECK(m->h.masked[3]);
	CHECK_EQ(enter(vm), 0x23); /* queued, raised before the entry, delivered */
	CHECK_EQ(vm->ded.injected[3], 1);
	CHECK_EQ(enter(vm), -1); /* in service: nothing more, the pin still masked */
	CHECK(m->h.masked[3]);
	pout(vm, 0x20, 0x20); /* the guest's EOI */
	CHECK_EQ(enter(vm), -1);
	CHECK(!m->h.masked[3]);
	CHECK(!ded_has_work(&vm->ded));
	/* the guest masks IRQ 3 at its PIC: an interrupt waits there, the pin stays masked */
	pout(vm, 0x21, 0xff);
	ded_irq(&m->d, 3);
	CHECK_EQ(enter(vm), -1);
	CHECK_EQ(enter(vm), -1);
	CHECK(m->h.masked[3]);
	pout(vm, 0x21, 0xf7); /* unmasked: delivered now, the pin unmasked after its EOI */
	CHECK_EQ(enter(vm), 0x23);
	pout(vm, 0x20, 0x20);
	CHECK_EQ(enter(vm), -1);
	CHECK(!m->h.masked[3]);
	/* a level-triggered PIC input cannot hold an edge: one interrupt, then masked for good */
	pout(vm, 0x4d0, 0x08);
	ded_irq(&m->d, 3);
	for (int i = 0; i < 10; i++)
		enter(vm);
	CHECK(m->h.masked[3]);
	ded_release(&vm->ded);
}

TEST(dedicated_path_through_the_vms_ioapic_and_lapic)
{
	struct ded_rig *m = ded_rig_new(NULL, NULL);
	struct vm *vm = platform_vm();
	REQUIRE(!claim(m, &vm->ded, dev("com3")));
	pmmio_write(vm, 0xfee000f0, 0x1ff);   /* LAPIC software-enabled */
	pmmio_write(vm, 0xfee00350, 0x10000); /* LINT0 masked: the IOAPIC route only */
	pmmio_write(vm, 0xfec00000, 0x10 + 2 * 4);
	pmmio_write(vm, 0xfec00010, 0x34); /* pin 4: vector 0x34, edge, unmasked */
	ded_irq(&m->d, 4);
	CHECK_EQ(enter(vm), 0x34);
	CHECK(m->h.masked[4]);
	CHECK_EQ(enter(vm), -1);
	CHECK(m->h.masked[4]);		/* in service at the LAPIC */
	pmmio_write(vm, 0xfee000b0, 0); /* EOI */
	CHECK_EQ(enter(vm), -1);
	CHECK(!m->h.masked[4]);
	/* the VM's own COM1 holds line 4 up: a dedicated edge on it leaves it up */
	vm->plat.com1_level = true;
	platform_isa_irq(vm, 4, true);
	CHECK_EQ(enter(vm), 0x34);
	pmmio_write(vm, 0xfee000b0, 0);
	ded_irq(&m->d, 4);
	enter(vm);
	CHECK(vm->plat.ioapic.line & BIT(4));
	ded_release(&vm->ded);
}

/* ---- what the shell shows ---- */

#include "shell_fake.h"

TEST(dedicated_devices_in_vm_info_and_exits)
{
	struct rig *r = rig_new();
	struct vm *t1 = r->f.vms[0];
	t1->ded.devices = dev("com2");
	t1->ded.injected[3] = 7;
	CHECK_CONTAINS(run(r, "vm info tick1"),
		       "  dedicated    com2: ports 2f8-2ff, IRQ 3 (7 interrupts injected)\n");
	t1->ded.in_flight = BIT(3);
	CHECK_CONTAINS(run(r, "vm info tick1"), "(7 interrupts injected, one in the guest now)\n");
	CHECK_CONTAINS(run(r, "exits tick1"),
		       "keel:   dedicated com2 (ports 2f8-2ff, IRQ 3): 7 interrupts injected\n");
	CHECK(!strstr(run(r, "vm info tick2"), "dedicated"));
}
