/* Keel's 82540EM driver (devices/e1000.c) against a small fake 82540EM: registers, reset,
 * EEPROM reads, and rings the fake walks as the hardware does (TX on a TDT write, RX when a
 * frame arrives from the "wire"), plus a hostile fake that garbles descriptors and heads. */
#include "test.h"
#include "../../devices/e1000.h"
#include "../../hypervisor/lib.h"

#include <stdlib.h>

#define NREGS	   (0x20000 / 4)
#define MAX_FRAMES 128

struct fake_nic {
	u32 r[NREGS];
	u16 eeprom[64];
	bool eerd_dead;	    /* EERD never says done */
	unsigned rst_reads; /* CTRL reads that still show RST after a reset */
	bool rst_stuck;
	bool tx_hold; /* TDT writes are not walked */
	/* what went out on the wire */
	u8 sent[MAX_FRAMES][2048];
	size_t sent_len[MAX_FRAMES];
	unsigned nsent;
	unsigned resets;
};

struct rx_log {
	u8 frames[MAX_FRAMES][2048];
	size_t len[MAX_FRAMES];
	unsigned n;
};

static void *ptr(u64 a)
{
	return (void *)(uintptr_t)a;
}

static bool is_stat(u32 reg)
{
	return reg >= 0x4000 && reg < 0x4100;
}

static void fake_tx_walk(struct fake_nic *f)
{
	if (!(f->r[E1000_TCTL / 4] & E1000_TCTL_EN) || f->tx_hold)
		return;
	u32 n = f->r[E1000_TDLEN / 4] / 16;
	struct e1000_tx_desc *ring = ptr((u64)f->r[E1000_TDBAH / 4] << 32 | f->r[E1000_TDBAL / 4]);
	while (n && f->r[E1000_TDH / 4] != f->r[E1000_TDT / 4] % n) {
		struct e1000_tx_desc *d = &ring[f->r[E1000_TDH / 4]];
		REQUIRE(d->length <= 2048 && f->nsent < MAX_FRAMES);
		memcpy(f->sent[f->nsent], ptr(d->addr), d->length);
		f->sent_len[f->nsent++] = d->length;
		CHECK(d->cmd & E1000_TXD_EOP);
		if (d->cmd & E1000_TXD_RS)
			d->status |= E1000_TXD_DD;
		f->r[E1000_GPTC / 4]++;
		f->r[E1000_TDH / 4] = (f->r[E1000_TDH / 4] + 1) % n;
		f->r[E1000_ICR / 4] |= E1000_ICR_TXDW;
	}
}

static void fake_reset(struct fake_nic *f)
{
	u32 keep_status = f->r[E1000_STATUS / 4];
	memset(f->r, 0, sizeof(f->r));
	f->r[E1000_STATUS / 4] = keep_status;
	/* like Bochs and QEMU: the reset loads receive address 0 from the EEPROM */
	f->r[E1000_RAL0 / 4] = f->eeprom[0] | (u32)f->eeprom[1] << 16;
	f->r[E1000_RAH0 / 4] = f->eeprom[2] | E1000_RAH_AV;
	f->resets++;
}

static u32 fake_read(void *ctx, u32 reg)
{
	struct fake_nic *f = ctx;
	REQUIRE(reg % 4 == 0 && reg / 4 < NREGS);
	u32 v = f->r[reg / 4];
	if (reg == E1000_CTRL && (v & E1000_CTRL_RST) && !f->rst_stuck && !f->rst_reads--)
		v = f->r[reg / 4] &= ~(u32)E1000_CTRL_RST;
	if (reg == E1000_ICR || is_stat(reg))
		f->r[reg / 4] = 0;
	return v;
}

