/* Tests of the serial shell's commands (hypervisor/shell_cmds.c): the captured console and
 * the fake shell_ops' log of calls say what each did: dispatch and help, vm list/info,
 * pause/resume/kill/reset, console attach, exits, mem, log, loglevel, paging, disk. */
#include "shell_fake.h"
#include "../../devices/e1000.h"

/* ---- dispatch and help ---- */

TEST(shell_unknown_command)
{
	struct rig *r = rig_new();
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"frob"}), -1);
	CHECK_STR(
	    test_console(),
	    "unknown command 'frob'; commands: help, vm, console, exits, mem, "
	    "log, loglevel, disk, spool, share, nic, ip, ping, net, swap (help [cmd] says more)\n");
}

TEST(shell_vm_needs_a_sub_command)
{
	struct rig *r = rig_new();
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"vm"}), -1);
	CHECK_STR(test_console(), "usage: vm list|info|pause|resume|kill|reset|paging|mem|"
				  "balloon|swap ...\n");
	test_console_clear();
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"vm frob tick1"}), -1);
	CHECK_STR(test_console(),
		  "vm: unknown sub-command 'frob'; usage: vm "
		  "list|info|pause|resume|kill|reset|paging|mem|balloon|swap ...\n");
}

TEST(shell_help)
{
	struct rig *r = rig_new();
	const char *out = run(r, "help");
	const char *want[] = {"help [cmd [sub-command]]",
			      "vm list",
			      "vm info <vm>",
			      "vm pause <vm>",
			      "vm resume <vm>",
			      "vm kill <vm>",
			      "vm reset <vm>",
			      "console <vm>",
			      "exits [<vm>]",
			      "mem",
			      "log [lines]",
			      "loglevel [err|warn|info|debug]"};
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		CHECK_CONTAINS(out, want[i]);
	out = run(r, "help vm");
	CHECK_CONTAINS(out, "vm reset <vm>");
	CHECK(!strstr(out, "loglevel"));
	out = run(r, "help vm info");
	CHECK_CONTAINS(out, "  vm info <vm>");
	CHECK_EQ(count(out, "\n"), 2);
	CHECK_CONTAINS(run(r, "help mem"), "machine memory");
	CHECK_CONTAINS(run(r, "help frob"),
		       "help: unknown command 'frob'; usage: help [cmd [sub-command]]\n");
	CHECK_CONTAINS(run(r, "help vm frob"), "help: 'vm' has no sub-command 'frob'\n");
	CHECK_CONTAINS(run(r, "help a b c"), "usage: help [cmd [sub-command]]\n");
}

/* ---- vm list / info ---- */

TEST(shell_vm_list)
{
	struct rig *r = rig_new();
	struct vm *t1 = r->f.vms[0], *t2 = r->f.vms[1], *h = r->f.vms[2];
	t1->vcpu[0].run_cycles = 2500000000ULL; /* 2.5 s at 1 GHz */
	t1->vcpu[0].entries = 10;
	t1->exits[EXIT_HLT].count = 7;
	t1->exits[EXIT_VMCALL].count = 5;
	t2->state = VM_PAUSED;
	h->state = VM_EXITED;
	h->mem_bytes = 32ULL << 20;
	const char *out = run(r, "vm list");
	CHECK_CONTAINS(out, " ID NAME             STATE      MEMORY     CPU ms      EXITS\n");
	CHECK_CONTAINS(out, "  0 tick1            running    16 MiB       2500         12\n");
	CHECK_CONTAINS(out, "  1 tick2            paused     16 MiB          0          0\n");
	CHECK_CONTAINS(out, "  2 hello            exited     32 MiB          0          0\n");
	t1->vcpu[0].state = VCPU_HALTED;
	CHECK_CONTAINS(run(r, "vm list"), "tick1            halted");
	r->f.vms[1]->vcpu[0].entries = 0;
	r->f.vms[1]->state = VM_READY;
	CHECK_CONTAINS(run(r, "vm list"), "tick2            ready");
	CHECK_CONTAINS(run(r, "vm list x"), "usage: vm list\n");
}

