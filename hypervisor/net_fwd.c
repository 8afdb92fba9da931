/* A VM's port forwards (net_fwd.h): the config's checks that need the running network (the
 * VMs' address range, Keel's own ports, the translator's flow range) and the installation
 * on the gateway. */
#include "net_fwd.h"
#include "config.h"
#include "lib.h"
#include "vm_net.h"
#include "../net/netstack.h"
#include "../net/router.h"

static const char *proto_name(u8 proto)
{
	return proto == IP_PROTO_TCP ? "tcp" : "udp";
}

/* a UDP port Keel's own stack answers on: the control channel, DHCP */
static bool keels_udp_port(const struct netstack *keel, u16 port)
{
	if (port == UDP_PORT_DHCP_CLIENT)
		return true;
	for (unsigned i = 0; keel && i < NET_UDP_BINDINGS; i++)
		if (keel->udp[i].port == port)
			return true;
	return false;
}

void net_fwd_remove(struct router *r, const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nfwds; i++)
		nat_unforward(&r->nat, cfg->fwds[i].proto, cfg->fwds[i].ex_port);
	router_unbind(r, cfg->net_ip);
}

bool net_fwd_install(struct router *r, const struct netstack *keel, const struct vm_config *cfg,
		     char *why, size_t size)
{
	if (!cfg->net_ip)
		return true;
	u8 mac[6];
	vm_net_mac(cfg, mac);
	const char *err = router_bind(r, cfg->net_ip, mac);
	if (err) {
		ksnprintf(why, size, "ip %u.%u.%u.%u: %s", cfg->net_ip >> 24,
			  (cfg->net_ip >> 16) & 255, (cfg->net_ip >> 8) & 255, cfg->net_ip & 255,
			  err);
		return false;
	}
	for (unsigned i = 0; i < cfg->nfwds; i++) {
		const struct vm_fwd_cfg *f = &cfg->fwds[i];
		err = f->proto == IP_PROTO_UDP && keels_udp_port(keel, f->ex_port)
			  ? "Keel's own stack uses that port (control channel or DHCP)"
			  : nat_forward(&r->nat, f->proto, f->ex_port, cfg->net_ip, f->in_port);
		if (err) {
			ksnprintf(why, size, "fwd %s:%u:%u: %s", proto_name(f->proto), f->ex_port,
				  f->in_port, err);
			/* all or nothing: what went in before this one comes out again */
			for (unsigned j = 0; j < i; j++)
				nat_unforward(&r->nat, cfg->fwds[j].proto, cfg->fwds[j].ex_port);
			router_unbind(r, cfg->net_ip);
			return false;
		}
	}
	return true;
}
