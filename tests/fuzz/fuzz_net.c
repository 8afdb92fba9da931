/* libFuzzer target for Keel's network stack (net/): the input is a run of frames from the
 * wire. Byte 0 picks the stack's state: static address, DHCP unconfigured, DHCP bound (a
 * scripted slirp handshake first), static with frames waiting for ARP; every state has the
 * control channel open. Then records of [flags u8][len u16 LE][frame]: flag bit 0 signs an
 * IPv4/UDP frame to the control port with the right HMAC (so the fuzzer reaches the request
 * logic behind the MAC; a session of all ones becomes Keel's), bit 1 advances the clock 0.5 s and
 * polls first. Checks: every frame sent lies within Ethernet's sizes and the stack is never left
 * inside a call. `make fuzz-net`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../net/ctl.h"
#include "../../net/net_priv.h"

#define KEY "fuzz-key-0123"

static struct netstack ns;
static struct ctl ctl;
static u32 dhcp_xid;
static bool dhcp_seen;

static void tx(void *ctx, const u8 *f, size_t len)
{
	(void)ctx;
	if (len < ETH_MIN_FRAME || len > ETH_MAX_FRAME)
		abort();
	/* remember the DHCP transaction, so the scripted handshake can answer it */
	if (len > ETH_HLEN + IP_HLEN + UDP_HLEN + 240 && get_be16(f + 12) == ETH_TYPE_IPV4 &&
	    f[ETH_HLEN + 9] == IP_PROTO_UDP && get_be16(f + ETH_HLEN + IP_HLEN + 2) == 67) {
		dhcp_xid = get_be32(f + ETH_HLEN + IP_HLEN + UDP_HLEN + 4);
		dhcp_seen = true;
	}
}

static int run(void *ctx, char *line, char *out, size_t size, size_t *out_len)
{
	(void)ctx;
	size_t n = strlen(line);
	/* as much output as the line asks for, to exercise the parts */
	size_t want = n * 200 < size ? n * 200 : size;
	memset(out, 'x', want);
	*out_len = want;
	return (int)(n & 1);
}

static void dhcp_answer(u8 type)
{
	u8 f[ETH_HLEN + IP_HLEN + UDP_HLEN + 300];
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	f[6] = 0x52;
	put_be16(f + 12, ETH_TYPE_IPV4);
	u8 *h = f + ETH_HLEN, *u = h + IP_HLEN, *m = u + UDP_HLEN;
	h[0] = 0x45;
	put_be16(h + 2, IP_HLEN + UDP_HLEN + 300);
	h[8] = 64;
	h[9] = IP_PROTO_UDP;
	put_be32(h + 12, IP4(10, 0, 2, 2));
	put_be32(h + 16, IP4_BROADCAST);
	put_be16(h + 10, inet_fold(inet_sum(0, h, IP_HLEN)));
	put_be16(u, 67);
	put_be16(u + 2, 68);
	put_be16(u + 4, UDP_HLEN + 300);
	m[0] = 2;
	m[1] = 1;
	m[2] = 6;
	put_be32(m + 4, dhcp_xid);
	put_be32(m + 16, IP4(10, 0, 2, 15));
	memcpy(m + 28, ns.mac, 6);
	put_be32(m + 236, 0x63825363);
	const u8 opts[] = {53, 1, type, 54, 4, 10, 0, 2,  2, 1, 4, 255, 255, 255,
			   0,  3, 4,	10, 0, 2,  2, 51, 4, 0, 0, 0,	60,  255};
	memcpy(m + 240, opts, sizeof(opts));
	netstack_input(&ns, f, sizeof(f));
}

static void setup(u8 mode)
{
	static const u8 mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	struct netstack_config c = {NET_STATIC, IP4(10, 0, 2, 15), IP4(255, 255, 255, 0),
				    IP4(10, 0, 2, 2)};
	if (mode == 1 || mode == 2)
		c = (struct netstack_config){NET_DHCP, 0, 0, 0};
	netstack_init(&ns, mac, (struct net_endpoint){tx, NULL}, &c);
	if (ctl_init(&ctl, &ns, KEY, CTL_PORT_DEFAULT, run, NULL))
		abort();
	dhcp_seen = false;
	netstack_poll(&ns, 1000);
	if (mode == 2) {
		if (!dhcp_seen)
			abort();
		dhcp_answer(2);
		dhcp_answer(5);
		if (!ns.configured)
			abort();
	}
	if (mode == 3)
		netstack_udp_send(&ns, 1, IP4(10, 0, 2, 77), 2, "q", 1);
}

/* Makes a control datagram authentic: the HMAC over all but its last 32 bytes goes there. */
static void sign(u8 *f, size_t len)
{
	if (len < ETH_HLEN + IP_HLEN + UDP_HLEN + SHA256_LEN || get_be16(f + 12) != ETH_TYPE_IPV4)
		return;
	u8 *h = f + ETH_HLEN;
	size_t ihl = (size_t)(h[0] & 15) * 4;
	if (ihl < IP_HLEN || len < ETH_HLEN + ihl + UDP_HLEN + SHA256_LEN || h[9] != IP_PROTO_UDP)
		return;
	u8 *u = h + ihl;
	size_t ulen = get_be16(u + 4);
	if (ulen < UDP_HLEN + SHA256_LEN || ETH_HLEN + ihl + ulen > len)
		return;
	put_be16(u + 6, 0);
	size_t plen = ulen - UDP_HLEN - SHA256_LEN;
	u8 *d = u + UDP_HLEN;
	/* session all ones stands for Keel's current one, which the fuzzer cannot guess */
	static const u8 ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	if (plen >= 16 && !memcmp(d + 8, ones, 8) && ctl.session)
		for (int k = 0; k < 8; k++)
			d[8 + k] = (u8)(ctl.session >> (56 - 8 * k));
	hmac_sha256(KEY, strlen(KEY), u + UDP_HLEN, plen, u + UDP_HLEN + plen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	setup(data[0] % 4);
	u64 now = 1000;
	size_t i = 1;
	while (i + 3 <= size) {
		u8 flags = data[i];
		size_t len = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;
		i += 3;
		if (len > size - i)
			len = size - i;
		if (len > 9018) /* a jumbo frame at most: the stack must drop what it cannot take */
			len = 9018;
		u8 *f = malloc(len ? len : 1); /* exact size: ASan sees a read past the end */
		memcpy(f, data + i, len);
		i += len;
		if (flags & 1)
			sign(f, len);
		if (flags & 2) {
			now += 500000000ULL;
			netstack_poll(&ns, now);
		}
		netstack_input(&ns, f, len);
		free(f);
		if (ns.depth)
			abort();
	}
	return 0;
}
