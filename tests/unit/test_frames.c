/* Tests of the machine-frame allocator (mm/frames.c) over an 8 MiB heap arena whose addresses
 * serve as machine addresses (phys_to_virt is the identity in both builds): memory maps,
 * reserved ranges, the frame table's placement, ownership, exhaustion and counts. */
#include "test.h"
#include "../../mm/frames.h"

#define ARENA	(8ULL << 20)
#define NFRAMES (ARENA >> PAGE_SHIFT)
#define OWNER_A FRAME_VM(0)
#define OWNER_B FRAME_VM(5)

/* A fresh arena, filled with a pattern so that zeroing is visible; returns its address. */
static u64 arena(void)
{
	u8 *m = test_alloc_aligned(PAGE_SIZE, ARENA);
	memset(m, 0xa5, ARENA);
	return virt_to_phys(m);
}

static bool all_zero(u64 pa)
{
	const u8 *p = phys_to_virt(pa);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (p[i])
			return false;
	return true;
}

static void init_whole(struct frames *fa, u64 base)
{
	struct mem_region r = {base, ARENA, MEM_USABLE};
	REQUIRE(frames_init(fa, &r, 1, NULL, 0, UINT64_MAX) == NULL);
}

TEST(frames_init_one_region)
{
	struct frames fa;
	u64 base = arena();
	init_whole(&fa, base);
	CHECK_EQ(fa.base_pfn, base >> PAGE_SHIFT);
	CHECK_EQ(fa.npfn, NFRAMES);
	/* 2048 two-byte tags fit in one frame, placed at the first usable frame */
	CHECK_EQ(virt_to_phys(fa.owner), base);
	CHECK_EQ(frames_owner(&fa, base), FRAME_BOOT);
	CHECK_EQ(fa.ntotal, NFRAMES);
	CHECK_EQ(fa.nfree, NFRAMES - 1);
	CHECK_EQ(frames_count(&fa, FRAME_FREE), NFRAMES - 1);
	CHECK_EQ(frames_count(&fa, FRAME_BOOT), 1);
	CHECK_EQ(frames_owner(&fa, base + ARENA - PAGE_SIZE), FRAME_FREE);
	/* outside the managed range and unaligned addresses are not RAM */
	CHECK_EQ(frames_owner(&fa, base + ARENA), FRAME_NOT_RAM);
	CHECK_EQ(frames_owner(&fa, base - PAGE_SIZE), FRAME_NOT_RAM);
	CHECK_EQ(frames_owner(&fa, base + PAGE_SIZE + 8), FRAME_NOT_RAM);
}

TEST(frames_alloc_returns_zeroed_owned_frames)
{
	struct frames fa;
	u64 base = arena();
	init_whole(&fa, base);
	u64 a = frames_alloc(&fa, OWNER_A);
	u64 b = frames_alloc(&fa, OWNER_B);
	REQUIRE(a && b);
	CHECK(a != b);
	CHECK_EQ(a & ~PAGE_MASK, 0);
	CHECK(a > base && a < base + ARENA);
	CHECK(b > base && b < base + ARENA);
	CHECK(all_zero(a));
	CHECK(all_zero(b));
	CHECK_EQ(frames_owner(&fa, a), OWNER_A);
	CHECK_EQ(frames_owner(&fa, b), OWNER_B);
	CHECK_EQ(frames_count(&fa, OWNER_A), 1);
	CHECK_EQ(frames_count(&fa, OWNER_B), 1);
	CHECK_EQ(fa.nfree, NFRAMES - 3);
	/* next fit: consecutive allocations go upwards */
	u64 c = frames_alloc(&fa, OWNER_A);
	CHECK_EQ(c, b + PAGE_SIZE);
}

TEST(frames_alloc_refuses_free_and_not_ram_owners)
{
	struct frames fa;
	init_whole(&fa, arena());
	CHECK_EQ(frames_alloc(&fa, FRAME_FREE), 0);
	CHECK_EQ(frames_alloc(&fa, FRAME_NOT_RAM), 0);
	CHECK_EQ(fa.nfree, NFRAMES - 1);
}

