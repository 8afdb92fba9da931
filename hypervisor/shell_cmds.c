/* The shell's commands: the table (name, usage, help, argument counts, handler) and the
 * handlers. They read VMs and machine memory, and act only through struct shell_ops. */
#include "shell.h"
#include "console.h"
#include "lib.h"
#include "shell_priv.h"
#include "../devices/machine_disk.h"
#include "../devices/spool.h"

static int cmd_help(struct shell *sh, int argc, char **argv);

/* ---- helpers ---- */

static u64 cycles_to_ms(const struct shell *sh, u64 cycles)
{
	if (!sh->tsc_hz)
		return 0;
	/* split so that cycles * 1000 cannot overflow */
	return cycles / sh->tsc_hz * 1000 + cycles % sh->tsc_hz * 1000 / sh->tsc_hz;
}

static const char *state_name(const struct vm *vm)
{
	switch (vm->state) {
	case VM_PAUSED:
		return "paused";
	case VM_EXITED:
		return "exited";
	case VM_STOPPED:
		return "stopped";
	default:
		break;
	}
	if (vm->vcpu[0].state == VCPU_HALTED)
		return "halted";
	return vm->vcpu[0].entries ? "running" : "ready";
}

static const char *action_name(enum cfg_action a)
{
	return a == ACTION_RESTART ? "restart" : a == ACTION_PRESERVE ? "preserve" : "destroy";
}

static unsigned vm_count(struct shell *sh)
{
	unsigned n = 0;
	for (unsigned i = 0; i < MAX_VMS; i++)
		if (sh->ops->vm_at(sh->ctx, i))
			n++;
	return n;
}

static bool refuse_ended(const struct vm *vm, const char *what)
{
	if (!vm_is_done(vm))
		return false;
	kprintf("vm %s has ended (%s): cannot %s it; `vm reset %s` starts it again\n", vm->name,
		state_name(vm), what, vm->name);
	return true;
}

static int report(const struct vm *vm, const char *action, const char *err)
{
	if (err) {
		kprintf("vm %s: cannot %s: %s\n", vm->name, action, err);
		return -1;
	}
	return 0;
}

/* ---- vm ---- */

static int cmd_vm_list(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!vm_count(sh)) {
		kprintf("no VMs\n");
		return 0;
	}
	kprintf("%3s %-16s %-8s %8s %10s %10s\n", "ID", "NAME", "STATE", "MEMORY", "CPU ms",
		"EXITS");
	for (unsigned i = 0; i < MAX_VMS; i++) {
		const struct vm *vm = sh->ops->vm_at(sh->ctx, i);
		if (!vm)
			continue;
		kprintf("%3u %-16s %-8s %4llu MiB %10llu %10llu\n", vm->id, vm->name,
			state_name(vm), (unsigned long long)(vm->mem_bytes >> 20),
			(unsigned long long)cycles_to_ms(sh, vm->vcpu[0].run_cycles),
			(unsigned long long)vm_exit_totals(vm).count);
	}
	return 0;
}

static const char *paging_name(enum vm_paging p)
{
	return p == VM_PAGING_SHADOW ? "shadow" : "ept";
}

