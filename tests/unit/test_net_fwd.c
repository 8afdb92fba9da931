/* A VM's port forwards from its config (hypervisor/net_fwd.c) on the whole way of
 * test_uplink.c: a TCP segment from a remote to Keel's forwarded port reaches the VM's MAC
 * and port, the VM's answer leaves from that port, Keel's own ports are never given away, a
 * refused forward installs nothing, and a removed one is Keel's again. */
#include "net_fake.h"
#include "../../hypervisor/config.h"
#include "../../hypervisor/console.h"
#include "../../hypervisor/net_fwd.h"
#include "../../hypervisor/vm_net.h"
#include "../../net/router.h"

#define GW_IP IP4(10, 0, 0, 254)
static const u8 gw_mac[6] = {0x52, 0x54, 0x00, 0x4b, 0x45, 0xfe};

struct rig {
	struct wire w;
	struct netstack *ns;
	struct router r;
	unsigned to_vm;
	u8 vm_frame[ETH_MAX_FRAME];
	size_t vm_len;
};

static void vm_rx(void *ctx, const u8 *f, size_t len)
{
	struct rig *g = ctx;
	g->to_vm++;
	memcpy(g->vm_frame, f, len);
	g->vm_len = len;
}

static bool send_ip(void *ctx, const u8 *pkt, size_t len)
{
	return netstack_send_ip(((struct rig *)ctx)->ns, pkt, len);
}

static bool hook(void *ctx, const u8 *pkt, size_t len)
{
	return router_outside_input(&((struct rig *)ctx)->r, pkt, len);
}

static struct rig *rig_new(void)
{
	struct rig *g = test_alloc(sizeof(*g));
	g->ns = net_static(&g->w);
	router_init(&g->r, GW_IP, IP4(255, 255, 255, 0), gw_mac, (struct net_endpoint){vm_rx, g},
		    (struct router_outside){send_ip, g});
	router_set_outside_address(&g->r, KEEL_IP);
	netstack_set_ip_hook(g->ns, hook, g);
	net_learn_peer(g->ns, &g->w);
	return g;
}

static struct vm_config *vm_cfg(const char *text)
{
	struct config *c = test_alloc(sizeof(*c));
	config_parse(c, text, strlen(text), "keel.cfg", NULL);
	REQUIRE(c->nvms == 1 && c->vms[0].valid);
	return &c->vms[0];
}

/* the TCP or UDP checksum over the pseudo-header, recomputed from scratch: 0 when right */
static u16 l4_check(const u8 *ip)
{
	size_t total = get_be16(ip + 2), l4 = total - IP_HLEN;
	u8 ph[12];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	put_be16(ph + 10, (u16)l4);
	return inet_fold(inet_sum(inet_sum(0, ph, 12), ip + IP_HLEN, l4));
}

/* a TCP segment (20-byte header, flags, payload) with its checksum, IPv4 header first at ip */
static size_t tcp_packet(u8 *ip, u32 src, u16 sport, u32 dst, u16 dport, u8 flags, const char *data)
{
	size_t dlen = strlen(data), tlen = 20 + dlen;
	memset(ip, 0, IP_HLEN + tlen);
	ip[0] = 0x45;
	put_be16(ip + 2, (u16)(IP_HLEN + tlen));
	ip[8] = 64;
	ip[9] = IP_PROTO_TCP;
	put_be32(ip + 12, src);
	put_be32(ip + 16, dst);
	put_be16(ip + 10, inet_fold(inet_sum(0, ip, IP_HLEN)));
	u8 *t = ip + IP_HLEN;
	put_be16(t, sport);
	put_be16(t + 2, dport);
	put_be32(t + 4, 1000);
	t[12] = 5 << 4;
	t[13] = flags;
	put_be16(t + 14, 8192);
	memcpy(t + 20, data, dlen);
	put_be16(t + 16, l4_check(ip));
	return IP_HLEN + tlen;
}

static const char web_cfg[] = "[vm]\nname = web\nkernel = k\nnet = on\nip = 10.0.0.1\n"
			      "fwd = tcp:8080:80\nfwd = udp:5353:53\n";

