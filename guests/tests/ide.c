/* ide guest: drives Keel's emulated IDE disk (disk = ram:4, disk_model = ide) as a simple
 * PIO driver does: IDENTIFY, sectors written and read back with LBA28, LBA48 and CHS
 * addresses and with READ/WRITE MULTIPLE, REP INSW/OUTSW on the data port, IRQ 14 through
 * the 8259s once per block, and the errors a hostile driver meets: an LBA past the disk
 * (IDNF), an unknown command (ABRT), the absent device 1, SRST. */
#include "testlib.h"

#define IDE_DATA    0x1f0
#define IDE_ERROR   0x1f1
#define IDE_NSECT   0x1f2
#define IDE_LBAL    0x1f3
#define IDE_LBAM    0x1f4
#define IDE_LBAH    0x1f5
#define IDE_SELECT  0x1f6
#define IDE_CMD	    0x1f7
#define IDE_CTRL    0x3f6
#define ST_BSY	    0x80
#define ST_DRDY	    0x40
#define ST_DRQ	    0x08
#define ST_ERR	    0x01
#define DC_NIEN	    0x02
#define DC_SRST	    0x04
#define DISK_SECTORS (4 * 2048) /* ram:4 */

#define IRQ14_VECTOR 0x2e /* the slave PIC at 0x28: its input 6 */

static volatile unsigned irq14_count;

static void irq14(uint8_t vector)
{
	(void)vector;
	irq14_count++;
	inb(IDE_CMD); /* acknowledges the disk's interrupt */
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
}

/* Master at 0x20, slave at 0x28 (cascade on IRQ 2); everything masked but IRQ 2 and 14. */
static void pic_init(void)
{
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xfb);
	outb(0xa1, 0xbf);
}

/* Waits (bounded) until BSY is clear; the status, or 0xff on a timeout. */
static uint8_t wait_not_busy(void)
{
	uint64_t end = rdtsc() + 100000000ULL;
	uint8_t s;
	while ((s = inb(IDE_CTRL)) & ST_BSY)
		if (rdtsc() > end)
			return 0xff;
	return s;
}

static void task_file28(uint32_t lba, uint8_t count, uint8_t cmd)
{
	outb(IDE_NSECT, count);
	outb(IDE_LBAL, lba & 0xff);
	outb(IDE_LBAM, (lba >> 8) & 0xff);
	outb(IDE_LBAH, (lba >> 16) & 0xff);
	outb(IDE_SELECT, 0xe0 | ((lba >> 24) & 0x0f));
	outb(IDE_CMD, cmd);
}

static void task_file48(uint64_t lba, uint16_t count, uint8_t cmd)
{
	outb(IDE_NSECT, count >> 8);
	outb(IDE_LBAL, (lba >> 24) & 0xff);
	outb(IDE_LBAM, (lba >> 32) & 0xff);
	outb(IDE_LBAH, (lba >> 40) & 0xff);
	outb(IDE_NSECT, count & 0xff);
	outb(IDE_LBAL, lba & 0xff);
	outb(IDE_LBAM, (lba >> 8) & 0xff);
	outb(IDE_LBAH, (lba >> 16) & 0xff);
	outb(IDE_SELECT, 0x40);
	outb(IDE_CMD, cmd);
}

static void rep_insw(void *buf, uint32_t words)
{
	asm volatile("cld; rep insw" : "+D"(buf), "+c"(words) : "d"(IDE_DATA) : "memory");
}

static void rep_outsw(const void *buf, uint32_t words)
{
	asm volatile("cld; rep outsw" : "+S"(buf), "+c"(words) : "d"(IDE_DATA) : "memory");
}

/* Moves `sectors` in blocks of `per` after a command was written: each block waits for
 * DRQ first. The number of blocks that got DRQ, or -1 when the disk reported an error or
 * never asked. */
static int pio_blocks(void *buf, unsigned sectors, unsigned per, int write)
{
	uint8_t *p = buf;
	int blocks = 0;
	while (sectors) {
		unsigned n = sectors < per ? sectors : per;
		uint8_t s = wait_not_busy();
		if ((s & ST_ERR) || !(s & ST_DRQ))
			return -1;
		if (write)
			rep_outsw(p, n * 256);
		else
			rep_insw(p, n * 256);
		p += n * 512;
		sectors -= n;
		blocks++;
	}
	return blocks;
}

static uint16_t ident[256];
static uint8_t out[32 * 512], in[32 * 512];

static void fill(uint32_t seed)
{
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(seed + i * 31 + (i >> 9) * 7);
}

static int same(unsigned sectors)
{
	return memcmp(in, out, sectors * 512) == 0;
}

static void ata_string(const uint16_t *w, unsigned words, char *s)
{
	for (unsigned i = 0; i < words; i++) {
		s[2 * i] = (char)(w[i] >> 8);
		s[2 * i + 1] = (char)w[i];
	}
	s[2 * words] = 0;
	for (int i = (int)(2 * words) - 1; i >= 0 && s[i] == ' '; i--)
		s[i] = 0;
}

