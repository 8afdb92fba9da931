/* Keel's network stack below DHCP: ARP (answers, learning, resolving, the pending queue,
 * ageing), IPv4 checks, ICMP echo, UDP ports, and hostile frames of every kind. */
#include "net_fake.h"

static const u8 zero_mac[6];

TEST(net_arp_request_for_keel_is_answered_and_teaches_the_sender)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	u8 f[ETH_MAX_FRAME];
	size_t n = arp_frame(f, 1, peer_mac, PEER_IP, zero_mac, KEEL_IP, eth_broadcast);
	netstack_input(ns, f, n);
	REQUIRE(w->n == 1);
	const u8 *r = w->f[0];
	CHECK_EQ(w->len[0], ETH_MIN_FRAME);
	CHECK(!memcmp(r, peer_mac, 6));
	CHECK(!memcmp(r + 6, keel_mac, 6));
	CHECK_EQ(get_be16(r + 12), ETH_TYPE_ARP);
	CHECK_EQ(get_be16(r + 14 + 6), 2); /* reply */
	CHECK(!memcmp(r + 14 + 8, keel_mac, 6));
	CHECK_EQ(get_be32(r + 14 + 14), KEEL_IP);
	CHECK(!memcmp(r + 14 + 18, peer_mac, 6));
	CHECK_EQ(get_be32(r + 14 + 24), PEER_IP);
	CHECK_EQ(ns->arp[0].state, ARP_VALID);
	CHECK_EQ(ns->arp[0].ip, PEER_IP);
	CHECK(!memcmp(ns->arp[0].mac, peer_mac, 6));
}

TEST(net_arp_for_another_address_is_neither_answered_nor_learned)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	u8 f[ETH_MAX_FRAME];
	size_t n = arp_frame(f, 1, peer_mac, PEER_IP, zero_mac, IP4(10, 0, 2, 99), eth_broadcast);
	netstack_input(ns, f, n);
	CHECK_EQ(w->n, 0);
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++)
		CHECK_EQ(ns->arp[i].state, ARP_FREE);
}

TEST(net_malformed_arp_is_counted_and_never_answered)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	u8 f[ETH_MAX_FRAME];
	size_t n = arp_frame(f, 1, peer_mac, PEER_IP, zero_mac, KEEL_IP, eth_broadcast);
	/* truncated: the exact-size copy lets ASan see a read past the end */
	for (size_t cut = ETH_HLEN; cut < n; cut++)
		netstack_input(ns, test_dup(f, cut), cut);
	CHECK_EQ(ns->st.arp_bad, n - ETH_HLEN);
	f[ETH_HLEN + 4] = 8; /* hardware address length 8 */
	netstack_input(ns, f, n);
	f[ETH_HLEN + 4] = 6;
	f[ETH_HLEN + 7] = 9; /* opcode 9 */
	netstack_input(ns, f, n);
	f[ETH_HLEN + 7] = 1;
	f[ETH_HLEN + 8] |= 1; /* a multicast sender */
	netstack_input(ns, f, n);
	CHECK_EQ(ns->st.arp_bad, n - ETH_HLEN + 3);
	CHECK_EQ(w->n, 0);
	netstack_input(ns, test_dup(f, 5), 5);
	CHECK_EQ(ns->st.rx_short, 1);
}

TEST(net_a_jumbo_ping_is_dropped_not_copied_into_the_reply_buffer)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	net_learn_peer(ns, w);
	size_t data = 4000;
	u8 *f = test_alloc(ETH_HLEN + IP_HLEN + ICMP_HLEN + data);
	size_t n = ping_frame(f, PEER_IP, KEEL_IP, 1, 1, data);
	netstack_input(ns, f, n);
	CHECK_EQ(ns->st.rx_oversize, 1);
	CHECK_EQ(w->n, 1);
}

