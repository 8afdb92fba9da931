/* ARP over Ethernet for IPv4: the cache (learned addresses forgotten after NET_ARP_TTL_NS),
 * answers for Keel's own address, resolving a next hop before a frame leaves, and the small
 * queue of frames that wait for that answer. */
#include "net_priv.h"
#include "../hypervisor/lib.h"

#define ARP_LEN	       28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2

const char *arp_state_name(u8 state)
{
	return state == ARP_VALID ? "valid" : state == ARP_PENDING ? "pending" : "free";
}

static struct arp_entry *arp_find(struct netstack *ns, u32 ip)
{
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++)
		if (ns->arp[i].state != ARP_FREE && ns->arp[i].ip == ip)
			return &ns->arp[i];
	return NULL;
}

/* A free entry, else the valid one that expires first; never a pending one (its frames
 * wait on it). NULL when all are pending. */
static struct arp_entry *arp_slot(struct netstack *ns)
{
	struct arp_entry *victim = NULL;
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
		struct arp_entry *e = &ns->arp[i];
		if (e->state == ARP_FREE)
			return e;
		if (e->state == ARP_VALID && (!victim || e->expires_ns < victim->expires_ns))
			victim = e;
	}
	return victim;
}

static void arp_send(struct netstack *ns, u16 op, const u8 *dst_mac, const u8 *target_mac,
		     u32 target_ip)
{
	u8 f[ETH_MIN_FRAME];
	u8 *a = f + ETH_HLEN;
	put_be16(a, 1);			/* hardware: Ethernet */
	put_be16(a + 2, ETH_TYPE_IPV4); /* protocol: IPv4 */
	a[4] = ETH_ALEN;
	a[5] = 4;
	put_be16(a + 6, op);
	memcpy(a + 8, ns->mac, ETH_ALEN);
	put_be32(a + 14, ns->configured ? ns->ip : 0);
	memcpy(a + 18, target_mac, ETH_ALEN);
	put_be32(a + 24, target_ip);
	if (op == ARP_OP_REQUEST)
		ns->st.arp_requests_sent++;
	else
		ns->st.arp_replies_sent++;
	eth_output(ns, f, ETH_HLEN + ARP_LEN, dst_mac, ETH_TYPE_ARP);
}

static void arp_request(struct netstack *ns, u32 ip)
{
	static const u8 zero[ETH_ALEN];
	arp_send(ns, ARP_OP_REQUEST, eth_broadcast, zero, ip);
}

void arp_announce(struct netstack *ns)
{
	static const u8 zero[ETH_ALEN];
	if (ns->configured)
		arp_send(ns, ARP_OP_REQUEST, eth_broadcast, zero, ns->ip);
}

/* The frames queued for ip leave now (mac known) or are dropped (mac NULL). */
static void arp_release(struct netstack *ns, u32 ip, const u8 *mac)
{
	for (unsigned i = 0; i < NET_ARP_PENDING; i++) {
		struct arp_pending *p = &ns->pending[i];
		if (!p->used || p->next_hop != ip)
			continue;
		p->used = false;
		if (mac)
			eth_output(ns, p->frame, p->len, mac, ETH_TYPE_IPV4);
		else
			ns->st.arp_unresolved_drop++;
	}
}

static void arp_learn(struct netstack *ns, u32 ip, const u8 *mac, bool create)
{
	struct arp_entry *e = arp_find(ns, ip);
	if (!e && !create)
		return;
	if (!e && !(e = arp_slot(ns)))
		return;
	bool was_pending = e->state == ARP_PENDING;
	e->ip = ip;
	memcpy(e->mac, mac, ETH_ALEN);
	e->state = ARP_VALID;
	e->tries = 0;
	e->expires_ns = ns->now_ns + NET_ARP_TTL_NS;
	if (was_pending)
		arp_release(ns, ip, e->mac);
}

void arp_input(struct netstack *ns, const u8 *a, size_t len)
{
	ns->st.arp_rx++;
	/* Ethernet + IPv4 only; anything else (or a short packet) is not for this stack */
	if (len < ARP_LEN || get_be16(a) != 1 || get_be16(a + 2) != ETH_TYPE_IPV4 ||
	    a[4] != ETH_ALEN || a[5] != 4) {
		ns->st.arp_bad++;
		return;
	}
	u16 op = get_be16(a + 6);
	const u8 *sha = a + 8;
	u32 spa = get_be32(a + 14);
	u32 tpa = get_be32(a + 24);
	if ((op != ARP_OP_REQUEST && op != ARP_OP_REPLY) || eth_addr_is_multicast(sha)) {
		ns->st.arp_bad++;
		return;
	}
	if (!memcmp(sha, ns->mac, ETH_ALEN))
		return; /* our own announcement looped back */
	bool for_us = ns->configured && tpa == ns->ip;
	/* RFC 826: refresh a sender we know; add it only when it talks to us. A probe (sender
	 * 0.0.0.0) teaches nothing. */
	if (spa && spa != IP4_BROADCAST)
		arp_learn(ns, spa, sha, for_us);
	if (op == ARP_OP_REQUEST && for_us)
		arp_send(ns, ARP_OP_REPLY, sha, sha, spa);
}

bool arp_output(struct netstack *ns, u32 next_hop, u8 *frame, size_t len)
{
	struct arp_entry *e = arp_find(ns, next_hop);
	if (e && e->state == ARP_VALID) {
		eth_output(ns, frame, len, e->mac, ETH_TYPE_IPV4);
		return true;
	}
	struct arp_pending *slot = NULL;
	for (unsigned i = 0; i < NET_ARP_PENDING && !slot; i++)
		if (!ns->pending[i].used)
			slot = &ns->pending[i];
	if (!slot || len > sizeof(slot->frame)) {
		ns->st.arp_queue_drop++;
		return false;
	}
	if (!e) {
		e = arp_slot(ns);
		if (!e) {
			ns->st.arp_queue_drop++;
			return false;
		}
		memset(e, 0, sizeof(*e));
		e->ip = next_hop;
		e->state = ARP_PENDING;
		e->tries = 1;
		e->expires_ns = ns->now_ns + NET_ARP_RETRY_NS;
		arp_request(ns, next_hop);
	}
	slot->used = true;
	slot->next_hop = next_hop;
	slot->len = (u16)len;
	memcpy(slot->frame, frame, len);
	return true;
}

void arp_poll(struct netstack *ns)
{
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
		struct arp_entry *e = &ns->arp[i];
		if (e->state == ARP_FREE || ns->now_ns < e->expires_ns)
			continue;
		if (e->state == ARP_VALID) {
			e->state = ARP_FREE;
		} else if (e->tries >= NET_ARP_TRIES) {
			e->state = ARP_FREE;
			arp_release(ns, e->ip, NULL);
		} else {
			e->tries++;
			e->expires_ns = ns->now_ns + NET_ARP_RETRY_NS;
			arp_request(ns, e->ip);
		}
	}
}

void arp_flush(struct netstack *ns)
{
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++)
		if (ns->arp[i].state == ARP_PENDING)
			arp_release(ns, ns->arp[i].ip, NULL);
	memset(ns->arp, 0, sizeof(ns->arp));
}