static void test_identify(void)
{
	check_eq("status after power-on (DRDY, DSC)", inb(IDE_CMD), 0x50);
	check(inb(IDE_NSECT) == 1 && inb(IDE_LBAL) == 1 && inb(IDE_LBAM) == 0 && inb(IDE_LBAH) == 0,
	      "the task file holds an ATA device's signature");
	outb(IDE_SELECT, 0xa0);
	outb(IDE_CMD, 0xec);
	check(pio_blocks(ident, 1, 1, 0) == 1, "IDENTIFY DEVICE offers one block of data");
	check_eq("status after IDENTIFY's data", inb(IDE_CMD), 0x50);
	char model[41];
	ata_string(&ident[27], 20, model);
	check(tg_strcmp(model, "Keel IDE disk") == 0, "IDENTIFY model is 'Keel IDE disk' (got '%s')",
	      model);
	check_eq("IDENTIFY word 0 (fixed ATA disk)", ident[0], 0x0040);
	check_eq("IDENTIFY LBA28 sectors", ident[60] | (uint32_t)ident[61] << 16, DISK_SECTORS);
	check_eq("IDENTIFY LBA48 sectors",
		 ident[100] | (uint64_t)ident[101] << 16 | (uint64_t)ident[102] << 32, DISK_SECTORS);
	check(ident[83] & (1u << 10), "IDENTIFY says LBA48");
	check(ident[49] & (1u << 9), "IDENTIFY says LBA");
	check(!(ident[49] & (1u << 8)) && ident[63] == 0 && ident[88] == 0,
	      "IDENTIFY offers no DMA (multiword and Ultra DMA off)");
	check_eq("IDENTIFY default heads", ident[3], 16);
	check_eq("IDENTIFY default sectors per track", ident[6], 63);
	uint8_t sum = 0;
	for (unsigned i = 0; i < 512; i++)
		sum = (uint8_t)(sum + ((uint8_t *)ident)[i]);
	check((ident[255] & 0xff) == 0xa5 && sum == 0, "IDENTIFY integrity word checks (sum %u)",
	      sum);
	check_eq("data port without DRQ reads all ones", inw(IDE_DATA), 0xffff);
}

static void test_lba28(void)
{
	fill(1);
	task_file28(100, 4, 0x30);
	check(pio_blocks(out, 4, 1, 1) == 4, "WRITE SECTORS (LBA28): 4 sectors, DRQ for each");
	check_eq("status after the write", wait_not_busy(), 0x50);
	memset(in, 0, sizeof(in));
	task_file28(100, 4, 0x20);
	check(pio_blocks(in, 4, 1, 0) == 4 && same(4),
	      "READ SECTORS (LBA28) gives back the 4 sectors written");
	/* one sector further on is not one of them */
	task_file28(104, 1, 0x20);
	pio_blocks(in, 1, 1, 0);
	check(memcmp(in, out + 3 * 512, 512) != 0, "the sector after them was not written");
}

static void test_lba48(void)
{
	fill(2);
	task_file48(DISK_SECTORS - 2, 2, 0x34);
	check(pio_blocks(out, 2, 1, 1) == 2, "WRITE SECTORS EXT (LBA48): the disk's last 2 sectors");
	memset(in, 0, sizeof(in));
	task_file48(DISK_SECTORS - 2, 2, 0x24);
	check(pio_blocks(in, 2, 1, 0) == 2 && same(2), "READ SECTORS EXT reads them back");
	/* the high-order bytes matter: LBA 2^32 + 5 is not LBA 5 */
	task_file48((1ULL << 32) + 5, 1, 0x24);
	uint8_t s = wait_not_busy();
	check((s & ST_ERR) && inb(IDE_ERROR) == 0x10,
	      "READ SECTORS EXT at LBA 2^32+5: ERR and IDNF (status %02x)", s);
}

static void test_chs(void)
{
	/* C/H/S 1/5/7 with 16 heads of 63 sectors is LBA (1 * 16 + 5) * 63 + 6 */
	uint32_t lba = (1 * 16 + 5) * 63 + 6;
	fill(3);
	outb(IDE_NSECT, 1);
	outb(IDE_LBAL, 7);
	outb(IDE_LBAM, 1);
	outb(IDE_LBAH, 0);
	outb(IDE_SELECT, 0xa0 | 5);
	outb(IDE_CMD, 0x30);
	check(pio_blocks(out, 1, 1, 1) == 1, "WRITE SECTORS with CHS 1/5/7");
	memset(in, 0, sizeof(in));
	task_file28(lba, 1, 0x20);
	check(pio_blocks(in, 1, 1, 0) == 1 && same(1),
	      "CHS 1/5/7 is LBA %u in the 16-head, 63-sector geometry", (unsigned)lba);
	/* sector numbers start at 1 */
	outb(IDE_LBAL, 0);
	outb(IDE_SELECT, 0xa0);
	outb(IDE_CMD, 0x20);
	uint8_t s = wait_not_busy();
	check((s & ST_ERR) && inb(IDE_ERROR) == 0x10, "CHS sector 0: ERR and IDNF");
}