static int cmd_vm_info(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct vm *vm = shell_vm_arg(sh, argv[1]);
	if (!vm)
		return -1;
	const struct vcpu *v = &vm->vcpu[0];
	kprintf("vm %s (id %u): %s\n", vm->name, vm->id, state_name(vm));
	if (vm->cfg) {
		const struct vm_config *c = vm->cfg;
		kprintf("  kernel       %s%s%s, %u module(s), command line '%s'\n", c->kernel,
			c->initrd[0] ? ", initrd " : "", c->initrd, c->nmodules, c->cmdline);
		kprintf("  when it ends on_poweroff %s, on_crash %s (%u crash restarts)\n",
			action_name(c->on_poweroff), action_name(c->on_crash), vm->crash_restarts);
	}
	kprintf("  memory       %llu MiB; P2M: %llu RAM frames, %llu table frames\n",
		(unsigned long long)(vm->mem_bytes >> 20), (unsigned long long)vm->p2m.nr_ram,
		(unsigned long long)vm->p2m.nr_tables);
	if (sh->frames)
		kprintf("  machine      %llu frames owned\n",
			(unsigned long long)frames_count(sh->frames, FRAME_VM(vm->id)));
	kprintf("  vpid         %u\n", vm->vpid);
	kprintf("  paging       %s (%llu live switches)", paging_name(vm->paging),
		(unsigned long long)vm->paging_switches);
	if (vm->paging == VM_PAGING_SHADOW)
		kprintf("; %u shadow pages of %u", shadow_pages(&vm->shadow), vm->shadow.limit);
	kprintf("\n");
	kprintf("  cpu time     %llu ms (%llu TSC cycles in guest and exit handling)\n",
		(unsigned long long)cycles_to_ms(sh, v->run_cycles),
		(unsigned long long)v->run_cycles);
	kprintf("  entries      %llu VM entries, %llu exits\n", (unsigned long long)v->entries,
		(unsigned long long)vm_exit_totals(vm).count);
	if (!vm_is_done(vm)) {
		kprintf("  vcpu         %s%s\n",
			v->state == VCPU_HALTED	    ? "halted"
			: v->state == VCPU_RUNNABLE ? "runnable"
						    : "done",
			v->timer_deadline ? ", one-shot timer armed" : "");
		kprintf("  console      output %s; %u input byte(s) waiting in its UART\n",
			vm->console ? "shown" : "hidden (console = off)", vm->uart.rx_count);
	}
	for (unsigned i = 0; i < ded_ndevices; i++) {
		const struct ded_device *d = &ded_devices[i];
		if (vm->ded.devices & BIT(i))
			kprintf(
			    "  dedicated    %s: ports %x-%x, IRQ %u (%llu interrupts injected%s)\n",
			    d->name, d->base, d->base + d->len - 1, d->irq,
			    (unsigned long long)vm->ded.injected[d->irq],
			    vm->ded.in_flight & BIT(d->irq) ? ", one in the guest now" : "");
	}
	if (vm->state == VM_EXITED)
		kprintf("  exit status  %u\n", vm->exit_status);
	else if (vm->state == VM_STOPPED)
		kprintf("  stop reason  %s\n", vm->stop_reason);
	return 0;
}

static int cmd_vm_pause(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct vm *vm = shell_vm_arg(sh, argv[1]);
	if (!vm || refuse_ended(vm, "pause"))
		return -1;
	if (vm->state == VM_PAUSED) {
		kprintf("vm %s is already paused\n", vm->name);
		return -1;
	}
	if (report(vm, "pause", sh->ops->pause(sh->ctx, vm)))
		return -1;
	kprintf("vm %s paused\n", vm->name);
	return 0;
}

static int cmd_vm_resume(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct vm *vm = shell_vm_arg(sh, argv[1]);
	if (!vm || refuse_ended(vm, "resume"))
		return -1;
	if (vm->state != VM_PAUSED) {
		kprintf("vm %s is not paused\n", vm->name);
		return -1;
	}
	if (report(vm, "resume", sh->ops->resume(sh->ctx, vm)))
		return -1;
	kprintf("vm %s resumed\n", vm->name);
	return 0;
}

static int cmd_vm_kill(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct vm *vm = shell_vm_arg(sh, argv[1]);
	if (!vm || refuse_ended(vm, "kill"))
		return -1;
	return report(vm, "kill", sh->ops->kill(sh->ctx, vm));
}

static int cmd_vm_reset(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct vm *vm = shell_vm_arg(sh, argv[1]);
	if (!vm)
		return -1;
	return report(vm, "reset", sh->ops->reset(sh->ctx, vm));
}

static int cmd_vm_paging(struct shell *sh, int argc, char **argv)
{
	struct vm *vm = shell_vm_arg(sh, argv[1]);
	if (!vm)
		return -1;
	if (argc == 2) {
		kprintf("vm %s: %s paging%s\n", vm->name, paging_name(vm->paging),
			vm->paging_request >= 0 ? " (a switch is pending)" : "");
		return 0;
	}
	enum vm_paging to;
	if (!strcmp(argv[2], "ept"))
		to = VM_PAGING_EPT;
	else if (!strcmp(argv[2], "shadow"))
		to = VM_PAGING_SHADOW;
	else {
		kprintf("vm paging: '%s' is not ept or shadow", argv[2]);
		shell_usage_tail(sh);
		return -1;
	}
	if (refuse_ended(vm, "switch paging of"))
		return -1;
	if (!sh->ops->set_paging) {
		kprintf("vm paging: not available\n");
		return -1;
	}
	if (report(vm, "switch paging of", sh->ops->set_paging(sh->ctx, vm, to)))
		return -1;
	kprintf("vm %s: switching to %s paging at its next entry\n", vm->name, paging_name(to));
	return 0;
}

