/* virtio_blk guest: a hostile virtio driver for Keel's virtio-blk (slot 1, a 1 MiB RAM disk
 * from its config). It brings the device up as Linux does and checks reads and writes, then
 * breaks the rules: requests beyond the disk and buffers outside its RAM or in the device's
 * own BAR must fail (S_IOERR) without touching a sector; descriptor loops, a runaway
 * available index, nested indirect tables, huge chains and rings outside RAM must put the
 * device in DEVICE_NEEDS_RESET, and a reset must bring it back. Polls the used ring (the
 * device completes requests during the notification). */
#include "testlib.h"

#define SLOT	 1
#define BAR	 0xc0000000u
#define OUTSIDE	 0x3000000u /* 48 MiB: past this VM's 16 MiB */
#define QSIZE	 8
#define SECTORS	 2048 /* ram:1 */
#define STATUS_OK 0
#define S_IOERR	 1
#define NEEDS_RESET 0x40
#define LIVE	 0x0f /* ACKNOWLEDGE | DRIVER | DRIVER_OK | FEATURES_OK */

#define F_NEXT	1
#define F_WRITE 2
#define F_IND	4

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct desc table[QSIZE] __attribute__((aligned(4096)));
static struct {
	uint16_t flags, idx, ring[QSIZE];
} avail __attribute__((aligned(4096)));
static struct {
	uint16_t flags, idx;
	struct {
		uint32_t id, len;
	} ring[QSIZE];
} used __attribute__((aligned(4096)));
static struct desc indirect[4] __attribute__((aligned(16)));
static struct {
	uint32_t type, reserved;
	uint64_t sector;
} hdr;
static uint8_t status;
static uint8_t data[1024] __attribute__((aligned(512)));
static uint8_t back[1024];
static uint8_t scratch[512];

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

static uint16_t rd16(uint32_t off)
{
	return *(volatile uint16_t *)reg(off);
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

/* common configuration offsets */
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

static uint16_t avail_idx, used_seen;

/* The device reads the rings and writes the used ring during the notification: the
 * compiler must not move ring accesses across it. */
static void barrier(void)
{
	asm volatile("" ::: "memory");
}

/* Linux's bring-up with the rings at `d` (descriptor table), avail and used. */
static uint8_t start(uint32_t d)
{
	wr8(STATUS, 0);
	wr8(STATUS, 1);
	wr8(STATUS, 3);
	wr32(DFSELECT, 1);
	uint32_t hi = rd32(DF);
	wr32(GFSELECT, 0);
	wr32(GF, 0);
	wr32(GFSELECT, 1);
	wr32(GF, hi & 1); /* VERSION_1 only */
	wr8(STATUS, 0x0b);
	if (!(rd8(STATUS) & 8))
		return rd8(STATUS);
	wr16(QSELECT, 0);
	wr16(QSIZE_R, QSIZE);
	wr32(QDESC, d);
	wr32(QDESC + 4, 0);
	wr32(QAVAIL, (uint32_t)&avail);
	wr32(QAVAIL + 4, 0);
	wr32(QUSED, (uint32_t)&used);
	wr32(QUSED + 4, 0);
	memset(&avail, 0, sizeof(avail));
	memset(&used, 0, sizeof(used));
	avail_idx = used_seen = 0;
	barrier();
	wr16(QENABLE, 1);
	wr8(STATUS, 0x0f);
	return rd8(STATUS);
}

static void kick(uint16_t head)
{
	avail.ring[avail_idx % QSIZE] = head;
	avail_idx++;
	avail.idx = avail_idx;
	barrier();
	wr16(NOTIFY, 0);
	barrier();
}

/* Returns the status byte of a header + data + status request, 0xff if it never completed. */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t buf, uint32_t len, int in)
{
	hdr.type = type;
	hdr.sector = sector;
	status = 0xee;
	table[0] = (struct desc){(uint32_t)&hdr, 16, F_NEXT, 1};
	table[1] = (struct desc){buf, len, F_NEXT | (in ? F_WRITE : 0), 2};
	table[2] = (struct desc){(uint32_t)&status, 1, F_WRITE, 0};
	kick(0);
	if (used.idx == used_seen)
		return 0xff;
	used_seen++;
	return status;
}

