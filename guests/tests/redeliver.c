/* redeliver guest: an event whose delivery is interrupted is delivered again exactly once.
 * (a) Delivery through an IDT half on a not-present page: INT n becomes #PF; #PF, #GP and INT n
 * whose #PF gate is missing too become #DF; a not-present gate or code segment gives #NP, a
 * bad selector #GP.
 * (b) Timer interrupts arriving while the guest makes exits (INVLPG and CR3 reloads, which
 * drop shadow entries of the IDT, stack and handler; local APIC MMIO): each runs its handler
 * exactly once. Under shadow paging these deliveries themselves exit. Compared with native. */
#include "testlib.h"
#include "apic.h"
#include "pt.h"

#define VEC_NP	     11
#define TIMER_VECTOR 0x50
#define BAD_SELECTOR 0xf8
/* the GDT slot after the TSS's, unused in 32-bit mode (lib/segments.h) */
#define NP_CODE_SELECTOR (TSS_SEL + 8)
#define IRQ_ROUNDS   64

/* page 0 holds the low part of a split IDT, page 1 is made not present, page 2 is touched */
static uint8_t area[3 * 4096] __attribute__((aligned(4096)));
static struct pt pt;
static struct idt_desc lib_idt;
static volatile uint32_t expected_eip;

volatile uint32_t irq_count;
void irq_stub(void);
extern const uint32_t isr_stubs[256];

__asm__(".text\n"
	".globl irq_stub\n"
	"irq_stub:\n"
	"	incl irq_count\n"
	"	movl $0, 0xfee000b0\n" /* EOI */
	"	iret\n");

static uint32_t page(uint32_t n)
{
	return (uint32_t)area + 4096 * n;
}

/* Drops the translations (and shadow entries) an event delivery needs. */
static void forget_delivery_pages(void)
{
	uint32_t esp;
	asm volatile("movl %%esp, %0" : "=r"(esp));
	invlpg(page(0));
	invlpg(lib_idt.base);
	invlpg(esp & ~0xfffu);
	invlpg((uint32_t)irq_stub);
	invlpg(isr_stubs[VEC_PF]);
}

/* An IDT whose vectors >= first_absent lie on the not-present page 1. */
static void idt_split_load(unsigned first_absent)
{
	uint32_t base = page(1) - 8 * first_absent;
	memcpy((void *)base, (void *)lib_idt.base, 8 * first_absent);
	pt_set(&pt, page(1), 1, 0);
	invlpg(page(1));
	struct idt_desc d = {0x7ff, base};
	asm volatile("lidt %0" : : "m"(d));
	forget_delivery_pages();
}

static void idt_restore(void)
{
	asm volatile("lidt %0" : : "m"(lib_idt));
	pt_set(&pt, page(1), 1, page(1) | PTE_P | PTE_W);
	invlpg(page(1));
}

static void check_caught(uint32_t vector, uint32_t error, const char *what)
{
	check(trap_last.hit && trap_last.vector == vector && trap_last.error == error,
	      "%s: vector %u error 0x%x (got %d, vector %u error 0x%x)", what, vector, error,
	      trap_last.hit, trap_last.vector, trap_last.error);
}

static void test_int_pf(void)
{
	idt_split_load(0x90);
	if (!trap_expect(VEC_PF)) {
		asm volatile("movl $1f, %0\n1:\tint $0x90" : "=m"(expected_eip) : : "memory");
		trap_disarm();
	}
	idt_restore();
	check_caught(VEC_PF, 0, "INT 0x90 through a gate on a not-present page raises #PF");
	check(trap_last.cr2 == page(1) && trap_last.eip == expected_eip,
	      "that #PF has CR2 at the gate and EIP at the INT (got CR2 0x%x EIP 0x%x)",
	      trap_last.cr2, trap_last.eip);
}

static void test_double_faults(void)
{
	/* gates 0-8 present (#DF among them), #GP and #PF gates on the missing page */
	idt_split_load(9);
	if (!trap_expect(VEC_DF)) {
		(void)peek8(page(1));
		trap_disarm();
	}
	check_caught(VEC_DF, 0, "#PF whose own gate is on a not-present page becomes #DF");

	forget_delivery_pages();
	if (!trap_expect(VEC_DF)) {
		asm volatile("int $0x90" : : : "memory");
		trap_disarm();
	}
	check_caught(VEC_DF, 0, "INT 0x90, then #PF for its gate, then #PF for #PF's gate: #DF");

	forget_delivery_pages();
	if (!trap_expect(VEC_DF)) {
		asm volatile("movw %w0, %%ds" : : "r"(BAD_SELECTOR) : "memory");
		trap_disarm();
	}
	check_caught(VEC_DF, 0, "#GP, then #PF for its gate, then #PF for #PF's gate: #DF");
	idt_restore();
	uint16_t ds;
	asm volatile("movw %%ds, %0" : "=r"(ds));
	if (ds != KERNEL_DS)
		asm volatile("movw %w0, %%ds" : : "r"(KERNEL_DS));
}

