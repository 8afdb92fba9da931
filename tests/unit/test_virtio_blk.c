/* Tests of the virtio-pci transport and virtio-blk (devices/virtio_pci.c, virtio_blk.c)
 * driven as Linux drives them: identity and capabilities, feature negotiation, the status
 * machine and reset, requests of each type on a RAM backend, requests beyond the disk or
 * to a read-only one, hostile queues putting the device in DEVICE_NEEDS_RESET, MSI-X and
 * INTx with the ISR, the PCI configuration access window, save/load. */
#include "virtio_rig.h"
#include "../../devices/virtio_blk.h"

#define SECTORS 64

struct ramdisk {
	u8 data[SECTORS * BLK_SECTOR_SIZE];
	unsigned reads, writes, flushes;
};

static bool rd_read(void *ctx, u64 lba, u32 n, void *buf)
{
	struct ramdisk *d = ctx;
	d->reads++;
	memcpy(buf, d->data + lba * BLK_SECTOR_SIZE, (size_t)n * BLK_SECTOR_SIZE);
	return true;
}

static bool rd_write(void *ctx, u64 lba, u32 n, const void *buf)
{
	struct ramdisk *d = ctx;
	d->writes++;
	memcpy(d->data + lba * BLK_SECTOR_SIZE, buf, (size_t)n * BLK_SECTOR_SIZE);
	return true;
}

static bool rd_flush(void *ctx)
{
	struct ramdisk *d = ctx;
	d->flushes++;
	return true;
}

static const struct blk_ops rd_ops = {rd_read, rd_write, rd_flush};

struct t {
	struct rig r;
	struct ramdisk disk;
	struct blk_backend be;
	struct virtio_blk vb;
};

static struct t *setup(bool ro)
{
	struct t *t = test_alloc(sizeof(*t));
	rig_init(&t->r);
	for (unsigned i = 0; i < sizeof(t->disk.data); i++)
		t->disk.data[i] = (u8)(i / BLK_SECTOR_SIZE);
	t->be = (struct blk_backend){&rd_ops, &t->disk, SECTORS, ro, "keel-disk-0"};
	REQUIRE(virtio_blk_init(&t->vb, t->r.d.p, &t->be));
	rig_plug(&t->r, &t->vb.vp.f);
	return t;
}

static void done(struct t *t)
{
	p2m_destroy(t->r.d.p);
}

#define WANT                                                                                       \
	(BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_RO) |           \
	 BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_F_INDIRECT_DESC) |      \
	 1ULL << VIRTIO_F_VERSION_1)
#define LIVE                                                                                       \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |            \
	 VIRTIO_STATUS_DRIVER_OK)

/* A request as Linux builds it: header, data, status, each its own descriptor from 0. */
static u8 request(struct t *t, u32 type, u64 sector, u64 data, u32 len, bool in)
{
	struct drv *q = &t->r.q[0];
	struct {
		u32 type, reserved;
		u64 sector;
	} hdr = {type, 0, sector};
	u64 h = RIG_BUF, st = RIG_BUF + 0x20;
	u8 status = 0xee;
	drv_put(q, h, &hdr, sizeof(hdr));
	drv_put(q, st, &status, 1);
	if (len) {
		drv_desc(q, 0, h, 16, VIRTQ_DESC_F_NEXT, 1);
		drv_desc(q, 1, data, len, VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0), 2);
		drv_desc(q, 2, st, 1, VIRTQ_DESC_F_WRITE, 0);
	} else {
		drv_desc(q, 0, h, 16, VIRTQ_DESC_F_NEXT, 2);
		drv_desc(q, 2, st, 1, VIRTQ_DESC_F_WRITE, 0);
	}
	drv_avail(q, 0);
	rig_kick(&t->r, 0);
	u32 id, used;
	REQUIRE(drv_used(q, &id, &used));
	CHECK_EQ(id, 0);
	drv_get(q, st, &status, 1);
	if (status == VIRTIO_BLK_S_OK && in)
		CHECK_EQ(used, len + 1);
	return status;
}

