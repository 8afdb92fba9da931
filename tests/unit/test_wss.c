/* Working-set sampling (mm/wss.c) over a real P2M on a heap arena, the guest played by the
 * test: an access to a withheld gfn is a fault (p2m_fault, as the EPT-violation exit calls
 * it), an access under A/D sets the leaf's accessed flag as the CPU would. Checks the
 * estimate on a known working set for both ways, that every withheld mapping comes back,
 * the interplay with the dirty log and ballooning, the averages, and the idle hints. */
#include "p2m_env.h"
#include "../../mm/wss.h"

#define NPAGES 1024

static bool ad_yes(void *ctx, struct p2m *p)
{
	(void)ctx;
	(void)p;
	return true;
}

static bool ad_no(void *ctx, struct p2m *p)
{
	(void)ctx;
	(void)p;
	return false;
}

static u64 *ept_leaf_ptr(struct p2m *p, u64 gfn)
{
	return pt_entry(&pt_fmt_ept, &p->ops, p->ept_root, gfn << PAGE_SHIFT, 0, false);
}

/* The guest reads gfn: through the EPT if its leaf is present (the CPU sets A under A/D),
 * else an EPT violation that the P2M must resolve. Returns the exits it took. */
static unsigned guest_read(struct p2m *p, u64 gfn)
{
	u64 *ee = ept_leaf_ptr(p, gfn);
	REQUIRE(ee);
	if (*ee & EPT_R) {
		if (p->ept_ad)
			*ee |= EPT_A;
		return 0;
	}
	CHECK_EQ(p2m_fault(p, gfn, false), P2M_FAULT_FIXED);
	CHECK(*ee & EPT_R); /* mapped again: the access runs */
	if (p->ept_ad)
		*ee |= EPT_A;
	return 1;
}

static void setup(struct env *e, struct wss *w, enum wss_method m, unsigned sample)
{
	env_init(e);
	REQUIRE(p2m_populate(&e->p, 0, NPAGES));
	wss_init(w, sample, 1000);
	w->ad_ok = ad_yes;
	REQUIRE(wss_add_vm(w, &e->p, NPAGES, m));
}

/* every RAM leaf present again and nothing withheld */
static void check_all_mapped(struct env *e)
{
	CHECK_EQ(e->p.nr_withheld, 0u);
	for (u64 g = 0; g < NPAGES; g++)
		CHECK(env_ept(&e->p, g << PAGE_SHIFT) & EPT_R);
}

/* 40 periods of 100 samples with gfns [0, NPAGES/4) touched each period: the mean over
 * 4000 samples has a standard deviation of sqrt(0.25 * 0.75 / 4000) = 0.7%; +-5 points is
 * seven of them (and the generator is seeded: the run is the same each time). */
static void run_quarter(struct env *e, struct wss *w, u64 *exits)
{
	for (unsigned period = 0; period < 40; period++) {
		wss_period(w);
		for (u64 g = 0; g < NPAGES / 4; g++)
			*exits += guest_read(&e->p, g);
	}
	wss_period(w); /* ends the 40th */
}

static u32 pct(u64 part, u64 whole)
{
	return whole ? (u32)(part * 100 / whole) : 0;
}

