/* Test guest entry and low-level glue: the multiboot v1 header, _start, the 256 interrupt
 * stubs that funnel into trap_dispatch(), setjmp/longjmp for resuming after an expected
 * fault, and the ring-3 side of run_at_cpl3(). */

#define MB_HEADER_MAGIC 0x1BADB002
/* bit 0: page-align modules, bit 1: we want the memory fields */
#define MB_HEADER_FLAGS 0x00000003

#include "segments.h"

	.section .multiboot, "a"
	.align 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

	.text
	.globl _start
_start:
	cli
	cld
	/* keep the boot registers out of the way of rep stosb */
	movl %eax, %ebp
	movl %ebx, %esi
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $boot_stack_top, %esp
	pushl $0		/* no return address: stops backtraces here */
	pushl %esi		/* multiboot info */
	pushl %ebp		/* multiboot magic */
	call guest_start
1:	cli
	hlt
	jmp 1b

/* void load_segments(void): reload CS and the data segments after lgdt. */
	.globl load_segments
load_segments:
	movw $KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	ljmp $KERNEL_CS, $1f
1:	ret

/*
 * One stub per vector. The CPU pushes an error code only for 8, 10-14, 17, 21, 29 and
 * 30; the other stubs push a zero so that every frame has the same layout.
 */
	.altmacro
	.macro isr_stub n
	.align 16
isr_stub_\n:
	.if \n == 8 || \n == 10 || \n == 11 || \n == 12 || \n == 13 || \n == 14 || \n == 17 || \n == 21 || \n == 29 || \n == 30
	.else
	pushl $0
	.endif
	pushl $\n
	jmp isr_common
	.endm

	.macro isr_addr n
	.long isr_stub_\n
	.endm

	.set vec, 0
	.rept 256
	isr_stub %vec
	.set vec, vec + 1
	.endr

isr_common:
	pushal
	pushl %esp		/* struct trap_frame * */
	call trap_dispatch
	addl $4, %esp
	popal
	addl $8, %esp		/* vector and error code */
	iret

/* Resume point a caught fault irets to: finish the test's trap_expect() with 1. */
	.globl trap_resume
trap_resume:
	pushl $1
	pushl $trap_jmp
	call tg_longjmp

/* run_at_cpl3() irets here at CPL 3. IRET nulled the DPL 0 data segments: load the user's. */
	.globl user_entry
user_entry:
	movw $(USER_DS | 3), %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	call *user_fn
	int $USER_RETURN_VECTOR
1:	jmp 1b

	.section .rodata
	.align 4
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	isr_addr %vec
	.set vec, vec + 1
	.endr

	.text
/* int tg_setjmp(struct tg_jmp_buf *): saves callee-saved registers, ESP and the return EIP. */
	.globl tg_setjmp
tg_setjmp:
	movl 4(%esp), %eax
	movl %ebx, 0(%eax)
	movl %esi, 4(%eax)
	movl %edi, 8(%eax)
	movl %ebp, 12(%eax)
	leal 4(%esp), %ecx
	movl %ecx, 16(%eax)
	movl (%esp), %ecx
	movl %ecx, 20(%eax)
	xorl %eax, %eax
	ret

/* void tg_longjmp(struct tg_jmp_buf *, int val): returns val from the matching tg_setjmp. */
	.globl tg_longjmp
tg_longjmp:
	movl 4(%esp), %edx
	movl 8(%esp), %eax
	movl 0(%edx), %ebx
	movl 4(%edx), %esi
	movl 8(%edx), %edi
	movl 12(%edx), %ebp
	movl 16(%edx), %esp
	jmp *20(%edx)

	.bss
	.align 16
boot_stack:
	.skip 16384
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
