/* The virtual switch inside Keel: ports (one per VM's virtio-net, and trunk ports such as the
 * uplink toward the machine's NIC or Keel's own stack), a MAC learning table with ageing,
 * flooding of broadcast and multicast, per-port counters and the rule that a VM port only
 * sends with its own MAC. Frames come in and go out through struct net_endpoint (netif.h). */
#ifndef KEEL_VSWITCH_H
#define KEEL_VSWITCH_H

#include "netif.h"

#define VSW_MAX_PORTS	68 /* a VM port for each of 64 VMs, the uplink, spare trunks */
#define VSW_TABLE_SIZE	128
#define VSW_UPLINK	0 /* the trunk port every switch has from vswitch_init */
#define VSW_NAME_LEN	24
#define VSW_DEFAULT_AGE 300 /* seconds a learned address lives without a frame from it */

/* A VM port: a fixed MAC, the only source it may send with, never learned elsewhere. A trunk
 * port: any source that is not a VM's; the addresses behind it are learned. */
enum vsw_kind { VSW_PORT_VM, VSW_PORT_TRUNK };

/* Why a frame was dropped, counted at the port where the switch saw the reason. */
enum vsw_drop {
	VSW_DROP_SHORT,	    /* under a 14-byte header */
	VSW_DROP_LONG,	    /* over the 1500-byte MTU */
	VSW_DROP_SPOOF,	    /* a VM port's source is not its MAC; a trunk's is a VM's */
	VSW_DROP_BAD_SRC,   /* a multicast or all-zero source */
	VSW_DROP_LINK_DOWN, /* the port's link is down (counted where it is) */
	VSW_DROP_NO_ROUTE,  /* unicast to nobody known and no trunk to send it to */
	VSW_DROP_LOOPBACK,  /* unicast to the port it came from */
	VSW_NDROPS,
};

struct vsw_stats {
	u64 rx_frames, rx_bytes; /* taken in from the port */
	u64 tx_frames, tx_bytes; /* handed out to the port */
	u64 drops[VSW_NDROPS];
};

struct vswitch;

struct vsw_port {
	struct vswitch *sw;
	bool used, link_up;
	enum vsw_kind kind;
	char name[VSW_NAME_LEN];
	u8 mac[ETH_ALEN];	 /* a VM port's own address */
	struct net_endpoint out; /* where the switch delivers frames for this port */
	struct vsw_stats st;
};

struct vsw_entry {
	u8 mac[ETH_ALEN];
	u8 port;
	bool valid, fixed; /* fixed: a VM port's address, never aged or moved */
	u64 seen;	   /* the clock when its last frame came */
};

struct vswitch {
	struct vsw_port port[VSW_MAX_PORTS];
	/* the table: one CPU at a time through table_step() (vswitch.c), where a lock goes */
	struct vsw_entry table[VSW_TABLE_SIZE];
	u64 (*clock)(void *ctx); /* any unit; age is in the same */
	void *clock_ctx;
	u64 age;
	u64 learned, moved, aged, table_full; /* table events, for the shell */
};

/* An empty switch with its uplink trunk (port VSW_UPLINK, link up, no far side yet). clock may
 * be NULL (then nothing ages); age is how long a learned address lives, in clock units. */
void vswitch_init(struct vswitch *sw, u64 (*clock)(void *ctx), void *clock_ctx, u64 age);

/* Adds a port whose frames go to `out`; a VM port sends only with `mac` (NULL for a trunk).
 * Returns its number or -1 (no free port, or a VM port with a MAC another VM port has, or a
 * multicast MAC). The link starts up. */
int vswitch_add_port(struct vswitch *sw, enum vsw_kind kind, const char *name, const u8 *mac,
		     const struct net_endpoint *out);
/* The port is gone: its table entries with it. */
void vswitch_remove_port(struct vswitch *sw, unsigned port);

/* Where the uplink's frames go (the NIC's transmit, or Keel's stack); rx NULL: nowhere. */
void vswitch_set_uplink(struct vswitch *sw, const struct net_endpoint *out);
/* The endpoint a port's side calls to put a frame into the switch (for the uplink: what the
 * NIC driver or the stack delivers received frames to). */
struct net_endpoint vswitch_port_input(struct vswitch *sw, unsigned port);
/* A frame from `port`: checked, learned, forwarded (the frame is only borrowed). */
void vswitch_input(struct vswitch *sw, unsigned port, const u8 *frame, size_t len);

void vswitch_set_link(struct vswitch *sw, unsigned port, bool up);
/* The port with this name, -1 if none. */
int vswitch_find(const struct vswitch *sw, const char *name);
/* Learned (not fixed) addresses in the table now. */
unsigned vswitch_learned_count(const struct vswitch *sw);

const char *vswitch_drop_name(enum vsw_drop d);

#endif
