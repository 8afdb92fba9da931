/* Page tables for the test guests in the three x86 formats (32-bit, PAE, IA-32e 4-level)
 * behind one interface: entries are 64-bit values with the same bit names in every format,
 * levels are numbered from the leaf (1: 4 KiB) up to the top table. */
#ifndef TG_PT_H
#define TG_PT_H

#include <stdint.h>

enum pt_mode {
	PT_MODE_32,    /* two levels of 4-byte entries; level 2 may map 4 MiB (CR4.PSE) */
	PT_MODE_PAE,   /* PDPT (4 entries, loaded at CR3 write), PD, PT; level 2 maps 2 MiB */
	PT_MODE_IA32E, /* PML4, PDPT, PD, PT; level 3 maps 1 GiB where CPUID says so */
};

/* Entry bits: the same positions in all three formats; NX only with PAE and IA-32e. */
#define PTE_P	(1ull << 0)
#define PTE_W	(1ull << 1)
#define PTE_U	(1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A	(1ull << 5)
#define PTE_D	(1ull << 6)
#define PTE_PS	(1ull << 7) /* in a level 2 or 3 entry: this entry is the leaf */
#define PTE_G	(1ull << 8)
#define PTE_NX	(1ull << 63)

/* #PF error code bits */
#define PF_P	(1u << 0)
#define PF_W	(1u << 1)
#define PF_U	(1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I	(1u << 4)

#define MSR_EFER 0xc0000080u
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

/* One address space: the mode and the physical (also identity-mapped) address of its top
 * table, which is what CR3 holds. */
struct pt {
	enum pt_mode mode;
	uint32_t root;
};

/* Tables come from a pool at 4-8 MiB of guest-physical memory; a page is zeroed when taken. */
uint32_t pt_alloc_table(void);

void pt_init(struct pt *pt, enum pt_mode mode);
unsigned pt_levels(const struct pt *pt);
unsigned pt_entry_size(const struct pt *pt);
uint64_t pt_level_size(const struct pt *pt, unsigned level);

/*
 * Maps va to pa with the leaf at `level` (PS is added above level 1); flags are the leaf's
 * (include PTE_P). Missing tables on the way are created present, writable and user, so
 * that the leaf alone decides unless a test changes an upper entry.
 */
void pt_map(const struct pt *pt, uint64_t va, uint64_t pa, unsigned level, uint64_t flags);

/* The non-leaf entry at `level` that points at `table` (a PAE PDPTE has only P). */
uint64_t pt_table_entry(const struct pt *pt, unsigned level, uint32_t table);

/*
 * Physical address of the entry for va at `level`, 0 if a table on the way is missing or a
 * large page ends the walk first. The walk follows entries a test made not-present (any
 * non-zero entry), so that they can be put back.
 */
uint32_t pt_entry_addr(const struct pt *pt, uint64_t va, unsigned level);
uint64_t pt_get(const struct pt *pt, uint64_t va, unsigned level);
void pt_set(const struct pt *pt, uint64_t va, unsigned level, uint64_t e);
/* Writes an entry at a linear address (identity, an alias, a self-map window < 4 GiB). */
void pt_write_entry(const struct pt *pt, uint32_t lin, uint64_t e);
uint64_t pt_read_entry(const struct pt *pt, uint32_t lin);

/*
 * Identity-maps [0, end) with supervisor, writable large pages (4 MiB or 2 MiB); `user`
 * makes them user pages too, which code at CPL 3 needs (and SMEP and SMAP forbid).
 */
void pt_map_identity(const struct pt *pt, uint32_t end, int user);

/*
 * Paging on with pt (paging must be off): CR4.PSE for 32-bit, CR4.PAE, EFER.NXE when
 * `nxe`, IA-32e mode entered in compatibility mode for PT_MODE_IA32E; CR0.WP is set.
 * pt_deactivate() undoes all of it, pt_switch() loads another CR3 of the same mode.
 */
void pt_activate(const struct pt *pt, int nxe);
void pt_deactivate(const struct pt *pt);
void pt_switch(const struct pt *pt);

static inline void invlpg(uint32_t va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* ia32e.c: IA-32e mode entered from and left to 32-bit protected mode, the 64-bit IDT that
 * hands exceptions to trap_dispatch(), and 64-bit linear accesses from compatibility mode. */
void ia32e_enter(uint32_t cr3, uint32_t efer_bits);
void ia32e_leave(void);
uint64_t peek64(uint64_t lin);
void poke64(uint64_t lin, uint64_t val);
void invlpg64(uint64_t lin);
/* CR2 and RIP of the last exception taken in IA-32e mode, all 64 bits */
extern volatile uint64_t ia32e_cr2, ia32e_rip;

#endif
