/* Tests of the P2M types added for overcommit (mm/p2m.c, mm/frames.c): frames shared by
 * several VMs with a reference count, copy-on-write breaks, ballooned and swapped-out
 * frames, the faults each resolves or reports, and the change hook that keeps caches of
 * the P2M (EPT, shadow) coherent. */
#include "p2m_env.h"

TEST(frames_shared_tag_counts_references)
{
	struct env e;
	env_init(&e);
	u64 pa = frames_alloc(&e.fa, ENV_OWNER);
	REQUIRE(pa);
	CHECK(!frames_share(&e.fa, pa, ENV_OTHER)); /* only its owner may share it */
	CHECK(frames_share(&e.fa, pa, ENV_OWNER));
	CHECK(frame_tag_shared(frames_owner(&e.fa, pa)));
	CHECK_EQ(frames_share_refs(&e.fa, pa), 1);
	CHECK(!frames_free(&e.fa, pa, ENV_OWNER)); /* no longer its private frame */
	CHECK(!frames_free(&e.fa, pa, frames_owner(&e.fa, pa)));
	CHECK(frames_share_get(&e.fa, pa));
	CHECK(frames_share_get(&e.fa, pa));
	CHECK_EQ(frames_share_refs(&e.fa, pa), 3);
	CHECK_EQ(frames_count_shared(&e.fa), 1);
	CHECK(!frames_unshare(&e.fa, pa, ENV_OWNER)); /* others still hold it */
	u64 nfree = e.fa.nfree;
	CHECK(!frames_share_put(&e.fa, pa));
	CHECK(!frames_share_put(&e.fa, pa));
	CHECK_EQ(e.fa.nfree, nfree);
	CHECK(frames_share_put(&e.fa, pa)); /* the last reference frees it */
	CHECK_EQ(frames_owner(&e.fa, pa), FRAME_FREE);
	CHECK_EQ(e.fa.nfree, nfree + 1);
	CHECK(!frames_share_put(&e.fa, pa));
	CHECK(!frames_share_get(&e.fa, pa));
	/* a shared tag is no owner one can allocate as */
	CHECK_EQ(frames_alloc(&e.fa, FRAME_SHARED_MIN), 0);
	CHECK_EQ(frames_alloc(&e.fa, FRAME_SHARED_MIN + 5), 0);
	/* the count saturates instead of wrapping into FRAME_BOOT */
	u64 pb = frames_alloc(&e.fa, ENV_OWNER);
	REQUIRE(frames_share(&e.fa, pb, ENV_OWNER));
	while (frames_share_get(&e.fa, pb))
		;
	CHECK_EQ(frames_owner(&e.fa, pb), FRAME_SHARED_MAX);
	CHECK_EQ(frames_share_refs(&e.fa, pb), FRAME_SHARED_MAX - FRAME_SHARED_MIN + 1);
	p2m_destroy(&e.p);
}