static void fake_write(void *ctx, u32 reg, u32 v)
{
	struct fake_nic *f = ctx;
	REQUIRE(reg % 4 == 0 && reg / 4 < NREGS);
	switch (reg) {
	case E1000_CTRL:
		if (v & E1000_CTRL_RST) {
			fake_reset(f);
			f->r[0] = v;
			f->rst_reads = 2;
			return;
		}
		break;
	case E1000_EERD:
		if (!f->eerd_dead && v & E1000_EERD_START)
			v = (u32)f->eeprom[(v >> 8) & 63] << 16 | E1000_EERD_DONE | (v & 0xff00);
		break;
	case E1000_IMS:
		f->r[E1000_IMS / 4] |= v;
		return;
	case E1000_IMC:
		f->r[E1000_IMS / 4] &= ~v;
		return;
	case E1000_ICR:
		f->r[E1000_ICR / 4] &= ~v;
		return;
	}
	f->r[reg / 4] = v;
	if (reg == E1000_TDT)
		fake_tx_walk(f);
}

static u64 fake_dma(void *ctx, const void *p)
{
	(void)ctx;
	return (u64)(uintptr_t)p;
}

static unsigned barriers;
static void fake_barrier(void *ctx)
{
	(void)ctx;
	barriers++;
}

static bool line(const struct fake_nic *f)
{
	return f->r[E1000_ICR / 4] & f->r[E1000_IMS / 4];
}

/* A frame from the wire, as the NIC stores it: false when it had no descriptor (missed). */
static bool fake_rx(struct fake_nic *f, const u8 *frame, size_t len)
{
	if (!(f->r[E1000_RCTL / 4] & E1000_RCTL_EN))
		return false;
	u32 n = f->r[E1000_RDLEN / 4] / 16, h = f->r[E1000_RDH / 4];
	if (!n || h == f->r[E1000_RDT / 4]) {
		f->r[E1000_MPC / 4]++;
		f->r[E1000_RNBC / 4]++;
		f->r[E1000_ICR / 4] |= E1000_ICR_RXO;
		return false;
	}
	struct e1000_rx_desc *ring = ptr((u64)f->r[E1000_RDBAH / 4] << 32 | f->r[E1000_RDBAL / 4]);
	struct e1000_rx_desc *d = &ring[h];
	REQUIRE(len <= 2048);
	memcpy(ptr(d->addr), frame, len);
	d->length = (u16)len;
	d->errors = 0;
	d->status = E1000_RXD_DD | E1000_RXD_EOP;
	f->r[E1000_RDH / 4] = (h + 1) % n;
	f->r[E1000_GPRC / 4]++;
	f->r[E1000_GORCL / 4] += (u32)len;
	f->r[E1000_TPR / 4]++;
	f->r[E1000_TORL / 4] += (u32)len;
	f->r[E1000_ICR / 4] |= E1000_ICR_RXT0;
	return true;
}

/* The descriptor the fake filled last, for a test to garble. */
static struct e1000_rx_desc *fake_last_rx(struct fake_nic *f)
{
	u32 n = f->r[E1000_RDLEN / 4] / 16;
	struct e1000_rx_desc *ring = ptr((u64)f->r[E1000_RDBAH / 4] << 32 | f->r[E1000_RDBAL / 4]);
	return &ring[(f->r[E1000_RDH / 4] + n - 1) % n];
}

static void fake_link(struct fake_nic *f, bool up)
{
	if (up)
		f->r[E1000_STATUS / 4] |= E1000_STATUS_LU;
	else
		f->r[E1000_STATUS / 4] &= ~(u32)E1000_STATUS_LU;
	f->r[E1000_ICR / 4] |= E1000_ICR_LSC;
}

static void log_rx(void *ctx, const u8 *frame, size_t len)
{
	struct rx_log *l = ctx;
	REQUIRE(l->n < MAX_FRAMES && len <= 2048);
	memcpy(l->frames[l->n], frame, len);
	l->len[l->n++] = len;
}

struct rig {
	struct fake_nic f;
	struct e1000_ops ops;
	struct e1000 n;
	struct e1000_rx_desc rx_ring[E1000_RX_RING] __aligned(16);
	struct e1000_tx_desc tx_ring[E1000_TX_RING] __aligned(16);
	u8 bufs[E1000_RX_RING + E1000_TX_RING][E1000_BUF];
	struct e1000_mem mem;
	struct rx_log log;
};

