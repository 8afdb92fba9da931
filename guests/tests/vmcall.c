/* vmcall guest: the hypercall ABI's fixed answers: KEEL_HC_VERSION (nonzero major, the
 * same value as CPUID 0x40000001), -ENOSYS for numbers Keel does not define, and -EPERM
 * for any hypercall made from CPL 3. */
#include "testlib.h"

#define KEEL_EPERM (-1)

static volatile int32_t user_result;
static volatile uint16_t user_cs;

static void user_read_cs(void)
{
	uint16_t cs;

	asm volatile("movw %%cs, %0" : "=r"(cs));
	user_cs = cs;
}

static void user_cli(void)
{
	/* IOPL is 0: CLI at CPL 3 is #GP(0) */
	asm volatile("cli");
}

static void user_version_call(void)
{
	user_result = vmcall(KEEL_HC_VERSION, 0, 0, 0);
}

/* The ring-3 machinery itself, so that an EPERM failure below means Keel, not the test. */
static int check_ring3_round_trip(void)
{
	int outcome = run_at_cpl3(user_read_cs);

	if (!check(outcome == NO_FAULT && (user_cs & 3) == 3,
		   "a function runs at CPL 3 and returns (CS 0x%x, vector %d)", user_cs, outcome))
		return 0;
	outcome = run_at_cpl3(user_cli);
	return check(outcome == VEC_GP && trap_last.error == 0,
		     "a fault at CPL 3 comes back to ring 0 (vector %d, error 0x%x)", outcome,
		     trap_last.error);
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;

	int ring3_ok = check_ring3_round_trip();
	if (!keel_present()) {
		/* VMCALL outside VMX non-root operation is #UD: nothing to test natively */
		skip("hypercalls: not running under Keel");
		return;
	}

	int32_t version = vmcall(KEEL_HC_VERSION, 0, 0, 0);
	check((uint32_t)version >> 16 != 0, "KEEL_HC_VERSION = 0x%x has a nonzero major", version);
	check_eq("KEEL_HC_VERSION matches CPUID 0x40000001 EAX", (uint32_t)version,
		 cpuid(KEEL_CPUID_VERSION, 0).eax);

	static const uint32_t unknown[] = {2, 3, 0x100, 0x1234, 0x7fffffff};
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		int32_t r = vmcall(unknown[i], 1, 2, 3);
		check(r == KEEL_ENOSYS, "unknown hypercall %u returns %d (want -38)", unknown[i],
		      r);
	}

	if (!ring3_ok) {
		skip("hypercall from CPL 3 (ring 3 does not work here)");
		return;
	}
	user_result = 0;
	int outcome = run_at_cpl3(user_version_call);
	check(outcome == NO_FAULT && user_result == KEEL_EPERM,
	      "KEEL_HC_VERSION from CPL 3 returns %d (want -1, vector %d)", user_result, outcome);
}
