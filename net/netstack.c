/* The stack's entry points: frames in (Ethernet demultiplexing), the timer poll, the public
 * send calls, and the guard that makes a wire answering synchronously safe: a frame that
 * arrives while the stack is sending waits in a small backlog until the send returns. */
#include "net_priv.h"
#include "../hypervisor/console.h"
#include "../hypervisor/lib.h"

void netstack_init(struct netstack *ns, const u8 mac[ETH_ALEN], struct net_endpoint tx,
		   const struct netstack_config *cfg)
{
	memset(ns, 0, sizeof(*ns));
	memcpy(ns->mac, mac, ETH_ALEN);
	ns->tx = tx;
	ns->cfg = *cfg;
	ns->ip_id = (u16)(mac[4] << 8 | mac[5]);
	if (cfg->mode == NET_STATIC) {
		ns->ip = cfg->ip;
		ns->mask = cfg->mask;
		ns->gw = cfg->gw;
		ns->configured = true;
	}
}

static void eth_input(struct netstack *ns, const u8 *f, size_t len)
{
	ns->st.rx_frames++;
	if (len < ETH_HLEN) {
		ns->st.rx_short++;
		return;
	}
	if (len > ETH_MAX_FRAME) {
		ns->st.rx_oversize++; /* jumbo frames: Keel's replies are built in 1514 bytes */
		return;
	}
	if (memcmp(f, ns->mac, ETH_ALEN) && memcmp(f, eth_broadcast, ETH_ALEN)) {
		ns->st.rx_not_for_us++;
		return;
	}
	u16 type = get_be16(f + 12);
	if (type == ETH_TYPE_ARP)
		arp_input(ns, f + ETH_HLEN, len - ETH_HLEN);
	else if (type == ETH_TYPE_IPV4)
		ipv4_input(ns, f + ETH_HLEN, len - ETH_HLEN);
	else
		ns->st.rx_other_type++; /* VLAN tags, IPv6 and the rest: not spoken here */
}

/* Every entry point runs between net_enter and net_leave: with SMP, the lock goes here. */
static bool net_enter(struct netstack *ns)
{
	return ns->depth++ == 0;
}

static void net_leave(struct netstack *ns)
{
	if (ns->depth == 1) {
		/* answers that came while we were sending; handling one may queue more */
		for (unsigned i = 0; i < ns->backlog_n; i++)
			eth_input(ns, ns->backlog[i], ns->backlog_len[i]);
		ns->backlog_n = 0;
	}
	ns->depth--;
}

void netstack_input(void *p, const u8 *frame, size_t len)
{
	struct netstack *ns = p;
	if (!net_enter(ns)) {
		if (len > ETH_MAX_FRAME) {
			ns->st.rx_frames++;
			ns->st.rx_oversize++;
		} else if (ns->backlog_n == NET_RX_BACKLOG) {
			ns->st.rx_frames++;
			ns->st.rx_backlog_full++;
		} else {
			memcpy(ns->backlog[ns->backlog_n], frame, len);
			ns->backlog_len[ns->backlog_n++] = (u16)len;
		}
		net_leave(ns);
		return;
	}
	eth_input(ns, frame, len);
	net_leave(ns);
}

void netstack_poll(struct netstack *ns, u64 now_ns)
{
	net_enter(ns);
	if (now_ns > ns->now_ns)
		ns->now_ns = now_ns;
	if (!ns->started) {
		ns->started = true;
		if (ns->cfg.mode == NET_DHCP)
			dhcp_start(ns);
		else
			arp_announce(ns);
	}
	arp_poll(ns);
	dhcp_poll(ns);
	net_leave(ns);
}

bool netstack_udp_bind(struct netstack *ns, u16 port, udp_rx_fn fn, void *ctx)
{
	return udp_bind(ns, port, fn, ctx);
}

void netstack_udp_unbind(struct netstack *ns, u16 port)
{
	udp_unbind(ns, port);
}

bool netstack_udp_send(struct netstack *ns, u16 src_port, u32 dst_ip, u16 dst_port,
		       const void *data, size_t len)
{
	if (!ns->configured)
		return false;
	net_enter(ns);
	bool ok = udp_output(ns, ns->ip, src_port, dst_ip, dst_port, data, len);
	net_leave(ns);
	return ok;
}

bool netstack_send_ip(struct netstack *ns, const u8 *pkt, size_t len)
{
	if (len < IP_HLEN || len > ETH_MAX_FRAME - ETH_HLEN)
		return false;
	net_enter(ns);
	bool ok = ipv4_forward(ns, pkt, len);
	net_leave(ns);
	return ok;
}

