/* Tests of the P2M's running counts (mm/p2m.c: p2m.count by type, p2m.balloon_count by
 * balloon mark) that Keel's memory timeline reads: after random sharing, ballooning,
 * swapping and unmapping they equal a full scan of the map. */
#include "p2m_env.h"

#define NGFN 256

struct scan {
	u64 count[P2M_NTYPES];
	u64 marks[P2M_BALLOON_NMARKS];
};

static void scan_all(struct p2m *p, struct scan *s)
{
	memset(s, 0, sizeof(*s));
	for (u64 gfn = 0; gfn < NGFN; gfn++) {
		u64 mfn = 0;
		enum p2m_type t = p2m_lookup(p, gfn, &mfn);
		if (t == P2M_NONE)
			continue;
		s->count[t]++;
		if (t == P2M_BALLOONED)
			s->marks[MIN(mfn, (u64)P2M_BALLOON_NMARKS - 1)]++;
	}
}

static void check_counts(struct p2m *p)
{
	struct scan s;
	scan_all(p, &s);
	for (unsigned t = 1; t < P2M_NTYPES; t++)
		CHECK_EQ(p->count[t], s.count[t]);
	for (unsigned m = 0; m < P2M_BALLOON_NMARKS; m++)
		CHECK_EQ(p->balloon_count[m], s.marks[m]);
	CHECK_EQ(p->nr_ram, s.count[P2M_RAM] + s.count[P2M_SHARED]);
}

TEST(p2m_counts_start_at_zero_and_follow_populate)
{
	struct env e;
	env_init(&e);
	for (unsigned t = 0; t < P2M_NTYPES; t++)
		CHECK_EQ(e.p.count[t], 0);
	REQUIRE(p2m_populate(&e.p, 0, 10));
	REQUIRE(p2m_populate_as(&e.p, 10, 3, P2M_ROM));
	CHECK_EQ(e.p.count[P2M_RAM], 10);
	CHECK_EQ(e.p.count[P2M_ROM], 3);
	REQUIRE(p2m_balloon_out_as(&e.p, 2, P2M_BALLOON_INFLATED));
	REQUIRE(p2m_balloon_out_as(&e.p, 3, P2M_BALLOON_UNPOPULATED));
	CHECK_EQ(e.p.count[P2M_RAM], 8);
	CHECK_EQ(e.p.count[P2M_BALLOONED], 2);
	CHECK_EQ(e.p.balloon_count[P2M_BALLOON_INFLATED], 1);
	CHECK_EQ(e.p.balloon_count[P2M_BALLOON_UNPOPULATED], 1);
	CHECK_EQ(e.p.balloon_count[P2M_BALLOON_REPORTED], 0);
	check_counts(&e.p);
	p2m_destroy(&e.p);
	for (unsigned t = 0; t < P2M_NTYPES; t++)
		CHECK_EQ(e.p.count[t], 0);
	CHECK_EQ(e.p.balloon_count[P2M_BALLOON_INFLATED], 0);
}

/* Random changes through every primitive, in two VMs that share frames; after each batch
 * the counts equal what a scan of every gfn finds. */
TEST(p2m_counts_match_a_full_scan_after_random_changes)
{
	struct env e;
	env_init2(&e);
	REQUIRE(p2m_populate(&e.p, 0, NGFN));
	REQUIRE(p2m_populate_lazy(&e.q, 0, NGFN)); /* q: populate = lazy, frames on touch */
	check_counts(&e.p);
	check_counts(&e.q);
	u64 rng = 0x5eed0c0b;
	u8 page[PAGE_SIZE];
	memset(page, 0xab, sizeof(page));
	unsigned done = 0;
	for (unsigned i = 0; i < 6000; i++) {
		struct p2m *p = (test_rng(&rng) & 1) ? &e.p : &e.q;
		struct p2m *o = p == &e.p ? &e.q : &e.p;
		u64 gfn = test_rng(&rng) % NGFN, r = test_rng(&rng) % 11;
		bool ok = false;
		switch (r) {
		case 0:
			ok = p2m_share(o, test_rng(&rng) % NGFN, p, gfn);
			break;
		case 1:
			ok = p2m_unshare(p, gfn);
			break;
		case 2:
		case 3:
			ok = p2m_balloon_out_as(p, gfn, test_rng(&rng) % 3);
			break;
		case 4:
			ok = p2m_balloon_refill(p, gfn);
			break;
		case 5:
			ok = p2m_balloon_in(p, gfn);
			break;
		case 6:
			ok = p2m_swap_out(p, gfn, test_rng(&rng) % 1000);
			break;
		case 7:
			ok = p2m_swap_in(p, gfn, page);
			break;
		case 8:
			if (p2m_lookup(p, gfn, NULL) == P2M_NONE) {
				ok = p2m_populate(p, gfn, 1);
			} else if (!p2m_type_has_frame(p2m_lookup(p, gfn, NULL))) {
				ok = p2m_set(p, gfn, 0, P2M_NONE); /* no frame to lose */
			}
			break;
		case 9:
			ok = p2m_fault(p, gfn, test_rng(&rng) & 1) == P2M_FAULT_FIXED;
			break;
		default:
			ok = p2m_sample_withhold(p, gfn) &&
			     p2m_sample_end(p, gfn) != P2M_SAMPLE_GONE;
			break;
		}
		done += ok;
		if (i % 200 == 199) {
			check_counts(&e.p);
			check_counts(&e.q);
		}
	}
	CHECK(done > 1000); /* the changes mostly happened: the check saw a moving map */
	CHECK(e.p.count[P2M_SHARED] + e.q.count[P2M_SHARED] > 0);
	CHECK(e.p.count[P2M_SWAPPED] + e.q.count[P2M_SWAPPED] > 0);
	CHECK(e.p.balloon_count[P2M_BALLOON_UNPOPULATED] +
		  e.q.balloon_count[P2M_BALLOON_UNPOPULATED] >
	      0);
	check_counts(&e.p);
	check_counts(&e.q);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
}
