/* RDMSR/WRMSR exits. The MSR bitmap lets the syscall MSRs through; everything else
 * arrives here. Known MSRs are emulated, unknown ones raise #GP as on a CPU without them. */
#include "exit_msr.h"
#include "paging.h"
#include "vcpu_state.h"
#include "vmx.h"
#include "../hypervisor/cpu_hw.h"
#include "../hypervisor/keel.h"

#define MSR_IA32_TSC	      0x10
#define MSR_IA32_BIOS_SIGN    0x8b
#define MSR_IA32_MTRRCAP      0xfe
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_FIRST      0x800
#define MSR_X2APIC_LAST	      0x8ff

/* The local APIC counts guest TSC: bring it to now before it answers. */
static struct lapic *lapic_now(struct vcpu *v)
{
	lapic_update(&v->vm->plat.lapic, time_now() + v->vm->tsc_offset);
	platform_touch_dev(&v->vm->plat, &v->vm->plat.lapic); /* the access may re-arm its timer */
	return &v->vm->plat.lapic;
}

/* PAT entries may only hold the defined memory types (0, 1, 4, 5, 6, 7). */
static bool pat_valid(u64 v)
{
	for (unsigned i = 0; i < 8; i++) {
		u8 t = (u8)(v >> (8 * i));
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static u64 efer_allowed(void)
{
	u32 a, b, c, d;
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	return EFER_SCE | EFER_LME | EFER_LMA | ((d & BIT(20)) ? EFER_NXE : 0);
}

static bool msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST)
		return lapic_msr_read(lapic_now(v), msr, val);
	switch (msr) {
	case MSR_IA32_EFER:
		*val = vcpu_efer(v);
		return true;
	case MSR_IA32_TSC:
		*val = time_now() + v->vm->tsc_offset;
		return true;
	case MSR_IA32_PAT:
		if (!(vmx_cpu.entry & ENTRY_LOAD_PAT))
			return false;
		*val = vmcs_read(VMCS_GUEST_PAT);
		return true;
	case MSR_IA32_APIC_BASE:
		*val = lapic_get_base(&v->vm->plat.lapic);
		return true;
	case MSR_IA32_TSC_DEADLINE:
		*val = lapic_tsc_deadline_read(lapic_now(v));
		return true;
	case MSR_IA32_FEATURE_CONTROL:
		*val = 1; /* locked with VMX off: matches CPUID hiding VMX */
		return true;
	case MSR_IA32_MISC_ENABLE:
		*val = v->misc_enable;
		return true;
	case MSR_IA32_MTRRCAP:
	case MSR_IA32_BIOS_SIGN:
		*val = 0;
		return true;
	case MSR_IA32_SYSENTER_CS:
		*val = vmcs_read(VMCS_GUEST_SYSENTER_CS);
		return true;
	case MSR_IA32_SYSENTER_ESP:
		*val = vmcs_read(VMCS_GUEST_SYSENTER_ESP);
		return true;
	case MSR_IA32_SYSENTER_EIP:
		*val = vmcs_read(VMCS_GUEST_SYSENTER_EIP);
		return true;
	case MSR_FS_BASE:
		*val = vmcs_read(VMCS_GUEST_FS_BASE);
		return true;
	case MSR_GS_BASE:
		*val = vmcs_read(VMCS_GUEST_GS_BASE);
		return true;
	default:
		return false;
	}
}

static bool msr_write(struct vcpu *v, u32 msr, u64 val)
{
	if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST)
		return lapic_msr_write(lapic_now(v), msr, val);
	switch (msr) {
	case MSR_IA32_EFER: {
		u64 old = vcpu_efer(v);
		if (val & ~efer_allowed())
			return false;
		/* LME cannot change while paging is on; LMA is read-only */
		if (((old ^ val) & EFER_LME) && (vcpu_cr0(v) & CR0_PG))
			return false;
		vcpu_set_efer(v, (val & ~EFER_LMA) | (old & EFER_LMA));
		return !vm_is_done(v->vm);
	}
	case MSR_IA32_TSC:
		v->vm->tsc_offset = val - time_now();
		vmcs_write(VMCS_TSC_OFFSET, v->vm->tsc_offset);
		platform_touch(&v->vm->plat); /* deadlines count guest TSC */
		return true;
	case MSR_IA32_PAT:
		if (!(vmx_cpu.entry & ENTRY_LOAD_PAT) || !pat_valid(val))
			return false;
		vmcs_write(VMCS_GUEST_PAT, val);
		return true;
	case MSR_IA32_APIC_BASE:
		/* the APIC's MMIO window stays at the default address: moving it is refused */
		if ((val & 0x000ffffffffff000ULL) != LAPIC_DEFAULT_BASE)
			return false;
		return lapic_set_base(lapic_now(v), val);
	case MSR_IA32_TSC_DEADLINE:
		lapic_tsc_deadline_write(lapic_now(v), val);
		return true;
	case MSR_IA32_MISC_ENABLE:
		v->misc_enable = val & 1; /* only fast strings is kept; nothing else is emulated */
		return true;
	case MSR_IA32_BIOS_SIGN:
		return true; /* microcode revision probe: ignored */
	case MSR_IA32_SYSENTER_CS:
		vmcs_write(VMCS_GUEST_SYSENTER_CS, val & 0xffffffffULL);
		return true;
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		/* these hold linear addresses: a non-canonical one faults */
		if ((u64)((s64)(val << 16) >> 16) != val)
			return false;
		vmcs_write(msr == MSR_IA32_SYSENTER_ESP	  ? VMCS_GUEST_SYSENTER_ESP
			   : msr == MSR_IA32_SYSENTER_EIP ? VMCS_GUEST_SYSENTER_EIP
			   : msr == MSR_FS_BASE		  ? VMCS_GUEST_FS_BASE
							  : VMCS_GUEST_GS_BASE,
			   val);
		return true;
	default:
		return false;
	}
}

enum exit_action exit_rdmsr(struct vcpu *v)
{
	u64 val;
	if (!msr_read(v, (u32)v->regs.gpr[GPR_RCX], &val)) {
		vcpu_inject_gp(v);
		return EXIT_ACT_RESUME;
	}
	v->regs.gpr[GPR_RAX] = val & 0xffffffffULL;
	v->regs.gpr[GPR_RDX] = val >> 32;
	vcpu_skip_insn(v);
	return EXIT_ACT_RESUME;
}

enum exit_action exit_wrmsr(struct vcpu *v)
{
	u64 val = (v->regs.gpr[GPR_RAX] & 0xffffffffULL) | (v->regs.gpr[GPR_RDX] << 32);
	if (!msr_write(v, (u32)v->regs.gpr[GPR_RCX], val)) {
		vcpu_inject_gp(v);
		return EXIT_ACT_RESUME;
	}
	vcpu_skip_insn(v);
	return EXIT_ACT_RESUME;
}
