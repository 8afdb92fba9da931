/* A vCPU's architectural state on top of the current VMCS: the register cache, the
 * guest-visible CRs/EFER/PDPTEs in either paging mode, segments, CPL, the mode, GPRs at a
 * width, queued events and retiring an instruction. The bottom of vmx/: it calls no other
 * vmx/ module but the VMCS accessors and the pure event rules. */
#include "vcpu_state.h"
#include "event.h"
#include "vmx.h"
#include "../hypervisor/assert.h"
#include "../hypervisor/lib.h"
#include "../mm/gmem.h"

static const enum vmcs_field cached_field[REG_CACHED] = {
    [REG_RIP] = VMCS_GUEST_RIP,
    [REG_RSP] = VMCS_GUEST_RSP,
    [REG_RFLAGS] = VMCS_GUEST_RFLAGS,
};

u64 vcpu_reg(struct vcpu *v, unsigned r)
{
	if (!(v->cache_valid & BIT(r))) {
		v->cache[r] = vmcs_read(cached_field[r]);
		v->cache_valid |= (u32)BIT(r);
	}
	return v->cache[r];
}

void vcpu_set_reg(struct vcpu *v, unsigned r, u64 val)
{
	v->cache[r] = val;
	v->cache_valid |= (u32)BIT(r);
	v->cache_dirty |= (u32)BIT(r);
}

void vcpu_flush_regs(struct vcpu *v)
{
	for (unsigned r = 0; r < REG_CACHED; r++)
		if (v->cache_dirty & BIT(r))
			vmcs_write(cached_field[r], v->cache[r]);
	v->cache_dirty = 0;
}

void vcpu_invalidate_regs(struct vcpu *v)
{
	v->cache_valid = 0;
	v->cache_dirty = 0;
}

static u64 at_width(u64 val, unsigned bytes)
{
	return bytes >= 8 ? val : val & 0xffffffffULL;
}

u64 vcpu_gpr(struct vcpu *v, unsigned r, unsigned bytes)
{
	return at_width(r == GPR_RSP ? vcpu_reg(v, REG_RSP) : v->regs.gpr[r], bytes);
}

void vcpu_set_gpr(struct vcpu *v, unsigned r, u64 val, unsigned bytes)
{
	val = at_width(val, bytes);
	if (r == GPR_RSP)
		vcpu_set_reg(v, REG_RSP, val);
	else
		v->regs.gpr[r] = val;
}

/* What these accessors read from the VMCS is v's only while v's VMCS is the current one
 * (vmx_run and the VMCS setup load it): say so where v is not otherwise used. */
static void current(const struct vcpu *v)
{
	KASSERT(vmx_cpu.current_vmcs == v->vmcs_pa);
}

static bool shadowed(const struct vcpu *v)
{
	return v->vm->paging == VM_PAGING_SHADOW;
}

/* cache_valid bits past the registers': values derived from several VMCS fields, kept for
 * the rest of the exit (the guest changes them only while it runs) */
#define CACHED_CR0   BIT(REG_CACHED)
#define CACHED_CR4   BIT(REG_CACHED + 1)
#define CACHED_IA32E BIT(REG_CACHED + 2)

void vcpu_crs_changed(struct vcpu *v)
{
	v->cache_valid &= ~(u32)(CACHED_CR0 | CACHED_CR4 | CACHED_IA32E);
}

/* CR0 and CR4: the bits the guest owns from the register, the others from the read shadow
 * (both paging modes keep the guest's value there). */
u64 vcpu_cr0(struct vcpu *v)
{
	if (!(v->cache_valid & CACHED_CR0)) {
		current(v);
		u64 m = vmcs_read(VMCS_CR0_GUEST_HOST_MASK);
		v->cr0_cache =
		    (vmcs_read(VMCS_GUEST_CR0) & ~m) | (vmcs_read(VMCS_CR0_READ_SHADOW) & m);
		v->cache_valid |= (u32)CACHED_CR0;
	}
	return v->cr0_cache;
}

u64 vcpu_cr4(struct vcpu *v)
{
	if (!(v->cache_valid & CACHED_CR4)) {
		current(v);
		u64 m = vmcs_read(VMCS_CR4_GUEST_HOST_MASK);
		v->cr4_cache =
		    (vmcs_read(VMCS_GUEST_CR4) & ~m) | (vmcs_read(VMCS_CR4_READ_SHADOW) & m);
		v->cache_valid |= (u32)CACHED_CR4;
	}
	return v->cr4_cache;
}

u64 vcpu_cr3(struct vcpu *v)
{
	return shadowed(v) ? v->gcr3 : vmcs_read(VMCS_GUEST_CR3);
}

