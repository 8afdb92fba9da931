/* What a guest sees in CPUID: the host's answer with everything Keel does not virtualize
 * hidden, the hypervisor bit set, and Keel's own leaves at 0x40000000. Pure. */
#ifndef KEEL_CPUID_H
#define KEEL_CPUID_H

#include "types.h"

/* version of the guest-visible interface (CPUID leaves, hypercalls) */
#define KEEL_VERSION_MAJOR 1
#define KEEL_VERSION_MINOR 0
#define KEEL_VERSION	   ((KEEL_VERSION_MAJOR << 16) | KEEL_VERSION_MINOR)

#define CPUID_HV_BASE 0x40000000u
#define CPUID_HV_MAX  0x40000001u

struct cpuid_regs {
	u32 a, b, c, d;
};

/* Guest state and hypervisor choices that CPUID answers depend on. */
struct cpuid_ctx {
	unsigned vcpu_id;
	u64 guest_cr4; /* OSXSAVE/OSPKE mirror the guest's CR4 */
	bool rdtscp;   /* "enable RDTSCP" is set: RDTSCP may be shown */
	bool invpcid;  /* "enable INVPCID" is set */
	u64 tsc_hz;    /* the TSC rate Keel measured: leaves 0x15/0x16 report it */
	bool apic;     /* the VM has a local APIC model: offer APIC, x2APIC, TSC-deadline */
};

/* True for the leaves Keel answers itself (no native CPUID needed). */
bool cpuid_is_hv_leaf(u32 leaf);
/* Rewrites the native answer `r` for (leaf, sub) into the guest's answer. */
void cpuid_filter(u32 leaf, u32 sub, const struct cpuid_ctx *ctx, struct cpuid_regs *r);

#endif
