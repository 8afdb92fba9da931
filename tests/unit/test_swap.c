/* Hypervisor swap (mm/swap.c) over a RAM disk: slot bookkeeping, a page out and back in
 * intact through a fault and through the guest-memory accessor, a slot that reads back wrong
 * never reaches the guest, a full partition refuses, a VM's end frees its slots, the clock's
 * victims, and hostile or impossible requests refused. */
#include "p2m_env.h"
#include "../../devices/blk_ram.h"
#include "../../mm/balloon.h"
#include "../../mm/swap.h"
#include "../../hypervisor/lib.h"

#define NPAGES 16

static void *ram_page(void *ctx)
{
	(void)ctx;
	return test_alloc(BLK_RAM_PAGE);
}

static void ram_free(void *ctx, void *page)
{
	(void)ctx;
	(void)page;
}

/* a backend whose reads and writes can be made to fail */
static struct blk_backend inner;
static bool fail_reads, fail_writes;

static bool flaky_read(void *ctx, u64 lba, u32 n, void *buf)
{
	(void)ctx;
	return !fail_reads && blk_read(&inner, lba, n, buf) == BLK_OK;
}

static bool flaky_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	(void)ctx;
	return !fail_writes && blk_write(&inner, lba, n, buf) == BLK_OK;
}

static const struct blk_ops flaky_ops = {flaky_read, flaky_write, NULL};

struct rig {
	struct env e;
	struct blk_ram ram;
	struct blk_backend disk;
	struct swap s;
	unsigned fails;
	char why[128];
};

static u64 ticks;
static u64 fake_clock(void)
{
	return ticks += 100;
}

static void on_fail(void *ctx, const char *why)
{
	struct rig *r = ctx;
	r->fails++;
	kstrlcpy(r->why, why, sizeof(r->why));
}

static void fill(struct p2m *p, u64 gfn, u64 seed)
{
	u64 *w = (u64 *)env_host(p, gfn);
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		w[i] = seed * 0x9e3779b97f4a7c15ULL + i;
}

static bool holds(struct p2m *p, u64 gfn, u64 seed)
{
	u64 *w = (u64 *)env_host(p, gfn);
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		if (w[i] != seed * 0x9e3779b97f4a7c15ULL + i)
			return false;
	return true;
}

/* A VM of NPAGES pages (page g filled from seed g + 1) on swap of `slots` slots. */
static void rig_init(struct rig *r, u64 slots)
{
	memset(r, 0, sizeof(*r));
	fail_reads = fail_writes = false;
	env_init(&r->e);
	struct blk_ram_alloc a = {ram_page, ram_free, NULL};
	REQUIRE(blk_ram_init(&r->ram, &inner, slots * SWAP_SECTORS_PER_PAGE, &a, "swap"));
	r->disk = (struct blk_backend){&flaky_ops, NULL, inner.sectors, false, "swap"};
	u64 mb = swap_meta_bytes(r->disk.sectors);
	REQUIRE(swap_init(&r->s, &r->disk, test_alloc_aligned(PAGE_SIZE, mb), mb, fake_clock) ==
		NULL);
	REQUIRE(p2m_populate(&r->e.p, 0, NPAGES));
	for (u64 g = 0; g < NPAGES; g++)
		fill(&r->e.p, g, g + 1);
	REQUIRE(swap_add_vm(&r->s, &r->e.p, NPAGES, true, on_fail, r));
}

static u64 bits_set(const struct swap *s)
{
	u64 n = 0;
	for (u64 i = 0; i < s->nslots; i++)
		n += (s->bitmap[i / 64] >> (i % 64)) & 1;
	return n;
}

