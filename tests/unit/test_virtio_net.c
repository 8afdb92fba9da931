/* Tests of virtio-net (devices/virtio_net.c) through the virtio-pci transport, as Linux's
 * virtio_net drives it: identity, MAC and link in the configuration, transmit chains to the
 * port's endpoint (split header and frame, checksums left to the device), receive into the
 * guest's buffers, hostile chains dropped and counted, link down, two VMs through the switch,
 * save and load. */
#include "virtio_rig.h"
#include "../../devices/virtio_net.h"
#include "../../devices/vswitch.h"

#define QSIZE 16

struct t {
	struct rig r;
	struct virtio_net vn;
	unsigned frames;
	size_t last_len;
	u8 last[2048];
	u64 next_buf;
	u16 next_desc[2];
};

static const u8 mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};

static void sink(void *ctx, const u8 *frame, size_t len)
{
	struct t *t = ctx;
	t->frames++;
	t->last_len = len;
	memcpy(t->last, frame, len);
}

#define WANT                                                                                       \
	(BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_CSUM) |               \
	 1ULL << VIRTIO_F_VERSION_1)

static struct t *setup_want(u64 want)
{
	struct t *t = test_alloc(sizeof(*t));
	rig_init(&t->r);
	struct net_endpoint out = {sink, t};
	REQUIRE(virtio_net_init(&t->vn, t->r.d.p, mac, &out));
	rig_plug(&t->r, &t->vn.vp.f);
	REQUIRE(rig_start(&t->r, 2, QSIZE, want, true) & VIRTIO_STATUS_DRIVER_OK);
	t->next_buf = RIG_BUF;
	return t;
}

static struct t *setup(void)
{
	return setup_want(WANT);
}

static u64 buf_at(struct t *t, u32 len)
{
	u64 at = t->next_buf;
	t->next_buf += (len + 0xff) & ~0xffULL;
	if (t->next_buf > DRV_HOLE - 0x800)
		t->next_buf = RIG_BUF; /* buffers are reused once the device gave them back */
	return at;
}

/* A transmit chain of a header and a frame in two descriptors, kicked. */
static void tx2(struct t *t, const struct virtio_net_hdr *h, const u8 *f, u32 len)
{
	struct drv *d = &t->r.q[VNET_TXQ];
	u64 ha = buf_at(t, VNET_HDR_LEN), fa = buf_at(t, len);
	drv_put(d, ha, h, VNET_HDR_LEN);
	if (len)
		drv_put(d, fa, f, len);
	u16 i = t->next_desc[VNET_TXQ] % QSIZE, j = (u16)((i + 1) % QSIZE);
	t->next_desc[VNET_TXQ] += 2;
	drv_desc(d, i, ha, VNET_HDR_LEN, VIRTQ_DESC_F_NEXT, j);
	drv_desc(d, j, fa, len, 0, 0);
	drv_avail(d, i);
	rig_kick(&t->r, VNET_TXQ);
}

static void rx_buf(struct t *t, u32 len)
{
	struct drv *d = &t->r.q[VNET_RXQ];
	u16 i = t->next_desc[VNET_RXQ]++ % QSIZE;
	drv_desc(d, i, buf_at(t, len), len, VIRTQ_DESC_F_WRITE, 0);
	drv_avail(d, i);
	rig_kick(&t->r, VNET_RXQ);
}

static size_t eth(u8 *f, const u8 *dst, const u8 *src, size_t len)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08, f[13] = 0;
	for (size_t i = 14; i < len; i++)
		f[i] = (u8)(i * 7);
	return len;
}

static const struct virtio_net_hdr plain = {0};

