/* The VMs' way out, end to end on the host: a VM's frame to its gateway (net/router.c) is
 * translated to Keel's address, sent by Keel's stack through ARP for the wire's gateway, and
 * the reply that comes back to Keel's address meets the stack's IP hook, which hands it to
 * the router and on to the VM's MAC; what is not a VM's flow stays Keel's own. */
#include "net_fake.h"
#include "../../net/router.h"

#define VM_IP IP4(10, 0, 0, 2)
#define GW_IP IP4(10, 0, 0, 254)

static const u8 gw_mac[6] = {0x52, 0x54, 0x00, 0x4b, 0x45, 0xfe};
static const u8 vm_mac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0x02};

struct rig {
	struct wire w;
	struct netstack *ns;
	struct router r;
	unsigned to_vm;
	u8 vm_frame[ETH_MAX_FRAME];
	size_t vm_len;
};

static void vm_rx(void *ctx, const u8 *f, size_t len)
{
	struct rig *g = ctx;
	g->to_vm++;
	memcpy(g->vm_frame, f, len);
	g->vm_len = len;
}

static bool send_ip(void *ctx, const u8 *pkt, size_t len)
{
	struct rig *g = ctx;
	return netstack_send_ip(g->ns, pkt, len);
}

static bool hook(void *ctx, const u8 *pkt, size_t len)
{
	struct rig *g = ctx;
	return router_outside_input(&g->r, pkt, len);
}

static struct rig *rig_new(void)
{
	struct rig *g = test_alloc(sizeof(*g));
	g->ns = net_static(&g->w);
	router_init(&g->r, GW_IP, IP4(255, 255, 255, 0), gw_mac, (struct net_endpoint){vm_rx, g},
		    (struct router_outside){send_ip, g});
	router_set_outside_address(&g->r, KEEL_IP);
	netstack_set_ip_hook(g->ns, hook, g);
	return g;
}

/* the VM's UDP datagram to dst:dport from sport, framed to the gateway's MAC */
static size_t vm_udp(u8 *f, u32 dst, u16 sport, u16 dport)
{
	size_t n = udp_frame(f, VM_IP, sport, dst, dport, "query", 5);
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, vm_mac, 6);
	return n;
}

TEST(uplink_vm_flow_leaves_as_keels_and_its_reply_reaches_the_vm)
{
	struct rig *g = rig_new();
	u8 f[ETH_MAX_FRAME];
	router_inside_input(&g->r, f, vm_udp(f, FAR_IP, 4000, 53));
	/* the stack asks the wire's gateway for its MAC first, the datagram waits */
	REQUIRE(g->w.n == 1);
	CHECK_EQ(get_be16(g->w.f[0] + 12), ETH_TYPE_ARP);
	CHECK_EQ(get_be32(g->w.f[0] + ETH_HLEN + 24), PEER_IP);
	size_t n = arp_frame(f, 2, peer_mac, PEER_IP, keel_mac, KEEL_IP, keel_mac);
	netstack_input(g->ns, f, n);
	REQUIRE(g->w.n == 2);
	const u8 *out = g->w.f[1], *ip = out + ETH_HLEN;
	CHECK(!memcmp(out, peer_mac, 6));
	CHECK(!memcmp(out + 6, keel_mac, 6));
	CHECK_EQ(get_be32(ip + 12), KEEL_IP);
	CHECK_EQ(get_be32(ip + 16), FAR_IP);
	CHECK_EQ(inet_fold(inet_sum(0, ip, IP_HLEN)), 0u);
	u16 ex = get_be16(ip + IP_HLEN);
	CHECK(ex >= 20000);
	/* the answer, to Keel's address and the flow's port */
	n = udp_frame(f, FAR_IP, 53, KEEL_IP, ex, "answer", 6);
	memcpy(f + 6, peer_mac, 6);
	netstack_input(g->ns, f, n);
	REQUIRE(g->to_vm == 1);
	const u8 *v = g->vm_frame, *vip = v + ETH_HLEN;
	CHECK(!memcmp(v, vm_mac, 6));
	CHECK(!memcmp(v + 6, gw_mac, 6));
	CHECK_EQ(get_be32(vip + 16), VM_IP);
	CHECK_EQ(get_be16(vip + IP_HLEN + 2), 4000u);
	CHECK(!memcmp(vip + IP_HLEN + UDP_HLEN, "answer", 6));
	CHECK_EQ(g->ns->st.udp_no_port, 0u); /* the stack never saw it */
	/* a datagram for a port no flow holds is Keel's own: its stack counts it */
	n = udp_frame(f, FAR_IP, 53, KEEL_IP, 7777, "x", 1);
	netstack_input(g->ns, f, n);
	CHECK_EQ(g->to_vm, 1u);
	CHECK_EQ(g->ns->st.udp_no_port, 1u);
	/* and a ping to Keel is answered by Keel, not taken for a VM */
	unsigned sent = g->w.n;
	n = ping_frame(f, FAR_IP, KEEL_IP, 9, 1, 8);
	netstack_input(g->ns, f, n);
	CHECK_EQ(g->w.n, sent + 1);
	CHECK_EQ(g->to_vm, 1u);
}

TEST(uplink_without_an_outside_address_the_vm_gets_nothing_out)
{
	struct rig *g = rig_new();
	router_set_outside_address(&g->r, 0);
	u8 f[ETH_MAX_FRAME];
	router_inside_input(&g->r, f, vm_udp(f, FAR_IP, 4000, 53));
	CHECK_EQ(g->w.n, 0u);
	CHECK_EQ(g->r.nat.st.drops[NAT_DROP_NO_ADDRESS], 1u);
	/* netstack_send_ip refuses what cannot be a packet */
	CHECK(!netstack_send_ip(g->ns, f, 10));
	CHECK(!netstack_send_ip(g->ns, f, ETH_MAX_FRAME));
}
