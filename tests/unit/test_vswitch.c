/* Tests of the virtual switch (devices/vswitch.c): VM-to-VM unicast that reaches only its
 * port, flooding, unknown unicast to the trunks, the source rules (a VM sends only with its
 * own MAC; the outside never with a VM's), MTU and link checks, learning, moving, ageing and
 * a full table, and ports that come and go. */
#include "test.h"
#include "../../devices/vswitch.h"
#include "../../hypervisor/lib.h"

#define NSINK 5

/* What arrived at one port's far side. */
struct sink {
	unsigned frames;
	size_t last_len;
	u8 last[ETH_MAX_FRAME];
};

struct t {
	struct vswitch sw;
	struct sink sink[NSINK];
	u64 clock;
	int a, b, t2, t3; /* VM ports a and b, trunks t2 and t3 (when added) */
};

static const u8 mac_a[6] = {0x52, 0x54, 0, 0, 0, 0xa};
static const u8 mac_b[6] = {0x52, 0x54, 0, 0, 0, 0xb};
static const u8 mac_x[6] = {0x02, 0, 0, 0, 0, 0x11}; /* a host behind a trunk */
static const u8 bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void sink_rx(void *ctx, const u8 *frame, size_t len)
{
	struct sink *s = ctx;
	s->frames++;
	s->last_len = len;
	memcpy(s->last, frame, len <= sizeof(s->last) ? len : sizeof(s->last));
}

static u64 clock_of(void *ctx)
{
	return ((struct t *)ctx)->clock;
}

static struct net_endpoint ep(struct t *t, unsigned i)
{
	return (struct net_endpoint){sink_rx, &t->sink[i]};
}

/* sink 0: the uplink's far side; 1: VM a; 2: VM b; 3, 4: trunks t2, t3 if added */
static struct t *setup(void)
{
	struct t *t = test_alloc(sizeof(*t));
	vswitch_init(&t->sw, clock_of, t, 100);
	struct net_endpoint e = ep(t, 0);
	vswitch_set_uplink(&t->sw, &e);
	e = ep(t, 1);
	t->a = vswitch_add_port(&t->sw, VSW_PORT_VM, "a", mac_a, &e);
	e = ep(t, 2);
	t->b = vswitch_add_port(&t->sw, VSW_PORT_VM, "b", mac_b, &e);
	REQUIRE(t->a > 0 && t->b > 0 && t->a != t->b);
	t->t2 = t->t3 = -1;
	return t;
}

static void add_trunks(struct t *t)
{
	struct net_endpoint e = ep(t, 3);
	t->t2 = vswitch_add_port(&t->sw, VSW_PORT_TRUNK, "t2", NULL, &e);
	e = ep(t, 4);
	t->t3 = vswitch_add_port(&t->sw, VSW_PORT_TRUNK, "t3", NULL, &e);
	REQUIRE(t->t2 > 0 && t->t3 > 0);
}

/* A frame dst <- src of `len` bytes (the payload a counting pattern). */
static size_t frame(u8 *f, const u8 *dst, const u8 *src, size_t len)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (size_t i = ETH_HLEN; i < len; i++)
		f[i] = (u8)i;
	return len;
}

static void send(struct t *t, int port, const u8 *dst, const u8 *src, size_t len)
{
	static u8 f[2048];
	frame(f, dst, src, len);
	vswitch_input(&t->sw, (unsigned)port, f, len);
}

static unsigned got(struct t *t, unsigned i)
{
	return t->sink[i].frames;
}

TEST(vswitch_vm_to_vm_unicast_reaches_only_its_port)
{
	struct t *t = setup();
	send(t, t->a, mac_b, mac_a, 98);
	CHECK_EQ(got(t, 2), 1);
	CHECK_EQ(got(t, 0), 0); /* never the NIC */
	CHECK_EQ(got(t, 1), 0);
	CHECK_EQ(t->sink[2].last_len, 98);
	CHECK(!memcmp(t->sink[2].last + 6, mac_a, 6));
	CHECK_EQ(t->sw.port[t->a].st.rx_frames, 1);
	CHECK_EQ(t->sw.port[t->a].st.rx_bytes, 98);
	CHECK_EQ(t->sw.port[t->b].st.tx_frames, 1);
	CHECK_EQ(t->sw.port[t->b].st.tx_bytes, 98);
	/* and back */
	send(t, t->b, mac_a, mac_b, 60);
	CHECK_EQ(got(t, 1), 1);
	CHECK_EQ(got(t, 0), 0);
}

