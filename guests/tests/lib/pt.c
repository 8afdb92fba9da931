/* Building, walking and editing the test guests' page tables in the 32-bit, PAE and IA-32e
 * formats through one set of functions (pt.h), the pool their tables come from, and turning
 * paging on and off in each mode. */
#include "testlib.h"
#include "pt.h"

/* guest-physical 4-8 MiB: below the test frames, above any image the guests have */
#define POOL_BASE 0x400000u
#define POOL_END  0x800000u

static uint32_t pool_next = POOL_BASE;

/* What pt_activate() changed, for pt_deactivate() to put back. */
static uint32_t saved_cr0, saved_cr4;
static int saved_efer_valid;
static uint64_t saved_efer;

uint32_t pt_alloc_table(void)
{
	if (pool_next >= POOL_END) {
		fail("page-table pool (4-8 MiB) exhausted");
		test_exit();
	}
	uint32_t t = pool_next;
	pool_next += 4096;
	memset((void *)t, 0, 4096);
	return t;
}

/*
 * A PAE PDPT gets all four PDs at once: the CPU reads PDPTEs only at MOV to CR3 (and some
 * CR0/CR4 writes), so one created later would stay not-present until the next CR3 load.
 */
void pt_init(struct pt *pt, enum pt_mode mode)
{
	pt->mode = mode;
	pt->root = pt_alloc_table();
	if (mode == PT_MODE_PAE)
		for (uint32_t i = 0; i < 4; i++)
			pt_write_entry(pt, pt->root + 8 * i,
				       pt_table_entry(pt, 3, pt_alloc_table()));
}

unsigned pt_levels(const struct pt *pt)
{
	return pt->mode == PT_MODE_32 ? 2 : pt->mode == PT_MODE_PAE ? 3 : 4;
}

unsigned pt_entry_size(const struct pt *pt)
{
	return pt->mode == PT_MODE_32 ? 4 : 8;
}

static unsigned level_shift(const struct pt *pt, unsigned level)
{
	return pt->mode == PT_MODE_32 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
}

uint64_t pt_level_size(const struct pt *pt, unsigned level)
{
	return 1ull << level_shift(pt, level);
}

/* The slot of va's entry in `table` (a PAE PDPT index is at most 3: va has 32 bits). */
static uint32_t slot_of(const struct pt *pt, uint32_t table, uint64_t va, unsigned level)
{
	uint32_t mask = pt->mode == PT_MODE_32 ? 1023 : 511;
	return table + (uint32_t)((va >> level_shift(pt, level)) & mask) * pt_entry_size(pt);
}

uint64_t pt_read_entry(const struct pt *pt, uint32_t lin)
{
	volatile uint32_t *p = (volatile uint32_t *)lin;

	if (pt->mode == PT_MODE_32)
		return p[0];
	return p[0] | (uint64_t)p[1] << 32;
}

/*
 * An 8-byte entry is written as two 4-byte stores, the way PAE kernels do: the half with P
 * goes last when the entry becomes present and first when it stops being so, so that no
 * walk between the stores finds a present entry made of two different values.
 */
void pt_write_entry(const struct pt *pt, uint32_t lin, uint64_t e)
{
	volatile uint32_t *p = (volatile uint32_t *)lin;

	if (pt->mode == PT_MODE_32) {
		p[0] = (uint32_t)e;
	} else if (e & PTE_P) {
		p[1] = (uint32_t)(e >> 32);
		p[0] = (uint32_t)e;
	} else {
		p[0] = (uint32_t)e;
		p[1] = (uint32_t)(e >> 32);
	}
}

uint64_t pt_table_entry(const struct pt *pt, unsigned level, uint32_t table)
{
	/* PAE PDPTEs have no R/W, U/S or A bits: those positions are reserved */
	if (pt->mode == PT_MODE_PAE && level == 3)
		return table | PTE_P;
	return table | PTE_P | PTE_W | PTE_U;
}

