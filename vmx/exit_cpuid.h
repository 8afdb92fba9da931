/* The CPUID exit handler (exit_cpuid.c). */
#ifndef KEEL_VMX_EXIT_CPUID_H
#define KEEL_VMX_EXIT_CPUID_H

#include "exit_action.h"

enum exit_action exit_cpuid(struct vcpu *v);

#endif
