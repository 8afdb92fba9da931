/* paging_checks: the paging semantics all three x86 paging modes share, checked in the mode
 * the guest chose: 4 KiB and large pages, TLB invalidation by INVLPG and MOV to CR3,
 * accessed and dirty bits, #PF error codes and CR2 (protection, user, NX, reserved bits,
 * upper levels), CR0.WP, a self-mapped table, edits through other mappings of a table, two
 * address spaces, global pages, SMEP and SMAP. */
#include "paging_common.h"

/* Quietly: does va read `want`? For preconditions folded into one check. */
static int reads(uint32_t va, uint32_t want)
{
	return pg_try(va, PG_READ, 0) == NO_FAULT && pg_value == want;
}

static uint32_t peek32(uint32_t pa)
{
	return *(volatile uint32_t *)pa;
}

static int has_a_bit(unsigned level)
{
	return !(pg.as.mode == PT_MODE_PAE && level == 3); /* PAE PDPTEs have no A bit */
}

/* Clears A on every level of va's walk from `leaf` up, and D in the leaf; then INVLPG. */
static void clear_accessed_dirty(uint32_t va, unsigned leaf)
{
	for (unsigned l = leaf; l <= pt_levels(&pg.as); l++) {
		if (!has_a_bit(l))
			continue;
		uint64_t e = pt_get(&pg.as, va, l);
		pt_set(&pg.as, va, l, e & ~(PTE_A | (l == leaf ? PTE_D : 0)));
	}
	invlpg(va);
}

static void check_accessed(const char *what, uint32_t va, unsigned leaf)
{
	for (unsigned l = leaf; l <= pt_levels(&pg.as); l++)
		if (has_a_bit(l))
			check(pt_get(&pg.as, va, l) & PTE_A, "%s sets A in the %s", what,
			      pg_level_name(l));
}

static void test_map(void)
{
	uint32_t va = pg_slot(), f = pg_frame();

	pt_map(&pg.as, va, f, 1, PTE_P | PTE_W);
	pg_expect_ok("4 KiB page: a read sees the mapped frame", va, PG_READ, PG_MARK(f));
	*(volatile uint32_t *)(f + 0x804) = 0x0ff5e7;
	pg_expect_ok("4 KiB page: a read at offset 0x804 sees the frame's offset 0x804", va + 0x804,
		     PG_READ, 0x0ff5e7);
	pg_expect_ok("4 KiB page: a write through the mapping", va + 8, PG_WRITE, 0x600d);
	check(peek32(f + 8) == 0x600d, "4 KiB page: the write landed in the mapped frame");
}

static void test_large_page(void)
{
	const uint32_t size = (uint32_t)pt_level_size(&pg.as, 2);
	const char *name = size == 0x400000 ? "4 MiB page" : "2 MiB page";
	/* a page number that no other access of this test shares in a direct-mapped TLB of
	 * 1024 entries (Bochs'), so that its translation stays cached until the INVLPG */
	const uint32_t probe = size / 2 + 0x80000;
	const uint32_t offsets[4] = {0, 0x1000, probe, size - 0x1000};
	uint32_t va = pg_region(), pa = PG_LARGE_BASE;
	/* what the remapped page will show: guest-physical 0 onwards, through the identity map */
	const uint32_t remapped = peek32(probe);
	int ok = 1;

	for (int i = 0; i < 4; i++)
		*(volatile uint32_t *)(pa + offsets[i]) = PG_MARK(pa + offsets[i]);
	pt_map(&pg.as, va, pa, 2, PTE_P | PTE_W);
	for (int i = 0; i < 4; i++)
		ok &= reads(va + offsets[i], PG_MARK(pa + offsets[i]));
	check(ok, "%s: reads at four offsets up to its last 4 KiB see the right frames", name);
	uint64_t e = pt_get(&pg.as, va, 2);
	check((e & PTE_A) && !(e & PTE_D), "%s: reads set A and leave D clear in the PDE", name);
	pg_expect_ok("large page: a write through it", va + probe + 16, PG_WRITE, 0x1a26e);
	check(pt_get(&pg.as, va, 2) & PTE_D, "%s: the write sets D in the PDE", name);
	pt_set(&pg.as, va, 2, PTE_P | PTE_W | PTE_PS);
	invlpg(va + 0x3000);
	check(reads(va + probe, remapped),
	      "%s remapped: INVLPG of another address inside it flushes all of it", name);
	check(peek32(pa + probe + 16) == 0x1a26e, "%s: the write had landed in the right frame",
	      name);
}

