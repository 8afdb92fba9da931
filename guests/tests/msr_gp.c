/* msr_gp guest: MSR writes that must raise #GP(0) and leave the MSR as it was: non-canonical
 * FS_BASE, GS_BASE, KERNEL_GS_BASE, LSTAR, SYSENTER_ESP and SYSENTER_EIP (canonical values
 * are taken), EFER reserved bits, EFER.LME changed while paging is on (32-bit and PAE).
 * Compared with native (unknown MSRs are msr.c's: Bochs ignores them natively). */
#include "testlib.h"

#define MSR_SYSENTER_ESP    0x175
#define MSR_SYSENTER_EIP    0x176
#define MSR_EFER	    0xc0000080u
#define MSR_LSTAR	    0xc0000082u
#define MSR_FS_BASE	    0xc0000100u
#define MSR_GS_BASE	    0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static uint32_t page_dir[1024] __attribute__((aligned(4096)));
/* PAE: a PDPT of four 1 GiB-covering PDs, the first with 2 MiB identity pages */
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pae_pd[512] __attribute__((aligned(4096)));

static const struct {
	uint32_t msr;
	const char *name;
} bases[] = {
    {MSR_FS_BASE, "FS_BASE"},	  {MSR_GS_BASE, "GS_BASE"},
    {MSR_KERNEL_GS_BASE, "KERNEL_GS_BASE"}, {MSR_LSTAR, "LSTAR"},
    {MSR_SYSENTER_ESP, "SYSENTER_ESP"}, {MSR_SYSENTER_EIP, "SYSENTER_EIP"},
};

static const uint64_t canonical[] = {0x00007ffffffff000ull, 0xffff800000001000ull};
static const uint64_t non_canonical[] = {0x0000800000000000ull, 0x8000000000000000ull,
					 0xfff0000000001000ull};

/* WRMSR that must fault: #GP(0) and the MSR unchanged. */
static void must_refuse(uint32_t msr, const char *name, uint64_t val)
{
	const uint64_t before = rdmsr(msr);
	int v = wrmsr_safe(msr, val);
	uint64_t after = rdmsr(msr);

	check(v == VEC_GP && trap_last.error == 0 && after == before,
	      "WRMSR %s 0x%llx raises #GP(0) and keeps the MSR (got vector %d error 0x%x, "
	      "0x%llx -> 0x%llx)",
	      name, val, v, trap_last.error, before, after);
}

static void must_take(uint32_t msr, const char *name, uint64_t val)
{
	int v = wrmsr_safe(msr, val);
	uint64_t after = rdmsr(msr);

	check(v == NO_FAULT && after == val, "WRMSR %s 0x%llx is taken (got vector %d, reads 0x%llx)",
	      name, val, v, after);
}

static void test_bases(void)
{
	for (unsigned i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		const uint64_t orig = rdmsr(bases[i].msr);
		for (unsigned j = 0; j < sizeof(canonical) / sizeof(canonical[0]); j++)
			must_take(bases[i].msr, bases[i].name, canonical[j]);
		for (unsigned j = 0; j < sizeof(non_canonical) / sizeof(non_canonical[0]); j++)
			must_refuse(bases[i].msr, bases[i].name, non_canonical[j]);
		wrmsr(bases[i].msr, orig);
	}
}

static void test_efer_bits(int nx)
{
	const uint64_t efer = rdmsr(MSR_EFER);
	static const unsigned reserved[] = {1, 2, 7, 9, 12, 16, 31, 32, 63};

	for (unsigned i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		char name[24] = "EFER (bit ";
		unsigned n = 10, b = reserved[i];
		if (b >= 10)
			name[n++] = (char)('0' + b / 10);
		name[n++] = (char)('0' + b % 10);
		name[n++] = ')';
		name[n] = 0;
		must_refuse(MSR_EFER, name, efer | (1ull << reserved[i]));
	}
	must_take(MSR_EFER, "EFER (SCE)", efer | EFER_SCE);
	if (nx)
		must_take(MSR_EFER, "EFER (NXE)", efer | EFER_SCE | EFER_NXE);
	else
		must_refuse(MSR_EFER, "EFER (NXE without CPUID NX)", efer | EFER_NXE);
	wrmsr(MSR_EFER, efer);
	/* LMA is read-only: a write that sets it is no fault and does not set it */
	int v = wrmsr_safe(MSR_EFER, efer | EFER_LMA);
	uint64_t after = rdmsr(MSR_EFER);
	check(v == NO_FAULT && after == efer,
	      "WRMSR EFER with LMA set outside long mode leaves LMA clear (got vector %d, 0x%llx)", v,
	      after);
	wrmsr(MSR_EFER, efer);
}

static void test_lme_paging(void)
{
	const uint64_t efer = rdmsr(MSR_EFER);
	const uint32_t cr0 = read_cr0(), cr4 = read_cr4();

	pd_identity_4m(page_dir);
	paging_enable(page_dir);
	must_refuse(MSR_EFER, "EFER.LME set with 32-bit paging on", efer | EFER_LME);
	must_take(MSR_EFER, "EFER unchanged with paging on", efer);
	paging_disable();
	write_cr4(cr4);

	/* PAE paging: LME still cannot change (that is how IA-32e mode is entered: LME first) */
	for (unsigned i = 0; i < 512; i++)
		pae_pd[i] = ((uint64_t)i << 21) | 0x83; /* present, writable, 2 MiB */
	pdpt[0] = (uint32_t)pae_pd | 1;
	pdpt[1] = pdpt[2] = pdpt[3] = 0;
	write_cr4(cr4 | CR4_PAE);
	write_cr3((uint32_t)pdpt);
	write_cr0(read_cr0() | CR0_PG);
	must_refuse(MSR_EFER, "EFER.LME set with PAE paging on", efer | EFER_LME);
	write_cr0(read_cr0() & ~CR0_PG);
	write_cr4(cr4);
	write_cr0(cr0);

	/* with paging off it is taken, and cleared again */
	must_take(MSR_EFER, "EFER.LME set with paging off", efer | EFER_LME);
	must_take(MSR_EFER, "EFER.LME cleared with paging off", efer);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	const uint32_t ext = cpuid(0x80000001, 0).edx;

	if (!(ext & (1u << 29))) {
		skip("MSR #GP checks: the CPU has no long mode (no FS_BASE, LSTAR, EFER.LME)");
		return;
	}
	test_bases();
	test_efer_bits(!!(ext & (1u << 20)));
	test_lme_paging();
}