TEST(virtio_pci_identity_and_capabilities)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	CHECK_EQ(cfg_rd(r, 0, 2), 0x1af4);
	CHECK_EQ(cfg_rd(r, 2, 2), 0x1042);
	CHECK(cfg_rd(r, 8, 1) >= 1); /* revision 1: modern only */
	CHECK_EQ(cfg_rd(r, 0x0b, 1), 0x01); /* class: mass storage */
	CHECK_EQ(cfg_rd(r, 0x0a, 1), 0x80); /* subclass: other */
	CHECK_EQ(cfg_rd(r, 0x09, 1), 0x00); /* programming interface */
	CHECK_EQ(cfg_rd(r, 0x2c, 2), 0x1af4);
	CHECK(cfg_rd(r, 0x2e, 2) >= 0x40);
	CHECK_EQ(cfg_rd(r, PCI_BAR0, 4) & 7, 4); /* 64-bit memory */
	static const struct {
		u8 type;
		u32 off, min_len;
	} want[] = {
	    {VIRTIO_PCI_CAP_COMMON, VIRTIO_COMMON_OFF, 0x38},
	    {VIRTIO_PCI_CAP_NOTIFY, VIRTIO_NOTIFY_OFF, 4},
	    {VIRTIO_PCI_CAP_ISR, VIRTIO_ISR_OFF, 1},
	    {VIRTIO_PCI_CAP_DEVICE, VIRTIO_DEVCFG_OFF, 24},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		unsigned at = rig_find_cap(r, want[i].type);
		REQUIRE(at);
		CHECK_EQ(cfg_rd(r, at + 4, 1), 0);
		CHECK_EQ(cfg_rd(r, at + 8, 4), want[i].off);
		CHECK(cfg_rd(r, at + 12, 4) >= want[i].min_len);
		u64 end = (u64)cfg_rd(r, at + 8, 4) + cfg_rd(r, at + 12, 4);
		CHECK(end <= VIRTIO_BAR_SIZE);
	}
	CHECK_EQ(cfg_rd(r, rig_find_cap(r, VIRTIO_PCI_CAP_NOTIFY) + 16, 4), VIRTIO_NOTIFY_MULT);
	CHECK(rig_find_cap(r, VIRTIO_PCI_CAP_PCICFG));
	/* the configuration: capacity, size_max, seg_max, blk_size */
	CHECK_EQ(mrd(r, VIRTIO_DEVCFG_OFF, 8), SECTORS);
	CHECK_EQ(mrd(r, VIRTIO_DEVCFG_OFF + 4, 4), 0); /* capacity's high half, alone */
	CHECK_EQ(mrd(r, VIRTIO_DEVCFG_OFF + 8, 4), VIRTIO_BLK_SIZE_MAX);
	CHECK_EQ(mrd(r, VIRTIO_DEVCFG_OFF + 12, 4), VIRTIO_BLK_SEG_MAX);
	CHECK_EQ(mrd(r, VIRTIO_DEVCFG_OFF + 20, 4), 512);
	CHECK_EQ(mrd(r, CC(0x12), 2), 1); /* one queue */
	done(t);
}

