/* cr guest: CR0 and CR4 read back what the guest wrote (including bits VMX keeps fixed
 * underneath, like CR0.NE and CR4.VMXE), CR4.VMXE cannot be set (#GP(0)), and 32-bit
 * paging with 4 MiB pages can be turned on and off again. */
#include "testlib.h"

#define CPUID1_EDX_PSE	(1u << 3)
#define CPUID1_EDX_TSC	(1u << 4)
#define CPUID1_EDX_PGE	(1u << 13)
#define CPUID1_EDX_FXSR (1u << 24)

static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static volatile uint32_t canary = 0x600dc0de;

static void check_cr0_bit(uint32_t bit, const char *name)
{
	const uint32_t orig = read_cr0();

	write_cr0(orig ^ bit);
	uint32_t toggled = read_cr0();
	write_cr0(orig);
	uint32_t restored = read_cr0();
	check(toggled == (orig ^ bit) && restored == orig,
	      "CR0.%s toggles and reads back (0x%x -> 0x%x -> 0x%x)", name, orig, toggled,
	      restored);
}

static void check_cr4_bit(uint32_t bit, const char *name, int supported)
{
	if (!supported) {
		skip("CR4.%s: the CPU does not offer it", name);
		return;
	}
	const uint32_t orig = read_cr4();

	write_cr4(orig | bit);
	uint32_t set = read_cr4();
	write_cr4(orig & ~bit);
	uint32_t cleared = read_cr4();
	write_cr4(orig);
	check(set == (orig | bit) && cleared == (orig & ~bit),
	      "CR4.%s sets and clears (0x%x -> 0x%x -> 0x%x)", name, orig, set, cleared);
}

static void check_vmxe(int keel)
{
	const uint32_t orig = read_cr4();

	check(!(orig & CR4_VMXE), "CR4.VMXE reads clear (CR4 0x%x)", orig);
	if (!keel) {
		/* QEMU 7.2's TCG loops forever on a reserved CR4 bit instead of raising #GP */
		skip("setting CR4.VMXE raises #GP(0) (not running under Keel)");
		return;
	}
	int vector = write_cr4_safe(orig | CR4_VMXE);
	check(vector == VEC_GP && trap_last.error == 0,
	      "setting CR4.VMXE raises #GP(0) (vector %d, error 0x%x)", vector, trap_last.error);
	check_eq("CR4 after the refused VMXE write", read_cr4(), orig);
}

static void check_paging(void)
{
	const uint32_t cr0 = read_cr0();

	pd_identity_4m(page_dir);
	paging_enable(page_dir);
	/* fetching, calling and printing all go through the new page tables now */
	uint32_t on_cr0 = read_cr0(), on_cr3 = read_cr3();
	check(on_cr0 & CR0_PG, "CR0.PG reads back set with paging on (CR0 0x%x)", on_cr0);
	check_eq("CR3 with paging on", on_cr3, (uint32_t)page_dir);
	check_eq("data read through the identity map", canary, 0x600dc0de);
	canary = 0xfeedface;
	check_eq("data written through the identity map", canary, 0xfeedface);

	paging_disable();
	uint32_t off_cr0 = read_cr0();
	check(!(off_cr0 & CR0_PG) && off_cr0 == cr0, "paging off again (CR0 0x%x)", off_cr0);
	check_eq("data written with paging on, read with it off", canary, 0xfeedface);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	const int keel = keel_present();
	const uint32_t edx = cpuid(1, 0).edx;
	const uint32_t cr0 = read_cr0();

	check((cr0 & CR0_PE) && !(cr0 & CR0_PG), "CR0 0x%x: protected mode, paging off", cr0);
	check_cr0_bit(CR0_MP, "MP");
	check_cr0_bit(CR0_TS, "TS");
	check_cr0_bit(CR0_NE, "NE");
	check_cr0_bit(CR0_WP, "WP");
	check_cr0_bit(CR0_AM, "AM");

	check_cr4_bit(CR4_PSE, "PSE", edx & CPUID1_EDX_PSE);
	check_cr4_bit(CR4_PGE, "PGE", edx & CPUID1_EDX_PGE);
	check_cr4_bit(CR4_OSFXSR, "OSFXSR", edx & CPUID1_EDX_FXSR);
	check_cr4_bit(CR4_TSD, "TSD", edx & CPUID1_EDX_TSC);
	check_vmxe(keel);

	if (edx & CPUID1_EDX_PSE)
		check_paging();
	else
		skip("paging with 4 MiB pages: the CPU does not offer PSE");
}
