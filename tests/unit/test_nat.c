/* The translator between the VMs' network and Keel's outside address (net/nat.c): flows out
 * and back with every checksum still right (checked from scratch, not by the patching code),
 * replies only from the flow's remote, port forwards, ageing, one VM's share of the table,
 * ICMP errors, and hostile packets dropped and counted without a byte read past their end. */
#include <stdlib.h>
#include "test.h"
#include "../../net/nat.h"
#include "../../hypervisor/lib.h"

#define IP(a, b, c, d) ((u32)(a) << 24 | (u32)(b) << 16 | (u32)(c) << 8 | (u32)(d))
#define VM1	       IP(10, 0, 0, 2)
#define VM2	       IP(10, 0, 0, 3)
#define KEEL_EX	       IP(10, 0, 2, 15)
#define REMOTE	       IP(93, 184, 216, 34)
#define SEC	       1000000000ULL

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

static u16 csum(u32 sum, const u8 *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += rd16(p + i);
	if (n & 1)
		sum += (u32)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)sum;
}

/* the TCP/UDP pseudo header's sum */
static u32 pseudo(const u8 *ip, u8 proto, size_t l4len)
{
	return rd16(ip + 12) + rd16(ip + 14) + rd16(ip + 16) + rd16(ip + 18) + proto + (u32)l4len;
}

/* An IPv4 packet of proto from src to dst, its transport header and payload filled in by the
 * caller (hdr, hlen), then checksummed whole. Returned in a buffer of exactly its size. */
static u8 *packet(u8 proto, u32 src, u32 dst, const u8 *hdr, size_t hlen, size_t *len)
{
	size_t payload = 11, n = 20 + hlen + payload;
	u8 *p = calloc(1, n);
	p[0] = 0x45, p[8] = 64, p[9] = proto;
	wr16(p + 2, (u16)n);
	wr16(p + 4, 0x1234);
	wr32(p + 12, src), wr32(p + 16, dst);
	memcpy(p + 20, hdr, hlen);
	for (size_t i = 0; i < payload; i++)
		p[20 + hlen + i] = (u8)(i * 13 + 1);
	wr16(p + 10, (u16)~csum(0, p, 20));
	u8 *l4 = p + 20;
	size_t l4len = n - 20;
	if (proto == IP_PROTO_UDP) {
		wr16(l4 + 4, (u16)l4len);
		wr16(l4 + 6, 0);
		u16 c = (u16)~csum(pseudo(p, proto, l4len), l4, l4len);
		wr16(l4 + 6, c ? c : 0xffff);
	} else if (proto == IP_PROTO_TCP) {
		wr16(l4 + 16, 0);
		wr16(l4 + 16, (u16)~csum(pseudo(p, proto, l4len), l4, l4len));
	} else if (proto == IP_PROTO_ICMP) {
		wr16(l4 + 2, 0);
		wr16(l4 + 2, (u16)~csum(0, l4, l4len));
	}
	*len = n;
	return p;
}

static u8 *udp(u32 src, u16 sport, u32 dst, u16 dport, size_t *len)
{
	u8 h[8] = {0};
	wr16(h, sport), wr16(h + 2, dport);
	return packet(IP_PROTO_UDP, src, dst, h, 8, len);
}

static u8 *tcp(u32 src, u16 sport, u32 dst, u16 dport, u8 flags, size_t *len)
{
	u8 h[20] = {0};
	wr16(h, sport), wr16(h + 2, dport);
	h[12] = 5 << 4, h[13] = flags;
	return packet(IP_PROTO_TCP, src, dst, h, 20, len);
}

static u8 *icmp(u8 type, u32 src, u32 dst, u16 id, size_t *len)
{
	u8 h[8] = {type};
	wr16(h + 4, id), wr16(h + 6, 1);
	return packet(IP_PROTO_ICMP, src, dst, h, 8, len);
}