static void test_remap(void)
{
	uint32_t va = pg_slot(), f1 = pg_frame(), f2 = pg_frame();

	pt_map(&pg.as, va, f1, 1, PTE_P | PTE_W);
	pg_expect_ok("remap: before, a read sees the first frame", va, PG_READ, PG_MARK(f1));
	pg_set_flush(va, 1, f2 | PTE_P | PTE_W);
	pg_expect_ok("remap + INVLPG: a read sees the new frame", va, PG_READ, PG_MARK(f2));
	pg_expect_ok("remap + INVLPG: a write", va + 4, PG_WRITE, 0x2e3a9);
	check(peek32(f2 + 4) == 0x2e3a9 && peek32(f1 + 4) == 0,
	      "remap + INVLPG: the write reached the new frame, not the old one");
}

static void test_unmap(void)
{
	uint32_t va = pg_slot(), never = pg_slot(), f = pg_frame();

	pt_map(&pg.as, va, f, 1, PTE_P | PTE_W);
	pg_expect_ok("unmap: before, a read works", va, PG_READ, PG_MARK(f));
	pt_set(&pg.as, va, 1, f | PTE_W); /* P clear, the rest kept */
	invlpg(va);
	pg_expect_pf("unmap (P=0) + INVLPG: a read", va, PG_READ, 0);
	pg_expect_pf("unmap (P=0) + INVLPG: a write", va + 8, PG_WRITE, PF_W);
	/* no INVLPG: a not-present entry is never cached */
	pt_set(&pg.as, va, 1, f | PTE_P | PTE_W);
	pg_expect_ok("mapped again without INVLPG: the read works", va, PG_READ, PG_MARK(f));
	pg_expect_pf("a PTE that was never present: a read", never, PG_READ, 0);
	pt_map(&pg.as, never, f, 1, PTE_P | PTE_W);
	pg_expect_ok("that PTE made present without INVLPG: the read works", never, PG_READ,
		     PG_MARK(f));
}

static void test_accessed_dirty(void)
{
	uint32_t va = pg_slot(), wva = pg_slot(), f = pg_frame(), wf = pg_frame();

	pt_map(&pg.as, va, f, 1, PTE_P | PTE_W);
	clear_accessed_dirty(va, 1);
	pg_expect_ok("A/D: a first read works", va, PG_READ, PG_MARK(f));
	check_accessed("A/D: a read", va, 1);
	check(!(pt_get(&pg.as, va, 1) & PTE_D), "A/D: a read leaves D clear in the PTE");
	pg_expect_ok("A/D: then a write works", va + 4, PG_WRITE, 1);
	check(pt_get(&pg.as, va, 1) & PTE_D, "A/D: a write after the read sets D in the PTE");

	clear_accessed_dirty(va, 1);
	pg_expect_ok("A/D cleared by the guest (INVLPG): a read works", va, PG_READ, PG_MARK(f));
	check_accessed("A/D cleared by the guest: a read", va, 1);
	check(!(pt_get(&pg.as, va, 1) & PTE_D), "A/D cleared by the guest: a read leaves D clear");
	pg_expect_ok("A/D cleared by the guest: a write works", va + 4, PG_WRITE, 2);
	check(pt_get(&pg.as, va, 1) & PTE_D, "A/D cleared by the guest: a write sets D again");

	pt_map(&pg.as, wva, wf, 1, PTE_P | PTE_W);
	clear_accessed_dirty(wva, 1);
	pg_expect_ok("A/D: a first access that writes", wva, PG_WRITE, 3);
	uint64_t e = pt_get(&pg.as, wva, 1);
	check((e & PTE_A) && (e & PTE_D),
	      "A/D: a first access that writes sets A and D in the PTE");
}

static void test_protection(void)
{
	uint32_t va = pg_slot(), f = pg_frame();

	pt_map(&pg.as, va, f, 1, PTE_P);
	pg_expect_ok("read-only page: a read works", va, PG_READ, PG_MARK(f));
	pg_expect_pf("read-only page: a supervisor write with CR0.WP=1", va, PG_WRITE, PF_P | PF_W);
	check(peek32(f) == PG_MARK(f), "read-only page: the faulting write changed nothing");
	pg_set_flush(va, 1, pt_get(&pg.as, va, 1) | PTE_W);
	pg_expect_ok("read-only page made writable (INVLPG): the write works", va, PG_WRITE, 5);
	pg_set_flush(va, 1, pt_get(&pg.as, va, 1) & ~PTE_W);
	pg_expect_pf("writable page made read-only (INVLPG): a supervisor write", va, PG_WRITE,
		     PF_P | PF_W);
}

/* Each edit of an upper entry follows an access that cached the translation (a fault would
 * have dropped it anyway), so that the INVLPG matters. */
