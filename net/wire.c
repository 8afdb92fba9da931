/* The bottom of Keel's stack: the Internet checksum and putting an Ethernet frame on the
 * wire through the interface's endpoint. */
#include "net_priv.h"
#include "../hypervisor/lib.h"

const u8 eth_broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

u32 inet_sum(u32 sum, const u8 *p, size_t len)
{
	/* 32 bits cannot overflow: a frame adds at most 757 words of 0xffff */
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get_be16(p + i);
	if (len & 1)
		sum += (u32)p[len - 1] << 8;
	return sum;
}

u16 inet_fold(u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

void eth_output(struct netstack *ns, u8 *frame, size_t len, const u8 *dst, u16 type)
{
	memcpy(frame, dst, ETH_ALEN);
	memcpy(frame + ETH_ALEN, ns->mac, ETH_ALEN);
	put_be16(frame + 2 * ETH_ALEN, type);
	if (len < ETH_MIN_FRAME) {
		memset(frame + len, 0, ETH_MIN_FRAME - len);
		len = ETH_MIN_FRAME;
	}
	ns->st.tx_frames++;
	net_deliver(&ns->tx, frame, len);
}
