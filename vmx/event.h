/* Exception combination rules (SDM vol. 3A, "Interrupt 8 - Double Fault Exception"):
 * what to deliver when a second exception arises while a first is being delivered. Pure. */
#ifndef KEEL_EVENT_H
#define KEEL_EVENT_H

#include "../hypervisor/types.h"

enum event_merge_result {
	MERGE_SECOND,	    /* deliver the second one (the first is handled serially) */
	MERGE_DOUBLE_FAULT, /* deliver #DF(0) */
	MERGE_TRIPLE_FAULT, /* the VM shuts down */
};

enum event_merge_result event_merge(u8 first_vector, u8 second_vector);

/* Whether a hardware exception pushes an error code (in protected mode). */
bool exception_has_error_code(u8 vector);

#endif