TEST(virtio_net_identity_config_and_features)
{
	struct t *t = setup();
	CHECK_EQ(cfg_rd(&t->r, 2, 2), 0x1041);
	CHECK_EQ(cfg_rd(&t->r, 0x0a, 2), 0x0200); /* network, Ethernet */
	CHECK_EQ(mrd(&t->r, CC(0x12), 2), 2);
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(mrd(&t->r, VIRTIO_DEVCFG_OFF + i, 1), mac[i]);
	CHECK_EQ(mrd(&t->r, VIRTIO_DEVCFG_OFF + 6, 2), VIRTIO_NET_S_LINK_UP);
	CHECK_EQ(mrd(&t->r, VIRTIO_DEVCFG_OFF + 8, 2), 1);
	CHECK(virtio_has(&t->vn.vp, VIRTIO_NET_F_MAC));
	CHECK(virtio_has(&t->vn.vp, VIRTIO_NET_F_STATUS));
	CHECK(virtio_has(&t->vn.vp, VIRTIO_NET_F_CSUM));
	CHECK_EQ(VIRTIO_CFG_MAX >= VNET_CFG_LEN, 1);
	p2m_destroy(t->r.d.p);
}

TEST(virtio_net_transmit_header_and_frame_in_pieces)
{
	struct t *t = setup();
	u8 f[100];
	eth(f, (const u8[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac, sizeof(f));
	unsigned msi = t->r.msi;
	tx2(t, &plain, f, sizeof(f));
	CHECK_EQ(t->frames, 1);
	CHECK_EQ(t->last_len, sizeof(f));
	CHECK(!memcmp(t->last, f, sizeof(f)));
	u32 id, len;
	REQUIRE(drv_used(&t->r.q[VNET_TXQ], &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(t->r.msi, msi + 1);
	CHECK_EQ(t->vn.tx_frames, 1);
	CHECK_EQ(t->vn.tx_bytes, sizeof(f));
	/* header and frame in one descriptor, as Linux's any_header_sg does */
	struct drv *d = &t->r.q[VNET_TXQ];
	u64 at = buf_at(t, 200);
	drv_put(d, at, &plain, VNET_HDR_LEN);
	drv_put(d, at + VNET_HDR_LEN, f, 60);
	drv_desc(d, 5, at, VNET_HDR_LEN + 60, 0, 0);
	drv_avail(d, 5);
	rig_kick(&t->r, VNET_TXQ);
	CHECK_EQ(t->frames, 2);
	CHECK_EQ(t->last_len, 60);
	p2m_destroy(t->r.d.p);
}

/* The Internet checksum over a buffer, the reference the device must match. */
static u16 ref_sum(const u8 *p, size_t n, u32 sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (u32)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)sum;
}

TEST(virtio_net_transmit_fills_the_checksum_the_driver_left)
{
	struct t *t = setup();
	/* an IPv4/UDP frame of odd length; the driver put the pseudo-header's sum in the field */
	u8 f[14 + 20 + 8 + 33];
	eth(f, mac, (const u8[]){0x52, 0x54, 0, 0, 0, 1}, sizeof(f));
	u8 *ip = f + 14, *udp = ip + 20;
	memset(ip, 0, 20);
	ip[0] = 0x45, ip[9] = 17;
	ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
	u16 ulen = 8 + 33;
	udp[0] = 0x30, udp[1] = 0x39, udp[2] = 0x00, udp[3] = 0x35;
	udp[4] = (u8)(ulen >> 8), udp[5] = (u8)ulen;
	u8 pseudo[12] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 17, (u8)(ulen >> 8), (u8)ulen};
	udp[6] = udp[7] = 0;
	u16 want = (u16)~ref_sum(udp, ulen, ref_sum(pseudo, 12, 0));
	u16 ph = ref_sum(pseudo, 12, 0);
	udp[6] = (u8)(ph >> 8), udp[7] = (u8)ph;
	struct virtio_net_hdr h = {
	    .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6};
	tx2(t, &h, f, sizeof(f));
	REQUIRE(t->frames == 1);
	CHECK_EQ(t->last[34 + 6] << 8 | t->last[34 + 7], want);
	/* and the receiver's check: the sum over pseudo-header and datagram folds to all ones */
	CHECK_EQ(ref_sum(t->last + 34, ulen, ref_sum(pseudo, 12, 0)), 0xffff);
	CHECK_EQ(t->vn.csum_filled, 1);
	p2m_destroy(t->r.d.p);
}

/* the checksum (summed four bytes at a time) against the 16-bit reference: every start
 * parity, frame lengths with every remainder mod 4, random bytes and all-ones runs that
 * make the sum carry */
TEST(virtio_net_checksum_matches_the_reference_at_every_start_and_length)
{
	struct t *t = setup();
	static u8 f[ETH_MAX_FRAME];
	u32 seed = 12345;
	unsigned n = 0;
	for (u32 len = 60; len <= ETH_MAX_FRAME; len += len < 80 ? 1 : 97)
		for (u16 start = 14; start <= 21; start++) {
			eth(f, mac, (const u8[]){0x52, 0x54, 0, 0, 0, 1}, len);
			for (u32 i = 14; i < len; i++) {
				seed = seed * 1103515245u + 12345u;
				f[i] = (n & 1) ? 0xff : (u8)(seed >> 16);
			}
			u16 off = (u16)(len - start >= 8 ? 6 : 0);
			u16 ph = (u16)(seed >> 8);
			f[start + off] = (u8)(ph >> 8), f[start + off + 1] = (u8)ph;
			struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
						   .csum_start = start,
						   .csum_offset = off};
			tx2(t, &h, f, len);
			n++;
			REQUIRE(t->frames == n);
			/* with the pseudo-header's sum it folds to all ones */
			CHECK_EQ(ref_sum(t->last + start, len - start, ph), 0xffff);
		}
	CHECK_EQ(t->vn.csum_filled, n);
	p2m_destroy(t->r.d.p);
}

TEST(virtio_net_hostile_transmit_chains_are_dropped_and_counted)
{
	struct t *t = setup();
	static u8 f[ETH_MAX_FRAME + 64];
	eth(f, mac, mac, sizeof(f));
	tx2(t, &plain, f, 13); /* under an Ethernet header */
	tx2(t, &plain, f, ETH_MAX_FRAME + 1);
	struct virtio_net_hdr gso = {.gso_type = 1};
	tx2(t, &gso, f, 60);
	struct virtio_net_hdr bad = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 59};
	tx2(t, &bad, f, 60); /* the field would end past the frame */
	bad.csum_start = 0xffff, bad.csum_offset = 0xffff;
	tx2(t, &bad, f, 60);
	bad.csum_start = 40, bad.csum_offset = 19; /* exactly the last two bytes: fine */
	tx2(t, &bad, f, 61);
	CHECK_EQ(t->frames, 1);
	CHECK_EQ(t->vn.drops[VNET_DROP_TX_SHORT], 1);
	CHECK_EQ(t->vn.drops[VNET_DROP_TX_LONG], 1);
	CHECK_EQ(t->vn.drops[VNET_DROP_TX_HDR], 3);
	/* a frame buffer outside the VM's RAM */
	struct drv *d = &t->r.q[VNET_TXQ];
	u64 ha = buf_at(t, 16);
	drv_put(d, ha, &plain, VNET_HDR_LEN);
	drv_desc(d, 12, ha, VNET_HDR_LEN, VIRTQ_DESC_F_NEXT, 13);
	drv_desc(d, 13, DRV_HOLE - 8, 64, 0, 0);
	drv_avail(d, 12);
	rig_kick(&t->r, VNET_TXQ);
	CHECK_EQ(t->vn.drops[VNET_DROP_TX_FAULT], 1);
	/* only a header: too short */
	drv_desc(d, 14, ha, VNET_HDR_LEN, 0, 0);
	drv_avail(d, 14);
	rig_kick(&t->r, VNET_TXQ);
	CHECK_EQ(t->vn.drops[VNET_DROP_TX_SHORT], 2);
	/* every chain came back; the device is still live */
	unsigned used = 0;
	u32 id, len;
	while (drv_used(d, &id, &len))
		used++;
	CHECK_EQ(used, 8);
	CHECK(!(rig_status(&t->r) & VIRTIO_STATUS_NEEDS_RESET));
	/* a chain that loops breaks the queue: the device needs a reset, no crash */
	drv_desc(d, 15, ha, VNET_HDR_LEN, VIRTQ_DESC_F_NEXT, 15);
	drv_avail(d, 15);
	rig_kick(&t->r, VNET_TXQ);
	CHECK(rig_status(&t->r) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(t->frames, 1);
	p2m_destroy(t->r.d.p);
}

TEST(virtio_net_checksum_request_refused_without_the_feature)
{
	struct t *t = setup_want(WANT & ~BIT(VIRTIO_NET_F_CSUM));
	u8 f[60];
	eth(f, mac, mac, sizeof(f));
	struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34};
	tx2(t, &h, f, sizeof(f));
	CHECK_EQ(t->frames, 0);
	CHECK_EQ(t->vn.drops[VNET_DROP_TX_HDR], 1);
	p2m_destroy(t->r.d.p);
}

