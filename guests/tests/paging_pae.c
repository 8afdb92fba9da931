/* paging_pae guest: the paging checks of paging_common.c under PAE paging (2 MiB pages, NX),
 * and what only PAE has: the four PDPTEs are loaded at MOV to CR3 and used from there. */
#include "paging_common.h"

/* PDPTEs live in registers: an edit in memory waits for the next MOV to CR3 (SDM 4.4.1). */
static void test_pdpte_registers(void)
{
	uint32_t va = pg_region() + PG_REGION_PAGE, f = pg_frame();

	pt_map(&pg.as, va, f, 1, PTE_P | PTE_W);
	pg_expect_ok("PAE: a page under PDPTE 1 reads", va, PG_READ, PG_MARK(f));
	uint64_t pdpte = pt_get(&pg.as, va, 3);
	write_cr3(read_cr3());
	pt_set(&pg.as, va, 3, pdpte & ~PTE_P);
	invlpg(va);
	pg_expect_ok("PAE: a PDPTE cleared in memory is not used before MOV to CR3 (INVLPG is not "
		     "enough)",
		     va, PG_READ, PG_MARK(f));
	write_cr3(read_cr3());
	pg_expect_pf("PAE: not-present PDPTE after MOV to CR3: a read", va, PG_READ, 0);
	pg_expect_pf("PAE: not-present PDPTE after MOV to CR3: a write", va, PG_WRITE, PF_W);
	pt_set(&pg.as, va, 3, pdpte);
	write_cr3(read_cr3());
	pg_expect_ok("PAE: PDPTE present again after MOV to CR3: the read works", va, PG_READ,
		     PG_MARK(f));
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	if (!pg_begin(PT_MODE_PAE))
		return;
	pg_common_tests();
	test_pdpte_registers();
	pg_end();
}