static void test_multiple(void)
{
	outb(IDE_NSECT, 8);
	outb(IDE_CMD, 0xc6);
	check_eq("SET MULTIPLE MODE 8", wait_not_busy(), 0x50);
	fill(4);
	task_file28(2000, 24, 0xc5);
	check_eq("WRITE MULTIPLE of 24 sectors: blocks of 8", pio_blocks(out, 24, 8, 1), 3);
	memset(in, 0, sizeof(in));
	task_file48(2000, 24, 0x29);
	check_eq("READ MULTIPLE EXT of 24 sectors: blocks of 8", pio_blocks(in, 24, 8, 0), 3);
	check(same(24), "READ MULTIPLE EXT gives back what WRITE MULTIPLE wrote");
	outb(IDE_NSECT, 3);
	outb(IDE_CMD, 0xc6);
	check((wait_not_busy() & ST_ERR) && inb(IDE_ERROR) == 0x04,
	      "SET MULTIPLE MODE 3 (not a power of two): ABRT");
}

static void test_errors(void)
{
	task_file28(DISK_SECTORS, 1, 0x20);
	uint8_t s = wait_not_busy();
	check((s & (ST_ERR | ST_DRQ)) == ST_ERR && inb(IDE_ERROR) == 0x10,
	      "READ SECTORS past the disk: ERR, IDNF, no DRQ (status %02x)", s);
	check_eq("... and the data port reads all ones", inw(IDE_DATA), 0xffff);
	task_file28(DISK_SECTORS - 1, 2, 0x30);
	s = wait_not_busy();
	check((s & (ST_ERR | ST_DRQ)) == ST_ERR && inb(IDE_ERROR) == 0x10,
	      "WRITE SECTORS running off the end: refused whole with IDNF");
	task_file28(0x0fffffff, 0, 0xc4);
	s = wait_not_busy();
	check((s & ST_ERR) && inb(IDE_ERROR) == 0x10, "READ MULTIPLE at LBA 0x0fffffff: IDNF");
	/* the write refused above left the last sector as the LBA48 test wrote it */
	fill(2);
	task_file28(DISK_SECTORS - 1, 1, 0x20);
	check(pio_blocks(in, 1, 1, 0) == 1 && memcmp(in, out + 512, 512) == 0,
	      "the last sector is untouched by the refused write");
	outb(IDE_CMD, 0xc8); /* READ DMA: this disk has no DMA */
	s = wait_not_busy();
	check((s & ST_ERR) && inb(IDE_ERROR) == 0x04, "READ DMA: ERR and ABRT");
	outb(IDE_CMD, 0xe7);
	check_eq("FLUSH CACHE", wait_not_busy(), 0x50);

	outb(IDE_SELECT, 0xb0);
	check_eq("device 1 is absent: its status reads 0", inb(IDE_CMD), 0);
	outb(IDE_SELECT, 0xa0);

	outb(IDE_CTRL, DC_NIEN | DC_SRST);
	check_eq("status while SRST is set (BSY)", inb(IDE_CTRL), 0x80);
	outb(IDE_CTRL, DC_NIEN);
	s = wait_not_busy();
	check(s == 0x50 && inb(IDE_ERROR) == 0x01 && inb(IDE_NSECT) == 1 && inb(IDE_LBAL) == 1,
	      "after SRST: ready, diagnostic code 1, the signature again");
}

static void test_irq14(void)
{
	pic_init();
	irq_set_handler(IRQ14_VECTOR, irq14);
	outb(IDE_CTRL, 0); /* nIEN clear: the disk interrupts */
	sti();
	irq14_count = 0;
	task_file28(100, 3, 0x20);
	/* a read interrupts once per block, before its DRQ: the handler reads status */
	unsigned got = 0;
	for (unsigned b = 0; b < 3; b++) {
		uint64_t end = rdtsc() + 100000000ULL;
		while (irq14_count == b && rdtsc() < end)
			cpu_relax();
		got += irq14_count == b + 1;
		rep_insw(in, 256);
	}
	check_eq("IRQ 14 once per sector of a 3-sector READ SECTORS", got, 3);
	cli();
	outb(IDE_CTRL, DC_NIEN);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	if (inb(IDE_CMD) == 0xff) {
		fail("no IDE disk at 0x1f0: the VM's config must have disk = ram:4, disk_model = ide");
		return;
	}
	outb(IDE_CTRL, DC_NIEN); /* polling first */
	test_identify();
	test_lba28();
	test_lba48();
	test_chs();
	test_multiple();
	test_errors();
	test_irq14();
}
