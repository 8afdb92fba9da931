/* portio guest: port I/O as Keel emulates it: the UART scratch register keeps what is
 * written, LSR reads THRE|TEMT, and a port with nothing behind it reads all ones at every
 * width and ignores writes. */
#include "testlib.h"

#define UART_LSR     (COM1_PORT + 5)
#define UART_SCRATCH (COM1_PORT + 7)
/* no device on a PC decodes 0x2e0 */
#define EMPTY_PORT 0x2e0

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;

	static const uint8_t patterns[] = {0xa5, 0x5a, 0x00, 0xff};
	for (unsigned i = 0; i < sizeof(patterns); i++) {
		outb(UART_SCRATCH, patterns[i]);
		uint8_t got = inb(UART_SCRATCH);
		check(got == patterns[i], "UART scratch register reads back 0x%02x (got 0x%02x)",
		      patterns[i], got);
	}

	check_eq("UART LSR (THRE|TEMT)", inb(UART_LSR), 0x60);

	check_eq("inb from an empty port", inb(EMPTY_PORT), 0xff);
	check_eq("inw from an empty port", inw(EMPTY_PORT), 0xffff);
	check_eq("inl from an empty port", inl(EMPTY_PORT), 0xffffffff);

	outb(UART_SCRATCH, 0x3c);
	outb(EMPTY_PORT, 0x12);
	outw(EMPTY_PORT, 0x1234);
	outl(EMPTY_PORT, 0x12345678);
	check_eq("inl from the empty port after writes to it", inl(EMPTY_PORT), 0xffffffff);
	check_eq("UART scratch untouched by writes to the empty port", inb(UART_SCRATCH), 0x3c);
	pass("writes to an empty port are harmless");
}
