/* A VM's memory virtualization on the CPU (paging.c): EPT or shadow paging, the live switch
 * between them, and what shadow paging intercepts (#PF, MOV CR3, INVLPG). */
#ifndef KEEL_VMX_PAGING_H
#define KEEL_VMX_PAGING_H

#include "exit_action.h"
#include "../hypervisor/vm.h"

/* The VMCS's paging controls for the VM's mode, once the guest state is set up. NULL or
 * why the vCPU cannot start. */
const char *paging_init_vcpu(struct vcpu *v);
/* Mode switch requests and TLB flushes owed, before each entry. */
void paging_before_entry(struct vcpu *v);
/* After a guest CR0/CR4/EFER change under shadow paging. false: the VM was stopped. */
bool paging_sync(struct vcpu *v);
/* Sets the guest's EFER (under shadow paging the CPU's follows through paging_sync). */
void vcpu_set_efer(struct vcpu *v, u64 efer);
/* MOV to CR3 under shadow paging: the guest's value kept, the CPU given a shadow root. */
enum exit_action paging_cr3_write(struct vcpu *v, u64 val);
/* A #PF intercepted under shadow paging (error: its error code). */
enum exit_action exit_page_fault(struct vcpu *v, u32 error);
void paging_invlpg(struct vcpu *v, u64 gva);

#endif
