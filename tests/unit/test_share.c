/* Content-based page sharing (mm/share.c): equal pages of two VMs end up on one frame,
 * zero pages without hashing, nothing shared on a hash alone or from a hint that changed,
 * a write after sharing gets a private copy, a VM's policy and removal are honoured, and one
 * pass of the scan visits every gfn once. */
#include "p2m_env.h"
#include "../../mm/share.h"

#define NPAGES 32

static struct share_entry table[256];

static void fill(struct p2m *p, u64 gfn, u64 seed)
{
	u64 *w = (u64 *)env_host(p, gfn);
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		w[i] = seed ? seed * 0x9e3779b97f4a7c15ULL + i : 0;
}

/* two VMs of NPAGES pages each, every page filled from seed(gfn) */
static void two_vms(struct env *e, struct share *s, u64 (*seed_p)(u64), u64 (*seed_q)(u64))
{
	env_init2(e);
	REQUIRE(p2m_populate(&e->p, 0, NPAGES));
	REQUIRE(p2m_populate(&e->q, 0, NPAGES));
	for (u64 g = 0; g < NPAGES; g++) {
		fill(&e->p, g, seed_p(g));
		fill(&e->q, g, seed_q(g));
	}
	share_init(s, table, ARRAY_SIZE(table));
	REQUIRE(share_add_vm(s, &e->p, NPAGES, true));
	REQUIRE(share_add_vm(s, &e->q, NPAGES, true));
}

static u64 distinct_p(u64 g)
{
	return 1000 + g;
}

static u64 half_like_p(u64 g)
{
	return g < NPAGES / 2 ? 1000 + g : 5000 + g; /* the first half equals p's */
}

static u64 zero(u64 g)
{
	(void)g;
	return 0;
}

