/* What the files of net/ share among themselves: wire byte order, header layouts and the
 * internal calls between the layers (wire <- arp <- ipv4 <- dhcp <- netstack). Not for use
 * outside net/: the API is netstack.h. */
#ifndef KEEL_NET_PRIV_H
#define KEEL_NET_PRIV_H

#include "netstack.h"

#define IP_HLEN	      20
#define UDP_HLEN      8
#define ICMP_HLEN     8
#define IP_PROTO_ICMP 1
#define IP_PROTO_UDP  17

static inline u16 get_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static inline u32 get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static inline void put_be16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static inline void put_be32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

extern const u8 eth_broadcast[ETH_ALEN];

/* wire.c: the Internet checksum, continued from sum (0 to start); returns the folded,
 * complemented 16 bits. */
u32 inet_sum(u32 sum, const u8 *p, size_t len);
u16 inet_fold(u32 sum);
/* Fills the Ethernet header of frame (dst, Keel's MAC, type), pads to ETH_MIN_FRAME and
 * sends it; frame must have room for ETH_MIN_FRAME bytes. */
void eth_output(struct netstack *ns, u8 *frame, size_t len, const u8 *dst, u16 type);

/* arp.c */
void arp_input(struct netstack *ns, const u8 *pkt, size_t len);
/* Sends an IPv4 frame (its Ethernet header still to be filled) to next_hop: at once when
 * the address is known, else after an ARP answer (queued; false when the queue is full). */
bool arp_output(struct netstack *ns, u32 next_hop, u8 *frame, size_t len);
void arp_poll(struct netstack *ns);
/* A gratuitous ARP: tells the segment Keel's address (after DHCP or static setup). */
void arp_announce(struct netstack *ns);
void arp_flush(struct netstack *ns);
const char *arp_state_name(u8 state);
#define ARP_FREE    0
#define ARP_PENDING 1
#define ARP_VALID   2

/* ipv4.c */
void ipv4_input(struct netstack *ns, const u8 *pkt, size_t len);
/* Sends an IPv4 packet whose payload (len bytes) is at ns->txbuf + ETH_HLEN + IP_HLEN; src 0
 * is allowed (DHCP before an address). */
bool ipv4_output(struct netstack *ns, u32 src, u32 dst, u8 proto, size_t len);
/* a whole IPv4 packet (len <= ETH_MAX_FRAME - ETH_HLEN) to its next hop, as a router sends */
bool ipv4_forward(struct netstack *ns, const u8 *pkt, size_t len);
bool udp_output(struct netstack *ns, u32 src_ip, u16 src_port, u32 dst_ip, u16 dst_port,
		const void *data, size_t len);
bool udp_bind(struct netstack *ns, u16 port, udp_rx_fn fn, void *ctx);
void udp_unbind(struct netstack *ns, u16 port);
bool icmp_echo_request(struct netstack *ns, u32 dst);

/* dhcp.c */
void dhcp_start(struct netstack *ns);
void dhcp_poll(struct netstack *ns);
const char *dhcp_state_name(enum dhcp_state s);

#endif
