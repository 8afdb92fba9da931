/* VMX capabilities: the raw MSRs, what they mean, and the one check that decides whether
 * Keel can run on this CPU. Decoding is pure (host-tested); reading the MSRs is not. */
#ifndef KEEL_VMX_CAPS_H
#define KEEL_VMX_CAPS_H

#include "../hypervisor/types.h"

struct vmx_caps {
	bool vmx;		 /* CPUID.1:ECX.VMX */
	bool feature_control_ok; /* IA32_FEATURE_CONTROL lets VMXON outside SMX */
	u64 basic, pin, proc, proc2, exit, entry, misc, ept_vpid;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* Applies a capability MSR (allowed-0 in the low half, allowed-1 in the high half) to the
 * controls we want; *missing gets the wanted bits the CPU cannot set. */
u32 vmx_ctl_adjust(u64 cap, u32 want, u32 *missing);
bool vmx_ctl_can(u64 cap, u32 bit);
/* Uses the TRUE_* capability MSRs when IA32_VMX_BASIC says they exist. */
bool vmx_has_true_ctls(const struct vmx_caps *c);
u32 vmx_revision(const struct vmx_caps *c);
/* VMX-preemption timer ticks once every 2^rate TSC ticks. */
unsigned vmx_preempt_rate(const struct vmx_caps *c);

/* NULL when Keel can run here; otherwise what is missing, in words. */
const char *vmx_caps_check(const struct vmx_caps *c);
/* NULL if guests can run on EPT (with unrestricted guest), else why only shadow paging. */
const char *vmx_caps_ept_check(const struct vmx_caps *c);
/* PML with the EPT accessed/dirty flags it needs. */
bool vmx_caps_pml(const struct vmx_caps *c);
/* Writes the human-readable feature list (one line per group) into buf. */
void vmx_caps_describe(const struct vmx_caps *c, char *buf, size_t size);

/* Hardware side (vmx_hw.c). */
void vmx_caps_read(struct vmx_caps *c);

#endif
