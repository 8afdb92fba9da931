/* The host unit-test harness: tests register themselves with TEST(name), check with CHECK*,
 * and a KASSERT in the code under test fails the running test (or satisfies EXPECT_ASSERT).
 * Also owns the hosted stand-ins for hardware-side symbols: a fake clock, console capture. */
#ifndef KEEL_UNIT_TEST_H
#define KEEL_UNIT_TEST_H

#include <setjmp.h>
#include <stddef.h>
#include <string.h>

#include "../../hypervisor/types.h"

struct test {
	const char *name;
	void (*fn)(void);
	const char *file;
	struct test *next;
};

void test_register(struct test *t);

#define TEST(name)                                                                                 \
	static void test_fn_##name(void);                                                          \
	static struct test test_desc_##name = {#name, test_fn_##name, __FILE__, NULL};             \
	__attribute__((constructor)) static void test_reg_##name(void)                             \
	{                                                                                          \
		test_register(&test_desc_##name);                                                  \
	}                                                                                          \
	static void test_fn_##name(void)

/* Records a failure of the running test (one printed line) and carries on. */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records a failure and abandons the running test. */
__attribute__((noreturn)) void test_abort(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #c);                            \
	} while (0)

/* Like CHECK, but the test cannot go on without it. */
#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!(c))                                                                          \
			test_abort(__FILE__, __LINE__, "REQUIRE(%s)", #c);                         \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		unsigned long long a_ = (unsigned long long)(a);                                   \
		unsigned long long b_ = (unsigned long long)(b);                                   \
		if (a_ != b_)                                                                      \
			test_fail(__FILE__, __LINE__,                                              \
				  "CHECK_EQ(%s, %s): %llu (0x%llx) != %llu (0x%llx)", #a, #b, a_,  \
				  a_, b_, b_);                                                     \
	} while (0)

void test_check_str(const char *file, int line, const char *ea, const char *eb, const char *a,
		    const char *b);
#define CHECK_STR(a, b) test_check_str(__FILE__, __LINE__, #a, #b, (a), (b))

/* s is non-NULL and contains sub. */
void test_check_contains(const char *file, int line, const char *es, const char *s,
			 const char *sub);
#define CHECK_CONTAINS(s, sub) test_check_contains(__FILE__, __LINE__, #s, (s), (sub))

/* KASSERT capture: assert_failed() longjmps to *test_expect_jmp when it is set, otherwise it
 * fails the running test. setjmp rules apply: a local that `stmt` modifies and the test reads
 * afterwards must be volatile (GCC's -Wclobbered says so too). */
extern jmp_buf *test_expect_jmp;
extern const char *test_last_assert; /* the expression of the last KASSERT that fired */

#define EXPECT_ASSERT(stmt)                                                                        \
	do {                                                                                       \
		jmp_buf env_;                                                                      \
		jmp_buf *prev_ = test_expect_jmp;                                                  \
		test_expect_jmp = &env_;                                                           \
		if (setjmp(env_) == 0) {                                                           \
			stmt;                                                                      \
			test_expect_jmp = prev_;                                                   \
			test_fail(__FILE__, __LINE__, "EXPECT_ASSERT(%s): no KASSERT fired",       \
				  #stmt);                                                          \
		} else {                                                                           \
			test_expect_jmp = prev_;                                                   \
		}                                                                                  \
	} while (0)

/* Memory released by the runner after the test, even when the test is abandoned. */
void *test_alloc(size_t size);			     /* zeroed */
void *test_alloc_aligned(size_t align, size_t size); /* zeroed */
/* An exact-size copy, so that AddressSanitizer sees reads past the end of `len` bytes. */
void *test_dup(const void *p, size_t len);

/* The fake clock behind time_now(). */
void test_set_time(u64 now);

/* Console output (kprintf and friends) since the test started, NUL-terminated. */
const char *test_console(void);
void test_console_clear(void);

/* xorshift64: the random tests' generator; each keeps its own state and seed, so a failing
 * run repeats exactly. */
static inline u64 test_rng(u64 *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif
