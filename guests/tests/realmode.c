/* realmode guest: real mode (CR0.PE = 0) entered from 32-bit protected mode and left again,
 * one routine of realmode16.S a trip: CR0/SMSW, FLAGS images, INT n/INT3/INTO/#DE/#DB and
 * IRQ0 through the IVT, LIDT and the IDTR limit, port I/O, far transfers and segment
 * arithmetic, 66/67 prefixes, CLTS, CPUID/MSRs/TSC, LGDT and the way back by MOV CR0 or LMSW.
 * Check names carry no values, so that compare-verdicts can match them across runs. */
#include "testlib.h"
#include "realmode.h"

#define ROUND_TRIPS	 50
#define MSR_APIC_BASE	 0x1b
#define MSR_SYSENTER_CS	 0x174
#define EFLAGS_FIXED1	 (1u << 1)
#define EFLAGS_RESERVED0 ((1u << 3) | (1u << 5) | (1u << 15))
#define EFLAGS_CF	 (1u << 0)
#define EFLAGS_OF	 (1u << 11)
#define EFLAGS_IOPL	 (3u << 12)
#define EFLAGS_RF	 (1u << 16)
#define EFLAGS_VM	 (1u << 17)

extern char rm_blob_start[], rm_blob_end[];
extern char rm_gdtr[];
extern char rm_hv_0x0[], rm_hv_0x1[], rm_hv_0x3[], rm_hv_0x4[], rm_hv_0xd[], rm_hv_0x40[],
    rm_hv_0x140[], rm_irq0[];
extern char rm_t_cr[], rm_t_flags[], rm_t_int[], rm_t_bp[], rm_t_de[], rm_t_lidt[], rm_t_irq[],
    rm_t_io[], rm_t_far[], rm_t_prefix[], rm_t_ts[], rm_t_cpu[], rm_t_step[], rm_t_lgdt[],
    rm_t_trip[];
extern char rm_int_next[], rm_iretd_to[], rm_bp_next1[], rm_bp_next2[], rm_bp_next3[], rm_de_div[],
    rm_lidt_int41[], rm_irq_after_hlt[], rm_far_ret[], rm_step_b[], rm_step_c[], rm_step_d[],
    rm_step_e[], rm_line_outs_end[];
void rm_call(void);
void load_segments(void);

struct rm_record {
	uint32_t vector, ip, cs, flags, inside;
};

static uint32_t ivt_saved[256];

/* An offset in the blob: the IP of a label in real mode (CS = RM_SEG). */
static uint32_t off(const char *label)
{
	return (uint32_t)(label - rm_blob_start);
}

