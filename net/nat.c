/* Network address and port translation for the VMs behind Keel's outside address (nat.h).
 * Flows are symmetric: one outside port per (VM address and port, remote address and port),
 * and a reply is taken only from the remote the flow was opened to, so the outside cannot
 * reach a VM except through a forwarded port. Every length in a packet is hostile: each is
 * checked against the bytes there before it is used. Checksums are patched (RFC 1624), so
 * a payload the VM sent is never read. */
#include "nat.h"
#include "net_priv.h"
#include "../hypervisor/lib.h"

#define SEC		 1000000000ULL
#define TIMEOUT_ICMP	 (30 * SEC)
#define TIMEOUT_UDP	 (120 * SEC)
#define TIMEOUT_TCP	 (7200 * SEC)
#define TIMEOUT_TCP_DONE (30 * SEC)
/* one VM holds at most this many dynamic flows: past it, its own oldest goes */
#define MAPS_PER_VM (NAT_MAX_MAPS / 4)

#define TCP_FIN 0x01
#define TCP_RST 0x04

#define ICMP_ECHO_REPLY	   0
#define ICMP_UNREACHABLE   3
#define ICMP_ECHO_REQUEST  8
#define ICMP_TIME_EXCEEDED 11

/* the checksum at csum covers a 16-bit word that changes from old to new (RFC 1624 eq. 3) */
static void csum_patch16(u8 *csum, u16 old, u16 new)
{
	put_be16(csum, inet_fold((u16)~get_be16(csum) + (u32)(u16)~old + new));
}

static void csum_patch32(u8 *csum, u32 old, u32 new)
{
	csum_patch16(csum, (u16)(old >> 16), (u16)(new >> 16));
	csum_patch16(csum, (u16)old, (u16) new);
}

void nat_init(struct nat *n, u32 in_net, u32 in_mask, u16 port_lo, u16 port_hi)
{
	memset(n, 0, sizeof(*n));
	n->in_mask = in_mask;
	n->in_net = in_net & in_mask;
	if (port_lo == 0 || port_hi < port_lo)
		port_lo = 20000, port_hi = 59999;
	n->port_lo = port_lo;
	n->port_hi = port_hi;
	n->next_port = port_lo;
}

void nat_set_external(struct nat *n, u32 ex_ip)
{
	n->ex_ip = ex_ip;
}

static bool inside(const struct nat *n, u32 ip)
{
	return (ip & n->in_mask) == n->in_net;
}

static bool port_taken(const struct nat *n, u8 proto, u16 port)
{
	for (unsigned i = 0; i < NAT_MAX_MAPS; i++)
		if (n->maps[i].proto == proto && n->maps[i].ex_port == port)
			return true;
	return false;
}

const char *nat_forward(struct nat *n, u8 proto, u16 ex_port, u32 in_ip, u16 in_port)
{
	if (proto != IP_PROTO_TCP && proto != IP_PROTO_UDP)
		return "only tcp and udp ports are forwarded";
	if (!ex_port || !in_port)
		return "port 0 is not a port";
	if (!inside(n, in_ip))
		return "the address is not on the VMs' network";
	if (ex_port >= n->port_lo && ex_port <= n->port_hi)
		return "the port is in the range kept for the VMs' own flows";
	if (port_taken(n, proto, ex_port))
		return "the port is already forwarded";
	for (unsigned i = 0; i < NAT_MAX_MAPS; i++) {
		struct nat_map *m = &n->maps[i];
		if (m->proto)
			continue;
		*m = (struct nat_map){.proto = proto,
				      .fixed = true,
				      .in_ip = in_ip,
				      .in_port = in_port,
				      .ex_port = ex_port};
		return NULL;
	}
	return "no room for another mapping";
}

void nat_unforward(struct nat *n, u8 proto, u16 ex_port)
{
	for (unsigned i = 0; i < NAT_MAX_MAPS; i++) {
		struct nat_map *m = &n->maps[i];
		if (m->fixed && m->proto == proto && m->ex_port == ex_port)
			*m = (struct nat_map){0};
	}
}

static u64 timeout_of(const struct nat_map *m)
{
	if (m->proto == IP_PROTO_ICMP)
		return TIMEOUT_ICMP;
	if (m->proto == IP_PROTO_UDP)
		return TIMEOUT_UDP;
	return m->closing ? TIMEOUT_TCP_DONE : TIMEOUT_TCP;
}

