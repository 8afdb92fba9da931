/* intshadow guest: interrupt-window, STI and MOV SS blocking. An interrupt pending while
 * IF = 0 waits through instructions that exit to the hypervisor, and arrives right after
 * the instruction that follows STI (also when that instruction exits, or is HLT, which a
 * later timer interrupt wakes as well), right after POPF; MOV SS and POP SS hold back a
 * single-step #DB for one instruction (also one that exits). The source is the local APIC's
 * TSC-deadline timer. Compared with native. */
#include "testlib.h"
#include "apic.h"

#define TIMER_VECTOR 0x50
#define PENDING_WAIT 20000ull

volatile uint32_t irq_count, irq_eip, db_count, db_eip;
void irq_stub(void);
void db_stub(void);

/* Record where the interrupt or #DB came in and how often; #DB also clears TF. */
__asm__(".text\n"
	".globl irq_stub\n"
	"irq_stub:\n"
	"	pushl %eax\n"
	"	movl 4(%esp), %eax\n"
	"	movl %eax, irq_eip\n"
	"	incl irq_count\n"
	"	movl $0, 0xfee000b0\n" /* EOI */
	"	popl %eax\n"
	"	iret\n"
	".globl db_stub\n"
	"db_stub:\n"
	"	pushl %eax\n"
	"	movl 4(%esp), %eax\n"
	"	movl %eax, db_eip\n"
	"	incl db_count\n"
	"	andl $~0x100, 12(%esp)\n"
	"	popl %eax\n"
	"	iret\n");

/* With IF = 0: arm the timer and wait until its interrupt must be pending. */
static void make_pending(void)
{
	cli();
	irq_count = 0;
	irq_eip = 0;
	apic_timer_arm(100);
	tsc_wait(PENDING_WAIT);
}

static void check_irq(const char *what, uint32_t want_eip)
{
	check(irq_count == 1 && irq_eip == want_eip,
	      "%s: one interrupt, taken at the expected instruction (got %u at 0x%x, want 0x%x)",
	      what, irq_count, irq_eip, want_eip);
}

static void check_db(const char *what, uint32_t want_eip)
{
	check(db_count == 1 && db_eip == want_eip,
	      "%s: one #DB, after the expected instruction (got %u at 0x%x, want 0x%x)", what,
	      db_count, db_eip, want_eip);
}

static void test_if0_holds(void)
{
	make_pending();
	/* instructions that exit to a hypervisor; none may let the interrupt in */
	for (int i = 0; i < 4; i++) {
		(void)cpuid(0, 0);
		(void)inb(0x80);
		(void)apic_read(APIC_SVR);
	}
	check(irq_count == 0, "no interrupt while IF = 0, across exiting instructions (got %u)",
	      irq_count);
}

