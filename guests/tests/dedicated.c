/* dedicated guest: the machine's real COM2, given to one VM (dedicate = com2).
 * cmdline "owner": programs the UART (9600 8N1, OUT2, THR-empty interrupt), sends a known line
 * one byte per THR-empty interrupt (IRQ 3 through its virtual PIC: Keel takes the real IRQ
 * and queues it to this VM), and checks its registers were never touched by anyone else;
 * then a second line with the vCPU halted between interrupts; then it resets itself, and
 * the run after the reset (a CMOS byte says so) must own COM2 again and sends a third.
 * The integration check finds the line in the file Bochs writes COM2 to.
 * cmdline "other": a VM without the device reads 0x2f8-0x2ff (nothing: all ones) and keeps
 * writing to them while the owner sends (the writes must reach nothing). */
#include "testlib.h"

#define COM2	0x2f8
#define THR	(COM2 + 0)
#define IER	(COM2 + 1)
#define IIR	(COM2 + 2)
#define LCR	(COM2 + 3)
#define MCR	(COM2 + 4)
#define LSR	(COM2 + 5)
#define SCR	(COM2 + 7)
#define IRQ	3
#define VECTOR	(0x20 + IRQ) /* the master PIC's base, as programmed below */
#define TIMEOUT 400000000ULL /* TSC ticks: emulated seconds, one tick per instruction */

static const char line[] = "keel-dedicated: the owner of COM2 wrote this line through IRQ 3\n";
static const char line2[] = "keel-dedicated: and this one halted between its interrupts\n";
static const char *volatile text = line;
static volatile unsigned len, sent, thre_irqs, other_irqs, done, watchdog;

/* The master PIC at vectors 0x20-0x27, every input masked but IRQ 3 (Keel's reset state
 * is ICW2 0x08, all masked). */
static void pic_setup(void)
{
	outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
	outb(0x21, 0x20); /* ICW2: vector base */
	outb(0x21, 0x04); /* ICW3: slave on IR2 */
	outb(0x21, 0x01); /* ICW4: 8086 mode, normal EOI */
	outb(0x21, (uint8_t)~(1u << IRQ));
	outb(0xa0, 0x11);
	outb(0xa1, 0x28);
	outb(0xa1, 0x02);
	outb(0xa1, 0x01);
	outb(0xa1, 0xff);
}

static void com2_irq(uint8_t vector)
{
	(void)vector;
	uint8_t iir = inb(IIR);
	if ((iir & 0x0f) == 0x02) { /* THR empty (reading IIR cleared it) */
		thre_irqs++;
		if (sent < len) {
			outb(THR, (uint8_t)text[sent++]);
		} else {
			outb(IER, 0x00);
			done = 1;
		}
	} else {
		other_irqs++; /* none pending (the line was serviced already) or another cause */
	}
	outb(0x20, 0x20); /* non-specific EOI */
}

static void watchdog_irq(uint8_t vector)
{
	(void)vector;
	watchdog = 1;
}

/* The same with the vCPU halted between interrupts: each one wakes it through Keel's
 * scheduler (a hypercall timer ends the wait if none comes). */
static void send_halted(void)
{
	text = line2;
	len = sizeof(line2) - 1;
	sent = thre_irqs = other_irqs = done = 0;
	irq_set_handler(0x40, watchdog_irq);
	vmcall(KEEL_HC_TIMER_ONESHOT, 0x40, (uint32_t)TIMEOUT, (uint32_t)(TIMEOUT >> 32));
	unsigned halts = 0;
	outb(IER, 0x02);
	while (!done && !watchdog) {
		sti_hlt();
		cli();
		halts++;
	}
	while (!(inb(LSR) & 0x40) && !watchdog)
		cpu_relax();
	check(done && !watchdog, "a second line went out while the vCPU waited in HLT (%u of %u)",
	      sent, len);
	check(thre_irqs == len + 1 && halts >= len / 2,
	      "%u THR-empty interrupts woke it from %u HLTs for %u bytes", thre_irqs, halts, len);
}