void nat_expire(struct nat *n, u64 now_ns)
{
	for (unsigned i = 0; i < NAT_MAX_MAPS; i++) {
		struct nat_map *m = &n->maps[i];
		if (m->proto && !m->fixed && now_ns - m->last_ns > timeout_of(m)) {
			m->proto = 0;
			n->st.maps_expired++;
		}
	}
}

unsigned nat_active(const struct nat *n)
{
	unsigned k = 0;
	for (unsigned i = 0; i < NAT_MAX_MAPS; i++)
		k += n->maps[i].proto != 0;
	return k;
}

const char *nat_drop_name(enum nat_drop d)
{
	static const char *const names[NAT_DROP_REASONS] = {
	    "malformed", "fragment", "ttl", "spoofed", "protocol", "table full", "no address"};
	return (unsigned)d < NAT_DROP_REASONS ? names[d] : "?";
}

/* The parts of one IPv4 packet the translator touches, every offset checked against len. */
struct pkt {
	u8 *ip;
	u8 *l4;
	size_t l4_len;
	u8 proto;
	u32 src, dst;
};

static enum nat_verdict drop(struct nat *n, enum nat_drop why)
{
	n->st.drops[why]++;
	return NAT_DROPPED;
}

/* Checks the IPv4 header: version, lengths, checksum, no fragment. */
static int parse_ip(u8 *ip, size_t len, struct pkt *p)
{
	if (len < 20 || ip[0] >> 4 != 4)
		return NAT_DROP_MALFORMED;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, total = get_be16(ip + 2);
	if (ihl < 20 || total < ihl || total > len)
		return NAT_DROP_MALFORMED;
	if (inet_fold(inet_sum(0, ip, ihl)) != 0)
		return NAT_DROP_MALFORMED;
	if (get_be16(ip + 6) & 0x3fff) /* MF or an offset */
		return NAT_DROP_FRAGMENT;
	*p = (struct pkt){.ip = ip,
			  .l4 = ip + ihl,
			  .l4_len = total - ihl,
			  .proto = ip[9],
			  .src = get_be32(ip + 12),
			  .dst = get_be32(ip + 16)};
	return -1;
}

/* Where the port the translator rewrites sits, and the checksum that covers it. */
struct l4 {
	u8 *sport, *dport; /* ICMP echo: both at the identifier */
	u8 *csum;	   /* NULL: UDP without a checksum */
	bool pseudo;	   /* the checksum covers the addresses too (TCP, UDP) */
	u8 flags;	   /* TCP */
};

static bool parse_l4(struct pkt *p, struct l4 *t, bool want_echo_request)
{
	u8 *h = p->l4;
	*t = (struct l4){0};
	switch (p->proto) {
	case IP_PROTO_TCP:
		if (p->l4_len < 20 || (size_t)(h[12] >> 4) * 4 < 20 ||
		    (size_t)(h[12] >> 4) * 4 > p->l4_len)
			return false;
		*t = (struct l4){h, h + 2, h + 16, true, h[13]};
		return true;
	case IP_PROTO_UDP:
		if (p->l4_len < 8 || get_be16(h + 4) < 8 || get_be16(h + 4) > p->l4_len)
			return false;
		*t = (struct l4){h, h + 2, get_be16(h + 6) ? h + 6 : NULL, true, 0};
		return true;
	case IP_PROTO_ICMP:
		if (p->l4_len < 8 ||
		    h[0] != (want_echo_request ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY))
			return false;
		*t = (struct l4){h + 4, h + 4, h + 2, false, 0};
		return true;
	}
	return false;
}

static u16 alloc_port(struct nat *n, u8 proto)
{
	unsigned span = (unsigned)(n->port_hi - n->port_lo) + 1;
	for (unsigned k = 0; k < span; k++) {
		u16 port = n->next_port;
		n->next_port = port >= n->port_hi ? n->port_lo : (u16)(port + 1);
		if (!port_taken(n, proto, port))
			return port;
	}
	return 0;
}

