/* exceptions guest: faults and traps raised inside the guest reach the guest's own IDT
 * with the right vector, error code, EIP and CR2: #DE, #DB (single step), #BP, #UD,
 * #GP (bad selector) and #PF (not present, read and write; read-only write). */
#include "testlib.h"

/* no such descriptor: the GDT has six entries */
#define BAD_SELECTOR 0xf8

/* 4 MiB regions (page directory index) the #PF tests leave out or protect */
#define PD_NOT_PRESENT 3 /* 12-16 MiB: inside guest RAM, so a missed fault stays harmless */
#define PD_READ_ONLY   2 /* 8-12 MiB */

#define PF_ERR_P (1u << 0)
#define PF_ERR_W (1u << 1)

static uint32_t page_dir[1024] __attribute__((aligned(4096)));

/* Where the faulting (or, for traps, the next) instruction is; written by the asm itself. */
static volatile uint32_t expected_eip;

static void check_caught(uint32_t vector, const char *what)
{
	check(trap_last.hit && trap_last.vector == vector && trap_last.eip == expected_eip,
	      "%s: vector %u at eip 0x%x (caught %d, vector %u, eip 0x%x)", what, vector,
	      expected_eip, trap_last.hit, trap_last.vector, trap_last.eip);
}

static void test_divide_error(void)
{
	uint32_t lo = 1, hi = 0;

	if (!trap_expect(VEC_DE)) {
		asm volatile("movl $1f, %0\n1:\tdivl %3"
			     : "=m"(expected_eip), "+a"(lo), "+d"(hi)
			     : "c"(0)
			     : "cc");
		trap_disarm();
	}
	check_caught(VEC_DE, "divide by zero raises #DE");
}

static void test_invalid_opcode(void)
{
	if (!trap_expect(VEC_UD)) {
		asm volatile("movl $1f, %0\n1:\tud2" : "=m"(expected_eip));
		trap_disarm();
	}
	check_caught(VEC_UD, "ud2 raises #UD");
}

static void test_breakpoint(void)
{
	if (!trap_expect(VEC_BP)) {
		/* a trap: the saved EIP is the instruction after int3 */
		asm volatile("movl $1f, %0\n\tint3\n1:" : "=m"(expected_eip));
		trap_disarm();
	}
	check_caught(VEC_BP, "int3 raises #BP");
}

static void test_single_step(void)
{
	if (!trap_expect(VEC_DB)) {
		/* POPF sets TF; the trap follows the instruction after it, i.e. the first nop */
		asm volatile("movl $1f, %0\n\t"
			     "pushfl\n\t"
			     "orl $0x100, (%%esp)\n\t"
			     "popfl\n\t"
			     "nop\n"
			     "1:\tnop\n\t"
			     "nop"
			     : "=m"(expected_eip)
			     :
			     : "cc");
		trap_disarm();
	}
	check_caught(VEC_DB, "EFLAGS.TF single step raises #DB");
	check(!(read_eflags() & EFLAGS_TF), "TF is clear after the single step");
}

static void test_bad_selector(void)
{
	if (!trap_expect(VEC_GP)) {
		asm volatile("movl $1f, %0\n1:\tmovw %w1, %%ds"
			     : "=m"(expected_eip)
			     : "r"(BAD_SELECTOR)
			     : "memory");
		trap_disarm();
	}
	check_caught(VEC_GP, "loading a selector past the GDT limit raises #GP");
	check_eq("#GP error code (the selector)", trap_last.error, BAD_SELECTOR);
	uint16_t ds;
	asm volatile("movw %%ds, %0" : "=r"(ds));
	check_eq("DS unchanged after the #GP", ds, KERNEL_DS);
}

/* Touch `addr` (write or read) and check the #PF it must raise. */
static void page_fault_case(uint32_t addr, int write, uint32_t want_error, const char *what)
{
	if (!trap_expect(VEC_PF)) {
		if (write)
			asm volatile("movl $1f, %0\n1:\tmovl $0x5a5a5a5a, (%1)"
				     : "=m"(expected_eip)
				     : "r"(addr)
				     : "memory");
		else
			asm volatile("movl $1f, %0\n1:\tmovl (%1), %%eax"
				     : "=m"(expected_eip)
				     : "r"(addr)
				     : "eax", "memory");
		trap_disarm();
	}
	check_caught(VEC_PF, what);
	check(trap_last.cr2 == addr && trap_last.error == want_error,
	      "%s: CR2 0x%x error 0x%x (got CR2 0x%x error 0x%x)", what, addr, want_error,
	      trap_last.cr2, trap_last.error);
}

/* REP INSB from an empty port across the edge of a not-present page: the bytes before
 * the edge are written, then #PF with CR2 at the edge (Keel emulates string I/O through
 * the guest's page tables). */
static void string_io_page_fault(uint32_t edge)
{
	volatile uint8_t *before = (volatile uint8_t *)(edge - 2);
	uint32_t di = edge - 2, count = 5;
	before[0] = before[1] = 0;
	if (!trap_expect(VEC_PF)) {
		asm volatile("movl $1f, %0\n1:\tcld; rep insb"
			     : "=m"(expected_eip), "+D"(di), "+c"(count)
			     : "d"(0x2e0)
			     : "memory");
		trap_disarm();
	}
	(void)di;
	(void)count;
	check(trap_last.hit && trap_last.vector == VEC_PF,
	      "REP INSB running into a not-present page raises #PF");
	check(trap_last.cr2 == edge && trap_last.error == PF_ERR_W,
	      "REP INSB #PF: CR2 0x%x error 0x%x (got CR2 0x%x error 0x%x)", edge, PF_ERR_W,
	      trap_last.cr2, trap_last.error);
	check(before[0] == 0xff && before[1] == 0xff,
	      "REP INSB wrote the bytes before the missing page (0x%x 0x%x)", before[0], before[1]);
}

static void test_page_faults(void)
{
	const uint32_t missing = (PD_NOT_PRESENT << 22) + 0x1234;
	const uint32_t read_only = (PD_READ_ONLY << 22) + 0x5678;
	const uint32_t cr0 = read_cr0();
	volatile uint32_t *ro = (volatile uint32_t *)read_only;

	/* a value to read back through the read-only mapping (paging is still off) */
	*ro = 0x600dcafe;
	pd_identity_4m(page_dir);
	page_dir[PD_NOT_PRESENT] = 0;
	page_dir[PD_READ_ONLY] &= ~PDE_RW;
	paging_enable(page_dir);
	/* supervisor writes honour read-only pages only with CR0.WP */
	write_cr0(read_cr0() | CR0_WP);

	page_fault_case(missing, 0, 0, "read of a not-present page raises #PF");
	page_fault_case(missing + 4, 1, PF_ERR_W, "write to a not-present page raises #PF");
	page_fault_case(read_only, 1, PF_ERR_P | PF_ERR_W, "write to a read-only page raises #PF");
	/* the faulting write above must not have landed */
	check_eq("read of a read-only page: the value stored before", *ro, 0x600dcafe);
	/* the page before the missing one is the read-only one: with CR0.WP clear, supervisor
	 * writes to it are allowed */
	write_cr0(read_cr0() & ~CR0_WP);
	string_io_page_fault(PD_NOT_PRESENT << 22);

	paging_disable();
	write_cr0(cr0);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;

	test_divide_error();
	test_single_step();
	test_breakpoint();
	test_invalid_opcode();
	test_bad_selector();
	test_page_faults();
}
