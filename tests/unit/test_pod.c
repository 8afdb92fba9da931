/* Tests of populate-on-demand (mm/p2m.c p2m_populate_lazy): guest RAM without a frame until
 * its first touch (a fault, the guest-memory accessor), the frame reserve the guest's own
 * faults respect and the hypervisor's accessors may use, waiting instead of failing, and
 * how the balloon and the sharing scanner see pages never touched. */
#include "p2m_env.h"
#include "../../mm/balloon.h"
#include "../../mm/share.h"

static bool all_zero(const u8 *b)
{
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (b[i])
			return false;
	return true;
}

TEST(pod_lazy_ram_takes_no_frame_until_first_touch)
{
	struct env e;
	env_init(&e);
	u64 nfree = e.fa.nfree, tables = e.p.nr_tables;
	REQUIRE(p2m_populate_lazy(&e.p, 0, 64));
	/* only the P2M's and EPT's tables came from the pool */
	CHECK_EQ(nfree - e.fa.nfree, e.p.nr_tables - tables);
	CHECK_EQ(e.p.nr_ram, 0);
	CHECK(e.p.balloon_refill);
	u64 mark = 99;
	CHECK_EQ(p2m_lookup(&e.p, 7, &mark), P2M_BALLOONED);
	CHECK_EQ(mark, P2M_BALLOON_UNPOPULATED);
	CHECK_EQ(env_ept(&e.p, 7 * PAGE_SIZE), 0); /* not mapped: the touch exits */
	nfree = e.fa.nfree;
	CHECK_EQ(p2m_fault(&e.p, 7, true), P2M_FAULT_FIXED);
	CHECK_EQ(p2m_lookup(&e.p, 7, NULL), P2M_RAM);
	CHECK(all_zero(env_host(&e.p, 7)));
	CHECK_EQ(nfree - e.fa.nfree, 1);
	CHECK_EQ(e.p.nr_ram, 1);
	CHECK_EQ(e.p.populated, 1);
	CHECK_EQ(e.p.balloon_refills, 0); /* a first touch is not a balloon refill */
	CHECK(env_ept(&e.p, 7 * PAGE_SIZE) & EPT_W);
	/* the second touch of the page is no fault of the P2M's */
	CHECK_EQ(p2m_fault(&e.p, 7, true), P2M_FAULT_NOT_MINE);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(pod_hypervisor_accesses_populate_and_read_zeros)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate_lazy(&e.p, 0, 16));
	u64 w = 0x1234;
	CHECK_EQ(gmem_read(&e.p, 3 * PAGE_SIZE + 8, &w, 8), GMEM_OK);
	CHECK_EQ(w, 0);
	w = 0xfeedULL;
	CHECK_EQ(gmem_write(&e.p, 5 * PAGE_SIZE + 16, &w, 8), GMEM_OK);
	CHECK_EQ(*(u64 *)(env_host(&e.p, 5) + 16), 0xfeedULL);
	CHECK_EQ(e.p.populated, 2);
	/* a range over pages never touched: each gets its frame */
	u8 buf[3 * PAGE_SIZE];
	memset(buf, 0xaa, sizeof(buf));
	CHECK_EQ(gmem_write(&e.p, 8 * PAGE_SIZE, buf, sizeof(buf)), GMEM_OK);
	CHECK_EQ(e.p.populated, 5);
	CHECK_EQ(e.p.nr_ram, 5);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(pod_guest_faults_wait_at_the_reserve_and_accessors_do_not)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate_lazy(&e.p, 0, 16));
	e.fa.guest_reserve = e.fa.nfree; /* nothing above the reserve */
	u64 nfree = e.fa.nfree;
	CHECK_EQ(p2m_fault(&e.p, 2, false), P2M_FAULT_WAIT);
	CHECK_EQ(p2m_fault(&e.p, 2, true), P2M_FAULT_WAIT);
	CHECK_EQ(e.p.mem_waits, 2);
	CHECK_EQ(e.fa.wanted, 2);
	CHECK_EQ(e.fa.nfree, nfree); /* nothing taken */
	CHECK_EQ(p2m_lookup(&e.p, 2, NULL), P2M_BALLOONED);
	CHECK(!e.p.in_fault);
	/* a device's access must never see a hole: the accessor may use the reserve */
	u64 w = 7;
	CHECK_EQ(gmem_write(&e.p, 2 * PAGE_SIZE, &w, 8), GMEM_OK);
	CHECK_EQ(e.fa.nfree, nfree - 1);
	CHECK_EQ(p2m_lookup(&e.p, 2, NULL), P2M_RAM);
	/* room again above the reserve: the access runs */
	e.fa.guest_reserve = e.fa.nfree - 1;
	CHECK_EQ(p2m_fault(&e.p, 3, true), P2M_FAULT_FIXED);
	CHECK_EQ(p2m_fault(&e.p, 4, true), P2M_FAULT_WAIT);
	CHECK_EQ(e.p.populated, 2);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(pod_balloon_takes_untouched_pages_without_a_frame)
{
	struct env e;
	env_init(&e);
	REQUIRE(p2m_populate_lazy(&e.p, 0, 32));
	struct balloon b;
	balloon_init(&b, &e.p, 32);
	REQUIRE(p2m_fault(&e.p, 1, true) == P2M_FAULT_FIXED);
	u64 nfree = e.fa.nfree;
	CHECK(balloon_inflate(&b, 1)); /* touched: its frame goes back */
	CHECK(balloon_inflate(&b, 2)); /* never touched: only the mark changes */
	CHECK_EQ(e.fa.nfree, nfree + 1);
	CHECK_EQ(b.frames_freed, 1);
	u64 mark;
	CHECK_EQ(p2m_lookup(&e.p, 2, &mark), P2M_BALLOONED);
	CHECK_EQ(mark, P2M_BALLOON_INFLATED);
	CHECK(!balloon_inflate(&b, 2)); /* twice is refused */
	/* a report of pages never touched drops nothing */
	CHECK_EQ(balloon_report(&b, 8 * PAGE_SIZE, 4 * PAGE_SIZE), 0);
	CHECK_EQ(b.report_skipped, 4);
	CHECK(balloon_deflate(&b, 2));
	CHECK_EQ(p2m_lookup(&e.p, 2, NULL), P2M_RAM);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(pod_sharing_scanner_passes_over_untouched_pages)
{
	struct env e;
	env_init2(&e);
	REQUIRE(p2m_populate_lazy(&e.p, 0, 16));
	REQUIRE(p2m_populate_lazy(&e.q, 0, 16));
	REQUIRE(p2m_fault(&e.p, 4, true) == P2M_FAULT_FIXED);
	REQUIRE(p2m_fault(&e.q, 4, true) == P2M_FAULT_FIXED);
	static struct share_entry table[64];
	struct share s;
	share_init(&s, table, 64);
	REQUIRE(share_add_vm(&s, &e.p, 16, true));
	REQUIRE(share_add_vm(&s, &e.q, 16, true));
	u64 nfree = e.fa.nfree;
	share_scan(&s, 64);
	/* the two touched zero pages share; the 30 never touched stay without a frame */
	CHECK_EQ(p2m_lookup(&e.p, 4, NULL), P2M_SHARED);
	CHECK_EQ(p2m_lookup(&e.q, 4, NULL), P2M_SHARED);
	CHECK_EQ(p2m_lookup(&e.p, 5, NULL), P2M_BALLOONED);
	CHECK_EQ(e.fa.nfree, nfree + 1);
	CHECK_EQ(e.p.populated + e.q.populated, 2);
	share_remove_vm(&s, &e.p);
	share_remove_vm(&s, &e.q);
	p2m_destroy(&e.p);
	p2m_destroy(&e.q);
	CHECK_EQ(e.fa.nfree, e.free0);
}
