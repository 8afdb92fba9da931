/* isolation guest, two roles chosen by the command line (guests/tests/isolation.cfg):
 * "canary" fills its RAM with a pattern and stays alive, checking nobody changed it;
 * "probe <hole>" looks for that pattern everywhere it can reach (its RAM, its ROM, the LAPIC
 * and IOAPIC windows through its own PAE page tables, 4 KiB and 2 MiB), checks that ROM
 * writes are dropped, that a PTE above MAXPHYADDR gives #PF with RSVD and that Keel's
 * writes for INS and MOVS land in its own RAM, and at
 * last reads the guest-physical hole <hole>, which must stop it; "probe-ins <hole>" and
 * "probe-movs <hole>" end with Keel asked to write there (rep insb, movsl from the LAPIC). */
#include "testlib.h"
#include "pt.h"

/* Both VMs' TSCs start near zero together. The canary fills its RAM in its first ~70M
 * ticks; the probers sleep until PROBE_START, and must finish before CANARY_LIFE. */
#define PROBE_START 150000000ull
#define CANARY_LIFE 900000000ull
#define NAP	    20000000ull
#define NAP_VECTOR  0x40

/* one 16-byte block of the pattern at guest-physical a: {PAT_A, PAT_B, a, ~a}; no block of
 * a prober's own memory looks like it, even where it holds the two constants */
#define PAT_A 0x796e6163u /* "cany" */
#define PAT_B 0x4b45454cu /* "LEEK" */

#define WINDOW_VA  0x40000000u /* where the prober maps one page of anything */
#define LARGE_LOW_VA  0x80000000u /* a 2 MiB page over guest-physical [0, 2 MiB) */
#define LARGE_APIC_VA 0x80200000u /* a 2 MiB page from the LAPIC at 0xfee00000 up */
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

	/* ROM (the ACPI RSDP at 0xe0000) reads through a PTE, and writes to it are dropped */
	w = window(0xe0000);
	uint32_t rom = w[0];
	w[0] = ~rom;
	check(rom == *(volatile uint32_t *)0xe0000 && w[0] == rom,
	      "probe: ROM at 0xe0000 through a PTE reads 0x%x, and a write to it is dropped (0x%x)",
	      rom, w[0]);

	/* large pages that mix RAM, ROM, a hole and MMIO: each 4 KiB part behaves as its own */
	pt_map(&as, LARGE_LOW_VA, 0, 2, PTE_P | PTE_W);
	pt_map(&as, LARGE_APIC_VA, LAPIC_GPA, 2, PTE_P | PTE_W);
	invlpg(LARGE_LOW_VA + 0x100000);
	invlpg(LARGE_LOW_VA + 0xe0000);
	invlpg(LARGE_APIC_VA);
	volatile uint32_t *lo = (volatile uint32_t *)LARGE_LOW_VA;
	uint32_t ram = lo[0x100000 / 4], rom2 = lo[0xe0000 / 4];
	check(ram == *(volatile uint32_t *)0x100000 && rom2 == rom,
	      "probe: a 2 MiB page over [0, 2 MiB) reads its RAM (0x%x) and ROM (0x%x)", ram, rom2);
	ver = ((volatile uint32_t *)LARGE_APIC_VA)[0x30 / 4];
	check((ver & 0xff) >= 0x10 && (ver & 0xff) <= 0x15,
	      "probe: a 2 MiB page at the LAPIC reads its version register (0x%x)", ver);

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

/* How a probe ends: a plain read of the hole, string I/O into it, or MOVS from the LAPIC
 * into it (Keel writes guest memory for the last two, so they must stop as well). */
enum probe_end { END_READ, END_INS, END_MOVS };

#define SCRATCH_PORT 0x3ff /* the UART scratch register keeps what is written */
#define WINDOW2_VA   (WINDOW_VA + 0x1000)