TEST(shell_vm_list_without_vms)
{
	struct rig *r = rig_new();
	memset(r->f.vms, 0, sizeof(r->f.vms));
	CHECK_CONTAINS(run(r, "vm list"), "no VMs\n");
	CHECK_CONTAINS(run(r, "exits"), "no VMs\n");
	CHECK_CONTAINS(run(r, "vm info tick1"),
		       "unknown vm 'tick1'; vms: none; usage: vm info <vm>\n");
}

TEST(shell_vm_info_running)
{
	struct rig *r = rig_new();
	struct vm *vm = r->f.vms[0];
	static struct vm_config cfg = {.valid = true,
				       .name = "tick1",
				       .kernel = "ticker.elf",
				       .initrd = "initrd.img",
				       .cmdline = "quiet",
				       .nmodules = 1,
				       .on_crash = ACTION_RESTART};
	vm->cfg = &cfg;
	vm->crash_restarts = 2;
	vm->p2m.nr_ram = 4000;
	vm->p2m.nr_tables = 9;
	vm->vcpu[0].run_cycles = 1500000;
	vm->vcpu[0].entries = 42;
	vm->vcpu[0].state = VCPU_HALTED;
	vm->vcpu[0].timer_deadline = 1;
	vm->exits[EXIT_CPUID].count = 40;
	vm->uart.rx_count = 3;
	const char *out = run(r, "vm info tick1");
	CHECK_CONTAINS(out, "vm tick1 (id 0): halted\n");
	CHECK_CONTAINS(out, "kernel       ticker.elf, initrd initrd.img, 1 module(s), command line "
			    "'quiet'\n");
	CHECK_CONTAINS(out,
		       "when it ends on_poweroff destroy, on_crash restart (2 crash restarts)\n");
	CHECK_CONTAINS(out, "memory       16 MiB; P2M: 4000 RAM frames, 9 table frames\n");
	CHECK_CONTAINS(out, "vpid         1\n");
	CHECK_CONTAINS(out, "cpu time     1 ms (1500000 TSC cycles");
	CHECK_CONTAINS(out, "entries      42 VM entries, 40 exits\n");
	CHECK_CONTAINS(out, "vcpu         halted, one-shot timer armed\n");
	CHECK_CONTAINS(out, "console      output shown; 3 input byte(s) waiting in its UART\n");
	vm->console = false;
	CHECK_CONTAINS(run(r, "vm info tick1"),
		       "console      output hidden (console = off); 3 input");
	CHECK(!strstr(out, "machine")); /* no frame allocator given */
	/* a VM can be named by its id too */
	CHECK_CONTAINS(run(r, "vm info 2"), "vm hello (id 2)");
}

TEST(shell_vm_info_ended)
{
	struct rig *r = rig_new();
	r->f.vms[1]->state = VM_EXITED;
	r->f.vms[1]->exit_status = 1;
	vm_stop(r->f.vms[2], "triple fault at rip %x", 0x1234);
	const char *out = run(r, "vm info tick2");
	CHECK_CONTAINS(out, "vm tick2 (id 1): exited\n");
	CHECK_CONTAINS(out, "exit status  1\n");
	CHECK(!strstr(out, "vcpu "));
	out = run(r, "vm info hello");
	CHECK_CONTAINS(out, "vm hello (id 2): stopped\n");
	CHECK_CONTAINS(out, "stop reason  triple fault at rip 1234\n");
}

TEST(shell_vm_info_errors)
{
	struct rig *r = rig_new();
	CHECK_CONTAINS(run(r, "vm info nosuch"),
		       "unknown vm 'nosuch'; vms: tick1 tick2 hello; usage: vm info <vm>\n");
	CHECK_CONTAINS(run(r, "vm info 7"), "unknown vm '7'");
	CHECK_CONTAINS(run(r, "vm info"), "usage: vm info <vm>\n");
	CHECK_CONTAINS(run(r, "vm info tick1 tick2"), "usage: vm info <vm>\n");
}

