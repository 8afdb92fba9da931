/* entry_fail guest: asks Keel (test ISO only) to break its own guest state, so that the
 * next VM entry fails. Keel must dump the state, name the failed check and stop only this
 * VM. Carrying on afterwards is a FAIL. */
#include "testlib.h"

#define KEEL_HC_TEST_BREAK_ENTRY 0x7e57

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	if (!keel_present()) {
		skip("VM-entry failure: not running under Keel");
		return;
	}
	tprintf("EXPECT-STOP: VM-entry failure: guest TR is unusable\n");
	int32_t r = vmcall(KEEL_HC_TEST_BREAK_ENTRY, 0, 0, 0);
	fail("still running after breaking the guest state (hypercall returned %d)", r);
}
