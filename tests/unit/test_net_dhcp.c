/* Keel's DHCP client against a fake server that answers as Bochs' slirp does (10.0.2.15,
 * gateway and server 10.0.2.2): the exchange, retries, renewal, expiry, NAK, and hostile
 * answers (options past the end, wrong transaction, bad cookie). */
#include "net_fake.h"

#define S 1000000000ULL

static struct netstack *net_dhcp(struct wire *w)
{
	struct netstack *ns = test_alloc(sizeof(*ns));
	struct netstack_config c = {NET_DHCP, 0, 0, 0};
	netstack_init(ns, keel_mac, (struct net_endpoint){wire_rx, w}, &c);
	return ns;
}

/* The DHCP message in frame i of the wire, or NULL; *type gets its option 53. */
static const u8 *dhcp_sent(struct wire *w, unsigned i, u8 *type, size_t *len)
{
	if (i >= w->n || i >= WIRE_MAX)
		return NULL;
	const u8 *f = w->f[i];
	if (get_be16(f + 12) != ETH_TYPE_IPV4 || f[ETH_HLEN + 9] != IP_PROTO_UDP)
		return NULL;
	const u8 *u = f + ETH_HLEN + IP_HLEN;
	if (get_be16(u + 2) != 67)
		return NULL;
	const u8 *m = u + UDP_HLEN;
	*len = get_be16(u + 4) - UDP_HLEN;
	*type = 0;
	for (size_t i2 = 240; i2 + 2 < *len && m[i2] != 255; i2 += 2 + m[i2 + 1])
		if (m[i2] == 53)
			*type = m[i2 + 2];
	return m;
}

/* A server message: type, yiaddr, then options (slirp's set unless `opts` replaces them). */
static size_t dhcp_answer(u8 *f, u32 xid, u8 type, u32 yiaddr, const u8 *opts, size_t olen)
{
	u8 m[600];
	memset(m, 0, sizeof(m));
	m[0] = 2;
	m[1] = 1;
	m[2] = 6;
	put_be32(m + 4, xid);
	put_be32(m + 16, yiaddr);
	put_be32(m + 20, PEER_IP);
	memcpy(m + 28, keel_mac, 6);
	put_be32(m + 236, 0x63825363);
	u8 std[] = {53, 1, type, 54, 4, 10, 0, 2,  2, 1, 4, 255,  255,	255,
		    0,	3, 4,	 10, 0, 2,  2, 51, 4, 0, 1, 0x51, 0x80, 255};
	if (!opts) {
		opts = std;
		olen = sizeof(std);
	}
	memcpy(m + 240, opts, olen);
	return udp_frame(f, PEER_IP, 67, IP4_BROADCAST, 68, m, 240 + olen);
}

/* Runs DISCOVER/OFFER/REQUEST/ACK at time 1 s; returns the transaction id. */
static u32 dhcp_handshake(struct netstack *ns, struct wire *w)
{
	u8 type, f[ETH_MAX_FRAME];
	size_t len;
	netstack_poll(ns, 1 * S);
	const u8 *m = dhcp_sent(w, w->n - 1, &type, &len);
	REQUIRE(m && type == 1);
	u32 xid = get_be32(m + 4);
	size_t n = dhcp_answer(f, xid, 2, KEEL_IP, NULL, 0);
	netstack_input(ns, test_dup(f, n), n);
	m = dhcp_sent(w, w->n - 1, &type, &len);
	REQUIRE(m && type == 3);
	n = dhcp_answer(f, xid, 5, KEEL_IP, NULL, 0);
	netstack_input(ns, test_dup(f, n), n);
	REQUIRE(ns->configured);
	return xid;
}