static const u8 MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* A fresh NIC with its link up, the driver not yet started. */
static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	REQUIRE(r);
	r->f.eeprom[0] = 0x5452;
	r->f.eeprom[1] = 0x1200;
	r->f.eeprom[2] = 0x5634;
	r->f.r[E1000_STATUS / 4] = E1000_STATUS_LU;
	r->ops = (struct e1000_ops){fake_read, fake_write, fake_dma, fake_barrier, NULL, &r->f};
	r->mem.rx_ring = r->rx_ring;
	r->mem.tx_ring = r->tx_ring;
	for (unsigned i = 0; i < E1000_RX_RING; i++)
		r->mem.rx_buf[i] = r->bufs[i];
	for (unsigned i = 0; i < E1000_TX_RING; i++)
		r->mem.tx_buf[i] = r->bufs[E1000_RX_RING + i];
	return r;
}

static struct rig *rig_up(void)
{
	struct rig *r = rig_new();
	char why[96];
	REQUIRE(e1000_init(&r->n, &r->ops, &r->mem, why, sizeof(why)));
	e1000_set_rx(&r->n, (struct net_endpoint){log_rx, &r->log});
	return r;
}

static void frame_fill(u8 *f, size_t len, unsigned seed)
{
	memcpy(f, MAC, 6);
	memset(f + 6, 0x02, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (size_t i = ETH_HLEN; i < len; i++)
		f[i] = (u8)(seed * 7 + i);
}

TEST(e1000_init_resets_reads_the_eeprom_mac_and_programs_the_rings)
{
	struct rig *r = rig_up();
	struct fake_nic *f = &r->f;
	CHECK_EQ(f->resets, 1);
	CHECK(r->n.up && r->n.link_up && r->n.mac_from_eeprom);
	CHECK(!memcmp(r->n.mac, MAC, 6));
	CHECK_EQ(f->r[E1000_RAL0 / 4], 0x12005452);
	CHECK_EQ(f->r[E1000_RAH0 / 4], 0x5634 | E1000_RAH_AV);
	u32 rctl = f->r[E1000_RCTL / 4];
	CHECK(rctl & E1000_RCTL_EN && rctl & E1000_RCTL_BAM && rctl & E1000_RCTL_SECRC);
	CHECK_EQ(rctl & (3u << 16 | BIT(25)), 0); /* 2048-byte buffers */
	CHECK_EQ(rctl & (BIT(3) | BIT(4)), 0);	  /* neither promiscuous nor all-multicast */
	u32 tctl = f->r[E1000_TCTL / 4];
	CHECK(tctl & E1000_TCTL_EN && tctl & E1000_TCTL_PSP);
	CHECK(f->r[E1000_CTRL / 4] & E1000_CTRL_SLU);
	CHECK_EQ(f->r[E1000_IMS / 4], 0); /* polled until e1000_set_irq */
	CHECK_EQ(f->r[E1000_RDLEN / 4], E1000_RX_RING * 16);
	CHECK_EQ(f->r[E1000_TDLEN / 4], E1000_TX_RING * 16);
	CHECK_EQ(f->r[E1000_RDBAL / 4], (u32)(uintptr_t)r->rx_ring);
	CHECK_EQ(f->r[E1000_TDBAL / 4], (u32)(uintptr_t)r->tx_ring);
	CHECK_EQ(f->r[E1000_RDT / 4], E1000_RX_RING - 1);
	CHECK_EQ(f->r[E1000_TDT / 4], 0);
	for (unsigned i = 0; i < E1000_RX_RING; i++)
		CHECK_EQ(r->rx_ring[i].addr, (u64)(uintptr_t)r->mem.rx_buf[i]);
	free(r);
}

TEST(e1000_init_takes_the_mac_from_ral_rah_when_the_eeprom_does_not_answer)
{
	struct rig *r = rig_new();
	r->f.eerd_dead = true;
	char why[96];
	REQUIRE(e1000_init(&r->n, &r->ops, &r->mem, why, sizeof(why)));
	CHECK(!r->n.mac_from_eeprom);
	CHECK(!memcmp(r->n.mac, MAC, 6));
	free(r);
}

TEST(e1000_init_fails_when_the_reset_never_ends)
{
	struct rig *r = rig_new();
	r->f.rst_stuck = true;
	char why[96] = "";
	CHECK(!e1000_init(&r->n, &r->ops, &r->mem, why, sizeof(why)));
	CHECK_CONTAINS(why, "reset");
	CHECK(!r->n.up);
	u8 fr[60];
	frame_fill(fr, sizeof(fr), 1);
	CHECK(!e1000_tx(&r->n, fr, sizeof(fr)));
	CHECK_EQ(e1000_poll(&r->n), 0);
	free(r);
}

TEST(e1000_tx_puts_the_frame_on_the_wire_and_reclaims_its_descriptor)
{
	struct rig *r = rig_up();
	u8 fr[100];
	frame_fill(fr, sizeof(fr), 3);
	unsigned b = barriers;
	CHECK(e1000_tx(&r->n, fr, sizeof(fr)));
	CHECK(barriers > b); /* the descriptor is visible before the tail moves */
	REQUIRE(r->f.nsent == 1);
	CHECK_EQ(r->f.sent_len[0], sizeof(fr));
	CHECK(!memcmp(r->f.sent[0], fr, sizeof(fr)));
	CHECK_EQ(r->tx_ring[0].cmd, E1000_TXD_EOP | E1000_TXD_IFCS | E1000_TXD_RS);
	e1000_poll(&r->n);
	CHECK_EQ(r->n.tx_clean, 1);
	CHECK_EQ(r->n.st.tx_frames, 1);
	CHECK_EQ(r->n.st.tx_bytes, sizeof(fr));
	e1000_stats_update(&r->n);
	CHECK_EQ(r->n.st.hw_tx_good, 1);
	free(r);
}

TEST(e1000_tx_refuses_runts_giants_and_a_dead_link)
{
	struct rig *r = rig_up();
	static u8 big[ETH_MAX_FRAME + 1];
	frame_fill(big, sizeof(big), 1);
	CHECK(!e1000_tx(&r->n, big, ETH_HLEN - 1));
	CHECK(!e1000_tx(&r->n, big, ETH_MAX_FRAME + 1));
	CHECK(e1000_tx(&r->n, big, ETH_MAX_FRAME));
	CHECK(e1000_tx(&r->n, big, ETH_HLEN));
	CHECK_EQ(r->n.st.tx_bad_length, 2);
	fake_link(&r->f, false);
	e1000_poll(&r->n);
	CHECK(!e1000_tx(&r->n, big, 60));
	CHECK_EQ(r->n.st.tx_dropped, 3);
	CHECK_EQ(r->f.nsent, 2);
	free(r);
}

TEST(e1000_tx_wraps_around_the_ring_in_order)
{
	struct rig *r = rig_up();
	for (unsigned i = 0; i < 3 * E1000_TX_RING + 5; i++) {
		u8 fr[64];
		frame_fill(fr, sizeof(fr), i);
		REQUIRE(e1000_tx(&r->n, fr, sizeof(fr)));
		if (r->f.nsent == MAX_FRAMES)
			r->f.nsent = 0;
		CHECK(!memcmp(r->f.sent[r->f.nsent - 1], fr, sizeof(fr)));
	}
	CHECK_EQ(r->n.st.tx_frames, 3 * E1000_TX_RING + 5);
	CHECK_EQ(r->n.tx_tail, 5);
	CHECK_EQ(r->n.st.tx_dropped, 0);
	free(r);
}

TEST(e1000_tx_full_ring_refuses_then_a_stuck_nic_gets_its_ring_reset)
{
	struct rig *r = rig_up();
	r->f.tx_hold = true;
	u8 fr[64];
	frame_fill(fr, sizeof(fr), 9);
	unsigned ok = 0;
	for (unsigned i = 0; i < E1000_TX_RING - 1; i++)
		ok += e1000_tx(&r->n, fr, sizeof(fr));
	CHECK_EQ(ok, E1000_TX_RING - 1); /* one slot always stays empty */
	CHECK(!e1000_tx(&r->n, fr, sizeof(fr)));
	CHECK_EQ(r->n.st.ring_resets, 0);
	for (unsigned i = 0; i < 16 && !r->n.st.ring_resets; i++)
		CHECK(!e1000_tx(&r->n, fr, sizeof(fr)));
	CHECK_EQ(r->n.st.ring_resets, 1);
	CHECK_EQ(r->f.r[E1000_TDT / 4], 0);
	r->f.tx_hold = false;
	CHECK(e1000_tx(&r->n, fr, sizeof(fr)));
	CHECK_EQ(r->f.nsent, 1);
	free(r);
}

TEST(e1000_rx_delivers_frames_to_the_endpoint_and_returns_descriptors)
{
	struct rig *r = rig_up();
	u8 fr[3][200];
	for (unsigned i = 0; i < 3; i++) {
		frame_fill(fr[i], 60 + 70 * i, i);
		REQUIRE(fake_rx(&r->f, fr[i], 60 + 70 * i));
	}
	CHECK_EQ(e1000_poll(&r->n), 3);
	REQUIRE(r->log.n == 3);
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(r->log.len[i], 60 + 70 * i);
		CHECK(!memcmp(r->log.frames[i], fr[i], 60 + 70 * i));
	}
	CHECK_EQ(r->f.r[E1000_RDT / 4], 2); /* the last one handled is the driver's */
	CHECK_EQ(r->n.st.rx_frames, 3);
	CHECK_EQ(r->n.st.rx_bytes, 60 + 130 + 200);
	CHECK_EQ(e1000_poll(&r->n), 0);
	free(r);
}