static void test_upper_levels(void)
{
	uint32_t va = pg_region() + PG_REGION_PAGE, f = pg_frame();

	pt_map(&pg.as, va, f, 1, PTE_P | PTE_W);
	pg_expect_ok("upper levels: the page is written", va + 4, PG_WRITE, 0x4b);
	uint64_t pde = pt_get(&pg.as, va, 2);
	pg_set_flush(va, 2, pde & ~PTE_W);
	pg_expect_pf("read-only PDE over a writable PTE (INVLPG): a supervisor write", va, PG_WRITE,
		     PF_P | PF_W);
	pg_set_flush(va, 2, pde);
	pg_expect_ok("PDE writable again (INVLPG): the page reads", va, PG_READ, PG_MARK(f));
	pg_set_flush(va, 2, pde & ~PTE_P);
	pg_expect_pf("not-present PDE (INVLPG): a read", va, PG_READ, 0);
	pg_expect_pf("not-present PDE: a write", va, PG_WRITE, PF_W);
	pt_set(&pg.as, va, 2, pde);
	pg_expect_ok("PDE present again, without INVLPG: the page reads", va, PG_READ, PG_MARK(f));
	if (pg.as.mode != PT_MODE_IA32E)
		return; /* PAE's PDPTEs are loaded at MOV to CR3: paging_pae.c */
	uint64_t pdpte = pt_get(&pg.as, va, 3);
	pg_expect_ok("upper levels: the page is written again", va + 4, PG_WRITE, 0x4c);
	pg_set_flush(va, 3, pdpte & ~PTE_W);
	pg_expect_pf("read-only PDPTE over writable PDE and PTE (INVLPG): a supervisor write", va,
		     PG_WRITE, PF_P | PF_W);
	pg_set_flush(va, 3, pdpte);
	pg_expect_ok("PDPTE writable again (INVLPG): the page reads", va, PG_READ, PG_MARK(f));
	pg_set_flush(va, 3, pdpte & ~PTE_P);
	pg_expect_pf("not-present PDPTE (INVLPG): a read", va, PG_READ, 0);
	pt_set(&pg.as, va, 3, pdpte);
	pg_expect_ok("PDPTE present again, without INVLPG: the page reads", va, PG_READ,
		     PG_MARK(f));
}

static void test_reserved_bits(void)
{
	uint32_t va = pg_slot(), f = pg_frame(), r = pg_region();

	pt_map(&pg.as, va, f, 1, PTE_P | PTE_W);
	if (pg.as.mode == PT_MODE_32) {
		/* bits 21:(MAXPHYADDR-19) of a 4 MiB PDE are reserved; bit 21 always is */
		pt_map(&pg.as, r, PG_LARGE_BASE, 2, PTE_P | PTE_W | (1u << 21));
		pg_expect_pf("4 MiB PDE with reserved bit 21 set: a read", r, PG_READ,
			     PF_P | PF_RSVD);
		return;
	}
	if (pg.maxphys < 52) {
		pg_set_flush(va, 1, f | PTE_P | PTE_W | (1ull << pg.maxphys));
		pg_expect_pf("PTE with address bit MAXPHYADDR set (reserved): a read", va, PG_READ,
			     PF_P | PF_RSVD);
		pg_expect_pf("PTE with address bit MAXPHYADDR set (reserved): a write", va,
			     PG_WRITE, PF_P | PF_W | PF_RSVD);
		pg_set_flush(va, 1, f | PTE_P | PTE_W);
		pg_expect_ok("PTE without the reserved bit again: the read works", va, PG_READ,
			     PG_MARK(f));
	} else {
		skip("PTE reserved address bits: MAXPHYADDR is 52");
	}
	/* bits 20:13 of a 2 MiB PDE are reserved */
	pt_map(&pg.as, r, PG_LARGE_BASE, 2, PTE_P | PTE_W | (1u << 13));
	pg_expect_pf("2 MiB PDE with reserved bit 13 set: a read", r, PG_READ, PF_P | PF_RSVD);
	if (!pg.nx) {
		skip("bit 63 reserved while EFER.NXE=0: the CPU has no NX");
		return;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)EFER_NXE);
	pg_set_flush(va, 1, f | PTE_P | PTE_W | PTE_NX);
	pg_expect_pf("PTE with bit 63 (NX) set while EFER.NXE=0 (reserved): a read", va, PG_READ,
		     PF_P | PF_RSVD);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	pg_expect_ok("the same PTE with EFER.NXE=1: the read works", va, PG_READ, PG_MARK(f));
}