TEST(virtio_net_receive_into_guest_buffers)
{
	struct t *t = setup();
	u8 f[200];
	eth(f, mac, (const u8[]){0x52, 0x54, 0, 0, 0, 1}, sizeof(f));
	virtio_net_receive(&t->vn, f, sizeof(f)); /* no buffer yet */
	CHECK_EQ(t->vn.drops[VNET_DROP_RX_NOBUF], 1);
	u64 at = t->next_buf;
	rx_buf(t, VNET_HDR_LEN + 1514);
	unsigned msi = t->r.msi;
	virtio_net_receive(&t->vn, f, sizeof(f));
	u32 id, len;
	REQUIRE(drv_used(&t->r.q[VNET_RXQ], &id, &len));
	CHECK_EQ(len, VNET_HDR_LEN + sizeof(f));
	CHECK_EQ(t->r.msi, msi + 1);
	CHECK_EQ(t->r.last_vector, 0x40 + 1); /* the receive queue's vector */
	struct virtio_net_hdr h;
	u8 back[200];
	drv_get(&t->r.d, at, &h, VNET_HDR_LEN);
	drv_get(&t->r.d, at + VNET_HDR_LEN, back, sizeof(back));
	CHECK_EQ(h.num_buffers, 1);
	CHECK_EQ(h.flags, 0);
	CHECK(!memcmp(back, f, sizeof(f)));
	CHECK_EQ(t->vn.rx_frames, 1);
	CHECK_EQ(t->vn.rx_bytes, sizeof(f));
	/* a buffer too small for the frame goes back empty */
	rx_buf(t, 100);
	virtio_net_receive(&t->vn, f, sizeof(f));
	REQUIRE(drv_used(&t->r.q[VNET_RXQ], &id, &len));
	CHECK_EQ(len, 0);
	CHECK_EQ(t->vn.drops[VNET_DROP_RX_SMALL], 1);
	/* a buffer outside RAM: nothing written, given back, the device stays live */
	struct drv *d = &t->r.q[VNET_RXQ];
	drv_desc(d, 9, DRV_HOLE - 16, 1600, VIRTQ_DESC_F_WRITE, 0);
	drv_avail(d, 9);
	virtio_net_receive(&t->vn, f, sizeof(f));
	REQUIRE(drv_used(d, &id, &len));
	CHECK_EQ(len, 0);
	CHECK(!(rig_status(&t->r) & VIRTIO_STATUS_NEEDS_RESET));
	/* an oversized frame is refused before any buffer is taken */
	static u8 big[ETH_MAX_FRAME + 1];
	rx_buf(t, 4000);
	virtio_net_receive(&t->vn, big, sizeof(big));
	CHECK(!drv_used(d, &id, &len));
	p2m_destroy(t->r.d.p);
}

