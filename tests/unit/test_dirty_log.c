/* Tests of the dirty log (mm/dirty_log.c) and its EPT side (mm/p2m.c): enabling takes write
 * access from every RAM frame, a write fault marks the frame and gives it back, a take
 * returns and clears the bits word by word and protects those frames again, and disabling
 * restores everything and frees the log's frames. */
#include "p2m_env.h"

#define W_LEAF(mfn)  (((mfn) << PAGE_SHIFT) | EPT_R | EPT_W | EPT_X | EPT_MT_WB)
#define RO_LEAF(mfn) (((mfn) << PAGE_SHIFT) | EPT_R | EPT_X | EPT_MT_WB)

TEST(dirty_log_enable_write_protects_ram_in_the_ept)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate(&e.p, 0, 3));
	REQUIRE(p2m_populate_as(&e.p, 0xc0, 1, P2M_ROM));
	REQUIRE(p2m_set(&e.p, 0xfee, 0xfee, P2M_MMIO));
	u64 m1 = env_mfn(&e.p, 1), rom = env_mfn(&e.p, 0xc0);
	CHECK_EQ(env_ept(&e.p, 0x1000), W_LEAF(m1));
	u64 nfree = e.fa.nfree;
	e.p.ept_stale = false;
	REQUIRE(p2m_log_enable(&e.p) == NULL);
	CHECK(e.p.log.enabled);
	CHECK_EQ(e.p.log.nr_frames, 2); /* directory and the first 128 MiB */
	CHECK_EQ(e.fa.nfree, nfree - 2);
	CHECK_EQ(env_ept(&e.p, 0x1000), RO_LEAF(m1));
	CHECK_EQ(env_ept(&e.p, 0xc0000), RO_LEAF(rom)); /* unchanged */
	CHECK_EQ(env_ept(&e.p, 0xfee000), 0);
	CHECK(e.p.ept_stale);
	CHECK_EQ(e.hook.protects, 3); /* each RAM frame, for the shadow */
	CHECK_EQ(e.hook.unmaps, 0);
	CHECK(!p2m_is_dirty(&e.p, 1));
	CHECK(!p2m_may_write(&e.p, 1, false));
	CHECK(p2m_log_enable(&e.p) != NULL); /* once */
	p2m_log_disable(&e.p);
	CHECK(!e.p.log.enabled);
	CHECK_EQ(e.fa.nfree, nfree);
	CHECK_EQ(env_ept(&e.p, 0x1000), W_LEAF(m1));
	CHECK_EQ(env_ept(&e.p, 0xc0000), RO_LEAF(rom));
	CHECK(p2m_may_write(&e.p, 1, false));
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(dirty_log_write_fault_marks_and_restores_write)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate(&e.p, 0, 3));
	u64 m2 = env_mfn(&e.p, 2);
	REQUIRE(p2m_log_enable(&e.p) == NULL);
	e.p.ept_stale = false;
	e.hook = (struct hook_log){0};
	CHECK_EQ(p2m_fault(&e.p, 2, false), P2M_FAULT_NOT_MINE); /* reads never fault */
	CHECK(!p2m_is_dirty(&e.p, 2));
	CHECK_EQ(p2m_fault(&e.p, 2, true), P2M_FAULT_FIXED);
	CHECK(p2m_is_dirty(&e.p, 2));
	CHECK_EQ(env_ept(&e.p, 0x2000), W_LEAF(m2));
	CHECK(!e.p.ept_stale); /* a right given back needs no INVEPT */
	CHECK_EQ(e.hook.calls, 0);
	CHECK_EQ(p2m_fault(&e.p, 2, true), P2M_FAULT_FIXED); /* a second vCPU's fault: fine */
	CHECK_EQ(env_ept(&e.p, 0x1000), RO_LEAF(env_mfn(&e.p, 1))); /* neighbours unchanged */
	u64 bits[2] = {~0ULL, ~0ULL};
	CHECK_EQ(p2m_log_take(&e.p, 0, 2, bits), 1);
	CHECK_EQ(bits[0], 1ULL << 2);
	CHECK_EQ(bits[1], 0);
	/* taken: protected again, and whoever caches translations is told */
	CHECK_EQ(env_ept(&e.p, 0x2000), RO_LEAF(m2));
	CHECK(e.p.ept_stale);
	CHECK_EQ(e.hook.protects, 1);
	CHECK_EQ(e.hook.last_mfn, m2);
	CHECK(!p2m_is_dirty(&e.p, 2));
	CHECK_EQ(p2m_log_take(&e.p, 0, 2, bits), 0);
	/* the shadow's question, with the write happening now */
	CHECK(p2m_may_write(&e.p, 1, true));
	CHECK(p2m_is_dirty(&e.p, 1));
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(dirty_log_frames_mapped_while_logging_are_dirty)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate(&e.p, 0, 2));
	REQUIRE(p2m_log_enable(&e.p) == NULL);
	/* new contents behind a gfn must be sent: a fresh frame starts dirty and writable */
	REQUIRE(p2m_balloon_out(&e.p, 1));
	u64 bits[1];
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 0); /* no frame, nothing to send */
	REQUIRE(p2m_balloon_in(&e.p, 1));
	CHECK(p2m_is_dirty(&e.p, 1));
	CHECK(env_ept(&e.p, 0x1000) & EPT_W);
	/* RAM far above the first chunk gets its bitmap frame when it is mapped */
	u64 far = 3 * DLOG_CHUNK_GFNS + 17;
	CHECK_EQ(e.p.log.nr_frames, 2);
	REQUIRE(p2m_populate(&e.p, far, 1));
	CHECK_EQ(e.p.log.nr_frames, 3);
	CHECK(p2m_is_dirty(&e.p, far));
	CHECK_EQ(p2m_log_take(&e.p, far & ~63ULL, 1, bits), 1);
	CHECK_EQ(bits[0], 1ULL << 17);
	CHECK(!(env_ept(&e.p, far << PAGE_SHIFT) & EPT_W));
	/* a word with no bitmap frame reads as clean */
	CHECK_EQ(p2m_log_take(&e.p, DLOG_CHUNK_GFNS, 1, bits), 0);
	CHECK_EQ(bits[0], 0);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(dirty_log_out_of_memory_fails_cleanly)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate(&e.p, 0, 1));
	REQUIRE(p2m_populate(&e.p, DLOG_CHUNK_GFNS, 1)); /* needs a second bitmap frame */
	u64 far = 2 * DLOG_CHUNK_GFNS, extra = frames_alloc(&e.fa, ENV_OWNER);
	REQUIRE(p2m_set(&e.p, far, 0, P2M_MMIO)); /* its tables exist, it has no bit */
	u64 spare = 0, m0 = env_mfn(&e.p, 0);
	while (e.fa.nfree > 2)
		spare = frames_alloc(&e.fa, FRAME_HV);
	CHECK(p2m_log_enable(&e.p) != NULL); /* directory + two bitmap frames do not fit */
	CHECK(!e.p.log.enabled);
	CHECK_EQ(e.fa.nfree, 2);
	CHECK_EQ(env_ept(&e.p, 0), W_LEAF(m0)); /* left as it was */
	CHECK(frames_free(&e.fa, spare, FRAME_HV));
	REQUIRE(p2m_log_enable(&e.p) == NULL);
	CHECK_EQ(e.fa.nfree, 0);
	/* RAM the log cannot cover is not mapped while logging: its writes would be lost */
	CHECK(!p2m_set(&e.p, far, extra >> PAGE_SHIFT, P2M_RAM));
	CHECK_EQ(p2m_lookup(&e.p, far, NULL), P2M_MMIO);
	p2m_log_disable(&e.p);
	CHECK(p2m_set(&e.p, far, extra >> PAGE_SHIFT, P2M_RAM));
}