TEST(net_ping_to_keel_is_answered_with_the_same_data)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	net_learn_peer(ns, w);
	u8 f[ETH_MAX_FRAME];
	size_t n = ping_frame(f, PEER_IP, KEEL_IP, 0x77, 5, 56);
	netstack_input(ns, test_dup(f, n), n);
	REQUIRE(w->n == 2);
	const u8 *r = w->f[1];
	CHECK(!memcmp(r, peer_mac, 6));
	const u8 *h = r + ETH_HLEN;
	CHECK_EQ(h[0], 0x45);
	CHECK_EQ(inet_fold(inet_sum(0, h, IP_HLEN)), 0);
	CHECK_EQ(get_be16(h + 2), IP_HLEN + ICMP_HLEN + 56);
	CHECK_EQ(get_be32(h + 12), KEEL_IP);
	CHECK_EQ(get_be32(h + 16), PEER_IP);
	CHECK_EQ(h[9], IP_PROTO_ICMP);
	const u8 *m = h + IP_HLEN;
	CHECK_EQ(m[0], 0);
	CHECK_EQ(inet_fold(inet_sum(0, m, ICMP_HLEN + 56)), 0);
	CHECK_EQ(get_be16(m + 4), 0x77);
	CHECK_EQ(get_be16(m + 6), 5);
	CHECK(!memcmp(m + 8, f + ETH_HLEN + IP_HLEN + 8, 56));
	CHECK_EQ(ns->st.icmp_echo_replied, 1);
}

TEST(net_ping_with_ip_options_and_ethernet_padding_is_answered)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	net_learn_peer(ns, w);
	u8 f[ETH_MAX_FRAME];
	/* a 24-byte header (one NOP option word), an 8-byte echo, padded to 60 bytes */
	size_t n = ping_frame(f, PEER_IP, KEEL_IP, 1, 1, 0);
	u8 *h = f + ETH_HLEN;
	memmove(h + 24, h + 20, 8);
	memset(h + 20, 1, 4);
	h[0] = 0x46;
	put_be16(h + 2, 32);
	ip_fix_checksum(f);
	n = ETH_MIN_FRAME;
	memset(f + ETH_HLEN + 32, 0xee, n - ETH_HLEN - 32);
	netstack_input(ns, test_dup(f, n), n);
	REQUIRE(w->n == 2);
	CHECK_EQ(get_be16(w->f[1] + ETH_HLEN + 2), IP_HLEN + ICMP_HLEN);
	CHECK_EQ(ns->st.icmp_bad, 0);
}

TEST(net_broadcast_ping_gets_no_answer)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	net_learn_peer(ns, w);
	u8 f[ETH_MAX_FRAME];
	size_t n = ping_frame(f, PEER_IP, IP4(10, 0, 2, 255), 1, 1, 8);
	memcpy(f, eth_broadcast, 6);
	netstack_input(ns, f, n);
	n = ping_frame(f, PEER_IP, IP4_BROADCAST, 1, 1, 8);
	memcpy(f, eth_broadcast, 6);
	netstack_input(ns, f, n);
	CHECK_EQ(w->n, 1);
	CHECK_EQ(ns->st.icmp_rx, 2);
}

