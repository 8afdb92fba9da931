/* kmain: from the boot loader's hand-off to running VMs. Order: console, traps, boot
 * info, machine frames, time, VMX, config, VMs, then the scheduler loop, which also feeds
 * COM1 input to the shell; the actions the shell may take are implemented here. */
#include "bootinfo.h"
#include "config.h"
#include "console.h"
#include "keel.h"
#include "lib.h"
#include "sched.h"
#include "shell.h"
#include "time.h"
#include "trap.h"
#include "uart_hw.h"
#include "dedicated_hw.h"
#include "vm_create.h"
#include "../devices/machine_disk.h"
#include "../devices/machine_disk_hw.h"
#include "../vmx/vmx.h"
#include "../devices/parport_hw.h"
#include "../devices/spool.h"
#include "overcommit.h"
#include "../mm/share.h"
#include "../mm/wss.h"
#include "../mm/swap.h"
#include "../devices/e1000_hw.h"
#include "../net/ctl.h"
#include "../net/netstack.h"
#include "../net/router.h"
#include "../devices/e1000.h"
#include "../devices/vswitch.h"
#include "vm_net.h"
#include "net_fwd.h"

#define SLICE_MS 10

extern char __image_start[], __image_end[];

static struct boot_info boot;
static struct config config;
static struct sched sched;
static bool shutdown_when_idle;
static bool test_hypercalls;
static char disk_selftest[40]; /* disk_selftest=PART: the machine disk's boot self-test */
static bool nic_selftest;      /* nic_selftest: ARP to slirp's gateway through the machine's NIC */
static u64 boot_tsc;
static struct shell shell;

/* Keel's own network stack (net=) and its control channel (ctl_key=, ctl_port=). */
static struct netstack_config net_cfg;
static struct netstack keel_net;
static struct ctl keel_ctl;
static bool net_on;
static char ctl_key[CTL_KEY_MAX + 2]; /* one more than allowed: a longer key is refused */
static u16 ctl_port = CTL_PORT_DEFAULT;

/* The print spool and the machine's printer, set up when a VM has printer = on. */
static struct spool spool;
static bool spool_on;
static bool spool_start_paused; /* spool=paused: the printer takes nothing until resumed */

static struct parport parport;
static const struct spool_printer printer_port = {parport_put_cb, &parport};
static struct platform_printers printers;
/* bytes sent to the printer per scheduler pass: a long job never holds up the VMs */
#define PRINT_BUDGET 512

static void report_config_error(const char *msg)
{
	kprintf("keel: config error: %s\n", msg);
}

static void setup_memory(void)
{
	struct addr_range res[BOOT_MAX_MODULES + 3];
	unsigned n = 0;
	res[n++] = (struct addr_range){0, 0x100000};
	res[n++] = (struct addr_range){virt_to_phys(__image_start), virt_to_phys(__image_end)};
	res[n++] = (struct addr_range){boot.mbi_start, boot.mbi_end};
	for (unsigned i = 0; i < boot.nmodules; i++)
		res[n++] = (struct addr_range){boot.modules[i].start, boot.modules[i].end};
	/* the boot page tables map 4 GiB: frames above are not reachable yet */
	const char *err =
	    frames_init(&machine_frames, boot.regions, boot.nregions, res, n, 4ULL << 30);
	if (err)
		panic("memory: %s", err);
	kprintf("memory: %llu MiB usable, %llu MiB free for VMs\n",
		(unsigned long long)(machine_frames.ntotal >> 8),
		(unsigned long long)(machine_frames.nfree >> 8));
}

