/* The exceptions of a vCPU in real mode under shadow paging (virtual-8086 mode): an
 * instruction vm86 refuses carried out here, a shadow fill, or the guest's own. */
#ifndef KEEL_VMX_REALMODE_INSN_H
#define KEEL_VMX_REALMODE_INSN_H

#include "exit_action.h"
#include "../hypervisor/vm.h"

enum exit_action rmode_exception(struct vcpu *v, u8 vector, u32 type, u32 code);

#endif