TEST(swap_out_frees_the_frame_and_a_fault_brings_the_page_back)
{
	static struct rig r;
	rig_init(&r, 64);
	u64 nfree = r.e.fa.nfree;
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 3), SWAP_OK);
	CHECK_EQ(r.e.fa.nfree, nfree + 1);
	u64 slot;
	CHECK_EQ(p2m_lookup(&r.e.p, 3, &slot), P2M_SWAPPED);
	CHECK_EQ(r.s.nused, 1u);
	CHECK_EQ(bits_set(&r.s), 1u);
	CHECK_EQ(r.s.slots[slot].owner, 3u << 8 | 1);
	CHECK(r.e.hook.unmaps > 0); /* the shadow is told the frame went away */
	CHECK_EQ(env_ept(&r.e.p, 3 << PAGE_SHIFT), 0u);
	/* the guest touches it: the fault swaps it in and the access runs again */
	CHECK_EQ(p2m_fault(&r.e.p, 3, true), P2M_FAULT_FIXED);
	CHECK_EQ(p2m_lookup(&r.e.p, 3, NULL), P2M_RAM);
	CHECK(holds(&r.e.p, 3, 4));
	CHECK_EQ(r.e.fa.nfree, nfree);
	CHECK_EQ(r.s.nused, 0u);
	CHECK_EQ(bits_set(&r.s), 0u);
	struct swap_vm *v = swap_vm_of(&r.s, &r.e.p);
	CHECK_EQ(v->st.out, 1u);
	CHECK_EQ(v->st.in, 1u);
	CHECK_EQ(v->swapped, 0u);
	CHECK(v->st.cycles_out > 0 && v->st.cycles_in > 0);
	CHECK_EQ(r.fails, 0u);
}

TEST(swap_every_page_out_and_back_in_through_the_guest_memory_accessor)
{
	static struct rig r;
	rig_init(&r, 64);
	CHECK_EQ(swap_out_pages(&r.s, &r.e.p, 1000, NULL, NULL), NPAGES);
	CHECK_EQ(r.s.nused, NPAGES);
	for (u64 g = 0; g < NPAGES; g++)
		CHECK_EQ(p2m_lookup(&r.e.p, g, NULL), P2M_SWAPPED);
	/* the hypervisor's reads (device DMA, emulation) see the pages, never a hole */
	static u64 buf[2 * PAGE_SIZE / 8];
	CHECK_EQ(gmem_read(&r.e.p, 5 * PAGE_SIZE + 8, buf, 8), GMEM_OK);
	CHECK_EQ(buf[0], 6 * 0x9e3779b97f4a7c15ULL + 1);
	CHECK_EQ(gmem_read(&r.e.p, 6 * PAGE_SIZE, buf, 2 * PAGE_SIZE), GMEM_OK);
	CHECK_EQ(buf[PAGE_SIZE / 8], 8 * 0x9e3779b97f4a7c15ULL);
	u64 one = 42;
	CHECK_EQ(gmem_write(&r.e.p, 9 * PAGE_SIZE, &one, 8), GMEM_OK);
	CHECK_EQ(*(u64 *)env_host(&r.e.p, 9), 42u);
	void *m;
	CHECK_EQ(gmem_map(&r.e.p, 10 * PAGE_SIZE, 16, false, &m), GMEM_OK);
	CHECK(gmem_table(&r.e.p, 11 * PAGE_SIZE) != NULL);
	for (u64 g = 0; g < NPAGES; g++) {
		CHECK(p2m_swap_fetch(&r.e.p, g));
		if (g != 9)
			CHECK(holds(&r.e.p, g, g + 1));
	}
	CHECK_EQ(r.s.nused, 0u);
	CHECK_EQ(swap_vm_of(&r.s, &r.e.p)->st.in, NPAGES);
}

