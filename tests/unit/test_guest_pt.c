/* Tests of mm/guest_pt.c: guest page walks in 32-bit, PAE and IA-32e paging over a fake
 * guest memory, with permissions, accessed/dirty bits and #PF error codes. */
#include "test.h"
#include "../../mm/guest_pt.h"

#define GMEM (64 * PAGE_SIZE)

static u8 gmem[GMEM] __attribute__((aligned(4096)));

static void *gmap(void *ctx, u64 gpa)
{
	(void)ctx;
	return gpa + PAGE_SIZE <= GMEM ? gmem + gpa : NULL;
}

static const struct pt_ops mem = {NULL, NULL, gmap, NULL};

#include "guest_pt_fake.h"

/* IA-32e: PML4 at 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000; va 0x400000 -> 4 KiB pages */
static struct guest_paging long_mode(void)
{
	memset(gmem, 0, sizeof(gmem));
	*q(0x1000) = 0x2000 | P | RW | US;
	*q(0x2000) = 0x3000 | P | RW | US;
	*q(0x3000 + 2 * 8) = 0x4000 | P | RW | US;   /* va 0x400000: PD index 2 */
	*q(0x4000 + 5 * 8) = 0x9000 | P | RW | US;   /* va 0x405000 -> 0x9000 */
	*q(0x4000 + 6 * 8) = 0xa000 | P | US;	     /* read-only user page */
	*q(0x4000 + 7 * 8) = 0xb000 | P | RW | NX;   /* supervisor, no-execute */
	*q(0x3000 + 3 * 8) = 0x600000 | P | RW | PS; /* va 0x600000: a 2 MiB page */
	return (struct guest_paging){.cr0 = CR0_PG_WP,
				     .cr3 = 0x1000,
				     .cr4 = CR4_PAE,
				     .efer = EFER_LONG,
				     .maxphyaddr = 39,
				     .gbpages = true};
}

TEST(guest_walk_no_paging_is_identity)
{
	struct guest_paging gp = {.cr0 = 1};
	struct gwalk w;
	guest_walk(&gp, &mem, 0x12345678, GACC_WRITE, true, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x12345678);
	CHECK_EQ(guest_paging_mode(&gp), GPM_NONE);
}