static void test_nx(void)
{
	if (pg.as.mode == PT_MODE_32 || !pg.nx) {
		pg_expect_pf(pg.as.mode == PT_MODE_32
				 ? "fetch from a not-present page (32-bit paging, no SMEP: no I/D)"
				 : "fetch from a not-present page (no NX, no SMEP: no I/D)",
			     pg_slot(), PG_FETCH, 0);
		if (pg.as.mode != PT_MODE_32)
			skip("NX: CPUID 0x80000001 EDX bit 20 is clear");
		return;
	}
	uint32_t va = pg_slot(), c = pg_code_frame(0x11c0de);
	pt_map(&pg.as, va, c, 1, PTE_P | PTE_W);
	pg_expect_ok("NX clear: a call runs the page's code", va, PG_FETCH, 0x11c0de);
	pg_set_flush(va, 1, pt_get(&pg.as, va, 1) | PTE_NX);
	pg_expect_pf("NX set (INVLPG): a supervisor fetch", va, PG_FETCH, PF_P | PF_I);
	pg_expect_ok("NX set: a read of the page works", va, PG_READ, peek32(c));
	pg_set_flush(va, 1, pt_get(&pg.as, va, 1) & ~PTE_NX);
	pg_expect_ok("NX cleared again (INVLPG): the call works", va, PG_FETCH, 0x11c0de);

	uint32_t r = pg_region() + PG_REGION_PAGE, c2 = pg_code_frame(0x22c0de);
	pt_map(&pg.as, r, c2, 1, PTE_P | PTE_W);
	pg_expect_ok("NX clear in PDE and PTE: a call runs the code", r, PG_FETCH, 0x22c0de);
	uint64_t pde = pt_get(&pg.as, r, 2);
	pg_set_flush(r, 2, pde | PTE_NX);
	pg_expect_pf("NX in the PDE over an executable PTE (INVLPG): a fetch", r, PG_FETCH,
		     PF_P | PF_I);
	pg_set_flush(r, 2, pde);
	pg_expect_ok("NX cleared in the PDE (INVLPG): the call works", r, PG_FETCH, 0x22c0de);
	pg_expect_pf("fetch from a not-present page (EFER.NXE=1: I/D set)", pg_slot(), PG_FETCH,
		     PF_I);
}

/* At CPL 3, through run_at_cpl3(): the address and value live where ring 3 reaches them. */
static volatile uint32_t user_va, user_val;

static void user_read(void)
{
	user_val = *(volatile uint32_t *)user_va;
}

static void user_write(void)
{
	*(volatile uint32_t *)user_va = user_val;
}

static int user_try(uint32_t va, enum pg_access a, uint32_t val)
{
	user_va = va;
	user_val = val;
	return run_at_cpl3(a == PG_READ ? user_read : user_write);
}

static void user_expect_pf(const char *what, uint32_t va, enum pg_access a, uint32_t err)
{
	int vec = user_try(va, a, 0xbad0bad0);

	pg_pf_verdict(what, vec, err, va, trap_last.cr2);
}

static void user_expect_ok(const char *what, uint32_t va, enum pg_access a, uint32_t want)
{
	int vec = user_try(va, a, want);

	if (vec != NO_FAULT)
		fail("%s (got vector %d, error 0x%x, CR2 0x%x)", what, vec, trap_last.error,
		     trap_last.cr2);
	else if (a == PG_READ && user_val != want)
		fail("%s (got 0x%x, want 0x%x)", what, user_val, want);
	else
		pass("%s", what);
}

static void test_user(void)
{
	/* ring 3's code and stack are in the identity map: a user mapping while these run */
	pt_map_identity(&pg.as, PG_RAM_END, 1);
	write_cr3(read_cr3()); /* U went from 0 to 1: stale supervisor translations would fault */

	uint32_t va = pg_slot(), f = pg_frame();
	pt_map(&pg.as, va, f, 1, PTE_P | PTE_W | PTE_U);
	user_expect_ok("CPL 3: a read of a user page", va, PG_READ, PG_MARK(f));
	user_expect_ok("CPL 3: a write to a user page", va + 4, PG_WRITE, 0x3e3);
	check(peek32(f + 4) == 0x3e3, "CPL 3: the write landed in the frame");

	uint32_t ro = pg_slot(), rof = pg_frame();
	pt_map(&pg.as, ro, rof, 1, PTE_P | PTE_U);
	user_expect_ok("CPL 3: a read of a read-only user page", ro, PG_READ, PG_MARK(rof));
	user_expect_pf("CPL 3: a write to a read-only user page", ro, PG_WRITE, PF_P | PF_W | PF_U);

	uint32_t sup = pg_slot(), supf = pg_frame();
	pt_map(&pg.as, sup, supf, 1, PTE_P | PTE_W);
	user_expect_pf("CPL 3: a read of a supervisor page", sup, PG_READ, PF_P | PF_U);
	user_expect_pf("CPL 3: a write to a supervisor page", sup, PG_WRITE, PF_P | PF_W | PF_U);

	uint32_t np = pg_slot();
	user_expect_pf("CPL 3: a read of a not-present page", np, PG_READ, PF_U);
	user_expect_pf("CPL 3: a write to a not-present page", np, PG_WRITE, PF_W | PF_U);

	/* upper entries: each edit follows a user access that cached the translation */
	uint32_t r = pg_region() + PG_REGION_PAGE, rf = pg_frame();
	pt_map(&pg.as, r, rf, 1, PTE_P | PTE_W | PTE_U);
	user_expect_ok("CPL 3: a write to a user page in a region of its own", r + 4, PG_WRITE, 7);
	uint64_t pde = pt_get(&pg.as, r, 2);
	pg_set_flush(r, 2, pde & ~PTE_U);
	user_expect_pf("CPL 3: a read under a supervisor PDE (user PTE, INVLPG)", r, PG_READ,
		       PF_P | PF_U);
	pg_set_flush(r, 2, pde);
	user_expect_ok("CPL 3: the PDE a user one again (INVLPG): a write works", r + 4, PG_WRITE,
		       8);
	pg_set_flush(r, 2, pde & ~PTE_W);
	user_expect_pf("CPL 3: a write under a read-only PDE (writable PTE, INVLPG)", r + 4,
		       PG_WRITE, PF_P | PF_W | PF_U);
	user_expect_ok("CPL 3: a read under a read-only PDE works", r, PG_READ, PG_MARK(rf));
	pg_set_flush(r, 2, pde);
	if (pg.as.mode == PT_MODE_IA32E) {
		uint64_t pdpte = pt_get(&pg.as, r, 3);
		user_expect_ok("CPL 3: the page reads before the PDPTE edit", r, PG_READ,
			       PG_MARK(rf));
		pg_set_flush(r, 3, pdpte & ~PTE_U);
		user_expect_pf("CPL 3: a read under a supervisor PDPTE (INVLPG)", r, PG_READ,
			       PF_P | PF_U);
		pg_set_flush(r, 3, pdpte);
	}
	user_expect_ok("CPL 3: the upper entries restored, the read works", r, PG_READ,
		       PG_MARK(rf));

	pt_map_identity(&pg.as, PG_RAM_END, 0);
	write_cr3(read_cr3());
}

