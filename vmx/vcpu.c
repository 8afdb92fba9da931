/* vCPU register cache and event queueing on top of the current VMCS. */
#include "vmx_ops.h"
#include "event.h"

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

void vcpu_retire_insn(struct vcpu *v, u64 next_rip)
{
	/* outside 64-bit mode RIP wraps at 4 GiB */
	if (!(vmcs_read(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_GUEST))
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
	v->event.valid = true;
	v->event.info = vector | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) |
			(has_error ? INTR_INFO_ERROR_VALID : 0) | INTR_INFO_VALID;
	v->event.error = error;
	v->event.insn_len = 0;
}
