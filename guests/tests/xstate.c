/* xstate guest: the x87/SSE/AVX/AVX-512 state of one VM is never seen or changed by another.
 * Several VMs run it with different seeds (cmdline `seed=N`) and XCR0 choices (`xcr0=sse`,
 * `avx`, `all`, or `none`: CR4.OSXSAVE clear, FXSAVE): each loads its own pattern into the
 * x87 stack, FCW, MXCSR, XMM0-15, YMM0-15, ZMM0-31 and k0-7 (as XCR0 has them) with XRSTOR
 * in 64-bit mode, spins across many time slices, and checks every round with XSAVE that its
 * state is exactly its own. */
#include "testlib.h"
#include "pt.h"

#define CR4_OSXMMEXCPT	   (1u << 10)
#define CR4_OSXSAVE	   (1u << 18)
#define CPUID1_ECX_XSAVE   (1u << 26)
#define ROUNDS		   24
#define ROUND_TICKS	   1500000ull
/* a longer stretch between two RDTSCs than the loop ever takes: another VM ran */
#define GAP_TICKS	   100000ull
#define MIN_GAPS	   6

/* XSAVE standard-format offsets of the legacy region */
#define XS_FCW	  0
#define XS_FSW	  2
#define XS_FTW	  4
#define XS_MXCSR  24
#define XS_ST0	  32
#define XS_XMM0	  160
#define XS_HEADER 512

static uint8_t image[4096] __attribute__((aligned(64)));
static uint8_t dump[4096] __attribute__((aligned(64)));
static struct pt pt;

/* what the 64-bit bodies use: the area, the requested-feature bitmap, FXSAVE instead */
uint32_t xs_area, xs_mask_lo, xs_mask_hi, xs_fx;
void xs_rstor64(void);
void xs_save64(void);

__asm__(".text\n"
	".code64\n"
	".globl xs_rstor64\n"
	"xs_rstor64:\n"
	"	movl xs_area(%rip), %ecx\n"
	"	movl xs_mask_lo(%rip), %eax\n"
	"	movl xs_mask_hi(%rip), %edx\n"
	"	cmpl $0, xs_fx(%rip)\n"
	"	jne 1f\n"
	"	xrstor64 (%rcx)\n"
	"	lretl\n"
	"1:	fxrstor64 (%rcx)\n"
	"	lretl\n"
	".globl xs_save64\n"
	"xs_save64:\n"
	"	movl xs_area(%rip), %ecx\n"
	"	movl xs_mask_lo(%rip), %eax\n"
	"	movl xs_mask_hi(%rip), %edx\n"
	"	cmpl $0, xs_fx(%rip)\n"
	"	jne 1f\n"
	"	xsave64 (%rcx)\n"
	"	lretl\n"
	"1:	fxsave64 (%rcx)\n"
	"	lretl\n"
	".code32\n");

static void xrstor_64bit(uint8_t *area, uint64_t mask)
{
	xs_area = (uint32_t)area;
	xs_mask_lo = (uint32_t)mask;
	xs_mask_hi = (uint32_t)(mask >> 32);
	asm volatile("lcall $%c0, $xs_rstor64" : : "i"(KERNEL_CS64) : "eax", "ecx", "edx", "memory");
}

static void xsave_64bit(uint8_t *area, uint64_t mask)
{
	xs_area = (uint32_t)area;
	xs_mask_lo = (uint32_t)mask;
	xs_mask_hi = (uint32_t)(mask >> 32);
	asm volatile("lcall $%c0, $xs_save64" : : "i"(KERNEL_CS64) : "eax", "ecx", "edx", "memory");
}

static inline uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static uint8_t pattern_byte(uint32_t seed, uint32_t off)
{
	uint32_t x = seed * 0x9e3779b1u + off * 0x85ebca6bu;
	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return (uint8_t)(x | 1); /* never zero: no component may look like its init state */
}

struct component {
	uint32_t off, size;
};
static struct component comps[64];

static const char *const comp_names[8] = {"x87",      "SSE",	  "AVX (YMM upper)", "MPX BNDREGS",
					   "MPX BNDCSR", "AVX-512 k0-7", "AVX-512 ZMM_Hi256",
					   "AVX-512 Hi16_ZMM"};

