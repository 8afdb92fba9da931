/* paging_common: what the paging guests share to check the paging semantics in the mode
 * the guest chose: the CPU's paging features, the identity map, bump allocators of frames,
 * 4 KiB slots and 4 MiB regions, and accesses that expect a #PF or a value. The checks
 * themselves are paging_checks.c. */
#include "paging_common.h"

#define TEST_VA	    0x40000000u /* the 4 KiB slots, all under one page table */
#define SLOTS_END   0x40200000u /* a PAE or IA-32e page table spans 2 MiB */
#define REGION_BASE 0x41000000u /* 4 MiB regions, each with a PDE of its own */
#define REGIONS_END 0x7fc00000u /* PAE's self-map takes the PD's last entry, at 0x7fe00000 */

struct pg_env pg;
volatile uint32_t pg_value;

static uint32_t next_frame = PG_FRAME_BASE;
static uint32_t next_slot = TEST_VA;
static uint32_t next_region = REGION_BASE;

/* The next `step` bytes of a bump allocator that ends the test when it runs out. */
static uint32_t take(uint32_t *next, uint32_t step, uint32_t end, const char *what)
{
	uint32_t at = *next;

	if (at >= end) {
		fail("out of test %s", what);
		test_exit();
	}
	*next += step;
	return at;
}

uint32_t pg_frame(void)
{
	uint32_t pa = take(&next_frame, 4096, PG_RAM_END, "frames");

	memset((void *)pa, 0, 4096);
	*(volatile uint32_t *)pa = PG_MARK(pa);
	return pa;
}

uint32_t pg_code_frame(uint32_t ret)
{
	uint32_t pa = pg_frame();
	volatile uint8_t *code = (volatile uint8_t *)pa;

	code[0] = 0xb8; /* mov $ret, %eax */
	for (int i = 0; i < 4; i++)
		code[1 + i] = (uint8_t)(ret >> (8 * i));
	code[5] = 0xc3; /* ret */
	return pa;
}

uint32_t pg_slot(void)
{
	return take(&next_slot, 4096, SLOTS_END, "slots");
}

uint32_t pg_region(void)
{
	return take(&next_region, 0x400000, REGIONS_END, "regions");
}

const char *pg_level_name(unsigned level)
{
	static const char *const names[] = {"?", "PTE", "PDE", "PDPTE", "PML4E"};
	return level < 5 ? names[level] : "?";
}

int pg_try(uint32_t va, enum pg_access a, uint32_t val)
{
	if (trap_expect(VEC_PF))
		return (int)trap_last.vector;
	if (a == PG_READ)
		pg_value = *(volatile uint32_t *)va;
	else if (a == PG_WRITE)
		*(volatile uint32_t *)va = val;
	else
		pg_value = ((uint32_t(*)(void))va)();
	trap_disarm();
	return NO_FAULT;
}

void pg_pf_verdict(const char *what, int vec, uint32_t err, uint64_t addr, uint64_t cr2)
{
	if (vec == VEC_PF && trap_last.error == err && cr2 == addr)
		pass("%s: #PF error 0x%x, CR2 0x%llx", what, err, addr);
	else if (vec == NO_FAULT)
		fail("%s: #PF error 0x%x, CR2 0x%llx (got no fault)", what, err, addr);
	else
		fail("%s: #PF error 0x%x, CR2 0x%llx (got vector %d, error 0x%x, CR2 0x%llx)", what,
		     err, addr, vec, trap_last.error, cr2);
}

void pg_expect_pf(const char *what, uint32_t va, enum pg_access a, uint32_t err)
{
	int vec = pg_try(va, a, 0xbad0bad0);

	if (a == PG_FETCH && vec == VEC_PF && trap_last.eip != va) {
		fail("%s: #PF error 0x%x, CR2 0x%x (got EIP 0x%x, not the fetched address)", what,
		     err, va, trap_last.eip);
		return;
	}
	pg_pf_verdict(what, vec, err, va, trap_last.cr2);
}

void pg_expect_ok(const char *what, uint32_t va, enum pg_access a, uint32_t want)
{
	int vec = pg_try(va, a, want);

	if (vec != NO_FAULT)
		fail("%s (got vector %d, error 0x%x, CR2 0x%x)", what, vec, trap_last.error,
		     trap_last.cr2);
	else if (a != PG_WRITE && pg_value != want)
		fail("%s (got 0x%x, want 0x%x)", what, pg_value, want);
	else
		pass("%s", what);
}

void pg_set_flush(uint32_t va, unsigned level, uint64_t e)
{
	pt_set(&pg.as, va, level, e);
	invlpg(va);
}


static const char *mode_name(enum pt_mode mode)
{
	return mode == PT_MODE_32 ? "32-bit" : mode == PT_MODE_PAE ? "PAE" : "IA-32e 4-level";
}

int pg_begin(enum pt_mode mode)
{
	const struct cpuid_regs l1 = cpuid(1, 0);
	const uint32_t max = cpuid(0, 0).eax, ext = cpuid(0x80000000, 0).eax;

	pg.pse = !!(l1.edx & (1u << 3));
	pg.pae = !!(l1.edx & (1u << 6));
	pg.pge = !!(l1.edx & (1u << 13));
	if (ext >= 0x80000001) {
		const uint32_t edx = cpuid(0x80000001, 0).edx;
		pg.nx = !!(edx & (1u << 20));
		pg.gbpages = !!(edx & (1u << 26));
		pg.longmode = !!(edx & (1u << 29));
	}
	pg.maxphys = ext >= 0x80000008 ? (cpuid(0x80000008, 0).eax & 0xff) : 36;
	if (max >= 7) {
		const uint32_t ebx = cpuid(7, 0).ebx;
		pg.smep = !!(ebx & (1u << 7));
		pg.smap = !!(ebx & (1u << 20));
	}
	tprintf("%s paging; CPU: PSE %d PAE %d PGE %d NX %d 1G %d LM %d SMEP %d SMAP %d "
		"MAXPHYADDR %u\n",
		mode_name(mode), pg.pse, pg.pae, pg.pge, pg.nx, pg.gbpages, pg.longmode, pg.smep,
		pg.smap, pg.maxphys);

	/* the identity map is made of large pages */
	if ((mode == PT_MODE_32 && !pg.pse) || (mode == PT_MODE_PAE && !pg.pae) ||
	    (mode == PT_MODE_IA32E && !pg.longmode)) {
		skip("%s paging: the CPU does not offer it", mode_name(mode));
		return 0;
	}
	pt_init(&pg.as, mode);
	pt_map_identity(&pg.as, PG_RAM_END, 0);
	pt_activate(&pg.as, mode != PT_MODE_32 && pg.nx);
	check(read_cr0() & CR0_PG, "%s paging is on, running from the identity map",
	      mode_name(mode));
	return 1;
}


void pg_end(void)
{
	pt_deactivate(&pg.as);
	check(!(read_cr0() & CR0_PG), "paging off again at the end");
}
