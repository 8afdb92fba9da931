/* IPv4 for Keel's own address: header checks (no fragments, no options trusted), ICMP echo
 * both ways, and UDP with a small table of bound ports; sending picks the next hop (the
 * subnet or the gateway) and hands the frame to ARP. */
#include "net_priv.h"
#include "../hypervisor/console.h"
#include "../hypervisor/lib.h"

#define IP_FLAG_MF	0x2000
#define IP_FLAG_DF	0x4000
#define IP_FRAG_OFFSET	0x1fff
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO	8
#define PING_DATA	"keel ping 0123456789abcdefghij" /* the payload of Keel's pings */

static bool is_subnet_broadcast(const struct netstack *ns, u32 dst)
{
	return ns->configured && ns->mask != 0xffffffffu && dst == (ns->ip | ~ns->mask);
}

static u32 pseudo_sum(u32 src, u32 dst, u8 proto, size_t len)
{
	u8 ph[12];
	put_be32(ph, src);
	put_be32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = proto;
	put_be16(ph + 10, (u16)len);
	return inet_sum(0, ph, sizeof(ph));
}

bool udp_bind(struct netstack *ns, u16 port, udp_rx_fn fn, void *ctx)
{
	struct udp_binding *free_slot = NULL;
	if (!port || !fn)
		return false;
	for (unsigned i = 0; i < NET_UDP_BINDINGS; i++) {
		if (ns->udp[i].port == port)
			return false;
		if (!ns->udp[i].port && !free_slot)
			free_slot = &ns->udp[i];
	}
	if (!free_slot)
		return false;
	*free_slot = (struct udp_binding){port, fn, ctx};
	return true;
}

void udp_unbind(struct netstack *ns, u16 port)
{
	for (unsigned i = 0; i < NET_UDP_BINDINGS; i++)
		if (ns->udp[i].port == port)
			ns->udp[i] = (struct udp_binding){0, NULL, NULL};
}

static bool route_out(struct netstack *ns, u32 dst, size_t flen);

bool ipv4_output(struct netstack *ns, u32 src, u32 dst, u8 proto, size_t len)
{
	u8 *f = ns->txbuf;
	u8 *h = f + ETH_HLEN;
	if (len > ETH_MAX_FRAME - ETH_HLEN - IP_HLEN)
		return false;
	h[0] = 0x45;
	h[1] = 0;
	put_be16(h + 2, (u16)(IP_HLEN + len));
	put_be16(h + 4, ns->ip_id++);
	put_be16(h + 6, IP_FLAG_DF); /* Keel never fragments: its datagrams fit the MTU */
	h[8] = NET_IP_TTL;
	h[9] = proto;
	put_be16(h + 10, 0);
	put_be32(h + 12, src);
	put_be32(h + 16, dst);
	put_be16(h + 10, inet_fold(inet_sum(0, h, IP_HLEN)));
	return route_out(ns, dst, ETH_HLEN + IP_HLEN + len);
}

/* The frame in ns->txbuf (flen bytes, the IPv4 packet after room for its Ethernet header)
 * to dst: broadcast, its own address on the subnet, or the gateway. */
static bool route_out(struct netstack *ns, u32 dst, size_t flen)
{
	u8 *f = ns->txbuf;
	if (dst == IP4_BROADCAST || is_subnet_broadcast(ns, dst)) {
		eth_output(ns, f, flen, eth_broadcast, ETH_TYPE_IPV4);
		return true;
	}
	u32 hop = 0;
	if (ns->configured && (dst & ns->mask) == (ns->ip & ns->mask))
		hop = dst;
	else if (ns->configured && ns->gw)
		hop = ns->gw;
	if (!hop) {
		ns->st.ip_no_route++;
		return false;
	}
	return arp_output(ns, hop, f, flen);
}

bool ipv4_forward(struct netstack *ns, const u8 *pkt, size_t len)
{
	memcpy(ns->txbuf + ETH_HLEN, pkt, len);
	return route_out(ns, get_be32(pkt + 16), ETH_HLEN + len);
}

bool udp_output(struct netstack *ns, u32 src_ip, u16 src_port, u32 dst_ip, u16 dst_port,
		const void *data, size_t len)
{
	if (len > NET_UDP_MAX)
		return false;
	u8 *u = ns->txbuf + ETH_HLEN + IP_HLEN;
	size_t ulen = UDP_HLEN + len;
	put_be16(u, src_port);
	put_be16(u + 2, dst_port);
	put_be16(u + 4, (u16)ulen);
	put_be16(u + 6, 0);
	memmove(u + UDP_HLEN, data, len);
	u16 sum = inet_fold(inet_sum(pseudo_sum(src_ip, dst_ip, IP_PROTO_UDP, ulen), u, ulen));
	put_be16(u + 6, sum ? sum : 0xffff); /* 0 would mean "no checksum" */
	ns->st.udp_tx++;
	return ipv4_output(ns, src_ip, dst_ip, IP_PROTO_UDP, ulen);
}

bool icmp_echo_request(struct netstack *ns, u32 dst)
{
	if (!ns->configured)
		return false;
	u8 *m = ns->txbuf + ETH_HLEN + IP_HLEN;
	size_t len = ICMP_HLEN + sizeof(PING_DATA) - 1;
	m[0] = ICMP_ECHO;
	m[1] = 0;
	put_be16(m + 2, 0);
	put_be16(m + 4, NET_PING_ID);
	put_be16(m + 6, ++ns->ping_seq);
	memcpy(m + ICMP_HLEN, PING_DATA, sizeof(PING_DATA) - 1);
	put_be16(m + 2, inet_fold(inet_sum(0, m, len)));
	ns->ping_sent_ns = ns->now_ns;
	ns->ping_target = dst;
	return ipv4_output(ns, ns->ip, dst, IP_PROTO_ICMP, len);
}

