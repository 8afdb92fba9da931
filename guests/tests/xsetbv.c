/* xsetbv guest: XSETBV refuses every invalid XCR0 value with #GP(0) and leaves XCR0 as it
 * was (bit 0 clear, AVX without SSE, AVX-512 without all its parts, reserved bits, ECX != 0,
 * CPL 3), XSETBV/XGETBV raise #UD without CR4.OSXSAVE, and valid values take effect
 * (XGETBV reads them back, AVX instructions work or raise #UD). Compared with native. */
#include "testlib.h"

#define CR4_OSXSAVE	  (1u << 18)
#define CPUID1_ECX_XSAVE   (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)

#define XCR0_X87    0x1ull
#define XCR0_SSE    0x2ull
#define XCR0_AVX    0x4ull
#define XCR0_AVX512 0xe0ull /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_OPMASK 0x20ull

static uint64_t supported;

static inline uint64_t xgetbv(uint32_t idx)
{
	uint32_t lo, hi;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
	return ((uint64_t)hi << 32) | lo;
}

/* XSETBV expecting `vector` (or none): returns NO_FAULT or the vector that arrived. */
static int try_xsetbv(int vector, uint32_t idx, uint64_t val)
{
	if (trap_expect(vector))
		return (int)trap_last.vector;
	asm volatile("xsetbv" : : "c"(idx), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
	trap_disarm();
	return NO_FAULT;
}

static int try_xgetbv(int vector, uint32_t idx, volatile uint64_t *out)
{
	if (trap_expect(vector))
		return (int)trap_last.vector;
	*out = xgetbv(idx);
	trap_disarm();
	return NO_FAULT;
}

/* An AVX instruction: works with XCR0.AVX (and CR4.OSXSAVE), #UD otherwise. */
static int try_avx(void)
{
	if (trap_expect(VEC_UD))
		return (int)trap_last.vector;
	asm volatile("vpxor %%ymm1, %%ymm1, %%ymm1" : : : "memory");
	trap_disarm();
	return NO_FAULT;
}

static void refused(const char *what, uint32_t idx, uint64_t val)
{
	const uint64_t before = xgetbv(0);
	int v = try_xsetbv(VEC_GP, idx, val);
	uint64_t after = xgetbv(0);

	check(v == VEC_GP && trap_last.error == 0 && after == before,
	      "XSETBV %s raises #GP(0), XCR0 stays 0x%llx (got vector %d error 0x%x, XCR0 0x%llx)",
	      what, before, v, trap_last.error, after);
}

static void accepted(const char *what, uint64_t val)
{
	int v = try_xsetbv(VEC_GP, 0, val);
	uint64_t after = xgetbv(0);

	check(v == NO_FAULT && after == val, "XSETBV %s (0x%llx) takes effect (got vector %d, XCR0 0x%llx)",
	      what, val, v, after);
}

/* Long enough for a hypervisor to run other VMs (several time slices): natively a pause. */
static void let_others_run(void)
{
	tsc_wait(3000000);
}

/* The upper halves of YMM0-7 (what 32-bit code reaches): zero until this VM writes them. */
static int ymm_upper_zero(void)
{
	uint32_t hi[8][4] __attribute__((aligned(16)));

	asm volatile("vextractf128 $1, %%ymm0, 0(%0)\n\t"
		     "vextractf128 $1, %%ymm1, 16(%0)\n\t"
		     "vextractf128 $1, %%ymm2, 32(%0)\n\t"
		     "vextractf128 $1, %%ymm3, 48(%0)\n\t"
		     "vextractf128 $1, %%ymm4, 64(%0)\n\t"
		     "vextractf128 $1, %%ymm5, 80(%0)\n\t"
		     "vextractf128 $1, %%ymm6, 96(%0)\n\t"
		     "vextractf128 $1, %%ymm7, 112(%0)"
		     :
		     : "r"(hi)
		     : "memory");
	for (unsigned i = 0; i < 8; i++)
		for (unsigned j = 0; j < 4; j++)
			if (hi[i][j])
				return 0;
	return 1;
}

/* k0-7 and the upper 256 bits of ZMM0-7: zero until this VM writes them. */
static int avx512_state_zero(void)
{
	uint32_t k[8][2], z[8][8] __attribute__((aligned(32)));

	asm volatile("kmovq %%k0, 0(%0)\n\tkmovq %%k1, 8(%0)\n\t"
		     "kmovq %%k2, 16(%0)\n\tkmovq %%k3, 24(%0)\n\t"
		     "kmovq %%k4, 32(%0)\n\tkmovq %%k5, 40(%0)\n\t"
		     "kmovq %%k6, 48(%0)\n\tkmovq %%k7, 56(%0)"
		     :
		     : "r"(k)
		     : "memory");
	asm volatile("vextracti64x4 $1, %%zmm0, 0(%0)\n\t"
		     "vextracti64x4 $1, %%zmm1, 32(%0)\n\t"
		     "vextracti64x4 $1, %%zmm2, 64(%0)\n\t"
		     "vextracti64x4 $1, %%zmm3, 96(%0)\n\t"
		     "vextracti64x4 $1, %%zmm4, 128(%0)\n\t"
		     "vextracti64x4 $1, %%zmm5, 160(%0)\n\t"
		     "vextracti64x4 $1, %%zmm6, 192(%0)\n\t"
		     "vextracti64x4 $1, %%zmm7, 224(%0)"
		     :
		     : "r"(z)
		     : "memory");
	for (unsigned i = 0; i < 8; i++) {
		if (k[i][0] || k[i][1])
			return 0;
		for (unsigned j = 0; j < 8; j++)
			if (z[i][j])
				return 0;
	}
	return 1;
}

static volatile uint32_t user_xcr0_lo;
static volatile uint64_t user_read;

static void user_xsetbv(void)
{
	asm volatile("xsetbv" : : "c"(0), "a"(user_xcr0_lo), "d"(0) : "memory");
}

static void user_xgetbv(void)
{
	user_read = xgetbv(0);
}

static void test_without_osxsave(void)
{
	volatile uint64_t got = 0;

	write_cr4(read_cr4() & ~CR4_OSXSAVE);
	check(!(cpuid(1, 0).ecx & CPUID1_ECX_OSXSAVE),
	      "CPUID.1:ECX.OSXSAVE reads 0 with CR4.OSXSAVE clear");
	int v = try_xgetbv(VEC_UD, 0, &got);
	check(v == VEC_UD, "XGETBV without CR4.OSXSAVE raises #UD (got vector %d)", v);
	v = try_xsetbv(VEC_UD, 0, XCR0_X87);
	check(v == VEC_UD, "XSETBV without CR4.OSXSAVE raises #UD (got vector %d)", v);
}

static void test_refusals(void)
{
	refused("with XCR0 = 0 (x87 bit clear)", 0, 0);
	refused("with SSE but not x87", 0, XCR0_SSE);
	refused("with AVX but not SSE", 0, XCR0_X87 | XCR0_AVX);
	refused("with bit 63 set", 0, XCR0_X87 | XCR0_SSE | (1ull << 63));
	refused("with bit 32 set", 0, XCR0_X87 | XCR0_SSE | (1ull << 32));
	/* the lowest bit CPUID.0xD:0 does not offer */
	unsigned bit = 2;
	while (bit < 32 && (supported & (1ull << bit)))
		bit++;
	if (bit < 32)
		refused("with a bit CPUID.0xD does not offer", 0, XCR0_X87 | XCR0_SSE | (1ull << bit));
	if ((supported & XCR0_AVX512) == XCR0_AVX512) {
		refused("with the AVX-512 opmask alone", 0,
			XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK);
		refused("with AVX-512 but not AVX", 0, XCR0_X87 | XCR0_SSE | XCR0_AVX512);
	} else {
		refused("with the AVX-512 opmask (not offered)", 0,
			XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK);
	}
	/* MPX's two components are enabled together or not at all (offered or not) */
	refused("with MPX BNDREGS but not BNDCSR", 0, XCR0_X87 | XCR0_SSE | (1ull << 3));
	refused("with ECX = 1", 1, XCR0_X87 | XCR0_SSE);
	refused("with ECX = 0x80000000", 0x80000000u, XCR0_X87 | XCR0_SSE);
}

static void test_cpl3(void)
{
	const uint64_t before = xgetbv(0);

	/* a valid value that differs from the current one, so that a write would show */
	user_xcr0_lo = (uint32_t)((supported & XCR0_AVX) && before != (XCR0_X87 | XCR0_SSE | XCR0_AVX)
					  ? XCR0_X87 | XCR0_SSE | XCR0_AVX
					  : XCR0_X87 | XCR0_SSE);
	int v = run_at_cpl3(user_xsetbv);
	uint64_t after = xgetbv(0);
	check(v == VEC_GP && trap_last.error == 0 && after == before,
	      "XSETBV at CPL 3 raises #GP(0), XCR0 stays 0x%llx (got vector %d error 0x%x, XCR0 0x%llx)",
	      before, v, trap_last.error, after);
	user_read = 0;
	v = run_at_cpl3(user_xgetbv);
	check(v == NO_FAULT && user_read == before,
	      "XGETBV works at CPL 3 and reads 0x%llx (got vector %d, 0x%llx)", before, v, user_read);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;

	if (!(cpuid(1, 0).ecx & CPUID1_ECX_XSAVE)) {
		skip("XSETBV: the CPU does not offer XSAVE");
		return;
	}
	/* x87 and SSE usable: no emulation, no lazy-switch trap */
	write_cr0((read_cr0() | CR0_MP | CR0_NE) & ~(CR0_EM | CR0_TS));
	test_without_osxsave();

	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXSAVE);
	check(cpuid(1, 0).ecx & CPUID1_ECX_OSXSAVE, "CPUID.1:ECX.OSXSAVE reads 1 with CR4.OSXSAVE set");
	struct cpuid_regs d = cpuid(0xd, 0);
	supported = ((uint64_t)d.edx << 32) | d.eax;
	tprintf("CPUID.0xD:0 offers XCR0 bits 0x%llx\n", supported);
	check((supported & (XCR0_X87 | XCR0_SSE)) == (XCR0_X87 | XCR0_SSE),
	      "CPUID.0xD:0 offers x87 and SSE state");
	check_eq("XCR0 after reset (x87 only)", xgetbv(0), XCR0_X87);

	accepted("x87|SSE", XCR0_X87 | XCR0_SSE);
	test_refusals();
	test_cpl3();

	if (supported & XCR0_AVX) {
		int v = try_avx();
		check(v == VEC_UD, "an AVX instruction with XCR0.AVX clear raises #UD (got vector %d)", v);
		/* other VMs may fill the CPU's AVX registers meanwhile: none of it may show here */
		let_others_run();
		accepted("x87|SSE|AVX", XCR0_X87 | XCR0_SSE | XCR0_AVX);
		check(ymm_upper_zero(), "YMM0-7 upper halves read zero when AVX is first enabled");
		v = try_avx();
		check(v == NO_FAULT, "an AVX instruction works with XCR0.AVX set (got vector %d)", v);
		test_cpl3();
		/* AVX state in use while this VM is switched out (a hypervisor saves it) */
		asm volatile("vpcmpeqb %%ymm2, %%ymm2, %%ymm2" : : : "memory");
		let_others_run();
		check(!ymm_upper_zero(), "YMM2's upper half kept its ones across time slices");
	} else {
		skip("XCR0.AVX: CPUID.0xD does not offer it");
	}
	const uint64_t all = supported & (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512);
	let_others_run();
	accepted("with every x87/SSE/AVX/AVX-512 bit offered", all);
	if ((all & XCR0_AVX512) == XCR0_AVX512)
		check(avx512_state_zero(), "k0-7 and ZMM0-7 upper halves read zero when AVX-512 is first enabled");
	refused("with ECX = 1 after a valid write", 1, all);
	accepted("back to x87 only", XCR0_X87);
	/* switched out and back in with fewer components than its saved state had */
	let_others_run();
	check_eq("XCR0 after time slices with x87 only", xgetbv(0), XCR0_X87);
	if (supported & XCR0_AVX) {
		int v = try_avx();
		check(v == VEC_UD, "an AVX instruction after XCR0 went back to x87 raises #UD (got vector %d)",
		      v);
	}
}
