/* The instruction-emulation glue between a running vCPU and hypervisor/emulate.c: fetch,
 * operands through the guest's page tables to devices or RAM, results back into the vCPU. */
#ifndef KEEL_VMX_EMUL_H
#define KEEL_VMX_EMUL_H

#include "exit_action.h"
#include "../hypervisor/emulate.h"
#include "../hypervisor/vm.h"

/* Emulates the instruction at RIP, committing registers on EMU_OK/EMU_AGAIN (retiring it on
 * EMU_OK) and queueing the exception on EMU_EXCEPTION; *why says what failed on
 * EMU_UNHANDLED. A REP string op does at most rep_cap iterations (0: the emulator's
 * default) before the guest resumes. */
enum emu_result emulate_insn(struct vcpu *v, const char **why, u32 rep_cap);
/* Emulates the instruction that touched guest-physical gpa (MMIO, or a ROM write); one it
 * cannot carry out stops the VM. */
enum exit_action emulate_mmio(struct vcpu *v, u64 gpa);
/* The vCPU's GPRs, RIP and RFLAGS as the instruction emulator takes them. */
void vcpu_emu_regs(struct vcpu *v, struct emu_regs *r);

#endif
