/* The 82540EM driver's logic: PCI discovery, reset and setup, the legacy RX/TX rings, link
 * state and statistics. Every register access and DMA address goes through the ops table;
 * what the NIC writes into a descriptor (length, status, errors, head) is checked before
 * use, and a buffer is always taken from the driver's own table, never from a descriptor. */
#include "e1000.h"
#include "../hypervisor/lib.h"

#define PCI_ID	     0x00
#define PCI_COMMAND  0x04
#define PCI_BAR0     0x10
#define PCI_INTR     0x3c
#define PCI_CMD_MEM  BIT(1)
#define PCI_CMD_BM   BIT(2)
#define PCI_BAR_IO   BIT(0)
#define PCI_BAR_TYPE (3u << 1)
#define PCI_BAR_64   (2u << 1)

/* reset and EEPROM waits, in polls (each one µs where the ops can wait) */
#define RESET_POLLS 1000
#define EERD_POLLS  1000
/* ring-full refusals without the NIC's TX head moving before the TX ring is reset */
#define TX_STUCK_LIMIT 8

bool e1000_pci_find(const struct e1000_pci_ops *ops, struct e1000_pci *out, char *why,
		    size_t why_len)
{
	for (u8 dev = 0; dev < 32; dev++) {
		u32 id = ops->cfg_read32(ops->ctx, 0, dev, 0, PCI_ID);
		if (id != ((u32)E1000_DEVICE << 16 | E1000_VENDOR))
			continue;
		u32 bar = ops->cfg_read32(ops->ctx, 0, dev, 0, PCI_BAR0);
		u64 base = bar & ~0xfull;
		if ((bar & PCI_BAR_TYPE) == PCI_BAR_64)
			base |= (u64)ops->cfg_read32(ops->ctx, 0, dev, 0, PCI_BAR0 + 4) << 32;
		if (bar & PCI_BAR_IO || !base) {
			ksnprintf(why, why_len,
				  "82540EM at 00:%02x.0: BAR0 %08x is not a placed "
				  "memory BAR",
				  dev, bar);
			return false;
		}
		u32 cmd = ops->cfg_read32(ops->ctx, 0, dev, 0, PCI_COMMAND) & 0xffff;
		ops->cfg_write32(ops->ctx, 0, dev, 0, PCI_COMMAND, cmd | PCI_CMD_MEM | PCI_CMD_BM);
		u32 intr = ops->cfg_read32(ops->ctx, 0, dev, 0, PCI_INTR);
		*out = (struct e1000_pci){0, dev, 0, base, (u8)(intr & 0xff)};
		return true;
	}
	ksnprintf(why, why_len, "no 82540EM (8086:100e) on PCI bus 0");
	return false;
}

static u32 rd(const struct e1000 *n, u32 reg)
{
	return n->ops->read32(n->ops->ctx, reg);
}

static void wr(const struct e1000 *n, u32 reg, u32 v)
{
	n->ops->write32(n->ops->ctx, reg, v);
}

static void wait_us(const struct e1000 *n, unsigned us)
{
	if (n->ops->delay_us)
		n->ops->delay_us(n->ops->ctx, us);
}

static u64 dma(const struct e1000 *n, const void *p)
{
	return n->ops->dma_addr(n->ops->ctx, p);
}

static bool eeprom_word(const struct e1000 *n, u8 addr, u16 *v)
{
	wr(n, E1000_EERD, E1000_EERD_START | (u32)addr << 8);
	for (unsigned i = 0; i < EERD_POLLS; i++) {
		u32 r = rd(n, E1000_EERD);
		if (r & E1000_EERD_DONE) {
			*v = (u16)(r >> 16);
			return true;
		}
		wait_us(n, 1);
	}
	return false;
}

static bool mac_valid(const u8 *m)
{
	static const u8 zero[ETH_ALEN];
	return memcmp(m, zero, ETH_ALEN) && !eth_addr_is_multicast(m);
}

