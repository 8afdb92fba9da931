/* ept_violation guest: reads its own RAM, then writes far outside it (guest-physical
 * 0x40000000, past its 16 MiB). Keel must stop the VM (an EPT violation, or a #PF under
 * shadow paging, outside guest memory); carrying
 * on afterwards is a FAIL. */
#include "testlib.h"

#define OUTSIDE_RAM 0x40000000u
#define RAM_TOP	    0x1000000u

static volatile uint32_t own_data = 0x12345678;

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	tprintf("EXPECT-STOP: outside guest memory\n");

	/* a low-memory byte, the first and last byte above 1 MiB (tests.cfg: 16 MiB), our data */
	peek8(0x500);
	peek8(0x100000);
	peek8(RAM_TOP - 1);
	check(own_data == 0x12345678, "read own RAM (0x500, 0x100000, 0x%x)", RAM_TOP - 1);

	poke32(OUTSIDE_RAM, 0xdeadbeef);

	fail("still running after write outside memory");
}
