/* Tests of the formatter (hypervisor/printf.c), the string helpers of hypervisor/lib.c
 * (kstrlcpy, kparse_u64) and the console core (hypervisor/console.c) that prints through them. */
#include "test.h"
#include "../../hypervisor/console.h"
#include "../../hypervisor/lib.h"

/* No format attribute on purpose: some tests pass formats the compiler would reject. */
static int fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = kvsnprintf(buf, size, f, ap);
	va_end(ap);
	return n;
}

/* Formats into a fresh 128-byte buffer and checks text and return value. */
#define CHECK_FMT(expect, ...)                                                                     \
	do {                                                                                       \
		char b_[128];                                                                      \
		int n_ = fmt(b_, sizeof(b_), __VA_ARGS__);                                         \
		CHECK_STR(b_, expect);                                                             \
		CHECK_EQ(n_, strlen(expect));                                                      \
	} while (0)

TEST(printf_plain_text_and_percent)
{
	CHECK_FMT("", "");
	CHECK_FMT("hello", "hello");
	CHECK_FMT("100%", "100%%");
	CHECK_FMT("a%b", "a%%b");
}

TEST(printf_signed_decimal)
{
	CHECK_FMT("0", "%d", 0);
	CHECK_FMT("42", "%d", 42);
	CHECK_FMT("-42", "%i", -42);
	CHECK_FMT("2147483647", "%d", INT32_MAX);
	CHECK_FMT("-2147483648", "%d", INT32_MIN);
	CHECK_FMT("-1", "%ld", -1L);
	CHECK_FMT("9223372036854775807", "%lld", (long long)INT64_MAX);
	CHECK_FMT("-9223372036854775808", "%lld", (long long)INT64_MIN);
}

TEST(printf_unsigned_and_hex)
{
	CHECK_FMT("4294967295", "%u", 0xffffffffu);
	CHECK_FMT("ff", "%x", 255u);
	CHECK_FMT("FF", "%X", 255u);
	CHECK_FMT("deadbeef", "%x", 0xdeadbeefu);
	CHECK_FMT("ffffffffffffffff", "%llx", 0xffffffffffffffffULL);
	CHECK_FMT("18446744073709551615", "%llu", 0xffffffffffffffffULL);
	CHECK_FMT("123456789abc", "%lx", 0x123456789abcUL);
	CHECK_FMT("12345", "%zu", (size_t)12345);
	CHECK_FMT("0", "%x", 0u);
}

TEST(printf_length_modifier_takes_the_right_argument_size)
{
	/* a 64-bit argument followed by an int: the int must still be found */
	CHECK_FMT("100000000 7", "%llx %d", 0x100000000ULL, 7);
	CHECK_FMT("100000000 7", "%zx %d", (size_t)0x100000000ULL, 7);
	CHECK_FMT("-5 9", "%ld %u", -5L, 9u);
}

TEST(printf_width_and_flags)
{
	CHECK_FMT("   42", "%5d", 42);
	CHECK_FMT("42   |", "%-5d|", 42);
	CHECK_FMT("00042", "%05d", 42);
	CHECK_FMT("-0042", "%05d", -42);
	CHECK_FMT("  -42", "%5d", -42);
	CHECK_FMT("-42  |", "%-5d|", -42);
	CHECK_FMT("000000ff", "%08x", 255u);
	CHECK_FMT("123456", "%3d", 123456); /* width never truncates */
	CHECK_FMT("   ab", "%5s", "ab");
	CHECK_FMT("ab   |", "%-5s|", "ab");
	CHECK_FMT("abcdef", "%2s", "abcdef");
	CHECK_FMT("ff   |", "%-05x|", 255u); /* '-' wins over '0' */
}