static void read_mac(struct e1000 *n)
{
	u16 w[3];
	n->mac_from_eeprom =
	    eeprom_word(n, 0, &w[0]) && eeprom_word(n, 1, &w[1]) && eeprom_word(n, 2, &w[2]);
	if (n->mac_from_eeprom) {
		for (unsigned i = 0; i < 3; i++) {
			n->mac[2 * i] = (u8)w[i];
			n->mac[2 * i + 1] = (u8)(w[i] >> 8);
		}
		n->mac_from_eeprom = mac_valid(n->mac);
	}
	if (!n->mac_from_eeprom) {
		u32 lo = rd(n, E1000_RAL0), hi = rd(n, E1000_RAH0);
		for (unsigned i = 0; i < 4; i++)
			n->mac[i] = (u8)(lo >> (8 * i));
		n->mac[4] = (u8)hi;
		n->mac[5] = (u8)(hi >> 8);
	}
	/* receive address 0 is what the NIC filters unicast on */
	wr(n, E1000_RAL0,
	   (u32)n->mac[0] | (u32)n->mac[1] << 8 | (u32)n->mac[2] << 16 | (u32)n->mac[3] << 24);
	wr(n, E1000_RAH0, (u32)n->mac[4] | (u32)n->mac[5] << 8 | E1000_RAH_AV);
}

static void rx_give(struct e1000 *n, unsigned i)
{
	struct e1000_rx_desc *d = &n->mem.rx_ring[i];
	/* the address is rewritten every time: a garbled descriptor cannot steer the DMA */
	d->addr = dma(n, n->mem.rx_buf[i]);
	d->length = 0;
	d->status = 0;
	d->errors = 0;
}

static void rx_setup(struct e1000 *n)
{
	wr(n, E1000_RCTL, 0);
	for (unsigned i = 0; i < E1000_RX_RING; i++)
		rx_give(n, i);
	u64 ring = dma(n, n->mem.rx_ring);
	n->ops->barrier(n->ops->ctx);
	wr(n, E1000_RDBAL, (u32)ring);
	wr(n, E1000_RDBAH, (u32)(ring >> 32));
	wr(n, E1000_RDLEN, E1000_RX_RING * sizeof(struct e1000_rx_desc));
	wr(n, E1000_RDH, 0);
	/* one descriptor stays the driver's, so head == tail always means empty */
	wr(n, E1000_RDT, E1000_RX_RING - 1);
	wr(n, E1000_RDTR, 0);
	n->rx_next = 0;
	n->rx_discarding = false;
	wr(n, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);
}

static void tx_setup(struct e1000 *n)
{
	wr(n, E1000_TCTL, 0);
	memset(n->mem.tx_ring, 0, E1000_TX_RING * sizeof(struct e1000_tx_desc));
	u64 ring = dma(n, n->mem.tx_ring);
	n->ops->barrier(n->ops->ctx);
	wr(n, E1000_TDBAL, (u32)ring);
	wr(n, E1000_TDBAH, (u32)(ring >> 32));
	wr(n, E1000_TDLEN, E1000_TX_RING * sizeof(struct e1000_tx_desc));
	wr(n, E1000_TDH, 0);
	wr(n, E1000_TDT, 0);
	n->tx_tail = n->tx_clean = n->tx_head_seen = n->tx_stuck = 0;
	wr(n, E1000_TIPG, E1000_TIPG_DEFAULT);
	wr(n, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT | E1000_TCTL_COLD);
}

bool e1000_init(struct e1000 *n, const struct e1000_ops *ops, const struct e1000_mem *mem,
		char *why, size_t why_len)
{
	struct net_endpoint keep = n->rx;
	memset(n, 0, sizeof(*n));
	n->ops = ops;
	n->mem = *mem;
	n->rx = keep;
	wr(n, E1000_IMC, 0xffffffffu);
	wr(n, E1000_CTRL, rd(n, E1000_CTRL) | E1000_CTRL_RST);
	wait_us(n, 10);
	unsigned polls = 0;
	while (rd(n, E1000_CTRL) & E1000_CTRL_RST) {
		if (++polls == RESET_POLLS) {
			ksnprintf(why, why_len, "the NIC never finished its reset");
			return false;
		}
		wait_us(n, 1);
	}
	wr(n, E1000_IMC, 0xffffffffu); /* the reset may have set them back */
	(void)rd(n, E1000_ICR);
	read_mac(n);
	for (unsigned i = 0; i < 128; i++)
		wr(n, E1000_MTA + 4 * i, 0);
	wr(n, E1000_CTRL, (rd(n, E1000_CTRL) | E1000_CTRL_SLU | E1000_CTRL_ASDE));
	rx_setup(n);
	tx_setup(n);
	/* the counters start from this driver's start */
	struct e1000_stats zero = {0};
	e1000_stats_update(n);
	n->st = zero;
	n->link_up = rd(n, E1000_STATUS) & E1000_STATUS_LU;
	n->up = true;
	return true;
}