TEST(virtio_pci_features_need_version_1_and_no_more_than_offered)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	/* a legacy driver (no VERSION_1) is refused FEATURES_OK */
	u8 st = rig_start(r, 1, 128, WANT & ~(1ULL << VIRTIO_F_VERSION_1), false);
	CHECK(!(st & VIRTIO_STATUS_FEATURES_OK));
	/* asking for what was not offered (EVENT_IDX, bit 29) too */
	mwr(r, CC(0x14), 1, 0);
	mwr(r, CC(0x14), 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mwr(r, CC(0x08), 4, 0);
	mwr(r, CC(0x0c), 4, BIT(29));
	mwr(r, CC(0x08), 4, 1);
	mwr(r, CC(0x0c), 4, 1); /* VERSION_1 */
	mwr(r, CC(0x14), 1,
	    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	CHECK(!(rig_status(r) & VIRTIO_STATUS_FEATURES_OK));
	mwr(r, CC(0x00), 4, 0);
	CHECK(!(mrd(r, CC(0x04), 4) & BIT(29))); /* EVENT_IDX is not offered */
	CHECK(!(mrd(r, CC(0x04), 4) & BIT(VIRTIO_BLK_F_RO)));
	st = rig_start(r, 1, 128, WANT, false);
	CHECK_EQ(st, LIVE);
	/* DRIVER_OK without FEATURES_OK is not taken */
	mwr(r, CC(0x14), 1, 0);
	mwr(r, CC(0x14), 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER_OK);
	CHECK(!(rig_status(r) & VIRTIO_STATUS_DRIVER_OK));
	done(t);
}

TEST(virtio_blk_read_write_flush_get_id)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	REQUIRE(rig_start(r, 1, 128, WANT, true) == LIVE);
	u64 data = RIG_BUF + 0x1000;
	u8 buf[2 * BLK_SECTOR_SIZE];
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, 5, data, sizeof(buf), true), VIRTIO_BLK_S_OK);
	drv_get(&r->d, data, buf, sizeof(buf));
	CHECK(buf[0] == 5 && buf[511] == 5 && buf[512] == 6 && buf[1023] == 6);
	CHECK_EQ(r->msi, 1);
	CHECK_EQ(r->last_vector, 0x41); /* queue 0's vector */
	memset(buf, 0xa5, sizeof(buf));
	drv_put(&r->d, data, buf, sizeof(buf));
	CHECK_EQ(request(t, VIRTIO_BLK_T_OUT, SECTORS - 2, data, sizeof(buf), false),
		 VIRTIO_BLK_S_OK);
	CHECK(t->disk.data[(SECTORS - 2) * 512] == 0xa5 && t->disk.data[SECTORS * 512 - 1] == 0xa5);
	CHECK(t->disk.data[(SECTORS - 3) * 512 + 511] == SECTORS - 3);
	CHECK_EQ(request(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
	CHECK_EQ(t->disk.flushes, 1);
	char id[VIRTIO_BLK_ID_BYTES + 1] = {0};
	CHECK_EQ(request(t, VIRTIO_BLK_T_GET_ID, 0, data, VIRTIO_BLK_ID_BYTES, true),
		 VIRTIO_BLK_S_OK);
	drv_get(&r->d, data, id, VIRTIO_BLK_ID_BYTES);
	CHECK_STR(id, "keel-disk-0");
	CHECK_EQ(request(t, 99, 0, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(r->msi, 5);
	done(t);
}

TEST(virtio_blk_requests_beyond_the_disk_touch_nothing)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	REQUIRE(rig_start(r, 1, 128, WANT, true) == LIVE);
	u64 data = RIG_BUF + 0x1000;
	u8 buf[2 * BLK_SECTOR_SIZE];
	memset(buf, 0x77, sizeof(buf));
	drv_put(&r->d, data, buf, sizeof(buf));
	t->disk.reads = t->disk.writes = 0;
	CHECK_EQ(request(t, VIRTIO_BLK_T_OUT, SECTORS - 1, data, sizeof(buf), false),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(request(t, VIRTIO_BLK_T_OUT, ~0ULL, data, sizeof(buf), false), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, SECTORS, data, 512, true), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, ~0ULL - 1, data, 1024, true), VIRTIO_BLK_S_IOERR);
	/* a length that is not whole sectors */
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, 0, data, 100, true), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(t->disk.reads + t->disk.writes, 0);
	CHECK(t->disk.data[(SECTORS - 1) * 512] == SECTORS - 1);
	/* a data buffer outside RAM fails the request, the device stays live */
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, 0, DRV_HOLE - 512, 1024, true), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(request(t, VIRTIO_BLK_T_OUT, 0, DRV_MMIO, 512, false), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(rig_status(r), LIVE);
	CHECK_EQ(t->vb.errors, 7);
	done(t);
}

TEST(virtio_blk_read_only_disk)
{
	struct t *t = setup(true);
	struct rig *r = &t->r;
	mwr(r, CC(0x00), 4, 0);
	CHECK(mrd(r, CC(0x04), 4) & BIT(VIRTIO_BLK_F_RO));
	REQUIRE(rig_start(r, 1, 128, WANT, true) == LIVE);
	u64 data = RIG_BUF + 0x1000;
	CHECK_EQ(request(t, VIRTIO_BLK_T_OUT, 0, data, 512, false), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(t->disk.writes, 0);
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, 0, data, 512, true), VIRTIO_BLK_S_OK);
	done(t);
}

