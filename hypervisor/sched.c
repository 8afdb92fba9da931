/* Round-robin scheduling policy. */
#include "sched.h"
#include "keel.h"

void sched_init(struct sched *s, u64 slice)
{
	s->n = 0;
	s->next = 0;
	s->slice = slice;
}

bool sched_add(struct sched *s, struct vcpu *v)
{
	if (s->n == MAX_VMS)
		return false;
	s->vcpus[s->n++] = v;
	return true;
}

void sched_timer_check(struct vcpu *v, u64 now)
{
	/* a halted vCPU wakes when its platform has an interrupt for it */
	if (v->state == VCPU_HALTED) {
		platform_update(v->vm, now + v->vm->tsc_offset);
		if (platform_pending_vector(v->vm) >= 0)
			v->state = VCPU_RUNNABLE;
	}
	if (v->timer_deadline && now >= v->timer_deadline) {
		v->timer_deadline = 0;
		v->pending_irq = v->timer_vector;
		v->timer_pending = true;
		if (v->state == VCPU_HALTED)
			v->state = VCPU_RUNNABLE;
	}
}

static bool runnable(const struct vcpu *v)
{
	return v->state == VCPU_RUNNABLE && !vm_is_done(v->vm) && v->vm->state != VM_PAUSED;
}

struct vcpu *sched_pick(struct sched *s, u64 now)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!vm_is_done(s->vcpus[i]->vm))
			sched_timer_check(s->vcpus[i], now);
	for (unsigned i = 0; i < s->n; i++) {
		struct vcpu *v = s->vcpus[(s->next + i) % s->n];
		if (runnable(v)) {
			s->next = (s->next + i + 1) % s->n;
			return v;
		}
	}
	return NULL;
}

u64 sched_next_wakeup(const struct sched *s)
{
	u64 t = UINT64_MAX;
	for (unsigned i = 0; i < s->n; i++) {
		const struct vcpu *v = s->vcpus[i];
		if (v->state != VCPU_HALTED || vm_is_done(v->vm))
			continue;
		if (v->timer_deadline)
			t = MIN(t, v->timer_deadline);
		/* device timers count guest TSC: back to host TSC */
		u64 dev = platform_next_event(v->vm, time_now() + v->vm->tsc_offset);
		if (dev != UINT64_MAX)
			t = MIN(t, dev - v->vm->tsc_offset);
	}
	return t;
}

bool sched_all_done(const struct sched *s)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!vm_is_done(s->vcpus[i]->vm))
			return false;
	return true;
}
