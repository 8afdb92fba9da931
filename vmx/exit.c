/* The run loop of one vCPU and the exit-dispatch table: a const array indexed by basic
 * exit reason. Each exit is counted per VM and reason with the TSC cycles the hypervisor
 * spent on it. An exit without a handler stops that VM, never the hypervisor. */
#include "vmx.h"
#include "entry.h"
#include "entry_fail.h"
#include "exit_cpuid.h"
#include "exit_cr.h"
#include "exit_ept.h"
#include "exit_exception.h"
#include "exit_io.h"
#include "exit_misc.h"
#include "exit_msr.h"
#include "fpu_hw.h"
#include "paging.h"
#include "pml.h"
#include "realmode.h"
#include "vcpu_state.h"
#include "vmx_hw.h"
#include "../hypervisor/console.h"
#include "../hypervisor/keel.h"
#include "../hypervisor/lib.h"
#include "../hypervisor/sched.h"

static const exit_handler_fn exit_table[EXIT_REASON_MAX] = {
#define EXIT_REASON(name, num, handler) [num] = handler,
#include "exit_reasons.def"
#undef EXIT_REASON
};

/* An exit that interrupted the delivery of an event: deliver it again on the next entry
 * (SDM vol. 3C, "Information for VM Exits During Event Delivery"). */
static void requeue_vectoring(struct vcpu *v)
{
	u32 info = (u32)vmcs_read(VMCS_IDT_VECTORING_INFO);
	if (!(info & INTR_INFO_VALID))
		return;
	u32 type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	/* software events re-execute from the instruction: entry needs their length */
	bool sw = type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION ||
		  type == INTR_TYPE_PRIV_SW_EXCEPTION;
	vcpu_queue_event(v, info & ~INTR_INFO_NMI_UNBLOCK,
			 (info & INTR_INFO_ERROR_VALID) ? (u32)vmcs_read(VMCS_IDT_VECTORING_ERROR)
							: 0,
			 sw ? v->exit_insn_len : 0);
}

static bool guest_can_take_irq(struct vcpu *v)
{
	return (vcpu_reg(v, REG_RFLAGS) & RFLAGS_IF) &&
	       !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) &
		 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/* Every entry decides this: write the control only when it changes. */
static void set_intr_window(struct vcpu *v, bool on)
{
	if (v->intr_window == on)
		return;
	v->intr_window = on;
	vmcs_write(VMCS_PROC_CONTROLS, v->proc | (on ? PROC_INTR_WINDOW : 0));
}

/* Delivers one event at this entry: the CPU does it, or Keel in real mode under shadow
 * paging (virtual-8086 mode would take it through the protected-mode IDT). */
static void inject(struct vcpu *v, u32 info, u32 error, u32 insn_len)
{
	if (v->rm.active) {
		rmode_inject(v, info, insn_len);
		return;
	}
	/* real-mode delivery pushes no error code (unrestricted guest, CR0.PE = 0) */
	if (!(vmcs_read(VMCS_GUEST_CR0) & CR0_PE))
		info &= ~INTR_INFO_ERROR_VALID;
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
	if (info & INTR_INFO_ERROR_VALID)
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, error);
	vmcs_write(VMCS_ENTRY_INSTR_LEN, insn_len);
}

/* Writes the event for this entry: an exception or re-delivered event first, else a
 * pending interrupt when the guest can take it, else ask for an interrupt window. */
static void prepare_events(struct vcpu *v)
{
	bool window = false;
	if (v->event.valid) {
		v->event.valid = false;
		inject(v, v->event.info, v->event.error, v->event.insn_len);
		window = v->pending_irq >= 0 || platform_pending_vector(v->vm) >= 0;
	} else if (v->pending_irq >= 0) {
		if (guest_can_take_irq(v)) {
			inject(v,
			       (u32)v->pending_irq | (INTR_TYPE_EXT << INTR_INFO_TYPE_SHIFT) |
				   INTR_INFO_VALID,
			       0, 0);
			v->pending_irq = -1;
			v->timer_pending = false;
		} else {
			window = true;
		}
	} else {
		/* the platform's interrupt controllers: the LAPIC, or the PIC through LINT0 */
		int vec = platform_pending_vector(v->vm);
		if (vec >= 0) {
			if (guest_can_take_irq(v)) {
				platform_acknowledge(v->vm, vec);
				inject(v,
				       (u32)vec | (INTR_TYPE_EXT << INTR_INFO_TYPE_SHIFT) |
					   INTR_INFO_VALID,
				       0, 0);
			} else {
				window = true;
			}
		}
	}
	set_intr_window(v, window);
}

static void set_preemption_timer(struct vcpu *v, u64 now, u64 slice_end)
{
	if (!(vmx_cpu.pin & PIN_PREEMPT_TIMER))
		return;
	u64 until = slice_end;
	if (v->timer_deadline && v->timer_deadline < until)
		until = v->timer_deadline;
	/* the next device timer, from guest TSC to host TSC */
	u64 dev = platform_next_event(v->vm, now + v->vm->tsc_offset);
	if (dev != UINT64_MAX && dev - v->vm->tsc_offset < until)
		until = dev - v->vm->tsc_offset;
	u64 ticks = until > now ? (until - now) >> vmx_cpu.preempt_rate : 0;
	vmcs_write(VMCS_GUEST_PREEMPT_TIMER, ticks > 0xffffffffULL ? 0xffffffffULL : ticks);
}

