/* Tests of the scheduler core (hypervisor/sched.c), the hypercalls (hypervisor/hypercall.c)
 * and the pure VM lifecycle pieces (hypervisor/vm.c: console lines, stop/exit, exit counters),
 * on zeroed struct vm objects with only the fields these functions touch filled in. */
#include "test.h"
#include "../../hypervisor/cpuid.h"
#include "../../hypervisor/hypercall.h"
#include "../../hypervisor/lib.h"
#include "../../hypervisor/sched.h"
#include "../../hypervisor/vm.h"

static struct vm *new_vm(const char *name)
{
	struct vm *vm = test_alloc(sizeof(*vm));
	kstrlcpy(vm->name, name, sizeof(vm->name));
	vm->console = true;
	vm->state = VM_RUNNING;
	vm->nvcpus = 1;
	vm->vcpu[0].vm = vm;
	vm->vcpu[0].state = VCPU_RUNNABLE;
	vm->vcpu[0].pending_irq = -1;
	return vm;
}

static struct vcpu *vcpu_of(struct vm *vm)
{
	return &vm->vcpu[0];
}

/* ---- scheduler ---- */

struct three {
	struct sched s;
	struct vcpu *a, *b, *c;
};

static void three_init(struct three *t)
{
	sched_init(&t->s, 1000);
	t->a = vcpu_of(new_vm("a"));
	t->b = vcpu_of(new_vm("b"));
	t->c = vcpu_of(new_vm("c"));
	REQUIRE(sched_add(&t->s, t->a) && sched_add(&t->s, t->b) && sched_add(&t->s, t->c));
}

TEST(sched_round_robin)
{
	struct three t;
	three_init(&t);
	CHECK_EQ(t.s.slice, 1000);
	struct vcpu *want[] = {t.a, t.b, t.c, t.a, t.b, t.c, t.a};
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		CHECK(sched_pick(&t.s, 0) == want[i]);
}

TEST(sched_skips_halted_done_and_paused)
{
	struct three t;
	three_init(&t);
	t.b->state = VCPU_HALTED;
	CHECK(sched_pick(&t.s, 0) == t.a);
	CHECK(sched_pick(&t.s, 0) == t.c);
	CHECK(sched_pick(&t.s, 0) == t.a);
	t.c->vm->state = VM_STOPPED;
	CHECK(sched_pick(&t.s, 0) == t.a);
	CHECK(sched_pick(&t.s, 0) == t.a);
	t.a->vm->state = VM_PAUSED;
	CHECK(sched_pick(&t.s, 0) == NULL);
	t.a->vm->state = VM_EXITED;
	CHECK(sched_pick(&t.s, 0) == NULL);
	t.a->vm->state = VM_READY;
	CHECK(sched_pick(&t.s, 0) == t.a);
}

TEST(sched_empty)
{
	struct sched s;
	sched_init(&s, 1);
	CHECK(sched_pick(&s, 0) == NULL);
	CHECK(sched_all_done(&s));
	CHECK_EQ(sched_next_wakeup(&s), UINT64_MAX);
}

TEST(sched_add_is_bounded)
{
	struct sched s;
	struct vcpu *v = vcpu_of(new_vm("x"));
	sched_init(&s, 1);
	for (unsigned i = 0; i < MAX_VMS; i++)
		CHECK(sched_add(&s, v));
	CHECK(!sched_add(&s, v));
	CHECK_EQ(s.n, MAX_VMS);
}

TEST(sched_timer_wakes_a_halted_vcpu)
{
	struct three t;
	three_init(&t);
	t.b->state = VCPU_HALTED;
	t.b->timer_deadline = 500;
	t.b->timer_vector = 0x40;
	CHECK(sched_pick(&t.s, 499) == t.a);
	CHECK(sched_pick(&t.s, 499) == t.c);
	CHECK_EQ(t.b->state, VCPU_HALTED);
	CHECK_EQ(t.b->pending_irq, -1);
	CHECK(sched_pick(&t.s, 500) == t.a);
	CHECK_EQ(t.b->state, VCPU_RUNNABLE);
	CHECK_EQ(t.b->pending_irq, 0x40);
	CHECK(t.b->timer_pending);
	CHECK_EQ(t.b->timer_deadline, 0); /* one-shot */
	CHECK(sched_pick(&t.s, 501) == t.b);
}