/* Keel writes into this VM's RAM for INS and for a MOVS it emulates: both must land here. */
static void probe_keel_writes(void)
{
	static volatile uint8_t buf[16];
	volatile uint32_t value = 0;
	outb(SCRATCH_PORT, 0x5a);
	uint32_t edi = (uint32_t)buf, ecx = sizeof(buf);
	asm volatile("cld; rep insb" : "+D"(edi), "+c"(ecx) : "d"(SCRATCH_PORT) : "memory");
	unsigned good = 0;
	for (unsigned i = 0; i < sizeof(buf); i++)
		good += buf[i] == 0x5a;
	check(good == sizeof(buf) && ecx == 0,
	      "probe: rep insb from the UART scratch register fills its own buffer (%u of %u)", good,
	      (unsigned)sizeof(buf));
	window(LAPIC_GPA);
	uint32_t esi = WINDOW_VA + 0x30;
	edi = (uint32_t)&value;
	asm volatile("cld; movsl" : "+S"(esi), "+D"(edi) : : "memory");
	check((value & 0xff) >= 0x10 && (value & 0xff) <= 0x15,
	      "probe: movsl from the LAPIC version register to its own RAM copies it (0x%x)", value);
}

static void probe(uint32_t end, enum probe_end how, const char *hole_arg)
{
	irq_set_handler(NAP_VECTOR, nap_irq);
	nap(PROBE_START - rdtsc());
	probe_ram(end);
	probe_paged(end);
	probe_keel_writes();
	uint64_t done = rdtsc();
	check(done < CANARY_LIFE, "probe: done at TSC %llu, while the canary lives (< %llu)", done,
	      CANARY_LIFE);

	/* "top" is the last page below 1 << MAXPHYADDR; "large-vga" see below */
	uint64_t hole;
	if (!tg_strcmp(hole_arg, "top"))
		hole = (1ull << (cpuid(0x80000008, 0).eax & 0xff)) - 0x1000;
	else
		hole = parse_hex(hole_arg);
	/* a stop is the documented end (docs/guest-abi.md), naming the address it stopped at */
	if (how == END_READ && !tg_strcmp(hole_arg, "large-vga")) {
		/* the VGA hole inside the 2 MiB page over [0, 2 MiB) */
		tprintf("probe: reading guest-physical 0xa0000 through a 2 MiB page\n");
		tprintf("EXPECT-STOP: read at gpa a0000, outside guest memory\n");
		uint32_t v = ((volatile uint32_t *)LARGE_LOW_VA)[0xa0000 / 4];
		fail("probe: reading 0xa0000 through a large page returned 0x%x instead of stopping",
		     v);
	} else if (how == END_READ) {
		tprintf("probe: reading guest-physical 0x%llx, outside its memory\n", hole);
		tprintf("EXPECT-STOP: read at gpa %llx, outside guest memory\n", hole);
		volatile uint32_t *w = window(hole);
		uint32_t v = w[0];
		fail("probe: reading 0x%llx outside guest memory returned 0x%x instead of stopping",
		     hole, v);
	} else if (how == END_INS) {
		tprintf("probe: rep insb into guest-physical 0x%llx, outside its memory\n", hole);
		tprintf("EXPECT-STOP: string I/O with guest memory that is not RAM (%x)\n", WINDOW_VA);
		window(hole);
		uint32_t edi = WINDOW_VA, ecx = 16;
		asm volatile("cld; rep insb" : "+D"(edi), "+c"(ecx) : "d"(SCRATCH_PORT) : "memory");
		fail("probe: rep insb into 0x%llx outside guest memory went on (ecx %u)", hole, ecx);
	} else {
		tprintf("probe: movsl from the LAPIC into guest-physical 0x%llx, outside its memory\n",
			hole);
		/* the CPU's APIC virtualization or Keel's emulator may read the LAPIC: the write
		 * to the hole stops it either way */
		tprintf("EXPECT-STOP: outside guest memory\n");
		window(LAPIC_GPA);
		pt_map(&as, WINDOW2_VA, hole, 1, PTE_P | PTE_W);
		invlpg(WINDOW2_VA);
		uint32_t esi = WINDOW_VA + 0x30, edi = WINDOW2_VA;
		asm volatile("cld; movsl" : "+S"(esi), "+D"(edi) : : "memory");
		fail("probe: movsl into 0x%llx outside guest memory went on", hole);
	}
}

static int starts_with(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return 0;
	return 1;
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
	else if (starts_with(cmd, "probe "))
		probe(end, END_READ, cmd + 6);
	else if (starts_with(cmd, "probe-ins "))
		probe(end, END_INS, cmd + 10);
	else if (starts_with(cmd, "probe-movs "))
		probe(end, END_MOVS, cmd + 11);
	else
		fail("isolation: command line '%s' is not 'canary' or 'probe[-ins|-movs] <hole>'", cmd);
}
