/* Thin wrappers over privileged x86 instructions for the hypervisor's hardware files.
 * Only vmx/ and *_hw.c files include this (the pure/hardware seam). */
#ifndef KEEL_CPU_HW_H
#define KEEL_CPU_HW_H

#include "types.h"

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

/* Reads an MSR that may not exist: returns false instead of taking #GP. */
bool rdmsr_safe(u32 msr, u64 *v);

static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define DEFINE_CR(n)                                                                               \
	static inline u64 read_cr##n(void)                                                         \
	{                                                                                          \
		u64 v;                                                                             \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                  \
		return v;                                                                          \
	}                                                                                          \
	static inline void write_cr##n(u64 v)                                                      \
	{                                                                                          \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");                           \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline u64 read_rflags(void)
{
	u64 v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/* sti takes effect after the next instruction, so an interrupt pending now wakes the hlt. */
static inline void irq_wait(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause");
}

static inline __noreturn void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static inline void xsetbv(u32 idx, u64 v)
{
	__asm__ volatile("xsetbv" ::"c"(idx), "a"((u32)v), "d"((u32)(v >> 32)));
}

static inline u64 xgetbv(u32 idx)
{
	u32 lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
	return ((u64)hi << 32) | lo;
}

struct __packed desc_ptr {
	u16 limit;
	u64 base;
};

static inline void sgdt(struct desc_ptr *p)
{
	__asm__ volatile("sgdt %0" : "=m"(*p));
}

static inline void sidt(struct desc_ptr *p)
{
	__asm__ volatile("sidt %0" : "=m"(*p));
}

static inline u16 str(void)
{
	u16 v;
	__asm__ volatile("str %0" : "=r"(v));
	return v;
}

/* Architectural MSR numbers used in more than one place. */
#define MSR_IA32_FEATURE_CONTROL  0x3a
#define MSR_IA32_APIC_BASE	  0x1b
#define MSR_IA32_SYSENTER_CS	  0x174
#define MSR_IA32_SYSENTER_ESP	  0x175
#define MSR_IA32_SYSENTER_EIP	  0x176
#define MSR_IA32_PAT		  0x277
#define MSR_IA32_VMX_BASIC	  0x480
#define MSR_IA32_VMX_PINBASED	  0x481
#define MSR_IA32_VMX_PROCBASED	  0x482
#define MSR_IA32_VMX_EXIT	  0x483
#define MSR_IA32_VMX_ENTRY	  0x484
#define MSR_IA32_VMX_MISC	  0x485
#define MSR_IA32_VMX_CR0_FIXED0	  0x486
#define MSR_IA32_VMX_CR0_FIXED1	  0x487
#define MSR_IA32_VMX_CR4_FIXED0	  0x488
#define MSR_IA32_VMX_CR4_FIXED1	  0x489
#define MSR_IA32_VMX_PROCBASED2	  0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PIN	  0x48d
#define MSR_IA32_VMX_TRUE_PROC	  0x48e
#define MSR_IA32_VMX_TRUE_EXIT	  0x48f
#define MSR_IA32_VMX_TRUE_ENTRY	  0x490
#define MSR_IA32_EFER		  0xc0000080
#define MSR_STAR		  0xc0000081
#define MSR_LSTAR		  0xc0000082
#define MSR_CSTAR		  0xc0000083
#define MSR_SFMASK		  0xc0000084
#define MSR_FS_BASE		  0xc0000100
#define MSR_GS_BASE		  0xc0000101
#define MSR_KERNEL_GS_BASE	  0xc0000102
#define MSR_TSC_AUX		  0xc0000103

#endif
