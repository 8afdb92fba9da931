/* wss guest: a known working set for Keel's working-set sampler (mm/wss.c). "touch <pages>":
 * for RUN_TICKS it writes one word of each of the first <pages> pages past its image, over
 * and over, so that every one of them is touched in every sampling period; "phase <pages>":
 * the same for half the time, then it sleeps; "idle": it sleeps the whole time. Keel's
 * report at the VM's end says what fraction of its RAM the samples found touched; the
 * runner's expectations (guests/tests/tests.mk) compare it with <pages> / 4096. The guest
 * itself checks that every page it wrote holds what it wrote last. */
#include "testlib.h"

#define SLEEP_VECTOR 0x41
#define RUN_TICKS    300000000ull /* about 30 sampling periods of wss_period_ms=200 */

static uint32_t from;

static unsigned parse_uint(const char *s)
{
	unsigned n = 0;
	while (*s >= '0' && *s <= '9')
		n = n * 10 + (unsigned)(*s++ - '0');
	return n;
}

static void sleep_until(uint64_t end)
{
	while (rdtsc() < end)
		keel_sleep(SLEEP_VECTOR, 20000000ull);
}

/* writes round r into word 1 of each page until `end`; returns the last round */
static uint32_t touch_until(unsigned pages, uint64_t end)
{
	uint32_t r = 0;
	while (rdtsc() < end) {
		r++;
		for (unsigned p = 0; p < pages; p++)
			((volatile uint32_t *)(from + p * 4096))[1] = r ^ p;
	}
	return r;
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	extern char __image_end[];
	const char *cmd = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
	if (!keel_present()) {
		skip("working-set sampling: not running under Keel");
		return;
	}
	from = ((uint32_t)__image_end + 0xfff) & ~0xfffu;
	uint32_t to = (mbi->mem_upper + 1024) * 1024;
	const char *arg = cmd;
	while (*arg && *arg != ' ')
		arg++;
	while (*arg == ' ')
		arg++;
	unsigned pages = parse_uint(arg);
	if (pages > (to - from) / 4096)
		pages = (to - from) / 4096;
	uint64_t start = rdtsc();
	if (cmd[0] == 'i') {
		tprintf("wss: idle\n");
		sleep_until(start + RUN_TICKS);
		pass("slept through the sampling periods");
		return;
	}
	int phase = cmd[0] == 'p';
	tprintf("wss: touching %u pages%s\n", pages, phase ? ", then idle" : "");
	uint32_t r = touch_until(pages, start + (phase ? RUN_TICKS / 2 : RUN_TICKS));
	unsigned bad = 0;
	for (unsigned p = 0; p < pages; p++)
		bad += ((volatile uint32_t *)(from + p * 4096))[1] != (r ^ p);
	check_eq("pages not holding the last value written while sampled", bad, 0);
	tprintf("wss: %u rounds over %u pages\n", (unsigned)r, pages);
	if (phase) {
		sleep_until(start + RUN_TICKS);
		pass("slept through the second half");
	}
}
