/* Tests of mm/shadow.c: shadow tables composed from guest tables over fake guest memory
 * and a fake P2M (guest frame g lives at machine frame g + MOFF), in every guest paging
 * mode, with write protection, coherence after guest table writes, the root cache,
 * eviction, and a randomized check that every shadow leaf agrees with the guest. */
#include "test.h"
#include "../../mm/shadow.h"

#define GPAGES	 1024 /* 4 MiB of guest RAM */
#define MOFF	 0x100000ULL
#define SPAGES	 600	    /* machine frames for shadow tables and metadata */
#define SBASE	 0x80000ULL /* machine frame number of the first one */
#define MMIO_GFN 0x3f0

static u8 gmem[GPAGES * PAGE_SIZE] __attribute__((aligned(4096)));
static u8 smem[SPAGES * PAGE_SIZE] __attribute__((aligned(4096)));
static bool sused[SPAGES];
static unsigned nalloc;
static struct shadow sh;
static struct shadow_vcpu sv;

static u64 f_alloc(void *ctx)
{
	(void)ctx;
	for (unsigned i = 0; i < SPAGES; i++) {
		if (!sused[i]) {
			sused[i] = true;
			memset(smem + i * PAGE_SIZE, 0, PAGE_SIZE);
			nalloc++;
			return (SBASE + i) << PAGE_SHIFT;
		}
	}
	return 0;
}

static void f_free(void *ctx, u64 pa)
{
	(void)ctx;
	u64 i = (pa >> PAGE_SHIFT) - SBASE;
	REQUIRE(i < SPAGES && sused[i]);
	sused[i] = false;
	nalloc--;
}

static void *f_map(void *ctx, u64 pa)
{
	(void)ctx;
	u64 i = (pa >> PAGE_SHIFT) - SBASE;
	REQUIRE(i < SPAGES && sused[i]);
	return smem + i * PAGE_SIZE + (pa & ~PAGE_MASK);
}

static enum p2m_type f_lookup(void *ctx, u64 gfn, u64 *mfn)
{
	(void)ctx;
	if (gfn == MMIO_GFN)
		return P2M_MMIO;
	if (gfn >= GPAGES)
		return P2M_NONE;
	if (mfn)
		*mfn = gfn + MOFF;
	return gfn == 0xc0 ? P2M_ROM : P2M_RAM;
}

static void *gmap(void *ctx, u64 gpa)
{
	(void)ctx;
	return gpa + PAGE_SIZE <= sizeof(gmem) ? gmem + (gpa & PAGE_MASK) : NULL;
}

static const struct pt_ops gops = {NULL, NULL, gmap, NULL};
static const struct shadow_ops sops = {f_alloc, f_free, f_map, f_lookup, NULL, NULL};

#include "guest_pt_fake.h"

static void setup(u32 limit)
{
	memset(gmem, 0, sizeof(gmem));
	memset(sused, 0, sizeof(sused));
	nalloc = 0;
	shadow_init(&sh, &sops, limit);
	memset(&sv, 0, sizeof(sv));
}

/* What the #PF handler does: walk the guest, then fill the shadow. */
static enum shadow_fill touch(const struct guest_paging *gp, u64 gva, unsigned access)
{
	struct gwalk w;
	guest_walk(gp, &gops, gva, access, true, &w);
	if (w.status != GWALK_OK)
		return (enum shadow_fill) - 1;
	return shadow_fill(&sh, &sv, gp, gva, access, &w);
}

static u64 mpa(u64 gpa)
{
	return gpa + (MOFF << PAGE_SHIFT);
}

