/* The machine's 82540EM: PCI configuration cycles on 0xcf8/0xcfc, BAR0 reached through the
 * hypervisor's identity map of the low 4 GiB, rings and buffers in machine frames Keel
 * allocates, the boot probe, and the boot self-test (an ARP request answered on the wire). */
#include "e1000_hw.h"
#include "../hypervisor/console.h"
#include "../hypervisor/cpu_hw.h"
#include "../hypervisor/keel.h"
#include "../hypervisor/lib.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

static inline u32 inl(u16 port)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static u32 cfg_addr(u8 bus, u8 dev, u8 fn, u8 off)
{
	return 0x80000000u | (u32)bus << 16 | (u32)dev << 11 | (u32)fn << 8 | (off & 0xfc);
}

static u32 hw_cfg_read32(void *ctx, u8 bus, u8 dev, u8 fn, u8 off)
{
	(void)ctx;
	outl(PCI_ADDR, cfg_addr(bus, dev, fn, off));
	return inl(PCI_DATA);
}

static void hw_cfg_write32(void *ctx, u8 bus, u8 dev, u8 fn, u8 off, u32 v)
{
	(void)ctx;
	outl(PCI_ADDR, cfg_addr(bus, dev, fn, off));
	outl(PCI_DATA, v);
}

static const struct e1000_pci_ops pci_ops = {hw_cfg_read32, hw_cfg_write32, NULL};

static volatile u32 *regs;

static u32 hw_read32(void *ctx, u32 reg)
{
	(void)ctx;
	return regs[reg / 4];
}

static void hw_write32(void *ctx, u32 reg, u32 v)
{
	(void)ctx;
	regs[reg / 4] = v;
}

static u64 hw_dma_addr(void *ctx, const void *p)
{
	(void)ctx;
	return virt_to_phys(p);
}

static void hw_barrier(void *ctx)
{
	(void)ctx;
	__asm__ volatile("mfence" ::: "memory");
}

static void hw_delay_us(void *ctx, unsigned us)
{
	(void)ctx;
	u64 end = time_now() + tsc_hz / 1000000 * us;
	while (time_now() < end)
		cpu_relax();
}

static const struct e1000_ops nic_ops = {hw_read32,  hw_write32,  hw_dma_addr,
					 hw_barrier, hw_delay_us, NULL};

static struct e1000 nic;
static struct e1000_pci pci;
static bool present;
static char absent_why[96] = "not probed";

/* Rings (both in one frame) and buffers (two per frame) in machine frames of Keel's own. */
static bool alloc_mem(struct e1000_mem *m)
{
	u64 pa = frames_alloc(&machine_frames, FRAME_HV);
	if (!pa)
		return false;
	u8 *ring = phys_to_virt(pa);
	memset(ring, 0, 4096);
	m->rx_ring = (struct e1000_rx_desc *)ring;
	m->tx_ring = (struct e1000_tx_desc *)(ring + 2048);
	u8 *page = NULL;
	for (unsigned i = 0; i < E1000_RX_RING + E1000_TX_RING; i++) {
		if (i % 2 == 0) {
			pa = frames_alloc(&machine_frames, FRAME_HV);
			if (!pa)
				return false;
			page = phys_to_virt(pa);
		}
		u8 *buf = page + (i % 2) * E1000_BUF;
		if (i < E1000_RX_RING)
			m->rx_buf[i] = buf;
		else
			m->tx_buf[i - E1000_RX_RING] = buf;
	}
	return true;
}