TEST(vswitch_broadcast_and_multicast_flood_all_but_the_sender)
{
	struct t *t = setup();
	send(t, t->a, bcast, mac_a, 60);
	CHECK_EQ(got(t, 0), 1);
	CHECK_EQ(got(t, 1), 0);
	CHECK_EQ(got(t, 2), 1);
	const u8 mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
	send(t, VSW_UPLINK, mcast, mac_x, 60);
	CHECK_EQ(got(t, 0), 1);
	CHECK_EQ(got(t, 1), 1);
	CHECK_EQ(got(t, 2), 2);
}

TEST(vswitch_a_vm_never_sends_with_another_mac)
{
	struct t *t = setup();
	send(t, t->a, mac_b, mac_b, 60); /* a pretends to be b */
	send(t, t->a, bcast, mac_x, 60); /* a pretends to be someone outside */
	send(t, t->a, mac_b, bcast, 60); /* a multicast source */
	CHECK_EQ(got(t, 0) + got(t, 1) + got(t, 2), 0);
	CHECK_EQ(t->sw.port[t->a].st.drops[VSW_DROP_SPOOF], 2);
	CHECK_EQ(t->sw.port[t->a].st.drops[VSW_DROP_BAD_SRC], 1);
	CHECK_EQ(t->sw.port[t->a].st.rx_frames, 0);
	/* the outside may not use a VM's address either, nor does it move b's entry */
	send(t, VSW_UPLINK, bcast, mac_b, 60);
	CHECK_EQ(t->sw.port[VSW_UPLINK].st.drops[VSW_DROP_SPOOF], 1);
	send(t, t->a, mac_b, mac_a, 60);
	CHECK_EQ(got(t, 2), 1);
	CHECK_EQ(got(t, 0), 0);
}

TEST(vswitch_unknown_unicast_goes_to_the_trunks_never_to_vms)
{
	struct t *t = setup();
	send(t, t->a, mac_x, mac_a, 60);
	CHECK_EQ(got(t, 0), 1);
	CHECK_EQ(got(t, 2), 0);
	/* from the outside to an address nobody here has: dropped, no VM sees it */
	const u8 other[6] = {0x02, 0, 0, 0, 0, 0x99};
	send(t, VSW_UPLINK, other, mac_x, 60);
	CHECK_EQ(got(t, 1) + got(t, 2), 0);
	CHECK_EQ(t->sw.port[VSW_UPLINK].st.drops[VSW_DROP_NO_ROUTE], 1);
	/* the outside reaches a VM by its address */
	send(t, VSW_UPLINK, mac_a, mac_x, 60);
	CHECK_EQ(got(t, 1), 1);
	/* no uplink connected: a VM's unknown unicast has nowhere to go */
	vswitch_set_uplink(&t->sw, NULL);
	send(t, t->a, other, mac_a, 60);
	CHECK_EQ(t->sw.port[t->a].st.drops[VSW_DROP_NO_ROUTE], 1);
	CHECK_EQ(got(t, 0), 1);
}

TEST(vswitch_mtu_and_runt_checks)
{
	struct t *t = setup();
	send(t, t->a, mac_b, mac_a, 13);
	send(t, t->a, mac_b, mac_a, ETH_MAX_FRAME + 1);
	CHECK_EQ(t->sw.port[t->a].st.drops[VSW_DROP_SHORT], 1);
	CHECK_EQ(t->sw.port[t->a].st.drops[VSW_DROP_LONG], 1);
	CHECK_EQ(got(t, 2), 0);
	send(t, t->a, mac_b, mac_a, ETH_MAX_FRAME);
	send(t, t->a, mac_b, mac_a, ETH_HLEN); /* an empty payload: the sender's business */
	CHECK_EQ(got(t, 2), 2);
	vswitch_input(&t->sw, VSW_MAX_PORTS, t->sink[0].last, 60); /* no such port: ignored */
	vswitch_input(&t->sw, 40, t->sink[0].last, 60);		   /* an unused port: ignored */
	CHECK_EQ(got(t, 0) + got(t, 1), 0);
}