/* IA-32e: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000 (va 0x400000-0x5fffff) */
static struct guest_paging long_mode(void)
{
	*q(0x1000) = 0x2000 | P | RW | US;
	*q(0x2000) = 0x3000 | P | RW | US;
	*q(0x3000 + 2 * 8) = 0x4000 | P | RW | US;
	*q(0x4000 + 5 * 8) = 0x9000 | P | RW | US;   /* va 0x405000 -> 0x9000 */
	*q(0x4000 + 6 * 8) = 0xa000 | P | US;	     /* read-only user page */
	*q(0x4000 + 7 * 8) = 0xb000 | P | RW | NX;   /* supervisor, no-execute */
	*q(0x4000 + 8 * 8) = 0x4000 | P | RW;	     /* the page table itself */
	*q(0x3000 + 3 * 8) = 0x200000 | P | RW | PS; /* va 0x600000: a 2 MiB page */
	return (struct guest_paging){.cr0 = CR0_PG_WP,
				     .cr3 = 0x1000,
				     .cr4 = CR4_PAE,
				     .efer = EFER_LONG,
				     .maxphyaddr = 39,
				     .gbpages = true};
}

static u64 spte_of(u64 gva)
{
	u64 e = 0;
	if (shadow_lookup(&sh, &sv, gva, &e) == ~0ULL)
		return 0;
	return e;
}

TEST(shadow_long_mode_read_then_write_tracks_dirty)
{
	setup(0);
	struct guest_paging gp = long_mode();
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(sv.levels, 4);
	CHECK_EQ(touch(&gp, 0x405123, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x405123, NULL), mpa(0x9123));
	/* read first: read-only until the guest's D bit is set by a write */
	u64 e = spte_of(0x405000);
	CHECK(!(e & RW));
	CHECK(e & US);
	CHECK(!(*q(0x4000 + 40) & DI));
	CHECK_EQ(touch(&gp, 0x405123, GACC_WRITE), SFILL_FLUSH);
	CHECK(spte_of(0x405000) & RW);
	CHECK(*q(0x4000 + 40) & DI);
	/* four tables: PML4, PDPT, PD, PT */
	CHECK_EQ(shadow_pages(&sh), 4);
	CHECK_EQ(sh.stats.pages_built, 4);
}

TEST(shadow_rights_nx_and_user)
{
	setup(0);
	struct guest_paging gp = long_mode();
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(touch(&gp, 0x407000, GACC_WRITE), SFILL_OK);
	u64 e = spte_of(0x407000);
	CHECK(e & RW);
	CHECK(!(e & US));
	CHECK(e & NX);
	CHECK_EQ(touch(&gp, 0x406000, GACC_USER), SFILL_OK);
	e = spte_of(0x406000);
	CHECK(!(e & RW));
	CHECK(e & US);
	CHECK(!(e & NX));
	/* without EFER.NXE the NX bit is reserved, so the shadow never sets it */
	gp.efer &= ~EFER_NXE;
	*q(0x4000 + 7 * 8) &= ~NX;
	shadow_reset(&sh, &sv);
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(touch(&gp, 0x407000, 0), SFILL_OK);
	CHECK(!(spte_of(0x407000) & NX));
}

TEST(shadow_page_tables_are_write_protected)
{
	setup(0);
	struct guest_paging gp = long_mode();
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	/* va 0x408000 maps the PT at 0x4000, which the walk itself shadows */
	CHECK_EQ(touch(&gp, 0x408000, GACC_WRITE), SFILL_WRITE_PROTECTED);
	CHECK(shadow_protected(&sh, 0x4));
	CHECK(!shadow_protected(&sh, 0x9));
	u64 e = spte_of(0x408000);
	CHECK(e & P);
	CHECK(!(e & RW));
	/* reads through it work */
	CHECK_EQ(touch(&gp, 0x408000, 0), SFILL_FLUSH);
	CHECK(!(spte_of(0x408000) & RW));
}

TEST(shadow_frame_becoming_a_table_loses_write_access)
{
	setup(0);
	struct guest_paging gp = long_mode();
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(touch(&gp, 0x405000, GACC_WRITE), SFILL_OK);
	CHECK(spte_of(0x405000) & RW);
	/* the guest makes 0x9000 a page table for va 0x800000 and uses it */
	*q(0x3000 + 4 * 8) = 0x9000 | P | RW | US;
	shadow_write(&sh, 0x3000 + 4 * 8, 8);
	*q(0x9000) = 0xc000 | P | RW;
	sh.need_flush = false;
	CHECK_EQ(touch(&gp, 0x800000, 0), SFILL_OK);
	CHECK(shadow_protected(&sh, 0x9));
	CHECK(!(spte_of(0x405000) & RW));
	CHECK(sh.need_flush);
}

