/* Tests of the page-table library (mm/pt.c) and the P2M with its EPT mirror (mm/p2m.c), over
 * a frames arena in heap memory: mappings and types, the EPT leaves they produce, staleness,
 * guest-memory copies, teardown accounting and the ownership assertion. */
#include "test.h"
#include "../../mm/gmem.h"

#define ARENA (8ULL << 20)
#define OWNER FRAME_VM(1)
#define OTHER FRAME_VM(2)

struct env {
	struct frames fa;
	struct p2m p;
	u64 free0; /* free frames before p2m_init */
};

static void env_init(struct env *e)
{
	u8 *m = test_alloc_aligned(PAGE_SIZE, ARENA);
	struct mem_region r = {virt_to_phys(m), ARENA, MEM_USABLE};
	REQUIRE(frames_init(&e->fa, &r, 1, NULL, 0, UINT64_MAX) == NULL);
	e->free0 = e->fa.nfree;
	REQUIRE(p2m_init(&e->p, &e->fa, OWNER) == NULL);
}

static u64 own_frame(struct env *e)
{
	u64 pa = frames_alloc(&e->fa, OWNER);
	REQUIRE(pa);
	return pa >> PAGE_SHIFT;
}

static bool ept_walk(struct env *e, u64 gpa, struct pt_walk *w)
{
	return pt_walk(&pt_fmt_ept, &e->p.ops, e->p.ept_root, gpa, w);
}

