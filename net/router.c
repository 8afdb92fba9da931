/* The VMs' gateway (router.h): ARP and ping for the gateway address, the VMs' addresses
 * learned or bound from their configs, and their traffic to and from the outside through
 * the translator. Every frame from a VM is hostile: lengths are checked before any field is
 * read; a VM can claim only addresses no config binds to another VM. */
#include "router.h"
#include "net_priv.h"
#include "../hypervisor/console.h"
#include "../hypervisor/lib.h"

#define ARP_REQUEST 1
#define ARP_REPLY   2
#define HOST_AGE_NS (600 * 1000000000ULL)

void router_init(struct router *r, u32 gw_ip, u32 mask, const u8 gw_mac[ETH_ALEN],
		 struct net_endpoint inside, struct router_outside outside)
{
	memset(r, 0, sizeof(*r));
	r->gw_ip = gw_ip;
	r->mask = mask;
	r->net = gw_ip & mask;
	memcpy(r->gw_mac, gw_mac, ETH_ALEN);
	r->inside = inside;
	r->outside = outside;
	nat_init(&r->nat, r->net, mask, 20000, 59999);
}

void router_set_outside_address(struct router *r, u32 ip)
{
	nat_set_external(&r->nat, ip);
}

static bool on_net(const struct router *r, u32 ip)
{
	/* the network and broadcast addresses and the gateway are nobody's */
	return (ip & r->mask) == r->net && ip != r->gw_ip && (ip & ~r->mask) != 0 &&
	       (ip | r->mask) != 0xffffffffu;
}

static struct router_host *host_by_ip(struct router *r, u32 ip)
{
	for (unsigned i = 0; i < ROUTER_MAX_HOSTS; i++)
		if (r->hosts[i].ip == ip)
			return &r->hosts[i];
	return NULL;
}

const char *router_bind(struct router *r, u32 ip, const u8 mac[ETH_ALEN])
{
	if (!on_net(r, ip))
		return "not a host address of the VMs' network";
	struct router_host *h = host_by_ip(r, ip);
	if (h && h->fixed && memcmp(h->mac, mac, ETH_ALEN))
		return "the address is another VM's";
	if (!h)
		h = host_by_ip(r, 0);
	if (!h)
		return "no room for another VM";
	*h = (struct router_host){.ip = ip, .fixed = true};
	memcpy(h->mac, mac, ETH_ALEN);
	return NULL;
}

void router_unbind(struct router *r, u32 ip)
{
	struct router_host *h = ip ? host_by_ip(r, ip) : NULL;
	if (h)
		*h = (struct router_host){0};
}

/* The sender of an ARP or IPv4 packet says it holds ip: believed unless a config binds ip
 * to another MAC. The table holds one entry per address; when full, the oldest learned
 * entry makes room. */
static void learn(struct router *r, u32 ip, const u8 *mac)
{
	if (!on_net(r, ip) || eth_addr_is_multicast(mac))
		return;
	struct router_host *h = host_by_ip(r, ip), *oldest = NULL;
	if (h && h->fixed)
		return;
	if (!h)
		h = host_by_ip(r, 0);
	for (unsigned i = 0; !h && i < ROUTER_MAX_HOSTS; i++)
		if (!r->hosts[i].fixed && (!oldest || r->hosts[i].last_ns < oldest->last_ns))
			oldest = &r->hosts[i];
	if (!h)
		h = oldest;
	if (!h)
		return;
	h->ip = ip;
	memcpy(h->mac, mac, ETH_ALEN);
	h->last_ns = r->now_ns;
}

/* the frame in r->buf, payload_len bytes after its header, to dst */
static void send_inside(struct router *r, const u8 *dst, u16 type, size_t payload_len)
{
	memcpy(r->buf, dst, ETH_ALEN);
	memcpy(r->buf + ETH_ALEN, r->gw_mac, ETH_ALEN);
	put_be16(r->buf + 12, type);
	size_t len = ETH_HLEN + payload_len;
	if (len < ETH_MIN_FRAME) {
		memset(r->buf + len, 0, ETH_MIN_FRAME - len);
		len = ETH_MIN_FRAME;
	}
	net_deliver(&r->inside, r->buf, len);
}