static const struct shell_cmd vm_cmds[] = {
    {"list", "", "every VM: state, memory, CPU time, exits", 0, 0, cmd_vm_list, NULL, 0},
    {"info", "<vm>", "one VM in detail: memory, P2M, vpid, CPU time, how it ended", 1, 1,
     cmd_vm_info, NULL, 0},
    {"pause", "<vm>", "stop scheduling the VM", 1, 1, cmd_vm_pause, NULL, 0},
    {"resume", "<vm>", "schedule a paused VM again", 1, 1, cmd_vm_resume, NULL, 0},
    {"kill", "<vm>", "stop the VM and release its memory", 1, 1, cmd_vm_kill, NULL, 0},
    {"reset", "<vm>", "end the VM if it runs and boot it again from its config", 1, 1, cmd_vm_reset,
     NULL, 0},
    {"paging", "<vm> [ept|shadow]", "show the VM's paging, or switch it live", 1, 2, cmd_vm_paging,
     NULL, 0},
    {"mem", "<vm> [min=MiB] [max=MiB] [shares=N] [wss=off|invalidate|accessed]",
     "the VM's memory policy, sampled working set and target; or change them live", 1, 5,
     shell_cmd_vm_mem, NULL, 0},
    {"balloon", "[<vm> [<MiB>|auto]]",
     "VMs' balloons, the size a VM should shrink to (manual), or auto", 0, 2, shell_cmd_vm_balloon,
     NULL, 0},
    {"swap", "<vm> <MiB>", "swap that much of the VM's memory out to the swap partition now", 2, 2,
     shell_cmd_vm_swap, NULL, 0},
};

/* ---- console, exits, mem, log, loglevel ---- */

static int cmd_console(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct vm *vm = shell_vm_arg(sh, argv[1]);
	if (!vm || refuse_ended(vm, "attach to"))
		return -1;
	sh->attached = vm;
	sh->dropped = false;
	kprintf("keel: console of vm %s: what you type goes to its UART; Ctrl-] returns to the "
		"shell%s\n",
		vm->name,
		vm->console ? "" : " (its output is hidden: console = off in its config)");
	/* from now on its output passes through as it comes: prompts have no newline */
	vm_console_flush(vm);
	vm->console_raw = true;
	return 0;
}

static int cmd_exits(struct shell *sh, int argc, char **argv)
{
	if (argc == 2) {
		struct vm *vm = shell_vm_arg(sh, argv[1]);
		if (!vm)
			return -1;
		vm_print_exits(vm);
		return 0;
	}
	if (!vm_count(sh)) {
		kprintf("no VMs\n");
		return 0;
	}
	for (unsigned i = 0; i < MAX_VMS; i++) {
		const struct vm *vm = sh->ops->vm_at(sh->ctx, i);
		if (vm)
			vm_print_exits(vm);
	}
	return 0;
}

/* Console history as the terminal showed it: CR returns to column 0, BS steps back (the
 * shell's erasing and echo use both), other control bytes are dropped. */
#define LOG_RAW	 16384
#define LOG_LINE 512
static char log_raw[LOG_RAW];
static char log_text[LOG_RAW + LOG_RAW / LOG_LINE + 2];

static size_t render_log(const char *raw, size_t n, char *text)
{
	char line[LOG_LINE];
	size_t len = 0, col = 0, t = 0;
	for (size_t i = 0; i < n; i++) {
		char c = raw[i];
		if (c == '\n' || col == LOG_LINE) {
			while (len && line[len - 1] == ' ')
				len--;
			memcpy(text + t, line, len);
			t += len;
			text[t++] = '\n';
			len = col = 0;
			if (c == '\n')
				continue;
		}
		if (c == '\r') {
			col = 0;
		} else if (c == '\b') {
			if (col)
				col--;
		} else if ((unsigned char)c >= 0x20 && c != 0x7f) {
			line[col++] = c;
			if (col > len)
				len = col;
		}
	}
	memcpy(text + t, line, len);
	return t + len;
}

static int cmd_log(struct shell *sh, int argc, char **argv)
{
	u64 want = SHELL_LOG_LINES;
	if (argc == 2 && (!kparse_u64(argv[1], &want) || !want)) {
		kprintf("log: '%s' is not a line count", argv[1]);
		shell_usage_tail(sh);
		return -1;
	}
	size_t n = console_history(log_raw, sizeof(log_raw));
	size_t start = 0;
	/* a full window most likely begins mid-line: drop that piece */
	if (n == sizeof(log_raw))
		while (start < n && log_raw[start++] != '\n')
			;
	size_t t = render_log(log_raw + start, n - start, log_text);
	/* the last `want` lines; the one being typed (`log` itself) is the last */
	size_t from = t;
	u64 lines = 0;
	while (from > 0) {
		if (log_text[from - 1] == '\n' && from != t && ++lines == want)
			break;
		from--;
	}
	console_write(log_text + from, t - from);
	if (t > from && log_text[t - 1] != '\n')
		console_write("\n", 1);
	return 0;
}