static void parse_cmdline(void)
{
	char v[16];
	enum log_level lvl;
	if (cmdline_get(boot.cmdline, "loglevel", v, sizeof(v))) {
		if (console_parse_level(v, &lvl))
			console_set_level(lvl);
		else
			pr_warn("keel: unknown loglevel '%s' (err, warn, info, debug)\n", v);
	}
	if (cmdline_get(boot.cmdline, "on_idle", v, sizeof(v))) {
		if (!strcmp(v, "shutdown"))
			shutdown_when_idle = true;
		else if (strcmp(v, "halt"))
			pr_warn("keel: unknown on_idle '%s' (halt, shutdown)\n", v);
	}
	panic_set_shutdown(shutdown_when_idle);
	overcommit_parse_cmdline(boot.cmdline);
	test_hypercalls = cmdline_get(boot.cmdline, "test_hypercalls", NULL, 0);
	if (test_hypercalls)
		pr_warn("keel: test hypercalls enabled: a guest can break its own VM\n");
	if (!cmdline_get(boot.cmdline, "disk_selftest", disk_selftest, sizeof(disk_selftest)))
		disk_selftest[0] = 0;
	if (cmdline_get(boot.cmdline, "spool", v, sizeof(v))) {
		if (!strcmp(v, "paused"))
			spool_start_paused = true;
		else
			pr_warn("keel: unknown spool '%s' (paused)\n", v);
	}
	nic_selftest = cmdline_get(boot.cmdline, "nic_selftest", NULL, 0);
	char nv[48];
	if (cmdline_get(boot.cmdline, "net", nv, sizeof(nv))) {
		const char *why = netstack_parse_config(nv, &net_cfg);
		if (why)
			pr_warn("keel: net=%s: %s: Keel stays off the network\n", nv, why);
	}
	if (!cmdline_get(boot.cmdline, "ctl_key", ctl_key, sizeof(ctl_key)))
		ctl_key[0] = 0;
	u64 port;
	if (cmdline_get(boot.cmdline, "ctl_port", v, sizeof(v))) {
		if (kparse_u64(v, &port) && port && port < 65536)
			ctl_port = (u16)port;
		else
			pr_warn("keel: ctl_port=%s is not a port: %u used\n", v, ctl_port);
	}
}