TEST(virtio_blk_large_request_in_pieces_through_an_indirect_table)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	REQUIRE(rig_start(r, 1, 128, WANT, true) == LIVE);
	struct drv *q = &r->q[0];
	/* 40 sectors (more than one bounce chunk would be for a smaller chunk) in 10 odd-sized
	 * segments: the stream of bytes is what counts */
	u64 table = RIG_BUF + 0x100, data = RIG_BUF + 0x2000, st = RIG_BUF + 0x40;
	struct {
		u32 type, reserved;
		u64 sector;
	} hdr = {VIRTIO_BLK_T_IN, 0, 10};
	drv_put(q, RIG_BUF, &hdr, sizeof(hdr));
	drv_idesc(q, table, 0, RIG_BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	u32 total = 40 * 512, seg = total / 10 + 3, off = 0;
	u16 i = 1;
	while (off < total) {
		u32 n = MIN(seg, total - off);
		drv_idesc(q, table, i, data + off, n, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
			  (u16)(i + 1));
		off += n;
		i++;
	}
	drv_idesc(q, table, i, st, 1, VIRTQ_DESC_F_WRITE, 0);
	drv_desc(q, 7, table, 16u * (i + 1), VIRTQ_DESC_F_INDIRECT, 0);
	drv_avail(q, 7);
	rig_kick(r, 0);
	u32 id, len;
	REQUIRE(drv_used(q, &id, &len));
	CHECK_EQ(id, 7);
	CHECK_EQ(len, total + 1);
	u8 status, b;
	drv_get(q, st, &status, 1);
	CHECK_EQ(status, VIRTIO_BLK_S_OK);
	for (unsigned s = 0; s < 40; s++) {
		drv_get(q, data + s * 512 + 300, &b, 1);
		CHECK_EQ(b, 10 + s);
	}
	done(t);
}

static unsigned breaks;
static const char *break_why;

static void on_break(void *ctx, const char *why)
{
	CHECK(ctx == &breaks);
	breaks++;
	break_why = why;
}

TEST(virtio_pci_hostile_queue_needs_reset_and_reset_recovers)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	breaks = 0;
	t->vb.vp.on_break = on_break;
	t->vb.vp.break_ctx = &breaks;
	REQUIRE(rig_start(r, 1, 128, WANT, true) == LIVE);
	struct drv *q = &r->q[0];
	drv_desc(q, 0, RIG_BUF, 16, VIRTQ_DESC_F_NEXT, 0); /* loops on itself */
	drv_avail(q, 0);
	unsigned msi = r->msi;
	rig_kick(r, 0);
	CHECK(rig_status(r) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(r->msi, msi + 1);
	CHECK_EQ(r->last_vector, 0x40); /* the configuration vector */
	CHECK(t->vb.vp.broken != NULL);
	CHECK_EQ(breaks, 1); /* the owner is told why, once */
	CHECK_CONTAINS(break_why, "loops");
	/* further kicks do nothing */
	rig_kick(r, 0);
	CHECK_EQ(r->msi, msi + 1);
	CHECK_EQ(breaks, 1);
	/* reset drops every queue's state; the device works again */
	mwr(r, CC(0x14), 1, 0);
	CHECK_EQ(rig_status(r), 0);
	mwr(r, CC(0x16), 2, 0);
	CHECK_EQ(mrd(r, CC(0x1c), 2), 0);
	CHECK_EQ(mrd(r, CC(0x20), 8), 0);
	CHECK_EQ(mrd(r, CC(0x10), 2), VIRTIO_NO_VECTOR);
	u8 zero[0x3000] = {0};
	drv_put(&r->d, RIG_RINGS, zero, sizeof(zero));
	REQUIRE(rig_start(r, 1, 128, WANT, true) == LIVE);
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, 1, RIG_BUF + 0x1000, 512, true), VIRTIO_BLK_S_OK);
	done(t);
}

