/* isolation guest, two roles chosen by the command line (guests/tests/isolation.cfg):
 * "canary" fills its RAM with a pattern and stays alive, checking nobody changed it;
 * "probe <hole>" looks for that pattern everywhere it can reach (its RAM, its ROM, the LAPIC
 * and IOAPIC windows through its own PAE page tables), checks that a PTE above MAXPHYADDR
 * gives #PF with RSVD, and at last reads the guest-physical hole <hole>, which must stop it. */
#include "testlib.h"
#include "pt.h"

/* Both VMs' TSCs start near zero together. The canary fills its RAM in its first ~70M
 * ticks; the probers sleep until PROBE_START, and must finish before CANARY_LIFE. */
#define PROBE_START 150000000ull
#define CANARY_LIFE 600000000ull
#define NAP	    20000000ull
#define NAP_VECTOR  0x40

/* one 16-byte block of the pattern at guest-physical a: {PAT_A, PAT_B, a, ~a}; no block of
 * a prober's own memory looks like it, even where it holds the two constants */
#define PAT_A 0x796e6163u /* "cany" */
#define PAT_B 0x4b45454cu /* "LEEK" */

#define WINDOW_VA  0x40000000u /* where the prober maps one page of anything */
#define LAPIC_GPA  0xfee00000u
#define IOAPIC_GPA 0xfec00000u

static uint32_t ram_end(const struct multiboot_info *mbi)
{
	return (mbi->mem_upper + 1024) * 1024;
}

static int is_pattern(const volatile uint32_t *w)
{
	return w[0] == PAT_A && w[1] == PAT_B && w[3] == ~w[2];
}

/* Pattern blocks in [from, to) (16-byte aligned), read through the current mapping. */
static unsigned count_pattern(uint32_t from, uint32_t to)
{
	unsigned n = 0;
	for (uint32_t a = from; a < to; a += 16)
		n += is_pattern((const volatile uint32_t *)a);
	return n;
}

/* ---- canary ---- */

static volatile unsigned naps;

static void nap_irq(uint8_t vector)
{
	(void)vector;
	naps++;
}

static void nap(uint64_t ticks)
{
	unsigned before = naps;
	if (vmcall(KEEL_HC_TIMER_ONESHOT, NAP_VECTOR, (uint32_t)ticks, (uint32_t)(ticks >> 32)))
		return;
	while (naps == before) {
		sti_hlt();
		cli();
	}
}

/* The RAM the canary fills: all of it but page 0 and its own image (code, data, stack). */
static void canary_range(int low, uint32_t end, uint32_t *from, uint32_t *to)
{
	extern char __image_end[];
	*from = low ? 0x1000 : (((uint32_t)__image_end + 0xfff) & ~0xfffu);
	*to = low ? 0xa0000 : end;
}

static unsigned canary_fill_or_check(uint32_t end, int fill)
{
	unsigned bad = 0;
	for (int low = 1; low >= 0; low--) {
		uint32_t from, to;
		canary_range(low, end, &from, &to);
		for (uint32_t a = from; a < to; a += 16) {
			volatile uint32_t *w = (volatile uint32_t *)a;
			if (fill) {
				w[0] = PAT_A;
				w[1] = PAT_B;
				w[2] = a;
				w[3] = ~a;
			} else if (!is_pattern(w) || w[2] != a) {
				bad++;
			}
		}
	}
	return bad;
}

static void canary(uint32_t end)
{
	canary_fill_or_check(end, 1);
	uint64_t filled = rdtsc();
	check(filled < PROBE_START, "canary: %u KiB filled at TSC %llu, before the probes start",
	      end >> 10, filled);
	irq_set_handler(NAP_VECTOR, nap_irq);
	unsigned bad = 0, rounds = 0;
	while (rdtsc() < CANARY_LIFE) {
		nap(NAP);
		bad += canary_fill_or_check(end, 0);
		rounds++;
	}
	check(bad == 0, "canary: pattern intact in %u checks until TSC %llu (%u blocks changed)",
	      rounds, CANARY_LIFE, bad);
}

/* ---- prober ---- */

static uint32_t parse_hex(const char *s)
{
	uint32_t v = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (;; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			return v;
		v = v << 4 | d;
	}
}

static struct pt as;

/* Maps the window page to guest-physical pa (a 64-bit address) and flushes it. */
static volatile uint32_t *window(uint64_t pa)
{
	pt_map(&as, WINDOW_VA, pa, 1, PTE_P | PTE_W);
	invlpg(WINDOW_VA);
	return (volatile uint32_t *)WINDOW_VA;
}

