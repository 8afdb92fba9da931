/* Shared by the network-stack tests (test_net*.c): a fake wire that keeps every frame the
 * stack sends, and builders for the frames a peer would send (Ethernet, ARP, IPv4, ICMP,
 * UDP, with correct checksums unless a test breaks them on purpose). */
#ifndef KEEL_UNIT_NET_FAKE_H
#define KEEL_UNIT_NET_FAKE_H

#include "test.h"
#include "../../hypervisor/lib.h"
#include "../../net/net_priv.h"

#define WIRE_MAX 32

struct wire {
	unsigned n; /* frames sent so far (only the first WIRE_MAX are kept) */
	size_t len[WIRE_MAX];
	u8 f[WIRE_MAX][ETH_MAX_FRAME];
	struct netstack *answer_to; /* set: a frame sent is fed back at once (loopback) */
};

static inline void wire_rx(void *ctx, const u8 *frame, size_t len)
{
	struct wire *w = ctx;
	if (len > ETH_MAX_FRAME || len < ETH_MIN_FRAME)
		test_fail(__FILE__, __LINE__, "the stack sent a frame of %zu bytes", len);
	if (w->n < WIRE_MAX) {
		memcpy(w->f[w->n], frame, len < ETH_MAX_FRAME ? len : ETH_MAX_FRAME);
		w->len[w->n] = len;
	}
	w->n++;
	if (w->answer_to)
		netstack_input(w->answer_to, frame, len);
}

static const u8 keel_mac[ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const u8 peer_mac[ETH_ALEN] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
#define KEEL_IP IP4(10, 0, 2, 15)
#define PEER_IP IP4(10, 0, 2, 2)
#define FAR_IP	IP4(192, 168, 7, 9)

/* A stack at 10.0.2.15/24, gateway 10.0.2.2, sending to w. */
static inline struct netstack *net_static(struct wire *w)
{
	struct netstack *ns = test_alloc(sizeof(*ns));
	struct netstack_config c = {NET_STATIC, KEEL_IP, IP4(255, 255, 255, 0), PEER_IP};
	netstack_init(ns, keel_mac, (struct net_endpoint){wire_rx, w}, &c);
	return ns;
}

static inline size_t eth_hdr(u8 *f, const u8 *dst, const u8 *src, u16 type)
{
	memcpy(f, dst, ETH_ALEN);
	memcpy(f + 6, src, ETH_ALEN);
	put_be16(f + 12, type);
	return ETH_HLEN;
}

static inline size_t arp_frame(u8 *f, u16 op, const u8 *sha, u32 spa, const u8 *tha, u32 tpa,
			       const u8 *eth_dst)
{
	eth_hdr(f, eth_dst, sha, ETH_TYPE_ARP);
	u8 *a = f + ETH_HLEN;
	put_be16(a, 1);
	put_be16(a + 2, ETH_TYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put_be16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put_be32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	put_be32(a + 24, tpa);
	return ETH_HLEN + 28;
}

/* An IPv4 frame from the peer around payload (already at f + 34); returns the frame length. */
static inline size_t ip_frame(u8 *f, const u8 *dst_mac, u32 src, u32 dst, u8 proto, size_t plen)
{
	eth_hdr(f, dst_mac, peer_mac, ETH_TYPE_IPV4);
	u8 *h = f + ETH_HLEN;
	memset(h, 0, IP_HLEN);
	h[0] = 0x45;
	put_be16(h + 2, (u16)(IP_HLEN + plen));
	put_be16(h + 4, 0x1234);
	h[8] = 64;
	h[9] = proto;
	put_be32(h + 12, src);
	put_be32(h + 16, dst);
	put_be16(h + 10, inet_fold(inet_sum(0, h, IP_HLEN)));
	return ETH_HLEN + IP_HLEN + plen;
}

static inline void ip_fix_checksum(u8 *f)
{
	u8 *h = f + ETH_HLEN;
	put_be16(h + 10, 0);
	put_be16(h + 10, inet_fold(inet_sum(0, h, (size_t)(h[0] & 15) * 4)));
}

static inline size_t udp_frame(u8 *f, u32 src, u16 sport, u32 dst, u16 dport, const void *data,
			       size_t len)
{
	u8 *u = f + ETH_HLEN + IP_HLEN;
	put_be16(u, sport);
	put_be16(u + 2, dport);
	put_be16(u + 4, (u16)(UDP_HLEN + len));
	put_be16(u + 6, 0);
	memcpy(u + UDP_HLEN, data, len);
	u8 ph[12];
	put_be32(ph, src);
	put_be32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = IP_PROTO_UDP;
	put_be16(ph + 10, (u16)(UDP_HLEN + len));
	u16 s = inet_fold(inet_sum(inet_sum(0, ph, 12), u, UDP_HLEN + len));
	put_be16(u + 6, s ? s : 0xffff);
	return ip_frame(f, dst == IP4_BROADCAST ? eth_broadcast : keel_mac, src, dst, IP_PROTO_UDP,
			UDP_HLEN + len);
}

static inline size_t ping_frame(u8 *f, u32 src, u32 dst, u16 id, u16 seq, size_t datalen)
{
	u8 *m = f + ETH_HLEN + IP_HLEN;
	m[0] = 8;
	m[1] = 0;
	put_be16(m + 2, 0);
	put_be16(m + 4, id);
	put_be16(m + 6, seq);
	for (size_t i = 0; i < datalen; i++)
		m[ICMP_HLEN + i] = (u8)i;
	put_be16(m + 2, inet_fold(inet_sum(0, m, ICMP_HLEN + datalen)));
	return ip_frame(f, keel_mac, src, dst, IP_PROTO_ICMP, ICMP_HLEN + datalen);
}

/* Teaches the stack the peer's MAC (an ARP request from the peer for Keel's address). */
static inline void net_learn_peer(struct netstack *ns, struct wire *w)
{
	u8 f[ETH_MAX_FRAME];
	static const u8 zero[6];
	size_t n = arp_frame(f, 1, peer_mac, PEER_IP, zero, KEEL_IP, eth_broadcast);
	unsigned before = w->n;
	netstack_input(ns, f, n);
	REQUIRE(w->n == before + 1); /* the reply */
}

#endif