TEST(net_bad_ipv4_headers_are_dropped_and_counted)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	net_learn_peer(ns, w);
	u8 f[ETH_MAX_FRAME], g[ETH_MAX_FRAME];
	size_t n = ping_frame(f, PEER_IP, KEEL_IP, 1, 1, 16);
	u8 *h = g + ETH_HLEN;
	/* every truncation of the frame */
	for (size_t cut = ETH_HLEN; cut < n; cut++)
		netstack_input(ns, test_dup(f, cut), cut);
	CHECK_EQ(ns->st.ip_bad_header, n - ETH_HLEN);
	u64 bad = ns->st.ip_bad_header;
	memcpy(g, f, n);
	h[0] = 0x44; /* IHL 4 */
	ip_fix_checksum(g);
	netstack_input(ns, g, n);
	memcpy(g, f, n);
	h[0] = 0x4f; /* IHL 15: 60 bytes, more than the packet */
	netstack_input(ns, test_dup(g, ETH_HLEN + 40), ETH_HLEN + 40);
	memcpy(g, f, n);
	h[0] = 0x65; /* version 6 */
	netstack_input(ns, g, n);
	memcpy(g, f, n);
	put_be16(h + 2, (u16)(n - ETH_HLEN + 1)); /* total length past the frame */
	ip_fix_checksum(g);
	netstack_input(ns, g, n);
	memcpy(g, f, n);
	put_be16(h + 2, 19); /* total length shorter than the header */
	ip_fix_checksum(g);
	netstack_input(ns, g, n);
	CHECK_EQ(ns->st.ip_bad_header, bad + 5);
	memcpy(g, f, n);
	h[10] ^= 0x40; /* checksum */
	netstack_input(ns, g, n);
	CHECK_EQ(ns->st.ip_bad_checksum, 1);
	memcpy(g, f, n);
	put_be16(h + 6, 0x2000); /* more fragments */
	ip_fix_checksum(g);
	netstack_input(ns, g, n);
	put_be16(h + 6, 0x0010); /* a later fragment */
	ip_fix_checksum(g);
	netstack_input(ns, g, n);
	CHECK_EQ(ns->st.ip_fragment, 2);
	memcpy(g, f, n);
	h[8] = 0; /* TTL 0 */
	ip_fix_checksum(g);
	netstack_input(ns, g, n);
	CHECK_EQ(ns->st.ip_ttl_zero, 1);
	memcpy(g, f, n);
	put_be32(h + 16, IP4(10, 0, 2, 16)); /* someone else's */
	ip_fix_checksum(g);
	netstack_input(ns, g, n);
	CHECK_EQ(ns->st.ip_not_ours, 1);
	memcpy(g, f, n);
	put_be32(h + 12, IP4(224, 0, 0, 1)); /* a multicast sender */
	ip_fix_checksum(g);
	netstack_input(ns, g, n);
	CHECK_EQ(ns->st.ip_bad_header, bad + 6);
	/* an ICMP message with a broken checksum, and one shorter than its header */
	memcpy(g, f, n);
	h[IP_HLEN + 8] ^= 1;
	netstack_input(ns, g, n);
	n = ip_frame(g, keel_mac, PEER_IP, KEEL_IP, IP_PROTO_ICMP, 4);
	netstack_input(ns, g, n);
	CHECK_EQ(ns->st.icmp_bad, 2);
	CHECK_EQ(w->n, 1); /* nothing answered but the ARP request of net_learn_peer */
}

struct udp_seen {
	unsigned n;
	u32 ip;
	u16 port;
	size_t len;
	u8 data[NET_UDP_MAX];
};

static void udp_seen_rx(void *ctx, struct netstack *ns, u32 ip, u16 port, const u8 *d, size_t len)
{
	struct udp_seen *s = ctx;
	(void)ns;
	s->n++;
	s->ip = ip;
	s->port = port;
	s->len = len;
	memcpy(s->data, d, len);
}

TEST(net_udp_reaches_the_bound_port_only_when_whole)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	struct udp_seen *s = test_alloc(sizeof(*s));
	REQUIRE(netstack_udp_bind(ns, 7777, udp_seen_rx, s));
	CHECK(!netstack_udp_bind(ns, 7777, udp_seen_rx, s));
	u8 f[ETH_MAX_FRAME], g[ETH_MAX_FRAME];
	size_t n = udp_frame(f, PEER_IP, 40000, KEEL_IP, 7777, "hello", 5);
	netstack_input(ns, test_dup(f, n), n);
	REQUIRE(s->n == 1);
	CHECK_EQ(s->ip, PEER_IP);
	CHECK_EQ(s->port, 40000);
	CHECK_EQ(s->len, 5);
	CHECK(!memcmp(s->data, "hello", 5));
	/* no checksum (0) is allowed over IPv4 */
	memcpy(g, f, n);
	put_be16(g + ETH_HLEN + IP_HLEN + 6, 0);
	netstack_input(ns, g, n);
	CHECK_EQ(s->n, 2);
	memcpy(g, f, n);
	g[n - 1] ^= 0x20;
	netstack_input(ns, g, n);
	CHECK_EQ(ns->st.udp_bad_checksum, 1);
	memcpy(g, f, n);
	put_be16(g + ETH_HLEN + IP_HLEN + 4, 14); /* UDP length past the IP payload */
	netstack_input(ns, g, n);
	put_be16(g + ETH_HLEN + IP_HLEN + 4, 7); /* shorter than its header */
	netstack_input(ns, g, n);
	size_t m = ip_frame(g, keel_mac, PEER_IP, KEEL_IP, IP_PROTO_UDP, 6); /* 6-byte UDP */
	netstack_input(ns, test_dup(g, m), m);
	CHECK_EQ(ns->st.udp_bad, 3);
	n = udp_frame(f, PEER_IP, 40000, KEEL_IP, 7778, "x", 1);
	netstack_input(ns, f, n);
	CHECK_EQ(ns->st.udp_no_port, 1);
	CHECK_EQ(s->n, 2);
	netstack_udp_unbind(ns, 7777);
	n = udp_frame(f, PEER_IP, 40000, KEEL_IP, 7777, "x", 1);
	netstack_input(ns, f, n);
	CHECK_EQ(ns->st.udp_no_port, 2);
}