/* The image this VM loads for `seed`: every register of every enabled component distinct. */
static void build_image(uint32_t seed, uint64_t xcr0)
{
	memset(image, 0, sizeof(image));
	*(uint16_t *)(image + XS_FCW) = (uint16_t)(0x037f & ~0x0c00u) | (uint16_t)((seed & 3) << 10);
	*(uint16_t *)(image + XS_FSW) = 0; /* TOP = 0 */
	image[XS_FTW] = 0xff;		   /* all eight x87 registers valid */
	*(uint32_t *)(image + XS_MXCSR) = 0x1f80u | ((seed & 3) << 13) | ((seed & 4) ? 0x8000u : 0);
	for (uint32_t i = 0; i < 8; i++) {
		uint8_t *st = image + XS_ST0 + 16 * i;
		for (uint32_t b = 0; b < 8; b++)
			st[b] = pattern_byte(seed, XS_ST0 + 16 * i + b);
		st[7] |= 0x80; /* explicit integer bit: a normal number */
		uint16_t exp = (uint16_t)(0x3fff + ((seed + i) & 0x3f)) | (uint16_t)((i & 1) << 15);
		st[8] = (uint8_t)exp;
		st[9] = (uint8_t)(exp >> 8);
	}
	for (uint32_t b = 0; b < 16 * 16; b++)
		image[XS_XMM0 + b] = pattern_byte(seed, XS_XMM0 + b);
	for (unsigned c = 2; c < 64; c++)
		if (xcr0 & (1ull << c))
			for (uint32_t b = 0; b < comps[c].size; b++)
				image[comps[c].off + b] = pattern_byte(seed, comps[c].off + b);
	*(uint64_t *)(image + XS_HEADER) = xcr0; /* XSTATE_BV: every component from memory */
}

/* the first difference state_matches() found: a name and a number */
static const char *why_name;
static uint64_t why_num;

static int differs(const char *name, uint64_t num)
{
	why_name = name;
	why_num = num;
	return 0;
}

/* Compares the live state (XSAVE) with the image; names the first difference. */
static int state_matches(uint64_t xcr0)
{
	static const struct {
		uint32_t off, len;
		const char *name;
	} legacy[] = {
	    {XS_FCW, 2, "FCW"},	  {XS_FSW, 2, "FSW"}, {XS_FTW, 1, "x87 tags"}, {XS_MXCSR, 4, "MXCSR"},
	    {XS_ST0, 0, "ST(i)"}, {XS_XMM0, 256, "XMM0-15"},
	};
	memset(dump, 0, sizeof(dump));
	xsave_64bit(dump, xcr0);
	for (unsigned i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
		if (legacy[i].len == 0) {
			for (uint32_t r = 0; r < 8; r++)
				if (memcmp(dump + XS_ST0 + 16 * r, image + XS_ST0 + 16 * r, 10)) {
					return differs("ST(i) differs, i =", r);
				}
			continue;
		}
		for (uint32_t b = 0; b < legacy[i].len; b++)
			if (dump[legacy[i].off + b] != image[legacy[i].off + b]) {
				return differs(legacy[i].name, b);
			}
	}
	for (unsigned c = 2; c < 8; c++) {
		if (!(xcr0 & (1ull << c)))
			continue;
		for (uint32_t b = 0; b < comps[c].size; b++)
			if (dump[comps[c].off + b] != image[comps[c].off + b]) {
				return differs(comp_names[c], b);
			}
	}
	if (xs_fx)
		goto equal; /* FXSAVE: no header, no XCR0 */
	uint64_t bv = *(uint64_t *)(dump + XS_HEADER);
	if ((bv & xcr0) != xcr0) {
		return differs("XSTATE_BV lacks a component, XSTATE_BV =", bv);
	}
	uint64_t now = xgetbv0();
	if (now != xcr0) {
		return differs("XCR0 changed, reads", now);
	}
equal:
	why_name = "all equal";
	why_num = 0;
	return 1;
}

/* Spins for `ticks`, counting the stretches in which this vCPU did not run. */
static unsigned spin_counting_gaps(uint64_t ticks)
{
	unsigned gaps = 0;
	uint64_t start = rdtsc(), last = start;

	while (last - start < ticks) {
		uint64_t now = rdtsc();
		if (now - last > GAP_TICKS)
			gaps++;
		last = now;
	}
	return gaps;
}

