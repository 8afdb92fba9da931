/* singlestep guest: a single-stepping guest (EFLAGS.TF) gets its #DB after each instruction,
 * with DR6.BS set and EIP at the next instruction, also after an instruction that Keel
 * carries out for it: an MMIO read and write of the local APIC (emulated), port I/O and
 * CPUID (exits). Runs natively too (scripts/native-guests) and is compared with it. */
#include "testlib.h"

#define LAPIC_VERSION 0xfee00030u /* read-only: the read has no effect */
#define LAPIC_TPR     0xfee00080u /* 0 is what it holds at reset */
#define DR6_BS	      (1u << 14)

/* Where the trap should land: the instruction after the stepped one; set by the asm. */
static volatile uint32_t expected_eip;

static uint32_t read_dr6(void)
{
	uint32_t v;
	asm volatile("movl %%dr6, %0" : "=r"(v));
	return v;
}

static void clear_dr6(void)
{
	asm volatile("movl %0, %%dr6" ::"r"(0u));
}

/* POPF sets TF; the first instruction after it runs, then the #DB arrives at label 1. */
#define STEP_PRE  "movl $1f, %0\n\tpushfl\n\torl $0x100, (%%esp)\n\tpopfl\n\t"
#define STEP_POST "\n1:\tnop\n\tnop"

static void check_step(const char *what)
{
	uint32_t dr6 = read_dr6();
	check(trap_last.hit && trap_last.vector == VEC_DB && trap_last.eip == expected_eip &&
		  (dr6 & DR6_BS),
	      /* short: Keel's console keeps 159 characters of a guest's line */
	      "step over %s: #DB after it, DR6.BS (got hit %d vec %u eip %x want %x dr6 %x)",
	      what, trap_last.hit, trap_last.vector, trap_last.eip, expected_eip, dr6);
	check(!(read_eflags() & EFLAGS_TF), "TF clear after stepping over %s", what);
}

static void step_nop(void)
{
	clear_dr6();
	if (!trap_expect(VEC_DB)) {
		asm volatile(STEP_PRE "nop" STEP_POST : "=m"(expected_eip) : : "cc");
		trap_disarm();
	}
	check_step("NOP");
}

static void step_mmio_read(void)
{
	uint32_t val = 0;
	clear_dr6();
	if (!trap_expect(VEC_DB)) {
		asm volatile(STEP_PRE "movl %c2, %1" STEP_POST
			     : "=m"(expected_eip), "=&r"(val)
			     : "i"(LAPIC_VERSION)
			     : "cc", "memory");
		trap_disarm();
	}
	check_step("MMIO read (LAPIC version)");
}

static void step_mmio_write(void)
{
	clear_dr6();
	if (!trap_expect(VEC_DB)) {
		asm volatile(STEP_PRE "movl %1, %c2" STEP_POST
			     : "=m"(expected_eip)
			     : "r"(0u), "i"(LAPIC_TPR)
			     : "cc", "memory");
		trap_disarm();
	}
	check_step("MMIO write (LAPIC TPR)");
}

static void step_port_in(void)
{
	volatile uint32_t val = 0;
	clear_dr6();
	if (!trap_expect(VEC_DB)) {
		/* port 0x61: the PIT's gate and speaker bits, harmless to read */
		asm volatile(STEP_PRE "inb $0x61, %%al" STEP_POST : "=m"(expected_eip), "=&a"(val) : : "cc");
		trap_disarm();
	}
	check_step("IN from port 0x61");
}

static void step_cpuid(void)
{
	uint32_t a = 0, b, c = 0, d;
	clear_dr6();
	if (!trap_expect(VEC_DB)) {
		asm volatile(STEP_PRE "cpuid" STEP_POST
			     : "=m"(expected_eip), "+a"(a), "=b"(b), "+c"(c), "=d"(d)
			     :
			     : "cc");
		trap_disarm();
	}
	check_step("CPUID");
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;

	step_nop();
	step_mmio_read();
	step_mmio_write();
	step_port_in();
	step_cpuid();
}