static void probe_ram(uint32_t end)
{
	/* the detector finds a block planted in this VM's own RAM (so 0 below means something) */
	volatile uint32_t *plant = (volatile uint32_t *)(end - 0x1000);
	plant[0] = PAT_A;
	plant[1] = PAT_B;
	plant[2] = 0x1234;
	plant[3] = ~0x1234u;
	unsigned n = count_pattern(0x100000, end);
	check(n == 1, "probe: the detector finds the one block planted in its own RAM (%u)", n);
	plant[0] = 0;
	n = count_pattern(0, 0xa0000) + count_pattern(0x100000, end);
	check(n == 0, "probe: no canary block in its own RAM, paging off (%u found)", n);
	n = count_pattern(0xc0000, 0x100000);
	check(n == 0, "probe: no canary block in its ROM [0xc0000, 1 MiB) (%u found)", n);
}

static void probe_paged(uint32_t end)
{
	pt_init(&as, PT_MODE_PAE);
	pt_map_identity(&as, end, 0);
	pt_activate(&as, 0);

	unsigned n = count_pattern(0, 0xa0000) + count_pattern(0x100000, end);
	check(n == 0, "probe: no canary block in its RAM through PAE paging (%u found)", n);

	volatile uint32_t *w = window(LAPIC_GPA);
	uint32_t ver = w[0x30 / 4];
	check((ver & 0xff) >= 0x10 && (ver & 0xff) <= 0x15,
	      "probe: a PTE to the LAPIC at 0x%x reads its version register (0x%x)", LAPIC_GPA,
	      ver);
	n = count_pattern(WINDOW_VA, WINDOW_VA + 0x1000);
	check(n == 0, "probe: no canary block in the LAPIC page (%u found)", n);

	w = window(IOAPIC_GPA);
	w[0] = 1; /* IOREGSEL: the version register */
	ver = w[0x10 / 4];
	check((ver & 0xff) == 0x11 || (ver & 0xff) == 0x20,
	      "probe: a PTE to the IOAPIC at 0x%x reads its version register (0x%x)", IOAPIC_GPA,
	      ver);
	n = count_pattern(WINDOW_VA, WINDOW_VA + 0x20);
	check(n == 0, "probe: no canary block in the IOAPIC's registers (%u found)", n);

	/* a frame address at MAXPHYADDR is a reserved bit: #PF with P and RSVD, nothing read */
	unsigned maxphy = cpuid(0x80000008, 0).eax & 0xff;
	volatile uint32_t value = 0;
	if (!trap_expect(VEC_PF)) {
		w = window(1ull << maxphy);
		value = w[0];
		trap_disarm();
	}
	check(trap_last.hit && trap_last.vector == VEC_PF &&
		  trap_last.error == (PF_P | PF_RSVD) && trap_last.cr2 == WINDOW_VA,
	      "probe: a PTE to gpa 1 << %u (MAXPHYADDR) gives #PF error 0x%x at 0x%x (got "
	      "vector %u error 0x%x cr2 0x%x, read 0x%x)",
	      maxphy, PF_P | PF_RSVD, WINDOW_VA, trap_last.vector, trap_last.error,
	      trap_last.cr2, value);
}

static void probe(uint32_t end, const char *hole_arg)
{
	irq_set_handler(NAP_VECTOR, nap_irq);
	nap(PROBE_START - rdtsc());
	probe_ram(end);
	probe_paged(end);
	uint64_t done = rdtsc();
	check(done < CANARY_LIFE, "probe: done at TSC %llu, while the canary lives (< %llu)", done,
	      CANARY_LIFE);

	/* "top" is the last page below 1 << MAXPHYADDR */
	uint64_t hole;
	if (!tg_strcmp(hole_arg, "top"))
		hole = (1ull << (cpuid(0x80000008, 0).eax & 0xff)) - 0x1000;
	else
		hole = parse_hex(hole_arg);
	tprintf("probe: reading guest-physical 0x%llx, outside its memory\n", hole);
	/* a stop is the documented end (docs/guest-abi.md), at exactly this address (the EPT
	 * and the shadow reason both say it so) */
	tprintf("EXPECT-STOP: read at gpa %llx, outside guest memory\n", hole);
	volatile uint32_t *w = window(hole);
	uint32_t v = w[0];
	fail("probe: reading 0x%llx outside guest memory returned 0x%x instead of stopping", hole,
	     v);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	const char *cmd = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
	if (!keel_present()) {
		skip("isolation between VMs: not running under Keel");
		return;
	}
	uint32_t end = ram_end(mbi);
	if (!tg_strcmp(cmd, "canary"))
		canary(end);
	else if (cmd[0] == 'p' && cmd[1] == 'r' && cmd[2] == 'o' && cmd[3] == 'b' && cmd[4] == 'e' &&
		 cmd[5] == ' ')
		probe(end, cmd + 6);
	else
		fail("isolation: command line '%s' is neither 'canary' nor 'probe <hole>'", cmd);
}
