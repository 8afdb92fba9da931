/* RDMSR and WRMSR (exit_msr.c): the exit handlers, also carried out for real mode's
 * emulated RDMSR/WRMSR. Each reads ECX (and EDX:EAX), then retires the instruction or
 * queues the guest's #GP. */
#ifndef KEEL_VMX_EXIT_MSR_H
#define KEEL_VMX_EXIT_MSR_H

#include "exit_action.h"

enum exit_action exit_rdmsr(struct vcpu *v);
enum exit_action exit_wrmsr(struct vcpu *v);

#endif