/* `key=value` from the command line, as a number (0 if absent) or the word itself. */
static const char *cmdline_value(const struct multiboot_info *mbi, uint32_t magic, const char *key)
{
	if (magic != MB_BOOT_MAGIC || !(mbi->flags & MB_INFO_CMDLINE))
		return NULL;
	const char *s = (const char *)mbi->cmdline;
	size_t n = tg_strlen(key);
	while (*s) {
		while (*s == ' ')
			s++;
		if (!memcmp(s, key, n) && s[n] == '=')
			return s + n + 1;
		while (*s && *s != ' ')
			s++;
	}
	return NULL;
}

static int word_is(const char *s, const char *w)
{
	size_t n = tg_strlen(w);
	return s && !memcmp(s, w, n) && (s[n] == 0 || s[n] == ' ');
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	if (!(cpuid(1, 0).ecx & CPUID1_ECX_XSAVE) || !(cpuid(0x80000001, 0).edx & (1u << 29))) {
		skip("extended state isolation: the CPU lacks XSAVE or long mode");
		return;
	}
	uint32_t seed = 1;
	const char *sv = cmdline_value(mbi, magic, "seed");
	if (sv) {
		seed = 0;
		while (*sv >= '0' && *sv <= '9')
			seed = seed * 10 + (uint32_t)(*sv++ - '0');
	}
	const char *xv = cmdline_value(mbi, magic, "xcr0");
	/* xcr0=none: CR4.OSXSAVE stays clear, the state is x87 and SSE through FXSAVE */
	xs_fx = word_is(xv, "none");

	write_cr0((read_cr0() | CR0_MP | CR0_NE) & ~(CR0_EM | CR0_TS));
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE);
	struct cpuid_regs d = cpuid(0xd, 0);
	const uint64_t supported = ((uint64_t)d.edx << 32) | d.eax;
	uint64_t want = 0xe7; /* x87, SSE, AVX, AVX-512 */
	if (word_is(xv, "sse") || xs_fx)
		want = 0x3;
	else if (word_is(xv, "avx"))
		want = 0x7;
	uint64_t xcr0 = supported & want;
	if ((xcr0 & 0xe0) != 0xe0)
		xcr0 &= ~0xe0ull; /* AVX-512 comes whole or not at all */
	for (unsigned c = 2; c < 8; c++) {
		struct cpuid_regs r = cpuid(0xd, c);
		comps[c] = (struct component){r.ebx, r.eax};
		if ((xcr0 & (1ull << c)) && (r.ebx + r.eax > sizeof(image) || r.ebx < 576)) {
			fail("component %u at %u+%u does not fit the test's XSAVE area", c, r.ebx, r.eax);
			return;
		}
	}

	/* IA-32e mode: 64-bit code reaches XMM8-15, YMM8-15 and ZMM16-31 */
	pt_init(&pt, PT_MODE_IA32E);
	pt_map_identity(&pt, 16u << 20, 0);
	pt_activate(&pt, 0);
	if (xs_fx) {
		write_cr4(read_cr4() & ~CR4_OSXSAVE);
		tprintf("xstate: seed %u, FXSAVE/FXRSTOR with CR4.OSXSAVE clear\n", seed);
	} else {
		asm volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
		tprintf("xstate: seed %u, XCR0 0x%llx (CPU offers 0x%llx)\n", seed, xcr0, supported);
	}

	uint32_t cur = seed;
	build_image(cur, xcr0);
	xrstor_64bit(image, xcr0);
	int same = state_matches(xcr0); /* before the arguments that read why_name */
	check(same, "x87/SSE/AVX state loaded with XRSTOR reads back with XSAVE (got %s 0x%llx)",
	      why_name, why_num);

	unsigned gaps = 0;
	for (unsigned r = 1; r <= ROUNDS; r++) {
		if (r % 6 == 0) {
			/* a fresh pattern, so that an old copy of the state cannot pass for it */
			cur = seed * 1000u + r;
			build_image(cur, xcr0);
			xrstor_64bit(image, xcr0);
		}
		unsigned g = spin_counting_gaps(ROUND_TICKS);
		gaps += g;
		same = state_matches(xcr0);
		check(same, "round %u: this VM's x87/SSE/AVX state is its own (got %u gaps, %s 0x%llx)",
		      r, g, why_name, why_num);
	}
	if (keel_present())
		check(gaps >= MIN_GAPS,
		      "other VMs ran in between: this VM was descheduled %u times (at least %u)", gaps,
		      MIN_GAPS);
	else
		tprintf("xstate: descheduled %u times (natively nothing else runs)\n", gaps);
	pt_deactivate(&pt);
}
