/* Scheduler core: round-robin over runnable vCPUs on one physical CPU, preempted by the
 * VMX-preemption timer at the end of each slice. Pure: the caller runs the vCPU. */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

#include "vm.h"

struct sched {
	struct vcpu *vcpus[MAX_VMS];
	unsigned n;
	unsigned next;
	u64 slice; /* TSC ticks per time slice */
};

void sched_init(struct sched *s, u64 slice);
bool sched_add(struct sched *s, struct vcpu *v);
/* Fires v's hypercall timer if due at `now`: the vector becomes pending, a halted vCPU
 * becomes runnable. */
void sched_timer_check(struct vcpu *v, u64 now);
/* The next runnable vCPU after the last one picked, or NULL. */
struct vcpu *sched_pick(struct sched *s, u64 now);
/* Earliest timer of a halted vCPU (UINT64_MAX: none). */
u64 sched_next_wakeup(const struct sched *s);
/* True when every vCPU's VM has ended. */
bool sched_all_done(const struct sched *s);

#endif