/* ---- vm pause / resume / kill / reset ---- */

TEST(shell_vm_pause_and_resume)
{
	struct rig *r = rig_new();
	CHECK_CONTAINS(run(r, "vm pause tick1"), "vm tick1 paused\n");
	CHECK_EQ(r->f.vms[0]->state, VM_PAUSED);
	CHECK_CONTAINS(run(r, "vm pause tick1"), "vm tick1 is already paused\n");
	CHECK_CONTAINS(run(r, "vm resume tick2"), "vm tick2 is not paused\n");
	CHECK_CONTAINS(run(r, "vm resume tick1"), "vm tick1 resumed\n");
	CHECK_EQ(r->f.vms[0]->state, VM_READY);
	CHECK_STR(r->f.calls, "pause tick1;resume tick1;");
}

TEST(shell_vm_pause_errors)
{
	struct rig *r = rig_new();
	r->f.vms[2]->state = VM_EXITED;
	CHECK_CONTAINS(run(r, "vm pause hello"),
		       "vm hello has ended (exited): cannot pause it; `vm reset hello` starts it "
		       "again\n");
	CHECK_CONTAINS(run(r, "vm resume hello"), "cannot resume it");
	CHECK_CONTAINS(run(r, "vm pause nosuch"), "unknown vm 'nosuch'; vms: tick1 tick2 hello; "
						  "usage: vm pause <vm>\n");
	CHECK_CONTAINS(run(r, "vm pause"), "usage: vm pause <vm>\n");
	CHECK_CONTAINS(run(r, "vm resume"), "usage: vm resume <vm>\n");
	CHECK_STR(r->f.calls, "");
	r->f.fail = "the scheduler said no";
	CHECK_CONTAINS(run(r, "vm pause tick1"), "vm tick1: cannot pause: the scheduler said no\n");
	CHECK_EQ(r->f.vms[0]->state, VM_READY);
	r->f.vms[0]->state = VM_PAUSED;
	CHECK_CONTAINS(run(r, "vm resume tick1"), "vm tick1: cannot resume: the scheduler said no");
	CHECK_STR(r->f.calls, "pause tick1;resume tick1;");
}

TEST(shell_vm_kill)
{
	struct rig *r = rig_new();
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"vm kill tick2"}), 0);
	CHECK_STR(r->f.calls, "kill tick2;");
	CHECK_EQ(r->f.vms[1]->state, VM_STOPPED);
	CHECK_STR(r->f.vms[1]->stop_reason, "killed from the shell");
	CHECK_CONTAINS(run(r, "vm kill tick2"), "vm tick2 has ended (stopped): cannot kill it");
	CHECK_CONTAINS(run(r, "vm kill"), "usage: vm kill <vm>\n");
	CHECK_CONTAINS(run(r, "vm kill nosuch"), "unknown vm 'nosuch'");
	r->f.fail = "busy";
	CHECK_CONTAINS(run(r, "vm kill tick1"), "vm tick1: cannot kill: busy\n");
	CHECK_STR(r->f.calls, "kill tick2;kill tick1;");
}

TEST(shell_vm_reset)
{
	struct rig *r = rig_new();
	r->f.vms[2]->state = VM_EXITED;
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"vm reset hello"}), 0);
	CHECK_EQ(r->f.vms[2]->state, VM_READY);
	/* a running VM can be reset too: the hypervisor ends it first */
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"vm reset tick1"}), 0);
	CHECK_STR(r->f.calls, "reset hello;reset tick1;");
	CHECK_CONTAINS(run(r, "vm reset"), "usage: vm reset <vm>\n");
	CHECK_CONTAINS(run(r, "vm reset nosuch"), "unknown vm 'nosuch'");
	r->f.fail = "not enough machine memory for the guest";
	CHECK_CONTAINS(run(r, "vm reset hello"),
		       "vm hello: cannot reset: not enough machine memory for the guest\n");
}

