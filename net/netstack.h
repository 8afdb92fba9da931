/* Keel's own network stack: Ethernet, ARP, IPv4, ICMP echo, UDP and a DHCP client, one
 * object per interface. It takes frames as a net_rx_fn (netstack_input) and sends through a
 * struct net_endpoint; time comes only from netstack_poll(now_ns). Every frame from the wire
 * is hostile: each parser checks its lengths against the bytes it was given. */
#ifndef KEEL_NETSTACK_H
#define KEEL_NETSTACK_H

#include "../hypervisor/types.h"
#include "../devices/netif.h"

#define NET_ARP_ENTRIES	     16
#define NET_ARP_PENDING	     4 /* frames waiting for an ARP answer, all next hops together */
#define NET_RX_BACKLOG	     4 /* frames that arrived while the stack was sending */
#define NET_UDP_BINDINGS     4
#define NET_ARP_TTL_NS	     (60ULL * 1000000000ULL) /* a learned address is kept 60 s */
#define NET_ARP_RETRY_NS     (1000000000ULL) /* an unanswered request is repeated each 1 s */
#define NET_ARP_TRIES	     3		     /* ... 3 times, then its frames are dropped */
#define NET_IP_TTL	     64
#define NET_UDP_MAX	     (1500 - 20 - 8) /* UDP payload in one unfragmented datagram */
#define NET_PING_ID	     0x4b45	     /* "KE": the ICMP echo id of Keel's own pings */
#define UDP_PORT_DHCP_SERVER 67
#define UDP_PORT_DHCP_CLIENT 68

/* IPv4 addresses are host-order u32 everywhere in the stack: 10.0.2.15 is 0x0a00020f. */
#define IP4(a, b, c, d) ((u32)(a) << 24 | (u32)(b) << 16 | (u32)(c) << 8 | (u32)(d))
#define IP4_BROADCAST	0xffffffffu

enum net_mode { NET_OFF, NET_STATIC, NET_DHCP };

struct netstack_config {
	enum net_mode mode;
	u32 ip, mask, gw; /* NET_STATIC: the address, the subnet mask, the gateway (0: none) */
};

/* Parses Keel's `net=` value: "dhcp", "off", or "A.B.C.D/P[,gw=A.B.C.D]". Returns NULL, or
 * why the text is refused (cfg is then NET_OFF). */
const char *netstack_parse_config(const char *s, struct netstack_config *cfg);
/* "10.0.2.15" into buf (at least 16 bytes); returns buf. */
char *ip4_format(u32 ip, char *buf);
/* A dotted quad, the whole string; false on anything else. */
bool ip4_parse(const char *s, u32 *ip);

struct netstack;
/* A datagram for a bound port: src is the sender's address and port, data its payload. */
typedef void (*udp_rx_fn)(void *ctx, struct netstack *ns, u32 src_ip, u16 src_port, const u8 *data,
			  size_t len);

/* What the stack counts; every dropped frame lands in exactly one drop counter. */
struct netstack_stats {
	u64 rx_frames, tx_frames;
	u64 rx_short, rx_oversize, rx_not_for_us, rx_other_type, rx_backlog_full;
	u64 arp_rx, arp_bad, arp_replies_sent, arp_requests_sent, arp_queue_drop,
	    arp_unresolved_drop;
	u64 ip_rx, ip_bad_header, ip_bad_checksum, ip_fragment, ip_ttl_zero, ip_not_ours,
	    ip_other_proto, ip_no_route;
	u64 icmp_rx, icmp_bad, icmp_echo_replied, icmp_echo_replies_rx;
	u64 udp_rx, udp_bad, udp_bad_checksum, udp_no_port, udp_tx;
	u64 dhcp_bad, dhcp_offers, dhcp_acks, dhcp_naks, dhcp_retries;
};

enum dhcp_state {
	DHCP_IDLE,
	DHCP_SELECTING,
	DHCP_REQUESTING,
	DHCP_BOUND,
	DHCP_RENEWING,
	DHCP_REBINDING
};

struct dhcp_client {
	enum dhcp_state state;
	u32 xid;
	u32 offered_ip, server_id, offered_mask, offered_gw;
	u64 next_send_ns;	     /* when the current message is sent (again) */
	u64 retry_ns;		     /* the current back-off: 1 s doubling to 32 s */
	u64 t1_ns, t2_ns, expiry_ns; /* absolute times of a bound lease */
	u32 lease_s;
	unsigned tries; /* sends of the current message */
};

