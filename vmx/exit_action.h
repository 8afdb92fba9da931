/* What an exit handler tells the run loop to do next. */
#ifndef KEEL_VMX_EXIT_ACTION_H
#define KEEL_VMX_EXIT_ACTION_H

struct vcpu;

enum exit_action {
	EXIT_ACT_RESUME, /* re-enter the guest */
	EXIT_ACT_YIELD,	 /* give the CPU to the scheduler */
	EXIT_ACT_DONE,	 /* the VM ended (vm_stop or exit) */
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v);

#endif
