/* IA-32e mode for the 32-bit test guests: entered with paging on while CS stays a 32-bit
 * segment, so the library and the tests go on running as 32-bit code in compatibility
 * mode; the 64-bit IDT whose stubs (ia32e_entry.S) hand every vector to trap_dispatch(); leaving
 * it again. The 64-bit linear accesses themselves are in ia32e_entry.S. */
#include "testlib.h"
#include "pt.h"

struct idt64_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

/* LIDT/SIDT outside 64-bit mode: a 16-bit limit and a 32-bit base */
struct idt_ptr {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

/* present, 64-bit interrupt gate; DPL 3 for the vector ring-3 code returns through */
#define IDT64_GATE	0x8e
#define IDT64_USER_GATE 0xee

extern const uint32_t isr64_stubs[256];

static struct idt64_gate idt64[256] __attribute__((aligned(16)));
static struct idt_ptr idt64_ptr, idt32_ptr;

static void idt64_build(void)
{
	for (int v = 0; v < 256; v++)
		idt64[v] = (struct idt64_gate){
		    (uint16_t)isr64_stubs[v],
		    KERNEL_CS64,
		    0,
		    v == USER_RETURN_VECTOR ? IDT64_USER_GATE : IDT64_GATE,
		    (uint16_t)(isr64_stubs[v] >> 16),
		    0,
		    0,
		};
	idt64_ptr = (struct idt_ptr){sizeof(idt64) - 1, (uint32_t)idt64};
}

void ia32e_enter(uint32_t cr3, uint32_t efer_bits)
{
	if (!idt64_ptr.base)
		idt64_build();
	asm volatile("sidt %0" : "=m"(idt32_ptr));
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3(cr3);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_LME | efer_bits);
	/* CR0.PG with EFER.LME sets LMA: from here on exceptions need the 64-bit IDT. Interrupts
	 * are off and nothing in between can fault. */
	write_cr0(read_cr0() | CR0_PG);
	asm volatile("lidt %0" : : "m"(idt64_ptr));
	user_tss_format(1);
}

/* Clearing CR0.PG in compatibility mode leaves IA-32e mode (LMA); then LME may change. */
void ia32e_leave(void)
{
	write_cr0(read_cr0() & ~CR0_PG);
	asm volatile("lidt %0" : : "m"(idt32_ptr));
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)EFER_LME);
	user_tss_format(0);
}