static void entry_failed(struct vcpu *v)
{
	u32 err = (u32)vmcs_read(VMCS_VM_INSTRUCTION_ERROR);
	kprintf("keel: VM entry of vm %s failed: VM-instruction error %u (%s)\n", v->vm->name, err,
		vmx_instruction_error_name(err));
	vmcs_dump();
	vm_stop(v->vm, "VM-entry failure: %s (VM-instruction error %u)",
		vmx_instruction_error_name(err), err);
}

static enum exit_action dispatch(struct vcpu *v)
{
	u32 basic = v->exit_reason & 0xffff;
	if (v->exit_reason & EXIT_REASON_ENTRY_FAIL) {
		vmx_report_entry_failure(v, basic);
		return EXIT_ACT_RESUME;
	}
	exit_handler_fn fn = basic < EXIT_REASON_MAX ? exit_table[basic] : NULL;
	if (!fn) {
		vm_stop(v->vm, "unhandled exit %u (%s) at rip %llx, qualification %llx", basic,
			exit_reason_name(basic), (unsigned long long)vcpu_reg(v, REG_RIP),
			(unsigned long long)v->exit_qual);
		return EXIT_ACT_RESUME;
	}
	return fn(v);
}

/* Hypervisor time is charged to the exit that caused it, from the VM exit to the next VM
 * entry (or to the return to the scheduler): the handler and the work before re-entry. */
static void charge(struct vcpu *v, u32 reason, u64 since)
{
	u64 spent = time_now() - since;
	if (reason < EXIT_REASON_MAX)
		v->vm->exits[reason].cycles += spent;
	v->run_cycles += spent;
}

enum run_result vmx_run(struct vcpu *v, u64 slice_end)
{
	struct vm *vm = v->vm;
	u32 last = EXIT_REASON_MAX; /* the exit being charged; none yet */
	u64 t_exit = 0;
	if (!vmx_vmptrld(v->vmcs_pa)) {
		vm_stop(vm, "VMPTRLD of its VMCS failed");
		return RUN_DONE;
	}
	vmx_switch_guest_state(v);
	vm->state = VM_RUNNING;
	for (;;) {
		u64 now = time_now();
		sched_timer_check(v, now);
		platform_update(vm, now + vm->tsc_offset);
		paging_before_entry(v);
		if (vm_is_done(vm)) {
			v->state = VCPU_DONE;
			return RUN_DONE;
		}
		if (vm->p2m.ept_stale) {
			/* the EPTP's A/D flag may have changed with it (p2m_use_ad, PML) */
			if (vm->paging == VM_PAGING_EPT)
				vmcs_write(VMCS_EPT_POINTER, p2m_eptp(&vm->p2m));
			vmx_invept_context(p2m_eptp(&vm->p2m));
			vm->p2m.ept_stale = false;
		}
		prepare_events(v);
		if (vm_is_done(vm)) { /* delivering an event can end it (triple fault, real mode) */
			v->state = VCPU_DONE;
			return RUN_DONE;
		}
		set_preemption_timer(v, now, slice_end);
		vcpu_flush_regs(v);
		vcpu_invalidate_regs(v);

		if (last < EXIT_REASON_MAX)
			charge(v, last, t_exit);
		u64 t_entry = time_now();
		int failed = vmx_enter(&v->regs, v->launched);
		t_exit = time_now();
		if (failed) {
			entry_failed(v);
			return RUN_DONE;
		}
		v->launched = true;
		v->entries++;
		v->run_cycles += t_exit - t_entry;

		v->exit_reason = (u32)vmcs_read(VMCS_EXIT_REASON);
		v->exit_qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
		v->exit_insn_len = (u32)vmcs_read(VMCS_EXIT_INSTR_LEN);
		if (!(v->exit_reason & EXIT_REASON_ENTRY_FAIL))
			requeue_vectoring(v);
		enum exit_action act = dispatch(v);

		last = v->exit_reason & 0xffff;
		if (last < EXIT_REASON_MAX)
			vm->exits[last].count++;

		/* the ACPI PM device saw S5 or a reset request during this exit */
		if (vm->plat.panicked)
			vm_stop(vm, "guest kernel panicked (pvpanic)");
		else if (vm->plat.poweroff)
			vm_power_off(vm);
		else if (vm->plat.reset)
			vm_reboot(vm);
		if (vm_is_done(vm)) { /* vm_stop(), power-off or reset during this exit */
			v->state = VCPU_DONE;
			vcpu_flush_regs(v);
			charge(v, last, t_exit);
			return RUN_DONE;
		}
		if (act == EXIT_ACT_YIELD || v->state != VCPU_RUNNABLE || time_now() >= slice_end) {
			vcpu_flush_regs(v);
			if (vm->state == VM_RUNNING)
				vm->state = VM_READY;
			charge(v, last, t_exit);
			return RUN_YIELD;
		}
	}
}
