/* Text forms of the stack's settings: dotted quads and Keel's `net=` command-line value
 * ("dhcp", "off", or "10.0.2.15/24,gw=10.0.2.2"). */
#include "netstack.h"
#include "../hypervisor/lib.h"

char *ip4_format(u32 ip, char *buf)
{
	ksnprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return buf;
}

/* One decimal 0..max at *s, at most `digits` digits; advances *s. */
static bool parse_num(const char **s, unsigned max, unsigned *out)
{
	unsigned v = 0, n = 0;
	while (**s >= '0' && **s <= '9' && n < 4) {
		v = v * 10 + (unsigned)(**s - '0');
		(*s)++;
		n++;
	}
	*out = v;
	return n && n < 4 && v <= max;
}

static bool parse_quad(const char **s, u32 *ip)
{
	u32 v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned b;
		if (i && *(*s)++ != '.')
			return false;
		if (!parse_num(s, 255, &b))
			return false;
		v = v << 8 | b;
	}
	*ip = v;
	return true;
}

bool ip4_parse(const char *s, u32 *ip)
{
	return parse_quad(&s, ip) && !*s;
}

const char *netstack_parse_config(const char *s, struct netstack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!strcmp(s, "dhcp")) {
		cfg->mode = NET_DHCP;
		return NULL;
	}
	if (!strcmp(s, "off"))
		return NULL;
	u32 ip, gw = 0;
	unsigned bits;
	if (!parse_quad(&s, &ip) || *s++ != '/' || !parse_num(&s, 32, &bits))
		return "expected dhcp, off, or ADDRESS/PREFIX[,gw=ADDRESS]";
	if (bits < 1 || bits > 30)
		return "the prefix must be 1 to 30 bits";
	if (*s) {
		if (strncmp(s, ",gw=", 4))
			return "after the prefix only ,gw=ADDRESS may follow";
		s += 4;
		if (!parse_quad(&s, &gw) || *s)
			return "the gateway is not an address";
	}
	u32 mask = ~0u << (32 - bits);
	if (!(ip & ~mask) || (ip & ~mask) == ~mask || ip >> 28 >= 0xe)
		return "the address is a network, broadcast or multicast address";
	if (gw && ((gw & mask) != (ip & mask) || gw == ip))
		return "the gateway must be another address on the same subnet";
	*cfg = (struct netstack_config){NET_STATIC, ip, mask, gw};
	return NULL;
}
