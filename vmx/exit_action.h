/* What an exit handler tells the run loop to do next. That the VM ended is said only by
 * vm_stop() (or the VM's power-off and reset): the run loop checks vm_is_done() after every
 * exit and before every entry, whatever the handler returned. */
#ifndef KEEL_VMX_EXIT_ACTION_H
#define KEEL_VMX_EXIT_ACTION_H

struct vcpu;

enum exit_action {
	EXIT_ACT_RESUME, /* re-enter the guest (unless the VM ended) */
	EXIT_ACT_YIELD,	 /* give the CPU to the scheduler */
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v);

#endif
