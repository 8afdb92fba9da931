/* mbboot entry: the multiboot v1 header, the 32-bit start, and the switch into the Linux
 * kernel's 64-bit entry with exactly the state linux_load() describes (what Keel's vCPU
 * setup has to reproduce): PAE, LME, paging, the loader's GDT and CR3, IF clear. */

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x00000003 /* page-aligned modules, memory fields */

	.section .multiboot, "a"
	.align 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	movl $stack_top, %esp
	pushl $0		/* no return address */
	pushl %ebx		/* multiboot info */
	pushl %eax		/* multiboot magic */
	call mbboot_main
1:	hlt
	jmp 1b

/* void enter_linux64(u32 cr3, const void *gdtr, u32 rip, u32 rsi), never returns */
	.globl enter_linux64
enter_linux64:
	movl 4(%esp), %ecx
	movl 8(%esp), %edx
	movl 12(%esp), %edi
	movl 16(%esp), %esi
	lgdt (%edx)		/* CS keeps its cached 32-bit descriptor until the far jump */
	movl %cr4, %eax
	orl $0x20, %eax		/* PAE */
	movl %eax, %cr4
	movl %ecx, %cr3
	movl $0xc0000080, %ecx	/* IA32_EFER */
	rdmsr
	orl $0x100, %eax	/* LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax	/* PG | PE: IA-32e mode, compatibility submode */
	movl %eax, %cr0
	ljmp $0x10, $1f		/* __BOOT_CS: 64-bit mode */
	.code64
1:	movl $0x18, %eax	/* __BOOT_DS */
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl %edi, %eax		/* 32-bit moves clear the upper halves */
	movl %esi, %esi
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %edi, %edi
	xorl %ebp, %ebp
	xorl %esp, %esp
	jmp *%rax

	.bss
	.align 16
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