/* 9600 8N1, no FIFO (one interrupt per byte), OUT2 on, interrupts off. */
static void uart_setup(void)
{
	outb(IER, 0x00);
	outb(LCR, 0x80); /* DLAB */
	outb(THR, 12);	 /* divisor 12: 9600 baud, slow enough to span several time slices */
	outb(IER, 0x00);
	outb(LCR, 0x03); /* 8N1 */
	outb(IIR, 0x00); /* no FIFO */
	outb(MCR, 0x0b); /* DTR, RTS, OUT2 (the interrupt gate of a PC's serial port) */
	outb(SCR, 0x5a);
	check_eq("COM2 scratch register keeps what the owner wrote (the real device)", inb(SCR),
		 0x5a);
	check_eq("COM2 LSR: transmitter empty (THRE|TEMT)", inb(LSR) & 0x60, 0x60);
	pic_setup();
	irq_set_handler(VECTOR, com2_irq);
}

/* Sends s by THR-empty interrupts, spinning with interrupts on meanwhile. */
static void send_spinning(const char *s, unsigned n)
{
	text = s;
	len = n;
	sent = thre_irqs = other_irqs = done = 0;
	sti();
	outb(IER, 0x02); /* THR-empty interrupt: raised at once, the THR being empty */
	uint64_t start = rdtsc();
	while (!done && rdtsc() - start < TIMEOUT)
		cpu_relax();
	cli();
	while (!(inb(LSR) & 0x40) && rdtsc() - start < TIMEOUT)
		cpu_relax(); /* the last byte has left */
	check(done, "the whole line went out, one byte per THR-empty interrupt (%u of %u sent)",
	      sent, n);
	check(thre_irqs == n + 1, "%u THR-empty interrupts through Keel for %u bytes (%u without "
				  "a cause)",
	      thre_irqs, n, other_irqs);
}

/* A CMOS RAM byte (kept across the VM's reset) marks the run after the reset. */
#define CMOS_MARK 0x50
#define RESET_MARK 0xa5

static uint8_t cmos_read(uint8_t i)
{
	outb(0x70, i);
	return inb(0x71);
}

static void cmos_write(uint8_t i, uint8_t v)
{
	outb(0x70, i);
	outb(0x71, v);
}

static const char line3[] = "keel-dedicated: the owner again, after its reset\n";

static void owner(void)
{
	if (cmos_read(CMOS_MARK) == RESET_MARK) {
		/* Keel released COM2 when this VM ended and took it again for its new run */
		cmos_write(CMOS_MARK, 0);
		check(inb(IER) == 0 && inb(MCR) == 0,
		      "Keel silenced COM2 between its owners (IER 0x%02x, MCR 0x%02x: OUT2 off)", inb(IER),
		      inb(MCR));
		uart_setup();
		send_spinning(line3, sizeof(line3) - 1);
		return;
	}
	uart_setup();
	send_spinning(line, sizeof(line) - 1);
	check_eq("COM2 LCR still 8N1: the other VM's DLAB writes never arrived", inb(LCR), 0x03);
	check_eq("COM2 MCR still DTR|RTS|OUT2 (no loopback from the other VM)", inb(MCR), 0x0b);
	check_eq("COM2 scratch register still the owner's", inb(SCR), 0x5a);
	check_eq("COM2 IER as the owner left it", inb(IER), 0x00);
	send_halted();
	/* a reset ends this run: the VM is built again and must own COM2 again */
	cmos_write(CMOS_MARK, RESET_MARK);
	tprintf("resetting: the next run must find COM2 its own again\n");
	outb(0xcf9, 0x06);
	fail("still running after a reset through 0xcf9");
}

static void other(void)
{
	unsigned ones = 0;
	for (uint16_t p = COM2; p < COM2 + 8; p++)
		ones += inb(p) == 0xff;
	check_eq("all 8 ports of COM2 read 0xff (no device in this VM)", ones, 8);
	check_eq("inw of COM2 reads 0xffff", inw(COM2), 0xffff);
	/* while the owner sends: DLAB on, divisor and THR bytes, loopback, interrupts off */
	uint64_t start = rdtsc();
	unsigned writes = 0;
	while (rdtsc() - start < TIMEOUT / 8) {
		outb(LCR, 0x80);
		outb(THR, 'X');
		outb(IER, 0x00);
		outb(MCR, 0x10);
		outb(SCR, 0xa5);
		writes += 5;
	}
	ones = 0;
	for (uint16_t p = COM2; p < COM2 + 8; p++)
		ones += inb(p) == 0xff;
	check(ones == 8, "after %u writes COM2 still reads all ones here", writes);
	check_eq("the scratch register kept nothing", inb(SCR), 0xff);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	const char *cmd = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
	if (!tg_strcmp(cmd, "owner"))
		owner();
	else if (!tg_strcmp(cmd, "other"))
		other();
	else
		fail("cmdline '%s': want owner or other", cmd);
}