TEST(wss_invalidation_estimates_a_known_working_set)
{
	static struct env e;
	static struct wss w;
	setup(&e, &w, WSS_INVALIDATE, 100);
	u64 exits = 0;
	run_quarter(&e, &w, &exits);
	struct wss_vm *v = wss_vm_of(&w, &e.p);
	CHECK_EQ(v->periods, 40u);
	CHECK_EQ(v->sampled, 4000u); /* every gfn is RAM: no slot stays empty */
	u32 mean = pct(v->touched, v->sampled);
	CHECK(mean >= 20 && mean <= 30);
	/* each touched sample cost the guest exactly one exit, and only those did */
	CHECK_EQ(exits, v->touched);
	CHECK_EQ(v->faults, v->touched);
	CHECK_EQ(e.p.sample_faults, v->touched);
	u32 f;
	CHECK(wss_active_fraction(&w, &e.p, &f));
	CHECK(f >= WSS_ONE / 10 && f <= WSS_ONE / 2);
	CHECK(wss_active_pages(&w, &e.p) == e.p.nr_ram * f / WSS_ONE);
	CHECK(!e.p.ept_ad); /* invalidation needs no accessed flags */
	/* the next period's samples are out; turned off, the period after gives them back */
	CHECK_EQ(e.p.nr_withheld, 100u);
	wss_set_method(&w, &e.p, WSS_OFF);
	wss_period(&w);
	check_all_mapped(&e);
	CHECK(wss_active_fraction(&w, &e.p, &f)); /* the estimate made so far stays */
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(wss_accessed_flags_estimate_the_same_set_without_exits)
{
	static struct env e;
	static struct wss w;
	setup(&e, &w, WSS_ACCESSED, 100);
	u64 exits = 0;
	run_quarter(&e, &w, &exits);
	struct wss_vm *v = wss_vm_of(&w, &e.p);
	CHECK_EQ(exits, 0u);
	CHECK_EQ(v->faults, 0u);
	CHECK_EQ(v->periods, 40u);
	u32 mean = pct(v->touched, v->sampled);
	CHECK(mean >= 20 && mean <= 30);
	CHECK(e.p.ept_ad);
	CHECK(p2m_eptp(&e.p) & EPTP_AD);
	CHECK(e.p.ept_stale); /* flags cleared: the caller flushes before the next entry */
	CHECK_EQ(e.p.nr_withheld, 0u);
	/* back to invalidation: A/D goes off with the next period */
	wss_set_method(&w, &e.p, WSS_INVALIDATE);
	wss_period(&w);
	CHECK(!e.p.ept_ad);
	CHECK(!(p2m_eptp(&e.p) & EPTP_AD));
	p2m_destroy(&e.p);
}

TEST(wss_accessed_flags_fall_back_to_invalidation_without_ept_ad)
{
	static struct env e;
	static struct wss w;
	setup(&e, &w, WSS_ACCESSED, 50);
	w.ad_ok = ad_no; /* shadow paging, or a CPU without EPT A/D */
	u64 exits = 0;
	run_quarter(&e, &w, &exits);
	struct wss_vm *v = wss_vm_of(&w, &e.p);
	CHECK_EQ(v->fallbacks, 41u);
	CHECK(!e.p.ept_ad);
	CHECK(exits > 0);
	CHECK_EQ(exits, v->touched);
	/* a period under A flags that ends off EPT is dropped, not counted as idle */
	w.ad_ok = ad_yes;
	wss_period(&w); /* ends an invalidation period, starts an A-flag one */
	u64 periods = v->periods;
	w.ad_ok = ad_no;
	wss_period(&w);
	CHECK_EQ(v->discarded, 1u);
	CHECK_EQ(v->periods, periods);
	p2m_destroy(&e.p);
}

TEST(wss_withheld_gfn_tells_the_shadow_and_comes_back_on_its_fault)
{
	static struct env e;
	env_init(&e);
	REQUIRE(p2m_populate(&e.p, 0, 4));
	u64 mfn = env_mfn(&e.p, 2);
	e.p.ept_stale = false;
	CHECK(p2m_sample_withhold(&e.p, 2));
	CHECK(!p2m_sample_withhold(&e.p, 2)); /* once */
	CHECK(!p2m_sample_withhold(&e.p, 9)); /* a hole */
	CHECK(e.p.ept_stale);		      /* rights taken: INVEPT */
	CHECK_EQ(e.hook.unmaps, 1u);	      /* the shadow drops its leaves of the frame */
	CHECK_EQ(e.hook.last_mfn, mfn);
	CHECK(p2m_withheld(&e.p, 2));
	CHECK_EQ(env_ept(&e.p, 2 << PAGE_SHIFT), 0u);
	/* the P2M still has it: the hypervisor's accessor and lookups see RAM */
	CHECK_EQ(p2m_lookup(&e.p, 2, NULL), P2M_RAM);
	CHECK_EQ(env_mfn(&e.p, 2), mfn);
	u32 x = 0x5a5a;
	CHECK_EQ(gmem_write(&e.p, 2 << PAGE_SHIFT, &x, 4), GMEM_OK);
	CHECK(p2m_withheld(&e.p, 2)); /* the hypervisor's access is not the guest's */
	/* the shadow's #PF path touches it (as vmx/paging.c does) */
	CHECK(p2m_sample_touch(&e.p, 2));
	CHECK(!p2m_sample_touch(&e.p, 2));
	CHECK(env_ept(&e.p, 2 << PAGE_SHIFT) & EPT_W);
	CHECK_EQ(p2m_sample_end(&e.p, 2), P2M_SAMPLE_TOUCHED);
	CHECK_EQ(p2m_sample_end(&e.p, 2), P2M_SAMPLE_GONE); /* nothing sampled any more */
	CHECK(p2m_sample_withhold(&e.p, 3));
	CHECK_EQ(p2m_sample_end(&e.p, 3), P2M_SAMPLE_UNTOUCHED);
	CHECK(env_ept(&e.p, 3 << PAGE_SHIFT) & EPT_W);
	CHECK_EQ(e.p.nr_withheld, 0u);
	p2m_destroy(&e.p);
}

TEST(wss_sample_survives_the_dirty_log_and_a_write_is_logged)
{
	static struct env e;
	env_init(&e);
	REQUIRE(p2m_populate(&e.p, 0, 64));
	REQUIRE(p2m_log_enable(&e.p) == NULL);
	u64 bits[1];
	p2m_log_take(&e.p, 0, 1, bits); /* everything clean and write-protected */
	CHECK(p2m_sample_withhold(&e.p, 5));
	CHECK(p2m_sample_withhold(&e.p, 6));
	/* marking and re-arming keep a withheld leaf not present */
	p2m_mark_dirty(&e.p, 6);
	CHECK_EQ(env_ept(&e.p, 6 << PAGE_SHIFT), 0u);
	p2m_log_take(&e.p, 0, 1, bits);
	CHECK_EQ(env_ept(&e.p, 5 << PAGE_SHIFT), 0u);
	/* a write to a withheld, clean page: one fault, touched, logged and writable */
	CHECK_EQ(p2m_fault(&e.p, 5, true), P2M_FAULT_FIXED);
	CHECK(p2m_is_dirty(&e.p, 5));
	CHECK(env_ept(&e.p, 5 << PAGE_SHIFT) & EPT_W);
	/* the log stops: no write-only (invalid) leaf is made of a withheld one */
	p2m_log_disable(&e.p);
	CHECK_EQ(env_ept(&e.p, 6 << PAGE_SHIFT), 0u);
	CHECK_EQ(p2m_sample_end(&e.p, 6), P2M_SAMPLE_UNTOUCHED);
	CHECK(env_ept(&e.p, 6 << PAGE_SHIFT) & EPT_W);
	CHECK_EQ(p2m_sample_end(&e.p, 5), P2M_SAMPLE_TOUCHED);
	p2m_destroy(&e.p);
}

TEST(wss_sample_ends_when_the_p2m_changes_the_gfn)
{
	static struct env e;
	static struct wss w;
	setup(&e, &w, WSS_INVALIDATE, 200);
	wss_period(&w);
	struct wss_vm *v = wss_vm_of(&w, &e.p);
	REQUIRE(v->nsample == 200);
	/* balloon out every sampled gfn: their samples are gone, not idle */
	for (unsigned i = 0; i < v->nsample; i++)
		CHECK(p2m_balloon_out(&e.p, v->sample[i]));
	CHECK_EQ(e.p.nr_withheld, 0u);
	wss_set_method(&w, &e.p, WSS_OFF);
	wss_period(&w);
	CHECK_EQ(v->gone, 200u);
	CHECK_EQ(v->periods, 0u);
	u32 f;
	CHECK(!wss_active_fraction(&w, &e.p, &f));
	CHECK_EQ(f, WSS_ONE); /* no estimate: all active, no tax */
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(wss_fast_average_follows_a_drop_and_the_slow_one_holds_the_estimate)
{
	static struct env e;
	static struct wss w;
	setup(&e, &w, WSS_INVALIDATE, 64);
	u64 exits = 0;
	for (unsigned p = 0; p < 10; p++) { /* everything touched */
		wss_period(&w);
		for (u64 g = 0; g < NPAGES; g++)
			exits += guest_read(&e.p, g);
	}
	wss_period(&w);
	struct wss_vm *v = wss_vm_of(&w, &e.p);
	CHECK_EQ(v->last, WSS_ONE);
	CHECK_EQ(v->fast, WSS_ONE);
	CHECK_EQ(v->slow, WSS_ONE);
	for (unsigned p = 0; p < 3; p++) /* idle */
		wss_period(&w);
	CHECK_EQ(v->last, 0u);
	/* fast: 1 -> 1/2 -> 1/4 -> 1/8; slow: (15/16)^3 = 0.82 of it */
	CHECK_EQ(v->fast, WSS_ONE / 8);
	CHECK(v->slow > WSS_ONE * 81 / 100 && v->slow < WSS_ONE * 83 / 100);
	u32 f;
	wss_active_fraction(&w, &e.p, &f);
	CHECK_EQ(f, v->slow); /* the max: reclaim waits for the slow average */
	/* a rise shows at once in the fast average */
	for (u64 g = 0; g < NPAGES; g++)
		exits += guest_read(&e.p, g);
	wss_period(&w);
	CHECK_EQ(v->fast, WSS_ONE / 8 + (WSS_ONE - WSS_ONE / 8) / 2);
	p2m_destroy(&e.p);
}

TEST(wss_idle_hints_name_untouched_samples_and_forget_touched_ones)
{
	static struct env e;
	static struct wss w;
	setup(&e, &w, WSS_INVALIDATE, 100);
	u64 exits = 0;
	run_quarter(&e, &w, &exits);
	u64 g[WSS_IDLE_RING];
	unsigned n = wss_idle_gfns(&w, &e.p, g, WSS_IDLE_RING);
	CHECK(n > 100);
	for (unsigned i = 0; i < n; i++) {
		CHECK(g[i] >= NPAGES / 4); /* never one of the working set */
		CHECK(wss_page_idle(&w, &e.p, g[i]));
	}
	CHECK(!wss_page_idle(&w, &e.p, 0));
	/* the guest starts touching an idle gfn: once a sample sees it, it is no longer idle */
	u64 victim = g[0];
	for (unsigned p = 0; p < 400 && wss_page_idle(&w, &e.p, victim); p++) {
		guest_read(&e.p, victim);
		wss_period(&w);
	}
	CHECK(!wss_page_idle(&w, &e.p, victim));
	CHECK_EQ(wss_idle_gfns(&w, &e.p, g, 0), 0u);
	p2m_destroy(&e.p);
}

TEST(wss_tick_runs_periods_on_time_and_slots_are_bounded)
{
	static struct env e;
	static struct wss w;
	setup(&e, &w, WSS_INVALIDATE, 10);
	CHECK(!wss_tick(&w, 5000)); /* starts the first period */
	CHECK_EQ(e.p.nr_withheld, 10u);
	CHECK(!wss_tick(&w, 5999));
	CHECK(wss_tick(&w, 6000));
	CHECK_EQ(wss_vm_of(&w, &e.p)->periods, 1u);
	CHECK(!wss_add_vm(&w, &e.p, NPAGES, WSS_OFF)); /* twice */
	CHECK(!wss_add_vm(&w, NULL, NPAGES, WSS_OFF));
	static struct p2m others[WSS_MAX_VMS];
	unsigned added = 0;
	for (unsigned i = 0; i < WSS_MAX_VMS; i++)
		added += wss_add_vm(&w, &others[i], 0, WSS_OFF);
	CHECK_EQ(added, WSS_MAX_VMS - 1u);
	wss_remove_vm(&w, &e.p);
	CHECK(!wss_vm_of(&w, &e.p));
	CHECK_EQ(wss_active_pages(&w, &e.p), e.p.nr_ram); /* unknown VM: all active */
	CHECK(!wss_page_idle(&w, &e.p, 3));
	p2m_destroy(&e.p);
}

TEST(wss_samples_only_touched_pages_of_a_lazy_vm)
{
	static struct env e;
	static struct wss w;
	env_init(&e);
	REQUIRE(p2m_populate_lazy(&e.p, 0, NPAGES));
	for (u64 g = 0; g < 100; g++)
		REQUIRE(p2m_fault(&e.p, g, true) == P2M_FAULT_FIXED);
	wss_init(&w, 200, 1000);
	w.ad_ok = ad_no;
	REQUIRE(wss_add_vm(&w, &e.p, NPAGES, WSS_INVALIDATE));
	u64 nfree = e.fa.nfree;
	for (unsigned i = 0; i < 6; i++) {
		wss_period(&w);
		/* only touched RAM can be withheld; the sampler populates nothing */
		CHECK(e.p.nr_withheld <= 100u);
		CHECK_EQ(e.p.populated, 100u);
		CHECK_EQ(e.p.nr_ram, 100u);
	}
	CHECK(wss_vm_of(&w, &e.p)->sampled <= 6u * 100u);
	CHECK_EQ(e.fa.nfree, nfree);
	wss_set_method(&w, &e.p, WSS_OFF);
	wss_period(&w);
	CHECK_EQ(e.p.nr_withheld, 0u);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}
