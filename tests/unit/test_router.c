/* The VMs' gateway (net/router.c): ARP and ping for the gateway, a VM's flow to the outside
 * and the reply back to that VM's MAC, Keel's own packets left to its stack, addresses bound
 * by config that another VM cannot take, and hostile frames cut anywhere. */
#include <stdlib.h>
#include "test.h"
#include "../../net/router.h"
#include "../../hypervisor/lib.h"

#define IP(a, b, c, d) ((u32)(a) << 24 | (u32)(b) << 16 | (u32)(c) << 8 | (u32)(d))
#define GW	       IP(10, 0, 0, 1)
#define VM1	       IP(10, 0, 0, 2)
#define VM2	       IP(10, 0, 0, 3)
#define KEEL_EX	       IP(10, 0, 2, 15)
#define REMOTE	       IP(10, 0, 2, 2)

static const u8 gw_mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
static const u8 mac1[6] = {0x52, 0x54, 0x00, 0xaa, 0x00, 0x02};
static const u8 mac2[6] = {0x52, 0x54, 0x00, 0xaa, 0x00, 0x03};

struct capture {
	unsigned n;
	size_t len;
	u8 last[ETH_MAX_FRAME];
};

static void cap_rx(void *ctx, const u8 *frame, size_t len)
{
	struct capture *c = ctx;
	c->n++;
	c->len = len;
	memcpy(c->last, frame, len);
}

static bool cap_ip(void *ctx, const u8 *pkt, size_t len)
{
	cap_rx(ctx, pkt, len);
	return true;
}

static struct capture inside, outside;

static u16 rd16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 rd32(const u8 *p)
{
	return (u32)rd16(p) << 16 | rd16(p + 2);
}

static void wr16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8), p[1] = (u8)v;
}

static void wr32(u8 *p, u32 v)
{
	wr16(p, (u16)(v >> 16)), wr16(p + 2, (u16)v);
}

static u16 sum(const u8 *p, size_t n)
{
	u32 s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += rd16(p + i);
	if (n & 1)
		s += (u32)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u16)s;
}

static void setup(struct router *r)
{
	memset(&inside, 0, sizeof(inside));
	memset(&outside, 0, sizeof(outside));
	router_init(r, GW, IP(255, 255, 255, 0), gw_mac, (struct net_endpoint){cap_rx, &inside},
		    (struct router_outside){cap_ip, &outside});
	router_set_outside_address(r, KEEL_EX);
}

static size_t arp(u8 *f, const u8 *src_mac, u16 op, u32 sip, u32 tip)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, src_mac, 6);
	wr16(f + 12, ETH_TYPE_ARP);
	u8 *a = f + 14;
	wr16(a, 1), wr16(a + 2, 0x800), a[4] = 6, a[5] = 4, wr16(a + 6, op);
	memcpy(a + 8, src_mac, 6);
	wr32(a + 14, sip);
	memset(a + 18, 0, 6);
	wr32(a + 24, tip);
	return 42;
}

/* an IPv4 frame to the gateway's MAC: UDP (sport/dport) or ICMP echo (sport = id) */
static size_t ipv4(u8 *f, const u8 *src_mac, u32 src, u32 dst, u8 proto, u16 sport, u16 dport)
{
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, src_mac, 6);
	wr16(f + 12, ETH_TYPE_IPV4);
	u8 *ip = f + 14, *l4 = ip + 20;
	size_t l4len = 8 + 6;
	memset(ip, 0, 20 + l4len);
	ip[0] = 0x45, ip[8] = 64, ip[9] = proto;
	wr16(ip + 2, (u16)(20 + l4len));
	wr32(ip + 12, src), wr32(ip + 16, dst);
	wr16(ip + 10, (u16)~sum(ip, 20));
	memcpy(l4 + 8, "keel!!", 6);
	if (proto == IP_PROTO_UDP) {
		wr16(l4, sport), wr16(l4 + 2, dport), wr16(l4 + 4, (u16)l4len);
	} else {
		l4[0] = 8;
		wr16(l4 + 4, sport);
		wr16(l4 + 2, (u16)~sum(l4, l4len));
	}
	return 14 + 20 + l4len;
}