TEST(share_backs_equal_pages_of_two_vms_with_one_frame)
{
	static struct env e;
	static struct share s;
	two_vms(&e, &s, distinct_p, half_like_p);
	u64 nfree = e.fa.nfree;
	CHECK_EQ(share_scan(&s, 4 * NPAGES), 4u * NPAGES); /* two passes of each VM */
	CHECK_EQ(s.st.shared, NPAGES / 2);
	CHECK_EQ(s.st.zero_shared, 0u);
	CHECK_EQ(s.st.cross_shared, NPAGES / 2); /* every one joined the other VM's frame */
	CHECK_EQ(s.vms[0].cross_shared + s.vms[1].cross_shared, NPAGES / 2);
	CHECK_EQ(e.fa.nfree, nfree + NPAGES / 2);
	for (u64 g = 0; g < NPAGES; g++) {
		bool same = g < NPAGES / 2;
		CHECK_EQ(p2m_lookup(&e.q, g, NULL), same ? P2M_SHARED : P2M_RAM);
		CHECK_EQ(p2m_lookup(&e.p, g, NULL), same ? P2M_SHARED : P2M_RAM);
		if (same)
			CHECK_EQ(env_mfn(&e.q, g), env_mfn(&e.p, g));
		CHECK_EQ(((u64 *)env_host(&e.q, g))[5], half_like_p(g) * 0x9e3779b97f4a7c15ULL + 5);
	}
	/* scanning on finds nothing more and changes nothing */
	u64 shared = s.st.shared;
	share_scan(&s, 4 * NPAGES);
	CHECK_EQ(s.st.shared, shared);
	CHECK_EQ(s.vms[0].passes, 4u);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(share_finds_zero_pages_without_hashing_them)
{
	static struct env e;
	static struct share s;
	two_vms(&e, &s, zero, zero);
	u64 nfree = e.fa.nfree;
	share_scan(&s, 2 * NPAGES);
	CHECK_EQ(s.st.hashed, 0u);
	CHECK_EQ(s.st.zero_shared, 2u * NPAGES - 1); /* all but the first map its frame */
	CHECK_EQ(s.st.cross_shared, 0u);	     /* zero pages are not counted there */
	CHECK_EQ(e.fa.nfree, nfree + 2 * NPAGES - 1);
	u64 z = env_mfn(&e.p, 0);
	for (u64 g = 0; g < NPAGES; g++) {
		CHECK_EQ(env_mfn(&e.p, g), z);
		CHECK_EQ(env_mfn(&e.q, g), z);
	}
	CHECK_EQ(frames_share_refs(&e.fa, z << PAGE_SHIFT), 2u * NPAGES);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
	CHECK_EQ(e.fa.nfree, e.free0);
}

static u64 fake_tsc;
static u64 tick(void)
{
	return fake_tsc += 10;
}

TEST(share_counts_the_scanners_cycles_when_given_a_clock)
{
	static struct env e;
	static struct share s;
	two_vms(&e, &s, distinct_p, half_like_p);
	share_scan(&s, NPAGES);
	CHECK_EQ(s.st.cycles, 0u); /* no clock: nothing counted */
	s.now = tick;
	share_scan(&s, NPAGES);
	share_scan(&s, NPAGES);
	CHECK_EQ(s.st.cycles, 20u); /* one reading before and one after each scan */
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
}

static u64 all_alike(u64 g)
{
	(void)g;
	return 77;
}

TEST(share_counts_nonzero_pages_joined_within_one_vm_apart_from_another_vms)
{
	static struct env e;
	static struct share s;
	two_vms(&e, &s, all_alike, distinct_p);
	share_scan(&s, 4 * NPAGES);
	CHECK_EQ(s.st.shared, NPAGES - 1); /* p's pages on p's first frame, q's all distinct */
	CHECK_EQ(s.st.zero_shared, 0u);
	CHECK_EQ(s.st.cross_shared, 0u);
	CHECK_EQ(s.vms[0].cross_shared, 0u);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(share_breaks_on_the_first_write_with_a_private_copy)
{
	static struct env e;
	static struct share s;
	two_vms(&e, &s, distinct_p, distinct_p);
	share_scan(&s, 4 * NPAGES);
	REQUIRE(s.st.shared == NPAGES);
	u64 shared_mfn = env_mfn(&e.p, 3);
	CHECK_EQ(p2m_fault(&e.q, 3, true), P2M_FAULT_FIXED);
	CHECK_EQ(p2m_lookup(&e.q, 3, NULL), P2M_RAM);
	CHECK(env_mfn(&e.q, 3) != shared_mfn);
	CHECK(!memcmp(env_host(&e.q, 3), env_host(&e.p, 3), PAGE_SIZE));
	((u64 *)env_host(&e.q, 3))[0] = 42; /* the write lands in q's copy only */
	CHECK(((u64 *)env_host(&e.p, 3))[0] != 42);
	/* p holds the last reference: its frame is simply its own again */
	CHECK_EQ(p2m_fault(&e.p, 3, true), P2M_FAULT_FIXED);
	CHECK_EQ(env_mfn(&e.p, 3), shared_mfn);
	/* a rescan finds them different now */
	share_scan(&s, 4 * NPAGES);
	CHECK_EQ(p2m_lookup(&e.q, 3, NULL), P2M_RAM);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
}

TEST(share_never_uses_a_hint_that_changed)
{
	static struct env e;
	static struct share s;
	two_vms(&e, &s, distinct_p, zero);
	/* one pass of p makes its pages hints; then p's page 7 changes under them */
	share_remove_vm(&s, &e.q);
	share_scan(&s, NPAGES);
	CHECK_EQ(s.st.shared, 0u);
	fill(&e.p, 7, 777);
	/* q gets p's old page 7: it meets the stale hint, which must not be taken */
	fill(&e.q, 0, distinct_p(7));
	for (u64 g = 1; g < NPAGES; g++)
		fill(&e.q, g, 9000 + g);
	REQUIRE(share_add_vm(&s, &e.q, NPAGES, true));
	share_scan(&s, 2 * NPAGES);
	CHECK_EQ(s.st.hint_stale, 1u);
	CHECK_EQ(s.st.false_matches, 0u); /* the stale hint was dropped, not compared */
	CHECK_EQ(p2m_lookup(&e.q, 0, NULL), P2M_RAM);
	CHECK_EQ(p2m_lookup(&e.p, 7, NULL), P2M_RAM);
	CHECK_EQ(s.st.shared, 0u);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
}

/* a hash that sees only the first word: pages that differ after it collide */
static u64 first_word(const void *page)
{
	return *(const u64 *)page;
}

TEST(share_never_shares_on_a_hash_alone)
{
	static struct env e;
	static struct share s;
	two_vms(&e, &s, distinct_p, distinct_p);
	s.hash = first_word;
	for (u64 g = 0; g < NPAGES; g++)
		((u64 *)env_host(&e.q, g))[PAGE_SIZE / 8 - 1] ^= 1; /* the last word differs */
	share_scan(&s, 4 * NPAGES);
	CHECK_EQ(s.st.shared, 0u);
	CHECK(s.st.false_matches >= NPAGES);
	for (u64 g = 0; g < NPAGES; g++)
		CHECK_EQ(p2m_lookup(&e.q, g, NULL), P2M_RAM);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
}

TEST(share_honours_a_vms_policy_and_its_removal)
{
	static struct env e;
	static struct share s;
	two_vms(&e, &s, distinct_p, distinct_p);
	share_set_policy(&s, &e.q, false);
	share_scan(&s, 4 * NPAGES);
	CHECK_EQ(s.st.shared, 0u);
	CHECK_EQ(s.vms[1].scanned, 0u);
	/* p's hints are there; q turned on finds them */
	share_set_policy(&s, &e.q, true);
	share_scan(&s, 2 * NPAGES);
	CHECK_EQ(s.st.shared, NPAGES);
	/* p leaves: nothing of it stays in the table */
	share_remove_vm(&s, &e.p);
	for (unsigned i = 0; i < ARRAY_SIZE(table); i++)
		CHECK(table[i].vm != 1);
	CHECK(share_vm_of(&s, &e.p) == NULL);
	CHECK(share_add_vm(&s, &e.p, NPAGES, true));
	CHECK(!share_add_vm(&s, &e.p, NPAGES, true)); /* once only */
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
}

TEST(share_pass_visits_every_gfn_once_whatever_the_size)
{
	static const u64 sizes[] = {1, 2, 3, 10, 64, 100, 51200, 65536, 65537};
	for (unsigned k = 0; k < ARRAY_SIZE(sizes); k++) {
		static struct share s;
		static struct p2m dummy;
		u64 n = sizes[k];
		share_init(&s, table, ARRAY_SIZE(table));
		REQUIRE(share_add_vm(&s, &dummy, n, true));
		struct share_vm *v = share_vm_of(&s, &dummy);
		static u8 seen[65537];
		memset(seen, 0, sizeof(seen));
		u64 g = v->next;
		for (u64 i = 0; i < n; i++) {
			CHECK(g < n);
			CHECK(!seen[g]);
			seen[g] = 1;
			g = (g + v->step) % n;
		}
		CHECK_EQ(g, v->next);
	}
}

TEST(share_scan_keeps_to_its_budget_and_skips_what_is_not_ram)
{
	static struct env e;
	static struct share s;
	two_vms(&e, &s, zero, zero);
	REQUIRE(p2m_set(&e.p, 5, 0xfee00, P2M_MMIO));
	CHECK_EQ(share_scan(&s, 7), 7u);
	CHECK_EQ(s.st.scanned, 7u);
	share_scan(&s, 2 * NPAGES);
	CHECK(s.st.skipped >= 1);
	CHECK_EQ(p2m_lookup(&e.p, 5, NULL), P2M_MMIO);
	/* no VM on: the scan returns at once */
	share_set_policy(&s, &e.p, false);
	share_set_policy(&s, &e.q, false);
	CHECK_EQ(share_scan(&s, 100), 0u);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
}
