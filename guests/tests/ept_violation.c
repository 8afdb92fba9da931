/* ept_violation guest: checks that its own RAM holds what it writes, then writes far outside
 * it (guest-physical 0x40000000, past its 16 MiB). Keel must stop the VM for that write (an
 * EPT violation, or a #PF under shadow paging); carrying on afterwards is a FAIL. */
#include "testlib.h"

#define OUTSIDE_RAM 0x40000000u
#define RAM_TOP	    0x1000000u

static volatile uint32_t own_data = 0x12345678;

/* Writes a value to guest-physical `addr` and reads it back (asm: the compiler cannot reason
 * about absolute addresses near 0). */
static void own_word(uint32_t addr, uint32_t value)
{
	uint32_t got;
	poke32(addr, value);
	asm volatile("movl (%1), %0" : "=r"(got) : "r"(addr) : "memory");
	check(got == value, "own RAM at 0x%x keeps 0x%x (got 0x%x)", addr, value, got);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;

	/* low memory, the last word of RAM (tests.cfg: 16 MiB), the loaded image's data */
	own_word(0x500, 0xa5a55a5a);
	own_word(RAM_TOP - 4, 0x5a5aa5a5);
	check_eq("own data as loaded", own_data, 0x12345678);

	/* only now: a stop before this line is a failure. Keel names the access and the address
	 * in its stop reason, under EPT ("EPT violation: ...") and shadow paging ("#PF: ..."). */
	tprintf("EXPECT-STOP: write at gpa %x, outside guest memory\n", OUTSIDE_RAM);
	poke32(OUTSIDE_RAM, 0xdeadbeef);

	fail("still running after write outside memory");
}
