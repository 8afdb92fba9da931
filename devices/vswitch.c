/* The virtual switch: per-frame checks at the input port, the learning table behind
 * table_step(), and delivery to one port, the trunks (unknown unicast) or all (flood). VM
 * ports never see unicast meant for another address. */
#include "vswitch.h"
#include "../hypervisor/lib.h"

static const char *const drop_names[VSW_NDROPS] = {
    [VSW_DROP_SHORT] = "short",		[VSW_DROP_LONG] = "long",
    [VSW_DROP_SPOOF] = "spoofed",	[VSW_DROP_BAD_SRC] = "bad-source",
    [VSW_DROP_LINK_DOWN] = "link-down", [VSW_DROP_NO_ROUTE] = "no-route",
    [VSW_DROP_LOOPBACK] = "same-port",
};

const char *vswitch_drop_name(enum vsw_drop d)
{
	return (unsigned)d < VSW_NDROPS ? drop_names[d] : "?";
}

static bool mac_eq(const u8 *a, const u8 *b)
{
	return !memcmp(a, b, ETH_ALEN);
}

static bool mac_zero(const u8 *a)
{
	static const u8 z[ETH_ALEN];
	return mac_eq(a, z);
}

static u64 now(const struct vswitch *sw)
{
	return sw->clock ? sw->clock(sw->clock_ctx) : 0;
}

static void port_in(void *ctx, const u8 *frame, size_t len)
{
	struct vsw_port *p = ctx;
	vswitch_input(p->sw, (unsigned)(p - p->sw->port), frame, len);
}

void vswitch_init(struct vswitch *sw, u64 (*clock)(void *ctx), void *clock_ctx, u64 age)
{
	memset(sw, 0, sizeof(*sw));
	for (unsigned i = 0; i < VSW_MAX_PORTS; i++)
		sw->port[i].sw = sw;
	sw->clock = clock;
	sw->clock_ctx = clock_ctx;
	sw->age = age;
	struct vsw_port *u = &sw->port[VSW_UPLINK];
	u->used = u->link_up = true;
	u->kind = VSW_PORT_TRUNK;
	kstrlcpy(u->name, "uplink", sizeof(u->name));
}

/* ---- the table: everything that reads or changes it is here (SMP: take the lock here) ---- */

static bool expired(const struct vswitch *sw, const struct vsw_entry *e, u64 t)
{
	return !e->fixed && sw->clock && t - e->seen > sw->age;
}