static void arp_in(struct router *r, const u8 *eth_src, const u8 *a, size_t len)
{
	if (len < 28 || get_be16(a) != 1 || get_be16(a + 2) != ETH_TYPE_IPV4 || a[4] != 6 ||
	    a[5] != 4) {
		r->st.drop_bad++;
		return;
	}
	/* the sender's MAC must be the frame's: the switch vouches for the frame's */
	if (memcmp(a + 8, eth_src, ETH_ALEN)) {
		r->st.drop_bad++;
		return;
	}
	u32 sip = get_be32(a + 14), tip = get_be32(a + 24);
	learn(r, sip, a + 8);
	if (get_be16(a + 6) != ARP_REQUEST || tip != r->gw_ip)
		return;
	u8 *o = r->buf + ETH_HLEN;
	put_be16(o, 1), put_be16(o + 2, ETH_TYPE_IPV4), o[4] = 6, o[5] = 4,
							put_be16(o + 6, ARP_REPLY);
	memcpy(o + 8, r->gw_mac, ETH_ALEN);
	put_be32(o + 14, r->gw_ip);
	memcpy(o + 18, a + 8, ETH_ALEN);
	put_be32(o + 24, sip);
	r->st.arp_replies++;
	send_inside(r, a + 8, ETH_TYPE_ARP, 28);
}

/* An echo request to the gateway: answered in place (addresses swapped, type 0). */
static void ping_gateway(struct router *r, const u8 *eth_src, const u8 *ip, size_t ihl,
			 size_t total)
{
	if (total - ihl < 8 || ip[ihl] != 8 || inet_fold(inet_sum(0, ip + ihl, total - ihl)) != 0)
		return;
	u8 *o = r->buf + ETH_HLEN;
	memcpy(o, ip, total);
	put_be32(o + 12, r->gw_ip);
	memcpy(o + 16, ip + 12, 4);
	o[8] = 64;
	put_be16(o + 10, 0);
	put_be16(o + 10, inet_fold(inet_sum(0, o, ihl)));
	o[ihl] = 0;
	put_be16(o + ihl + 2, 0);
	put_be16(o + ihl + 2, inet_fold(inet_sum(0, o + ihl, total - ihl)));
	r->st.pings++;
	send_inside(r, eth_src, ETH_TYPE_IPV4, total);
}

static void ip_in(struct router *r, const u8 *eth, const u8 *ip, size_t len)
{
	if (len < 20 || ip[0] >> 4 != 4) {
		r->st.drop_bad++;
		return;
	}
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, total = get_be16(ip + 2);
	if (ihl < 20 || total < ihl || total > len) {
		r->st.drop_bad++;
		return;
	}
	u32 src = get_be32(ip + 12), dst = get_be32(ip + 16);
	if (memcmp(eth, r->gw_mac, ETH_ALEN))
		return; /* not sent to the gateway: another VM's, or a broadcast */
	learn(r, src, eth + ETH_ALEN);
	if (dst == r->gw_ip) {
		if (ip[9] == IP_PROTO_ICMP)
			ping_gateway(r, eth + ETH_ALEN, ip, ihl, total);
		return;
	}
	/* translated in a copy: the frame is only borrowed */
	memcpy(r->buf, ip, total);
	if (nat_outbound(&r->nat, r->buf, total, r->now_ns) != NAT_TRANSLATED) {
		r->st.drop_nat++;
		return;
	}
	if (!r->outside.send_ip || !r->outside.send_ip(r->outside.ctx, r->buf, total)) {
		r->st.drop_send++;
		return;
	}
	r->st.to_outside++;
}

void router_inside_input(void *ctx, const u8 *frame, size_t len)
{
	struct router *r = ctx;
	r->st.in_frames++;
	if (len < ETH_HLEN || len > ETH_MAX_FRAME) {
		r->st.drop_bad++;
		return;
	}
	u16 type = get_be16(frame + 12);
	if (type == ETH_TYPE_ARP)
		arp_in(r, frame + ETH_ALEN, frame + ETH_HLEN, len - ETH_HLEN);
	else if (type == ETH_TYPE_IPV4)
		ip_in(r, frame, frame + ETH_HLEN, len - ETH_HLEN);
	else
		r->st.drop_not_ip++;
}