TEST(e1000_rx_without_endpoint_drops_quietly)
{
	struct rig *r = rig_up();
	e1000_set_rx(&r->n, (struct net_endpoint){NULL, NULL});
	u8 fr[60];
	frame_fill(fr, sizeof(fr), 0);
	REQUIRE(fake_rx(&r->f, fr, sizeof(fr)));
	CHECK_EQ(e1000_poll(&r->n), 1);
	CHECK_EQ(r->log.n, 0);
	free(r);
}

TEST(e1000_rx_wraps_around_and_a_full_ring_counts_missed_frames)
{
	struct rig *r = rig_up();
	unsigned got = 0;
	for (unsigned round = 0; round < 4; round++) {
		for (unsigned i = 0; i < E1000_RX_RING / 2; i++) {
			u8 fr[64];
			frame_fill(fr, sizeof(fr), round * 100 + i);
			REQUIRE(fake_rx(&r->f, fr, sizeof(fr)));
		}
		got += e1000_poll(&r->n);
		REQUIRE(r->log.n == got);
		CHECK_EQ(r->log.frames[got - 1][ETH_HLEN], (u8)((round * 100 + 15) * 7 + ETH_HLEN));
		r->log.n = got = 0;
	}
	/* the ring takes RX_RING - 1 frames; the next ones are the NIC's missed packets */
	unsigned stored = 0;
	for (unsigned i = 0; i < E1000_RX_RING + 3; i++) {
		u8 fr[64];
		frame_fill(fr, sizeof(fr), i);
		stored += fake_rx(&r->f, fr, sizeof(fr));
	}
	CHECK_EQ(stored, E1000_RX_RING - 1);
	CHECK_EQ(e1000_poll(&r->n), E1000_RX_RING - 1);
	e1000_stats_update(&r->n);
	CHECK_EQ(r->n.st.hw_missed, 4);
	CHECK_EQ(r->n.st.hw_no_buffers, 4);
	CHECK_EQ(r->n.st.ring_resets, 0);
	u8 fr[64];
	frame_fill(fr, sizeof(fr), 77);
	CHECK(fake_rx(&r->f, fr, sizeof(fr)));
	CHECK_EQ(e1000_poll(&r->n), 1);
	free(r);
}