TEST(vswitch_link_down_drops_both_ways)
{
	struct t *t = setup();
	vswitch_set_link(&t->sw, (unsigned)t->b, false);
	send(t, t->a, mac_b, mac_a, 60);
	send(t, t->b, mac_a, mac_b, 60);
	CHECK_EQ(got(t, 1) + got(t, 2), 0);
	CHECK_EQ(t->sw.port[t->b].st.drops[VSW_DROP_LINK_DOWN], 2);
	vswitch_set_link(&t->sw, (unsigned)t->b, true);
	send(t, t->a, mac_b, mac_a, 60);
	CHECK_EQ(got(t, 2), 1);
}

TEST(vswitch_learns_moves_and_ages_addresses_behind_trunks)
{
	struct t *t = setup();
	add_trunks(t);
	send(t, VSW_UPLINK, bcast, mac_x, 60); /* x is behind the uplink */
	CHECK_EQ(t->sw.learned, 1);
	CHECK_EQ(vswitch_learned_count(&t->sw), 1);
	unsigned up = got(t, 0), s3 = got(t, 4);
	send(t, t->t2, mac_x, (const u8[]){2, 0, 0, 0, 0, 0x22}, 60);
	CHECK_EQ(got(t, 0), up + 1);
	CHECK_EQ(got(t, 4), s3); /* known: not flooded to t3 */
	/* a frame from x on the uplink itself stays there */
	send(t, VSW_UPLINK, mac_x, (const u8[]){2, 0, 0, 0, 0, 0x33}, 60);
	CHECK_EQ(t->sw.port[VSW_UPLINK].st.drops[VSW_DROP_LOOPBACK], 1);
	/* x moves behind t3 */
	send(t, t->t3, bcast, mac_x, 60);
	CHECK_EQ(t->sw.moved, 1);
	send(t, t->a, mac_x, mac_a, 60);
	CHECK_EQ(got(t, 4), s3 + 1);
	CHECK_EQ(got(t, 0), up + 2); /* only the broadcast */
	/* after its age without a frame, x is unknown again: to every trunk */
	t->clock += 101;
	unsigned t2 = got(t, 3);
	send(t, t->a, mac_x, mac_a, 60);
	CHECK_EQ(got(t, 0), up + 3);
	CHECK_EQ(got(t, 3), t2 + 1);
	CHECK_EQ(got(t, 4), s3 + 2);
	CHECK(t->sw.aged >= 1);
	/* a VM's own address never ages */
	unsigned b = got(t, 2);
	send(t, t->t2, mac_b, mac_x, 60);
	CHECK_EQ(got(t, 2), b + 1);
}

TEST(vswitch_full_table_forgets_the_oldest_learned_never_a_vm)
{
	struct t *t = setup();
	u8 m[6] = {0x02, 0, 0, 0, 0, 0};
	for (unsigned i = 0; i < VSW_TABLE_SIZE + 40; i++) {
		m[4] = (u8)(i >> 8);
		m[5] = (u8)i;
		send(t, VSW_UPLINK, bcast, m, 60);
	}
	CHECK(t->sw.table_full > 0);
	CHECK(vswitch_learned_count(&t->sw) <= VSW_TABLE_SIZE - 2);
	unsigned b = got(t, 2);
	send(t, t->a, mac_b, mac_a, 60);
	CHECK_EQ(got(t, 2), b + 1);
	send(t, VSW_UPLINK, mac_a, m, 60);
	CHECK_EQ(got(t, 1), VSW_TABLE_SIZE + 40 + 1);
}

TEST(vswitch_ports_come_and_go)
{
	struct t *t = setup();
	struct net_endpoint e = ep(t, 3);
	CHECK_EQ(vswitch_add_port(&t->sw, VSW_PORT_VM, "dup", mac_a, &e), -1); /* a's MAC */
	CHECK_EQ(vswitch_add_port(&t->sw, VSW_PORT_VM, "m", bcast, &e), -1);
	CHECK_EQ(vswitch_add_port(&t->sw, VSW_PORT_VM, "none", NULL, &e), -1);
	CHECK_EQ(vswitch_find(&t->sw, "b"), t->b);
	CHECK_EQ(vswitch_find(&t->sw, "uplink"), VSW_UPLINK);
	vswitch_remove_port(&t->sw, (unsigned)t->a);
	CHECK_EQ(vswitch_find(&t->sw, "a"), -1);
	send(t, t->a, mac_b, mac_a, 60); /* a removed port sends nothing */
	CHECK_EQ(got(t, 2), 0);
	send(t, t->b, mac_a, mac_b, 60); /* a's address is unknown now: to the uplink */
	CHECK_EQ(got(t, 0), 1);
	CHECK_EQ(got(t, 1), 0);
	/* its MAC is free for a new VM, whose counters start at zero */
	int n = vswitch_add_port(&t->sw, VSW_PORT_VM, "dup", mac_a, &e);
	CHECK(n > 0);
	CHECK_EQ(t->sw.port[n].st.rx_frames, 0);
	send(t, t->b, mac_a, mac_b, 60);
	CHECK_EQ(got(t, 3), 1);
	/* every port taken: refused */
	u8 m[6] = {0x52, 0x54, 1, 0, 0, 0};
	unsigned added = 0;
	for (unsigned i = 0; i < VSW_MAX_PORTS; i++) {
		m[5] = (u8)i;
		added += vswitch_add_port(&t->sw, VSW_PORT_VM, "x", m, &e) > 0;
	}
	CHECK_EQ(added, VSW_MAX_PORTS - 3);
}

