/* libFuzzer target for the address translator (net/nat.c): the input is a run of packets,
 * each [flags][len lo][len hi][bytes], fed outbound (a VM's) or inbound (from the wire) into
 * one translator with a port forward, so later packets meet the flows earlier ones made.
 * Checks its promises: a translated packet's IP header checksum holds and its addresses are
 * the translator's; no read or write outside the packet (ASan); the table stays in bounds.
 * `make fuzz-nat`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../net/nat.h"

#define KEEL_EX 0x0a00020fu /* 10.0.2.15 */

static uint16_t ip_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nat n;
	nat_init(&n, 0x0a000000u, 0xffffff00u, 20000, 20015);
	nat_set_external(&n, KEEL_EX);
	if (nat_forward(&n, IP_PROTO_TCP, 8080, 0x0a000003u, 80))
		abort();
	uint64_t now = 0;
	while (size >= 3) {
		uint8_t flags = data[0];
		size_t len = (size_t)(data[1] | data[2] << 8);
		data += 3, size -= 3;
		if (len > size)
			len = size;
		/* a buffer of exactly len bytes, so ASan sees a read past the packet */
		uint8_t *pkt = malloc(len ? len : 1);
		memcpy(pkt, data, len);
		data += len, size -= len;
		now += (uint64_t)(flags >> 2) * 1000000000ull;
		uint32_t to = 0;
		enum nat_verdict v = flags & 1 ? nat_inbound(&n, pkt, len, now, &to)
					       : nat_outbound(&n, pkt, len, now);
		if (v == NAT_TRANSLATED) {
			size_t ihl = (size_t)(pkt[0] & 0xf) * 4;
			if (len < 20 || ihl < 20 || ihl > len || ip_sum(pkt, ihl) != 0xffff)
				abort();
			if (!(flags & 1) && rd32(pkt + 12) != KEEL_EX)
				abort();
			if ((flags & 1) &&
			    (rd32(pkt + 16) != to || (to & 0xffffff00u) != 0x0a000000u))
				abort();
		}
		if (flags & 2)
			nat_expire(&n, now);
		free(pkt);
	}
	if (nat_active(&n) > NAT_MAX_MAPS)
		abort();
	return 0;
}