TEST(net_fwd_outside_reaches_the_vms_port_and_the_answer_leaves_from_the_forward)
{
	struct rig *g = rig_new();
	struct vm_config *c = vm_cfg(web_cfg);
	char why[128] = "";
	REQUIRE(net_fwd_install(&g->r, g->ns, c, why, sizeof(why)));
	u8 vm_mac[6];
	vm_net_mac(c, vm_mac);

	/* a remote's SYN to Keel's address, port 8080, from the wire */
	u8 f[ETH_MAX_FRAME];
	size_t n = tcp_packet(f + ETH_HLEN, FAR_IP, 40000, KEEL_IP, 8080, 0x02, "");
	eth_hdr(f, keel_mac, peer_mac, ETH_TYPE_IPV4);
	netstack_input(g->ns, f, ETH_HLEN + n);
	REQUIRE(g->to_vm == 1);
	const u8 *v = g->vm_frame, *vip = v + ETH_HLEN;
	/* to the VM's MAC before it ever spoke: the config bound its address */
	CHECK(!memcmp(v, vm_mac, 6));
	CHECK(!memcmp(v + 6, gw_mac, 6));
	CHECK_EQ(get_be32(vip + 12), FAR_IP);
	CHECK_EQ(get_be32(vip + 16), IP4(10, 0, 0, 1));
	CHECK_EQ(get_be16(vip + IP_HLEN), 40000u);
	CHECK_EQ(get_be16(vip + IP_HLEN + 2), 80u);
	CHECK_EQ(inet_fold(inet_sum(0, vip, IP_HLEN)), 0u);
	CHECK_EQ(l4_check(vip), 0u);

	/* the VM's SYN-ACK with data leaves as Keel's, from port 8080, to the remote */
	unsigned sent = g->w.n;
	n = tcp_packet(f + ETH_HLEN, IP4(10, 0, 0, 1), 80, FAR_IP, 40000, 0x12, "hello");
	eth_hdr(f, gw_mac, vm_mac, ETH_TYPE_IPV4);
	router_inside_input(&g->r, f, ETH_HLEN + n);
	REQUIRE(g->w.n == sent + 1);
	const u8 *o = g->w.f[sent], *oip = o + ETH_HLEN;
	CHECK(!memcmp(o, peer_mac, 6));
	CHECK_EQ(get_be32(oip + 12), KEEL_IP);
	CHECK_EQ(get_be32(oip + 16), FAR_IP);
	CHECK_EQ(get_be16(oip + IP_HLEN), 8080u);
	CHECK_EQ(get_be16(oip + IP_HLEN + 2), 40000u);
	CHECK_EQ(l4_check(oip), 0u);
	CHECK(!memcmp(oip + IP_HLEN + 20, "hello", 5));

	/* UDP 5353 reaches port 53; any remote may use a forward */
	n = udp_frame(f, PEER_IP, 3333, KEEL_IP, 5353, "query", 5);
	netstack_input(g->ns, f, n);
	REQUIRE(g->to_vm == 2);
	CHECK_EQ(get_be16(vip + IP_HLEN + 2), 53u);
	CHECK_EQ(l4_check(vip), 0u);
	/* a port not forwarded stays Keel's: its stack counts it */
	n = udp_frame(f, PEER_IP, 3333, KEEL_IP, 5354, "query", 5);
	netstack_input(g->ns, f, n);
	CHECK_EQ(g->to_vm, 2u);
	CHECK_EQ(g->ns->st.udp_no_port, 1u);

	/* the gateway's listing shows each forward with its packets, no remote */
	static char out[4096];
	console_capture_begin(out, sizeof(out) - 1);
	router_print(&g->r);
	bool cut;
	out[console_capture_end(&cut)] = 0;
	CHECK(!cut);
	CHECK(strstr(out, "router: tcp 10.0.0.1:80 <-> :8080 forwarded (1 out, 1 in)\n") != NULL);
	CHECK(strstr(out, "router: udp 10.0.0.1:53 <-> :5353 forwarded (0 out, 1 in)\n") != NULL);
	CHECK(strstr(out, "router: host 10.0.0.1 at ") != NULL &&
	      strstr(out, " (config)\n") != NULL);

	/* removed: port 8080 is nobody's, nothing reaches the VM */
	net_fwd_remove(&g->r, c);
	n = tcp_packet(f + ETH_HLEN, FAR_IP, 40001, KEEL_IP, 8080, 0x02, "");
	eth_hdr(f, keel_mac, peer_mac, ETH_TYPE_IPV4);
	netstack_input(g->ns, f, ETH_HLEN + n);
	CHECK_EQ(g->to_vm, 2u);
	CHECK_EQ(nat_active(&g->r.nat), 0u);
}

static void udp_nop(void *ctx, struct netstack *ns, u32 ip, u16 port, const u8 *d, size_t len)
{
	(void)ctx, (void)ns, (void)ip, (void)port, (void)d, (void)len;
}