TEST(shadow_guest_pte_write_zaps_the_entry)
{
	setup(0);
	struct guest_paging gp = long_mode();
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(touch(&gp, 0x405000, 0), SFILL_OK);
	REQUIRE(spte_of(0x405000));
	/* remap 0x405000 to 0xd000: the emulated write reports it */
	*q(0x4000 + 5 * 8) = 0xd000 | P | RW;
	CHECK(shadow_write(&sh, 0x4000 + 5 * 8, 8));
	CHECK_EQ(spte_of(0x405000), 0);
	CHECK_EQ(sh.stats.pt_writes, 1);
	CHECK_EQ(touch(&gp, 0x405000, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x405000, NULL), mpa(0xd000));
	/* an upper-level write unlinks the whole subtree for that range */
	CHECK(shadow_write(&sh, 0x3000 + 2 * 8, 8));
	CHECK_EQ(spte_of(0x405000), 0);
	/* a write to a frame that is no table is not the shadow's business */
	CHECK(!shadow_write(&sh, 0x9000, 8));
}

TEST(shadow_large_pages_use_direct_tables)
{
	setup(0);
	struct guest_paging gp = long_mode();
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(touch(&gp, 0x6abcde, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x6abcde, NULL), mpa(0x2abcde));
	CHECK_EQ(touch(&gp, 0x7ff000, GACC_WRITE), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x7ff000, NULL), mpa(0x3ff000));
	/* the 2 MiB page's leaf was read clean, then written: now writable */
	CHECK(spte_of(0x7ff000) & RW);
	/* a 1 GiB page at PDPT index 1, guest-physical 0 (RAM in the first 4 MiB) */
	*q(0x2000 + 8) = 0x0 | P | RW | PS | DI;
	CHECK_EQ(touch(&gp, 0x40012345, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x40012345, NULL), mpa(0x12345));
	CHECK(spte_of(0x40012000) & RW); /* already dirty */
	/* the 1 GiB page covers the PT at 0x4000: once shadowed, that frame is protected */
	CHECK_EQ(touch(&gp, 0x405000, 0), SFILL_OK);
	CHECK_EQ(touch(&gp, 0x40004000, GACC_WRITE), SFILL_WRITE_PROTECTED);
}

TEST(shadow_cr0_wp_clear_lets_supervisor_write_read_only)
{
	setup(0);
	struct guest_paging gp = long_mode();
	gp.cr0 &= ~(1ULL << 16);
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(touch(&gp, 0x406000, GACC_WRITE), SFILL_OK);
	u64 e = spte_of(0x406000);
	CHECK(e & RW);
	CHECK(!(e & US)); /* so a user access faults and gets the guest's real rights */
	CHECK(*q(0x4000 + 6 * 8) & DI);
	CHECK_EQ(touch(&gp, 0x406000, GACC_USER), SFILL_FLUSH);
	e = spte_of(0x406000);
	CHECK(!(e & RW));
	CHECK(e & US);
}

