/* realmode_big guest: clears CR0.PE while running 32-bit code, the start of "big real
 * mode". On bare metal and under EPT (unrestricted guest) that runs on; under shadow
 * paging real mode runs in virtual-8086 mode, which decodes 16-bit code only, so Keel must
 * stop the VM with its reason rather than run the code wrongly (docs/shadow-paging.md).
 * tests.cfg runs it with paging = shadow. */
#include "testlib.h"

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	tprintf("EXPECT-STOP: cannot run in virtual-8086 mode\n");
	__asm__ volatile("cli");
	write_cr0(read_cr0() & ~1u);
	/* not reached under shadow paging; in real mode now, with 32-bit code: no way back
	 * that this library knows, so stop here */
	for (;;)
		__asm__ volatile("hlt");
}
