/* Running one test function at CPL 3 and coming back to ring 0: the TSS that gives ring 0
 * its stack (in the 32-bit or, in IA-32e mode, the 64-bit layout), the INT 0x80 gate the
 * function returns through, and the way back when the function faults instead. */
#include "testlib.h"

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
} __attribute__((packed));

static struct tss32 tss;
static uint8_t ring0_stack[8192] __attribute__((aligned(16)));
static uint8_t ring3_stack[8192] __attribute__((aligned(16)));
static struct tg_jmp_buf user_return;
static volatile int user_outcome;
static int user_ready;
static int user_tss64;

/* what user_entry (entry.S) calls at CPL 3 */
void (*volatile user_fn)(void);
void user_entry(void);

static void user_returned(uint8_t vector)
{
	(void)vector;
	user_outcome = NO_FAULT;
	tg_longjmp(&user_return, 1);
}

/* trap_dispatch() sends every exception raised at CPL 3 here. */
void user_fault(struct trap_frame *f)
{
	trap_last = (struct trap_record){1, f->vector, f->error, read_cr2(), f->eip};
	user_outcome = (int)f->vector;
	tg_longjmp(&user_return, 1);
}

/*
 * The 64-bit TSS has the same size and I/O-bitmap offset as the 32-bit one, but RSP0 is the
 * quadword at offset 4, where ESP0 and SS0 lie: in IA-32e mode SS0 must read as zero.
 */
void user_tss_format(int ia32e)
{
	user_tss64 = ia32e;
	tss.ss0 = ia32e ? 0 : KERNEL_DS;
}

static void user_setup(void)
{
	tss.ss0 = user_tss64 ? 0 : KERNEL_DS;
	/* an I/O bitmap offset past the limit: port I/O at CPL 3 faults */
	tss.iomap_base = sizeof(tss);
	gdt_set_tss((uint32_t)&tss, sizeof(tss) - 1);
	asm volatile("ltr %w0" : : "r"(TSS_SEL));
	idt_allow_from_user(USER_RETURN_VECTOR);
	irq_set_handler(USER_RETURN_VECTOR, user_returned);
	user_ready = 1;
}

/*
 * Runs fn at CPL 3 with interrupts off. Returns NO_FAULT when fn returned, or the vector
 * of the exception it raised (trap_last has the details).
 */
int run_at_cpl3(void (*fn)(void))
{
	if (!user_ready)
		user_setup();
	tss.esp0 = (uint32_t)(ring0_stack + sizeof(ring0_stack));
	user_fn = fn;

	if (tg_setjmp(&user_return) == 0) {
		/* an inter-privilege IRET frame: EIP, CS, EFLAGS (IF off), ESP, SS */
		asm volatile("pushl %0\n\t"
			     "pushl %1\n\t"
			     "pushl $2\n\t"
			     "pushl %2\n\t"
			     "pushl $user_entry\n\t"
			     "iret"
			     :
			     : "i"(USER_DS | 3), "r"(ring3_stack + sizeof(ring3_stack)),
			       "i"(USER_CS | 3)
			     : "memory");
		__builtin_unreachable();
	}
	/* back through a ring-0 gate: SS came from the TSS, the data segments are still ring 3's */
	asm volatile("movw %w0, %%ds\n\t"
		     "movw %w0, %%es\n\t"
		     "movw %w0, %%fs\n\t"
		     "movw %w0, %%gs"
		     :
		     : "r"(KERNEL_DS));
	return user_outcome;
}
