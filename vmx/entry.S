/* VM entry and exit. vmx_enter(regs, launched) saves the host's callee-saved registers,
 * records the stack in HOST_RSP, loads the guest GPRs and CR2 and enters. The VM exit
 * lands in vmx_exit_stub (HOST_RIP) on that same stack, stores the guest GPRs and returns
 * 0 from vmx_enter; a failed VMLAUNCH/VMRESUME returns 1 right away. */
#define VMCS_HOST_RSP 0x6c14
#define R(n) (n * 8)
#define CR2_OFF (16 * 8)

	.text
	.code64
	.globl vmx_enter
vmx_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* the exit stub finds regs at (%rsp) */
	movq $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax
	jbe 3f
	movq CR2_OFF(%rdi), %rax
	movq %rax, %cr2
	testl %esi, %esi		/* ZF survives the movs below */
	movq R(0)(%rdi), %rax
	movq R(1)(%rdi), %rcx
	movq R(2)(%rdi), %rdx
	movq R(3)(%rdi), %rbx
	movq R(5)(%rdi), %rbp
	movq R(6)(%rdi), %rsi
	movq R(8)(%rdi), %r8
	movq R(9)(%rdi), %r9
	movq R(10)(%rdi), %r10
	movq R(11)(%rdi), %r11
	movq R(12)(%rdi), %r12
	movq R(13)(%rdi), %r13
	movq R(14)(%rdi), %r14
	movq R(15)(%rdi), %r15
	movq R(7)(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* only reached when the entry instruction failed */
3:	popq %rdi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	movl $1, %eax
	ret

	.globl vmx_exit_stub
vmx_exit_stub:
	pushq %rdi
	movq 8(%rsp), %rdi
	movq %rax, R(0)(%rdi)
	movq %rcx, R(1)(%rdi)
	movq %rdx, R(2)(%rdi)
	movq %rbx, R(3)(%rdi)
	movq %rbp, R(5)(%rdi)
	movq %rsi, R(6)(%rdi)
	movq %r8, R(8)(%rdi)
	movq %r9, R(9)(%rdi)
	movq %r10, R(10)(%rdi)
	movq %r11, R(11)(%rdi)
	movq %r12, R(12)(%rdi)
	movq %r13, R(13)(%rdi)
	movq %r14, R(14)(%rdi)
	movq %r15, R(15)(%rdi)
	popq %rax
	movq %rax, R(7)(%rdi)
	movq %cr2, %rax
	movq %rax, CR2_OFF(%rdi)
	popq %rdi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	xorl %eax, %eax
	ret

	.section .note.GNU-stack,"",@progbits
