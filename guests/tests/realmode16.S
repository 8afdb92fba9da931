/* realmode guest, the assembly side: rm_call() goes from 32-bit PM to real mode (through
 * 16-bit PM), runs one test routine there and comes back; the 16-bit blob (copied to
 * RM_BASE by realmode.c) holds that path, the routines and the IVT handlers they use. */

#include "realmode.h"

/* an address in the blob as an offset from CS = RM_SEG (or DS = RM_SEG) */
#define B(x) ((x) - rm_blob_start)
/* a data block slot, DS = RM_SEG */
#define D(x) (RM_DOFF + (x))

	.data
	.align 8
rm_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* RM_CS32: flat 32-bit code */
	.quad 0x00cf92000000ffff	/* RM_DS32: flat 32-bit data */
	.quad 0x00009a007000ffff	/* RM_CS16: 16-bit code, base RM_BASE, limit 0xffff */
	.quad 0x000092000000ffff	/* RM_DS16: 16-bit data, base 0, limit 0xffff */
rm_gdt_end:

	.align 4
pm_esp:	.long 0
	.word 0
pm_gdtr: .word 0
	.long 0
	.word 0
pm_idtr: .word 0
	.long 0

	.text
	.code32
/* void rm_call(void): runs the routine whose blob offset is in D_TEST, in real mode. */
	.globl rm_call
rm_call:
	pushal
	pushfl
	cli
	movl %esp, pm_esp
	sgdt pm_gdtr
	sidt pm_idtr
	lgdt rm_gdtr
	ljmp $RM_CS16, $B(rm_pm16)

/* back from real mode: the library's tables and segments again */
rm_pm32_back:
	movw $RM_DS32, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl pm_esp, %esp
	lgdt pm_gdtr
	lidt pm_idtr
	call load_segments
	popfl
	popal
	ret

/* ---- the blob: everything from here to rm_blob_end runs at RM_BASE ---- */
	.globl rm_blob_start, rm_blob_end
	.code16
	.align 16
rm_blob_start:
/* 16-bit PM, CS base RM_BASE: real-mode-like segments, the IVT, then PE off */
rm_pm16:
	movw $RM_DS16, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	lidt RM_BASE + B(rm_ivt_ptr)
	movl %cr0, %eax
	andl $~1, %eax
	movl %eax, %cr0
	ljmp $RM_SEG, $B(rm_real)

rm_real:
	movw $RM_SEG, %ax
	movw %ax, %ds
	movw %ax, %es
	xorw %ax, %ax
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $RM_STACK, %esp
	/* a GDTR that could not take us back: the LGDT below must do it */
	lgdt B(rm_gdtr_null)
	cld
	call *D(D_TEST)

	/* back to PM: LGDT with a 16-bit operand (24-bit base), then MOV CR0 or LMSW */
	cli
	movw $RM_SEG, %ax
	movw %ax, %ds
	lgdt B(rm_gdtr)
	movl %cr0, %eax
	orb $1, %al
	cmpw $0, D(D_LMSW)
	jne 1f
	movl %eax, %cr0
	jmp 2f
1:	lmsw %ax
2:	ljmpl $RM_CS32, $rm_pm32_back

/*
 * The recording IVT handler: one stub per vector pushes a tag and joins rm_record, which
 * stores tag, IP, CS and FLAGS of the frame and the FLAGS it runs with in the next record,
 * adds D_SKIP to the IP it returns to, and clears TF in the frame once D_TF_STOP #DB
 * records are in.
 */
	.macro rm_stub tag
rm_hv_\tag:
	pushw $\tag
	jmp rm_record
	.endm
	rm_stub 0x0
	rm_stub 0x1
	rm_stub 0x3
	rm_stub 0x4
	rm_stub 0xd
	rm_stub 0x40
	rm_stub 0x140
	.globl rm_hv_0x0, rm_hv_0x1, rm_hv_0x3, rm_hv_0x4, rm_hv_0xd, rm_hv_0x40, rm_hv_0x140

rm_record:
	pushw %bp
	movw %sp, %bp
	pushw %ax
	pushw %bx
	pushfw
	popw %ax
	movw D(D_NREC), %bx
	cmpw $D_REC_MAX, %bx
	jae 1f
	imulw $D_REC_LEN, %bx, %bx
	movw %ax, D(D_REC) + 16(%bx)
	movw 2(%bp), %ax
	movw %ax, D(D_REC) + 0(%bx)
	movw 4(%bp), %ax
	movw %ax, D(D_REC) + 4(%bx)
	movw 6(%bp), %ax
	movw %ax, D(D_REC) + 8(%bx)
	movw 8(%bp), %ax
	movw %ax, D(D_REC) + 12(%bx)