TEST(router_answers_arp_for_the_gateway_and_learns_the_asker)
{
	static struct router r;
	setup(&r);
	u8 f[64];
	router_inside_input(&r, f, arp(f, mac1, 1, VM1, GW));
	REQUIRE(inside.n == 1);
	const u8 *a = inside.last + 14;
	CHECK(!memcmp(inside.last, mac1, 6));
	CHECK(!memcmp(inside.last + 6, gw_mac, 6));
	CHECK_EQ(rd16(inside.last + 12), ETH_TYPE_ARP);
	CHECK_EQ(rd16(a + 6), 2u);
	CHECK(!memcmp(a + 8, gw_mac, 6));
	CHECK_EQ(rd32(a + 14), GW);
	CHECK(!memcmp(a + 18, mac1, 6));
	CHECK_EQ(rd32(a + 24), VM1);
	CHECK_EQ(inside.len, (size_t)ETH_MIN_FRAME);
	/* a request for another address is not the gateway's to answer */
	router_inside_input(&r, f, arp(f, mac1, 1, VM1, VM2));
	CHECK_EQ(inside.n, 1u);
	/* an ARP whose sender MAC is not the frame's is dropped and teaches nothing */
	arp(f, mac2, 1, VM2, GW);
	memcpy(f + 6, mac1, 6);
	router_inside_input(&r, f, 42);
	CHECK_EQ(inside.n, 1u);
	CHECK_EQ(r.st.drop_bad, 1u);
}

TEST(router_answers_a_ping_to_the_gateway)
{
	static struct router r;
	setup(&r);
	u8 f[128];
	router_inside_input(&r, f, ipv4(f, mac1, VM1, GW, IP_PROTO_ICMP, 77, 0));
	REQUIRE(inside.n == 1);
	const u8 *ip = inside.last + 14;
	CHECK(!memcmp(inside.last, mac1, 6));
	CHECK_EQ(rd32(ip + 12), GW);
	CHECK_EQ(rd32(ip + 16), VM1);
	CHECK_EQ(sum(ip, 20), 0xffffu);
	CHECK_EQ(ip[20], 0u);
	CHECK_EQ(rd16(ip + 24), 77u);
	CHECK_EQ(sum(ip + 20, 14), 0xffffu);
	CHECK(!memcmp(ip + 28, "keel!!", 6));
	CHECK_EQ(r.st.pings, 1u);
	CHECK_EQ(outside.n, 0u);
}

TEST(router_sends_a_vms_flow_out_and_the_reply_to_its_mac)
{
	static struct router r;
	setup(&r);
	u8 f[128];
	router_inside_input(&r, f, ipv4(f, mac1, VM1, REMOTE, IP_PROTO_UDP, 4000, 80));
	REQUIRE(outside.n == 1);
	CHECK_EQ(rd32(outside.last + 12), KEEL_EX);
	CHECK_EQ(rd32(outside.last + 16), REMOTE);
	CHECK_EQ(sum(outside.last, 20), 0xffffu);
	u16 ex = rd16(outside.last + 20);
	/* the reply, as the outside stack hands it over: an IPv4 packet for Keel's address */
	u8 reply[64];
	size_t n = outside.len;
	memcpy(reply, outside.last, n);
	wr32(reply + 12, REMOTE), wr32(reply + 16, KEEL_EX);
	wr16(reply + 20, 80), wr16(reply + 22, ex);
	wr16(reply + 10, 0), wr16(reply + 10, (u16)~sum(reply, 20));
	CHECK(router_outside_input(&r, reply, n));
	REQUIRE(inside.n == 1);
	CHECK(!memcmp(inside.last, mac1, 6));
	CHECK(!memcmp(inside.last + 6, gw_mac, 6));
	CHECK_EQ(rd32(inside.last + 14 + 16), VM1);
	CHECK_EQ(rd16(inside.last + 14 + 22), 4000u);
	CHECK_EQ(r.st.to_outside, 1u);
	CHECK_EQ(r.st.from_outside, 1u);
	/* a packet for a port no flow holds is Keel's own */
	wr16(reply + 22, 7777);
	CHECK(!router_outside_input(&r, reply, n));
	CHECK_EQ(inside.n, 1u);
}