TEST(sched_timer_check_running_and_done)
{
	struct vcpu *v = vcpu_of(new_vm("v"));
	v->timer_deadline = 10;
	v->timer_vector = 0x31;
	sched_timer_check(v, 9);
	CHECK_EQ(v->pending_irq, -1);
	sched_timer_check(v, 1000);
	CHECK_EQ(v->pending_irq, 0x31);
	CHECK_EQ(v->state, VCPU_RUNNABLE);
	/* no timer armed: nothing happens at any time */
	v->pending_irq = -1;
	sched_timer_check(v, UINT64_MAX);
	CHECK_EQ(v->pending_irq, -1);
	/* a finished VM's timer is not fired by the scheduler */
	struct sched s;
	sched_init(&s, 1);
	sched_add(&s, v);
	v->timer_deadline = 10;
	v->state = VCPU_HALTED;
	v->vm->state = VM_STOPPED;
	CHECK(sched_pick(&s, 100) == NULL);
	CHECK_EQ(v->pending_irq, -1);
	CHECK_EQ(v->state, VCPU_HALTED);
}

TEST(sched_next_wakeup_and_all_done)
{
	struct three t;
	three_init(&t);
	CHECK_EQ(sched_next_wakeup(&t.s), UINT64_MAX);
	t.a->timer_deadline = 50; /* running: not a wakeup */
	CHECK_EQ(sched_next_wakeup(&t.s), UINT64_MAX);
	t.b->state = VCPU_HALTED;
	t.b->timer_deadline = 300;
	t.c->state = VCPU_HALTED;
	t.c->timer_deadline = 200;
	CHECK_EQ(sched_next_wakeup(&t.s), 200);
	t.c->vm->state = VM_STOPPED;
	CHECK_EQ(sched_next_wakeup(&t.s), 300);
	t.b->timer_deadline = 0; /* halted without a timer */
	CHECK_EQ(sched_next_wakeup(&t.s), UINT64_MAX);
	CHECK(!sched_all_done(&t.s));
	t.a->vm->state = VM_EXITED;
	CHECK(!sched_all_done(&t.s));
	t.b->vm->state = VM_STOPPED;
	CHECK(sched_all_done(&t.s));
}

/* ---- hypercalls ---- */

TEST(hypercall_version_and_unknown)
{
	struct vcpu *v = vcpu_of(new_vm("h"));
	CHECK_EQ(hypercall(v, KEEL_HC_VERSION, 0, 0, 0, 0), (1 << 16) | 0);
	CHECK_EQ(hypercall(v, KEEL_HC_VERSION, 0, 0, 0, 0), KEEL_VERSION);
	const u64 unknown[] = {2, 3, 0x7e56, 0xffffffff, UINT64_MAX, 1ULL << 32};
	for (unsigned i = 0; i < ARRAY_SIZE(unknown); i++)
		CHECK_EQ(hypercall(v, unknown[i], 0, 0, 0, 0), (u64)-38);
}

TEST(hypercall_timer_arm_and_cancel)
{
	struct vcpu *v = vcpu_of(new_vm("h"));
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 0x40, 1000, 0, 5000), 0);
	CHECK_EQ(v->timer_deadline, 6000);
	CHECK_EQ(v->timer_vector, 0x40);
	/* EDX holds the high half; bits 63:32 of each register are ignored */
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 255, 0xffffffff00000010ULL, 2, 0), 0);
	CHECK_EQ(v->timer_deadline, (2ULL << 32) | 0x10);
	CHECK_EQ(v->timer_vector, 255);
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 32, 0, 0xabcd00000000ULL, 7), 0);
	CHECK_EQ(v->timer_deadline, 0); /* delay 0 (high bits ignored): cancelled */
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 32, 1, 0, 7), 0);
	CHECK_EQ(v->timer_deadline, 8);
}

TEST(hypercall_timer_rejects_bad_vectors)
{
	struct vcpu *v = vcpu_of(new_vm("h"));
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 0x50, 100, 0, 0), 0);
	const u64 bad[] = {0, 2, 31, 256, 0x1000, 0x100000040ULL};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, bad[i], 10, 0, 0), (u64)-22);
		CHECK_EQ(v->timer_deadline, 100); /* the armed timer is left as it was */
		CHECK_EQ(v->timer_vector, 0x50);
	}
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 31, 0, 0, 0), (u64)-22); /* even a cancel */
	CHECK_EQ(v->timer_deadline, 100);
}

TEST(hypercall_timer_huge_delay_saturates)
{
	struct vcpu *v = vcpu_of(new_vm("h"));
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 0x40, 100, 0, UINT64_MAX - 10), 0);
	CHECK_EQ(v->timer_deadline, UINT64_MAX);
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 0x40, 0xffffffff, 0xffffffff, 1), 0);
	CHECK_EQ(v->timer_deadline, UINT64_MAX);
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 0x40, 0xfffffffe, 0xffffffff, 1), 0);
	CHECK_EQ(v->timer_deadline, UINT64_MAX);
}

