/* The EPT violation and misconfiguration exit handlers (exit_ept.c). */
#ifndef KEEL_VMX_EXIT_EPT_H
#define KEEL_VMX_EXIT_EPT_H

#include "exit_action.h"
#include "../hypervisor/types.h"

enum exit_action exit_ept_violation(struct vcpu *v);
enum exit_action exit_ept_misconfig(struct vcpu *v);
/* The guest's access needs a frame and free frames are at the reserve (P2M_FAULT_WAIT):
 * its time slice ends and the access runs again later, once the reclaimer made room; a
 * VM that waits MEM_WAIT_MAX_S without one is stopped. Under EPT and the shadow alike. */
#define MEM_WAIT_MAX_S 20
enum exit_action exit_wait_for_memory(struct vcpu *v, u64 gpa);

#endif