TEST(frames_free_checks_the_owner)
{
	struct frames fa;
	u64 base = arena();
	init_whole(&fa, base);
	u64 a = frames_alloc(&fa, OWNER_A);
	REQUIRE(a);
	u64 nfree = fa.nfree;
	CHECK(!frames_free(&fa, a, OWNER_B));
	CHECK(!frames_free(&fa, a, FRAME_HV));
	CHECK(!frames_free(&fa, a, FRAME_FREE));
	CHECK_EQ(frames_owner(&fa, a), OWNER_A);
	CHECK_EQ(fa.nfree, nfree);
	CHECK(!frames_free(&fa, a + 16, OWNER_A)); /* not frame-aligned */
	CHECK(!frames_free(&fa, base + ARENA, OWNER_A));
	CHECK(frames_free(&fa, a, OWNER_A));
	CHECK_EQ(frames_owner(&fa, a), FRAME_FREE);
	CHECK_EQ(fa.nfree, nfree + 1);
	CHECK(!frames_free(&fa, a, OWNER_A)); /* double free */
	CHECK_EQ(fa.nfree, nfree + 1);
	/* a free frame cannot be "freed" as free either */
	CHECK(!frames_free(&fa, a, FRAME_FREE));
	CHECK_EQ(fa.nfree, nfree + 1);
}

TEST(frames_exhaustion_and_reuse)
{
	struct frames fa;
	init_whole(&fa, arena());
	u64 n = 0, last = 0, pa;
	while ((pa = frames_alloc(&fa, OWNER_A)) != 0) {
		last = pa;
		n++;
		REQUIRE(n <= NFRAMES);
	}
	CHECK_EQ(n, NFRAMES - 1);
	CHECK_EQ(fa.nfree, 0);
	CHECK_EQ(frames_alloc(&fa, OWNER_B), 0);
	CHECK_EQ(frames_count(&fa, OWNER_A), NFRAMES - 1);
	CHECK(frames_free(&fa, last, OWNER_A));
	memset(phys_to_virt(last), 0x5a, PAGE_SIZE);
	u64 again = frames_alloc(&fa, OWNER_B); /* the search wraps around */
	CHECK_EQ(again, last);
	CHECK(all_zero(again));
	CHECK_EQ(frames_owner(&fa, again), OWNER_B);
}

TEST(frames_map_overlaps_reserved_wins)
{
	struct frames fa;
	u64 base = arena();
	struct mem_region r[] = {
	    {base, ARENA, MEM_USABLE},
	    {base + 0x100000, 0x100000, MEM_RESERVED},
	    {base + 0x300800, 0x1000, MEM_ACPI}, /* unaligned: rounds outwards, 2 frames */
	};
	REQUIRE(frames_init(&fa, r, 3, NULL, 0, UINT64_MAX) == NULL);
	CHECK_EQ(frames_owner(&fa, base + 0x100000), FRAME_NOT_RAM);
	CHECK_EQ(frames_owner(&fa, base + 0x1ff000), FRAME_NOT_RAM);
	CHECK_EQ(frames_owner(&fa, base + 0x0ff000), FRAME_FREE);
	CHECK_EQ(frames_owner(&fa, base + 0x200000), FRAME_FREE);
	CHECK_EQ(frames_owner(&fa, base + 0x2ff000), FRAME_FREE);
	CHECK_EQ(frames_owner(&fa, base + 0x300000), FRAME_NOT_RAM);
	CHECK_EQ(frames_owner(&fa, base + 0x301000), FRAME_NOT_RAM);
	CHECK_EQ(frames_owner(&fa, base + 0x302000), FRAME_FREE);
	CHECK_EQ(fa.ntotal, NFRAMES - 256 - 2);
	CHECK_EQ(fa.nfree, NFRAMES - 256 - 2 - 1);
	/* nothing allocated from the holes */
	u64 pa;
	while ((pa = frames_alloc(&fa, OWNER_A)) != 0) {
		CHECK(pa < base + 0x100000 || pa >= base + 0x200000);
		CHECK(pa < base + 0x300000 || pa >= base + 0x302000);
	}
}

TEST(frames_unaligned_usable_region_rounds_inwards)
{
	struct frames fa;
	u64 base = arena();
	struct mem_region r = {base + 0x800, 0x10000, MEM_USABLE}; /* ends at base + 0x10800 */
	REQUIRE(frames_init(&fa, &r, 1, NULL, 0, UINT64_MAX) == NULL);
	CHECK_EQ(fa.base_pfn, (base >> PAGE_SHIFT) + 1);
	CHECK_EQ(fa.npfn, 15);
	CHECK_EQ(fa.ntotal, 15);
	CHECK_EQ(frames_owner(&fa, base), FRAME_NOT_RAM);
	CHECK_EQ(frames_owner(&fa, base + 0x10000), FRAME_NOT_RAM);
}

