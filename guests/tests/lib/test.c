/* Verdicts and the guest's life cycle: guest_start() (called from entry.S), PASS/FAIL/SKIP
 * lines, the exit through the debug-exit port, Keel detection, and the few string and
 * memory helpers the compiler and the guests need. */
#include "testlib.h"

static unsigned passed, failed, skipped;

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

/* Debug-exit status is (v << 1) | 1, so v = 0 (status 1) means every check passed. */
void test_exit(void)
{
	tprintf("done: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
	outb(DEBUG_EXIT_PORT, failed ? 1 : 0);
	/* Still here: no debug-exit device. Under Keel, HLT with IF=0 stops the VM. */
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

void guest_start(uint32_t magic, struct multiboot_info *mbi);

void guest_start(uint32_t magic, struct multiboot_info *mbi)
{
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
