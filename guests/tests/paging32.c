/* paging32 guest: the paging checks of paging_common.c under 32-bit paging (two levels of
 * 4-byte entries, 4 MiB pages with CR4.PSE, no NX). */
#include "paging_common.h"

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	if (!pg_begin(PT_MODE_32))
		return;
	pg_common_tests();
	pg_end();
}