static void test_write_protect(void)
{
	uint32_t va = pg_slot(), f = pg_frame();

	pt_map(&pg.as, va, f, 1, PTE_P); /* read-only, A and D clear */
	pg_expect_ok("CR0.WP: a read of a read-only page", va, PG_READ, PG_MARK(f));
	write_cr0(read_cr0() & ~CR0_WP);
	pg_expect_ok("CR0.WP=0: a supervisor write to a read-only page works", va, PG_WRITE, 0x3a9);
	check(peek32(f) == 0x3a9, "CR0.WP=0: the write reached the frame");
	check(pt_get(&pg.as, va, 1) & PTE_D, "CR0.WP=0: the write sets D in the read-only PTE");
	write_cr0(read_cr0() | CR0_WP);
	pg_expect_pf("CR0.WP=1 again: the same write faults", va, PG_WRITE, PF_P | PF_W);
}

/*
 * The self-map: 32-bit paging points PD[1023] at the PD itself; PAE cannot loop its PDPT
 * (no such entry format) and loops the tests' PD instead (its entry 511); IA-32e points
 * PML4[511] at the PML4, a window reached only with 64-bit addresses.
 */
#define SELF32_WINDOW  0xffc00000u
#define SELFPAE_PD_VA  0x40000000u /* what the PD with the loop maps */
#define SELFPAE_WINDOW 0x7fe00000u
#define SELF64_WINDOW  0xffffff8000000000ull

static uint64_t self_lin(uint32_t va, unsigned level)
{
	switch (pg.as.mode) {
	case PT_MODE_32:
		return level == 1 ? SELF32_WINDOW + (va >> 12) * 4
				  : SELF32_WINDOW + 1023 * 4096 + (va >> 22) * 4;
	case PT_MODE_PAE:
		return level == 1 ? SELFPAE_WINDOW + ((va - SELFPAE_PD_VA) >> 12) * 8
				  : SELFPAE_WINDOW + 511 * 4096 + ((va - SELFPAE_PD_VA) >> 21) * 8;
	case PT_MODE_IA32E:
	default: {
		/* each level up, the window is the slot 511 of the one before */
		uint64_t base = SELF64_WINDOW;
		for (unsigned l = 1; l < level; l++)
			base += 511ull << (30 - 9 * (l - 1));
		return base + ((uint64_t)va >> (12 + 9 * (level - 1))) * 8;
	}
	}
}

static uint64_t self_read(uint32_t va, unsigned level)
{
	uint64_t lin = self_lin(va, level);
	return pg.as.mode == PT_MODE_IA32E ? peek64(lin) : pt_read_entry(&pg.as, (uint32_t)lin);
}

static void self_write(uint32_t va, unsigned level, uint64_t e)
{
	uint64_t lin = self_lin(va, level);
	if (pg.as.mode == PT_MODE_IA32E)
		poke64(lin, e);
	else
		pt_write_entry(&pg.as, (uint32_t)lin, e);
}