TEST(dhcp_gets_slirps_address_gateway_and_lease)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_dhcp(w);
	CHECK(!ns->configured);
	netstack_poll(ns, 1 * S);
	u8 type;
	size_t len;
	const u8 *m = dhcp_sent(w, 0, &type, &len);
	REQUIRE(m);
	CHECK_EQ(type, 1); /* DISCOVER */
	const u8 *f = w->f[0];
	CHECK(!memcmp(f, eth_broadcast, 6));
	CHECK_EQ(get_be32(f + ETH_HLEN + 12), 0);
	CHECK_EQ(get_be32(f + ETH_HLEN + 16), IP4_BROADCAST);
	CHECK_EQ(get_be16(f + ETH_HLEN + IP_HLEN), 68);
	CHECK_EQ(m[0], 1);
	CHECK_EQ(get_be16(m + 10), 0x8000);
	CHECK(!memcmp(m + 28, keel_mac, 6));
	CHECK(len >= 300);
	u32 xid = get_be32(m + 4);
	u8 g[ETH_MAX_FRAME];
	size_t n = dhcp_answer(g, xid, 2, KEEL_IP, NULL, 0);
	netstack_input(ns, g, n);
	CHECK_EQ(ns->st.dhcp_offers, 1);
	m = dhcp_sent(w, 1, &type, &len);
	REQUIRE(m);
	CHECK_EQ(type, 3); /* REQUEST, at once */
	bool req_ip = false, server = false;
	for (size_t i = 240; i + 2 < len && m[i] != 255; i += 2 + m[i + 1]) {
		req_ip |= m[i] == 50 && get_be32(m + i + 2) == KEEL_IP;
		server |= m[i] == 54 && get_be32(m + i + 2) == PEER_IP;
	}
	CHECK(req_ip);
	CHECK(server);
	CHECK(!ns->configured);
	n = dhcp_answer(g, xid, 5, KEEL_IP, NULL, 0);
	netstack_input(ns, g, n);
	CHECK(ns->configured);
	CHECK_EQ(ns->ip, KEEL_IP);
	CHECK_EQ(ns->mask, IP4(255, 255, 255, 0));
	CHECK_EQ(ns->gw, PEER_IP);
	CHECK_EQ(ns->dhcp.state, DHCP_BOUND);
	CHECK_EQ(ns->dhcp.lease_s, 86400);
	CHECK_EQ(ns->dhcp.t1_ns, 1 * S + 43200 * S);
	/* the gratuitous ARP */
	REQUIRE(w->n == 3);
	CHECK_EQ(get_be16(w->f[2] + 12), ETH_TYPE_ARP);
	CHECK_EQ(get_be32(w->f[2] + ETH_HLEN + 14), KEEL_IP);
	CHECK_CONTAINS(test_console(),
		       "net: DHCP: address 10.0.2.15 mask bits 24 gateway 10.0.2.2");
	/* and then Keel answers pings there */
	net_learn_peer(ns, w);
	n = ping_frame(g, PEER_IP, KEEL_IP, 3, 3, 8);
	netstack_input(ns, g, n);
	CHECK_EQ(ns->st.icmp_echo_replied, 1);
}

TEST(dhcp_repeats_discover_with_a_growing_back_off)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_dhcp(w);
	u64 sent_at[8];
	unsigned n = 0;
	for (u64 t = 1; t < 40 * S && n < 8; t += S / 10) {
		unsigned before = w->n;
		netstack_poll(ns, t);
		if (w->n != before)
			sent_at[n++] = t;
	}
	REQUIRE(n >= 6);
	/* 1, 2, 4, 8, 16 s apart (to the poll's 0.1 s) */
	for (unsigned i = 1; i < 6; i++) {
		u64 gap = sent_at[i] - sent_at[i - 1];
		u64 want = (1ULL << (i - 1)) * S;
		CHECK(gap >= want && gap < want + S / 5);
	}
	CHECK_EQ(ns->st.dhcp_retries, n - 1);
	CHECK(!ns->configured);
}