TEST(swap_slot_that_reads_back_different_never_reaches_the_guest)
{
	static struct rig r;
	rig_init(&r, 64);
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 2), SWAP_OK);
	u64 slot;
	REQUIRE(p2m_lookup(&r.e.p, 2, &slot) == P2M_SWAPPED);
	/* one bit of the slot flips on the disk */
	u8 sec[BLK_SECTOR_SIZE];
	REQUIRE(blk_read(&inner, slot * SWAP_SECTORS_PER_PAGE + 3, 1, sec) == BLK_OK);
	sec[100] ^= 4;
	REQUIRE(blk_write(&inner, slot * SWAP_SECTORS_PER_PAGE + 3, 1, sec) == BLK_OK);
	u64 nfree = r.e.fa.nfree;
	CHECK_EQ(p2m_fault(&r.e.p, 2, false), P2M_FAULT_SWAPPED);
	CHECK_EQ(p2m_lookup(&r.e.p, 2, NULL), P2M_SWAPPED); /* still out, no frame mapped */
	CHECK_EQ(r.e.fa.nfree, nfree);
	CHECK_EQ(r.fails, 1u);
	CHECK(strstr(r.why, "checksum mismatch") && strstr(r.why, "gfn 2"));
	CHECK_EQ(swap_vm_of(&r.s, &r.e.p)->st.checksum_failures, 1u);
	u64 w;
	CHECK_EQ(gmem_read(&r.e.p, 2 * PAGE_SIZE, &w, 8), GMEM_SWAPPED);
	CHECK_EQ(r.fails, 2u);
	CHECK_EQ(r.s.nused, 1u); /* the slot stays until the VM ends */
	CHECK_EQ(swap_remove_vm(&r.s, &r.e.p), 1u);
	CHECK_EQ(r.s.nused, 0u);
}

TEST(swap_disk_errors_keep_the_page_where_it_was)
{
	static struct rig r;
	rig_init(&r, 64);
	fail_writes = true;
	u64 nfree = r.e.fa.nfree;
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 1), SWAP_IO);
	CHECK_EQ(p2m_lookup(&r.e.p, 1, NULL), P2M_RAM);
	CHECK(holds(&r.e.p, 1, 2));
	CHECK_EQ(r.s.nused, 0u);
	CHECK_EQ(r.e.fa.nfree, nfree);
	CHECK_EQ(swap_out_pages(&r.s, &r.e.p, 4, NULL, NULL), 0u); /* stops at the first error */
	fail_writes = false;
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 1), SWAP_OK);
	fail_reads = true;
	CHECK_EQ(swap_in_gfn(&r.s, &r.e.p, 1), SWAP_IO);
	CHECK_EQ(r.fails, 1u);
	fail_reads = false;
	CHECK_EQ(swap_in_gfn(&r.s, &r.e.p, 1), SWAP_OK);
	CHECK(holds(&r.e.p, 1, 2));
}

TEST(swap_full_partition_refuses_and_leaves_the_page_in_memory)
{
	static struct rig r;
	rig_init(&r, 4);
	CHECK_EQ(r.s.nslots, 4u);
	CHECK_EQ(swap_out_pages(&r.s, &r.e.p, 10, NULL, NULL), 4u);
	CHECK_EQ(r.s.nused, 4u);
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 12), SWAP_FULL);
	CHECK_EQ(p2m_lookup(&r.e.p, 12, NULL), P2M_RAM);
	CHECK(holds(&r.e.p, 12, 13));
	CHECK(r.s.full >= 2);
	/* one comes back: its slot is the one handed out next */
	CHECK_EQ(swap_in_gfn(&r.s, &r.e.p, 0), SWAP_OK);
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 12), SWAP_OK);
	u64 slot;
	CHECK_EQ(p2m_lookup(&r.e.p, 12, &slot), P2M_SWAPPED);
	CHECK(slot < 4);
}

TEST(swap_vm_end_frees_only_its_own_slots)
{
	static struct rig r;
	rig_init(&r, 64);
	REQUIRE(p2m_init(&r.e.q, &r.e.fa, ENV_OTHER) == NULL);
	REQUIRE(p2m_populate(&r.e.q, 0, NPAGES));
	for (u64 g = 0; g < NPAGES; g++)
		fill(&r.e.q, g, 100 + g);
	REQUIRE(swap_add_vm(&r.s, &r.e.q, NPAGES, true, on_fail, &r));
	CHECK_EQ(swap_out_pages(&r.s, &r.e.p, 5, NULL, NULL), 5u);
	CHECK_EQ(swap_out_pages(&r.s, &r.e.q, 7, NULL, NULL), 7u);
	CHECK_EQ(r.s.nused, 12u);
	CHECK_EQ(swap_remove_vm(&r.s, &r.e.p), 5u);
	CHECK(r.e.p.fetch == NULL);
	p2m_destroy(&r.e.p);
	CHECK_EQ(r.s.nused, 7u);
	CHECK_EQ(bits_set(&r.s), 7u);
	CHECK(swap_vm_of(&r.s, &r.e.p) == NULL);
	/* the other VM's pages are all still there */
	for (u64 g = 0; g < NPAGES; g++) {
		CHECK(p2m_swap_fetch(&r.e.q, g));
		CHECK(holds(&r.e.q, g, 100 + g));
	}
	CHECK_EQ(r.s.nused, 0u);
	CHECK_EQ(swap_remove_vm(&r.s, &r.e.q), 0u);
	p2m_destroy(&r.e.q);
	CHECK_EQ(r.e.fa.nfree, r.e.free0);
}