/* A free slot for a new flow of in_ip: a VM past its share gives up its own oldest flow. */
static struct nat_map *new_slot(struct nat *n, u32 in_ip, u64 now_ns)
{
	struct nat_map *free_slot = NULL, *oldest = NULL;
	unsigned mine = 0;
	for (unsigned i = 0; i < NAT_MAX_MAPS; i++) {
		struct nat_map *m = &n->maps[i];
		if (!m->proto) {
			free_slot = free_slot ? free_slot : m;
			continue;
		}
		if (m->fixed || m->in_ip != in_ip)
			continue;
		mine++;
		if (!oldest || m->last_ns < oldest->last_ns)
			oldest = m;
	}
	if (mine >= MAPS_PER_VM || (!free_slot && oldest)) {
		oldest->proto = 0;
		n->st.maps_expired++;
		return oldest;
	}
	if (!free_slot) {
		nat_expire(n, now_ns);
		for (unsigned i = 0; i < NAT_MAX_MAPS; i++)
			if (!n->maps[i].proto)
				return &n->maps[i];
	}
	return free_slot;
}

static struct nat_map *find_out(struct nat *n, const struct pkt *p, u16 sport, u16 dport)
{
	struct nat_map *fwd = NULL;
	for (unsigned i = 0; i < NAT_MAX_MAPS; i++) {
		struct nat_map *m = &n->maps[i];
		if (m->proto != p->proto || m->in_ip != p->src || m->in_port != sport)
			continue;
		if (m->fixed)
			fwd = m;
		else if (m->remote_ip == p->dst && m->remote_port == dport)
			return m;
	}
	return fwd;
}

/* Rewrites the address at addr_off of the IP header and the port at port, patching the IP
 * header's checksum and the transport checksum (which covers the address for TCP and UDP). */
static void rewrite(struct pkt *p, const struct l4 *t, unsigned addr_off, u32 addr, u8 *port,
		    u16 new_port)
{
	u32 old_addr = get_be32(p->ip + addr_off);
	u16 old_port = get_be16(port);
	put_be32(p->ip + addr_off, addr);
	csum_patch32(p->ip + 10, old_addr, addr);
	put_be16(port, new_port);
	if (t->csum) {
		if (t->pseudo)
			csum_patch32(t->csum, old_addr, addr);
		csum_patch16(t->csum, old_port, new_port);
		/* a UDP checksum that comes out 0 is sent as all ones (RFC 768) */
		if (p->proto == IP_PROTO_UDP && get_be16(t->csum) == 0)
			put_be16(t->csum, 0xffff);
	}
}

static void ttl_down(struct pkt *p)
{
	u16 old = get_be16(p->ip + 8);
	p->ip[8]--;
	csum_patch16(p->ip + 10, old, get_be16(p->ip + 8));
}

enum nat_verdict nat_outbound(struct nat *n, u8 *pkt, size_t len, u64 now_ns)
{
	struct pkt p;
	struct l4 t;
	int bad = parse_ip(pkt, len, &p);
	if (bad >= 0)
		return drop(n, (enum nat_drop)bad);
	if (inside(n, p.dst))
		return NAT_NOT_MINE;
	if (!inside(n, p.src))
		return drop(n, NAT_DROP_SPOOFED);
	if (!n->ex_ip)
		return drop(n, NAT_DROP_NO_ADDRESS);
	if (!parse_l4(&p, &t, true))
		return drop(n, p.proto == IP_PROTO_TCP || p.proto == IP_PROTO_UDP ||
				       p.proto == IP_PROTO_ICMP
				   ? NAT_DROP_MALFORMED
				   : NAT_DROP_PROTO);
	if (p.ip[8] <= 1)
		return drop(n, NAT_DROP_TTL);
	u16 sport = get_be16(t.sport), dport = p.proto == IP_PROTO_ICMP ? 0 : get_be16(t.dport);
	struct nat_map *m = find_out(n, &p, sport, dport);
	if (!m) {
		u16 port = alloc_port(n, p.proto);
		m = port ? new_slot(n, p.src, now_ns) : NULL;
		if (!m)
			return drop(n, NAT_DROP_FULL);
		*m = (struct nat_map){.proto = p.proto,
				      .in_ip = p.src,
				      .in_port = sport,
				      .ex_port = port,
				      .remote_ip = p.dst,
				      .remote_port = dport};
		n->st.maps_made++;
	}
	if (t.flags & (TCP_FIN | TCP_RST))
		m->closing = true;
	m->last_ns = now_ns;
	m->packets_out++;
	ttl_down(&p);
	rewrite(&p, &t, 12, n->ex_ip, t.sport, m->ex_port);
	n->st.out++;
	return NAT_TRANSLATED;
}