static void icmp_input(struct netstack *ns, u32 src, bool to_us, const u8 *m, size_t len)
{
	ns->st.icmp_rx++;
	if (len < ICMP_HLEN || inet_fold(inet_sum(0, m, len)) != 0) {
		ns->st.icmp_bad++;
		return;
	}
	if (m[0] == ICMP_ECHO && m[1] == 0) {
		/* no answer to a broadcast ping: Keel is no amplifier */
		if (!to_us || len > ETH_MAX_FRAME - ETH_HLEN - IP_HLEN)
			return;
		u8 *r = ns->txbuf + ETH_HLEN + IP_HLEN;
		memcpy(r, m, len);
		r[0] = ICMP_ECHO_REPLY;
		put_be16(r + 2, 0);
		put_be16(r + 2, inet_fold(inet_sum(0, r, len)));
		ns->st.icmp_echo_replied++;
		ipv4_output(ns, ns->ip, src, IP_PROTO_ICMP, len);
	} else if (m[0] == ICMP_ECHO_REPLY && get_be16(m + 4) == NET_PING_ID) {
		char ip[16];
		ns->st.icmp_echo_replies_rx++;
		ns->ping_replies++;
		ns->ping_last_seq = get_be16(m + 6);
		ns->ping_rtt_ns = ns->now_ns - ns->ping_sent_ns;
		pr_info("net: echo reply from %s seq %u (%llu ms since the last request)\n",
			ip4_format(src, ip), ns->ping_last_seq,
			(unsigned long long)(ns->ping_rtt_ns / 1000000));
	}
}

static void udp_input(struct netstack *ns, u32 src, u32 dst, bool dhcp_only, const u8 *u,
		      size_t len)
{
	ns->st.udp_rx++;
	if (len < UDP_HLEN) {
		ns->st.udp_bad++;
		return;
	}
	u16 ulen = get_be16(u + 4);
	if (ulen < UDP_HLEN || ulen > len) {
		ns->st.udp_bad++;
		return;
	}
	if (get_be16(u + 6) &&
	    inet_fold(inet_sum(pseudo_sum(src, dst, IP_PROTO_UDP, ulen), u, ulen)) != 0) {
		ns->st.udp_bad_checksum++;
		return;
	}
	u16 sport = get_be16(u), dport = get_be16(u + 2);
	if (dhcp_only && dport != UDP_PORT_DHCP_CLIENT) {
		ns->st.ip_not_ours++;
		return;
	}
	for (unsigned i = 0; i < NET_UDP_BINDINGS; i++) {
		const struct udp_binding *b = &ns->udp[i];
		if (b->port && b->port == dport) {
			b->fn(b->ctx, ns, src, sport, u + UDP_HLEN, ulen - UDP_HLEN);
			return;
		}
	}
	ns->st.udp_no_port++;
}

void ipv4_input(struct netstack *ns, const u8 *h, size_t len)
{
	ns->st.ip_rx++;
	if (len < IP_HLEN || h[0] >> 4 != 4) {
		ns->st.ip_bad_header++;
		return;
	}
	size_t ihl = (size_t)(h[0] & 15) * 4;
	size_t total = get_be16(h + 2);
	if (ihl < IP_HLEN || ihl > len || total < ihl || total > len) {
		ns->st.ip_bad_header++;
		return;
	}
	if (inet_fold(inet_sum(0, h, ihl)) != 0) {
		ns->st.ip_bad_checksum++;
		return;
	}
	u16 frag = get_be16(h + 6);
	if ((frag & IP_FLAG_MF) || (frag & IP_FRAG_OFFSET)) {
		ns->st.ip_fragment++; /* Keel reassembles nothing: its peers send whole datagrams */
		return;
	}
	if (h[8] == 0) {
		ns->st.ip_ttl_zero++;
		return;
	}
	u32 src = get_be32(h + 12), dst = get_be32(h + 16);
	if (src == IP4_BROADCAST || (src >> 28) == 0xe) {
		ns->st.ip_bad_header++; /* a broadcast or multicast sender cannot be answered */
		return;
	}
	bool to_us = ns->configured && dst == ns->ip;
	if (to_us && ns->ip_hook && ns->ip_hook(ns->ip_hook_ctx, h, total))
		return;
	bool bcast = dst == IP4_BROADCAST || is_subnet_broadcast(ns, dst);
	/* before it has an address, Keel takes only DHCP answers, which may be sent to the
	 * offered address or to a broadcast Ethernet address */
	bool dhcp_only = !to_us && !bcast && !ns->configured;
	if (!to_us && !bcast && !dhcp_only) {
		ns->st.ip_not_ours++;
		return;
	}
	const u8 *p = h + ihl;
	size_t plen = total - ihl;
	switch (h[9]) {
	case IP_PROTO_ICMP:
		if (dhcp_only) {
			ns->st.ip_not_ours++;
			return;
		}
		icmp_input(ns, src, to_us, p, plen);
		break;
	case IP_PROTO_UDP:
		udp_input(ns, src, dst, dhcp_only, p, plen);
		break;
	default:
		ns->st.ip_other_proto++;
		break;
	}
}
