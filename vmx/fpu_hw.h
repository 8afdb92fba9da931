/* State the VMCS does not switch (fpu_hw.c): FPU/XSAVE and the syscall MSRs. */
#ifndef KEEL_VMX_FPU_HW_H
#define KEEL_VMX_FPU_HW_H

#include "../hypervisor/vm.h"

/* Makes the CPU hold v's FPU/XSAVE state and syscall MSRs, saving the previous owner's. */
void vmx_switch_guest_state(struct vcpu *v);

#endif