static int cmd_loglevel(struct shell *sh, int argc, char **argv)
{
	enum log_level lvl;
	if (argc == 1) {
		kprintf("loglevel %s (err, warn, info, debug)\n",
			console_level_name(console_level()));
		return 0;
	}
	if (!console_parse_level(argv[1], &lvl)) {
		kprintf("unknown log level '%s'", argv[1]);
		shell_usage_tail(sh);
		return -1;
	}
	console_set_level(lvl);
	kprintf("loglevel %s\n", console_level_name(lvl));
	return 0;
}

/* ---- disk: the machine's disk, its partitions and who holds them ---- */

static int cmd_disk(struct shell *sh, int argc, char **argv)
{
	(void)sh;
	(void)argc;
	(void)argv;
	const struct machine_disk *md = &machine_disk;
	if (!md->present) {
		kprintf("no machine disk (%s)\n",
			md->absent_why[0] ? md->absent_why : "none probed");
		return 0;
	}
	char size[24];
	machine_disk_size(md->whole.sectors, size, sizeof(size));
	kprintf("disk %s: %s, %llu sectors%s, ", md->where, size,
		(unsigned long long)md->whole.sectors, md->whole.read_only ? ", read-only" : "");
	if (!md->table_ok) {
		kprintf("partition table refused: %s\n", md->table_why);
		return 0;
	}
	kprintf("%s, %u partitions\n", part_scheme_name(md->table.scheme), md->table.n);
	if (md->table.note[0])
		kprintf("  %s\n", md->table.note);
	if (!md->table.n)
		return 0;
	kprintf("  %3s  %-16s %8s %12s %10s  %s\n", "#", "name", "size", "first LBA", "sectors",
		"owner");
	for (unsigned i = 0; i < md->table.n; i++) {
		const struct part_info *p = &md->parts[i].info;
		char owners[96];
		machine_disk_size(p->sectors, size, sizeof(size));
		machine_disk_owners(md, i, owners, sizeof(owners));
		kprintf("  %3u  %-16s %8s %12llu %10llu  %s\n", p->number,
			p->name[0] ? p->name : "-", size, (unsigned long long)p->start,
			(unsigned long long)p->sectors, owners[0] ? owners : "free");
	}
	return 0;
}

/* ---- spool ---- */

/* The spool, or NULL after saying there is none. */
static struct spool *spool_arg(struct shell *sh)
{
	if (!sh->spool)
		kprintf("no spool: no VM has printer = on in its config\n");
	return sh->spool;
}

static int cmd_spool_list(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct spool *sp = spool_arg(sh);
	if (!sp)
		return -1;
	spool_list(sp);
	return 0;
}

/* hold, release and cancel: one job by its id */
static int spool_job_cmd(struct shell *sh, char **argv,
			 const char *(*act)(struct spool *sp, u32 id), const char *done)
{
	struct spool *sp = spool_arg(sh);
	if (!sp)
		return -1;
	u64 id;
	if (!kparse_u64(argv[1], &id) || !id || id > 0xffffffffULL) {
		kprintf("'%s' is not a job number (spool list shows them)", argv[1]);
		shell_usage_tail(sh);
		return -1;
	}
	const char *err = act(sp, (u32)id);
	if (err) {
		kprintf("job %llu: cannot %s it: %s\n", (unsigned long long)id, argv[0], err);
		return -1;
	}
	kprintf("job %llu %s\n", (unsigned long long)id, done);
	return 0;
}

static int cmd_spool_hold(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	return spool_job_cmd(sh, argv, spool_hold, "held");
}

static int cmd_spool_release(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	return spool_job_cmd(sh, argv, spool_release, "released");
}

static int cmd_spool_cancel(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	return spool_job_cmd(sh, argv, spool_cancel, "cancelled");
}

static int cmd_spool_printer(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct spool *sp = spool_arg(sh);
	if (!sp)
		return -1;
	bool pause = !strcmp(argv[1], "pause");
	if (!pause && strcmp(argv[1], "resume")) {
		kprintf("printer: '%s' is neither pause nor resume", argv[1]);
		shell_usage_tail(sh);
		return -1;
	}
	spool_pause(sp, pause);
	kprintf("printer %s\n", pause ? "paused: jobs stay queued" : "resumed");
	return 0;
}