/* every checksum of the packet holds, computed from scratch */
static bool sums_ok(const u8 *p)
{
	size_t n = rd16(p + 2), l4len = n - 20;
	const u8 *l4 = p + 20;
	if (csum(0, p, 20) != 0xffff)
		return false;
	if (p[9] == IP_PROTO_ICMP)
		return csum(0, l4, l4len) == 0xffff;
	if (p[9] == IP_PROTO_UDP && rd16(l4 + 6) == 0)
		return true;
	return csum(pseudo(p, p[9], l4len), l4, l4len) == 0xffff;
}

static void setup(struct nat *n)
{
	nat_init(n, IP(10, 0, 0, 0), IP(255, 255, 255, 0), 20000, 20099);
	nat_set_external(n, KEEL_EX);
}

TEST(nat_udp_flow_goes_out_and_its_reply_comes_back)
{
	static struct nat n;
	setup(&n);
	size_t len;
	u8 *p = udp(VM1, 5000, REMOTE, 53, &len);
	CHECK_EQ(nat_outbound(&n, p, len, 1 * SEC), NAT_TRANSLATED);
	CHECK_EQ(rd32(p + 12), KEEL_EX);
	CHECK_EQ(rd32(p + 16), REMOTE);
	u16 ex = rd16(p + 20);
	CHECK(ex >= 20000 && ex <= 20099);
	CHECK_EQ(rd16(p + 22), 53u);
	CHECK_EQ(p[8], 63u);
	CHECK(sums_ok(p));
	free(p);

	u8 *r = udp(REMOTE, 53, KEEL_EX, ex, &len);
	u32 to = 0;
	CHECK_EQ(nat_inbound(&n, r, len, 2 * SEC, &to), NAT_TRANSLATED);
	CHECK_EQ(to, VM1);
	CHECK_EQ(rd32(r + 16), VM1);
	CHECK_EQ(rd16(r + 22), 5000u);
	CHECK_EQ(rd32(r + 12), REMOTE);
	CHECK(sums_ok(r));
	free(r);

	/* the same flow again takes the same port; another remote port is another flow */
	p = udp(VM1, 5000, REMOTE, 53, &len);
	CHECK_EQ(nat_outbound(&n, p, len, 3 * SEC), NAT_TRANSLATED);
	CHECK_EQ(rd16(p + 20), ex);
	free(p);
	p = udp(VM1, 5000, REMOTE, 54, &len);
	CHECK_EQ(nat_outbound(&n, p, len, 3 * SEC), NAT_TRANSLATED);
	CHECK(rd16(p + 20) != ex);
	free(p);
	CHECK_EQ(n.st.out, 3u);
	CHECK_EQ(n.st.in, 1u);
	CHECK_EQ(n.st.maps_made, 2u);
}

TEST(nat_takes_replies_only_from_the_flows_remote)
{
	static struct nat n;
	setup(&n);
	size_t len;
	u32 to = 0;
	u8 *p = udp(VM1, 5000, REMOTE, 53, &len);
	REQUIRE(nat_outbound(&n, p, len, 0) == NAT_TRANSLATED);
	u16 ex = rd16(p + 20);
	free(p);
	u8 *r = udp(IP(6, 6, 6, 6), 53, KEEL_EX, ex, &len);
	CHECK_EQ(nat_inbound(&n, r, len, 0, &to), NAT_NOT_MINE);
	CHECK_EQ(rd32(r + 16), KEEL_EX);
	free(r);
	r = udp(REMOTE, 99, KEEL_EX, ex, &len);
	CHECK_EQ(nat_inbound(&n, r, len, 0, &to), NAT_NOT_MINE);
	free(r);
	/* a port nobody opened is Keel's own (its stack answers or drops it) */
	r = udp(REMOTE, 53, KEEL_EX, 7777, &len);
	CHECK_EQ(nat_inbound(&n, r, len, 0, &to), NAT_NOT_MINE);
	free(r);
	CHECK_EQ(n.st.in, 0u);
}