void e1000_set_rx(struct e1000 *n, struct net_endpoint ep)
{
	n->rx = ep;
}

void e1000_set_irq(struct e1000 *n, bool on)
{
	n->irq_on = on;
	if (!n->up)
		return;
	wr(n, on ? E1000_IMS : E1000_IMC, on ? E1000_IRQ_CAUSES : 0xffffffffu);
}

/* Reclaims the descriptors the NIC has sent. */
static void tx_reclaim(struct e1000 *n)
{
	while (n->tx_clean != n->tx_tail && (n->mem.tx_ring[n->tx_clean].status & E1000_TXD_DD)) {
		n->mem.tx_ring[n->tx_clean].status = 0;
		n->tx_clean = (n->tx_clean + 1) % E1000_TX_RING;
	}
}

/* The TX ring is full: when the NIC's head has not moved over several refusals (or is out
 * of range) it will not move by itself, so the ring starts over; its frames are lost. */
static void tx_check_stuck(struct e1000 *n)
{
	u32 head = rd(n, E1000_TDH);
	if (head < E1000_TX_RING && head != n->tx_head_seen) {
		n->tx_head_seen = head;
		n->tx_stuck = 0;
		return;
	}
	if (head < E1000_TX_RING && ++n->tx_stuck < TX_STUCK_LIMIT)
		return;
	n->st.ring_resets++;
	tx_setup(n);
}

bool e1000_tx(struct e1000 *n, const u8 *frame, size_t len)
{
	if (!n->up || !n->link_up || len < ETH_HLEN || len > ETH_MAX_FRAME) {
		if (n->up && (len < ETH_HLEN || len > ETH_MAX_FRAME))
			n->st.tx_bad_length++;
		n->st.tx_dropped++;
		return false;
	}
	tx_reclaim(n);
	unsigned next = (n->tx_tail + 1) % E1000_TX_RING;
	if (next == n->tx_clean) {
		n->st.tx_dropped++;
		tx_check_stuck(n);
		return false;
	}
	unsigned i = n->tx_tail;
	memcpy(n->mem.tx_buf[i], frame, len);
	struct e1000_tx_desc *d = &n->mem.tx_ring[i];
	*d = (struct e1000_tx_desc){0};
	d->addr = dma(n, n->mem.tx_buf[i]);
	d->length = (u16)len;
	d->cmd = E1000_TXD_EOP | E1000_TXD_IFCS | E1000_TXD_RS;
	n->tx_tail = next;
	n->ops->barrier(n->ops->ctx);
	wr(n, E1000_TDT, next);
	n->st.tx_frames++;
	n->st.tx_bytes += len;
	return true;
}

/* One descriptor the NIC has filled: checked, delivered or counted and dropped. */
static bool rx_one(struct e1000 *n, const struct e1000_rx_desc *d, unsigned i)
{
	bool eop = d->status & E1000_RXD_EOP;
	if (n->rx_discarding || !eop) {
		/* a frame spanning buffers (never asked for): dropped up to its last piece */
		n->st.rx_fragments++;
		n->rx_discarding = !eop;
		return false;
	}
	if (d->errors) {
		n->st.rx_errors++;
		return false;
	}
	size_t len = d->length;
	if (len < ETH_HLEN || len > ETH_MAX_FRAME) {
		n->st.rx_bad_length++;
		return false;
	}
	n->st.rx_frames++;
	n->st.rx_bytes += len;
	net_deliver(&n->rx, n->mem.rx_buf[i], len);
	return true;
}

/* The NIC's RX head outside the ring means it and the driver disagree: start the ring over. */
static bool rx_ring_sane(struct e1000 *n)
{
	if (rd(n, E1000_RDH) < E1000_RX_RING)
		return true;
	n->st.ring_resets++;
	rx_setup(n);
	return false;
}

static unsigned rx_poll(struct e1000 *n)
{
	unsigned delivered = 0, seen = 0;
	/* at most one ring per call: a NIC that keeps filling cannot hold Keel here */
	while (seen < E1000_RX_RING) {
		unsigned i = n->rx_next;
		struct e1000_rx_desc d = n->mem.rx_ring[i];
		if (!(d.status & E1000_RXD_DD))
			break;
		seen++;
		delivered += rx_one(n, &d, i);
		rx_give(n, i);
		n->rx_next = (i + 1) % E1000_RX_RING;
		n->ops->barrier(n->ops->ctx);
		/* the descriptor just handled becomes the one the driver keeps */
		wr(n, E1000_RDT, i);
	}
	return delivered;
}

