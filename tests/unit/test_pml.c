/* Tests of the dirty log kept by PML (mm/p2m.c p2m_log_use_pml, p2m_log_drain_pml): RAM stays
 * writable with its EPT dirty flag clear, a buffer drains into the bitmap (full, partial,
 * empty, any index, hostile addresses), and a take clears the dirty flags of what it took. */
#include "p2m_env.h"

#define W_LEAF(mfn)  (((mfn) << PAGE_SHIFT) | EPT_R | EPT_W | EPT_X | EPT_MT_WB)
#define RO_LEAF(mfn) (((mfn) << PAGE_SHIFT) | EPT_R | EPT_X | EPT_MT_WB)

/* The CPU's part: sets the dirty flag of gfn's EPT leaf as a write would. */
static void cpu_dirties(struct p2m *p, u64 gfn)
{
	u64 *ee = pt_entry(&pt_fmt_ept, &p->ops, p->ept_root, gfn << PAGE_SHIFT, 0, false);
	REQUIRE(ee && (*ee & EPT_W));
	*ee |= EPT_A | EPT_D;
}

static void pml_env(struct env *e, u64 nram)
{
	env_init(e);
	REQUIRE(p2m_populate(&e->p, 0, nram));
	REQUIRE(p2m_set(&e->p, 0xfee, 0xfee, P2M_MMIO));
	p2m_log_use_pml(&e->p, true);
	REQUIRE(p2m_log_enable(&e->p) == NULL);
}

TEST(pml_enable_keeps_ram_writable_and_clears_dirty_flags)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate(&e.p, 0, 3));
	REQUIRE(p2m_populate_as(&e.p, 0xc0, 1, P2M_ROM));
	u64 m1 = env_mfn(&e.p, 1), rom = env_mfn(&e.p, 0xc0);
	cpu_dirties(&e.p, 1); /* a write before the log: not the log's business */
	e.p.ept_stale = false;
	CHECK_EQ(p2m_eptp(&e.p) & EPTP_AD, 0);
	p2m_log_use_pml(&e.p, true);
	CHECK_EQ(p2m_eptp(&e.p) & EPTP_AD, EPTP_AD);
	REQUIRE(p2m_log_enable(&e.p) == NULL);
	CHECK_EQ(env_ept(&e.p, 0x1000), W_LEAF(m1)); /* writable, D clear */
	CHECK_EQ(env_ept(&e.p, 0xc0000), RO_LEAF(rom));
	CHECK(e.p.ept_stale);	   /* the cached D flag must go */
	CHECK_EQ(e.hook.calls, 0); /* nothing lost write access */
	CHECK(!p2m_is_dirty(&e.p, 1));
	/* a fault is no longer how writes are seen */
	CHECK_EQ(p2m_fault(&e.p, 1, true), P2M_FAULT_FIXED);
	p2m_log_disable(&e.p);
	CHECK(!e.p.log_pml);
	CHECK_EQ(p2m_eptp(&e.p) & EPTP_AD, 0);
	CHECK_EQ(env_ept(&e.p, 0x1000), W_LEAF(m1));
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(pml_drain_full_partial_and_empty_buffers)
{
	struct env e;
	pml_env(&e, 1024);
	u64 buf[P2M_PML_ENTRIES], ignored = 0;
	for (unsigned i = 0; i < P2M_PML_ENTRIES; i++)
		buf[i] = (u64)(511 - i) << PAGE_SHIFT; /* pml[511] first: gfn 0, 1, ... */
	/* empty: index 511 */
	CHECK_EQ(p2m_log_drain_pml(&e.p, buf, 511, 1024, &ignored), 0);
	CHECK_EQ(ignored, 0);
	CHECK(!p2m_is_dirty(&e.p, 0));
	/* partial: three entries, pml[511], [510], [509] */
	CHECK_EQ(p2m_log_drain_pml(&e.p, buf, 508, 1024, &ignored), 3);
	CHECK(p2m_is_dirty(&e.p, 0) && p2m_is_dirty(&e.p, 1) && p2m_is_dirty(&e.p, 2));
	CHECK(!p2m_is_dirty(&e.p, 3));
	/* full after a PML-full exit: the index wrapped to 0xffff */
	CHECK_EQ(p2m_log_drain_pml(&e.p, buf, 0xffff, 1024, &ignored), 512);
	CHECK(p2m_is_dirty(&e.p, 511));
	CHECK(!p2m_is_dirty(&e.p, 512));
	/* index 0: pml[0] not written yet */
	u64 bits[16];
	CHECK_EQ(p2m_log_take(&e.p, 0, 16, bits), 512);
	CHECK_EQ(p2m_log_drain_pml(&e.p, buf, 0, 1024, &ignored), 511);
	CHECK(!p2m_is_dirty(&e.p, 511));
	CHECK(p2m_is_dirty(&e.p, 510));
	CHECK_EQ(ignored, 0);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(pml_drain_index_past_the_buffer_reads_only_the_buffer)
{
	struct env e;
	pml_env(&e, 8);
	u64 buf[P2M_PML_ENTRIES + 4], ignored = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(buf); i++)
		buf[i] = 5ULL << PAGE_SHIFT;
	buf[P2M_PML_ENTRIES] = 6ULL << PAGE_SHIFT; /* past the buffer: never read */
	/* any index past 511 means full: 512 entries, no more */
	static const u16 idx[] = {512, 600, 0x8000, 0xfffe, 0xffff};
	for (unsigned k = 0; k < ARRAY_SIZE(idx); k++)
		CHECK_EQ(p2m_log_drain_pml(&e.p, buf, idx[k], 8, &ignored), 512);
	CHECK(p2m_is_dirty(&e.p, 5));
	CHECK(!p2m_is_dirty(&e.p, 6));
	CHECK_EQ(ignored, 0);
	p2m_destroy(&e.p);
}

