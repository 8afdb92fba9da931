/* virtio-net (virtio 1.x, section 5.1): receive queue 0, transmit queue 1, the MAC and the
 * link status in its configuration, the 12-byte virtio_net_hdr before every frame. What the
 * guest transmits goes whole to one frame endpoint (its switch port); frames delivered to
 * virtio_net_receive() go into the guest's receive buffers, or are dropped and counted. */
#ifndef KEEL_VIRTIO_NET_H
#define KEEL_VIRTIO_NET_H

#include "device.h"
#include "netif.h"
#include "virtio_pci.h"

#define VIRTIO_ID_NET 1

/* feature bits */
#define VIRTIO_NET_F_CSUM   0 /* the driver may leave a checksum for the device to fill */
#define VIRTIO_NET_F_MAC    5
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1

/* virtio_net_hdr flags and gso types */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_NONE	    0

#define VNET_HDR_LEN	12 /* with VERSION_1 the header always has num_buffers */
#define VNET_QUEUE_SIZE 256
#define VNET_RXQ	0
#define VNET_TXQ	1
#define VNET_CFG_LEN	10 /* mac, status, max_virtqueue_pairs */

struct virtio_net_hdr {
	u8 flags, gso_type;
	u16 hdr_len, gso_size, csum_start, csum_offset, num_buffers;
} __attribute__((packed));

/* Why a frame was dropped. */
enum vnet_drop {
	VNET_DROP_TX_SHORT,  /* a transmit chain without header + 14 bytes */
	VNET_DROP_TX_LONG,   /* over header + 1514 bytes */
	VNET_DROP_TX_HDR,    /* a GSO type or checksum request the device did not offer or
				that points outside the frame */
	VNET_DROP_TX_FAULT,  /* a buffer outside the VM's RAM */
	VNET_DROP_LINK_DOWN, /* either way, while the link is down */
	VNET_DROP_RX_NOBUF,  /* the guest had no receive buffer */
	VNET_DROP_RX_SMALL,  /* the guest's buffer could not hold the frame */
	VNET_DROP_RX_OFF,    /* the driver is not running (not DRIVER_OK, or broken) */
	VNET_NDROPS,
};

struct virtio_net {
	struct virtio_pci vp; /* first: the transport's callbacks get it back */
	u8 mac[ETH_ALEN];
	bool link_up;
	struct net_endpoint out; /* where transmitted frames go */
	u64 tx_frames, tx_bytes, rx_frames, rx_bytes, csum_filled;
	u64 drops[VNET_NDROPS];
	struct virtq_chain tx_chain, rx_chain; /* two: a frame may arrive while one is sent */
	u8 txbuf[VNET_HDR_LEN + ETH_MAX_FRAME];
};

/* A device with this MAC whose transmitted frames go to `out` (may be changed later in
 * vn->out); plug vn->vp.f into the PCI host afterwards. The link starts up. */
bool virtio_net_init(struct virtio_net *vn, struct p2m *p2m, const u8 *mac,
		     const struct net_endpoint *out);

/* A frame for the guest (net_rx_fn: ctx is the struct virtio_net). */
void virtio_net_receive(void *ctx, const u8 *frame, size_t len);

/* The link as the driver sees it (VIRTIO_NET_S_LINK_UP); a change raises the configuration
 * interrupt. */
void virtio_net_set_link(struct virtio_net *vn, bool up);

const char *virtio_net_drop_name(enum vnet_drop d);

extern const struct device_ops virtio_net_device;

#endif