/* Low memory through asm, so that the compiler sees no access near address 0. */
static inline uint32_t peek32(uint32_t addr)
{
	uint32_t v;
	asm volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static uint32_t d32(uint32_t slot)
{
	return peek32(RM_DATA + slot);
}

static uint32_t d16(uint32_t slot)
{
	return d32(slot) & 0xffff;
}

static struct rm_record rec(unsigned n)
{
	const uint32_t at = D_REC + n * D_REC_LEN;
	return (struct rm_record){d16(at), d16(at + 4), d16(at + 8), d16(at + 12), d16(at + 16)};
}

static void ivt_set(uint32_t table, unsigned vector, const char *handler)
{
	poke32(table + 4 * vector, ((uint32_t)RM_SEG << 16) | off(handler));
}

/* One trip: zeroed results, the routine, and back by MOV to CR0 or by LMSW. */
static void rm_run(const char *routine, int lmsw)
{
	for (uint32_t a = 0; a < RM_DATA_LEN; a += 4)
		poke32(RM_DATA + a, 0);
	poke32(RM_DATA + D_TEST, off(routine));
	poke32(RM_DATA + D_LMSW, (uint32_t)lmsw);
	rm_call();
}

/* A check whose line never carries the values it compared unless it failed. */
static void expect(const char *name, uint32_t got, uint32_t want)
{
	if (got == want)
		pass("%s", name);
	else
		fail("%s (got 0x%x, want 0x%x)", name, got, want);
}

static void expect_rec(const char *name, unsigned n, uint32_t vector, uint32_t ip)
{
	const struct rm_record r = rec(n);

	if (d32(D_NREC) > n && r.vector == vector && r.ip == ip && r.cs == RM_SEG)
		pass("%s", name);
	else
		fail("%s (got %u records; record %u: vector 0x%x at %x:%x, want 0x%x at %x:%x)",
		     name, d32(D_NREC), n, r.vector, r.cs, r.ip, vector, RM_SEG, ip);
}

static void setup(void)
{
	const uint32_t len = (uint32_t)(rm_blob_end - rm_blob_start);

	if (len > RM_BLOB_MAX) {
		fail("the real-mode blob (%u bytes) does not fit below RM_DATA", len);
		test_exit();
	}
	memcpy((void *)RM_BASE, rm_blob_start, len);
	for (unsigned v = 0; v < 256; v++)
		ivt_saved[v] = peek32(4 * v);
	ivt_set(0, 0x00, rm_hv_0x0);
	ivt_set(0, 0x01, rm_hv_0x1);
	ivt_set(0, 0x03, rm_hv_0x3);
	ivt_set(0, 0x04, rm_hv_0x4);
	ivt_set(0, 0x0d, rm_hv_0xd);
	ivt_set(0, RM_VEC_INT, rm_hv_0x40);
	ivt_set(0, RM_IRQ_BASE, rm_irq0);
	for (unsigned v = 0; v < 256; v++)
		poke32(RM_IVT2 + 4 * v, 0);
	ivt_set(RM_IVT2, RM_VEC_INT, rm_hv_0x140);
}

static void test_cr(void)
{
	const uint32_t cr0 = read_cr0(), cr4 = read_cr4();

	rm_run(rm_t_cr, 0);
	check(read_cr0() & CR0_PE, "round trip with MOV to CR0: back in PM with CR0.PE set");
	expect("real mode: MOV from CR0 reads PE clear", d32(D_V(0)) & CR0_PE, 0);
	expect("real mode: CR0's other bits as in PM", d32(D_V(0)), cr0 & ~CR0_PE);
	expect("real mode: SMSW reads CR0's low 16 bits with PE clear", d32(D_V(1)), cr0 & 0xfffe);
	expect("real mode: CR4 as in PM", d32(D_V(2)), cr4);
}

static void test_flags(void)
{
	rm_run(rm_t_flags, 0);
	const uint32_t cli_img = d32(D_V(0)), sti_img = d32(D_V(1));

	expect("PUSHFD after CLI: bit 1 set, bits 3/5/15 clear",
	       cli_img & (EFLAGS_FIXED1 | EFLAGS_RESERVED0), EFLAGS_FIXED1);
	expect("PUSHFD after CLI: IF clear", cli_img & EFLAGS_IF, 0);
	expect("PUSHFD after STI: IF set", sti_img & EFLAGS_IF, EFLAGS_IF);
	expect("PUSHFD: VM and RF clear", (cli_img | sti_img) & (EFLAGS_VM | EFLAGS_RF), 0);
	expect("PUSHFD: IOPL 0 as PM left it", cli_img & EFLAGS_IOPL, 0);
	expect("PUSHF (16-bit) after CLI: bit 1 set, IF and bits 3/5/15 clear",
	       d32(D_V(2)) & (EFLAGS_FIXED1 | EFLAGS_RESERVED0 | EFLAGS_IF), EFLAGS_FIXED1);
	expect("POPF sets IOPL 3: PUSHF reads it back", d32(D_V(3)) & EFLAGS_IOPL, EFLAGS_IOPL);
	expect("POPF sets IOPL 0 again: PUSHF reads it back", d32(D_V(4)) & EFLAGS_IOPL, 0);
	expect("POPFD with VM and RF in the image leaves both clear",
	       d32(D_V(5)) & (EFLAGS_VM | EFLAGS_RF), 0);
}

static void test_int(void)
{
	rm_run(rm_t_int, 0);
	const struct rm_record r = rec(0);

	expect("INT 0x40: the IVT handler ran twice", d32(D_NREC), 2);
	expect_rec("INT 0x40: frame CS:IP = the next instruction", 0, RM_VEC_INT, off(rm_int_next));
	expect("INT 0x40: pushed FLAGS have IF set (STI before)", r.flags & EFLAGS_IF, EFLAGS_IF);
	expect("INT 0x40: IF and TF clear inside the handler", r.inside & (EFLAGS_IF | EFLAGS_TF),
	       0);
	expect("INT 0x40: IRET restores IF set", d32(D_V(0)) & EFLAGS_IF, EFLAGS_IF);
	expect("INT 0x40 with IF clear: pushed FLAGS have IF clear", rec(1).flags & EFLAGS_IF, 0);
	expect("INT 0x40 with IF clear: IRET leaves IF clear", d32(D_V(1)) & EFLAGS_IF, 0);
	expect("IRETD: FLAGS from the 32-bit frame", d32(D_V(2)) & 0xfff,
	       EFLAGS_OF | EFLAGS_IF | EFLAGS_FIXED1 | EFLAGS_CF);
	expect("IRETD: CS from the 32-bit frame", d32(D_V(3)) & 0xffff, RM_SEG);
	expect("IRETD: pops 12 bytes", d32(D_V(4)) & 0xffff, RM_STACK - 2);
}

static void test_bp(void)
{
	rm_run(rm_t_bp, 0);
	expect("INT3/INT 3/INTO: three traps (INTO with OF clear does not trap)", d32(D_NREC), 3);
	expect_rec("INT3 (CC): IVT[3], IP = the next instruction", 0, 3, off(rm_bp_next1));
	expect_rec("INT 3 (CD 03): IVT[3], IP = the next instruction", 1, 3, off(rm_bp_next2));
	expect_rec("INTO with OF set: IVT[4], IP = the next instruction", 2, 4, off(rm_bp_next3));
}

static void test_de(void)
{
	rm_run(rm_t_de, 0);
	expect("DIV by zero: one #DE", d32(D_NREC), 1);
	expect_rec("DIV by zero: IVT[0], IP = the DIV (a fault)", 0, 0, off(rm_de_div));
	expect("DIV by zero: the handler skipped it and the routine went on", d32(D_V(0)), 1);
}

/* SIDT's 6 bytes at a result slot: limit and base */
static void expect_idtr(const char *name, uint32_t slot, uint32_t base, uint32_t limit)
{
	const uint32_t got_limit = d16(slot), got_base = (d32(slot) >> 16) | (d32(slot + 4) << 16);

	if (got_limit == limit && got_base == base)
		pass("%s", name);
	else
		fail("%s (got base 0x%x limit 0x%x, want base 0x%x limit 0x%x)", name, got_base,
		     got_limit, base, limit);
}

static void test_lidt(void)
{
	rm_run(rm_t_lidt, 0);
	expect_idtr("LIDT to a second IVT: SIDT reads it back", D_V(0), RM_IVT2, 0x3ff);
	expect("LIDT to a second IVT: INT 0x40 goes through it", rec(0).vector, RM_VEC_MARKED);
	expect_idtr("LIDT back to the IVT at 0: SIDT reads it back", D_V(2), 0, 0x3ff);
	expect("LIDT back to the IVT at 0: INT 0x40 goes through it", rec(1).vector, RM_VEC_INT);
	expect_idtr("LIDT with a limit that ends at vector 0x40: SIDT reads it back", D_V(4), 0,
		    RM_IVT_SMALL);
	expect_rec("IVT limit: INT 0x41 past it raises #GP through IVT[13], IP = the INT", 2, 0xd,
		   off(rm_lidt_int41));
	expect("IVT limit: the #GP handler skipped the INT and the routine went on", d32(D_V(6)),
	       1);
	expect("LIDT/INT/IVT limit: three handler runs", d32(D_NREC), 3);
}

static void test_irq(void)
{
	rm_run(rm_t_irq, 0);
	expect("IRQ0 (8254 via 8259) in real mode: 5 ticks counted by the IVT handler",
	       d32(D_TICKS), RM_TICKS);
	/* natively each tick wakes one HLT; under Keel, ticks that queued up while other VMs
	 * ran arrive right after the handler's IRET, so one HLT can see several */
	check(d32(D_V(0)) >= 1 && d32(D_V(0)) <= RM_TICKS,
	      "IRQ0 in real mode: woke HLT, no more HLTs than ticks");
	expect("IRQ0 in real mode: frame CS:IP = the instruction after HLT",
	       (d16(D_IRQ_CS) << 16) | d16(D_IRQ_IP), (RM_SEG << 16) | off(rm_irq_after_hlt));
	expect("8259 mask written in real mode reads back", d32(D_V(1)) & 0xff, 0xff);
	expect("8259 mask after the test: all masked", inb(0x21), 0xff);
}

static void test_io(void)
{
	rm_run(rm_t_io, 0);
	expect("REP OUTSB to COM1: CX counted down to 0", d16(D_V(0)), 0);
	expect("REP OUTSB to COM1: SI advanced over the string", d16(D_V(1)),
	       off(rm_line_outs_end));
	expect("IN from the UART scratch register after OUT", d32(D_V(2)) & 0xff, 0xa5);
	expect("INSB from the UART scratch register", d32(D_V(3)) & 0xff, 0xa5);
	expect("INSB: DI advanced by one", d16(D_V(4)), RM_DOFF + D_V(3) + 1);
	expect("IN from the 8259 mask register", d32(D_V(5)) & 0xff, 0xff);
}

static void test_far(void)
{
	poke32(RM_ES_SEG * 16 + RM_ES_OFF, 0);
	rm_run(rm_t_far, 0);
	expect("far CALL: runs with the new CS", d32(D_V(0)) & 0xffff, RM_FAR_SEG);
	expect("far CALL: pushed CS:IP = the next instruction",
	       ((d32(D_V(2)) & 0xffff) << 16) | (d32(D_V(1)) & 0xffff),
	       (RM_SEG << 16) | off(rm_far_ret));
	expect("far JMP: runs with the new CS", d32(D_V(3)) & 0xffff, RM_FAR_SEG);
	expect("ES:0x10 with ES = 0x2000 is linear 0x20010", peek32(RM_ES_SEG * 16 + RM_ES_OFF),
	       0xa5);
	expect("FS = 0x2001 reads the same byte at FS:0", d32(D_V(4)) & 0xff, 0xa5);
}

static void test_prefix(void)
{
	rm_run(rm_t_prefix, 0);
	expect("66: 32-bit immediate and ADD", d32(D_V(0)), 0x23456789);
	expect("67: store through a 32-bit address register", d32(D_V(1)), 0xcafef00d);
	expect("67: store through a scaled 32-bit index", d32(D_V(4)), 0x89abcdef);
	expect("66: BSWAP of a 32-bit register", d32(D_V(3)), 0x44332211);
	expect("66: 32-bit shift", d32(D_V(5)), 1);
}

static void test_ts(void)
{
	const uint32_t cr0 = read_cr0();

	rm_run(rm_t_ts, 0);
	expect("MOV to CR0 sets TS in real mode", d32(D_V(0)), (cr0 | CR0_TS) & ~CR0_PE);
	expect("CLTS clears TS in real mode", d32(D_V(1)), cr0 & ~(CR0_PE | CR0_TS));
	expect("CR0.TS clear back in PM", read_cr0() & CR0_TS, 0);
}

static void test_cpu(void)
{
	const struct cpuid_regs id = cpuid(0, 0);
	const uint64_t apic = rdmsr(MSR_APIC_BASE);
	const uint64_t sysenter_cs = rdmsr(MSR_SYSENTER_CS);

	rm_run(rm_t_cpu, 0);
	const uint64_t written = rdmsr(MSR_SYSENTER_CS);
	wrmsr(MSR_SYSENTER_CS, sysenter_cs);
	check(d32(D_V(0)) == id.eax && d32(D_V(1)) == id.ebx && d32(D_V(2)) == id.ecx &&
		  d32(D_V(3)) == id.edx,
	      "CPUID leaf 0 in real mode as in PM");
	expect("RDMSR IA32_APIC_BASE in real mode: low half as in PM", d32(D_V(4)), (uint32_t)apic);
	expect("RDMSR IA32_APIC_BASE in real mode: high half as in PM", d32(D_V(5)),
	       (uint32_t)(apic >> 32));
	const uint64_t t1 = ((uint64_t)d32(D_V(7)) << 32) | d32(D_V(6));
	const uint64_t t2 = ((uint64_t)d32(D_V(9)) << 32) | d32(D_V(8));
	check(t2 > t1 && t1 != 0, "RDTSC in real mode: runs forward");
	expect("WRMSR IA32_SYSENTER_CS in real mode: RDMSR there reads it", d32(D_V(10)), 0x1234);
	expect("WRMSR IA32_SYSENTER_CS in real mode: PM reads it", (uint32_t)written, 0x1234);
	expect("WBINVD in real mode completes", d32(D_V(11)), 1);
	expect("MOV to and from DR0 in real mode", d32(D_V(12)), 0x5a5a1000);
}

static void test_step(void)
{
	rm_run(rm_t_step, 0);
	expect("single-step: 4 #DB until the handler clears TF", d32(D_NREC), 4);
	expect_rec("single-step: 1st #DB after the instruction after POPF", 0, 1, off(rm_step_b));
	expect_rec("single-step: 2nd #DB", 1, 1, off(rm_step_c));
	expect_rec("single-step: 3rd #DB", 2, 1, off(rm_step_d));
	expect_rec("single-step: 4th #DB", 3, 1, off(rm_step_e));
	expect("single-step: pushed FLAGS have TF set", rec(0).flags & EFLAGS_TF, EFLAGS_TF);
	expect("single-step: TF and IF clear inside the #DB handler",
	       rec(0).inside & (EFLAGS_TF | EFLAGS_IF), 0);
	expect("single-step: TF clear after the handler cleared it", d32(D_V(0)) & EFLAGS_TF, 0);
}

static void test_lgdt(void)
{
	uint16_t sel;
	const uint32_t gdt = *(volatile uint32_t *)(rm_gdtr + 2);

	rm_run(rm_t_lgdt, 1);
	asm volatile("mov %%cs, %0" : "=r"(sel));
	expect("round trip with LMSW: back in 32-bit PM, CS = the library's", sel, KERNEL_CS);
	check(read_cr0() & CR0_PE, "round trip with LMSW: CR0.PE set");
	const uint32_t got = (d32(D_V(0)) >> 16) | (d32(D_V(1)) << 16);
	expect("LGDT with a 16-bit operand ignores the base's top byte", got, gdt);
}

static void test_trips(void)
{
	unsigned handled = 0, back = 0;

	for (int i = 0; i < ROUND_TRIPS; i++) {
		rm_run(rm_t_trip, i & 1);
		if (d32(D_NREC) == 1 && rec(0).vector == RM_VEC_INT)
			handled++;
		if (read_cr0() & CR0_PE)
			back++;
	}
	expect("50 round trips (MOV CR0 and LMSW in turn): back in PM each time", back,
	       ROUND_TRIPS);
	expect("50 round trips: INT 0x40 handled on each", handled, ROUND_TRIPS);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;

	setup();
	test_cr();
	test_flags();
	test_int();
	test_bp();
	test_de();
	test_lidt();
	test_irq();
	test_io();
	test_far();
	test_prefix();
	test_ts();
	test_cpu();
	test_step();
	test_lgdt();
	test_trips();
	for (unsigned v = 0; v < 256; v++)
		poke32(4 * v, ivt_saved[v]);
}
