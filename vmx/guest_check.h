/* A software pass over the guest-state checks the CPU makes at VM entry (SDM vol. 3C,
 * 27.3.1), so that an "invalid guest state" failure names the check that failed. Pure:
 * it works on a plain copy of the fields. Covers the checks Keel's setup can get wrong;
 * the CPU remains the authority. */
#ifndef KEEL_GUEST_CHECK_H
#define KEEL_GUEST_CHECK_H

#include "../hypervisor/types.h"

struct seg_state {
	u16 sel;
	u64 base;
	u32 limit;
	u32 ar;
};

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

struct guest_state {
	u64 cr0, cr4, dr7, efer, rflags, rip, link;
	u32 entry_ctls, proc2, activity, interruptibility;
	struct seg_state seg[SEG_COUNT];
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* Returns NULL when every covered check passes, else the first failure, in words. */
const char *guest_state_check(const struct guest_state *g);

#endif