bool router_outside_input(struct router *r, const u8 *pkt, size_t len)
{
	if (len < 20 || len > ETH_MAX_FRAME - ETH_HLEN)
		return false;
	u8 *ip = r->buf + ETH_HLEN;
	memcpy(ip, pkt, len);
	u32 to = 0;
	enum nat_verdict v = nat_inbound(&r->nat, ip, len, r->now_ns, &to);
	if (v == NAT_NOT_MINE)
		return false;
	if (v == NAT_DROPPED) {
		r->st.drop_nat++;
		return true;
	}
	struct router_host *h = host_by_ip(r, to);
	if (!h) {
		/* the VM has not spoken since its address was learned: nowhere to send it */
		r->st.drop_no_host++;
		return true;
	}
	r->st.from_outside++;
	u8 mac[ETH_ALEN];
	memcpy(mac, h->mac, ETH_ALEN);
	send_inside(r, mac, ETH_TYPE_IPV4, get_be16(ip + 2));
	return true;
}

void router_poll(struct router *r, u64 now_ns)
{
	r->now_ns = now_ns;
	nat_expire(&r->nat, now_ns);
	for (unsigned i = 0; i < ROUTER_MAX_HOSTS; i++) {
		struct router_host *h = &r->hosts[i];
		if (h->ip && !h->fixed && now_ns - h->last_ns > HOST_AGE_NS)
			h->ip = 0;
	}
}

static void ip_str(u32 ip, char *b)
{
	ksnprintf(b, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

void router_print(const struct router *r)
{
	char a[16], b[16];
	ip_str(r->gw_ip, a);
	ip_str(r->nat.ex_ip, b);
	kprintf("router: gateway %s, outside address %s, %u flows; %llu out, %llu in, %llu "
		"pings, %llu ARP replies\n",
		a, r->nat.ex_ip ? b : "(none yet)", nat_active(&r->nat),
		(unsigned long long)r->st.to_outside, (unsigned long long)r->st.from_outside,
		(unsigned long long)r->st.pings, (unsigned long long)r->st.arp_replies);
	kprintf("router: dropped: %llu bad, %llu not IP, %llu by the translator, %llu with no "
		"VM, %llu unsendable\n",
		(unsigned long long)r->st.drop_bad, (unsigned long long)r->st.drop_not_ip,
		(unsigned long long)r->st.drop_nat, (unsigned long long)r->st.drop_no_host,
		(unsigned long long)r->st.drop_send);
	for (unsigned d = 0; d < NAT_DROP_REASONS; d++)
		if (r->nat.st.drops[d])
			kprintf("router: translator dropped %llu: %s\n",
				(unsigned long long)r->nat.st.drops[d], nat_drop_name(d));
	for (unsigned i = 0; i < ROUTER_MAX_HOSTS; i++) {
		const struct router_host *h = &r->hosts[i];
		if (!h->ip)
			continue;
		ip_str(h->ip, a);
		kprintf("router: host %s at %02x:%02x:%02x:%02x:%02x:%02x%s\n", a, h->mac[0],
			h->mac[1], h->mac[2], h->mac[3], h->mac[4], h->mac[5],
			h->fixed ? " (config)" : "");
	}
	for (unsigned i = 0; i < NAT_MAX_MAPS; i++) {
		const struct nat_map *m = &r->nat.maps[i];
		if (!m->proto)
			continue;
		ip_str(m->in_ip, a);
		ip_str(m->remote_ip, b);
		const char *proto = m->proto == IP_PROTO_TCP   ? "tcp"
				    : m->proto == IP_PROTO_UDP ? "udp"
							       : "icmp";
		/* a forward has no one remote: any may use it */
		if (m->fixed)
			kprintf("router: %s %s:%u <-> :%u forwarded (%llu out, %llu in)\n", proto,
				a, m->in_port, m->ex_port, (unsigned long long)m->packets_out,
				(unsigned long long)m->packets_in);
		else
			kprintf("router: %s %s:%u <-> :%u to %s:%u (%llu out, %llu in)\n", proto, a,
				m->in_port, m->ex_port, b, m->remote_port,
				(unsigned long long)m->packets_out,
				(unsigned long long)m->packets_in);
	}
}
