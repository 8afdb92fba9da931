/* Interrupt and exception entry stubs for all 256 vectors: each pushes a uniform frame
 * (dummy error code where the CPU pushes none, then the vector) and calls trap_dispatch. */
	.text
	.code64

.macro ISR_NOERR vec
	.balign 16
	pushq $0
	pushq $\vec
	jmp isr_common
.endm
.macro ISR_ERR vec
	.balign 16
	pushq $\vec
	jmp isr_common
.endm

	.balign 16
	.globl isr_table
isr_table:
	.set vec, 0
	.rept 256
	.if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
	ISR_ERR vec
	.else
	ISR_NOERR vec
	.endif
	.set vec, vec + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	/* align the stack for the C call; the frame pointer is kept in rbx (callee-saved) */
	movq %rsp, %rbx
	andq $-16, %rsp
	call trap_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.section .note.GNU-stack,"",@progbits
