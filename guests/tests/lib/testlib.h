/* The test guests' shared library: serial output and tprintf, PASS/FAIL/SKIP verdicts,
 * exit through the debug-exit port, expected-fault catching, interrupt handlers, Keel
 * detection and the Keel ABI numbers from docs/guest-abi.md. */
#ifndef TG_TESTLIB_H
#define TG_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"
#include "multiboot.h"
#include "segments.h"

/* Keel ABI (docs/guest-abi.md) */
#define KEEL_CPUID_BASE	      0x40000000
#define KEEL_CPUID_VERSION    0x40000001
#define KEEL_HC_VERSION	      0
#define KEEL_HC_TIMER_ONESHOT 1
#define KEEL_EINVAL	      (-22)
#define KEEL_ENOSYS	      (-38)
#define DEBUG_EXIT_PORT	      0xf4
#define COM1_PORT	      0x3f8

/* Exception vectors */
#define VEC_DE 0
#define VEC_DB 1
#define VEC_BP 3
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14

/* Returned by the *_safe() helpers when the instruction did not fault. */
#define NO_FAULT (-1)

/* The layout isr_common in entry.S builds: pushal, vector, error code, then the CPU's frame. */
struct trap_frame {
	uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};

/* What the last caught exception looked like. */
struct trap_record {
	int hit; /* 0 until the armed exception arrives */
	uint32_t vector, error, cr2, eip;
};

struct tg_jmp_buf {
	uint32_t ebx, esi, edi, ebp, esp, eip;
};

/* Each guest defines this; the library calls it once the CPU tables are loaded. */
void test_main(uint32_t magic, struct multiboot_info *mbi);

/* serial.c */
void serial_putc(char c);
void serial_puts(const char *s);
void tprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tvprintf(const char *fmt, va_list ap);

/* test.c */
void pass(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int check_eq(const char *what, uint64_t got, uint64_t want);
void test_exit(void) __attribute__((noreturn));
int keel_present(void);
void tsc_wait(uint64_t ticks);
/* Sleeps in HLT until Keel's one-shot hypercall timer, raised at `vector` (the handler is
 * installed here), fires `ticks` TSC ticks from now; returns at once if Keel refuses. */
void keel_sleep(uint8_t vector, uint64_t ticks);
/* How many timer interrupts woke keel_sleep() so far. */
unsigned keel_sleep_wakeups(void);
/* Announces the expected stop, then triple-faults (an empty IDT and INT3). */
void triple_fault(void);
size_t tg_strlen(const char *s);
int tg_strcmp(const char *a, const char *b);
int tg_str_ends_with_word(const char *s, const char *tail);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* trap.c */
extern struct trap_record trap_last;
extern struct tg_jmp_buf trap_jmp;
int tg_setjmp(struct tg_jmp_buf *jb) __attribute__((returns_twice));
void tg_longjmp(struct tg_jmp_buf *jb, int val) __attribute__((noreturn));
void trap_arm(int vector);
void trap_disarm(void);
void cpu_tables_init(void);
void irq_set_handler(uint8_t vector, void (*fn)(uint8_t vector));
void gdt_set_tss(uint32_t base, uint32_t limit);
void idt_allow_from_user(uint8_t vector);

/* user.c: run a function at CPL 3 (with paging on, its code and stack must be user pages) */
int run_at_cpl3(void (*fn)(void));
void user_fault(struct trap_frame *f) __attribute__((noreturn));
void user_tss_format(int ia32e);

/*
 * Catch one exception: evaluates to 0 when armed and to 1 when the exception arrived, in
 * which case trap_last says what happened and execution resumed right here (like setjmp,
 * so locals changed in between must be volatile). Call trap_disarm() when the guarded
 * code finished without a fault. A different vector than `vector` is caught too, but
 * reported as a FAIL.
 */
#define trap_expect(vector) (trap_arm(vector), tg_setjmp(&trap_jmp))

int rdmsr_safe(uint32_t msr, uint64_t *val);
int wrmsr_safe(uint32_t msr, uint64_t val);
int write_cr4_safe(uint32_t val);

/* paging.c: 4 MiB (PSE) page directories for the guests that turn paging on */
#define PDE_P  (1u << 0)
#define PDE_RW (1u << 1)
#define PDE_PS (1u << 7)
void pd_identity_4m(uint32_t *pd);
void paging_enable(uint32_t *pd);
void paging_disable(void);

#endif
