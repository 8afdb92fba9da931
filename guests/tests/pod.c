/* pod guest: populate-on-demand under memory pressure (make integration-pod). Its RAM is
 * lazy (populate = lazy): it must read as zero before the first touch. Every page past its
 * image gets a pattern of its address and the VM's tag, is checked, rewritten with a second
 * pattern and checked again, while the VMs together hold more RAM than Keel has frames:
 * touches wait for frames and Keel swaps pages of the others out to make room. */
#include "testlib.h"
#include "cpu.h"

static uint32_t from, to, tag;

static uint32_t pattern(uint32_t a, unsigned i, uint32_t round)
{
	return (a ^ (i * 0x9e3779b9u)) + tag + round;
}

static unsigned nonzero_pages(void)
{
	unsigned bad = 0;
	/* past the multiboot info, command line and memory map Keel put after the image */
	for (uint32_t a = from + 0x10000; a < to; a += 4096) {
		const volatile uint32_t *w = (const volatile uint32_t *)a;
		for (unsigned i = 0; i < 1024; i++)
			if (w[i]) {
				bad++;
				break;
			}
	}
	return bad;
}

static void fill(uint32_t round)
{
	for (uint32_t a = from; a < to; a += 4096)
		for (unsigned i = 0; i < 1024; i++)
			((volatile uint32_t *)a)[i] = pattern(a, i, round);
}

static unsigned bad_pages(uint32_t round)
{
	unsigned bad = 0;
	for (uint32_t a = from; a < to; a += 4096) {
		const volatile uint32_t *w = (const volatile uint32_t *)a;
		for (unsigned i = 0; i < 1024; i++)
			if (w[i] != pattern(a, i, round)) {
				bad++;
				break;
			}
	}
	return bad;
}

static uint32_t tag_of(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h | 1;
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	extern char __image_end[];
	const char *cmd = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
	from = ((uint32_t)__image_end + 0xfff) & ~0xfffu;
	to = (mbi->mem_upper + 1024) * 1024;
	unsigned pages = (to - from) / 4096;
	tag = tag_of(cmd);
	/* the cost of a first touch (a frame populated, zeroed, mapped) against a second
	 * touch of the same pages; early, while Keel still has free frames */
	enum { TIMED = 256 };
	uint64_t t0 = rdtsc();
	for (unsigned i = 0; i < TIMED; i++)
		(void)*(volatile uint32_t *)(from + 0x10000 + i * 4096);
	uint64_t t1 = rdtsc();
	for (unsigned i = 0; i < TIMED; i++)
		(void)*(volatile uint32_t *)(from + 0x10000 + i * 4096);
	uint64_t t2 = rdtsc();
	tprintf("pod: first touch %u cycles a page, second touch %u\n",
		(unsigned)((t1 - t0) / TIMED), (unsigned)((t2 - t1) / TIMED));
	check_eq("untouched pages read as zero", nonzero_pages(), 0);
	fill(0);
	tprintf("pod: %u pages filled\n", pages);
	check_eq("pages not as written", bad_pages(0), 0);
	fill(0x5a5a5a5au);
	tprintf("pod: %u pages rewritten\n", pages);
	check_eq("pages not as rewritten", bad_pages(0x5a5a5a5au), 0);
}
