/* A VM's dirty log kept by Page-Modification Logging (pml.c): the VMCS side of PML and EPT
 * accessed/dirty flags, on only while the log is on, on EPT, and where the CPU has both. */
#ifndef KEEL_VMX_PML_H
#define KEEL_VMX_PML_H

#include "exit_action.h"
#include "../hypervisor/vm.h"

/* Secondary controls the VM's EPT mode adds to the CPU's choice (PROC2_PML or 0). */
u32 pml_proc2(const struct vcpu *v);
/* Makes the VMCS and the log's way of trapping writes agree with the VM now: PML while the
 * log is on under EPT and the CPU can, else write protection. v's VMCS is current. */
void pml_sync(struct vcpu *v);
/* One dirty-log round (p2m_log_round) with the PML buffer drained first; the first round
 * starts the log, under PML where it can. NULL, or why the log could not start. */
const char *pml_log_round(struct vcpu *v, u64 *dirty);
/* The PML buffer is full: drain it and let the write run again. */
enum exit_action exit_pml_full(struct vcpu *v);
/* Frees the vCPU's PML buffer. */
void pml_free(struct vcpu *v);

#endif