/* ---- console attach ---- */

TEST(shell_console_routes_input_until_the_escape)
{
	struct rig *r = rig_new();
	const char *out = run(r, "console tick2");
	CHECK_CONTAINS(out, "keel: console of vm tick2: what you type goes to its UART; Ctrl-] "
			    "returns to the shell\n");
	/* no prompt while attached */
	size_t n = strlen(out);
	CHECK(n < 6 || strcmp(out + n - 6, "keel> "));
	CHECK(r->sh.attached == r->f.vms[1]);
	test_console_clear();
	/* every byte goes to the VM untouched, Ctrl-C and Enter included; nothing is echoed */
	type(r, "ls\r\x03\x7f");
	CHECK_EQ(r->f.ninput, 5);
	CHECK(!memcmp(r->f.input, "ls\r\x03\x7f", 5));
	CHECK_STR(test_console(), "");
	shell_refresh(&r->sh);
	CHECK_STR(test_console(), "");
	shell_input(&r->sh, SHELL_ESCAPE);
	CHECK(r->sh.attached == NULL);
	CHECK_STR(test_console(), "keel: console of vm tick2 detached (Ctrl-])\nkeel> ");
	CHECK_EQ(r->f.ninput, 5);
	/* back in the shell */
	CHECK_CONTAINS(run(r, "vm list"), "NAME");
	CHECK_EQ(r->f.ninput, 5);
}

TEST(shell_console_detach_starts_a_line)
{
	struct rig *r = rig_new();
	run(r, "console tick1");
	kprintf("login: "); /* a guest prompt without a newline */
	test_console_clear();
	shell_input(&r->sh, SHELL_ESCAPE);
	CHECK_STR(test_console(), "\nkeel: console of vm tick1 detached (Ctrl-])\nkeel> ");
}

TEST(shell_console_reports_dropped_input_once)
{
	struct rig *r = rig_new();
	run(r, "console tick1");
	test_console_clear();
	type(r, "0123456789");
	CHECK_EQ(r->f.ninput, 8);
	CHECK_STR(test_console(), "keel: vm tick1: input dropped: its UART receive FIFO is full\n");
	r->f.ninput = 0; /* the guest read its FIFO */
	test_console_clear();
	type(r, "ab");
	CHECK_STR(test_console(), "");
	CHECK_EQ(r->f.ninput, 2);
}

TEST(shell_console_detaches_when_the_vm_ends)
{
	struct rig *r = rig_new();
	run(r, "console hello");
	shell_vm_ended(&r->sh, r->f.vms[0]); /* another VM: no effect */
	CHECK(r->sh.attached == r->f.vms[2]);
	test_console_clear();
	vm_exit_with_status(r->f.vms[2], 1);
	shell_vm_ended(&r->sh, r->f.vms[2]);
	CHECK(r->sh.attached == NULL);
	shell_refresh(&r->sh);
	CHECK_STR(test_console(), "keel: vm hello exited: status 1\nkeel: console of vm hello "
				  "detached (the VM ended)\nkeel> ");
}

TEST(shell_console_input_after_the_vm_ended_goes_to_the_shell)
{
	struct rig *r = rig_new();
	run(r, "console hello");
	r->f.vms[2]->state = VM_STOPPED; /* nobody told the shell */
	const char *out = run(r, "vm list");
	CHECK_CONTAINS(out, "detached (the VM ended)");
	CHECK_CONTAINS(out, "NAME");
	CHECK_EQ(r->f.ninput, 0);
}

