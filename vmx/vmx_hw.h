/* The checked VMX instructions besides VMREAD/VMWRITE (vmcs.h): current-VMCS switching and
 * TLB invalidation by EPT context or VPID (vmx_hw.c). */
#ifndef KEEL_VMX_VMX_HW_H
#define KEEL_VMX_VMX_HW_H

#include "../hypervisor/types.h"

bool vmx_vmptrld(u64 pa);
bool vmx_vmclear(u64 pa);
void vmx_invept_context(u64 eptp);
void vmx_invvpid_addr(u16 vpid, u64 addr);
void vmx_invvpid_context(u16 vpid);

#endif
