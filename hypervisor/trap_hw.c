/* GDT with one TSS, the IDT over isr.S's stubs, exception register dumps and panics. */
#include "trap.h"
#include "assert.h"
#include "console.h"
#include "cpu_hw.h"
#include "lib.h"
#include "uart_hw.h"

struct __packed tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
};

struct __packed idt_entry {
	u16 off_lo;
	u16 sel;
	u8 ist;
	u8 type;
	u16 off_mid;
	u32 off_hi;
	u32 zero;
};

static u64 gdt[5] __aligned(16);
static struct tss64 tss __aligned(16);
static struct idt_entry idt[256] __aligned(16);
static u8 ist_stacks[2][8192] __aligned(16);
static irq_handler_fn irq_handlers[256];
static void (*panic_hook)(void);
static bool panic_shutdown;
static bool in_panic;

extern char isr_table[];

static const char *const exc_names[32] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved 15",
    "#MF x87 error",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD error",
    "#VE virtualization",
    "#CP control protection",
};

void trap_init(void)
{
	u64 tss_base = (u64)(uintptr_t)&tss;
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffULL; /* 64-bit code */
	gdt[2] = 0x00cf92000000ffffULL; /* data */
	/* 64-bit available TSS descriptor: two slots */
	gdt[3] = (sizeof(tss) - 1) | ((tss_base & 0xffffff) << 16) | (0x89ULL << 40) |
		 (((tss_base >> 24) & 0xff) << 56);
	gdt[4] = tss_base >> 32;
	tss.iomap_base = sizeof(tss);
	/* #DF, NMI and #MC get their own stacks: they may arrive on a broken one */
	tss.ist[0] = (u64)(uintptr_t)(ist_stacks[0] + sizeof(ist_stacks[0]));
	tss.ist[1] = (u64)(uintptr_t)(ist_stacks[1] + sizeof(ist_stacks[1]));

	struct desc_ptr gp = {sizeof(gdt) - 1, (u64)(uintptr_t)gdt};
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ds\n\t"
			 "movw %w2, %%es\n\t"
			 "movw %w2, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(gp), "i"(GDT_CODE), "r"(GDT_DATA), "r"(GDT_TSS)
			 : "rax", "memory");

	for (int v = 0; v < 256; v++) {
		u64 off = (u64)(uintptr_t)(isr_table + v * 16);
		idt[v].off_lo = off & 0xffff;
		idt[v].sel = GDT_CODE;
		idt[v].ist = v == 8 ? 1 : (v == 2 || v == 18) ? 2 : 0;
		idt[v].type = 0x8e; /* present, interrupt gate */
		idt[v].off_mid = (off >> 16) & 0xffff;
		idt[v].off_hi = (u32)(off >> 32);
		idt[v].zero = 0;
	}
	struct desc_ptr ip = {sizeof(idt) - 1, (u64)(uintptr_t)idt};
	__asm__ volatile("lidt %0" ::"m"(ip));
}

void irq_set_handler(u8 vector, irq_handler_fn fn)
{
	irq_handlers[vector] = fn;
}

void irq_dispatch(u8 vector)
{
	if (irq_handlers[vector])
		irq_handlers[vector](vector);
}

void panic_set_hook(void (*hook)(void))
{
	panic_hook = hook;
}

void panic_set_shutdown(bool shutdown)
{
	panic_shutdown = shutdown;
}

static void dump_cpu(const struct trap_frame *f)
{
	kprintf("  rip %016llx cs %04llx rflags %016llx\n", (unsigned long long)f->rip,
		(unsigned long long)f->cs, (unsigned long long)f->rflags);
	kprintf("  rsp %016llx ss %04llx error %llx\n", (unsigned long long)f->rsp,
		(unsigned long long)f->ss, (unsigned long long)f->error);
	kprintf("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n", (unsigned long long)f->rax,
		(unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	kprintf("  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n", (unsigned long long)f->rsi,
		(unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
	kprintf("  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n", (unsigned long long)f->r9,
		(unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
	kprintf("  r13 %016llx r14 %016llx r15 %016llx\n", (unsigned long long)f->r13,
		(unsigned long long)f->r14, (unsigned long long)f->r15);
	kprintf("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx\n",
		(unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
		(unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

static __noreturn void panic_finish(void)
{
	if (panic_hook && !in_panic) {
		in_panic = true;
		panic_hook();
	}
	kprintf("keel: system halted\n");
	if (panic_shutdown)
		platform_shutdown();
	cpu_halt_forever();
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector >= 32) {
		if (irq_handlers[f->vector])
			irq_handlers[f->vector]((u8)f->vector);
		return;
	}
	const char *name = exc_names[f->vector] ? exc_names[f->vector] : "reserved";
	kprintf("keel: PANIC: CPU exception %llu (%s) in the hypervisor\n",
		(unsigned long long)f->vector, name);
	dump_cpu(f);
	panic_finish();
}

void panic(const char *fmt, ...)
{
	va_list ap;
	irq_disable();
	kprintf("keel: PANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	panic_finish();
}

/* KASSERT's failure (assert.h): a broken hypervisor invariant panics, in any layer. */
__noreturn void assert_failed(const char *file, int line, const char *expr)
{
	panic("assertion failed: %s (%s:%d)", expr, file, line);
}

void platform_shutdown(void)
{
	/* Bochs: the string "Shutdown" to port 0x8900; QEMU: isa-debug-exit at 0xf4 */
	const char *s = "Shutdown";
	irq_disable();
	uart_hw_drain();
	while (*s)
		outb(0x8900, (u8)*s++);
	outb(0xf4, 0);
	cpu_halt_forever();
}

bool rdmsr_safe(u32 msr, u64 *v)
{
	/* Only architecturally-probed MSRs are read through this, so it simply reads; kept as
	 * one place to add #GP recovery when probing optional MSRs becomes necessary. */
	*v = rdmsr(msr);
	return true;
}

void irq_wait_hw(void)
{
	irq_wait();
}

void cpu_halt_forever_hw(void)
{
	cpu_halt_forever();
}