TEST(net_send_resolves_the_next_hop_first_and_queues_the_datagram)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	netstack_poll(ns, 1000);
	REQUIRE(w->n == 1); /* the gratuitous ARP for Keel's own address */
	CHECK_EQ(get_be32(w->f[0] + ETH_HLEN + 24), KEEL_IP);
	/* off the subnet: through the gateway, whose MAC is not known yet */
	CHECK(netstack_udp_send(ns, 7777, FAR_IP, 9, "abc", 3));
	REQUIRE(w->n == 2);
	CHECK_EQ(get_be16(w->f[1] + 12), ETH_TYPE_ARP);
	CHECK_EQ(get_be32(w->f[1] + ETH_HLEN + 24), PEER_IP);
	u8 f[ETH_MAX_FRAME];
	size_t n = arp_frame(f, 2, peer_mac, PEER_IP, keel_mac, KEEL_IP, keel_mac);
	netstack_input(ns, f, n);
	REQUIRE(w->n == 3);
	const u8 *d = w->f[2];
	CHECK(!memcmp(d, peer_mac, 6));
	CHECK_EQ(get_be32(d + ETH_HLEN + 16), FAR_IP);
	const u8 *u = d + ETH_HLEN + IP_HLEN;
	CHECK_EQ(get_be16(u), 7777);
	CHECK_EQ(get_be16(u + 2), 9);
	CHECK(!memcmp(u + 8, "abc", 3));
	/* the UDP checksum verifies over the pseudo header */
	u8 ph[12];
	put_be32(ph, KEEL_IP);
	put_be32(ph + 4, FAR_IP);
	ph[8] = 0;
	ph[9] = IP_PROTO_UDP;
	put_be16(ph + 10, 11);
	CHECK_EQ(inet_fold(inet_sum(inet_sum(0, ph, 12), u, 11)), 0);
	/* known now: the next one leaves at once */
	CHECK(netstack_udp_send(ns, 7777, FAR_IP, 9, "def", 3));
	CHECK_EQ(w->n, 4);
}

TEST(net_unanswered_arp_is_retried_then_its_frames_dropped)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	netstack_poll(ns, 1);
	u32 ghost = IP4(10, 0, 2, 77);
	for (int i = 0; i < NET_ARP_PENDING; i++)
		CHECK(netstack_udp_send(ns, 1, ghost, 2, "q", 1));
	CHECK(!netstack_udp_send(ns, 1, ghost, 2, "q", 1)); /* the queue is full */
	CHECK_EQ(ns->st.arp_queue_drop, 1);
	CHECK_EQ(ns->st.arp_requests_sent, 2); /* the announcement and one request */
	u64 t = 1;
	for (int i = 0; i < 10; i++) {
		t += NET_ARP_RETRY_NS;
		netstack_poll(ns, t);
	}
	CHECK_EQ(ns->st.arp_requests_sent, 1 + NET_ARP_TRIES);
	CHECK_EQ(ns->st.arp_unresolved_drop, NET_ARP_PENDING);
	for (unsigned i = 0; i < NET_ARP_PENDING; i++)
		CHECK(!ns->pending[i].used);
	/* no address on the subnet, no gateway: no route */
	ns->gw = 0;
	CHECK(!netstack_udp_send(ns, 1, FAR_IP, 2, "q", 1));
	CHECK_EQ(ns->st.ip_no_route, 1);
}