static void test_self_map(void)
{
	static const char *const what[] = {"PD[1023] -> PD", "test PD[511] -> itself",
					   "PML4[511] -> PML4"};
	uint32_t va = pg_slot(), f1 = pg_frame(), f2 = pg_frame();
	uint64_t loop_va;
	unsigned loop_level;

	pt_map(&pg.as, va, f1, 1, PTE_P | PTE_W);
	pg_expect_ok("self-map: the test page reads", va, PG_READ, PG_MARK(f1));
	if (pg.as.mode == PT_MODE_32) {
		loop_va = SELF32_WINDOW, loop_level = 2;
		pt_set(&pg.as, loop_va, 2, pg.as.root | PTE_P | PTE_W);
	} else if (pg.as.mode == PT_MODE_PAE) {
		loop_va = SELFPAE_WINDOW, loop_level = 2;
		uint32_t pd = (uint32_t)pt_get(&pg.as, SELFPAE_PD_VA, 3) & ~0xfffu;
		pt_set(&pg.as, loop_va, 2, pd | PTE_P | PTE_W);
	} else {
		loop_va = SELF64_WINDOW, loop_level = 4;
		pt_set(&pg.as, loop_va, 4, pg.as.root | PTE_P | PTE_W);
	}
	tprintf("self-map: %s\n", what[pg.as.mode]);

	int same = 1;
	for (unsigned l = 1; l <= loop_level; l++)
		same &= self_read(va, l) == pt_get(&pg.as, va, l);
	check(same, "self-map: every entry of the walk read through the window matches the table");
	if (pg.as.mode == PT_MODE_IA32E)
		check(self_read(0, 4) == pt_get(&pg.as, 0, 4) &&
			  peek64(SELF64_WINDOW + 0x7ffffff000ull + 511 * 8) ==
			      pt_get(&pg.as, loop_va, 4),
		      "self-map: the PML4 read through the window holds its own loop entry");
	self_write(va, 1, f2 | PTE_P | PTE_W);
	invlpg(va);
	pg_expect_ok("self-map: a PTE written through the window remaps the page (INVLPG)", va,
		     PG_READ, PG_MARK(f2));
	check((pt_get(&pg.as, va, 1) & ~(PTE_A | PTE_D)) == (f2 | PTE_P | PTE_W),
	      "self-map: the write through the window reached the table");
	self_write(va, 1, f2 | PTE_W);
	invlpg(va);
	pg_expect_pf("self-map: a PTE cleared through the window unmaps the page (INVLPG)", va,
		     PG_READ, 0);
	pt_set(&pg.as, loop_va, loop_level, 0);
	write_cr3(read_cr3()); /* the window's translations go with the loop */
}

static void test_code_remap(void)
{
	uint32_t va = pg_slot(), c1 = pg_code_frame(0xc0de1), c2 = pg_code_frame(0xc0de2);

	pt_map(&pg.as, va, c1, 1, PTE_P | PTE_W);
	pg_expect_ok("code page: a call runs the mapped code", va, PG_FETCH, 0xc0de1);
	pg_set_flush(va, 1, c2 | PTE_P | PTE_W);
	pg_expect_ok("code page remapped (INVLPG): a call runs the new frame's code", va, PG_FETCH,
		     0xc0de2);
	*(volatile uint8_t *)(c2 + 1) = 0x33; /* mov $0xc0d33, %eax */
	pg_expect_ok("code page rewritten through its identity mapping: a call runs the new bytes",
		     va, PG_FETCH, 0xc0d33);
}

/* A page table mapped as data somewhere else: reads and writes of PTEs through it. */
static void test_table_alias(void)
{
	uint32_t va = pg_slot(), f1 = pg_frame(), f2 = pg_frame(), alias = pg_region();

	pt_map(&pg.as, va, f1, 1, PTE_P | PTE_W);
	pg_expect_ok("table alias: the page reads before", va, PG_READ, PG_MARK(f1));
	uint32_t pte = pt_entry_addr(&pg.as, va, 1);
	pt_map(&pg.as, alias, pte & ~0xfffu, 1, PTE_P | PTE_W);
	uint32_t lin = alias + (pte & 0xfff);
	check(pt_read_entry(&pg.as, lin) == pt_get(&pg.as, va, 1),
	      "table alias: the PTE read through a second mapping of its table matches");
	pt_write_entry(&pg.as, lin, f2 | PTE_P | PTE_W);
	invlpg(va);
	pg_expect_ok("table alias: a PTE written through a second mapping takes effect (INVLPG)",
		     va, PG_READ, PG_MARK(f2));
}