TEST(hypercall_timer_rearm_withdraws_undelivered_interrupt)
{
	struct vcpu *v = vcpu_of(new_vm("h"));
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 0x40, 10, 0, 0), 0);
	sched_timer_check(v, 10); /* fired, not yet delivered */
	CHECK_EQ(v->pending_irq, 0x40);
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 0x41, 10, 0, 20), 0);
	CHECK_EQ(v->pending_irq, -1);
	CHECK_EQ(v->timer_deadline, 30);
	sched_timer_check(v, 30);
	CHECK_EQ(v->pending_irq, 0x41);
	/* a refused call withdraws nothing */
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 5, 10, 0, 40), (u64)-22);
	CHECK_EQ(v->pending_irq, 0x41);
	/* a cancel withdraws it too */
	CHECK_EQ(hypercall(v, KEEL_HC_TIMER_ONESHOT, 0x40, 0, 0, 40), 0);
	CHECK_EQ(v->pending_irq, -1);
}

TEST(hypercall_test_break_entry_needs_opt_in)
{
	struct vcpu *v = vcpu_of(new_vm("h"));
	CHECK_EQ(hypercall(v, KEEL_HC_TEST_BREAK_ENTRY, 0, 0, 0, 0), (u64)-38);
	CHECK(!v->break_entry);
	v->vm->test_hypercalls = true;
	CHECK_EQ(hypercall(v, KEEL_HC_TEST_BREAK_ENTRY, 0, 0, 0, 0), 0);
	CHECK(v->break_entry);
}

TEST(hypercall_test_swap_out_needs_opt_in_and_swap_on)
{
	struct vcpu *v = vcpu_of(new_vm("h"));
	CHECK_EQ(hypercall(v, KEEL_HC_TEST_SWAP_OUT, 10, 0, 0, 0), (u64)-38);
	v->vm->test_hypercalls = true;
	CHECK_EQ(hypercall(v, KEEL_HC_TEST_SWAP_OUT, 10, 0, 0, 0), (u64)-1); /* no swap */
}

/* ---- vm.c ---- */

static void putstr(struct vm *vm, const char *s)
{
	while (*s)
		vm_console_putc(vm, (u8)*s++);
}

TEST(vm_console_prints_whole_lines)
{
	struct vm *vm = new_vm("web1");
	putstr(vm, "hello");
	CHECK_STR(test_console(), ""); /* nothing until the newline */
	putstr(vm, " world\r\nsecond\n");
	CHECK_STR(test_console(), "[web1] hello world\n[web1] second\n");
	test_console_clear();
	putstr(vm, "\n");
	CHECK_STR(test_console(), "[web1] \n");
	test_console_clear();
	putstr(vm, "tail");
	vm_console_flush(vm);
	vm_console_flush(vm); /* nothing left: prints nothing */
	CHECK_STR(test_console(), "[web1] tail\n");
}

TEST(vm_console_replaces_control_characters)
{
	struct vm *vm = new_vm("g");
	const u8 line[] = {'a',	 '\t', 'b',  0x1b, '[', '2', 'J',
			   0x07, 0x7f, 0x80, 0xff, 0,	'z', '\n'};
	for (unsigned i = 0; i < sizeof(line); i++)
		vm_console_putc(vm, line[i]);
	CHECK_STR(test_console(), "[g] a b.[2J.....z\n");
}

TEST(vm_console_long_line_is_split)
{
	struct vm *vm = new_vm("g");
	for (unsigned i = 0; i < 200; i++)
		vm_console_putc(vm, (u8)('0' + i % 10));
	vm_console_putc(vm, '\n');
	const char *out = test_console();
	const char *nl = strchr(out, '\n');
	REQUIRE(nl);
	CHECK_EQ(nl - out, 4 + sizeof(vm->con_line) - 1);
	CHECK(!strncmp(out, "[g] 0123456789", 14));
	CHECK_STR(nl + 1, "[g] 90123456789012345678901234567890123456789\n");
}

