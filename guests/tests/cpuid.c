/* cpuid guest: what CPUID tells a Keel guest: the hypervisor bit, no VMX, the
 * "KeelKeelKeel" leaf 0x40000000 with its max leaf, a nonzero version in 0x40000001, and
 * zeros from a hypervisor leaf Keel does not define. */
#include "testlib.h"

#define CPUID1_ECX_VMX	      (1u << 5)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define KEEL_UNKNOWN_LEAF     0x40000005

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	struct cpuid_regs r1 = cpuid(1, 0);
	struct cpuid_regs base = cpuid(KEEL_CPUID_BASE, 0);

	tprintf("cpuid 1: ecx 0x%08x edx 0x%08x; 0x40000000: eax 0x%x\n", r1.ecx, r1.edx, base.eax);
	if (!keel_present()) {
		skip("CPUID hypervisor leaves: not running under Keel");
		return;
	}

	check(r1.ecx & CPUID1_ECX_HYPERVISOR, "CPUID.1:ECX hypervisor bit (31) is set");
	check(!(r1.ecx & CPUID1_ECX_VMX), "CPUID.1:ECX VMX bit (5) is clear");

	uint32_t sig[3] = {base.ebx, base.ecx, base.edx};
	check(memcmp(sig, "KeelKeelKeel", 12) == 0, "leaf 0x40000000 signature is KeelKeelKeel");
	check(base.eax >= KEEL_CPUID_VERSION && base.eax <= 0x400000ff,
	      "leaf 0x40000000 max leaf 0x%x is in [0x40000001, 0x400000ff]", base.eax);

	/* the TSC rate: leaf 0x15 (crystal ratio) and 0x16 must agree with each other and
	 * with how fast the TSC really runs against the hypercall timer is another matter;
	 * at least they must not be a model's nominal numbers disagreeing with each other */
	struct cpuid_regs l0 = cpuid(0, 0);
	tprintf("cpuid 0: max basic leaf 0x%x\n", l0.eax);
	if (l0.eax >= 0x16) {
		struct cpuid_regs l15 = cpuid(0x15, 0), l16 = cpuid(0x16, 0);
		tprintf("cpuid 0x15: %u/%u x %u Hz; 0x16: %u MHz\n", l15.ebx, l15.eax, l15.ecx,
			l16.eax);
		/* 32-bit guest, no libgcc: only the 1:1 ratio Keel reports is compared */
		check(l15.eax == 1 && l15.ebx == 1 && l15.ecx / 1000000 == l16.eax,
		      "leaves 0x15 and 0x16 give the same TSC rate (%u MHz)", l16.eax);
	} else {
		skip("TSC rate leaves: max basic leaf 0x%x < 0x16", l0.eax);
	}

	struct cpuid_regs ver = cpuid(KEEL_CPUID_VERSION, 0);
	check(ver.eax != 0, "leaf 0x40000001 version 0x%x (%u.%u) is nonzero", ver.eax,
	      ver.eax >> 16, ver.eax & 0xffff);

	if (base.eax >= KEEL_UNKNOWN_LEAF) {
		skip("leaf 0x%x is defined (max leaf 0x%x)", KEEL_UNKNOWN_LEAF, base.eax);
		return;
	}
	struct cpuid_regs u = cpuid(KEEL_UNKNOWN_LEAF, 0);
	check(!u.eax && !u.ebx && !u.ecx && !u.edx,
	      "undefined leaf 0x%x reads zeros (0x%x 0x%x 0x%x 0x%x)", KEEL_UNKNOWN_LEAF, u.eax,
	      u.ebx, u.ecx, u.edx);
}
