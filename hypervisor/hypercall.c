/* Hypercall implementations. Arguments come from the guest: every one is checked. */
#include "hypercall.h"
#include "cpuid.h"

static s64 hc_timer(struct vcpu *v, u64 vector, u64 lo, u64 hi, u64 now)
{
	u64 delay = (lo & 0xffffffffULL) | ((hi & 0xffffffffULL) << 32);
	if (vector < 32 || vector > 255)
		return -HC_EINVAL;
	/* the old timer is replaced whole: an interrupt it raised but the guest has not yet
	 * taken (interrupts off, or waiting for its time slice) is withdrawn too */
	if (v->timer_pending)
		v->pending_irq = -1;
	v->timer_pending = false;
	if (delay == 0) {
		v->timer_deadline = 0;
		return 0;
	}
	/* saturate instead of wrapping: a huge delay means "practically never" */
	v->timer_deadline = delay > UINT64_MAX - now ? UINT64_MAX : now + delay;
	v->timer_vector = (u8)vector;
	return 0;
}

s64 hypercall(struct vcpu *v, u64 nr, u64 a0, u64 a1, u64 a2, u64 now)
{
	struct swap_vm *sv;
	switch (nr) {
	case KEEL_HC_VERSION:
		return KEEL_VERSION;
	case KEEL_HC_TIMER_ONESHOT:
		return hc_timer(v, a0, a1, a2, now);
	case KEEL_HC_TEST_BREAK_ENTRY:
		if (!v->vm->test_hypercalls)
			return -HC_ENOSYS;
		v->break_entry = true;
		return 0;
	case KEEL_HC_TEST_SWAP_OUT:
		if (!v->vm->test_hypercalls)
			return -HC_ENOSYS;
		sv = v->vm->swap ? swap_vm_of(v->vm->swap, &v->vm->p2m) : NULL;
		if (!sv || !sv->on)
			return -HC_EPERM; /* no swap partition, or swap = off */
		return (s64)swap_out_pages(v->vm->swap, &v->vm->p2m, a0, NULL, NULL);
	default:
		return -HC_ENOSYS;
	}
}
