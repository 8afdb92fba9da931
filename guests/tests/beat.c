/* beat guest: the VM that tests/integration/shell drives through Keel's shell. Prints
 * "beat N" every BEAT_TICKS, sleeping on the hypercall timer in between, N = 1..count from
 * its command line ("<count>"; with " killed" after it, it announces that the shell will kill
 * it). Ending normally, it checks that no two beats came closer than BEAT_TICKS. */
#include "testlib.h"

#define BEAT_VECTOR 0x40
#define BEAT_TICKS  5000000ull

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	const char *cmd = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
	unsigned count = 0;

	if (!keel_present()) {
		skip("beats for the shell test: not running under Keel");
		return;
	}
	while (*cmd >= '0' && *cmd <= '9')
		count = count * 10 + (unsigned)(*cmd++ - '0');
	if (!tg_strcmp(cmd, " killed"))
		tprintf("EXPECT-STOP: killed from the shell\n");
	else if (*cmd || !count)
		fail("command line: want '<count>' or '<count> killed', got '%s'", cmd);
	uint64_t last = rdtsc(), shortest = ~0ull;
	for (unsigned i = 1; i <= count; i++) {
		keel_sleep(BEAT_VECTOR, BEAT_TICKS);
		uint64_t now = rdtsc();
		if (now - last < shortest)
			shortest = now - last;
		last = now;
		tprintf("beat %u\n", i);
	}
	check(shortest >= BEAT_TICKS, "%u beats, each at least %llu TSC ticks apart (shortest %llu)",
	      count, BEAT_TICKS, shortest);
}
