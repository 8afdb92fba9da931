/* The shell's network commands: `nic` (the machine's NIC), `ip` and `ping` (Keel's own
 * stack) and `net` (the virtual switch's ports and the VMs' virtio-net). */
#include "shell_priv.h"
#include "vm_net.h"
#include "../devices/e1000.h"
#include "../net/ctl.h"
#include "../net/netstack.h"
#include "../net/router.h"

/* ---- nic ---- */

int shell_cmd_nic(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct e1000 *n = sh->nic;
	if (!n) {
		kprintf("no NIC (%s)\n", sh->nic_absent ? sh->nic_absent : "none probed");
		return 0;
	}
	e1000_stats_update(n);
	const struct e1000_stats *s = &n->st;
	const u8 *m = n->mac;
	kprintf("nic 82540EM: MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s, %s\n", m[0], m[1], m[2],
		m[3], m[4], m[5], n->link_up ? "up" : "down", n->irq_on ? "interrupts" : "polled");
	kprintf("  rx %llu frames %llu bytes, tx %llu frames %llu bytes\n",
		(unsigned long long)s->rx_frames, (unsigned long long)s->rx_bytes,
		(unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes);
	kprintf("  dropped: rx errors %llu, rx bad length %llu, rx fragments %llu, tx %llu "
		"(bad length %llu)\n",
		(unsigned long long)s->rx_errors, (unsigned long long)s->rx_bad_length,
		(unsigned long long)s->rx_fragments, (unsigned long long)s->tx_dropped,
		(unsigned long long)s->tx_bad_length);
	kprintf("  ring resets %llu, link changes %llu, interrupt causes seen %llu\n",
		(unsigned long long)s->ring_resets, (unsigned long long)s->link_changes,
		(unsigned long long)s->irqs);
	kprintf(
	    "  NIC: all rx %llu (%llu bytes) tx %llu (%llu bytes), good rx %llu (%llu bytes) tx "
	    "%llu (%llu bytes)\n",
	    (unsigned long long)s->hw_rx_total, (unsigned long long)s->hw_rx_total_octets,
	    (unsigned long long)s->hw_tx_total, (unsigned long long)s->hw_tx_total_octets,
	    (unsigned long long)s->hw_rx_good, (unsigned long long)s->hw_rx_octets,
	    (unsigned long long)s->hw_tx_good, (unsigned long long)s->hw_tx_octets);
	kprintf("  NIC errors: CRC %llu, alignment %llu, rx %llu, missed %llu, no buffers %llu, "
		"undersize %llu, oversize %llu\n",
		(unsigned long long)s->hw_crc_errors, (unsigned long long)s->hw_align_errors,
		(unsigned long long)s->hw_rx_errors, (unsigned long long)s->hw_missed,
		(unsigned long long)s->hw_no_buffers, (unsigned long long)s->hw_undersize,
		(unsigned long long)s->hw_oversize);
	return 0;
}

/* ---- Keel's own network stack ---- */

int shell_cmd_ip(struct shell *sh, int argc, char **argv)
{
	(void)argc, (void)argv;
	if (!sh->net) {
		kprintf("ip: off (Keel's command line has no net=dhcp or net=ADDRESS/PREFIX)\n");
		return 0;
	}
	netstack_print(sh->net);
	if (sh->ctl)
		ctl_print(sh->ctl);
	else
		kprintf("  control channel: off (no ctl_key= on Keel's command line)\n");
	return 0;
}

int shell_cmd_ping(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	u32 ip;
	if (!sh->net) {
		kprintf("ping: Keel is not on the network (net= on its command line)\n");
		return -1;
	}
	if (!ip4_parse(argv[1], &ip)) {
		kprintf("ping: '%s' is not an IPv4 address", argv[1]);
		shell_usage_tail(sh);
		return -1;
	}
	if (!netstack_ping(sh->net, ip)) {
		kprintf("ping: cannot send to %s (no address yet, or no route)\n", argv[1]);
		return -1;
	}
	kprintf("ping: echo request %u sent to %s; `ip` counts the replies\n", sh->net->ping_seq,
		argv[1]);
	return 0;
}

/* ---- net: the virtual switch's ports and the VMs' virtio-net ---- */

static void print_mac(const u8 *m)
{
	kprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void print_net_port(struct shell *sh, const struct vswitch *sw, unsigned i)
{
	const struct vsw_port *p = &sw->port[i];
	kprintf("  %-16s ", p->name);
	if (p->kind == VSW_PORT_VM)
		print_mac(p->mac);
	else
		kprintf("%-17s", p->out.rx ? "trunk" : "trunk, unconnected");
	kprintf(" link %-4s rx %llu frames %llu bytes, tx %llu frames %llu bytes\n",
		p->link_up ? "up" : "down", (unsigned long long)p->st.rx_frames,
		(unsigned long long)p->st.rx_bytes, (unsigned long long)p->st.tx_frames,
		(unsigned long long)p->st.tx_bytes);
	bool any = false;
	for (unsigned d = 0; d < VSW_NDROPS; d++)
		if (p->st.drops[d]) {
			kprintf("%s %s %llu", any ? "," : "    switch drops:", vswitch_drop_name(d),
				(unsigned long long)p->st.drops[d]);
			any = true;
		}
	if (any)
		kprintf("\n");
	struct vm *vm = p->kind == VSW_PORT_VM ? shell_find_vm(sh, p->name) : NULL;
	if (!vm || !vm->plat.net_on || vm->plat.net_port != i)
		return;
	const struct virtio_net *vn = &vm->plat.vnet;
	kprintf("    virtio-net: driver %s, guest tx %llu frames, rx %llu frames, %llu checksums "
		"filled",
		vn->vp.broken				    ? "broken"
		: (vn->vp.status & VIRTIO_STATUS_DRIVER_OK) ? "on"
							    : "off",
		(unsigned long long)vn->tx_frames, (unsigned long long)vn->rx_frames,
		(unsigned long long)vn->csum_filled);
	for (unsigned d = 0; d < VNET_NDROPS; d++)
		if (vn->drops[d])
			kprintf(", %s %llu", virtio_net_drop_name(d),
				(unsigned long long)vn->drops[d]);
	kprintf("\n");
}

int shell_cmd_net(struct shell *sh, int argc, char **argv)
{
	struct vswitch *sw = vm_net_switch();
	if (argc == 1) {
		kprintf("switch: %u learned addresses (%llu learned, %llu moved, %llu aged, "
			"%llu forgotten for room)\n",
			vswitch_learned_count(sw), (unsigned long long)sw->learned,
			(unsigned long long)sw->moved, (unsigned long long)sw->aged,
			(unsigned long long)sw->table_full);
		for (unsigned i = 0; i < VSW_MAX_PORTS; i++)
			if (sw->port[i].used)
				print_net_port(sh, sw, i);
		if (sh->router)
			router_print(sh->router);
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "link") ||
	    (strcmp(argv[3], "up") && strcmp(argv[3], "down"))) {
		kprintf("net: unknown arguments");
		shell_usage_tail(sh);
		return -1;
	}
	struct vm *vm = shell_vm_arg(sh, argv[2]);
	if (!vm)
		return -1;
	bool up = !strcmp(argv[3], "up");
	if (!vm_net_set_link(vm, up)) {
		kprintf("vm %s has no network (its config has no `net =`)\n", vm->name);
		return -1;
	}
	kprintf("vm %s: link %s\n", vm->name, up ? "up" : "down");
	return 0;
}
