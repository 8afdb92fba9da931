/* A VM entry that failed on guest state (entry_fail.c). */
#ifndef KEEL_VMX_ENTRY_FAIL_H
#define KEEL_VMX_ENTRY_FAIL_H

#include "../hypervisor/vm.h"

/* Prints the guest state of the current VMCS and what the entry checks say about it, and
 * stops the VM. */
void vmx_report_entry_failure(struct vcpu *v, u32 reason);

#endif
