/* The CR-access exit handler (exit_cr.c). */
#ifndef KEEL_VMX_EXIT_CR_H
#define KEEL_VMX_EXIT_CR_H

#include "exit_action.h"

enum exit_action exit_cr_access(struct vcpu *v);

#endif