TEST(swap_refuses_what_is_not_private_ram_of_the_vm)
{
	static struct rig r;
	rig_init(&r, 64);
	/* beyond the VM, far beyond any table, and the highest gfn a P2M can hold */
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, NPAGES), SWAP_NOT_RAM);
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 1ULL << 40), SWAP_NOT_RAM);
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, ~0ULL), SWAP_NOT_RAM);
	CHECK_EQ(swap_in_gfn(&r.s, &r.e.p, ~0ULL), SWAP_NOT_RAM);
	CHECK_EQ(swap_in_gfn(&r.s, &r.e.p, 4), SWAP_NOT_RAM); /* RAM: nothing to bring in */
	/* MMIO, ROM, a ballooned page, a page swapped already */
	REQUIRE(p2m_set(&r.e.p, 5, 0, P2M_MMIO));
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 5), SWAP_NOT_RAM);
	REQUIRE(p2m_balloon_out(&r.e.p, 6));
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 6), SWAP_NOT_RAM);
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 7), SWAP_OK);
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 7), SWAP_NOT_RAM);
	/* a shared frame is skipped, not unshared */
	REQUIRE(p2m_init(&r.e.q, &r.e.fa, ENV_OTHER) == NULL);
	REQUIRE(p2m_populate(&r.e.q, 0, 1));
	REQUIRE(p2m_share(&r.e.p, 8, &r.e.q, 0));
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 8), SWAP_NOT_RAM);
	CHECK_EQ(p2m_lookup(&r.e.p, 8, NULL), P2M_SHARED);
	/* a P2M that never joined, and a VM with swap = off */
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.q, 0), SWAP_NO_VM);
	CHECK_EQ(swap_out_pages(&r.s, &r.e.q, 1, NULL, NULL), 0u);
	swap_set_policy(&r.s, &r.e.p, false);
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 9), SWAP_OFF);
	CHECK_EQ(r.s.nused, 1u);
	CHECK_EQ(r.fails, 0u);
}

TEST(swap_slot_not_naming_the_page_is_never_read)
{
	static struct rig r;
	rig_init(&r, 64);
	REQUIRE(p2m_init(&r.e.q, &r.e.fa, ENV_OTHER) == NULL);
	REQUIRE(p2m_populate(&r.e.q, 0, NPAGES));
	REQUIRE(swap_add_vm(&r.s, &r.e.q, NPAGES, true, on_fail, &r));
	CHECK_EQ(swap_out_gfn(&r.s, &r.e.p, 3), SWAP_OK);
	u64 slot;
	REQUIRE(p2m_lookup(&r.e.p, 3, &slot) == P2M_SWAPPED);
	/* another VM's entry, or another gfn, naming p's slot: refused loudly */
	REQUIRE(p2m_set(&r.e.q, 1, slot, P2M_SWAPPED));
	CHECK_EQ(swap_in_gfn(&r.s, &r.e.q, 1), SWAP_BAD_SLOT);
	REQUIRE(p2m_set(&r.e.p, 4, slot, P2M_SWAPPED));
	CHECK_EQ(swap_in_gfn(&r.s, &r.e.p, 4), SWAP_BAD_SLOT);
	REQUIRE(p2m_set(&r.e.p, 5, r.s.nslots + 7, P2M_SWAPPED));
	CHECK_EQ(swap_in_gfn(&r.s, &r.e.p, 5), SWAP_BAD_SLOT);
	CHECK_EQ(r.fails, 3u);
	CHECK(strstr(r.why, "names a slot"));
	CHECK_EQ(swap_in_gfn(&r.s, &r.e.p, 3), SWAP_OK);
	CHECK(holds(&r.e.p, 3, 4));
}