TEST(dhcp_renews_at_t1_with_the_server_and_keeps_the_address)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_dhcp(w);
	u32 xid = dhcp_handshake(ns, w);
	net_learn_peer(ns, w);
	unsigned before = w->n;
	netstack_poll(ns, 1 * S + 43199 * S);
	CHECK_EQ(w->n, before);
	netstack_poll(ns, 1 * S + 43200 * S);
	/* the server's MAC was forgotten long ago: ARP first, the REQUEST on its answer */
	REQUIRE(w->n == before + 1);
	CHECK_EQ(get_be16(w->f[before] + 12), ETH_TYPE_ARP);
	u8 type, f[ETH_MAX_FRAME];
	size_t len;
	size_t an = arp_frame(f, 2, peer_mac, PEER_IP, keel_mac, KEEL_IP, keel_mac);
	netstack_input(ns, f, an);
	const u8 *m = dhcp_sent(w, w->n - 1, &type, &len);
	REQUIRE(m);
	CHECK_EQ(type, 3);
	CHECK_EQ(ns->dhcp.state, DHCP_RENEWING);
	const u8 *fr = w->f[w->n - 1];
	CHECK(!memcmp(fr, peer_mac, 6)); /* unicast to the server */
	CHECK_EQ(get_be32(fr + ETH_HLEN + 12), KEEL_IP);
	CHECK_EQ(get_be32(m + 12), KEEL_IP); /* ciaddr */
	/* the ACK comes unicast this time */
	size_t n = dhcp_answer(f, xid, 5, KEEL_IP, NULL, 0);
	memcpy(f, keel_mac, 6);
	put_be32(f + ETH_HLEN + 16, KEEL_IP);
	ip_fix_checksum(f);
	u8 *u = f + ETH_HLEN + IP_HLEN;
	put_be16(u + 6, 0); /* no UDP checksum: the destination changed */
	netstack_input(ns, f, n);
	CHECK_EQ(ns->dhcp.state, DHCP_BOUND);
	CHECK(ns->configured);
	CHECK_EQ(ns->dhcp.expiry_ns, 1 * S + 43200 * S + 86400 * S);
}

TEST(dhcp_gives_the_address_up_when_the_lease_ends_unrenewed)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_dhcp(w);
	dhcp_handshake(ns, w);
	for (u64 t = 1 * S; t < 1 * S + 86400 * S; t += 600 * S)
		netstack_poll(ns, t);
	w->n = 0;
	CHECK(ns->configured);
	CHECK_EQ(ns->dhcp.state, DHCP_REBINDING);
	netstack_poll(ns, 1 * S + 86400 * S);
	CHECK(!ns->configured);
	CHECK_EQ(ns->dhcp.state, DHCP_SELECTING);
	u8 type;
	size_t len;
	REQUIRE(dhcp_sent(w, w->n - 1, &type, &len));
	CHECK_EQ(type, 1);
	CHECK_CONTAINS(test_console(), "lease ended unrenewed");
}

TEST(dhcp_nak_starts_over_and_unanswered_requests_too)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_dhcp(w);
	u32 xid = dhcp_handshake(ns, w);
	ns->dhcp.state = DHCP_REBINDING;
	u8 f[ETH_MAX_FRAME];
	size_t n = dhcp_answer(f, xid, 6, 0, (const u8[]){53, 1, 6, 255}, 4);
	netstack_input(ns, f, n);
	CHECK_EQ(ns->st.dhcp_naks, 1);
	CHECK(!ns->configured);
	CHECK_EQ(ns->dhcp.state, DHCP_SELECTING);
	CHECK(ns->dhcp.xid != xid);
	/* an OFFER, then silence: REQUEST 4 times, then DISCOVER again */
	netstack_poll(ns, 2 * S);
	n = dhcp_answer(f, ns->dhcp.xid, 2, KEEL_IP, NULL, 0);
	netstack_input(ns, f, n);
	CHECK_EQ(ns->dhcp.state, DHCP_REQUESTING);
	for (u64 t = 2 * S; t < 40 * S && ns->dhcp.state == DHCP_REQUESTING; t += S / 10)
		netstack_poll(ns, t);
	CHECK_EQ(ns->dhcp.state, DHCP_SELECTING);
}

