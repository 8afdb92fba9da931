/* virtio-net's queues: transmit chains checked for size and header, checksums the driver
 * left to the device filled in, frames handed to the port's endpoint; received frames
 * written with their header into one receive chain each. */
#include "virtio_net.h"
#include "../hypervisor/lib.h"

static const char *const drop_names[VNET_NDROPS] = {
    [VNET_DROP_TX_SHORT] = "tx-short",	      [VNET_DROP_TX_LONG] = "tx-long",
    [VNET_DROP_TX_HDR] = "tx-bad-header",     [VNET_DROP_TX_FAULT] = "tx-fault",
    [VNET_DROP_LINK_DOWN] = "link-down",      [VNET_DROP_RX_NOBUF] = "rx-no-buffer",
    [VNET_DROP_RX_SMALL] = "rx-small-buffer", [VNET_DROP_RX_OFF] = "rx-driver-off",
};

const char *virtio_net_drop_name(enum vnet_drop d)
{
	return (unsigned)d < VNET_NDROPS ? drop_names[d] : "?";
}

static struct virtio_net *net_of(struct virtio_pci *vp)
{
	return (struct virtio_net *)vp;
}

static void net_config(struct virtio_pci *vp, u8 *cfg)
{
	const struct virtio_net *vn = net_of(vp);
	u16 status = vn->link_up ? VIRTIO_NET_S_LINK_UP : 0, pairs = 1;
	memcpy(cfg, vn->mac, ETH_ALEN);
	memcpy(cfg + 6, &status, 2);
	memcpy(cfg + 8, &pairs, 2);
}

typedef u32 __attribute__((aligned(1), may_alias)) u32_any; /* a u32 at any address */

/* The Internet checksum of frame[start, len) written at start + off, as the driver asked:
 * it left the pseudo-header's sum in that field. False if the field is outside the frame. */
static bool fill_csum(u8 *frame, u32 len, u32 start, u32 off)
{
	if (start >= len || off > len - start || len - start - off < 2)
		return false;
	/* four bytes at a time in the CPU's byte order, swapped once at the end (RFC 1071: the
	 * one's-complement sum does not depend on byte order): a third of the instructions of a
	 * 16-bit big-endian loop, which Bochs counts one by one for every frame sent */
	u64 sum = 0;
	const u8 *p = frame + start;
	u32 n = len - start;
	for (; n >= 4; n -= 4, p += 4)
		sum += *(const u32_any *)p;
	if (n >= 2) {
		sum += (u32)p[0] | (u32)p[1] << 8;
		p += 2;
		n -= 2;
	}
	if (n)
		sum += p[0];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum >> 8 | sum << 8) & 0xffff; /* back to network order */
	u16 c = (u16)~sum;
	frame[start + off] = (u8)(c >> 8);
	frame[start + off + 1] = (u8)c;
	return true;
}

/* One transmit chain: the frame to the port, or a counted drop. */
static void transmit_one(struct virtio_net *vn)
{
	const struct virtq_chain *c = &vn->tx_chain;
	struct virtio_net_hdr h;
	if (c->readable < VNET_HDR_LEN + ETH_HLEN) {
		vn->drops[VNET_DROP_TX_SHORT]++;
		return;
	}
	if (c->readable > VNET_HDR_LEN + ETH_MAX_FRAME) {
		vn->drops[VNET_DROP_TX_LONG]++;
		return;
	}
	u32 len = c->readable - VNET_HDR_LEN;
	u8 *frame = vn->txbuf + VNET_HDR_LEN;
	if (!virtq_chain_read(c, vn->vp.p2m, 0, vn->txbuf, c->readable)) {
		vn->drops[VNET_DROP_TX_FAULT]++;
		return;
	}
	memcpy(&h, vn->txbuf, sizeof(h));
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		vn->drops[VNET_DROP_TX_HDR]++;
		return;
	}
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!virtio_has(&vn->vp, VIRTIO_NET_F_CSUM) ||
		    !fill_csum(frame, len, h.csum_start, h.csum_offset)) {
			vn->drops[VNET_DROP_TX_HDR]++;
			return;
		}
		vn->csum_filled++;
	}
	if (!vn->link_up) {
		vn->drops[VNET_DROP_LINK_DOWN]++;
		return;
	}
	vn->tx_frames++;
	vn->tx_bytes += len;
	net_deliver(&vn->out, frame, len);
}

