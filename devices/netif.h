/* A frame endpoint: the one shape every piece of the shared network class hands Ethernet
 * frames through (the machine's NIC driver, the virtual switch's ports, virtio-net, Keel's
 * own IP stack). A sender calls the receiver's function; the frame is only borrowed for the
 * call, so a receiver that keeps it copies it. */
#ifndef KEEL_NETIF_H
#define KEEL_NETIF_H

#include "../hypervisor/types.h"

#define ETH_ALEN      6
#define ETH_HLEN      14
#define ETH_MIN_FRAME 60   /* without the FCS: shorter frames are padded by the sender */
#define ETH_MAX_FRAME 1514 /* 1500-byte MTU + header, without the FCS */
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP  0x0806

/* deliver one whole frame (len <= ETH_MAX_FRAME unless the receiver says otherwise); a
 * receiver that cannot take it drops it and counts the drop */
typedef void (*net_rx_fn)(void *ctx, const u8 *frame, size_t len);

struct net_endpoint {
	net_rx_fn rx;
	void *ctx;
};

static inline void net_deliver(const struct net_endpoint *ep, const u8 *frame, size_t len)
{
	if (ep->rx)
		ep->rx(ep->ctx, frame, len);
}

static inline bool eth_addr_is_multicast(const u8 *mac)
{
	return mac[0] & 1;
}

#endif