TEST(dirty_log_words_are_taken_atomically)
{
	struct env e;
	env_init(&e);
	struct dirty_log l = {0};
	CHECK(!dlog_mark(&l, &e.p.log_ops, 5)); /* off: nothing to mark */
	REQUIRE(dlog_enable(&l, &e.p.log_ops) == NULL);
	CHECK(!dlog_mark(&l, &e.p.log_ops, 5)); /* not covered yet */
	REQUIRE(dlog_cover(&l, &e.p.log_ops, 5));
	REQUIRE(dlog_cover(&l, &e.p.log_ops, 6)); /* same frame: nothing new */
	CHECK_EQ(l.nr_frames, 2);
	CHECK(!dlog_cover(&l, &e.p.log_ops, DLOG_MAX_GFN));
	for (u64 g = 0; g < 64; g += 3)
		CHECK(dlog_mark(&l, &e.p.log_ops, g));
	CHECK(dlog_mark(&l, &e.p.log_ops, 64));
	CHECK_EQ(dlog_take_word(&l, &e.p.log_ops, 0), 0x9249249249249249ULL);
	CHECK_EQ(dlog_take_word(&l, &e.p.log_ops, 0), 0);
	CHECK(dlog_test(&l, &e.p.log_ops, 64)); /* the next word is untouched */
	dlog_disable(&l, &e.p.log_ops);
	CHECK_EQ(l.nr_frames, 0);
	CHECK(!dlog_test(&l, &e.p.log_ops, 64));
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(dirty_log_rounds_as_a_migration_runs_them)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate(&e.p, 0, 200));
	REQUIRE(p2m_populate_as(&e.p, 0xc0 + 200, 1, P2M_ROM));
	u64 n = 99;
	REQUIRE(p2m_log_round(&e.p, 4096 + 10, &n) == NULL); /* starts the log */
	CHECK_EQ(n, 0);
	CHECK(e.p.log.enabled);
	CHECK_EQ(p2m_fault(&e.p, 3, true), P2M_FAULT_FIXED);
	CHECK_EQ(p2m_fault(&e.p, 199, true), P2M_FAULT_FIXED);
	u8 b = 1;
	CHECK_EQ(gmem_write_rom(&e.p, (0xc0 + 200) << PAGE_SHIFT, &b, 1), GMEM_OK);
	REQUIRE(p2m_log_round(&e.p, 4096 + 10, &n) == NULL);
	CHECK_EQ(n, 3);
	CHECK(!(env_ept(&e.p, 3 << PAGE_SHIFT) & EPT_W));
	REQUIRE(p2m_log_round(&e.p, 4096 + 10, &n) == NULL);
	CHECK_EQ(n, 0);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}