TEST(shadow_root_cache_keeps_address_spaces)
{
	setup(0);
	struct guest_paging gp = long_mode();
	/* a second address space: PML4 0x11000 -> same PDPT */
	*q(0x11000) = 0x2000 | P | RW | US;
	u64 r1 = shadow_load_root(&sh, &sv, &gp);
	CHECK_EQ(touch(&gp, 0x405000, 0), SFILL_OK);
	gp.cr3 = 0x11000;
	u64 r2 = shadow_load_root(&sh, &sv, &gp);
	CHECK(r2 && r2 != r1);
	/* the PDPT below is shared: only the root is new, the leaf was there already */
	CHECK_EQ(touch(&gp, 0x405000, 0), SFILL_FLUSH);
	CHECK_EQ(shadow_pages(&sh), 5);
	gp.cr3 = 0x1000;
	CHECK_EQ(shadow_load_root(&sh, &sv, &gp), r1);
	CHECK_EQ(sh.stats.root_hits, 1);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x405000, NULL), mpa(0x9000));
	/* a root in use cannot be unprotected, another one can */
	CHECK(!shadow_unprotect(&sh, 0x1));
	CHECK(shadow_unprotect(&sh, 0x11));
	CHECK(!shadow_protected(&sh, 0x11));
}

TEST(shadow_self_mapping_table)
{
	setup(0);
	struct guest_paging gp = long_mode();
	*q(0x1000 + 511 * 8) = 0x1000 | P | RW; /* PML4[511] -> PML4 */
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	/* the PML4 seen as a page: va with all four indexes 511 */
	u64 va = 0xfffffffffffff000ULL;
	CHECK_EQ(touch(&gp, va, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, va, NULL), mpa(0x1000));
	CHECK(!(spte_of(va) & RW));
	CHECK_EQ(touch(&gp, va + 8, GACC_WRITE), SFILL_WRITE_PROTECTED);
	/* the PT of va 0x400000 through the window: PML4[511] PDPT[0] PD[2] */
	u64 win = 0xffffff8000000000ULL | (0ULL << 30) | (0ULL << 21) | (2ULL << 12);
	CHECK_EQ(touch(&gp, win, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, win, NULL), mpa(0x4000));
}

TEST(shadow_mmio_and_rom)
{
	setup(0);
	struct guest_paging gp = long_mode();
	*q(0x4000 + 9 * 8) = ((u64)MMIO_GFN << 12) | P | RW;
	*q(0x4000 + 10 * 8) = (0xc0ULL << 12) | P | RW;
	*q(0x4000 + 11 * 8) = (0x5000ULL << 12) | P | RW; /* beyond guest memory */
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(touch(&gp, 0x409000, 0), SFILL_NOT_RAM);
	CHECK_EQ(touch(&gp, 0x40a000, GACC_WRITE), SFILL_NOT_RAM);
	CHECK_EQ(touch(&gp, 0x40a000, 0), SFILL_OK);
	CHECK(!(spte_of(0x40a000) & RW));
	CHECK_EQ(touch(&gp, 0x40b000, 0), SFILL_NOT_RAM);
}

TEST(shadow_32bit_guest_in_pae_format)
{
	setup(0);
	/* PD 0x1000; PDE 1 -> PT 0x2000 (va 0x400000-0x7fffff); PDE 2: a 4 MiB page at 0 */
	*d(0x1000 + 4) = 0x2000 | P | RW | US;
	*d(0x1000 + 8) = 0x0 | P | RW | PS;
	*d(0x2000 + 3 * 4) = 0x9000 | P | RW | US;   /* va 0x403000, first half */
	*d(0x2000 + 600 * 4) = 0xa000 | P | RW | US; /* va 0x658000, second half */
	struct guest_paging gp = {.cr0 = CR0_PG_WP, .cr3 = 0x1000, .cr4 = CR4_PSE};
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(sv.levels, 3);
	CHECK_EQ(touch(&gp, 0x403000, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x403000, NULL), mpa(0x9000));
	CHECK_EQ(touch(&gp, 0x658000, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x658000, NULL), mpa(0xa000));
	/* two halves of one guest PT are two shadow PTs */
	CHECK_EQ(shadow_pages(&sh), 4);
	CHECK_EQ(touch(&gp, 0x9ff123, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x9ff123, NULL), mpa(0x1ff123));
	/* rewriting PDE 1 drops both 2 MiB halves it covers */
	*d(0x1000 + 4) = 0;
	CHECK(shadow_write(&sh, 0x1000 + 4, 4));
	CHECK_EQ(spte_of(0x403000), 0);
	CHECK_EQ(spte_of(0x658000), 0);
	CHECK(spte_of(0x9ff000));
	/* a write to the second half of the PT touches that half only */
	*d(0x1000 + 4) = 0x2000 | P | RW | US;
	/* relinked to the cached halves, whose leaves are still there */
	CHECK_EQ(touch(&gp, 0x403000, 0), SFILL_FLUSH);
	CHECK_EQ(touch(&gp, 0x658000, 0), SFILL_FLUSH);
	*d(0x2000 + 600 * 4) = 0;
	CHECK(shadow_write(&sh, 0x2000 + 600 * 4, 4));
	CHECK(spte_of(0x403000));
	CHECK_EQ(spte_of(0x658000), 0);
}

