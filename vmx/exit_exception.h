/* The exception-or-NMI exit handler (exit_exception.c): intercepted #DB/#AC reflected, shadow #PF,
 * real mode. */
#ifndef KEEL_VMX_EXIT_EXCEPTION_H
#define KEEL_VMX_EXIT_EXCEPTION_H

#include "exit_action.h"

enum exit_action exit_exception(struct vcpu *v);

#endif