/* A port's side delivering through the endpoint the switch gave it. */
TEST(vswitch_port_input_endpoint)
{
	struct t *t = setup();
	struct net_endpoint in = vswitch_port_input(&t->sw, (unsigned)t->a);
	u8 f[60];
	frame(f, mac_b, mac_a, sizeof(f));
	net_deliver(&in, f, sizeof(f));
	CHECK_EQ(got(t, 2), 1);
	struct net_endpoint up = vswitch_port_input(&t->sw, VSW_UPLINK);
	frame(f, mac_a, mac_x, sizeof(f));
	net_deliver(&up, f, sizeof(f));
	CHECK_EQ(got(t, 1), 1);
	CHECK(vswitch_port_input(&t->sw, VSW_MAX_PORTS).rx == NULL);
	CHECK_STR(vswitch_drop_name(VSW_DROP_SPOOF), "spoofed");
}

/* Random frames from random ports: the counters add up and only legal deliveries happen. */
TEST(vswitch_random_frames_keep_the_rules)
{
	struct t *t = setup();
	add_trunks(t);
	u64 rng = 0x9e3779b97f4a7c15ULL;
	static u8 f[ETH_MAX_FRAME + 8];
	const u8 *macs[] = {mac_a, mac_b, mac_x, bcast};
	for (unsigned i = 0; i < 20000; i++) {
		u64 r = test_rng(&rng);
		int ports[] = {VSW_UPLINK, t->a, t->b, t->t2, t->t3};
		int p = ports[r % 5];
		size_t len = (r >> 8) % (sizeof(f) + 1);
		for (size_t k = 0; k < len; k++)
			f[k] = (u8)test_rng(&rng);
		if (len >= 12 && (r >> 20) % 2)
			memcpy(f, macs[(r >> 24) % 4], 6);
		if (len >= 12 && (r >> 28) % 2)
			memcpy(f + 6, macs[(r >> 32) % 4], 6);
		unsigned before[NSINK];
		for (unsigned k = 0; k < NSINK; k++)
			before[k] = got(t, k);
		vswitch_input(&t->sw, (unsigned)p, f, len);
		for (unsigned k = 0; k < NSINK; k++) {
			if (got(t, k) == before[k])
				continue;
			const u8 *d = t->sink[k].last;
			/* a VM only gets frames to its address, or group frames */
			if (k == 1 || k == 2)
				CHECK(!memcmp(d, k == 1 ? mac_a : mac_b, 6) || (d[0] & 1));
			/* a VM's address as the source: only ever from that VM's port */
			if (!memcmp(d + 6, mac_a, 6))
				CHECK_EQ(p, t->a);
			if (!memcmp(d + 6, mac_b, 6))
				CHECK_EQ(p, t->b);
		}
		if ((r >> 40) % 64 == 0)
			t->clock += (r >> 48) % 50;
	}
	u64 rx = 0, drops = 0;
	for (unsigned i = 0; i < VSW_MAX_PORTS; i++) {
		rx += t->sw.port[i].st.rx_frames;
		for (unsigned d = 0; d < VSW_NDROPS; d++)
			if (d != VSW_DROP_LINK_DOWN && d != VSW_DROP_LOOPBACK &&
			    d != VSW_DROP_NO_ROUTE)
				drops += t->sw.port[i].st.drops[d];
	}
	CHECK_EQ(rx + drops, 20000);
}
