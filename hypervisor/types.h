/* Basic types shared by the freestanding hypervisor and the hosted unit tests.
 * Only compiler-provided headers: they exist in both worlds. */
#ifndef KEEL_TYPES_H
#define KEEL_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define PAGE_SHIFT 12
#define PAGE_SIZE  4096UL
#define PAGE_MASK  (~(PAGE_SIZE - 1))

#define ALIGN_UP(x, a)	 (((x) + ((a)-1)) & ~((u64)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a)-1))
#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define BIT(n)		 (1ULL << (n))
#define MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define MAX(a, b)	 ((a) > (b) ? (a) : (b))

#define __packed       __attribute__((packed))
#define __aligned(n)   __attribute__((aligned(n)))
#define __noreturn     __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __unused       __attribute__((unused))

#define STATIC_ASSERT(c) _Static_assert(c, #c)

/* Machine memory is identity-mapped in the hypervisor; the host tests use real pointers as
 * "machine addresses", so the same conversion holds in both builds. */
static inline void *phys_to_virt(u64 pa)
{
	return (void *)(uintptr_t)pa;
}

static inline u64 virt_to_phys(const void *p)
{
	return (u64)(uintptr_t)p;
}

#endif