TEST(printf_strings_chars_and_pointers)
{
	const char *nul = NULL;
	CHECK_FMT("x=hello!", "x=%s!", "hello");
	CHECK_FMT("(null)", "%s", nul);
	CHECK_FMT("A", "%c", 'A');
	CHECK_FMT("[a b]", "[%c%c%c]", 'a', ' ', 'b');
	CHECK_FMT("0x1234", "%p", (void *)0x1234);
	CHECK_FMT("0x0", "%p", (void *)0);
	CHECK_FMT("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
}

TEST(printf_unknown_conversion_and_trailing_percent)
{
	CHECK_FMT("%q", "%q");
	CHECK_FMT("abc", "abc%");
}

TEST(printf_truncation_returns_full_length)
{
	char b[8];
	memset(b, 'X', sizeof(b));
	CHECK_EQ(fmt(b, 5, "%d", 123456), 6);
	CHECK_STR(b, "1234");
	CHECK_EQ(b[5], 'X'); /* nothing past size */

	memset(b, 'X', sizeof(b));
	CHECK_EQ(fmt(b, 1, "hello"), 5);
	CHECK_EQ(b[0], 0);
	CHECK_EQ(b[1], 'X');

	memset(b, 'X', sizeof(b));
	CHECK_EQ(fmt(b, 0, "hello %s", "world"), 11);
	CHECK_EQ(b[0], 'X'); /* size 0: nothing written, not even the NUL */

	memset(b, 'X', sizeof(b));
	CHECK_EQ(fmt(b, 8, "%s", "1234567"), 7); /* exactly fits */
	CHECK_STR(b, "1234567");
	CHECK_EQ(fmt(b, 8, "%-10s|", "ab"), 11);
	CHECK_STR(b, "ab     ");
}

TEST(printf_exact_size_buffer_not_overrun)
{
	/* an exact-size heap buffer lets ASan catch a write past the end */
	char *b = test_alloc(4);
	CHECK_EQ(fmt(b, 4, "%010x", 0x12345678u), 10);
	CHECK_STR(b, "001");
	CHECK_EQ(ksnprintf(b, 4, "%s", "abc"), 3);
	CHECK_STR(b, "abc");
}

TEST(kstrlcpy_copies_truncates_and_terminates)
{
	char b[8];
	memset(b, 'X', sizeof(b));
	CHECK_EQ(kstrlcpy(b, "abc", sizeof(b)), 3);
	CHECK_STR(b, "abc");
	CHECK_EQ(kstrlcpy(b, "abcdefghij", sizeof(b)), 10);
	CHECK_STR(b, "abcdefg");
	CHECK_EQ(kstrlcpy(b, "", sizeof(b)), 0);
	CHECK_STR(b, "");
	memset(b, 'X', sizeof(b));
	CHECK_EQ(kstrlcpy(b, "abc", 0), 3);
	CHECK_EQ(b[0], 'X');
	CHECK_EQ(kstrlcpy(b, "abc", 1), 3);
	CHECK_STR(b, "");
}

TEST(kparse_u64_decimal_and_hex)
{
	u64 v = 0;
	CHECK(kparse_u64("0", &v));
	CHECK_EQ(v, 0);
	CHECK(kparse_u64("12345", &v));
	CHECK_EQ(v, 12345);
	CHECK(kparse_u64("007", &v));
	CHECK_EQ(v, 7);
	CHECK(kparse_u64("0x1f", &v));
	CHECK_EQ(v, 0x1f);
	CHECK(kparse_u64("0XFF", &v));
	CHECK_EQ(v, 0xff);
	CHECK(kparse_u64("0xDeadBeef", &v));
	CHECK_EQ(v, 0xdeadbeef);
	CHECK(kparse_u64("18446744073709551615", &v));
	CHECK_EQ(v, UINT64_MAX);
	CHECK(kparse_u64("0xffffffffffffffff", &v));
	CHECK_EQ(v, UINT64_MAX);
	CHECK(kparse_u64("0x0000000000000000001", &v)); /* leading zeros do not overflow */
	CHECK_EQ(v, 1);
}

TEST(kparse_u64_rejects_overflow)
{
	u64 v = 0;
	CHECK(!kparse_u64("18446744073709551616", &v));
	CHECK(!kparse_u64("99999999999999999999", &v));
	CHECK(!kparse_u64("0x10000000000000000", &v));
	CHECK(!kparse_u64("184467440737095516150", &v));
}

TEST(kparse_u64_rejects_junk_and_empty)
{
	u64 v = 0;
	CHECK(!kparse_u64("", &v));
	CHECK(!kparse_u64(NULL, &v));
	CHECK(!kparse_u64("0x", &v));
	CHECK(!kparse_u64("12a", &v));
	CHECK(!kparse_u64("ff", &v)); /* hex digits need the 0x prefix */
	CHECK(!kparse_u64("-1", &v));
	CHECK(!kparse_u64("+1", &v));
	CHECK(!kparse_u64(" 1", &v));
	CHECK(!kparse_u64("1 ", &v));
	CHECK(!kparse_u64("0x1g", &v));
	CHECK(!kparse_u64("1.5", &v));
	CHECK(!kparse_u64("0b101", &v));
}

TEST(console_kprintf_reaches_the_sink)
{
	kprintf("hello %d\n", 7);
	CHECK_STR(test_console(), "hello 7\n");
	console_write("raw", 3);
	CHECK_STR(test_console(), "hello 7\nraw");
}

TEST(console_klog_filters_by_level)
{
	console_set_level(LOG_WARN);
	pr_err("e\n");
	pr_warn("w\n");
	pr_info("i\n");
	pr_debug("d\n");
	CHECK_STR(test_console(), "e\nw\n");
	CHECK_EQ(console_level(), LOG_WARN);
	console_set_level(LOG_DEBUG);
	pr_debug("d\n");
	CHECK_STR(test_console(), "e\nw\nd\n");
	console_set_level(LOG_INFO);
}

TEST(console_parse_level_names)
{
	enum log_level l = LOG_INFO;
	CHECK(console_parse_level("err", &l));
	CHECK_EQ(l, LOG_ERR);
	CHECK(console_parse_level("debug", &l));
	CHECK_EQ(l, LOG_DEBUG);
	CHECK(console_parse_level("warn", &l));
	CHECK_EQ(l, LOG_WARN);
	CHECK(!console_parse_level("verbose", &l));
	CHECK(!console_parse_level("", &l));
	CHECK_EQ(l, LOG_WARN);
}

TEST(console_history_keeps_the_latest_bytes)
{
	char b[32];
	kprintf("history-marker-%d", 12345);
	size_t n = console_history(b, 10);
	CHECK_EQ(n, 10);
	CHECK(!memcmp(b, "rker-12345", 10));
	/* far more than the ring holds: the newest bytes survive */
	char line[101];
	memset(line, 'z', 100);
	line[100] = 0;
	for (int i = 0; i < 200; i++)
		kprintf("%s", line);
	kprintf("END");
	n = console_history(b, sizeof(b));
	CHECK_EQ(n, sizeof(b));
	CHECK(!memcmp(b + sizeof(b) - 4, "zEND", 4));
}

TEST(console_long_line_is_cut_not_overrun)
{
	char big[700];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	kprintf("%s", big);
	/* kvprintf formats into 512 bytes: the line is cut, never written past */
	CHECK_EQ(strlen(test_console()), 511);
}

/* kmemcpy (the hypervisor's memcpy): every length up to 40 at every pair of alignments
 * copies exactly the bytes asked for and touches nothing around them */
TEST(kmemcpy_every_alignment_and_length)
{
	u8 src[64], dst[64], want[64];
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (u8)(i * 37 + 11);
	for (unsigned so = 0; so < 8; so++)
		for (unsigned dof = 0; dof < 8; dof++)
			for (unsigned n = 0; n <= 40; n++) {
				memset(dst, 0xee, sizeof(dst));
				memset(want, 0xee, sizeof(want));
				memcpy(want + dof, src + so, n);
				CHECK(kmemcpy(dst + dof, src + so, n) == dst + dof);
				CHECK(memcmp(dst, want, sizeof(dst)) == 0);
			}
}