1:	incw D(D_NREC)
	movw D(D_SKIP), %ax
	addw %ax, 4(%bp)
	cmpw $1, 2(%bp)
	jne 2f
	movw D(D_NREC), %ax
	cmpw D(D_TF_STOP), %ax
	jb 2f
	andw $~0x100, 8(%bp)
2:	popw %bx
	popw %ax
	popw %bp
	addw $2, %sp
	iret

/* IRQ0 from the 8254 through the master 8259 (vector RM_IRQ_BASE); masks IRQ0 at the 5th
 * tick, so that ticks queued while Keel ran other VMs cannot push the count past 5 */
	.globl rm_irq0
rm_irq0:
	pushw %bp
	movw %sp, %bp
	pushw %ax
	incw D(D_TICKS)
	cmpw $RM_TICKS, D(D_TICKS)
	jb 1f
	movb $0xff, %al
	outb %al, $0x21
1:
	movw 2(%bp), %ax
	movw %ax, D(D_IRQ_IP)
	movw 4(%bp), %ax
	movw %ax, D(D_IRQ_CS)
	movb $0x20, %al		/* non-specific EOI */
	outb %al, $0x20
	popw %ax
	popw %bp
	iret

/* 1: CR0, SMSW and CR4 in real mode */
	.globl rm_t_cr
rm_t_cr:
	movl %cr0, %eax
	movl %eax, D(D_V(0))
	xorl %eax, %eax
	smsw %ax
	movl %eax, D(D_V(1))
	movl %cr4, %eax
	movl %eax, D(D_V(2))
	ret

/* 2: PUSHF/PUSHFD images, CLI/STI, IOPL through POPF, POPFD cannot set VM or RF */
	.globl rm_t_flags
rm_t_flags:
	cli
	pushfl
	popl D(D_V(0))
	sti
	pushfl
	popl D(D_V(1))
	cli
	pushfw
	popw D(D_V(2))
	pushfw
	popw %ax
	orw $0x3000, %ax
	pushw %ax
	popfw
	pushfw
	popw D(D_V(3))
	andw $~0x3000, %ax
	pushw %ax
	popfw
	pushfw
	popw D(D_V(4))
	pushfl
	popl %eax
	orl $0x30000, %eax	/* VM and RF */
	pushl %eax
	popfl
	pushfl
	popl D(D_V(5))
	ret

/* 3: INT n through the IVT and IRET back; IRETD from a hand-built 32-bit frame */
	.globl rm_t_int, rm_int_next, rm_iretd_to
rm_t_int:
	sti
	int $RM_VEC_INT
rm_int_next:
	pushfl
	popl D(D_V(0))
	cli
	int $RM_VEC_INT
	pushfl
	popl D(D_V(1))
	pushl $0x00000a03	/* OF, IF, CF and the always-one bit */
	pushl $RM_SEG
	pushl $B(rm_iretd_to)
	iretl
	hlt			/* not reached */
rm_iretd_to:
	pushfl
	popl D(D_V(2))
	cli
	movw %cs, D(D_V(3))
	movw %sp, D(D_V(4))
	ret

/* 4: INT3 (CC), INT 3 (CD 03), INTO with OF set and with OF clear */
	.globl rm_t_bp, rm_bp_next1, rm_bp_next2, rm_bp_next3
rm_t_bp:
	int3
rm_bp_next1:
	.byte 0xcd, 0x03
rm_bp_next2:
	movb $0x7f, %al
	addb $1, %al		/* OF = 1 */
	into
rm_bp_next3:
	xorb %al, %al		/* OF = 0: no trap */
	into
	ret

/* 5: DIV by zero: #DE with the DIV's own IP; the handler skips its two bytes */
	.globl rm_t_de, rm_de_div
rm_t_de:
	movw $2, D(D_SKIP)
	xorw %bx, %bx
	movw $1, %ax
	xorw %dx, %dx
rm_de_div:
	divw %bx
	movw $0, D(D_SKIP)
	movl $1, D(D_V(0))
	ret

/* 6: LIDT moves the IVT (INT 0x40 goes through the new table), SIDT reads it back; a
 * limit that ends before vector 0x41 makes INT 0x41 a #GP with the INT's own IP */
	.globl rm_t_lidt, rm_lidt_int41
rm_t_lidt:
	lidt B(rm_ivt2_ptr)
	sidtl D(D_V(0))
	int $RM_VEC_INT
	lidt B(rm_ivt_ptr)
	sidtl D(D_V(2))
	int $RM_VEC_INT
	lidt B(rm_ivt_small_ptr)
	sidtl D(D_V(4))
	movw $2, D(D_SKIP)