static void print_mac(const u8 *m)
{
	kprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void machine_nic_boot(void)
{
	char why[96];
	if (!e1000_pci_find(&pci_ops, &pci, why, sizeof(why))) {
		ksnprintf(absent_why, sizeof(absent_why), "%s", why);
		kprintf("keel: nic: %s\n", why);
		return;
	}
	if (pci.bar0 >> 32) {
		ksnprintf(absent_why, sizeof(absent_why), "BAR0 %llx is above the 4 GiB Keel maps",
			  (unsigned long long)pci.bar0);
		kprintf("keel: nic: %s\n", absent_why);
		return;
	}
	regs = phys_to_virt(pci.bar0);
	struct e1000_mem mem;
	if (!alloc_mem(&mem)) {
		ksnprintf(absent_why, sizeof(absent_why), "no machine frames for its rings");
		kprintf("keel: nic: %s\n", absent_why);
		return;
	}
	if (!e1000_init(&nic, &nic_ops, &mem, why, sizeof(why))) {
		ksnprintf(absent_why, sizeof(absent_why), "%s", why);
		kprintf("keel: nic: 82540EM at 00:%02x.0: %s\n", pci.dev, why);
		return;
	}
	present = true;
	kprintf("keel: nic: 82540EM at 00:%02x.0, BAR0 %llx, IRQ line %u (polled), MAC ", pci.dev,
		(unsigned long long)pci.bar0, pci.irq_line);
	print_mac(nic.mac);
	kprintf(" (%s), link %s, %u RX and %u TX descriptors\n",
		nic.mac_from_eeprom ? "EEPROM" : "RAL/RAH", nic.link_up ? "up" : "down",
		E1000_RX_RING, E1000_TX_RING);
}

struct e1000 *machine_nic(void)
{
	return present ? &nic : NULL;
}

const char *machine_nic_absent_why(void)
{
	return absent_why;
}

unsigned machine_nic_poll(void)
{
	return present ? e1000_poll(&nic) : 0;
}

/* ---- the self-test ---- */

#define IP4(a, b, c, d) ((u32)(a) << 24 | (u32)(b) << 16 | (u32)(c) << 8 | (u32)(d))
#define SELFTEST_IP	IP4(10, 0, 2, 15) /* slirp's address for its one guest */
#define SELFTEST_GW	IP4(10, 0, 2, 2)  /* slirp's gateway */
#define SELFTEST_MS	5000
#define RESEND_MS	500
#define EXCHANGES	(3 * E1000_RX_RING + 4)

struct arp_catch {
	bool got;
	u8 from[ETH_ALEN];
	unsigned frames, replies;
};

static void catch_arp(void *ctx, const u8 *frame, size_t len)
{
	struct arp_catch *c = ctx;
	u8 from[ETH_ALEN];
	c->frames++;
	if (!e1000_arp_is_reply(frame, len, nic.mac, SELFTEST_GW, from))
		return;
	c->replies++;
	if (!c->got)
		memcpy(c->from, from, ETH_ALEN);
	c->got = true;
}

/* Then a request at a time, each waited for: both rings wrap around several times. */
static unsigned exchange(struct arp_catch *c, const u8 *req, unsigned count, u64 wait)
{
	unsigned answered = 0;
	for (unsigned i = 0; i < count; i++) {
		unsigned before = c->replies;
		if (!e1000_tx(&nic, req, ARP_FRAME_LEN))
			continue;
		u64 start = time_now();
		while (c->replies == before && time_now() - start < wait)
			e1000_poll(&nic);
		answered += c->replies != before;
	}
	return answered;
}

bool machine_nic_selftest(void)
{
	if (!present) {
		kprintf("keel: nic self-test failed: no NIC (%s)\n", absent_why);
		return false;
	}
	struct arp_catch c = {0};
	struct net_endpoint keep = nic.rx;
	e1000_set_rx(&nic, (struct net_endpoint){catch_arp, &c});
	u8 req[ARP_FRAME_LEN];
	e1000_arp_request(req, nic.mac, SELFTEST_IP, SELFTEST_GW);
	u64 ms = tsc_hz / 1000, start = time_now(), resend = start;
	unsigned sent = 0;
	while (!c.got && time_now() - start < SELFTEST_MS * ms) {
		if (time_now() >= resend) {
			sent += e1000_tx(&nic, req, sizeof(req));
			resend = time_now() + RESEND_MS * ms;
		}
		e1000_poll(&nic);
	}
	u64 us = tsc_hz / 1000000, took = (time_now() - start) / (us ? us : 1);
	unsigned first_frames = c.frames;
	unsigned answered = c.got ? exchange(&c, req, EXCHANGES, 50 * ms) : 0;
	e1000_set_rx(&nic, keep);
	e1000_stats_update(&nic);
	const struct e1000_stats *s = &nic.st;
	if (!c.got) {
		kprintf("keel: nic self-test failed: no ARP reply from 10.0.2.2 in %llu us (%u "
			"requests sent, %u frames received, link %s)\n",
			(unsigned long long)took, sent, first_frames, nic.link_up ? "up" : "down");
		return false;
	}
	kprintf("keel: nic self-test passed: ARP reply from 10.0.2.2 at ");
	print_mac(c.from);
	kprintf(" after %llu us (%u requests sent, %u frames received)\n", (unsigned long long)took,
		sent, first_frames);
	if (answered != EXCHANGES) {
		kprintf("keel: nic self-test failed: %u of %u ARP requests answered one by one\n",
			answered, EXCHANGES);
		return false;
	}
	kprintf("keel: nic self-test passed: %u of %u ARP requests answered one by one (both "
		"rings wrapped)\n",
		answered, EXCHANGES);
	kprintf("keel: nic counters: rx %llu frames %llu bytes, tx %llu frames %llu bytes; the "
		"NIC's: rx %llu frames %llu bytes, tx %llu frames %llu bytes\n",
		(unsigned long long)s->rx_frames, (unsigned long long)s->rx_bytes,
		(unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes,
		(unsigned long long)s->hw_rx_total, (unsigned long long)s->hw_rx_total_octets,
		(unsigned long long)s->hw_tx_total, (unsigned long long)s->hw_tx_total_octets);
	return true;
}