TEST(nat_tcp_flows_age_by_their_state)
{
	static struct nat n;
	setup(&n);
	size_t len;
	u8 *a = tcp(VM1, 40000, REMOTE, 80, 0x02, &len);
	REQUIRE(nat_outbound(&n, a, len, 0) == NAT_TRANSLATED);
	CHECK(sums_ok(a));
	free(a);
	u8 *b = tcp(VM1, 40001, REMOTE, 80, 0x02, &len);
	REQUIRE(nat_outbound(&n, b, len, 0) == NAT_TRANSLATED);
	u16 ex_b = rd16(b + 20);
	free(b);
	/* b's remote closes it */
	u8 *fin = tcp(REMOTE, 80, KEEL_EX, ex_b, 0x11, &len);
	u32 to;
	CHECK_EQ(nat_inbound(&n, fin, len, 1 * SEC, &to), NAT_TRANSLATED);
	CHECK(sums_ok(fin));
	free(fin);
	nat_expire(&n, 60 * SEC);
	CHECK_EQ(nat_active(&n), 1u); /* the open connection stays, the closed one went */
	nat_expire(&n, 7201 * SEC);
	CHECK_EQ(nat_active(&n), 0u);
	CHECK_EQ(n.st.maps_expired, 2u);
}

TEST(nat_icmp_echo_identifiers_are_translated_per_vm)
{
	static struct nat n;
	setup(&n);
	size_t len;
	u8 *a = icmp(8, VM1, REMOTE, 7, &len);
	u8 *b = icmp(8, VM2, REMOTE, 7, &len);
	REQUIRE(nat_outbound(&n, a, len, 0) == NAT_TRANSLATED);
	REQUIRE(nat_outbound(&n, b, len, 0) == NAT_TRANSLATED);
	CHECK(sums_ok(a) && sums_ok(b));
	u16 ida = rd16(a + 24), idb = rd16(b + 24);
	CHECK(ida != idb);
	u8 *rb = icmp(0, REMOTE, KEEL_EX, idb, &len);
	u32 to = 0;
	CHECK_EQ(nat_inbound(&n, rb, len, 0, &to), NAT_TRANSLATED);
	CHECK_EQ(to, VM2);
	CHECK_EQ(rd16(rb + 24), 7u);
	CHECK(sums_ok(rb));
	/* an echo request to Keel's address is Keel's own */
	u8 *req = icmp(8, REMOTE, KEEL_EX, ida, &len);
	CHECK_EQ(nat_inbound(&n, req, len, 0, &to), NAT_NOT_MINE);
	free(a), free(b), free(rb), free(req);
	nat_expire(&n, 31 * SEC);
	CHECK_EQ(nat_active(&n), 0u);
}

TEST(nat_forwarded_port_reaches_the_vm_from_anywhere)
{
	static struct nat n;
	setup(&n);
	CHECK(nat_forward(&n, IP_PROTO_TCP, 8080, VM2, 80) == NULL);
	CHECK_CONTAINS(nat_forward(&n, IP_PROTO_TCP, 8080, VM1, 22), "already forwarded");
	CHECK(nat_forward(&n, IP_PROTO_UDP, 8080, VM1, 22) == NULL);
	CHECK_CONTAINS(nat_forward(&n, IP_PROTO_TCP, 20050, VM1, 22), "range");
	CHECK_CONTAINS(nat_forward(&n, IP_PROTO_TCP, 2222, REMOTE, 22), "network");
	CHECK_CONTAINS(nat_forward(&n, IP_PROTO_ICMP, 1, VM1, 1), "tcp and udp");
	CHECK_CONTAINS(nat_forward(&n, IP_PROTO_TCP, 0, VM1, 22), "port 0");
	size_t len;
	u32 to = 0;
	u8 *syn = tcp(IP(1, 2, 3, 4), 5555, KEEL_EX, 8080, 0x02, &len);
	CHECK_EQ(nat_inbound(&n, syn, len, 0, &to), NAT_TRANSLATED);
	CHECK_EQ(to, VM2);
	CHECK_EQ(rd16(syn + 22), 80u);
	CHECK(sums_ok(syn));
	free(syn);
	/* the VM's answer leaves from the forwarded port */
	u8 *ack = tcp(VM2, 80, IP(1, 2, 3, 4), 5555, 0x12, &len);
	CHECK_EQ(nat_outbound(&n, ack, len, 0), NAT_TRANSLATED);
	CHECK_EQ(rd16(ack + 20), 8080u);
	CHECK_EQ(rd32(ack + 12), KEEL_EX);
	CHECK(sums_ok(ack));
	free(ack);
	nat_expire(&n, 100000 * SEC);
	CHECK_EQ(nat_active(&n), 2u); /* forwards never age */
}