TEST(frames_reserved_ranges_belong_to_the_hypervisor)
{
	struct frames fa;
	u64 base = arena();
	struct mem_region r = {base, ARENA, MEM_USABLE};
	struct addr_range res[] = {
	    {base, base + 0x2000},	    /* the image: the table goes after it */
	    {base + 0x5800, base + 0x6800}, /* a module, unaligned: rounds outwards */
	};
	REQUIRE(frames_init(&fa, &r, 1, res, 2, UINT64_MAX) == NULL);
	CHECK_EQ(virt_to_phys(fa.owner), base + 0x2000);
	CHECK_EQ(frames_owner(&fa, base), FRAME_BOOT);
	CHECK_EQ(frames_owner(&fa, base + 0x1000), FRAME_BOOT);
	CHECK_EQ(frames_owner(&fa, base + 0x2000), FRAME_BOOT); /* the table */
	CHECK_EQ(frames_owner(&fa, base + 0x3000), FRAME_FREE);
	CHECK_EQ(frames_owner(&fa, base + 0x5000), FRAME_BOOT);
	CHECK_EQ(frames_owner(&fa, base + 0x6000), FRAME_BOOT);
	CHECK_EQ(frames_owner(&fa, base + 0x7000), FRAME_FREE);
	CHECK_EQ(fa.ntotal, NFRAMES);
	CHECK_EQ(fa.nfree, NFRAMES - 5);
	CHECK_EQ(frames_count(&fa, FRAME_BOOT), 5);
	CHECK_EQ(fa.nboot, 5u);
	CHECK_EQ(fa.nhv, 0u);
	/* boot-reserved frames can never be freed, whatever owner is claimed */
	CHECK(!frames_free(&fa, base, FRAME_BOOT));
	CHECK(!frames_free(&fa, base, FRAME_HV));
	CHECK_EQ(frames_owner(&fa, base), FRAME_BOOT);
	/* reserved memory is never handed out */
	u64 pa;
	while ((pa = frames_alloc(&fa, OWNER_A)) != 0) {
		CHECK(pa >= base + 0x3000);
		CHECK(pa < base + 0x5000 || pa >= base + 0x7000);
	}
}

TEST(frames_table_placed_in_a_usable_region)
{
	struct frames fa;
	u64 base = arena();
	/* the first region is entirely reserved: the table must go into the second */
	struct mem_region r[] = {
	    {base, 0x4000, MEM_USABLE},
	    {base + 0x100000, ARENA - 0x100000, MEM_USABLE},
	};
	struct addr_range res = {base, base + 0x4000};
	REQUIRE(frames_init(&fa, r, 2, &res, 1, UINT64_MAX) == NULL);
	CHECK_EQ(virt_to_phys(fa.owner), base + 0x100000);
	CHECK_EQ(fa.npfn, NFRAMES);
	/* the gap between the regions is not RAM */
	CHECK_EQ(frames_owner(&fa, base + 0x80000), FRAME_NOT_RAM);
	CHECK_EQ(fa.ntotal, 4 + NFRAMES - 256);
	CHECK_EQ(fa.nfree, NFRAMES - 256 - 1);
}

TEST(frames_table_not_placed_in_firmware_reserved_memory)
{
	/* the map says usable, but another entry marks the first 64 KiB reserved: the frame
	 * table must not be written there */
	struct frames fa;
	u64 base = arena();
	struct mem_region r[] = {
	    {base, ARENA, MEM_USABLE},
	    {base, 0x10000, MEM_RESERVED},
	};
	REQUIRE(frames_init(&fa, r, 2, NULL, 0, UINT64_MAX) == NULL);
	u64 at = virt_to_phys(fa.owner);
	CHECK(at >= base + 0x10000);
	CHECK_EQ(frames_owner(&fa, base), FRAME_NOT_RAM);
	CHECK_EQ(fa.ntotal, NFRAMES - 16);
}