TEST(e1000_rx_garbled_descriptors_are_counted_and_dropped)
{
	struct rig *r = rig_up();
	u8 fr[64];
	frame_fill(fr, sizeof(fr), 5);
	/* error bits (a CRC error the NIC passed up) */
	fake_rx(&r->f, fr, sizeof(fr));
	fake_last_rx(&r->f)->errors = 0x01;
	/* lengths no Ethernet frame has, one beyond the buffer itself */
	fake_rx(&r->f, fr, sizeof(fr));
	fake_last_rx(&r->f)->length = ETH_MAX_FRAME + 1;
	fake_rx(&r->f, fr, sizeof(fr));
	fake_last_rx(&r->f)->length = 0xffff;
	fake_rx(&r->f, fr, sizeof(fr));
	fake_last_rx(&r->f)->length = ETH_HLEN - 1;
	/* a frame in two pieces (no EOP on the first): both dropped */
	fake_rx(&r->f, fr, sizeof(fr));
	fake_last_rx(&r->f)->status = E1000_RXD_DD;
	fake_rx(&r->f, fr, sizeof(fr));
	/* a descriptor whose address the NIC scribbled on */
	fake_rx(&r->f, fr, sizeof(fr));
	struct e1000_rx_desc *scribbled = fake_last_rx(&r->f);
	scribbled->addr = 0xdead0000;
	/* and then a good one */
	u8 good[80];
	frame_fill(good, sizeof(good), 6);
	fake_rx(&r->f, good, sizeof(good));
	CHECK_EQ(e1000_poll(&r->n), 2);
	CHECK_EQ(r->n.st.rx_errors, 1);
	CHECK_EQ(r->n.st.rx_bad_length, 3);
	CHECK_EQ(r->n.st.rx_fragments, 2);
	REQUIRE(r->log.n == 2);
	/* the scribbled one is delivered from the driver's own buffer, and repaired */
	CHECK(!memcmp(r->log.frames[0], fr, sizeof(fr)));
	CHECK_EQ(scribbled->addr, (u64)(uintptr_t)r->mem.rx_buf[scribbled - r->rx_ring]);
	CHECK(!memcmp(r->log.frames[1], good, sizeof(good)));
	CHECK_EQ(r->n.st.rx_frames, 2);
	free(r);
}

