/* Control-register operations on a vCPU, decoded: the CR-access exit and real mode's
 * emulated MOV CR, CLTS and LMSW both come here. */
#ifndef KEEL_VMX_CR_OPS_H
#define KEEL_VMX_CR_OPS_H

#include "exit_action.h"
#include "../hypervisor/vm.h"

/* The access types, numbered as the exit qualification's bits 5:4. */
enum cr_op { CR_MOV_TO, CR_MOV_FROM, CR_CLTS, CR_LMSW };

struct cr_access {
	unsigned cr;
	enum cr_op op;
	unsigned gpr; /* GPR_*, for MOV */
	u16 lmsw_src;
};

/* Carries out the access and retires the instruction, or queues the guest's #GP. */
enum exit_action cr_access(struct vcpu *v, const struct cr_access *a);

#endif