TEST(p2m_init_takes_two_tables)
{
	struct env e;
	env_init(&e);
	CHECK_EQ(e.p.nr_tables, 2);
	CHECK_EQ(e.p.nr_ram, 0);
	CHECK(!e.p.ept_stale);
	CHECK_EQ(frames_owner(&e.fa, e.p.root), FRAME_HV);
	CHECK_EQ(frames_owner(&e.fa, e.p.ept_root), FRAME_HV);
	CHECK_EQ(e.fa.nfree, e.free0 - 2);
	CHECK_EQ(p2m_eptp(&e.p), e.p.ept_root | 0x1e); /* 4 levels, WB */
	CHECK_EQ(p2m_lookup(&e.p, 0, NULL), P2M_NONE);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(p2m_init_out_of_memory_gives_back_what_it_took)
{
	struct env e;
	env_init(&e);
	p2m_destroy(&e.p);
	/* leave exactly one free frame: the P2M root fits, the EPT root does not */
	u64 keep = frames_alloc(&e.fa, FRAME_HV);
	while (e.fa.nfree > 1)
		REQUIRE(frames_alloc(&e.fa, OTHER));
	struct p2m p;
	CHECK(p2m_init(&p, &e.fa, OWNER) != NULL);
	CHECK_EQ(e.fa.nfree, 1);
	CHECK_EQ(p.root, 0);
	CHECK_EQ(p.ept_root, 0);
	CHECK(frames_free(&e.fa, keep, FRAME_HV));
	CHECK(frames_alloc(&e.fa, OTHER));
	CHECK(frames_alloc(&e.fa, OTHER));
	CHECK(p2m_init(&p, &e.fa, OWNER) != NULL); /* none at all */
	CHECK_EQ(e.fa.nfree, 0);
}

TEST(p2m_set_ram_mirrors_into_ept)
{
	struct env e;
	env_init(&e);
	u64 mfn = own_frame(&e), got = 0;
	CHECK(p2m_set(&e.p, 0x123, mfn, P2M_RAM));
	CHECK_EQ(p2m_lookup(&e.p, 0x123, &got), P2M_RAM);
	CHECK_EQ(got, mfn);
	CHECK_EQ(e.p.nr_ram, 1);
	CHECK(!e.p.ept_stale); /* a new mapping takes nothing away */
	struct pt_walk w;
	REQUIRE(ept_walk(&e, 0x123abc, &w));
	CHECK_EQ(w.level, 0);
	CHECK_EQ(w.entry, (mfn << PAGE_SHIFT) | EPT_R | EPT_W | EPT_X | EPT_MT_WB);
	CHECK_EQ(w.pa, (mfn << PAGE_SHIFT) | 0xabc);
	/* neighbours stay unmapped */
	CHECK_EQ(p2m_lookup(&e.p, 0x122, NULL), P2M_NONE);
	CHECK(!ept_walk(&e, 0x124000, &w));
	p2m_destroy(&e.p);
}

TEST(p2m_rom_mmio_and_holes_in_ept)
{
	struct env e;
	env_init(&e);
	u64 rom = own_frame(&e), got = 0;
	struct pt_walk w;
	CHECK(p2m_set(&e.p, 0xf0, rom, P2M_ROM));
	CHECK_EQ(p2m_lookup(&e.p, 0xf0, &got), P2M_ROM);
	CHECK_EQ(got, rom);
	REQUIRE(ept_walk(&e, 0xf0000, &w));
	CHECK_EQ(w.entry, (rom << PAGE_SHIFT) | EPT_R | EPT_X | EPT_MT_WB);
	CHECK_EQ(e.p.nr_ram, 0);
	/* MMIO: known to the P2M, absent from the EPT so that accesses exit */
	CHECK(p2m_set(&e.p, 0xfee00, 0xfee00, P2M_MMIO));
	CHECK_EQ(p2m_lookup(&e.p, 0xfee00, NULL), P2M_MMIO);
	CHECK(!ept_walk(&e, 0xfee00000, &w));
	CHECK(!ept_walk(&e, 0x5000, &w));
	p2m_destroy(&e.p);
}

TEST(p2m_stale_when_rights_or_frame_change)
{
	struct env e;
	env_init(&e);
	u64 a = own_frame(&e), b = own_frame(&e);
	CHECK(p2m_set(&e.p, 7, a, P2M_RAM));
	CHECK(p2m_set(&e.p, 7, a, P2M_RAM)); /* same mapping again */
	CHECK(!e.p.ept_stale);
	CHECK(p2m_set(&e.p, 7, a, P2M_ROM)); /* write right removed */
	CHECK(e.p.ept_stale);
	e.p.ept_stale = false;
	CHECK(p2m_set(&e.p, 7, b, P2M_ROM)); /* other frame */
	CHECK(e.p.ept_stale);
	e.p.ept_stale = false;
	CHECK(p2m_set(&e.p, 7, b, P2M_MMIO));
	CHECK(e.p.ept_stale);
	e.p.ept_stale = false;
	CHECK(p2m_set(&e.p, 7, a, P2M_RAM)); /* from nothing in the EPT: gains only */
	CHECK(!e.p.ept_stale);
	CHECK(p2m_set(&e.p, 7, 0, P2M_NONE));
	CHECK(e.p.ept_stale);
	CHECK(frames_free(&e.fa, b << PAGE_SHIFT, OWNER));
	p2m_destroy(&e.p);
}

TEST(p2m_unmap)
{
	struct env e;
	env_init(&e);
	u64 a = own_frame(&e);
	struct pt_walk w;
	CHECK(p2m_set(&e.p, 0x40, a, P2M_RAM));
	CHECK_EQ(e.p.nr_ram, 1);
	CHECK(p2m_set(&e.p, 0x40, 0, P2M_NONE));
	CHECK_EQ(p2m_lookup(&e.p, 0x40, NULL), P2M_NONE);
	CHECK(!ept_walk(&e, 0x40000, &w));
	CHECK_EQ(e.p.nr_ram, 0);
	/* unmapping where no table exists allocates nothing */
	u64 tables = e.p.nr_tables;
	CHECK(p2m_set(&e.p, 0x7654321, 0, P2M_NONE));
	CHECK_EQ(e.p.nr_tables, tables);
	CHECK(frames_free(&e.fa, a << PAGE_SHIFT, OWNER));
	p2m_destroy(&e.p);
}

TEST(p2m_populate_and_destroy_return_every_frame)
{
	struct env e;
	env_init(&e);
	CHECK(p2m_populate(&e.p, 0, 0xa0));
	CHECK(p2m_populate(&e.p, 0x100, 0x100));
	CHECK(p2m_populate(&e.p, 0x80000, 3)); /* far away: more tables */
	CHECK_EQ(e.p.nr_ram, 0xa0 + 0x100 + 3);
	CHECK_EQ(frames_count(&e.fa, OWNER), 0xa0 + 0x100 + 3);
	for (u64 g = 0; g < 0x200; g++) {
		u64 mfn;
		enum p2m_type t = p2m_lookup(&e.p, g, &mfn);
		if (g < 0xa0 || g >= 0x100) {
			CHECK_EQ(t, P2M_RAM);
			CHECK_EQ(frames_owner(&e.fa, mfn << PAGE_SHIFT), OWNER);
		} else {
			CHECK_EQ(t, P2M_NONE);
		}
	}
	CHECK_EQ(frames_count(&e.fa, FRAME_HV), e.p.nr_tables);
	p2m_destroy(&e.p);
	CHECK_EQ(frames_count(&e.fa, OWNER), 0);
	CHECK_EQ(frames_count(&e.fa, FRAME_HV), 0);
	CHECK_EQ(frames_count(&e.fa, FRAME_BOOT), 1); /* the frame table itself */
	CHECK_EQ(e.p.nr_tables, 0);
	CHECK_EQ(e.p.nr_ram, 0);
	CHECK_EQ(e.fa.nfree, e.free0);
	CHECK_EQ(p2m_lookup(&e.p, 0, NULL), P2M_NONE);
	p2m_destroy(&e.p); /* twice is harmless */
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(p2m_populate_runs_out_of_frames)
{
	struct env e;
	env_init(&e);
	CHECK(!p2m_populate(&e.p, 0, ARENA >> PAGE_SHIFT));
	CHECK_EQ(e.fa.nfree, 0);
	CHECK_EQ(e.p.nr_ram, frames_count(&e.fa, OWNER));
	/* no table can be made now either */
	u64 mfn;
	REQUIRE(p2m_lookup(&e.p, 0, &mfn) == P2M_RAM);
	CHECK(!p2m_set(&e.p, 0x4000000, mfn, P2M_RAM));
	CHECK_EQ(p2m_lookup(&e.p, 0x4000000, NULL), P2M_NONE);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(gmem_write_read_across_pages)
{
	struct env e;
	env_init(&e);
	/* gfn 1 lies below gfn 0 in machine memory: a copy must not assume contiguity */
	u64 hi = own_frame(&e), lo = own_frame(&e);
	CHECK(p2m_set(&e.p, 0, lo, P2M_RAM));
	CHECK(p2m_set(&e.p, 1, hi, P2M_RAM));
	u8 src[300], dst[300];
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (u8)(i * 7 + 1);
	CHECK(gmem_write(&e.p, 0xf80, src, sizeof(src)) == GMEM_OK);
	const u8 *m0 = phys_to_virt(lo << PAGE_SHIFT), *m1 = phys_to_virt(hi << PAGE_SHIFT);
	CHECK(!memcmp(m0 + 0xf80, src, 0x80));
	CHECK(!memcmp(m1, src + 0x80, sizeof(src) - 0x80));
	CHECK_EQ(m0[0xf7f], 0);
	CHECK_EQ(m1[sizeof(src) - 0x80], 0);
	memset(dst, 0, sizeof(dst));
	CHECK(gmem_read(&e.p, 0xf80, dst, sizeof(dst)) == GMEM_OK);
	CHECK(!memcmp(src, dst, sizeof(src)));
	CHECK(gmem_write(&e.p, 0x10, src, 0) == GMEM_OK); /* empty copies succeed */
	CHECK(gmem_read(&e.p, 0x10, dst, 0) == GMEM_OK);
	p2m_destroy(&e.p);
}

TEST(gmem_write_refuses_ranges_leaving_ram)
{
	struct env e;
	env_init(&e);
	CHECK(p2m_populate(&e.p, 0, 2));
	u64 rom = own_frame(&e), m1;
	CHECK(p2m_set(&e.p, 3, rom, P2M_ROM));
	REQUIRE(p2m_lookup(&e.p, 1, &m1) == P2M_RAM);
	u8 buf[64];
	memset(buf, 0xee, sizeof(buf));
	const u8 *page1 = phys_to_virt(m1 << PAGE_SHIFT);
	/* runs from RAM (gfn 1) into the hole at gfn 2: nothing at all is written */
	CHECK(gmem_write(&e.p, 0x2000 - 32, buf, sizeof(buf)) != GMEM_OK);
	for (unsigned i = 0; i < 32; i++)
		CHECK_EQ(page1[PAGE_SIZE - 32 + i], 0);
	CHECK(gmem_write(&e.p, 0x2000, buf, 1) != GMEM_OK); /* hole */
	CHECK(gmem_write(&e.p, 0x3000, buf, 1) != GMEM_OK); /* ROM is read-only to copies in */
	CHECK(gmem_write(&e.p, UINT64_MAX - 10, buf, sizeof(buf)) != GMEM_OK); /* wraps */
	CHECK(gmem_read(&e.p, 0x2000 - 32, buf, sizeof(buf)) != GMEM_OK);
	CHECK(gmem_read(&e.p, UINT64_MAX - 10, buf, sizeof(buf)) != GMEM_OK);
	CHECK(gmem_read(&e.p, 0x3000, buf, sizeof(buf)) == GMEM_OK); /* ROM can be read */
	CHECK(p2m_set(&e.p, 4, 0xfee00, P2M_MMIO));
	CHECK(gmem_read(&e.p, 0x4000, buf, 4) != GMEM_OK);
	CHECK(gmem_write(&e.p, 0x4000, buf, 4) != GMEM_OK);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(p2m_gfn_beyond_the_table_is_not_an_alias)
{
	/* 4 levels of 9 bits index gfns below 2^36; a larger gfn must not reach gfn 0's entry */
	struct env e;
	env_init(&e);
	CHECK(p2m_populate(&e.p, 0, 1));
	u8 b[8];
	CHECK_EQ(p2m_lookup(&e.p, 1ULL << 36, NULL), P2M_NONE);
	CHECK(gmem_read(&e.p, 1ULL << 48, b, sizeof(b)) != GMEM_OK);
	CHECK(gmem_write(&e.p, 1ULL << 48, b, sizeof(b)) != GMEM_OK);
	p2m_destroy(&e.p);
}

TEST(p2m_set_asserts_foreign_frames)
{
	struct env e;
	env_init(&e);
	u64 other = frames_alloc(&e.fa, OTHER) >> PAGE_SHIFT;
	u64 free_pfn = (e.fa.base_pfn + e.fa.npfn - 1); /* still free */
	REQUIRE(other && frames_owner(&e.fa, free_pfn << PAGE_SHIFT) == FRAME_FREE);
	EXPECT_ASSERT(p2m_set(&e.p, 1, other, P2M_RAM));
	EXPECT_ASSERT(p2m_set(&e.p, 1, other, P2M_ROM));
	EXPECT_ASSERT(p2m_set(&e.p, 1, e.p.root >> PAGE_SHIFT, P2M_RAM)); /* hypervisor's */
	EXPECT_ASSERT(p2m_set(&e.p, 1, free_pfn, P2M_RAM));
	EXPECT_ASSERT(p2m_set(&e.p, 1, 0x10, P2M_RAM)); /* not RAM at all */
	CHECK_EQ(p2m_lookup(&e.p, 1, NULL), P2M_NONE);
	CHECK_EQ(e.p.nr_ram, 0);
	/* MMIO names no frame: nothing to assert */
	CHECK(p2m_set(&e.p, 1, other, P2M_MMIO));
	p2m_destroy(&e.p);
	CHECK_EQ(frames_owner(&e.fa, other << PAGE_SHIFT), OTHER);
}

/* ---- the walker itself, on hand-built tables ---- */

struct hand {
	unsigned allocs, frees;
	bool fail_alloc;
};

static u64 hand_alloc(void *ctx)
{
	struct hand *h = ctx;
	if (h->fail_alloc)
		return 0;
	h->allocs++;
	return virt_to_phys(test_alloc_aligned(PAGE_SIZE, PAGE_SIZE));
}

static void hand_free(void *ctx, u64 pa)
{
	(void)pa;
	((struct hand *)ctx)->frees++;
}

static void *hand_map(void *ctx, u64 pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

static u64 *new_table(void)
{
	return test_alloc_aligned(PAGE_SIZE, PAGE_SIZE);
}

#define RWX (EPT_R | EPT_W | EPT_X)

TEST(pt_walk_large_pages)
{
	struct hand h = {0};
	struct pt_ops ops = {hand_alloc, hand_free, hand_map, &h};
	u64 *pml4 = new_table(), *pdpt = new_table(), *pd = new_table(), *pt = new_table();
	u64 root = virt_to_phys(pml4);
	pml4[0] = virt_to_phys(pdpt) | RWX;
	pdpt[1] = (5ULL << 30) | EPT_LARGE | RWX | EPT_MT_WB; /* 1 GiB at 5 GiB */
	pdpt[0] = virt_to_phys(pd) | RWX;
	pd[3] = (0x123ULL << 21) | EPT_LARGE | EPT_R | EPT_MT_WB; /* 2 MiB */
	pd[4] = virt_to_phys(pt) | RWX;
	pt[5] = 0xabcd000ULL | EPT_R | EPT_X;
	struct pt_walk w;
	REQUIRE(pt_walk(&pt_fmt_ept, &ops, root, (1ULL << 30) + 0x2345678, &w));
	CHECK_EQ(w.level, 2);
	CHECK_EQ(w.pa, (5ULL << 30) + 0x2345678);
	CHECK_EQ(w.entry, pdpt[1]);
	REQUIRE(pt_walk(&pt_fmt_ept, &ops, root, 3 * (2ULL << 20) + 0x1f00f, &w));
	CHECK_EQ(w.level, 1);
	CHECK_EQ(w.pa, (0x123ULL << 21) + 0x1f00f);
	REQUIRE(pt_walk(&pt_fmt_ept, &ops, root, 4 * (2ULL << 20) + 5 * PAGE_SIZE + 0x42, &w));
	CHECK_EQ(w.level, 0);
	CHECK_EQ(w.pa, 0xabcd042);
	CHECK(!pt_walk(&pt_fmt_ept, &ops, root, 4 * (2ULL << 20) + 6 * PAGE_SIZE, &w));
	CHECK(!pt_walk(&pt_fmt_ept, &ops, root, 2ULL << 30, &w));
	CHECK(!pt_walk(&pt_fmt_ept, &ops, root, 1ULL << 39, &w));
	/* a large leaf above the wanted level blocks pt_entry, with or without create */
	CHECK(pt_entry(&pt_fmt_ept, &ops, root, (1ULL << 30) + 0x1000, 0, true) == NULL);
	CHECK(pt_entry(&pt_fmt_ept, &ops, root, 3 * (2ULL << 20), 0, false) == NULL);
	CHECK(pt_entry(&pt_fmt_ept, &ops, root, 3 * (2ULL << 20), 1, false) == &pd[3]);
	CHECK(pt_entry(&pt_fmt_ept, &ops, root, 1ULL << 30, 2, false) == &pdpt[1]);
	CHECK_EQ(h.allocs, 0);
}

TEST(pt_large_bit_only_where_the_format_allows)
{
	struct hand h = {0};
	struct pt_ops ops = {hand_alloc, hand_free, hand_map, &h};
	u64 *l3 = new_table(), *l2 = new_table(), *l1 = new_table(), *l0 = new_table();
	/* bit 7 in a P2M table entry (no large pages) and in an EPT PML4 entry (no 512 GiB
	 * pages) is just a table pointer bit */
	l3[0] = virt_to_phys(l2) | 1 | BIT(7);
	l2[0] = virt_to_phys(l1) | 1 | BIT(7);
	l1[0] = virt_to_phys(l0) | 1 | BIT(7);
	l0[2] = 0x777000 | 1;
	struct pt_walk w;
	REQUIRE(pt_walk(&pt_fmt_p2m, &ops, virt_to_phys(l3), 0x2010, &w));
	CHECK_EQ(w.level, 0);
	CHECK_EQ(w.pa, 0x777010);
	l3[0] = virt_to_phys(l2) | RWX | EPT_LARGE;
	l2[0] = virt_to_phys(l1) | RWX;
	l1[0] = virt_to_phys(l0) | RWX;
	l0[2] = 0x777000 | EPT_R;
	REQUIRE(pt_walk(&pt_fmt_ept, &ops, virt_to_phys(l3), 0x2010, &w));
	CHECK_EQ(w.level, 0);
	CHECK_EQ(w.pa, 0x777010);
}

TEST(pt_entry_create_and_destroy)
{
	struct hand h = {0};
	struct pt_ops ops = {hand_alloc, hand_free, hand_map, &h};
	u64 root = hand_alloc(&h);
	CHECK(pt_entry(&pt_fmt_ept, &ops, root, 0x1234000, 0, false) == NULL);
	CHECK_EQ(h.allocs, 1);
	u64 *e = pt_entry(&pt_fmt_ept, &ops, root, 0x1234000, 0, true);
	REQUIRE(e);
	CHECK_EQ(h.allocs, 4); /* PDPT, PD, PT */
	*e = 0x999000 | EPT_R;
	CHECK(pt_entry(&pt_fmt_ept, &ops, root, 0x1234000, 0, false) == e);
	CHECK(pt_entry(&pt_fmt_ept, &ops, root, 0x1235000, 0, true) == e + 1);
	CHECK_EQ(h.allocs, 4);
	struct pt_walk w;
	REQUIRE(pt_walk(&pt_fmt_ept, &ops, root, 0x1234567, &w));
	CHECK_EQ(w.pa, 0x999567);
	/* allocation failure: NULL, nothing half-made visible to the walker */
	h.fail_alloc = true;
	CHECK(pt_entry(&pt_fmt_ept, &ops, root, 1ULL << 40, 0, true) == NULL);
	CHECK(!pt_walk(&pt_fmt_ept, &ops, root, 1ULL << 40, &w));
	h.fail_alloc = false;
	/* a second branch, then destroy frees every table exactly once (not the leaves) */
	CHECK(pt_entry(&pt_fmt_ept, &ops, root, 1ULL << 39, 0, true) != NULL);
	CHECK_EQ(h.allocs, 7);
	pt_destroy(&pt_fmt_ept, &ops, root);
	CHECK_EQ(h.frees, h.allocs);
}