TEST(p2m_share_maps_one_frame_read_only_in_both)
{
	struct env e;
	env_init2(&e);
	REQUIRE(p2m_populate(&e.p, 1, 1));
	REQUIRE(p2m_populate(&e.q, 2, 1));
	u64 ma = env_mfn(&e.p, 1), mb = env_mfn(&e.q, 2);
	u64 nfree = e.fa.nfree;
	e.p.ept_stale = false;
	CHECK(p2m_share(&e.p, 1, &e.q, 2));
	CHECK_EQ(p2m_lookup(&e.p, 1, NULL), P2M_SHARED);
	CHECK_EQ(p2m_lookup(&e.q, 2, NULL), P2M_SHARED);
	CHECK_EQ(env_mfn(&e.q, 2), ma);
	CHECK_EQ(frames_share_refs(&e.fa, ma << PAGE_SHIFT), 2);
	CHECK_EQ(frames_owner(&e.fa, mb << PAGE_SHIFT), FRAME_FREE); /* q's own frame freed */
	CHECK_EQ(e.fa.nfree, nfree + 1);
	CHECK_EQ(env_ept(&e.p, 0x1000), (ma << PAGE_SHIFT) | EPT_R | EPT_X | EPT_MT_WB);
	CHECK_EQ(env_ept(&e.q, 0x2000), (ma << PAGE_SHIFT) | EPT_R | EPT_X | EPT_MT_WB);
	CHECK(e.p.ept_stale && e.q.ept_stale); /* p lost W, q changed frame */
	CHECK_EQ(e.hook.protects, 1);	       /* p's shadow must lose write access */
	CHECK_EQ(e.hook.last_mfn, ma);
	CHECK_EQ(e.p.nr_ram, 1);
	CHECK_EQ(e.q.nr_ram, 1);
	/* sharing again, or with itself, changes nothing */
	CHECK(p2m_share(&e.p, 1, &e.q, 2));
	CHECK(p2m_share(&e.p, 1, &e.p, 1));
	CHECK_EQ(frames_share_refs(&e.fa, ma << PAGE_SHIFT), 2);
	/* a third mapping, inside p: the count follows mappings, not VMs */
	REQUIRE(p2m_populate(&e.p, 3, 1));
	CHECK(p2m_share(&e.q, 2, &e.p, 3));
	CHECK_EQ(frames_share_refs(&e.fa, ma << PAGE_SHIFT), 3);
	/* only RAM can be shared */
	REQUIRE(p2m_set(&e.p, 4, 0xfee00, P2M_MMIO));
	CHECK(!p2m_share(&e.p, 4, &e.q, 2));
	CHECK(!p2m_share(&e.p, 1, &e.q, 9));
	p2m_destroy(&e.p);
	CHECK_EQ(frames_share_refs(&e.fa, ma << PAGE_SHIFT), 1); /* destroy dropped two */
	p2m_destroy(&e.q);
	CHECK_EQ(frames_owner(&e.fa, ma << PAGE_SHIFT), FRAME_FREE);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(p2m_set_asserts_shared_frames_are_shared)
{
	struct env e;
	env_init2(&e);
	u64 own = frames_alloc(&e.fa, ENV_OWNER) >> PAGE_SHIFT;
	EXPECT_ASSERT(p2m_set(&e.p, 1, own, P2M_SHARED)); /* private: not shared */
	REQUIRE(frames_share(&e.fa, own << PAGE_SHIFT, ENV_OWNER));
	EXPECT_ASSERT(p2m_set(&e.p, 1, own, P2M_RAM)); /* shared: never writable */
	EXPECT_ASSERT(p2m_set(&e.q, 1, own, P2M_ROM));
	CHECK(p2m_set(&e.q, 1, own, P2M_SHARED)); /* any VM may map a shared frame */
	CHECK(frames_share_get(&e.fa, own << PAGE_SHIFT));
	CHECK_EQ(p2m_lookup(&e.p, 1, NULL), P2M_NONE);
	p2m_destroy(&e.q);
	CHECK_EQ(frames_share_refs(&e.fa, own << PAGE_SHIFT), 1);
	p2m_destroy(&e.p);
}

TEST(p2m_write_fault_on_shared_copies_the_frame)
{
	struct env e;
	env_init2(&e);
	REQUIRE(p2m_populate(&e.p, 1, 1));
	REQUIRE(p2m_populate(&e.q, 1, 1));
	memset(env_host(&e.p, 1), 0x77, PAGE_SIZE);
	REQUIRE(p2m_share(&e.p, 1, &e.q, 1));
	u64 shared = env_mfn(&e.p, 1);
	e.hook = (struct hook_log){0};
	CHECK_EQ(p2m_fault(&e.p, 1, false), P2M_FAULT_NOT_MINE); /* reads are allowed */
	CHECK_EQ(p2m_fault(&e.p, 1, true), P2M_FAULT_FIXED);
	u64 copy = env_mfn(&e.p, 1);
	CHECK(copy != shared);
	CHECK_EQ(p2m_lookup(&e.p, 1, NULL), P2M_RAM);
	CHECK_EQ(frames_owner(&e.fa, copy << PAGE_SHIFT), ENV_OWNER);
	CHECK(!memcmp(env_host(&e.p, 1), phys_to_virt(shared << PAGE_SHIFT), PAGE_SIZE));
	CHECK_EQ(env_ept(&e.p, 0x1000), (copy << PAGE_SHIFT) | EPT_R | EPT_W | EPT_X | EPT_MT_WB);
	CHECK_EQ(frames_share_refs(&e.fa, shared << PAGE_SHIFT), 1);
	CHECK_EQ(e.hook.unmaps, 1); /* the shadow drops p's leaves of the shared frame */
	CHECK_EQ(e.hook.last_mfn, shared);
	/* q holds the last reference: its break takes the frame back without a copy */
	u64 nfree = e.fa.nfree;
	CHECK_EQ(p2m_fault(&e.q, 1, true), P2M_FAULT_FIXED);
	CHECK_EQ(env_mfn(&e.q, 1), shared);
	CHECK_EQ(frames_owner(&e.fa, shared << PAGE_SHIFT), ENV_OTHER);
	CHECK_EQ(e.fa.nfree, nfree);
	CHECK_EQ(p2m_fault(&e.q, 1, true), P2M_FAULT_NOT_MINE); /* RAM, no log: nothing to do */
	CHECK(!p2m_unshare(&e.q, 1));
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(p2m_copy_on_write_without_memory_changes_nothing)
{
	struct env e;
	env_init2(&e);
	REQUIRE(p2m_populate(&e.p, 1, 1));
	REQUIRE(p2m_populate(&e.q, 1, 1));
	REQUIRE(p2m_share(&e.p, 1, &e.q, 1));
	u64 shared = env_mfn(&e.p, 1);
	while (frames_alloc(&e.fa, FRAME_HV))
		;
	/* at the reserve (none here: nothing is free) the guest waits for the reclaimer */
	CHECK_EQ(p2m_fault(&e.p, 1, true), P2M_FAULT_WAIT);
	CHECK_EQ(e.p.mem_waits, 1);
	CHECK_EQ(e.fa.wanted, 1);
	CHECK_EQ(p2m_lookup(&e.p, 1, NULL), P2M_SHARED);
	CHECK_EQ(env_mfn(&e.p, 1), shared);
	CHECK_EQ(frames_share_refs(&e.fa, shared << PAGE_SHIFT), 2);
	CHECK(!p2m_may_write(&e.p, 1, true));
}

TEST(p2m_ballooned_frames_are_given_back)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate(&e.p, 0, 4));
	u64 m2 = env_mfn(&e.p, 2), nfree = e.fa.nfree;
	memset(env_host(&e.p, 2), 0x33, PAGE_SIZE);
	e.p.ept_stale = false;
	CHECK(p2m_balloon_out(&e.p, 2));
	CHECK_EQ(p2m_lookup(&e.p, 2, NULL), P2M_BALLOONED);
	CHECK_EQ(frames_owner(&e.fa, m2 << PAGE_SHIFT), FRAME_FREE);
	CHECK_EQ(e.fa.nfree, nfree + 1);
	CHECK_EQ(e.p.nr_ram, 3);
	CHECK_EQ(env_ept(&e.p, 0x2000), 0);
	CHECK(e.p.ept_stale);
	CHECK_EQ(e.hook.unmaps, 1);
	CHECK_EQ(e.hook.last_mfn, m2);
	CHECK_EQ(p2m_fault(&e.p, 2, false), P2M_FAULT_BALLOONED);
	CHECK_EQ(p2m_fault(&e.p, 2, true), P2M_FAULT_BALLOONED);
	CHECK(!p2m_may_write(&e.p, 2, true));
	CHECK(gmem_table(&e.p, 0x2000) == NULL);
	CHECK(!p2m_balloon_out(&e.p, 2)); /* twice */
	CHECK(!p2m_balloon_out(&e.p, 9)); /* a hole */
	CHECK(!p2m_swap_in(&e.p, 2, env_host(&e.p, 0)));
	CHECK(p2m_balloon_in(&e.p, 2));
	CHECK_EQ(p2m_lookup(&e.p, 2, NULL), P2M_RAM);
	CHECK_EQ(env_host(&e.p, 2)[7], 0); /* a fresh zeroed frame, not the old contents */
	CHECK(!p2m_balloon_in(&e.p, 2));
	CHECK_EQ(e.p.nr_ram, 4);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(p2m_ballooning_a_shared_frame_drops_a_reference)
{
	struct env e;
	env_init2(&e);
	REQUIRE(p2m_populate(&e.p, 0, 1));
	REQUIRE(p2m_populate(&e.q, 0, 1));
	REQUIRE(p2m_share(&e.p, 0, &e.q, 0));
	u64 shared = env_mfn(&e.p, 0);
	CHECK(p2m_balloon_out(&e.q, 0));
	CHECK_EQ(frames_share_refs(&e.fa, shared << PAGE_SHIFT), 1);
	CHECK(!p2m_swap_out(&e.p, 0, 1)); /* shared frames are not swapped */
	CHECK(p2m_balloon_out(&e.p, 0));
	CHECK_EQ(frames_owner(&e.fa, shared << PAGE_SHIFT), FRAME_FREE);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(p2m_swapped_frames_keep_their_slot)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate(&e.p, 0, 2));
	u8 saved[PAGE_SIZE];
	memset(env_host(&e.p, 1), 0x44, PAGE_SIZE);
	CHECK_EQ(gmem_read(&e.p, 0x1000, saved, sizeof(saved)), GMEM_OK);
	u64 m1 = env_mfn(&e.p, 1), slot = 0;
	CHECK(!p2m_swap_out(&e.p, 1, 1ULL << 40)); /* the slot must fit the entry */
	CHECK(p2m_swap_out(&e.p, 1, 0x12345));
	CHECK_EQ(p2m_lookup(&e.p, 1, &slot), P2M_SWAPPED);
	CHECK_EQ(slot, 0x12345);
	CHECK_EQ(frames_owner(&e.fa, m1 << PAGE_SHIFT), FRAME_FREE);
	CHECK_EQ(env_ept(&e.p, 0x1000), 0);
	CHECK_EQ(e.hook.unmaps, 1);
	CHECK_EQ(p2m_fault(&e.p, 1, false), P2M_FAULT_SWAPPED);
	void *ptr;
	CHECK_EQ(gmem_map(&e.p, 0x1000, 8, false, &ptr), GMEM_SWAPPED);
	CHECK(!p2m_swap_out(&e.p, 1, 7));
	CHECK(!p2m_balloon_in(&e.p, 1));
	CHECK(p2m_swap_in(&e.p, 1, saved));
	CHECK_EQ(p2m_lookup(&e.p, 1, NULL), P2M_RAM);
	CHECK(!memcmp(env_host(&e.p, 1), saved, PAGE_SIZE));
	CHECK_STR(p2m_type_name(P2M_SWAPPED), "swapped-out RAM");
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(p2m_hook_hears_of_every_right_taken_away)
{
	struct env e;
	env_init(&e);
	u64 a = frames_alloc(&e.fa, ENV_OWNER) >> PAGE_SHIFT;
	u64 b = frames_alloc(&e.fa, ENV_OWNER) >> PAGE_SHIFT;
	CHECK(p2m_set(&e.p, 5, a, P2M_RAM));
	CHECK(p2m_set(&e.p, 5, a, P2M_RAM));
	CHECK_EQ(e.hook.calls, 0); /* gains are silent */
	CHECK(p2m_set(&e.p, 5, a, P2M_ROM));
	CHECK_EQ(e.hook.protects, 1);
	CHECK(!e.hook.last_unmapped);
	CHECK(p2m_set(&e.p, 5, a, P2M_RAM));
	CHECK_EQ(e.hook.calls, 1);
	CHECK(p2m_set(&e.p, 5, b, P2M_RAM)); /* another frame: a is gone */
	CHECK_EQ(e.hook.unmaps, 1);
	CHECK_EQ(e.hook.last_mfn, a);
	CHECK(p2m_set(&e.p, 5, 0, P2M_MMIO));
	CHECK_EQ(e.hook.unmaps, 2);
	CHECK_EQ(e.hook.last_mfn, b);
	CHECK(p2m_set(&e.p, 5, 0, P2M_NONE)); /* MMIO had no frame to tell about */
	CHECK_EQ(e.hook.calls, 3);
	p2m_set_hook(&e.p, NULL, NULL);
	CHECK(p2m_set(&e.p, 5, a, P2M_RAM));
	CHECK(p2m_set(&e.p, 5, 0, P2M_NONE));
	CHECK_EQ(e.hook.calls, 3);
	CHECK(frames_free(&e.fa, a << PAGE_SHIFT, ENV_OWNER));
	CHECK(frames_free(&e.fa, b << PAGE_SHIFT, ENV_OWNER));
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}
