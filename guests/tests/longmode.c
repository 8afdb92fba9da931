/* longmode guest: enters IA-32e mode the way a 64-bit kernel's setup code does (PAE page
 * tables, EFER.LME through WRMSR, which Keel emulates, then CR0.PG, which the CPU handles),
 * makes exits from 64-bit code whose register semantics differ from 32-bit ones (CPUID
 * zero-extends, VMCALL takes all of RAX, RDMSR of EFER shows LMA), and leaves long mode
 * again through compatibility mode. */
#include "testlib.h"

#define EFER_MSR 0xc0000080u
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)

/* PML4 -> PDPT -> one PD of 2 MiB pages: the first GiB, identity-mapped */
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

/* filled by the 64-bit code */
uint64_t lm_results[6];
/* natively VMCALL raises #UD, and the 32-bit IDT cannot deliver it in long mode */
uint32_t lm_keel;

/* selectors of the GDT below; the library's GDT is put back before returning */
#define LM_CS64 0x08
#define LM_DS	0x10
#define LM_CS32 0x18

uint64_t lm_gdt[4] __attribute__((aligned(8))) = {
    0, 0x00af9a000000ffffULL, /* 64-bit code */
    0x00cf92000000ffffULL,    /* data */
    0x00cf9a000000ffffULL,    /* 32-bit code, for the way back */
};
struct {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed)) lm_gdtr = {sizeof(lm_gdt) - 1, (uint32_t)lm_gdt};

void run_long_mode(uint32_t pml4_addr);

/* The mode switch itself. It saves the library's GDTR and selectors, runs the 64-bit
 * checks and restores them; interrupts stay off throughout. */
__asm__(".text\n"
	".globl run_long_mode\n"
	"run_long_mode:\n"
	"	pushl %ebp\n"
	"	pushl %ebx\n"
	"	pushl %esi\n"
	"	pushl %edi\n"
	"	sgdt saved_gdtr\n"
	"	movw %cs, saved_cs\n"
	"	movw %ds, saved_ds\n"
	"	movl 20(%esp), %eax\n"
	"	movl %eax, %cr3\n"
	"	movl %cr4, %eax\n"
	"	orl $0x20, %eax\n" /* PAE */
	"	movl %eax, %cr4\n"
	"	movl $0xc0000080, %ecx\n"
	"	rdmsr\n"
	"	orl $0x100, %eax\n" /* LME */
	"	wrmsr\n"
	"	lgdt lm_gdtr\n"
	"	movl %cr0, %eax\n"
	"	orl $0x80000000, %eax\n" /* PG: the CPU sets EFER.LMA */
	"	movl %eax, %cr0\n"
	"	ljmp $0x08, $1f\n"
	".code64\n"
	"1:	movl %esp, %esp\n" /* RSP's upper half is undefined after the switch */
	/* CPUID writes 32-bit results: the upper half of RBX must be cleared */
	"	movabsq $0xdeadbeef00000000, %rbx\n"
	"	movl $0x40000000, %eax\n"
	"	cpuid\n"
	"	movq %rbx, lm_results(%rip)\n"
	/* VMCALL in 64-bit mode: the number is all of RAX */
	"	cmpl $0, lm_keel(%rip)\n"
	"	je 4f\n"
	"	xorq %rax, %rax\n"
	"	vmcall\n"
	"	movq %rax, lm_results+8(%rip)\n"
	"	movabsq $0x100000000, %rax\n" /* KEEL_HC_VERSION only if RAX were truncated */
	"	vmcall\n"
	"	movq %rax, lm_results+16(%rip)\n"
	"4:\n"
	"	movl $0xc0000080, %ecx\n"
	"	rdmsr\n"
	"	movl %eax, lm_results+24(%rip)\n"
	/* a 64-bit-only instruction form: RIP-relative addressing */
	"	leaq 1b(%rip), %rax\n"
	"	movq %rax, lm_results+32(%rip)\n"
	"	movq $1, lm_results+40(%rip)\n"
	/* back to 32-bit code (compatibility mode), then out of long mode */
	"	pushq $0x18\n"
	"	leaq 2f(%rip), %rax\n"
	"	pushq %rax\n"
	"	lretq\n"
	".code32\n"
	"2:	movl %cr0, %eax\n"
	"	andl $0x7fffffff, %eax\n" /* PG off: the CPU clears EFER.LMA */
	"	movl %eax, %cr0\n"
	"	movl $0xc0000080, %ecx\n"
	"	rdmsr\n"
	"	andl $~0x100, %eax\n"
	"	wrmsr\n"
	"	movl %cr4, %eax\n"
	"	andl $~0x20, %eax\n"
	"	movl %eax, %cr4\n"
	"	lgdt saved_gdtr\n"
	"	movzwl saved_cs, %eax\n"
	"	pushl %eax\n"
	"	pushl $3f\n"
	"	lret\n"
	"3:	movw saved_ds, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	movw %ax, %ss\n"
	"	popl %edi\n"
	"	popl %esi\n"
	"	popl %ebx\n"
	"	popl %ebp\n"
	"	ret\n"
	".data\n"
	"saved_gdtr: .skip 6\n"
	"saved_cs: .short 0\n"
	"saved_ds: .short 0\n"
	".text\n");

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	if (!(cpuid(0x80000001, 0).edx & (1u << 29))) {
		skip("long mode: the CPU does not offer it");
		return;
	}
	for (unsigned i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83; /* present, writable, 2 MiB */
	pdpt[0] = (uint32_t)pd | 3;
	pml4[0] = (uint32_t)pdpt | 3;

	lm_keel = keel_present();
	run_long_mode((uint32_t)pml4);

	check(lm_results[5] == 1, "ran 64-bit code and came back to protected mode");
	check_eq("CPUID in 64-bit mode zero-extends RBX (same leaf from 32-bit code)",
		 lm_results[0], cpuid(0x40000000, 0).ebx);
	if (keel_present()) {
		check_eq("VMCALL version from 64-bit mode", lm_results[1],
			 (uint64_t)(uint32_t)vmcall(KEEL_HC_VERSION, 0, 0, 0));
		check_eq("VMCALL takes all of RAX in 64-bit mode (0x100000000 is unknown)",
			 lm_results[2], (uint64_t)(int64_t)KEEL_ENOSYS);
	} else {
		skip("VMCALL from 64-bit mode: not running under Keel");
	}
	check(lm_results[3] & EFER_LMA, "EFER.LMA reads set in long mode (EFER %x)",
	      (uint32_t)lm_results[3]);
	check(lm_results[3] & EFER_LME, "EFER.LME reads set in long mode");
	check(lm_results[4] > 0x100000 && lm_results[4] < 0x200000,
	      "RIP-relative LEA gives an address in the image (%x)", (uint32_t)lm_results[4]);
	uint64_t efer = rdmsr(EFER_MSR);
	check(!(efer & (EFER_LME | EFER_LMA)), "EFER.LME and LMA are clear after leaving (%x)",
	      (uint32_t)efer);
	check(!(read_cr0() & (1u << 31)), "paging is off again");
}