TEST(net_fwd_refuses_keels_own_ports_and_installs_nothing_then)
{
	struct rig *g = rig_new();
	REQUIRE(netstack_udp_bind(g->ns, 7777, udp_nop, NULL)); /* the control channel */
	char why[128] = "";
	struct vm_config *c = vm_cfg("[vm]\nname = a\nkernel = k\nnet = on\nip = 10.0.0.1\n"
				     "fwd = tcp:8080:80\nfwd = udp:7777:7777\n");
	CHECK(!net_fwd_install(&g->r, g->ns, c, why, sizeof(why)));
	CHECK_STR(why, "fwd udp:7777:7777: Keel's own stack uses that port (control channel or "
		       "DHCP)");
	/* all or nothing: the tcp forward before it and the address are gone again */
	CHECK_EQ(nat_active(&g->r.nat), 0u);
	for (unsigned i = 0; i < ROUTER_MAX_HOSTS; i++)
		CHECK_EQ(g->r.hosts[i].ip, 0u);
	/* TCP 7777 is no UDP port of Keel's; DHCP's 68 is refused even while unbound */
	c = vm_cfg("[vm]\nname = a\nkernel = k\nnet = on\nip = 10.0.0.1\nfwd = udp:68:68\n");
	CHECK(!net_fwd_install(&g->r, g->ns, c, why, sizeof(why)));
	c = vm_cfg("[vm]\nname = a\nkernel = k\nnet = on\nip = 10.0.0.1\nfwd = tcp:7777:22\n");
	CHECK(net_fwd_install(&g->r, g->ns, c, why, sizeof(why)));
	CHECK_EQ(nat_active(&g->r.nat), 1u);
}

TEST(net_fwd_refuses_what_the_running_network_rules_out)
{
	struct rig *g = rig_new();
	char why[128] = "";
	static const struct {
		const char *cfg, *why;
	} bad[] = {
	    {"ip = 10.0.1.1\n", "ip 10.0.1.1: not a host address of the VMs' network"},
	    {"ip = 10.0.0.254\n", "ip 10.0.0.254: not a host address of the VMs' network"},
	    {"ip = 10.0.0.255\n", "ip 10.0.0.255: not a host address of the VMs' network"},
	    {"ip = 10.0.0.0\n", "ip 10.0.0.0: not a host address of the VMs' network"},
	    {"ip = 10.0.0.3\nfwd = tcp:20000:80\n",
	     "fwd tcp:20000:80: the port is in the range kept for the VMs' own flows"},
	    {"ip = 10.0.0.3\nfwd = udp:59999:80\n",
	     "fwd udp:59999:80: the port is in the range kept for the VMs' own flows"},
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		ksnprintf(text, sizeof(text), "[vm]\nname = a\nkernel = k\nnet = on\n%s",
			  bad[i].cfg);
		CHECK(!net_fwd_install(&g->r, g->ns, vm_cfg(text), why, sizeof(why)));
		CHECK_STR(why, bad[i].why);
	}
	CHECK_EQ(nat_active(&g->r.nat), 0u);
	/* a second VM with an outside port already taken at run time (another config file
	 * cannot, but a restarted VM's forwards are installed once) */
	struct vm_config *a = vm_cfg(web_cfg);
	REQUIRE(net_fwd_install(&g->r, g->ns, a, why, sizeof(why)));
	struct vm_config *b = vm_cfg("[vm]\nname = b\nkernel = k\nnet = on\nip = 10.0.0.2\n"
				     "fwd = udp:9999:1\nfwd = tcp:8080:80\n");
	CHECK(!net_fwd_install(&g->r, g->ns, b, why, sizeof(why)));
	CHECK_STR(why, "fwd tcp:8080:80: the port is already forwarded");
	CHECK_EQ(nat_active(&g->r.nat), 2u); /* a's two; b's udp 9999 taken back */
	/* b's address is not bound: another VM claiming 10.0.0.1 (a's) is not believed */
	unsigned bound = 0;
	for (unsigned i = 0; i < ROUTER_MAX_HOSTS; i++)
		bound += g->r.hosts[i].ip != 0;
	CHECK_EQ(bound, 1u);
	/* a VM without ip = installs nothing and succeeds */
	CHECK(net_fwd_install(&g->r, g->ns, vm_cfg("[vm]\nname = c\nkernel = k\nnet = on\n"), why,
			      sizeof(why)));
}