TEST(virtio_net_link_down_and_up)
{
	struct t *t = setup();
	unsigned msi = t->r.msi;
	virtio_net_set_link(&t->vn, false);
	CHECK_EQ(mrd(&t->r, VIRTIO_DEVCFG_OFF + 6, 2), 0);
	CHECK_EQ(t->r.msi, msi + 1);
	CHECK_EQ(t->r.last_vector, 0x40); /* the configuration vector */
	u8 f[60];
	eth(f, mac, mac, sizeof(f));
	tx2(t, &plain, f, sizeof(f));
	CHECK_EQ(t->frames, 0);
	rx_buf(t, 1600);
	virtio_net_receive(&t->vn, f, sizeof(f));
	CHECK_EQ(t->vn.drops[VNET_DROP_LINK_DOWN], 2);
	virtio_net_set_link(&t->vn, false); /* no change, no interrupt */
	msi = t->r.msi;
	virtio_net_set_link(&t->vn, true);
	CHECK_EQ(t->r.msi, msi + 1);
	CHECK_EQ(mrd(&t->r, VIRTIO_DEVCFG_OFF + 6, 2), VIRTIO_NET_S_LINK_UP);
	virtio_net_receive(&t->vn, f, sizeof(f));
	CHECK_EQ(t->vn.rx_frames, 1);
	p2m_destroy(t->r.d.p);
}