TEST(vm_stop_prints_once)
{
	struct vm *vm = new_vm("bad");
	putstr(vm, "partial");
	vm_stop(vm, "EPT violation: write at gpa %llx", 0xa0000ULL);
	CHECK_EQ(vm->state, VM_STOPPED);
	CHECK(vm_is_done(vm));
	CHECK_STR(vm->stop_reason, "EPT violation: write at gpa a0000");
	CHECK_STR(test_console(),
		  "[bad] partial\nkeel: vm bad stopped: EPT violation: write at gpa a0000\n");
	test_console_clear();
	vm_stop(vm, "triple fault");
	vm_exit_with_status(vm, 1);
	CHECK_STR(test_console(), "");
	CHECK_STR(vm->stop_reason, "EPT violation: write at gpa a0000");
	CHECK_EQ(vm->state, VM_STOPPED);
}

TEST(vm_stop_reason_is_bounded)
{
	struct vm *vm = new_vm("v");
	char big[400];
	memset(big, 'r', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	vm_stop(vm, "unsupported: %s", big);
	CHECK_EQ(strlen(vm->stop_reason), sizeof(vm->stop_reason) - 1);
	CHECK(!strncmp(vm->stop_reason, "unsupported: rrr", 16));
}

TEST(vm_exit_with_status_line)
{
	struct vm *vm = new_vm("ok");
	putstr(vm, "PASS: all");
	vm_exit_with_status(vm, 1);
	CHECK_EQ(vm->state, VM_EXITED);
	CHECK_EQ(vm->exit_status, 1);
	CHECK(vm_is_done(vm));
	CHECK_STR(test_console(), "[ok] PASS: all\nkeel: vm ok exited: status 1\n");
	test_console_clear();
	vm_exit_with_status(vm, 3);
	vm_stop(vm, "late");
	CHECK_STR(test_console(), "");
	CHECK_EQ(vm->exit_status, 1);
	struct vm *w = new_vm("w");
	CHECK(!vm_is_done(w));
	w->state = VM_PAUSED;
	CHECK(!vm_is_done(w));
	vm_exit_with_status(w, 0xffffffffu);
	CHECK_CONTAINS(test_console(), "keel: vm w exited: status 4294967295\n");
}

TEST(vm_print_exits_lines)
{
	struct vm *vm = new_vm("t");
	vm->exits[EXIT_CPUID] = (struct exit_stat){3, 300};
	vm->exits[EXIT_HLT] = (struct exit_stat){1, 50};
	vm_print_exits(vm);
	CHECK_STR(test_console(),
		  "keel: exits for vm t: total 4, hypervisor cycles 350\n"
		  "keel:   CPUID                  count        3  cycles        300  (100/exit)\n"
		  "keel:   HLT                    count        1  cycles         50  (50/exit)\n");
	test_console_clear();
	struct vm *idle = new_vm("idle");
	vm_print_exits(idle);
	CHECK_STR(test_console(), "keel: exits for vm idle: total 0, hypervisor cycles 0\n");
}

TEST(exit_reason_names)
{
	CHECK_STR(exit_reason_name(EXIT_EXCEPTION_NMI), "EXCEPTION_NMI");
	CHECK_STR(exit_reason_name(EXIT_EPT_VIOLATION), "EPT_VIOLATION");
	CHECK_STR(exit_reason_name(EXIT_IO_INSTRUCTION), "IO_INSTRUCTION");
	CHECK_STR(exit_reason_name(EXIT_XRSTORS), "XRSTORS");
	CHECK_STR(exit_reason_name(37), "MONITOR_TRAP_FLAG");
	CHECK_STR(exit_reason_name(35), "UNKNOWN");
	CHECK_STR(exit_reason_name(EXIT_REASON_MAX), "UNKNOWN");
	CHECK_STR(exit_reason_name(0x80000021u), "UNKNOWN");
	/* every reason up to XRSTORS except the architectural gaps has a name */
	for (u32 r = 0; r <= EXIT_XRSTORS; r++) {
		bool gap = r == 35 || r == 38 || r == 42;
		CHECK_EQ(!strcmp(exit_reason_name(r), "UNKNOWN"), gap);
	}
}

TEST(vm_console_off_shows_nothing)
{
	struct vm *vm = new_vm("quiet");
	vm->console = false;
	test_console_clear();
	for (const char *s = "hidden line\n"; *s; s++)
		vm_console_putc(vm, (u8)*s);
	CHECK_STR(test_console(), "");
}

TEST(vm_console_raw_passes_bytes_through)
{
	/* attached in the shell: a prompt without a newline shows at once, unprefixed */
	struct vm *vm = new_vm("sh");
	vm->console_raw = true;
	test_console_clear();
	for (const char *s = "# "; *s; s++)
		vm_console_putc(vm, (u8)*s);
	CHECK_STR(test_console(), "# ");
}