TEST(virtio_pci_rings_outside_ram_refuse_the_queue)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	REQUIRE(rig_start(r, 1, 128, WANT, true) == LIVE);
	mwr(r, CC(0x14), 1, 0);
	mwr(r, CC(0x14), 1, VIRTIO_STATUS_ACKNOWLEDGE);
	mwr(r, CC(0x16), 2, 0);
	mwr(r, CC(0x20), 8, DRV_HOLE - 0x100); /* the table runs into the hole */
	mwr(r, CC(0x28), 8, RIG_RINGS + 0x1000);
	mwr(r, CC(0x30), 8, RIG_RINGS + 0x2000);
	mwr(r, CC(0x1c), 2, 1);
	CHECK_EQ(mrd(r, CC(0x1c), 2), 0);
	CHECK(rig_status(r) & VIRTIO_STATUS_NEEDS_RESET);
	mwr(r, CC(0x14), 1, 0);
	mwr(r, CC(0x16), 2, 0);
	mwr(r, CC(0x20), 8, RIG_RINGS + 8); /* unaligned */
	mwr(r, CC(0x1c), 2, 1);
	CHECK(rig_status(r) & VIRTIO_STATUS_NEEDS_RESET);
	/* sizes that are not powers of two or too large are not taken */
	mwr(r, CC(0x14), 1, 0);
	mwr(r, CC(0x16), 2, 0);
	mwr(r, CC(0x18), 2, 100);
	CHECK_EQ(mrd(r, CC(0x18), 2), 128);
	mwr(r, CC(0x18), 2, 256);
	CHECK_EQ(mrd(r, CC(0x18), 2), 128);
	mwr(r, CC(0x18), 2, 16);
	CHECK_EQ(mrd(r, CC(0x18), 2), 16);
	/* a queue that does not exist */
	mwr(r, CC(0x16), 2, 5);
	CHECK_EQ(mrd(r, CC(0x18), 2), 0);
	mwr(r, CC(0x1c), 2, 1);
	CHECK_EQ(mrd(r, CC(0x1c), 2), 0);
	/* vectors the function does not have read back as none */
	mwr(r, CC(0x10), 2, 7);
	CHECK_EQ(mrd(r, CC(0x10), 2), VIRTIO_NO_VECTOR);
	done(t);
}

TEST(virtio_pci_intx_and_the_isr)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	REQUIRE(rig_start(r, 1, 128, WANT, false) == LIVE);
	unsigned gsi = cfg_rd(r, PCI_INTERRUPT_LINE, 1);
	CHECK(gsi >= 16 && gsi <= 19);
	CHECK(!r->line[gsi]);
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, 1, RIG_BUF + 0x1000, 512, true), VIRTIO_BLK_S_OK);
	CHECK(r->line[gsi]);
	CHECK_EQ(r->msi, 0);
	CHECK_EQ(mrd(r, VIRTIO_ISR_OFF, 1), VIRTIO_ISR_QUEUE);
	CHECK(!r->line[gsi]); /* reading the ISR lowered it */
	CHECK_EQ(mrd(r, VIRTIO_ISR_OFF, 1), 0);
	/* the driver asks for no interrupt: none comes */
	u16 f = VIRTQ_AVAIL_F_NO_INTERRUPT;
	drv_put(&r->d, r->q[0].avail, &f, 2);
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, 1, RIG_BUF + 0x1000, 512, true), VIRTIO_BLK_S_OK);
	CHECK(!r->line[gsi]);
	done(t);
}