rm_lidt_int41:
	int $RM_VEC_LIMIT
	movw $0, D(D_SKIP)
	lidt B(rm_ivt_ptr)
	movl $1, D(D_V(6))
	ret

/* 7: IRQ0 from the 8254 through the 8259 while halted; the PIC then masked again */
	.globl rm_t_irq, rm_irq_after_hlt
rm_t_irq:
	movb $0x11, %al		/* ICW1: edge, cascade, ICW4 follows */
	outb %al, $0x20
	movb $RM_IRQ_BASE, %al	/* ICW2: vector base */
	outb %al, $0x21
	movb $0x04, %al		/* ICW3: the slave on IR2 */
	outb %al, $0x21
	movb $0x01, %al		/* ICW4: 8086 mode, normal EOI */
	outb %al, $0x21
	movb $0xfe, %al		/* IRQ0 only */
	outb %al, $0x21
	movb $0x34, %al		/* channel 0, lobyte/hibyte, mode 2 */
	outb %al, $0x43
	movw $1193, %ax		/* 1 kHz */
	outb %al, $0x40
	movb %ah, %al
	outb %al, $0x40
	movw $0, D(D_TICKS)
	xorl %ecx, %ecx
1:	incl %ecx
	sti
	hlt
rm_irq_after_hlt:
	cli
	cmpw $RM_TICKS, D(D_TICKS)
	jb 1b
	movl %ecx, D(D_V(0))
	movb $0xff, %al		/* everything masked again */
	outb %al, $0x21
	inb $0x21, %al
	movb %al, D(D_V(1))
	movb $0x30, %al		/* channel 0 to mode 0: one last edge, then quiet */
	outb %al, $0x43
	movb $0xff, %al
	outb %al, $0x40
	outb %al, $0x40
	movb $0x11, %al		/* the master back at the BIOS's vectors, all masked */
	outb %al, $0x20
	movb $0x08, %al
	outb %al, $0x21
	movb $0x04, %al
	outb %al, $0x21
	movb $0x01, %al
	outb %al, $0x21
	movb $0xff, %al
	outb %al, $0x21
	ret

/* 8: OUT byte by byte, REP OUTSB (through the FIFO), IN and INSB of known values */
	.globl rm_t_io
rm_t_io:
	movw $B(rm_line_out), %si
1:	lodsb
	testb %al, %al
	jz 3f
	movb %al, %bl
	movw $0x3fd, %dx	/* LSR: wait for THR empty */
	movw $0xffff, %cx
2:	inb %dx, %al
	testb $0x20, %al
	loopz 2b
	movw $0x3f8, %dx
	movb %bl, %al
	outb %al, %dx
	jmp 1b
3:	call rm_uart_drain
	movw $0x3fa, %dx	/* FCR: FIFOs on and cleared */
	movb $0x07, %al
	outb %al, %dx
	movw $0x3f8, %dx
	movw $B(rm_line_outs), %si
	movw $(rm_line_outs_end - rm_line_outs), %cx
	rep outsb
	movw %cx, D(D_V(0))
	movw %si, D(D_V(1))
	call rm_uart_drain
	movw $0x3fa, %dx	/* FIFOs off again, as the library found the UART */
	xorb %al, %al
	outb %al, %dx
	movw $0x3ff, %dx	/* scratch register: OUT, then IN and INSB */
	movb $0xa5, %al
	outb %al, %dx
	inb %dx, %al
	movb %al, D(D_V(2))
	movw $D(D_V(3)), %di
	insb
	movw %di, D(D_V(4))
	inb $0x21, %al		/* the master 8259's mask, all set by the library */
	movb %al, D(D_V(5))
	ret

/* waits until the UART has sent everything (LSR bit 6) */
rm_uart_drain:
	movw $0x3fd, %dx
	movw $0xffff, %cx
1:	inb %dx, %al
	testb $0x40, %al
	loopz 1b
	ret

rm_line_out:
	.asciz "realmode: OUT byte by byte from real mode\n"
rm_line_outs:
	.ascii "rm rep outsb\n"
	.globl rm_line_outs_end
rm_line_outs_end:

/* 9: far CALL/RETF into another segment, far JMP there and back, ES and FS arithmetic */
	.globl rm_t_far, rm_far_ret
rm_t_far:
	lcall $RM_FAR_SEG, $(B(rm_far_fn) + RM_FAR_OFF)
rm_far_ret:
	ljmp $RM_FAR_SEG, $(B(rm_far_jmp) + RM_FAR_OFF)
rm_far_back:
	movw $RM_ES_SEG, %ax
	movw %ax, %es
	movb $0xa5, %es:RM_ES_OFF
	movw $(RM_ES_SEG + RM_ES_OFF / 16), %ax
	movw %ax, %fs
	movb %fs:0, %al
	movb %al, D(D_V(4))
	movw $RM_SEG, %ax
	movw %ax, %es
	xorw %ax, %ax
	movw %ax, %fs
	ret