struct arp_entry {
	u32 ip;
	u8 mac[ETH_ALEN];
	u8 state; /* ARP_FREE, ARP_PENDING, ARP_VALID (net/arp.c) */
	u8 tries;
	u64 expires_ns; /* VALID: forgotten then; PENDING: the next retry */
};

struct arp_pending {
	bool used;
	u32 next_hop;
	u16 len;
	u8 frame[ETH_MAX_FRAME];
};

struct udp_binding {
	u16 port; /* 0: free */
	udp_rx_fn fn;
	void *ctx;
};

/* One interface. All entry points (input, poll, send, ping) must be called by one CPU at a
 * time: with SMP, the lock goes around them (net_enter/net_leave in net/netstack.c). */
struct netstack {
	u8 mac[ETH_ALEN];
	struct net_endpoint tx;
	struct netstack_config cfg;
	bool configured; /* ip/mask/gw hold an address Keel may use */
	u32 ip, mask, gw;
	u64 now_ns;   /* the latest time netstack_poll was given */
	bool started; /* the first poll announced the address or started DHCP */

	struct arp_entry arp[NET_ARP_ENTRIES];
	struct arp_pending pending[NET_ARP_PENDING];
	struct udp_binding udp[NET_UDP_BINDINGS];
	struct dhcp_client dhcp;

	/* frames that arrived while the stack itself was sending (a wire that answers at once) */
	unsigned depth;
	u16 backlog_len[NET_RX_BACKLOG];
	u8 backlog[NET_RX_BACKLOG][ETH_MAX_FRAME];
	unsigned backlog_n;

	u16 ip_id;
	u16 ping_seq;
	u64 ping_sent_ns;  /* when the latest echo request left */
	u32 ping_target;   /* its destination */
	u64 ping_rtt_ns;   /* round trip of the latest answered one */
	u16 ping_last_seq; /* sequence number of the latest reply */
	u32 ping_replies;  /* replies to Keel's pings */

	u8 txbuf[ETH_MAX_FRAME];
	/* IPv4 packets for Keel's address meet this first (the VMs' gateway takes the replies
	 * to their flows out of Keel's address); true: taken, the stack never sees it */
	bool (*ip_hook)(void *ctx, const u8 *pkt, size_t len);
	void *ip_hook_ctx;
	struct netstack_stats st;
};

/* Sets the stack up on an interface with this MAC, sending through tx. NET_STATIC takes
 * its address at once; NET_DHCP starts the client on the first poll. */
void netstack_init(struct netstack *ns, const u8 mac[ETH_ALEN], struct net_endpoint tx,
		   const struct netstack_config *cfg);
/* A frame from the wire (a net_rx_fn: ctx is the struct netstack). */
void netstack_input(void *ns, const u8 *frame, size_t len);
/* Timers: ARP retries and ageing, DHCP retries, renewal and expiry. Call every few ms to
 * every second with a monotonic time; the stack does nothing by itself between calls. */
void netstack_poll(struct netstack *ns, u64 now_ns);

/* Binds a local UDP port to fn; false when the port is taken or the table is full. */
bool netstack_udp_bind(struct netstack *ns, u16 port, udp_rx_fn fn, void *ctx);
void netstack_udp_unbind(struct netstack *ns, u16 port);
/* Sends one datagram (len <= NET_UDP_MAX); false when it cannot leave (no address, no route,
 * ARP queue full). A datagram waiting for ARP counts as sent. */
bool netstack_udp_send(struct netstack *ns, u16 src_port, u32 dst_ip, u16 dst_port,
		       const void *data, size_t len);
/* Sends one whole IPv4 packet (its header first, as a router forwards it) to its next hop:
 * the destination on Keel's subnet, else the gateway; false when it cannot leave. */
bool netstack_send_ip(struct netstack *ns, const u8 *pkt, size_t len);
/* Registers the hook IPv4 packets for Keel's address meet first (NULL removes it). */
void netstack_set_ip_hook(struct netstack *ns, bool (*fn)(void *ctx, const u8 *pkt, size_t len),
			  void *ctx);
/* Sends one ICMP echo request to ip; the reply is counted in ns->ping_* and logged. */
bool netstack_ping(struct netstack *ns, u32 ip);

/* The `net` shell command's report: address, ARP cache, counters (kprintf). */
void netstack_print(const struct netstack *ns);

#endif
