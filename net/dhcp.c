/* Keel's DHCP client (RFC 2131): DISCOVER, OFFER, REQUEST, ACK; the lease renewed at T1
 * (unicast to the server), rebound at T2 (broadcast), lost at its end; every message repeated
 * with a back-off from 1 s to 32 s until answered. Answers are parsed as hostile input. */
#include "net_priv.h"
#include "../hypervisor/console.h"
#include "../hypervisor/lib.h"

#define NS_PER_S	   1000000000ULL
#define DHCP_FIXED	   236 /* op .. file: the BOOTP part */
#define DHCP_MIN	   300 /* BOOTP's minimum message, options padded */
#define DHCP_COOKIE	   0x63825363
#define DHCP_RETRY_MAX	   (32 * NS_PER_S)
#define DHCP_REQUEST_TRIES 4 /* REQUESTs without an answer before starting over */

enum { DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK };
enum {
	OPT_PAD = 0,
	OPT_MASK = 1,
	OPT_ROUTER = 3,
	OPT_REQ_IP = 50,
	OPT_LEASE = 51,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAMS = 55,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_END = 255
};

const char *dhcp_state_name(enum dhcp_state s)
{
	static const char *const names[] = {"idle",  "selecting", "requesting",
					    "bound", "renewing",  "rebinding"};
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

/* What one server message says; found == false for options it left out. */
struct dhcp_msg {
	u8 type;
	u32 yiaddr;
	bool has_mask, has_router, has_lease, has_server, has_t1, has_t2;
	u32 mask, router, lease, server, t1, t2;
};

static u8 *opt_put(u8 *o, u8 code, const void *v, u8 len)
{
	o[0] = code;
	o[1] = len;
	memcpy(o + 2, v, len);
	return o + 2 + len;
}

static void dhcp_send(struct netstack *ns, u8 type)
{
	struct dhcp_client *d = &ns->dhcp;
	u8 m[DHCP_MIN];
	memset(m, 0, sizeof(m));
	m[0] = 1; /* BOOTREQUEST */
	m[1] = 1; /* Ethernet */
	m[2] = ETH_ALEN;
	put_be32(m + 4, d->xid);
	bool renewing = d->state == DHCP_RENEWING || d->state == DHCP_REBINDING;
	if (!renewing)
		put_be16(m + 10,
			 0x8000); /* broadcast answers: Keel has no address to take unicast */
	if (renewing)
		put_be32(m + 12, ns->ip); /* ciaddr */
	memcpy(m + 28, ns->mac, ETH_ALEN);
	put_be32(m + DHCP_FIXED, DHCP_COOKIE);
	u8 *o = m + DHCP_FIXED + 4;
	o = opt_put(o, OPT_MSG_TYPE, &type, 1);
	if (d->state == DHCP_REQUESTING) {
		u8 v[4];
		put_be32(v, d->offered_ip);
		o = opt_put(o, OPT_REQ_IP, v, 4);
		put_be32(v, d->server_id);
		o = opt_put(o, OPT_SERVER_ID, v, 4);
	}
	static const u8 params[] = {OPT_MASK, OPT_ROUTER, OPT_LEASE, OPT_SERVER_ID, OPT_T1, OPT_T2};
	o = opt_put(o, OPT_PARAMS, params, sizeof(params));
	*o = OPT_END;
	if (d->state == DHCP_RENEWING)
		udp_output(ns, ns->ip, UDP_PORT_DHCP_CLIENT, d->server_id, UDP_PORT_DHCP_SERVER, m,
			   sizeof(m));
	else
		udp_output(ns, renewing ? ns->ip : 0, UDP_PORT_DHCP_CLIENT, IP4_BROADCAST,
			   UDP_PORT_DHCP_SERVER, m, sizeof(m));
}

/* Enters a sending state: the first message leaves on this poll, then the back-off runs. */
static void dhcp_enter(struct netstack *ns, enum dhcp_state s)
{
	struct dhcp_client *d = &ns->dhcp;
	d->state = s;
	d->tries = 0;
	d->retry_ns = NS_PER_S;
	d->next_send_ns = ns->now_ns;
}

static void dhcp_unconfigure(struct netstack *ns)
{
	ns->configured = false;
	ns->ip = ns->mask = ns->gw = 0;
	arp_flush(ns);
}

static void dhcp_restart(struct netstack *ns)
{
	/* a new transaction id, so late answers to the old one are ignored */
	ns->dhcp.xid = ns->dhcp.xid * 1103515245u + 12345u + (u32)ns->now_ns;
	dhcp_enter(ns, DHCP_SELECTING);
}

/* Reads the options after the magic cookie; false when one runs past the end. */
static bool dhcp_parse_options(const u8 *o, size_t len, struct dhcp_msg *msg)
{
	size_t i = 0;
	while (i < len) {
		u8 code = o[i];
		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return true;
		if (i + 2 > len || i + 2 + o[i + 1] > len)
			return false;
		u8 olen = o[i + 1];
		const u8 *v = o + i + 2;
		switch (code) {
		case OPT_MSG_TYPE:
			if (olen == 1)
				msg->type = v[0];
			break;
		case OPT_MASK:
			if ((msg->has_mask = olen == 4))
				msg->mask = get_be32(v);
			break;
		case OPT_ROUTER: /* a list: the first is the default gateway */
			if ((msg->has_router = olen >= 4 && olen % 4 == 0))
				msg->router = get_be32(v);
			break;
		case OPT_LEASE:
			if ((msg->has_lease = olen == 4))
				msg->lease = get_be32(v);
			break;
		case OPT_SERVER_ID:
			if ((msg->has_server = olen == 4))
				msg->server = get_be32(v);
			break;
		case OPT_T1:
			if ((msg->has_t1 = olen == 4))
				msg->t1 = get_be32(v);
			break;
		case OPT_T2:
			if ((msg->has_t2 = olen == 4))
				msg->t2 = get_be32(v);
			break;
		default:
			break;
		}
		i += 2 + (size_t)olen;
	}
	return true; /* no END option: tolerated, as every option was whole */
}

static bool usable_host(u32 ip)
{
	return ip && ip != IP4_BROADCAST && (ip >> 28) < 0xe && (ip >> 24) != 127;
}

/* A subnet mask is ones then zeros: 255.255.255.0 yes, 255.0.255.0 no. */
static bool mask_valid(u32 mask)
{
	return mask && ((~mask + 1) & ~mask) == 0;
}

static u64 secs_after(u64 now, u32 s)
{
	return s == 0xffffffffu ? ~0ULL : now + (u64)s * NS_PER_S;
}

static void dhcp_bound(struct netstack *ns, const struct dhcp_msg *msg)
{
	struct dhcp_client *d = &ns->dhcp;
	u32 lease = msg->has_lease && msg->lease ? msg->lease : 3600;
	u32 t1 = msg->has_t1 && msg->t1 < lease ? msg->t1 : lease / 2;
	u32 t2 = msg->has_t2 && msg->t2 < lease && msg->t2 >= t1 ? msg->t2 : lease / 8 * 7;
	if (lease == 0xffffffffu)
		t1 = t2 = 0xffffffffu;
	u32 mask = msg->has_mask && mask_valid(msg->mask) ? msg->mask : IP4(255, 255, 255, 0);
	u32 gw = msg->has_router && usable_host(msg->router) ? msg->router : 0;
	bool changed = !ns->configured || ns->ip != msg->yiaddr;
	if (changed)
		arp_flush(ns);
	ns->ip = msg->yiaddr;
	ns->mask = mask;
	ns->gw = gw;
	ns->configured = true;
	d->state = DHCP_BOUND;
	d->lease_s = lease;
	d->t1_ns = secs_after(ns->now_ns, t1);
	d->t2_ns = secs_after(ns->now_ns, t2);
	d->expiry_ns = secs_after(ns->now_ns, lease);
	if (changed) {
		char a[16], g[16], s[16];
		pr_info("net: DHCP: address %s mask bits %u gateway %s, lease %u s from %s\n",
			ip4_format(ns->ip, a), 32 - __builtin_ctz(mask), ip4_format(gw, g), lease,
			ip4_format(d->server_id, s));
		arp_announce(ns);
	}
}

static void dhcp_rx(void *ctx, struct netstack *ns, u32 src_ip, u16 src_port, const u8 *m,
		    size_t len)
{
	(void)ctx;
	struct dhcp_client *d = &ns->dhcp;
	if (src_port != UDP_PORT_DHCP_SERVER || len < DHCP_FIXED + 4 || m[0] != 2 || m[1] != 1 ||
	    m[2] != ETH_ALEN || get_be32(m + DHCP_FIXED) != DHCP_COOKIE) {
		ns->st.dhcp_bad++;
		return;
	}
	if (get_be32(m + 4) != d->xid || memcmp(m + 28, ns->mac, ETH_ALEN))
		return; /* another client's transaction, or an old one of ours */
	struct dhcp_msg msg;
	memset(&msg, 0, sizeof(msg));
	msg.yiaddr = get_be32(m + 16);
	if (!dhcp_parse_options(m + DHCP_FIXED + 4, len - DHCP_FIXED - 4, &msg)) {
		ns->st.dhcp_bad++;
		return;
	}
	u32 server = msg.has_server ? msg.server : src_ip;
	switch (msg.type) {
	case DHCPOFFER:
		if (d->state != DHCP_SELECTING)
			return;
		if (!usable_host(msg.yiaddr) || !usable_host(server)) {
			ns->st.dhcp_bad++;
			return;
		}
		ns->st.dhcp_offers++;
		d->offered_ip = msg.yiaddr;
		d->server_id = server;
		dhcp_enter(ns, DHCP_REQUESTING);
		dhcp_poll(ns);
		break;
	case DHCPACK:
		if (d->state != DHCP_REQUESTING && d->state != DHCP_RENEWING &&
		    d->state != DHCP_REBINDING)
			return;
		if (!usable_host(msg.yiaddr) ||
		    (d->state == DHCP_REQUESTING && msg.yiaddr != d->offered_ip)) {
			ns->st.dhcp_bad++;
			return;
		}
		ns->st.dhcp_acks++;
		if (d->state == DHCP_REBINDING && usable_host(server))
			d->server_id = server;
		dhcp_bound(ns, &msg);
		break;
	case DHCPNAK:
		if (d->state != DHCP_REQUESTING && d->state != DHCP_RENEWING &&
		    d->state != DHCP_REBINDING)
			return;
		ns->st.dhcp_naks++;
		pr_info("net: DHCP: the server refused the address: asking again\n");
		dhcp_unconfigure(ns);
		dhcp_restart(ns);
		break;
	default:
		ns->st.dhcp_bad++;
		break;
	}
}

void dhcp_start(struct netstack *ns)
{
	struct dhcp_client *d = &ns->dhcp;
	memset(d, 0, sizeof(*d));
	d->xid = get_be32(ns->mac + 2) ^ (u32)ns->now_ns ^ 0x4b45454cu;
	udp_bind(ns, UDP_PORT_DHCP_CLIENT, dhcp_rx, NULL);
	dhcp_enter(ns, DHCP_SELECTING);
}

void dhcp_poll(struct netstack *ns)
{
	struct dhcp_client *d = &ns->dhcp;
	u64 now = ns->now_ns;
	switch (d->state) {
	case DHCP_IDLE:
		return;
	case DHCP_BOUND:
		if (now < d->t1_ns)
			return;
		dhcp_enter(ns, DHCP_RENEWING);
		break;
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		if (now >= d->expiry_ns) {
			pr_info("net: DHCP: the lease ended unrenewed: address given up\n");
			dhcp_unconfigure(ns);
			dhcp_restart(ns);
		} else if (d->state == DHCP_RENEWING && now >= d->t2_ns) {
			dhcp_enter(ns, DHCP_REBINDING);
		}
		break;
	case DHCP_REQUESTING:
		if (now >= d->next_send_ns && d->tries >= DHCP_REQUEST_TRIES)
			dhcp_restart(ns);
		break;
	default:
		break;
	}
	if (now < d->next_send_ns)
		return;
	if (d->tries)
		ns->st.dhcp_retries++;
	d->tries++;
	d->next_send_ns = now + d->retry_ns;
	d->retry_ns = MIN(d->retry_ns * 2, DHCP_RETRY_MAX);
	dhcp_send(ns, d->state == DHCP_SELECTING ? DHCPDISCOVER : DHCPREQUEST);
}
