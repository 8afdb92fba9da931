/* The 64-bit side of the test library in IA-32e mode: one stub per vector that turns the
 * 64-bit exception frame into a struct trap_frame, calls the 32-bit trap_dispatch() in
 * compatibility mode and returns with IRETQ; and peek64/poke64/invlpg64, which reach 64-bit
 * linear addresses from compatibility mode through a far call into 64-bit code. */

#include "segments.h"

	.altmacro
	.macro isr64_stub n
	.align 16
isr64_stub_\n:
	.if \n == 8 || \n == 10 || \n == 11 || \n == 12 || \n == 13 || \n == 14 || \n == 17 || \n == 21 || \n == 29 || \n == 30
	.else
	pushq $0
	.endif
	pushq $\n
	jmp isr64_common
	.endm

	.macro isr64_addr n
	.long isr64_stub_\n
	.endm

	.text
	.code64
	.set vec, 0
	.rept 256
	isr64_stub %vec
	.set vec, vec + 1
	.endr

/*
 * On entry: vector, error code, then the CPU's RIP, CS, RFLAGS, RSP, SS (8 bytes each). The
 * general registers go below them, a struct trap_frame below those (offsets in entry.S's
 * order: edi esi ebp esp ebx edx ecx eax vector error eip cs eflags).
 */
#define SAVED	64		/* the pushed registers start here, after the trap_frame */
#define R_RDI	(SAVED + 0)
#define R_RSI	(SAVED + 8)
#define R_RBP	(SAVED + 16)
#define R_RBX	(SAVED + 24)
#define R_RDX	(SAVED + 32)
#define R_RCX	(SAVED + 40)
#define R_RAX	(SAVED + 48)
#define R_VEC	(SAVED + 56)
#define R_ERR	(SAVED + 64)
#define R_RIP	(SAVED + 72)
#define R_CS	(SAVED + 80)
#define R_RFL	(SAVED + 88)
#define R_RSP	(SAVED + 96)

	.macro to_frame from, to
	movl \from(%rsp), %eax
	movl %eax, \to(%rsp)
	.endm

isr64_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rbx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	subq $SAVED, %rsp
	movq %cr2, %rax
	movq %rax, ia32e_cr2(%rip)
	movq R_RIP(%rsp), %rax
	movq %rax, ia32e_rip(%rip)
	to_frame R_RDI, 0
	to_frame R_RSI, 4
	to_frame R_RBP, 8
	to_frame R_RSP, 12
	to_frame R_RBX, 16
	to_frame R_RDX, 20
	to_frame R_RCX, 24
	to_frame R_RAX, 28
	to_frame R_VEC, 32
	to_frame R_ERR, 36
	to_frame R_RIP, 40
	to_frame R_CS, 44
	to_frame R_RFL, 48
	/* an interrupt from ring 3 loaded a null SS, which compatibility mode cannot use */
	movl $KERNEL_DS, %eax
	movl %eax, %ss
	pushq $KERNEL_CS
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
	.code32
1:	movl %esp, %eax
	pushl %eax
	call trap_dispatch
	addl $4, %esp
	ljmp $KERNEL_CS64, $2f
	.code64
	/* a changed EIP is the 32-bit resume point (trap_resume): return there in 32-bit code */
2:	movl 40(%rsp), %eax
	cmpq %rax, R_RIP(%rsp)
	je 3f
	movq %rax, R_RIP(%rsp)
	movq $KERNEL_CS, R_CS(%rsp)
3:	movl 48(%rsp), %eax
	movq %rax, R_RFL(%rsp)
	addq $SAVED, %rsp
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rbx
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp		/* vector and error code */
	iretq

/* The 64-bit bodies: address (and value) in lm_lin/lm_val; back with a 32-bit far return. */
peek64_body:
	movq lm_lin(%rip), %rax
	movq (%rax), %rax
	movq %rax, lm_val(%rip)
	lretl

poke64_body:
	movq lm_lin(%rip), %rax
	movq lm_val(%rip), %rdx
	movq %rdx, (%rax)
	lretl

invlpg64_body:
	movq lm_lin(%rip), %rax
	invlpg (%rax)
	lretl

	.code32
/* Copies the cdecl argument at `off`(%esp) (8 bytes) to `to`. */
	.macro arg64 off, to
	movl \off(%esp), %eax
	movl %eax, \to
	movl \off + 4(%esp), %eax
	movl %eax, \to + 4
	.endm

/* uint64_t peek64(uint64_t lin) */
	.globl peek64
peek64:
	arg64 4, lm_lin
	lcall $KERNEL_CS64, $peek64_body
	movl lm_val, %eax
	movl lm_val + 4, %edx
	ret

/* void poke64(uint64_t lin, uint64_t val) */
	.globl poke64
poke64:
	arg64 4, lm_lin
	arg64 12, lm_val
	lcall $KERNEL_CS64, $poke64_body
	ret

/* void invlpg64(uint64_t lin) */
	.globl invlpg64
invlpg64:
	arg64 4, lm_lin
	lcall $KERNEL_CS64, $invlpg64_body
	ret

	.section .rodata
	.align 4
	.globl isr64_stubs
isr64_stubs:
	.set vec, 0
	.rept 256
	isr64_addr %vec
	.set vec, vec + 1
	.endr

	.data
	.align 8
	.globl ia32e_cr2, ia32e_rip
ia32e_cr2:	.quad 0
ia32e_rip:	.quad 0
lm_lin:		.quad 0
lm_val:		.quad 0

	.section .note.GNU-stack, "", @progbits
