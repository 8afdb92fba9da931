/* Small exit handlers: HLT, VMCALL, INVLPG, interrupts and windows, the preemption timer,
 * triple fault, XSETBV, and instructions a guest may not use. */
#include "exit_misc.h"
#include "paging.h"
#include "vcpu_state.h"
#include "vmx.h"
#include "../hypervisor/hypercall.h"
#include "../hypervisor/keel.h"
#include "../hypervisor/trap.h"

/* A hypercall's registers: all of them in 64-bit mode, else their low halves. */
static u64 arg(struct vcpu *v, enum gpr r)
{
	return vcpu_gpr(v, r, vcpu_gpr_bytes(v));
}

enum exit_action exit_hlt(struct vcpu *v)
{
	vcpu_skip_insn(v);
	if (!(vcpu_reg(v, REG_RFLAGS) & RFLAGS_IF)) {
		vm_stop(v->vm, "HLT with interrupts disabled at rip %llx: the vCPU can never wake",
			(unsigned long long)(vcpu_reg(v, REG_RIP) - v->exit_insn_len));
		return EXIT_ACT_RESUME;
	}
	if (v->pending_irq >= 0 || platform_pending_vector(v->vm) >= 0)
		return EXIT_ACT_RESUME; /* the interrupt is delivered on entry */
	if (!v->timer_deadline && !platform_can_wake(v->vm)) {
		vm_stop(v->vm, "HLT with no interrupt source (no timer armed, every interrupt "
			       "masked): the vCPU can never wake");
		return EXIT_ACT_RESUME;
	}
	v->state = VCPU_HALTED;
	return EXIT_ACT_YIELD;
}

enum exit_action exit_vmcall(struct vcpu *v)
{
	s64 ret;
	if (vcpu_cpl(v) != 0)
		ret = -HC_EPERM;
	else
		ret = hypercall(v, arg(v, GPR_RAX), arg(v, GPR_RBX), arg(v, GPR_RCX),
				arg(v, GPR_RDX), time_now());
	vcpu_set_gpr(v, GPR_RAX, (u64)ret, vcpu_gpr_bytes(v));
	vcpu_skip_insn(v);
	if (v->break_entry) {
		v->break_entry = false;
		vmcs_write(VMCS_GUEST_TR_AR, 0x10000); /* TR unusable: entry checks refuse it */
	}
	return EXIT_ACT_RESUME;
}

enum exit_action exit_invlpg(struct vcpu *v)
{
	paging_invlpg(v, v->exit_qual);
	vcpu_skip_insn(v);
	return EXIT_ACT_RESUME;
}

enum exit_action exit_external_interrupt(struct vcpu *v)
{
	u32 info = (u32)vmcs_read(VMCS_EXIT_INTR_INFO);
	(void)v;
	if (info & INTR_INFO_VALID)
		irq_dispatch((u8)(info & INTR_INFO_VECTOR_MASK));
	return EXIT_ACT_RESUME;
}

enum exit_action exit_interrupt_window(struct vcpu *v)
{
	(void)v; /* prepare_events() injects the pending interrupt now that it can */
	return EXIT_ACT_RESUME;
}

enum exit_action exit_preemption_timer(struct vcpu *v)
{
	(void)v; /* the run loop decides: slice over, or a guest timer became due */
	return EXIT_ACT_RESUME;
}

enum exit_action exit_triple_fault(struct vcpu *v)
{
	vm_stop(v->vm, "triple fault at rip %llx", (unsigned long long)vcpu_reg(v, REG_RIP));
	return EXIT_ACT_RESUME;
}

enum exit_action exit_xsetbv(struct vcpu *v)
{
	u64 val = (v->regs.gpr[GPR_RAX] & 0xffffffffULL) | (v->regs.gpr[GPR_RDX] << 32);
	u64 ok = vmx_cpu.xcr0_supported;
	/* some CPUs (Bochs) exit before checking CPL: XSETBV is for CPL 0 only */
	bool bad = vcpu_cpl(v) != 0 || (v->regs.gpr[GPR_RCX] & 0xffffffffULL) != 0 ||
		   !vmx_cpu.xsave || !(val & 1) || (val & ~ok) ||
		   ((val & BIT(2)) && !(val & BIT(1))) ||
		   /* AVX-512 state comes as all three components with AVX, or not at all */
		   ((val & 0xe0) && ((val & 0xe0) != 0xe0 || !(val & BIT(2)))) ||
		   /* MPX (bits 3, 4) and AMX (17, 18) come in pairs: the CPU faults otherwise */
		   (!(val & BIT(3)) != !(val & BIT(4))) || (!(val & BIT(17)) != !(val & BIT(18)));
	if (bad) {
		vcpu_inject_gp(v);
		return EXIT_ACT_RESUME;
	}
	/* this vCPU owns the CPU's extended state while it runs */
	__asm__ volatile("xsetbv" ::"c"(0), "a"((u32)val), "d"((u32)(val >> 32)));
	v->xcr0 = val;
	vcpu_skip_insn(v);
	return EXIT_ACT_RESUME;
}

enum exit_action exit_inject_ud(struct vcpu *v)
{
	vcpu_inject_ud(v);
	return EXIT_ACT_RESUME;
}

enum exit_action exit_inject_gp(struct vcpu *v)
{
	vcpu_inject_gp(v);
	return EXIT_ACT_RESUME;
}

enum exit_action exit_skip(struct vcpu *v)
{
	vcpu_skip_insn(v);
	return EXIT_ACT_RESUME;
}