u64 vcpu_efer(struct vcpu *v)
{
	return shadowed(v) ? v->gefer : vmcs_read(VMCS_GUEST_EFER);
}

void vcpu_pdptes(struct vcpu *v, u64 pdpte[4])
{
	if (shadowed(v)) {
		memcpy(pdpte, v->gpdpte, sizeof(v->gpdpte));
		return;
	}
	pdpte[0] = vmcs_read(VMCS_GUEST_PDPTE0);
	pdpte[1] = vmcs_read(VMCS_GUEST_PDPTE1);
	pdpte[2] = vmcs_read(VMCS_GUEST_PDPTE2);
	pdpte[3] = vmcs_read(VMCS_GUEST_PDPTE3);
}

void vcpu_set_pdptes(struct vcpu *v, const u64 pdpte[4])
{
	memcpy(v->gpdpte, pdpte, sizeof(v->gpdpte));
	if (shadowed(v))
		return;
	vmcs_write(VMCS_GUEST_PDPTE0, pdpte[0]);
	vmcs_write(VMCS_GUEST_PDPTE1, pdpte[1]);
	vmcs_write(VMCS_GUEST_PDPTE2, pdpte[2]);
	vmcs_write(VMCS_GUEST_PDPTE3, pdpte[3]);
}

bool vcpu_load_pdptes(struct vcpu *v, u64 cr3)
{
	u64 pdpte[4];
	u64 rsvd = 0x1e6ULL | ~((1ULL << vmx_cpu.guest_maxphyaddr) - 1); /* bits 1-2, 5-8 */
	if (gmem_read(&v->vm->p2m, cr3 & 0xffffffe0ULL, pdpte, sizeof(pdpte)) != GMEM_OK)
		return false;
	for (unsigned i = 0; i < 4; i++)
		if ((pdpte[i] & 1) && (pdpte[i] & rsvd))
			return false;
	vcpu_set_pdptes(v, pdpte);
	return true;
}

bool vcpu_ia32e(struct vcpu *v)
{
	if (!(v->cache_valid & CACHED_IA32E)) {
		current(v); /* the entry control mirrors the EFER.LMA the CPU runs with */
		v->ia32e_cache = vmcs_read(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_GUEST;
		v->cache_valid |= (u32)CACHED_IA32E;
	}
	return v->ia32e_cache;
}

bool vcpu_code64(struct vcpu *v)
{
	return vcpu_ia32e(v) && (vmcs_read(VMCS_GUEST_CS_AR) & BIT(13));
}

u64 vcpu_seg_base(struct vcpu *v, unsigned seg)
{
	current(v);
	return vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_BASE + 2 * seg));
}

unsigned vcpu_cpl(struct vcpu *v)
{
	if (v->rm.active)
		return 0; /* real mode, run at CPL 3 in virtual-8086 mode */
	return (unsigned)(vmcs_read(VMCS_GUEST_SS_AR) >> 5) & 3;
}

void vcpu_retire_insn(struct vcpu *v, u64 next_rip)
{
	/* outside 64-bit mode RIP wraps at 4 GiB */
	if (!vcpu_ia32e(v))
		next_rip &= 0xffffffffULL;
	/* a single-stepping guest expects its #DB after the instruction: TF as it began counts */
	if (vcpu_reg(v, REG_RFLAGS) & RFLAGS_TF)
		vmcs_write(VMCS_GUEST_PENDING_DBG, vmcs_read(VMCS_GUEST_PENDING_DBG) | BIT(14));
	vcpu_set_reg(v, REG_RIP, next_rip);
	u64 intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
			   intr & ~(u64)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

void vcpu_skip_insn(struct vcpu *v)
{
	vcpu_retire_insn(v, vcpu_reg(v, REG_RIP) + v->exit_insn_len);
}

void vcpu_queue_event(struct vcpu *v, u32 info, u32 error, u32 insn_len)
{
	v->event.valid = true;
	v->event.info = info;
	v->event.error = error;
	v->event.insn_len = insn_len;
}

void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	if (v->event.valid && ((v->event.info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) ==
				  INTR_TYPE_HW_EXCEPTION) {
		switch (event_merge((u8)(v->event.info & INTR_INFO_VECTOR_MASK), vector)) {
		case MERGE_TRIPLE_FAULT:
			vm_stop(v->vm, "triple fault (exception %u while delivering #DF)", vector);
			return;
		case MERGE_DOUBLE_FAULT:
			vector = EXC_DF;
			has_error = true;
			error = 0;
			break;
		case MERGE_SECOND:
			break;
		}
	}
	vcpu_queue_event(v, intr_info(vector, INTR_TYPE_HW_EXCEPTION, has_error), error, 0);
}
