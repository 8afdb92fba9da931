/* Network address and port translation: the VMs' private network behind Keel's one outside
 * address. The machine's NIC (through Bochs' slirp or socket backend) only takes frames for
 * its own MAC, so VMs reach the outside as flows of Keel's address, one outside port per
 * flow, and the outside reaches a VM only through a port forwarded in its config. Pure L3:
 * IPv4 packets in and out, rewritten in place; the caller frames them. */
#ifndef KEEL_NAT_H
#define KEEL_NAT_H

#include "../hypervisor/types.h"

#define NAT_MAX_MAPS 256

#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP  6
#define IP_PROTO_UDP  17

/* one translation: a flow a VM opened (dynamic), or a forwarded port (fixed) */
struct nat_map {
	u8 proto;	 /* IP_PROTO_*; 0: the slot is free */
	bool fixed;	 /* a port forward: any remote may use it, never aged out */
	bool closing;	 /* TCP FIN or RST seen: aged out soon */
	u32 in_ip;	 /* the VM's address (host byte order) */
	u16 in_port;	 /* the VM's port, or its ICMP echo identifier */
	u16 ex_port;	 /* the port (or identifier) on Keel's outside address */
	u32 remote_ip;	 /* dynamic: the one remote this flow talks to */
	u16 remote_port; /* dynamic TCP/UDP: its port (0 for ICMP) */
	u64 last_ns;	 /* last packet either way */
	u64 packets_out, packets_in;
};

enum nat_drop {
	NAT_DROP_MALFORMED,  /* header lengths, checksum, or a truncated transport header */
	NAT_DROP_FRAGMENT,   /* fragments are not reassembled */
	NAT_DROP_TTL,	     /* would leave with TTL 0 */
	NAT_DROP_SPOOFED,    /* a VM's packet with a source outside the inside network */
	NAT_DROP_PROTO,	     /* not TCP, UDP or ICMP echo / error */
	NAT_DROP_FULL,	     /* no free mapping and none old enough to take */
	NAT_DROP_NO_ADDRESS, /* Keel has no outside address yet */
	NAT_DROP_REASONS
};

struct nat_stats {
	u64 out, in; /* packets translated each way */
	u64 maps_made, maps_expired;
	u64 drops[NAT_DROP_REASONS];
};

struct nat {
	u32 ex_ip;	     /* Keel's outside address; 0 until known (DHCP) */
	u32 in_net, in_mask; /* the VMs' network */
	u16 port_lo, port_hi, next_port;
	struct nat_map maps[NAT_MAX_MAPS];
	struct nat_stats st;
};

enum nat_verdict {
	NAT_TRANSLATED, /* the packet was rewritten in place: send it on */
	NAT_NOT_MINE,	/* not for the translator (inside traffic, or for Keel itself) */
	NAT_DROPPED,	/* counted in st.drops */
};

/* ports [port_lo, port_hi] of the outside address are the translator's */
void nat_init(struct nat *n, u32 in_net, u32 in_mask, u16 port_lo, u16 port_hi);
void nat_set_external(struct nat *n, u32 ex_ip);
/* outside port ex_port (proto TCP or UDP) reaches in_ip:in_port; NULL, or why not */
const char *nat_forward(struct nat *n, u8 proto, u16 ex_port, u32 in_ip, u16 in_port);
/* the forward of outside port ex_port goes away (nothing if there is none) */
void nat_unforward(struct nat *n, u8 proto, u16 ex_port);

/* a VM's packet (IPv4 header first, len bytes of the frame's payload) leaving for the outside */
enum nat_verdict nat_outbound(struct nat *n, u8 *pkt, size_t len, u64 now_ns);
/* a packet from the outside; on NAT_TRANSLATED *in_ip is the VM it now goes to */
enum nat_verdict nat_inbound(struct nat *n, u8 *pkt, size_t len, u64 now_ns, u32 *in_ip);
/* frees dynamic mappings idle past their protocol's timeout */
void nat_expire(struct nat *n, u64 now_ns);

const char *nat_drop_name(enum nat_drop d);
unsigned nat_active(const struct nat *n);

#endif