TEST(e1000_rx_a_frame_without_eop_at_the_end_of_a_poll_is_dropped_on_the_next)
{
	struct rig *r = rig_up();
	u8 fr[64];
	frame_fill(fr, sizeof(fr), 5);
	fake_rx(&r->f, fr, sizeof(fr));
	fake_last_rx(&r->f)->status = E1000_RXD_DD;
	CHECK_EQ(e1000_poll(&r->n), 0);
	CHECK(r->n.rx_discarding);
	fake_rx(&r->f, fr, sizeof(fr)); /* its last piece */
	fake_rx(&r->f, fr, sizeof(fr));
	CHECK_EQ(e1000_poll(&r->n), 1);
	CHECK_EQ(r->n.st.rx_fragments, 2);
	CHECK(!r->n.rx_discarding);
	free(r);
}

TEST(e1000_rx_head_out_of_range_resets_the_ring)
{
	struct rig *r = rig_up();
	r->f.r[E1000_RDH / 4] = 0x1234;
	r->f.r[E1000_ICR / 4] |= E1000_ICR_RXO;
	CHECK_EQ(e1000_poll(&r->n), 0);
	CHECK_EQ(r->n.st.ring_resets, 1);
	CHECK_EQ(r->f.r[E1000_RDH / 4], 0);
	CHECK_EQ(r->f.r[E1000_RDT / 4], E1000_RX_RING - 1);
	u8 fr[64];
	frame_fill(fr, sizeof(fr), 1);
	CHECK(fake_rx(&r->f, fr, sizeof(fr)));
	CHECK_EQ(e1000_poll(&r->n), 1);
	free(r);
}

TEST(e1000_poll_is_bounded_when_the_nic_marks_every_descriptor_done)
{
	struct rig *r = rig_up();
	/* a hostile NIC: every descriptor done, all the time (the driver clears, it sets again) */
	unsigned total = 0;
	for (unsigned pass = 0; pass < 3; pass++) {
		for (unsigned i = 0; i < E1000_RX_RING; i++) {
			r->rx_ring[i].status = E1000_RXD_DD | E1000_RXD_EOP;
			r->rx_ring[i].length = 60;
		}
		unsigned got = e1000_poll(&r->n);
		CHECK(got <= E1000_RX_RING);
		total += got;
	}
	CHECK_EQ(total, 3 * E1000_RX_RING);
	CHECK(r->n.rx_next < E1000_RX_RING);
	free(r);
}

