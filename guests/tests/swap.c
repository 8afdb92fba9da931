/* swap guest: hypervisor swap seen from inside. Every page of its RAM past its image gets a
 * pattern of its address and the VM's tag, then it asks Keel (test ISO only, hypercall
 * KEEL_HC_TEST_SWAP_OUT) to swap out every page it can: its code, stack and data come back
 * on the next access (EPT violation or the shadow's #PF), a buffer Keel reads for a string
 * OUT comes back through Keel's own guest-memory accessor, and every page must read back
 * as written. Then one word of every page is rewritten, all swapped out again, and checked
 * again. "off <tag>": the VM has swap = off and the hypercall must be refused. */
#include "testlib.h"

#define KEEL_HC_TEST_SWAP_OUT 0x7e58
#define ALL_PAGES	      0x7fffffffu
#define HC_EPERM	      1

static uint32_t from, to, tag;

/* its own page: swapped out with the rest, read only by Keel's emulation of OUTSB */
static char note[4096] __attribute__((aligned(4096))) =
    "swap: string output from a swapped-out page reached Keel\n";

static uint32_t pattern(uint32_t a, unsigned i)
{
	return (a ^ (i * 0x9e3779b9u)) + tag;
}

static unsigned bad_pages(uint32_t word0_xor)
{
	unsigned bad = 0;
	for (uint32_t a = from; a < to; a += 4096) {
		const volatile uint32_t *w = (const volatile uint32_t *)a;
		for (unsigned i = 0; i < 1024; i++) {
			uint32_t want = pattern(a, i) ^ (i == 0 ? word0_xor : 0);
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
	return h | 1;
}

/* the note through COM1 by one REP OUTSB: Keel reads it from guest memory itself */
static void outs_note(void)
{
	uint32_t n = 0;
	while (note[n] != '\n')
		n++;
	n++;
	const char *p = note;
	asm volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(0x3f8) : "memory");
}

void test_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	extern char __image_end[];
	const char *cmd = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
	if (!keel_present()) {
		skip("hypervisor swap: not running under Keel");
		return;
	}
	from = ((uint32_t)__image_end + 0xfff) & ~0xfffu;
	to = (mbi->mem_upper + 1024) * 1024;
	unsigned pages = (to - from) / 4096;
	int off = cmd[0] == 'o';
	while (*cmd && *cmd != ' ')
		cmd++;
	while (*cmd == ' ')
		cmd++;
	tag = tag_of(cmd);
	for (uint32_t a = from; a < to; a += 4096)
		for (unsigned i = 0; i < 1024; i++)
			((volatile uint32_t *)a)[i] = pattern(a, i);
	tprintf("swap: %u pages filled\n", pages);
	int32_t r = vmcall(KEEL_HC_TEST_SWAP_OUT, ALL_PAGES, 0, 0);
	if (off) {
		check_eq("swap-out refused for a VM with swap = off", (uint32_t)r,
			 (uint32_t)-HC_EPERM);
		check_eq("pages intact", bad_pages(0), 0);
		return;
	}
	/* the next instruction fetch already faults its page back in */
	outs_note();
	tprintf("swap: %d pages swapped out\n", r);
	check(r > (int32_t)pages / 2, "most of the VM's pages went out");
	check_eq("pages not as written after swap-out and swap-in", bad_pages(0), 0);
	for (uint32_t a = from; a < to; a += 4096)
		((volatile uint32_t *)a)[0] ^= tag;
	r = vmcall(KEEL_HC_TEST_SWAP_OUT, ALL_PAGES, 0, 0);
	tprintf("swap: %d pages swapped out again\n", r);
	check(r > (int32_t)pages / 2, "the rewritten pages went out again");
	check_eq("pages not as rewritten after a second swap-out", bad_pages(tag), 0);
}