/* Two VMs' virtio-net on one switch: a frame from one lands in the other's buffer. */
TEST(virtio_net_two_vms_through_the_switch)
{
	struct t *a = setup(), *b = setup();
	static const u8 mac_b[6] = {0x52, 0x54, 0, 0, 0, 0xb};
	memcpy(b->vn.mac, mac_b, 6);
	struct vswitch *sw = test_alloc(sizeof(*sw));
	vswitch_init(sw, NULL, NULL, 0);
	struct net_endpoint to_a = {virtio_net_receive, &a->vn},
			    to_b = {virtio_net_receive, &b->vn};
	int pa = vswitch_add_port(sw, VSW_PORT_VM, "a", mac, &to_a);
	int pb = vswitch_add_port(sw, VSW_PORT_VM, "b", mac_b, &to_b);
	REQUIRE(pa > 0 && pb > 0);
	a->vn.out = vswitch_port_input(sw, (unsigned)pa);
	b->vn.out = vswitch_port_input(sw, (unsigned)pb);
	u64 at = b->next_buf;
	rx_buf(b, 1600);
	u8 f[300];
	eth(f, mac_b, mac, sizeof(f));
	tx2(a, &plain, f, sizeof(f));
	u32 id, len;
	REQUIRE(drv_used(&b->r.q[VNET_RXQ], &id, &len));
	CHECK_EQ(len, VNET_HDR_LEN + sizeof(f));
	u8 back[300];
	drv_get(&b->r.d, at + VNET_HDR_LEN, back, sizeof(back));
	CHECK(!memcmp(back, f, sizeof(f)));
	/* a sending with b's address: the switch drops it */
	eth(f, mac_b, mac_b, sizeof(f));
	rx_buf(b, 1600);
	tx2(a, &plain, f, sizeof(f));
	CHECK(!drv_used(&b->r.q[VNET_RXQ], &id, &len));
	CHECK_EQ(sw->port[pa].st.drops[VSW_DROP_SPOOF], 1);
	p2m_destroy(a->r.d.p);
	p2m_destroy(b->r.d.p);
}

TEST(virtio_net_save_load)
{
	struct t *t = setup();
	virtio_net_set_link(&t->vn, false);
	u8 f[60];
	eth(f, mac, mac, sizeof(f));
	tx2(t, &plain, f, sizeof(f));
	static u8 buf[4096];
	struct state_writer w = {buf, sizeof(buf), 0, false};
	virtio_net_device.save(&t->vn, &w);
	REQUIRE(!w.overflow);
	struct virtio_net *n = test_alloc(sizeof(*n));
	REQUIRE(virtio_net_init(n, t->r.d.p, mac, NULL));
	struct state_reader r = {buf, w.len, 0, false};
	REQUIRE(virtio_net_device.load(n, &r));
	CHECK(!n->link_up);
	CHECK_EQ(n->vp.q[VNET_TXQ].last_avail, t->vn.vp.q[VNET_TXQ].last_avail);
	CHECK_EQ(n->vp.guest_features, t->vn.vp.guest_features);
	for (size_t cut = 0; cut < w.len; cut += 5) {
		struct state_reader tr = {buf, cut, 0, false};
		CHECK(!virtio_net_device.load(n, &tr));
	}
	p2m_destroy(t->r.d.p);
}