TEST(shell_console_errors)
{
	struct rig *r = rig_new();
	r->f.vms[2]->state = VM_EXITED;
	CHECK_CONTAINS(run(r, "console hello"), "vm hello has ended (exited): cannot attach to it");
	CHECK(r->sh.attached == NULL);
	CHECK_CONTAINS(run(r, "console nosuch"), "; usage: console <vm>\n");
	CHECK_CONTAINS(run(r, "console"), "usage: console <vm>\n");
	CHECK_CONTAINS(run(r, "console tick1 tick2"), "usage: console <vm>\n");
	CHECK(r->sh.attached == NULL);
	/* attaching to a VM whose output is hidden says so */
	r->f.vms[1]->console = false;
	CHECK_CONTAINS(run(r, "console tick2"),
		       "(its output is hidden: console = off in its config)\n");
	shell_input(&r->sh, SHELL_ESCAPE);
	/* a paused VM's console takes input: its FIFO holds it */
	r->f.vms[0]->state = VM_PAUSED;
	run(r, "console tick1");
	CHECK(r->sh.attached == r->f.vms[0]);
}

/* ---- exits, mem, log, loglevel ---- */

TEST(shell_exits)
{
	struct rig *r = rig_new();
	r->f.vms[0]->exits[EXIT_HLT] = (struct exit_stat){4, 400};
	r->f.vms[2]->exits[EXIT_CPUID] = (struct exit_stat){2, 100};
	const char *out = run(r, "exits");
	CHECK_CONTAINS(out, "keel: exits for vm tick1: total 4, hypervisor cycles 400\n");
	CHECK_CONTAINS(out, "keel: exits for vm tick2: total 0");
	CHECK_CONTAINS(out, "keel: exits for vm hello: total 2, hypervisor cycles 100\n");
	CHECK_CONTAINS(out, "HLT");
	CHECK_CONTAINS(out, "CPUID");
	out = run(r, "exits hello");
	CHECK_CONTAINS(out, "keel: exits for vm hello");
	CHECK(!strstr(out, "tick1"));
	CHECK_CONTAINS(run(r, "exits nosuch"), "; usage: exits [<vm>]\n");
	CHECK_CONTAINS(run(r, "exits a b"), "usage: exits [<vm>]\n");
}

TEST(shell_mem)
{
	struct rig *r = rig_new();
	/* 1 MiB of "machine memory": 256 frames, the first holds the owner table (boot's) */
	u8 *m = test_alloc_aligned(PAGE_SIZE, 1 << 20);
	struct mem_region reg = {virt_to_phys(m), 1 << 20, MEM_USABLE};
	struct frames fa;
	REQUIRE(frames_init(&fa, &reg, 1, NULL, 0, UINT64_MAX) == NULL);
	for (unsigned i = 0; i < 3; i++)
		CHECK(frames_alloc(&fa, FRAME_HV));
	for (unsigned i = 0; i < 10; i++)
		CHECK(frames_alloc(&fa, FRAME_VM(0)));
	for (unsigned i = 0; i < 20; i++)
		CHECK(frames_alloc(&fa, FRAME_VM(2)));
	r->sh.frames = &fa;
	const char *out = run(r, "mem");
	CHECK_CONTAINS(out, "machine memory: 256 frames usable, 222 free\n");
	CHECK_CONTAINS(out, "  total                     256 frames       1.0 MiB\n");
	CHECK_CONTAINS(out, "  free                      222 frames       0.8 MiB\n");
	CHECK_CONTAINS(out, "  boot (never freed)          1 frames       0.0 MiB\n");
	CHECK_CONTAINS(out, "  hypervisor                  3 frames       0.0 MiB\n");
	CHECK_CONTAINS(out, "  vm tick1                   10 frames       0.0 MiB\n");
	CHECK_CONTAINS(out, "  vm tick2                    0 frames");
	CHECK_CONTAINS(out, "  vm hello                   20 frames       0.0 MiB\n");
	CHECK(!strstr(out, "other owners"));
	/* frames of a VM the shell does not know are shown, not hidden */
	CHECK(frames_alloc(&fa, FRAME_VM(9)));
	CHECK_CONTAINS(run(r, "mem"), "  other owners                1 frames");
	/* vm info counts the frames a VM owns */
	CHECK_CONTAINS(run(r, "vm info hello"), "machine      20 frames owned\n");
	CHECK_CONTAINS(run(r, "mem x"), "usage: mem\n");
	r->sh.frames = NULL;
	CHECK_CONTAINS(run(r, "mem"), "machine memory is not set up\n");
}