/* A page table that maps itself through one of its own PTEs, edited through that mapping. */
static void test_table_maps_itself(void)
{
	uint32_t va = pg_slot(), self = pg_slot(), f1 = pg_frame(), f2 = pg_frame();

	pt_map(&pg.as, va, f1, 1, PTE_P | PTE_W);
	pg_expect_ok("table mapping itself: the page reads before", va, PG_READ, PG_MARK(f1));
	uint32_t table = pt_entry_addr(&pg.as, va, 1) & ~0xfffu;
	pt_map(&pg.as, self, table, 1, PTE_P | PTE_W);
	uint32_t lin_va = self + (pt_entry_addr(&pg.as, va, 1) & 0xfff);
	uint32_t lin_self = self + (pt_entry_addr(&pg.as, self, 1) & 0xfff);
	pt_write_entry(&pg.as, lin_va, f2 | PTE_P | PTE_W);
	invlpg(va);
	pg_expect_ok("table mapping itself: a PTE edited through it takes effect (INVLPG)", va,
		     PG_READ, PG_MARK(f2));
	/* the PTE that translates this very store becomes read-only */
	pt_write_entry(&pg.as, lin_self, table | PTE_P);
	invlpg(self);
	check((pt_get(&pg.as, self, 1) & ~(PTE_A | PTE_D)) == (table | PTE_P),
	      "table mapping itself: its own PTE made read-only through itself");
	pg_expect_pf("table mapping itself, now read-only: a write through it", lin_va, PG_WRITE,
		     PF_P | PF_W);
	pg_expect_ok("table mapping itself, now read-only: a read through it works", lin_va,
		     PG_READ, (uint32_t)pt_get(&pg.as, va, 1));
	pg_set_flush(self, 1, 0);
}

/* A page used as data (and written through a cached writable translation) that becomes a
 * page table while that mapping stays: writes through it must still reach the walks. */
static void test_new_table(void)
{
	const uint32_t esz = pt_entry_size(&pg.as);
	uint32_t t = pt_alloc_table(), alias = pg_region(), r = pg_region();
	uint32_t f1 = pg_frame(), f2 = pg_frame();

	pt_map(&pg.as, alias, t, 1, PTE_P | PTE_W);
	pg_expect_ok("new table: the page is written as data first", alias + 64, PG_WRITE, 0xda7a);
	pt_write_entry(&pg.as, alias + 64, 0);
	pt_write_entry(&pg.as, alias + 3 * esz, f1 | PTE_P | PTE_W);
	pt_set(&pg.as, r, 2, pt_table_entry(&pg.as, 2, t)); /* linked in: the PDE was not present */
	pg_expect_ok("new table: a PTE written through the data mapping before linking is used",
		     r + 3 * 4096, PG_READ, PG_MARK(f1));
	pt_write_entry(&pg.as, alias + 3 * esz, f2 | PTE_P | PTE_W);
	invlpg(r + 3 * 4096);
	pg_expect_ok("new table: a PTE changed through the data mapping after linking takes effect "
		     "(INVLPG)",
		     r + 3 * 4096, PG_READ, PG_MARK(f2));
	pt_write_entry(&pg.as, alias + 5 * esz, f1 | PTE_P | PTE_W);
	pg_expect_ok("new table: a PTE made present through the data mapping needs no INVLPG",
		     r + 5 * 4096, PG_READ, PG_MARK(f1));
}

static void test_address_spaces(void)
{
	struct pt as2;
	uint32_t x = pg_slot(), fa = pg_frame(), fb = pg_frame(), fc = pg_frame();
	uint32_t s = pg_region() + PG_REGION_PAGE, fs1 = pg_frame(), fs2 = pg_frame();
	int ok = 1;

	pt_init(&as2, pg.as.mode);
	pt_map_identity(&as2, PG_RAM_END, 0);
	pt_map(&pg.as, x, fa, 1, PTE_P | PTE_W);
	pt_map(&as2, x, fb, 1, PTE_P | PTE_W);
	/* one page table under both address spaces: their PDEs for s point at it */
	pt_map(&pg.as, s, fs1, 1, PTE_P | PTE_W);
	pt_set(&as2, s, 2, pt_get(&pg.as, s, 2));

	for (int i = 0; i < 8; i++) {
		pt_switch(&as2);
		ok &= reads(x, PG_MARK(fb));
		pt_switch(&pg.as);
		ok &= reads(x, PG_MARK(fa));
	}
	check(ok, "two address spaces: over 8 round trips of CR3 each sees its own frame");
	pt_set(&as2, x, 1, fc | PTE_P | PTE_W);
	pt_switch(&as2);
	pg_expect_ok("two address spaces: an edit made while the other was active is seen there", x,
		     PG_READ, PG_MARK(fc));
	pt_switch(&pg.as);
	pg_expect_ok("two address spaces: the first still sees its own frame", x, PG_READ,
		     PG_MARK(fa));

	pg_expect_ok("shared table: the first address space reads through it", s, PG_READ,
		     PG_MARK(fs1));
	pt_switch(&as2);
	pg_expect_ok("shared table: the second reads the same frame", s, PG_READ, PG_MARK(fs1));
	pg_set_flush(s, 1, fs2 | PTE_P | PTE_W);
	pg_expect_ok("shared table: an edit is seen in the second (INVLPG)", s, PG_READ,
		     PG_MARK(fs2));
	pt_switch(&pg.as);
	pg_expect_ok("shared table: and in the first after MOV to CR3", s, PG_READ, PG_MARK(fs2));
}

