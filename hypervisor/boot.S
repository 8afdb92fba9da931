/* Multiboot2 entry: GRUB leaves us in 32-bit protected mode without paging. Build identity
 * page tables for the first 4 GiB (2 MiB pages), enter long mode and call kmain(magic, mbi). */
#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define STACK_SIZE 0x8000

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* end tag */
	.short 0
	.short 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	/* upper halves of registers are undefined after the mode switch: keep these in memory */
	movl %eax, boot_magic
	movl %ebx, boot_mbi
	movl $boot_stack_top, %esp

	/* PD: 2048 entries of 2 MiB pages = identity map of 0..4 GiB (present, writable, PS) */
	movl $boot_pd, %edi
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, (%edi,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax
	movl %eax, 4(%edi,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jb 1b

	/* PDPT[0..3] -> the four PD pages */
	movl $boot_pdpt, %edi
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $0x3, %eax
	movl %eax, (%edi,%ecx,8)
	movl $0, 4(%edi,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jb 2b

	movl $boot_pdpt, %eax
	orl $0x3, %eax
	movl %eax, boot_pml4
	movl $0, boot_pml4 + 4

	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $(1 << 5), %eax		/* PAE */
	movl %eax, %cr4
	movl $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl $(1 << 8), %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax		/* PG | WP | PE */
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_mode

	.code64
long_mode:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $boot_stack_top, %rsp
	xorq %rbp, %rbp
	movl boot_magic(%rip), %edi
	movl boot_mbi(%rip), %esi
	call kmain
3:	cli
	hlt
	jmp 3b

	.section .rodata
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .data
	.balign 4
boot_magic:	.long 0
boot_mbi:	.long 0

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4 * 4096
	.balign 16
	.globl boot_stack_top
boot_stack:	.skip STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack,"",@progbits
