/* VM entry and the exit stub (entry.S). */
#ifndef KEEL_VMX_ENTRY_H
#define KEEL_VMX_ENTRY_H

#include "../hypervisor/vm.h"

/* 0 after a VM exit, nonzero when VMLAUNCH/VMRESUME itself failed */
int vmx_enter(struct vcpu_regs *regs, int launched);
/* The host RIP of every VMCS. */
void vmx_exit_stub(void);

#endif
