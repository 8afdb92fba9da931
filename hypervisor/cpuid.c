/* CPUID virtualization policy. Features are hidden when Keel does not emulate what they
 * promise (VMX, performance monitoring, thermal and debug-store MSRs, the local APIC
 * until it is modelled), so a guest never finds an MSR or instruction that faults. */
#include "cpuid.h"
#include "lib.h"

/* leaf 1 ECX */
#define C1_DTES64   BIT(2)
#define C1_MONITOR  BIT(3)
#define C1_DSCPL    BIT(4)
#define C1_VMX	    BIT(5)
#define C1_SMX	    BIT(6)
#define C1_EST	    BIT(7)
#define C1_TM2	    BIT(8)
#define C1_PDCM	    BIT(15)
#define C1_PCID	    BIT(17)
#define C1_X2APIC   BIT(21)
#define C1_DEADLINE BIT(24)
#define C1_OSXSAVE  BIT(27)
#define C1_HV	    BIT(31)
/* leaf 1 EDX */
#define D1_APIC BIT(9)
#define D1_MTRR BIT(12)
#define D1_MCA	BIT(14)
#define D1_DS	BIT(21)
#define D1_ACPI BIT(22)
#define D1_HTT	BIT(28)
#define D1_TM	BIT(29)
#define D1_PBE	BIT(31)
/* leaf 7.0 */
#define B7_SGX	      BIT(2)
#define B7_INVPCID    BIT(10)
#define B7_PQM	      BIT(12)
#define B7_MPX	      BIT(14)
#define B7_PQE	      BIT(15)
#define B7_PT	      BIT(25)
#define C7_WAITPKG    BIT(5)
#define C7_OSPKE      BIT(4)
#define C7_SGXLC      BIT(30)
#define C7_LA57	      BIT(16) /* 5-level paging: Keel walks 4 levels */
#define D7_HYBRID     BIT(15)
#define D7_ARCH_CAPS  BIT(29)
#define D7_CORE_CAPS  BIT(30)
#define C7_CET_SS     BIT(7)
#define B7_TSC_ADJUST BIT(1)
/* leaf 7.0 EDX: features that come with MSRs Keel does not emulate yet (a guest would
 * WRMSR them unguarded): TSX_FORCE_ABORT, PCONFIG, CET IBT, SPEC_CTRL/PRED_CMD (IBRS,
 * STIBP, SSBD) and FLUSH_CMD */
#define D7_UNEMULATED_MSRS (BIT(13) | BIT(18) | BIT(20) | BIT(26) | BIT(27) | BIT(28) | BIT(31))
#define C1_DCA		   BIT(18)
/* leaf 0xd.1 */
#define AD1_XSAVES BIT(3)
#define AD1_XFD	   BIT(4)
/* leaf 0x80000001 EDX */
#define DX1_RDTSCP BIT(27)

#define CR4_OSXSAVE_BIT BIT(18)
#define CR4_PKE_BIT	BIT(22)

bool cpuid_is_hv_leaf(u32 leaf)
{
	return leaf >= CPUID_HV_BASE && leaf <= 0x4fffffffu;
}

static void hv_leaf(u32 leaf, struct cpuid_regs *r)
{
	memset(r, 0, sizeof(*r));
	if (leaf == CPUID_HV_BASE) {
		r->a = CPUID_HV_MAX;
		memcpy(&r->b, "Keel", 4);
		memcpy(&r->c, "Keel", 4);
		memcpy(&r->d, "Keel", 4);
	} else if (leaf == CPUID_HV_BASE + 1) {
		r->a = KEEL_VERSION;
	}
}

void cpuid_filter(u32 leaf, u32 sub, const struct cpuid_ctx *ctx, struct cpuid_regs *r)
{
	if (cpuid_is_hv_leaf(leaf)) {
		hv_leaf(leaf, r);
		return;
	}
	switch (leaf) {
	case 1:
		/* one logical processor per package, APIC ID = vCPU number */
		r->b = (r->b & 0x0000ffff) | (1u << 16) | ((u32)ctx->vcpu_id << 24);
		r->c &= ~(C1_DTES64 | C1_MONITOR | C1_DSCPL | C1_VMX | C1_SMX | C1_EST | C1_TM2 |
			  C1_PDCM | C1_X2APIC | C1_DEADLINE | C1_OSXSAVE | C1_DCA | C1_PCID);
		/* PCID (and INVPCID, leaf 7) are hidden: a VM may move to shadow paging at any
		 * time, and the shadow MMU does not tag translations by PCID */
		if (ctx->guest_cr4 & CR4_OSXSAVE_BIT)
			r->c |= C1_OSXSAVE;
		r->c |= C1_HV;
		r->d &= ~(D1_APIC | D1_MTRR | D1_MCA | D1_DS | D1_ACPI | D1_HTT | D1_TM | D1_PBE);
		if (ctx->apic) {
			/* Keel's local APIC model offers x2APIC and TSC-deadline on any host */
			r->c |= C1_X2APIC | C1_DEADLINE;
			r->d |= D1_APIC;
		}
		break;
	case 4:
		/* caches shared by one thread, one core per package */
		r->a &= 0x00003fff;
		break;
	case 5:	   /* MONITOR/MWAIT: hidden */
	case 6:	   /* thermal and power management */
	case 0xa:  /* architectural performance monitoring */
	case 0x12: /* SGX */
	case 0x14: /* processor trace */
		memset(r, 0, sizeof(*r));
		break;
	case 7:
		if (sub == 0) {
			r->b &= ~(B7_SGX | B7_PQM | B7_MPX | B7_PQE | B7_PT | B7_TSC_ADJUST);
			if (!ctx->invpcid)
				r->b &= ~B7_INVPCID;
			r->c &= ~(C7_WAITPKG | C7_SGXLC | C7_OSPKE | C7_LA57 | C7_CET_SS);
			if (ctx->guest_cr4 & CR4_PKE_BIT)
				r->c |= C7_OSPKE;
			r->d &= ~(D7_HYBRID | D7_ARCH_CAPS | D7_CORE_CAPS | D7_UNEMULATED_MSRS);
		} else {
			memset(r, 0, sizeof(*r));
		}
		break;
	case 0xb:
	case 0x1f:
		/* topology: one thread in one core */
		r->a = 0;
		r->b = sub < 2 ? 1 : 0;
		r->c = sub < 2 ? ((sub + 1) << 8) | sub : sub;
		r->d = ctx->vcpu_id;
		break;
	case 0x15:
		/* TSC = crystal * EBX / EAX: say 1:1 with the rate Keel measured, so the guest
		 * does not take a model's nominal frequency for the TSC's (they differ in
		 * emulators, and after migration) */
		if (ctx->tsc_hz && ctx->tsc_hz <= 0xffffffffULL) {
			r->a = 1;
			r->b = 1;
			r->c = (u32)ctx->tsc_hz;
			r->d = 0;
		}
		break;
	case 0x16:
		if (ctx->tsc_hz) {
			u32 mhz = (u32)(ctx->tsc_hz / 1000000);
			r->a = mhz; /* base */
			r->b = mhz; /* maximum */
			r->c = mhz; /* bus (reference) */
			r->d = 0;
		}
		break;
	case 0xd:
		if (sub == 1)
			r->a &= ~(AD1_XSAVES | AD1_XFD);
		break;
	case 0x80000001:
		if (!ctx->rdtscp)
			r->d &= ~DX1_RDTSCP;
		break;
	default:
		break;
	}
}