TEST(e1000_link_change_is_seen_and_counted)
{
	struct rig *r = rig_up();
	u8 fr[64];
	frame_fill(fr, sizeof(fr), 1);
	fake_link(&r->f, false);
	e1000_poll(&r->n);
	CHECK(!r->n.link_up);
	CHECK_EQ(r->n.st.link_changes, 1);
	CHECK(!e1000_tx(&r->n, fr, sizeof(fr)));
	fake_link(&r->f, true);
	e1000_poll(&r->n);
	CHECK(r->n.link_up);
	CHECK_EQ(r->n.st.link_changes, 2);
	CHECK(e1000_tx(&r->n, fr, sizeof(fr)));
	free(r);
}

TEST(e1000_irq_mode_raises_the_line_and_poll_lowers_it)
{
	struct rig *r = rig_up();
	u8 fr[64];
	frame_fill(fr, sizeof(fr), 1);
	CHECK(fake_rx(&r->f, fr, sizeof(fr)));
	CHECK(!line(&r->f)); /* masked: polled */
	e1000_poll(&r->n);
	e1000_set_irq(&r->n, true);
	CHECK_EQ(r->f.r[E1000_IMS / 4], E1000_IRQ_CAUSES);
	CHECK(fake_rx(&r->f, fr, sizeof(fr)));
	CHECK(line(&r->f));
	CHECK_EQ(e1000_poll(&r->n), 1);
	CHECK(!line(&r->f));
	fake_link(&r->f, false);
	CHECK(line(&r->f));
	e1000_poll(&r->n);
	CHECK(!line(&r->f));
	e1000_set_irq(&r->n, false);
	CHECK_EQ(r->f.r[E1000_IMS / 4], 0);
	free(r);
}

TEST(e1000_stats_accumulate_the_clear_on_read_registers)
{
	struct rig *r = rig_up();
	r->f.r[E1000_CRCERRS / 4] = 3;
	r->f.r[E1000_MPC / 4] = 2;
	r->f.r[E1000_GORCL / 4] = 0xfffffff0u;
	r->f.r[E1000_GORCH / 4] = 1;
	e1000_stats_update(&r->n);
	r->f.r[E1000_CRCERRS / 4] = 4;
	e1000_stats_update(&r->n);
	CHECK_EQ(r->n.st.hw_crc_errors, 7);
	CHECK_EQ(r->n.st.hw_missed, 2);
	CHECK_EQ(r->n.st.hw_rx_octets, 0x1fffffff0ull);
	CHECK_EQ(r->f.r[E1000_CRCERRS / 4], 0);
	u8 fr[100];
	frame_fill(fr, sizeof(fr), 2);
	CHECK(fake_rx(&r->f, fr, sizeof(fr)));
	e1000_stats_update(&r->n);
	CHECK_EQ(r->n.st.hw_rx_total, 1);
	CHECK_EQ(r->n.st.hw_rx_total_octets, sizeof(fr));
	free(r);
}

/* ---- PCI ---- */

struct fake_cfg {
	u32 space[32][64];
	unsigned writes;
};

static u32 cfg_read(void *ctx, u8 bus, u8 dev, u8 fn, u8 off)
{
	struct fake_cfg *c = ctx;
	REQUIRE(bus == 0 && fn == 0 && dev < 32 && off % 4 == 0);
	return c->space[dev][off / 4];
}

static void cfg_write(void *ctx, u8 bus, u8 dev, u8 fn, u8 off, u32 v)
{
	struct fake_cfg *c = ctx;
	REQUIRE(bus == 0 && fn == 0 && dev < 32 && off % 4 == 0);
	c->space[dev][off / 4] = v;
	c->writes++;
}

