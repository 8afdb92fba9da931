/* Ballooning (mm/balloon.c, devices/virtio_balloon.c, the P2M's refill of touched
 * ballooned pages): inflate and deflate move frames and count them; every bad page number
 * (beyond memory, MMIO, ROM, a hole, twice, not in the balloon) is refused and counted;
 * reported free ranges lose their frames and read as zero; the device as Linux's
 * virtio_balloon drives it: queue indices by feature, config num_pages/actual, the held
 * stats buffer, reporting chains, hostile chains, save/load. */
#include "virtio_rig.h"
#include "../../devices/virtio_balloon.h"
#include "../../hypervisor/config.h"
#include "../../hypervisor/lib.h"
#include "../../hypervisor/platform.h"
#include "../../hypervisor/vm.h"
#include "../../hypervisor/vm_virtio.h"

/* ---- mm/balloon.c over a P2M: gfn 0-15 RAM, 16 ROM, 17 MMIO, 18 a hole, 19-31 RAM ---- */

#define NR_GFN 32

static void mem_env(struct env *e, struct balloon *b)
{
	env_init(e);
	REQUIRE(p2m_populate(&e->p, 0, 16));
	REQUIRE(p2m_populate_as(&e->p, 16, 1, P2M_ROM));
	REQUIRE(p2m_set(&e->p, 17, 0xfee00, P2M_MMIO));
	REQUIRE(p2m_populate(&e->p, 19, NR_GFN - 19));
	for (u64 g = 0; g < NR_GFN; g++)
		if (g != 17 && g != 18)
			memset(env_host(&e->p, g), (int)(0x40 + g), PAGE_SIZE);
	balloon_init(b, &e->p, NR_GFN);
}

static u64 tag_of(struct p2m *p, u64 gfn)
{
	u64 tag = ~0ULL;
	REQUIRE(p2m_lookup(p, gfn, &tag) == P2M_BALLOONED);
	return tag;
}

