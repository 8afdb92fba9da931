/* Host-side interrupt and exception handling: descriptor tables, the trap frame, IRQ
 * handler registration, panics with register dumps. */
#ifndef KEEL_TRAP_H
#define KEEL_TRAP_H

#include "types.h"

struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

#define GDT_CODE 0x08
#define GDT_DATA 0x10
#define GDT_TSS	 0x18

#define VEC_TIMER    0xef
#define VEC_SPURIOUS 0xff
/* ISA line n of a dedicated device (dedicated_hw.c): VEC_ISA_BASE + n, n < 16 */
#define VEC_ISA_BASE 0xd0

typedef void (*irq_handler_fn)(u8 vector);

void trap_init(void);
void irq_set_handler(u8 vector, irq_handler_fn fn);
/* Runs the handler of an interrupt acknowledged on VM exit (no IDT delivery). */
void irq_dispatch(u8 vector);

/* Extra state printed by a panic (the VMCS while in VMX operation). */
void panic_set_hook(void (*hook)(void));
/* What to do after a panic: halt, or end the emulator run (tests). */
void panic_set_shutdown(bool shutdown);
__noreturn void panic(const char *fmt, ...) __printf(1, 2);

/* Ends the run on emulators (Bochs shutdown port, QEMU isa-debug-exit); halts elsewhere. */
__noreturn void platform_shutdown(void);

/* Sleeps until the next interrupt (interrupts are off again on return). */
void irq_wait_hw(void);
__noreturn void cpu_halt_forever_hw(void);

#endif