TEST(shell_log_shows_recent_lines)
{
	struct rig *r = rig_new();
	kprintf("alpha\nbeta\n");
	const char *out = run(r, "log 3");
	CHECK_STR(out, "keel> log 3\nalpha\nbeta\nkeel> log 3\nkeel> ");
	out = run(r, "log 1");
	CHECK_STR(out, "log 1\nkeel> log 1\nkeel> ");
	/* the default is SHELL_LOG_LINES lines */
	for (unsigned i = 0; i < 60; i++)
		kprintf("line %u\n", i);
	out = run(r, "log");
	CHECK_CONTAINS(out, "line 59\n");
	CHECK_CONTAINS(out, "line 21\n");
	CHECK(!strstr(out, "line 20\n"));
	CHECK_CONTAINS(run(r, "log x"), "log: 'x' is not a line count; usage: log [lines]\n");
	CHECK_CONTAINS(run(r, "log 0"), "not a line count");
	CHECK_CONTAINS(run(r, "log 1 2"), "usage: log [lines]\n");
}

TEST(shell_log_shows_what_the_terminal_showed)
{
	struct rig *r = rig_new();
	hook_on(r);
	shell_activate(&r->sh);
	type(r, "xyz");
	kprintf("gamma\n"); /* erases "keel> xyz" */
	shell_refresh(&r->sh);
	type(r, "\x15");
	const char *out = run(r, "log 2");
	/* the erased prompt and the erased "xyz" do not come back */
	CHECK_CONTAINS(out, "gamma\nkeel> log 2\n");
	CHECK(!strstr(out, "xyz"));
	CHECK(!strstr(out, "\b"));
	hook_off();
}

TEST(shell_loglevel)
{
	struct rig *r = rig_new();
	CHECK_CONTAINS(run(r, "loglevel"), "loglevel info (err, warn, info, debug)\n");
	CHECK_CONTAINS(run(r, "loglevel debug"), "loglevel debug\n");
	CHECK_EQ(console_level(), LOG_DEBUG);
	CHECK_CONTAINS(run(r, "loglevel loud"),
		       "unknown log level 'loud'; usage: loglevel [err|warn|info|debug]\n");
	CHECK_EQ(console_level(), LOG_DEBUG);
	CHECK_CONTAINS(run(r, "loglevel err warn"), "usage: loglevel [err|warn|info|debug]\n");
	CHECK_CONTAINS(run(r, "loglevel err"), "loglevel err\n");
	CHECK_EQ(console_level(), LOG_ERR);
}

TEST(shell_vm_paging_shows_and_switches)
{
	struct rig *r = rig_new();
	r->f.vms[0]->paging_request = -1;
	CHECK_CONTAINS(run(r, "vm paging tick1"), "vm tick1: ept paging\n");
	CHECK_CONTAINS(run(r, "vm paging tick1 shadow"),
		       "vm tick1: switching to shadow paging at its next entry\n");
	CHECK_EQ(r->f.vms[0]->paging_request, VM_PAGING_SHADOW);
	CHECK_CONTAINS(run(r, "vm paging tick1"), "(a switch is pending)");
	CHECK_CONTAINS(run(r, "vm paging tick1 nested"), "'nested' is not ept or shadow");
	CHECK_CONTAINS(run(r, "vm paging tick1 nested"), "usage: vm paging <vm> [ept|shadow]\n");
	r->f.vms[2]->state = VM_EXITED;
	CHECK_CONTAINS(run(r, "vm paging hello ept"), "has ended");
	r->f.fail = "this CPU cannot run guests on EPT";
	CHECK_CONTAINS(run(r, "vm paging tick2 ept"),
		       "vm tick2: cannot switch paging of: this CPU cannot run guests on EPT\n");
	CHECK_STR(r->f.calls, "paging tick1;paging tick2;");
}

/* ---- disk ---- */

#include "part_fake.h"
#include "../../devices/machine_disk.h"