unsigned e1000_poll(struct e1000 *n)
{
	if (!n->up)
		return 0;
	u32 icr = rd(n, E1000_ICR);
	if (icr)
		n->st.irqs++;
	if (icr & E1000_ICR_LSC) {
		bool lu = rd(n, E1000_STATUS) & E1000_STATUS_LU;
		n->st.link_changes++;
		n->link_up = lu;
	}
	if (icr & E1000_ICR_RXO && !rx_ring_sane(n))
		return 0;
	unsigned got = rx_poll(n);
	if (!got && icr & (E1000_ICR_RXT0 | E1000_ICR_RXO))
		rx_ring_sane(n);
	tx_reclaim(n);
	return got;
}

void e1000_stats_update(struct e1000 *n)
{
	struct e1000_stats *s = &n->st;
	s->hw_crc_errors += rd(n, E1000_CRCERRS);
	s->hw_align_errors += rd(n, E1000_ALGNERRC);
	s->hw_rx_errors += rd(n, E1000_RXERRC);
	s->hw_missed += rd(n, E1000_MPC);
	s->hw_rx_good += rd(n, E1000_GPRC);
	s->hw_tx_good += rd(n, E1000_GPTC);
	u64 lo = rd(n, E1000_GORCL);
	s->hw_rx_octets += lo | (u64)rd(n, E1000_GORCH) << 32;
	lo = rd(n, E1000_GOTCL);
	s->hw_tx_octets += lo | (u64)rd(n, E1000_GOTCH) << 32;
	s->hw_no_buffers += rd(n, E1000_RNBC);
	s->hw_undersize += rd(n, E1000_RUC);
	s->hw_oversize += rd(n, E1000_ROC);
	s->hw_rx_total += rd(n, E1000_TPR);
	s->hw_tx_total += rd(n, E1000_TPT);
	/* Bochs' model counts octets here only, not in GORC/GOTC */
	lo = rd(n, E1000_TORL);
	s->hw_rx_total_octets += lo | (u64)rd(n, E1000_TORH) << 32;
	lo = rd(n, E1000_TOTL);
	s->hw_tx_total_octets += lo | (u64)rd(n, E1000_TOTH) << 32;
}

/* ---- ARP frames for the self-test ---- */

static void put_be16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static void put_be32(u8 *p, u32 v)
{
	put_be16(p, (u16)(v >> 16));
	put_be16(p + 2, (u16)v);
}

static u32 get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

#define ARP_REQUEST 1
#define ARP_REPLY   2

void e1000_arp_request(u8 out[ARP_FRAME_LEN], const u8 mac[ETH_ALEN], u32 sender_ip, u32 target_ip)
{
	memset(out, 0xff, ETH_ALEN);
	memcpy(out + 6, mac, ETH_ALEN);
	put_be16(out + 12, ETH_TYPE_ARP);
	u8 *a = out + ETH_HLEN;
	put_be16(a, 1); /* Ethernet */
	put_be16(a + 2, ETH_TYPE_IPV4);
	a[4] = ETH_ALEN;
	a[5] = 4;
	put_be16(a + 6, ARP_REQUEST);
	memcpy(a + 8, mac, ETH_ALEN);
	put_be32(a + 14, sender_ip);
	memset(a + 18, 0, ETH_ALEN);
	put_be32(a + 24, target_ip);
}

bool e1000_arp_is_reply(const u8 *frame, size_t len, const u8 mac[ETH_ALEN], u32 ip,
			u8 from_mac[ETH_ALEN])
{
	if (len < ARP_FRAME_LEN || frame[12] != ETH_TYPE_ARP >> 8 ||
	    frame[13] != (ETH_TYPE_ARP & 0xff))
		return false;
	const u8 *a = frame + ETH_HLEN;
	if (a[6] != 0 || a[7] != ARP_REPLY || a[4] != ETH_ALEN || a[5] != 4)
		return false;
	if (get_be32(a + 14) != ip || memcmp(a + 18, mac, ETH_ALEN))
		return false;
	memcpy(from_mac, a + 8, ETH_ALEN);
	return true;
}