TEST(router_keeps_a_bound_address_for_its_vm)
{
	static struct router r;
	setup(&r);
	CHECK(router_bind(&r, VM1, mac1) == NULL);
	CHECK_CONTAINS(router_bind(&r, VM1, mac2), "another VM's");
	CHECK_CONTAINS(router_bind(&r, GW, mac2), "not a host address");
	CHECK_CONTAINS(router_bind(&r, IP(10, 0, 0, 255), mac2), "not a host address");
	CHECK_CONTAINS(router_bind(&r, IP(10, 0, 1, 5), mac2), "not a host address");
	u8 f[128];
	/* VM2 claims VM1's address: it is answered, but the claim teaches nothing */
	router_inside_input(&r, f, arp(f, mac2, 1, VM1, GW));
	router_inside_input(&r, f, ipv4(f, mac2, VM1, REMOTE, IP_PROTO_UDP, 4000, 80));
	REQUIRE(outside.n == 1);
	u8 reply[64];
	size_t n = outside.len;
	memcpy(reply, outside.last, n);
	u16 ex = rd16(reply + 20);
	wr32(reply + 12, REMOTE), wr32(reply + 16, KEEL_EX);
	wr16(reply + 20, 80), wr16(reply + 22, ex);
	wr16(reply + 10, 0), wr16(reply + 10, (u16)~sum(reply, 20));
	unsigned before = inside.n;
	CHECK(router_outside_input(&r, reply, n));
	REQUIRE(inside.n == before + 1);
	CHECK(!memcmp(inside.last, mac1, 6)); /* to the VM the config names, not the claimant */
}

TEST(router_drops_hostile_frames_cut_anywhere)
{
	static struct router r;
	setup(&r);
	u8 good[128];
	size_t n = ipv4(good, mac1, VM1, REMOTE, IP_PROTO_UDP, 4000, 80);
	for (size_t k = 0; k < n; k++) {
		u8 *c = malloc(k ? k : 1);
		memcpy(c, good, k);
		router_inside_input(&r, c, k);
		free(c);
	}
	u8 a[64];
	size_t an = arp(a, mac1, 1, VM1, GW);
	for (size_t k = 0; k < an; k++) {
		u8 *c = malloc(k ? k : 1);
		memcpy(c, a, k);
		router_inside_input(&r, c, k);
		free(c);
	}
	CHECK_EQ(outside.n, 0u);
	CHECK_EQ(inside.n, 0u);
	for (size_t k = 0; k < 40; k++) {
		u8 *c = malloc(k ? k : 1);
		memcpy(c, good + 14, k);
		CHECK(!router_outside_input(&r, c, k) || k >= 20);
		free(c);
	}
	/* an oversized frame */
	static u8 big[ETH_MAX_FRAME + 1];
	router_inside_input(&r, big, sizeof(big));
	CHECK(r.st.drop_bad > 0);
	CHECK_EQ(outside.n, 0u);
}

TEST(router_forgets_a_learned_host_that_stays_quiet)
{
	static struct router r;
	setup(&r);
	CHECK(router_bind(&r, VM2, mac2) == NULL);
	u8 f[64];
	router_inside_input(&r, f, arp(f, mac1, 1, VM1, GW));
	router_poll(&r, 601ULL * 1000000000ULL);
	unsigned hosts = 0;
	for (unsigned i = 0; i < ROUTER_MAX_HOSTS; i++)
		hosts += r.hosts[i].ip != 0;
	CHECK_EQ(hosts, 1u); /* the bound one stays */
	router_print(&r);
}