TEST(shell_disk_lists_partitions_and_their_owners)
{
	struct rig *r = rig_new();
	machine_disk_absent(&machine_disk, "ata0-slave: no device");
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"disk"}), 0);
	CHECK_STR(test_console(), "no machine disk (ata0-slave: no device)\n");
	test_console_clear();

	static struct ramdisk_img img;
	struct blk_backend whole = img_new(&img, 4096);
	const struct gpt_part_spec parts[] = {{34, 2081, "vm1", 0}, {2082, 4061, "spool", 2}};
	gpt_build(img.data, 4096, parts, 2);
	REQUIRE(machine_disk_attach(&machine_disk, &whole, "ata0-slave"));
	struct blk_backend b;
	char why[120];
	REQUIRE(machine_disk_claim(&machine_disk, "vm1", false, "tick1", &b, why, sizeof(why)));
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"disk"}), 0);
	CHECK_STR(test_console(),
		  "disk ata0-slave: 2 MiB, 4096 sectors, GPT, 2 partitions\n"
		  "    #  name                 size    first LBA    sectors  owner\n"
		  "    1  vm1                 1 MiB           34       2048  tick1 (rw)\n"
		  "    3  spool             990 KiB         2082       1980  free\n");
	test_console_clear();
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"disk x"}), -1);
	test_console_clear();

	/* the primary damaged: the backup is used, and `disk` says so */
	img.data[512 + 40] ^= 1;
	REQUIRE(machine_disk_attach(&machine_disk, &whole, "ata0-slave"));
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"disk"}), 0);
	CHECK_CONTAINS(test_console(),
		       "\n  primary GPT refused (header CRC mismatch): the backup used\n");
	test_console_clear();
	/* both damaged: the table is refused, with why */
	img.data[4095 * 512 + 40] ^= 1;
	CHECK(!machine_disk_attach(&machine_disk, &whole, "ata0-slave"));
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"disk"}), 0);
	CHECK_STR(test_console(),
		  "disk ata0-slave: 2 MiB, 4096 sectors, partition table refused: GPT: "
		  "primary: header CRC mismatch; backup: header CRC mismatch\n");
	machine_disk_reset(&machine_disk);
}

/* ---- nic ---- */

static u32 nic_reg(void *ctx, u32 reg)
{
	(void)ctx;
	return reg == E1000_CRCERRS ? 2 : reg == E1000_MPC ? 1 : 0;
}

TEST(shell_nic_shows_mac_link_and_counters)
{
	struct rig *r = rig_new();
	CHECK_CONTAINS(run(r, "nic"), "no NIC (none probed)\n");
	r->sh.nic_absent = "no 82540EM (8086:100e) on PCI bus 0";
	CHECK_CONTAINS(run(r, "nic"), "no NIC (no 82540EM (8086:100e) on PCI bus 0)\n");
	static const struct e1000_ops ops = {nic_reg, NULL, NULL, NULL, NULL, NULL};
	static struct e1000 n;
	n = (struct e1000){
	    .ops = &ops, .up = true, .link_up = true, .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
	n.st.rx_frames = 3;
	n.st.rx_bytes = 180;
	n.st.tx_frames = 1;
	n.st.tx_bytes = 42;
	n.st.rx_errors = 4;
	r->sh.nic = &n;
	const char *out = run(r, "nic");
	CHECK_CONTAINS(out, "nic 82540EM: MAC 52:54:00:12:34:56, link up, polled\n");
	CHECK_CONTAINS(out, "  rx 3 frames 180 bytes, tx 1 frames 42 bytes\n");
	CHECK_CONTAINS(out, "rx errors 4,");
	CHECK_CONTAINS(out, "NIC errors: CRC 2,");
	CHECK_CONTAINS(out, "missed 1,");
	n.link_up = false;
	CHECK_CONTAINS(run(r, "nic"), "CRC 4,"); /* the registers clear on read: added up */
	CHECK_CONTAINS(run(r, "nic"), "link down");
}
