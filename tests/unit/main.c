/* The unit-test runner: runs every registered test (or those whose name starts with argv's
 * prefix), one line per failure, a final "unit: N passed, M failed", and --counts FILE.
 * Also implements what the pure code links against on the hardware side of the seam. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "../../hypervisor/assert.h"
#include "../../hypervisor/console.h"
#include "../../hypervisor/keel.h"

/* ---- hardware-side stand-ins ---- */

struct frames machine_frames;
u64 tsc_hz = 1000000000ULL;
static u64 fake_now;

u64 time_now(void)
{
	return fake_now;
}

void test_set_time(u64 now)
{
	fake_now = now;
}

/* ---- registry ---- */

static struct test *first, **tail = &first;

void test_register(struct test *t)
{
	t->next = NULL;
	*tail = t;
	tail = &t->next;
}

/* ---- the running test ---- */

static const struct test *current;
static unsigned current_failures;
static jmp_buf run_env;
jmp_buf *test_expect_jmp;
const char *test_last_assert;

static void vfail(const char *file, int line, const char *fmt, va_list ap)
{
	current_failures++;
	printf("FAIL %s: %s:%d: ", current ? current->name : "?", file, line);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(file, line, fmt, ap);
	va_end(ap);
}

void test_abort(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(file, line, fmt, ap);
	va_end(ap);
	longjmp(run_env, 1);
}

void assert_failed(const char *file, int line, const char *expr)
{
	test_last_assert = expr;
	if (test_expect_jmp) {
		jmp_buf *j = test_expect_jmp;
		test_expect_jmp = NULL;
		longjmp(*j, 1);
	}
	test_abort(file, line, "KASSERT(%s) failed", expr);
}

void test_check_str(const char *file, int line, const char *ea, const char *eb, const char *a,
		    const char *b)
{
	if (a == b || (a && b && !strcmp(a, b)))
		return;
	test_fail(file, line, "CHECK_STR(%s, %s): \"%s\" != \"%s\"", ea, eb, a ? a : "(null)",
		  b ? b : "(null)");
}

void test_check_contains(const char *file, int line, const char *es, const char *s, const char *sub)
{
	if (s && strstr(s, sub))
		return;
	test_fail(file, line, "CHECK_CONTAINS(%s, \"%s\"): got \"%s\"", es, sub, s ? s : "(null)");
}

/* ---- per-test allocations ---- */

static void **allocs;
static size_t nallocs, cap_allocs;

static void *track(void *p)
{
	if (!p) {
		fprintf(stderr, "unit: out of memory\n");
		exit(2);
	}
	if (nallocs == cap_allocs) {
		cap_allocs = cap_allocs ? cap_allocs * 2 : 64;
		allocs = realloc(allocs, cap_allocs * sizeof(*allocs));
		if (!allocs) {
			fprintf(stderr, "unit: out of memory\n");
			exit(2);
		}
	}
	allocs[nallocs++] = p;
	return p;
}

void *test_alloc(size_t size)
{
	return track(calloc(1, size ? size : 1));
}

void *test_alloc_aligned(size_t align, size_t size)
{
	size = (size + align - 1) / align * align;
	void *p = track(aligned_alloc(align, size));
	memset(p, 0, size);
	return p;
}

void *test_dup(const void *p, size_t len)
{
	void *d = track(malloc(len ? len : 1));
	if (len)
		memcpy(d, p, len);
	return d;
}

static void free_allocs(void)
{
	while (nallocs)
		free(allocs[--nallocs]);
}

/* ---- console capture ---- */

static char *con;
static size_t con_len, con_cap;

static void capture(const char *s, size_t n)
{
	if (con_len + n + 1 > con_cap) {
		con_cap = (con_len + n + 1) * 2;
		con = realloc(con, con_cap);
		if (!con) {
			fprintf(stderr, "unit: out of memory\n");
			exit(2);
		}
	}
	memcpy(con + con_len, s, n);
	con_len += n;
	con[con_len] = 0;
}

const char *test_console(void)
{
	return con ? con : "";
}

void test_console_clear(void)
{
	con_len = 0;
	if (con)
		con[0] = 0;
}

/* ---- runner ---- */

static void run_one(const struct test *t)
{
	current = t;
	current_failures = 0;
	test_expect_jmp = NULL;
	test_last_assert = NULL;
	fake_now = 0;
	test_console_clear();
	console_set_sink(capture);
	console_set_level(LOG_INFO);
	if (setjmp(run_env) == 0)
		t->fn();
	free_allocs();
	current = NULL;
}

int main(int argc, char **argv)
{
	const char *counts = NULL, *prefix = "";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--counts") && i + 1 < argc)
			counts = argv[++i];
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: %s [--counts FILE] [name-prefix]\n", argv[0]);
			return 2;
		} else
			prefix = argv[i];
	}
	unsigned passed = 0, failed = 0;
	for (const struct test *t = first; t; t = t->next) {
		if (strncmp(t->name, prefix, strlen(prefix)))
			continue;
		run_one(t);
		if (current_failures)
			failed++;
		else
			passed++;
	}
	free(con);
	free(allocs);
	printf("unit: %u passed, %u failed\n", passed, failed);
	if (counts) {
		FILE *f = fopen(counts, "w");
		if (!f || fprintf(f, "%u %u\n", passed, failed) < 0 || fclose(f)) {
			fprintf(stderr, "unit: cannot write %s\n", counts);
			return 1;
		}
	}
	return failed ? 1 : 0;
}