TEST(dhcp_hostile_answers_are_counted_and_change_nothing)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_dhcp(w);
	netstack_poll(ns, 1 * S);
	u32 xid = ns->dhcp.xid;
	u8 f[ETH_MAX_FRAME];
	size_t n;
	/* an option whose length runs past the end of the message */
	n = dhcp_answer(f, xid, 2, KEEL_IP, (const u8[]){53, 1, 2, 54, 40, 10, 0}, 7);
	netstack_input(ns, test_dup(f, n), n);
	/* an option code as the last byte, without its length */
	n = dhcp_answer(f, xid, 2, KEEL_IP, (const u8[]){53, 1, 2, 3}, 4);
	netstack_input(ns, test_dup(f, n), n);
	/* no message type */
	n = dhcp_answer(f, xid, 2, KEEL_IP, (const u8[]){54, 4, 10, 0, 2, 2, 255}, 7);
	netstack_input(ns, f, n);
	/* an OFFER of the broadcast address */
	n = dhcp_answer(f, xid, 2, IP4_BROADCAST, NULL, 0);
	netstack_input(ns, f, n);
	CHECK_EQ(ns->st.dhcp_bad, 4);
	/* a bad cookie, a BOOTREQUEST, and a message shorter than BOOTP's fixed part */
	n = dhcp_answer(f, xid, 2, KEEL_IP, NULL, 0);
	f[ETH_HLEN + IP_HLEN + UDP_HLEN + 236] = 0;
	put_be16(f + ETH_HLEN + IP_HLEN + 6, 0);
	netstack_input(ns, f, n);
	n = dhcp_answer(f, xid, 2, KEEL_IP, NULL, 0);
	f[ETH_HLEN + IP_HLEN + UDP_HLEN] = 1;
	put_be16(f + ETH_HLEN + IP_HLEN + 6, 0);
	netstack_input(ns, f, n);
	n = udp_frame(f, PEER_IP, 67, IP4_BROADCAST, 68, "\x02\x01\x06", 3);
	netstack_input(ns, test_dup(f, n), n);
	CHECK_EQ(ns->st.dhcp_bad, 7);
	/* another transaction, another client: ignored without a count */
	n = dhcp_answer(f, xid + 1, 2, KEEL_IP, NULL, 0);
	netstack_input(ns, f, n);
	n = dhcp_answer(f, xid, 2, KEEL_IP, NULL, 0);
	f[ETH_HLEN + IP_HLEN + UDP_HLEN + 28] ^= 2;
	put_be16(f + ETH_HLEN + IP_HLEN + 6, 0);
	netstack_input(ns, f, n);
	/* an unsolicited ACK while selecting */
	n = dhcp_answer(f, xid, 5, KEEL_IP, NULL, 0);
	netstack_input(ns, f, n);
	CHECK_EQ(ns->st.dhcp_bad, 7);
	CHECK_EQ(ns->dhcp.state, DHCP_SELECTING);
	CHECK(!ns->configured);
	/* before an address, only DHCP gets through: a ping to the offered address is not ours */
	n = ping_frame(f, PEER_IP, KEEL_IP, 1, 1, 8);
	netstack_input(ns, f, n);
	CHECK_EQ(ns->st.icmp_rx, 0);
	CHECK_EQ(ns->st.ip_not_ours, 1);
	/* and a good OFFER still works afterwards */
	n = dhcp_answer(f, xid, 2, KEEL_IP, NULL, 0);
	netstack_input(ns, f, n);
	CHECK_EQ(ns->dhcp.state, DHCP_REQUESTING);
}

TEST(dhcp_ack_with_odd_options_gets_sane_defaults)
{
	struct wire *w = test_alloc(sizeof(*w));
	struct netstack *ns = net_dhcp(w);
	netstack_poll(ns, 1 * S);
	u32 xid = ns->dhcp.xid;
	u8 f[ETH_MAX_FRAME];
	size_t n = dhcp_answer(f, xid, 2, KEEL_IP, NULL, 0);
	netstack_input(ns, f, n);
	/* a mask with a hole, a router list of 3 bytes, an infinite lease, padding, no END */
	static const u8 odd[] = {53, 1, 5,  0, 0, 1,  4, 255,  0,    255,  0,
				 3,  3, 10, 0, 2, 51, 4, 0xff, 0xff, 0xff, 0xff};
	n = dhcp_answer(f, xid, 5, KEEL_IP, odd, sizeof(odd));
	netstack_input(ns, f, n);
	REQUIRE(ns->configured);
	CHECK_EQ(ns->mask, IP4(255, 255, 255, 0));
	CHECK_EQ(ns->gw, 0);
	CHECK_EQ(ns->dhcp.expiry_ns, ~0ULL);
	netstack_poll(ns, 1000000 * S);
	CHECK_EQ(ns->dhcp.state, DHCP_BOUND);
}