static struct vsw_entry *find(struct vswitch *sw, const u8 *mac, u64 t)
{
	for (unsigned i = 0; i < VSW_TABLE_SIZE; i++) {
		struct vsw_entry *e = &sw->table[i];
		if (!e->valid || !mac_eq(e->mac, mac))
			continue;
		if (expired(sw, e, t)) {
			e->valid = false;
			sw->aged++;
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* A free slot, else an aged one, else the oldest learned one (a full table forgets). */
static struct vsw_entry *slot(struct vswitch *sw, u64 t)
{
	struct vsw_entry *old = NULL;
	for (unsigned i = 0; i < VSW_TABLE_SIZE; i++) {
		struct vsw_entry *e = &sw->table[i];
		if (!e->valid)
			return e;
		if (expired(sw, e, t)) {
			sw->aged++;
			return e;
		}
		if (!e->fixed && (!old || e->seen < old->seen))
			old = e;
	}
	if (old)
		sw->table_full++;
	return old;
}

enum table_op { T_FORWARD, T_ADD_FIXED, T_REMOVE_PORT };

/* The one entry point to the table. T_FORWARD: learns `src` behind trunk port `in` (false if
 * src is a VM's address: a spoof) and sets *out to dst's port, -1 unknown. T_ADD_FIXED:
 * installs src as port in's own address (false if another VM port has it). T_REMOVE_PORT:
 * forgets every entry of port in. */
static bool table_step(struct vswitch *sw, enum table_op op, unsigned in, const u8 *src,
		       const u8 *dst, int *out)
{
	u64 t = now(sw);
	struct vsw_entry *e;
	switch (op) {
	case T_ADD_FIXED:
		e = find(sw, src, t);
		if (e && e->fixed)
			return false;
		if (!e && !(e = slot(sw, t)))
			return false;
		*e = (struct vsw_entry){.port = (u8)in, .valid = true, .fixed = true, .seen = t};
		memcpy(e->mac, src, ETH_ALEN);
		return true;
	case T_REMOVE_PORT:
		for (unsigned i = 0; i < VSW_TABLE_SIZE; i++)
			if (sw->table[i].valid && sw->table[i].port == in)
				sw->table[i].valid = false;
		return true;
	case T_FORWARD:
		break;
	}
	e = find(sw, src, t);
	if (sw->port[in].kind == VSW_PORT_TRUNK) {
		if (e && e->fixed)
			return false;
		if (e) {
			if (e->port != in)
				sw->moved++;
			e->port = (u8)in;
			e->seen = t;
		} else if ((e = slot(sw, t))) {
			*e = (struct vsw_entry){.port = (u8)in, .valid = true, .seen = t};
			memcpy(e->mac, src, ETH_ALEN);
			sw->learned++;
		}
	}
	*out = -1;
	if (!eth_addr_is_multicast(dst) && (e = find(sw, dst, t)))
		*out = e->port;
	return true;
}

/* ---- ports ---- */

int vswitch_add_port(struct vswitch *sw, enum vsw_kind kind, const char *name, const u8 *mac,
		     const struct net_endpoint *out)
{
	if (kind == VSW_PORT_VM && (!mac || eth_addr_is_multicast(mac) || mac_zero(mac)))
		return -1;
	for (unsigned i = 0; i < VSW_MAX_PORTS; i++) {
		struct vsw_port *p = &sw->port[i];
		if (p->used)
			continue;
		if (kind == VSW_PORT_VM && !table_step(sw, T_ADD_FIXED, i, mac, NULL, NULL))
			return -1;
		memset(&p->st, 0, sizeof(p->st));
		p->used = p->link_up = true;
		p->kind = kind;
		kstrlcpy(p->name, name ? name : "", sizeof(p->name));
		if (mac)
			memcpy(p->mac, mac, ETH_ALEN);
		else
			memset(p->mac, 0, ETH_ALEN);
		p->out = out ? *out : (struct net_endpoint){0};
		return (int)i;
	}
	return -1;
}

void vswitch_remove_port(struct vswitch *sw, unsigned port)
{
	if (port >= VSW_MAX_PORTS || !sw->port[port].used)
		return;
	table_step(sw, T_REMOVE_PORT, port, NULL, NULL, NULL);
	sw->port[port].used = false;
	sw->port[port].out = (struct net_endpoint){0};
}

void vswitch_set_uplink(struct vswitch *sw, const struct net_endpoint *out)
{
	sw->port[VSW_UPLINK].out = out ? *out : (struct net_endpoint){0};
}

struct net_endpoint vswitch_port_input(struct vswitch *sw, unsigned port)
{
	if (port >= VSW_MAX_PORTS)
		return (struct net_endpoint){0};
	return (struct net_endpoint){port_in, &sw->port[port]};
}

void vswitch_set_link(struct vswitch *sw, unsigned port, bool up)
{
	if (port < VSW_MAX_PORTS && sw->port[port].used)
		sw->port[port].link_up = up;
}

int vswitch_find(const struct vswitch *sw, const char *name)
{
	for (unsigned i = 0; i < VSW_MAX_PORTS; i++)
		if (sw->port[i].used && !strcmp(sw->port[i].name, name))
			return (int)i;
	return -1;
}

unsigned vswitch_learned_count(const struct vswitch *sw)
{
	unsigned n = 0;
	u64 t = now(sw);
	for (unsigned i = 0; i < VSW_TABLE_SIZE; i++)
		n += sw->table[i].valid && !sw->table[i].fixed && !expired(sw, &sw->table[i], t);
	return n;
}

/* ---- forwarding ---- */

static void drop(struct vsw_port *p, enum vsw_drop why)
{
	p->st.drops[why]++;
}

/* To one port; a port with nothing behind it takes nothing. */
static void deliver(struct vsw_port *q, const u8 *frame, size_t len)
{
	if (!q->out.rx)
		return;
	if (!q->link_up) {
		drop(q, VSW_DROP_LINK_DOWN);
		return;
	}
	q->st.tx_frames++;
	q->st.tx_bytes += len;
	net_deliver(&q->out, frame, len);
}

void vswitch_input(struct vswitch *sw, unsigned in, const u8 *frame, size_t len)
{
	if (in >= VSW_MAX_PORTS || !sw->port[in].used)
		return;
	struct vsw_port *p = &sw->port[in];
	if (len < ETH_HLEN) {
		drop(p, VSW_DROP_SHORT);
		return;
	}
	if (len > ETH_MAX_FRAME) {
		drop(p, VSW_DROP_LONG);
		return;
	}
	if (!p->link_up) {
		drop(p, VSW_DROP_LINK_DOWN);
		return;
	}
	const u8 *dst = frame, *src = frame + ETH_ALEN;
	if (eth_addr_is_multicast(src) || mac_zero(src)) {
		drop(p, VSW_DROP_BAD_SRC);
		return;
	}
	if (p->kind == VSW_PORT_VM && !mac_eq(src, p->mac)) {
		drop(p, VSW_DROP_SPOOF);
		return;
	}
	int to = -1;
	if (!table_step(sw, T_FORWARD, in, src, dst, &to)) {
		drop(p, VSW_DROP_SPOOF);
		return;
	}
	p->st.rx_frames++;
	p->st.rx_bytes += len;
	if (eth_addr_is_multicast(dst)) {
		for (unsigned i = 0; i < VSW_MAX_PORTS; i++)
			if (i != in && sw->port[i].used)
				deliver(&sw->port[i], frame, len);
		return;
	}
	if (to == (int)in) {
		drop(p, VSW_DROP_LOOPBACK);
		return;
	}
	if (to >= 0) {
		deliver(&sw->port[to], frame, len);
		return;
	}
	/* unknown unicast: to the trunks (the uplink), never to the VMs */
	bool sent = false;
	for (unsigned i = 0; i < VSW_MAX_PORTS; i++) {
		struct vsw_port *q = &sw->port[i];
		if (i != in && q->used && q->kind == VSW_PORT_TRUNK && q->out.rx) {
			deliver(q, frame, len);
			sent = true;
		}
	}
	if (!sent)
		drop(p, VSW_DROP_NO_ROUTE);
}