TEST(pml_drain_ignores_addresses_outside_ram)
{
	struct env e;
	pml_env(&e, 8);
	u64 buf[P2M_PML_ENTRIES] = {0}, ignored = 0;
	buf[511] = 3ULL << PAGE_SHIFT | 0x123; /* offset bits ignored */
	buf[510] = 8ULL << PAGE_SHIFT;	       /* just past RAM */
	buf[509] = 0xfeeULL << PAGE_SHIFT;     /* MMIO, below a larger bound */
	buf[508] = ~0ULL;		       /* garbage */
	buf[507] = DLOG_MAX_GFN << PAGE_SHIFT; /* past the log's reach */
	buf[506] = 0x20ULL << PAGE_SHIFT;      /* a hole */
	CHECK_EQ(p2m_log_drain_pml(&e.p, buf, 505, 8, &ignored), 1);
	CHECK_EQ(ignored, 5);
	ignored = 0;
	CHECK_EQ(p2m_log_drain_pml(&e.p, buf, 505, 0x10000, &ignored), 1); /* type still checked */
	CHECK_EQ(ignored, 5);
	CHECK(p2m_is_dirty(&e.p, 3));
	u64 bits[1];
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 1);
	CHECK_EQ(bits[0], 1ULL << 3);
	/* nothing else changed: the hole and the MMIO gfn are still unmapped and MMIO */
	CHECK_EQ(p2m_lookup(&e.p, 0x20, NULL), P2M_NONE);
	CHECK_EQ(p2m_lookup(&e.p, 0xfee, NULL), P2M_MMIO);
	/* with the log off nothing is written at all */
	p2m_log_disable(&e.p);
	ignored = 0;
	CHECK_EQ(p2m_log_drain_pml(&e.p, buf, 505, 8, &ignored), 0);
	CHECK_EQ(ignored, 6);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(pml_take_clears_dirty_flags_of_taken_frames_only)
{
	struct env e;
	pml_env(&e, 4);
	u64 m1 = env_mfn(&e.p, 1), m2 = env_mfn(&e.p, 2);
	cpu_dirties(&e.p, 1);
	cpu_dirties(&e.p, 2);
	u64 buf[P2M_PML_ENTRIES] = {0}, ignored = 0;
	buf[511] = 1ULL << PAGE_SHIFT; /* only gfn 1 reached the log so far */
	CHECK_EQ(p2m_log_drain_pml(&e.p, buf, 510, 4, &ignored), 1);
	e.p.ept_stale = false;
	u64 bits[1];
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 1);
	CHECK_EQ(bits[0], 1ULL << 1);
	CHECK_EQ(env_ept(&e.p, 0x1000), W_LEAF(m1));	/* D cleared, still writable */
	CHECK_EQ(env_ept(&e.p, 0x2000) & EPT_D, EPT_D); /* not taken: its entry is pending */
	CHECK_EQ(env_ept(&e.p, 0x2000) & ~(EPT_A | EPT_D), W_LEAF(m2));
	CHECK(e.p.ept_stale);
	CHECK_EQ(e.hook.calls, 0);
	/* a hypervisor write marks the bit and leaves the leaf (and its D flag) alone */
	p2m_mark_dirty(&e.p, 2);
	CHECK_EQ(env_ept(&e.p, 0x2000) & EPT_D, EPT_D);
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 1);
	CHECK_EQ(env_ept(&e.p, 0x2000), W_LEAF(m2));
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(pml_switch_to_write_protection_protects_clean_frames)
{
	struct env e;
	pml_env(&e, 3);
	u64 m0 = env_mfn(&e.p, 0), m1 = env_mfn(&e.p, 1);
	p2m_mark_dirty(&e.p, 1);
	e.p.ept_stale = false;
	p2m_log_use_pml(&e.p, false);
	CHECK(e.p.ept_stale);
	CHECK_EQ(env_ept(&e.p, 0), RO_LEAF(m0));
	CHECK_EQ(env_ept(&e.p, 0x1000), W_LEAF(m1)); /* dirty: keeps write */
	CHECK_EQ(e.hook.protects, 2);		     /* the shadow is told */
	p2m_log_use_pml(&e.p, true);
	CHECK_EQ(env_ept(&e.p, 0), W_LEAF(m0));
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}