static void expect_broken(const char *what)
{
	check(rd8(STATUS) & NEEDS_RESET, "%s: DEVICE_NEEDS_RESET (status 0x%x)", what, rd8(STATUS));
	uint16_t before = used.idx;
	check(request(0, 0, (uint32_t)scratch, 512, 1) == 0xff && used.idx == before,
	      "%s: a broken device takes no more requests", what);
	check_eq("after a reset and a new start the device is live", start((uint32_t)table), LIVE);
	check_eq("and reads again", request(0, 0, (uint32_t)scratch, 512, 1), STATUS_OK);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	if (!check_eq("slot 1 is virtio-blk (1af4:1042)", pci_rd(0), 0x10421af4))
		return;
	pci_wr32(0x10, BAR); /* BAR 0, 64-bit */
	pci_wr32(0x14, 0);
	pci_wr32(0x04, 0x6); /* memory decoding, bus mastering */
	unsigned cap = pci_rd(0x34) & 0xff, common = 0;
	for (unsigned n = 0; cap && n < 16; cap = pci_rd(cap + 1) & 0xff, n++)
		if ((pci_rd(cap) & 0xff) == 9 && (pci_rd(cap + 3) & 0xff) == 1)
			common = cap;
	check(common && pci_rd(common + 8) == 0, "the common configuration capability (BAR 0 at 0)");
	check_eq("capacity: 2048 sectors", rd32(DEVCFG), SECTORS);
	check_eq("the device goes live", start((uint32_t)table), LIVE);

	/* well-formed requests */
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	check_eq("write sectors 5-6", request(1, 5, (uint32_t)data, 1024, 0), STATUS_OK);
	memset(back, 0, sizeof(back));
	check_eq("read sectors 5-6", request(0, 5, (uint32_t)back, 1024, 1), STATUS_OK);
	check(!memcmp(data, back, sizeof(data)), "what was written is read back");
	check_eq("write the last sector", request(1, SECTORS - 1, (uint32_t)data, 512, 0), STATUS_OK);

	/* beyond the disk: refused whole, no sector touched */
	memset(back, 0xcc, sizeof(back));
	check_eq("a read at the capacity: S_IOERR", request(0, SECTORS, (uint32_t)back, 512, 1),
		 S_IOERR);
	check_eq("a write across the end: S_IOERR",
		 request(1, SECTORS - 1, (uint32_t)back, 1024, 0), S_IOERR);
	check_eq("a sector number near 2^64: S_IOERR", request(0, ~0ULL, (uint32_t)back, 1024, 1),
		 S_IOERR);
	check_eq("the last sector reads", request(0, SECTORS - 1, (uint32_t)back, 512, 1), STATUS_OK);
	check(!memcmp(data, back, 512), "the last sector kept what was written before");

	/* buffers the VM does not have */
	check_eq("a buffer past the VM's RAM: S_IOERR", request(0, 0, OUTSIDE, 512, 1), S_IOERR);
	check_eq("a buffer in the device's own BAR: S_IOERR", request(0, 0, BAR, 512, 1), S_IOERR);
	check_eq("a write from the BAR: S_IOERR", request(1, 7, BAR + 0x2000, 512, 0), S_IOERR);
	check_eq("the device stays live", rd8(STATUS), LIVE);

	/* broken queues */
	table[0] = (struct desc){(uint32_t)&hdr, 16, F_NEXT, 0};
	kick(0);
	expect_broken("a descriptor chain that loops on itself");

	table[3] = (struct desc){(uint32_t)&hdr, 16, F_NEXT, 3};
	avail.idx = avail_idx + QSIZE + 1;
	barrier();
	wr16(NOTIFY, 0);
	barrier();
	expect_broken("an available index a ring ahead");

	indirect[0] = (struct desc){(uint32_t)indirect, 16, F_IND, 0};
	table[4] = (struct desc){(uint32_t)indirect, 16, F_IND, 0};
	kick(4);
	expect_broken("an indirect table inside an indirect table");

	for (unsigned i = 0; i < 4; i++)
		table[i] = (struct desc){0x100000000ULL * i, 0xffffffffu, F_NEXT, (uint16_t)(i + 1)};
	table[4] = (struct desc){(uint32_t)&status, 1, F_WRITE, 0};
	kick(0);
	expect_broken("a chain of 16 GiB");

	table[0] = (struct desc){(uint32_t)&hdr, 16, F_NEXT, 9};
	kick(0);
	expect_broken("a next index outside the table");

	check(start(OUTSIDE) & NEEDS_RESET, "a descriptor table outside RAM: DEVICE_NEEDS_RESET");
	wr16(QSELECT, 0);
	check_eq("and the queue stays disabled", rd16(QENABLE), 0);
	check_eq("a start with the table in RAM works", start((uint32_t)table), LIVE);
	check(start((uint32_t)table + 8) & NEEDS_RESET, "an unaligned table: DEVICE_NEEDS_RESET");
	check_eq("the device ends live", start((uint32_t)table), LIVE);
	check_eq("and reads", request(0, 5, (uint32_t)back, 1024, 1), STATUS_OK);
	check(!memcmp(data, back, sizeof(data)), "sectors 5-6 kept their data through it all");
}