static void test_cr3_flush(void)
{
	uint32_t va = pg_slot(), f1 = pg_frame(), f2 = pg_frame();

	pt_map(&pg.as, va, f1, 1, PTE_P | PTE_W);
	pg_expect_ok("MOV to CR3: the page reads before", va, PG_READ, PG_MARK(f1));
	pt_set(&pg.as, va, 1, f2 | PTE_P | PTE_W); /* no INVLPG */
	write_cr3(read_cr3());
	pg_expect_ok("MOV to CR3 (same value) flushes a changed non-global translation", va,
		     PG_READ, PG_MARK(f2));
}

static void test_global(void)
{
	if (!pg.pge) {
		skip("global pages: CPUID 1 EDX bit 13 (PGE) is clear");
		return;
	}
	uint32_t va = pg_slot(), f1 = pg_frame(), f2 = pg_frame(), f3 = pg_frame();

	write_cr4(read_cr4() | CR4_PGE);
	pt_map(&pg.as, va, f1, 1, PTE_P | PTE_W | PTE_G);
	pg_expect_ok("global page (CR4.PGE=1): a read sees the frame", va, PG_READ, PG_MARK(f1));
	pg_set_flush(va, 1, f2 | PTE_P | PTE_W | PTE_G);
	pg_expect_ok("global page: INVLPG flushes it", va, PG_READ, PG_MARK(f2));
	pt_set(&pg.as, va, 1, f3 | PTE_P | PTE_W | PTE_G);
	write_cr4(read_cr4() & ~CR4_PGE);
	write_cr4(read_cr4() | CR4_PGE);
	pg_expect_ok("global page: clearing and setting CR4.PGE flushes it", va, PG_READ,
		     PG_MARK(f3));
	write_cr4(read_cr4() & ~CR4_PGE);
	pg_set_flush(va, 1, 0);
}

static void test_smep(void)
{
	if (!pg.smep) {
		skip("SMEP: CPUID 7 EBX bit 7 is clear");
		return;
	}
	uint32_t va = pg_slot(), c = pg_code_frame(0x5e3e9);

	pt_map(&pg.as, va, c, 1, PTE_P | PTE_W | PTE_U);
	pg_expect_ok("SMEP off: a supervisor call into a user page works", va, PG_FETCH, 0x5e3e9);
	write_cr4(read_cr4() | CR4_SMEP);
	pg_expect_pf("SMEP on: a supervisor fetch from a user page", va, PG_FETCH, PF_P | PF_I);
	pg_expect_ok("SMEP on: a supervisor read of that user page works", va, PG_READ, peek32(c));
	pg_expect_pf("SMEP on: a fetch from a not-present page (I/D set)", pg_slot(), PG_FETCH,
		     PF_I);
	write_cr4(read_cr4() & ~CR4_SMEP);
	pg_expect_ok("SMEP off again: the call works", va, PG_FETCH, 0x5e3e9);
}

static void test_smap(void)
{
	if (!pg.smap) {
		skip("SMAP: CPUID 7 EBX bit 20 is clear");
		return;
	}
	uint32_t va = pg_slot(), f = pg_frame();

	pt_map(&pg.as, va, f, 1, PTE_P | PTE_W | PTE_U);
	pg_expect_ok("SMAP off: a supervisor read of a user page works", va, PG_READ, PG_MARK(f));
	write_cr4(read_cr4() | CR4_SMAP);
	pg_expect_pf("SMAP on: a supervisor read of a user page", va, PG_READ, PF_P);
	pg_expect_pf("SMAP on: a supervisor write to a user page", va, PG_WRITE, PF_P | PF_W);
	asm volatile("stac" : : : "memory", "cc");
	pg_expect_ok("SMAP on, EFLAGS.AC=1 (STAC): a supervisor read of a user page works", va,
		     PG_READ, PG_MARK(f));
	pg_expect_ok("SMAP on, EFLAGS.AC=1: a supervisor write to a user page works", va + 4,
		     PG_WRITE, 0x5a9);
	asm volatile("clac" : : : "memory", "cc");
	pg_expect_pf("SMAP on, after CLAC: the read faults again", va, PG_READ, PF_P);
	write_cr4(read_cr4() & ~CR4_SMAP);
	check(peek32(f + 4) == 0x5a9, "SMAP: the write with AC=1 reached the frame");
}
void pg_common_tests(void)
{
	test_map();
	test_large_page();
	test_remap();
	test_unmap();
	test_accessed_dirty();
	test_protection();
	test_upper_levels();
	test_reserved_bits();
	test_nx();
	test_user();
	test_write_protect();
	test_self_map();
	test_code_remap();
	test_table_alias();
	test_table_maps_itself();
	test_new_table();
	test_address_spaces();
	test_cr3_flush();
	test_global();
	test_smep();
	test_smap();
}
