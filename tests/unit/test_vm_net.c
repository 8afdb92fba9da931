/* Tests of the VMs' network (hypervisor/vm_net.c) and its config key: `net =` parsed,
 * a stable MAC made from the name, virtio-net plugged in slot 3 as a port of Keel's switch
 * that leaves with the VM, and the shell's `net` command. */
#include "shell_fake.h"
#include "../../hypervisor/config.h"
#include "../../hypervisor/platform.h"
#include "../../hypervisor/vm.h"
#include "../../hypervisor/vm_net.h"

static char msg[256];
static unsigned nmsg;

static void report(const char *m)
{
	kstrlcpy(msg, m, sizeof(msg));
	nmsg++;
}

static struct config *parse(const char *text)
{
	struct config *cfg = test_alloc(sizeof(*cfg));
	size_t len = strlen(text);
	nmsg = 0;
	config_parse(cfg, test_dup(text, len), len, "keel.cfg", report);
	return cfg;
}

TEST(config_net)
{
	struct config *c = parse("[vm]\nname = a\nkernel = k\nnet = on\n"
				 "[vm]\nname = b\nkernel = k\nnet = mac=52:54:00:AB:cd:01\n"
				 "[vm]\nname = c\nkernel = k\n"
				 "[vm]\nname = d\nkernel = k\nnet = off\n");
	REQUIRE(c->nvms == 4);
	CHECK_EQ(nmsg, 0);
	CHECK(c->vms[0].valid && c->vms[0].net && !c->vms[0].net_mac_set);
	CHECK(c->vms[1].valid && c->vms[1].net && c->vms[1].net_mac_set);
	CHECK(!memcmp(c->vms[1].net_mac, (const u8[]){0x52, 0x54, 0, 0xab, 0xcd, 1}, 6));
	CHECK(!c->vms[2].net);
	CHECK(c->vms[3].valid && !c->vms[3].net);
	static const char *const bad[] = {
	    "yes",
	    "mac=",
	    "mac=52:54:00:ab:cd",
	    "mac=52:54:00:ab:cd:0g",
	    "mac=52:54:00:ab:!d:01",
	    "mac=52-54-00-ab-cd-01",
	    "mac=52:54:00:ab:cd:011",
	    "mac=01:00:5e:00:00:01",
	    "mac=00:00:00:00:00:00",
	    "m",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[128];
		ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\nnet = %s\n", bad[i]);
		c = parse(text);
		CHECK(!c->vms[0].valid);
		CHECK_EQ(nmsg, 1);
		CHECK(!strncmp(msg, "keel.cfg:4: field 'net': ", 25));
	}
}

TEST(vm_net_mac_is_stable_local_unicast)
{
	struct vm_config a = {.net = true}, b = {.net = true};
	kstrlcpy(a.name, "linux1", sizeof(a.name));
	kstrlcpy(b.name, "linux2", sizeof(b.name));
	u8 m1[6], m2[6], again[6];
	vm_net_mac(&a, m1);
	vm_net_mac(&b, m2);
	vm_net_mac(&a, again);
	CHECK(!memcmp(m1, again, 6));
	CHECK(memcmp(m1, m2, 6));
	CHECK_EQ(m1[0], 0x52);
	CHECK(m1[0] & 2);    /* locally administered */
	CHECK(!(m1[0] & 1)); /* unicast */
	a.net_mac_set = true;
	memcpy(a.net_mac, (const u8[]){2, 1, 2, 3, 4, 5}, 6);
	vm_net_mac(&a, m1);
	CHECK(!memcmp(m1, (const u8[]){2, 1, 2, 3, 4, 5}, 6));
}

static u32 cfg_read(struct vm *vm, unsigned slot, unsigned off)
{
	struct io_access a = {0xcf8, 4, true, 0x80000000u | slot << 11 | off};
	CHECK(io_bus_access(&vm->io, &a));
	a = (struct io_access){0xcfc, 4, false, 0};
	CHECK(io_bus_access(&vm->io, &a));
	return a.value;
}

static const char *boot(struct vm *vm, struct vm_config *cfg)
{
	kstrlcpy(cfg->name, vm->name, sizeof(cfg->name));
	vm->cfg = cfg;
	vm->mem_bytes = 64 << 20;
	return platform_init(vm, &board_pc, 1000000000ULL, 0, 1767225600ULL);
}

