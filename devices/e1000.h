/* Keel's driver for the machine's Intel 82540EM NIC (Bochs' e1000, PCI 8086:100e): PCI
 * discovery, reset, MAC, legacy RX/TX descriptor rings, link state, statistics. Pure logic
 * over an ops table (MMIO, DMA addresses, barrier); e1000_hw.c binds it to the machine,
 * host tests to a fake 82540EM. Received frames go to a struct net_endpoint. */
#ifndef KEEL_E1000_H
#define KEEL_E1000_H

#include "netif.h"

#define E1000_VENDOR 0x8086
#define E1000_DEVICE 0x100e /* 82540EM */

/* registers (byte offsets in BAR0) */
#define E1000_CTRL   0x0000
#define E1000_STATUS 0x0008
#define E1000_EERD   0x0014
#define E1000_ICR    0x00c0 /* read clears */
#define E1000_IMS    0x00d0
#define E1000_IMC    0x00d8
#define E1000_RCTL   0x0100
#define E1000_TCTL   0x0400
#define E1000_TIPG   0x0410
#define E1000_RDBAL  0x2800
#define E1000_RDBAH  0x2804
#define E1000_RDLEN  0x2808
#define E1000_RDH    0x2810
#define E1000_RDT    0x2818
#define E1000_RDTR   0x2820
#define E1000_TDBAL  0x3800
#define E1000_TDBAH  0x3804
#define E1000_TDLEN  0x3808
#define E1000_TDH    0x3810
#define E1000_TDT    0x3818
#define E1000_MTA    0x5200 /* 128 entries */
#define E1000_RAL0   0x5400
#define E1000_RAH0   0x5404
/* statistics: 32-bit, clear on read (the 64-bit octet counters: low then high) */
#define E1000_CRCERRS  0x4000
#define E1000_ALGNERRC 0x4004
#define E1000_RXERRC   0x400c
#define E1000_MPC      0x4010
#define E1000_GPRC     0x4074
#define E1000_GPTC     0x4080
#define E1000_GORCL    0x4088
#define E1000_GORCH    0x408c
#define E1000_GOTCL    0x4090
#define E1000_GOTCH    0x4094
#define E1000_RNBC     0x40a0
#define E1000_RUC      0x40a4
#define E1000_ROC      0x40ac
#define E1000_TORL     0x40c0
#define E1000_TORH     0x40c4
#define E1000_TOTL     0x40c8
#define E1000_TOTH     0x40cc
#define E1000_TPR      0x40d0
#define E1000_TPT      0x40d4

#define E1000_CTRL_FD	BIT(0)
#define E1000_CTRL_ASDE BIT(5)
#define E1000_CTRL_SLU	BIT(6)
#define E1000_CTRL_RST	BIT(26)

#define E1000_STATUS_LU BIT(1)

#define E1000_EERD_START BIT(0)
#define E1000_EERD_DONE	 BIT(4)

#define E1000_ICR_TXDW	 BIT(0)
#define E1000_ICR_LSC	 BIT(2)
#define E1000_ICR_RXDMT0 BIT(4)
#define E1000_ICR_RXO	 BIT(6)
#define E1000_ICR_RXT0	 BIT(7)

#define E1000_RCTL_EN	 BIT(1)
#define E1000_RCTL_BAM	 BIT(15) /* accept broadcast */
#define E1000_RCTL_SECRC BIT(26) /* strip the FCS */
/* BSIZE 00 with BSEX 0: 2048-byte buffers */

#define E1000_TCTL_EN	   BIT(1)
#define E1000_TCTL_PSP	   BIT(3) /* pad short frames to 64 bytes */
#define E1000_TCTL_CT	   (0x0fu << 4)
#define E1000_TCTL_COLD	   (0x40u << 12) /* full duplex */
#define E1000_TIPG_DEFAULT (10u | 8u << 10 | 6u << 20)

#define E1000_RAH_AV BIT(31)

/* legacy descriptor bits */
#define E1000_RXD_DD   BIT(0)
#define E1000_RXD_EOP  BIT(1)
#define E1000_TXD_EOP  BIT(0)
#define E1000_TXD_IFCS BIT(1)
#define E1000_TXD_RS   BIT(3)
#define E1000_TXD_DD   BIT(0)

/* ring sizes: a multiple of 8 (the ring length is a multiple of 128 bytes) */
#define E1000_RX_RING 32
#define E1000_TX_RING 32
#define E1000_BUF     2048

/* the causes the driver handles, for IMS when its line is used */
#define E1000_IRQ_CAUSES                                                                           \
	(E1000_ICR_TXDW | E1000_ICR_LSC | E1000_ICR_RXDMT0 | E1000_ICR_RXO | E1000_ICR_RXT0)

struct e1000_rx_desc {
	u64 addr;
	u16 length;
	u16 csum;
	u8 status;
	u8 errors;
	u16 special;
};

struct e1000_tx_desc {
	u64 addr;
	u16 length;
	u8 cso;
	u8 cmd;
	u8 status;
	u8 css;
	u16 special;
};

STATIC_ASSERT(sizeof(struct e1000_rx_desc) == 16);
STATIC_ASSERT(sizeof(struct e1000_tx_desc) == 16);

struct e1000_ops {
	u32 (*read32)(void *ctx, u32 reg);
	void (*write32)(void *ctx, u32 reg, u32 v);
	/* the bus address the NIC uses for this byte of driver memory (rings, buffers) */
	u64 (*dma_addr)(void *ctx, const void *p);
	/* memory writes before it are seen by the NIC before an MMIO write after it */
	void (*barrier)(void *ctx);
	/* a short wait during reset; NULL: none */
	void (*delay_us)(void *ctx, unsigned us);
	void *ctx;
};

