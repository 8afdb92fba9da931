/* paging64 guest: the paging checks of paging_common.c under IA-32e 4-level paging (the
 * checks run in compatibility mode), and what only 4-level paging has: 1 GiB pages,
 * PML4 entries, 64-bit linear addresses (reached from 64-bit code) and canonical form. */
#include "paging_common.h"

#define GB_VA	    0xc0000000u		  /* PDPT entry 3: a 1 GiB page onto guest-physical 0 */
#define HIGH_VA	    0xffff800000400000ull /* PML4 entry 256, the first of the upper half */
#define NONCANON_VA 0x0000800000000000ull /* bit 47 set, bits 63:48 clear */

static void test_gb_page(void)
{
	if (!pg.gbpages) {
		skip("1 GiB pages: CPUID 0x80000001 EDX bit 26 is clear");
		/* without them, PS in a PDPTE is a reserved bit */
		uint32_t f = pg_frame();
		pt_map(&pg.as, GB_VA, 0, 3, PTE_P | PTE_W);
		pg_expect_pf("PDPTE with PS set, no 1 GiB pages (reserved): a read", GB_VA + f,
			     PG_READ, PF_P | PF_RSVD);
		return;
	}
	uint32_t f = pg_frame(), g = pg_frame();
	pt_map(&pg.as, GB_VA, 0, 3, PTE_P | PTE_W);
	pg_expect_ok("1 GiB page: a read sees guest-physical memory at the offset", GB_VA + f,
		     PG_READ, PG_MARK(f));
	uint64_t e = pt_get(&pg.as, GB_VA, 3);
	check((e & PTE_A) && !(e & PTE_D),
	      "1 GiB page: a read sets A and leaves D clear in the PDPTE");
	pg_expect_ok("1 GiB page: a write through it", GB_VA + g + 8, PG_WRITE, 0x1e9);
	check(pt_get(&pg.as, GB_VA, 3) & PTE_D, "1 GiB page: the write sets D in the PDPTE");
	/* no identity access to g before this: in a direct-mapped TLB it would share an entry
	 * with GB_VA + g and drop the translation the INVLPG has to flush */
	pt_set(&pg.as, GB_VA, 3, pt_get(&pg.as, GB_VA, 3) & ~PTE_W);
	invlpg(GB_VA + 0x12345000);
	pg_expect_pf("1 GiB page made read-only (INVLPG inside it): a supervisor write", GB_VA + g,
		     PG_WRITE, PF_P | PF_W);
	check(*(volatile uint32_t *)(g + 8) == 0x1e9,
	      "1 GiB page: the write had landed in the frame");
	pg_expect_ok("1 GiB page, read-only: a read works", GB_VA + f, PG_READ, PG_MARK(f));
	pg_set_flush(GB_VA, 3, pt_get(&pg.as, GB_VA, 3) & ~PTE_P);
	pg_expect_pf("1 GiB page made not-present (INVLPG): a read", GB_VA + f, PG_READ, 0);
	pt_set(&pg.as, GB_VA, 3, 0);
}

/* A 64-bit read or write from 64-bit code: NO_FAULT or the vector (ia32e_cr2 has CR2). */
static int try64(uint64_t lin, enum pg_access a, uint64_t val, uint64_t *out)
{
	if (trap_expect(VEC_PF))
		return (int)trap_last.vector;
	if (a == PG_WRITE)
		poke64(lin, val);
	else
		*out = peek64(lin);
	trap_disarm();
	return NO_FAULT;
}

static void expect_pf64(const char *what, uint64_t lin, enum pg_access a, uint32_t err)
{
	uint64_t v;
	int vec = try64(lin, a, 0xbad0bad0, &v);

	pg_pf_verdict(what, vec, err, lin, ia32e_cr2);
}

static void test_upper_half(void)
{
	uint32_t f = pg_frame();
	uint64_t v = 0;

	pt_map(&pg.as, HIGH_VA, f, 1, PTE_P | PTE_W);
	check(try64(HIGH_VA, PG_READ, 0, &v) == NO_FAULT && v == PG_MARK(f),
	      "upper half (0xffff800000400000): a 64-bit read sees the mapped frame");
	check(try64(HIGH_VA + 8, PG_WRITE, 0x0123456789abcdefull, &v) == NO_FAULT &&
		  *(volatile uint64_t *)(f + 8) == 0x0123456789abcdefull,
	      "upper half: a 64-bit write lands in the frame");
	int same = 1;
	for (unsigned l = 1; l <= 4; l++)
		same &= !!(pt_get(&pg.as, HIGH_VA, l) & PTE_A);
	check(same, "upper half: the accesses set A in the PML4E, PDPTE, PDE and PTE");

	uint64_t pml4e = pt_get(&pg.as, HIGH_VA, 4);
	pt_set(&pg.as, HIGH_VA, 4, pml4e & ~PTE_P);
	invlpg64(HIGH_VA);
	expect_pf64("not-present PML4E: a 64-bit read", HIGH_VA, PG_READ, 0);
	expect_pf64("not-present PML4E: a 64-bit write", HIGH_VA, PG_WRITE, PF_W);
	pt_set(&pg.as, HIGH_VA, 4, pml4e | PTE_PS);
	expect_pf64("PML4E with PS set (reserved): a 64-bit read", HIGH_VA, PG_READ,
		    PF_P | PF_RSVD);
	pt_set(&pg.as, HIGH_VA, 4, pml4e & ~PTE_W);
	invlpg64(HIGH_VA);
	expect_pf64("read-only PML4E: a 64-bit supervisor write", HIGH_VA, PG_WRITE, PF_P | PF_W);
	pt_set(&pg.as, HIGH_VA, 4, pml4e);
	invlpg64(HIGH_VA);
	check(try64(HIGH_VA, PG_READ, 0, &v) == NO_FAULT && v == PG_MARK(f),
	      "upper half: the PML4E restored, the read works again");

	/* a non-canonical address is not a paging fault */
	int vec;
	if (trap_expect(VEC_GP)) {
		vec = (int)trap_last.vector;
	} else {
		(void)peek64(NONCANON_VA);
		trap_disarm();
		vec = NO_FAULT;
	}
	check(vec == VEC_GP && trap_last.error == 0,
	      "non-canonical address 0x0000800000000000: #GP(0), not #PF");
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	if (!pg_begin(PT_MODE_IA32E))
		return;
	check(rdmsr(MSR_EFER) & EFER_LMA,
	      "IA-32e mode is active (EFER.LMA), in compatibility mode");
	pg_common_tests();
	test_gb_page();
	test_upper_half();
	pg_end();
	check(!(rdmsr(MSR_EFER) & (EFER_LMA | EFER_LME)),
	      "IA-32e mode left (EFER.LME and LMA clear)");
}