TEST(shadow_pae_guest_uses_the_pdpte_registers)
{
	setup(0);
	*q(0x2000) = 0x3000 | P | RW | US; /* PD: va 0-2 MiB -> PT 0x3000 */
	*q(0x3000 + 5 * 8) = 0x9000 | P | RW;
	struct guest_paging gp = {
	    .cr0 = CR0_PG_WP, .cr3 = 0x1000, .cr4 = CR4_PAE, .efer = EFER_NXE, .maxphyaddr = 36};
	gp.pdpte[0] = 0x2000 | P;
	u64 root = shadow_load_root(&sh, &sv, &gp);
	REQUIRE(root);
	CHECK(root < (1ULL << 32));
	CHECK_EQ(touch(&gp, 0x5000, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x5000, NULL), mpa(0x9000));
	/* PDPTE entries of the root carry P only (other low bits are reserved there) */
	u64 *t = f_map(NULL, root);
	CHECK_EQ(t[0] & 0xfff, P);
	/* the same root page is reused at the next CR3 load, emptied */
	CHECK_EQ(shadow_load_root(&sh, &sv, &gp), root);
	CHECK_EQ(t[0], 0);
	/* leaving PAE frees it */
	gp.cr4 = 0;
	gp.cr3 = 0x4000;
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(sv.pae_root, 0);
}

TEST(shadow_unpaged_guest_maps_physical)
{
	setup(0);
	struct guest_paging gp = {.cr0 = 1};
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(touch(&gp, 0x12345, GACC_WRITE), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x12345, NULL), mpa(0x12345));
	CHECK(spte_of(0x12000) & RW);
	CHECK_EQ(touch(&gp, (u64)MMIO_GFN << 12, 0), SFILL_NOT_RAM);
	/* the root is cached like any other */
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(sh.stats.root_hits, 1);
}

TEST(shadow_unmap_frame_zaps_every_leaf_mapping_it)
{
	setup(0);
	struct guest_paging gp = {.cr0 = 1};
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	/* one direct table: the fill maps its whole 2 MiB, frame 0x12 among them */
	CHECK_EQ(touch(&gp, 0x12345, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x12000, NULL), mpa(0x12000));
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x13000, NULL), mpa(0x13000));
	sh.need_flush = false;
	u32 pages = shadow_pages(&sh);
	shadow_unmap_frame(&sh, 0x12 + MOFF);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x12000, NULL), ~0ULL);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x13000, NULL), mpa(0x13000)); /* neighbours stay */
	CHECK(sh.need_flush);
	CHECK_EQ(shadow_pages(&sh), pages); /* no table goes */
	/* a frame mapped by nothing, and the same frame again: nothing happens */
	sh.need_flush = false;
	shadow_unmap_frame(&sh, 0x12 + MOFF);
	shadow_unmap_frame(&sh, 0x12 + MOFF + SHADOW_RMAP); /* same rmap bucket */
	CHECK(!sh.need_flush);
	/* refilled on the next fault */
	CHECK_EQ(touch(&gp, 0x12000, 0), SFILL_OK);
	CHECK_EQ(shadow_lookup(&sh, &sv, 0x12000, NULL), mpa(0x12000));
}

