/* The local APIC's TSC-deadline timer as an interrupt source that works natively and under
 * Keel alike (xAPIC MMIO at its default base, paging off or identity-mapped), and IDT gates
 * pointed at a test's own assembly stubs. Header-only: used by intshadow.c and redeliver.c. */
#ifndef TG_APIC_H
#define TG_APIC_H

#include "testlib.h"

#define APIC_BASE	   0xfee00000u
#define APIC_TPR	   0x080
#define APIC_EOI	   0x0b0
#define APIC_SVR	   0x0f0
#define APIC_LVT_TIMER	   0x320
#define APIC_TIMER_TSC_DL  (2u << 17)
#define MSR_TSC_DEADLINE   0x6e0
#define CPUID1_ECX_TSC_DL  (1u << 24)
#define CPUID1_EDX_APIC	   (1u << 9)

static inline uint32_t apic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(APIC_BASE + reg);
}

static inline void apic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(APIC_BASE + reg) = v;
}

/* Whether the CPU offers what apic_timer_init() needs. */
static inline int apic_timer_available(void)
{
	struct cpuid_regs r = cpuid(1, 0);
	return (r.edx & CPUID1_EDX_APIC) && (r.ecx & CPUID1_ECX_TSC_DL);
}

/* Software-enabled APIC, TPR 0, the timer in TSC-deadline mode on `vector`, disarmed. */
static inline void apic_timer_init(uint8_t vector)
{
	apic_write(APIC_SVR, 0x1ff);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_TIMER, APIC_TIMER_TSC_DL | vector);
	wrmsr(MSR_TSC_DEADLINE, 0);
}

/* Fires `ticks` TSC ticks from now (natively in Bochs perhaps sooner: its deadline counts
 * ticks since power-on, the TSC since the last reset). */
static inline void apic_timer_arm(uint64_t ticks)
{
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + ticks);
}

struct idt_desc {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

/* Points IDT entry `vector` at `stub` (a 32-bit interrupt gate); returns the old entry. */
static inline uint64_t idt_gate_set(uint8_t vector, void (*stub)(void))
{
	struct idt_desc d;
	asm volatile("sidt %0" : "=m"(d));
	volatile uint64_t *e = (volatile uint64_t *)(d.base + 8u * vector);
	uint64_t old = *e;
	uint32_t a = (uint32_t)stub;
	*e = ((uint64_t)((a & 0xffff0000u) | 0x8e00u) << 32) | ((uint32_t)KERNEL_CS << 16) |
	     (a & 0xffffu);
	return old;
}

static inline void idt_gate_restore(uint8_t vector, uint64_t old)
{
	struct idt_desc d;
	asm volatile("sidt %0" : "=m"(d));
	*(volatile uint64_t *)(d.base + 8u * vector) = old;
}

#endif
