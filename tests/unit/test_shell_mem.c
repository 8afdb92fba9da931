/* `vm mem` (hypervisor/shell_mem.c): a VM's policy, estimate and target shown; min=, max=,
 * shares=, wss= changed live, every argument checked before anything changes, a bigger
 * reservation admitted only when it fits beside the others'; and the policy table of `mem`. */
#include "shell_fake.h"
#include "p2m_env.h"
#include "../../hypervisor/vm_mem.h"

static struct rig *mem_rig(struct env *e, struct wss *w)
{
	struct rig *r = rig_new();
	env_init(e);
	r->sh.frames = &e->fa; /* 8 MiB for guests */
	wss_init(w, 10, 1000);
	r->sh.wss = w;
	struct vm_config cfg = {.memory_mib = 16};
	for (unsigned i = 0; i < 3; i++) {
		struct vm *vm = r->f.vms[i];
		vm->p2m.root = 1; /* holds memory (the shell never walks it) */
		vm_mem_policy_init(&vm->mem, &cfg);
		REQUIRE(wss_add_vm(w, &vm->p2m, 0, WSS_OFF));
	}
	return r;
}

TEST(shell_vm_mem_shows_and_changes_the_policy)
{
	static struct env e;
	static struct wss w;
	struct rig *r = mem_rig(&e, &w);
	struct vm *t1 = r->f.vms[0];
	const char *out = run(r, "vm mem tick1");
	CHECK_CONTAINS(out, "MiB for guests, targets sum to");
	CHECK_CONTAINS(out, "tick1            min 0 MiB, max 16 MiB, shares 160, wss off: no "
			    "estimate (all taken as active)");
	CHECK(!strstr(out, "tick2"));
	out = run(r, "vm mem tick1 min=4 max=8 shares=500 wss=accessed");
	CHECK_CONTAINS(out, "vm tick1: memory policy set (sampling changes at the next period)");
	CHECK_EQ(t1->mem.min_mib, 4u);
	CHECK_EQ(t1->mem.max_mib, 8u);
	CHECK_EQ(t1->mem.shares, 500u);
	CHECK_EQ(wss_vm_of(&w, &t1->p2m)->want, WSS_ACCESSED);
	CHECK_CONTAINS(out, "min 4 MiB, max 8 MiB, shares 500, wss accessed");
	/* refused, and nothing changes: every argument is checked first */
	static const char *const bad[][2] = {
	    {"vm mem tick1 shares=7 min=9", "max (8 MiB) is less than min (9 MiB)"},
	    {"vm mem tick1 shares=7 min=17", "min must be a number from 0 to 16"},
	    {"vm mem tick1 shares=7 max=0", "max must be a number from 1 to 16"},
	    {"vm mem tick1 shares=0", "shares must be a number from 1 to 1000000"},
	    {"vm mem tick1 shares=7 shares=x", "shares must be a number"},
	    {"vm mem tick1 shares=7 wss=sometimes", "wss must be off, invalidate or accessed"},
	    {"vm mem tick1 shares=7 frob=1", "'frob=1' is not min=, max=, shares= or wss="},
	    {"vm mem tick1 shares=7 min", "'min' is not min=, max=, shares= or wss="},
	    {"vm mem nosuch", "unknown vm 'nosuch'"},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		char line[80];
		kstrlcpy(line, bad[i][0], sizeof(line));
		CHECK_EQ(shell_run_line(&r->sh, line), -1);
		CHECK_CONTAINS(test_console(), bad[i][1]);
		test_console_clear();
	}
	CHECK_EQ(t1->mem.shares, 500u);
	CHECK_EQ(t1->mem.min_mib, 4u);
	p2m_destroy(&e.p);
}

TEST(shell_vm_mem_admits_a_bigger_reservation_only_when_it_fits)
{
	static struct env e;
	static struct wss w;
	struct rig *r = mem_rig(&e, &w);
	u64 guest_mib = vm_mem_guest_pages(&e.fa) >> 8;
	REQUIRE(guest_mib >= 6);
	char line[64];
	ksnprintf(line, sizeof(line), "vm mem tick1 min=%llu", (unsigned long long)(guest_mib - 2));
	CHECK_EQ(shell_run_line(&r->sh, line), 0);
	test_console_clear();
	/* 3 more do not fit beside it */
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"vm mem tick2 min=3"}), -1);
	CHECK_CONTAINS(test_console(),
		       "vm mem: tick2: its reservation (mem_min 3 MiB) does not fit");
	CHECK_EQ(r->f.vms[1]->mem.min_mib, 0u);
	test_console_clear();
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"vm mem tick2 min=2"}), 0); /* exactly */
	/* an ended VM's reservation no longer counts */
	r->f.vms[0]->p2m.root = 0;
	test_console_clear();
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"vm mem tick3 min=1"}), -1); /* no such VM */
	CHECK_EQ(shell_run_line(&r->sh, (char[]){"vm mem hello min=5"}), 0);
	/* `mem` ends with the table of every VM holding memory */
	const char *out = run(r, "mem");
	CHECK_CONTAINS(out, "memory policy:");
	CHECK_CONTAINS(out, "idle-memory tax 75%");
	CHECK_CONTAINS(out, "tick2            min 2 MiB");
	CHECK_CONTAINS(out, "hello            min 5 MiB");
	CHECK(!strstr(out, "tick1            min"));
	unsigned tax = 30;
	r->sh.mem_tax = &tax;
	CHECK_CONTAINS(run(r, "mem"), "idle-memory tax 30%");
	p2m_destroy(&e.p);
}