TEST(swap_clock_passes_over_recently_accessed_pages_once)
{
	static struct rig r;
	rig_init(&r, 64);
	/* the CPU set the accessed flag of gfns 0 and 1 (EPT A/D on) */
	for (u64 g = 0; g < 2; g++) {
		u64 *e =
		    pt_entry(&pt_fmt_ept, &r.e.p.ops, r.e.p.ept_root, g << PAGE_SHIFT, 0, false);
		REQUIRE(e);
		*e |= EPT_A;
	}
	r.e.p.ept_stale = false;
	u64 g;
	CHECK(swap_clock_victim(NULL, &r.s, &r.e.p, &g));
	CHECK_EQ(g, 2u);
	CHECK(r.e.p.ept_stale); /* the cleared flags must be seen by the CPU */
	CHECK_EQ(swap_out_pages(&r.s, &r.e.p, 3, NULL, NULL), 3u);
	/* the hand went on from 3, and no page is taken twice */
	CHECK_EQ(p2m_lookup(&r.e.p, 3, NULL), P2M_SWAPPED);
	CHECK_EQ(p2m_lookup(&r.e.p, 5, NULL), P2M_SWAPPED);
	CHECK_EQ(p2m_lookup(&r.e.p, 0, NULL), P2M_RAM);
	CHECK_EQ(p2m_lookup(&r.e.p, 2, NULL), P2M_RAM);
	/* a full turn later, 0 and 1 had their second chance */
	CHECK_EQ(swap_out_pages(&r.s, &r.e.p, NPAGES, NULL, NULL), NPAGES - 3);
	CHECK_EQ(r.s.nused, NPAGES);
	CHECK(!swap_clock_victim(NULL, &r.s, &r.e.p, &g)); /* nothing left to take */
}

/* a victim function of someone else's (the working-set estimate): odd gfns only */
static bool odd_victims(void *ctx, struct swap *s, struct p2m *p, u64 *gfn)
{
	(void)s;
	(void)p;
	u64 *next = ctx;
	if (*next >= NPAGES + 4) /* past the VM on purpose: refused, then the list ends */
		return false;
	*gfn = *next;
	*next += 2;
	return true;
}

TEST(swap_out_pages_takes_the_victims_it_is_given)
{
	static struct rig r;
	rig_init(&r, 64);
	u64 next = 1;
	CHECK_EQ(swap_out_pages(&r.s, &r.e.p, 100, odd_victims, &next), NPAGES / 2);
	for (u64 g = 0; g < NPAGES; g++)
		CHECK_EQ(p2m_lookup(&r.e.p, g, NULL), g % 2 ? P2M_SWAPPED : P2M_RAM);
}

TEST(swap_init_refuses_what_cannot_hold_a_page)
{
	static struct swap s;
	static u8 meta[2 * PAGE_SIZE];
	struct blk_backend tiny = {&flaky_ops, NULL, SWAP_SECTORS_PER_PAGE - 1, false, "tiny"};
	CHECK(swap_init(&s, &tiny, meta, sizeof(meta), NULL) != NULL);
	struct blk_backend ro = {&flaky_ops, NULL, 64, true, "ro"};
	CHECK(swap_init(&s, &ro, meta, sizeof(meta), NULL) != NULL);
	struct blk_backend big = {&flaky_ops, NULL, 1ULL << 30, false, "big"};
	CHECK(swap_init(&s, &big, meta, sizeof(meta), NULL) != NULL);
	CHECK_EQ(swap_meta_bytes(64ULL << 11), PAGE_SIZE + 16384 * 16 + 16384 / 8);
}

