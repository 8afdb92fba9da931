/* share guest: content-based page sharing seen from inside. "fill <tag>": every page of its
 * RAM past its image gets a pattern that is a function of the page's address only (so two
 * VMs running it hold equal pages; every fourth page is zero), it sleeps while Keel's
 * scanner shares them, checks them, then writes one word of every page (each write to a
 * shared page must land in a private copy) and checks every page again: its own word and
 * the rest of the pattern. "race <tag>": the same pages, rewritten over and over without
 * sleeping, so the scanner shares them between the guest's time slices and the next write
 * breaks the share; every page must hold the last value written. */
#include "testlib.h"

#define SLEEP_VECTOR 0x41
#define SLEEP_TICKS  150000000ull /* the scanner's time: a pass over both VMs, and more */
#define RACE_ROUNDS  24

static uint32_t from, to;

static uint32_t pattern(uint32_t a, unsigned i)
{
	return (a >> 12) % 4 == 0 ? 0 : (a ^ (i * 0x9e3779b9u)) | 1;
}

static void fill(void)
{
	for (uint32_t a = from; a < to; a += 4096)
		for (unsigned i = 0; i < 1024; i++)
			((volatile uint32_t *)a)[i] = pattern(a, i);
}

/* pages whose words differ from the pattern, word 0 expected as pattern ^ tag0 */
static unsigned bad_pages(uint32_t tag0, unsigned word, uint32_t word_val)
{
	unsigned bad = 0;
	for (uint32_t a = from; a < to; a += 4096) {
		const volatile uint32_t *w = (const volatile uint32_t *)a;
		for (unsigned i = 0; i < 1024; i++) {
			uint32_t want = pattern(a, i);
			if (i == 0)
				want ^= tag0;
			if (word && i == word)
				want = word_val;
			if (w[i] != want) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

static uint32_t tag_of(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h | 0x80000000u;
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	extern char __image_end[];
	const char *cmd = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
	if (!keel_present()) {
		skip("page sharing: not running under Keel");
		return;
	}
	from = ((uint32_t)__image_end + 0xfff) & ~0xfffu;
	to = (mbi->mem_upper + 1024) * 1024;
	unsigned pages = (to - from) / 4096;
	int race = cmd[0] == 'r';
	while (*cmd && *cmd != ' ')
		cmd++;
	while (*cmd == ' ')
		cmd++;
	uint32_t tag = tag_of(cmd);
	fill();
	tprintf("share: %u pages filled (%s)\n", pages, race ? "race" : "fill");
	if (!race) {
		uint64_t end = rdtsc() + SLEEP_TICKS;
		while (rdtsc() < end)
			keel_sleep(SLEEP_VECTOR, 20000000ull);
		check_eq("pages changed while the scanner shared them", bad_pages(0, 0, 0), 0);
		for (uint32_t a = from; a < to; a += 4096)
			((volatile uint32_t *)a)[0] ^= tag;
		check_eq("pages not as written after a write to each (copy on write)",
			 bad_pages(tag, 0, 0), 0);
		return;
	}
	/* word 5 of every page goes from the pattern (shareable) to the round's value and back:
	 * between two slices the scanner may share a page; the next write must break it */
	unsigned bad = 0;
	for (unsigned r = 1; r <= RACE_ROUNDS; r++) {
		uint32_t v = r % 2 ? tag + r : 0;
		for (uint32_t a = from; a < to; a += 4096) {
			volatile uint32_t *w = (volatile uint32_t *)a;
			w[5] = v ? v : pattern(a, 5);
			bad += w[5] != (v ? v : pattern(a, 5));
		}
		bad += r % 2 ? bad_pages(0, 5, v) : bad_pages(0, 0, 0);
	}
	check_eq("pages not holding the last value written, over the race's rounds", bad, 0);
}