TEST(net_learned_addresses_are_forgotten_after_their_time)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	netstack_poll(ns, 1);
	net_learn_peer(ns, w);
	netstack_poll(ns, NET_ARP_TTL_NS - 1);
	CHECK_EQ(ns->arp[0].state, ARP_VALID);
	netstack_poll(ns, NET_ARP_TTL_NS + 2);
	CHECK_EQ(ns->arp[0].state, ARP_FREE);
}

/* A peer that answers an ARP request inside the send call, as a wire that loops back
 * synchronously would: the stack must take the answer after its send returns. */
struct eager_peer {
	struct netstack *ns;
	unsigned sent;
	u8 last[ETH_MAX_FRAME];
};

static void eager_rx(void *ctx, const u8 *f, size_t len)
{
	struct eager_peer *p = ctx;
	p->sent++;
	memcpy(p->last, f, len);
	if (get_be16(f + 12) == ETH_TYPE_ARP && get_be16(f + ETH_HLEN + 6) == 1 &&
	    get_be32(f + ETH_HLEN + 24) == PEER_IP) {
		u8 r[ETH_MAX_FRAME];
		size_t n = arp_frame(r, 2, peer_mac, PEER_IP, keel_mac, KEEL_IP, keel_mac);
		netstack_input(p->ns, r, n);
	}
}

TEST(net_an_answer_during_a_send_waits_for_the_send_to_end)
{
	struct eager_peer *p = test_alloc(sizeof(*p));
	struct netstack *ns = test_alloc(sizeof(*ns));
	struct netstack_config c = {NET_STATIC, KEEL_IP, IP4(255, 255, 255, 0), PEER_IP};
	netstack_init(ns, keel_mac, (struct net_endpoint){eager_rx, p}, &c);
	p->ns = ns;
	CHECK(netstack_udp_send(ns, 5, PEER_IP, 6, "now", 3));
	CHECK_EQ(p->sent, 2); /* the request, then the datagram */
	CHECK_EQ(get_be16(p->last + 12), ETH_TYPE_IPV4);
	CHECK(!memcmp(p->last + ETH_HLEN + IP_HLEN + 8, "now", 3));
	CHECK_EQ(ns->depth, 0);
}

TEST(net_keel_pings_and_counts_the_reply)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_static(w);
	net_learn_peer(ns, w);
	netstack_poll(ns, 5000000);
	CHECK(netstack_ping(ns, PEER_IP));
	const u8 *q = w->f[w->n - 1];
	REQUIRE(get_be16(q + 12) == ETH_TYPE_IPV4);
	const u8 *m = q + ETH_HLEN + IP_HLEN;
	CHECK_EQ(m[0], 8);
	size_t mlen = get_be16(q + ETH_HLEN + 2) - IP_HLEN;
	CHECK_EQ(inet_fold(inet_sum(0, m, mlen)), 0);
	/* the peer answers 3 ms later */
	u8 f[ETH_MAX_FRAME];
	memcpy(f + ETH_HLEN + IP_HLEN, m, mlen);
	u8 *r = f + ETH_HLEN + IP_HLEN;
	r[0] = 0;
	put_be16(r + 2, 0);
	put_be16(r + 2, inet_fold(inet_sum(0, r, mlen)));
	size_t n = ip_frame(f, keel_mac, PEER_IP, KEEL_IP, IP_PROTO_ICMP, mlen);
	netstack_poll(ns, 8000000);
	netstack_input(ns, f, n);
	CHECK_EQ(ns->ping_replies, 1);
	CHECK_EQ(ns->ping_rtt_ns, 3000000);
	CHECK_CONTAINS(test_console(), "echo reply from 10.0.2.2 seq 1");
}

