/* Real mode under shadow paging, in virtual-8086 mode: entering and leaving it, Keel's vm86
 * TSS, the guest-visible flags, and event delivery through the guest's IVT. */
#ifndef KEEL_VMX_REALMODE_H
#define KEEL_VMX_REALMODE_H

#include "v86.h"
#include "../hypervisor/vm.h"

/* false when the VM was stopped (a state vm86 cannot run). */
bool rmode_enter(struct vcpu *v);
/* Back to protected mode (pe) or to unrestricted guest's real mode. */
void rmode_leave(struct vcpu *v, bool pe);
/* NULL if the vCPU's real-mode state can run in vm86 now, else why not. */
const char *rmode_cannot_enter(struct vcpu *v);
/* The guest-visible RFLAGS (in real mode IOPL and AC are not the CPU's). */
u64 rmode_flags(struct vcpu *v);
/* Delivers an event (VM-entry interruption-information format) through the guest's IVT. */
void rmode_inject(struct vcpu *v, u32 info, u32 insn_len);
/* Keel's vm86 TSS as the shadow sees it while a vCPU of vm is in real mode. */
bool rmode_tss_frame(struct vm *vm, u64 gfn, u64 *mfn);

/* For realmode_insn.c: guest memory by linear address (ctx: the vCPU), the registers an
 * instruction of v86.c works on, and stopping the VM when they are not RAM. */
bool rmode_mem_read(void *ctx, u64 lin, void *buf, unsigned n);
bool rmode_mem_write(void *ctx, u64 lin, const void *buf, unsigned n);
void rmode_cpu_load(struct vcpu *v, struct v86_cpu *s);
void rmode_cpu_store(struct vcpu *v, const struct v86_cpu *s);
void rmode_stop_not_ram(struct vcpu *v, const char *what, const struct v86_cpu *s);

#endif