TEST(virtio_pci_configuration_access_capability)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	unsigned cap = rig_find_cap(r, VIRTIO_PCI_CAP_PCICFG);
	REQUIRE(cap);
	cfg_wr(r, cap + 4, 1, 0);
	cfg_wr(r, cap + 8, 4, VIRTIO_COMMON_OFF + 0x12); /* num_queues */
	cfg_wr(r, cap + 12, 4, 2);
	CHECK_EQ(cfg_rd(r, cap + 16, 2), 1);
	cfg_wr(r, cap + 8, 4, VIRTIO_DEVCFG_OFF);
	cfg_wr(r, cap + 12, 4, 4);
	CHECK_EQ(cfg_rd(r, cap + 16, 4), SECTORS);
	/* a write through the window: device status */
	cfg_wr(r, cap + 8, 4, VIRTIO_COMMON_OFF + 0x14);
	cfg_wr(r, cap + 12, 4, 1);
	cfg_wr(r, cap + 16, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK_EQ(rig_status(r), VIRTIO_STATUS_ACKNOWLEDGE);
	/* bad lengths, other BARs, unaligned offsets: nothing happens */
	cfg_wr(r, cap + 12, 4, 3);
	cfg_wr(r, cap + 16, 1, 0);
	cfg_wr(r, cap + 4, 1, 2);
	cfg_wr(r, cap + 12, 4, 1);
	cfg_wr(r, cap + 16, 1, 0);
	CHECK_EQ(rig_status(r), VIRTIO_STATUS_ACKNOWLEDGE);
	cfg_wr(r, cap + 4, 1, 0);
	cfg_wr(r, cap + 8, 4, 0xffffffff);
	cfg_wr(r, cap + 12, 4, 4);
	CHECK_EQ(cfg_rd(r, cap + 16, 4), cfg_rd(r, cap + 16, 4)); /* no access, no crash */
	done(t);
}

TEST(virtio_pci_hostile_register_writes)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	u64 seed = 0x76697274696fULL;
	for (unsigned i = 0; i < 20000; i++) {
		u64 v = test_rng(&seed);
		u8 size = (u8)(1u << (v & 3));
		u64 off = (v >> 8) % VIRTIO_BAR_SIZE;
		if ((v >> 40) % 4 == 0)
			off = (v >> 8) % 0x40; /* the common configuration often */
		off &= ~(u64)(size - 1);
		u64 val = test_rng(&seed);
		if (v & 4)
			mwr(r, off, size, val);
		else
			mrd(r, off, size);
	}
	/* whatever state that left, a reset and a proper start work */
	u8 zero[0x3000] = {0};
	drv_put(&r->d, RIG_RINGS, zero, sizeof(zero));
	REQUIRE(rig_start(r, 1, 128, WANT, true) == LIVE);
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, 2, RIG_BUF + 0x1000, 512, true), VIRTIO_BLK_S_OK);
	done(t);
}

TEST(virtio_blk_save_load_mid_stream)
{
	struct t *t = setup(false);
	struct rig *r = &t->r;
	REQUIRE(rig_start(r, 1, 128, WANT, true) == LIVE);
	CHECK_EQ(request(t, VIRTIO_BLK_T_IN, 3, RIG_BUF + 0x1000, 512, true), VIRTIO_BLK_S_OK);
	static u8 buf[4096];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	virtio_blk_device.save(&t->vb, &w);
	REQUIRE(!w.overflow);
	/* a fresh device on the same memory and disk takes the state and carries on */
	struct virtio_blk *nb = test_alloc(sizeof(*nb));
	REQUIRE(virtio_blk_init(nb, r->d.p, &t->be));
	memcpy(&nb->vp.f, &t->vb.vp.f, sizeof(nb->vp.f)); /* the PCI side, the host bridge's */
	struct state_reader rd = {buf, w.len, 0, false};
	REQUIRE(virtio_blk_device.load(nb, &rd));
	CHECK_EQ(nb->vp.status, LIVE);
	CHECK_EQ(nb->vp.q[0].last_avail, 1);
	CHECK_EQ(nb->vp.q[0].used_idx, 1);
	CHECK_EQ(nb->vp.q[0].msix_vector, 1);
	/* truncated or altered streams are refused and change nothing */
	for (size_t cut = 0; cut < w.len; cut += 7) {
		struct state_reader tr = {buf, cut, 0, false};
		CHECK(!virtio_blk_device.load(nb, &tr));
	}
	CHECK_EQ(nb->vp.q[0].last_avail, 1);
	buf[w.len - 1] ^= 0x80; /* the last queue's used index: fine, any value */
	buf[16] = 0xff;		/* the device-feature select: any value */
	struct state_reader r2 = {buf, w.len, 0, false};
	CHECK(virtio_blk_device.load(nb, &r2));
	done(t);
}
