/* Small exit handlers (exit_misc.c): HLT (also real mode's), VMCALL, INVLPG, interrupts
 * and windows, the preemption timer, triple fault, XSETBV, and refused instructions. */
#ifndef KEEL_VMX_EXIT_MISC_H
#define KEEL_VMX_EXIT_MISC_H

#include "exit_action.h"

enum exit_action exit_hlt(struct vcpu *v);
enum exit_action exit_vmcall(struct vcpu *v);
enum exit_action exit_invlpg(struct vcpu *v);
enum exit_action exit_external_interrupt(struct vcpu *v);
enum exit_action exit_interrupt_window(struct vcpu *v);
enum exit_action exit_preemption_timer(struct vcpu *v);
enum exit_action exit_triple_fault(struct vcpu *v);
enum exit_action exit_xsetbv(struct vcpu *v);
enum exit_action exit_inject_ud(struct vcpu *v);
enum exit_action exit_inject_gp(struct vcpu *v);
enum exit_action exit_skip(struct vcpu *v);

#endif
