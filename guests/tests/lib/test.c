/* Verdicts and the guest's life cycle: guest_start() (called from entry.S), PASS/FAIL/SKIP
 * lines, the exit through the debug-exit port, Keel detection, and the few string and
 * memory helpers the compiler and the guests need. */
#include "testlib.h"

static unsigned passed, failed, skipped;

/* What test_exit() does when no debug-exit device ended the run (natively in Bochs):
 * the multiboot command line asks for it (see native_end_from_cmdline()). */
static enum { END_HALT, END_RESET, END_SHUTDOWN } native_end;

static void verdict(const char *tag, const char *fmt, va_list ap)
{
	serial_puts(tag);
	tvprintf(fmt, ap);
	serial_putc('\n');
}

void pass(const char *fmt, ...)
{
	va_list ap;

	passed++;
	va_start(ap, fmt);
	verdict("PASS: ", fmt, ap);
	va_end(ap);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	failed++;
	va_start(ap, fmt);
	verdict("FAIL: ", fmt, ap);
	va_end(ap);
}

void skip(const char *fmt, ...)
{
	va_list ap;

	skipped++;
	va_start(ap, fmt);
	verdict("SKIP: ", fmt, ap);
	va_end(ap);
}

int check(int cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		passed++;
	else
		failed++;
	va_start(ap, fmt);
	verdict(cond ? "PASS: " : "FAIL: ", fmt, ap);
	va_end(ap);
	return cond;
}

int check_eq(const char *what, uint64_t got, uint64_t want)
{
	if (got == want) {
		pass("%s = 0x%llx", what, got);
		return 1;
	}
	fail("%s = 0x%llx, want 0x%llx", what, got, want);
	return 0;
}

/* Waits until the UART has sent its last byte, so nothing is lost when the machine goes. */
static void serial_drain(void)
{
	for (int i = 0; i < 1000000 && !(inb(COM1_PORT + 5) & 0x40); i++)
		cpu_relax();
}

/* Ends a native run: a reset lets GRUB boot the next guest (scripts/native-guests keeps
 * its place in CMOS), the shutdown port ends Bochs. */
static void native_exit(void)
{
	serial_drain();
	if (native_end == END_RESET) {
		/* Bochs keeps the UART's state over a reset, and its BIOS takes a UART with FIFOs
		 * on (IIR 0xc2) for no UART at all: GRUB's output would be lost. */
		outb(COM1_PORT + 2, 0);
		outb(0xcf9, 0x02); /* PCI reset control: hard reset on the 0 -> 1 edge of bit 2 */
		outb(0xcf9, 0x06);
		outb(0x64, 0xfe); /* the keyboard controller's reset line, where 0xcf9 is absent */
	} else if (native_end == END_SHUTDOWN) {
		for (const char *s = "Shutdown"; *s; s++)
			outb(0x8900, (uint8_t)*s);
	}
}

/* Debug-exit status is (v << 1) | 1, so v = 0 (status 1) means every check passed. */
void test_exit(void)
{
	tprintf("done: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
	outb(DEBUG_EXIT_PORT, failed ? 1 : 0);
	/* Still here: no debug-exit device. Under Keel, HLT with IF=0 stops the VM. */
	native_exit();
	for (;;)
		asm volatile("cli; hlt");
}

int keel_present(void)
{
	struct cpuid_regs r = cpuid(KEEL_CPUID_BASE, 0);
	uint32_t sig[3] = {r.ebx, r.ecx, r.edx};

	return memcmp(sig, "KeelKeelKeel", 12) == 0;
}

void tsc_wait(uint64_t ticks)
{
	uint64_t start = rdtsc();

	while (rdtsc() - start < ticks)
		cpu_relax();
}

/* The 8259s are programmed by the BIOS under QEMU; mask them so no stray IRQ reaches us. */
static void pic_mask_all(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

/* True when the space-separated command line has `word` as one of its words. */
static int cmdline_has_word(const char *s, const char *word)
{
	size_t n = tg_strlen(word);

	while (*s) {
		while (*s == ' ')
			s++;
		size_t len = 0;
		while (s[len] && s[len] != ' ')
			len++;
		if (len == n && memcmp(s, word, n) == 0)
			return 1;
		s += len;
	}
	return 0;
}

/* tg_end=reset or tg_end=shutdown on the command line: how a native run ends. */
static void native_end_from_cmdline(uint32_t magic, const struct multiboot_info *mbi)
{
	if (magic != MB_BOOT_MAGIC || !(mbi->flags & MB_INFO_CMDLINE))
		return;
	const char *cmdline = (const char *)mbi->cmdline;
	if (cmdline_has_word(cmdline, "tg_end=reset"))
		native_end = END_RESET;
	else if (cmdline_has_word(cmdline, "tg_end=shutdown"))
		native_end = END_SHUTDOWN;
}

void guest_start(uint32_t magic, struct multiboot_info *mbi);

void guest_start(uint32_t magic, struct multiboot_info *mbi)
{
	native_end_from_cmdline(magic, mbi);
	cpu_tables_init();
	pic_mask_all();
	test_main(magic, mbi);
	test_exit();
}

size_t tg_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int tg_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

/* True when s is tail, or ends with " " + tail (a loader may put a path in front). */
int tg_str_ends_with_word(const char *s, const char *tail)
{
	size_t ls = tg_strlen(s), lt = tg_strlen(tail);

	if (ls < lt || tg_strcmp(s + ls - lt, tail) != 0)
		return 0;
	return ls == lt || s[ls - lt - 1] == ' ';
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *pa = a, *pb = b;

	for (; n; n--, pa++, pb++)
		if (*pa != *pb)
			return *pa - *pb;
	return 0;
}

static volatile unsigned sleep_wakeups;

static void sleep_irq(uint8_t vector)
{
	(void)vector;
	sleep_wakeups++;
}

void keel_sleep(uint8_t vector, uint64_t ticks)
{
	const unsigned before = sleep_wakeups;

	irq_set_handler(vector, sleep_irq);
	if (vmcall(KEEL_HC_TIMER_ONESHOT, vector, (uint32_t)ticks, (uint32_t)(ticks >> 32)))
		return;
	while (sleep_wakeups == before) {
		sti_hlt();
		cli();
	}
}

unsigned keel_sleep_wakeups(void)
{
	return sleep_wakeups;
}

void triple_fault(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) empty_idt = {0, 0};

	tprintf("EXPECT-STOP: triple fault\n");
	asm volatile("lidt %0\n\tint3" : : "m"(empty_idt) : "memory");
	fail("still running after a triple fault");
}
