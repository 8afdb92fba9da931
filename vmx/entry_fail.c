/* Reporting a VM entry that failed on guest state: the guest-state fields, the CPU's
 * qualification, and the first check the software checker finds broken. */
#include "entry_fail.h"
#include "vcpu_state.h"
#include "vmx.h"
#include "guest_check.h"
#include "../hypervisor/console.h"

static void read_seg(struct seg_state *s, unsigned i)
{
	/* the segment groups are ordered ES, CS, SS, DS, FS, GS, LDTR, TR, 2 apart */
	s->sel = (u16)vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_SEL + 2 * i));
	s->base = vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_BASE + 2 * i));
	s->limit = (u32)vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_LIMIT + 2 * i));
	s->ar = (u32)vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_AR + 2 * i));
}

void vmx_report_entry_failure(struct vcpu *v, u32 reason)
{
	const struct vmx_caps *c = &vmx_cpu.caps;
	struct guest_state g = {
	    .cr0 = vmcs_read(VMCS_GUEST_CR0),
	    .cr4 = vmcs_read(VMCS_GUEST_CR4),
	    .dr7 = vmcs_read(VMCS_GUEST_DR7),
	    .efer = vmcs_read(VMCS_GUEST_EFER),
	    .rflags = vmcs_read(VMCS_GUEST_RFLAGS),
	    .rip = vmcs_read(VMCS_GUEST_RIP),
	    .link = vmcs_read(VMCS_VMCS_LINK_PTR),
	    .entry_ctls = (u32)vmcs_read(VMCS_ENTRY_CONTROLS),
	    .proc2 = (u32)vmcs_read(VMCS_PROC_CONTROLS2),
	    .activity = (u32)vmcs_read(VMCS_GUEST_ACTIVITY_STATE),
	    .interruptibility = (u32)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY),
	    .cr0_fixed0 = c->cr0_fixed0,
	    .cr0_fixed1 = c->cr0_fixed1,
	    .cr4_fixed0 = c->cr4_fixed0,
	    .cr4_fixed1 = c->cr4_fixed1,
	};
	for (unsigned i = 0; i < SEG_COUNT; i++)
		read_seg(&g.seg[i], i);
	static const char *const names[SEG_COUNT] = {"es", "cs", "ss",	 "ds",
						     "fs", "gs", "ldtr", "tr"};
	kprintf("keel: VM entry of vm %s failed: exit reason %u (%s), qualification %llx\n",
		v->vm->name, reason, exit_reason_name(reason), (unsigned long long)v->exit_qual);
	kprintf("  cr0 %llx cr4 %llx efer %llx rflags %llx rip %llx dr7 %llx\n",
		(unsigned long long)g.cr0, (unsigned long long)g.cr4, (unsigned long long)g.efer,
		(unsigned long long)g.rflags, (unsigned long long)g.rip, (unsigned long long)g.dr7);
	for (unsigned i = 0; i < SEG_COUNT; i++)
		kprintf("  %-4s sel %04x base %llx limit %x ar %x\n", names[i], g.seg[i].sel,
			(unsigned long long)g.seg[i].base, g.seg[i].limit, g.seg[i].ar);
	const char *why = guest_state_check(&g);
	if (reason == EXIT_INVALID_GUEST_STATE && v->exit_qual == 2)
		why = "loading the PDPTEs failed (a present PDPTE has reserved bits set)";
	else if (reason == EXIT_MSR_LOADING)
		why = "loading an MSR from the VM-entry MSR-load area failed";
	vm_stop(v->vm, "VM-entry failure: %s",
		why ? why
		    : "invalid guest state (no check in "
		      "Keel's checker matched; see the dump)");
}
