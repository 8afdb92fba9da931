/* VMX instructions and vCPU helpers used inside vmx/ only: current-VMCS switching,
 * INVEPT/INVVPID, the register cache, event injection and exit-handler plumbing. */
#ifndef KEEL_VMX_OPS_H
#define KEEL_VMX_OPS_H

#include "vmx.h"
#include "vmcs.h"
#include "vmx_defs.h"

bool vmx_vmptrld(u64 pa);
bool vmx_vmclear(u64 pa);
void vmx_invept_context(u64 eptp);
void vmx_invvpid_addr(u16 vpid, u64 addr);
void vmx_invvpid_context(u16 vpid);

/* entry.S: 0 after a VM exit, nonzero when VMLAUNCH/VMRESUME itself failed */
int vmx_enter(struct vcpu_regs *regs, int launched);
void vmx_exit_stub(void);

/* Register cache (STYLE 7). */
u64 vcpu_reg(struct vcpu *v, unsigned r);
void vcpu_set_reg(struct vcpu *v, unsigned r, u64 val);
void vcpu_flush_regs(struct vcpu *v);
void vcpu_invalidate_regs(struct vcpu *v);
/* Finishes an instruction Keel carried out, as the CPU would: RIP to next_rip, the STI/MOV-SS
 * shadow ends, and a single-step #DB is owed if TF was set. Call it before changing RFLAGS:
 * the TF the instruction began with decides (POPF, IRET). */
void vcpu_retire_insn(struct vcpu *v, u64 next_rip);
/* vcpu_retire_insn past the exiting instruction (its length from the exit). */
void vcpu_skip_insn(struct vcpu *v);

/* Queues an exception for the next VM entry (merged into #DF per the SDM's rules when one
 * is already pending). */
void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error);
static inline void vcpu_inject_gp(struct vcpu *v)
{
	vcpu_inject_exception(v, EXC_GP, true, 0);
}
static inline void vcpu_inject_ud(struct vcpu *v)
{
	vcpu_inject_exception(v, EXC_UD, false, 0);
}

/* Exit handlers return what the run loop does next. */
enum exit_action {
	EXIT_ACT_RESUME, /* re-enter the guest */
	EXIT_ACT_YIELD,	 /* give the CPU to the scheduler */
	EXIT_ACT_DONE,	 /* the VM ended (vm_stop or exit) */
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v);

/* Handlers, by topic file. */
enum exit_action exit_cpuid(struct vcpu *v);
enum exit_action exit_io(struct vcpu *v);
enum exit_action exit_cr_access(struct vcpu *v);
enum exit_action exit_rdmsr(struct vcpu *v);
enum exit_action exit_wrmsr(struct vcpu *v);
enum exit_action exit_ept_violation(struct vcpu *v);
enum exit_action exit_ept_misconfig(struct vcpu *v);
/* Emulates the instruction that touched guest-physical gpa (MMIO, or a ROM write). */
enum exit_action exit_emulate(struct vcpu *v, u64 gpa);
/* Emulates the instruction at RIP, committing registers on EMU_OK/EMU_AGAIN and queueing
 * the exception on EMU_EXCEPTION; *why says what failed on EMU_UNHANDLED. A REP string op
 * does at most rep_cap iterations (0: the emulator's default) before the guest resumes. */
int emulate_insn(struct vcpu *v, const char **why, u32 rep_cap);
/* The vCPU's GPRs, RIP and RFLAGS as the instruction emulator takes them. */
struct emu_regs;
void vcpu_emu_regs(struct vcpu *v, struct emu_regs *r);

/* Paging mode (paging.c). The guest-visible control registers and EFER, in either mode. */
u64 vcpu_cr0(struct vcpu *v);
u64 vcpu_cr4(struct vcpu *v);
u64 vcpu_cr3(struct vcpu *v);
u64 vcpu_efer(struct vcpu *v);
void vcpu_set_efer(struct vcpu *v, u64 efer);
void vcpu_pdptes(struct vcpu *v, u64 pdpte[4]);
void vcpu_set_pdptes(struct vcpu *v, const u64 pdpte[4]);
/* Loads the PAE PDPTE registers from the table at cr3, as MOV to CR3 does; false (nothing
 * loaded) when it is not RAM or a present entry has reserved bits set: the guest's #GP. */
bool vcpu_load_pdptes(struct vcpu *v, u64 cr3);
/* After a guest CR0/CR4/EFER change under shadow paging. false: the VM was stopped. */
bool paging_sync(struct vcpu *v);
/* The VMCS's paging controls for the VM's mode, once the guest state is set up. */
const char *paging_init_vcpu(struct vcpu *v);
/* Mode switch requests and TLB flushes owed, before each entry. */
void paging_before_entry(struct vcpu *v);
enum exit_action paging_cr3_write(struct vcpu *v, u64 val);
enum exit_action exit_page_fault(struct vcpu *v, u32 error);
void paging_invlpg(struct vcpu *v, u64 gva);
/* Real mode under shadow paging, in virtual-8086 mode (realmode.c). rmode_enter: false
 * when the VM was stopped (a state vm86 cannot run). rmode_leave: back to protected mode
 * (pe) or to unrestricted guest's real mode. */
bool rmode_enter(struct vcpu *v);
void rmode_leave(struct vcpu *v, bool pe);
/* NULL if the vCPU's real-mode state can run in vm86 now, else why not. */
const char *rmode_cannot_enter(struct vcpu *v);
/* The guest-visible RFLAGS (in real mode IOPL and AC are not the CPU's). */
u64 rmode_flags(struct vcpu *v);
/* An intercepted exception in real mode: emulated instruction, shadow fill, or the guest's. */
enum exit_action rmode_exception(struct vcpu *v, u8 vector, u32 type, u32 code);
/* Delivers an event (VM-entry interruption-information format) through the guest's IVT. */
void rmode_inject(struct vcpu *v, u32 info, u32 insn_len);
/* Keel's vm86 TSS as the shadow sees it while a vCPU of vm is in real mode. */
bool rmode_tss_frame(struct vm *vm, u64 gfn, u64 *mfn);
enum exit_action exit_hlt(struct vcpu *v);
enum exit_action exit_vmcall(struct vcpu *v);
enum exit_action exit_invlpg(struct vcpu *v);
enum exit_action exit_exception(struct vcpu *v);
enum exit_action exit_external_interrupt(struct vcpu *v);
enum exit_action exit_interrupt_window(struct vcpu *v);
enum exit_action exit_preemption_timer(struct vcpu *v);
enum exit_action exit_triple_fault(struct vcpu *v);
enum exit_action exit_xsetbv(struct vcpu *v);
enum exit_action exit_inject_ud(struct vcpu *v);
enum exit_action exit_inject_gp(struct vcpu *v);
enum exit_action exit_skip(struct vcpu *v);

/* Prints the guest state of the current VMCS and what the entry checks say about it. */
void vmx_report_entry_failure(struct vcpu *v, u32 reason);

/* FPU/XSAVE and syscall-MSR switching (fpu_hw.c). */
void vmx_switch_guest_state(struct vcpu *v);

#endif