static void cfg_empty(struct fake_cfg *c)
{
	memset(c, 0xff, sizeof(c->space));
	c->writes = 0;
	c->space[0][0] = 0x12378086; /* the host bridge */
}

TEST(e1000_pci_find_enables_memory_and_bus_mastering)
{
	static struct fake_cfg c;
	cfg_empty(&c);
	c.space[5][0] = 0x100e8086;
	c.space[5][1] = 0x02000000; /* status, command 0 */
	c.space[5][4] = 0xfebc0000;
	c.space[5][15] = 0x0000010b; /* INTA, line 11 */
	struct e1000_pci_ops ops = {cfg_read, cfg_write, &c};
	struct e1000_pci p;
	char why[96];
	REQUIRE(e1000_pci_find(&ops, &p, why, sizeof(why)));
	CHECK_EQ(p.dev, 5);
	CHECK_EQ(p.bar0, 0xfebc0000);
	CHECK_EQ(p.irq_line, 11);
	CHECK_EQ(c.space[5][1] & 0xffff, 0x6);
}

TEST(e1000_pci_find_refuses_no_nic_and_an_unplaced_bar)
{
	static struct fake_cfg c;
	cfg_empty(&c);
	struct e1000_pci_ops ops = {cfg_read, cfg_write, &c};
	struct e1000_pci p;
	char why[96] = "";
	CHECK(!e1000_pci_find(&ops, &p, why, sizeof(why)));
	CHECK_CONTAINS(why, "no 82540EM");
	c.space[3][0] = 0x100e8086;
	c.space[3][4] = 0;
	CHECK(!e1000_pci_find(&ops, &p, why, sizeof(why)));
	CHECK_CONTAINS(why, "BAR0");
	c.space[3][4] = 0xc001; /* an I/O BAR */
	CHECK(!e1000_pci_find(&ops, &p, why, sizeof(why)));
	CHECK_EQ(c.writes, 0); /* nothing enabled on a device it does not take */
}

/* ---- the self-test's ARP frames ---- */

TEST(e1000_arp_request_and_reply_match)
{
	u8 req[ARP_FRAME_LEN];
	u32 me = 0x0a00020f, gw = 0x0a000202;
	e1000_arp_request(req, MAC, me, gw);
	static const u8 bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	CHECK(!memcmp(req, bcast, 6));
	CHECK(!memcmp(req + 6, MAC, 6));
	CHECK_EQ(req[12], 0x08);
	CHECK_EQ(req[13], 0x06);
	CHECK_EQ(req[ETH_HLEN + 7], 1);
	CHECK_EQ(req[ETH_HLEN + 27], 0x02); /* target 10.0.2.2 */
	/* the reply as slirp builds it */
	u8 rep[60] = {0};
	static const u8 gw_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
	memcpy(rep, MAC, 6);
	memcpy(rep + 6, gw_mac, 6);
	rep[12] = 0x08;
	rep[13] = 0x06;
	u8 *a = rep + ETH_HLEN;
	a[1] = 1;
	a[2] = 0x08;
	a[4] = 6;
	a[5] = 4;
	a[7] = 2;
	memcpy(a + 8, gw_mac, 6);
	a[14] = 10, a[15] = 0, a[16] = 2, a[17] = 2;
	memcpy(a + 18, MAC, 6);
	a[24] = 10, a[25] = 0, a[26] = 2, a[27] = 15;
	u8 from[6];
	REQUIRE(e1000_arp_is_reply(rep, sizeof(rep), MAC, gw, from));
	CHECK(!memcmp(from, gw_mac, 6));
	CHECK(!e1000_arp_is_reply(rep, sizeof(rep), MAC, me, from)); /* not from 10.0.2.15 */
	CHECK(!e1000_arp_is_reply(rep, 41, MAC, gw, from));	     /* truncated */
	CHECK(!e1000_arp_is_reply(req, sizeof(req), MAC, gw, from)); /* a request */
	a[18] ^= 1;
	CHECK(!e1000_arp_is_reply(rep, sizeof(rep), MAC, gw, from)); /* to someone else */
}