rm_far_fn:
	movw %cs, D(D_V(0))
	movw %sp, %bp
	movw 0(%bp), %ax
	movw %ax, D(D_V(1))	/* the return IP */
	movw 2(%bp), %ax
	movw %ax, D(D_V(2))	/* the return CS */
	lret
rm_far_jmp:
	movw %cs, D(D_V(3))
	ljmp $RM_SEG, $B(rm_far_back)

/* 10: operand- and address-size prefixes */
	.globl rm_t_prefix
rm_t_prefix:
	movl $0x12345678, %eax
	addl $0x11111111, %eax
	movl %eax, D(D_V(0))
	movl $D(D_V(1)), %ebx
	movl $0xcafef00d, (%ebx)	/* 67: 32-bit address */
	movl $2, %ecx
	movl $0x89abcdef, D(D_V(2))(,%ecx,4)	/* 67 with a scaled index: D_V(4) */
	movl $0x11223344, %eax
	bswap %eax
	movl %eax, D(D_V(3))
	movl $0x80000000, %edx
	shrl $31, %edx
	movl %edx, D(D_V(5))
	ret

/* 11: CR0.TS by MOV to CR0 and CLTS */
	.globl rm_t_ts
rm_t_ts:
	movl %cr0, %eax
	orl $8, %eax
	movl %eax, %cr0
	movl %cr0, %eax
	movl %eax, D(D_V(0))
	clts
	movl %cr0, %eax
	movl %eax, D(D_V(1))
	ret

/* 12: CPUID, RDMSR, WRMSR, RDTSC, WBINVD, MOV DR0 */
	.globl rm_t_cpu
rm_t_cpu:
	xorl %eax, %eax
	xorl %ecx, %ecx
	cpuid
	movl %eax, D(D_V(0))
	movl %ebx, D(D_V(1))
	movl %ecx, D(D_V(2))
	movl %edx, D(D_V(3))
	movl $0x1b, %ecx	/* IA32_APIC_BASE */
	rdmsr
	movl %eax, D(D_V(4))
	movl %edx, D(D_V(5))
	rdtsc
	movl %eax, D(D_V(6))
	movl %edx, D(D_V(7))
	rdtsc
	movl %eax, D(D_V(8))
	movl %edx, D(D_V(9))
	movl $0x174, %ecx	/* IA32_SYSENTER_CS: written here, read in PM */
	movl $0x1234, %eax
	xorl %edx, %edx
	wrmsr
	rdmsr
	movl %eax, D(D_V(10))
	wbinvd
	movl $1, D(D_V(11))
	movl $0x5a5a1000, %eax
	movl %eax, %dr0
	movl %dr0, %ebx
	movl %ebx, D(D_V(12))
	xorl %eax, %eax
	movl %eax, %dr0
	ret

/* 13: single-step: POPF sets TF, #DB after each instruction until the handler clears it */
	.globl rm_t_step, rm_step_a, rm_step_b, rm_step_c, rm_step_d, rm_step_e
rm_t_step:
	movw $4, D(D_TF_STOP)
	pushfw
	popw %ax
	orw $0x100, %ax
	pushw %ax
	popfw
rm_step_a:
	nop
rm_step_b:
	nop
rm_step_c:
	nop
rm_step_d:
	nop
rm_step_e:
	nop
	pushfw
	popw D(D_V(0))
	ret

/* 14: LGDT with a 16-bit operand loads a 24-bit base: SGDT (32-bit) shows the top byte 0 */
	.globl rm_t_lgdt
rm_t_lgdt:
	lgdt B(rm_gdtr_junk)
	sgdtl D(D_V(0))
	ret

/* 15: one INT 0x40 a trip */
	.globl rm_t_trip
rm_t_trip:
	int $RM_VEC_INT
	ret

	.align 4
rm_ivt_ptr:
	.word 0x3ff
	.long 0
rm_ivt2_ptr:
	.word 0x3ff
	.long RM_IVT2
rm_ivt_small_ptr:
	.word RM_IVT_SMALL
	.long 0
	.globl rm_gdtr
rm_gdtr:
	.word rm_gdt_end - rm_gdt - 1
	.long rm_gdt
rm_gdtr_junk:
	.word rm_gdt_end - rm_gdt - 1
	.long rm_gdt + 0xff000000
rm_gdtr_null:
	.word 0
	.long 0
rm_blob_end:		/* realmode.c checks that the blob fits below RM_DATA */

	.section .note.GNU-stack, "", @progbits
