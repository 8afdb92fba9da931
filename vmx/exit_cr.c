/* Control-register access exits: MOV to CR0/CR4 touching bits the hypervisor owns, LMSW,
 * CLTS, and CR8 (the TPR is virtual: the guest must not reach the host's). The checks
 * themselves are the pure functions in cr.c. */
#include "vmx_ops.h"
#include "cr.h"

struct cr_qual {
	unsigned cr;
	unsigned type; /* 0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW */
	unsigned gpr;
	u16 lmsw_src;
};

static struct cr_qual decode(u64 q)
{
	return (struct cr_qual){(unsigned)(q & 0xf), (unsigned)((q >> 4) & 3),
				(unsigned)((q >> 8) & 0xf), (u16)(q >> 16)};
}

static u64 read_gpr(struct vcpu *v, unsigned r)
{
	u64 val = r == GPR_RSP ? vcpu_reg(v, REG_RSP) : v->regs.gpr[r];
	return (vmcs_read(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_GUEST) ? val : (val & 0xffffffffULL);
}

static void write_gpr(struct vcpu *v, unsigned r, u64 val)
{
	if (r == GPR_RSP)
		vcpu_set_reg(v, REG_RSP, val);
	else
		v->regs.gpr[r] = val;
}

static struct cr_state guest_crs(struct vcpu *v)
{
	return (struct cr_state){
	    .cr0 = vcpu_cr0(v),
	    .cr4 = vcpu_cr4(v),
	    .efer = vcpu_efer(v),
	    .cs_long = vmcs_read(VMCS_GUEST_CS_AR) & BIT(13),
	};
}

static struct cr_policy policy(void)
{
	const struct vmx_cpu *c = &vmx_cpu;
	/* PCID is not offered (CPUID), so CR4.PCIDE cannot be set */
	return (struct cr_policy){c->cr0_must1, c->cr0_must0, c->cr4_must1,
				  c->cr4_must0 & ~c->cr4_must1, CR4_VMXE | CR4_SMXE | CR4_PCIDE};
}

/* PAE paging enabled by an emulated write loads the PDPTEs here (with EPT the CPU takes
 * them from the VMCS, under shadow paging they are the guest's virtual registers). */
static void apply(struct vcpu *v, unsigned cr, const struct cr_write *w)
{
	if (w->load_pdptes && !vcpu_load_pdptes(v, vcpu_cr3(v))) {
		vcpu_inject_gp(v);
		return;
	}
	if (cr == 0) {
		vmcs_write(VMCS_CR0_READ_SHADOW, w->guest);
		vmcs_write(VMCS_GUEST_CR0, w->hw);
		vcpu_set_efer(v, w->efer); /* shadow paging: also the CPU's CR0/CR4/CR3 */
	} else {
		vmcs_write(VMCS_CR4_READ_SHADOW, w->guest);
		vmcs_write(VMCS_GUEST_CR4, w->hw);
		if (v->vm->paging == VM_PAGING_SHADOW && !paging_sync(v))
			return;
	}
	if (vm_is_done(v->vm))
		return;
	/* the write did not reach the CPU, so neither did its implicit TLB flush */
	if (w->flush_tlb)
		vmx_invvpid_context(v->vm->vpid);
	vcpu_skip_insn(v);
}

enum exit_action exit_cr_access(struct vcpu *v)
{
	struct cr_qual q = decode(v->exit_qual);
	struct cr_policy p = policy();
	struct cr_state s = guest_crs(v);
	struct cr_write w;

	switch (q.type) {
	case 0: /* MOV to CR */
		if (q.cr == 8) {
			u64 val = read_gpr(v, q.gpr);
			if (val & ~0xfULL) {
				vcpu_inject_gp(v);
				break;
			}
			lapic_cr8_write(&v->vm->plat.lapic, val);
			platform_touch(&v->vm->plat);
			vcpu_skip_insn(v);
			break;
		}
		if (q.cr == 3) /* exits only under shadow paging */
			return paging_cr3_write(v, read_gpr(v, q.gpr));
		if (q.cr == 0)
			cr0_write(&p, &s, read_gpr(v, q.gpr), &w);
		else if (q.cr == 4)
			cr4_write(&p, &s, read_gpr(v, q.gpr), &w);
		else {
			vm_stop(v->vm, "unsupported: MOV to CR%u exit", q.cr);
			return EXIT_ACT_DONE;
		}
		if (w.gp)
			vcpu_inject_gp(v);
		else
			apply(v, q.cr, &w);
		break;
	case 1: /* MOV from CR: CR8, and CR3 under shadow paging */
		if (q.cr == 3) {
			write_gpr(v, q.gpr, vcpu_cr3(v));
			vcpu_skip_insn(v);
			break;
		}
		if (q.cr != 8) {
			vm_stop(v->vm, "unsupported: MOV from CR%u exit", q.cr);
			return EXIT_ACT_DONE;
		}
		write_gpr(v, q.gpr, lapic_cr8_read(&v->vm->plat.lapic));
		vcpu_skip_insn(v);
		break;
	case 2: /* CLTS */
		cr0_write(&p, &s, s.cr0 & ~CR0_TS, &w);
		apply(v, 0, &w);
		break;
	case 3: /* LMSW */
		cr0_write(&p, &s, lmsw_value(s.cr0, q.lmsw_src), &w);
		if (w.gp)
			vcpu_inject_gp(v);
		else
			apply(v, 0, &w);
		break;
	}
	return vm_is_done(v->vm) ? EXIT_ACT_DONE : EXIT_ACT_RESUME;
}
