/* Tests of the guest-memory accessor (mm/gmem.c): ranges that leave RAM (holes, MMIO, ROM,
 * the end of the address space), maps and their bounds, dirty marking by every writer, and
 * refusals of ballooned and swapped frames. */
#include "p2m_env.h"

/* gfn 0-1 RAM, 2 hole, 3 ROM, 4 MMIO, 5 RAM, 6 ballooned, 7 swapped. */
static void layout(struct env *e)
{
	env_init(e);
	REQUIRE(p2m_populate(&e->p, 0, 2));
	REQUIRE(p2m_populate_as(&e->p, 3, 1, P2M_ROM));
	REQUIRE(p2m_set(&e->p, 4, 0xfee00, P2M_MMIO));
	REQUIRE(p2m_populate(&e->p, 5, 3));
	REQUIRE(p2m_balloon_out(&e->p, 6));
	REQUIRE(p2m_swap_out(&e->p, 7, 42));
}

TEST(gmem_ranges_crossing_ram_end_change_nothing)
{
	struct env e;
	layout(&e);
	u8 buf[64], *page1 = env_host(&e.p, 1);
	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(gmem_write(&e.p, 0x2000 - 32, buf, sizeof(buf)), GMEM_HOLE);
	for (unsigned i = 0; i < 32; i++)
		CHECK_EQ(page1[PAGE_SIZE - 32 + i], 0);
	CHECK_EQ(gmem_read(&e.p, 0x2000 - 32, buf, sizeof(buf)), GMEM_HOLE);
	CHECK_EQ(gmem_write(&e.p, 0x2000 - 32, buf, 32), GMEM_OK); /* up to the last byte */
	CHECK_EQ(page1[PAGE_SIZE - 1], 0xee);
	CHECK_EQ(gmem_write(&e.p, 0x5000 - 1, buf, 2), GMEM_MMIO);
	CHECK_EQ(gmem_read(&e.p, 0x4000, buf, 1), GMEM_MMIO);
	CHECK_EQ(gmem_write(&e.p, 0x6000 - 4, buf, 8), GMEM_BALLOONED);
	CHECK_EQ(gmem_read(&e.p, 0x6000, buf, 8), GMEM_BALLOONED);
	CHECK_EQ(gmem_read(&e.p, 0x7000, buf, 8), GMEM_SWAPPED);
	CHECK_EQ(gmem_write(&e.p, 0x7ff0, buf, 8), GMEM_SWAPPED);
	CHECK_EQ(e.p.nr_ram, 3); /* 0, 1 and 5 */
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(gmem_rom_is_read_only_except_for_firmware_writes)
{
	struct env e;
	layout(&e);
	u8 buf[16] = {1, 2, 3}, got[16];
	CHECK_EQ(gmem_write(&e.p, 0x3000, buf, sizeof(buf)), GMEM_ROM);
	CHECK_EQ(gmem_write(&e.p, 0x2ff8, buf, sizeof(buf)), GMEM_HOLE); /* hole decides first */
	CHECK_EQ(gmem_write_rom(&e.p, 0x3000, buf, sizeof(buf)), GMEM_OK);
	CHECK_EQ(gmem_read(&e.p, 0x3000, got, sizeof(got)), GMEM_OK);
	CHECK(!memcmp(buf, got, sizeof(buf)));
	CHECK_EQ(gmem_write_rom(&e.p, 0x4000 - 8, buf, sizeof(buf)), GMEM_MMIO);
	CHECK_EQ(gmem_write_rom(&e.p, 0x1ff8, buf, sizeof(buf)), GMEM_HOLE);
	p2m_destroy(&e.p);
}

TEST(gmem_overflow_of_gpa_plus_len)
{
	struct env e;
	layout(&e);
	u8 buf[64];
	void *ptr = (void *)1;
	CHECK_EQ(gmem_write(&e.p, UINT64_MAX - 10, buf, sizeof(buf)), GMEM_RANGE);
	CHECK_EQ(gmem_read(&e.p, UINT64_MAX - 10, buf, sizeof(buf)), GMEM_RANGE);
	CHECK_EQ(gmem_write_rom(&e.p, UINT64_MAX - 10, buf, sizeof(buf)), GMEM_RANGE);
	CHECK_EQ(gmem_map(&e.p, UINT64_MAX - 10, sizeof(buf), false, &ptr), GMEM_RANGE);
	CHECK(ptr == NULL);
	CHECK_EQ(gmem_read(&e.p, 0ULL - PAGE_SIZE, buf, 64), GMEM_HOLE); /* the last page */
	CHECK_EQ(gmem_read(&e.p, 0ULL - 64, buf, 64), GMEM_RANGE);	 /* ends at 2^64 */
	/* beyond the 48-bit tables: a hole, not an alias of gfn 0 */
	CHECK_EQ(gmem_read(&e.p, 1ULL << 48, buf, 8), GMEM_HOLE);
	CHECK_EQ(gmem_write(&e.p, (1ULL << 48) + 0x10, buf, 8), GMEM_HOLE);
	/* empty copies succeed anywhere that does not wrap; an empty map is refused */
	CHECK_EQ(gmem_read(&e.p, 0x2000, buf, 0), GMEM_OK);
	CHECK_EQ(gmem_write(&e.p, 0x4000, buf, 0), GMEM_OK);
	CHECK_EQ(gmem_map(&e.p, 0, 0, false, &ptr), GMEM_RANGE);
	p2m_destroy(&e.p);
}

TEST(gmem_map_is_bounded_to_what_was_asked)
{
	struct env e;
	env_init(&e);
	/* gfn 1 below gfn 0 in machine memory: a map over both cannot be one pointer */
	u64 hi = frames_alloc(&e.fa, ENV_OWNER), lo = frames_alloc(&e.fa, ENV_OWNER);
	REQUIRE(hi && lo && lo == hi + PAGE_SIZE);
	REQUIRE(p2m_set(&e.p, 0, lo >> PAGE_SHIFT, P2M_RAM));
	REQUIRE(p2m_set(&e.p, 1, hi >> PAGE_SHIFT, P2M_RAM));
	void *ptr;
	CHECK_EQ(gmem_map(&e.p, 0x10, 0x20, true, &ptr), GMEM_OK);
	CHECK(ptr == (u8 *)phys_to_virt(lo) + 0x10);
	CHECK_EQ(gmem_map(&e.p, 0xff0, 0x20, false, &ptr), GMEM_SPLIT);
	CHECK(ptr == NULL);
	CHECK_EQ(gmem_map(&e.p, 0xff0, 0x10, false, &ptr), GMEM_OK); /* last bytes of gfn 0 */
	/* gfn 2, 3 on consecutive frames: one pointer covers both */
	REQUIRE(p2m_populate(&e.p, 2, 2));
	REQUIRE(env_mfn(&e.p, 3) == env_mfn(&e.p, 2) + 1);
	CHECK_EQ(gmem_map(&e.p, 0x2800, PAGE_SIZE, true, &ptr), GMEM_OK);
	CHECK(ptr == env_host(&e.p, 2) + 0x800);
	CHECK_EQ(gmem_map(&e.p, 0x3800, PAGE_SIZE, false, &ptr), GMEM_HOLE); /* into gfn 4 */
	REQUIRE(p2m_populate_as(&e.p, 4, 1, P2M_ROM));
	CHECK_EQ(gmem_map(&e.p, 0x4000, 8, false, &ptr), GMEM_OK);
	CHECK_EQ(gmem_map(&e.p, 0x4000, 8, true, &ptr), GMEM_ROM);
	CHECK_EQ(gmem_map(&e.p, 0x3ff8, 16, true, &ptr), GMEM_ROM); /* RAM into ROM */
	REQUIRE(p2m_set(&e.p, 5, 0xfee00, P2M_MMIO));
	CHECK_EQ(gmem_map(&e.p, 0x5000, 4, false, &ptr), GMEM_MMIO);
	p2m_destroy(&e.p);
}

TEST(gmem_every_writer_marks_the_dirty_log)
{
	struct env e;
	layout(&e);
	REQUIRE(p2m_log_enable(&e.p) == NULL);
	u64 bits[1];
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 0); /* starts clean */
	u8 buf[8] = {0};
	void *ptr;
	CHECK_EQ(gmem_read(&e.p, 0x0, buf, sizeof(buf)), GMEM_OK);
	CHECK_EQ(gmem_map(&e.p, 0x5000, 8, false, &ptr), GMEM_OK);
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 0);		      /* reads mark nothing */
	CHECK_EQ(gmem_write(&e.p, 0xffc, buf, sizeof(buf)), GMEM_OK); /* gfn 0 and 1 */
	CHECK_EQ(gmem_write_rom(&e.p, 0x3000, buf, sizeof(buf)), GMEM_OK);
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 3);
	CHECK_EQ(bits[0], 0xbULL);
	/* a writable map marks at map time and again at unmap: a take in between loses
	 * nothing */
	CHECK_EQ(gmem_map(&e.p, 0x5100, 8, true, &ptr), GMEM_OK);
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 1);
	CHECK_EQ(bits[0], 1ULL << 5);
	memset(ptr, 0x5a, 8);
	gmem_unmap(&e.p, 0x5100, 8, true);
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 1);
	CHECK_EQ(bits[0], 1ULL << 5);
	gmem_unmap(&e.p, 0x5100, 8, false);
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 0);
	/* a refused write marks nothing */
	CHECK_EQ(gmem_write(&e.p, 0x1ffc, buf, sizeof(buf)), GMEM_HOLE);
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 0);
	/* the page-table walker's map marks (it may set accessed/dirty bits) */
	CHECK(gmem_table(&e.p, 0x5008) == env_host(&e.p, 5));
	CHECK(gmem_table(&e.p, 0x4000) == NULL);
	CHECK(gmem_table(&e.p, 0x3000) == NULL); /* ROM is no page table the walker writes */
	CHECK(gmem_table(&e.p, 0x6000) == NULL);
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 1);
	CHECK_EQ(bits[0], 1ULL << 5);
	/* gmem_mark_dirty for writes made behind the accessor's back, wrap-safe */
	gmem_mark_dirty(&e.p, 0x1fff, 2);
	gmem_mark_dirty(&e.p, UINT64_MAX - 2, 8);
	CHECK_EQ(p2m_log_take(&e.p, 0, 1, bits), 1); /* gfn 2 is a hole: no bit */
	CHECK_EQ(bits[0], 1ULL << 1);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(gmem_write_breaks_a_shared_frame_first)
{
	struct env e;
	env_init2(&e);
	REQUIRE(p2m_populate(&e.p, 0, 1));
	REQUIRE(p2m_populate(&e.q, 0, 1));
	memset(env_host(&e.p, 0), 0x11, PAGE_SIZE);
	REQUIRE(p2m_share(&e.p, 0, &e.q, 0));
	u64 shared = env_mfn(&e.p, 0);
	u8 b = 0x22, got = 0;
	void *ptr;
	CHECK_EQ(gmem_read(&e.q, 0x10, &got, 1), GMEM_OK); /* reads leave it shared */
	CHECK_EQ(got, 0x11);
	CHECK_EQ(gmem_map(&e.q, 0x10, 1, false, &ptr), GMEM_OK);
	CHECK_EQ(p2m_lookup(&e.q, 0, NULL), P2M_SHARED);
	CHECK_EQ(gmem_write(&e.q, 0x10, &b, 1), GMEM_OK);
	CHECK_EQ(p2m_lookup(&e.q, 0, NULL), P2M_RAM);
	CHECK(env_mfn(&e.q, 0) != shared);
	CHECK_EQ(env_host(&e.q, 0)[0x10], 0x22);
	CHECK_EQ(env_host(&e.q, 0)[0x11], 0x11);			  /* the rest was copied */
	CHECK_EQ(((u8 *)phys_to_virt(shared << PAGE_SHIFT))[0x10], 0x11); /* p sees no change */
	/* p's write finds itself the last holder: the frame becomes p's own again */
	CHECK_EQ(gmem_map(&e.p, 0x20, 4, true, &ptr), GMEM_OK);
	CHECK_EQ(p2m_lookup(&e.p, 0, NULL), P2M_RAM);
	CHECK_EQ(env_mfn(&e.p, 0), shared);
	CHECK_EQ(frames_owner(&e.fa, shared << PAGE_SHIFT), ENV_OWNER);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(gmem_out_of_memory_for_a_copy_writes_nothing)
{
	struct env e;
	env_init2(&e);
	REQUIRE(p2m_populate(&e.p, 0, 1));
	REQUIRE(p2m_populate(&e.q, 0, 1));
	REQUIRE(p2m_share(&e.p, 0, &e.q, 0));
	while (frames_alloc(&e.fa, FRAME_HV))
		;
	u8 b = 0x22;
	CHECK_EQ(gmem_write(&e.q, 0, &b, 1), GMEM_NOMEM);
	CHECK_EQ(p2m_lookup(&e.q, 0, NULL), P2M_SHARED);
	CHECK_EQ(env_host(&e.q, 0)[0], 0);
	CHECK(gmem_table(&e.q, 0) == NULL);
	CHECK_STR(gmem_result_name(GMEM_NOMEM), "out of memory");
}
