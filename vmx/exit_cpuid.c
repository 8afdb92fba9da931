/* CPUID exit: the CPU's answer, filtered by the policy in hypervisor/cpuid.c. */
#include "exit_cpuid.h"
#include "vcpu_state.h"
#include "vmx.h"
#include "../hypervisor/cpuid.h"
#include "../hypervisor/cpu_hw.h"
#include "../hypervisor/keel.h"

enum exit_action exit_cpuid(struct vcpu *v)
{
	u32 leaf = (u32)v->regs.gpr[GPR_RAX], sub = (u32)v->regs.gpr[GPR_RCX];
	struct cpuid_regs r = {0, 0, 0, 0};
	u64 mask = vmcs_read(VMCS_CR4_GUEST_HOST_MASK);
	struct cpuid_ctx ctx = {
	    .vcpu_id = v->id,
	    .guest_cr4 =
		(vmcs_read(VMCS_GUEST_CR4) & ~mask) | (vmcs_read(VMCS_CR4_READ_SHADOW) & mask),
	    .rdtscp = vmx_cpu.proc2 & PROC2_RDTSCP,
	    .invpcid = false, /* with PCID: see cpuid.c */
	    .tsc_hz = tsc_hz,
	    .apic = v->vm->plat.tsc_hz != 0,
	};
	if (!cpuid_is_hv_leaf(leaf))
		cpuid(leaf, sub, &r.a, &r.b, &r.c, &r.d);
	cpuid_filter(leaf, sub, &ctx, &r);
	v->regs.gpr[GPR_RAX] = r.a;
	v->regs.gpr[GPR_RBX] = r.b;
	v->regs.gpr[GPR_RCX] = r.c;
	v->regs.gpr[GPR_RDX] = r.d;
	vcpu_skip_insn(v);
	return EXIT_ACT_RESUME;
}