TEST(shadow_eviction_never_takes_the_root)
{
	setup(8);
	struct guest_paging gp = long_mode();
	/* 16 page tables under one PD, each mapping one page */
	for (u64 i = 0; i < 16; i++) {
		*q(0x3000 + (8 + i) * 8) = (0x20000 + i * 0x1000) | P | RW | US;
		*q(0x20000 + i * 0x1000) = (0x40000 + i * 0x1000) | P | RW | US;
	}
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	for (int round = 0; round < 3; round++) {
		for (u64 i = 0; i < 16; i++) {
			u64 va = (8 + i) << 21;
			CHECK_EQ(touch(&gp, va, 0), SFILL_OK);
			CHECK_EQ(shadow_lookup(&sh, &sv, va, NULL), mpa(0x40000 + i * 0x1000));
			CHECK(shadow_pages(&sh) <= 8);
		}
	}
	CHECK(sh.stats.evictions > 0);
	CHECK(sv.root && sh.page[sv.root - 1].used);
	/* everything returns to the allocator */
	shadow_reset(&sh, &sv);
	CHECK_EQ(nalloc, 0);
	CHECK_EQ(shadow_pages(&sh), 0);
}

/* Every present shadow leaf must agree with what the guest's tables say now. */
static void check_coherent(const struct guest_paging *gp, const u64 *vas, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		u64 e;
		u64 pa = shadow_lookup(&sh, &sv, vas[k], &e);
		if (pa == ~0ULL)
			continue;
		struct gwalk w;
		guest_walk(gp, &gops, vas[k], 0, false, &w);
		REQUIRE(w.status == GWALK_OK);
		CHECK_EQ(pa, mpa(w.gpa));
		if (e & RW) {
			guest_walk(gp, &gops, vas[k], GACC_WRITE, false, &w);
			CHECK(w.status == GWALK_OK);
			CHECK(w.path.entry[w.path.n - 1] & DI);
			CHECK(!shadow_protected(&sh, w.gpa >> PAGE_SHIFT));
		}
		if (e & US) {
			guest_walk(gp, &gops, vas[k], GACC_USER, false, &w);
			CHECK(w.status == GWALK_OK);
		}
		if (!(e & NX)) {
			guest_walk(gp, &gops, vas[k], GACC_FETCH, false, &w);
			CHECK(w.status == GWALK_OK);
		}
	}
}

static u64 rng = 0x1234567;
static u64 rnd(u64 n)
{
	return test_rng(&rng) % n;
}

TEST(shadow_random_edits_stay_coherent)
{
	setup(7);
	struct guest_paging gp = long_mode();
	/* tables live in frames 0x10-0x1f, data in 0x100-0x1ff; PD 0x3000 indexes 0-7 */
	for (u64 i = 0; i < 8; i++)
		*q(0x3000 + i * 8) = ((0x10 + i) << 12) | P | RW | US;
	u64 vas[64];
	for (unsigned k = 0; k < 64; k++)
		vas[k] = (rnd(8) << 21) | (rnd(512) << 12);
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	for (int step = 0; step < 4000; step++) {
		u64 va = vas[rnd(64)];
		unsigned acc = (unsigned)rnd(8) & (GACC_WRITE | GACC_USER | GACC_FETCH);
		if (rnd(3) == 0) {
			/* the guest edits a PTE or a PDE, as an emulated write would report */
			u64 gpa;
			u64 val;
			if (rnd(8) == 0) {
				unsigned pi = (unsigned)rnd(8);
				gpa = 0x3000 + pi * 8;
				val = rnd(4) ? ((0x10 + rnd(16)) << 12) | P | (rnd(2) ? RW : 0) |
						   (rnd(2) ? US : 0)
					     : 0;
			} else {
				gpa = ((0x10 + rnd(16)) << 12) + rnd(512) * 8;
				u64 frame = rnd(6) ? 0x100 + rnd(256) : 0x10 + rnd(16);
				val = rnd(5) ? (frame << 12) | P | (rnd(2) ? RW : 0) |
						   (rnd(2) ? US : 0) | (rnd(2) ? NX : 0) |
						   (rnd(2) ? A | DI : 0)
					     : 0;
			}
			*q(gpa) = val;
			shadow_write(&sh, gpa, 8);
		} else {
			struct gwalk w;
			guest_walk(&gp, &gops, va, acc, true, &w);
			if (w.status == GWALK_OK) {
				enum shadow_fill r = shadow_fill(&sh, &sv, &gp, va, acc, &w);
				CHECK(r != SFILL_NOMEM && r != SFILL_NOT_RAM);
			}
		}
		check_coherent(&gp, vas, 64);
	}
	CHECK(sh.stats.evictions > 0);
	CHECK(sh.stats.pt_writes > 0);
}