static const struct shell_cmd spool_cmds[] = {
    {"list", "", "the spool table: each VM with a printer, and its jobs", 0, 0, cmd_spool_list,
     NULL, 0},
    {"hold", "<job>", "keep a queued job from printing", 1, 1, cmd_spool_hold, NULL, 0},
    {"release", "<job>", "let a held job print, in its place in the spool order", 1, 1,
     cmd_spool_release, NULL, 0},
    {"cancel", "<job>", "drop a job (one printing stops, its page ejected)", 1, 1, cmd_spool_cancel,
     NULL, 0},
    {"printer", "pause|resume", "stop or restart sending jobs to the printer", 1, 1,
     cmd_spool_printer, NULL, 0},
};

const struct shell_cmd shell_cmds[] = {
    {"help", "[cmd [sub-command]]", "list the commands, or say what one does", 0, 2, cmd_help, NULL,
     0},
    {"vm", "", "VM commands", 0, 0, NULL, vm_cmds, ARRAY_SIZE(vm_cmds)},
    {"console", "<vm>", "send what you type to the VM's UART (Ctrl-] comes back)", 1, 1,
     cmd_console, NULL, 0},
    {"exits", "[<vm>]", "VM exits by reason: counts and hypervisor cycles", 0, 1, cmd_exits, NULL,
     0},
    {"mem", "", "machine memory: total, free, boot's, the hypervisor's, each VM's", 0, 0,
     shell_cmd_mem, NULL, 0},
    {"log", "[lines]", "recent console output (default 40 lines)", 0, 1, cmd_log, NULL, 0},
    {"loglevel", "[err|warn|info|debug]", "show or set the console log level", 0, 1, cmd_loglevel,
     NULL, 0},
    {"disk", "", "the machine's disk: its partitions and the VMs holding them", 0, 0, cmd_disk,
     NULL, 0},
    {"spool", "", "the print spool of the VMs' printers", 0, 0, NULL, spool_cmds,
     ARRAY_SIZE(spool_cmds)},
    {"share", "", "content-based page sharing", 0, 0, NULL, shell_share_cmds, SHELL_NSHARE_CMDS},
    {"nic", "", "the machine's NIC: MAC, link, frame and error counters", 0, 0, shell_cmd_nic, NULL,
     0},
    {"ip", "", "Keel's own address, ARP cache, counters, control channel", 0, 0, shell_cmd_ip, NULL,
     0},
    {"ping", "<ip>", "send one ICMP echo request from Keel; the reply is logged", 1, 1,
     shell_cmd_ping, NULL, 0},
    {"net", "[link <vm> up|down]",
     "the switch's ports: MAC, link, counters; or set a VM's virtio-net link", 0, 3, shell_cmd_net,
     NULL, 0},
    {"swap", "", "the hypervisor swap: slots used and free, pages out and in per VM", 0, 0,
     shell_cmd_swap, NULL, 0},
};
const unsigned shell_ncmds = ARRAY_SIZE(shell_cmds);

/* ---- help ---- */

static void help_line(const char *prefix, const struct shell_cmd *c)
{
	char use[64];
	ksnprintf(use, sizeof(use), "%s%s%s%s%s", prefix ? prefix : "", prefix ? " " : "", c->name,
		  c->usage[0] ? " " : "", c->usage);
	kprintf("  %-30s %s\n", use, c->help);
}

static void help_cmd(const struct shell_cmd *c)
{
	if (!c->sub) {
		help_line(NULL, c);
		return;
	}
	for (unsigned i = 0; i < c->nsub; i++)
		help_line(c->name, &c->sub[i]);
}

static int cmd_help(struct shell *sh, int argc, char **argv)
{
	if (argc == 1) {
		kprintf("commands:\n");
		for (unsigned i = 0; i < shell_ncmds; i++)
			help_cmd(&shell_cmds[i]);
		kprintf("Enter runs a line; Backspace, Ctrl-U (erase line), Ctrl-C (abandon it)\n");
		return 0;
	}
	const struct shell_cmd *c = NULL;
	for (unsigned i = 0; i < shell_ncmds && !c; i++)
		if (!strcmp(shell_cmds[i].name, argv[1]))
			c = &shell_cmds[i];
	if (!c) {
		kprintf("help: unknown command '%s'", argv[1]);
		shell_usage_tail(sh);
		return -1;
	}
	if (argc == 2) {
		help_cmd(c);
		return 0;
	}
	for (unsigned i = 0; i < c->nsub; i++) {
		if (!strcmp(c->sub[i].name, argv[2])) {
			help_line(c->name, &c->sub[i]);
			return 0;
		}
	}
	kprintf("help: '%s' has no sub-command '%s'\n", c->name, argv[2]);
	return -1;
}
