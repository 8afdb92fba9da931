/* State the VMCS does not switch between vCPUs on one CPU: x87/SSE/AVX registers (XSAVE),
 * XCR0, and the syscall MSRs and TSC_AUX the guest reaches without exits. Switched lazily: only
 * when a different vCPU runs than the one whose state the CPU holds. */
#include "fpu_hw.h"
#include "vmx.h"
#include "vmcs.h"
#include "vmx_defs.h"
#include "../hypervisor/cpu_hw.h"

/*
 * Save and restore go through XCR0 = every component the CPU offers, whatever the guest's
 * XCR0: SSE registers are live with XCR0 = 1 too, a component the guest disabled keeps its
 * values for when it enables it again, and none holds another VM's registers meanwhile.
 */
static void fpu_save(struct vcpu *v)
{
	if (vmx_cpu.xsave) {
		xsetbv(0, vmx_cpu.xcr0_supported);
		__asm__ volatile("xsave64 (%0)" ::"r"(v->fpu_area), "a"(~0u), "d"(~0u) : "memory");
	} else {
		__asm__ volatile("fxsave64 (%0)" ::"r"(v->fpu_area) : "memory");
	}
}

static void fpu_restore(struct vcpu *v)
{
	if (vmx_cpu.xsave) {
		xsetbv(0, vmx_cpu.xcr0_supported);
		__asm__ volatile("xrstor64 (%0)" ::"r"(v->fpu_area), "a"(~0u), "d"(~0u) : "memory");
		xsetbv(0, v->xcr0);
	} else {
		__asm__ volatile("fxrstor64 (%0)" ::"r"(v->fpu_area) : "memory");
	}
}

static void msrs_save(struct vcpu *v)
{
	v->msr_kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	v->msr_star = rdmsr(MSR_STAR);
	v->msr_lstar = rdmsr(MSR_LSTAR);
	v->msr_cstar = rdmsr(MSR_CSTAR);
	v->msr_sfmask = rdmsr(MSR_SFMASK);
	if (vmx_cpu.proc2 & PROC2_RDTSCP)
		v->msr_tsc_aux = rdmsr(MSR_TSC_AUX);
}

static void msrs_restore(struct vcpu *v)
{
	wrmsr(MSR_KERNEL_GS_BASE, v->msr_kernel_gs_base);
	wrmsr(MSR_STAR, v->msr_star);
	wrmsr(MSR_LSTAR, v->msr_lstar);
	wrmsr(MSR_CSTAR, v->msr_cstar);
	wrmsr(MSR_SFMASK, v->msr_sfmask);
	if (vmx_cpu.proc2 & PROC2_RDTSCP)
		wrmsr(MSR_TSC_AUX, v->msr_tsc_aux);
}

void vmx_switch_guest_state(struct vcpu *v)
{
	struct vmx_cpu *c = &vmx_cpu;
	if (c->fpu_owner != v) {
		if (c->fpu_owner)
			fpu_save(c->fpu_owner);
		fpu_restore(v);
		c->fpu_owner = v;
	}
	if (c->msr_owner != v) {
		if (c->msr_owner)
			msrs_save(c->msr_owner);
		msrs_restore(v);
		c->msr_owner = v;
	}
}
