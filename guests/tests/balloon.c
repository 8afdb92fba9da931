/* balloon guest: a hostile virtio-balloon driver for Keel's device (slot 4, `balloon = on`).
 * It brings the device up as Linux does (inflate and deflate queues only), then sends page
 * numbers Keel must refuse (beyond its 16 MiB, the VGA hole, the BIOS ROM, the LAPIC, its
 * own BAR, 2^32 - 1, a duplicate in the same request, a deflate of a page never inflated)
 * beside good ones; the device must stay live, a page it gave back must read as zero when
 * touched and then hold what it writes, and a request of over 1024 page numbers must put the
 * device in DEVICE_NEEDS_RESET, after which a reset brings it back. Keel's end-of-VM line
 * says what it refused (guests/tests/balloon.cfg, make integration-balloon-hostile). */
#include "testlib.h"

#define SLOT	    4
#define BAR	    0xc0000000u
#define QSIZE	    8
#define NEEDS_RESET 0x40
#define LIVE	    0x0f
#define VICTIM	    0x800000u /* 8 MiB: a page of its RAM nothing else uses */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct ring {
	struct desc table[QSIZE] __attribute__((aligned(4096)));
	struct {
		uint16_t flags, idx, ring[QSIZE];
	} avail __attribute__((aligned(4096)));
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[QSIZE];
	} used __attribute__((aligned(4096)));
	uint16_t avail_idx, used_seen;
};

static struct ring q[2];
static uint32_t pfns[1100];

static uint32_t pci_rd(unsigned off)
{
	outl(0xcf8, 0x80000000u | SLOT << 11 | (off & 0xfc));
	return inl(0xcfc) >> (8 * (off & 3));
}

static void pci_wr32(unsigned off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | SLOT << 11 | off);
	outl(0xcfc, v);
}

static volatile uint8_t *reg(uint32_t off)
{
	return (volatile uint8_t *)(BAR + off);
}

static uint8_t rd8(uint32_t off)
{
	return *reg(off);
}

static uint32_t rd32(uint32_t off)
{
	return *(volatile uint32_t *)reg(off);
}

static void wr8(uint32_t off, uint8_t v)
{
	*reg(off) = v;
}

static void wr16(uint32_t off, uint16_t v)
{
	*(volatile uint16_t *)reg(off) = v;
}

static void wr32(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)reg(off) = v;
}

#define DFSELECT 0x00
#define DF	 0x04
#define GFSELECT 0x08
#define GF	 0x0c
#define STATUS	 0x14
#define QSELECT	 0x16
#define QSIZE_R	 0x18
#define QENABLE	 0x1c
#define QDESC	 0x20
#define QAVAIL	 0x28
#define QUSED	 0x30
#define NOTIFY	 0x3000
#define DEVCFG	 0x2000

static void barrier(void)
{
	asm volatile("" ::: "memory");
}

/* Bring-up with VERSION_1 only: two queues, inflate (0) and deflate (1). */
static uint8_t start(void)
{
	wr8(STATUS, 0);
	wr8(STATUS, 1);
	wr8(STATUS, 3);
	wr32(DFSELECT, 1);
	uint32_t hi = rd32(DF);
	wr32(GFSELECT, 0);
	wr32(GF, 0);
	wr32(GFSELECT, 1);
	wr32(GF, hi & 1);
	wr8(STATUS, 0x0b);
	if (!(rd8(STATUS) & 8))
		return rd8(STATUS);
	for (unsigned i = 0; i < 2; i++) {
		memset(&q[i], 0, sizeof(q[i]));
		wr16(QSELECT, (uint16_t)i);
		wr16(QSIZE_R, QSIZE);
		wr32(QDESC, (uint32_t)q[i].table);
		wr32(QDESC + 4, 0);
		wr32(QAVAIL, (uint32_t)&q[i].avail);
		wr32(QAVAIL + 4, 0);
		wr32(QUSED, (uint32_t)&q[i].used);
		wr32(QUSED + 4, 0);
		barrier();
		wr16(QENABLE, 1);
	}
	wr8(STATUS, 0x0f);
	return rd8(STATUS);
}

/* One request of n page numbers on queue qi (tell_host); whether it came back. */
static int send(unsigned qi, unsigned n)
{
	struct ring *r = &q[qi];
	r->table[0] = (struct desc){(uint32_t)pfns, 4 * n, 0, 0};
	r->avail.ring[r->avail_idx % QSIZE] = 0;
	r->avail_idx++;
	r->avail.idx = r->avail_idx;
	barrier();
	wr16(NOTIFY + 4 * qi, (uint16_t)qi);
	barrier();
	if (r->used.idx == r->used_seen)
		return 0;
	r->used_seen++;
	return 1;
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	if (!check_eq("slot 4 is virtio-balloon (1af4:1045)", pci_rd(0), 0x10451af4))
		return;
	pci_wr32(0x10, BAR);
	pci_wr32(0x14, 0);
	pci_wr32(0x04, 0x6);
	check_eq("num_pages starts at 0", rd32(DEVCFG), 0);
	check_eq("the device goes live", start(), LIVE);

	volatile uint32_t *victim = (volatile uint32_t *)VICTIM;
	for (unsigned i = 0; i < 1024; i++)
		victim[i] = 0xdead0000u + i;
	/* nine bad numbers around one good one */
	uint32_t bad[] = {0x1000,     0xa0,	  0xf0,	      0xfee00,	  BAR >> 12,
			  0xffffffffu, VICTIM >> 12, VICTIM >> 12, 0x7fffffffu};
	for (unsigned i = 0; i < 9; i++)
		pfns[i] = bad[i];
	check(send(0, 9), "an inflate request with 8 bad page numbers comes back");
	check_eq("the device stays live", rd8(STATUS), LIVE);
	check_eq("the page it gave back reads as zero", victim[5], 0);
	victim[7] = 0x12345678u;
	barrier();
	check_eq("and holds what it writes again", victim[7], 0x12345678u);
	pfns[0] = VICTIM >> 12;
	pfns[1] = (VICTIM >> 12) + 1; /* never inflated */
	check(send(1, 2), "a deflate of it and of a page never inflated comes back");
	check_eq("the device stays live", rd8(STATUS), LIVE);
	check_eq("the deflated page still holds its word", victim[7], 0x12345678u);

	for (unsigned i = 0; i < 1025; i++)
		pfns[i] = 0x900 + i;
	send(0, 1025);
	check(rd8(STATUS) & NEEDS_RESET, "1025 page numbers in one request: DEVICE_NEEDS_RESET");
	check_eq("a reset and a new start bring it back", start(), LIVE);
	pfns[0] = 0x900;
	check(send(0, 1) && send(1, 1), "and it inflates and deflates a page again");
	check_eq("the device ends live", rd8(STATUS), LIVE);
}
