/* triple_fault guest: loads an empty IDT and executes int3. Delivering #BP fails (#GP),
 * delivering that fails (#DF), and that failure is a triple fault: Keel must stop the
 * VM. Carrying on afterwards is a FAIL. */
#include "testlib.h"

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) empty_idt = {0, 0};

	tprintf("EXPECT-STOP: triple fault\n");
	asm volatile("lidt %0\n\tint3" : : "m"(empty_idt) : "memory");
	fail("still running after a triple fault");
}