static struct nat_map *find_in(struct nat *n, u8 proto, u16 ex_port, u32 remote, u16 rport)
{
	for (unsigned i = 0; i < NAT_MAX_MAPS; i++) {
		struct nat_map *m = &n->maps[i];
		if (m->proto != proto || m->ex_port != ex_port)
			continue;
		if (m->fixed || (m->remote_ip == remote && m->remote_port == rport))
			return m;
	}
	return NULL;
}

/* An ICMP error about a packet a VM sent: the quoted packet (its IP header and first 8
 * bytes) names the flow; both it and the outer packet go back to the VM. */
static enum nat_verdict inbound_icmp_error(struct nat *n, struct pkt *p, u64 now_ns, u32 *in_ip)
{
	u8 *q = p->l4 + 8;
	size_t qlen = p->l4_len - 8;
	if (p->l4_len < 8 + 20 + 8 || q[0] >> 4 != 4)
		return NAT_NOT_MINE;
	size_t qihl = (size_t)(q[0] & 0xf) * 4;
	if (qihl < 20 || qihl + 8 > qlen || get_be32(q + 12) != n->ex_ip)
		return NAT_NOT_MINE;
	u8 proto = q[9], *ql4 = q + qihl;
	if (proto != IP_PROTO_TCP && proto != IP_PROTO_UDP &&
	    !(proto == IP_PROTO_ICMP && ql4[0] == ICMP_ECHO_REQUEST))
		return NAT_NOT_MINE;
	u32 remote = get_be32(q + 16);
	/* the quoted flow's port on Keel's side: its source port, or the echo identifier */
	u8 *qport = proto == IP_PROTO_ICMP ? ql4 + 4 : ql4;
	u16 rport = proto == IP_PROTO_ICMP ? 0 : get_be16(ql4 + 2);
	struct nat_map *m = find_in(n, proto, get_be16(qport), remote, rport);
	if (!m)
		return NAT_NOT_MINE;
	m->last_ns = now_ns;
	m->packets_in++;
	/* the quoted header: its source back to the VM's address and port; its own checksum */
	put_be32(q + 12, m->in_ip);
	put_be16(qport, m->in_port);
	put_be16(q + 10, 0);
	put_be16(q + 10, inet_fold(inet_sum(0, q, qihl)));
	/* the quoted transport checksum may be cut off: left as it was (hosts ignore it) */
	ttl_down(p);
	u32 old = p->dst;
	put_be32(p->ip + 16, m->in_ip);
	csum_patch32(p->ip + 10, old, m->in_ip);
	/* the ICMP checksum covers the whole message, quoted packet included: computed anew */
	put_be16(p->l4 + 2, 0);
	put_be16(p->l4 + 2, inet_fold(inet_sum(0, p->l4, p->l4_len)));
	*in_ip = m->in_ip;
	n->st.in++;
	return NAT_TRANSLATED;
}

enum nat_verdict nat_inbound(struct nat *n, u8 *pkt, size_t len, u64 now_ns, u32 *in_ip)
{
	struct pkt p;
	struct l4 t;
	int bad = parse_ip(pkt, len, &p);
	if (bad >= 0)
		return drop(n, (enum nat_drop)bad);
	if (!n->ex_ip || p.dst != n->ex_ip)
		return NAT_NOT_MINE;
	if (p.ip[8] <= 1)
		return NAT_NOT_MINE;
	if (p.proto == IP_PROTO_ICMP && p.l4_len >= 8 &&
	    (p.l4[0] == ICMP_UNREACHABLE || p.l4[0] == ICMP_TIME_EXCEEDED))
		return inbound_icmp_error(n, &p, now_ns, in_ip);
	if (!parse_l4(&p, &t, false))
		return NAT_NOT_MINE; /* Keel's own: an echo request to Keel, say */
	u16 rport = p.proto == IP_PROTO_ICMP ? 0 : get_be16(t.sport);
	struct nat_map *m = find_in(n, p.proto, get_be16(t.dport), p.src, rport);
	if (!m)
		return NAT_NOT_MINE;
	if (t.flags & (TCP_FIN | TCP_RST))
		m->closing = true;
	m->last_ns = now_ns;
	m->packets_in++;
	ttl_down(&p);
	rewrite(&p, &t, 16, m->in_ip, t.dport, m->in_port);
	*in_ip = m->in_ip;
	n->st.in++;
	return NAT_TRANSLATED;
}