TEST(vm_net_plugs_virtio_net_in_slot_3_on_a_switch_port)
{
	struct rig *r = rig_new();
	struct vm *a = r->f.vms[0], *b = r->f.vms[1], *c = r->f.vms[2];
	struct vm_config ca = {.valid = true, .net = true}, cb = ca, cc = {.valid = true};
	REQUIRE(boot(a, &ca) == NULL);
	REQUIRE(boot(b, &cb) == NULL);
	REQUIRE(boot(c, &cc) == NULL);
	CHECK_EQ(cfg_read(a, VM_VIRTIO_NET_SLOT, 0), 0x10411af4);
	CHECK_EQ(cfg_read(c, VM_VIRTIO_NET_SLOT, 0), 0xffffffff); /* no `net =`: no function */
	struct vswitch *sw = vm_net_switch();
	REQUIRE(a->plat.net_on && b->plat.net_on && !c->plat.net_on);
	CHECK_EQ(vswitch_find(sw, "tick1"), (int)a->plat.net_port);
	u8 mac[6];
	vm_net_mac(&ca, mac);
	CHECK(!memcmp(sw->port[a->plat.net_port].mac, mac, 6));
	CHECK(!memcmp(a->plat.vnet.mac, mac, 6));
	/* the switch delivers to the VM's virtio-net: with no driver yet, counted there */
	u8 f[60] = {0};
	vm_net_mac(&cb, f + 6);
	memcpy(f, mac, 6);
	struct net_endpoint in = vswitch_port_input(sw, b->plat.net_port);
	net_deliver(&in, f, sizeof(f));
	CHECK_EQ(a->plat.vnet.drops[VNET_DROP_RX_OFF], 1);
	/* an ended VM (kept for a look at its memory) takes no more */
	a->state = VM_STOPPED;
	net_deliver(&in, f, sizeof(f));
	CHECK_EQ(a->plat.vnet.drops[VNET_DROP_RX_OFF], 2);
	a->state = VM_READY;
	/* the platform's state stream carries the device (its link), and takes it back */
	a->plat.vnet.link_up = false;
	static u8 buf[64 << 10];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	platform_save(a, &w);
	REQUIRE(!w.overflow);
	a->plat.vnet.link_up = true;
	struct state_reader sr = {buf, w.len, 0, false};
	CHECK(platform_load(a, &sr));
	CHECK(!a->plat.vnet.link_up);
	a->plat.vnet.link_up = true;
	/* the shell shows the ports and sets a link */
	const char *out = run(r, "net");
	CHECK_CONTAINS(out, "uplink");
	CHECK_CONTAINS(out, "tick1");
	CHECK_CONTAINS(out, "tick2");
	CHECK_CONTAINS(out, "rx-driver-off 2");
	CHECK_CONTAINS(run(r, "net link tick1 down"), "vm tick1: link down");
	CHECK(!a->plat.vnet.link_up);
	CHECK(!sw->port[a->plat.net_port].link_up);
	CHECK_CONTAINS(run(r, "net"), "link down");
	CHECK_CONTAINS(run(r, "net link tick1 up"), "vm tick1: link up");
	CHECK(a->plat.vnet.link_up);
	CHECK_CONTAINS(run(r, "net link hello up"), "vm hello has no network");
	CHECK_CONTAINS(run(r, "net link tick1 sideways"), "usage: net [link <vm> up|down]");
	CHECK_CONTAINS(run(r, "net link nobody up"), "unknown vm 'nobody'");
	/* a second VM with the same MAC (same name here) gets no port */
	struct vm *d = add_vm(r, 3, "tick1");
	struct vm_config cd = {.valid = true, .net = true};
	CHECK_CONTAINS(boot(d, &cd), "virtio-net: no switch port");
	/* a VM that goes away takes its port with it */
	unsigned port = a->plat.net_port;
	vm_net_release(a);
	CHECK(!sw->port[port].used);
	CHECK(!a->plat.net_on);
	vm_net_release(a); /* twice is harmless */
	vm_net_release(b);
	vm_net_release(c);
	CHECK_EQ(vswitch_find(sw, "tick2"), -1);
}
