/* Guest page tables written by hand in a test's fake guest memory: the entry bits, the
 * control-register values of each paging mode, and q()/d() to reach a 64- or 32-bit entry
 * at a guest-physical address. The including test defines `gmem`, its guest RAM, first. */
#ifndef KEEL_TEST_GUEST_PT_FAKE_H
#define KEEL_TEST_GUEST_PT_FAKE_H

#include "../../hypervisor/types.h"

#define P    0x1ULL
#define RW   0x2ULL
#define US   0x4ULL
#define A    0x20ULL
#define DI   0x40ULL
#define PS   0x80ULL
#define G    0x100ULL
#define NX   (1ULL << 63)
#define ADDR 0x000ffffffffff000ULL

#define CR0_PG_WP ((1ULL << 31) | (1ULL << 16) | 1)
#define CR4_PSE	  (1ULL << 4)
#define CR4_PAE	  (1ULL << 5)
#define CR4_SMEP  (1ULL << 20)
#define CR4_SMAP  (1ULL << 21)
#define EFER_NXE  (1ULL << 11)
#define EFER_LONG ((1ULL << 8) | (1ULL << 10) | EFER_NXE)

static inline u64 *q(u64 gpa)
{
	return (u64 *)(gmem + gpa);
}

static inline u32 *d(u64 gpa)
{
	return (u32 *)(gmem + gpa);
}

#endif
