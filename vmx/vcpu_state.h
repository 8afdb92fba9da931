/* A vCPU's architectural state as the layers above see it, on top of the current VMCS: the
 * register cache, the guest-visible CRs, EFER and PDPTEs (EPT or shadow paging), segments,
 * CPL, the mode, GPRs at a width, queued events, and retiring an instruction. */
#ifndef KEEL_VMX_VCPU_STATE_H
#define KEEL_VMX_VCPU_STATE_H

#include "vmcs.h"
#include "vmx_defs.h"
#include "../hypervisor/vm.h"

/* Register cache (STYLE 7): RIP, RSP and RFLAGS read once per exit, written back once. */
u64 vcpu_reg(struct vcpu *v, unsigned r);
void vcpu_set_reg(struct vcpu *v, unsigned r, u64 val);
void vcpu_flush_regs(struct vcpu *v);
void vcpu_invalidate_regs(struct vcpu *v);

/* General register r (GPR_*), RSP through the cache, zero-extended from `bytes` (4 or 8). */
u64 vcpu_gpr(struct vcpu *v, unsigned r, unsigned bytes);
/* Writes r as a MOV of `bytes` (4 or 8) would: a 32-bit write clears the upper half. */
void vcpu_set_gpr(struct vcpu *v, unsigned r, u64 val, unsigned bytes);

/* The guest-visible control registers and EFER, in either paging mode. CR0, CR4 and the
 * IA-32e mode are read once per exit: whoever writes their VMCS fields calls
 * vcpu_crs_changed() (vcpu_invalidate_regs() before each entry drops them too). */
u64 vcpu_cr0(struct vcpu *v);
u64 vcpu_cr4(struct vcpu *v);
u64 vcpu_cr3(struct vcpu *v);
u64 vcpu_efer(struct vcpu *v);
void vcpu_crs_changed(struct vcpu *v);
void vcpu_pdptes(struct vcpu *v, u64 pdpte[4]);
void vcpu_set_pdptes(struct vcpu *v, const u64 pdpte[4]);
/* Loads the PAE PDPTE registers from the table at cr3, as MOV to CR3 does; false (nothing
 * loaded) when it is not RAM or a present entry has reserved bits set: the guest's #GP. */
bool vcpu_load_pdptes(struct vcpu *v, u64 cr3);

/* IA-32e mode (EFER.LMA as the CPU runs it): RIP and addresses are 64-bit there. */
bool vcpu_ia32e(struct vcpu *v);
/* 64-bit code: IA-32e mode and CS.L; only FS and GS have a base then. */
bool vcpu_code64(struct vcpu *v);
/* The width of a GPR operand a CR/DR move or a hypercall takes: 8 in IA-32e mode, else 4. */
static inline unsigned vcpu_gpr_bytes(struct vcpu *v)
{
	return vcpu_ia32e(v) ? 8 : 4;
}
/* The base of segment seg: 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS (their VMCS fields are 2
 * apart), as the hardware holds it. */
u64 vcpu_seg_base(struct vcpu *v, unsigned seg);
/* The current privilege level (SS.DPL; 0 in real mode run in virtual-8086 mode). */
unsigned vcpu_cpl(struct vcpu *v);

/* Finishes an instruction Keel carried out, as the CPU would: RIP to next_rip, the STI/MOV-SS
 * shadow ends, and a single-step #DB is owed if TF was set. Call it before changing RFLAGS:
 * the TF the instruction began with decides (POPF, IRET). */
void vcpu_retire_insn(struct vcpu *v, u64 next_rip);
/* vcpu_retire_insn past the exiting instruction (its length from the exit). */
void vcpu_skip_insn(struct vcpu *v);

/* The VM-entry interruption-information word of an event. */
static inline u32 intr_info(u8 vector, u32 type, bool has_error)
{
	return vector | (type << INTR_INFO_TYPE_SHIFT) | (has_error ? INTR_INFO_ERROR_VALID : 0) |
	       INTR_INFO_VALID;
}
/* Queues an event as it is: for the next VM entry, which delivers it (software events
 * need the instruction's length). Replaces any event queued before. */
void vcpu_queue_event(struct vcpu *v, u32 info, u32 error, u32 insn_len);
/* Queues an exception for the next VM entry (merged into #DF per the SDM's rules when one
 * is already pending; a third fault stops the VM). */
void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error);
static inline void vcpu_inject_gp(struct vcpu *v)
{
	vcpu_inject_exception(v, EXC_GP, true, 0);
}
static inline void vcpu_inject_ud(struct vcpu *v)
{
	vcpu_inject_exception(v, EXC_UD, false, 0);
}

#endif