/* Driver memory, allocated by the caller: each ring contiguous and 16-byte aligned, each
 * buffer E1000_BUF bytes (need not be contiguous with the others). */
struct e1000_mem {
	struct e1000_rx_desc *rx_ring; /* E1000_RX_RING entries */
	struct e1000_tx_desc *tx_ring; /* E1000_TX_RING entries */
	u8 *rx_buf[E1000_RX_RING];
	u8 *tx_buf[E1000_TX_RING];
};

struct e1000_stats {
	/* the driver's own counts */
	u64 rx_frames, rx_bytes, tx_frames, tx_bytes;
	u64 rx_errors;	   /* descriptors with error bits: dropped */
	u64 rx_bad_length; /* under ETH_HLEN or over ETH_MAX_FRAME: dropped */
	u64 rx_fragments;  /* descriptors of a frame without EOP (spanning buffers): dropped */
	u64 tx_dropped;	   /* e1000_tx refused: ring full, bad length, no link, no NIC */
	u64 tx_bad_length; /* of which: a frame under ETH_HLEN or over ETH_MAX_FRAME */
	u64 ring_resets;   /* a ring whose head the NIC reported out of range, or TX stuck */
	u64 link_changes;  /* LSC seen */
	u64 irqs;	   /* non-zero ICR reads */
	/* the NIC's statistics registers, accumulated (they clear on read) */
	u64 hw_crc_errors, hw_align_errors, hw_rx_errors, hw_missed, hw_no_buffers;
	u64 hw_undersize, hw_oversize, hw_rx_good, hw_tx_good, hw_rx_octets, hw_tx_octets;
	u64 hw_rx_total, hw_tx_total, hw_rx_total_octets, hw_tx_total_octets;
};

/* Where two CPUs could meet: the rings (rx_next, tx_tail, tx_clean) are touched by
 * e1000_poll and e1000_tx only; a lock for SMP goes around those two. */
struct e1000 {
	const struct e1000_ops *ops;
	struct e1000_mem mem;
	bool up; /* initialized */
	bool link_up;
	bool irq_on;	    /* IMS programmed: the NIC asserts its line */
	bool rx_discarding; /* inside a frame without EOP: drop up to its last descriptor */
	u8 mac[ETH_ALEN];
	bool mac_from_eeprom;
	unsigned rx_next;  /* the next descriptor the NIC fills */
	unsigned tx_tail;  /* the next descriptor the driver fills */
	unsigned tx_clean; /* the oldest descriptor not yet seen done */
	unsigned tx_stuck; /* ring-full refusals since TDH last moved */
	unsigned tx_head_seen;
	struct net_endpoint rx;
	struct e1000_stats st;
};

/* ---- PCI ---- */

struct e1000_pci_ops {
	u32 (*cfg_read32)(void *ctx, u8 bus, u8 dev, u8 fn, u8 off);
	void (*cfg_write32)(void *ctx, u8 bus, u8 dev, u8 fn, u8 off, u32 v);
	void *ctx;
};

struct e1000_pci {
	u8 bus, dev, fn;
	u64 bar0;    /* memory BAR's base */
	u8 irq_line; /* as the firmware routed INTA (0xff: none) */
};

/* Scans bus 0 for an 82540EM, enables memory space and bus mastering. false with why when
 * there is none or its BAR0 is not a memory BAR the firmware placed. */
bool e1000_pci_find(const struct e1000_pci_ops *ops, struct e1000_pci *out, char *why,
		    size_t why_len);

/* ---- the driver ---- */

/* Resets the NIC, reads its MAC (EEPROM, else RAL/RAH), sets up both rings, enables RX
 * (broadcast, FCS stripped, 2048-byte buffers) and TX, link up; its interrupts stay masked
 * (e1000_set_irq). false with why when the NIC does not behave (reset never ends). */
bool e1000_init(struct e1000 *n, const struct e1000_ops *ops, const struct e1000_mem *mem,
		char *why, size_t why_len);
/* Where received frames go (set by whoever owns the uplink); rx NULL drops them. */
void e1000_set_rx(struct e1000 *n, struct net_endpoint ep);
/* Sends one frame (ETH_HLEN..ETH_MAX_FRAME bytes, without FCS; the NIC pads short ones),
 * copied, so the caller keeps its buffer. false (counted in tx_dropped) when it cannot. */
bool e1000_tx(struct e1000 *n, const u8 *frame, size_t len);
/* Takes the NIC's news: interrupt causes (link change), received frames delivered to the
 * endpoint, finished transmissions reclaimed. Bounded: at most one ring of frames per call.
 * Call it from a polling loop or an interrupt handler (it reads ICR, which lowers the
 * line). Returns the frames delivered. */
unsigned e1000_poll(struct e1000 *n);
/* Unmasks (on) or masks the causes of E1000_IRQ_CAUSES. */
void e1000_set_irq(struct e1000 *n, bool on);
/* Adds the NIC's statistics registers to n->st (they clear on read). */
void e1000_stats_update(struct e1000 *n);

/* ---- the self-test's frames (ARP only: enough to prove the wire) ---- */

#define ARP_FRAME_LEN 42
/* An ARP request "who has target_ip, tell sender_ip" from mac, broadcast. */
void e1000_arp_request(u8 out[ARP_FRAME_LEN], const u8 mac[ETH_ALEN], u32 sender_ip, u32 target_ip);
/* true when frame is an ARP reply from ip to mac; its hardware address in from_mac. */
bool e1000_arp_is_reply(const u8 *frame, size_t len, const u8 mac[ETH_ALEN], u32 ip,
			u8 from_mac[ETH_ALEN]);

#endif
