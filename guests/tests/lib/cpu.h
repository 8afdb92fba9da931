/* Single x86 instructions as inline functions for the 32-bit test guests: port I/O,
 * CPUID, MSRs, the TSC, control registers, EFLAGS and VMCALL. No policy lives here. */
#ifndef TG_CPU_H
#define TG_CPU_H

#include <stdint.h>

#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_PG (1u << 31)

#define CR4_TSD	   (1u << 2)
#define CR4_PSE	   (1u << 4)
#define CR4_PAE	   (1u << 5)
#define CR4_PGE	   (1u << 7)
#define CR4_OSFXSR (1u << 9)
#define CR4_VMXE   (1u << 13)
#define CR4_SMEP   (1u << 20)
#define CR4_SMAP   (1u << 21)

#define EFLAGS_TF (1u << 8)
#define EFLAGS_IF (1u << 9)
#define EFLAGS_AC (1u << 18)

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Absolute-address accesses the compiler cannot reason about (or warn about, near 0). */
static inline uint8_t peek8(uint32_t addr)
{
	uint8_t v;
	asm volatile("movb (%1), %0" : "=q"(v) : "r"(addr) : "memory");
	return v;
}

static inline void poke32(uint32_t addr, uint32_t v)
{
	asm volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	asm volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint64_t v;
	asm volatile("rdmsr" : "=A"(v) : "c"(msr) : "memory");
	return v;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "A"(v) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint64_t v;
	asm volatile("rdtsc" : "=A"(v));
	return v;
}

static inline uint32_t read_cr0(void)
{
	uint32_t v;
	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline void write_cr0(uint32_t v)
{
	asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline uint32_t read_cr2(void)
{
	uint32_t v;
	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint32_t read_cr3(void)
{
	uint32_t v;
	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint32_t v)
{
	asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint32_t read_cr4(void)
{
	uint32_t v;
	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(uint32_t v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline uint32_t read_eflags(void)
{
	uint32_t v;
	asm volatile("pushfl; popl %0" : "=r"(v));
	return v;
}

static inline void cli(void)
{
	asm volatile("cli" : : : "memory");
}

static inline void sti(void)
{
	asm volatile("sti" : : : "memory");
}

/* STI's one-instruction interrupt shadow makes the pair atomic: no wakeup is lost. */
static inline void sti_hlt(void)
{
	asm volatile("sti; hlt" : : : "memory");
}

static inline void cpu_relax(void)
{
	asm volatile("pause" : : : "memory");
}

/*
 * Keel's hypercall: number in EAX, arguments in EBX/ECX/EDX, result in EAX. The ABI does
 * not promise EBX/ECX/EDX survive, so they are treated as clobbered.
 */
static inline int32_t vmcall(uint32_t nr, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t ret;
	asm volatile("vmcall" : "=a"(ret), "+b"(a), "+c"(b), "+d"(c) : "a"(nr) : "memory");
	return (int32_t)ret;
}

#endif
