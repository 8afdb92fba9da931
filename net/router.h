/* The VMs' gateway: Keel's side of their private network. It answers ARP and ping for the
 * gateway address, learns which VM holds which address, and passes the VMs' packets for the
 * outside through the translator (nat.h) to Keel's outside stack, and translated packets
 * from outside back to their VM. It sits on the virtual switch's uplink port: frames in by
 * router_inside_input (a net_rx_fn), frames out through the `inside` endpoint. */
#ifndef KEEL_ROUTER_H
#define KEEL_ROUTER_H

#include "../devices/netif.h"
#include "nat.h"

#define ROUTER_MAX_HOSTS 64

struct router_host {
	u32 ip; /* 0: free */
	u8 mac[ETH_ALEN];
	bool fixed; /* from the VMs' configs: learning never moves it */
	u64 last_ns;
};

struct router_stats {
	u64 in_frames, to_outside, from_outside, arp_replies, pings;
	u64 drop_not_ip, drop_bad, drop_no_host, drop_nat, drop_send;
};

/* how packets reach the outside: Keel's outside stack frames each for its next hop */
struct router_outside {
	bool (*send_ip)(void *ctx, const u8 *pkt, size_t len);
	void *ctx;
};

struct router {
	u32 gw_ip, net, mask; /* the gateway's address on the VMs' network */
	u8 gw_mac[ETH_ALEN];
	struct net_endpoint inside; /* frames to the VMs (the switch's uplink port) */
	struct router_outside outside;
	struct nat nat;
	struct router_host hosts[ROUTER_MAX_HOSTS];
	struct router_stats st;
	u64 now_ns;
	u8 buf[ETH_MAX_FRAME];
};

void router_init(struct router *r, u32 gw_ip, u32 mask, const u8 gw_mac[ETH_ALEN],
		 struct net_endpoint inside, struct router_outside outside);
/* a VM's address from its config: only that MAC answers for it */
const char *router_bind(struct router *r, u32 ip, const u8 mac[ETH_ALEN]);
/* the address is no longer bound (forgotten, free to be learned again) */
void router_unbind(struct router *r, u32 ip);
/* a frame from the switch (net_rx_fn; ctx is the router) */
void router_inside_input(void *r, const u8 *frame, size_t len);
/* an IPv4 packet from outside for Keel's address: true when it was a VM's (translated and
 * sent on, or dropped as one); false when it is Keel's own, for its stack */
bool router_outside_input(struct router *r, const u8 *pkt, size_t len);
void router_set_outside_address(struct router *r, u32 ip);
void router_poll(struct router *r, u64 now_ns);
void router_print(const struct router *r);

#endif