static void test_bad_gates(void)
{
	uint64_t old = idt_gate_set(0x92, irq_stub);
	volatile uint64_t *gate = (volatile uint64_t *)(lib_idt.base + 8 * 0x92);

	*gate &= ~(1ull << 47); /* not present */
	forget_delivery_pages();
	if (!trap_expect(VEC_NP)) {
		asm volatile("int $0x92" : : : "memory");
		trap_disarm();
	}
	check_caught(VEC_NP, 0x92 * 8 + 2, "INT through a not-present gate raises #NP(IDT entry)");

	*gate = (old & ~0xffff0000ull) | ((uint64_t)BAD_SELECTOR << 16);
	forget_delivery_pages();
	if (!trap_expect(VEC_GP)) {
		asm volatile("int $0x92" : : : "memory");
		trap_disarm();
	}
	check_caught(VEC_GP, BAD_SELECTOR, "INT through a gate with a bad selector raises #GP(selector)");

	/* a gate whose code segment is not present: the GDT's spare slot, P clear */
	struct idt_desc gdtr;
	asm volatile("sgdt %0" : "=m"(gdtr));
	volatile uint64_t *spare = (volatile uint64_t *)(gdtr.base + NP_CODE_SELECTOR);
	*spare = 0x00cf1a000000ffffull; /* DPL 0 code, readable, 4 GiB, not present */
	*gate = (old & ~0xffff0000ull) | ((uint64_t)NP_CODE_SELECTOR << 16);
	forget_delivery_pages();
	if (!trap_expect(VEC_NP)) {
		asm volatile("int $0x92" : : : "memory");
		trap_disarm();
	}
	check_caught(VEC_NP, NP_CODE_SELECTOR,
		     "INT through a gate to a not-present code segment raises #NP(selector)");
	*spare = 0;
	*gate = old;
}

/* Exits of every kind the guest can make while its interrupt is on the way. */
static void exit_heavy_step(unsigned i)
{
	forget_delivery_pages();
	if (i & 1)
		write_cr3(read_cr3());
	(void)apic_read(APIC_SVR);
	*(volatile uint32_t *)page(2) = i;
	invlpg(page(2));
}

static void test_timer_irqs(void)
{
	unsigned wrong = 0, first_wrong = 0;
	uint32_t got_at_wrong = 0;

	irq_count = 0;
	uint64_t old = idt_gate_set(TIMER_VECTOR, irq_stub);
	apic_timer_init(TIMER_VECTOR);
	sti();
	for (unsigned i = 0; i < IRQ_ROUNDS; i++) {
		apic_timer_arm(1000 + 97 * (i % 16));
		uint64_t start = rdtsc();
		while (irq_count == i && rdtsc() - start < 5000000)
			exit_heavy_step(i);
		/* keep going a while: a second delivery of the same interrupt would show now */
		start = rdtsc();
		while (rdtsc() - start < 20000)
			exit_heavy_step(i);
		if (irq_count != i + 1) {
			if (!wrong++) {
				first_wrong = i;
				got_at_wrong = irq_count;
			}
			irq_count = i + 1;
		}
	}
	cli();
	wrmsr(MSR_TSC_DEADLINE, 0);
	idt_gate_restore(TIMER_VECTOR, old);
	check(wrong == 0,
	      "%u timer interrupts during exits: each handled exactly once (got %u wrong, first "
	      "at %u with count %u)",
	      IRQ_ROUNDS, wrong, first_wrong, got_at_wrong);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;

	if ((uint32_t)area + sizeof(area) > (4u << 20)) {
		fail("the test pages lie above 4 MiB (0x%x)", (uint32_t)area);
		return;
	}
	asm volatile("sidt %0" : "=m"(lib_idt));
	/* 4 KiB pages below 4 MiB (the kernel, its stack and data), 4 MiB pages above */
	pt_init(&pt, PT_MODE_32);
	for (uint32_t a = 0; a < (4u << 20); a += 4096)
		pt_map(&pt, a, a, 1, PTE_P | PTE_W);
	for (uint32_t a = 4u << 20; a < (16u << 20); a += 4u << 20)
		pt_map(&pt, a, a, 2, PTE_P | PTE_W);
	pt_map(&pt, APIC_BASE & ~0x3fffffu, APIC_BASE & ~0x3fffffu, 2, PTE_P | PTE_W | PTE_PCD);
	pt_activate(&pt, 0);

	test_int_pf();
	test_double_faults();
	test_bad_gates();
	if (apic_timer_available())
		test_timer_irqs();
	else
		skip("timer interrupts during exits: no local APIC with a TSC-deadline timer");

	pt_deactivate(&pt);
}
