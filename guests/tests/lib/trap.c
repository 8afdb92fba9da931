/* The guest's own GDT and IDT, and what happens on every vector: expected exceptions are
 * recorded and the test resumes at its trap_expect(); registered interrupt handlers run;
 * anything else is a FAIL that ends the test. */
#include "testlib.h"

struct gdt_entry {
	uint16_t limit_lo;
	uint16_t base_lo;
	uint8_t base_mid;
	uint8_t access;
	uint8_t limit_hi_flags;
	uint8_t base_hi;
} __attribute__((packed));

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;
	uint16_t offset_hi;
} __attribute__((packed));

struct table_ptr {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

/* Flat 4 GiB segments (4 KiB granularity, 32-bit) for rings 0 and 3, a slot for the TSS
 * that user.c fills in when a test first drops to ring 3 (with a null entry after it, the
 * upper half of a TSS descriptor in IA-32e mode), and 64-bit code for ia32e_entry.S. */
static struct gdt_entry gdt[] __attribute__((aligned(8))) = {
    [0] = {0, 0, 0, 0, 0, 0},
    [KERNEL_CS >> 3] = {0xffff, 0, 0, 0x9a, 0xcf, 0}, /* present, DPL 0, code, readable */
    [KERNEL_DS >> 3] = {0xffff, 0, 0, 0x92, 0xcf, 0}, /* present, DPL 0, data, writable */
    [USER_CS >> 3] = {0xffff, 0, 0, 0xfa, 0xcf, 0},   /* present, DPL 3, code, readable */
    [USER_DS >> 3] = {0xffff, 0, 0, 0xf2, 0xcf, 0},   /* present, DPL 3, data, writable */
    [TSS_SEL >> 3] = {0, 0, 0, 0, 0, 0},
    [(TSS_SEL >> 3) + 1] = {0, 0, 0, 0, 0, 0},
    [KERNEL_CS64 >> 3] = {0xffff, 0, 0, 0x9a, 0xaf, 0}, /* present, DPL 0, code, L=1 */
};

static struct idt_gate idt[256] __attribute__((aligned(8)));

/* present, 32-bit interrupt gate (IF is cleared on entry); DPL 0, or 3 for INT n from ring 3 */
#define IDT_INTERRUPT_GATE	0x8e
#define IDT_USER_INTERRUPT_GATE 0xee

extern const uint32_t isr_stubs[256];
extern void trap_resume(void);
void load_segments(void);
void trap_dispatch(struct trap_frame *f);

struct trap_record trap_last;
struct tg_jmp_buf trap_jmp;

/* -1: no fault expected; otherwise the vector the running test expects */
static volatile int trap_armed_vector = -1;
static volatile int trap_armed;

static void (*irq_handlers[256])(uint8_t vector);

void cpu_tables_init(void)
{
	struct table_ptr gdtr = {sizeof(gdt) - 1, (uint32_t)gdt};
	struct table_ptr idtr = {sizeof(idt) - 1, (uint32_t)idt};

	for (int v = 0; v < 256; v++) {
		idt[v].offset_lo = (uint16_t)isr_stubs[v];
		idt[v].selector = KERNEL_CS;
		idt[v].zero = 0;
		idt[v].type_attr = IDT_INTERRUPT_GATE;
		idt[v].offset_hi = (uint16_t)(isr_stubs[v] >> 16);
	}
	asm volatile("lgdt %0" : : "m"(gdtr));
	load_segments();
	asm volatile("lidt %0" : : "m"(idtr));
}

/* An available 32-bit TSS, byte granular. */
void gdt_set_tss(uint32_t base, uint32_t limit)
{
	gdt[TSS_SEL >> 3] = (struct gdt_entry){
	    (uint16_t)limit,
	    (uint16_t)base,
	    (uint8_t)(base >> 16),
	    0x89,
	    (uint8_t)((limit >> 16) & 0xf),
	    (uint8_t)(base >> 24),
	};
}

void idt_allow_from_user(uint8_t vector)
{
	idt[vector].type_attr = IDT_USER_INTERRUPT_GATE;
}

void irq_set_handler(uint8_t vector, void (*fn)(uint8_t vector))
{
	irq_handlers[vector] = fn;
}

void trap_arm(int vector)
{
	trap_last = (struct trap_record){0, 0, 0, 0, 0};
	trap_armed_vector = vector;
	trap_armed = 1;
}

void trap_disarm(void)
{
	trap_armed = 0;
}

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", NULL,  "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static const char *vector_name(uint32_t v)
{
	if (v < 32 && exception_names[v])
		return exception_names[v];
	return "vector";
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector >= 32 && irq_handlers[f->vector]) {
		irq_handlers[f->vector]((uint8_t)f->vector);
		return;
	}

	if (f->vector < 32 && (f->cs & 3))
		user_fault(f);

	if (f->vector < 32 && trap_armed) {
		trap_armed = 0;
		trap_last.hit = 1;
		trap_last.vector = f->vector;
		trap_last.error = f->error;
		trap_last.cr2 = read_cr2();
		trap_last.eip = f->eip;
		if ((int)f->vector != trap_armed_vector)
			fail("expected %s, got %s (%u) error 0x%x at eip 0x%x",
			     vector_name(trap_armed_vector), vector_name(f->vector), f->vector,
			     f->error, f->eip);
		/* Resume in trap_resume with TF off, or the single step would trap again there. */
		f->eip = (uint32_t)trap_resume;
		f->eflags &= ~EFLAGS_TF;
		return;
	}

	fail("unexpected %s (%u) error 0x%x at eip 0x%x, cr2 0x%x", vector_name(f->vector),
	     f->vector, f->error, f->eip, read_cr2());
	test_exit();
}

int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	volatile uint64_t v = 0;

	if (trap_expect(VEC_GP))
		return (int)trap_last.vector;
	v = rdmsr(msr);
	trap_disarm();
	*val = v;
	return NO_FAULT;
}

int wrmsr_safe(uint32_t msr, uint64_t val)
{
	if (trap_expect(VEC_GP))
		return (int)trap_last.vector;
	wrmsr(msr, val);
	trap_disarm();
	return NO_FAULT;
}

int write_cr4_safe(uint32_t val)
{
	if (trap_expect(VEC_GP))
		return (int)trap_last.vector;
	write_cr4(val);
	trap_disarm();
	return NO_FAULT;
}
