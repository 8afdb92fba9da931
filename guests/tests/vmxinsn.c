/* vmxinsn guest: every VMX instruction (VMXON, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE,
 * VMLAUNCH, VMRESUME, VMXOFF, INVEPT, INVVPID, VMFUNC) raises #UD outside VMX operation, at
 * CPL 0 and CPL 3, and CR4.VMXE can be set exactly when CPUID.1:ECX.VMX offers VMX (under
 * Keel it does not: cpuid.c checks the bit itself). Compared with native. */
#include "testlib.h"

#define CPUID1_ECX_VMX (1u << 5)

/* operands: a zeroed, page-aligned region and an INVEPT/INVVPID descriptor */
static uint8_t region[4096] __attribute__((aligned(4096)));
static uint64_t region_pa;
static uint64_t inv_desc[2];

#define VMX_INSN(name, text, ...)                                                      \
	static void name(void)                                                         \
	{                                                                              \
		asm volatile(text : : __VA_ARGS__ : "eax", "memory", "cc");            \
	}

VMX_INSN(do_vmxon, "vmxon %0", "m"(region_pa))
VMX_INSN(do_vmclear, "vmclear %0", "m"(region_pa))
VMX_INSN(do_vmptrld, "vmptrld %0", "m"(region_pa))
VMX_INSN(do_vmptrst, "vmptrst %0", "m"(region_pa))
VMX_INSN(do_vmread, "vmread %0, %%ecx", "d"(0x4400u) /* VM-instruction error */, "c"(0))
VMX_INSN(do_vmwrite, "vmwrite %%ecx, %0", "d"(0x4016u) /* entry interruption info */, "c"(0))
VMX_INSN(do_vmlaunch, "vmlaunch", "i"(0))
VMX_INSN(do_vmresume, "vmresume", "i"(0))
VMX_INSN(do_vmxoff, "vmxoff", "i"(0))
VMX_INSN(do_invept, "movl $2, %%eax\n\tinvept %0, %%eax", "m"(inv_desc[0]))
VMX_INSN(do_invvpid, "movl $2, %%eax\n\tinvvpid %0, %%eax", "m"(inv_desc[0]))
VMX_INSN(do_vmfunc, "xorl %%eax, %%eax\n\tvmfunc", "c"(0))

static const struct {
	const char *name;
	void (*fn)(void);
} insns[] = {
    {"VMXON", do_vmxon},	 {"VMCLEAR", do_vmclear},   {"VMPTRLD", do_vmptrld},
    {"VMPTRST", do_vmptrst},	 {"VMREAD", do_vmread},	    {"VMWRITE", do_vmwrite},
    {"VMLAUNCH", do_vmlaunch}, {"VMRESUME", do_vmresume}, {"VMXOFF", do_vmxoff},
    {"INVEPT", do_invept},	 {"INVVPID", do_invvpid},   {"VMFUNC", do_vmfunc},
};

static int run_at_cpl0(void (*fn)(void))
{
	if (trap_expect(VEC_UD))
		return (int)trap_last.vector;
	fn();
	trap_disarm();
	return NO_FAULT;
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	const int vmx = !!(cpuid(1, 0).ecx & CPUID1_ECX_VMX);

	region_pa = (uint32_t)region;
	write_cr4(read_cr4() & ~CR4_VMXE);
	for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
		int v = run_at_cpl0(insns[i].fn);
		check(v == VEC_UD, "%s at CPL 0 without VMX operation raises #UD (got vector %d)",
		      insns[i].name, v);
	}
	for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
		int v = run_at_cpl3(insns[i].fn);
		check(v == VEC_UD, "%s at CPL 3 raises #UD (got vector %d)", insns[i].name, v);
	}
	check(!(read_cr4() & CR4_VMXE), "CR4.VMXE still reads 0 after the VMX instructions");

	/* CR4.VMXE: settable exactly when CPUID offers VMX (natively yes, under Keel no) */
	int v = write_cr4_safe(read_cr4() | CR4_VMXE);
	int took = v == NO_FAULT && (read_cr4() & CR4_VMXE);
	check(took == vmx && (v == NO_FAULT || trap_last.error == 0),
	      "CR4.VMXE can be set exactly when CPUID.1:ECX.VMX is set (got vmx %d, vector %d, "
	      "set %d)",
	      vmx, v, took);
	write_cr4(read_cr4() & ~CR4_VMXE);
	/* with VMXE back off, the instructions still fault */
	v = run_at_cpl0(do_vmxon);
	check(v == VEC_UD, "VMXON after clearing CR4.VMXE again raises #UD (got vector %d)", v);
}
