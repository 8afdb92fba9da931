/* 32-bit paging for the guests that test it: an identity map of 4 GiB made of 4 MiB (PSE)
 * pages, and turning paging on and off around it. */
#include "testlib.h"

/* Mapping addresses outside guest RAM is harmless: only an access would reach them. */
void pd_identity_4m(uint32_t *pd)
{
	for (uint32_t i = 0; i < 1024; i++)
		pd[i] = (i << 22) | PDE_PS | PDE_RW | PDE_P;
}

/* CR3 is written before CR0.PG, which also flushes whatever an earlier round left in the TLB. */
void paging_enable(uint32_t *pd)
{
	write_cr4(read_cr4() | CR4_PSE);
	write_cr3((uint32_t)pd);
	write_cr0(read_cr0() | CR0_PG);
}

void paging_disable(void)
{
	write_cr0(read_cr0() & ~CR0_PG);
}