TEST(vm_mem_admission_counts_the_reservations_of_vms_holding_memory)
{
	static struct vm a, b, c;
	struct vm *vms[4] = {&a, &b, NULL, &c};
	struct vm_config ca = {.memory_mib = 64, .mem_min_mib = 32}, cb = {.memory_mib = 64},
			 cc = {.memory_mib = 64, .mem_min_mib = 64};
	vm_mem_policy_init(&a.mem, &ca);
	vm_mem_policy_init(&b.mem, &cb);
	vm_mem_policy_init(&c.mem, &cc);
	a.mem_bytes = b.mem_bytes = c.mem_bytes = 64ULL << 20;
	a.p2m.root = b.p2m.root = 1;  /* c is being built: it holds nothing yet */
	CHECK_EQ(b.mem.shares, 640u); /* 10 per MiB */
	char msg[200];
	u64 guest = 96 << 8; /* 96 MiB */
	/* 32 reserved by a + 64 for c = 96: fits exactly */
	CHECK(vm_mem_admit(vms, 4, &c, &cc, guest, msg, sizeof(msg)) == NULL);
	/* one MiB less for guests: refused, with the numbers */
	const char *why = vm_mem_admit(vms, 4, &c, &cc, guest - 256, msg, sizeof(msg));
	CHECK_CONTAINS(why, "mem_min 64 MiB) does not fit: VMs running reserve 32 MiB of the 95");
	/* a restart of a does not count a's own old reservation */
	CHECK(vm_mem_admit(vms, 4, &a, &ca, 32 << 8, msg, sizeof(msg)) == NULL);
	/* a ended: its reservation is free */
	a.p2m.root = 0;
	CHECK(vm_mem_admit(vms, 4, &c, &cc, 64 << 8, msg, sizeof(msg)) == NULL);
	/* targets: b and a-ended; b gets its max (64 MiB) when there is room, none for a */
	struct mp_vm t[4];
	b.p2m.nr_ram = 64 << 8;
	CHECK_EQ(vm_mem_targets(vms, 4, NULL, 1000 << 8, 75, t), 64u << 8);
	CHECK_EQ(t[1].target, 64u << 8);
	CHECK_EQ(t[0].target, 0u);
	/* mem_max caps it */
	b.mem.max_mib = 40;
	vm_mem_targets(vms, 4, NULL, 1000 << 8, 75, t);
	CHECK_EQ(t[1].target, 40u << 8);
	/* kept in each VM: b's target, and 0 for a, which holds nothing */
	a.mem.target = 123;
	CHECK_EQ(vm_mem_update_targets(vms, 4, NULL, 1000 << 8, 75), 40u << 8);
	CHECK_EQ(b.mem.target, 40u << 8);
	CHECK_EQ(a.mem.target, 0u);
	/* tight memory: b gives down to what there is */
	CHECK_EQ(vm_mem_update_targets(vms, 4, NULL, 30 << 8, 75), 30u << 8);
	CHECK_EQ(b.mem.target, 30u << 8);
}

TEST(shell_mem_shows_pages_never_touched_populated_and_waits)
{
	static struct env e;
	static struct wss w;
	struct rig *r = mem_rig(&e, &w);
	struct vm *vm = r->f.vms[1];
	static struct vm_config lazy = {.memory_mib = 16, .populate_lazy = true};
	REQUIRE(p2m_init(&vm->p2m, &e.fa, FRAME_VM(1)) == NULL);
	REQUIRE(p2m_populate_lazy(&vm->p2m, 0, 64));
	vm->cfg = &lazy;
	vm->mem_bytes = 64 * PAGE_SIZE;
	REQUIRE(p2m_fault(&vm->p2m, 5, true) == P2M_FAULT_FIXED);
	e.fa.guest_reserve = e.fa.nfree;
	REQUIRE(p2m_fault(&vm->p2m, 6, true) == P2M_FAULT_WAIT);
	const char *out = run(r, "vm mem tick2");
	CHECK_CONTAINS(out, "tick2            populate lazy: 63 pages never touched, 1 populated "
			    "on first touch, 1 waits for memory");
	out = run(r, "vm mem tick1"); /* eager: no such line */
	CHECK(!strstr(out, "populate lazy"));
	out = run(r, "mem");
	CHECK_CONTAINS(out, "populate-on-demand: 63 pages never touched, 1 populated on first "
			    "touch, 1 waits for memory");
	CHECK_CONTAINS(out, "1 wanted now");
	p2m_destroy(&vm->p2m);
	vm->p2m.root = 1;
}

TEST(shell_mem_shows_the_memory_drivers_state_and_totals)
{
	static struct env e;
	static struct wss w;
	struct rig *r = mem_rig(&e, &w);
	struct vm *vm = r->f.vms[0];
	CHECK_CONTAINS(run(r, "mem"), "memory driver: off\n");
	struct reclaim_totals d = {.state = RECLAIM_SOFT,
				   .steps = 10,
				   .in_state = {6, 4, 0, 0},
				   .cycles = 5000,
				   .by_balloon = 2560,
				   .by_swap = 7,
				   .balloon_asks = 2,
				   .fallbacks = 1};
	r->sh.drive = &d;
	vm->drive.by_balloon = 2560;
	vm->drive.by_swap = 7;
	vm->drive.fallback = true;
	const char *out = run(r, "mem");
	CHECK_CONTAINS(out, "memory driver: state soft; 10 steps (high 6, soft 4, hard 0, low 0), "
			    "5000 cycles\n");
	CHECK_CONTAINS(out, "  reclaimed 2560 pages by balloon, 7 by swap; 0 given back; 2 balloon "
			    "sizes set, 0 refused; 1 balloons fell back to swap\n");
	CHECK_CONTAINS(run(r, "vm mem tick1"),
		       "memory driver: 2560 pages by balloon, 7 by swap, 0 given "
		       "back, 0 fallbacks (swapping instead now), balloon "
		       "auto\n");
}