TEST(net_config_text_is_parsed_or_refused_with_a_reason)
{
	struct netstack_config c;
	CHECK(!netstack_parse_config("dhcp", &c));
	CHECK_EQ(c.mode, NET_DHCP);
	CHECK(!netstack_parse_config("off", &c));
	CHECK_EQ(c.mode, NET_OFF);
	CHECK(!netstack_parse_config("10.0.2.15/24,gw=10.0.2.2", &c));
	CHECK_EQ(c.mode, NET_STATIC);
	CHECK_EQ(c.ip, KEEL_IP);
	CHECK_EQ(c.mask, IP4(255, 255, 255, 0));
	CHECK_EQ(c.gw, PEER_IP);
	CHECK(!netstack_parse_config("192.168.1.5/16", &c));
	CHECK_EQ(c.mask, IP4(255, 255, 0, 0));
	CHECK_EQ(c.gw, 0);
	static const char *const bad[] = {"",
					  "dhcpx",
					  "10.0.2.15",
					  "10.0.2.15/33",
					  "10.0.2.15/0",
					  "10.0.2/24",
					  "10.0.2.256/24",
					  "10.0.2.15/24,gw=",
					  "10.0.2.0/24",
					  "10.0.2.255/24",
					  "10.0.2.15/24,gw=10.0.3.2",
					  "10.0.2.15/24,gw=10.0.2.15",
					  "10.0.2.15/24,via=10.0.2.2",
					  "224.0.0.5/24",
					  "10.0.2.15/24,gw=10.0.2.2x",
					  "0010.0.2.15/24",
					  "1.2.3.4/031"};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *why = netstack_parse_config(bad[i], &c);
		if (!why)
			test_fail(__FILE__, __LINE__, "'%s' accepted", bad[i]);
		CHECK_EQ(c.mode, NET_OFF);
	}
	u32 ip;
	char buf[16];
	CHECK(ip4_parse("255.255.255.255", &ip));
	CHECK_STR(ip4_format(ip, buf), "255.255.255.255");
	CHECK(!ip4_parse("1.2.3", &ip));
	CHECK(!ip4_parse("1.2.3.4 ", &ip));
}

/* Random frames, half of them starting from a valid one, into a static, an unconfigured
 * DHCP and a stack with frames waiting for ARP: no crash, every frame counted. */
TEST(net_random_frames_never_break_the_stack)
{
	u64 rng = 0x6b65656c6e6574ULL;
	for (int mode = 0; mode < 3; mode++) {
		struct wire *w = test_alloc(sizeof(*w));
		struct netstack *ns = net_static(w);
		if (mode == 1) {
			struct netstack_config c = {NET_DHCP, 0, 0, 0};
			netstack_init(ns, keel_mac, (struct net_endpoint){wire_rx, w}, &c);
		}
		netstack_poll(ns, 1);
		if (mode == 2)
			netstack_udp_send(ns, 1, FAR_IP, 2, "q", 1);
		for (int i = 0; i < 4000; i++) {
			u8 f[ETH_MAX_FRAME];
			size_t n;
			unsigned kind = (unsigned)(test_rng(&rng) % 4);
			if (kind == 0)
				n = ping_frame(f, PEER_IP, KEEL_IP, 1, 1, test_rng(&rng) % 100);
			else if (kind == 1)
				n = udp_frame(f, PEER_IP, 67, IP4_BROADCAST, 68, "abcdefgh", 8);
			else if (kind == 2)
				n = arp_frame(f, 1, peer_mac, PEER_IP, zero_mac, KEEL_IP,
					      eth_broadcast);
			else
				n = test_rng(&rng) % ETH_MAX_FRAME;
			for (size_t j = 0; j < n; j++)
				if (kind == 3 || test_rng(&rng) % 16 == 0)
					f[j] = (u8)test_rng(&rng);
			size_t cut = test_rng(&rng) % 4 ? n : test_rng(&rng) % (n + 1);
			netstack_input(ns, test_dup(f, cut), cut);
			if (i % 500 == 0)
				netstack_poll(ns, (u64)i * 100000000ULL);
		}
		CHECK_EQ(ns->st.rx_frames, 4000);
		CHECK_EQ(ns->depth, 0);
	}
}
