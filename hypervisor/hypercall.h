/* Keel's hypercall ABI (VMCALL): number in RAX, arguments in RBX, RCX, RDX, result in
 * RAX; negative results are -errno. See docs/guest-abi.md. */
#ifndef KEEL_HYPERCALL_H
#define KEEL_HYPERCALL_H

#include "vm.h"

enum {
	KEEL_HC_VERSION = 0,
	KEEL_HC_TIMER_ONESHOT = 1,
	/* test builds only (Keel command line `test_hypercalls`): make the caller's next VM
	 * entry fail on guest state, to exercise that path end to end */
	KEEL_HC_TEST_BREAK_ENTRY = 0x7e57,
	/* test builds only: swap out up to RBX pages of the caller's VM now (the clock picks
	 * them); returns how many went out. Lets a test guest check its pages come back. */
	KEEL_HC_TEST_SWAP_OUT = 0x7e58,
};

#define HC_EPERM  1
#define HC_EINVAL 22
#define HC_ENOSYS 38

/* Runs hypercall `nr` for v at host time `now`; returns the value for RAX. */
s64 hypercall(struct vcpu *v, u64 nr, u64 a0, u64 a1, u64 a2, u64 now);

#endif
