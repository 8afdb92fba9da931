/* msr guest: the MSRs Keel emulates (EFER, SYSENTER_*, TSC, FEATURE_CONTROL, APIC_BASE)
 * read and write as docs/guest-abi.md says, and an MSR no CPU has raises #GP(0) on both
 * RDMSR and WRMSR. */
#include "testlib.h"

#define MSR_IA32_TSC		 0x10
#define MSR_IA32_APIC_BASE	 0x1b
#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_SYSENTER_CS	 0x174
#define MSR_IA32_SYSENTER_ESP	 0x175
#define MSR_IA32_SYSENTER_EIP	 0x176
#define MSR_IA32_EFER		 0xc0000080
/* an index no CPU implements */
#define MSR_NONEXISTENT 0x12345

#define EFER_LMA		    (1u << 10)
#define FEATURE_CONTROL_LOCK	    (1u << 0)
#define FEATURE_CONTROL_VMX_IN_SMX  (1u << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE (1u << 2)
#define CPUID1_EDX_SEP		    (1u << 11)
#define CPUID1_EDX_MSR		    (1u << 5)

static void check_efer(void)
{
	uint64_t efer;
	int vector = rdmsr_safe(MSR_IA32_EFER, &efer);

	if (!check(vector == NO_FAULT, "EFER is readable (vector %d)", vector))
		return;
	check(!(efer & EFER_LMA), "EFER 0x%llx: LMA clear in 32-bit mode", efer);
	vector = wrmsr_safe(MSR_IA32_EFER, efer);
	check(vector == NO_FAULT, "EFER takes back its own value (vector %d)", vector);
	check_eq("EFER after writing it back", rdmsr(MSR_IA32_EFER), efer);
}

static void check_sysenter(void)
{
	static const struct {
		uint32_t msr;
		const char *name;
		uint64_t value;
	} regs[] = {
	    {MSR_IA32_SYSENTER_CS, "SYSENTER_CS", 0x08},
	    {MSR_IA32_SYSENTER_ESP, "SYSENTER_ESP", 0x12345678},
	    {MSR_IA32_SYSENTER_EIP, "SYSENTER_EIP", 0x9abcdef0},
	};

	if (!(cpuid(1, 0).edx & CPUID1_EDX_SEP)) {
		skip("SYSENTER MSRs: the CPU does not offer SEP");
		return;
	}
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		const uint64_t orig = rdmsr(regs[i].msr);

		wrmsr(regs[i].msr, regs[i].value);
		uint64_t got = rdmsr(regs[i].msr);
		wrmsr(regs[i].msr, orig);
		check(got == regs[i].value, "%s reads back 0x%llx (got 0x%llx)", regs[i].name,
		      regs[i].value, got);
	}
}

/* The TSC MSR read between two RDTSCs must fall between them: same counter, same offset. */
static void check_tsc(int keel)
{
	if (!keel) {
		/* QEMU's TCG reads IA32_TSC as 0 */
		skip("IA32_TSC agrees with RDTSC (not running under Keel)");
		return;
	}
	uint64_t before = rdtsc();
	uint64_t msr = rdmsr(MSR_IA32_TSC);
	uint64_t after = rdtsc();

	check(before <= msr && msr <= after,
	      "IA32_TSC 0x%llx lies between RDTSCs 0x%llx and 0x%llx", msr, before, after);
}

static void check_nonexistent(int keel)
{
	uint64_t v = 0;

	if (!keel) {
		/* QEMU's TCG reads unknown MSRs as 0 instead of raising #GP */
		skip("#GP on a nonexistent MSR (not running under Keel)");
		return;
	}
	/* no CPU's index, a hypervisor range Keel does not offer, KVM's clock, an AMD counter,
	 * the last index */
	static const uint32_t unknown[] = {MSR_NONEXISTENT, 0x40000000, 0x4b564d00, 0xc0010000,
					   0xffffffff};
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		int vector = rdmsr_safe(unknown[i], &v);
		check(vector == VEC_GP && trap_last.error == 0,
		      "RDMSR 0x%x raises #GP(0) (vector %d, error 0x%x)", unknown[i], vector,
		      trap_last.error);
		vector = wrmsr_safe(unknown[i], 0x1234);
		check(vector == VEC_GP && trap_last.error == 0,
		      "WRMSR 0x%x raises #GP(0) (vector %d, error 0x%x)", unknown[i], vector,
		      trap_last.error);
	}
}

static void check_feature_control(int keel)
{
	uint64_t fc = 0;

	if (!keel) {
		skip("IA32_FEATURE_CONTROL locked with VMX off (not running under Keel)");
		return;
	}
	int vector = rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &fc);
	check(vector == NO_FAULT && (fc & FEATURE_CONTROL_LOCK) &&
		  !(fc & (FEATURE_CONTROL_VMX_IN_SMX | FEATURE_CONTROL_VMX_OUTSIDE)),
	      "IA32_FEATURE_CONTROL 0x%llx is locked with VMX off (vector %d)", fc, vector);
	vector = wrmsr_safe(MSR_IA32_FEATURE_CONTROL, fc);
	check(vector == VEC_GP, "writing IA32_FEATURE_CONTROL raises #GP (vector %d)", vector);
}

static void check_apic_base(int keel)
{
	uint64_t base = 0;
	int vector = rdmsr_safe(MSR_IA32_APIC_BASE, &base);

	/* 0xfee00000, enabled (bit 11), bootstrap processor (bit 8): also what a bare PC shows */
	check(vector == NO_FAULT && base == 0xfee00900,
	      "IA32_APIC_BASE reads 0xfee00900 (got 0x%llx, vector %d)", base, vector);
	if (!keel) {
		skip("IA32_APIC_BASE is read-only (not running under Keel)");
		return;
	}
	/* Keel's value is fixed: a write either faults or leaves it as it was */
	vector = wrmsr_safe(MSR_IA32_APIC_BASE, 0xfed00900);
	check_eq("IA32_APIC_BASE after a write", rdmsr(MSR_IA32_APIC_BASE), 0xfee00900);
	tprintf("write to IA32_APIC_BASE: vector %d\n", vector);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	const int keel = keel_present();

	if (!(cpuid(1, 0).edx & CPUID1_EDX_MSR)) {
		fail("the CPU does not offer RDMSR/WRMSR");
		return;
	}
	check_efer();
	check_sysenter();
	check_tsc(keel);
	check_nonexistent(keel);
	check_feature_control(keel);
	check_apic_base(keel);
}