TEST(nat_one_vm_cannot_take_the_whole_table)
{
	static struct nat n;
	nat_init(&n, IP(10, 0, 0, 0), IP(255, 255, 255, 0), 20000, 29999);
	nat_set_external(&n, KEEL_EX);
	size_t len;
	for (unsigned i = 0; i < 300; i++) {
		u8 *p = udp(VM1, (u16)(1000 + i), REMOTE, 53, &len);
		CHECK_EQ(nat_outbound(&n, p, len, i), NAT_TRANSLATED);
		free(p);
	}
	CHECK_EQ(nat_active(&n), NAT_MAX_MAPS / 4);
	for (unsigned i = 0; i < 100; i++) {
		u8 *p = udp(VM2, (u16)(1000 + i), REMOTE, 53, &len);
		CHECK_EQ(nat_outbound(&n, p, len, 1000 + i), NAT_TRANSLATED);
		free(p);
	}
	CHECK_EQ(nat_active(&n), 2 * (NAT_MAX_MAPS / 4));
	CHECK_EQ(n.st.drops[NAT_DROP_FULL], 0u);
}

TEST(nat_patches_an_icmp_error_about_a_vms_flow)
{
	static struct nat n;
	setup(&n);
	size_t len;
	u8 *p = udp(VM1, 5000, REMOTE, 9, &len);
	REQUIRE(nat_outbound(&n, p, len, 0) == NAT_TRANSLATED);
	u16 ex = rd16(p + 20);
	/* port unreachable from the remote, quoting the packet as it left (header + 8 bytes) */
	u8 body[8 + 28] = {3, 3};
	memcpy(body + 8, p, 28);
	free(p);
	size_t elen;
	u8 *e = packet(IP_PROTO_ICMP, REMOTE, KEEL_EX, body, sizeof(body), &elen);
	u32 to = 0;
	CHECK_EQ(nat_inbound(&n, e, elen, 0, &to), NAT_TRANSLATED);
	CHECK_EQ(to, VM1);
	CHECK_EQ(rd32(e + 16), VM1);
	const u8 *q = e + 28;
	CHECK_EQ(rd32(q + 12), VM1);
	CHECK_EQ(rd16(q + 20), 5000u);
	CHECK_EQ(csum(0, q, 20), 0xffffu);
	CHECK(sums_ok(e));
	free(e);
	(void)ex;
}

TEST(nat_udp_without_checksum_stays_without)
{
	static struct nat n;
	setup(&n);
	size_t len;
	u8 *p = udp(VM1, 5000, REMOTE, 53, &len);
	wr16(p + 26, 0);
	CHECK_EQ(nat_outbound(&n, p, len, 0), NAT_TRANSLATED);
	CHECK_EQ(rd16(p + 26), 0u);
	CHECK_EQ(csum(0, p, 20), 0xffffu);
	free(p);
}

/* a copy of p cut to n bytes, in a buffer of exactly n (ASan sees any read past it) */
static u8 *cut(const u8 *p, size_t n)
{
	u8 *c = malloc(n ? n : 1);
	memcpy(c, p, n);
	return c;
}

