/* The EPT violation and misconfiguration exit handlers (exit_ept.c). */
#ifndef KEEL_VMX_EXIT_EPT_H
#define KEEL_VMX_EXIT_EPT_H

#include "exit_action.h"

enum exit_action exit_ept_violation(struct vcpu *v);
enum exit_action exit_ept_misconfig(struct vcpu *v);

#endif
