/* Control-register operations, shared by the CR-access exit and real mode's emulated MOV CR,
 * CLTS and LMSW: MOV to CR0/CR4 touching bits the hypervisor owns, CR3 under shadow paging,
 * and CR8 (the TPR is virtual: the guest must not reach the host's). The checks themselves
 * are the pure functions in cr.c. */
#include "cr_ops.h"
#include "cr.h"
#include "paging.h"
#include "vcpu_state.h"
#include "vmx.h"
#include "vmx_hw.h"

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
		vcpu_crs_changed(v);
		vcpu_set_efer(v, w->efer); /* shadow paging: also the CPU's CR0/CR4/CR3 */
	} else {
		vmcs_write(VMCS_CR4_READ_SHADOW, w->guest);
		vmcs_write(VMCS_GUEST_CR4, w->hw);
		vcpu_crs_changed(v);
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

enum exit_action cr_access(struct vcpu *v, const struct cr_access *q)
{
	/* MOV to CR3 (shadow paging: most of these exits) needs neither the policy nor CS */
	if (q->op == CR_MOV_TO && q->cr == 3)
		return paging_cr3_write(v, vcpu_gpr(v, q->gpr, vcpu_gpr_bytes(v)));
	struct cr_policy p = policy();
	struct cr_state s = guest_crs(v);
	struct cr_write w;

	switch (q->op) {
	case CR_MOV_TO:
		if (q->cr == 8) {
			u64 val = vcpu_gpr(v, q->gpr, vcpu_gpr_bytes(v));
			if (val & ~0xfULL) {
				vcpu_inject_gp(v);
				break;
			}
			lapic_cr8_write(&v->vm->plat.lapic, val);
			platform_touch(&v->vm->plat);
			vcpu_skip_insn(v);
			break;
		}
		if (q->cr == 0)
			cr0_write(&p, &s, vcpu_gpr(v, q->gpr, vcpu_gpr_bytes(v)), &w);
		else if (q->cr == 4)
			cr4_write(&p, &s, vcpu_gpr(v, q->gpr, vcpu_gpr_bytes(v)), &w);
		else {
			vm_stop(v->vm, "unsupported: MOV to CR%u exit", q->cr);
			return EXIT_ACT_RESUME;
		}
		if (w.gp)
			vcpu_inject_gp(v);
		else
			apply(v, q->cr, &w);
		break;
	case CR_MOV_FROM: /* CR8, and CR3 under shadow paging */
		if (q->cr == 3) {
			vcpu_set_gpr(v, q->gpr, vcpu_cr3(v), 8);
			vcpu_skip_insn(v);
			break;
		}
		if (q->cr != 8) {
			vm_stop(v->vm, "unsupported: MOV from CR%u exit", q->cr);
			return EXIT_ACT_RESUME;
		}
		vcpu_set_gpr(v, q->gpr, lapic_cr8_read(&v->vm->plat.lapic), 8);
		vcpu_skip_insn(v);
		break;
	case CR_CLTS:
		cr0_write(&p, &s, s.cr0 & ~CR0_TS, &w);
		apply(v, 0, &w);
		break;
	case CR_LMSW:
		cr0_write(&p, &s, lmsw_value(s.cr0, q->lmsw_src), &w);
		if (w.gp)
			vcpu_inject_gp(v);
		else
			apply(v, 0, &w);
		break;
	}
	return EXIT_ACT_RESUME;
}