TEST(shadow_large_page_is_prefetched_whole)
{
	setup(0);
	struct guest_paging gp = long_mode();
	*q(0x3000 + 3 * 8) |= DI;		     /* the 2 MiB page at va 0x600000 is dirty */
	*q(0x3000 + 4 * 8) = 0x205000 | P | RW | US; /* frame 0x205 is a page table */
	*q(0x205000) = 0x9000 | P | RW | US;
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(touch(&gp, 0x800000, 0), SFILL_OK);
	CHECK_EQ(touch(&gp, 0x600000, 0), SFILL_OK);
	/* all 512 leaves are there after one fault, writable as the guest's dirty page is */
	for (u64 va = 0x600000; va < 0x800000; va += 0x1000)
		if (va - 0x400000 != (u64)MMIO_GFN << 12)
			CHECK_EQ(shadow_lookup(&sh, &sv, va, NULL), mpa(va - 0x400000));
	CHECK_EQ(spte_of(0x600000 + ((u64)MMIO_GFN << 12) - 0x200000), 0);
	CHECK(spte_of(0x7ff000) & RW);
	/* except the guest page table inside it (frame 0x205 at va 0x605000) */
	CHECK(spte_of(0x605000));
	CHECK(!(spte_of(0x605000) & RW));
	/* the MMIO frame inside an unpaged guest's direct table stays unmapped */
	setup(0);
	struct guest_paging up = {.cr0 = 1};
	REQUIRE(shadow_load_root(&sh, &sv, &up));
	CHECK_EQ(touch(&up, 0x3e0000, 0), SFILL_OK);
	CHECK(spte_of(0x3ef000));
	CHECK_EQ(spte_of((u64)MMIO_GFN << 12), 0);
}

TEST(shadow_table_reused_as_data_is_unshadowed)
{
	setup(0);
	struct guest_paging gp = long_mode();
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	CHECK_EQ(touch(&gp, 0x405000, 0), SFILL_OK);
	REQUIRE(shadow_protected(&sh, 0x4));
	/* writes with walks in between keep it shadowed */
	for (int i = 0; i < 5; i++) {
		CHECK(shadow_write(&sh, 0x4000 + 5 * 8, 8));
		CHECK_EQ(touch(&gp, 0x405000, 0), SFILL_OK);
	}
	CHECK(shadow_protected(&sh, 0x4));
	/* three in a row with nothing using it: the guest is filling a data page */
	shadow_write(&sh, 0x4100, 8);
	shadow_write(&sh, 0x4108, 8);
	CHECK(shadow_protected(&sh, 0x4));
	shadow_write(&sh, 0x4110, 8);
	CHECK(!shadow_protected(&sh, 0x4));
	CHECK_EQ(sh.stats.floods, 1);
	/* used as a table again, it is shadowed again */
	CHECK_EQ(touch(&gp, 0x405000, 0), SFILL_OK);
	CHECK(shadow_protected(&sh, 0x4));
	/* a root in use is never unshadowed */
	for (int i = 0; i < 5; i++)
		shadow_write(&sh, 0x1000 + 256 * 8, 8);
	CHECK(shadow_protected(&sh, 0x1));
}