/* The command line as printed at boot: the value of ctl_key= is the secret, never shown. */
static void print_cmdline(void)
{
	char out[256];
	size_t o = 0;
	const char *p = boot.cmdline;
	while (*p && o + 1 < sizeof(out)) {
		if ((p == boot.cmdline || p[-1] == ' ') && !strncmp(p, "ctl_key=", 8)) {
			for (const char *m = "ctl_key=***"; *m && o + 1 < sizeof(out);)
				out[o++] = *m++;
			while (*p && *p != ' ')
				p++;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = 0;
	kprintf("boot: loader '%s', command line '%s', %u modules\n", boot.loader, out,
		boot.nmodules);
}

static struct printer_sink spool_attach_vm(void *ctx, const char *name)
{
	return spool_attach(ctx, name);
}

/* The machine disk's partition named `spool`, held by the spool alone; NULL (jobs kept in
 * memory) when the machine has no such partition. */
static const struct blk_backend *spool_partition(void)
{
	static struct blk_backend part;
	char why[96];
	if (!machine_disk.present || machine_disk_find(&machine_disk, "spool") < 0)
		return NULL;
	if (!machine_disk_claim(&machine_disk, "spool", false, "spool", &part, why, sizeof(why))) {
		pr_warn("spool: partition spool not usable: %s\n", why);
		return NULL;
	}
	return &part;
}

static void setup_spool(void)
{
	bool have_port = parport_init(&parport, &parport_hw_ops, PARPORT_LPT1);
	if (!have_port)
		pr_warn("spool: no parallel port at 0x%x: jobs are kept but not printed\n",
			PARPORT_LPT1);
	spool_init(&spool, spool_partition(), NULL, have_port ? &printer_port : NULL);
	printers = (struct platform_printers){spool_attach_vm, &spool, spool.lim.idle_ns};
	platform_set_printers(&printers);
	shell.spool = &spool;
	spool_on = true;
	if (spool_start_paused) {
		spool_pause(&spool, true);
		pr_info("spool: printer paused from the command line (spool printer resume)\n");
	}
}

/* The VM ended or was reset: its printer's open job is whole. */
static void printer_closed(const struct vm *vm)
{
	if (spool_on && vm->cfg && vm->cfg->printer)
		spool_vm_closed(&spool, vm->name);
}

/* Before Keel shuts down: every whole job goes to the printer (bounded if it hangs). */
static void drain_spool(void)
{
	unsigned stalled = 0;
	while (spool_on && spool_busy(&spool) && stalled < 1000)
		stalled = spool_print(&spool, 4096) ? 0 : stalled + 1;
	if (spool_on && spool_busy(&spool))
		pr_warn("spool: the printer stopped taking bytes: jobs left in the spool\n");
}

static bool install_forwards(const struct vm_config *c);
static void remove_forwards(const struct vm_config *c);

static void create_vms(void)
{
	const struct boot_module *m = boot_find_module(&boot, "keel.cfg");
	if (!m) {
		kprintf("keel: no keel.cfg module: no VMs to start\n");
		return;
	}
	config_parse(&config, phys_to_virt(m->start), m->end - m->start, "keel.cfg",
		     report_config_error);
	sched_init(&sched, tsc_hz / 1000 * SLICE_MS);
	for (unsigned i = 0; i < config.nvms; i++)
		if (config.vms[i].valid && config.vms[i].printer && !spool_on)
			setup_spool();
	/* jobs kept on the disk from an earlier run are printed even if no VM prints now */
	if (!spool_on && machine_disk.present && machine_disk_find(&machine_disk, "spool") >= 0)
		setup_spool();
	for (unsigned i = 0; i < config.nvms; i++) {
		const struct vm_config *c = &config.vms[i];
		if (!c->valid) {
			kprintf("keel: vm %s (keel.cfg:%u) not started: config errors above\n",
				c->name[0] ? c->name : "(unnamed)", c->line);
			continue;
		}
		const char *err;
		if (!install_forwards(c))
			continue;
		struct vm *vm = vm_create(c, &boot, test_hypercalls, &err);
		if (!vm) {
			kprintf("keel: vm %s not started: %s\n", c->name, err);
			remove_forwards(c);
			continue;
		}
		sched_add(&sched, &vm->vcpu[0]);
	}
}

/* A control-channel request: one shell line, its output captured instead of printed. */
static int ctl_run_shell(void *ctx, char *line, char *out, size_t size, size_t *out_len)
{
	(void)ctx;
	static const char trunc_note[] = "\n[output truncated]\n";
	const char *w = line;
	while (*w == ' ' || *w == '\t')
		w++;
	if (!strncmp(w, "console", 7) && (!w[7] || w[7] == ' ' || w[7] == '\t')) {
		int n = ksnprintf(out, size, "console: only on the serial line\n");
		*out_len = n < 0 ? 0 : MIN((size_t)n, size);
		return -1;
	}
	char copy[64];
	kstrlcpy(copy, line, sizeof(copy));
	bool truncated;
	console_capture_begin(out, size);
	int rc = shell_run_line(&shell, line);
	*out_len = console_capture_end(&truncated);
	if (truncated && size > sizeof(trunc_note)) {
		memcpy(out + size - sizeof(trunc_note) + 1, trunc_note, sizeof(trunc_note) - 1);
		*out_len = size;
	}
	pr_info("ctl: ran '%s': rc %d, %zu bytes of output\n", copy, rc, *out_len);
	return rc;
}

/* Puts Keel on the network through tx, with the NIC's MAC. */
static void setup_net(const u8 mac[ETH_ALEN], struct net_endpoint tx)
{
	if (net_cfg.mode == NET_OFF) {
		if (ctl_key[0])
			pr_warn("keel: ctl_key= without net=: no control channel\n");
		return;
	}
	netstack_init(&keel_net, mac, tx, &net_cfg);
	net_on = true;
	shell.net = &keel_net;
	if (!ctl_key[0]) {
		pr_info("net: no ctl_key=: the control channel is off\n");
		return;
	}
	const char *why = ctl_init(&keel_ctl, &keel_net, ctl_key, ctl_port, ctl_run_shell, NULL);
	if (why) {
		pr_warn("net: control channel off: %s\n", why);
		return;
	}
	shell.ctl = &keel_ctl;
	pr_info("net: control channel on udp port %u\n", ctl_port);
}

/* The VMs' network meets the outside on the switch's uplink: their gateway (net/router.c,
 * 10.0.0.254 on 10.0.0.0/24) translates their flows to Keel's own address, which Keel's
 * stack sends through the machine's NIC; replies come back the same way. */
#define VM_GATEWAY_IP IP4(10, 0, 0, 254)
#define VM_NETMASK    IP4(255, 255, 255, 0)
static struct router vm_router;
static const u8 vm_gateway_mac[ETH_ALEN] = {0x52, 0x54, 0x00, 0x4b, 0x45, 0xfe};

static void stack_to_nic(void *nic, const u8 *frame, size_t len)
{
	e1000_tx(nic, frame, len);
}

static bool router_send_ip(void *ctx, const u8 *pkt, size_t len)
{
	(void)ctx;
	return net_on && keel_net.configured && netstack_send_ip(&keel_net, pkt, len);
}

static bool stack_ip_hook(void *ctx, const u8 *pkt, size_t len)
{
	(void)ctx;
	return router_outside_input(&vm_router, pkt, len);
}

/* Keel's stack on the machine's NIC (its MAC and rings), the VMs' gateway on the switch. */
static void setup_network(void)
{
	struct vswitch *sw = vm_net_switch();
	router_init(&vm_router, VM_GATEWAY_IP, VM_NETMASK, vm_gateway_mac,
		    vswitch_port_input(sw, VSW_UPLINK),
		    (struct router_outside){router_send_ip, NULL});
	vswitch_set_uplink(sw, &(struct net_endpoint){router_inside_input, &vm_router});
	shell.router = &vm_router;
	struct e1000 *nic = machine_nic();
	static const u8 no_nic_mac[ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	if (!nic) {
		if (net_cfg.mode != NET_OFF)
			pr_warn("net: no NIC (%s): Keel's frames go nowhere\n",
				machine_nic_absent_why() ? machine_nic_absent_why() : "none found");
		setup_net(no_nic_mac, (struct net_endpoint){NULL, NULL});
		return;
	}
	setup_net(nic->mac, (struct net_endpoint){stack_to_nic, nic});
	if (net_on) {
		e1000_set_rx(nic, (struct net_endpoint){netstack_input, &keel_net});
		netstack_set_ip_hook(&keel_net, stack_ip_hook, NULL);
	}
}

/* A VM's ip = and fwd = on the gateway, before it starts: refused, the VM does not start. */
static bool install_forwards(const struct vm_config *c)
{
	char why[128];
	if (!net_fwd_install(&vm_router, net_on ? &keel_net : NULL, c, why, sizeof(why))) {
		kprintf("keel: vm %s not started: %s\n", c->name, why);
		return false;
	}
	for (unsigned i = 0; i < c->nfwds; i++)
		pr_info("net: vm %s: %s port %u of Keel's address forwarded to %u.%u.%u.%u:%u\n",
			c->name, c->fwds[i].proto == IP_PROTO_TCP ? "tcp" : "udp",
			c->fwds[i].ex_port, c->net_ip >> 24, (c->net_ip >> 16) & 255,
			(c->net_ip >> 8) & 255, c->net_ip & 255, c->fwds[i].in_port);
	return true;
}

static void remove_forwards(const struct vm_config *c)
{
	net_fwd_remove(&vm_router, c);
}

/* Each pass: the gateway's clock, and Keel's outside address as DHCP leased it. */
static void poll_network(u64 now)
{
	if (net_on) {
		netstack_poll(&keel_net, now);
		router_set_outside_address(&vm_router, keel_net.configured ? keel_net.ip : 0);
	}
	router_poll(&vm_router, now);
}

static u64 now_ns(void)
{
	u64 t = time_now();
	return t / tsc_hz * 1000000000ULL + t % tsc_hz * 1000000000ULL / tsc_hz;
}

/* A VM that keeps crashing right after each restart is not restarted forever. */
#define MAX_CRASH_RESTARTS 3

static void vm_report(const struct vm *vm)
{
	const struct vcpu *v = &vm->vcpu[0];
	vm_print_exits(vm);
	kprintf("keel: vm %s ran %llu cycles in %llu entries on %s paging", vm->name,
		(unsigned long long)v->run_cycles, (unsigned long long)v->entries,
		vm->paging == VM_PAGING_SHADOW ? "shadow" : "EPT");
	if (vm->paging_switches)
		kprintf(", %llu live paging switches", (unsigned long long)vm->paging_switches);
	if (vm->dirty_rounds) {
		kprintf(", %llu dirty-log rounds (%llu pages)",
			(unsigned long long)vm->dirty_rounds, (unsigned long long)vm->dirty_pages);
		if (vm->pml_used)
			kprintf(" (PML: %llu pages logged, %llu PML-full exits, %llu ignored)",
				(unsigned long long)vm->pml_logged,
				(unsigned long long)vm->pml_full_exits,
				(unsigned long long)vm->pml_ignored);
		else
			kprintf(" (write protection)");
	}
	kprintf("\n");
	const struct wss_vm *wv = vm_wss ? wss_vm_of(vm_wss, &vm->p2m) : NULL;
	if (wv && (wv->want != WSS_OFF || wv->periods)) {
		u32 f;
		wss_active_fraction(vm_wss, &vm->p2m, &f);
		u64 p = wv->periods ? wv->periods : 1;
		kprintf(
		    "keel: vm %s working set: %s, %llu periods, %llu of %llu samples touched "
		    "(mean %llu.%llu%%), last %llu%%, fast %llu%%, slow %llu%%, estimate %llu%%; "
		    "%llu sampling faults, %llu cycles/period, %llu gone, %llu fallbacks, %llu "
		    "discarded\n",
		    vm->name, wss_method_name(wv->method), (unsigned long long)wv->periods,
		    (unsigned long long)wv->touched, (unsigned long long)wv->sampled,
		    (unsigned long long)(wv->sampled ? wv->touched * 100 / wv->sampled : 0),
		    (unsigned long long)(wv->sampled ? wv->touched * 1000 / wv->sampled % 10 : 0),
		    (unsigned long long)(wv->last * 100ULL / WSS_ONE),
		    (unsigned long long)(wv->fast * 100ULL / WSS_ONE),
		    (unsigned long long)(wv->slow * 100ULL / WSS_ONE),
		    (unsigned long long)(f * 100ULL / WSS_ONE), (unsigned long long)wv->faults,
		    (unsigned long long)(wv->cycles / p), (unsigned long long)wv->gone,
		    (unsigned long long)wv->fallbacks, (unsigned long long)wv->discarded);
	}
	const struct share_vm *sv = vm_sharing ? share_vm_of(vm_sharing, &vm->p2m) : NULL;
	if (sv && sv->on)
		kprintf("keel: vm %s page sharing: %llu pages scanned (%llu passes), %llu shared "
			"(%llu zero), %llu copies on write, %llu nonzero from another VM\n",
			vm->name, (unsigned long long)sv->scanned, (unsigned long long)sv->passes,
			(unsigned long long)sv->shared, (unsigned long long)sv->zero_shared,
			(unsigned long long)vm->p2m.cow_breaks,
			(unsigned long long)sv->cross_shared);
	if (vm->cfg->populate_lazy)
		kprintf("keel: vm %s populate-on-demand: %llu pages populated on first touch, %llu "
			"waits for memory\n",
			vm->name, (unsigned long long)vm->p2m.populated,
			(unsigned long long)vm->p2m.mem_waits);
	const struct swap_vm *swv = vm->swap ? swap_vm_of(vm->swap, &vm->p2m) : NULL;
	if (swv && (swv->on || swv->st.out))
		kprintf(
		    "keel: vm %s swap: %llu pages out, %llu in, %llu in swap now, %llu checksum "
		    "failures, %llu I/O errors, %llu cycles a page out, %llu a page in\n",
		    vm->name, (unsigned long long)swv->st.out, (unsigned long long)swv->st.in,
		    (unsigned long long)swv->swapped, (unsigned long long)swv->st.checksum_failures,
		    (unsigned long long)swv->st.io_errors,
		    (unsigned long long)(swv->st.out ? swv->st.cycles_out / swv->st.out : 0),
		    (unsigned long long)(swv->st.in ? swv->st.cycles_in / swv->st.in : 0));
}

/* The end of a VM: its report, then what its config says to do (on_poweroff after an exit,
 * on_crash after a stop); a reset the guest asked for always builds it again. */
static void vm_finished(struct vm *vm)
{
	bool crashed = vm->state == VM_STOPPED;
	enum cfg_action act = vm->reboot ? ACTION_RESTART
			      : crashed	 ? vm->cfg->on_crash
					 : vm->cfg->on_poweroff;
	vm_report(vm);
	printer_closed(vm);
	if (act == ACTION_RESTART) {
		if (crashed && vm->crash_restarts == MAX_CRASH_RESTARTS) {
			kprintf(
			    "keel: vm %s crashed %u times after restarts: not restarted again\n",
			    vm->name, MAX_CRASH_RESTARTS + 1);
			vm_release(vm);
			shell_vm_ended(&shell, vm);
			return;
		}
		vm->crash_restarts = crashed ? vm->crash_restarts + 1 : 0;
		kprintf("keel: vm %s restarting (%s)\n", vm->name,
			vm->reboot ? "reset by the guest"
			: crashed  ? "on_crash = restart"
				   : "on_poweroff = restart");
		const char *err;
		if (!vm_restart(vm, &boot, &err)) {
			kprintf("keel: vm %s not restarted: %s\n", vm->cfg->name, err);
			shell_vm_ended(&shell, vm);
		}
		/* restarted in the same slot: an attached shell console stays attached */
		return;
	}
	if (act == ACTION_PRESERVE)
		kprintf("keel: vm %s preserved: stopped, its memory kept (%llu MiB)\n", vm->name,
			(unsigned long long)(vm->mem_bytes >> 20));
	else
		vm_release(vm);
	shell_vm_ended(&shell, vm);
}

/* ---- what the shell may ask; it runs between scheduler passes, never inside vmx_run ---- */

static struct vm *shell_vm_at(void *ctx, unsigned i)
{
	(void)ctx;
	return vm_by_index(i);
}

static const char *shell_pause(void *ctx, struct vm *vm)
{
	(void)ctx;
	vm->state = VM_PAUSED; /* sched_pick passes over it; its timer still fires */
	return NULL;
}

static const char *shell_resume(void *ctx, struct vm *vm)
{
	(void)ctx;
	vm->state = VM_READY;
	return NULL;
}

/* Killed means gone: not restarted or preserved whatever on_crash says. */
static const char *shell_kill(void *ctx, struct vm *vm)
{
	(void)ctx;
	vm_stop(vm, "killed from the shell");
	vm_report(vm);
	printer_closed(vm);
	vm_release(vm);
	shell_vm_ended(&shell, vm);
	return NULL;
}

static const char *shell_reset(void *ctx, struct vm *vm)
{
	(void)ctx;
	const char *err;
	if (!vm_is_done(vm)) {
		vm_stop(vm, "reset from the shell");
		vm_report(vm);
	}
	printer_closed(vm);
	vm->crash_restarts = 0;
	return vm_restart(vm, &boot, &err) ? NULL : err;
}

static const char *shell_console_input(void *ctx, struct vm *vm, u8 c)
{
	(void)ctx;
	return uart_receive(&vm->uart, c) ? NULL : "its UART receive FIFO is full";
}

static const char *shell_set_paging(void *ctx, struct vm *vm, enum vm_paging to)
{
	(void)ctx;
	if (to == VM_PAGING_EPT && vmx_no_ept_reason)
		return "this CPU cannot run guests on EPT";
	vm->paging_request = (int)to;
	return NULL;
}

static const struct shell_ops shell_actions = {
    shell_vm_at, shell_pause,	      shell_resume,	shell_kill,
    shell_reset, shell_console_input, shell_set_paging,
};

/* COM1 is polled (no UART interrupt): on every scheduler pass and every idle tick. */
static void poll_console(void)
{
	int c;
	while ((c = uart_hw_getc()) >= 0)
		shell_input(&shell, (u8)c);
	shell_refresh(&shell);
}

static void report_finished(void)
{
	unsigned exited = 0, stopped = 0;
	for (unsigned i = 0; i < MAX_VMS; i++) {
		struct vm *vm = vm_by_index(i);
		if (vm && vm->state == VM_EXITED)
			exited++;
		else if (vm && vm->state == VM_STOPPED)
			stopped++;
	}
	kprintf("keel: all VMs finished: %u exited, %u stopped\n", exited, stopped);
	/* what the VMs' network did, when they had one */
	if (vm_router.st.in_frames)
		router_print(&vm_router);
	if (net_on)
		netstack_print(&keel_net);
	kprintf("keel: uptime %llu ms (TSC), %llu timer ticks\n",
		(unsigned long long)((time_now() - boot_tsc) / (tsc_hz / 1000)),
		(unsigned long long)time_ticks());
}

/* The page-sharing table in frames of the hypervisor's: sharing is off if there are none. */
static __noreturn void run_vms(void)
{
	bool idle = false;
	kprintf("keel: shell on this console: press Enter for the prompt, `help` lists commands\n");
	for (;;) {
		poll_console();
		machine_nic_poll();
		poll_network(now_ns());
		if (spool_on)
			spool_print(&spool, PRINT_BUDGET);
		overcommit_poll();
		struct vcpu *v = sched_pick(&sched, time_now());
		if (v) {
			idle = false;
			if (vmx_run(v, time_now() + sched.slice) == RUN_DONE)
				vm_finished(v->vm);
			continue;
		}
		if (!sched_all_done(&sched)) {
			idle = false;
		} else if (!idle) {
			idle = true;
			drain_spool();
			report_finished();
			if (shutdown_when_idle)
				platform_shutdown();
			kprintf("keel: idle\n");
			shell_activate(&shell);
		}
		/* everyone is halted, paused or ended: sleep until the tick, then look again */
		irq_wait_hw();
	}
}

void kmain(u32 magic, u32 mbi)
{
	uart_hw_init();
	console_set_sink(uart_hw_write);
	kprintf("\nKeel %d.%d hypervisor\n", 0, 1);
	trap_init();
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("not started by a multiboot2 boot loader (magic %x)", magic);
	const char *err = mb2_parse(phys_to_virt(mbi), &boot);
	if (err)
		panic("boot info: %s", err);
	parse_cmdline();
	print_cmdline();
	char refused[512];
	if (boot_refused_line(&boot, refused, sizeof(refused)))
		kprintf("boot: %s\n", refused);
	setup_memory();
	time_init();
	ded_hw_init();
	boot_tsc = time_now();
	machine_disk_boot();
	if (disk_selftest[0])
		machine_disk_selftest(disk_selftest, 4);
	machine_nic_boot();
	if (nic_selftest)
		machine_nic_selftest();
	err = vmx_init();
	if (err) {
		kprintf("keel: cannot run VMs: %s\n", err);
		if (shutdown_when_idle)
			platform_shutdown();
		cpu_halt_forever_hw();
	}
	shell_init(&shell, &shell_actions, NULL, &machine_frames, tsc_hz);
	console_set_write_hook(shell_console_hook, &shell);
	overcommit_setup(&shell);
	if (vm_sharing)
		vm_sharing->now = time_now; /* the scanner's cycles for `share stats` */
	shell.nic = machine_nic();
	shell.nic_absent = machine_nic_absent_why();
	setup_network();
	create_vms();
	run_vms();
}