TEST(swap_in_waits_at_the_frame_reserve_without_failing_the_vm)
{
	static struct rig r;
	rig_init(&r, 64);
	REQUIRE(swap_out_gfn(&r.s, &r.e.p, 5) == SWAP_OK);
	r.e.fa.guest_reserve = r.e.fa.nfree; /* nothing above the reserve */
	/* the guest's access waits: no read of the slot, no failure, the page stays out */
	CHECK_EQ(p2m_fault(&r.e.p, 5, false), P2M_FAULT_WAIT);
	CHECK_EQ(p2m_lookup(&r.e.p, 5, NULL), P2M_SWAPPED);
	CHECK_EQ(r.s.nused, 1u);
	CHECK_EQ(r.fails, 0u);
	struct swap_vm *v = swap_vm_of(&r.s, &r.e.p);
	CHECK_EQ(v->st.in_waits, 1u);
	CHECK_EQ(v->st.in_nomem, 0u);
	CHECK_EQ(r.e.p.mem_waits, 1u);
	/* the reclaimer made room: the same access brings it back intact */
	r.e.fa.guest_reserve = 0;
	CHECK_EQ(p2m_fault(&r.e.p, 5, false), P2M_FAULT_FIXED);
	CHECK(holds(&r.e.p, 5, 6));
	CHECK_EQ(r.s.nused, 0u);
	/* a device's read through the accessor never waits: it may use the reserve */
	REQUIRE(swap_out_gfn(&r.s, &r.e.p, 6) == SWAP_OK);
	r.e.fa.guest_reserve = r.e.fa.nfree;
	u64 w;
	CHECK_EQ(gmem_read(&r.e.p, 6 * PAGE_SIZE, &w, 8), GMEM_OK);
	CHECK(holds(&r.e.p, 6, 7));
	CHECK_EQ(r.fails, 0u);
}

TEST(swap_passes_over_pages_never_touched)
{
	static struct rig r;
	rig_init(&r, NPAGES + 8);
	/* four gfns as a lazy VM's never touched: ballooned, marked unpopulated, no frame */
	for (u64 g = 4; g < 8; g++)
		REQUIRE(p2m_balloon_out_as(&r.e.p, g, P2M_BALLOON_UNPOPULATED));
	CHECK(swap_out_gfn(&r.s, &r.e.p, 5) != SWAP_OK);
	CHECK_EQ(r.s.nused, 0u);
	CHECK_EQ(swap_out_pages(&r.s, &r.e.p, NPAGES, NULL, NULL), NPAGES - 4u);
	for (u64 g = 4; g < 8; g++) {
		u64 mark = 99;
		CHECK_EQ(p2m_lookup(&r.e.p, g, &mark), P2M_BALLOONED);
		CHECK_EQ(mark, P2M_BALLOON_UNPOPULATED);
	}
	/* the first touch of one is a zeroed frame, counted as populated, not a swap-in */
	r.e.p.balloon_refill = true; /* as p2m_populate_lazy turns it on */
	CHECK_EQ(p2m_fault(&r.e.p, 5, false), P2M_FAULT_FIXED);
	CHECK_EQ(r.e.p.populated, 1u);
	CHECK_EQ(swap_vm_of(&r.s, &r.e.p)->st.in, 0u);
	CHECK_EQ(r.fails, 0u);
}

TEST(swap_page_the_guest_puts_in_its_balloon_frees_its_slot)
{
	static struct rig r;
	rig_init(&r, 64);
	REQUIRE(swap_out_gfn(&r.s, &r.e.p, 4) == SWAP_OK);
	struct balloon b;
	balloon_init(&b, &r.e.p, NPAGES);
	u64 nfree = r.e.fa.nfree;
	CHECK(balloon_inflate(&b, 4));
	u64 mark;
	CHECK_EQ(p2m_lookup(&r.e.p, 4, &mark), P2M_BALLOONED);
	CHECK_EQ(mark, P2M_BALLOON_INFLATED);
	CHECK_EQ(r.s.nused, 0u); /* the slot is free again */
	CHECK_EQ(r.e.fa.nfree, nfree);
	CHECK_EQ(b.refused[BALLOON_BAD_TYPE], 0u);
	CHECK_EQ(swap_vm_of(&r.s, &r.e.p)->swapped, 0u);
	CHECK_EQ(r.fails, 0u);
}
