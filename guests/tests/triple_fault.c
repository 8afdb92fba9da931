/* triple_fault guest: loads an empty IDT and executes int3. Delivering #BP fails (#GP),
 * delivering that fails (#DF), and that failure is a triple fault: Keel must stop the
 * VM. Carrying on afterwards is a FAIL. */
#include "testlib.h"

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	triple_fault();
}