TEST(balloon_inflate_gives_frames_back_and_deflate_maps_zeroed_ones)
{
	struct env e;
	struct balloon b;
	mem_env(&e, &b);
	u64 nfree = e.fa.nfree, m3 = env_mfn(&e.p, 3);
	CHECK(balloon_inflate(&b, 3));
	CHECK(balloon_inflate(&b, 4));
	CHECK_EQ(tag_of(&e.p, 3), P2M_BALLOON_INFLATED);
	CHECK_EQ(frames_owner(&e.fa, m3 << PAGE_SHIFT), FRAME_FREE);
	CHECK_EQ(e.fa.nfree, nfree + 2);
	CHECK_EQ(b.inflated, 2);
	CHECK_EQ(b.in_balloon, 2);
	CHECK_EQ(b.frames_freed, 2);
	CHECK(balloon_deflate(&b, 3));
	CHECK_EQ(p2m_lookup(&e.p, 3, NULL), P2M_RAM);
	CHECK_EQ(env_host(&e.p, 3)[100], 0); /* a fresh frame, not the old 0x43s */
	CHECK_EQ(e.fa.nfree, nfree + 1);
	CHECK_EQ(b.deflated, 1);
	CHECK_EQ(b.frames_given, 1);
	CHECK_EQ(b.in_balloon, 1);
	CHECK_EQ(balloon_refused(&b), 0);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(balloon_refuses_page_numbers_beyond_memory)
{
	struct env e;
	struct balloon b;
	mem_env(&e, &b);
	u64 nfree = e.fa.nfree;
	CHECK(!balloon_inflate(&b, NR_GFN));
	CHECK(!balloon_inflate(&b, 0xffffffffu));
	CHECK(!balloon_deflate(&b, NR_GFN + 5));
	CHECK_EQ(b.refused[BALLOON_BAD_RANGE], 3);
	CHECK_EQ(e.fa.nfree, nfree);
	CHECK_EQ(b.inflated + b.deflated, 0);
	p2m_destroy(&e.p);
}

TEST(balloon_refuses_mmio_rom_and_holes)
{
	struct env e;
	struct balloon b;
	mem_env(&e, &b);
	u64 nfree = e.fa.nfree;
	CHECK(!balloon_inflate(&b, 16)); /* ROM */
	CHECK(!balloon_inflate(&b, 17)); /* MMIO */
	CHECK(!balloon_inflate(&b, 18)); /* a hole inside the VM's span */
	CHECK(!balloon_deflate(&b, 16));
	CHECK(!balloon_deflate(&b, 17));
	CHECK_EQ(b.refused[BALLOON_BAD_TYPE], 5);
	CHECK_EQ(p2m_lookup(&e.p, 16, NULL), P2M_ROM);
	CHECK_EQ(p2m_lookup(&e.p, 17, NULL), P2M_MMIO);
	CHECK_EQ(p2m_lookup(&e.p, 18, NULL), P2M_NONE);
	CHECK_EQ(env_host(&e.p, 16)[0], 0x50);
	CHECK_EQ(e.fa.nfree, nfree);
	p2m_destroy(&e.p);
}

TEST(balloon_refuses_duplicates_and_deflates_of_pages_it_does_not_hold)
{
	struct env e;
	struct balloon b;
	mem_env(&e, &b);
	CHECK(!balloon_deflate(&b, 5)); /* RAM, and the balloon is empty */
	CHECK_EQ(b.refused[BALLOON_BAD_NOT_IN], 1);
	CHECK(balloon_inflate(&b, 5));
	u64 nfree = e.fa.nfree;
	CHECK(!balloon_inflate(&b, 5)); /* a duplicate, as in one buffer */
	CHECK(!balloon_inflate(&b, 5));
	CHECK_EQ(b.refused[BALLOON_BAD_TWICE], 2);
	CHECK_EQ(b.in_balloon, 1);
	CHECK(balloon_deflate(&b, 5));
	CHECK_EQ(e.fa.nfree, nfree - 1);
	/* a page reported free was never in the balloon */
	CHECK_EQ(balloon_report(&b, 8 * PAGE_SIZE, PAGE_SIZE), 1);
	CHECK(!balloon_deflate(&b, 8));
	CHECK_EQ(b.refused[BALLOON_BAD_NOT_IN], 2);
	CHECK_EQ(tag_of(&e.p, 8), P2M_BALLOON_REPORTED);
	CHECK_EQ(balloon_refused(&b), 4);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(balloon_touched_pages_get_fresh_zero_frames_and_are_counted)
{
	struct env e;
	struct balloon b;
	mem_env(&e, &b);
	REQUIRE(balloon_inflate(&b, 6));
	u64 nfree = e.fa.nfree;
	/* the guest touches a page it gave back: a fresh zero frame, as KVM does */
	CHECK_EQ(p2m_fault(&e.p, 6, true), P2M_FAULT_FIXED);
	CHECK_EQ(p2m_lookup(&e.p, 6, NULL), P2M_RAM);
	CHECK_EQ(env_host(&e.p, 6)[9], 0);
	CHECK_EQ(e.p.balloon_refills, 1);
	CHECK_EQ(e.fa.nfree, nfree - 1);
	/* its later deflate finds RAM: nothing more to give */
	CHECK(balloon_deflate(&b, 6));
	CHECK_EQ(b.frames_given, 0);
	CHECK_EQ(e.fa.nfree, nfree - 1);
	/* a device writing into a reported page refills it through the accessor */
	REQUIRE(balloon_report(&b, 10 * PAGE_SIZE, 2 * PAGE_SIZE) == 2);
	u8 buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back[8];
	CHECK_EQ(gmem_write(&e.p, 10 * PAGE_SIZE + 4090, buf, 8), GMEM_OK); /* two pages */
	CHECK_EQ(gmem_read(&e.p, 10 * PAGE_SIZE + 4090, back, 8), GMEM_OK);
	CHECK(!memcmp(buf, back, 8));
	CHECK_EQ(env_host(&e.p, 11)[100], 0);
	CHECK_EQ(e.p.balloon_refills, 3);
	/* without the balloon's refill a touch still reports the ballooned frame */
	e.p.balloon_refill = false;
	REQUIRE(balloon_inflate(&b, 7));
	CHECK_EQ(p2m_fault(&e.p, 7, false), P2M_FAULT_BALLOONED);
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(balloon_report_drops_whole_pages_in_range_only)
{
	struct env e;
	struct balloon b;
	mem_env(&e, &b);
	u64 nfree = e.fa.nfree;
	/* from the middle of page 1 to the middle of page 4: pages 2 and 3 */
	CHECK_EQ(balloon_report(&b, PAGE_SIZE + 100, 3 * PAGE_SIZE), 2);
	CHECK_EQ(p2m_lookup(&e.p, 1, NULL), P2M_RAM);
	CHECK_EQ(tag_of(&e.p, 2), P2M_BALLOON_REPORTED);
	CHECK_EQ(tag_of(&e.p, 3), P2M_BALLOON_REPORTED);
	CHECK_EQ(p2m_lookup(&e.p, 4, NULL), P2M_RAM);
	CHECK_EQ(e.fa.nfree, nfree + 2);
	/* they read as zero afterwards */
	u8 x = 0xff;
	CHECK_EQ(gmem_read(&e.p, 2 * PAGE_SIZE + 5, &x, 1), GMEM_OK);
	CHECK_EQ(x, 0);
	/* reported again untouched: nothing to drop */
	CHECK_EQ(balloon_report(&b, 3 * PAGE_SIZE, PAGE_SIZE), 0);
	CHECK_EQ(b.report_skipped, 1);
	/* across ROM, MMIO and a hole, and past the end: refused, RAM around them dropped */
	CHECK_EQ(balloon_report(&b, 15 * PAGE_SIZE, 5 * PAGE_SIZE), 2);
	CHECK_EQ(b.refused[BALLOON_BAD_TYPE], 3);
	CHECK_EQ(p2m_lookup(&e.p, 16, NULL), P2M_ROM);
	CHECK_EQ(balloon_report(&b, 30 * PAGE_SIZE, 4 * PAGE_SIZE), 2);
	CHECK_EQ(b.refused[BALLOON_BAD_RANGE], 2);
	CHECK_EQ(balloon_report(&b, ~0ULL - 10, 4 * PAGE_SIZE), 0); /* wraps */
	CHECK_EQ(balloon_report(&b, 0, 100), 0);		    /* no whole page */
	CHECK_EQ(b.reported, 6);
	/* page 2 was read (refilled); page 3, reported and untouched, has no frame to give
	 * when the balloon takes it: only the mark moves */
	CHECK_EQ(p2m_lookup(&e.p, 2, NULL), P2M_RAM);
	u64 before = e.fa.nfree;
	CHECK(balloon_inflate(&b, 3));
	CHECK_EQ(tag_of(&e.p, 3), P2M_BALLOON_INFLATED);
	CHECK_EQ(e.fa.nfree, before);
	CHECK(!balloon_inflate(&b, 3));
	p2m_destroy(&e.p);
	CHECK_EQ(e.fa.nfree, e.free0);
}

TEST(balloon_target_is_the_size_the_guest_shrinks_to)
{
	struct env e;
	struct balloon b;
	mem_env(&e, &b);
	b.nr_gfn = 128 * 256; /* a 128 MiB VM, as far as targets go */
	CHECK(balloon_set_size(&b, 128, 96) == NULL);
	CHECK_EQ(b.target, 32 * 256);
	CHECK(balloon_set_size(&b, 128, 128) == NULL);
	CHECK_EQ(b.target, 0);
	CHECK(balloon_set_size(&b, 128, 129) != NULL);
	CHECK(balloon_set_size(&b, 128, 8) != NULL);
	CHECK_EQ(b.target, 0); /* unchanged by a refusal */
	CHECK(balloon_set_size(&b, 128, BALLOON_MIN_MIB) == NULL);
	/* a deflate with the balloon at or below the target: the guest's OOM took it */
	b.nr_gfn = NR_GFN;
	b.target = 2;
	REQUIRE(balloon_inflate(&b, 1) && balloon_inflate(&b, 2) && balloon_inflate(&b, 3));
	CHECK(balloon_deflate(&b, 3));
	CHECK_EQ(b.oom_deflated, 0);
	CHECK(balloon_deflate(&b, 2));
	CHECK_EQ(b.oom_deflated, 1);
	balloon_stat(&b, BALLOON_S_MEMFREE, 12345);
	balloon_stat(&b, 77, 1);
	CHECK_EQ(b.stats[BALLOON_S_MEMFREE], 12345);
	CHECK_EQ(b.stats_seen, 1u << BALLOON_S_MEMFREE);
	CHECK_EQ(b.stats_bad_tags, 1);
	p2m_destroy(&e.p);
}

/* ---- the device, driven as Linux's virtio_balloon drives it ---- */

#define ALL                                                                                        \
	(BIT(VIRTIO_BALLOON_F_STATS_VQ) | BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) |                   \
	 BIT(VIRTIO_BALLOON_F_PAGE_REPORTING) | BIT(VIRTIO_BALLOON_F_MUST_TELL_HOST) |             \
	 BIT(VIRTIO_BALLOON_F_FREE_PAGE_HINT) | 1ULL << VIRTIO_F_VERSION_1)
#define LIVE                                                                                       \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |            \
	 VIRTIO_STATUS_DRIVER_OK)
#define PFNS	0x30000ULL /* the page-number array */
#define STATS	0x31000ULL
#define DEV_MIB 1 /* the rig's 64 pages, rounded up for targets */

struct t {
	struct rig r;
	struct virtio_balloon vb;
};

static struct t *setup(void)
{
	struct t *t = test_alloc(sizeof(*t));
	rig_init(&t->r);
	REQUIRE(virtio_balloon_init(&t->vb, t->r.d.p, DRV_RAM_PAGES, 64));
	rig_plug(&t->r, &t->vb.vp.f);
	return t;
}

static void done(struct t *t)
{
	p2m_destroy(t->r.d.p);
}

/* One request of page numbers on queue qi, as tell_host sends it; waits for it back. */
static bool send_pfns(struct t *t, unsigned qi, const u32 *pfn, unsigned n)
{
	struct drv *q = &t->r.q[qi];
	drv_put(q, PFNS, pfn, 4 * n);
	drv_desc(q, 0, PFNS, 4 * n, 0, 0);
	drv_avail(q, 0);
	rig_kick(&t->r, qi);
	u32 id, len;
	return drv_used(q, &id, &len) && id == 0 && len == 0;
}

static u32 cfg32(struct t *t, unsigned off)
{
	return (u32)mrd(&t->r, VIRTIO_DEVCFG_OFF + off, 4);
}

TEST(virtio_balloon_identity_features_and_queue_indices)
{
	struct t *t = setup();
	CHECK_EQ(cfg_rd(&t->r, PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR);
	CHECK_EQ(cfg_rd(&t->r, PCI_VENDOR_ID + 2, 2), VIRTIO_PCI_DEVICE0 + VIRTIO_ID_BALLOON);
	REQUIRE(rig_start(&t->r, 4, 128, ALL, true) == LIVE);
	/* offered: stats, deflate on OOM, reporting; not MUST_TELL_HOST nor free page hints */
	CHECK(virtio_has(&t->vb.vp, VIRTIO_BALLOON_F_STATS_VQ));
	CHECK(virtio_has(&t->vb.vp, VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	CHECK(virtio_has(&t->vb.vp, VIRTIO_BALLOON_F_PAGE_REPORTING));
	CHECK(!virtio_has(&t->vb.vp, VIRTIO_BALLOON_F_MUST_TELL_HOST));
	CHECK(!virtio_has(&t->vb.vp, VIRTIO_BALLOON_F_FREE_PAGE_HINT));
	CHECK_EQ(virtio_balloon_queue(&t->vb, VB_STATS), 2);
	CHECK_EQ(virtio_balloon_queue(&t->vb, VB_REPORTING), 3);
	/* without the stats queue, reporting takes its index */
	REQUIRE(rig_start(&t->r, 3, 128, ALL & ~BIT(VIRTIO_BALLOON_F_STATS_VQ), true) == LIVE);
	CHECK_EQ(virtio_balloon_queue(&t->vb, VB_STATS), -1);
	CHECK_EQ(virtio_balloon_queue(&t->vb, VB_REPORTING), 2);
	done(t);
}

TEST(virtio_balloon_config_target_and_actual)
{
	struct t *t = setup();
	REQUIRE(rig_start(&t->r, 4, 128, ALL, true) == LIVE);
	unsigned msi = t->r.msi;
	CHECK(virtio_balloon_set_size(&t->vb, 48) == NULL);
	CHECK_EQ(cfg32(t, 0), 16 * 256);
	CHECK_EQ(t->r.msi, msi + 1); /* the configuration interrupt */
	CHECK(virtio_balloon_set_size(&t->vb, 65) != NULL);
	CHECK_EQ(cfg32(t, 0), 16 * 256);
	mwr(&t->r, VIRTIO_DEVCFG_OFF + 4, 4, 1234); /* update_balloon_size */
	CHECK_EQ(cfg32(t, 4), 1234);
	CHECK_EQ(t->vb.b.actual, 1234);
	mwr(&t->r, VIRTIO_DEVCFG_OFF + 0, 4, 7); /* num_pages is Keel's */
	CHECK_EQ(cfg32(t, 0), 16 * 256);
	done(t);
}

TEST(virtio_balloon_inflate_and_deflate_queues_move_frames)
{
	struct t *t = setup();
	struct frames *fa = &t->r.d.m.fa;
	REQUIRE(rig_start(&t->r, 4, 128, ALL, true) == LIVE);
	u64 nfree = fa->nfree;
	u32 pfns[] = {0x38, 0x39, 0x3a, 0x3b};
	CHECK(send_pfns(t, 0, pfns, 4));
	CHECK_EQ(fa->nfree, nfree + 4);
	CHECK_EQ(t->vb.b.in_balloon, 4);
	CHECK_EQ(p2m_lookup(t->r.d.p, 0x39, NULL), P2M_BALLOONED);
	CHECK(send_pfns(t, 1, pfns + 2, 2));
	CHECK_EQ(fa->nfree, nfree + 2);
	CHECK_EQ(p2m_lookup(t->r.d.p, 0x3a, NULL), P2M_RAM);
	CHECK_EQ(t->vb.b.deflated, 2);
	CHECK_EQ(t->vb.chains[VB_INFLATE], 1);
	CHECK_EQ(t->vb.chains[VB_DEFLATE], 1);
	CHECK(virtio_pci_live(&t->vb.vp));
	done(t);
}

TEST(virtio_balloon_hostile_page_numbers_are_refused_and_the_device_lives)
{
	struct t *t = setup();
	struct frames *fa = &t->r.d.m.fa;
	REQUIRE(rig_start(&t->r, 4, 128, ALL, true) == LIVE);
	u64 nfree = fa->nfree;
	/* beyond RAM, the MMIO page, huge, a duplicate, then one good page */
	u32 bad[] = {DRV_RAM_PAGES, DRV_MMIO >> PAGE_SHIFT, 0xffffffffu, 0x3c, 0x3c};
	CHECK(send_pfns(t, 0, bad, 5));
	CHECK_EQ(t->vb.b.refused[BALLOON_BAD_RANGE], 3);
	CHECK_EQ(t->vb.b.refused[BALLOON_BAD_TWICE], 1);
	CHECK_EQ(t->vb.b.in_balloon, 1);
	CHECK_EQ(fa->nfree, nfree + 1);
	u32 never[] = {0x3d, 0x3d};
	CHECK(send_pfns(t, 1, never, 2)); /* a deflate of pages never inflated */
	CHECK_EQ(p2m_lookup(t->r.d.p, 0x3d, NULL), P2M_RAM);
	CHECK(virtio_pci_live(&t->vb.vp));
	/* a chain bigger than 1024 page numbers breaks the device, nothing else */
	struct drv *q = &t->r.q[0];
	drv_desc(q, 1, RIG_BUF, VIRTIO_BALLOON_PFN_BYTES + 4, 0, 0);
	drv_avail(q, 1);
	rig_kick(&t->r, 0);
	CHECK(!virtio_pci_live(&t->vb.vp));
	CHECK(rig_status(&t->r) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(fa->nfree, nfree + 1);
	done(t);
}

TEST(virtio_balloon_ring_pages_ballooned_by_the_guest_still_work)
{
	/* a driver that balloons its own inflate queue's ring pages: the used ring's write
	 * refills them (zeros), the device does not break and Keel does not crash */
	struct t *t = setup();
	REQUIRE(rig_start(&t->r, 4, 128, ALL, true) == LIVE);
	u32 rings[] = {RIG_RINGS >> PAGE_SHIFT, (RIG_RINGS >> PAGE_SHIFT) + 2};
	send_pfns(t, 0, rings, 2);
	CHECK_EQ(t->vb.b.inflated, 2);
	CHECK(t->r.d.p->balloon_refills >= 1);
	CHECK_EQ(p2m_lookup(t->r.d.p, (RIG_RINGS >> PAGE_SHIFT) + 2, NULL), P2M_RAM);
	done(t);
}

static void put_stat(struct drv *q, unsigned i, u16 tag, u64 val)
{
	u8 e[10];
	memcpy(e, &tag, 2);
	memcpy(e + 2, &val, 8);
	drv_put(q, STATS + 10 * i, e, 10);
}

TEST(virtio_balloon_stats_buffer_is_held_until_keel_asks)
{
	struct t *t = setup();
	REQUIRE(rig_start(&t->r, 4, 128, ALL, true) == LIVE);
	struct drv *q = &t->r.q[2];
	u32 id, len;
	CHECK(!virtio_balloon_request_stats(&t->vb)); /* no buffer yet */
	put_stat(q, 0, BALLOON_S_MEMFREE, 50 << 20);
	put_stat(q, 1, BALLOON_S_MEMTOT, 60 << 20);
	put_stat(q, 2, 99, 1);
	drv_desc(q, 0, STATS, 30, 0, 0);
	drv_avail(q, 0);
	rig_kick(&t->r, 2);
	CHECK_EQ(t->vb.b.stats[BALLOON_S_MEMFREE], 50 << 20);
	CHECK_EQ(t->vb.b.stats[BALLOON_S_MEMTOT], 60 << 20);
	CHECK_EQ(t->vb.b.stats_bad_tags, 1);
	CHECK_EQ(t->vb.b.stats_updates, 1);
	CHECK(!drv_used(q, &id, &len)); /* held */
	unsigned msi = t->r.msi;
	CHECK(virtio_balloon_request_stats(&t->vb));
	CHECK(drv_used(q, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(t->r.msi, msi + 1);
	CHECK(!virtio_balloon_request_stats(&t->vb));
	/* the driver sends fresh numbers with the same buffer */
	put_stat(q, 0, BALLOON_S_MEMFREE, 40 << 20);
	drv_avail(q, 0);
	rig_kick(&t->r, 2);
	CHECK_EQ(t->vb.b.stats[BALLOON_S_MEMFREE], 40 << 20);
	CHECK_EQ(t->vb.b.stats_updates, 2);
	/* a second buffer while one is held: the first goes back, the second is held */
	drv_desc(q, 1, STATS, 10, 0, 0);
	drv_avail(q, 1);
	rig_kick(&t->r, 2);
	CHECK(drv_used(q, &id, &len));
	CHECK_EQ(id, 0);
	CHECK(t->vb.stats_held);
	CHECK_EQ(t->vb.stats_head, 1);
	done(t);
}

TEST(virtio_balloon_reported_ranges_lose_their_frames)
{
	struct t *t = setup();
	struct frames *fa = &t->r.d.m.fa;
	REQUIRE(rig_start(&t->r, 4, 128, ALL, true) == LIVE);
	struct drv *q = &t->r.q[3];
	u64 nfree = fa->nfree;
	/* two ranges, device-writable as Linux adds them, one of them beyond RAM */
	drv_desc(q, 0, 0x34000, 0x4000, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	drv_desc(q, 1, DRV_MMIO, 0x1000, VIRTQ_DESC_F_WRITE, 0);
	drv_avail(q, 0);
	rig_kick(&t->r, 3);
	u32 id, len;
	CHECK(drv_used(q, &id, &len));
	CHECK_EQ(len, 0);
	CHECK_EQ(fa->nfree, nfree + 4);
	CHECK_EQ(t->vb.b.reported, 4);
	CHECK_EQ(t->vb.b.refused[BALLOON_BAD_RANGE], 1);
	CHECK_EQ(p2m_lookup(t->r.d.p, 0x35, NULL), P2M_BALLOONED);
	CHECK(virtio_pci_live(&t->vb.vp));
	/* Linux's largest report: 32 ranges of 4 MiB, past the usual chain cap, is taken */
	for (u16 i = 0; i < 32; i++)
		drv_desc(q, (u16)(2 + i), 0x100000000ULL + ((u64)i << 22), 4u << 20,
			 VIRTQ_DESC_F_WRITE | (i < 31 ? VIRTQ_DESC_F_NEXT : 0), (u16)(3 + i));
	drv_avail(q, 2);
	rig_kick(&t->r, 3);
	CHECK(drv_used(q, &id, &len));
	CHECK_EQ(id, 2);
	CHECK(virtio_pci_live(&t->vb.vp));
	CHECK_EQ(t->vb.b.refused[BALLOON_BAD_RANGE], 1 + 32 * 1024);
	done(t);
}

TEST(virtio_balloon_save_load)
{
	struct t *t = setup();
	REQUIRE(rig_start(&t->r, 4, 128, ALL, true) == LIVE);
	REQUIRE(virtio_balloon_set_size(&t->vb, 60) == NULL);
	struct drv *q = &t->r.q[2];
	put_stat(q, 0, BALLOON_S_MEMFREE, 1);
	drv_desc(q, 5, STATS, 10, 0, 0);
	drv_avail(q, 5);
	rig_kick(&t->r, 2);
	static u8 buf[4096];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	virtio_balloon_device.save(&t->vb, &w);
	REQUIRE(!w.overflow);
	struct virtio_balloon *nb = test_alloc(sizeof(*nb));
	REQUIRE(virtio_balloon_init(nb, t->r.d.p, DRV_RAM_PAGES, 64));
	memcpy(&nb->vp.f, &t->vb.vp.f, sizeof(nb->vp.f));
	struct state_reader rd = {buf, w.len, 0, false};
	REQUIRE(virtio_balloon_device.load(nb, &rd));
	CHECK_EQ(nb->b.target, 4 * 256);
	CHECK(nb->stats_held);
	CHECK_EQ(nb->stats_head, 5);
	for (size_t cut = 0; cut < w.len; cut += 5) {
		struct state_reader tr = {buf, cut, 0, false};
		CHECK(!virtio_balloon_device.load(nb, &tr));
	}
	done(t);
}

/* ---- the config key and the board ---- */

static void no_report(const char *msg)
{
	(void)msg;
}

TEST(balloon_config_key_is_off_unless_asked)
{
	static const char text[] = "[vm]\nname = a\nkernel = k\n"
				   "[vm]\nname = b\nkernel = k\nballoon = on\n"
				   "[vm]\nname = c\nkernel = k\nballoon = off\n"
				   "[vm]\nname = d\nkernel = k\nballoon = maybe\n";
	struct config *cfg = test_alloc(sizeof(*cfg));
	config_parse(cfg, text, sizeof(text) - 1, "t.cfg", no_report);
	REQUIRE(cfg->nvms == 4);
	CHECK(!cfg->vms[0].balloon);
	CHECK(cfg->vms[1].balloon && cfg->vms[1].valid);
	CHECK(!cfg->vms[2].balloon && cfg->vms[2].valid);
	CHECK(!cfg->vms[3].valid);
	CHECK_EQ(cfg->nerrors, 1);
}

static u32 slot_id(struct vm *vm, unsigned slot)
{
	struct io_access a = {0xcf8, 4, true, 0x80000000u | slot << 11};
	CHECK(io_bus_access(&vm->io, &a));
	a = (struct io_access){0xcfc, 4, false, 0};
	CHECK(io_bus_access(&vm->io, &a));
	return a.value;
}

TEST(balloon_on_puts_virtio_balloon_in_slot_4)
{
	for (int want = 0; want < 2; want++) {
		struct vm_config cfg = {.valid = true, .memory_mib = 64, .balloon = want};
		struct vm *vm = test_alloc(sizeof(*vm));
		kstrlcpy(vm->name, "v", sizeof(vm->name));
		vm->cfg = &cfg;
		vm->mem_bytes = 64 << 20;
		vm->nvcpus = 1;
		vm->vcpu[0].vm = vm;
		REQUIRE(platform_init(vm, &board_pc, 1000000000ULL, 0, 1767225600ULL) == NULL);
		CHECK_EQ(slot_id(vm, VM_VIRTIO_BALLOON_SLOT),
			 want ? (u32)(VIRTIO_PCI_DEVICE0 + VIRTIO_ID_BALLOON) << 16 |
				    VIRTIO_PCI_VENDOR
			      : 0xffffffffu);
		if (want) {
			CHECK(vm->plat.vballoon.vp.p2m == &vm->p2m);
			CHECK_EQ(vm->plat.vballoon.b.nr_gfn, 64 << 8);
			CHECK(vm->p2m.balloon_refill);
			CHECK(virtio_balloon_set_size(&vm->plat.vballoon, 32) == NULL);
			CHECK_EQ(vm->plat.vballoon.b.target, 32 << 8);
		}
	}
}