TEST(nat_drops_hostile_packets_and_counts_why)
{
	static struct nat n;
	setup(&n);
	size_t len;
	u8 *good = udp(VM1, 5000, REMOTE, 53, &len);
	for (size_t k = 0; k < len; k++) {
		u8 *c = cut(good, k);
		CHECK(nat_outbound(&n, c, k, 0) == NAT_DROPPED);
		free(c);
	}
	CHECK(n.st.drops[NAT_DROP_MALFORMED] == len);
	struct {
		size_t off;
		u8 val;
		enum nat_drop why;
	} bad[] = {
	    {0, 0x44, NAT_DROP_MALFORMED},  /* IHL 4 */
	    {0, 0x4f, NAT_DROP_MALFORMED},  /* IHL past the packet */
	    {0, 0x65, NAT_DROP_MALFORMED},  /* version 6 */
	    {2, 0xff, NAT_DROP_MALFORMED},  /* total length past the buffer */
	    {11, 0x00, NAT_DROP_MALFORMED}, /* header checksum */
	    {24, 0xff, NAT_DROP_MALFORMED}, /* UDP length past the packet */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		u8 *c = cut(good, len);
		c[bad[i].off] = bad[i].val;
		if (bad[i].off >= 20) { /* keep the IP header right: only the UDP field is wrong */
			wr16(c + 10, 0);
			wr16(c + 10, (u16)~csum(0, c, 20));
		}
		u64 before = n.st.drops[bad[i].why];
		CHECK_EQ(nat_outbound(&n, c, len, 0), NAT_DROPPED);
		CHECK_EQ(n.st.drops[bad[i].why], before + 1);
		free(c);
	}
	/* a fragment, TTL 1, another network's source, another protocol: each fixed up so only
	 * that one thing is wrong */
	struct {
		size_t off;
		u8 val;
		enum nat_drop why;
	} ip_bad[] = {{6, 0x20, NAT_DROP_FRAGMENT},
		      {7, 0x08, NAT_DROP_FRAGMENT},
		      {8, 1, NAT_DROP_TTL},
		      {12, 192, NAT_DROP_SPOOFED},
		      {9, 47, NAT_DROP_PROTO}};
	for (unsigned i = 0; i < ARRAY_SIZE(ip_bad); i++) {
		u8 *c = cut(good, len);
		c[ip_bad[i].off] = ip_bad[i].val;
		wr16(c + 10, 0);
		wr16(c + 10, (u16)~csum(0, c, 20));
		u64 before = n.st.drops[ip_bad[i].why];
		CHECK_EQ(nat_outbound(&n, c, len, 0), NAT_DROPPED);
		CHECK_EQ(n.st.drops[ip_bad[i].why], before + 1);
		free(c);
	}
	/* TCP with a data offset past the packet */
	u8 *t = tcp(VM1, 1, REMOTE, 2, 0x02, &len);
	t[32] = 0xf0;
	CHECK_EQ(nat_outbound(&n, t, len, 0), NAT_DROPPED);
	free(t);
	/* inbound: cut copies of a good reply never read past their end */
	u8 *r = udp(REMOTE, 53, KEEL_EX, 20000, &len);
	for (size_t k = 0; k < len; k++) {
		u8 *c = cut(r, k);
		u32 to;
		CHECK(nat_inbound(&n, c, k, 0, &to) != NAT_TRANSLATED);
		free(c);
	}
	free(r);
	free(good);
	CHECK_EQ(n.st.out, 0u);
	CHECK_EQ(nat_active(&n), 0u);
}

TEST(nat_without_an_outside_address_drops_and_says_so)
{
	static struct nat n;
	nat_init(&n, IP(10, 0, 0, 0), IP(255, 255, 255, 0), 0, 0);
	CHECK_EQ(n.port_lo, 20000u); /* a bad range takes the default */
	size_t len;
	u8 *p = udp(VM1, 5000, REMOTE, 53, &len);
	CHECK_EQ(nat_outbound(&n, p, len, 0), NAT_DROPPED);
	CHECK_EQ(n.st.drops[NAT_DROP_NO_ADDRESS], 1u);
	CHECK_STR(nat_drop_name(NAT_DROP_NO_ADDRESS), "no address");
	/* inside traffic is not the translator's */
	free(p);
	p = udp(VM1, 5000, VM2, 53, &len);
	CHECK_EQ(nat_outbound(&n, p, len, 0), NAT_NOT_MINE);
	free(p);
}