void netstack_set_ip_hook(struct netstack *ns, bool (*fn)(void *ctx, const u8 *pkt, size_t len),
			  void *ctx)
{
	ns->ip_hook = fn;
	ns->ip_hook_ctx = ctx;
}

bool netstack_ping(struct netstack *ns, u32 ip)
{
	net_enter(ns);
	bool ok = icmp_echo_request(ns, ip);
	net_leave(ns);
	return ok;
}

void netstack_print(const struct netstack *ns)
{
	const struct netstack_stats *s = &ns->st;
	char a[16], b[16];
	kprintf("net: mac %02x:%02x:%02x:%02x:%02x:%02x, %s", ns->mac[0], ns->mac[1], ns->mac[2],
		ns->mac[3], ns->mac[4], ns->mac[5],
		ns->cfg.mode == NET_DHCP     ? "DHCP"
		: ns->cfg.mode == NET_STATIC ? "static"
					     : "off");
	if (ns->cfg.mode == NET_DHCP)
		kprintf(" (%s)", dhcp_state_name(ns->dhcp.state));
	if (ns->configured)
		kprintf(", address %s/%u gateway %s\n", ip4_format(ns->ip, a),
			32 - __builtin_ctz(ns->mask), ns->gw ? ip4_format(ns->gw, b) : "none");
	else
		kprintf(", no address\n");
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
		const struct arp_entry *e = &ns->arp[i];
		if (e->state == ARP_FREE)
			continue;
		kprintf("  arp %-15s %02x:%02x:%02x:%02x:%02x:%02x %s\n", ip4_format(e->ip, a),
			e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5],
			arp_state_name(e->state));
	}
	kprintf("  frames: %llu in, %llu out; dropped: %llu short, %llu oversize, %llu not for "
		"us, %llu other type, %llu backlog full\n",
		(unsigned long long)s->rx_frames, (unsigned long long)s->tx_frames,
		(unsigned long long)s->rx_short, (unsigned long long)s->rx_oversize,
		(unsigned long long)s->rx_not_for_us, (unsigned long long)s->rx_other_type,
		(unsigned long long)s->rx_backlog_full);
	kprintf("  arp: %llu in, %llu bad, %llu replies and %llu requests sent, %llu queue "
		"full, %llu unresolved\n",
		(unsigned long long)s->arp_rx, (unsigned long long)s->arp_bad,
		(unsigned long long)s->arp_replies_sent, (unsigned long long)s->arp_requests_sent,
		(unsigned long long)s->arp_queue_drop, (unsigned long long)s->arp_unresolved_drop);
	kprintf("  ip: %llu in, %llu bad header, %llu bad checksum, %llu fragments, %llu TTL 0, "
		"%llu not ours, %llu other protocol, %llu no route\n",
		(unsigned long long)s->ip_rx, (unsigned long long)s->ip_bad_header,
		(unsigned long long)s->ip_bad_checksum, (unsigned long long)s->ip_fragment,
		(unsigned long long)s->ip_ttl_zero, (unsigned long long)s->ip_not_ours,
		(unsigned long long)s->ip_other_proto, (unsigned long long)s->ip_no_route);
	kprintf("  icmp: %llu in, %llu bad, %llu echo requests answered; Keel's pings: %u "
		"replies",
		(unsigned long long)s->icmp_rx, (unsigned long long)s->icmp_bad,
		(unsigned long long)s->icmp_echo_replied, ns->ping_replies);
	if (ns->ping_replies)
		kprintf(", the last seq %u in %llu ms", ns->ping_last_seq,
			(unsigned long long)(ns->ping_rtt_ns / 1000000));
	kprintf("\n  udp: %llu in, %llu bad, %llu bad checksum, %llu no port, %llu out\n",
		(unsigned long long)s->udp_rx, (unsigned long long)s->udp_bad,
		(unsigned long long)s->udp_bad_checksum, (unsigned long long)s->udp_no_port,
		(unsigned long long)s->udp_tx);
	if (ns->cfg.mode == NET_DHCP)
		kprintf("  dhcp: %llu offers, %llu acks, %llu naks, %llu bad, %llu retries, lease "
			"%u s\n",
			(unsigned long long)s->dhcp_offers, (unsigned long long)s->dhcp_acks,
			(unsigned long long)s->dhcp_naks, (unsigned long long)s->dhcp_bad,
			(unsigned long long)s->dhcp_retries, ns->dhcp.lease_s);
}
