/* The paging checks shared by the paging32, paging_pae and paging64 guests (paging_common.c)
 * and the helpers the guests' own mode-specific checks use: test frames with markers, one
 * access that may fault, and verdicts on #PF error code and CR2. */
#ifndef PAGING_COMMON_H
#define PAGING_COMMON_H

#include "testlib.h"
#include "pt.h"

/* Guest-physical layout: the identity map covers the whole 16 MiB VM. */
#define PG_RAM_END    0x1000000u
#define PG_LARGE_BASE 0x800000u /* 4 MiB, 4 MiB-aligned: what large pages map */
#define PG_FRAME_BASE 0xc00000u /* 4 KiB test frames, each with its marker */

/* What every test frame holds in its first word: tells frames apart through any mapping. */
#define PG_MARK(pa) ((uint32_t)(pa) ^ 0x5a5a5a5au)

/* What the CPU offers, and the address space the checks run in. */
struct pg_env {
	struct pt as;
	int pse, pae, pge, nx, gbpages, longmode, smep, smap;
	unsigned maxphys;
};
extern struct pg_env pg;

enum pg_access { PG_READ, PG_WRITE, PG_FETCH };

/* A fresh 4 KiB frame with its marker; one with `mov $ret, %eax; ret` at its start. */
uint32_t pg_frame(void);
uint32_t pg_code_frame(uint32_t ret);
/* A fresh 4 KiB linear page under the tests' first page table. */
uint32_t pg_slot(void);
/* A fresh 4 MiB-aligned linear region: its own PDE (two with 2 MiB PDEs). */
uint32_t pg_region(void);
/*
 * Where in a region the checks that edit upper entries put their page: its page number
 * shares no entry of a direct-mapped 1024-entry TLB (Bochs') with the tables, frames and
 * code, so the translation stays cached until an INVLPG has to remove it.
 */
#define PG_REGION_PAGE 0x1e5000u
const char *pg_level_name(unsigned level);
/* Writes va's entry at `level` in the tests' address space, then INVLPG va. */
void pg_set_flush(uint32_t va, unsigned level, uint64_t e);

/*
 * One access at CPL 0: a 4-byte read, a 4-byte write of val, or a call (the page must hold
 * pg_code_frame() code). Returns NO_FAULT or the vector; the value read or returned by the
 * code is in pg_value, the fault in trap_last.
 */
int pg_try(uint32_t va, enum pg_access a, uint32_t val);
extern volatile uint32_t pg_value;

/* PASS when the access raises #PF with exactly this error code and CR2 (and, for a fetch,
 * EIP = CR2); FAIL lines add "(got ...)" so that the check's name stays the same. */
void pg_expect_pf(const char *what, uint32_t va, enum pg_access a, uint32_t err);
/* The verdict itself, for faults the caller provoked: vec as pg_try() returns it. */
void pg_pf_verdict(const char *what, int vec, uint32_t err, uint64_t addr, uint64_t cr2);
/* PASS when a read or fetch does not fault and gives `want`, or a write does not fault. */
void pg_expect_ok(const char *what, uint32_t va, enum pg_access a, uint32_t want);

/* Set up the mode's address space (identity map, paging on); every check; paging off. */
int pg_begin(enum pt_mode mode);
void pg_common_tests(void);
void pg_end(void);

#endif