static int is_large_leaf(unsigned level, uint64_t e)
{
	return level > 1 && (e & PTE_PS);
}

uint32_t pt_entry_addr(const struct pt *pt, uint64_t va, unsigned level)
{
	uint32_t table = pt->root;

	for (unsigned l = pt_levels(pt);; l--) {
		uint32_t slot = slot_of(pt, table, va, l);
		if (l == level)
			return slot;
		uint64_t e = pt_read_entry(pt, slot);
		if (!e || is_large_leaf(l, e))
			return 0;
		table = (uint32_t)e & ~0xfffu;
	}
}

static uint32_t entry_addr_or_die(const struct pt *pt, uint64_t va, unsigned level)
{
	uint32_t slot = pt_entry_addr(pt, va, level);

	if (!slot) {
		fail("no level %u entry for 0x%llx in the test's own tables", level, va);
		test_exit();
	}
	return slot;
}

uint64_t pt_get(const struct pt *pt, uint64_t va, unsigned level)
{
	return pt_read_entry(pt, entry_addr_or_die(pt, va, level));
}

void pt_set(const struct pt *pt, uint64_t va, unsigned level, uint64_t e)
{
	pt_write_entry(pt, entry_addr_or_die(pt, va, level), e);
}

void pt_map(const struct pt *pt, uint64_t va, uint64_t pa, unsigned level, uint64_t flags)
{
	uint32_t table = pt->root;

	for (unsigned l = pt_levels(pt); l > level; l--) {
		uint32_t slot = slot_of(pt, table, va, l);
		uint64_t e = pt_read_entry(pt, slot);
		if (!e) {
			e = pt_table_entry(pt, l, pt_alloc_table());
			pt_write_entry(pt, slot, e);
		} else if (is_large_leaf(l, e)) {
			fail("pt_map 0x%llx: a large page at level %u is in the way", va, l);
			test_exit();
		}
		table = (uint32_t)e & ~0xfffu;
	}
	pt_write_entry(pt, slot_of(pt, table, va, level), pa | flags | (level > 1 ? PTE_PS : 0));
}

void pt_map_identity(const struct pt *pt, uint32_t end, int user)
{
	const uint32_t size = (uint32_t)pt_level_size(pt, 2);

	for (uint32_t va = 0; va < end; va += size)
		pt_map(pt, va, va, 2, PTE_P | PTE_W | (user ? PTE_U : 0));
}

void pt_activate(const struct pt *pt, int nxe)
{
	saved_cr0 = read_cr0();
	saved_cr4 = read_cr4();
	saved_efer_valid = pt->mode != PT_MODE_32;
	if (saved_efer_valid)
		saved_efer = rdmsr(MSR_EFER);
	/* supervisor writes honour read-only pages from the start; the WP tests clear it */
	write_cr0(saved_cr0 | CR0_WP);
	switch (pt->mode) {
	case PT_MODE_32:
		write_cr4(saved_cr4 | CR4_PSE);
		write_cr3(pt->root);
		write_cr0(read_cr0() | CR0_PG);
		break;
	case PT_MODE_PAE:
		write_cr4(saved_cr4 | CR4_PAE);
		if (nxe)
			wrmsr(MSR_EFER, saved_efer | EFER_NXE);
		write_cr3(pt->root); /* with PAE on, CR0.PG loads the PDPTEs from here */
		write_cr0(read_cr0() | CR0_PG);
		break;
	case PT_MODE_IA32E:
		ia32e_enter(pt->root, nxe ? EFER_NXE : 0);
		break;
	}
}

void pt_deactivate(const struct pt *pt)
{
	if (pt->mode == PT_MODE_IA32E)
		ia32e_leave();
	else
		write_cr0(read_cr0() & ~CR0_PG);
	write_cr4(saved_cr4);
	if (saved_efer_valid)
		wrmsr(MSR_EFER, saved_efer);
	write_cr0(saved_cr0);
}

void pt_switch(const struct pt *pt)
{
	write_cr3(pt->root);
}