TEST(guest_walk_long_mode_4k_and_ad_bits)
{
	struct guest_paging gp = long_mode();
	struct gwalk w;
	CHECK_EQ(guest_paging_mode(&gp), GPM_LONG4);
	guest_walk(&gp, &mem, 0x405123, 0, true, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x9123);
	CHECK_EQ(w.level, 0);
	/* a read sets accessed on every level, dirty nowhere */
	CHECK(*q(0x1000) & A);
	CHECK(*q(0x3000 + 16) & A);
	CHECK(*q(0x4000 + 40) & A);
	CHECK(!(*q(0x4000 + 40) & DI));
	guest_walk(&gp, &mem, 0x405123, GACC_WRITE, true, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK(*q(0x4000 + 40) & DI);
	CHECK(!(*q(0x3000 + 16) & DI)); /* dirty only in the leaf */
	/* without set_ad nothing is written */
	*q(0x4000 + 40) &= ~(A | DI);
	guest_walk(&gp, &mem, 0x405000, GACC_WRITE, false, &w);
	CHECK(!(*q(0x4000 + 40) & (A | DI)));
}

TEST(guest_walk_long_mode_large_pages)
{
	struct guest_paging gp = long_mode();
	struct gwalk w;
	guest_walk(&gp, &mem, 0x6abcde, 0, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x6abcde);
	CHECK_EQ(w.level, 1);
	/* a 1 GiB page at PDPT index 1 */
	*q(0x2000 + 8) = 0x40000000ULL | P | RW | PS;
	guest_walk(&gp, &mem, 0x40012345, 0, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x40012345);
	CHECK_EQ(w.level, 2);
	/* without 1 GiB page support the PS bit there is reserved */
	gp.gbpages = false;
	guest_walk(&gp, &mem, 0x40012345, 0, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_RSVD);
}

TEST(guest_walk_not_present_error_codes)
{
	struct guest_paging gp = long_mode();
	struct gwalk w;
	guest_walk(&gp, &mem, 0x408000, GACC_WRITE | GACC_USER, true, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_WRITE | PFEC_USER);
	guest_walk(&gp, &mem, 0x7fff00000000ULL, GACC_FETCH, true, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_FETCH); /* I/D is reported because EFER.NXE is set */
	/* a failed walk sets no accessed bit on its leaf */
	CHECK(!(*q(0x4000 + 8 * 8) & A));
}

TEST(guest_walk_permissions)
{
	struct guest_paging gp = long_mode();
	struct gwalk w;
	/* write to a read-only page: faults for supervisor only with CR0.WP */
	guest_walk(&gp, &mem, 0x406000, GACC_WRITE, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_WRITE);
	gp.cr0 &= ~(1ULL << 16);
	guest_walk(&gp, &mem, 0x406000, GACC_WRITE, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
	guest_walk(&gp, &mem, 0x406000, GACC_WRITE | GACC_USER, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_WRITE | PFEC_USER);
	/* user access to a supervisor page */
	guest_walk(&gp, &mem, 0x407000, GACC_USER, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_USER);
	/* fetch from an NX page */
	guest_walk(&gp, &mem, 0x407000, GACC_FETCH, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_FETCH);
	/* NX is a reserved bit when EFER.NXE is clear */
	gp.efer &= ~(1ULL << 11);
	guest_walk(&gp, &mem, 0x407000, 0, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_RSVD);
}

TEST(guest_walk_smep_smap)
{
	struct guest_paging gp = long_mode();
	struct gwalk w;
	gp.cr4 |= CR4_SMEP | CR4_SMAP;
	/* supervisor fetch from a user page */
	guest_walk(&gp, &mem, 0x405000, GACC_FETCH, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_FETCH);
	/* supervisor data access to a user page: allowed only with EFLAGS.AC, never implicit */
	guest_walk(&gp, &mem, 0x405000, 0, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	gp.rflags_ac = true;
	guest_walk(&gp, &mem, 0x405000, 0, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
	guest_walk(&gp, &mem, 0x405000, GACC_IMPLICIT, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	/* user accesses are not affected */
	guest_walk(&gp, &mem, 0x405000, GACC_USER | GACC_FETCH, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
}

TEST(guest_walk_reserved_and_noncanonical)
{
	struct guest_paging gp = long_mode();
	struct gwalk w;
	/* a frame above MAXPHYADDR */
	*q(0x4000 + 9 * 8) = (1ULL << 40) | P | RW;
	guest_walk(&gp, &mem, 0x409000, 0, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_RSVD);
	/* PS in a PML4 entry is reserved */
	*q(0x1000 + 8) = 0x2000 | P | RW | PS;
	guest_walk(&gp, &mem, 0x8000000000ULL, 0, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK(w.error & PFEC_RSVD);
	/* a 2 MiB entry with bits 20:13 set */
	*q(0x3000 + 4 * 8) = 0x800000 | 0x2000 | P | PS;
	guest_walk(&gp, &mem, 0x800000, 0, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK(w.error & PFEC_RSVD);
	/* non-canonical addresses are not walked at all: #GP, not #PF */
	guest_walk(&gp, &mem, 0x0000800000000000ULL, 0, false, &w);
	CHECK_EQ(w.status, GWALK_NONCANONICAL);
}

TEST(guest_walk_tables_outside_guest_memory)
{
	struct guest_paging gp = long_mode();
	struct gwalk w;
	*q(0x3000 + 5 * 8) = 0x40000000ULL | P | RW; /* PT beyond the fake memory */
	guest_walk(&gp, &mem, 0xa00000, 0, true, &w);
	CHECK_EQ(w.status, GWALK_UNREACHABLE);
	gp.cr3 = 0x7ffff000;
	guest_walk(&gp, &mem, 0x405000, 0, true, &w);
	CHECK_EQ(w.status, GWALK_UNREACHABLE);
}

TEST(guest_walk_32bit_paging)
{
	memset(gmem, 0, sizeof(gmem));
	/* PD at 0x1000; PDE 1 -> PT at 0x2000; PDE 2 is a 4 MiB page with PSE-36 bits */
	*d(0x1000 + 4) = 0x2000 | P | RW | US;
	*d(0x2000 + 3 * 4) = 0x7000 | P | US; /* va 0x403000 -> 0x7000, read-only */
	*d(0x1000 + 8) = 0x00c00000 | (0x3 << 13) | P | RW | PS;
	struct guest_paging gp = {.cr0 = CR0_PG_WP, .cr3 = 0x1000, .cr4 = CR4_PSE};
	struct gwalk w;
	CHECK_EQ(guest_paging_mode(&gp), GPM_32BIT);
	guest_walk(&gp, &mem, 0x403abc, GACC_USER, true, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x7abc);
	CHECK(*d(0x2000 + 12) & A);
	guest_walk(&gp, &mem, 0x403abc, GACC_USER | GACC_WRITE, true, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_WRITE | PFEC_USER);
	/* 4 MiB page: PSE-36 puts bits 14:13 of the entry at physical bits 33:32 */
	guest_walk(&gp, &mem, 0x812345, 0, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x300c12345ULL);
	CHECK_EQ(w.level, 1);
	/* without CR4.PSE the PS bit is ignored and the entry points to a page table */
	gp.cr4 = 0;
	*d(0x1000 + 12) = 0x2000 | P | RW | PS;
	guest_walk(&gp, &mem, 0xc03000, 0, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x7000);
	CHECK_EQ(w.level, 0);
	/* no NX in 32-bit paging: a fetch fault has no I/D bit */
	guest_walk(&gp, &mem, 0x1000000, GACC_FETCH, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, 0);
}

TEST(guest_walk_pae_paging)
{
	memset(gmem, 0, sizeof(gmem));
	/* PDPTE 1 (va 1 GiB..2 GiB) -> PD at 0x3000 -> PT at 0x4000 */
	*q(0x3000) = 0x4000 | P | RW;
	*q(0x4000 + 8) = 0x5000 | P | RW | NX;
	*q(0x3000 + 8) = 0x200000 | P | RW | PS; /* 2 MiB page at va 1 GiB + 2 MiB */
	struct guest_paging gp = {
	    .cr0 = CR0_PG_WP, .cr4 = CR4_PAE, .efer = 1ULL << 11, .maxphyaddr = 36};
	gp.pdpte[1] = 0x3000 | P;
	struct gwalk w;
	CHECK_EQ(guest_paging_mode(&gp), GPM_PAE);
	guest_walk(&gp, &mem, 0x40001234, GACC_WRITE, true, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x5234);
	CHECK(*q(0x4000 + 8) & DI);
	guest_walk(&gp, &mem, 0x40001234, GACC_FETCH, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_FETCH);
	guest_walk(&gp, &mem, 0x40212345, 0, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x212345);
	/* a not-present PDPTE */
	guest_walk(&gp, &mem, 0x1000, 0, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, 0);
}

TEST(guest_walk_32bit_4m_reserved_bits)
{
	memset(gmem, 0, sizeof(gmem));
	struct guest_paging gp = {
	    .cr0 = CR0_PG_WP, .cr3 = 0x1000, .cr4 = CR4_PSE, .maxphyaddr = 36};
	struct gwalk w;
	*d(0x1000 + 4 * 1) = 0x400000 | P | RW | PS;
	guest_walk(&gp, &mem, 0x412345, 0, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
	/* bit 21 is always reserved in a 4 MiB PDE */
	*d(0x1000 + 4 * 1) = 0x400000 | (1u << 21) | P | RW | PS;
	guest_walk(&gp, &mem, 0x412345, 0, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	CHECK_EQ(w.error, PFEC_PRESENT | PFEC_RSVD);
	/* bits 20:13 are physical address bits 39:32: reserved at and above MAXPHYADDR */
	*d(0x1000 + 4 * 1) = 0x400000 | (1u << 17) | P | RW | PS; /* address bit 36 */
	guest_walk(&gp, &mem, 0x412345, 0, false, &w);
	CHECK_EQ(w.status, GWALK_FAULT);
	gp.maxphyaddr = 40;
	guest_walk(&gp, &mem, 0x412345, 0, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x1000412345ULL);
	/* without CR4.PSE the PS bit means nothing: the entry points at a page table */
	gp.cr4 = 0;
	*d(0x1000 + 4 * 1) = 0x2000 | P | RW | PS;
	*d(0x2000 + 4 * 0x12) = 0x9000 | P;
	guest_walk(&gp, &mem, 0x412345, 0, false, &w);
	CHECK_EQ(w.status, GWALK_OK);
	CHECK_EQ(w.gpa, 0x9345);
}