TEST(frames_limit_caps_the_managed_range)
{
	struct frames fa;
	u64 base = arena();
	struct mem_region r = {base, ARENA, MEM_USABLE};
	REQUIRE(frames_init(&fa, &r, 1, NULL, 0, base + 0x400800) == NULL);
	CHECK_EQ(fa.npfn, 0x400);
	CHECK_EQ(frames_owner(&fa, base + 0x400000), FRAME_NOT_RAM);
	CHECK_EQ(frames_owner(&fa, base + 0x3ff000), FRAME_FREE);
	/* a limit below every region leaves nothing */
	CHECK(frames_init(&fa, &r, 1, NULL, 0, base) != NULL);
}

TEST(frames_init_errors)
{
	struct frames fa;
	u64 base = arena();
	/* nothing usable */
	struct mem_region none[] = {{base, ARENA, MEM_RESERVED}, {base, 0, MEM_USABLE}};
	CHECK(frames_init(&fa, none, 2, NULL, 0, UINT64_MAX) != NULL);
	CHECK(frames_init(&fa, none, 0, NULL, 0, UINT64_MAX) != NULL);
	/* usable memory only below 1 MiB is never ours */
	struct mem_region low = {0, 0x9fc00, MEM_USABLE};
	CHECK(frames_init(&fa, &low, 1, NULL, 0, UINT64_MAX) != NULL);
	/* a region smaller than a frame after rounding */
	struct mem_region tiny = {base + 0x800, 0x1000, MEM_USABLE};
	CHECK(frames_init(&fa, &tiny, 1, NULL, 0, UINT64_MAX) != NULL);
	/* a region that wraps around the address space is ignored */
	struct mem_region wrap[] = {{base, ARENA, MEM_USABLE},
				    {UINT64_MAX - 0xfff, 0x3000, MEM_USABLE}};
	CHECK(frames_init(&fa, wrap, 2, NULL, 0, UINT64_MAX) == NULL);
	CHECK_EQ(fa.npfn, NFRAMES);
	/* everything reserved: no room for the table */
	struct mem_region r = {base, ARENA, MEM_USABLE};
	struct addr_range all = {base, base + ARENA};
	CHECK_CONTAINS(frames_init(&fa, &r, 1, &all, 1, UINT64_MAX), "frame table");
}

TEST(frames_reserved_region_reaching_top_of_memory)
{
	/* a firmware-reserved entry covering everything up to just below 2^64 must still knock
	 * out the usable frames it covers (its rounded end must not wrap to 0) */
	struct frames fa;
	u64 base = arena();
	struct mem_region r[] = {
	    {base, ARENA, MEM_USABLE},
	    {base + 0x100000, UINT64_MAX - 100 - (base + 0x100000), MEM_RESERVED},
	};
	REQUIRE(frames_init(&fa, r, 2, NULL, 0, UINT64_MAX) == NULL);
	CHECK_EQ(frames_owner(&fa, base + 0x200000), FRAME_NOT_RAM);
	CHECK_EQ(fa.ntotal, 256);
}

/* The boot and hypervisor counts kept without a scan (memory for guests at admission) match
 * a scan through allocations and frees of every kind, refused ones included. */
TEST(frames_boot_and_hypervisor_counts_match_a_scan)
{
	struct frames fa;
	u64 base = arena();
	init_whole(&fa, base);
	u64 hv[8], vm[8];
	for (unsigned i = 0; i < 8; i++) {
		hv[i] = frames_alloc(&fa, FRAME_HV);
		vm[i] = frames_alloc(&fa, OWNER_A);
		REQUIRE(hv[i] && vm[i]);
	}
	CHECK_EQ(fa.nhv, 8u);
	CHECK(!frames_free(&fa, vm[0], FRAME_HV)); /* a VM's frame claimed as the hypervisor's */
	CHECK(!frames_free(&fa, hv[0], OWNER_A));
	CHECK(!frames_share(&fa, hv[1], FRAME_HV));
	for (unsigned i = 0; i < 8; i += 2) {
		CHECK(frames_free(&fa, hv[i], FRAME_HV));
		CHECK(frames_free(&fa, vm[i], OWNER_A));
	}
	CHECK(!frames_free(&fa, hv[0], FRAME_HV)); /* twice */
	CHECK_EQ(fa.nhv, frames_count(&fa, FRAME_HV));
	CHECK_EQ(fa.nhv, 4u);
	CHECK_EQ(fa.nboot, frames_count(&fa, FRAME_BOOT));
}
