/* Keel's switch and the VMs' ports on it: a VM's virtio-net transmits into its port's
 * input, and the switch delivers to virtio_net_receive(). Ports come and go with the VMs. */
#include "vm_net.h"
#include "config.h"
#include "console.h"
#include "keel.h"
#include "lib.h"
#include "vm.h"

static struct vswitch keel_switch;
static bool switch_ready;

static u64 switch_clock(void *ctx)
{
	(void)ctx;
	return time_now();
}

struct vswitch *vm_net_switch(void)
{
	if (!switch_ready) {
		vswitch_init(&keel_switch, switch_clock, NULL, VSW_DEFAULT_AGE * tsc_hz);
		switch_ready = true;
	}
	return &keel_switch;
}

bool vm_has_net(const struct vm_config *cfg)
{
	return cfg->net;
}

void vm_net_mac(const struct vm_config *cfg, u8 mac[6])
{
	if (cfg->net_mac_set) {
		memcpy(mac, cfg->net_mac, 6);
		return;
	}
	u32 h = 2166136261u; /* FNV-1a of the name */
	for (const char *s = cfg->name; *s; s++)
		h = (h ^ (u8)*s) * 16777619u;
	mac[0] = 0x52; /* 0x52: bit 1 set (locally administered), bit 0 clear (unicast) */
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (u8)(h >> 16);
	mac[4] = (u8)(h >> 8);
	mac[5] = (u8)h;
}

/* A VM that has ended (kept stopped for a look at its memory) takes no more frames. */
static void to_guest(void *ctx, const u8 *frame, size_t len)
{
	struct vm *vm = ctx;
	if (vm_is_done(vm)) {
		vm->plat.vnet.drops[VNET_DROP_RX_OFF]++;
		return;
	}
	virtio_net_receive(&vm->plat.vnet, frame, len);
}

static void net_broke(void *ctx, const char *why)
{
	kprintf("keel: vm %s virtio-net needs a reset: %s\n", ((struct vm *)ctx)->name, why);
}

const char *vm_net_plug(struct vm *vm)
{
	struct platform *p = &vm->plat;
	struct vswitch *sw = vm_net_switch();
	u8 mac[6];
	vm_net_mac(vm->cfg, mac);
	struct net_endpoint to_vm = {to_guest, vm};
	int port = vswitch_add_port(sw, VSW_PORT_VM, vm->name, mac, &to_vm);
	if (port < 0)
		return "virtio-net: no switch port (its MAC is another VM's, or all ports taken)";
	struct net_endpoint to_switch = vswitch_port_input(sw, (unsigned)port);
	if (!virtio_net_init(&p->vnet, &vm->p2m, mac, &to_switch) ||
	    !pci_host_plug(&p->pci, VM_VIRTIO_NET_SLOT, &p->vnet.vp.f)) {
		vswitch_remove_port(sw, (unsigned)port);
		return "virtio-net could not be plugged";
	}
	p->vnet.vp.on_break = net_broke;
	p->vnet.vp.break_ctx = vm;
	p->net_port = (unsigned)port;
	p->net_on = true;
	kprintf("keel: vm %s virtio-net %02x:%02x:%02x:%02x:%02x:%02x on switch port %d\n",
		vm->name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], port);
	return NULL;
}

void vm_net_release(struct vm *vm)
{
	struct platform *p = &vm->plat;
	if (!p->net_on)
		return;
	struct vswitch *sw = vm_net_switch();
	const struct vsw_stats *st = &sw->port[p->net_port].st;
	const struct virtio_net *vn = &p->vnet;
	u64 sw_drops = 0, vn_drops = 0;
	for (unsigned i = 0; i < VSW_NDROPS; i++)
		sw_drops += st->drops[i];
	for (unsigned i = 0; i < VNET_NDROPS; i++)
		vn_drops += vn->drops[i];
	/* the port's life in one line, for the log and the checks */
	kprintf("keel: vm %s net: switch took %llu frames (%llu bytes), gave %llu frames (%llu "
		"bytes), dropped %llu (%llu spoofed); virtio-net dropped %llu, %llu checksums "
		"filled\n",
		vm->name, (unsigned long long)st->rx_frames, (unsigned long long)st->rx_bytes,
		(unsigned long long)st->tx_frames, (unsigned long long)st->tx_bytes,
		(unsigned long long)sw_drops, (unsigned long long)st->drops[VSW_DROP_SPOOF],
		(unsigned long long)vn_drops, (unsigned long long)vn->csum_filled);
	vswitch_remove_port(sw, p->net_port);
	p->net_on = false;
}

bool vm_net_set_link(struct vm *vm, bool up)
{
	struct platform *p = &vm->plat;
	if (!p->net_on)
		return false;
	vswitch_set_link(vm_net_switch(), p->net_port, up);
	virtio_net_set_link(&p->vnet, up);
	return true;
}
