/* The shadow over a real P2M (mm/shadow.c with mm/p2m.c, mm/gmem.c): the change hook
 * removes shadow leaves of frames the P2M takes away, shared frames are mapped read-only
 * and broken on a write fault, and the dirty log works under shadow paging (write rights
 * dropped while logging, re-granted and marked on the first write fault). */
#include "p2m_env.h"
#include "../../mm/shadow.h"

#define GP_P  0x1ULL
#define GP_RW 0x2ULL
#define VA(i) (0x400000ULL + (u64)(i)*PAGE_SIZE) /* maps gfn 0x10 + i */

static struct shadow sh;
static struct shadow_vcpu sv;
static struct frames *sh_fa;

static u64 s_alloc(void *ctx)
{
	(void)ctx;
	return frames_alloc(sh_fa, FRAME_HV);
}

static void s_free(void *ctx, u64 pa)
{
	(void)ctx;
	REQUIRE(frames_free(sh_fa, pa, FRAME_HV));
}

static void *s_map(void *ctx, u64 pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

static enum p2m_type s_lookup(void *ctx, u64 gfn, u64 *mfn)
{
	return p2m_lookup(ctx, gfn, mfn);
}

static bool s_may_write(void *ctx, u64 gfn, enum p2m_type t, bool write)
{
	return p2m_may_write_as(ctx, gfn, t, write);
}

static void put(struct env *e, u64 gpa, u64 v)
{
	REQUIRE(gmem_write(&e->p, gpa, &v, sizeof(v)) == GMEM_OK);
}

/* Guest RAM gfn 0-0x1f; IA-32e tables at 0x1000-0x4000; VA(i) -> gfn 0x10 + i, i < 8. */
static struct guest_paging setup(struct env *e)
{
	env_init2(e);
	sh_fa = &e->fa;
	REQUIRE(p2m_populate(&e->p, 0, 0x20));
	put(e, 0x1000, 0x2000 | GP_P | GP_RW);
	put(e, 0x2000, 0x3000 | GP_P | GP_RW);
	put(e, 0x3000 + 2 * 8, 0x4000 | GP_P | GP_RW);
	for (unsigned i = 0; i < 8; i++)
		put(e, 0x4000 + i * 8, ((0x10ULL + i) << PAGE_SHIFT) | GP_P | GP_RW);
	struct shadow_ops ops = {s_alloc, s_free, s_map, s_lookup, &e->p, s_may_write};
	shadow_init(&sh, &ops, 64);
	memset(&sv, 0, sizeof(sv));
	p2m_set_hook(&e->p, shadow_p2m_hook, &sh);
	struct guest_paging gp = {.cr0 = (1ULL << 31) | (1ULL << 16) | 1,
				  .cr3 = 0x1000,
				  .cr4 = 1ULL << 5,
				  .efer = (1ULL << 8) | (1ULL << 10) | (1ULL << 11),
				  .maxphyaddr = 39};
	REQUIRE(shadow_load_root(&sh, &sv, &gp));
	return gp;
}

static void teardown(struct env *e)
{
	shadow_reset(&sh, &sv);
	p2m_destroy(&e->p);
	p2m_destroy(&e->q);
	CHECK_EQ(e->fa.nfree, e->free0);
}

/* What the #PF exit does: walk the guest's tables (through gmem), then fill. */
static enum shadow_fill touch(struct env *e, const struct guest_paging *gp, u64 gva, bool write)
{
	struct gwalk w;
	struct pt_ops mem = {NULL, NULL, gmem_table, &e->p};
	unsigned access = write ? GACC_WRITE : 0;
	guest_walk(gp, &mem, gva, access, true, &w);
	REQUIRE(w.status == GWALK_OK);
	return shadow_fill(&sh, &sv, gp, gva, access, &w);
}

/* The shadow leaf of gva, 0 when there is none. */
static u64 leaf(u64 gva)
{
	u64 e = 0;
	return shadow_lookup(&sh, &sv, gva, &e) == ~0ULL ? 0 : e;
}

static u64 leaf_mfn(u64 gva)
{
	return (leaf(gva) & 0x000ffffffffff000ULL) >> PAGE_SHIFT;
}

TEST(shadow_hook_removes_leaves_of_frames_the_p2m_takes)
{
	struct env e;
	struct guest_paging gp = setup(&e);
	CHECK_EQ(touch(&e, &gp, VA(0), false), SFILL_OK);
	CHECK_EQ(touch(&e, &gp, VA(1), true), SFILL_OK);
	CHECK_EQ(leaf_mfn(VA(0)), env_mfn(&e.p, 0x10));
	CHECK(leaf(VA(1)) & GP_RW);
	sh.need_flush = false;
	REQUIRE(p2m_balloon_out(&e.p, 0x10));
	CHECK_EQ(leaf(VA(0)), 0); /* gone from the shadow with the frame */
	CHECK(sh.need_flush);
	CHECK(leaf(VA(1)) & GP_RW); /* the neighbour keeps its mapping */
	/* a ballooned frame is not mapped again: the fill reports it */
	CHECK_EQ(touch(&e, &gp, VA(0), false), SFILL_NOT_RAM);
	CHECK_EQ(leaf(VA(0)), 0);
	/* swapped out the same way */
	REQUIRE(p2m_swap_out(&e.p, 0x11, 9));
	CHECK_EQ(leaf(VA(1)), 0);
	CHECK_EQ(touch(&e, &gp, VA(1), true), SFILL_NOT_RAM);
	teardown(&e);
}

TEST(shadow_maps_shared_frames_read_only_and_breaks_them_on_write)
{
	struct env e;
	struct guest_paging gp = setup(&e);
	REQUIRE(p2m_populate(&e.q, 0, 1));
	CHECK_EQ(touch(&e, &gp, VA(2), true), SFILL_OK);
	CHECK(leaf(VA(2)) & GP_RW);
	u64 shared = env_mfn(&e.p, 0x12);
	memset(phys_to_virt(shared << PAGE_SHIFT), 0x5c, PAGE_SIZE);
	sh.need_flush = false;
	REQUIRE(p2m_share(&e.p, 0x12, &e.q, 0));
	/* still mapped, the write right gone */
	CHECK_EQ(leaf_mfn(VA(2)), shared);
	CHECK(!(leaf(VA(2)) & GP_RW));
	CHECK(sh.need_flush);
	CHECK_EQ(touch(&e, &gp, VA(2), false), SFILL_FLUSH);
	CHECK(!(leaf(VA(2)) & GP_RW)); /* a read fill keeps it read-only */
	/* the guest's write: a private copy, mapped writable */
	touch(&e, &gp, VA(2), true);
	u64 copy = env_mfn(&e.p, 0x12);
	CHECK(copy != shared);
	CHECK_EQ(leaf_mfn(VA(2)), copy);
	CHECK(leaf(VA(2)) & GP_RW);
	CHECK_EQ(((u8 *)phys_to_virt(copy << PAGE_SHIFT))[100], 0x5c);
	CHECK_EQ(p2m_lookup(&e.q, 0, NULL), P2M_SHARED); /* the other VM still shares it */
	CHECK_EQ(env_mfn(&e.q, 0), shared);
	teardown(&e);
}

TEST(shadow_dirty_log_grants_write_on_the_first_write_fault)
{
	struct env e;
	struct guest_paging gp = setup(&e);
	CHECK_EQ(touch(&e, &gp, VA(3), true), SFILL_OK);
	CHECK_EQ(touch(&e, &gp, VA(4), false), SFILL_OK);
	CHECK(leaf(VA(3)) & GP_RW);
	REQUIRE(p2m_log_enable(&e.p) == NULL);
	CHECK(!(leaf(VA(3)) & GP_RW)); /* enabling took the write right */
	CHECK(leaf(VA(3)) & GP_P);
	u64 bits[1];
	p2m_log_take(&e.p, 0, 1, bits); /* start from a clean log */
	/* a guest walk (and so its table pages) and a read leave the data page clean and
	 * read-only */
	CHECK_EQ(touch(&e, &gp, VA(3), false), SFILL_FLUSH);
	CHECK(!(leaf(VA(3)) & GP_RW));
	CHECK(!p2m_is_dirty(&e.p, 0x13));
	/* the first write: marked, and the leaf writable again */
	CHECK_EQ(touch(&e, &gp, VA(3), true), SFILL_FLUSH);
	CHECK(leaf(VA(3)) & GP_RW);
	CHECK(p2m_is_dirty(&e.p, 0x13));
	CHECK(!p2m_is_dirty(&e.p, 0x14));
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 5); /* 0x13 and the four tables walked */
	CHECK_EQ(bits[0], (1ULL << 0x13) | 0x1eULL);
	/* taken: write-protected again in the shadow */
	CHECK(!(leaf(VA(3)) & GP_RW));
	CHECK_EQ(touch(&e, &gp, VA(3), true), SFILL_FLUSH);
	CHECK(p2m_is_dirty(&e.p, 0x13));
	p2m_log_disable(&e.p);
	CHECK_EQ(touch(&e, &gp, VA(4), true), SFILL_FLUSH);
	CHECK(leaf(VA(4)) & GP_RW);
	teardown(&e);
}