static void test_sti(void)
{
	uint32_t want;

	/* still pending from test_if0_holds */
	asm volatile("movl $2f, %0\n\t"
		     "sti\n"
		     "1:\tmovl $1, %%eax\n"
		     "2:\tmovl $2, %%eax\n\t"
		     "cli"
		     : "=m"(want)
		     :
		     : "eax", "memory");
	check_irq("STI; MOV: the interrupt comes after the MOV, not between STI and it", want);

	make_pending();
	asm volatile("movl $2f, %0\n\t"
		     "xorl %%eax, %%eax\n\t"
		     "sti\n\t"
		     "cpuid\n"
		     "2:\tnop\n\t"
		     "cli"
		     : "=m"(want)
		     :
		     : "eax", "ebx", "ecx", "edx", "memory");
	check_irq("STI; CPUID (an exiting instruction in the STI shadow)", want);

	make_pending();
	asm volatile("movl $2f, %0\n\t"
		     "sti\n\t"
		     "inb $0x80, %%al\n"
		     "2:\tnop\n\t"
		     "cli"
		     : "=m"(want)
		     :
		     : "eax", "memory");
	check_irq("STI; IN (port I/O in the STI shadow)", want);

	make_pending();
	asm volatile("movl $2f, %0\n\t"
		     "pushl $0x202\n\t"
		     "popfl\n"
		     "2:\tnop\n\t"
		     "cli"
		     : "=m"(want)
		     :
		     : "memory", "cc");
	check_irq("POPF setting IF (no shadow): the interrupt comes right after POPF", want);

	make_pending();
	asm volatile("movl $2f, %0\n\t"
		     "movw %%ss, %%ax\n\t"
		     "movw %%ax, %%ss\n\t"
		     "sti\n\t"
		     "nop\n"
		     "2:\tnop\n\t"
		     "cli"
		     : "=m"(want)
		     :
		     : "eax", "memory");
	check_irq("MOV SS; STI; NOP: the interrupt comes after the NOP", want);

	if (irq_count != 1) {
		fail("STI; HLT not tried: the timer interrupt did not arrive");
		return;
	}
	make_pending();
	asm volatile("movl $2f, %0\n\t"
		     "sti\n\t"
		     "hlt\n"
		     "2:\tcli"
		     : "=m"(want)
		     :
		     : "memory");
	check_irq("STI; HLT: the pending interrupt wakes HLT and returns after it", want);

	/* not yet pending at HLT: the timer itself must wake the halted CPU */
	irq_count = 0;
	irq_eip = 0;
	apic_timer_arm(200000);
	asm volatile("movl $2f, %0\n\t"
		     "sti\n\t"
		     "hlt\n"
		     "2:\tcli"
		     : "=m"(want)
		     :
		     : "memory");
	check_irq("STI; HLT before the timer fires: its interrupt wakes HLT", want);
}

static void test_movss_db(void)
{
	uint32_t want;

	db_count = 0;
	asm volatile("movl $2f, %0\n\t"
		     "movw %%ss, %%ax\n\t"
		     "pushfl\n\t"
		     "orl $0x100, (%%esp)\n\t"
		     "popfl\n\t"
		     "movw %%ax, %%ss\n\t"
		     "nop\n"
		     "2:\tnop"
		     : "=m"(want)
		     :
		     : "eax", "memory", "cc");
	check_db("single step over MOV SS: #DB after the instruction that follows it", want);

	db_count = 0;
	asm volatile("movl $2f, %0\n\t"
		     "pushl %%ss\n\t"
		     "pushfl\n\t"
		     "orl $0x100, (%%esp)\n\t"
		     "popfl\n\t"
		     "popl %%ss\n\t"
		     "nop\n"
		     "2:\tnop"
		     : "=m"(want)
		     :
		     : "memory", "cc");
	check_db("single step over POP SS: #DB after the instruction that follows it", want);

	db_count = 0;
	asm volatile("movl $2f, %0\n\t"
		     "xorl %%eax, %%eax\n\t"
		     "movw %%ss, %%dx\n\t"
		     "pushfl\n\t"
		     "orl $0x100, (%%esp)\n\t"
		     "popfl\n\t"
		     "movw %%dx, %%ss\n\t"
		     "cpuid\n"
		     "2:\tnop"
		     : "=m"(want)
		     :
		     : "eax", "ebx", "ecx", "edx", "memory", "cc");
	check_db("single step over MOV SS; CPUID (an exiting instruction in the MOV SS shadow)",
		 want);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;

	if (!apic_timer_available()) {
		skip("interrupt blocking: no local APIC with a TSC-deadline timer");
		return;
	}
	uint64_t old_db = idt_gate_set(VEC_DB, db_stub);
	idt_gate_set(TIMER_VECTOR, irq_stub);
	apic_timer_init(TIMER_VECTOR);

	test_if0_holds();
	test_sti();
	test_movss_db();

	cli();
	wrmsr(MSR_TSC_DEADLINE, 0);
	idt_gate_restore(VEC_DB, old_db);
}