static void transmit(struct virtio_net *vn)
{
	struct virtio_pci *vp = &vn->vp;
	struct virtq *q = &vp->q[VNET_TXQ];
	bool pushed = false;
	/* at most a ring's worth per notification: the guest does not run meanwhile */
	for (unsigned i = 0; i < q->size && virtio_pci_live(vp); i++) {
		const char *why = NULL;
		enum virtq_result r = virtq_pop(q, vp->p2m, &vn->tx_chain, &why);
		if (r == VIRTQ_EMPTY)
			break;
		if (r == VIRTQ_BROKEN) {
			virtio_pci_break(vp, why);
			break;
		}
		transmit_one(vn);
		if (!virtq_push(q, vp->p2m, vn->tx_chain.head, 0)) {
			virtio_pci_break(vp, "the used ring is outside the VM's RAM");
			break;
		}
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_interrupt(vp, VNET_TXQ);
}

void virtio_net_receive(void *ctx, const u8 *frame, size_t len)
{
	struct virtio_net *vn = ctx;
	struct virtio_pci *vp = &vn->vp;
	struct virtq *q = &vp->q[VNET_RXQ];
	if (!vn->link_up) {
		vn->drops[VNET_DROP_LINK_DOWN]++;
		return;
	}
	if (!virtio_pci_live(vp) || !q->ready) {
		vn->drops[VNET_DROP_RX_OFF]++;
		return;
	}
	if (len > ETH_MAX_FRAME) {
		vn->drops[VNET_DROP_RX_SMALL]++;
		return;
	}
	const char *why = NULL;
	enum virtq_result r = virtq_pop(q, vp->p2m, &vn->rx_chain, &why);
	if (r == VIRTQ_EMPTY) {
		vn->drops[VNET_DROP_RX_NOBUF]++;
		return;
	}
	if (r == VIRTQ_BROKEN) {
		vn->drops[VNET_DROP_RX_OFF]++;
		virtio_pci_break(vp, why);
		return;
	}
	const struct virtq_chain *c = &vn->rx_chain;
	struct virtio_net_hdr h = {.num_buffers = 1};
	u32 written = 0;
	if (c->writable < VNET_HDR_LEN + len) {
		vn->drops[VNET_DROP_RX_SMALL]++; /* the buffer goes back empty */
	} else if (!virtq_chain_write(c, vp->p2m, 0, &h, VNET_HDR_LEN) ||
		   !virtq_chain_write(c, vp->p2m, VNET_HDR_LEN, frame, (u32)len)) {
		vn->drops[VNET_DROP_RX_SMALL]++; /* a buffer outside RAM holds nothing */
	} else {
		written = VNET_HDR_LEN + (u32)len;
		vn->rx_frames++;
		vn->rx_bytes += len;
	}
	if (!virtq_push(q, vp->p2m, c->head, written)) {
		virtio_pci_break(vp, "the used ring is outside the VM's RAM");
		return;
	}
	virtio_pci_queue_interrupt(vp, VNET_RXQ);
}

static void net_notify(struct virtio_pci *vp, unsigned qi)
{
	if (qi == VNET_TXQ)
		transmit(net_of(vp));
	/* the receive queue: new buffers for frames still to come; nothing waits */
}

static const struct virtio_dev_ops net_ops = {
    .config = net_config,
    .notify = net_notify,
};

void virtio_net_set_link(struct virtio_net *vn, bool up)
{
	if (vn->link_up == up)
		return;
	vn->link_up = up;
	if (vn->vp.status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_config_interrupt(&vn->vp);
}

bool virtio_net_init(struct virtio_net *vn, struct p2m *p2m, const u8 *mac,
		     const struct net_endpoint *out)
{
	u64 f = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_CSUM);
	/* class 02, subclass 00: network, Ethernet (class << 16 | subclass << 8) */
	if (!virtio_pci_init(&vn->vp, p2m, VIRTIO_ID_NET, 0x020000, f, VNET_CFG_LEN, 2,
			     VNET_QUEUE_SIZE, &net_ops))
		return false;
	memcpy(vn->mac, mac, ETH_ALEN);
	vn->link_up = true;
	vn->out = out ? *out : (struct net_endpoint){0};
	vn->tx_frames = vn->tx_bytes = vn->rx_frames = vn->rx_bytes = vn->csum_filled = 0;
	memset(vn->drops, 0, sizeof(vn->drops));
	return true;
}

/* ---- the device interface ---- */

static void dev_reset(void *dev)
{
	virtio_pci_reset(&((struct virtio_net *)dev)->vp);
}

#define VNET_STATE_VERSION 1

static void dev_save(void *dev, struct state_writer *w)
{
	struct virtio_net *vn = dev;
	u8 link = vn->link_up;
	state_put_tag(w, "VNET", VNET_STATE_VERSION);
	STATE_PUT(w, link);
	virtio_pci_save(&vn->vp, w);
}

/* The MAC is the config's, not the stream's; the transport's load is all or nothing. */
static bool dev_load(void *dev, struct state_reader *r)
{
	struct virtio_net *vn = dev;
	u8 link;
	if (!state_get_tag(r, "VNET", VNET_STATE_VERSION) || !STATE_GET(r, link) || link > 1 ||
	    !virtio_pci_load(&vn->vp, r))
		return false;
	vn->link_up = link;
	return true;
}

const struct device_ops virtio_net_device = {
    .name = "virtio-net",
    .reset = dev_reset,
    .save = dev_save,
    .load = dev_load,
};
